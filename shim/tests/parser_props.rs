//! Property tests of the signal parser (the module's, compiled for the host).

use proptest::prelude::*;

use prockill::{ParseSignalError, Signal};

fn whitespace() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(' '),
            Just('\t'),
            Just('\n'),
            Just('\r'),
            Just('\x0b'),
            Just('\x0c')
        ],
        0..4,
    )
    .prop_map(|v| v.into_iter().collect())
}

/// Every way of writing a valid signal: number (with leading zeros),
/// canonical name, with or without SIG, and aliases.
fn spellings(n: u32) -> Vec<String> {
    let sig = Signal::new(n).unwrap();
    let mut out = vec![n.to_string(), format!("0{n}"), sig.to_string()];
    if let Some(name) = sig.name() {
        out.push(name.to_string());
        out.push(format!("SIG{name}"));
    }
    if (34..=64).contains(&n) {
        if n > 34 {
            out.push(format!("RTMIN+{}", n - 34));
        }
        if n < 64 {
            out.push(format!("SIGRTMAX-{}", 64 - n));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
        let _ = Signal::parse(&bytes);
    }

    #[test]
    fn never_panics_on_near_misses(
        s in "[ \t\n]{0,3}(SIG)?(RTM(IN|AX)|TERM|KILL|[0-9]{1,12}|[A-Z]{1,6})([+-][0-9]{0,12})?[ \t\n\0]{0,3}"
    ) {
        let _ = Signal::parse(s.as_bytes());
    }

    #[test]
    fn format_round_trips(n in 0u32..=64, pre in whitespace(), post in whitespace(), pick in any::<prop::sample::Index>()) {
        let all = spellings(n);
        let text = format!("{pre}{}{post}", all[pick.index(all.len())]);
        prop_assume!(text.len() <= Signal::MAX_WRITE);
        prop_assert_eq!(Signal::parse(text.as_bytes()).map(Signal::number), Ok(n), "{:?}", text);
    }

    #[test]
    fn display_round_trips(n in 0u32..=64) {
        let sig = Signal::new(n).unwrap();
        prop_assert_eq!(sig.to_string().parse::<Signal>(), Ok(sig));
    }

    #[test]
    fn longer_than_32_bytes_fails(bytes in proptest::collection::vec(any::<u8>(), 33..200)) {
        prop_assert_eq!(Signal::parse(&bytes), Err(ParseSignalError::TooLong));
    }

    #[test]
    fn valid_signal_padded_past_32_fails(n in 0u32..=64, pad in 33usize..64) {
        let text = format!("{n:>pad$}");
        prop_assert_eq!(Signal::parse(text.as_bytes()), Err(ParseSignalError::TooLong));
    }

    #[test]
    fn numbers_above_64_fail(n in 65u64..=u64::MAX) {
        prop_assert_eq!(Signal::parse(n.to_string().as_bytes()), Err(ParseSignalError::OutOfRange));
    }

    #[test]
    fn any_nul_fails(n in 0u32..=64, at in 0usize..3) {
        let mut bytes = n.to_string().into_bytes();
        bytes.insert(at.min(bytes.len()), 0);
        prop_assert_eq!(Signal::parse(&bytes), Err(ParseSignalError::Nul));
    }

    #[test]
    fn lower_case_names_fail(n in 1u32..=31) {
        let name = Signal::new(n).unwrap().name().unwrap().to_string();
        prop_assert!(Signal::parse(name.to_lowercase().as_bytes()).is_err());
    }
}
