//! The command line of `prockill(1)`, parsed as util-linux `kill(1)` parses
//! its own (`misc-utils/kill.c`, 2.41): options first, one at a time, until
//! the first argument that does not start with `-`, `--`, or a second
//! `-SIG` (which is then a process group); everything after that is a
//! target. prockill's own options (`--exe`, `--uid`, `--euid`, `--backend`,
//! `--info`, `--guarantee`, `--silent`) are long options that kill(1) does
//! not have.
//!
//! Pure: no system call, no environment, so that the tests can feed it any
//! `OsString` argv (`tests/args_fuzz.rs`). It never panics.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use prockill::{Backend, Signal};

/// A usage error: the message, printed as `prockill: MESSAGE`. Exit status 1,
/// as util-linux's `errx(EXIT_FAILURE, ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub message: String,
    /// Print the signal table after the message (util-linux's `err_nosig`).
    pub with_table: bool,
}

fn usage<T>(message: impl Into<String>) -> Result<T, Usage> {
    Err(Usage {
        message: message.into(),
        with_table: false,
    })
}

/// What to list with `-l`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListArg {
    /// `-l` alone: every name.
    All,
    /// `-l NUMBER` or `-l NAME`: the name of one signal.
    One(Signal),
    /// `-l 0xMASK`: the names of the bits set, one per line.
    Mask(u64),
}

/// One target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `PID` (> 0), with the pidfs inode of `PID:inode`.
    Pid(i32, Option<u64>),
    /// `0`: the caller's process group.
    OwnGroup,
    /// `-1`: every process the caller may signal.
    Everyone,
    /// `-PGID`.
    Group(i32),
    /// Anything else: a process name (`comm`, bytes).
    Name(OsString),
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Help,
    Version,
    List(ListArg),
    Table,
    /// `-d PID`.
    ShowState(i32),
    /// `--info PID...`.
    Info(Opts),
    Kill(Opts),
}

/// The options of a kill (or `--info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opts {
    pub signal: Signal,
    /// `-s`/`-SIG`/`-n` was given.
    pub signal_given: bool,
    /// `-q VALUE`.
    pub queue: Option<i32>,
    /// `--timeout MS SIG`, in order; a negative MS waits forever (poll(2)).
    pub timeouts: Vec<(i32, Signal)>,
    /// `-p`: print the PIDs, signal nothing.
    pub print_pids: bool,
    /// `-a`: names match processes of every user.
    pub all_users: bool,
    /// `-r`.
    pub require_handler: bool,
    /// `--verbose`.
    pub verbose: bool,
    /// `--guarantee`: say through which backend and with which guarantee.
    pub guarantee: bool,
    /// `--silent`: no message per failed target.
    pub silent: bool,
    pub exe: Option<PathBuf>,
    /// `--uid` as given (a number or a user name, resolved later).
    pub uid: Option<String>,
    pub euid: Option<String>,
    pub backend: Backend,
    pub targets: Vec<Target>,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            signal: Signal::TERM,
            signal_given: false,
            queue: None,
            timeouts: Vec::new(),
            print_pids: false,
            all_users: false,
            require_handler: false,
            verbose: false,
            guarantee: false,
            silent: false,
            exe: None,
            uid: None,
            euid: None,
            backend: Backend::Auto,
            targets: Vec::new(),
        }
    }
}

impl Opts {
    /// Whether a check through the handle is asked for.
    pub fn has_checks(&self) -> bool {
        self.exe.is_some() || self.uid.is_some() || self.euid.is_some()
    }
}

/// `arg` as text, or a usage error naming it (lossily) for a non-UTF-8 one.
fn utf8<'a>(arg: &'a OsStr, what: &str) -> Result<&'a str, Usage> {
    arg.to_str().ok_or_else(|| Usage {
        message: format!("{what}: not valid UTF-8: {}", arg.to_string_lossy()),
        with_table: false,
    })
}

/// A signal argument of `-s`, `--timeout` or `-n`: util-linux's
/// `arg_to_signum(arg, 0)`, failing as its `err_nosig` does.
fn signal_arg(arg: &OsStr) -> Result<Signal, Usage> {
    let bad = || Usage {
        message: format!("unknown signal {}; valid signals:", arg.to_string_lossy()),
        with_table: true,
    };
    let text = arg.to_str().ok_or_else(bad)?;
    Signal::from_kill_arg(text).map_err(|_| bad())
}

/// `-l`'s argument: a number (above 64 with bit 128 set taken as a shell
/// exit status, as `kill -l $?`), `0xMASK`, or a name.
pub fn list_arg(arg: &OsStr) -> Result<ListArg, Usage> {
    let text = arg.to_str().unwrap_or("");
    if let Some(hex) = text.strip_prefix("0x") {
        return match u64::from_str_radix(hex, 16) {
            Ok(mask) if !hex.starts_with('+') => Ok(ListArg::Mask(mask)),
            _ => usage(format!("invalid sigmask format: {text}")),
        };
    }
    let unknown = || usage(format!("unknown signal: {}", arg.to_string_lossy()));
    if text.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return unknown();
        }
        let Ok(mut n) = text.parse::<u32>() else {
            return unknown();
        };
        if n > Signal::MAX && n & 128 != 0 {
            n -= 128;
        }
        return Signal::new(n).map(ListArg::One).map_or_else(unknown, Ok);
    }
    match Signal::from_kill_arg(text) {
        Ok(sig) if !text.is_empty() => Ok(ListArg::One(sig)),
        _ => unknown(),
    }
}

/// A PID argument of `-d`: a positive number, as util-linux's
/// `strtopid_or_err`.
fn pid_arg(arg: &OsStr) -> Result<i32, Usage> {
    match arg.to_str().and_then(|s| parse_int(s.as_bytes())) {
        Some(pid) if pid > 0 => Ok(pid),
        _ => usage(format!("invalid PID argument: '{}'", arg.to_string_lossy())),
    }
}

/// An optional sign and decimal digits, fitting an `i32`.
fn parse_int(b: &[u8]) -> Option<i32> {
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        v = v * 10 + i64::from(d - b'0');
        if v > i64::from(i32::MAX) + 1 {
            return None;
        }
    }
    i32::try_from(if neg { -v } else { v }).ok()
}

/// A target, as util-linux's `ul_parse_pid_str(arg, UL_PID_ZERO |
/// UL_PID_NEGATIVE)`, else a process name.
pub fn target(arg: &OsStr) -> Target {
    let b = arg.as_bytes();
    let (num, ino) = match b.iter().position(|&c| c == b':') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let Some(pid) = parse_int(num) else {
        return Target::Name(arg.to_owned());
    };
    match (pid, ino) {
        (p, None) if p > 0 => Target::Pid(p, None),
        (p, Some(ino)) if p > 0 => {
            match std::str::from_utf8(ino).ok().and_then(|s| {
                if s.bytes().all(|c| c.is_ascii_digit()) {
                    s.parse::<u64>().ok()
                } else {
                    None
                }
            }) {
                Some(i) if i > 0 => Target::Pid(p, Some(i)),
                _ => Target::Name(arg.to_owned()),
            }
        }
        (0, None) => Target::OwnGroup,
        (-1, None) => Target::Everyone,
        (p, None) if p < 0 => Target::Group(-p),
        _ => Target::Name(arg.to_owned()),
    }
}

/// Splits `--name=value` (long options only, as getopt_long) into the
/// name and the inline value.
fn split_inline(arg: &[u8]) -> (&[u8], Option<&[u8]>) {
    // util-linux (for procps compatibility) also takes -l=SIG and -d=PID.
    if arg.starts_with(b"-l=") || arg.starts_with(b"-d=") {
        return (&arg[..2], Some(&arg[3..]));
    }
    if arg.starts_with(b"--") {
        if let Some(i) = arg.iter().position(|&c| c == b'=') {
            return (&arg[..i], Some(&arg[i + 1..]));
        }
    }
    (arg, None)
}

/// Parses the arguments after the program name.
pub fn parse(args: &[OsString]) -> Result<Action, Usage> {
    let mut opts = Opts::default();
    let mut info = false;
    let mut i = 0;
    // The argument after the option at i, or an error.
    let next = |i: &mut usize, opt: &str| -> Result<OsString, Usage> {
        *i += 1;
        match args.get(*i) {
            Some(v) => Ok(v.clone()),
            None => usage(format!("option '{opt}' requires an argument")),
        }
    };
    let exclusive = |a: &str, b: &str| usage(format!("{a} and {b} are mutually exclusive"));

    while let Some(arg) = args.get(i) {
        let bytes = arg.as_bytes();
        if !bytes.starts_with(b"-") {
            break;
        }
        if bytes == b"--" {
            i += 1;
            break;
        }
        let (name, inline) = split_inline(bytes);
        let inline = inline.map(|v| OsStr::from_bytes(v).to_owned());
        let name_s = String::from_utf8_lossy(name).into_owned();
        // An option that takes no value refuses an inline one.
        let no_value = |inline: &Option<OsString>| match inline {
            Some(_) => usage(format!("option '{name_s}' doesn't allow an argument")),
            None => Ok(()),
        };
        // The option's value: inline or the next argument.
        let value = |i: &mut usize, inline: &Option<OsString>| match inline {
            Some(v) => Ok(v.clone()),
            None => next(i, &name_s),
        };
        let rest_empty = |i: usize, what: &str| {
            if i + 1 < args.len() {
                usage(format!("too many arguments after {what}"))
            } else {
                Ok(())
            }
        };
        match name {
            // util-linux: -v is the version too (not verbose).
            b"-v" | b"-V" | b"--version" => {
                no_value(&inline)?;
                return Ok(Action::Version);
            }
            b"-h" | b"--help" => {
                no_value(&inline)?;
                return Ok(Action::Help);
            }
            b"--verbose" => {
                no_value(&inline)?;
                opts.verbose = true;
            }
            b"-a" | b"--all" => {
                no_value(&inline)?;
                opts.all_users = true;
            }
            b"-l" | b"--list" => {
                let what = match &inline {
                    Some(v) => Some(v.clone()),
                    None if i + 1 < args.len() => {
                        i += 1;
                        Some(args[i].clone())
                    }
                    None => None,
                };
                if i + 1 < args.len() {
                    return usage("too many arguments");
                }
                return Ok(Action::List(match what {
                    None => ListArg::All,
                    Some(w) => list_arg(&w)?,
                }));
            }
            b"-L" | b"--table" => {
                no_value(&inline)?;
                rest_empty(i, "-L")?;
                return Ok(Action::Table);
            }
            b"-d" | b"--show-process-state" => {
                let pid = match &inline {
                    Some(v) => v.clone(),
                    None => {
                        if i + 1 >= args.len() {
                            return usage("too few arguments");
                        }
                        next(&mut i, &name_s)?
                    }
                };
                rest_empty(i, "-d")?;
                return Ok(Action::ShowState(pid_arg(&pid)?));
            }
            b"-r" | b"--require-handler" => {
                no_value(&inline)?;
                opts.require_handler = true;
            }
            b"-p" | b"--pid" => {
                no_value(&inline)?;
                opts.print_pids = true;
                if opts.signal_given {
                    return exclusive("--pid", "--signal");
                }
                if opts.queue.is_some() {
                    return exclusive("--pid", "--queue");
                }
            }
            b"-s" | b"--signal" => {
                let v = match &inline {
                    Some(v) => v.clone(),
                    None if i + 1 >= args.len() => return usage("not enough arguments"),
                    None => next(&mut i, &name_s)?,
                };
                if opts.print_pids {
                    return exclusive("--pid", "--signal");
                }
                opts.signal = signal_arg(&v)?;
                opts.signal_given = true;
            }
            b"-n" => {
                // bash's kill -n NUM; not in util-linux (where -n is an
                // invalid signal), so nothing collides.
                let v = next(&mut i, "-n")?;
                let n = utf8(&v, "-n")?;
                let sig = match n.parse::<u32>().ok().and_then(Signal::new) {
                    Some(sig) if n.bytes().all(|b| b.is_ascii_digit()) => sig,
                    _ => return usage(format!("-n needs a signal number, not '{n}'")),
                };
                if opts.print_pids {
                    return exclusive("--pid", "--signal");
                }
                opts.signal = sig;
                opts.signal_given = true;
            }
            b"-q" | b"--queue" => {
                let v = value(&mut i, &inline)?;
                if opts.print_pids {
                    return exclusive("--pid", "--queue");
                }
                let n = v.to_str().and_then(|s| parse_int(s.as_bytes()));
                match n {
                    Some(n) => opts.queue = Some(n),
                    None => return usage(format!("argument error: '{}'", v.to_string_lossy())),
                }
            }
            b"--timeout" => {
                let ms = value(&mut i, &inline)?;
                let ms = match ms.to_str().and_then(|s| parse_int(s.as_bytes())) {
                    Some(ms) => ms,
                    None => return usage(format!("argument error: '{}'", ms.to_string_lossy())),
                };
                i += 1;
                let Some(sig) = args.get(i) else {
                    return usage(
                        "option '--timeout' requires two arguments: <milliseconds> <signal>",
                    );
                };
                opts.timeouts.push((ms, signal_arg(sig)?));
            }
            b"--exe" => {
                opts.exe = Some(PathBuf::from(value(&mut i, &inline)?));
            }
            b"--uid" => {
                let v = value(&mut i, &inline)?;
                opts.uid = Some(utf8(&v, "--uid")?.to_owned());
            }
            b"--euid" => {
                let v = value(&mut i, &inline)?;
                opts.euid = Some(utf8(&v, "--euid")?.to_owned());
            }
            b"--backend" => {
                let v = value(&mut i, &inline)?;
                let text = utf8(&v, "--backend")?;
                opts.backend = match text.parse() {
                    Ok(b) => b,
                    Err(e) => return usage(format!("{e}")),
                };
            }
            b"--info" => {
                no_value(&inline)?;
                info = true;
            }
            b"--guarantee" => {
                no_value(&inline)?;
                opts.guarantee = true;
            }
            b"--silent" => {
                no_value(&inline)?;
                opts.silent = true;
            }
            _ if name.starts_with(b"--") => {
                return usage(format!("unrecognized option '{name_s}'"));
            }
            _ => {
                // -SIG; a second one is a process group (POSIX, util-linux).
                if opts.signal_given {
                    break;
                }
                let text = &bytes[1..];
                let sig = std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| Signal::from_kill_arg(t).ok());
                let Some(sig) = sig else {
                    return usage(format!(
                        "invalid signal name or number: {}",
                        String::from_utf8_lossy(text)
                    ));
                };
                if opts.print_pids {
                    return exclusive("--pid", "--signal");
                }
                opts.signal = sig;
                opts.signal_given = true;
            }
        }
        i += 1;
    }
    opts.targets = args[i.min(args.len())..]
        .iter()
        .map(|a| target(a))
        .collect();
    if opts.targets.is_empty() {
        return usage("not enough arguments");
    }
    if info {
        if opts.signal_given
            || opts.has_checks()
            || opts.queue.is_some()
            || !opts.timeouts.is_empty()
            || opts.print_pids
            || opts.require_handler
        {
            return usage("--info takes only --backend and PIDs");
        }
        if let Some(t) = opts.targets.iter().find(|t| !matches!(t, Target::Pid(..))) {
            return usage(format!("--info: not a process ID: {}", describe(t)));
        }
        return Ok(Action::Info(opts));
    }
    let groups = opts
        .targets
        .iter()
        .any(|t| matches!(t, Target::OwnGroup | Target::Everyone | Target::Group(_)));
    if groups && (opts.has_checks() || opts.require_handler || !opts.timeouts.is_empty()) {
        return usage(
            "--exe, --uid, --euid, -r and --timeout check or follow one process: not 0, -1 or -PGID",
        );
    }
    if opts.backend != Backend::Auto && groups {
        return usage("--backend applies to processes, not to 0, -1 or -PGID");
    }
    Ok(Action::Kill(opts))
}

/// A target as the user wrote it, for messages.
pub fn describe(t: &Target) -> String {
    match t {
        Target::Pid(p, None) => p.to_string(),
        Target::Pid(p, Some(ino)) => format!("{p}:{ino}"),
        Target::OwnGroup => "0".into(),
        Target::Everyone => "-1".into(),
        Target::Group(g) => format!("-{g}"),
        Target::Name(n) => n.to_string_lossy().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Action, Usage> {
        let v: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&v)
    }

    fn kill(args: &[&str]) -> Opts {
        match p(args) {
            Ok(Action::Kill(o)) => o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn queue_is_a_value_not_quiet() {
        let o = kill(&["-q", "5", "-s", "0", "42"]);
        assert_eq!(o.queue, Some(5));
        assert_eq!(o.targets, vec![Target::Pid(42, None)]);
        assert_eq!(o.signal, Signal::PROBE);
        assert!(p(&["-q", "x", "1"]).is_err());
        assert!(p(&["-q", "2147483648", "1"]).is_err());
        assert_eq!(kill(&["--queue=-7", "1"]).queue, Some(-7));
    }

    #[test]
    fn inline_values() {
        assert_eq!(
            p(&["--list=9"]),
            Ok(Action::List(ListArg::One(Signal::KILL)))
        );
        assert_eq!(
            p(&["-l=KILL"]),
            Ok(Action::List(ListArg::One(Signal::KILL)))
        );
        assert_eq!(kill(&["--signal=term", "1"]).signal, Signal::TERM);
        assert!(p(&["--verbose=no", "1"]).is_err());
        assert!(p(&["-L", "extra"]).is_err());
        assert!(p(&["-l", "9", "extra"]).is_err());
    }

    #[test]
    fn targets() {
        let o = kill(&["-9", "--", "-15", "0", "-1", "7:123", "sleep", "7:0"]);
        assert_eq!(
            o.targets,
            vec![
                Target::Group(15),
                Target::OwnGroup,
                Target::Everyone,
                Target::Pid(7, Some(123)),
                Target::Name("sleep".into()),
                Target::Name("7:0".into()),
            ]
        );
        // A second -SIG is a process group.
        assert_eq!(kill(&["-9", "-15", "1"]).targets[0], Target::Group(15));
        assert_eq!(kill(&["-9", "1"]).signal, Signal::KILL);
    }

    #[test]
    fn lists() {
        assert_eq!(p(&["-l"]), Ok(Action::List(ListArg::All)));
        assert_eq!(
            p(&["-l", "0"]),
            Ok(Action::List(ListArg::One(Signal::PROBE)))
        );
        assert_eq!(
            p(&["-l", "143"]),
            Ok(Action::List(ListArg::One(Signal::TERM)))
        );
        assert_eq!(
            p(&["-l", "0x4001"]),
            Ok(Action::List(ListArg::Mask(0x4001)))
        );
        assert!(p(&["-l", "0xzz"]).is_err());
        assert!(p(&["-l", "65"]).is_err());
    }
}
