//! The CLI's argument parser (`src/bin/prockill/args.rs`, compiled here as
//! it is into the binary) over arbitrary `OsString` argv: it never panics,
//! and `-q VALUE` never turns VALUE into a target. The corpus
//! `tests/corpus/argv.txt` is replayed first; proptest then generates
//! argv from option-like tokens and arbitrary bytes. Only the parser runs:
//! nothing is ever signalled.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use proptest::prelude::*;

#[allow(dead_code)]
#[path = "../src/bin/prockill/args.rs"]
mod args;

use args::{Action, Target};

/// Decodes one corpus line.
fn decode(line: &str) -> Vec<OsString> {
    line.split(' ')
        .map(|arg| {
            let mut out = Vec::new();
            let b = arg.as_bytes();
            let mut i = 0;
            while i < b.len() {
                match (b[i], b.get(i + 1)) {
                    (b'\\', Some(b'x')) if i + 3 < b.len() + 1 => {
                        let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                        out.push(u8::from_str_radix(hex, 16).unwrap());
                        i += 4;
                    }
                    (b'\\', Some(b's')) => {
                        out.push(b' ');
                        i += 2;
                    }
                    (b'\\', Some(b'e')) => i += 2,
                    (c, _) => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            OsString::from_vec(out)
        })
        .collect()
}

#[test]
fn corpus_parses_without_panic() {
    let text = include_str!("corpus/argv.txt");
    let mut n = 0;
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let argv = decode(line);
        let _ = args::parse(&argv);
        n += 1;
    }
    assert!(n >= 60, "only {n} corpus entries");
    // The issue's collision, by name.
    let argv = decode("-q 5 -s 0 42");
    match args::parse(&argv) {
        Ok(Action::Kill(o)) => {
            assert_eq!(o.queue, Some(5));
            assert_eq!(o.targets, vec![Target::Pid(42, None)]);
        }
        other => panic!("{other:?}"),
    }
    assert!(args::parse(&decode("--verbose=no 1")).is_err());
    assert!(args::parse(&decode("-L extra")).is_err());
}

/// Tokens that steer the parser into its branches, plus arbitrary bytes.
fn token() -> impl Strategy<Value = OsString> {
    let known = prop_oneof![
        Just("-s"),
        Just("--signal"),
        Just("-q"),
        Just("--queue"),
        Just("--timeout"),
        Just("-l"),
        Just("--list"),
        Just("-L"),
        Just("--table"),
        Just("-d"),
        Just("--show-process-state"),
        Just("-p"),
        Just("--pid"),
        Just("-a"),
        Just("-r"),
        Just("--verbose"),
        Just("--"),
        Just("-"),
        Just("-9"),
        Just("-KILL"),
        Just("-sigterm"),
        Just("-rt3"),
        Just("-n"),
        Just("--exe"),
        Just("--uid"),
        Just("--euid"),
        Just("--backend"),
        Just("--info"),
        Just("--guarantee"),
        Just("--silent"),
        Just("-h"),
        Just("-V"),
        Just("0"),
        Just("-1"),
        Just("1"),
        Just("42:7"),
        Just("0x1f"),
        Just("KILL"),
        Just("--list=9"),
        Just("--signal=hup"),
        Just("-l=0x3"),
        Just("-d=1"),
        Just("--queue=3"),
    ]
    .prop_map(OsString::from);
    prop_oneof![
        3 => known,
        1 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(OsString::from_vec),
        1 => proptest::collection::vec(any::<u8>(), 0..6).prop_map(|mut v| {
            v.insert(0, b'-');
            OsString::from_vec(v)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics(argv in proptest::collection::vec(token(), 0..8)) {
        let _ = args::parse(&argv);
    }

    /// Whatever VALUE is, `-q VALUE -s 0 42` queues it or is refused; it
    /// never signals VALUE as a PID.
    #[test]
    fn queue_value_is_never_a_target(value in proptest::collection::vec(any::<u8>(), 0..12)) {
        let argv = vec![
            OsString::from("-q"),
            OsString::from_vec(value),
            OsString::from("-s"),
            OsString::from("0"),
            OsString::from("42"),
        ];
        if let Ok(Action::Kill(o)) = args::parse(&argv) {
            prop_assert_eq!(o.targets, vec![Target::Pid(42, None)]);
            prop_assert!(o.queue.is_some());
        }
    }

    /// Arbitrary bytes as targets after `--` are targets, never options.
    #[test]
    fn after_double_dash_everything_is_a_target(
        rest in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..8), 1..5)
    ) {
        let mut argv = vec![OsString::from("-0"), OsString::from("--")];
        argv.extend(rest.iter().cloned().map(OsString::from_vec));
        match args::parse(&argv) {
            Ok(Action::Kill(o)) => prop_assert_eq!(o.targets.len(), rest.len()),
            other => prop_assert!(false, "{:?}", other),
        }
    }
}
