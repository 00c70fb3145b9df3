//! The shared vectors `tests/vectors/signals.txt` (symlinks to the
//! repository's `tests/vectors/`, which the module's VM tests write to the
//! real node) against this crate's parser.

use prockill_signal::parse;

#[path = "vectors/vectors.rs"]
mod vector_file;

#[test]
fn unescape_works() {
    assert_eq!(
        vector_file::unescape(r"a\n\t\0\x0b\\").unwrap(),
        b"a\n\t\0\x0b\\"
    );
}

#[test]
fn every_vector_parses_as_expected() {
    let cases = vector_file::parse(include_str!("vectors/signals.txt")).unwrap();
    assert!(cases.len() >= 40, "only {} vectors", cases.len());
    let mut failures = Vec::new();
    for v in &cases {
        let got = parse(&v.input).ok();
        if got != v.expected {
            failures.push(format!(
                "line {}: {:?}: got {got:?}, want {:?}",
                v.line, v.input, v.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
