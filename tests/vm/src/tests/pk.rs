// SPDX-License-Identifier: GPL-2.0

//! Helpers for the kill-node (`node/`) and revocation (`revoke/`) tests:
//! the UAPI of `module/include/uapi/linux/prockill.h`, raw fd operations
//! returning errno, signal targets that block every signal and report what
//! is pending, SCM_RIGHTS, and the exec-target image (`PK_EXEC_TARGET`).

use crate::harness::TestResult;
use crate::util::{self, errno, errno_name, Child, Outcome};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------ UAPI --
// Copied from module/include/uapi/linux/prockill.h (keep in sync).

pub const KIND_PROCESS: u32 = 1;
pub const KIND_THREAD: u32 = 2;

pub const STATE_ALIVE: u32 = 1;
pub const STATE_EXITED: u32 = 2;
pub const STATE_REVOKED: u32 = 3;

pub const POLICY_NEVER: u32 = 0;
pub const POLICY_SETID: u32 = 1;
pub const POLICY_EXEC: u32 = 2;

pub const REVOKE_NONE: u32 = 0;
pub const REVOKE_SETID_EXEC: u32 = 1;
pub const REVOKE_EXEC: u32 = 2;

/// `struct prockill_info` (56 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Info {
    pub pid: i32,
    pub kind: u32,
    pub state: u32,
    pub policy: u32,
    pub handle_policy: u32,
    pub revoke_reason: u32,
    pub opener_uid: u32,
    pub reserved: u32,
    pub pidfs_ino: u64,
    pub start_time: u64,
    pub exec_gen: u64,
}

/// `struct prockill_send`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SendReq {
    pub sig: u32,
    pub flags: u32,
}

/// `struct prockill_send_value`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SendValueReq {
    pub sig: u32,
    pub flags: u32,
    pub value: i32,
    pub pad: u32,
    pub ptr: u64,
}

/// `PROCKILL_SEND_QUEUE`.
pub const SEND_QUEUE: u32 = 1;

const MAGIC: u32 = 0xB9;
const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | (MAGIC << 8) | nr
}
/// `_IOR(0xB9, 1, struct prockill_info)`.
pub const IOC_INFO: u32 = ioc(2, 1, std::mem::size_of::<Info>());
/// `_IOW(0xB9, 2, struct prockill_send)`.
pub const IOC_SEND: u32 = ioc(1, 2, std::mem::size_of::<SendReq>());
/// `_IOW(0xB9, 3, __u32)`.
pub const IOC_SET_POLICY: u32 = ioc(1, 3, std::mem::size_of::<u32>());
/// `_IOW(0xB9, 4, struct prockill_send_value)`.
pub const IOC_SEND_VALUE: u32 = ioc(1, 4, std::mem::size_of::<SendValueReq>());

/// Where the module parameter lives.
pub const REVOKE_PARAM: &str = "/sys/module/prockill/parameters/revoke";

// ------------------------------------------------------------- raw fds --

/// `Ok(v)` or `Err(errno)` from a syscall's return value.
fn cvt(r: i64) -> Result<i64, i32> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// `open(path, flags | O_CLOEXEC)`; `Err(errno)`.
pub fn open(path: &str, flags: i32) -> Result<OwnedFd, i32> {
    let c = CString::new(path).map_err(|_| libc::EINVAL)?;
    // SAFETY: valid C string.
    let fd = cvt(unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) } as i64)?;
    // SAFETY: a new fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `openat(dir, name, flags | O_CLOEXEC)`; `Err(errno)`.
pub fn openat(dir: RawFd, name: &str, flags: i32) -> Result<OwnedFd, i32> {
    let c = CString::new(name).map_err(|_| libc::EINVAL)?;
    // SAFETY: valid C string.
    let fd = cvt(unsafe { libc::openat(dir, c.as_ptr(), flags | libc::O_CLOEXEC) } as i64)?;
    // SAFETY: a new fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `open(path, flags | O_CLOEXEC)` with a readable error.
pub fn open_s(path: &str, flags: i32) -> Result<OwnedFd, String> {
    open(path, flags).map_err(|e| format!("open {path}: {}", errno_name(e)))
}

/// One write(2); `Ok(count)` or `Err(errno)`.
pub fn write_fd(fd: RawFd, data: &[u8]) -> Result<usize, i32> {
    // SAFETY: valid buffer.
    cvt(unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) } as i64).map(|n| n as usize)
}

/// pread(2) at offset 0 of up to 4 KiB, as text.
pub fn read_text(fd: RawFd) -> Result<String, i32> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid buffer.
    let n = cvt(unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), 0) } as i64)?;
    buf.truncate(n as usize);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The `key: value` lines of a node's read text.
pub fn parse_kv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The value of `key` in `key: value` text.
pub fn kv(text: &str, key: &str) -> Option<String> {
    parse_kv(text)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Read the node's status text and return the value of `key`.
pub fn node_field(fd: RawFd, key: &str) -> Result<String, String> {
    let t = read_text(fd).map_err(|e| format!("read node: {}", errno_name(e)))?;
    kv(&t, key).ok_or_else(|| format!("no {key:?} in node text {t:?}"))
}

/// `PROCKILL_IOC_INFO`.
pub fn info(fd: RawFd) -> Result<Info, i32> {
    let mut i = Info::default();
    // SAFETY: the kernel writes size_of::<Info>() bytes into `i`.
    cvt(unsafe { libc::ioctl(fd, IOC_INFO as _, &mut i as *mut Info) } as i64)?;
    Ok(i)
}

/// `PROCKILL_IOC_INFO` with a readable error.
pub fn info_s(fd: RawFd) -> Result<Info, String> {
    info(fd).map_err(|e| format!("ioctl INFO: {}", errno_name(e)))
}

/// `PROCKILL_IOC_SEND`.
pub fn ioc_send(fd: RawFd, sig: u32, flags: u32) -> Result<(), i32> {
    let req = SendReq { sig, flags };
    // SAFETY: the kernel reads size_of::<SendReq>() bytes.
    cvt(unsafe { libc::ioctl(fd, IOC_SEND as _, &req as *const SendReq) } as i64).map(|_| ())
}

/// `PROCKILL_IOC_SEND_VALUE`.
pub fn ioc_send_value(fd: RawFd, req: SendValueReq) -> Result<(), i32> {
    // SAFETY: the kernel reads size_of::<SendValueReq>() bytes.
    cvt(unsafe { libc::ioctl(fd, IOC_SEND_VALUE as _, &req as *const SendValueReq) } as i64)
        .map(|_| ())
}

/// `PROCKILL_IOC_SET_POLICY`.
pub fn set_policy(fd: RawFd, policy: u32) -> Result<(), i32> {
    // SAFETY: the kernel reads 4 bytes.
    cvt(unsafe { libc::ioctl(fd, IOC_SET_POLICY as _, &policy as *const u32) } as i64).map(|_| ())
}

/// poll(2) one fd for `POLLIN`; returns revents (0 on timeout).
pub fn poll_fd(fd: RawFd, timeout_ms: i32) -> Result<i16, String> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    if r < 0 {
        return util::os_err("poll");
    }
    Ok(if r == 0 { 0 } else { p.revents })
}

/// readlinkat(2) as a String.
pub fn readlinkat(dir: RawFd, name: &str) -> Result<String, i32> {
    let c = CString::new(name).map_err(|_| libc::EINVAL)?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid buffer and C string.
    let n = cvt(
        unsafe { libc::readlinkat(dir, c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) } as i64,
    )?;
    buf.truncate(n as usize);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// `pidfd_open(pid, 0)`.
pub fn pidfd_open(pid: i32) -> Result<OwnedFd, i32> {
    // SAFETY: plain syscall.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: a new fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `pidfd_send_signal(fd, sig, NULL, 0)` (a pidfd or a /proc/<pid> dir fd).
pub fn pidfd_send_signal(fd: RawFd, sig: i32) -> Result<(), i32> {
    // SAFETY: plain syscall; NULL info.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd,
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    })
    .map(|_| ())
}

/// kill(2).
pub fn kill(pid: i32, sig: i32) -> Result<(), i32> {
    // SAFETY: plain syscall.
    cvt(unsafe { libc::kill(pid, sig) } as i64).map(|_| ())
}

/// gettid(2).
pub fn gettid() -> i32 {
    // SAFETY: plain syscall.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// Node path of a process.
pub fn node(pid: i32) -> String {
    format!("/proc/{pid}/kill")
}

/// Node path of a thread.
pub fn tnode(pid: i32, tid: i32) -> String {
    format!("/proc/{pid}/task/{tid}/kill")
}

/// Format a write result for messages.
pub fn res(r: Result<usize, i32>) -> String {
    match r {
        Ok(n) => format!("Ok({n})"),
        Err(e) => errno_name(e),
    }
}

// ------------------------------------------------------------- signals --

/// Block every signal the kernel lets us block (raw rt_sigprocmask: glibc's
/// wrapper silently keeps 32 and 33 unblocked).
pub fn block_all_signals() {
    let set: u64 = !0;
    // SAFETY: valid 8-byte set; NULL old set.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_BLOCK,
            &set as *const u64,
            std::ptr::null_mut::<u64>(),
            8,
        )
    };
}

/// Unblock every signal (raw rt_sigprocmask).
pub fn unblock_all_signals() {
    let set: u64 = !0;
    // SAFETY: valid 8-byte set; NULL old set.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_UNBLOCK,
            &set as *const u64,
            std::ptr::null_mut::<u64>(),
            8,
        )
    };
}

/// One dequeued signal as the receiver saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Got {
    pub signo: i32,
    pub code: i32,
    pub pid: i32,
    pub uid: u32,
}

/// Dequeue every pending signal of the calling thread (which must block
/// them), without waiting.
pub fn drain_pending() -> Vec<Got> {
    let mut out = Vec::new();
    let set: u64 = !0;
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        // SAFETY: zeroed siginfo_t is a valid buffer.
        let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid set, siginfo and timespec; sigsetsize 8.
        let r = unsafe {
            libc::syscall(
                libc::SYS_rt_sigtimedwait,
                &set as *const u64,
                &mut si as *mut libc::siginfo_t,
                &ts as *const libc::timespec,
                8,
            )
        };
        if r <= 0 {
            break;
        }
        // SAFETY: the kernel filled a SI_USER-style siginfo (pid/uid valid
        // for kill-like codes; garbage-free zero otherwise).
        let (pid, uid) = unsafe { (si.si_pid(), si.si_uid()) };
        out.push(Got {
            signo: si.si_signo,
            code: si.si_code,
            pid,
            uid,
        });
        if out.len() > 200 {
            break;
        }
    }
    out
}

/// A status field (`SigPnd`, `ShdPnd`, `SigBlk`...) of /proc/<path>/status as a mask.
pub fn status_mask(status_path: &str, key: &str) -> Result<u64, String> {
    let t = util::read_file(status_path)?;
    let v = t
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .ok_or_else(|| format!("no {key} in {status_path}"))?;
    u64::from_str_radix(v.trim(), 16).map_err(|e| format!("{key} {v:?}: {e}"))
}

/// (SigPnd, ShdPnd) of a process (its leader thread).
pub fn pending(pid: i32) -> Result<(u64, u64), String> {
    let p = format!("/proc/{pid}/status");
    Ok((status_mask(&p, "SigPnd")?, status_mask(&p, "ShdPnd")?))
}

/// The bit of `sig` in a signal mask.
pub const fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Signal numbers set in a mask, for messages.
pub fn sigs_of(mask: u64) -> Vec<i32> {
    (1..=64).filter(|&s| mask & bit(s) != 0).collect()
}

// ---------------------------------------------------------------- pipes --

/// A pipe (both ends without O_CLOEXEC unless asked).
pub struct Pipe {
    pub rd: OwnedFd,
    pub wr: OwnedFd,
}

impl Pipe {
    pub fn new(cloexec: bool) -> Result<Pipe, String> {
        let mut fds = [0; 2];
        let flags = if cloexec { libc::O_CLOEXEC } else { 0 };
        // SAFETY: valid array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), flags) } < 0 {
            return util::os_err("pipe2");
        }
        // SAFETY: new fds we own.
        Ok(unsafe {
            Pipe {
                rd: OwnedFd::from_raw_fd(fds[0]),
                wr: OwnedFd::from_raw_fd(fds[1]),
            }
        })
    }
}

/// Write all of `data` to `fd` (ignores errors: used in children).
pub fn put(fd: RawFd, data: &[u8]) {
    let mut off = 0;
    while off < data.len() {
        match write_fd(fd, &data[off..]) {
            Ok(n) => off += n,
            Err(libc::EINTR) => continue,
            Err(_) => return,
        }
    }
}

/// Read exactly `n` bytes from `fd` within `timeout`.
pub fn get(fd: RawFd, n: usize, timeout: Duration) -> Result<Vec<u8>, String> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "timed out reading {n} bytes from a pipe (got {})",
                out.len()
            ));
        }
        let rev = poll_fd(fd, left.as_millis().clamp(1, i32::MAX as u128) as i32)?;
        if rev == 0 {
            continue;
        }
        let mut buf = vec![0u8; n - out.len()];
        // SAFETY: valid buffer.
        let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if r < 0 {
            if errno() == libc::EINTR || errno() == libc::EAGAIN {
                continue;
            }
            return util::os_err("read pipe");
        }
        if r == 0 {
            return Err(format!("EOF on pipe after {} of {n} bytes", out.len()));
        }
        out.extend_from_slice(&buf[..r as usize]);
    }
    Ok(out)
}

/// Read until EOF (or `timeout`), as text.
pub fn read_to_eof(fd: RawFd, timeout: Duration) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "timed out waiting for EOF; read so far: {:?}",
                String::from_utf8_lossy(&out)
            ));
        }
        let rev = poll_fd(fd, left.as_millis().clamp(1, i32::MAX as u128) as i32)?;
        if rev == 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        // SAFETY: valid buffer.
        let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if r < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return util::os_err("read");
        }
        if r == 0 {
            return Ok(String::from_utf8_lossy(&out).into_owned());
        }
        out.extend_from_slice(&buf[..r as usize]);
    }
}

/// Read one line (up to `\n`) from a pipe within `timeout`.
pub fn get_line(fd: RawFd, timeout: Duration) -> Result<String, String> {
    let mut s = Vec::new();
    loop {
        let b = get(fd, 1, timeout)?;
        if b[0] == b'\n' {
            return Ok(String::from_utf8_lossy(&s).into_owned());
        }
        s.push(b[0]);
    }
}

/// Sleep `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

// ------------------------------------------------------- signal target --

/// A forked child that blocks every signal and serves commands over a
/// pipe: `d` drains its pending signals and reports them, `u` changes its
/// uids, `t` reports a thread's id (if started with a thread).
pub struct Target {
    pub child: Child,
    cmd: OwnedFd,
    reply: OwnedFd,
}

fn serve(cmd: RawFd, reply: RawFd) -> ! {
    loop {
        let mut c = [0u8; 13];
        // SAFETY: valid buffer.
        let n = unsafe { libc::read(cmd, c.as_mut_ptr().cast(), 1) };
        if n <= 0 {
            if n < 0 && errno() == libc::EINTR {
                continue;
            }
            // SAFETY: leaving the child.
            unsafe { libc::_exit(0) };
        }
        match c[0] {
            b'd' => {
                let got = drain_pending();
                let mut out = Vec::new();
                out.extend_from_slice(&(got.len() as u32).to_le_bytes());
                for g in got {
                    out.extend_from_slice(&g.signo.to_le_bytes());
                    out.extend_from_slice(&g.code.to_le_bytes());
                    out.extend_from_slice(&g.pid.to_le_bytes());
                    out.extend_from_slice(&g.uid.to_le_bytes());
                }
                put(reply, &out);
            }
            b'u' => {
                let mut a = [0u8; 12];
                let mut off = 0;
                while off < 12 {
                    // SAFETY: valid buffer.
                    let n = unsafe { libc::read(cmd, a[off..].as_mut_ptr().cast(), 12 - off) };
                    if n <= 0 {
                        // SAFETY: leaving the child.
                        unsafe { libc::_exit(0) };
                    }
                    off += n as usize;
                }
                let v = |i: usize| u32::from_le_bytes(a[i * 4..i * 4 + 4].try_into().unwrap());
                // SAFETY: plain syscall.
                let r = unsafe { libc::setresuid(v(0), v(1), v(2)) };
                let e: i32 = if r < 0 { errno() } else { 0 };
                put(reply, &e.to_le_bytes());
            }
            _ => put(reply, b"?"),
        }
    }
}

impl Target {
    /// Fork a target; `uids` = setresuid() applied before it serves.
    pub fn spawn(uids: Option<(u32, u32, u32)>) -> Result<Target, String> {
        let c = Pipe::new(true)?;
        let r = Pipe::new(true)?;
        let (crd, rwr) = (c.rd.as_raw_fd(), r.wr.as_raw_fd());
        let child = util::fork_fn(move || {
            block_all_signals();
            if let Some((a, b, cc)) = uids {
                // SAFETY: plain syscall.
                if unsafe { libc::setresuid(a, b, cc) } < 0 {
                    return util::os_err("setresuid");
                }
            }
            put(rwr, b"R");
            serve(crd, rwr)
        })?;
        drop(c.rd);
        drop(r.wr);
        let t = Target {
            child,
            cmd: c.wr,
            reply: r.rd,
        };
        let b = get(t.reply.as_raw_fd(), 1, Duration::from_secs(20))?;
        if b != b"R" {
            return Err(format!("target did not start: {b:?}"));
        }
        Ok(t)
    }

    pub fn pid(&self) -> i32 {
        self.child.pid()
    }

    /// Dequeue and return everything pending (process and thread queues).
    pub fn drain(&self) -> Result<Vec<Got>, String> {
        put(self.cmd.as_raw_fd(), b"d");
        let rd = self.reply.as_raw_fd();
        let n = u32::from_le_bytes(get(rd, 4, Duration::from_secs(20))?.try_into().unwrap());
        let mut out = Vec::new();
        for _ in 0..n {
            let b = get(rd, 16, Duration::from_secs(20))?;
            let w = |i: usize| i32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
            out.push(Got {
                signo: w(0),
                code: w(1),
                pid: w(2),
                uid: w(3) as u32,
            });
        }
        Ok(out)
    }

    /// Signal numbers pending now (drained).
    pub fn drain_sigs(&self) -> Result<Vec<i32>, String> {
        Ok(self.drain()?.into_iter().map(|g| g.signo).collect())
    }

    /// setresuid(r, e, s) in the target.
    pub fn setresuid(&self, r: u32, e: u32, s: u32) -> Result<(), String> {
        let mut m = vec![b'u'];
        for v in [r, e, s] {
            m.extend_from_slice(&v.to_le_bytes());
        }
        put(self.cmd.as_raw_fd(), &m);
        let b = get(self.reply.as_raw_fd(), 4, Duration::from_secs(20))?;
        let e = i32::from_le_bytes(b.try_into().unwrap());
        if e != 0 {
            return Err(format!("target setresuid: {}", errno_name(e)));
        }
        Ok(())
    }

    /// (SigPnd, ShdPnd) of the target.
    pub fn pending(&self) -> Result<(u64, u64), String> {
        pending(self.pid())
    }
}

// ------------------------------------------------------------ SCM_RIGHTS --

/// A connected AF_UNIX stream socket pair.
pub fn socketpair() -> Result<(OwnedFd, OwnedFd), String> {
    let mut fds = [0; 2];
    // SAFETY: valid array.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    } < 0
    {
        return util::os_err("socketpair");
    }
    // SAFETY: new fds we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// `sendmsg(2)` of `data` with `fd` attached as SCM_RIGHTS: the bytes sent,
/// or the errno.
pub fn sendmsg_fd(sock: RawFd, fd: RawFd, data: &[u8], flags: i32) -> Result<usize, i32> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut cbuf = vec![0u8; space];
    // SAFETY: zeroed msghdr is valid; we fill the fields below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: the control buffer holds one cmsg with room for one fd; the
    // kernel only reads `data` through the iovec.
    let r = unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd);
        libc::sendmsg(sock, &msg, flags)
    };
    if r < 0 {
        Err(errno())
    } else {
        Ok(r as usize)
    }
}

/// `recvmsg(2)` into `data` (`MSG_CMSG_CLOEXEC` is added to `flags`): the
/// bytes received and the fd that came with them as SCM_RIGHTS, if any; or
/// the errno.
pub fn recvmsg_fd(
    sock: RawFd,
    data: &mut [u8],
    flags: i32,
) -> Result<(usize, Option<OwnedFd>), i32> {
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: pure computation.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut cbuf = vec![0u8; space];
    // SAFETY: zeroed msghdr is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: valid msghdr with buffers.
    let r = unsafe { libc::recvmsg(sock, &mut msg, flags | libc::MSG_CMSG_CLOEXEC) };
    if r < 0 {
        return Err(errno());
    }
    // SAFETY: we read the cmsg the kernel wrote, if any; its fd is new and
    // ours.
    let fd = unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (!c.is_null() && (*c).cmsg_type == libc::SCM_RIGHTS).then(|| {
            OwnedFd::from_raw_fd(std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>()))
        })
    };
    Ok((r as usize, fd))
}

/// Send `fd` over `sock` with SCM_RIGHTS (one data byte).
pub fn send_fd(sock: RawFd, fd: RawFd) -> Result<(), String> {
    sendmsg_fd(sock, fd, b"F", 0)
        .map(drop)
        .map_err(|e| format!("sendmsg: {}", errno_name(e)))
}

/// Receive one fd sent with [`send_fd`], waiting at most `timeout`.
pub fn recv_fd(sock: RawFd, timeout: Duration) -> Result<OwnedFd, String> {
    if poll_fd(sock, timeout.as_millis() as i32)? == 0 {
        return Err("timed out waiting for an fd over SCM_RIGHTS".into());
    }
    match recvmsg_fd(sock, &mut [0u8; 1], 0) {
        Err(e) => Err(format!("recvmsg: -1 {}", errno_name(e))),
        Ok((0, _)) => Err("recvmsg: 0 (end of stream)".into()),
        Ok((_, None)) => Err("no SCM_RIGHTS in the message".into()),
        Ok((_, Some(fd))) => Ok(fd),
    }
}

// --------------------------------------------------------- exec target --

/// A copy of this test binary at another path, so `/proc/<pid>/exe`
/// tells the images apart.
pub const EXEC_TARGET: &str = "/tmp/pk-exec-target";

/// Make sure [`EXEC_TARGET`] exists (a copy of /proc/self/exe).
pub fn ensure_exec_target() -> Result<&'static str, String> {
    if std::path::Path::new(EXEC_TARGET).exists() {
        return Ok(EXEC_TARGET);
    }
    let tmp = format!("{EXEC_TARGET}.{}", std::process::id());
    std::fs::copy("/proc/self/exe", &tmp).map_err(|e| format!("copy exe to {tmp}: {e}"))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod {tmp}: {e}"))?;
    std::fs::rename(&tmp, EXEC_TARGET).map_err(|e| format!("rename {tmp}: {e}"))?;
    Ok(EXEC_TARGET)
}

/// Our own executable's path (what `exe` shows before an exec).
pub fn self_exe() -> Result<String, String> {
    std::fs::read_link("/proc/self/exe")
        .map(|p| p.to_string_lossy().into_owned())
        .map_err(|e| format!("readlink /proc/self/exe: {e}"))
}

/// Prepared execve(2) arguments (built before fork: no allocation after).
pub struct ExecArgs {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
}

impl ExecArgs {
    pub fn new(path: &str, args: &[&str], env: &[(&str, String)]) -> ExecArgs {
        let mut envp: Vec<CString> = env
            .iter()
            .map(|(k, v)| CString::new(format!("{k}={v}")).unwrap())
            .collect();
        envp.push(CString::new("PATH=/usr/bin:/bin").unwrap());
        ExecArgs {
            path: CString::new(path).unwrap(),
            argv: args.iter().map(|a| CString::new(*a).unwrap()).collect(),
            envp,
        }
    }

    /// execve(2); returns only on failure (errno).
    pub fn exec(&self) -> i32 {
        let mut argv: Vec<*const libc::c_char> = self.argv.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<*const libc::c_char> = self.envp.iter().map(|a| a.as_ptr()).collect();
        envp.push(std::ptr::null());
        // SAFETY: NULL-terminated arrays of valid C strings.
        unsafe { libc::execve(self.path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        errno()
    }
}

/// Set the disposition of `sig` to SIG_IGN.
pub fn ignore(sig: i32) {
    // SAFETY: plain syscall wrapper.
    unsafe { libc::signal(sig, libc::SIG_IGN) };
}

/// Install a plain handler (no SA_RESTART) for `sig`.
pub fn handle(sig: i32, f: extern "C" fn(i32)) {
    // SAFETY: zeroed sigaction with a valid handler.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = f as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

extern "C" fn exit42(_: i32) {
    // SAFETY: async-signal-safe.
    unsafe { libc::_exit(USR1_EXIT) };
}

static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

extern "C" fn count_sig(_: i32) {
    COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

fn env_i(k: &str) -> Option<i64> {
    std::env::var(k).ok()?.parse().ok()
}

/// Sleep until `deadline`, through signal interruptions.
fn sleep_until(deadline: Instant) {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let ts = libc::timespec {
            tv_sec: left.as_secs() as _,
            tv_nsec: left.subsec_nanos() as _,
        };
        // SAFETY: valid timespec.
        unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
    }
}

/// The hidden modes of the test binary used as an exec target, selected
/// by the environment variable `PK_EXEC_TARGET`. Returns the exit status,
/// or `None` to run the test suite.
///
/// - `usr1`: SIGUSR1 exits 42; writes `R` to fd `PK_READY_FD` once the
///   handler is installed, then lives `PK_LIFE_MS` (default 20000) ms and
///   exits 0.
/// - `chain`: counts SIGUSR1 for `PK_LIFE_MS` ms, reports `idx count` on fd
///   `PK_REPORT_FD`, sets SIGUSR1 to SIG_IGN and execs itself with
///   `PK_IDX+1` while `PK_IDX < PK_LAST`. Image 0 first writes `R` and
///   waits for a byte on fd `PK_GO_FD`.
pub fn exec_target_main() -> Option<i32> {
    let mode = std::env::var("PK_EXEC_TARGET").ok()?;
    let life = env_i("PK_LIFE_MS").unwrap_or(20000) as u64;
    match mode.as_str() {
        "usr1" => {
            handle(libc::SIGUSR1, exit42);
            unblock_all_signals();
            if let Some(fd) = env_i("PK_READY_FD") {
                put(fd as RawFd, b"R");
            }
            sleep_until(Instant::now() + Duration::from_millis(life));
            Some(0)
        }
        "chain" => {
            let idx = env_i("PK_IDX").unwrap_or(0);
            let last = env_i("PK_LAST").unwrap_or(0);
            let report = env_i("PK_REPORT_FD").unwrap_or(-1) as RawFd;
            handle(libc::SIGUSR1, count_sig);
            unblock_all_signals();
            if idx == 0 {
                put(report, b"R\n");
                if let Some(go) = env_i("PK_GO_FD") {
                    let mut b = [0u8; 1];
                    // SAFETY: valid buffer.
                    while unsafe { libc::read(go as RawFd, b.as_mut_ptr().cast(), 1) } < 0 {}
                }
            }
            sleep_until(Instant::now() + Duration::from_millis(life));
            ignore(libc::SIGUSR1);
            let n = COUNT.load(std::sync::atomic::Ordering::Relaxed);
            put(report, format!("{idx} {n}\n").as_bytes());
            if idx < last {
                let next = (idx + 1).to_string();
                let env: Vec<(&str, String)> =
                    ["PK_EXEC_TARGET", "PK_LIFE_MS", "PK_LAST", "PK_REPORT_FD"]
                        .iter()
                        .filter_map(|k| std::env::var(k).ok().map(|v| (*k, v)))
                        .chain(std::iter::once(("PK_IDX", next)))
                        .collect();
                let a = ExecArgs::new(EXEC_TARGET, &["pk-exec-target"], &env);
                let e = a.exec();
                put(
                    report,
                    format!("exec failed {}\n", errno_name(e)).as_bytes(),
                );
                return Some(3);
            }
            Some(0)
        }
        "thread-exec" => {
            // A second non-leader exec: a new thread execs the `usr1` image
            // (with this image's PK_READY_FD and PK_LIFE_MS), at once or
            // after PK_SPAWN_DELAY_MS.
            ignore(libc::SIGUSR1);
            unblock_all_signals();
            let ready = env_i("PK_READY_FD").map(|fd| fd as RawFd);
            let args = match usr1_target(ready, life) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("thread-exec: {e}");
                    return Some(3);
                }
            };
            // The old leader's task_struct is freed an RCU grace period
            // after the exec that released it; wait for that, so that the
            // new thread's task_struct can take its slot (the test wants
            // the reuse to be likely).
            if let Some(ms) = env_i("PK_SPAWN_DELAY_MS") {
                sleep_until(Instant::now() + Duration::from_millis(ms as u64));
            }
            let h = std::thread::spawn(move || args.exec());
            let e = h.join().unwrap_or(0);
            eprintln!("thread-exec: execve: {}", errno_name(e));
            Some(3)
        }
        other => {
            eprintln!("PK_EXEC_TARGET: unknown mode {other:?}");
            Some(2)
        }
    }
}

/// The exit status of the exec target's `usr1` image when SIGUSR1 reaches it.
pub const USR1_EXIT: i32 = 42;

/// Exec arguments for the exec target in `usr1` mode: SIGUSR1 exits
/// [`USR1_EXIT`]; it writes `R` on `ready_fd` (if any) once its handler is
/// in place, and otherwise lives `life_ms` and exits 0.
pub fn usr1_target(ready_fd: Option<RawFd>, life_ms: u64) -> Result<ExecArgs, String> {
    let target = ensure_exec_target()?;
    let mut env = vec![("PK_EXEC_TARGET", "usr1".to_string())];
    if let Some(fd) = ready_fd {
        env.push(("PK_READY_FD", fd.to_string()));
    }
    env.push(("PK_LIFE_MS", life_ms.to_string()));
    Ok(ExecArgs::new(target, &["pk-exec-target"], &env))
}

/// The exec target in `chain` mode, started: image 0 has reported `R` on
/// [`report`](Self::report) and waits for [`go`](Self::go); then it and
/// `last` more images, each exec'ing the next, count SIGUSR1 for `life_ms`
/// and report `<image> <count>` lines. The report pipe reaches EOF when the
/// last image exits.
pub struct ExecChain {
    pub child: Child,
    pub report: OwnedFd,
    go: OwnedFd,
}

impl ExecChain {
    pub fn spawn(last: u32, life_ms: u32) -> Result<ExecChain, String> {
        let target = ensure_exec_target()?;
        let report = Pipe::new(false)?;
        let go = Pipe::new(false)?;
        let args = ExecArgs::new(
            target,
            &["pk-exec-target"],
            &[
                ("PK_EXEC_TARGET", "chain".into()),
                ("PK_IDX", "0".into()),
                ("PK_LAST", last.to_string()),
                ("PK_LIFE_MS", life_ms.to_string()),
                ("PK_REPORT_FD", report.wr.as_raw_fd().to_string()),
                ("PK_GO_FD", go.rd.as_raw_fd().to_string()),
            ],
        );
        let child = util::fork_fn(move || {
            let e = args.exec();
            Err(format!("execve: {}", errno_name(e)))
        })?;
        drop(report.wr);
        drop(go.rd);
        let line = get_line(report.rd.as_raw_fd(), Duration::from_secs(20))?;
        if line != "R" {
            return Err(format!(
                "exec chain: {line:?} on the report pipe, want \"R\""
            ));
        }
        Ok(ExecChain {
            child,
            report: report.rd,
            go: go.wr,
        })
    }

    /// The chain's pid (the same in every image).
    pub fn pid(&self) -> i32 {
        self.child.pid()
    }

    /// Let image 0 start counting (and the chain go on).
    pub fn go(&self) {
        put(self.go.as_raw_fd(), b"g");
    }
}

/// A child that, told to, execs the exec target ([`EXEC_TARGET`] in `usr1`
/// mode: SIGUSR1 exits [`USR1_EXIT`]; otherwise it lives `life_ms` and
/// exits 0). The old image has SIGUSR1 ignored (and unblocked), so a signal
/// that reaches it is discarded at send time and cannot carry over the
/// exec; only a signal sent to the new image, after its handler is
/// installed, ends it with [`USR1_EXIT`]. The new image writes `R` to the
/// ready pipe once its handler is in place. The child dies with this
/// process.
pub struct Execer {
    child: Option<Child>,
    pid: i32,
    go: OwnedFd,
    ready: OwnedFd,
}

impl Execer {
    /// Returns once the old image has SIGUSR1 ignored.
    pub fn spawn(life_ms: u64) -> Result<Execer, String> {
        let go = Pipe::new(true)?;
        let ready = Pipe::new(false)?;
        let args = usr1_target(Some(ready.wr.as_raw_fd()), life_ms)?;
        let (grd, rwr) = (go.rd.as_raw_fd(), ready.wr.as_raw_fd());
        let child = util::fork_fn(move || {
            die_with_parent();
            ignore(libc::SIGUSR1);
            unblock_all_signals();
            put(rwr, b"I");
            get(grd, 1, Duration::from_secs(120))?;
            let e = args.exec();
            Err(format!("exec {EXEC_TARGET}: {}", errno_name(e)))
        })?;
        let pid = child.pid();
        let Pipe { rd: ready, .. } = ready;
        let e = Execer {
            child: Some(child),
            pid,
            go: go.wr,
            ready,
        };
        let b = get(e.ready.as_raw_fd(), 1, Duration::from_secs(20))?;
        if b != b"I" {
            return Err(format!("exec target: {b:?} on the ready pipe, want \"I\""));
        }
        Ok(e)
    }

    /// The child's pid (the same before and after the exec).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Let the old image exec.
    pub fn go(&self) {
        put(self.go.as_raw_fd(), b"g");
    }

    /// Wait until the new image has its SIGUSR1 handler.
    pub fn wait_ready(&self) -> TestResult {
        if !self.wait_ready_or_exit()? {
            return Err("the exec target ended before it was ready".into());
        }
        Ok(())
    }

    /// As [`wait_ready`](Self::wait_ready), but `Ok(false)` if the target
    /// ended first (a SIGUSR1 sent between the handler's installation and
    /// the `R` ends it before it writes `R`; [`finish`](Self::finish) tells).
    pub fn wait_ready_or_exit(&self) -> Result<bool, String> {
        match get(self.ready.as_raw_fd(), 1, Duration::from_secs(20)) {
            Ok(b) if b == b"R" => Ok(true),
            Ok(b) => Err(format!("exec target: {b:?} on the ready pipe")),
            Err(e) if e.starts_with("EOF") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Let it exec, wait until the new image has its handler, and check
    /// that `exe` now shows [`EXEC_TARGET`].
    pub fn exec_now(&self) -> TestResult {
        self.go();
        self.wait_ready()?;
        let exe =
            std::fs::read_link(format!("/proc/{}/exe", self.pid)).map_err(|e| e.to_string())?;
        if exe.to_string_lossy() != EXEC_TARGET {
            return Err(format!(
                "after the exec /proc/{}/exe is {exe:?}, want {EXEC_TARGET}",
                self.pid
            ));
        }
        Ok(())
    }

    /// The new image is still running (not hit by SIGUSR1) after `ms`.
    pub fn still_alive_after(&self, ms: u64) -> TestResult {
        sleep_ms(ms);
        // SAFETY: a zeroed siginfo_t is a valid buffer.
        let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid siginfo buffer; WNOHANG|WNOWAIT on our child.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                self.pid as libc::id_t,
                &mut si,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        // SAFETY: si_pid is valid to read after waitid.
        if r == 0 && unsafe { si.si_pid() } != 0 {
            // SAFETY: filled by waitid.
            let st = unsafe { si.si_status() };
            return Err(format!(
                "the new image exited (status {st}): it got the signal"
            ));
        }
        Ok(())
    }

    /// Wait for the child to end, at most `timeout`.
    pub fn wait_timeout(mut self, timeout: Duration) -> Result<Outcome, String> {
        self.child.take().unwrap().wait_timeout(timeout)
    }

    /// Whether a SIGUSR1 reached the new image (call after
    /// [`wait_ready`](Self::wait_ready) and after every send is complete),
    /// then ends it. A SIGUSR1 sent to the new image wakes it at once and
    /// keeps it from sleeping again: it stays pending or its handler runs
    /// and exits [`USR1_EXIT`]. So once the target is seen asleep (`S`)
    /// with no SIGUSR1 pending, none reached it, and it is killed
    /// (SIGTERM). (Killing it without looking would race: a fatal SIGTERM
    /// kills the whole group at once, before a SIGUSR1 that is pending but
    /// not yet handled.)
    pub fn finish(mut self) -> Result<bool, String> {
        let child = self.child.take().unwrap();
        let stat = format!("/proc/{}/stat", self.pid);
        let asleep = || -> Result<bool, String> {
            Ok(util::read_file(&stat)?
                .rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('S')))
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if asleep().unwrap_or(false) {
                let (shared, private) = pending(self.pid)?;
                // Asleep before and after the pending check: no SIGUSR1
                // can be on its way.
                if (shared | private) & bit(libc::SIGUSR1) == 0 && asleep()? {
                    break;
                }
            }
            if let Some(st) = util::wait_pid_timeout(self.pid, Duration::from_millis(2))? {
                std::mem::forget(child);
                if !(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == USR1_EXIT) {
                    return Err(format!("exec target: unexpected end (status {st:#x})"));
                }
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Err("exec target never settled".into());
            }
        }
        kill(self.pid, libc::SIGTERM).map_err(|e| format!("kill: {}", errno_name(e)))?;
        match child.wait_timeout(Duration::from_secs(5))? {
            Outcome::Signaled(libc::SIGTERM) => Ok(false),
            // Impossible by the reasoning above; count it if it happens.
            Outcome::Exited(USR1_EXIT, _) => Ok(true),
            other => Err(format!("exec target: unexpected end {other:?}")),
        }
    }
}

// ----------------------------------------------------------- misc guard --

/// Restores a /proc/sys or /sys file's content when dropped.
pub struct Restore {
    path: String,
    value: String,
}

impl Restore {
    /// Remember `path`'s value now, then write `new`.
    pub fn set(path: &str, new: &str) -> Result<Restore, String> {
        let value = util::read_file(path)?.trim().to_string();
        util::write_once(path, new.as_bytes())
            .map_err(|e| format!("write {new:?} to {path}: {}", errno_name(e)))?;
        Ok(Restore {
            path: path.to_string(),
            value,
        })
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = util::write_once(&self.path, self.value.as_bytes());
    }
}

/// Wait for a pid to become a zombie without reaping it.
pub fn wait_zombie(pid: i32, timeout: Duration) -> Result<(), String> {
    util::wait_until(timeout, "zombie", || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, r)| r.trim_start().starts_with('Z'))
            })
            .unwrap_or(false)
    })
}

/// `ensure_eq!` with a message: fail unless `left == right`.
macro_rules! eqm {
    ($left:expr, $right:expr, $($fmt:tt)+) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err(format!(
                "{}:{}: {} == {} failed: {:?} != {:?}: {}",
                file!(),
                line!(),
                stringify!($left),
                stringify!($right),
                l,
                r,
                format!($($fmt)+)
            ));
        }
    }};
}
pub(crate) use eqm;

/// SIGKILL the calling process when its parent dies (for grandchildren).
pub fn die_with_parent() {
    // SAFETY: prctl(2) with plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
}

/// The module loaded for a test. Unlike [`util::Loaded`], dropping it
/// retries the unload for a few seconds while the module is still in use,
/// so processes of a failed test that are still exiting (and closing their
/// nodes) do not leave it loaded for the next test.
#[derive(Debug)]
pub struct Mod {
    _priv: (),
}

/// Load the module with `params` (fails if it is loaded already).
pub fn load(params: &str) -> Result<Mod, String> {
    let m = util::load_module(params)?;
    std::mem::forget(m);
    Ok(Mod { _priv: () })
}

impl Mod {
    /// Unload now (one attempt), reporting failure.
    pub fn unload(self) -> crate::harness::TestResult {
        let r = util::rmmod(util::MODULE_NAME);
        std::mem::forget(self);
        r.map_err(|e| format!("rmmod {}: {}", util::MODULE_NAME, errno_name(e)))
    }
}

impl Drop for Mod {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Err(e) = util::rmmod(util::MODULE_NAME) {
            if (e != libc::EAGAIN && e != libc::EBUSY) || Instant::now() >= deadline {
                eprintln!("pk: rmmod after the test: {}", errno_name(e));
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
