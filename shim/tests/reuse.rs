//! PID reuse, forced: inside a new PID namespace (needs root and
//! `unshare(1)`), a child is opened, killed and reaped, and `ns_last_pid`
//! makes the next child take the same PID. The old handle must then answer
//! `Exited` for signals and attributes alike and leave the newcomer alone,
//! while `kill(2)` on the number hits the newcomer (which shows the test
//! can fail).
//!
//! The outer test re-runs this test binary as PID 1 of the new namespace
//! (`unshare --pid --fork --mount-proc`), selecting the ignored inner test.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{is_root, Kid};
use prockill::{Backend, ErrorKind, Process, Signal};

const INNER_ENV: &str = "PROCKILL_REUSE_INNER";

#[test]
fn handles_survive_forced_pid_reuse() {
    if !is_root() {
        eprintln!("skipped: forcing PID reuse needs root (ns_last_pid in a new PID namespace)");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = match Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(&exe)
        .args([
            "--exact",
            "inner_pid_reuse",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INNER_ENV, "1")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run unshare(1): {e}");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && !stdout.contains("running 1 test") {
        // unshare(1) itself failed (no PID or mount namespaces here, e.g. a
        // seccomp-restricted container): the inner test never ran.
        eprintln!("skipped: cannot create a PID namespace: {stderr}");
        return;
    }
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "inner test failed: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

#[test]
#[ignore = "run by handles_survive_forced_pid_reuse as PID 1 of a new PID namespace"]
fn inner_pid_reuse() {
    assert!(
        std::env::var_os(INNER_ENV).is_some(),
        "run through handles_survive_forced_pid_reuse"
    );
    assert_eq!(std::process::id(), 1, "not PID 1 of a new PID namespace");

    let mut old = Kid::sleep();
    let pid = old.pid();
    let by_pidfd = Process::open_with(pid, Backend::Pidfd).unwrap();
    let by_auto = Process::open(pid).unwrap();
    let by_kill = Process::open_with(pid, Backend::Kill).unwrap();
    let old_start = by_pidfd.start_time().unwrap();
    old.reap();

    // Force the reuse: the next PID allocated is ns_last_pid + 1.
    let mut newcomer = None;
    for _ in 0..10 {
        std::fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string()).unwrap();
        let kid = Kid::sleep();
        if kid.pid() == pid {
            newcomer = Some(kid);
            break;
        }
    }
    let mut newcomer = newcomer.expect("could not make a new process take the old PID");
    let fresh = Process::open(pid).unwrap();
    assert!(fresh.start_time().unwrap() >= old_start);
    fresh.send_signal(Signal::PROBE).unwrap();

    for p in [&by_pidfd, &by_auto, &by_kill] {
        for sig in [Signal::PROBE, Signal::TERM, Signal::KILL] {
            let err = p.send_signal(sig).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Exited, "{} {sig}", p.backend());
        }
        // Attributes come from the old process's directory, not /proc/<pid> again.
        assert_eq!(p.exe().unwrap_err().kind(), &ErrorKind::Exited);
        assert_eq!(p.status().unwrap_err().kind(), &ErrorKind::Exited);
        let err = p.kill_if(|_| Ok(()), Signal::KILL).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Exited);
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        newcomer.child().try_wait().unwrap().is_none(),
        "the newcomer was signalled"
    );

    // kill(2) on the number hits the newcomer: the danger the handles avoid.
    // SAFETY: plain syscall.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert_eq!(newcomer.killed_by(), Some(libc::SIGTERM));
}
