// SPDX-License-Identifier: GPL-2.0

//! Helpers for VM tests: processes, credentials, the module, files, errno.

use crate::harness::TestResult;
use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// Name of the module under test.
pub const MODULE_NAME: &str = "prockill";
/// Where the guest image installs the module (override: env `PROCKILL_KO`).
pub const MODULE_PATH: &str = "/lib/modules/prockill.ko";
/// The unprivileged user of the guest image (`user` in /etc/passwd).
pub const USER_UID: u32 = 1000;
/// Its group.
pub const USER_GID: u32 = 1000;
/// The set-uid-root helper installed in the guest image.
pub const SETUID_HELPER: &str = "/usr/bin/pk-setuid-helper";

// ---------------------------------------------------------------- errno --

/// The calling thread's errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Symbolic name of an errno value (`EIO`), or `E<n>` if unknown.
pub fn errno_name(e: i32) -> String {
    let n = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::ECHILD => "ECHILD",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EPIPE => "EPIPE",
        libc::ERANGE => "ERANGE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ELOOP => "ELOOP",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ESTALE => "ESTALE",
        libc::EKEYREVOKED => "EKEYREVOKED",
        _ => return format!("E{e}"),
    };
    n.to_string()
}

/// Symbolic name of a signal number (`SIGTERM`), or `SIG<n>`.
pub fn signal_name(sig: i32) -> String {
    let n = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        _ => return format!("SIG{sig}"),
    };
    n.to_string()
}

/// `Err("<what>: <ERRNO>")` from the current errno.
pub fn os_err<T>(what: &str) -> Result<T, String> {
    Err(format!("{what}: {}", errno_name(errno())))
}

fn io_err(what: &str, e: std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => format!("{what}: {}", errno_name(n)),
        None => format!("{what}: {e}"),
    }
}

// ---------------------------------------------------------------- files --

/// Read a whole file as text.
pub fn read_file(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| io_err(&format!("read {path}"), e))
}

/// Write `data` to an existing file in one write(2); `Err(errno)` on failure.
pub fn write_once(path: &str, data: &[u8]) -> Result<usize, i32> {
    let c = CString::new(path).map_err(|_| libc::EINVAL)?;
    // SAFETY: plain syscalls on a valid C string and buffer.
    unsafe {
        let fd = libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(errno());
        }
        let r = libc::write(fd, data.as_ptr().cast(), data.len());
        let e = errno();
        libc::close(fd);
        if r < 0 {
            Err(e)
        } else {
            Ok(r as usize)
        }
    }
}

/// Run `sh -c CMD`; returns (exit status or 128+signal, stdout+stderr).
pub fn sh(cmd: &str) -> Result<(i32, String), String> {
    use std::os::unix::process::ExitStatusExt;
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map_err(|e| io_err("spawn /bin/sh", e))?;
    let code = out
        .status
        .code()
        .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok((code, text))
}

// ------------------------------------------------------------ processes --

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit status and the message the closure returned (empty on `Ok`).
    Exited(i32, String),
    /// Killed by this signal.
    Signaled(i32),
    /// Still running at the deadline; it (and its process group, if it
    /// leads one) was killed with SIGKILL and reaped.
    TimedOut,
}

/// A forked child running a closure; see [`fork_fn`].
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
    msg: Option<OwnedFd>,
    own_pgrp: bool,
}

impl Child {
    /// The child's pid.
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Send a signal to the child.
    pub fn kill(&self, sig: i32) -> Result<(), String> {
        // SAFETY: kill(2) has no memory-safety preconditions.
        if unsafe { libc::kill(self.pid, sig) } < 0 {
            return os_err("kill");
        }
        Ok(())
    }

    /// Wait for the child to end, at most `timeout`.
    pub fn wait_timeout(mut self, timeout: Duration) -> Result<Outcome, String> {
        let status = match wait_pid_timeout(self.pid, timeout)? {
            Some(st) => st,
            None => {
                self.kill_all();
                // SAFETY: reaping our own child.
                unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), 0) };
                self.pid = 0;
                return Ok(Outcome::TimedOut);
            }
        };
        self.pid_done();
        if libc::WIFSIGNALED(status) {
            return Ok(Outcome::Signaled(libc::WTERMSIG(status)));
        }
        let mut msg = String::new();
        if let Some(fd) = self.msg.take() {
            let mut f = std::fs::File::from(fd);
            let _ = f.read_to_string(&mut msg);
        }
        Ok(Outcome::Exited(libc::WEXITSTATUS(status), msg))
    }

    /// Wait at most `timeout`; `Ok` only if the closure returned `Ok`.
    pub fn join(self, timeout: Duration) -> TestResult {
        match self.wait_timeout(timeout)? {
            Outcome::Exited(0, _) => Ok(()),
            Outcome::Exited(_, m) if !m.is_empty() => Err(m),
            Outcome::Exited(c, _) => Err(format!("child exited with status {c}")),
            Outcome::Signaled(s) => Err(format!("child killed by {}", signal_name(s))),
            Outcome::TimedOut => Err(format!("child timed out after {}s", timeout.as_secs())),
        }
    }

    fn pid_done(&mut self) {
        if self.own_pgrp {
            // Leftover grandchildren of a finished test must not leak into the next.
            // SAFETY: kill(2) on our own process group.
            unsafe { libc::kill(-self.pid, libc::SIGKILL) };
        }
        self.pid = 0;
    }

    fn kill_all(&self) {
        let target = if self.own_pgrp { -self.pid } else { self.pid };
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(target, libc::SIGKILL) };
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.pid > 0 {
            self.kill_all();
            // SAFETY: reaping our own child.
            unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), 0) };
        }
    }
}

/// Poll `cond` every 5 ms until it holds (`Ok`) or `timeout` passes (`Err(what)`).
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) -> TestResult {
    let deadline = Instant::now() + timeout;
    while !cond() {
        if Instant::now() >= deadline {
            return Err(format!("timed out after {:?} waiting for {what}", timeout));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// waitpid with a deadline: `Some(status)` or `None` if still running.
pub fn wait_pid_timeout(pid: libc::pid_t, timeout: Duration) -> Result<Option<i32>, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut status = 0;
        // SAFETY: valid pointer to a local.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Ok(Some(status));
        }
        if r < 0 && errno() != libc::EINTR {
            return os_err("waitpid");
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn fork_inner<F: FnOnce() -> TestResult>(f: F, own_pgrp: bool) -> Result<Child, String> {
    let mut fds = [0; 2];
    // SAFETY: valid pointer to a 2-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return os_err("pipe2");
    }
    // SAFETY: the fds were just created and are owned here.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: the test runner is single-threaded; the child only runs the
    // closure and then _exit()s.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return os_err("fork");
    }
    if pid == 0 {
        drop(rd);
        if own_pgrp {
            // SAFETY: setpgid on ourselves.
            unsafe { libc::setpgid(0, 0) };
        }
        let res = panic::catch_unwind(AssertUnwindSafe(f));
        let (code, msg) = match res {
            Ok(Ok(())) => (0, String::new()),
            Ok(Err(m)) => (1, m),
            Err(p) => {
                let m = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                (1, format!("panicked: {m}"))
            }
        };
        let mut w = std::fs::File::from(wr);
        let _ = w.write_all(msg.as_bytes());
        let _ = std::io::stdout().flush();
        // SAFETY: leaving the forked child without running parent cleanup.
        unsafe { libc::_exit(code) };
    }
    drop(wr);
    // The message is read after the child exits; grandchildren may still
    // hold the write end, so never block on it.
    // SAFETY: fcntl on an fd we own.
    unsafe { libc::fcntl(rd.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
    Ok(Child {
        pid,
        msg: Some(rd),
        own_pgrp,
    })
}

/// Fork a child that runs `f` and exits 0 on `Ok`, 1 on `Err`/panic (the
/// message is passed back to [`Child::wait_timeout`] / [`Child::join`]).
/// Dropping the `Child` kills and reaps it.
pub fn fork_fn<F: FnOnce() -> TestResult>(f: F) -> Result<Child, String> {
    fork_inner(f, false)
}

/// As [`fork_fn`], the child leading a new process group (killed as a group).
pub fn fork_fn_pgrp<F: FnOnce() -> TestResult>(f: F) -> Result<Child, String> {
    fork_inner(f, true)
}

/// Drop to `uid`/`gid` (no supplementary groups) in the calling process.
pub fn drop_privileges(uid: u32, gid: u32) -> TestResult {
    // SAFETY: plain credential syscalls.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) < 0 {
            return os_err("setgroups");
        }
        if libc::setresgid(gid, gid, gid) < 0 {
            return os_err("setresgid");
        }
        if libc::setresuid(uid, uid, uid) < 0 {
            return os_err("setresuid");
        }
        if libc::geteuid() != uid || libc::getegid() != gid {
            return Err("credentials did not change".into());
        }
    }
    Ok(())
}

/// Run `f` as `uid`/`gid` in a forked child; wait at most 30 s.
pub fn run_as<F: FnOnce() -> TestResult>(uid: u32, gid: u32, f: F) -> TestResult {
    fork_fn(move || {
        drop_privileges(uid, gid)?;
        f()
    })?
    .join(Duration::from_secs(30))
}

/// Run `f` as the unprivileged guest user (uid/gid 1000) in a forked child.
pub fn as_user<F: FnOnce() -> TestResult>(f: F) -> TestResult {
    run_as(USER_UID, USER_GID, f)
}

// --------------------------------------------------------------- module --

/// Path of the module image (`PROCKILL_KO` or [`MODULE_PATH`]).
pub fn module_path() -> String {
    std::env::var("PROCKILL_KO").unwrap_or_else(|_| MODULE_PATH.to_string())
}

/// finit_module(2) of `path` with parameters `params` (`"a=1 b=2"`); `Err(errno)`.
pub fn insmod(path: &str, params: &str) -> Result<(), i32> {
    let f = std::fs::File::open(path).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    let p = CString::new(params).map_err(|_| libc::EINVAL)?;
    // SAFETY: valid fd and C string; flags 0.
    let r = unsafe { libc::syscall(libc::SYS_finit_module, f.as_raw_fd(), p.as_ptr(), 0) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// The parameter that keeps unused node dentries cached (each holds a
/// module reference until it is dropped).
pub const CACHE_PARAM: &str = "/sys/module/prockill/parameters/cache";

/// `rmmod` as a user does it: [`delete_module`], and for prockill, if
/// cached node dentries keep it in use, `cache` set to N (which drops them,
/// docs/kill-node.md) and [`delete_module`] again; if that fails too the
/// module stays loaded with `cache` back at Y. `Err(errno)` of
/// delete_module(2) (or of the parameter write).
pub fn rmmod(name: &str) -> Result<(), i32> {
    let r = delete_module(name);
    let drain =
        r == Err(libc::EAGAIN) && name == MODULE_NAME && std::path::Path::new(CACHE_PARAM).exists();
    if !drain {
        return r;
    }
    write_once(CACHE_PARAM, b"N")?;
    let r = delete_module(name);
    if r.is_err() {
        let _ = write_once(CACHE_PARAM, b"Y");
    }
    r
}

/// delete_module(2) of `name` with O_NONBLOCK, nothing else; `Err(errno)`.
pub fn delete_module(name: &str) -> Result<(), i32> {
    let n = CString::new(name).map_err(|_| libc::EINVAL)?;
    // SAFETY: valid C string.
    let r = unsafe { libc::syscall(libc::SYS_delete_module, n.as_ptr(), libc::O_NONBLOCK) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// One line of /proc/modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    pub name: String,
    pub size: u64,
    pub refcount: i64,
    /// `Live`, `Loading` or `Unloading`.
    pub state: String,
}

/// Parse /proc/modules.
pub fn proc_modules() -> Result<Vec<ModuleInfo>, String> {
    let text = read_file("/proc/modules")?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 5).then(|| ModuleInfo {
                name: f[0].to_string(),
                size: f[1].parse().unwrap_or(0),
                refcount: f[2].parse().unwrap_or(-1),
                state: f[4].to_string(),
            })
        })
        .collect())
}

/// The /proc/modules entry of `name`, if loaded.
pub fn module_info(name: &str) -> Result<Option<ModuleInfo>, String> {
    Ok(proc_modules()?.into_iter().find(|m| m.name == name))
}

/// The prockill module, loaded for the lifetime of this guard.
#[derive(Debug)]
pub struct Loaded {
    _priv: (),
}

impl Loaded {
    /// Unload now, reporting failure (dropping the guard ignores errors).
    pub fn unload(self) -> TestResult {
        let r = rmmod(MODULE_NAME);
        std::mem::forget(self);
        r.map_err(|e| format!("rmmod {MODULE_NAME}: {}", errno_name(e)))
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        let _ = rmmod(MODULE_NAME);
    }
}

/// Load the prockill module with `params`; it is unloaded when the guard drops.
/// Fails if it is already loaded (a previous test leaked it).
pub fn load_module(params: &str) -> Result<Loaded, String> {
    if module_info(MODULE_NAME)?.is_some() {
        return Err(format!("{MODULE_NAME} is already loaded"));
    }
    insmod(&module_path(), params)
        .map_err(|e| format!("insmod {} {params:?}: {}", module_path(), errno_name(e)))?;
    Ok(Loaded { _priv: () })
}

/// One getdents64 call on the open directory `fd` into `buf`: how many bytes
/// it wrote (0 at the end), or its errno.
pub fn getdents_raw(fd: libc::c_int, buf: &mut [u8]) -> Result<usize, i32> {
    // SAFETY: getdents64 writes at most buf.len() bytes into buf.
    let n = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) };
    if n < 0 {
        Err(errno())
    } else {
        Ok(n as usize)
    }
}

/// The entries of the open directory `fd` from its current position to its
/// end, read with getdents64 into a buffer of `buf` bytes: (name, inode
/// number, offset of the next entry) each.
pub fn getdents_fd(fd: libc::c_int, buf: usize) -> Result<Vec<(String, u64, i64)>, String> {
    let mut b = vec![0u8; buf];
    let mut out = Vec::new();
    loop {
        let n = getdents_raw(fd, &mut b)
            .map_err(|e| format!("getdents64 ({buf} B): {}", errno_name(e)))?;
        if n == 0 {
            return Ok(out);
        }
        out.extend(dirents(&b[..n]));
    }
}

/// The entries getdents64 wrote into `b` (its return value long): (name,
/// inode number, offset of the next entry) each.
pub fn dirents(b: &[u8]) -> Vec<(String, u64, i64)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < b.len() {
        // struct linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name.
        let ino = u64::from_ne_bytes(b[off..off + 8].try_into().unwrap());
        let next = i64::from_ne_bytes(b[off + 8..off + 16].try_into().unwrap());
        let reclen = u16::from_ne_bytes([b[off + 16], b[off + 17]]) as usize;
        let name = &b[off + 19..off + reclen];
        let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
        out.push((String::from_utf8_lossy(name).into_owned(), ino, next));
        off += reclen;
    }
    out
}
