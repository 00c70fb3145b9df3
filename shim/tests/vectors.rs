//! The shared vectors `tests/vectors/signals.txt` against the crate's
//! `Signal::parse`, which is the module's parser compiled for the host. The
//! module's VM tests write the same vectors to the real node.

use std::path::Path;

use prockill::{ParseSignalError, Signal};

#[path = "vectors/vectors.rs"]
mod vector_file;

/// Decodes the C-style escapes of the vector file.
fn unescape(s: &str) -> Vec<u8> {
    vector_file::unescape(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn vectors() -> Vec<(usize, Vec<u8>, Option<u32>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/signals.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    vector_file::parse(&text)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|v| (v.line, v.input, v.expected))
        .collect()
}

#[test]
fn unescape_works() {
    assert_eq!(unescape(r"a\n\t\0\x0b\\"), b"a\n\t\0\x0b\\");
}

#[test]
fn every_vector_parses_as_expected() {
    let cases = vectors();
    assert!(cases.len() >= 40, "only {} vectors", cases.len());
    let mut failures = Vec::new();
    for (line, input, expected) in &cases {
        let got = Signal::parse(input).map(Signal::number).ok();
        if got != *expected {
            failures.push(format!(
                "line {line}: {:?} ({} bytes): expected {expected:?}, got {:?}",
                String::from_utf8_lossy(input),
                input.len(),
                Signal::parse(input)
            ));
        }
        // FromStr agrees with the byte parser wherever the input is UTF-8.
        if let Ok(s) = std::str::from_utf8(input) {
            assert_eq!(
                s.parse::<Signal>().ok().map(Signal::number),
                got,
                "line {line}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The vectors cover every kind of malformed input the parser knows, and
/// the ones the issues name.
#[test]
fn vectors_cover_every_error_kind() {
    let cases = vectors();
    let kinds: Vec<ParseSignalError> = cases
        .iter()
        .filter_map(|(_, input, _)| Signal::parse(input).err())
        .collect();
    for kind in [
        ParseSignalError::Empty,
        ParseSignalError::TooLong,
        ParseSignalError::Nul,
        ParseSignalError::SeveralTokens,
        ParseSignalError::OutOfRange,
        ParseSignalError::Unknown,
    ] {
        assert!(kinds.contains(&kind), "no vector fails with {kind:?}");
    }
    let inputs: Vec<&[u8]> = cases.iter().map(|(_, i, _)| i.as_slice()).collect();
    for must in [
        &b""[..],
        b" ",
        b"-15",
        b"+15",
        b"0x0f",
        b"65",
        b"4294967311",
        b"15 9",
        b"15\0",
        b"term",
        b"SIGRTMIN+31",
        b"RTMAX-0",
    ] {
        assert!(
            inputs.contains(&must),
            "missing vector {:?}",
            String::from_utf8_lossy(must)
        );
    }
    assert!(inputs.iter().any(|i| i.len() == 33), "no 33-byte vector");
    assert!(
        cases.iter().any(|(_, i, e)| i.len() == 32 && e.is_some()),
        "no valid 32-byte vector"
    );
}
