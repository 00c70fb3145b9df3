//! The signal parser of the prockill kernel module's kill node
//! (`/proc/<pid>/kill`), for userspace.
//!
//! `src/parser.rs` is the module's source file `module/signal.rs` (a
//! symlink in the repository; `cargo package` stores its contents), so the
//! kernel and this crate compile the very same text. That file is private
//! here: this crate's public API wraps it in types that can grow without a
//! breaking change ([`ParseError`] and [`Name`] are `#[non_exhaustive]`).
//!
//! Grammar: one signal, optionally surrounded by ASCII whitespace, at most
//! [`MAX_WRITE`] bytes: a decimal number `0..=64` (`0` is the probe), or an
//! upper-case name with or without `SIG` (`TERM`, `SIGTERM`, the aliases
//! `IOT`, `POLL`, `CLD`, and `RTMIN`, `RTMIN+n`, `RTMAX`, `RTMAX-n`, with
//! `RTMIN` = 34 as glibc and util-linux define it).
//!
//! ```
//! use prockill_signal::{name, parse, ParseError};
//! assert_eq!(parse(b"SIGTERM\n"), Ok(15));
//! assert_eq!(parse(b" RTMIN+3 "), Ok(37));
//! assert_eq!(parse(b"65"), Err(ParseError::OutOfRange));
//! assert_eq!(name(63).unwrap().to_string(), "RTMAX-1");
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use core::fmt;

// The module's file, compiled unchanged (and left to the module's
// formatting).
#[rustfmt::skip]
#[allow(missing_docs)]
mod parser;

/// The longest write the node accepts, whitespace included (32).
pub const MAX_WRITE: usize = parser::MAX_WRITE;

/// The highest signal number (64).
pub const SIG_MAX: u32 = parser::SIG_MAX;

/// The first real-time signal as userspace names it (glibc's `SIGRTMIN`, 34).
pub const SIGRTMIN: u32 = parser::SIGRTMIN;

/// The last real-time signal (`SIGRTMAX`, 64).
pub const SIGRTMAX: u32 = parser::SIGRTMAX;

/// Classic signal names (without `SIG`) and their numbers: the canonical
/// name of every number from 1 to 31 in order, then the aliases `IOT`,
/// `POLL` and `CLD`.
///
/// ```
/// assert_eq!(prockill_signal::names().next(), Some(("HUP", 1)));
/// assert_eq!(prockill_signal::names().count(), 34);
/// ```
pub fn names() -> impl Iterator<Item = (&'static str, u32)> {
    parser::NAMES.iter().copied()
}

/// Why a write is not a signal. The module answers every one with `EINVAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but whitespace.
    Empty,
    /// More than [`MAX_WRITE`] bytes.
    TooLong,
    /// A NUL byte anywhere in the write.
    Nul,
    /// More than one whitespace-separated token.
    SeveralTokens,
    /// A number above [`SIG_MAX`], or a real-time offset past the range.
    OutOfRange,
    /// Neither a decimal number nor a known name.
    Unknown,
}

impl ParseError {
    /// A short description, used in messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            ParseError::Empty => "empty",
            ParseError::TooLong => "longer than 32 bytes",
            ParseError::Nul => "embedded NUL",
            ParseError::SeveralTokens => "more than one token",
            ParseError::OutOfRange => "signal number out of range",
            ParseError::Unknown => "not a signal number or name",
        }
    }
}

impl From<parser::ParseError> for ParseError {
    fn from(e: parser::ParseError) -> ParseError {
        match e {
            parser::ParseError::Empty => ParseError::Empty,
            parser::ParseError::TooLong => ParseError::TooLong,
            parser::ParseError::Nul => ParseError::Nul,
            parser::ParseError::SeveralTokens => ParseError::SeveralTokens,
            parser::ParseError::OutOfRange => ParseError::OutOfRange,
            parser::ParseError::Unknown => ParseError::Unknown,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for ParseError {}

/// Parses one write to the node into a signal number (`0` is the probe),
/// exactly as the module does.
pub fn parse(input: &[u8]) -> Result<u32, ParseError> {
    parser::parse(input).map_err(ParseError::from)
}

/// The canonical name of a signal, without the `SIG` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Name {
    /// One of the classic names, e.g. `TERM`.
    Classic(&'static str),
    /// `RTMIN+n` (`n == 0` is plain `RTMIN`).
    RtMinPlus(u32),
    /// `RTMAX-n` (`n == 0` is plain `RTMAX`).
    RtMaxMinus(u32),
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Name::Classic(s) => f.write_str(s),
            Name::RtMinPlus(0) => f.write_str("RTMIN"),
            Name::RtMinPlus(n) => write!(f, "RTMIN+{n}"),
            Name::RtMaxMinus(0) => f.write_str("RTMAX"),
            Name::RtMaxMinus(n) => write!(f, "RTMAX-{n}"),
        }
    }
}

/// The canonical name of `sig` (classic names for 1 to 31, `RTMIN+n` up to
/// the middle of the real-time range, `RTMAX-n` above it); `None` for 0,
/// 32, 33 and above 64.
pub fn name(sig: u32) -> Option<Name> {
    parser::name(sig).map(|n| match n {
        parser::Name::Classic(s) => Name::Classic(s),
        parser::Name::RtMinPlus(n) => Name::RtMinPlus(n),
        parser::Name::RtMaxMinus(n) => Name::RtMaxMinus(n),
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    /// The parser's fast path (one or two digits, an optional newline) must
    /// give what the general path gives: every input of up to 3 bytes over
    /// the bytes that matter (digits, whitespace, NUL, a letter, '+', '-').
    #[test]
    fn fast_path_agrees_with_the_grammar() {
        let alphabet: Vec<u8> = (b'0'..=b'9').chain(*b" \t\n\r\x0bx+-S\0").collect();
        let mut inputs: Vec<Vec<u8>> = std::vec![Vec::new()];
        for len in 1..=3 {
            let mut v = std::vec![0usize; len];
            loop {
                inputs.push(v.iter().map(|&i| alphabet[i]).collect());
                let mut k = 0;
                while k < len {
                    v[k] += 1;
                    if v[k] < alphabet.len() {
                        break;
                    }
                    v[k] = 0;
                    k += 1;
                }
                if k == len {
                    break;
                }
            }
        }
        for input in &inputs {
            assert_eq!(
                super::parser::parse(input),
                super::parser::parse_general(input),
                "{input:?}"
            );
        }
    }

    #[test]
    fn wrappers_mirror_the_module() {
        use std::string::ToString;
        for n in 0..=70 {
            assert_eq!(
                super::name(n).map(|x| x.to_string()),
                super::parser::name(n).map(|x| x.to_string())
            );
        }
        assert_eq!(super::parse(b""), Err(super::ParseError::Empty));
        assert_eq!(super::parse(b"1 2"), Err(super::ParseError::SeveralTokens));
    }
}
