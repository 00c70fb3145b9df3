//! The kill-node backend, against the module's contract (issues 4 and 5).
//! Ignored by default, since a plain host has no module: on a machine with
//! the module loaded (and a coreutils `sh`/`sleep`, which these tests use)
//! run `cargo test -p prockill --test node -- --ignored`. They fail if the
//! module is absent.
//!
//! `make test` runs these cases in the VM instead, ported to the VM suite:
//! `crate/` in tests/vm/src/tests/crate_vm.rs (the busybox guest has no
//! cargo, and `sh` and `sleep` there are one binary, so an exec from one to
//! the other does not change `exe`). Keep the two in step.

mod common;

use std::io::Write;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{module_loaded, sleep_exe, Kid};
use prockill::{
    kill_if, Backend, ErrorKind, Guarantee, NodeState, Policy, Process, ProcessOptions,
    RevokeReason, Signal,
};

macro_rules! require_module {
    () => {
        assert!(
            module_loaded(),
            "the prockill module is not loaded (no /proc/self/kill)"
        );
    };
}

#[test]
#[ignore = "needs the prockill module (VM)"]
fn auto_chooses_the_node_and_it_signals() {
    require_module!();
    let mut kid = Kid::sleep();
    let p = Process::open(kid.pid()).unwrap();
    assert_eq!(p.backend(), Backend::Node);
    assert!(p.node_fd().is_some());
    // No per-handle policy: safe against PID reuse; against exec only if set.
    assert_eq!(p.guarantee(), Guarantee::PidReuseOnly);
    p.send_signal(Signal::PROBE).unwrap();
    p.send_signal(Signal::TERM).unwrap();
    assert_eq!(kid.killed_by(), Some(libc::SIGTERM));
}

#[test]
#[ignore = "needs the prockill module (VM)"]
fn node_info_describes_the_handle() {
    require_module!();
    let kid = Kid::sleep();
    let p = Process::open(kid.pid()).unwrap();
    let info = p.node_info().unwrap();
    assert_eq!(info.pid, kid.pid());
    assert!(!info.thread);
    assert_eq!(info.state, NodeState::Alive);
    assert_eq!(info.revoke_reason, RevokeReason::None);
    assert_eq!(info.handle_policy, Policy::Never);
    // SAFETY: no preconditions.
    assert_eq!(info.opener_uid, unsafe { libc::getuid() });
    // start_time is stat field 22 in nanoseconds.
    // SAFETY: no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    let ticks = p.start_time().unwrap();
    let from_ns = info.start_time_ns / (1_000_000_000 / hz);
    assert!(from_ns.abs_diff(ticks) <= 1, "{from_ns} vs {ticks} ticks");
    // pidfs_ino equals st_ino of a pidfd for the same process.
    let pidfd = prockill::pidfd_open(kid.pid()).unwrap();
    // SAFETY: st is written by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::fstat(pidfd.as_raw_fd(), &mut st) }, 0);
    assert_eq!(info.pidfs_ino, st.st_ino);
}

#[test]
#[ignore = "needs the prockill module (VM)"]
fn exec_policy_only_tightens() {
    require_module!();
    let kid = Kid::sleep();
    let p = ProcessOptions::new()
        .revoke_on_exec(true)
        .open(kid.pid())
        .unwrap();
    assert_eq!(p.guarantee(), Guarantee::PidReuseAndExec);
    let info = p.node_info().unwrap();
    assert_eq!(info.handle_policy, Policy::Exec);
    assert_eq!(info.policy, Policy::Exec);
    for looser in [Policy::Setid, Policy::Never] {
        let err = p.set_exec_policy(looser).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::PermissionDenied, "{looser}");
    }
    p.set_exec_policy(Policy::Exec).unwrap();
}

#[test]
#[ignore = "needs the prockill module (VM)"]
fn reaped_target_is_exited_through_the_node() {
    require_module!();
    let mut kid = Kid::sleep();
    let p = Process::open(kid.pid()).unwrap();
    kid.reap();
    for sig in [Signal::PROBE, Signal::KILL] {
        let err = p.send_signal(sig).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Exited);
        assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
        assert_eq!(
            p.node_send_ioctl(sig).unwrap_err().kind(),
            &ErrorKind::Exited
        );
    }
    assert_eq!(p.node_info().unwrap().state, NodeState::Exited);
}

#[test]
#[ignore = "needs the prockill module (VM)"]
fn ioctl_send_is_a_write() {
    require_module!();
    let mut kid = Kid::sleep();
    let p = Process::open(kid.pid()).unwrap();
    p.node_send_ioctl(Signal::PROBE).unwrap();
    p.node_send_ioctl(Signal::USR1).unwrap();
    assert_eq!(kid.killed_by(), Some(libc::SIGUSR1));
}

/// The seed's check-then-kill with an exec between the check and the
/// signal: the node with the exec policy refuses (Revoked) and the new image
/// lives; the same sequence through pidfd signals it (tests/process.rs).
#[test]
#[ignore = "needs the prockill module (VM)"]
fn kill_if_never_signals_the_image_of_a_later_exec() {
    require_module!();
    let mut kid = Kid::spawn(
        Command::new("sh")
            .args(["-c", "read x; exec sleep 600"])
            .stdin(Stdio::piped()),
    );
    let mut stdin = kid.child().stdin.take().unwrap();
    let pid = kid.pid();
    let err = kill_if(
        pid,
        |p| {
            assert_eq!(p.backend(), Backend::Node);
            let shell = p.exe()?;
            p.check_exe(&shell)?;
            stdin.write_all(b"go\n").unwrap();
            common::wait_for_exe(p, &sleep_exe())
        },
        Signal::KILL,
    )
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Revoked);
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    assert!(kid.still_running(), "the new image was signalled");
    // A new handle, opened after the exec, works.
    let p = Process::open(pid).unwrap();
    p.send_signal(Signal::TERM).unwrap();
    assert_eq!(kid.killed_by(), Some(libc::SIGTERM));
}

#[test]
#[ignore = "needs the prockill module (VM)"]
fn revoked_handle_reports_why() {
    require_module!();
    let mut kid = Kid::spawn(
        Command::new("sh")
            .args(["-c", "read x; exec sleep 600"])
            .stdin(Stdio::piped()),
    );
    let p = ProcessOptions::new()
        .revoke_on_exec(true)
        .open(kid.pid())
        .unwrap();
    kid.child()
        .stdin
        .take()
        .unwrap()
        .write_all(b"go\n")
        .unwrap();
    let start = Instant::now();
    while p.exe().unwrap() != sleep_exe() {
        assert!(start.elapsed() < Duration::from_secs(5), "no exec");
        std::thread::sleep(Duration::from_millis(2));
    }
    let info = p.node_info().unwrap();
    assert_eq!(info.state, NodeState::Revoked);
    assert_eq!(info.revoke_reason, RevokeReason::Exec);
    assert_eq!(
        p.send_signal(Signal::PROBE).unwrap_err().kind(),
        &ErrorKind::Revoked
    );
    assert!(kid.still_running());
}

#[test]
#[ignore = "needs the prockill module (VM)"]
fn cli_uses_the_node() {
    require_module!();
    let mut kid = Kid::sleep();
    let pid = kid.pid().to_string();
    let exe = sleep_exe().display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_prockill"))
        .args(["-v", "--exe", &exe, "-s", "TERM", &pid])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{pid}: sent SIGTERM via node (guarantee: pid-reuse+exec)")
    );
    assert_eq!(kid.killed_by(), Some(libc::SIGTERM));
}
