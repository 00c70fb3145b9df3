//! `prockill`: send a signal to processes, checking them first, race-free
//! where the prockill kernel module is loaded. See `prockill --help` and
//! shim/README.md.

use std::ffi::CString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use prockill::{Backend, Error, ErrorKind, Process, ProcessOptions, Signal};

const USAGE: &str = "\
Usage:
  prockill [options] [-s SIG | -SIG | -n NUM] PID...
  prockill -l [SIG | NUM]
  prockill -L
  prockill info [--backend B] PID...

Send a signal (default TERM) to each PID, through the kill node
/proc/<pid>/kill when the prockill module is loaded, else pidfd_send_signal(2),
else kill(2). With --exe/--uid/--euid the process is checked first, through
the same handle that signals it: race-free against PID reuse and exec with the
node, against PID reuse only with pidfd, not at all with kill(2).

Options:
  -s, --signal SIG  the signal: a name (TERM, SIGTERM, RTMIN+3) or a number
  -SIG              the same, e.g. -9, -KILL, -SIGKILL
  -n NUM            the same, by number
      --exe PATH    signal only if the process runs the executable PATH
      --uid UID     signal only if the process's real uid is UID (number or name)
      --euid UID    signal only if the process's effective uid is UID
      --backend B   auto (default), node, pidfd or kill
  -v, --verbose     say what was signalled, how, and with which guarantee
  -q, --quiet       print nothing for PIDs not signalled (exit status only)
  -l, --list [SIG]  list signal names; with a number, its name (a number above
                    128 is taken as an exit status); with a name, its number
  -L, --table       list signal numbers and names as a table
  -h, --help        this help
  -V, --version     the version

  info PID...       backends available, the chosen backend, its guarantee, the
                    process's attributes and the kill node's state

Exit status: 0 every PID was signalled (or inspected), 1 at least one was not
(one message per such PID on stderr says why), 2 usage error.
";

struct Usage(String);

fn usage_err<T>(msg: impl Into<String>) -> Result<T, Usage> {
    Err(Usage(msg.into()))
}

#[derive(Default)]
struct Opts {
    signal: Option<Signal>,
    exe: Option<PathBuf>,
    uid: Option<u32>,
    euid: Option<u32>,
    backend: Option<Backend>,
    verbose: bool,
    quiet: bool,
    pids: Vec<i32>,
}

enum Command {
    Help,
    Version,
    List(Option<String>),
    Table,
    Info(Opts),
    Kill(Opts),
}

fn parse_signal(s: &str) -> Result<Signal, Usage> {
    s.parse::<Signal>()
        .or_else(|e| usage_err(format!("invalid signal {s:?}: {e}")))
}

fn parse_uid(s: &str) -> Result<u32, Usage> {
    if let Ok(uid) = s.parse::<u32>() {
        return Ok(uid);
    }
    let Ok(name) = CString::new(s) else {
        return usage_err(format!("invalid user {s:?}"));
    };
    // SAFETY: name is a valid C string; the result is read at once, and this
    // program has a single thread.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return usage_err(format!("unknown user {s:?}"));
    }
    // SAFETY: pw is a valid passwd entry.
    Ok(unsafe { (*pw).pw_uid })
}

fn parse_pid(s: &str) -> Result<i32, Usage> {
    match s.parse::<i32>() {
        Ok(pid) if pid > 0 => Ok(pid),
        Ok(_) => usage_err(format!(
            "{s}: process groups and -1 are not supported (use kill(1))"
        )),
        Err(_) => usage_err(format!("{s}: not a process ID")),
    }
}

fn parse_args(args: Vec<String>) -> Result<Command, Usage> {
    let mut opts = Opts::default();
    let mut info = false;
    let mut it = args.into_iter().peekable();
    let mut only_pids = false;
    let value = |it: &mut std::iter::Peekable<std::vec::IntoIter<String>>, opt: &str| {
        it.next()
            .ok_or_else(|| Usage(format!("option {opt} needs a value")))
    };
    let set_signal = |opts: &mut Opts, sig: Signal| {
        if opts.signal.replace(sig).is_some() {
            usage_err("more than one signal given")
        } else {
            Ok(())
        }
    };
    while let Some(arg) = it.next() {
        if only_pids || !arg.starts_with('-') || arg == "-" {
            if !info && opts.pids.is_empty() && arg == "info" && !only_pids {
                info = true;
                continue;
            }
            opts.pids.push(parse_pid(&arg)?);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let take = |it: &mut _| match &inline {
            Some(v) => Ok(v.clone()),
            None => value(it, &name),
        };
        match name.as_str() {
            "--" => only_pids = true,
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "-l" | "--list" => {
                let what = it.next();
                if let Some(extra) = it.next() {
                    return usage_err(format!("unexpected argument {extra:?} after -l"));
                }
                return Ok(Command::List(what));
            }
            "-L" | "--table" => return Ok(Command::Table),
            "-s" | "--signal" => {
                let v = take(&mut it)?;
                set_signal(&mut opts, parse_signal(&v)?)?;
            }
            "-n" => {
                let v = take(&mut it)?;
                let n: u32 = v
                    .parse()
                    .map_err(|_| Usage(format!("-n needs a signal number, not {v:?}")))?;
                let sig = Signal::new(n).ok_or_else(|| Usage(format!("invalid signal {n}")))?;
                set_signal(&mut opts, sig)?;
            }
            "--exe" => {
                // The exe link holds the canonical path; accept /bin/sleep
                // for /usr/bin/sleep.
                let path = PathBuf::from(take(&mut it)?);
                opts.exe = Some(std::fs::canonicalize(&path).unwrap_or(path));
            }
            "--uid" => opts.uid = Some(parse_uid(&take(&mut it)?)?),
            "--euid" => opts.euid = Some(parse_uid(&take(&mut it)?)?),
            "--backend" => {
                let v = take(&mut it)?;
                opts.backend = Some(v.parse().map_err(|e| Usage(format!("{e}")))?);
            }
            "-v" | "--verbose" => opts.verbose = true,
            "-q" | "--quiet" => opts.quiet = true,
            _ if name.starts_with("--") => return usage_err(format!("unknown option {name}")),
            _ => {
                // -SIG: -9, -KILL, -SIGKILL, -RTMIN+2
                let sig = arg[1..]
                    .parse::<Signal>()
                    .map_err(|_| Usage(format!("unknown option or signal {arg}")))?;
                set_signal(&mut opts, sig)?;
            }
        }
    }
    if opts.pids.is_empty() {
        return usage_err("no process ID given");
    }
    Ok(if info {
        if opts.signal.is_some() || opts.exe.is_some() || opts.uid.is_some() || opts.euid.is_some()
        {
            return usage_err("info takes only --backend and PIDs");
        }
        Command::Info(opts)
    } else {
        Command::Kill(opts)
    })
}

fn list(what: Option<String>) -> Result<(), Usage> {
    let mut out = std::io::stdout().lock();
    match what {
        None => {
            let names: Vec<String> = Signal::all()
                .filter_map(|s| s.name().map(|n| n.to_string()))
                .collect();
            for line in names.chunks(8) {
                let _ = writeln!(out, "{}", line.join(" "));
            }
        }
        Some(w) if w.bytes().all(|b| b.is_ascii_digit()) && !w.is_empty() => {
            let mut n: u32 = w
                .parse()
                .map_err(|_| Usage(format!("invalid number {w}")))?;
            if n > 128 {
                n -= 128; // an exit status, as `kill -l $?`
            }
            match Signal::new(n).and_then(Signal::name) {
                Some(name) => {
                    let _ = writeln!(out, "{name}");
                }
                None => return usage_err(format!("unknown signal number {w}")),
            }
        }
        Some(w) => {
            let sig = parse_signal(&w)?;
            let _ = writeln!(out, "{}", sig.number());
        }
    }
    Ok(())
}

fn table() {
    let mut out = std::io::stdout().lock();
    let cells: Vec<String> = Signal::all()
        .map(|s| match s.name() {
            Some(n) => format!("{:>2} {:<9}", s.number(), n.to_string()),
            None => format!("{:>2} {:<9}", s.number(), "-"),
        })
        .collect();
    for line in cells.chunks(5) {
        let _ = writeln!(out, "{}", line.join(" ").trim_end());
    }
}

fn check(process: &Process, opts: &Opts) -> Result<(), Error> {
    if let Some(exe) = &opts.exe {
        process.check_exe(exe)?;
    }
    if let Some(uid) = opts.uid {
        process.check_uid(uid)?;
    }
    if let Some(euid) = opts.euid {
        process.check_euid(euid)?;
    }
    Ok(())
}

fn kill(opts: &Opts) -> bool {
    let signal = opts.signal.unwrap_or(Signal::TERM);
    let has_checks = opts.exe.is_some() || opts.uid.is_some() || opts.euid.is_some();
    let options = ProcessOptions::new()
        .backend(opts.backend.unwrap_or(Backend::Auto))
        .revoke_on_exec(has_checks);
    let mut all = true;
    for &pid in &opts.pids {
        let result = options.open(pid).and_then(|p| {
            let guarantee = if has_checks {
                p.kill_if(|p| check(p, opts), signal)?
            } else {
                // Nothing checked, so nothing for an exec to invalidate: a
                // plain kill(1) without the exec policy (Process::kill_if
                // would set it), and the guarantee says so.
                p.send_signal(signal)?;
                p.guarantee()
            };
            Ok((p, guarantee))
        });
        match result {
            Ok((process, guarantee)) => {
                if opts.verbose {
                    println!(
                        "{pid}: sent {signal} via {} (guarantee: {guarantee})",
                        process.backend()
                    );
                }
            }
            Err(err) => {
                all = false;
                if !opts.quiet {
                    eprintln!("prockill: {pid}: not signalled: {}", explain(&err));
                }
            }
        }
    }
    all
}

fn explain(err: &Error) -> String {
    match err.kind() {
        ErrorKind::BackendUnavailable(Backend::Node)
            if err.raw_os_error() == Some(libc::ENOENT) =>
        {
            format!(
                "no kill node: /proc/{}/kill is absent (is the prockill module loaded?)",
                err.pid()
            )
        }
        _ => err.reason(),
    }
}

fn info(opts: &Opts) -> bool {
    let options = ProcessOptions::new().backend(opts.backend.unwrap_or(Backend::Auto));
    let mut all = true;
    for (i, &pid) in opts.pids.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let process = match options.open(pid) {
            Ok(p) => p,
            Err(err) => {
                all = false;
                eprintln!("prockill: {pid}: {}", explain(&err));
                continue;
            }
        };
        let mut out = String::new();
        let mut line = |k: &str, v: String| {
            out.push_str(&format!("{k}: {v}\n"));
        };
        line("pid", pid.to_string());
        match process.status() {
            Ok(st) => {
                line("name", st.name.clone());
                line("state", st.state.to_string());
                line("ppid", st.ppid.to_string());
                line(
                    "uid",
                    format!(
                        "{} {} {} {}",
                        st.uid.real, st.uid.effective, st.uid.saved, st.uid.fs
                    ),
                );
                line(
                    "gid",
                    format!(
                        "{} {} {} {}",
                        st.gid.real, st.gid.effective, st.gid.saved, st.gid.fs
                    ),
                );
            }
            Err(e) => line("status", format!("unreadable: {}", e.reason())),
        }
        line(
            "exe",
            match process.exe() {
                Ok(p) => p.display().to_string(),
                Err(e) => format!("unreadable: {}", e.reason()),
            },
        );
        line(
            "start_time",
            match process.start_time() {
                Ok(t) => format!("{t} ticks after boot"),
                Err(e) => format!("unreadable: {}", e.reason()),
            },
        );
        for backend in Backend::ALL {
            let state = match process.availability(backend) {
                Ok(()) => "available".to_owned(),
                Err(e) => format!("unavailable: {}", explain(&e)),
            };
            line(&format!("backend.{backend}"), state);
        }
        line("backend", process.backend().to_string());
        let g = process.guarantee();
        line("guarantee", format!("{g} ({})", g.description()));
        match process.node_info() {
            Ok(ni) => {
                line("node.pid", ni.pid.to_string());
                line(
                    "node.kind",
                    if ni.thread { "thread" } else { "process" }.into(),
                );
                line("node.state", ni.state.to_string());
                line("node.policy", ni.policy.to_string());
                line("node.handle_policy", ni.handle_policy.to_string());
                line("node.revoke_reason", ni.revoke_reason.to_string());
                line("node.opener_uid", ni.opener_uid.to_string());
                line("node.pidfs_ino", ni.pidfs_ino.to_string());
                line("node.start_time_ns", ni.start_time_ns.to_string());
                line("node.exec_gen", ni.exec_gen.to_string());
            }
            Err(e) => line("node", format!("none: {}", explain(&e))),
        }
        print!("{out}");
    }
    all
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse_args(args) {
        Ok(c) => c,
        Err(Usage(msg)) => {
            eprintln!("prockill: {msg}\nTry 'prockill --help'.");
            return ExitCode::from(2);
        }
    };
    let ok = match command {
        Command::Help => {
            print!("{USAGE}");
            true
        }
        Command::Version => {
            println!("prockill {}", env!("CARGO_PKG_VERSION"));
            true
        }
        Command::List(what) => match list(what) {
            Ok(()) => true,
            Err(Usage(msg)) => {
                eprintln!("prockill: {msg}");
                return ExitCode::from(2);
            }
        },
        Command::Table => {
            table();
            true
        }
        Command::Info(opts) => info(&opts),
        Command::Kill(opts) => kill(&opts),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
