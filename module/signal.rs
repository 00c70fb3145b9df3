// SPDX-License-Identifier: GPL-2.0

//! The signal parser of `/proc/<pid>/kill`.
//!
//! Pure code with no dependency beyond `core`: the kernel module compiles it as
//! `mod signal`, and the userspace crate `prockill` compiles the very same file
//! (through `#[path]`), so the two can never disagree on what a write means.
//! The host runs its unit tests, the shared vectors in `tests/vectors/signals.txt`
//! and a property test.
//!
//! # Grammar
//!
//! A write carries exactly one signal, optionally surrounded by ASCII
//! whitespace (space, `\t`, `\n`, `\v`, `\f`, `\r`):
//!
//! - a decimal number `0..=64` (`0` probes: nothing is delivered), digits
//!   only: no sign, no `0x`;
//! - an upper-case name with or without the `SIG` prefix: `TERM`, `SIGTERM`,
//!   the aliases `IOT`, `POLL` and `CLD`, and the real-time forms `RTMIN`,
//!   `RTMIN+n`, `RTMAX`, `RTMAX-n`.
//!
//! `RTMIN` is 34, as glibc and util-linux `kill(1)` define it (glibc keeps 32
//! and 33 for itself); 32 and 33 can still be sent by number.
//!
//! Anything else fails with a [`ParseError`], which the module maps to
//! `EINVAL`: the empty write, junk, a negative or out-of-range number, two
//! tokens, an embedded NUL, or more than [`MAX_WRITE`] bytes.

use core::fmt;

/// The longest write the node accepts, whitespace included.
pub const MAX_WRITE: usize = 32;

/// The highest signal number (`_NSIG` on x86_64 and most architectures).
pub const SIG_MAX: u32 = 64;

/// The first real-time signal as userspace names it (glibc's `SIGRTMIN`).
pub const SIGRTMIN: u32 = 34;

/// The last real-time signal (`SIGRTMAX`).
pub const SIGRTMAX: u32 = 64;

/// Classic signal names (without the `SIG` prefix), canonical name first for
/// every number, then aliases.
pub const NAMES: &[(&str, u32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
    // Aliases: accepted when parsing, never produced by [`name`].
    ("IOT", 6),
    ("POLL", 29),
    ("CLD", 17),
];

/// Why a write is not a signal. The module answers every one with `EINVAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Parses one write to the node into a signal number (`0` is the probe).
pub fn parse(input: &[u8]) -> Result<u32, ParseError> {
    // What `kill(1)`-like writers send: one or two digits, perhaps a newline.
    // Same result as [`parse_general`] (a test checks every short input), in
    // a fraction of its code.
    match *input {
        [d @ b'0'..=b'9'] | [d @ b'0'..=b'9', b'\n'] => Ok(u32::from(d - b'0')),
        [t @ b'0'..=b'9', d @ b'0'..=b'9'] | [t @ b'0'..=b'9', d @ b'0'..=b'9', b'\n'] => {
            let v = u32::from(t - b'0') * 10 + u32::from(d - b'0');
            if v > SIG_MAX {
                Err(ParseError::OutOfRange)
            } else {
                Ok(v)
            }
        }
        _ => parse_general(input),
    }
}

/// [`parse`] without its fast path: the grammar, step by step. Public so
/// that a test can check the two agree on every short input.
pub fn parse_general(input: &[u8]) -> Result<u32, ParseError> {
    if input.len() > MAX_WRITE {
        return Err(ParseError::TooLong);
    }
    if input.contains(&0) {
        return Err(ParseError::Nul);
    }
    // No indexing: the module's object code has no panic path (a lint
    // test checks it), and slicing by hand would add bounds checks.
    let token = trim(input);
    let Some(first) = token.first() else {
        return Err(ParseError::Empty);
    };
    if token.iter().any(|&b| is_space(b)) {
        return Err(ParseError::SeveralTokens);
    }
    if first.is_ascii_digit() {
        return parse_number(token);
    }
    let name = token.strip_prefix(b"SIG").unwrap_or(token);
    parse_name(name)
}

/// `input` without its leading and trailing white space.
fn trim(mut input: &[u8]) -> &[u8] {
    while let [b, rest @ ..] = input {
        if !is_space(*b) {
            break;
        }
        input = rest;
    }
    while let [rest @ .., b] = input {
        if !is_space(*b) {
            break;
        }
        input = rest;
    }
    input
}

/// Decimal digits only; the value must be at most [`SIG_MAX`].
fn parse_number(digits: &[u8]) -> Result<u32, ParseError> {
    let mut value: u32 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(ParseError::Unknown);
        }
        value = value * 10 + u32::from(b - b'0');
        if value > SIG_MAX {
            return Err(ParseError::OutOfRange);
        }
    }
    Ok(value)
}

fn parse_name(name: &[u8]) -> Result<u32, ParseError> {
    if let Some(&(_, sig)) = NAMES.iter().find(|(n, _)| n.as_bytes() == name) {
        return Ok(sig);
    }
    if let Some(rest) = name.strip_prefix(b"RTMIN") {
        return rt_offset(rest, b'+').map(|n| SIGRTMIN + n);
    }
    if let Some(rest) = name.strip_prefix(b"RTMAX") {
        return rt_offset(rest, b'-').map(|n| SIGRTMAX - n);
    }
    Err(ParseError::Unknown)
}

/// The `+n` / `-n` after `RTMIN` / `RTMAX`: nothing (0) or the sign and
/// `1..=SIGRTMAX-SIGRTMIN` in decimal.
fn rt_offset(rest: &[u8], sign: u8) -> Result<u32, ParseError> {
    let Some((&first, digits)) = rest.split_first() else {
        return Ok(0);
    };
    if first != sign || digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::Unknown);
    }
    let n = parse_number(digits).map_err(|_| ParseError::OutOfRange)?;
    if n == 0 || n > SIGRTMAX - SIGRTMIN {
        return Err(ParseError::OutOfRange);
    }
    Ok(n)
}

/// The canonical name of a signal, without the `SIG` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// The canonical name of `sig`, as `kill -l` prints it: classic names for
/// 1 to 31, `RTMIN+n` up to the middle of the real-time range, `RTMAX-n`
/// above it (util-linux's convention). `None` for 0, 32, 33 and above 64.
pub fn name(sig: u32) -> Option<Name> {
    if let Some(&(n, _)) = NAMES.iter().find(|&&(_, s)| s == sig) {
        return Some(Name::Classic(n));
    }
    if (SIGRTMIN..=SIGRTMAX).contains(&sig) {
        let from_min = sig - SIGRTMIN;
        let from_max = SIGRTMAX - sig;
        return Some(if from_min <= from_max {
            Name::RtMinPlus(from_min)
        } else {
            Name::RtMaxMinus(from_max)
        });
    }
    None
}
