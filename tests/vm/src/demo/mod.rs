// SPDX-License-Identifier: GPL-2.0

//! Plumbing for `pk-demo` (src/bin/pk-demo.rs): the three signalling
//! mechanisms as plain syscalls, the "witness" process that reports every
//! SIGUSR1 it receives, raw fork/exec helpers and guards that restore the
//! sysctl and module parameter the demo changes.
//!
//! Included by the binary with `#[path]`; nothing here is part of the test
//! library's API.

#![allow(dead_code)]

use prockill_vmtests::util::{self, errno, errno_name};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------ UAPI --
// From module/include/uapi/linux/prockill.h, as the VM tests declare it.

pub use prockill_vmtests::tests::pk::POLICY_EXEC;

/// Where the module exposes its exec policy.
pub const REVOKE_PARAM: &str = "/sys/module/prockill/parameters/revoke";
/// The PID space size.
pub const PID_MAX: &str = "/proc/sys/kernel/pid_max";

// ------------------------------------------------------------ syscalls --

// The same thin wrappers the VM tests use (errno in `Err`, O_CLOEXEC).
pub use prockill_vmtests::tests::pk::{
    kill, open, openat, pidfd_open, pidfd_send_signal, readlinkat, set_policy, write_fd,
};

/// Read a kill node through an fd opened for reading (pread at 0).
pub fn read_node(fd: RawFd) -> Result<String, i32> {
    let mut buf = vec![0u8; 1024];
    // SAFETY: valid buffer.
    let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        return Err(errno());
    }
    buf.truncate(n as usize);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// One `key: value` field of a node's text.
pub fn node_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.strip_prefix(key)?
            .strip_prefix(':')
            .map(|v| v.trim().to_string())
    })
}

/// A pipe: (read end, write end), both O_CLOEXEC.
pub fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    let mut fds = [0; 2];
    // SAFETY: valid pointer to two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return util::os_err("pipe2");
    }
    // SAFETY: fresh fds, owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Wait until `fd` is readable, at most `timeout`; false on timeout.
pub fn readable(fd: RawFd, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, left.as_millis() as i32) };
        if r > 0 {
            return true;
        }
        if r == 0 || errno() != libc::EINTR {
            return false;
        }
    }
}

/// Read everything from `fd` until EOF (at most `timeout`).
pub fn read_to_eof(fd: RawFd, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    while readable(fd, deadline.saturating_duration_since(Instant::now())) {
        // SAFETY: valid buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `/proc/<pid>/stat` field 22 (start time, clock ticks since boot) in seconds.
pub fn start_time_secs(pid: i32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    // Fields from 3 on; start time is field 22.
    let ticks: f64 = rest.split_whitespace().nth(22 - 3)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / hz)
}

/// The `Uid:` line of /proc/<pid>/status as (real, effective).
pub fn uids(pid: i32) -> Option<(u32, u32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let l = s.lines().find(|l| l.starts_with("Uid:"))?;
    let v: Vec<u32> = l[4..]
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    Some((*v.first()?, *v.get(1)?))
}

/// The state letter of /proc/<pid>/stat (`S`, `R`, `Z`...).
pub fn state(pid: i32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s[s.rfind(')')? + 2..].chars().next()
}

// ------------------------------------------------------------ processes --

/// A child process of ours; dropping it kills (SIGKILL) and reaps it.
pub struct Proc {
    pub pid: i32,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Exited(i32),
    Signaled(i32),
    StillRunning,
}

impl Proc {
    /// Wait for it at most `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> End {
        match util::wait_pid_timeout(self.pid, timeout) {
            Ok(Some(st)) => {
                self.pid = 0;
                if libc::WIFSIGNALED(st) {
                    End::Signaled(libc::WTERMSIG(st))
                } else {
                    End::Exited(libc::WEXITSTATUS(st))
                }
            }
            _ => End::StillRunning,
        }
    }

    /// Blocking waitpid (for children known to be exiting).
    pub fn reap(mut self) {
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), 0) };
        self.pid = 0;
    }

    /// SIGKILL it and reap it now.
    pub fn kill_now(&mut self) -> Result<(), String> {
        kill(self.pid, libc::SIGKILL)
            .map_err(|e| format!("kill {}: {}", self.pid, errno_name(e)))?;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), 0) };
        self.pid = 0;
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.pid > 0 {
            // SAFETY: killing and reaping our own child.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

/// fork(2); the child runs `f` and `_exit`s with what it returns.
pub fn fork(f: impl FnOnce() -> i32) -> Result<Proc, String> {
    flush();
    // SAFETY: pk-demo is single-threaded; the child only runs `f` and _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return util::os_err("fork");
    }
    if pid == 0 {
        let code = f();
        // SAFETY: leave the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    Ok(Proc { pid })
}

/// Flush stdout and stderr (before a fork, so nothing is printed twice).
pub fn flush() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// Clear FD_CLOEXEC on `fd` in this process (so an exec keeps it).
pub fn keep_on_exec(fd: RawFd) {
    // SAFETY: fcntl on a valid fd.
    unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
}

// -------------------------------------------------------------- witness --
//
// A witness is a process that catches SIGUSR1 and reports each one on a
// pipe as a 4-byte record: the sender's PID (si_pid). When its handler is
// installed it reports 0 ("ready"). It never dies of SIGUSR1, so several
// mechanisms can be tried on the same witness in turn.

static REPORT_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_usr1(_sig: i32, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler;
    // write(2) is async-signal-safe.
    unsafe {
        let from = (*info).si_pid();
        let rec = from.to_ne_bytes();
        libc::write(REPORT_FD.load(Ordering::Relaxed), rec.as_ptr().cast(), 4);
    }
}

/// Become a witness reporting on `report_fd`; never returns.
pub fn witness(report_fd: RawFd) -> ! {
    REPORT_FD.store(report_fd, Ordering::Relaxed);
    // SAFETY: installing a handler with a valid sigaction; write/pause.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_usr1 as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut());
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        let ready = 0i32.to_ne_bytes();
        libc::write(report_fd, ready.as_ptr().cast(), 4);
        // Orphaned witnesses go away with their parent.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        loop {
            libc::pause();
        }
    }
}

/// The parent's end of a witness's report pipe.
pub struct Reports {
    pub rd: OwnedFd,
}

impl Reports {
    /// The next record within `timeout`: `Some(sender pid)` (0 = ready).
    pub fn next(&self, timeout: Duration) -> Option<i32> {
        if !readable(self.rd.as_raw_fd(), timeout) {
            return None;
        }
        let mut b = [0u8; 4];
        // SAFETY: valid 4-byte buffer; pipe records of 4 bytes are atomic.
        let n = unsafe { libc::read(self.rd.as_raw_fd(), b.as_mut_ptr().cast(), 4) };
        (n == 4).then(|| i32::from_ne_bytes(b))
    }

    /// Wait for the witness's "ready" record.
    pub fn ready(&self, timeout: Duration) -> Result<(), String> {
        match self.next(timeout) {
            Some(0) => Ok(()),
            Some(p) => Err(format!("witness: unexpected report {p} before ready")),
            None => Err(format!("witness not ready after {timeout:?}")),
        }
    }

    /// Discard any pending records.
    pub fn drain(&self) {
        while self.next(Duration::ZERO).is_some() {}
    }
}

// --------------------------------------------------------------- guards --

/// Writes a file now and restores its old content when dropped.
pub struct Restore {
    path: &'static str,
    old: String,
}

impl Restore {
    pub fn set(path: &'static str, value: &str) -> Result<Restore, String> {
        let old = util::read_file(path)?.trim().to_string();
        std::fs::write(path, value).map_err(|e| format!("write {value:?} to {path}: {e}"))?;
        Ok(Restore { path, old })
    }

    pub fn old(&self) -> &str {
        &self.old
    }

    /// Change the value again (the original is still restored at drop).
    pub fn change(&self, value: &str) -> Result<(), String> {
        std::fs::write(self.path, value)
            .map_err(|e| format!("write {value:?} to {}: {e}", self.path))
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = std::fs::write(self.path, &self.old);
    }
}

/// `ESRCH`, or `ok`.
pub fn res<T>(r: &Result<T, i32>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => errno_name(*e),
    }
}
