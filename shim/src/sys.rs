//! Thin wrappers over the few system calls the crate makes, through `libc`.
//!
//! Why `libc` and not rustix: most of what the crate needs is outside what
//! rustix wraps (`pidfd_send_signal` with a siginfo, and on a `/proc`
//! directory fd; `rt_sigqueueinfo`; `PIDFD_GET_INFO`; `waitid(P_PIDFD)` with
//! `WNOWAIT` and the child's status; the kill node's ioctls; signal 0 and
//! the real-time signals as plain numbers), so rustix would add a second
//! FFI layer for the few calls it covers (`open`, `openat`, `readlinkat`,
//! `poll`, `fstat`, `pidfd_open`, `kill`). Each wrapper here is a single
//! call plus its error check.

use std::ffi::{CStr, CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn cvt_long(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `open(path, flags | O_CLOEXEC)`.
pub(crate) fn open(path: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: path is a valid NUL-terminated string; the result is a new fd we own.
    let fd = cvt(unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) })?;
    // SAFETY: fd was just returned by open and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `openat(dir, name, flags | O_CLOEXEC)`.
pub(crate) fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: dir is a live fd, name a valid C string.
    let fd = cvt(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | libc::O_CLOEXEC) })?;
    // SAFETY: fd was just returned by openat and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `readlinkat(dir, name)`, growing the buffer as needed.
pub(crate) fn readlinkat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<PathBuf> {
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe {
            libc::readlinkat(
                dir.as_raw_fd(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        if n < buf.len() {
            buf.truncate(n);
            return Ok(PathBuf::from(OsString::from_vec(buf)));
        }
        buf.resize(buf.len() * 2, 0);
    }
}

/// Reads a whole file opened with `openat(dir, name, O_RDONLY)`.
pub(crate) fn read_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
    let fd = openat(dir, name, libc::O_RDONLY)?;
    let mut out = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            0 => return Ok(out),
            n if n > 0 => out.extend_from_slice(&buf[..n as usize]),
            _ => {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
        }
    }
}

/// `pidfd_send_signal(fd, sig, NULL, 0)`; `fd` may be a pidfd or a
/// `/proc/<tgid>` directory fd.
pub(crate) fn pidfd_send_signal(fd: BorrowedFd<'_>, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: plain syscall with a live fd, a NULL siginfo and no flags.
    cvt_long(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0 as libc::c_uint,
        )
    })
    .map(drop)
}

/// `pidfd_open(pid, 0)`.
pub(crate) fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; the result is a new fd we own.
    let fd = cvt_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0 as libc::c_uint) })?;
    // SAFETY: fd was just returned by pidfd_open and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `kill(pid, sig)`.
pub(crate) fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: plain syscall.
    cvt(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// `ioctl(fd, request, arg)` with a pointer argument.
///
/// # Safety
/// `arg` must point to a value of the size and direction that `request`
/// encodes.
pub(crate) unsafe fn ioctl<T>(fd: BorrowedFd<'_>, request: u32, arg: *mut T) -> io::Result<()> {
    // The request type of libc::ioctl differs between libcs (c_ulong on
    // glibc, c_int on musl); `as _` picks whichever it is.
    // SAFETY: the caller guarantees arg matches request.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), request as _, arg) }).map(drop)
}

/// `/proc/<pid>` as a C string.
pub(crate) fn proc_path(pid: libc::pid_t) -> CString {
    CString::new(format!("/proc/{pid}")).expect("no NUL in a number")
}

/// The kernel's `siginfo_t` as `sigqueue(3)` fills it (`SI_QUEUE`, the
/// `_rt` member), for `pidfd_send_signal(2)` and `rt_sigqueueinfo(2)`.
///
/// Hand-written because libc's `siginfo_t` has no way to set the `_rt`
/// member (it offers a few getters only), and rustix has neither call with
/// a siginfo. The layout is the generic one of
/// `include/uapi/asm-generic/siginfo.h`: three ints, then the union (whose
/// pointer member aligns it: 4 bytes of padding on 64-bit targets), 128
/// bytes in all; const assertions check size and offset.
#[repr(C)]
#[derive(Clone, Copy)]
union SigVal {
    int: libc::c_int,
    ptr: usize,
}

/// The `_rt` member of the union: sender pid, uid, and the value.
#[repr(C)]
#[derive(Clone, Copy)]
struct Rt {
    pid: libc::pid_t,
    uid: libc::uid_t,
    value: SigVal,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Head {
    signo: libc::c_int,
    errno: libc::c_int,
    code: libc::c_int,
    rt: Rt,
}

#[repr(C)]
pub(crate) union KernelSiginfo {
    head: Head,
    raw: [u64; 16],
}

const _: () = assert!(core::mem::size_of::<KernelSiginfo>() == 128);
const _: () = assert!(
    core::mem::offset_of!(Head, rt)
        == if cfg!(target_pointer_width = "64") {
            16
        } else {
            12
        }
);

/// A `SI_QUEUE` siginfo carrying `value`, from this process, as
/// `sigqueue(3)` builds it.
pub(crate) fn queue_info(sig: libc::c_int, value: i32) -> KernelSiginfo {
    let mut info = KernelSiginfo { raw: [0; 16] };
    // SAFETY: getpid/getuid have no preconditions.
    let (pid, uid) = unsafe { (libc::getpid(), libc::getuid()) };
    info.head = Head {
        signo: sig,
        errno: 0,
        code: libc::SI_QUEUE,
        rt: Rt {
            pid,
            uid,
            value: SigVal { ptr: 0 },
        },
    };
    // Writing a Copy union field is safe; sival_int overlays the first
    // bytes of sival_ptr, as in C.
    info.head.rt.value.int = value;
    info
}

/// `pidfd_send_signal(fd, sig, info, flags)`.
pub(crate) fn pidfd_send_signal_info(
    fd: BorrowedFd<'_>,
    sig: libc::c_int,
    info: Option<&KernelSiginfo>,
    flags: libc::c_uint,
) -> io::Result<()> {
    let ptr = info.map_or(std::ptr::null(), |i| i as *const KernelSiginfo);
    // SAFETY: a live fd, a siginfo of the kernel's size or NULL.
    cvt_long(unsafe { libc::syscall(libc::SYS_pidfd_send_signal, fd.as_raw_fd(), sig, ptr, flags) })
        .map(drop)
}

/// `rt_sigqueueinfo(tgid, sig, info)`: what `sigqueue(3)` does.
pub(crate) fn rt_sigqueueinfo(
    tgid: libc::pid_t,
    sig: libc::c_int,
    info: &KernelSiginfo,
) -> io::Result<()> {
    // SAFETY: info is a siginfo of the kernel's size.
    cvt_long(unsafe {
        libc::syscall(
            libc::SYS_rt_sigqueueinfo,
            tgid,
            sig,
            info as *const KernelSiginfo,
        )
    })
    .map(drop)
}

/// `poll(fd, POLLIN, timeout)`, retried on `EINTR` with the time left;
/// `true` when readable (for a pidfd: the process exited).
pub(crate) fn poll_in(
    fd: BorrowedFd<'_>,
    timeout: Option<std::time::Duration>,
) -> io::Result<bool> {
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
        let ms: libc::c_int = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(std::time::Instant::now());
                // Round up so that a short wait is not a busy loop.
                left.as_nanos()
                    .div_ceil(1_000_000)
                    .min(libc::c_int::MAX as u128) as libc::c_int
            }
        };
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n > 0 {
            return Ok(true);
        }
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Ok(false);
        }
    }
}

/// `waitid(P_PIDFD, fd, WEXITED | WNOHANG | WNOWAIT)`: the wait status of an
/// exited child, left for its owner to reap; `None` if it has not exited.
/// `ECHILD` when it is not our child.
pub(crate) fn waitid_pidfd_nowait(fd: BorrowedFd<'_>) -> io::Result<Option<i32>> {
    // SAFETY: zeroed siginfo_t is valid; waitid fills it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: a live fd and a valid siginfo_t.
    cvt(unsafe {
        libc::waitid(
            libc::P_PIDFD,
            fd.as_raw_fd() as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    })?;
    // SAFETY: waitid filled the SIGCHLD fields (or left them zero).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some(match info.si_code {
        libc::CLD_EXITED => (status & 0xff) << 8,
        libc::CLD_KILLED => status & 0x7f,
        libc::CLD_DUMPED => (status & 0x7f) | 0x80,
        _ => return Ok(None),
    }))
}

/// `ioctl(pidfd, PIDFD_GET_INFO)` asking for `PIDFD_INFO_EXIT` (Linux
/// 6.15): the wait status of a reaped process, if the kernel has it.
pub(crate) fn pidfd_exit_code(fd: BorrowedFd<'_>) -> io::Result<Option<i32>> {
    // SAFETY: pidfd_info is plain data; zero is valid.
    let mut info: libc::pidfd_info = unsafe { std::mem::zeroed() };
    info.mask = libc::PIDFD_INFO_EXIT as u64;
    // SAFETY: PIDFD_GET_INFO reads and writes one pidfd_info.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::PIDFD_GET_INFO as _, &mut info) })?;
    Ok((info.mask & libc::PIDFD_INFO_EXIT as u64 != 0).then_some(info.exit_code))
}

/// `fstat(fd).st_ino` (for a pidfd on Linux >= 6.9: the pidfs inode).
pub(crate) fn fstat_ino(fd: BorrowedFd<'_>) -> io::Result<(u64, u32)> {
    // SAFETY: zeroed stat is valid; fstat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a live fd and a valid stat.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok((st.st_ino, st.st_uid))
}

/// `ioctl(pidfd, PIDFD_GET_INFO)` asking for the PID (Linux 6.13): the
/// process's PID in the caller's PID namespace (0 if not visible there).
/// `ESRCH` once it has exited; `ENOTTY`/`EINVAL` on older kernels.
pub(crate) fn pidfd_pid(fd: BorrowedFd<'_>) -> io::Result<i32> {
    // SAFETY: pidfd_info is plain data; zero is valid.
    let mut info: libc::pidfd_info = unsafe { std::mem::zeroed() };
    info.mask = libc::PIDFD_INFO_PID as u64;
    // SAFETY: PIDFD_GET_INFO reads and writes one pidfd_info.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::PIDFD_GET_INFO as _, &mut info) })?;
    if info.mask & libc::PIDFD_INFO_PID as u64 == 0 {
        return Err(io::Error::from_raw_os_error(libc::ENOTTY));
    }
    Ok(info.pid as i32)
}
