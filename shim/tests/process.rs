//! Host tests of the library on real child processes: the pidfd and kill
//! backends, exited processes, handles from pidfds and /proc directory fds,
//! checks, guarantees and error mapping. No kernel module here: the node is
//! reported unavailable with ENOENT (tests that depend on its absence say so
//! and are skipped if the module happens to be loaded).

mod common;

use std::io::Write;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{module_loaded, sleep_exe, Kid};
use prockill::{
    kill_if, pidfd_open, Backend, Error, ErrorKind, Guarantee, Process, ProcessOptions, Signal,
};

#[test]
fn pidfd_backend_delivers_the_signal() {
    for (sig, raw) in [
        (Signal::TERM, libc::SIGTERM),
        (Signal::USR1, libc::SIGUSR1),
        (Signal::KILL, 9),
    ] {
        let mut kid = Kid::sleep();
        let p = Process::open_with(kid.pid(), Backend::Pidfd).unwrap();
        assert_eq!(p.backend(), Backend::Pidfd);
        assert_eq!(p.guarantee(), Guarantee::PidReuseOnly);
        p.send_signal(sig).unwrap();
        assert_eq!(kid.killed_by(), Some(raw), "{sig}");
    }
}

#[test]
fn kill_backend_delivers_the_signal() {
    let mut kid = Kid::sleep();
    let p = Process::open_with(kid.pid(), Backend::Kill).unwrap();
    assert_eq!(p.backend(), Backend::Kill);
    assert_eq!(p.guarantee(), Guarantee::None);
    p.send_signal(Signal::HUP).unwrap();
    assert_eq!(kid.killed_by(), Some(libc::SIGHUP));
}

#[test]
fn probe_delivers_nothing() {
    let mut kid = Kid::sleep();
    for backend in [Backend::Pidfd, Backend::Kill] {
        let p = Process::open_with(kid.pid(), backend).unwrap();
        p.send_signal(Signal::PROBE).unwrap();
    }
    assert!(kid.still_running());
}

#[test]
fn auto_picks_pidfd_and_reports_the_node_absent_with_enoent() {
    if module_loaded() {
        eprintln!("skipped: the prockill module is loaded on this host");
        return;
    }
    let mut kid = Kid::sleep();
    let p = Process::open(kid.pid()).unwrap();
    assert_eq!(p.backend(), Backend::Pidfd);
    assert!(p.node_fd().is_none());
    let err = p.availability(Backend::Node).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::BackendUnavailable(Backend::Node));
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    assert_eq!(err.pid(), kid.pid());
    p.availability(Backend::Pidfd).unwrap();
    p.availability(Backend::Kill).unwrap();
    // node_info and set_exec_policy need the node.
    assert_eq!(
        p.node_info().unwrap_err().kind(),
        &ErrorKind::BackendUnavailable(Backend::Node)
    );
    // Asking for the node explicitly fails the open, with ENOENT.
    let err = Process::open_with(kid.pid(), Backend::Node).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::BackendUnavailable(Backend::Node));
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    // The exec policy cannot be had without the node, and the handle says so.
    let p = ProcessOptions::new()
        .revoke_on_exec(true)
        .open(kid.pid())
        .unwrap();
    assert_eq!(p.guarantee(), Guarantee::PidReuseOnly);
    kid.reap();
}

#[test]
fn reaped_child_is_exited_on_every_backend_and_attribute() {
    let mut kid = Kid::sleep();
    let pid = kid.pid();
    let by_pidfd = Process::open_with(pid, Backend::Pidfd).unwrap();
    let by_kill = Process::open_with(pid, Backend::Kill).unwrap();
    let pidfd = pidfd_open(pid).unwrap();
    let by_pidfd_fd = Process::from_pidfd(pidfd_open(pid).unwrap()).unwrap();
    kid.reap();

    for p in [&by_pidfd, &by_kill, &by_pidfd_fd] {
        for sig in [Signal::PROBE, Signal::TERM] {
            let err = p.send_signal(sig).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Exited, "{:?} {sig}", p.backend());
            assert_eq!(err.pid(), pid);
        }
        assert_eq!(p.exe().unwrap_err().kind(), &ErrorKind::Exited);
        assert_eq!(p.status().unwrap_err().kind(), &ErrorKind::Exited);
        assert_eq!(p.start_time().unwrap_err().kind(), &ErrorKind::Exited);
        let err = p.kill_if(|_| Ok(()), Signal::TERM).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Exited);
    }
    assert_eq!(
        by_pidfd
            .send_signal(Signal::TERM)
            .unwrap_err()
            .raw_os_error(),
        Some(libc::ESRCH)
    );
    // A pidfd of a reaped process cannot be opened as a handle either.
    assert_eq!(
        Process::from_pidfd(pidfd).unwrap_err().kind(),
        &ErrorKind::Exited
    );
}

#[test]
fn open_of_a_missing_pid_is_exited() {
    // PIDs above pid_max never exist.
    let max: i32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let err = Process::open(max + 1).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Exited);
    assert_eq!(err.pid(), max + 1);
    assert_eq!(Process::open(0).unwrap_err().kind(), &ErrorKind::Io);
    assert_eq!(Process::open(-5).unwrap_err().kind(), &ErrorKind::Io);
}

#[test]
fn handle_from_pidfd_signals_through_it() {
    let mut kid = Kid::sleep();
    let pidfd: OwnedFd = pidfd_open(kid.pid()).unwrap();
    let p = ProcessOptions::new()
        .backend(Backend::Pidfd)
        .open_pidfd(pidfd)
        .unwrap();
    assert_eq!(p.pid(), kid.pid());
    assert!(p.pidfd().is_some());
    assert_eq!(p.exe().unwrap(), sleep_exe());
    p.send_signal(Signal::INT).unwrap();
    assert_eq!(kid.killed_by(), Some(libc::SIGINT));
}

#[test]
fn handle_from_proc_dir_fd() {
    let mut kid = Kid::sleep();
    let dir: OwnedFd = std::fs::File::open(format!("/proc/{}", kid.pid()))
        .unwrap()
        .into();
    let p = Process::from_proc_dir(dir).unwrap();
    assert_eq!(p.pid(), kid.pid());
    p.send_signal(Signal::QUIT).unwrap();
    assert_eq!(kid.killed_by(), Some(libc::SIGQUIT));

    // A thread's directory is refused.
    let me = std::process::id();
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        tx.send(unsafe { libc::gettid() }).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    });
    let tid = rx.recv().unwrap();
    let dir: OwnedFd = std::fs::File::open(format!("/proc/{me}/task/{tid}"))
        .unwrap()
        .into();
    assert!(Process::from_proc_dir(dir).is_err());
    t.join().unwrap();
}

#[test]
fn attributes_are_read_through_the_directory() {
    let kid = Kid::sleep();
    let p = Process::open(kid.pid()).unwrap();
    assert_eq!(p.exe().unwrap(), sleep_exe());
    let st = p.status().unwrap();
    assert_eq!(st.name, "sleep");
    assert_eq!(st.pid, kid.pid());
    assert_eq!(st.tgid, kid.pid());
    assert_eq!(st.ppid, std::process::id() as i32);
    // SAFETY: no preconditions.
    assert_eq!(st.uid.real, unsafe { libc::getuid() });
    assert_eq!(st.gid.effective, unsafe { libc::getegid() });
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", kid.pid())).unwrap();
    let field22: u64 = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(p.start_time().unwrap(), field22);
}

#[test]
fn exe_check_failure_reports_the_observed_path_and_sends_nothing() {
    let mut kid = Kid::sleep();
    let err = kill_if(
        kid.pid(),
        |p| p.check_exe("/usr/bin/definitely-not-this"),
        Signal::KILL,
    )
    .unwrap_err();
    assert_eq!(err.pid(), kid.pid());
    assert_eq!(
        err.kind(),
        &ErrorKind::CheckFailed {
            what: "exe".into(),
            expected: "/usr/bin/definitely-not-this".into(),
            observed: sleep_exe().display().to_string(),
        }
    );
    assert!(err.to_string().contains(&sleep_exe().display().to_string()));
    assert!(kid.still_running(), "a failed check must not signal");

    // The right exe passes and signals.
    let exe = sleep_exe();
    let g = kill_if(kid.pid(), |p| p.check_exe(&exe), Signal::TERM).unwrap();
    let expected = if module_loaded() {
        Guarantee::PidReuseAndExec
    } else {
        Guarantee::PidReuseOnly
    };
    assert_eq!(g, expected);
    assert_eq!(kid.killed_by(), Some(libc::SIGTERM));
}

#[test]
fn uid_check_failures_report_the_observed_uid() {
    let mut kid = Kid::sleep();
    // SAFETY: no preconditions.
    let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
    let p = Process::open(kid.pid()).unwrap();
    let err = p
        .kill_if(|p| p.check_uid(uid + 1), Signal::KILL)
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::CheckFailed { what, observed, .. } if what == "uid" && *observed == uid.to_string()),
        "{err}"
    );
    let err = p
        .kill_if(|p| p.check_euid(euid + 7), Signal::KILL)
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::CheckFailed { what, observed, .. } if what == "euid" && *observed == euid.to_string()),
        "{err}"
    );
    // A custom check.
    let err = p
        .kill_if(
            |p| {
                let name = p.status()?.name;
                if name == "bash" {
                    Ok(())
                } else {
                    Err(Error::check_failed(p.pid(), "name", "bash", name))
                }
            },
            Signal::KILL,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: check failed: name is sleep, expected bash", kid.pid())
    );
    assert!(kid.still_running());
    p.kill_if(
        |p| p.check_uid(uid).and_then(|_| p.check_euid(euid)),
        Signal::USR2,
    )
    .unwrap();
    assert_eq!(kid.killed_by(), Some(libc::SIGUSR2));
}

/// Why the pidfd path only claims PidReuseOnly: a program executed after the
/// check is signalled all the same (the node with the exec policy would
/// refuse with Revoked; that is a VM test).
#[test]
fn pidfd_path_signals_a_program_executed_after_the_check() {
    let mut kid = Kid::spawn(
        Command::new("sh")
            .args(["-c", "read x; exec sleep 600"])
            .stdin(Stdio::piped()),
    );
    let p = Process::open_with(kid.pid(), Backend::Pidfd).unwrap();
    let shell = p.exe().unwrap();
    assert_ne!(shell, sleep_exe());
    let mut stdin = kid.child().stdin.take().unwrap();
    let result = p.kill_if(
        |p| {
            p.check_exe(&shell)?;
            // The race, made certain: the process executes between check and kill.
            stdin.write_all(b"go\n").unwrap();
            common::wait_for_exe(p, &sleep_exe())
        },
        Signal::TERM,
    );
    assert_eq!(result.unwrap(), Guarantee::PidReuseOnly);
    assert_eq!(
        kid.killed_by(),
        Some(libc::SIGTERM),
        "the new image got the signal"
    );
}

#[test]
fn errno_maps_to_kinds() {
    let e = |n| std::io::Error::from_raw_os_error(n);
    let table = [
        (Backend::Node, libc::ESRCH, ErrorKind::Exited),
        (Backend::Pidfd, libc::ESRCH, ErrorKind::Exited),
        (Backend::Kill, libc::ESRCH, ErrorKind::Exited),
        (Backend::Node, libc::EIO, ErrorKind::Revoked),
        (Backend::Pidfd, libc::EIO, ErrorKind::Io),
        (Backend::Node, libc::EPERM, ErrorKind::PermissionDenied),
        (Backend::Node, libc::EACCES, ErrorKind::PermissionDenied),
        (Backend::Kill, libc::EPERM, ErrorKind::PermissionDenied),
        (Backend::Node, libc::EINVAL, ErrorKind::InvalidSignal),
        (Backend::Pidfd, libc::EINVAL, ErrorKind::InvalidSignal),
        (
            Backend::Pidfd,
            libc::ENOSYS,
            ErrorKind::BackendUnavailable(Backend::Pidfd),
        ),
        (Backend::Node, libc::EBADF, ErrorKind::Io),
    ];
    for (backend, errno, kind) in table {
        let err = Error::from_send_errno(1234, backend, e(errno));
        assert_eq!(err.kind(), &kind, "{backend} errno {errno}");
        assert_eq!(err.pid(), 1234);
        assert_eq!(err.raw_os_error(), Some(errno));
        assert!(err.to_string().starts_with("1234: "), "{err}");
    }
    let io: std::io::Error = Error::new(1, ErrorKind::PermissionDenied).into();
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
}

#[test]
fn handle_fds_are_close_on_exec() {
    use std::os::fd::AsRawFd;
    let kid = Kid::sleep();
    let p = Process::open(kid.pid()).unwrap();
    let mut fds = vec![p.dir_fd().as_raw_fd()];
    fds.extend(p.node_fd().map(|fd| fd.as_raw_fd()));
    for fd in fds {
        // SAFETY: fd is open for the lifetime of p.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        assert!(
            flags >= 0 && flags & libc::FD_CLOEXEC != 0,
            "fd {fd} lacks FD_CLOEXEC"
        );
    }
}
