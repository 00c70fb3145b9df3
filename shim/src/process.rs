//! [`Process`]: a handle on one process, its backends and guarantees, and
//! [`kill_if`].

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::signal::Signal;
use crate::sys;
use crate::unstable::{ioctl, uapi};

/// How a [`Process`] delivers signals.
///
/// ```
/// use prockill::Backend;
/// assert_eq!("pidfd".parse::<Backend>().unwrap(), Backend::Pidfd);
/// assert_eq!(Backend::Node.to_string(), "node");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Choose the best one available: [`Node`](Backend::Node), else
    /// [`Pidfd`](Backend::Pidfd), else [`Kill`](Backend::Kill). Only ever a
    /// request: an open handle reports the backend it chose.
    Auto,
    /// The kill node `/proc/<pid>/kill` of the prockill kernel module,
    /// opened relative to the handle's `/proc/<pid>` directory: bound to the
    /// process at open, never signals a process that reuses the PID, and
    /// with the exec policy, never the program of a later exec.
    Node,
    /// `pidfd_send_signal(2)` (Linux >= 5.1) on the handle's `/proc/<pid>`
    /// directory fd (or on the pidfd it was opened from): never signals a
    /// process that reuses the PID, but does signal whatever program the
    /// process executes next.
    Pidfd,
    /// `kill(2)` on the PID number, the last resort: the PID may have been
    /// reused between any check and the signal. The handle first checks,
    /// through its directory fd, that the process still lives, which makes
    /// the window small but not empty.
    Kill,
}

impl Backend {
    /// The backends a handle can use, best first.
    pub const ALL: [Backend; 3] = [Backend::Node, Backend::Pidfd, Backend::Kill];

    /// The lower-case name: `auto`, `node`, `pidfd`, `kill`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Node => "node",
            Backend::Pidfd => "pidfd",
            Backend::Kill => "kill",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = io::Error;

    fn from_str(s: &str) -> io::Result<Backend> {
        match s {
            "auto" => Ok(Backend::Auto),
            "node" => Ok(Backend::Node),
            "pidfd" => Ok(Backend::Pidfd),
            "kill" => Ok(Backend::Kill),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown backend {s:?} (auto, node, pidfd or kill)"),
            )),
        }
    }
}

/// What a handle can promise about the process it signals.
///
/// ```
/// use prockill::Guarantee;
/// assert!(Guarantee::PidReuseAndExec > Guarantee::PidReuseOnly);
/// assert!(Guarantee::PidReuseOnly > Guarantee::None);
/// assert_eq!(Guarantee::PidReuseOnly.to_string(), "pid-reuse");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Guarantee {
    /// No guarantee: `kill(2)` on a number that may name another process by
    /// the time the signal is sent.
    None,
    /// The signal reaches the process the handle was opened on or nobody,
    /// never a process that reuses its PID; but if the process executes
    /// another program after a check, that program is signalled.
    PidReuseOnly,
    /// Safe against PID reuse and exec: the kill node with the per-handle
    /// exec policy; an exec after the handle's policy was set revokes it, so
    /// what the caller checked is what gets signalled, or nothing is.
    PidReuseAndExec,
}

impl Guarantee {
    /// A short name: `pid-reuse+exec`, `pid-reuse`, `none`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Guarantee::PidReuseAndExec => "pid-reuse+exec",
            Guarantee::PidReuseOnly => "pid-reuse",
            Guarantee::None => "none",
        }
    }

    /// One sentence saying what the guarantee means.
    pub const fn description(self) -> &'static str {
        match self {
            Guarantee::PidReuseAndExec => {
                "safe against PID reuse and exec: the checked program or nobody is signalled"
            }
            Guarantee::PidReuseOnly => {
                "safe against PID reuse, not against exec: a program executed after the check would be signalled"
            }
            Guarantee::None => "no guarantee: the PID may be reused between the check and the signal",
        }
    }
}

impl fmt::Display for Guarantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exec policy of the kill node (module parameter `revoke`, or set per
/// handle with [`Process::set_exec_policy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Policy {
    /// Never revoke (pidfd-like). `PROCKILL_POLICY_NEVER`.
    Never,
    /// Revoke on a credential-changing exec (set-uid, set-gid, file
    /// capabilities), NetBSD's rule. `PROCKILL_POLICY_SETID`.
    Setid,
    /// Revoke on every exec. `PROCKILL_POLICY_EXEC`.
    Exec,
    /// A value this crate does not know.
    Other(u32),
}

impl Policy {
    /// From the UAPI value.
    pub const fn from_raw(raw: u32) -> Policy {
        match raw {
            uapi::PROCKILL_POLICY_NEVER => Policy::Never,
            uapi::PROCKILL_POLICY_SETID => Policy::Setid,
            uapi::PROCKILL_POLICY_EXEC => Policy::Exec,
            other => Policy::Other(other),
        }
    }

    /// The UAPI value.
    pub const fn to_raw(self) -> u32 {
        match self {
            Policy::Never => uapi::PROCKILL_POLICY_NEVER,
            Policy::Setid => uapi::PROCKILL_POLICY_SETID,
            Policy::Exec => uapi::PROCKILL_POLICY_EXEC,
            Policy::Other(raw) => raw,
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Never => f.write_str("never"),
            Policy::Setid => f.write_str("setid"),
            Policy::Exec => f.write_str("exec"),
            Policy::Other(raw) => write!(f, "unknown({raw})"),
        }
    }
}

/// The state of a kill-node handle, from [`NodeInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NodeState {
    /// The target lives; writes signal it.
    Alive,
    /// The target exited; writes fail with `ESRCH`.
    Exited,
    /// An exec revoked the handle; writes fail with `EIO`.
    Revoked,
    /// A value this crate does not know.
    Other(u32),
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeState::Alive => f.write_str("alive"),
            NodeState::Exited => f.write_str("exited"),
            NodeState::Revoked => f.write_str("revoked"),
            NodeState::Other(raw) => write!(f, "unknown({raw})"),
        }
    }
}

/// Why a kill-node handle was revoked, from [`NodeInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevokeReason {
    /// Not revoked.
    None,
    /// A credential-changing exec (`setid-exec`).
    SetidExec,
    /// An exec under the `exec` policy.
    Exec,
    /// A value this crate does not know.
    Other(u32),
}

impl fmt::Display for RevokeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevokeReason::None => f.write_str("none"),
            RevokeReason::SetidExec => f.write_str("setid-exec"),
            RevokeReason::Exec => f.write_str("exec"),
            RevokeReason::Other(raw) => write!(f, "unknown({raw})"),
        }
    }
}

/// What the kill node says about itself (`PROCKILL_IOC_INFO`), typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeInfo {
    /// Target PID (TID for a thread node) in the caller's PID namespace;
    /// 0 if not visible there or gone.
    pub pid: i32,
    /// Whether the node is a thread node (`task/<tid>/kill`).
    pub thread: bool,
    /// The handle's state.
    pub state: NodeState,
    /// The effective exec policy now: the stricter of the module's and the
    /// handle's.
    pub policy: Policy,
    /// The policy set on this handle (`Never` if none was set).
    pub handle_policy: Policy,
    /// Why the handle was revoked, if it was.
    pub revoke_reason: RevokeReason,
    /// Real uid of the opener, in the caller's user namespace.
    pub opener_uid: u32,
    /// Inode number of the target's `struct pid` in pidfs (equals `st_ino`
    /// of a pidfd on the same process).
    pub pidfs_ino: u64,
    /// Target's start time in nanoseconds since boot.
    pub start_time_ns: u64,
    /// The target's exec generation when the handle was opened.
    pub exec_gen: u64,
}

impl NodeInfo {
    /// From the raw UAPI struct.
    pub(crate) fn from_raw(raw: &uapi::prockill_info) -> NodeInfo {
        NodeInfo {
            pid: raw.pid,
            thread: raw.kind == uapi::PROCKILL_KIND_THREAD,
            state: match raw.state {
                uapi::PROCKILL_STATE_ALIVE => NodeState::Alive,
                uapi::PROCKILL_STATE_EXITED => NodeState::Exited,
                uapi::PROCKILL_STATE_REVOKED => NodeState::Revoked,
                other => NodeState::Other(other),
            },
            policy: Policy::from_raw(raw.policy),
            handle_policy: Policy::from_raw(raw.handle_policy),
            revoke_reason: match raw.revoke_reason {
                uapi::PROCKILL_REVOKE_NONE => RevokeReason::None,
                uapi::PROCKILL_REVOKE_SETID_EXEC => RevokeReason::SetidExec,
                uapi::PROCKILL_REVOKE_EXEC => RevokeReason::Exec,
                other => RevokeReason::Other(other),
            },
            opener_uid: raw.opener_uid,
            pidfs_ino: raw.pidfs_ino,
            start_time_ns: raw.start_time,
            exec_gen: raw.exec_gen,
        }
    }
}

/// How a process exited, from [`Process::wait_exit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exit {
    status: Option<ExitStatus>,
}

impl Exit {
    /// Its wait status, when the kernel could tell (see
    /// [`Process::wait_exit`]).
    pub fn status(&self) -> Option<ExitStatus> {
        self.status
    }
}

/// The signal masks of `/proc/<pid>/status`, bit `n - 1` for signal `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SignalMasks {
    /// `SigPnd`: pending for the thread.
    pub pending_thread: u64,
    /// `ShdPnd`: pending for the process.
    pub pending_process: u64,
    /// `SigBlk`: blocked.
    pub blocked: u64,
    /// `SigIgn`: ignored.
    pub ignored: u64,
    /// `SigCgt`: caught (a handler is installed).
    pub caught: u64,
}

impl SignalMasks {
    /// Whether a handler for `signal` is installed (`SigCgt`); `false` for
    /// the probe.
    pub fn catches(&self, signal: Signal) -> bool {
        let n = signal.number();
        n > 0 && self.caught & (1u64 << (n - 1)) != 0
    }
}

/// Real, effective, saved and filesystem ids (a `Uid:` or `Gid:` line of
/// `/proc/<pid>/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct Ids {
    /// Real id.
    pub real: u32,
    /// Effective id.
    pub effective: u32,
    /// Saved set-id.
    pub saved: u32,
    /// Filesystem id.
    pub fs: u32,
}

/// The parts of `/proc/<pid>/status` a check needs, read through the
/// handle's directory fd.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// `Name:` (the command name, at most 15 bytes, as the kernel escapes it).
    pub name: String,
    /// The state letter of `State:` (`R`, `S`, `D`, `Z`, ...).
    pub state: char,
    /// `Tgid:`.
    pub tgid: i32,
    /// `Pid:`.
    pub pid: i32,
    /// `PPid:`.
    pub ppid: i32,
    /// `Uid:`.
    pub uid: Ids,
    /// `Gid:`.
    pub gid: Ids,
}

impl Status {
    /// Parses the text of a `status` file.
    ///
    /// ```
    /// let text = "Name:\tsleep\nState:\tS (sleeping)\nTgid:\t7\nPid:\t7\nPPid:\t1\n\
    ///             Uid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n";
    /// let status = prockill::Status::parse(text).unwrap();
    /// assert_eq!(status.name, "sleep");
    /// assert_eq!(status.uid.effective, 1000);
    /// assert_eq!(status.gid.real, 100);
    /// ```
    pub fn parse(text: &str) -> Option<Status> {
        let mut name = None;
        let mut state = None;
        let (mut tgid, mut pid, mut ppid, mut uid, mut gid) = (None, None, None, None, None);
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim_start_matches([' ', '\t']);
            match key {
                "Name" => name = Some(value.to_owned()),
                "State" => state = value.chars().next(),
                "Tgid" => tgid = value.trim().parse().ok(),
                "Pid" => pid = value.trim().parse().ok(),
                "PPid" => ppid = value.trim().parse().ok(),
                "Uid" => uid = parse_ids(value),
                "Gid" => gid = parse_ids(value),
                _ => {}
            }
        }
        Some(Status {
            name: name?,
            state: state?,
            tgid: tgid?,
            pid: pid?,
            ppid: ppid?,
            uid: uid?,
            gid: gid?,
        })
    }
}

fn parse_ids(value: &str) -> Option<Ids> {
    let mut it = value.split_whitespace().map(|w| w.parse::<u32>());
    Some(Ids {
        real: it.next()?.ok()?,
        effective: it.next()?.ok()?,
        saved: it.next()?.ok()?,
        fs: it.next()?.ok()?,
    })
}

/// Options for opening a [`Process`]: which backend, and whether the kill
/// node gets the per-handle exec policy.
///
/// ```
/// use prockill::{Backend, ProcessOptions, Signal};
///
/// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
/// let process = ProcessOptions::new()
///     .backend(Backend::Pidfd)
///     .open(child.id() as i32)
///     .unwrap();
/// assert_eq!(process.backend(), Backend::Pidfd);
/// process.send_signal(Signal::KILL).unwrap();
/// # child.wait().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessOptions {
    backend: Backend,
    revoke_on_exec: bool,
}

impl Default for ProcessOptions {
    fn default() -> ProcessOptions {
        ProcessOptions::new()
    }
}

const DIR_FLAGS: libc::c_int = libc::O_RDONLY | libc::O_DIRECTORY;

impl ProcessOptions {
    /// [`Backend::Auto`], no per-handle exec policy.
    pub const fn new() -> ProcessOptions {
        ProcessOptions {
            backend: Backend::Auto,
            revoke_on_exec: false,
        }
    }

    /// Asks for a backend. With an explicit one, opening fails with
    /// [`ErrorKind::BackendUnavailable`] if it does not work here.
    pub const fn backend(mut self, backend: Backend) -> ProcessOptions {
        self.backend = backend;
        self
    }

    /// Sets the kill node's per-handle exec policy to
    /// [`Policy::Exec`] right after opening it, so that any later exec of
    /// the process revokes the handle ([`Guarantee::PidReuseAndExec`]).
    /// Without the node this has no effect, and [`Process::guarantee`] says
    /// so. [`kill_if`] always does this.
    pub const fn revoke_on_exec(mut self, yes: bool) -> ProcessOptions {
        self.revoke_on_exec = yes;
        self
    }

    /// Opens process `pid`: its `/proc/<pid>` directory, then (for
    /// [`Backend::Auto`] and [`Backend::Node`]) the kill node relative to it.
    ///
    /// Fails with [`ErrorKind::Exited`] if there is no such process.
    pub fn open(&self, pid: i32) -> Result<Process, Error> {
        if pid <= 0 {
            return Err(Error::with_source(
                pid,
                ErrorKind::Io,
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a process ID (process groups are not supported)",
                ),
            ));
        }
        let dir = match sys::open(&sys::proc_path(pid), DIR_FLAGS) {
            Ok(dir) => dir,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                return Err(Error::with_source(pid, ErrorKind::Exited, e))
            }
            Err(e) => return Err(Error::io(pid, e)),
        };
        self.finish(pid, dir, None)
    }

    /// Opens the process an existing pidfd refers to (from
    /// `pidfd_open(2)` or `clone(CLONE_PIDFD)`), keeping the pidfd for the
    /// [`Backend::Pidfd`] backend. The `/proc/<pid>` directory is opened by
    /// the PID the pidfd reports and then validated: the pidfd's process
    /// must still live after the directory is open, so both name the same
    /// process.
    pub fn open_pidfd(&self, pidfd: OwnedFd) -> Result<Process, Error> {
        // PIDFD_GET_INFO (Linux 6.13) where the kernel has it; before that,
        // the `Pid:` line of the fd's fdinfo, the only other interface.
        let pid = match sys::pidfd_pid(pidfd.as_fd()) {
            Ok(pid) => pid,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => -1,
            Err(_) => {
                let fdinfo = format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd());
                let text = std::fs::read_to_string(&fdinfo).map_err(|e| Error::io(0, e))?;
                text.lines()
                    .find_map(|l| l.strip_prefix("Pid:"))
                    .and_then(|v| v.trim().parse::<i32>().ok())
                    .ok_or_else(|| {
                        Error::io(
                            0,
                            io::Error::new(io::ErrorKind::InvalidInput, "not a pidfd"),
                        )
                    })?
            }
        };
        match pid {
            -1 => return Err(Error::new(-1, ErrorKind::Exited)),
            0 => {
                return Err(Error::io(
                    0,
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        "the pidfd's process is not in this PID namespace",
                    ),
                ))
            }
            _ => {}
        }
        let dir = match sys::open(&sys::proc_path(pid), DIR_FLAGS) {
            Ok(dir) => dir,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                return Err(Error::with_source(pid, ErrorKind::Exited, e))
            }
            Err(e) => return Err(Error::io(pid, e)),
        };
        // The directory (and the node, in finish) must belong to the pidfd's
        // process: if it still lives now, the PID was its all along.
        match sys::pidfd_send_signal(pidfd.as_fd(), 0) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {}
            Err(e) => return Err(Error::from_send_errno(pid, Backend::Pidfd, e)),
        }
        self.finish(pid, dir, Some(pidfd))
    }

    /// Opens the process of an open `/proc/<pid>` directory fd (for example
    /// one received from another process). Its PID is read through the fd.
    pub fn open_proc_dir(&self, dir: OwnedFd) -> Result<Process, Error> {
        let status = read_status(dir.as_fd()).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT | libc::ESRCH) => Error::with_source(0, ErrorKind::Exited, e),
            _ => Error::io(0, e),
        })?;
        if status.tgid != status.pid {
            return Err(Error::io(
                status.pid,
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not the /proc directory of a process (a thread's?)",
                ),
            ));
        }
        self.finish(status.pid, dir, None)
    }

    fn finish(&self, pid: i32, dir: OwnedFd, pidfd: Option<OwnedFd>) -> Result<Process, Error> {
        let mut process = Process {
            pid,
            dir,
            pidfd,
            node: None,
            node_error: None,
            backend: Backend::Kill,
            exec_policy_set: AtomicBool::new(false),
        };
        if process.pidfd.is_none() {
            // A pidfd to wait on (and for queued signals). Opened by number
            // after the directory, so validated: if the directory's process
            // still lives now, the PID was its all along, and the pidfd is
            // of the same process. Kernels before 5.3 have none.
            if let Ok(fd) = sys::pidfd_open(pid) {
                process.check_alive()?;
                process.pidfd = Some(fd);
            }
        }
        if matches!(self.backend, Backend::Auto | Backend::Node) {
            match sys::openat(process.dir.as_fd(), c"kill", libc::O_WRONLY) {
                Ok(node) => process.node = Some(node),
                Err(e) => process.node_error = Some(e),
            }
        }
        process.backend = match self.backend {
            Backend::Node | Backend::Auto if process.node.is_some() => Backend::Node,
            Backend::Node => return Err(process.node_unavailable()),
            Backend::Pidfd => {
                process.pidfd_probe()?;
                Backend::Pidfd
            }
            Backend::Auto => match process.pidfd_probe() {
                Ok(()) => Backend::Pidfd,
                Err(e) if matches!(e.kind(), ErrorKind::BackendUnavailable(_)) => {
                    process.check_alive()?;
                    Backend::Kill
                }
                Err(e) => return Err(e),
            },
            Backend::Kill => {
                process.check_alive()?;
                Backend::Kill
            }
        };
        if self.revoke_on_exec && process.backend == Backend::Node {
            if let Err(e) = process.set_exec_policy(Policy::Exec) {
                // An explicit node request wants the full guarantee; Auto
                // keeps the node (still safe against PID reuse) and
                // guarantee() reports what holds.
                if self.backend == Backend::Node || *e.kind() == ErrorKind::Exited {
                    return Err(e);
                }
            }
        }
        Ok(process)
    }
}

/// A handle on one process: its `/proc/<pid>` directory fd (close-on-exec),
/// the kill node opened relative to it when the prockill module is loaded,
/// and the backend chosen to signal it.
///
/// Attributes ([`exe`](Process::exe), [`status`](Process::status),
/// [`start_time`](Process::start_time)) are read through the directory fd,
/// never through a path rebuilt from the PID, so they are the attributes of
/// the process the handle was opened on (or the read fails with
/// [`ErrorKind::Exited`]).
///
/// ```
/// use prockill::{Process, Signal};
/// use std::os::unix::process::ExitStatusExt;
///
/// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
/// let process = Process::open(child.id() as i32).unwrap();
/// assert!(process.exe().unwrap().ends_with("sleep"));
/// process.send_signal(Signal::TERM).unwrap();
/// assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGTERM));
/// ```
#[derive(Debug)]
pub struct Process {
    pid: i32,
    dir: OwnedFd,
    pidfd: Option<OwnedFd>,
    node: Option<OwnedFd>,
    node_error: Option<io::Error>,
    backend: Backend,
    exec_policy_set: AtomicBool,
}

impl AsFd for Process {
    /// The pidfd (see [`Process::pidfd`]), or on kernels without
    /// `pidfd_open(2)` the `/proc/<pid>` directory fd, which
    /// `pidfd_send_signal(2)` also accepts.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pidfd_or_dir()
    }
}

impl Process {
    /// Opens process `pid` with [`Backend::Auto`]; see
    /// [`ProcessOptions::open`].
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// assert_eq!(me.status().unwrap().pid, std::process::id() as i32);
    /// ```
    pub fn open(pid: i32) -> Result<Process, Error> {
        ProcessOptions::new().open(pid)
    }

    /// Opens process `pid` with the given backend.
    ///
    /// ```
    /// use prockill::{Backend, Process};
    /// let me = Process::open_with(std::process::id() as i32, Backend::Kill).unwrap();
    /// assert_eq!(me.backend(), Backend::Kill);
    /// assert_eq!(me.guarantee(), prockill::Guarantee::None);
    /// ```
    pub fn open_with(pid: i32, backend: Backend) -> Result<Process, Error> {
        ProcessOptions::new().backend(backend).open(pid)
    }

    /// Opens the process of a pidfd; see [`ProcessOptions::open_pidfd`].
    ///
    /// ```
    /// use std::os::fd::{FromRawFd, OwnedFd};
    /// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    /// let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id(), 0) };
    /// assert!(fd >= 0);
    /// let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    /// let process = prockill::Process::from_pidfd(pidfd).unwrap();
    /// assert_eq!(process.pid(), child.id() as i32);
    /// assert!(process.pidfd().is_some());
    /// process.send_signal(prockill::Signal::KILL).unwrap();
    /// # child.wait().unwrap();
    /// ```
    pub fn from_pidfd(pidfd: OwnedFd) -> Result<Process, Error> {
        ProcessOptions::new().open_pidfd(pidfd)
    }

    /// Opens the process of a `/proc/<pid>` directory fd; see
    /// [`ProcessOptions::open_proc_dir`].
    ///
    /// ```
    /// let dir: std::os::fd::OwnedFd = std::fs::File::open("/proc/self").unwrap().into();
    /// let me = prockill::Process::from_proc_dir(dir).unwrap();
    /// assert_eq!(me.pid(), std::process::id() as i32);
    /// ```
    pub fn from_proc_dir(dir: OwnedFd) -> Result<Process, Error> {
        ProcessOptions::new().open_proc_dir(dir)
    }

    /// The PID the handle was opened on (in this process's PID namespace).
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// assert_eq!(me.pid(), std::process::id() as i32);
    /// ```
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The backend this handle signals with (never [`Backend::Auto`]).
    ///
    /// ```
    /// use prockill::{Backend, Process};
    /// let me = Process::open(std::process::id() as i32).unwrap();
    /// assert_ne!(me.backend(), Backend::Auto);
    /// ```
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The guarantee that holds for a signal sent through this handle now:
    /// [`Guarantee::PidReuseAndExec`] for the node with the per-handle exec
    /// policy, [`Guarantee::PidReuseOnly`] for the node without it and for
    /// pidfd, [`Guarantee::None`] for `kill(2)`.
    ///
    /// ```
    /// use prockill::{Backend, Guarantee, Process};
    /// let me = Process::open_with(std::process::id() as i32, Backend::Pidfd).unwrap();
    /// assert_eq!(me.guarantee(), Guarantee::PidReuseOnly);
    /// ```
    pub fn guarantee(&self) -> Guarantee {
        match self.backend {
            Backend::Node => {
                let exec = self.exec_policy_set.load(Ordering::Relaxed)
                    || matches!(self.node_info(), Ok(info) if info.handle_policy == Policy::Exec);
                if exec {
                    Guarantee::PidReuseAndExec
                } else {
                    Guarantee::PidReuseOnly
                }
            }
            Backend::Pidfd => Guarantee::PidReuseOnly,
            Backend::Kill | Backend::Auto => Guarantee::None,
        }
    }

    /// The handle's `/proc/<pid>` directory fd, for reading more of
    /// `/proc/<pid>` with `openat` (never rebuild the path from the PID).
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// let fd = unsafe { libc::openat(me.dir_fd().as_raw_fd(), c"cmdline".as_ptr(), libc::O_RDONLY) };
    /// assert!(fd >= 0);
    /// unsafe { libc::close(fd) };
    /// ```
    pub fn dir_fd(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }

    /// The open kill node, if the module is loaded and the open succeeded
    /// (it can be polled: readable when the target exits, `POLLHUP` and
    /// `POLLERR` when revoked).
    ///
    /// ```
    /// use prockill::{Backend, Process};
    /// let me = Process::open(std::process::id() as i32).unwrap();
    /// assert_eq!(me.node_fd().is_some(), me.backend() == Backend::Node);
    /// ```
    pub fn node_fd(&self) -> Option<BorrowedFd<'_>> {
        self.node.as_ref().map(|fd| fd.as_fd())
    }

    /// The handle's pidfd: the one it was opened from, else one opened
    /// with `pidfd_open(2)` at open (and validated against the directory).
    /// `None` only on kernels before 5.3. Poll it for the exit, or use
    /// [`Process::wait_exit`].
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// assert!(me.pidfd().is_some());
    /// ```
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    /// The pidfs inode number of the process (`st_ino` of its pidfd, on
    /// Linux 6.9 and later): with the PID, a name that is never reused
    /// (util-linux `kill PID:inode`, `getino(1)`).
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// let again = prockill::Process::open(std::process::id() as i32).unwrap();
    /// assert_eq!(me.pidfs_inode().unwrap(), again.pidfs_inode().unwrap());
    /// ```
    pub fn pidfs_inode(&self) -> Result<u64, Error> {
        let fd = self
            .pidfd
            .as_ref()
            .ok_or_else(|| Error::new(self.pid, ErrorKind::BackendUnavailable(Backend::Pidfd)))?;
        sys::fstat_ino(fd.as_fd())
            .map(|(ino, _)| ino)
            .map_err(|e| Error::io(self.pid, e))
    }

    /// The owner of the `/proc/<pid>` directory: the process's effective
    /// uid, unless it is not dumpable (then root). util-linux `kill NAME`
    /// matches processes on it.
    pub fn proc_owner(&self) -> Result<u32, Error> {
        sys::fstat_ino(self.dir.as_fd())
            .map(|(_, uid)| uid)
            .map_err(|e| self.attr_error(e))
    }

    /// The command name (`comm`, at most 15 bytes), raw, as `stat` holds it
    /// between its parentheses; read through the directory fd.
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// let comm = std::fs::read("/proc/self/comm").unwrap();
    /// assert_eq!(me.comm().unwrap(), comm[..comm.len() - 1]);
    /// ```
    pub fn comm(&self) -> Result<Vec<u8>, Error> {
        let bytes = sys::read_at(self.dir.as_fd(), c"stat").map_err(|e| self.attr_error(e))?;
        let open = bytes.iter().position(|&b| b == b'(');
        let close = bytes.iter().rposition(|&b| b == b')');
        match (open, close) {
            (Some(o), Some(c)) if o < c => Ok(bytes[o + 1..c].to_vec()),
            _ => Err(Error::io(
                self.pid,
                io::Error::new(io::ErrorKind::InvalidData, "unparsable /proc/<pid>/stat"),
            )),
        }
    }

    /// The signal masks of `status` (`SigPnd`, `ShdPnd`, `SigBlk`,
    /// `SigIgn`, `SigCgt`), read through the directory fd.
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// let masks = me.signal_masks().unwrap();
    /// assert_eq!(masks.caught & masks.ignored, 0);
    /// ```
    pub fn signal_masks(&self) -> Result<SignalMasks, Error> {
        let bytes = sys::read_at(self.dir.as_fd(), c"status").map_err(|e| self.attr_error(e))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut masks = SignalMasks::default();
        let mut seen = 0;
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let field = match key {
                "SigPnd" => &mut masks.pending_thread,
                "ShdPnd" => &mut masks.pending_process,
                "SigBlk" => &mut masks.blocked,
                "SigIgn" => &mut masks.ignored,
                "SigCgt" => &mut masks.caught,
                _ => continue,
            };
            if let Ok(v) = u64::from_str_radix(value.trim(), 16) {
                *field = v;
                seen += 1;
            }
        }
        if seen < 5 {
            return Err(Error::io(
                self.pid,
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "no signal masks in /proc/<pid>/status",
                ),
            ));
        }
        Ok(masks)
    }

    /// Sends `signal` with `value` in the target's `si_value` (`si_code`
    /// `SI_QUEUE`), as `sigqueue(3)` and util-linux `kill -q VALUE` do.
    /// Returns the guarantee that held.
    ///
    /// - [`Backend::Pidfd`]: `pidfd_send_signal(2)` with the siginfo.
    /// - [`Backend::Node`]: the node's `PROCKILL_IOC_SEND_VALUE` ioctl, with
    ///   the node's guarantee ([`Process::guarantee`]). On a module without
    ///   that ioctl (`ENOTTY`), the signal goes through the handle's pidfd
    ///   (or `/proc` directory fd), right after a probe through the node
    ///   (which fails if the handle was revoked), and the guarantee is
    ///   [`Guarantee::PidReuseOnly`]: an exec between the probe and the
    ///   send is not caught.
    /// - [`Backend::Kill`]: `rt_sigqueueinfo(2)` on the number, after the
    ///   liveness check ([`Guarantee::None`]).
    ///
    /// ```
    /// use prockill::{Guarantee, Process, Signal};
    /// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    /// let p = Process::open(child.id() as i32).unwrap();
    /// assert!(p.send_queued(Signal::TERM, 42).unwrap() >= Guarantee::None);
    /// # child.wait().unwrap();
    /// ```
    pub fn send_queued(&self, signal: Signal, value: i32) -> Result<Guarantee, Error> {
        let sig = signal.as_raw();
        let info = sys::queue_info(sig, value);
        match self.backend {
            Backend::Node | Backend::Pidfd => {
                if self.backend == Backend::Node {
                    match self.node_send_value(sig, value) {
                        Ok(()) => return Ok(self.guarantee()),
                        Err(e) if e.raw_os_error() == Some(libc::ENOTTY) => {}
                        Err(e) => return Err(e),
                    }
                    self.node_send_ioctl(Signal::PROBE)?;
                }
                sys::pidfd_send_signal_info(self.pidfd_or_dir(), sig, Some(&info), 0)
                    .map_err(|e| Error::from_send_errno(self.pid, Backend::Pidfd, e))?;
                Ok(Guarantee::PidReuseOnly)
            }
            Backend::Kill | Backend::Auto => {
                self.check_alive()?;
                sys::rt_sigqueueinfo(self.pid, sig, &info)
                    .map_err(|e| Error::from_send_errno(self.pid, Backend::Kill, e))?;
                Ok(Guarantee::None)
            }
        }
    }

    /// Waits until the process exits, at most `timeout` (`None`: no limit).
    /// `Ok(None)` when the time ran out; `Ok(Some(exit))` once it has
    /// exited, with its wait status where the kernel can give it:
    /// `waitid(P_PIDFD, WNOWAIT)` for a child of the caller (left for its
    /// owner to reap), `PIDFD_GET_INFO`/`PIDFD_INFO_EXIT` (Linux 6.15) for
    /// another process once its parent has reaped it.
    ///
    /// Race-free: the wait is on the handle's pidfd (`poll(2)`), so a
    /// process reusing the PID is never waited for. Without a pidfd
    /// (before Linux 5.3) it polls the `/proc` directory every 10 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// use prockill::{Process, Signal};
    /// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    /// let p = Process::open(child.id() as i32).unwrap();
    /// assert!(p.wait_exit(Some(Duration::from_millis(10))).unwrap().is_none());
    /// p.send_signal(Signal::KILL).unwrap();
    /// let exit = p.wait_exit(None).unwrap().unwrap();
    /// use std::os::unix::process::ExitStatusExt;
    /// assert_eq!(exit.status().unwrap().signal(), Some(9));
    /// # child.wait().unwrap();
    /// ```
    pub fn wait_exit(&self, timeout: Option<Duration>) -> Result<Option<Exit>, Error> {
        let Some(pidfd) = self.pidfd.as_ref() else {
            let deadline = timeout.map(|t| Instant::now() + t);
            loop {
                match self.check_alive() {
                    Err(e) if *e.kind() == ErrorKind::Exited => {
                        return Ok(Some(Exit { status: None }))
                    }
                    Err(e) => return Err(e),
                    Ok(()) => {}
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(None);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        if !sys::poll_in(pidfd.as_fd(), timeout).map_err(|e| Error::io(self.pid, e))? {
            return Ok(None);
        }
        Ok(Some(Exit {
            status: self.exit_status(pidfd.as_fd()),
        }))
    }

    /// [`wait_exit`](Process::wait_exit) without a timeout, as a future
    /// for tokio (feature `tokio`): the pidfd is registered with the
    /// runtime's reactor (`AsyncFd`), so no thread blocks. Use
    /// `tokio::time::timeout` for a limit. Needs a pidfd (Linux 5.3;
    /// without one, [`ErrorKind::BackendUnavailable`]) and a tokio runtime
    /// with I/O enabled (outside one, [`ErrorKind::Io`]; tokio panics if
    /// the runtime has I/O disabled).
    #[cfg(feature = "tokio")]
    pub async fn wait_exit_async(&self) -> Result<Exit, Error> {
        let pidfd = self
            .pidfd
            .as_ref()
            .ok_or_else(|| Error::new(self.pid, ErrorKind::BackendUnavailable(Backend::Pidfd)))?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::io(
                self.pid,
                io::Error::other("wait_exit_async: not in a tokio runtime"),
            ));
        }
        // SAFETY: the pidfd stays open and the same for the AsyncFd's whole
        // life: the AsyncFd is dropped at the end of this function, while
        // `self` (which owns the fd) is borrowed.
        let afd = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(
                pidfd.as_fd(),
                tokio::io::Interest::READABLE,
            )
        }
        .map_err(|e| Error::io(self.pid, e.into_parts().1))?;
        let _ready = afd.readable().await.map_err(|e| Error::io(self.pid, e))?;
        Ok(Exit {
            status: self.exit_status(pidfd.as_fd()),
        })
    }

    fn exit_status(&self, pidfd: BorrowedFd<'_>) -> Option<ExitStatus> {
        match sys::waitid_pidfd_nowait(pidfd) {
            Ok(Some(raw)) => return Some(ExitStatus::from_raw(raw)),
            Ok(None) => {}
            Err(e) if e.raw_os_error() == Some(libc::ECHILD) => {}
            Err(_) => return None,
        }
        // Not our child: the kernel records the status when the parent
        // reaps it, a moment after the exit wakes poll(); give it 50 ms.
        for _ in 0..10 {
            match sys::pidfd_exit_code(pidfd) {
                Ok(Some(raw)) => return Some(ExitStatus::from_raw(raw)),
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => return None, // before 6.13: no PIDFD_GET_INFO
            }
        }
        None
    }

    /// Sends `TERM`, waits up to `grace` for the exit, then sends `KILL`
    /// and waits for the exit: all through this handle, so the `KILL`
    /// reaches the same process or nobody. Returns how it exited.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    /// let p = prockill::Process::open(child.id() as i32).unwrap();
    /// let exit = p.terminate(Duration::from_secs(5)).unwrap();
    /// use std::os::unix::process::ExitStatusExt;
    /// assert_eq!(exit.status().and_then(|s| s.signal()), Some(libc::SIGTERM));
    /// # child.wait().unwrap();
    /// ```
    pub fn terminate(&self, grace: Duration) -> Result<Exit, Error> {
        match self.send_signal(Signal::TERM) {
            Ok(()) => {}
            Err(e) if *e.kind() == ErrorKind::Exited => {
                return self
                    .wait_exit(Some(Duration::ZERO))
                    .map(|x| x.unwrap_or(Exit { status: None }))
            }
            Err(e) => return Err(e),
        }
        if let Some(exit) = self.wait_exit(Some(grace))? {
            return Ok(exit);
        }
        match self.send_signal(Signal::KILL) {
            Ok(()) => {}
            Err(e) if *e.kind() == ErrorKind::Exited => {}
            Err(e) => return Err(e),
        }
        self.wait_exit(None)
            .map(|x| x.unwrap_or(Exit { status: None }))
    }

    /// Whether `backend` would work on this handle, and if not why:
    /// [`ErrorKind::BackendUnavailable`] (with `ENOENT` for an absent node,
    /// `ENOSYS` for a kernel without `pidfd_send_signal`),
    /// [`ErrorKind::PermissionDenied`] if opening the node was refused, or
    /// [`ErrorKind::Exited`]. The pidfd check sends the probe signal 0;
    /// `EPERM` counts as available (the backend works, the caller may not
    /// signal this process).
    ///
    /// ```
    /// use prockill::{Backend, Process};
    /// let me = Process::open(std::process::id() as i32).unwrap();
    /// assert!(me.availability(Backend::Pidfd).is_ok());
    /// assert!(me.availability(Backend::Kill).is_ok());
    /// ```
    pub fn availability(&self, backend: Backend) -> Result<(), Error> {
        match backend {
            Backend::Node if self.node.is_some() => Ok(()),
            Backend::Node if self.node_error.is_some() => Err(self.node_unavailable()),
            Backend::Node => match sys::openat(self.dir.as_fd(), c"kill", libc::O_WRONLY) {
                Ok(_) => Ok(()),
                Err(e) => Err(self.node_error_to_error(e)),
            },
            Backend::Pidfd => self.pidfd_probe(),
            Backend::Kill => self.check_alive(),
            Backend::Auto => Ok(()),
        }
    }

    /// Sends `signal` through the handle's backend. [`Signal::PROBE`] checks
    /// that the process lives and may be signalled, delivering nothing. With
    /// [`Backend::Node`] the signal goes through the node's
    /// `PROCKILL_IOC_SEND` ioctl, the binary twin of writing its number.
    ///
    /// Errors: [`ErrorKind::Exited`] (even if the PID now names another
    /// process, except with [`Backend::Kill`] in the window after its check),
    /// [`ErrorKind::Revoked`] (node: the process executed since the
    /// policy was set), [`ErrorKind::PermissionDenied`],
    /// [`ErrorKind::InvalidSignal`].
    ///
    /// ```
    /// use prockill::{Process, Signal};
    /// use std::os::unix::process::ExitStatusExt;
    /// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    /// let process = Process::open(child.id() as i32).unwrap();
    /// process.send_signal(Signal::PROBE).unwrap();
    /// process.send_signal(Signal::KILL).unwrap();
    /// assert_eq!(child.wait().unwrap().signal(), Some(9));
    /// ```
    pub fn send_signal(&self, signal: Signal) -> Result<(), Error> {
        let sig = signal.as_raw();
        match self.backend {
            // The binary form of a write of the number: same checks, same
            // errors, no formatting or parsing (make bench: about 1.1x a
            // pidfd_send_signal(), where a write is about 1.3x).
            Backend::Node => self.node_send_ioctl(signal),
            Backend::Pidfd => sys::pidfd_send_signal(self.pidfd_or_dir(), sig)
                .map_err(|e| Error::from_send_errno(self.pid, Backend::Pidfd, e)),
            Backend::Kill | Backend::Auto => {
                self.check_alive()?;
                sys::kill(self.pid, sig)
                    .map_err(|e| Error::from_send_errno(self.pid, Backend::Kill, e))
            }
        }
    }

    /// The check-then-kill of the seed, on this handle: with the kill node,
    /// sets the per-handle exec policy to [`Policy::Exec`] (if not done at
    /// open), runs `check` on the process (read its attributes through the
    /// handle: [`exe`](Process::exe), [`status`](Process::status), ...),
    /// and sends `signal` if the check passes. Returns the guarantee that
    /// held.
    ///
    /// With the node and the policy set, an exec between the check and the
    /// signal revokes the handle and the call fails with
    /// [`ErrorKind::Revoked`]: the new program is never signalled. With the
    /// pidfd backend the call is safe against PID reuse only, and says so.
    ///
    /// ```
    /// use prockill::{ErrorKind, Process, Signal};
    /// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    /// let process = Process::open(child.id() as i32).unwrap();
    ///
    /// let err = process.kill_if(|p| p.check_exe("/bin/false"), Signal::TERM).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::CheckFailed { .. }));
    ///
    /// let guarantee = process
    ///     .kill_if(|p| p.check_uid(unsafe { libc::getuid() }), Signal::TERM)
    ///     .unwrap();
    /// println!("signalled, {}", guarantee.description());
    /// # child.wait().unwrap();
    /// ```
    pub fn kill_if<F>(&self, check: F, signal: Signal) -> Result<Guarantee, Error>
    where
        F: FnOnce(&Process) -> Result<(), Error>,
    {
        if self.backend == Backend::Node && !self.exec_policy_set.load(Ordering::Relaxed) {
            // Failure (an old module) leaves the guarantee at PidReuseOnly;
            // a revoked or exited target fails the send below.
            let _ = self.set_exec_policy(Policy::Exec);
        }
        check(self)?;
        self.send_signal(signal)?;
        Ok(self.guarantee())
    }

    /// The `exe` link, read through the directory fd.
    ///
    /// Fails with [`ErrorKind::Exited`] if the process is gone,
    /// [`ErrorKind::PermissionDenied`] without ptrace access to it, and
    /// [`ErrorKind::Io`] (`ENOENT`) for a kernel thread or a zombie, which
    /// have no executable.
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// assert_eq!(me.exe().unwrap(), std::env::current_exe().unwrap());
    /// ```
    pub fn exe(&self) -> Result<PathBuf, Error> {
        sys::readlinkat(self.dir.as_fd(), c"exe").map_err(|e| self.attr_error(e))
    }

    /// `status`, read through the directory fd: name, state, ids.
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// let status = me.status().unwrap();
    /// assert_eq!(status.uid.real, unsafe { libc::getuid() });
    /// ```
    pub fn status(&self) -> Result<Status, Error> {
        read_status(self.dir.as_fd()).map_err(|e| self.attr_error(e))
    }

    /// The start time in clock ticks since boot (`stat` field 22, divide by
    /// `sysconf(_SC_CLK_TCK)` for seconds), read through the directory fd.
    /// Together with the PID it identifies a process across PID reuse.
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// assert!(me.start_time().unwrap() > 0);
    /// ```
    pub fn start_time(&self) -> Result<u64, Error> {
        let bytes = sys::read_at(self.dir.as_fd(), c"stat").map_err(|e| self.attr_error(e))?;
        parse_start_time(&bytes).ok_or_else(|| {
            Error::io(
                self.pid,
                io::Error::new(io::ErrorKind::InvalidData, "unparsable /proc/<pid>/stat"),
            )
        })
    }

    /// A check for [`kill_if`]: the `exe` link is `expected`, else
    /// [`ErrorKind::CheckFailed`] with the observed path. The comparison is
    /// of paths as given: the link holds the canonical path (with
    /// ` (deleted)` appended if the file was removed), so pass a canonical
    /// one.
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// me.check_exe(std::env::current_exe().unwrap()).unwrap();
    /// assert!(me.check_exe("/nonexistent").is_err());
    /// ```
    pub fn check_exe(&self, expected: impl AsRef<Path>) -> Result<(), Error> {
        let expected = expected.as_ref();
        let exe = self.exe()?;
        if exe == expected {
            Ok(())
        } else {
            Err(Error::check_failed(
                self.pid,
                "exe",
                expected.display().to_string(),
                exe.display().to_string(),
            ))
        }
    }

    /// A check for [`kill_if`]: the real uid is `uid` (the uid `kill(2)`'s
    /// permission rule and `pkill -U` look at).
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// me.check_uid(unsafe { libc::getuid() }).unwrap();
    /// ```
    pub fn check_uid(&self, uid: u32) -> Result<(), Error> {
        let observed = self.status()?.uid.real;
        if observed == uid {
            Ok(())
        } else {
            Err(Error::check_failed(
                self.pid,
                "uid",
                uid.to_string(),
                observed.to_string(),
            ))
        }
    }

    /// A check for [`kill_if`]: the effective uid is `uid` (as `pkill -u`).
    ///
    /// ```
    /// let me = prockill::Process::open(std::process::id() as i32).unwrap();
    /// me.check_euid(unsafe { libc::geteuid() }).unwrap();
    /// ```
    pub fn check_euid(&self, uid: u32) -> Result<(), Error> {
        let observed = self.status()?.uid.effective;
        if observed == uid {
            Ok(())
        } else {
            Err(Error::check_failed(
                self.pid,
                "euid",
                uid.to_string(),
                observed.to_string(),
            ))
        }
    }

    /// The kill node's own view of the handle (`PROCKILL_IOC_INFO`).
    /// [`ErrorKind::BackendUnavailable`] without a node.
    ///
    /// ```
    /// use prockill::{Backend, ErrorKind, NodeState, Process};
    /// let me = Process::open(std::process::id() as i32).unwrap();
    /// match me.node_info() {
    ///     Ok(info) => {
    ///         assert_eq!(info.state, NodeState::Alive);
    ///         assert_eq!(info.pid, me.pid());
    ///     }
    ///     // No prockill module on this kernel.
    ///     Err(e) => assert_eq!(e.kind(), &ErrorKind::BackendUnavailable(Backend::Node)),
    /// }
    /// ```
    pub fn node_info(&self) -> Result<NodeInfo, Error> {
        let node = self.node.as_ref().ok_or_else(|| self.node_unavailable())?;
        let mut raw = uapi::prockill_info::default();
        // SAFETY: INFO writes one struct prockill_info, which raw is.
        unsafe { sys::ioctl(node.as_fd(), ioctl::PROCKILL_IOC_INFO, &mut raw) }
            .map_err(|e| self.node_ioctl_error(e))?;
        Ok(NodeInfo::from_raw(&raw))
    }

    /// Makes the kill node's exec policy stricter
    /// (`PROCKILL_IOC_SET_POLICY`). Looser than the current one fails with
    /// [`ErrorKind::PermissionDenied`]; without a node,
    /// [`ErrorKind::BackendUnavailable`].
    ///
    /// ```
    /// use prockill::{ErrorKind, Guarantee, Policy, Process};
    /// let me = Process::open(std::process::id() as i32).unwrap();
    /// match me.set_exec_policy(Policy::Exec) {
    ///     Ok(()) => {
    ///         assert_eq!(me.guarantee(), Guarantee::PidReuseAndExec);
    ///         // Never looser again.
    ///         let err = me.set_exec_policy(Policy::Never).unwrap_err();
    ///         assert_eq!(err.kind(), &ErrorKind::PermissionDenied);
    ///     }
    ///     Err(e) => assert!(matches!(e.kind(), ErrorKind::BackendUnavailable(_))),
    /// }
    /// ```
    pub fn set_exec_policy(&self, policy: Policy) -> Result<(), Error> {
        let node = self.node.as_ref().ok_or_else(|| self.node_unavailable())?;
        let mut raw: uapi::__u32 = policy.to_raw();
        // SAFETY: SET_POLICY reads one __u32, which raw is.
        unsafe { sys::ioctl(node.as_fd(), ioctl::PROCKILL_IOC_SET_POLICY, &mut raw) }
            .map_err(|e| self.node_ioctl_error(e))?;
        if policy == Policy::Exec {
            self.exec_policy_set.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Sends `signal` through the node's `PROCKILL_IOC_SEND` ioctl (same
    /// semantics and errors as writing its number), whatever the backend:
    /// [`ErrorKind::BackendUnavailable`] without a node.
    ///
    /// ```
    /// use prockill::{Process, Signal};
    /// let me = Process::open(std::process::id() as i32).unwrap();
    /// if me.node_fd().is_some() {
    ///     me.node_send_ioctl(Signal::PROBE).unwrap();
    /// } else {
    ///     assert!(me.node_send_ioctl(Signal::PROBE).is_err());
    /// }
    /// ```
    pub fn node_send_ioctl(&self, signal: Signal) -> Result<(), Error> {
        let node = self.node.as_ref().ok_or_else(|| self.node_unavailable())?;
        let mut arg = uapi::prockill_send {
            sig: signal.number(),
            flags: 0,
        };
        // SAFETY: SEND reads one struct prockill_send, which arg is.
        unsafe { sys::ioctl(node.as_fd(), ioctl::PROCKILL_IOC_SEND, &mut arg) }
            .map_err(|e| Error::from_send_errno(self.pid, Backend::Node, e))
    }

    /// `sig` queued with `value` through the node's
    /// `PROCKILL_IOC_SEND_VALUE` ioctl (`ENOTTY` on a module without it).
    fn node_send_value(&self, sig: i32, value: i32) -> Result<(), Error> {
        let node = self.node.as_ref().ok_or_else(|| self.node_unavailable())?;
        let mut arg = uapi::prockill_send_value {
            sig: sig as u32,
            flags: uapi::PROCKILL_SEND_QUEUE,
            value,
            ..Default::default()
        };
        // SAFETY: SEND_VALUE reads one struct prockill_send_value, which arg is.
        unsafe { sys::ioctl(node.as_fd(), ioctl::PROCKILL_IOC_SEND_VALUE, &mut arg) }
            .map_err(|e| Error::from_send_errno(self.pid, Backend::Node, e))
    }

    fn pidfd_or_dir(&self) -> BorrowedFd<'_> {
        match &self.pidfd {
            Some(fd) => fd.as_fd(),
            None => self.dir.as_fd(),
        }
    }

    /// Sends the probe through pidfd_send_signal to learn whether it works.
    fn pidfd_probe(&self) -> Result<(), Error> {
        match sys::pidfd_send_signal(self.pidfd_or_dir(), 0) {
            Ok(()) => Ok(()),
            Err(e) => match e.raw_os_error() {
                Some(libc::EPERM) => Ok(()),
                Some(libc::ESRCH) => Err(Error::with_source(self.pid, ErrorKind::Exited, e)),
                Some(libc::ENOSYS | libc::EBADF | libc::EINVAL | libc::EOPNOTSUPP) => Err(
                    Error::with_source(self.pid, ErrorKind::BackendUnavailable(Backend::Pidfd), e),
                ),
                _ => Err(Error::io(self.pid, e)),
            },
        }
    }

    /// Whether the process of the directory fd still exists (zombies count):
    /// a stale `/proc/<pid>` directory has no entries left.
    fn check_alive(&self) -> Result<(), Error> {
        match sys::read_at(self.dir.as_fd(), c"stat") {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)) => {
                Err(Error::with_source(self.pid, ErrorKind::Exited, e))
            }
            Err(e) => Err(Error::io(self.pid, e)),
        }
    }

    fn attr_error(&self, e: io::Error) -> Error {
        match e.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => {
                Error::with_source(self.pid, ErrorKind::PermissionDenied, e)
            }
            Some(libc::ENOENT | libc::ESRCH) => match self.check_alive() {
                Err(exited) => exited,
                Ok(()) => Error::io(self.pid, e),
            },
            _ => Error::io(self.pid, e),
        }
    }

    fn node_unavailable(&self) -> Error {
        match &self.node_error {
            Some(e) => self.node_error_to_error(io::Error::from_raw_os_error(
                e.raw_os_error().unwrap_or(libc::ENOENT),
            )),
            None => Error::new(self.pid, ErrorKind::BackendUnavailable(Backend::Node)),
        }
    }

    fn node_error_to_error(&self, e: io::Error) -> Error {
        match e.raw_os_error() {
            Some(libc::ENOENT) => match self.check_alive() {
                Err(exited) => exited,
                Ok(()) => {
                    Error::with_source(self.pid, ErrorKind::BackendUnavailable(Backend::Node), e)
                }
            },
            Some(libc::EPERM | libc::EACCES) => {
                Error::with_source(self.pid, ErrorKind::PermissionDenied, e)
            }
            Some(libc::ESRCH) => Error::with_source(self.pid, ErrorKind::Exited, e),
            _ => Error::io(self.pid, e),
        }
    }

    fn node_ioctl_error(&self, e: io::Error) -> Error {
        match e.raw_os_error() {
            Some(libc::ENOTTY) => {
                Error::with_source(self.pid, ErrorKind::BackendUnavailable(Backend::Node), e)
            }
            _ => Error::from_send_errno(self.pid, Backend::Node, e),
        }
    }
}

fn read_status(dir: BorrowedFd<'_>) -> io::Result<Status> {
    let bytes = sys::read_at(dir, c"status")?;
    Status::parse(&String::from_utf8_lossy(&bytes))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unparsable /proc/<pid>/status"))
}

/// Field 22 of `stat`, counted after the last `)` (the command name may hold
/// spaces and parentheses).
fn parse_start_time(stat: &[u8]) -> Option<u64> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    // Field 3 (state) is the first after ')'; field 22 is 19 further on.
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// Opens `pid` with [`Backend::Auto`] and the per-handle exec policy, runs
/// `check` on it, and sends `signal` if the check passes: the seed's
/// check-then-kill, race-free against PID reuse and exec where the kill node
/// is present. Returns the [`Guarantee`] that held on this kernel.
///
/// ```
/// use prockill::{kill_if, Guarantee, Signal};
/// use std::os::unix::process::ExitStatusExt;
///
/// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
/// let pid = child.id() as i32;
/// let guarantee = kill_if(pid, |p| {
///     let exe = p.exe()?;
///     assert!(exe.ends_with("sleep"));
///     p.check_exe(&exe)
/// }, Signal::TERM).unwrap();
/// assert!(guarantee >= Guarantee::PidReuseOnly); // pidfd on a stock kernel
/// assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGTERM));
/// ```
pub fn kill_if<F>(pid: i32, check: F, signal: Signal) -> Result<Guarantee, Error>
where
    F: FnOnce(&Process) -> Result<(), Error>,
{
    ProcessOptions::new()
        .revoke_on_exec(true)
        .open(pid)?
        .kill_if(check, signal)
}

/// Opens a pidfd for `pid` with `pidfd_open(2)` (Linux >= 5.3), e.g. to hand
/// to [`Process::from_pidfd`] or to keep for `poll`.
///
/// ```
/// let fd = prockill::pidfd_open(std::process::id() as i32).unwrap();
/// let me = prockill::Process::from_pidfd(fd).unwrap();
/// assert_eq!(me.pid(), std::process::id() as i32);
/// ```
pub fn pidfd_open(pid: i32) -> Result<OwnedFd, Error> {
    sys::pidfd_open(pid).map_err(|e| Error::from_send_errno(pid, Backend::Pidfd, e))
}

/// Sends `signal` to every process of process group `pgid` (`kill
/// -PGID`), with `value` in their `si_value` if given (`SI_QUEUE`).
///
/// Through a pidfd on the group leader and `PIDFD_SIGNAL_PROCESS_GROUP`
/// (Linux 6.9) when the leader lives; else `kill(-pgid, signal)`. A group ID
/// is not reused while the group has members, so both reach the group
/// named or nobody. A queued value needs the first way (there is no
/// `sigqueue` to a group).
///
/// ```
/// // Our own group exists; the probe delivers nothing.
/// let pgid = unsafe { libc::getpgrp() };
/// prockill::send_to_group(pgid, prockill::Signal::PROBE, None).unwrap();
/// ```
pub fn send_to_group(pgid: i32, signal: Signal, value: Option<i32>) -> Result<(), Error> {
    if pgid <= 0 {
        return Err(Error::io(
            pgid,
            io::Error::new(io::ErrorKind::InvalidInput, "not a process group ID"),
        ));
    }
    let sig = signal.as_raw();
    let info = value.map(|v| sys::queue_info(sig, v));
    if let Ok(leader) = sys::pidfd_open(pgid) {
        match sys::pidfd_send_signal_info(
            leader.as_fd(),
            sig,
            info.as_ref(),
            libc::PIDFD_SIGNAL_PROCESS_GROUP,
        ) {
            Ok(()) => return Ok(()),
            // Before 6.9 the flag is unknown: fall back.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && info.is_none() => {}
            Err(e) => return Err(Error::from_send_errno(pgid, Backend::Pidfd, e)),
        }
    }
    if info.is_some() {
        return Err(Error::with_source(
            pgid,
            ErrorKind::Exited,
            io::Error::from_raw_os_error(libc::ESRCH),
        ));
    }
    sys::kill(-pgid, sig).map_err(|e| Error::from_send_errno(pgid, Backend::Kill, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_with_odd_comm() {
        let stat = b"42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10";
        assert_eq!(parse_start_time(stat), Some(123_456));
        assert_eq!(parse_start_time(b"42 (x"), None);
    }

    #[test]
    fn status_needs_every_field() {
        assert!(Status::parse("Name:\tx\n").is_none());
    }
}
