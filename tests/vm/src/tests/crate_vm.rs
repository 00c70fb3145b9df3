// SPDX-License-Identifier: GPL-2.0

//! The userspace crate `prockill` and its CLI in a guest with the module
//! (issue 6, VM side): the three backends signalling for real, the
//! guarantee each handle reports, the node's INFO against /proc, `kill_if`
//! under an exec race (the node never signals the new image; the pidfd
//! path, the control, does), the fallback when the module is absent or
//! unloaded, and `/usr/bin/prockill` end to end. Also the cases of
//! shim/tests/node.rs (written for such a guest), ported.

use super::pk::eqm;
use super::pk::{self, Execer, Pipe};
use crate::harness::{Test, TestResult};
use crate::util::{self, errno_name, Child, Outcome};
use crate::{ensure, ensure_eq};
use prockill::{
    kill_if, Backend, ErrorKind, Guarantee, NodeState, Policy, Process, ProcessOptions,
    RevokeReason, Signal,
};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

pub const TESTS: &[Test] = &[
    Test::new("crate/backend-node", backend_node),
    Test::new("crate/backend-pidfd", backend_pidfd),
    Test::new("crate/backend-kill", backend_kill),
    Test::new("crate/auto-guarantees", auto_guarantees),
    Test::new("crate/node-info", node_info),
    Test::new("crate/exec-policy-only-tightens", exec_policy_only_tightens),
    Test::new("crate/exited-through-node", exited_through_node),
    Test::new("crate/ioctl-send", ioctl_send),
    Test::new("crate/no-policy-follows-exec", no_policy_follows_exec),
    Test::new("crate/kill-if-exec-revoked", kill_if_exec_revoked),
    Test::new(
        "crate/revoked-handle-reports-why",
        revoked_handle_reports_why,
    ),
    Test::new("crate/exec-race-node", exec_race_node).timeout_secs(180),
    Test::new("crate/exec-race-pidfd-control", exec_race_pidfd_control).timeout_secs(180),
    Test::new("crate/module-absent", module_absent),
    Test::new("crate/module-unloaded", module_unloaded),
    Test::new("crate/cli-node-kill", cli_node_kill),
    Test::new("crate/cli-node-exe", cli_node_exe),
    Test::new("crate/cli-backend-node-absent", cli_backend_node_absent),
    Test::new("crate/cli-exe-wrong", cli_exe_wrong),
    Test::new("crate/cli-info", cli_info),
    Test::new("crate/cli-info-no-module", cli_info_no_module),
    Test::new("crate/cli-dead-pid", cli_dead_pid),
    Test::new("crate/cli-permission", cli_permission),
    Test::new("crate/queued-through-node", queued_through_node),
    Test::new("crate/wait-exit-node", wait_exit_node),
    Test::new("crate/cli-queue-node", cli_queue_node),
    Test::new("crate/cli-timeout-node", cli_timeout_node),
];

const T5: Duration = Duration::from_secs(5);
const T20: Duration = Duration::from_secs(20);
const CLI: &str = "/usr/bin/prockill";

// --------------------------------------------------------------- helpers --

/// `Result<T, prockill::Error>` into the test's `Result<T, String>`.
trait Ctx<T> {
    fn ctx(self, what: &str) -> Result<T, String>;
}

impl<T> Ctx<T> for Result<T, prockill::Error> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e} ({:?}, errno {:?})", e.kind(), e.raw_os_error()))
    }
}

/// A child that waits (pause loop) until killed; its exe is this binary.
fn sleeper() -> Result<Child, String> {
    util::fork_fn(|| loop {
        // SAFETY: pause(2).
        unsafe { libc::pause() };
    })
}

/// `child` ends killed by `sig` within 5 s.
fn expect_killed(child: Child, sig: i32) -> TestResult {
    match child.wait_timeout(T5)? {
        Outcome::Signaled(s) if s == sig => Ok(()),
        other => Err(format!(
            "target: want killed by {}, got {other:?}",
            util::signal_name(sig)
        )),
    }
}

/// `child` is still running 100 ms from now.
fn expect_alive(pid: i32) -> TestResult {
    pk::sleep_ms(100);
    let mut st = 0;
    // SAFETY: WNOHANG wait on our own child.
    let r = unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) };
    ensure!(r == 0, "target {pid} is gone (waitpid {r}, status {st:#x})");
    Ok(())
}

/// The path `exe` shows for a forked child of this test binary.
fn self_exe() -> Result<String, String> {
    pk::self_exe()
}

fn module_absent_now() -> TestResult {
    ensure!(
        util::module_info(util::MODULE_NAME)?.is_none(),
        "the prockill module is loaded (a previous test leaked it?)"
    );
    ensure!(
        !std::path::Path::new("/proc/self/kill").exists(),
        "/proc/self/kill exists without the module"
    );
    Ok(())
}

fn hz() -> u64 {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) as u64 }
}

fn st_ino(fd: RawFd) -> Result<u64, String> {
    // SAFETY: st is written by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and buffer.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return util::os_err("fstat");
    }
    Ok(st.st_ino)
}

/// Busy-wait `us` microseconds (no syscall: the exec runs on the other CPU
/// or preempts us).
fn spin(us: u64) {
    let end = Instant::now() + Duration::from_micros(us);
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

/// Runs the CLI: (exit status, stdout, stderr).
fn cli(args: &[&str]) -> Result<(i32, String, String), String> {
    let out = std::process::Command::new(CLI)
        .args(args)
        .output()
        .map_err(|e| format!("spawn {CLI}: {e}"))?;
    let code = out.status.code().unwrap_or(-1);
    Ok((
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(": ")))
}

// -------------------------------------------------------------- backends --

/// Backend::Node (explicit) signals; without a per-handle policy it
/// promises PID reuse only.
fn backend_node() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let p = Process::open_with(kid.pid(), Backend::Node).ctx("open node")?;
    ensure_eq!(p.backend(), Backend::Node);
    ensure!(p.node_fd().is_some());
    ensure_eq!(p.guarantee(), Guarantee::PidReuseOnly);
    p.availability(Backend::Node).ctx("availability node")?;
    p.send_signal(Signal::PROBE).ctx("probe")?;
    p.send_signal(Signal::TERM).ctx("TERM")?;
    expect_killed(kid, libc::SIGTERM)
}

/// Backend::Pidfd (explicit, module loaded): the node is not even opened.
fn backend_pidfd() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let p = ProcessOptions::new()
        .backend(Backend::Pidfd)
        .revoke_on_exec(true)
        .open(kid.pid())
        .ctx("open pidfd")?;
    ensure_eq!(p.backend(), Backend::Pidfd);
    ensure!(p.node_fd().is_none(), "the pidfd handle opened the node");
    ensure_eq!(p.guarantee(), Guarantee::PidReuseOnly);
    p.send_signal(Signal::PROBE).ctx("probe")?;
    let exe = self_exe()?;
    let g = p.kill_if(|p| p.check_exe(&exe), Signal::USR2);
    ensure_eq!(g.ctx("kill_if")?, Guarantee::PidReuseOnly);
    expect_killed(kid, libc::SIGUSR2)
}

/// Backend::Kill (explicit, module loaded): kill(2), no guarantee.
fn backend_kill() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let p = Process::open_with(kid.pid(), Backend::Kill).ctx("open kill")?;
    ensure_eq!(p.backend(), Backend::Kill);
    ensure!(p.node_fd().is_none());
    ensure_eq!(p.guarantee(), Guarantee::None);
    p.send_signal(Signal::PROBE).ctx("probe")?;
    p.send_signal(Signal::HUP).ctx("HUP")?;
    expect_killed(kid, libc::SIGHUP)
}

/// Auto picks the node; PidReuseOnly until the exec policy is set (by
/// `revoke_on_exec`, `kill_if` or `set_exec_policy`), PidReuseAndExec
/// after; a failing check signals nothing.
fn auto_guarantees() -> TestResult {
    let _m = pk::load("")?;
    let exe = self_exe()?;
    let kid = sleeper()?;
    let pid = kid.pid();

    let p = Process::open(pid).ctx("open")?;
    ensure_eq!(p.backend(), Backend::Node);
    ensure_eq!(p.guarantee(), Guarantee::PidReuseOnly);
    ensure_eq!(p.node_info().ctx("info")?.handle_policy, Policy::Never);
    // Process::kill_if sets the policy itself.
    let g = p
        .kill_if(|p| p.check_exe(&exe), Signal::PROBE)
        .ctx("kill_if")?;
    ensure_eq!(g, Guarantee::PidReuseAndExec);
    ensure_eq!(p.guarantee(), Guarantee::PidReuseAndExec);
    ensure_eq!(p.node_info().ctx("info")?.handle_policy, Policy::Exec);
    drop(p);

    let p = ProcessOptions::new()
        .revoke_on_exec(true)
        .open(pid)
        .ctx("open revoke_on_exec")?;
    ensure_eq!(p.backend(), Backend::Node);
    ensure_eq!(p.guarantee(), Guarantee::PidReuseAndExec);
    drop(p);

    let p = Process::open(pid).ctx("open")?;
    p.set_exec_policy(Policy::Exec).ctx("set_exec_policy")?;
    ensure_eq!(p.guarantee(), Guarantee::PidReuseAndExec);
    drop(p);

    // A failed check: nothing sent, the observed exe reported.
    let err = kill_if(pid, |p| p.check_exe("/wrong"), Signal::KILL).unwrap_err();
    match err.kind() {
        ErrorKind::CheckFailed {
            what,
            expected,
            observed,
        } => {
            ensure_eq!(
                (what.as_str(), expected.as_str(), observed.as_str()),
                ("exe", "/wrong", exe.as_str())
            );
        }
        other => return Err(format!("kill_if with a wrong exe: {other:?}")),
    }
    expect_alive(pid)?;

    let g = kill_if(pid, |p| p.check_exe(&exe), Signal::TERM).ctx("kill_if")?;
    ensure_eq!(g, Guarantee::PidReuseAndExec);
    expect_killed(kid, libc::SIGTERM)
}

/// PROCKILL_IOC_INFO through the crate against /proc: the PID, the pidfs
/// inode (st_ino of a pidfd), the start time (stat), the node's own text
/// and fdinfo, and the opener's uid (root, then the unprivileged user).
fn node_info() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let pid = kid.pid();
    let p = Process::open(pid).ctx("open")?;
    let info = p.node_info().ctx("node_info")?;
    ensure_eq!(info.pid, pid);
    ensure!(!info.thread);
    ensure_eq!(info.state, NodeState::Alive);
    ensure_eq!(info.revoke_reason, RevokeReason::None);
    ensure_eq!(info.handle_policy, Policy::Never);
    ensure_eq!(info.policy, Policy::Setid); // the module's default
    ensure_eq!(info.opener_uid, 0);
    let pidfd = prockill::pidfd_open(pid).ctx("pidfd_open")?;
    ensure_eq!(info.pidfs_ino, st_ino(pidfd.as_raw_fd())?);
    let ticks = p.start_time().ctx("start_time")?;
    let from_ns = info.start_time_ns / (1_000_000_000 / hz());
    ensure!(
        from_ns.abs_diff(ticks) <= 1,
        "start time: node {from_ns} vs stat {ticks} ticks"
    );

    // The node's text (another, read-only handle on the same process).
    let ro = pk::open_s(&pk::node(pid), libc::O_RDONLY | libc::O_CLOEXEC)?;
    let text =
        pk::read_text(ro.as_raw_fd()).map_err(|e| format!("read node: {}", errno_name(e)))?;
    let want = [
        ("pid", pid.to_string()),
        ("kind", "process".into()),
        ("state", "alive".into()),
        ("start_time", info.start_time_ns.to_string()),
        ("exec_gen", info.exec_gen.to_string()),
        ("pidfs_ino", info.pidfs_ino.to_string()),
        ("opener_uid", "0".into()),
    ];
    for (k, v) in want {
        let got = pk::kv(&text, k);
        eqm!(got.as_deref(), Some(v.as_str()), "node text {k}: {text:?}");
    }
    // fdinfo of the crate's own node fd.
    let fd = p.node_fd().unwrap().as_raw_fd();
    let fdinfo = util::read_file(&format!("/proc/self/fdinfo/{fd}"))?;
    let fdi = |k: &str| {
        fdinfo.lines().find_map(|l| {
            l.strip_prefix(k)
                .map(|r| r.trim_start_matches(':').trim().to_owned())
        })
    };
    eqm!(
        fdi("prockill_pid"),
        Some(pid.to_string()),
        "fdinfo: {fdinfo:?}"
    );
    eqm!(
        fdi("prockill_state"),
        Some("alive".to_owned()),
        "fdinfo: {fdinfo:?}"
    );
    eqm!(
        fdi("prockill_exec_gen"),
        Some(info.exec_gen.to_string()),
        "fdinfo: {fdinfo:?}"
    );

    // Opened by the unprivileged user on itself.
    util::as_user(|| {
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        let p = Process::open(me).ctx("open self as user")?;
        ensure_eq!(p.backend(), Backend::Node);
        let info = p.node_info().ctx("node_info as user")?;
        ensure_eq!((info.pid, info.opener_uid), (me, util::USER_UID));
        Ok(())
    })
}

/// Port of shim/tests/node.rs `exec_policy_only_tightens`.
fn exec_policy_only_tightens() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let p = ProcessOptions::new()
        .revoke_on_exec(true)
        .open(kid.pid())
        .ctx("open")?;
    ensure_eq!(p.guarantee(), Guarantee::PidReuseAndExec);
    let info = p.node_info().ctx("info")?;
    ensure_eq!(
        (info.handle_policy, info.policy),
        (Policy::Exec, Policy::Exec)
    );
    for looser in [Policy::Setid, Policy::Never] {
        let err = p.set_exec_policy(looser).unwrap_err();
        eqm!(err.kind(), &ErrorKind::PermissionDenied, "{looser}");
        eqm!(err.raw_os_error(), Some(libc::EPERM), "{looser}");
    }
    p.set_exec_policy(Policy::Exec).ctx("same policy again")?;
    // An explicit node with revoke_on_exec also gets it.
    let p2 = ProcessOptions::new()
        .backend(Backend::Node)
        .revoke_on_exec(true)
        .open(kid.pid())
        .ctx("open node")?;
    ensure_eq!(p2.node_info().ctx("info")?.handle_policy, Policy::Exec);
    Ok(())
}

/// Port of `reaped_target_is_exited_through_the_node`, plus a zombie and
/// opening a dead PID.
fn exited_through_node() -> TestResult {
    let _m = pk::load("")?;
    // Opened alive, then a zombie (exited, not reaped).
    let go = Pipe::new(true)?;
    let grd = go.rd.as_raw_fd();
    let kid = util::fork_fn(move || pk::get(grd, 1, T20).map(drop))?;
    let pid = kid.pid();
    let p = Process::open(pid).ctx("open")?;
    ensure_eq!(p.backend(), Backend::Node);
    pk::put(go.wr.as_raw_fd(), b"g");
    pk::wait_zombie(pid, T5)?;
    let err = p.send_signal(Signal::TERM).unwrap_err();
    eqm!(
        (err.kind(), err.raw_os_error()),
        (&ErrorKind::Exited, Some(libc::ESRCH)),
        "zombie"
    );
    ensure_eq!(p.node_info().ctx("info")?.state, NodeState::Exited);
    // Reaped.
    ensure_eq!(kid.wait_timeout(T5)?, Outcome::Exited(0, String::new()));
    for sig in [Signal::PROBE, Signal::KILL] {
        let err = p.send_signal(sig).unwrap_err();
        eqm!(err.kind(), &ErrorKind::Exited, "{sig}");
        eqm!(err.raw_os_error(), Some(libc::ESRCH), "{sig}");
        ensure_eq!(err.pid(), pid);
        let err = p.node_send_ioctl(sig).unwrap_err();
        eqm!(err.kind(), &ErrorKind::Exited, "ioctl {sig}");
    }
    ensure_eq!(p.node_info().ctx("info")?.state, NodeState::Exited);
    // A new handle on the dead PID.
    let err = Process::open(pid).unwrap_err();
    ensure_eq!(err.kind(), &ErrorKind::Exited);
    let err = kill_if(pid, |_| Ok(()), Signal::TERM).unwrap_err();
    ensure_eq!(err.kind(), &ErrorKind::Exited);
    Ok(())
}

/// Port of `ioctl_send_is_a_write`.
fn ioctl_send() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let p = Process::open(kid.pid()).ctx("open")?;
    p.node_send_ioctl(Signal::PROBE).ctx("ioctl probe")?;
    p.node_send_ioctl(Signal::USR1).ctx("ioctl USR1")?;
    expect_killed(kid, libc::SIGUSR1)
}

// ------------------------------------------------------------ exec races --

/// The guarantee a node handle without the exec policy reports
/// (PidReuseOnly) is honest: under the module's default `setid` policy a
/// plain exec keeps it valid, and it signals the new image.
fn no_policy_follows_exec() -> TestResult {
    let _m = pk::load("")?;
    let ex = Execer::spawn(60000)?;
    let p = Process::open(ex.pid()).ctx("open")?;
    ensure_eq!(p.backend(), Backend::Node);
    ensure_eq!(p.guarantee(), Guarantee::PidReuseOnly);
    ex.go();
    ex.wait_ready()?;
    ensure_eq!(p.exe().ctx("exe")?, std::path::Path::new(pk::EXEC_TARGET));
    ensure_eq!(p.node_info().ctx("info")?.state, NodeState::Alive);
    p.send_signal(Signal::USR1).ctx("USR1 after exec")?;
    ensure!(ex.finish()?, "the new image was not signalled");
    Ok(())
}

/// Port of `kill_if_never_signals_the_image_of_a_later_exec`: the exec
/// happens after the check passed and is complete before the signal; the
/// node refuses (Revoked, EIO), the new image is not signalled; a handle
/// opened after the exec works.
fn kill_if_exec_revoked() -> TestResult {
    let _m = pk::load("")?;
    let exe = self_exe()?;
    for round in 0..3 {
        let ex = Execer::spawn(60000)?;
        let err = kill_if(
            ex.pid(),
            |p| {
                if p.backend() != Backend::Node {
                    return Err(prockill::Error::check_failed(
                        p.pid(),
                        "backend",
                        "node",
                        p.backend().to_string(),
                    ));
                }
                p.check_exe(&exe)?;
                ex.go();
                ex.wait_ready()
                    .map_err(|e| prockill::Error::check_failed(p.pid(), "new image", "ready", e))?;
                Ok(())
            },
            Signal::USR1,
        )
        .unwrap_err();
        eqm!(err.kind(), &ErrorKind::Revoked, "round {round}: {err}");
        eqm!(err.raw_os_error(), Some(libc::EIO), "round {round}");
        ensure_eq!(err.pid(), ex.pid());
        // A new handle, opened after the exec, sees the new image and works.
        let p = Process::open(ex.pid()).ctx("reopen")?;
        ensure_eq!(p.backend(), Backend::Node);
        ensure_eq!(p.exe().ctx("exe")?, std::path::Path::new(pk::EXEC_TARGET));
        p.send_signal(Signal::PROBE)
            .ctx("probe on the new handle")?;
        drop(p);
        ensure!(!ex.finish()?, "round {round}: the new image was signalled");
    }
    Ok(())
}

/// Port of `revoked_handle_reports_why`.
fn revoked_handle_reports_why() -> TestResult {
    let _m = pk::load("")?;
    let ex = Execer::spawn(60000)?;
    let p = ProcessOptions::new()
        .revoke_on_exec(true)
        .open(ex.pid())
        .ctx("open")?;
    ensure_eq!(p.guarantee(), Guarantee::PidReuseAndExec);
    ex.go();
    ex.wait_ready()?;
    let info = p.node_info().ctx("info")?;
    ensure_eq!(info.state, NodeState::Revoked);
    ensure_eq!(info.revoke_reason, RevokeReason::Exec);
    for sig in [Signal::PROBE, Signal::USR1] {
        let err = p.send_signal(sig).unwrap_err();
        eqm!(err.kind(), &ErrorKind::Revoked, "{sig}");
        let err = p.node_send_ioctl(sig).unwrap_err();
        eqm!(err.kind(), &ErrorKind::Revoked, "ioctl {sig}");
    }
    ensure_eq!(
        p.send_signal(Signal::USR1).unwrap_err().reason(),
        "handle revoked: the process executed another program"
    );
    drop(p);
    ensure!(!ex.finish()?, "the new image was signalled");
    Ok(())
}

/// The delay between letting the target exec and sending, for iteration
/// `i`, in a scattered order: even iterations 0 to 3 ms in 50 us steps
/// (around the exec itself, which is done within a millisecond or two of
/// `go` when the target is scheduled at once), odd ones 0 to `span_us` in
/// 60 steps (up to and past the new image's readiness).
fn race_delay_us(i: u32, span_us: u64) -> u64 {
    let step = u64::from((i / 2 * 7919) % 61);
    if i % 2 == 0 {
        step * 50
    } else {
        step * span_us / 60
    }
}

/// How long the target takes from `go` until its new image has its
/// SIGUSR1 handler (the median of 5), in microseconds.
fn exec_to_ready_us() -> Result<u64, String> {
    let mut v = Vec::new();
    for _ in 0..5 {
        let ex = Execer::spawn(60000)?;
        let t0 = Instant::now();
        ex.go();
        ex.wait_ready()?;
        v.push(t0.elapsed().as_micros() as u64);
        ensure!(!ex.finish()?, "signalled without a send");
    }
    v.sort_unstable();
    Ok(v[2])
}

/// Counts of one race run.
#[derive(Debug, Default)]
#[allow(dead_code)] // the fields are read through Debug
struct RaceCounts {
    /// go to new-image-ready, median (the delays span 2.5 times this).
    ready_us: u64,
    iterations: u32,
    /// kill_if returned Ok (sent before the exec, to the old image).
    sent: u32,
    /// kill_if failed with Revoked.
    revoked: u32,
    /// The new image was signalled.
    hits: u32,
    /// The longest delay after which a send still went to the old image.
    max_sent_delay_us: u64,
    /// The shortest delay after which a send was revoked.
    min_revoked_delay_us: Option<u64>,
}

/// One `kill_if(check exe, SIGUSR1)` with `options` on a target that is
/// let exec right after the check passed, `delay_us` before the send.
fn race_once(options: ProcessOptions, exe: &str, delay_us: u64, c: &mut RaceCounts) -> TestResult {
    let ex = Execer::spawn(60000)?;
    let p = options.open(ex.pid()).ctx("open")?;
    let r = p.kill_if(
        |p| {
            p.check_exe(exe)?;
            ex.go();
            spin(delay_us);
            Ok(())
        },
        Signal::USR1,
    );
    drop(p);
    match r {
        Ok(_) => {
            c.sent += 1;
            c.max_sent_delay_us = c.max_sent_delay_us.max(delay_us);
        }
        Err(e) if *e.kind() == ErrorKind::Revoked => {
            ensure_eq!(e.raw_os_error(), Some(libc::EIO));
            c.revoked += 1;
            c.min_revoked_delay_us =
                Some(c.min_revoked_delay_us.map_or(delay_us, |d| d.min(delay_us)));
        }
        Err(e) => return Err(format!("kill_if: {e} ({:?})", e.kind())),
    }
    ex.wait_ready_or_exit()?;
    if ex.finish()? {
        c.hits += 1;
    }
    c.iterations += 1;
    Ok(())
}

/// Runs race iterations for at most `budget` (and at most `max`), the
/// sends spread from right after `go` to 2.5 times the time the target
/// takes to exec and install its handler (see [`race_delay_us`]): before,
/// during and after the exec, and after the new image is ready (where
/// pidfd hits it).
fn race(options: ProcessOptions, max: u32, budget: Duration) -> Result<RaceCounts, String> {
    let exe = self_exe()?;
    let ready_us = exec_to_ready_us()?;
    let span_us = ready_us * 5 / 2;
    let mut c = RaceCounts {
        ready_us,
        ..RaceCounts::default()
    };
    let start = Instant::now();
    for i in 0..max {
        if start.elapsed() > budget {
            break;
        }
        race_once(options, &exe, race_delay_us(i, span_us), &mut c)
            .map_err(|e| format!("iteration {i}: {e} (so far {c:?})"))?;
    }
    Ok(c)
}

/// `kill_if` through the node (Auto) under an exec race, many times: the new
/// image is never signalled; some sends are refused as Revoked.
fn exec_race_node() -> TestResult {
    let _m = pk::load("")?;
    let opts = ProcessOptions::new().revoke_on_exec(true);
    {
        let kid = sleeper()?;
        ensure_eq!(opts.open(kid.pid()).ctx("open")?.backend(), Backend::Node);
    }
    let c = race(opts, 300, Duration::from_secs(60))?;
    eprintln!("crate/exec-race-node: {c:?}");
    ensure!(
        c.iterations >= 30,
        "only {} iterations ran: {c:?}",
        c.iterations
    );
    eqm!(
        c.hits,
        0,
        "the new image was signalled through the node: {c:?}"
    );
    ensure!(
        c.revoked > 0,
        "no send was revoked, the race was never hit: {c:?}"
    );
    ensure_eq!(c.sent + c.revoked, c.iterations);
    Ok(())
}

/// The control that shows the race test can fail: the same check-then-kill
/// through pidfd signals the new image. Deterministically when the exec is
/// complete before the send; in the racing variant, reported only.
fn exec_race_pidfd_control() -> TestResult {
    let _m = pk::load("")?;
    let exe = self_exe()?;
    let opts = ProcessOptions::new()
        .backend(Backend::Pidfd)
        .revoke_on_exec(true);
    for round in 0..3 {
        let ex = Execer::spawn(60000)?;
        let p = opts.open(ex.pid()).ctx("open")?;
        let g = p
            .kill_if(
                |p| {
                    p.check_exe(&exe)?;
                    ex.go();
                    ex.wait_ready().map_err(|e| {
                        prockill::Error::check_failed(p.pid(), "new image", "ready", e)
                    })?;
                    Ok(())
                },
                Signal::USR1,
            )
            .ctx("kill_if via pidfd")?;
        ensure_eq!(g, Guarantee::PidReuseOnly);
        drop(p);
        ensure!(
            ex.finish()?,
            "round {round}: the new image was not signalled via pidfd"
        );
    }
    // The racing variant: the sends that land after the new image is
    // ready hit it, which is what the node test above shows never happens.
    let c = race(opts, 100, Duration::from_secs(40))?;
    eprintln!("crate/exec-race-pidfd-control: {c:?}");
    eqm!(c.revoked, 0, "pidfd cannot be revoked: {c:?}");
    ensure!(
        c.hits > 0,
        "the racing pidfd variant never hit the new image: {c:?}"
    );
    Ok(())
}

// ---------------------------------------------------------- no module --

/// The checks shared by the absent and unloaded cases: Auto falls back to
/// pidfd and says why the node is unavailable, the guarantee is
/// PidReuseOnly, an explicit node fails, and kill_if still works.
fn fallback_checks() -> TestResult {
    let exe = self_exe()?;
    let kid = sleeper()?;
    let pid = kid.pid();
    let p = ProcessOptions::new()
        .revoke_on_exec(true)
        .open(pid)
        .ctx("open")?;
    ensure_eq!(p.backend(), Backend::Pidfd);
    ensure_eq!(p.guarantee(), Guarantee::PidReuseOnly);
    ensure!(p.node_fd().is_none());
    let err = p.availability(Backend::Node).unwrap_err();
    ensure_eq!(err.kind(), &ErrorKind::BackendUnavailable(Backend::Node));
    ensure_eq!(err.raw_os_error(), Some(libc::ENOENT));
    p.availability(Backend::Pidfd).ctx("pidfd availability")?;
    p.availability(Backend::Kill).ctx("kill availability")?;
    let err = p.node_info().unwrap_err();
    ensure_eq!(err.kind(), &ErrorKind::BackendUnavailable(Backend::Node));
    let err = p.set_exec_policy(Policy::Exec).unwrap_err();
    ensure_eq!(err.kind(), &ErrorKind::BackendUnavailable(Backend::Node));
    drop(p);

    let err = Process::open_with(pid, Backend::Node).unwrap_err();
    ensure_eq!(err.kind(), &ErrorKind::BackendUnavailable(Backend::Node));
    ensure_eq!(err.raw_os_error(), Some(libc::ENOENT));
    ensure_eq!(err.pid(), pid);

    let g = kill_if(pid, |p| p.check_exe(&exe), Signal::TERM).ctx("kill_if")?;
    ensure_eq!(g, Guarantee::PidReuseOnly);
    expect_killed(kid, libc::SIGTERM)
}

/// The guest boots without the module.
fn module_absent() -> TestResult {
    module_absent_now()?;
    fallback_checks()
}

/// Loaded, used, unloaded: the crate notices and falls back.
fn module_unloaded() -> TestResult {
    let m = pk::load("")?;
    {
        let kid = sleeper()?;
        let p = Process::open(kid.pid()).ctx("open")?;
        ensure_eq!(p.backend(), Backend::Node);
        p.send_signal(Signal::PROBE).ctx("probe")?;
    }
    // The handle and its target are gone; the module can go.
    std::mem::forget(m);
    let deadline = Instant::now() + T5;
    loop {
        match util::rmmod(util::MODULE_NAME) {
            Ok(()) => break,
            Err(libc::EAGAIN | libc::EBUSY) if Instant::now() < deadline => pk::sleep_ms(20),
            Err(e) => return Err(format!("rmmod: {}", errno_name(e))),
        }
    }
    module_absent_now()?;
    fallback_checks()
}

// ------------------------------------------------------------------ CLI --

/// `prockill --guarantee -s TERM PID` signals through the node and says so.
fn cli_node_kill() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let pid = kid.pid().to_string();
    let (code, out, err) = cli(&["--guarantee", "-s", "TERM", &pid])?;
    eqm!(code, 0, "stderr: {err}");
    ensure_eq!(
        out.trim(),
        format!("{pid}: sent SIGTERM via node (guarantee: pid-reuse)")
    );
    expect_killed(kid, libc::SIGTERM)?;
    // kill(1)'s other spelling.
    let kid = sleeper()?;
    let pid = kid.pid().to_string();
    let (code, out, err) = cli(&["-9", &pid])?;
    ensure_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    expect_killed(kid, libc::SIGKILL)
}

/// Port of `cli_uses_the_node`: with a check, the full guarantee.
fn cli_node_exe() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let pid = kid.pid().to_string();
    let exe = self_exe()?;
    let (code, out, err) = cli(&[
        "--guarantee",
        "--exe",
        &exe,
        "--uid",
        "0",
        "-s",
        "TERM",
        &pid,
    ])?;
    eqm!(code, 0, "stderr: {err}");
    ensure_eq!(
        out.trim(),
        format!("{pid}: sent SIGTERM via node (guarantee: pid-reuse+exec)")
    );
    expect_killed(kid, libc::SIGTERM)
}

/// `--backend node` without the module: exit 1, one clear line, nothing
/// signalled; `--backend pidfd` then works.
fn cli_backend_node_absent() -> TestResult {
    module_absent_now()?;
    let kid = sleeper()?;
    let pid = kid.pid().to_string();
    let (code, out, err) = cli(&["--backend", "node", "-s", "TERM", &pid])?;
    eqm!((code, out.as_str()), (1, ""), "stderr: {err}");
    ensure_eq!(
        err.trim(),
        format!(
            "prockill: sending signal to {pid} failed: no kill node: /proc/{pid}/kill is absent (is the prockill module loaded?)"
        )
    );
    expect_alive(kid.pid())?;
    let (code, out, err) = cli(&["--guarantee", "--backend", "pidfd", "-s", "TERM", &pid])?;
    eqm!(code, 0, "stderr: {err}");
    ensure_eq!(
        out.trim(),
        format!("{pid}: sent SIGTERM via pidfd (guarantee: pid-reuse)")
    );
    expect_killed(kid, libc::SIGTERM)
}

/// `--exe /wrong`: exit 1 with the observed exe, nothing signalled.
fn cli_exe_wrong() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let pid = kid.pid().to_string();
    let exe = self_exe()?;
    let (code, out, err) = cli(&["--exe", "/wrong", "-s", "KILL", &pid])?;
    eqm!((code, out.as_str()), (1, ""), "stderr: {err}");
    ensure_eq!(
        err.trim(),
        format!(
            "prockill: sending signal to {pid} failed: check failed: exe is {exe}, expected /wrong"
        )
    );
    expect_alive(kid.pid())?;
    // --silent: the status only.
    let (code, out, err) = cli(&["--silent", "--exe", "/wrong", &pid])?;
    ensure_eq!((code, out.as_str(), err.as_str()), (1, "", ""));
    expect_alive(kid.pid())
}

/// `prockill --info PID` with the module: the node's state.
fn cli_info() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let pid = kid.pid();
    let (code, out, err) = cli(&["--info", &pid.to_string()])?;
    eqm!(code, 0, "stderr: {err}");
    let pidfd = prockill::pidfd_open(pid).ctx("pidfd_open")?;
    let ino = st_ino(pidfd.as_raw_fd())?.to_string();
    let exe = self_exe()?;
    let pid_s = pid.to_string();
    let want = [
        ("pid", pid_s.as_str()),
        ("exe", exe.as_str()),
        ("backend", "node"),
        ("backend.node", "available"),
        ("backend.pidfd", "available"),
        ("backend.kill", "available"),
        ("node.pid", pid_s.as_str()),
        ("node.kind", "process"),
        ("node.state", "alive"),
        ("node.policy", "setid"),
        ("node.handle_policy", "never"),
        ("node.revoke_reason", "none"),
        ("node.opener_uid", "0"),
        ("node.pidfs_ino", ino.as_str()),
    ];
    for (k, v) in want {
        eqm!(field(&out, k), Some(v), "info {k}: {out}");
    }
    let g = field(&out, "guarantee").unwrap_or("");
    ensure!(g.starts_with("pid-reuse ("), "guarantee: {g:?}");
    expect_alive(pid)?;
    // A dead PID among live ones: exit 64 (some), the live one still shown.
    let dead = util::fork_fn(|| Ok(()))?;
    let dpid = dead.pid();
    dead.join(T5)?;
    let (code, out, err) = cli(&["--info", &pid_s, &dpid.to_string()])?;
    eqm!(code, 64, "out: {out} err: {err}");
    ensure_eq!(field(&out, "node.state"), Some("alive"));
    ensure_eq!(err.trim(), format!("prockill: {dpid}: No such process"));
    Ok(())
}

/// `prockill --info PID` without the module: pidfd, and why not the node.
fn cli_info_no_module() -> TestResult {
    module_absent_now()?;
    let kid = sleeper()?;
    let pid = kid.pid().to_string();
    let (code, out, err) = cli(&["--info", &pid])?;
    eqm!(code, 0, "stderr: {err}");
    let nonode =
        format!("no kill node: /proc/{pid}/kill is absent (is the prockill module loaded?)");
    eqm!(field(&out, "backend"), Some("pidfd"), "{out}");
    let (want_b, want_n) = (format!("unavailable: {nonode}"), format!("none: {nonode}"));
    eqm!(field(&out, "backend.node"), Some(want_b.as_str()), "{out}");
    eqm!(field(&out, "node"), Some(want_n.as_str()), "{out}");
    let g = field(&out, "guarantee").unwrap_or("");
    ensure!(g.starts_with("pid-reuse ("), "guarantee: {g:?}");
    Ok(())
}

/// A dead PID: exit 1, "No such process" (as kill(1)).
fn cli_dead_pid() -> TestResult {
    let _m = pk::load("")?;
    let dead = util::fork_fn(|| Ok(()))?;
    let pid = dead.pid();
    dead.join(T5)?;
    for extra in [
        &[][..],
        &["--backend", "node"][..],
        &["--exe", "/bin/busybox"][..],
    ] {
        let mut args: Vec<&str> = extra.to_vec();
        let p = pid.to_string();
        args.push(&p);
        let (code, out, err) = cli(&args)?;
        eqm!((code, out.as_str()), (1, ""), "{args:?}: stderr {err}");
        eqm!(
            err.trim(),
            format!("prockill: sending signal to {pid} failed: No such process"),
            "{args:?}"
        );
    }
    // One dead and one live PID: the live one is signalled, exit 64.
    let kid = sleeper()?;
    let (code, _, err) = cli(&["-s", "TERM", &pid.to_string(), &kid.pid().to_string()])?;
    eqm!(code, 64, "stderr: {err}");
    expect_killed(kid, libc::SIGTERM)
}

/// The unprivileged user on a root process: exit 1, permission denied,
/// nothing signalled; on its own process, through the node.
fn cli_permission() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let pid = kid.pid().to_string();
    util::as_user(|| {
        let (code, out, err) = cli(&["-s", "TERM", &pid])?;
        eqm!((code, out.as_str()), (1, ""), "stderr: {err}");
        ensure_eq!(
            err,
            format!("prockill: sending signal to {pid} failed: Operation not permitted\n")
        );
        let own = sleeper()?;
        let (code, out, err) = cli(&["--guarantee", "-s", "TERM", &own.pid().to_string()])?;
        eqm!(code, 0, "stderr: {err}");
        ensure!(out.contains("via node"), "{out:?}");
        expect_killed(own, libc::SIGTERM)
    })?;
    expect_alive(kid.pid())
}

// ------------------------------------------------- queued values, waiting --

/// A child that exits with the `si_value` of the first `USR1` it gets
/// (status 1 if its `si_code` is not `SI_QUEUE`), and ignores `TERM`.
fn queue_receiver() -> Result<Child, String> {
    extern "C" fn on_usr1(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO
        // handler; _exit is async-signal-safe.
        unsafe {
            let code = (*info).si_code;
            let value = (*info).si_value().sival_ptr as usize as u32 as i32;
            libc::_exit(if code == libc::SI_QUEUE { value } else { 1 });
        }
    }
    util::fork_fn(|| {
        // SAFETY: installing handlers in the fresh child.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_usr1 as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut());
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
        }
        loop {
            // SAFETY: pause(2).
            unsafe { libc::pause() };
        }
    })
}

fn expect_exit(child: Child, want: i32) -> TestResult {
    match child.wait_timeout(T5)? {
        Outcome::Exited(code, _) if code == want => Ok(()),
        other => Err(format!("target: want exit {want}, got {other:?}")),
    }
}

/// `send_queued` with the node as backend: the value goes through the
/// node's `PROCKILL_IOC_SEND_VALUE`, with the node's guarantee (the handle
/// revokes on exec here).
fn queued_through_node() -> TestResult {
    let _m = pk::load("")?;
    let kid = queue_receiver()?;
    pk::sleep_ms(50);
    let p = ProcessOptions::new()
        .revoke_on_exec(true)
        .open(kid.pid())
        .ctx("open")?;
    ensure_eq!(p.backend(), Backend::Node);
    let g = p.send_queued(Signal::USR1, 42).ctx("send_queued")?;
    ensure_eq!(g, Guarantee::PidReuseAndExec);
    expect_exit(kid, 42)
}

/// `wait_exit` on a node-backed handle: times out while the target lives,
/// returns its status once it is killed.
fn wait_exit_node() -> TestResult {
    let _m = pk::load("")?;
    let kid = sleeper()?;
    let p = Process::open(kid.pid()).ctx("open")?;
    ensure_eq!(p.backend(), Backend::Node);
    ensure!(p.pidfd().is_some(), "no pidfd");
    ensure!(
        p.wait_exit(Some(Duration::from_millis(50)))
            .ctx("wait")?
            .is_none(),
        "exited early"
    );
    p.send_signal(Signal::KILL).ctx("kill")?;
    let exit = p
        .wait_exit(Some(T5))
        .ctx("wait")?
        .ok_or("no exit within 5 s")?;
    use std::os::unix::process::ExitStatusExt;
    ensure_eq!(exit.status().and_then(|s| s.signal()), Some(libc::SIGKILL));
    expect_killed(kid, libc::SIGKILL)
}

/// `prockill -q 42 -s USR1 PID` with the module: the value arrives.
fn cli_queue_node() -> TestResult {
    let _m = pk::load("")?;
    let kid = queue_receiver()?;
    pk::sleep_ms(50);
    let (code, out, err) = cli(&["-q", "42", "-s", "USR1", &kid.pid().to_string()])?;
    eqm!((code, out.as_str()), (0, ""), "stderr: {err}");
    expect_exit(kid, 42)
}

/// `prockill --timeout 100 KILL PID` with the module: TERM is ignored, the
/// follow-up KILL goes through the same node handle.
fn cli_timeout_node() -> TestResult {
    let _m = pk::load("")?;
    let kid = queue_receiver()?;
    pk::sleep_ms(50);
    let pid = kid.pid().to_string();
    let (code, out, err) = cli(&["--verbose", "--timeout", "100", "KILL", &pid])?;
    eqm!(code, 0, "stderr: {err}");
    ensure_eq!(
        out,
        format!("sending signal 15 to pid {pid}\ntimeout, sending signal 9 to pid {pid}\n")
    );
    expect_killed(kid, libc::SIGKILL)
}
