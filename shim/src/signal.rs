//! [`Signal`]: signal numbers and names, parsed exactly as the kernel module parses a write.

use core::fmt;
use core::str::FromStr;

use prockill_signal as parser;

pub use prockill_signal::Name as SignalName;
pub use prockill_signal::ParseError as ParseSignalError;

/// A signal number, `0..=64`, where `0` is the probe (nothing is delivered).
///
/// Parsing ([`FromStr`], [`Signal::parse`]) and naming ([`Signal::name`])
/// use the module's own parser (`module/signal.rs`, compiled by the
/// `prockill-signal` crate),
/// so a string that [`Signal::from_str`] accepts is exactly a string that
/// `/proc/<pid>/kill` accepts as a write, and means the same signal.
///
/// ```
/// use prockill::Signal;
///
/// assert_eq!("SIGTERM".parse::<Signal>().unwrap(), Signal::TERM);
/// assert_eq!("9".parse::<Signal>().unwrap(), Signal::KILL);
/// assert_eq!(" RTMIN+3\n".parse::<Signal>().unwrap().number(), 37);
/// assert!("term".parse::<Signal>().is_err()); // names are upper-case only
/// assert_eq!(Signal::TERM.to_string(), "SIGTERM");
/// assert_eq!(Signal::TERM.name().unwrap().to_string(), "TERM");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(u32);

macro_rules! signals {
    ($($(#[$doc:meta])* $name:ident = $num:expr;)*) => {
        impl Signal {
            $($(#[$doc])* pub const $name: Signal = Signal($num);)*
        }
    };
}

signals! {
    /// `0`: the probe. Nothing is delivered; success means the target
    /// lives and may be signalled.
    PROBE = 0;
    /// `SIGHUP` (1).
    HUP = 1;
    /// `SIGINT` (2).
    INT = 2;
    /// `SIGQUIT` (3).
    QUIT = 3;
    /// `SIGILL` (4).
    ILL = 4;
    /// `SIGTRAP` (5).
    TRAP = 5;
    /// `SIGABRT` (6).
    ABRT = 6;
    /// `SIGBUS` (7).
    BUS = 7;
    /// `SIGFPE` (8).
    FPE = 8;
    /// `SIGKILL` (9).
    KILL = 9;
    /// `SIGUSR1` (10).
    USR1 = 10;
    /// `SIGSEGV` (11).
    SEGV = 11;
    /// `SIGUSR2` (12).
    USR2 = 12;
    /// `SIGPIPE` (13).
    PIPE = 13;
    /// `SIGALRM` (14).
    ALRM = 14;
    /// `SIGTERM` (15).
    TERM = 15;
    /// `SIGSTKFLT` (16).
    STKFLT = 16;
    /// `SIGCHLD` (17).
    CHLD = 17;
    /// `SIGCONT` (18).
    CONT = 18;
    /// `SIGSTOP` (19).
    STOP = 19;
    /// `SIGTSTP` (20).
    TSTP = 20;
    /// `SIGTTIN` (21).
    TTIN = 21;
    /// `SIGTTOU` (22).
    TTOU = 22;
    /// `SIGURG` (23).
    URG = 23;
    /// `SIGXCPU` (24).
    XCPU = 24;
    /// `SIGXFSZ` (25).
    XFSZ = 25;
    /// `SIGVTALRM` (26).
    VTALRM = 26;
    /// `SIGPROF` (27).
    PROF = 27;
    /// `SIGWINCH` (28).
    WINCH = 28;
    /// `SIGIO` (29).
    IO = 29;
    /// `SIGPWR` (30).
    PWR = 30;
    /// `SIGSYS` (31).
    SYS = 31;
    /// `SIGRTMIN` as glibc and `kill(1)` define it (34).
    RTMIN = parser::SIGRTMIN;
    /// `SIGRTMAX` (64).
    RTMAX = parser::SIGRTMAX;
}

impl Signal {
    /// The highest signal number, 64.
    pub const MAX: u32 = parser::SIG_MAX;

    /// The longest string the node (and [`Signal::parse`]) accepts, in bytes.
    pub const MAX_WRITE: usize = parser::MAX_WRITE;

    /// The signal numbered `number`, or `None` above [`Signal::MAX`].
    ///
    /// ```
    /// use prockill::Signal;
    /// assert_eq!(Signal::new(15), Some(Signal::TERM));
    /// assert_eq!(Signal::new(0), Some(Signal::PROBE));
    /// assert_eq!(Signal::new(65), None);
    /// ```
    pub const fn new(number: u32) -> Option<Signal> {
        if number <= parser::SIG_MAX {
            Some(Signal(number))
        } else {
            None
        }
    }

    /// `SIGRTMIN+n`, or `None` past `SIGRTMAX`.
    ///
    /// ```
    /// use prockill::Signal;
    /// assert_eq!(Signal::rtmin_plus(0), Some(Signal::RTMIN));
    /// assert_eq!(Signal::rtmin_plus(30), Some(Signal::RTMAX));
    /// assert_eq!(Signal::rtmin_plus(31), None);
    /// ```
    pub const fn rtmin_plus(n: u32) -> Option<Signal> {
        if n <= parser::SIGRTMAX - parser::SIGRTMIN {
            Some(Signal(parser::SIGRTMIN + n))
        } else {
            None
        }
    }

    /// Parses one signal from bytes, exactly as a write to
    /// `/proc/<pid>/kill` is parsed: a decimal number or an upper-case name
    /// with or without `SIG`, optionally surrounded by whitespace, at most
    /// [`Signal::MAX_WRITE`] bytes.
    ///
    /// ```
    /// use prockill::{ParseSignalError, Signal};
    /// assert_eq!(Signal::parse(b"TERM\n"), Ok(Signal::TERM));
    /// assert_eq!(Signal::parse(b"15 9"), Err(ParseSignalError::SeveralTokens));
    /// assert_eq!(Signal::parse(b"65"), Err(ParseSignalError::OutOfRange));
    /// ```
    pub fn parse(input: &[u8]) -> Result<Signal, ParseSignalError> {
        parser::parse(input).map(Signal)
    }

    /// Parses a signal as util-linux `kill(1)` reads the argument of `-s`
    /// or `-SIG`: a decimal number `0..=64`, or a name in any case with or
    /// without `SIG` (`term`, `SigKill`), including util-linux's real-time
    /// forms `RT<n>` (`RTMIN+n`), `RTMIN+<n>`, `RTMAX-<n>`, and `RTMIN`,
    /// `RTMAX`. Unlike util-linux it refuses trailing junk after a
    /// real-time offset (`RTMIN+3x`) and surrounding whitespace.
    ///
    /// [`Signal::parse`] is the node's stricter grammar (upper-case only).
    ///
    /// ```
    /// use prockill::Signal;
    /// assert_eq!(Signal::from_kill_arg("term"), Ok(Signal::TERM));
    /// assert_eq!(Signal::from_kill_arg("SigKill"), Ok(Signal::KILL));
    /// assert_eq!(Signal::from_kill_arg("rt2").unwrap().number(), 36);
    /// assert_eq!(Signal::from_kill_arg("rtmax-1").unwrap().number(), 63);
    /// assert_eq!(Signal::from_kill_arg("010"), Ok(Signal::USR1));
    /// assert!(Signal::from_kill_arg("65").is_err());
    /// assert!(Signal::from_kill_arg(" 9").is_err());
    /// ```
    pub fn from_kill_arg(arg: &str) -> Result<Signal, ParseSignalError> {
        let b = arg.as_bytes();
        if b.is_empty() {
            return Err(ParseSignalError::Empty);
        }
        if b[0].is_ascii_digit() {
            return parse_decimal(b, parser::SIG_MAX).map(Signal);
        }
        let upper = arg.to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        if let Some(rest) = name.strip_prefix("RT") {
            let (base_max, digits) = if let Some(d) = rest.strip_prefix("MIN+") {
                (false, d)
            } else if let Some(d) = rest.strip_prefix("MAX-") {
                (true, d)
            } else if rest == "MIN" {
                return Ok(Signal::RTMIN);
            } else if rest == "MAX" {
                return Ok(Signal::RTMAX);
            } else {
                (false, rest)
            };
            if !digits.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                return Err(ParseSignalError::Unknown);
            }
            let span = parser::SIGRTMAX - parser::SIGRTMIN;
            let n = parse_decimal(digits.as_bytes(), span)?;
            return Ok(Signal(if base_max {
                parser::SIGRTMAX - n
            } else {
                parser::SIGRTMIN + n
            }));
        }
        parser::names()
            .find(|&(n, _)| n == name)
            .map(|(_, sig)| Signal(sig))
            .ok_or(ParseSignalError::Unknown)
    }

    /// The signal number (`0` for the probe).
    ///
    /// ```
    /// assert_eq!(prockill::Signal::KILL.number(), 9);
    /// ```
    pub const fn number(self) -> u32 {
        self.0
    }

    /// The signal number as the `int` that `kill(2)` and friends take.
    ///
    /// ```
    /// assert_eq!(prockill::Signal::TERM.as_raw(), libc::SIGTERM);
    /// ```
    pub const fn as_raw(self) -> i32 {
        self.0 as i32
    }

    /// Whether this is the probe, signal `0`.
    ///
    /// ```
    /// assert!(prockill::Signal::PROBE.is_probe());
    /// ```
    pub const fn is_probe(self) -> bool {
        self.0 == 0
    }

    /// The canonical name without the `SIG` prefix, as `kill -l` prints it
    /// (`TERM`, `RTMIN+3`, `RTMAX-2`); `None` for 0, 32 and 33, which have no
    /// name (glibc reserves them).
    ///
    /// ```
    /// use prockill::Signal;
    /// assert_eq!(Signal::IO.name().unwrap().to_string(), "IO");
    /// assert_eq!(Signal::new(63).unwrap().name().unwrap().to_string(), "RTMAX-1");
    /// assert_eq!(Signal::new(32).unwrap().name(), None);
    /// ```
    pub fn name(self) -> Option<SignalName> {
        parser::name(self.0)
    }

    /// Every signal from 1 to 64, in order (the probe is not included).
    ///
    /// ```
    /// assert_eq!(prockill::Signal::all().count(), 64);
    /// ```
    pub fn all() -> impl Iterator<Item = Signal> {
        (1..=parser::SIG_MAX).map(Signal)
    }
}

/// Decimal digits only, at most `max`.
fn parse_decimal(digits: &[u8], max: u32) -> Result<u32, ParseSignalError> {
    let mut value: u32 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(ParseSignalError::Unknown);
        }
        value = value.saturating_mul(10).saturating_add(u32::from(b - b'0'));
        if value > max {
            return Err(ParseSignalError::OutOfRange);
        }
    }
    Ok(value)
}

impl fmt::Display for Signal {
    /// `SIGTERM`, `SIGRTMIN+3`, or the bare number when the signal has no
    /// name (`0`, `32`, `33`). The result always parses back to `self`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "SIG{name}"),
            None => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signal({} {})", self.0, self)
    }
}

impl FromStr for Signal {
    type Err = ParseSignalError;

    fn from_str(s: &str) -> Result<Signal, ParseSignalError> {
        Signal::parse(s.as_bytes())
    }
}

impl TryFrom<u32> for Signal {
    type Error = ParseSignalError;

    fn try_from(number: u32) -> Result<Signal, ParseSignalError> {
        Signal::new(number).ok_or(ParseSignalError::OutOfRange)
    }
}

impl From<Signal> for u32 {
    fn from(signal: Signal) -> u32 {
        signal.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_libc() {
        let pairs = [
            (Signal::HUP, libc::SIGHUP),
            (Signal::INT, libc::SIGINT),
            (Signal::QUIT, libc::SIGQUIT),
            (Signal::ILL, libc::SIGILL),
            (Signal::TRAP, libc::SIGTRAP),
            (Signal::ABRT, libc::SIGABRT),
            (Signal::BUS, libc::SIGBUS),
            (Signal::FPE, libc::SIGFPE),
            (Signal::KILL, libc::SIGKILL),
            (Signal::USR1, libc::SIGUSR1),
            (Signal::SEGV, libc::SIGSEGV),
            (Signal::USR2, libc::SIGUSR2),
            (Signal::PIPE, libc::SIGPIPE),
            (Signal::ALRM, libc::SIGALRM),
            (Signal::TERM, libc::SIGTERM),
            (Signal::STKFLT, libc::SIGSTKFLT),
            (Signal::CHLD, libc::SIGCHLD),
            (Signal::CONT, libc::SIGCONT),
            (Signal::STOP, libc::SIGSTOP),
            (Signal::TSTP, libc::SIGTSTP),
            (Signal::TTIN, libc::SIGTTIN),
            (Signal::TTOU, libc::SIGTTOU),
            (Signal::URG, libc::SIGURG),
            (Signal::XCPU, libc::SIGXCPU),
            (Signal::XFSZ, libc::SIGXFSZ),
            (Signal::VTALRM, libc::SIGVTALRM),
            (Signal::PROF, libc::SIGPROF),
            (Signal::WINCH, libc::SIGWINCH),
            (Signal::IO, libc::SIGIO),
            (Signal::PWR, libc::SIGPWR),
            (Signal::SYS, libc::SIGSYS),
        ];
        for (sig, raw) in pairs {
            assert_eq!(sig.as_raw(), raw, "{sig}");
            assert_eq!(sig.to_string().parse::<Signal>(), Ok(sig));
        }
        // glibc's SIGRTMIN/SIGRTMAX are functions; on a glibc host they agree
        // (musl reserves one more: its SIGRTMIN is 35).
        #[cfg(target_env = "gnu")]
        {
            assert_eq!(Signal::RTMIN.as_raw(), libc::SIGRTMIN());
            assert_eq!(Signal::RTMAX.as_raw(), libc::SIGRTMAX());
        }
    }

    #[test]
    fn display_round_trips_every_number() {
        for n in 0..=Signal::MAX {
            let sig = Signal::new(n).unwrap();
            assert_eq!(sig.to_string().parse::<Signal>(), Ok(sig), "{n}");
        }
    }
}
