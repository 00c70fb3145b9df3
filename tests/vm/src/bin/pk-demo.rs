// SPDX-License-Identifier: GPL-2.0

//! `pk-demo [--pace SECONDS] [reuse|exec|setuid]...`: the narrated demo that
//! `make demo` runs in the guest (as root, prockill loaded). It puts kill(2),
//! pidfd_send_signal(2) and /proc/<pid>/kill side by side on three
//! situations and prints, per mechanism, what actually happened:
//!
//! 1. `reuse`: the target dies and its PID goes to a newcomer.
//! 2. `exec`: the checked program execs something else before the kill.
//! 3. `setuid`: the 2000 NetBSD stderr attack, on a kill node.
//!
//! Every verdict is computed from what the guest did. A verdict that differs
//! from the documented behaviour (docs/kill-node.md, docs/exec-hook.md) is
//! flagged `UNEXPECTED` and the exit status is 1; a scenario that could not
//! run at all gives 2.

#[path = "../demo/mod.rs"]
mod demo;

use demo::{End, Proc, Reports, Restore};
use prockill_vmtests::tests::pk::ExecArgs;
use prockill_vmtests::util::{self, errno_name, signal_name};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

const S: Duration = Duration::from_secs(1);
/// The exec swap's "something else".
const OTHER: &str = "/tmp/other-program";
/// Hidden first argument: run as a witness (the new image of scenario 2).
const WITNESS_ARG: &str = "__witness";

/// One line of a verdict table.
struct Row {
    label: String,
    observed: String,
    expected: String,
}

struct Demo {
    pace: Duration,
    verdicts: usize,
    unexpected: Vec<String>,
}

impl Demo {
    fn title(&self, t: &str) {
        println!("\n### {t}");
    }

    /// A narrated step: what is being done.
    fn step(&self, text: &str) {
        println!("{text}");
        demo::flush();
        std::thread::sleep(self.pace);
    }

    /// An observed fact.
    fn fact(&self, text: &str) {
        println!("  -> {text}");
        demo::flush();
    }

    /// The verdict table; `why` (the documented explanation) is printed only
    /// if every row came out as documented.
    fn verdicts(&mut self, scenario: &str, rows: &[Row], why: &str) {
        println!("Verdict:");
        let before = self.unexpected.len();
        let w = rows.iter().map(|r| r.label.len()).max().unwrap_or(0) + 1;
        for r in rows {
            self.verdicts += 1;
            let label = format!("{}:", r.label);
            if r.observed == r.expected {
                println!("  {label:<w$} {}", r.observed);
            } else {
                println!(
                    "  {label:<w$} {}   <-- UNEXPECTED (documented: {})",
                    r.observed, r.expected
                );
                self.unexpected
                    .push(format!("{scenario}: {}: {}", r.label, r.observed));
            }
        }
        if self.unexpected.len() == before {
            println!("Why: {why}");
        }
        demo::flush();
        std::thread::sleep(self.pace * 2);
    }
}

/// What one signal attempt on a witness did.
fn attempt(rep: &Reports, send: impl FnOnce() -> Result<(), i32>) -> Result<Result<i32, i32>, i32> {
    rep.drain();
    let r = send();
    // A hit is reported within milliseconds; a refusal is given a moment to
    // prove nothing arrived anyway.
    let wait = if r.is_ok() {
        5 * S
    } else {
        Duration::from_millis(300)
    };
    let hit = rep.next(wait);
    match (r, hit) {
        (Ok(()), Some(from)) => Ok(Ok(from)),
        (Ok(()), None) => Ok(Err(0)),
        (Err(e), None) => Err(e),
        (Err(e), Some(_)) => Ok(Err(e)), // refused, yet it arrived: reported as such below
    }
}

/// Turn an attempt into the verdict's text.
fn describe(a: &Result<Result<i32, i32>, i32>, whom: &str) -> String {
    match a {
        Ok(Ok(_)) => format!("HIT {whom}"),
        Ok(Err(0)) => "sent, but nobody reported the signal".into(),
        Ok(Err(e)) => format!(
            "returned {} but {whom} got the signal anyway",
            errno_name(*e)
        ),
        Err(e) => format!("refused ({})", errno_name(*e)),
    }
}

fn row(label: impl Into<String>, observed: String, expected: String) -> Row {
    Row {
        label: label.into(),
        observed,
        expected,
    }
}

// ------------------------------------------------------------ 1. reuse --

fn reuse(d: &mut Demo) -> Result<(), String> {
    d.title("1. PID reuse: the target dies and its PID goes to a newcomer");
    d.step(
        "A PID is just a number, and numbers are recycled. Each mechanism holds on to\n\
         the target in its own way: kill(2) keeps the number, pidfd_send_signal(2) an fd\n\
         on the /proc/<pid> directory, prockill an open /proc/<pid>/kill.",
    );
    let pid_max = Restore::set(demo::PID_MAX, "1024")?;
    d.step(&format!(
        "To make the PID counter wrap quickly, pid_max goes from {} down to 1024\n\
         (restored afterwards). PIDs below 300 are never reused after a wrap, so the\n\
         target needs a PID of at least 300.",
        pid_max.old()
    ));
    let mut burned = 0;
    let mut target = loop {
        let p = demo::fork(|| loop {
            // SAFETY: pause(2).
            unsafe { libc::pause() };
        })?;
        if p.pid >= 300 {
            break p;
        }
        burned += 1;
        drop(p);
        if burned > 2000 {
            return Err("could not get a PID >= 300".into());
        }
    };
    let t = target.pid;
    let t_start = demo::start_time_secs(t).unwrap_or(0.0);
    let dir = demo::open(&format!("/proc/{t}"), libc::O_RDONLY | libc::O_DIRECTORY)
        .map_err(|e| format!("open /proc/{t}: {}", errno_name(e)))?;
    let node = demo::openat(dir.as_raw_fd(), "kill", libc::O_RDWR).map_err(|e| {
        format!(
            "open /proc/{t}/kill: {} (is the module loaded?)",
            errno_name(e)
        )
    })?;
    let skip = if burned > 0 {
        format!(" ({burned} throwaway forks first, to pass 300)")
    } else {
        String::new()
    };
    d.fact(&format!("target started with PID {t}{skip}"));
    d.fact(&format!(
        "held: the number {t}; fd {} = /proc/{t}; fd {} = /proc/{t}/kill",
        dir.as_raw_fd(),
        node.as_raw_fd()
    ));

    d.step(&format!(
        "Now the target dies (SIGKILL) and is reaped. We fork until PID {t} comes back."
    ));
    target.kill_now()?;
    let (rep_rd, rep_wr) = demo::pipe()?;
    let rep = Reports { rd: rep_rd };
    let wr = rep_wr.as_raw_fd();
    let t0 = Instant::now();
    let mut forks = 0;
    let newcomer = loop {
        let p = demo::fork(move || {
            // SAFETY: getpid(2).
            if unsafe { libc::getpid() } == t {
                demo::witness(wr);
            }
            0
        })?;
        forks += 1;
        if p.pid == t {
            break p;
        }
        p.reap();
        if forks > 3000 {
            return Err(format!("PID {t} did not come back after {forks} forks"));
        }
    };
    rep.ready(10 * S).map_err(|e| format!("newcomer: {e}"))?;
    let took = t0.elapsed().as_secs_f64();
    let n_start = demo::start_time_secs(t).unwrap_or(0.0);
    drop(pid_max);
    d.fact(&format!(
        "target {t} died; newcomer got PID {t} after {forks} forks ({took:.1}s); pid_max restored"
    ));
    d.fact(&format!(
        "/proc/{t}/stat start time: target {t_start:.2}s after boot, PID {t} now {n_start:.2}s: a different process"
    ));
    if let Ok(text) = demo::read_node(node.as_raw_fd()) {
        if let Some(s) = demo::node_field(&text, "state") {
            d.fact(&format!("reading the held /proc/{t}/kill says: state: {s}"));
        }
    }

    d.step(
        "Each mechanism now sends SIGUSR1 with what it held. The newcomer reports every\n\
         SIGUSR1 it receives.",
    );
    let a_kill = attempt(&rep, || demo::kill(t, libc::SIGUSR1));
    let a_pidfd = attempt(&rep, || {
        demo::pidfd_send_signal(dir.as_raw_fd(), libc::SIGUSR1)
    });
    let a_node = attempt(&rep, || {
        demo::write_fd(node.as_raw_fd(), b"USR1").map(|_| ())
    });
    drop(newcomer);
    let who = "the newcomer";
    d.verdicts(
        "reuse",
        &[
            row("kill(2)", describe(&a_kill, who), format!("HIT {who}")),
            row(
                "pidfd_send_signal",
                describe(&a_pidfd, who),
                "refused (ESRCH)".into(),
            ),
            row(
                "/proc/<pid>/kill",
                describe(&a_node, who),
                "refused (ESRCH)".into(),
            ),
        ],
        "kill(2) names a number, and the number now belongs to someone else.\n\
         The /proc/<pid> fd and the open kill node name the process itself, which is gone.",
    );
    Ok(())
}

// ------------------------------------------------------------- 2. exec --

/// Copy our own executable to [`OTHER`] (the exec swap's new image).
fn make_other() -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = format!("{OTHER}.{}", std::process::id());
    std::fs::copy("/proc/self/exe", &tmp)
        .map_err(|e| format!("copy /proc/self/exe to {tmp}: {e}"))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod {tmp}: {e}"))?;
    std::fs::rename(&tmp, OTHER).map_err(|e| format!("rename {tmp} {OTHER}: {e}"))
}

fn exec_swap(d: &mut Demo) -> Result<(), String> {
    d.title("2. Exec swap: the checked program execs something else before the kill");
    d.step(
        "The 2012 recipe: open /proc/<pid>, check readlinkat(dir, \"exe\"), then kill.\n\
         Between the check and the kill, the process execs another program: same PID,\n\
         same process, new image.",
    );
    make_other()?;
    let me = std::fs::read_link("/proc/self/exe").map_err(|e| e.to_string())?;
    let me = me.to_string_lossy().into_owned();
    let (rep_rd, rep_wr) = demo::pipe()?;
    let rep = Reports { rd: rep_rd };
    let (go_rd, go_wr) = demo::pipe()?;
    let wr = rep_wr.as_raw_fd();
    let grd = go_rd.as_raw_fd();
    let exec = ExecArgs::new(
        OTHER,
        &["other-program", WITNESS_ARG],
        &[("PK_DEMO_REPORT_FD", wr.to_string())],
    );
    let target = demo::fork(move || {
        let mut b = [0u8; 1];
        // SAFETY: blocking read of one byte.
        if unsafe { libc::read(grd, b.as_mut_ptr().cast(), 1) } != 1 {
            return 1;
        }
        demo::keep_on_exec(wr);
        exec.exec();
        127
    })?;
    drop(rep_wr);
    drop(go_rd);
    let p = target.pid;
    let dir = demo::open(&format!("/proc/{p}"), libc::O_RDONLY | libc::O_DIRECTORY)
        .map_err(|e| format!("open /proc/{p}: {}", errno_name(e)))?;
    let exe = demo::readlinkat(dir.as_raw_fd(), "exe").map_err(errno_name)?;
    if exe != me {
        return Err(format!("/proc/{p}/exe is {exe}, expected {me}"));
    }
    let open_node = || {
        demo::openat(dir.as_raw_fd(), "kill", libc::O_RDWR)
            .map_err(|e| format!("open /proc/{p}/kill: {}", errno_name(e)))
    };
    let node_default = open_node()?;
    let node_strict = open_node()?;
    demo::set_policy(node_strict.as_raw_fd(), demo::POLICY_EXEC)
        .map_err(|e| format!("PROCKILL_IOC_SET_POLICY(EXEC): {}", errno_name(e)))?;
    let module_policy = util::read_file(demo::REVOKE_PARAM)?.trim().to_string();
    d.fact(&format!(
        "check passed: PID {p}, readlinkat(/proc/{p}, \"exe\") = {exe}"
    ));
    d.fact(&format!(
        "held: the number {p}; fd {} = /proc/{p}; two opens of /proc/{p}/kill: one at the\n     \
         module's policy (revoke={module_policy}), one made strict with\n     \
         ioctl(PROCKILL_IOC_SET_POLICY, PROCKILL_POLICY_EXEC)",
        dir.as_raw_fd()
    ));

    d.step(&format!(
        "Now PID {p} execs {OTHER}, which reports every SIGUSR1 it receives."
    ));
    demo::write_fd(go_wr.as_raw_fd(), b"g").map_err(|e| format!("go: {}", errno_name(e)))?;
    rep.ready(10 * S).map_err(|e| format!("new image: {e}"))?;
    let exe2 = demo::readlinkat(dir.as_raw_fd(), "exe").map_err(errno_name)?;
    d.fact(&format!(
        "PID {p} is still the same process; readlinkat(/proc/{p}, \"exe\") = {exe2}"
    ));
    if exe2 != OTHER {
        return Err(format!(
            "after the exec /proc/{p}/exe is {exe2}, expected {OTHER}"
        ));
    }

    d.step("Each mechanism now sends SIGUSR1, as it would have right after the check.");
    let a_kill = attempt(&rep, || demo::kill(p, libc::SIGUSR1));
    let a_pidfd = attempt(&rep, || {
        demo::pidfd_send_signal(dir.as_raw_fd(), libc::SIGUSR1)
    });
    let a_default = attempt(&rep, || {
        demo::write_fd(node_default.as_raw_fd(), b"USR1").map(|_| ())
    });
    let a_strict = attempt(&rep, || {
        demo::write_fd(node_strict.as_raw_fd(), b"USR1").map(|_| ())
    });
    if let Ok(text) = demo::read_node(node_strict.as_raw_fd()) {
        let f = |k| demo::node_field(&text, k).unwrap_or_default();
        d.fact(&format!(
            "the strict handle now reads: state: {}, reason: {}",
            f("state"),
            f("reason")
        ));
    }
    drop(target);
    let _ = std::fs::remove_file(OTHER);
    let who = "the new image";
    let hit = format!("HIT {who}");
    let default_expect = if module_policy == "exec" {
        "refused (EIO)".to_string()
    } else {
        hit.clone()
    };
    let default_label = format!("/proc/<pid>/kill (revoke={module_policy})");
    d.verdicts(
        "exec",
        &[
            row("kill(2)", describe(&a_kill, who), hit.clone()),
            row("pidfd_send_signal", describe(&a_pidfd, who), hit.clone()),
            row(default_label, describe(&a_default, who), default_expect),
            row(
                "/proc/<pid>/kill + POLICY_EXEC",
                describe(&a_strict, who),
                "refused (EIO)".into(),
            ),
        ],
        "an exec keeps the process and its PID, so a pidfd (and a kill node at the\n\
         default policy) still reaches it. Only a handle told to care (POLICY_EXEC, or\n\
         revoke=exec for every handle) notices that the checked program is gone: EIO, for good.",
    );
    Ok(())
}

// ----------------------------------------------------------- 3. setuid --

/// The NetBSD attack: as the user, /proc/self/kill on stderr, exec the
/// set-uid helper. Returns how the helper ended and what it printed.
fn stderr_attack() -> Result<(End, String), String> {
    let (out_rd, out_wr) = demo::pipe()?;
    let owr = out_wr.as_raw_fd();
    let exec = ExecArgs::new(util::SETUID_HELPER, &["pk-setuid-helper", "15\n"], &[]);
    let mut c = demo::fork(move || {
        if util::drop_privileges(util::USER_UID, util::USER_GID).is_err() {
            return 100;
        }
        let fd = match demo::open("/proc/self/kill", libc::O_WRONLY) {
            Ok(fd) => fd,
            Err(_) => return 101,
        };
        // SAFETY: dup2 onto stdout/stderr (clears FD_CLOEXEC on the copies).
        unsafe {
            libc::dup2(owr, 1);
            libc::dup2(fd.as_raw_fd(), 2);
        }
        exec.exec();
        102
    })?;
    drop(out_wr);
    let end = c.wait(20 * S);
    let text = demo::read_to_eof(out_rd.as_raw_fd(), 5 * S);
    Ok((end, text.trim().to_string()))
}

/// The set-uid helper started by the user, blocked writing to a full pipe
/// on its stderr (so it stays alive, set-uid root, until signalled).
struct Blocked {
    proc_: Proc,
    _pipe: (std::os::fd::OwnedFd, std::os::fd::OwnedFd),
}

fn blocked_helper() -> Result<Blocked, String> {
    let (rd, wr) = demo::pipe()?;
    let w = wr.as_raw_fd();
    // SAFETY: fcntl on our fds; fill the pipe without blocking.
    unsafe {
        libc::fcntl(w, libc::F_SETFL, libc::O_NONBLOCK);
        let page = [b'.'; 4096];
        while libc::write(w, page.as_ptr().cast(), page.len()) > 0 {}
        libc::fcntl(w, libc::F_SETFL, 0);
    }
    let exec = ExecArgs::new(util::SETUID_HELPER, &["pk-setuid-helper", "15\n"], &[]);
    let proc_ = demo::fork(move || {
        if util::drop_privileges(util::USER_UID, util::USER_GID).is_err() {
            return 100;
        }
        // SAFETY: stdout to /dev/null, stderr to the full pipe.
        unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            libc::dup2(null, 1);
            libc::dup2(w, 2);
        }
        exec.exec();
        102
    })?;
    let pid = proc_.pid;
    util::wait_until(10 * S, "the set-uid helper to block on its stderr", || {
        demo::uids(pid) == Some((util::USER_UID, 0)) && demo::state(pid) == Some('S')
    })?;
    Ok(Blocked {
        proc_,
        _pipe: (rd, wr),
    })
}

/// Run `f` as the unprivileged user; its errno (0 = success).
fn as_user(f: impl FnOnce() -> Result<(), i32>) -> Result<Result<(), i32>, String> {
    let mut c = demo::fork(move || {
        if util::drop_privileges(util::USER_UID, util::USER_GID).is_err() {
            return 255;
        }
        match f() {
            Ok(()) => 0,
            Err(e) => e,
        }
    })?;
    match c.wait(20 * S) {
        End::Exited(0) => Ok(Ok(())),
        End::Exited(255) => Err("could not become the user".into()),
        End::Exited(e) => Ok(Err(e)),
        other => Err(format!("user process: {other:?}")),
    }
}

fn end_text(e: End) -> String {
    match e {
        End::Exited(c) => format!("it exited {c}"),
        End::Signaled(s) => format!("KILLED ({})", signal_name(s)),
        End::StillRunning => "it is still running".into(),
    }
}

fn setuid(d: &mut Demo) -> Result<(), String> {
    d.title("3. The 2000 set-uid stderr attack, on a kill node");
    d.step(&format!(
        "NetBSD SA 2000-001: open a /proc file of your own process, make it your\n\
         stderr, exec a set-uid program, and let it write an \"error message\" there.\n\
         Here: as user (uid {}), open /proc/self/kill, dup it to fd 2, and exec\n\
         the set-uid-root {}: it writes \"15\\n\" (SIGTERM)\n\
         to its stderr and prints euid=.. ruid=.. write=<ok|ERRNO>.",
        util::USER_UID,
        util::SETUID_HELPER
    ));
    let revoke = Restore::set(demo::REVOKE_PARAM, "setid")?;
    let mut attack = Vec::new();
    for policy in ["setid", "never"] {
        revoke.change(policy)?;
        let (end, text) = stderr_attack()?;
        let printed = if text.is_empty() {
            "nothing".to_string()
        } else {
            format!("\"{text}\"")
        };
        d.fact(&format!(
            "revoke={policy:<5}: the helper printed {printed}; {}",
            end_text(end)
        ));
        attack.push((end, text));
    }
    drop(revoke);
    d.step(&format!(
        "kill(2) and pidfd_send_signal(2) take no file a set-uid program could write to;\n\
         what they allow: may user {} signal a set-uid-root program it started? It runs\n\
         (ruid={}, euid=0), blocked writing to a full pipe, and the user sends SIGTERM.",
        util::USER_UID,
        util::USER_UID
    ));
    let mut direct = Vec::new();
    for mech in 0..3 {
        let mut b = blocked_helper()?;
        let h = b.proc_.pid;
        let r = as_user(move || match mech {
            0 => demo::kill(h, libc::SIGTERM),
            1 => {
                let fd = demo::pidfd_open(h)?;
                demo::pidfd_send_signal(fd.as_raw_fd(), libc::SIGTERM)
            }
            _ => {
                let fd = demo::open(&format!("/proc/{h}/kill"), libc::O_WRONLY)?;
                demo::write_fd(fd.as_raw_fd(), b"TERM").map(|_| ())
            }
        })?;
        let end = b.proc_.wait(if r.is_ok() { 10 * S } else { S / 2 });
        let name = [
            "kill(2)",
            "pidfd_send_signal",
            "open+write of its kill node",
        ][mech];
        d.fact(&format!(
            "helper PID {h} (ruid={} euid=0), the user's {name}: {}; {}",
            util::USER_UID,
            demo::res(&r),
            end_text(end)
        ));
        direct.push((r, end));
    }
    let allowed = |(r, end): &(Result<(), i32>, End)| match (r, end) {
        (Ok(()), End::Signaled(s)) => {
            format!("allowed (same real uid): KILLED it ({})", signal_name(*s))
        }
        (Ok(()), e) => format!("allowed, but {}", end_text(*e)),
        (Err(e), _) => format!("refused ({})", errno_name(*e)),
    };
    let want_allowed = "allowed (same real uid): KILLED it (SIGTERM)".to_string();
    let attack_text = |(end, text): &(End, String)| match end {
        End::Exited(0) if text.ends_with("write=EIO") => {
            "write refused (EIO): the program survived".to_string()
        }
        End::Signaled(s) => format!("the program KILLED ITSELF ({})", signal_name(*s)),
        e => format!("{}, printed \"{text}\"", end_text(*e)),
    };
    d.verdicts(
        "setuid",
        &[
            row(
                "kill(2) by the user",
                allowed(&direct[0]),
                want_allowed.clone(),
            ),
            row(
                "pidfd_send_signal by the user",
                allowed(&direct[1]),
                want_allowed.clone(),
            ),
            row(
                "/proc/<pid>/kill opened after exec",
                allowed(&direct[2]),
                want_allowed,
            ),
            row(
                "/proc/self/kill as stderr, revoke=setid",
                attack_text(&attack[0]),
                "write refused (EIO): the program survived".into(),
            ),
            row(
                "/proc/self/kill as stderr, revoke=never",
                attack_text(&attack[1]),
                "the program KILLED ITSELF (SIGTERM)".into(),
            ),
        ],
        "the user keeps every right kill(2) gives it, and may open a new handle after\n\
         the exec. What revoke=setid (the default) takes away is the handle opened before\n\
         the set-uid exec, so a privileged program cannot be made to write a signal into it.",
    );
    Ok(())
}

// ------------------------------------------------------------------ main --

const USAGE: &str = "usage: pk-demo [--pace SECONDS] [reuse|exec|setuid]...
Runs the three scenarios (default: all) as root with prockill loaded.";

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(WITNESS_ARG) {
        let fd: RawFd = std::env::var("PK_DEMO_REPORT_FD")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1);
        demo::witness(fd);
    }
    let mut pace = Duration::ZERO;
    if let Some(i) = args.iter().position(|a| a == "--pace") {
        let v = args.get(i + 1).and_then(|v| v.parse::<f64>().ok());
        let Some(v) = v else {
            eprintln!("{USAGE}");
            std::process::exit(2);
        };
        pace = Duration::from_secs_f64(v);
        args.drain(i..i + 2);
    }
    if args.is_empty() {
        args = vec!["reuse".into(), "exec".into(), "setuid".into()];
    }
    type Scenario = fn(&mut Demo) -> Result<(), String>;
    let mut run: Vec<(&str, Scenario)> = Vec::new();
    for a in &args {
        match a.as_str() {
            "reuse" => run.push(("reuse", reuse)),
            "exec" => run.push(("exec", exec_swap)),
            "setuid" => run.push(("setuid", setuid)),
            _ => {
                eprintln!("{USAGE}");
                std::process::exit(2);
            }
        }
    }
    // SAFETY: geteuid(2).
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("pk-demo: run me as root (I change pid_max and the module's revoke parameter)");
        std::process::exit(2);
    }
    if !std::path::Path::new("/proc/self/kill").exists() {
        eprintln!(
            "pk-demo: there is no /proc/self/kill: the prockill module is not loaded \
             (insmod {})",
            util::MODULE_PATH
        );
        std::process::exit(2);
    }
    let mut d = Demo {
        pace,
        verdicts: 0,
        unexpected: Vec::new(),
    };
    let mut failed = Vec::new();
    let t0 = Instant::now();
    for (name, f) in run {
        if let Err(e) = f(&mut d) {
            println!("pk-demo: scenario {name} could not run: {e}");
            failed.push(name);
        }
    }
    println!();
    let secs = t0.elapsed().as_secs_f64();
    if failed.is_empty() && d.unexpected.is_empty() {
        println!(
            "pk-demo: {} verdicts, all as documented (docs/kill-node.md, docs/exec-hook.md); {secs:.0}s",
            d.verdicts
        );
        std::process::exit(0);
    }
    for u in &d.unexpected {
        println!("pk-demo: UNEXPECTED {u}");
    }
    if !failed.is_empty() {
        println!(
            "pk-demo: scenarios that could not run: {}",
            failed.join(" ")
        );
        std::process::exit(2);
    }
    std::process::exit(1);
}
