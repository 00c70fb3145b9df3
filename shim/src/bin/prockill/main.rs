//! `prockill`: util-linux `kill(1)`, option for option, that opens a handle
//! on each process first, checks it through that handle if asked, and
//! signals through the same handle: race-free against PID reuse (pidfd),
//! and against exec too where the prockill kernel module is loaded. See
//! `prockill --help` and shim/README.md.

mod args;

/// `println!` that never panics: a closed stdout is noticed at the end
/// (the final flush), not a panic with exit status 101.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `eprintln!` that never panics.
macro_rules! esay {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// `print!` that never panics.
macro_rules! say_raw {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

use std::ffi::{CString, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use args::{Action, ListArg, Opts, Target, Usage};
use prockill::{send_to_group, Backend, Error, ErrorKind, Process, ProcessOptions, Signal};

const USAGE: &str = "\
Usage:
 prockill [options] <pid>|<pid>:<pidfd_ino>|<name>...
 prockill -l [<number>|0x<sigmask>] | -L
 prockill -d <pid>
 prockill --info [--backend B] <pid>...

Send a signal to processes, as kill(1) does, through a handle opened on each
process first: the kill node /proc/<pid>/kill when the prockill module is
loaded (safe against PID reuse, and against exec after --exe/--uid/--euid
checks), else pidfd_send_signal(2) (safe against PID reuse), else kill(2).

Options (as util-linux kill):
 -a, --all              do not restrict the name-to-pid conversion to processes
                          with the same uid as the present process
 -s, --signal <signal>  send this <signal> instead of SIGTERM
 -<signal>              the same: -9, -KILL, -sigkill
 -q, --queue <value>    pass <value> as the signal's data (sigqueue(3))
     --timeout <milliseconds> <follow-up signal>
                        wait up to timeout and send follow-up signal, through
                          the same handle (repeatable)
 -p, --pid              print pids without signaling them
 -l, --list[=<signal>|=0x<sigmask>]
                        list signal names, convert a signal number to a name,
                          or convert a signal mask to names
 -L, --table            list signal names and numbers
 -r, --require-handler  do not send signal if signal handler is not present
 -d, --show-process-state <pid>
                        show signal related fields in /proc/<pid>/status
     --verbose          print pids that will be signaled

prockill's own:
 -n <number>            the signal, by number (bash's kill -n)
     --exe <path>       signal only if the process runs the executable <path>
     --uid <uid>        signal only if the process's real uid is <uid> (number or name)
     --euid <uid>       signal only if the process's effective uid is <uid>
     --backend <b>      auto (default), node, pidfd or kill
     --guarantee        print how each process was signalled, and the guarantee
     --silent           no message for processes not signalled
     --info             print the handle of each <pid>: backends, guarantee,
                          attributes, the kill node's state

 -h, --help             display this help
 -V, -v, --version      display version

Exit status: 0 all signalled, 1 none (or a usage error), 64 some.
";

/// util-linux `kill -l`'s names, in its order (lib/signames.c on x86 and
/// most architectures, aliases included).
const KILL_NAMES: &[&str] = &[
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CLD", "CONT", "STOP", "TSTP", "TTIN",
    "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "POLL", "PWR", "SYS",
];

const KILL_EXIT_SOMEOK: u8 = 64;
const KILL_OUTPUT_WIDTH: usize = 72;
const KILL_FIELD_WIDTH: usize = 11;

fn number_of(name: &str) -> u32 {
    Signal::from_kill_arg(name).map_or(0, Signal::number)
}

/// util-linux's `print_signal_name`: the first name of its table, `RT<n>`
/// in the real-time range, else the number.
fn kill_name(sig: u32) -> String {
    if let Some(n) = KILL_NAMES.iter().find(|n| number_of(n) == sig) {
        return (*n).to_owned();
    }
    if (Signal::RTMIN.number()..=Signal::RTMAX.number()).contains(&sig) {
        return format!("RT{}", sig - Signal::RTMIN.number());
    }
    sig.to_string()
}

fn stdout_is_tty() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::isatty(1) == 1 }
}

fn terminal_width() -> usize {
    // SAFETY: TIOCGWINSZ writes one winsize.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_col > 0 {
        usize::from(ws.ws_col)
    } else {
        KILL_OUTPUT_WIDTH + 1
    }
}

/// `kill -l`.
fn list_all(out: &mut impl Write, pretty: bool) -> std::io::Result<()> {
    if !pretty {
        for n in KILL_NAMES {
            writeln!(out, "{n}")?;
        }
        return writeln!(out, "RT<N>\nRTMIN+<N>\nRTMAX-<N>");
    }
    let mut lpos = 0;
    for n in KILL_NAMES {
        let lth = 1 + n.len();
        if KILL_OUTPUT_WIDTH < lpos + lth {
            writeln!(out)?;
            lpos = 0;
        } else if lpos > 0 {
            write!(out, " ")?;
        }
        lpos += lth;
        write!(out, "{n}")?;
    }
    writeln!(out, " RT<N> RTMIN+<N> RTMAX-<N>")
}

/// `kill -L` (and the table after an unknown signal, on stderr).
fn table(out: &mut impl Write, pretty: bool) -> std::io::Result<()> {
    let rows = KILL_NAMES.iter().map(|n| (number_of(n), *n)).chain([
        (Signal::RTMIN.number(), "RTMIN"),
        (Signal::RTMAX.number(), "RTMAX"),
    ]);
    if !pretty {
        for (num, name) in rows {
            writeln!(out, "{num:2} {name:<8}")?;
        }
        return Ok(());
    }
    let width = terminal_width() - 1;
    let mut lpos = 0;
    for (num, name) in rows {
        if width < lpos + KILL_FIELD_WIDTH {
            writeln!(out)?;
            lpos = 0;
        }
        lpos += KILL_FIELD_WIDTH;
        write!(out, "{num:2} {name:<8}")?;
    }
    writeln!(out)
}

fn mask_names(mask: u64) -> impl Iterator<Item = String> {
    (0..64u32)
        .filter(move |i| mask & (1u64 << i) != 0)
        .map(|i| kill_name(i + 1))
}

fn list(what: &ListArg) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match what {
        ListArg::All => list_all(&mut out, stdout_is_tty()),
        ListArg::One(sig) => writeln!(out, "{}", kill_name(sig.number())),
        ListArg::Mask(mask) => {
            for name in mask_names(*mask) {
                writeln!(out, "{name}")?;
            }
            Ok(())
        }
    }
}

/// `kill -d PID`, read through a handle on the process.
fn show_state(pid: i32) -> Result<(), String> {
    let masks = Process::open(pid)
        .and_then(|p| p.signal_masks())
        .map_err(|e| format!("cannot open /proc/{pid}/status: {}", reason(&e, true)))?;
    let mut out = std::io::stdout().lock();
    for (label, mask) in [
        ("Pending (thread)", masks.pending_thread),
        ("Pending (process)", masks.pending_process),
        ("Blocked", masks.blocked),
        ("Ignored", masks.ignored),
        ("Caught", masks.caught),
    ] {
        if mask != 0 {
            let mut line = format!("{label}: ");
            for name in mask_names(mask) {
                line.push_str(&name);
                line.push(' ');
            }
            let _ = writeln!(out, "{line}");
        }
    }
    Ok(())
}

/// The text of an errno, without Rust's " (os error N)".
fn strerror(err: &std::io::Error) -> String {
    let s = err.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Why `err` happened, said once. `opening`: the handle could not be
/// opened, so an `Exited` process may never have existed ("No such
/// process", as kill(1) says); after that, it exited.
fn reason(err: &Error, opening: bool) -> String {
    match err.kind() {
        ErrorKind::Exited if opening => "No such process".into(),
        ErrorKind::Exited => "process exited".into(),
        ErrorKind::BackendUnavailable(Backend::Node)
            if err.raw_os_error() == Some(libc::ENOENT) =>
        {
            format!(
                "no kill node: /proc/{}/kill is absent (is the prockill module loaded?)",
                err.pid()
            )
        }
        ErrorKind::PermissionDenied | ErrorKind::InvalidSignal | ErrorKind::Io => {
            match err.io_error() {
                Some(e) => strerror(e),
                None => err.reason(),
            }
        }
        _ => err.reason(),
    }
}

fn parse_uid(s: &str) -> Result<u32, String> {
    if let Ok(uid) = s.parse::<u32>() {
        return Ok(uid);
    }
    let Ok(name) = CString::new(s) else {
        return Err(format!("invalid user '{s}'"));
    };
    // SAFETY: name is a valid C string; the entry is read at once, and this
    // program has a single thread.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(format!("unknown user '{s}'"));
    }
    // SAFETY: pw is a valid passwd entry.
    Ok(unsafe { (*pw).pw_uid })
}

struct Run<'a> {
    opts: &'a Opts,
    uid: Option<u32>,
    euid: Option<u32>,
    exe: Option<PathBuf>,
    /// Targets tried, and failed (util-linux's ct and nerrs).
    tried: usize,
    failed: usize,
}

impl Run<'_> {
    fn fail(&mut self, what: &str, why: &str) {
        self.failed += 1;
        if !self.opts.silent {
            esay!("prockill: sending signal to {what} failed: {why}");
        }
    }

    fn check(&self, p: &Process) -> Result<(), Error> {
        if let Some(exe) = &self.exe {
            p.check_exe(exe)?;
        }
        if let Some(uid) = self.uid {
            p.check_uid(uid)?;
        }
        if let Some(euid) = self.euid {
            p.check_euid(euid)?;
        }
        Ok(())
    }

    fn options(&self) -> ProcessOptions {
        ProcessOptions::new()
            .backend(self.opts.backend)
            .revoke_on_exec(self.opts.has_checks())
    }

    /// One process, through its handle: -r, checks, the signal, the
    /// follow-ups. `what` names it in messages.
    fn process(&mut self, p: &Process, what: &str) {
        let opts = self.opts;
        let pid = p.pid();
        if opts.require_handler {
            match p.signal_masks() {
                Ok(m) if m.catches(opts.signal) || opts.signal.is_probe() => {}
                Ok(_) => {
                    if opts.verbose {
                        say!(
                            "not signalling pid {pid}, it has no userspace handler for signal {}",
                            opts.signal.number()
                        );
                    }
                    return;
                }
                Err(e) => {
                    self.tried += 1;
                    return self.fail(what, &reason(&e, false));
                }
            }
        }
        self.tried += 1;
        // The checks first, so that -p prints only processes that pass them.
        if let Err(e) = self.check(p) {
            return self.fail(what, &reason(&e, false));
        }
        if opts.verbose {
            say!("sending signal {} to pid {pid}", opts.signal.number());
        }
        if opts.print_pids {
            say!("{pid}");
            return;
        }
        let sent = self.send(p, opts.signal);
        let guarantee = match sent {
            Ok(g) => g,
            Err(e) => return self.fail(what, &reason(&e, false)),
        };
        if opts.guarantee {
            say!(
                "{pid}: sent {} via {} (guarantee: {guarantee})",
                opts.signal,
                p.backend()
            );
        }
        for &(ms, sig) in &opts.timeouts {
            let timeout = u64::try_from(ms).ok().map(Duration::from_millis);
            match p.wait_exit(timeout) {
                Ok(Some(_)) => break,
                Ok(None) => {}
                Err(e) => return self.fail(what, &reason(&e, false)),
            }
            if opts.verbose {
                say!("timeout, sending signal {} to pid {pid}", sig.number());
            }
            match self.send(p, sig) {
                Ok(_) => {}
                // Exited between the wait and the follow-up: nothing to do.
                Err(e) if *e.kind() == ErrorKind::Exited => break,
                Err(e) => return self.fail(what, &reason(&e, false)),
            }
        }
    }

    fn send(&self, p: &Process, sig: Signal) -> Result<prockill::Guarantee, Error> {
        match self.opts.queue {
            Some(v) => p.send_queued(sig, v),
            None => p.send_signal(sig).map(|()| p.guarantee()),
        }
    }

    fn pid(&mut self, pid: i32, ino: Option<u64>, what: &str) {
        let p = match self.options().open(pid) {
            Ok(p) => p,
            Err(e) => {
                self.tried += 1;
                return self.fail(what, &reason(&e, true));
            }
        };
        if let Some(ino) = ino {
            match p.pidfs_inode() {
                Ok(i) if i == ino => {}
                Ok(_) => {
                    self.tried += 1;
                    return self.fail(what, &format!("pidfd inode {ino} not found for pid {pid}"));
                }
                Err(e) => {
                    self.tried += 1;
                    return self.fail(what, &reason(&e, false));
                }
            }
        }
        self.process(&p, what);
    }

    /// Every process named `name` (its `comm`), of this user unless -a,
    /// each checked and signalled through its own handle.
    fn name(&mut self, name: &OsString) {
        // SAFETY: no preconditions.
        let (me, uid) = unsafe { (libc::getpid(), libc::getuid()) };
        let mut found = false;
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return;
        };
        let mut pids: Vec<i32> = dir
            .filter_map(|d| d.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&pid| pid > 0 && pid != me)
            .collect();
        pids.sort_unstable();
        for pid in pids {
            // A cheap look by path first (racy, a filter only), so that a
            // handle (pidfd, kill node) is opened only on candidates...
            if comm_by_path(pid).as_deref() != Some(name.as_bytes()) {
                continue;
            }
            let Ok(p) = self.options().open(pid) else {
                continue; // exited meanwhile
            };
            // ...then the real test, through the handle.
            if !self.opts.all_users && p.proc_owner().ok() != Some(uid) {
                continue;
            }
            if p.comm().ok().as_deref() != Some(name.as_bytes()) {
                continue;
            }
            found = true;
            self.process(&p, &pid.to_string());
        }
        if !found {
            self.tried += 1;
            self.failed += 1;
            if !self.opts.silent {
                esay!(
                    "prockill: cannot find process \"{}\"",
                    name.to_string_lossy()
                );
            }
        }
    }

    /// 0, -1, -PGID: no handle on a group; the group ID is not reused while
    /// the group has members.
    fn group(&mut self, target: &Target, what: &str) {
        let opts = self.opts;
        let num = match target {
            Target::OwnGroup => 0,
            Target::Everyone => -1,
            Target::Group(g) => -*g,
            _ => return,
        };
        self.tried += 1;
        if opts.verbose {
            say!("sending signal {} to pid {num}", opts.signal.number());
        }
        if opts.print_pids {
            say!("{num}");
            return;
        }
        let result = match target {
            Target::Group(g) => send_to_group(*g, opts.signal, opts.queue),
            _ if opts.queue.is_some() => {
                return self.fail(what, "sigqueue(3) takes one process, not 0 or -1");
            }
            // SAFETY: plain system call.
            _ => match unsafe { libc::kill(num, opts.signal.as_raw()) } {
                0 => Ok(()),
                _ => Err(Error::from_send_errno(
                    num,
                    Backend::Kill,
                    std::io::Error::last_os_error(),
                )),
            },
        };
        if let Err(e) = result {
            self.fail(what, &reason(&e, true));
        }
    }
}

/// `comm` of `/proc/PID/stat` by path: a prefilter for name matching.
fn comm_by_path(pid: i32) -> Option<Vec<u8>> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    (open < close).then(|| stat[open + 1..close].to_vec())
}

fn kill(opts: &Opts) -> Result<u8, String> {
    let uid = opts.uid.as_deref().map(parse_uid).transpose()?;
    let euid = opts.euid.as_deref().map(parse_uid).transpose()?;
    // The exe link holds the canonical path: accept /bin/sleep for
    // /usr/bin/sleep.
    let exe = opts
        .exe
        .as_ref()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()));
    let mut run = Run {
        opts,
        uid,
        euid,
        exe,
        tried: 0,
        failed: 0,
    };
    for target in &opts.targets {
        let what = args::describe(target);
        match target {
            Target::Pid(pid, ino) => run.pid(*pid, *ino, &what),
            Target::Name(name) => run.name(name),
            _ => run.group(target, &what),
        }
    }
    Ok(if run.tried > 0 && run.failed == 0 {
        0
    } else if run.tried == run.failed {
        1
    } else {
        KILL_EXIT_SOMEOK
    })
}

fn info(opts: &Opts) -> u8 {
    let options = ProcessOptions::new().backend(opts.backend);
    let (mut tried, mut failed) = (0, 0);
    for target in &opts.targets {
        let Target::Pid(pid, ino) = *target else {
            continue;
        };
        if tried > 0 {
            say!();
        }
        tried += 1;
        let process = match options.open(pid) {
            Ok(p) => p,
            Err(err) => {
                failed += 1;
                esay!("prockill: {pid}: {}", reason(&err, true));
                continue;
            }
        };
        if let Some(ino) = ino {
            if process.pidfs_inode().ok() != Some(ino) {
                failed += 1;
                esay!("prockill: {pid}: pidfd inode {ino} not found for pid {pid}");
                continue;
            }
        }
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
                let ids =
                    |i: prockill::Ids| format!("{} {} {} {}", i.real, i.effective, i.saved, i.fs);
                line("uid", ids(st.uid));
                line("gid", ids(st.gid));
            }
            Err(e) => line("status", format!("unreadable: {}", reason(&e, false))),
        }
        line(
            "exe",
            match process.exe() {
                Ok(p) => p.display().to_string(),
                Err(e) => format!("unreadable: {}", reason(&e, false)),
            },
        );
        line(
            "start_time",
            match process.start_time() {
                Ok(t) => format!("{t} ticks after boot"),
                Err(e) => format!("unreadable: {}", reason(&e, false)),
            },
        );
        if let Ok(ino) = process.pidfs_inode() {
            line("pidfs_ino", ino.to_string());
        }
        for backend in Backend::ALL {
            let state = match process.availability(backend) {
                Ok(()) => "available".to_owned(),
                Err(e) => format!("unavailable: {}", reason(&e, false)),
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
            Err(e) => line("node", format!("none: {}", reason(&e, false))),
        }
        say_raw!("{out}");
    }
    if failed == 0 {
        0
    } else if failed == tried {
        1
    } else {
        KILL_EXIT_SOMEOK
    }
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    let action = match args::parse(&argv) {
        Ok(a) => a,
        Err(Usage {
            message,
            with_table,
        }) => {
            esay!("prockill: {message}");
            if with_table {
                let _ = table(&mut std::io::stderr().lock(), false);
            }
            return ExitCode::FAILURE;
        }
    };
    let status = match action {
        Action::Help => {
            say_raw!("{USAGE}");
            0
        }
        Action::Version => {
            say!("prockill {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Action::List(what) => {
            let _ = list(&what);
            0
        }
        Action::Table => {
            let _ = table(&mut std::io::stdout().lock(), stdout_is_tty());
            0
        }
        Action::ShowState(pid) => match show_state(pid) {
            Ok(()) => 0,
            Err(msg) => {
                esay!("prockill: {msg}");
                1
            }
        },
        Action::Info(opts) => info(&opts),
        Action::Kill(opts) => match kill(&opts) {
            Ok(code) => code,
            Err(msg) => {
                esay!("prockill: {msg}");
                1
            }
        },
    };
    // Like util-linux's close_stdout_atexit: a failed write (a closed pipe,
    // a full disk) is an error, never a silent success.
    if std::io::stdout().flush().is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::from(status)
}
