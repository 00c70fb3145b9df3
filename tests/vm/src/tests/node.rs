// SPDX-License-Identifier: GPL-2.0

//! `/proc/<pid>/kill`, the kill node (issue 4): presence, the write
//! grammar, binding to the `struct pid` at open (PID reuse), permissions
//! and the opener's authority, thread-directed signals, dead targets,
//! read/poll/ioctl/fdinfo, PID namespaces, unload, stress.

use super::pk::eqm;
use super::pk::{self, bit, kv, node, res, tnode, Got, Pipe, Target};
use crate::harness::{Test, TestResult};
use crate::util::{self, errno, errno_name, Outcome};
use crate::{ensure, ensure_eq};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

pub const TESTS: &[Test] = &[
    Test::new("node/presence", presence),
    Test::new("node/write-kills", write_kills),
    Test::new("node/probe-zero", probe_zero),
    Test::new("node/bad-writes", bad_writes).timeout_secs(180),
    Test::new("node/pid-reuse", pid_reuse).timeout_secs(180),
    Test::new("node/seed-flow", seed_flow),
    Test::new("node/permissions", permissions),
    Test::new("node/permission-matrix", permission_matrix).timeout_secs(120),
    Test::new("node/opener-authority", opener_authority),
    Test::new("node/lsm-landlock", lsm_landlock),
    Test::new("node/siginfo", siginfo),
    Test::new("node/user-namespace", user_namespace),
    Test::new("node/unmapped-opener-uid", unmapped_opener_uid),
    Test::new("node/thread-directed", thread_directed),
    Test::new("node/dead-target", dead_target),
    Test::new("node/dead-thread", dead_thread),
    Test::new("node/kernel-thread", kernel_thread),
    Test::new("node/read-text", read_text),
    Test::new("node/poll", poll),
    Test::new("node/ioctl", ioctl),
    Test::new("node/fdinfo", fdinfo),
    Test::new("node/pid-namespace", pid_namespace),
    Test::new("node/unload-busy", unload_busy),
    Test::new("node/unload-cached-dentry", unload_cached_dentry),
    Test::new("node/unload-opath", unload_opath),
    Test::new("node/dentry-cache", dentry_cache),
    Test::new("node/readdir-positions", readdir_positions),
    Test::new("node/reload", reload),
    Test::new("node/stress", stress).timeout_secs(120),
];

const T5: Duration = Duration::from_secs(5);
const T20: Duration = Duration::from_secs(20);

/// A child that waits (pause loop) until killed.
fn sleeper() -> Result<util::Child, String> {
    util::fork_fn(|| loop {
        // SAFETY: pause(2).
        unsafe { libc::pause() };
    })
}

/// All names of a directory in readdir order, "." and ".." included.
fn listing(path: &str) -> Result<Vec<String>, String> {
    let c = std::ffi::CString::new(path).unwrap();
    // SAFETY: valid C string; the DIR is closed below.
    let d = unsafe { libc::opendir(c.as_ptr()) };
    if d.is_null() {
        return util::os_err(&format!("opendir {path}"));
    }
    let mut out = Vec::new();
    loop {
        // SAFETY: `d` is an open DIR.
        let e = unsafe { libc::readdir(d) };
        if e.is_null() {
            break;
        }
        // SAFETY: d_name is NUL-terminated.
        let n = unsafe { std::ffi::CStr::from_ptr((*e).d_name.as_ptr()) };
        out.push(n.to_string_lossy().into_owned());
    }
    // SAFETY: closing the DIR we opened.
    unsafe { libc::closedir(d) };
    Ok(out)
}

/// lstat(2) mode, or errno.
fn lstat_mode(path: &str) -> Result<u32, i32> {
    let c = std::ffi::CString::new(path).unwrap();
    // SAFETY: zeroed stat buffer, valid C string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::lstat(c.as_ptr(), &mut st) } < 0 {
        return Err(errno());
    }
    Ok(st.st_mode)
}

fn fstat_ino(fd: RawFd) -> Result<u64, String> {
    // SAFETY: zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and buffer.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return util::os_err("fstat");
    }
    Ok(st.st_ino)
}

/// Field 22 (starttime, clock ticks) of /proc/<pid>/stat.
fn stat_starttime(pid: i32) -> Result<u64, String> {
    let s = util::read_file(&format!("/proc/{pid}/stat"))?;
    let rest = s.rsplit_once(')').ok_or("bad stat")?.1;
    // Fields after the comm start at field 3.
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(22 - 3)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no starttime in {s:?}"))
}

/// Presence: "kill" is listed last in /proc/<pid> and /proc/<pid>/task/<tid>
/// and is the only difference from the listing without the module; every
/// other entry looks up as before; nothing is left after unload.
fn presence() -> TestResult {
    let me = std::process::id() as i32;
    let (dir, tdir) = (format!("/proc/{me}"), format!("/proc/{me}/task/{me}"));
    let before = listing(&dir)?;
    let tbefore = listing(&tdir)?;
    ensure!(
        !before.contains(&"kill".to_string()),
        "kill listed without the module"
    );
    let modes: Vec<(String, Result<u32, i32>)> = before
        .iter()
        .filter(|n| *n != "." && *n != "..")
        .map(|n| (n.clone(), lstat_mode(&format!("{dir}/{n}"))))
        .collect();
    ensure_eq!(lstat_mode(&format!("{dir}/kill")), Err(libc::ENOENT));

    let m = pk::load("")?;
    for (d, b) in [(&dir, &before), (&tdir, &tbefore)] {
        let after = listing(d)?;
        ensure_eq!(after.last().map(|s| s.as_str()), Some("kill"));
        let mut without = after.clone();
        without.pop();
        ensure!(
            &without == b,
            "{d}: listing with the module minus kill differs:\n with {after:?}\n without {b:?}"
        );
        ensure_eq!(after.iter().filter(|n| *n == "kill").count(), 1);
    }
    for (n, mode) in &modes {
        let now = lstat_mode(&format!("{dir}/{n}"));
        ensure!(
            now == *mode,
            "lookup of {n}: {now:?} with the module, {mode:?} without"
        );
    }
    ensure_eq!(
        lstat_mode(&format!("{dir}/kill")),
        Ok(libc::S_IFREG | 0o666)
    );
    ensure_eq!(
        lstat_mode(&format!("{tdir}/kill")),
        Ok(libc::S_IFREG | 0o666)
    );
    for bad in ["kil", "kills", "KILL", "kill.", "killx"] {
        ensure_eq!(lstat_mode(&format!("{dir}/{bad}")), Err(libc::ENOENT));
    }
    // A regular file from procfs still reads the same.
    let status = util::read_file(&format!("{dir}/status"))?;
    ensure!(status.starts_with("Name:"), "status: {status:?}");
    // Another process, through ls(1).
    let c = sleeper()?;
    let (code, out) = util::sh(&format!("ls /proc/{0} /proc/{0}/task/{0}", c.pid()))?;
    ensure_eq!(code, 0);
    eqm!(
        out.split_whitespace().filter(|w| *w == "kill").count(),
        2,
        "ls: {out}"
    );
    drop(c);

    m.unload()?;
    ensure!(listing(&dir)? == before, "listing after unload differs");
    ensure!(
        listing(&tdir)? == tbefore,
        "task listing after unload differs"
    );
    ensure_eq!(lstat_mode(&format!("{dir}/kill")), Err(libc::ENOENT));
    Ok(())
}

/// Writes by number and by name kill a child; success returns the count.
fn write_kills() -> TestResult {
    let _m = pk::load("")?;
    for (w, sig) in [
        (&b"9"[..], libc::SIGKILL),
        (b"SIGTERM\n", libc::SIGTERM),
        (b"TERM", libc::SIGTERM),
        (b" HUP ", libc::SIGHUP),
        (b"RTMIN+3", 37),
    ] {
        let c = sleeper()?;
        let r = util::write_once(&node(c.pid()), w);
        ensure!(r == Ok(w.len()), "write {w:?}: {}", res(r));
        ensure_eq!(c.wait_timeout(T20)?, Outcome::Signaled(sig));
    }
    Ok(())
}

/// "0" probes: success, nothing delivered.
fn probe_zero() -> TestResult {
    let _m = pk::load("")?;
    let t = Target::spawn(None)?;
    let fd = pk::open_s(&node(t.pid()), libc::O_WRONLY)?;
    ensure_eq!(pk::write_fd(fd.as_raw_fd(), b"0"), Ok(1));
    ensure_eq!(pk::write_fd(fd.as_raw_fd(), b"0\n"), Ok(2));
    ensure_eq!(pk::write_fd(fd.as_raw_fd(), b"SIG0"), Err(libc::EINVAL));
    ensure_eq!(pk::ioc_send(fd.as_raw_fd(), 0, 0), Ok(()));
    ensure_eq!(t.pending()?, (0, 0));
    ensure_eq!(t.drain_sigs()?, Vec::<i32>::new());
    // The file offset plays no part: pwrite at any offset is one signal.
    // SAFETY: valid buffer.
    let r = unsafe { libc::pwrite(fd.as_raw_fd(), c"USR1".as_ptr().cast(), 4, 12345) };
    ensure_eq!(r, 4);
    ensure_eq!(t.drain_sigs()?, vec![libc::SIGUSR1]);
    Ok(())
}

/// The shared vectors: `(bytes, Some(sig) | None for EINVAL)`.
/// One write and its expected signal (`None`: EINVAL).
type Case = (Vec<u8>, Option<i32>);

#[path = "../../../vectors/vectors.rs"]
mod vector_file;

fn vectors() -> Result<Vec<Case>, String> {
    vector_file::parse(include_str!("../../../vectors/signals.txt"))?
        .into_iter()
        .map(|v| {
            let sig = v.expected.map(i32::try_from).transpose();
            Ok((
                v.input,
                sig.map_err(|e| format!("signals.txt:{}: {e}", v.line))?,
            ))
        })
        .collect()
}

/// Bad writes (the EINVAL vectors, 40+ of our own, > 32 bytes) fail with
/// EINVAL and leave nothing pending on a target that blocks every signal;
/// the valid vectors deliver exactly their signal, once.
fn bad_writes() -> TestResult {
    let _m = pk::load("")?;
    let t = Target::spawn(None)?;
    let fd = pk::open_s(&node(t.pid()), libc::O_WRONLY)?;
    let fd = fd.as_raw_fd();
    let mut cases = vectors()?;
    let (n_bad, n_ok) = (
        cases.iter().filter(|c| c.1.is_none()).count(),
        cases.iter().filter(|c| c.1.is_some()).count(),
    );
    ensure!(
        n_bad >= 20 && n_ok >= 20,
        "vectors: {n_bad} bad, {n_ok} good"
    );
    let own: &[&[u8]] = &[
        b"-1",
        b"-9",
        b"+0",
        b"0x9",
        b"9.",
        b"9,",
        b"9;",
        b"SIG_TERM",
        b"Sigkill",
        b"TERM!",
        b"KILL9",
        b"SIGKILL9",
        b"9 9",
        b"9\x0b9",
        b"USR3",
        b"SIGUSR",
        b"RT",
        b"RTMIN+x",
        b"RTMAX+0",
        b"RTMIN-0",
        b"RTMAX+1",
        b"kill",
        b"\x80",
        "\u{663}".as_bytes(),
        "\u{661}\u{665}".as_bytes(),
        "15\u{a0}".as_bytes(),
        "\u{3000}15".as_bytes(),
        b"65\n",
        b"256",
        b"1\x000",
        b"TERM\x00",
        b"SIGRTMIN+",
        b"  ",
        b"",
        b"\x1b[A",
        b"'15'",
        b"\"TERM\"",
        b"15\\n",
        b"SIGTERM SIGTERM",
        b"0 0",
        b"4294967306",
        b"18446744073709551625",
        &[b'9'; 33],
        &[b' '; 4096],
    ];
    for w in own {
        cases.push((w.to_vec(), None));
    }
    let mut long = vec![b' '; 31];
    long.extend_from_slice(b"15");
    cases.push((long, None));
    let mut fails = Vec::new();
    for (w, exp) in &cases {
        if matches!(exp, Some(9) | Some(19)) {
            // SIGKILL and SIGSTOP cannot be blocked: node/write-kills covers them.
            continue;
        }
        let r = pk::write_fd(fd, w);
        match exp {
            None => {
                if r != Err(libc::EINVAL) {
                    fails.push(format!("{w:?}: {} (want EINVAL)", res(r)));
                }
                let p = t.pending()?;
                if p != (0, 0) {
                    fails.push(format!("{w:?}: pending after EINVAL: {p:x?}"));
                    t.drain()?;
                }
            }
            Some(sig) => {
                if r != Ok(w.len()) {
                    fails.push(format!("{w:?}: {} (want Ok({}))", res(r), w.len()));
                    continue;
                }
                let (sigpnd, shdpnd) = t.pending()?;
                let want = if *sig == 0 { 0 } else { bit(*sig) };
                if (sigpnd, shdpnd) != (0, want) {
                    fails.push(format!(
                        "{w:?}: SigPnd {sigpnd:x} ShdPnd {shdpnd:x}, want 0 {want:x}"
                    ));
                }
                let got = t.drain_sigs()?;
                let want: Vec<i32> = if *sig == 0 { vec![] } else { vec![*sig] };
                if got != want {
                    fails.push(format!("{w:?}: target got {got:?}, want {want:?}"));
                }
            }
        }
    }
    // A write from an unmapped buffer is EFAULT, not a signal.
    // SAFETY: the kernel validates the user pointer.
    let r = unsafe { libc::write(fd, 8 as *const libc::c_void, 2) };
    ensure!(
        r < 0 && errno() == libc::EFAULT,
        "write from a bad pointer: {r} {}",
        errno_name(errno())
    );
    ensure_eq!(t.drain_sigs()?, Vec::<i32>::new());
    ensure!(
        fails.is_empty(),
        "{} of {} cases wrong:\n{}",
        fails.len(),
        cases.len(),
        fails.join("\n")
    );
    Ok(())
}

/// Raw fork: the child becomes a blocked-signal waiter if `f(pid)`, else
/// exits at once and is reaped. Returns the child's pid.
fn fork_if(keep: impl Fn(i32) -> bool, ready: RawFd) -> Result<(i32, bool), String> {
    // SAFETY: the child runs only async-signal-safe syscalls then _exit/pause.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return util::os_err("fork");
    }
    if pid == 0 {
        // SAFETY: getpid(2).
        let me = unsafe { libc::getpid() };
        if !keep(me) {
            // SAFETY: leaving the child.
            unsafe { libc::_exit(0) };
        }
        pk::block_all_signals();
        pk::put(ready, b"N");
        loop {
            // SAFETY: pause(2).
            unsafe { libc::pause() };
        }
    }
    let kept = keep(pid);
    if !kept {
        // SAFETY: reaping our child.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
    }
    Ok((pid, kept))
}

fn kill_reap(pid: i32) {
    // SAFETY: our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
}

/// PID reuse: the node of a dead process never reaches the newcomer that
/// holds its PID (ESRCH, nothing pending); plain kill(2) does (the control).
fn pid_reuse() -> TestResult {
    let _m = pk::load("")?;
    // Small PID space: after a wrap, PIDs are handed out from 300 upwards.
    let _pm = pk::Restore::set("/proc/sys/kernel/pid_max", "400")?;
    let ready = Pipe::new(true)?;
    let rfd = ready.wr.as_raw_fd();
    // The target: the first child with a PID of 300 or more.
    let mut old = 0;
    for _ in 0..1000 {
        let (pid, kept) = fork_if(|p| p >= 300, rfd)?;
        if kept {
            old = pid;
            break;
        }
    }
    ensure!(old >= 300, "no PID >= 300 after 1000 forks");
    pk::get(ready.rd.as_raw_fd(), 1, T20)?;
    let fd = pk::open_s(&node(old), libc::O_WRONLY)?;
    let fd = fd.as_raw_fd();
    let ino_old = pk::info_s(fd)?.pidfs_ino;
    ensure_eq!(pk::write_fd(fd, b"0"), Ok(1));
    kill_reap(old);
    ensure_eq!(pk::write_fd(fd, b"USR1"), Err(libc::ESRCH));
    // Cycle through the PID space until a newcomer gets `old`.
    let t0 = Instant::now();
    let mut forks = 0;
    let mut found = false;
    while forks < 2000 {
        forks += 1;
        let (_, kept) = fork_if(|p| p == old, rfd)?;
        if kept {
            found = true;
            break;
        }
    }
    ensure!(found, "PID {old} not reused after {forks} forks");
    println!(
        "node/pid-reuse: PID {old} reused after {forks} forks in {:?}",
        t0.elapsed()
    );
    let guard = scopeguard(old);
    pk::get(ready.rd.as_raw_fd(), 1, T20)?;
    ensure_eq!(pk::pending(old)?, (0, 0));
    // The old node: ESRCH for every write and SEND, nothing reaches the newcomer.
    for w in [&b"USR1"[..], b"10", b"TERM", b"0"] {
        let r = pk::write_fd(fd, w);
        ensure!(r == Err(libc::ESRCH), "old node write {w:?}: {}", res(r));
    }
    ensure_eq!(pk::ioc_send(fd, 10, 0), Err(libc::ESRCH));
    let i = pk::info_s(fd)?;
    ensure_eq!(i.state, pk::STATE_EXITED);
    let pidfd = pk::pidfd_open(old).map_err(errno_name)?;
    let ino_new = fstat_ino(pidfd.as_raw_fd())?;
    ensure!(
        ino_new != ino_old,
        "newcomer has the old pidfs inode {ino_old}"
    );
    pk::sleep_ms(50);
    ensure!(
        pk::pending(old)? == (0, 0),
        "newcomer has pending signals: {:x?}",
        pk::pending(old)?
    );
    // A node opened now is bound to the newcomer.
    let fresh = pk::open_s(&node(old), libc::O_WRONLY)?;
    ensure_eq!(pk::write_fd(fresh.as_raw_fd(), b"USR2"), Ok(4));
    ensure_eq!(pk::pending(old)?, (0, bit(libc::SIGUSR2)));
    // Control: kill(2) by number hits the newcomer.
    ensure_eq!(pk::kill(old, libc::SIGUSR1), Ok(()));
    ensure_eq!(
        pk::pending(old)?,
        (0, bit(libc::SIGUSR1) | bit(libc::SIGUSR2))
    );
    drop(guard);
    Ok(())
}

/// Kills and reaps a raw-forked child on drop.
struct Reap(i32);
impl Drop for Reap {
    fn drop(&mut self) {
        kill_reap(self.0);
    }
}
fn scopeguard(pid: i32) -> Reap {
    Reap(pid)
}

/// The seed's flow, literally: open the /proc/<pid> directory, check exe
/// with readlinkat, openat "kill" for writing, write "15".
fn seed_flow() -> TestResult {
    let _m = pk::load("")?;
    let c = sleeper()?;
    let dir = pk::open_s(
        &format!("/proc/{}", c.pid()),
        libc::O_DIRECTORY | libc::O_RDONLY,
    )?;
    let exe = pk::readlinkat(dir.as_raw_fd(), "exe").map_err(errno_name)?;
    ensure_eq!(exe, pk::self_exe()?);
    let k = pk::openat(dir.as_raw_fd(), "kill", libc::O_WRONLY).map_err(errno_name)?;
    ensure_eq!(pk::write_fd(k.as_raw_fd(), b"15"), Ok(2));
    ensure_eq!(c.wait_timeout(T20)?, Outcome::Signaled(libc::SIGTERM));
    Ok(())
}

/// The user cannot open root's node for writing (EPERM), can open it
/// read-only and read it, and can open and use the node of their own process.
fn permissions() -> TestResult {
    let _m = pk::load("")?;
    let root_t = Target::spawn(None)?;
    let rp = root_t.pid();
    util::as_user(move || {
        for (path, flags) in [
            (node(rp), libc::O_WRONLY),
            (node(rp), libc::O_RDWR),
            (tnode(rp, rp), libc::O_WRONLY),
        ] {
            let r = pk::open(&path, flags).map(drop);
            ensure!(
                r == Err(libc::EPERM),
                "user opens {path} ({flags}): {:?}",
                r.map_err(errno_name)
            );
        }
        ensure_eq!(pk::kill(rp, 0), Err(libc::EPERM));
        let ro = pk::open_s(&node(rp), libc::O_RDONLY)?;
        let text = pk::read_text(ro.as_raw_fd()).map_err(errno_name)?;
        ensure_eq!(kv(&text, "pid"), Some(rp.to_string()));
        ensure_eq!(kv(&text, "state"), Some("alive".to_string()));
        ensure_eq!(pk::write_fd(ro.as_raw_fd(), b"0"), Err(libc::EBADF));
        ensure_eq!(pk::ioc_send(ro.as_raw_fd(), 10, 0), Err(libc::EBADF));
        // Their own processes.
        let mine = Target::spawn(None)?;
        let w = pk::open_s(&node(mine.pid()), libc::O_WRONLY)?;
        ensure_eq!(pk::write_fd(w.as_raw_fd(), b"USR1"), Ok(4));
        ensure_eq!(mine.drain_sigs()?, vec![libc::SIGUSR1]);
        let s = pk::open_s("/proc/self/kill", libc::O_WRONLY)?;
        ensure_eq!(pk::write_fd(s.as_raw_fd(), b"0"), Ok(1));
        Ok(())
    })?;
    ensure_eq!(root_t.pending()?, (0, 0));
    // Root may open the user's processes' nodes (CAP_KILL).
    let ut = Target::spawn(Some((util::USER_UID, util::USER_UID, util::USER_UID)))?;
    let w = pk::open_s(&node(ut.pid()), libc::O_WRONLY)?;
    ensure_eq!(pk::write_fd(w.as_raw_fd(), b"USR2"), Ok(4));
    ensure_eq!(ut.drain_sigs()?, vec![libc::SIGUSR2]);
    Ok(())
}

/// Opening for writing is allowed exactly when kill(2) from the opener is:
/// a table of target and opener (real, effective, saved) uids; for each,
/// kill(pid, 0) and open(O_WRONLY) must agree, and so must a write of "0".
fn permission_matrix() -> TestResult {
    let _m = pk::load("")?;
    let targets: [(u32, u32, u32); 7] = [
        (1000, 1000, 1000),
        (1000, 0, 0),
        (0, 1000, 0),
        (0, 0, 1000),
        (2000, 2000, 1000),
        (2000, 1000, 2000),
        (0, 0, 0),
    ];
    let openers: [(u32, u32, u32); 4] = [
        (1000, 1000, 1000),
        (2000, 1000, 1000),
        (1000, 2000, 2000),
        (3000, 3000, 3000),
    ];
    let mut table = Vec::new();
    let mut allowed = 0;
    for t in targets {
        let tg = Target::spawn(Some(t))?;
        let pid = tg.pid();
        for o in openers {
            let r = Pipe::new(true)?;
            let wr = r.wr.as_raw_fd();
            let c = util::fork_fn(move || {
                // SAFETY: plain credential syscalls.
                unsafe {
                    if libc::setgroups(0, std::ptr::null()) < 0
                        || libc::setresgid(1000, 1000, 1000) < 0
                        || libc::setresuid(o.0, o.1, o.2) < 0
                    {
                        return util::os_err("set credentials");
                    }
                }
                let k = pk::kill(pid, 0).err().unwrap_or(0);
                let (op, w) = match pk::open(&node(pid), libc::O_WRONLY) {
                    Ok(fd) => (0, pk::write_fd(fd.as_raw_fd(), b"0").err().unwrap_or(0)),
                    Err(e) => (e, -1),
                };
                let mut out = Vec::new();
                for v in [k, op, w] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
                pk::put(wr, &out);
                Ok(())
            })?;
            drop(r.wr);
            c.join(T20)?;
            let b = pk::get(r.rd.as_raw_fd(), 12, T5)?;
            let v = |i: usize| i32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
            let (k, op, w) = (v(0), v(1), v(2));
            let ok = op == 0 && w == 0;
            allowed += i32::from(k == 0);
            if (k == 0) != ok || (k != 0 && op != libc::EPERM) {
                table.push(format!(
                    "target {t:?} opener {o:?}: kill {} open {} write {}",
                    errno_name(k),
                    errno_name(op),
                    errno_name(w)
                ));
            }
        }
        ensure_eq!(tg.pending()?, (0, 0));
    }
    ensure!(
        table.is_empty(),
        "node and kill(2) disagree:\n{}",
        table.join("\n")
    );
    ensure!(
        allowed > 4 && allowed < 24,
        "{allowed} of 28 allowed: the table tests nothing"
    );
    Ok(())
}

/// Have the unprivileged user open `path` for writing and hand the fd over.
fn user_opened(path: &str) -> Result<std::os::fd::OwnedFd, String> {
    let (a, b) = pk::socketpair()?;
    let p = path.to_string();
    let bfd = b.as_raw_fd();
    util::as_user(move || {
        let fd = pk::open_s(&p, libc::O_WRONLY)?;
        pk::send_fd(bfd, fd.as_raw_fd())
    })?;
    drop(b);
    pk::recv_fd(a.as_raw_fd(), T5)
}

/// The opener's credentials decide at write time: root holding a node the
/// user opened cannot signal a target the user may no longer signal, while
/// root's own kill(2) and pidfd_send_signal(2) can.
fn opener_authority() -> TestResult {
    let _m = pk::load("")?;
    // Real uid 1000 (the user may signal it), effective root (may change uid).
    let t = Target::spawn(Some((util::USER_UID, 0, 0)))?;
    let ufd = user_opened(&node(t.pid()))?;
    let ufd = ufd.as_raw_fd();
    ensure_eq!(pk::info_s(ufd)?.opener_uid, util::USER_UID);
    ensure_eq!(pk::write_fd(ufd, b"USR1"), Ok(4));
    ensure_eq!(t.drain_sigs()?, vec![libc::SIGUSR1]);
    t.setresuid(2000, 2000, 2000)?;
    for w in [&b"USR1"[..], b"0"] {
        let r = pk::write_fd(ufd, w);
        ensure!(
            r == Err(libc::EPERM),
            "root writing {w:?} through the user's node: {}",
            res(r)
        );
    }
    ensure_eq!(pk::ioc_send(ufd, 10, 0), Err(libc::EPERM));
    ensure_eq!(t.pending()?, (0, 0));
    ensure_eq!(t.drain_sigs()?, Vec::<i32>::new());
    // Controls: root's own authority works.
    ensure_eq!(pk::kill(t.pid(), libc::SIGUSR1), Ok(()));
    ensure_eq!(t.drain_sigs()?, vec![libc::SIGUSR1]);
    let pidfd = pk::pidfd_open(t.pid()).map_err(errno_name)?;
    ensure_eq!(
        pk::pidfd_send_signal(pidfd.as_raw_fd(), libc::SIGUSR2),
        Ok(())
    );
    ensure_eq!(t.drain_sigs()?, vec![libc::SIGUSR2]);
    let own = pk::open_s(&node(t.pid()), libc::O_WRONLY)?;
    ensure_eq!(pk::write_fd(own.as_raw_fd(), b"HUP"), Ok(3));
    ensure_eq!(t.drain_sigs()?, vec![libc::SIGHUP]);
    // And the user now fails to open it at all.
    let p = node(t.pid());
    util::as_user(move || {
        let r = pk::open(&p, libc::O_WRONLY).map(drop);
        ensure!(
            r == Err(libc::EPERM),
            "user open after setuid: {:?}",
            r.map_err(errno_name)
        );
        Ok(())
    })
}

/// `landlock_create_ruleset(2)`, `landlock_restrict_self(2)` (x86_64).
const SYS_LANDLOCK_CREATE_RULESET: libc::c_long = 444;
const SYS_LANDLOCK_RESTRICT_SELF: libc::c_long = 446;
/// `LANDLOCK_CREATE_RULESET_VERSION`: ask for the ABI version.
const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1 << 0;
/// `LANDLOCK_SCOPE_SIGNAL` (ABI 6): no signals out of the domain.
const LANDLOCK_SCOPE_SIGNAL: u64 = 1 << 1;

/// `struct landlock_ruleset_attr` (include/uapi/linux/landlock.h).
#[repr(C)]
struct LandlockRulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

/// The Landlock ABI version, or the errno (ENOSYS, EOPNOTSUPP: no Landlock).
fn landlock_abi() -> Result<i64, i32> {
    // SAFETY: the version query takes no attribute.
    let r = unsafe {
        libc::syscall(
            SYS_LANDLOCK_CREATE_RULESET,
            std::ptr::null::<LandlockRulesetAttr>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// Puts the calling process in a Landlock domain that may not signal
/// processes outside it (and handles nothing else).
fn landlock_scope_signals() -> TestResult {
    let attr = LandlockRulesetAttr {
        handled_access_fs: 0,
        handled_access_net: 0,
        scoped: LANDLOCK_SCOPE_SIGNAL,
    };
    // SAFETY: valid attribute of the size passed.
    let fd = unsafe {
        libc::syscall(
            SYS_LANDLOCK_CREATE_RULESET,
            &attr,
            std::mem::size_of::<LandlockRulesetAttr>(),
            0u32,
        )
    };
    if fd < 0 {
        return util::os_err("landlock_create_ruleset");
    }
    // SAFETY: plain calls; `fd` is the ruleset just created.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 {
            return util::os_err("prctl(PR_SET_NO_NEW_PRIVS)");
        }
        let r = libc::syscall(SYS_LANDLOCK_RESTRICT_SELF, fd as libc::c_int, 0u32);
        libc::close(fd as libc::c_int);
        if r < 0 {
            return util::os_err("landlock_restrict_self");
        }
    }
    Ok(())
}

/// The LSMs decide too (`security_task_kill()`), with the opener's
/// credentials, as for every other check of a write. Under Landlock's
/// scoped signals (ABI 6), a sandboxed process cannot signal a process
/// outside its domain with kill(2) or pidfd_send_signal(2), nor open a kill
/// node on it (EPERM); a node opened before the sandbox still works, as the
/// opener's authority does. Needs a kernel with Landlock (the debug kernel:
/// qemu/debug.fragment; Debian's); without it, a SKIP (a FAIL under
/// `--no-skip`, as in `make test`).
fn lsm_landlock() -> TestResult {
    let abi = landlock_abi().map_err(|e| {
        crate::harness::skip(format!(
            "no Landlock in this kernel ({}): the debug and Debian kernels have it",
            errno_name(e)
        ))
    })?;
    ensure!(abi >= 6, "Landlock ABI {abi}: scoped signals need ABI 6");
    let _m = pk::load("")?;
    let t = Target::spawn(None)?;
    let tpid = t.pid();
    let before = pk::open_s(&node(tpid), libc::O_WRONLY)?;
    let pidfd = pk::pidfd_open(tpid).map_err(errno_name)?;
    let (before_fd, pidfd_fd) = (before.as_raw_fd(), pidfd.as_raw_fd());
    let path = node(tpid);
    let c = util::fork_fn(move || {
        landlock_scope_signals()?;
        // The sandbox holds for the kernel's own interfaces...
        ensure_eq!(pk::kill(tpid, libc::SIGUSR1), Err(libc::EPERM));
        ensure_eq!(
            pk::pidfd_send_signal(pidfd_fd, libc::SIGUSR1),
            Err(libc::EPERM)
        );
        // ...and for a node opened inside it: the LSM says no at open.
        ensure_eq!(pk::open(&path, libc::O_WRONLY).map(drop), Err(libc::EPERM));
        // A read-only open sends nothing and is not a signal: allowed.
        ensure!(pk::open(&path, libc::O_RDONLY).is_ok(), "read-only open");
        // The node opened before the sandbox carries its opener's authority.
        ensure_eq!(pk::write_fd(before_fd, b"USR2"), Ok(4));
        Ok(())
    })?;
    ensure_eq!(c.wait_timeout(T20)?, Outcome::Exited(0, String::new()));
    // Only the node's signal arrived.
    ensure_eq!(t.drain_sigs()?, vec![libc::SIGUSR2]);
    Ok(())
}

/// The receiver sees si_code SI_USER (SI_TKILL from a thread node), si_uid
/// the opener's uid and si_pid the writer's pid (not the opener's);
/// pidfd_send_signal shows the caller.
fn siginfo() -> TestResult {
    let _m = pk::load("")?;
    let t = Target::spawn(Some((util::USER_UID, util::USER_UID, util::USER_UID)))?;
    let ufd = user_opened(&node(t.pid()))?;
    let me = std::process::id() as i32;
    let user = util::USER_UID;
    let want = |pid, uid| Got {
        signo: libc::SIGUSR1,
        code: libc::SI_USER,
        pid,
        uid,
    };
    ensure_eq!(pk::write_fd(ufd.as_raw_fd(), b"USR1"), Ok(4));
    ensure_eq!(t.drain()?, vec![want(me, user)]);
    ensure_eq!(pk::ioc_send(ufd.as_raw_fd(), 10, 0), Ok(()));
    ensure_eq!(t.drain()?, vec![want(me, user)]);
    // A third process writes through the inherited fd.
    let raw = ufd.as_raw_fd();
    let w = Pipe::new(true)?;
    let wr = w.wr.as_raw_fd();
    let writer = util::fork_fn(move || {
        // SAFETY: getpid(2).
        let p = unsafe { libc::getpid() };
        pk::put(wr, &p.to_le_bytes());
        let r = pk::write_fd(raw, b"USR1");
        ensure_eq!(r, Ok(4));
        Ok(())
    })?;
    drop(w.wr);
    let wpid = i32::from_le_bytes(pk::get(w.rd.as_raw_fd(), 4, T20)?.try_into().unwrap());
    writer.join(T20)?;
    ensure_eq!(t.drain()?, vec![want(wpid, user)]);
    // Root's own node: si_uid 0.
    let own = pk::open_s(&node(t.pid()), libc::O_WRONLY)?;
    ensure_eq!(pk::write_fd(own.as_raw_fd(), b"USR1"), Ok(4));
    ensure_eq!(t.drain()?, vec![want(me, 0)]);
    // A thread node sends as tgkill(2) does: SI_TKILL.
    let th = pk::open_s(&tnode(t.pid(), t.pid()), libc::O_WRONLY)?;
    ensure_eq!(pk::write_fd(th.as_raw_fd(), b"USR1"), Ok(4));
    ensure_eq!(
        t.drain()?,
        vec![Got {
            code: libc::SI_TKILL,
            ..want(me, 0)
        }]
    );
    // pidfd_send_signal: the caller's identity.
    let pidfd = pk::pidfd_open(t.pid()).map_err(errno_name)?;
    ensure_eq!(
        pk::pidfd_send_signal(pidfd.as_raw_fd(), libc::SIGUSR1),
        Ok(())
    );
    ensure_eq!(t.drain()?, vec![want(me, 0)]);
    Ok(())
}

/// "Root" inside an unprivileged user namespace has no authority over
/// processes outside it: opening root's node for writing fails (EPERM, as
/// kill(2) does), while the node of a process of the same real user works,
/// and the receiver sees that user's uid in si_uid.
fn user_namespace() -> TestResult {
    let _m = pk::load("")?;
    let root_t = Target::spawn(None)?;
    let user_t = Target::spawn(Some((util::USER_UID, util::USER_UID, util::USER_UID)))?;
    let (rp, up) = (root_t.pid(), user_t.pid());
    util::as_user(move || {
        enter_user_namespace(0)?;
        // SAFETY: geteuid(2).
        ensure_eq!(unsafe { libc::geteuid() }, 0);
        ensure_eq!(pk::kill(rp, 0), Err(libc::EPERM));
        let r = pk::open(&node(rp), libc::O_WRONLY).map(drop);
        ensure!(
            r == Err(libc::EPERM),
            "open root's node from a user namespace: {:?}",
            r.map_err(errno_name)
        );
        let k = pk::open_s(&node(up), libc::O_WRONLY)?;
        ensure_eq!(pk::write_fd(k.as_raw_fd(), b"USR1"), Ok(4));
        // The opener's uid as this namespace sees it.
        ensure_eq!(pk::info_s(k.as_raw_fd())?.opener_uid, 0);
        Ok(())
    })?;
    let got = user_t.drain()?;
    eqm!(got.len(), 1, "{got:?}");
    ensure_eq!(
        (got[0].signo, got[0].code, got[0].uid),
        (libc::SIGUSR1, libc::SI_USER, util::USER_UID)
    );
    ensure_eq!(root_t.pending()?, (0, 0));
    Ok(())
}

/// As the unprivileged user: a new user namespace in which `inside` is the
/// user's uid and gid (one line of each map, no setgroups).
pub(super) fn enter_user_namespace(inside: u32) -> TestResult {
    // The uid change made us non-dumpable: /proc/self would be root's.
    // SAFETY: prctl(2) with plain arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1) };
    // SAFETY: unshare(2).
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } < 0 {
        return util::os_err("unshare(CLONE_NEWUSER)");
    }
    let w = |f: &str, v: &str| {
        util::write_once(f, v.as_bytes()).map_err(|e| format!("write {f}: {}", errno_name(e)))
    };
    w("/proc/self/setgroups", "deny")?;
    w(
        "/proc/self/uid_map",
        &format!("{inside} {} 1", util::USER_UID),
    )?;
    w(
        "/proc/self/gid_map",
        &format!("{inside} {} 1", util::USER_GID),
    )?;
    Ok(())
}

/// A uid that the writer's user namespace does not map reaches the
/// receiver as the overflow uid, never as another real uid. Root opens a
/// node; a uid-1000 writer in a user namespace that maps only 65534 (to
/// itself, 1000) writes through it. `send_signal_locked()` maps `si_uid`
/// from the writer's namespace into the target's: the module used to fill
/// in `from_kuid_munged()`'s 65534 for root, which that map turned into
/// 1000, so the receiver saw the writer's uid where root's authority had
/// sent the signal. Now it fills in `-1` (unmapped), which the kernel turns
/// into the overflow uid; and in the target's own namespace, where nothing
/// maps it, the overflow uid itself.
fn unmapped_opener_uid() -> TestResult {
    let _m = pk::load("")?;
    let t = Target::spawn(None)?;
    let fd = pk::open_s(&node(t.pid()), libc::O_WRONLY)?;
    let raw = fd.as_raw_fd();
    util::as_user(move || {
        enter_user_namespace(65534)?;
        ensure_eq!(pk::write_fd(raw, b"USR1"), Ok(4));
        Ok(())
    })?;
    let overflow: u32 = std::fs::read_to_string("/proc/sys/kernel/overflowuid")
        .map_err(|e| format!("overflowuid: {e}"))?
        .trim()
        .parse()
        .map_err(|e| format!("overflowuid: {e}"))?;
    let got = t.drain()?;
    eqm!(got.len(), 1, "{got:?}");
    ensure!(
        got[0].uid == overflow,
        "si_uid {} (want the overflow uid {overflow}; {} is the writer's own uid)",
        got[0].uid,
        util::USER_UID
    );
    ensure_eq!((got[0].signo, got[0].code), (libc::SIGUSR1, libc::SI_USER));
    // Writer, opener and target in one user namespace that maps no uid:
    // nothing maps si_uid on the way, and the receiver sees the overflow
    // uid, as from kill(2), not the (uid_t)-1 that stands for "unmapped".
    util::as_user(move || {
        // SAFETY: unshare(2).
        if unsafe { libc::unshare(libc::CLONE_NEWUSER) } < 0 {
            return util::os_err("unshare(CLONE_NEWUSER)");
        }
        let t = Target::spawn(None)?;
        let k = pk::open_s(&node(t.pid()), libc::O_WRONLY)?;
        ensure_eq!(pk::write_fd(k.as_raw_fd(), b"USR1"), Ok(4));
        let got = t.drain()?;
        eqm!(got.len(), 1, "{got:?}");
        ensure!(
            got[0].uid == overflow,
            "same unmapped namespace: si_uid {} (want the overflow uid {overflow})",
            got[0].uid
        );
        Ok(())
    })
}

/// A child with a second thread, both blocking every signal; returns the
/// child and the second thread's tid.
fn two_threads() -> Result<(util::Child, i32), String> {
    let p = Pipe::new(true)?;
    let wr = p.wr.as_raw_fd();
    let c = util::fork_fn(move || {
        pk::block_all_signals();
        std::thread::spawn(move || {
            pk::put(wr, &pk::gettid().to_le_bytes());
            loop {
                pk::sleep_ms(1000);
            }
        });
        loop {
            pk::sleep_ms(1000);
        }
    })?;
    drop(p.wr);
    let tid = i32::from_le_bytes(pk::get(p.rd.as_raw_fd(), 4, T20)?.try_into().unwrap());
    Ok((c, tid))
}

/// A thread node signals that thread only (its SigPnd); the process node
/// signals the process (ShdPnd).
fn thread_directed() -> TestResult {
    let _m = pk::load("")?;
    let (c, tid) = two_threads()?;
    let pid = c.pid();
    ensure!(tid != pid);
    let st = |t: i32| format!("/proc/{pid}/task/{t}/status");
    let masks = |t: i32| -> Result<(u64, u64), String> {
        Ok((
            pk::status_mask(&st(t), "SigPnd")?,
            pk::status_mask(&st(t), "ShdPnd")?,
        ))
    };
    let tfd = pk::open_s(&tnode(pid, tid), libc::O_WRONLY)?;
    let ti = pk::info_s(tfd.as_raw_fd())?;
    ensure_eq!((ti.kind, ti.pid), (pk::KIND_THREAD, tid));
    ensure_eq!(pk::write_fd(tfd.as_raw_fd(), b"USR1"), Ok(4));
    ensure_eq!(masks(tid)?, (bit(libc::SIGUSR1), 0));
    ensure_eq!(masks(pid)?, (0, 0));
    let pfd = pk::open_s(&node(pid), libc::O_WRONLY)?;
    ensure_eq!(pk::info_s(pfd.as_raw_fd())?.kind, pk::KIND_PROCESS);
    ensure_eq!(pk::write_fd(pfd.as_raw_fd(), b"USR2"), Ok(4));
    ensure_eq!(masks(tid)?, (bit(libc::SIGUSR1), bit(libc::SIGUSR2)));
    ensure_eq!(masks(pid)?, (0, bit(libc::SIGUSR2)));
    // The leader's own thread node.
    let lfd = pk::open_s(&tnode(pid, pid), libc::O_WRONLY)?;
    ensure_eq!(pk::write_fd(lfd.as_raw_fd(), b"HUP"), Ok(3));
    ensure_eq!(masks(pid)?, (bit(libc::SIGHUP), bit(libc::SIGUSR2)));
    ensure_eq!(masks(tid)?, (bit(libc::SIGUSR1), bit(libc::SIGUSR2)));
    Ok(())
}

/// Zombie and reaped targets: ESRCH, state exited, POLLIN; no new opens.
fn dead_target() -> TestResult {
    let _m = pk::load("")?;
    let go = Pipe::new(true)?;
    let grd = go.rd.as_raw_fd();
    let c = util::fork_fn(move || {
        pk::get(grd, 1, Duration::from_secs(60))?;
        Ok(())
    })?;
    let pid = c.pid();
    let fd = pk::open_s(&node(pid), libc::O_RDWR)?;
    let fd = fd.as_raw_fd();
    ensure_eq!(pk::node_field(fd, "state")?, "alive");
    ensure_eq!(pk::poll_fd(fd, 0)?, 0);
    pk::put(go.wr.as_raw_fd(), b"g");
    pk::wait_zombie(pid, T20)?;
    let check = |stage: &str| -> TestResult {
        for w in [&b"0"[..], b"USR1", b"KILL"] {
            let r = pk::write_fd(fd, w);
            ensure!(r == Err(libc::ESRCH), "{stage}: write {w:?}: {}", res(r));
        }
        ensure_eq!(pk::ioc_send(fd, 15, 0), Err(libc::ESRCH));
        ensure_eq!(pk::node_field(fd, "state")?, "exited");
        ensure_eq!(pk::info_s(fd)?.state, pk::STATE_EXITED);
        let rev = pk::poll_fd(fd, 0)?;
        ensure!(rev & libc::POLLIN != 0, "{stage}: poll {rev:#x}");
        Ok(())
    };
    check("zombie")?;
    let r = pk::open(&node(pid), libc::O_WRONLY).map(drop);
    ensure!(
        r == Err(libc::ESRCH),
        "opening a zombie's node: {:?}",
        r.map_err(errno_name)
    );
    ensure_eq!(c.wait_timeout(T20)?, Outcome::Exited(0, String::new()));
    check("reaped")?;
    ensure_eq!(
        pk::open(&node(pid), libc::O_WRONLY).map(drop),
        Err(libc::ENOENT)
    );
    Ok(())
}

/// A non-leader thread that exits: its node fails with ESRCH, reads
/// exited, and a blocked poller wakes with POLLIN; the process node keeps
/// working.
fn dead_thread() -> TestResult {
    let _m = pk::load("")?;
    let (p, go) = (Pipe::new(true)?, Pipe::new(true)?);
    let (wr, grd) = (p.wr.as_raw_fd(), go.rd.as_raw_fd());
    let c = util::fork_fn(move || {
        pk::block_all_signals();
        let h = std::thread::spawn(move || {
            pk::put(wr, &pk::gettid().to_le_bytes());
            let _ = pk::get(grd, 1, Duration::from_secs(60));
        });
        let _ = h.join();
        loop {
            pk::sleep_ms(1000);
        }
    })?;
    drop(p.wr);
    let tid = i32::from_le_bytes(pk::get(p.rd.as_raw_fd(), 4, T20)?.try_into().unwrap());
    let pid = c.pid();
    let t = pk::open_s(&tnode(pid, tid), libc::O_RDWR)?;
    let tfd = t.as_raw_fd();
    ensure_eq!(pk::write_fd(tfd, b"0"), Ok(1));
    let poller = std::thread::spawn(move || {
        let t0 = Instant::now();
        (pk::poll_fd(tfd, 15000), t0.elapsed())
    });
    pk::sleep_ms(200);
    pk::put(go.wr.as_raw_fd(), b"g");
    let (rev, waited) = poller.join().map_err(|_| "poller panicked")?;
    let rev = rev?;
    ensure!(
        rev & libc::POLLIN != 0 && waited < Duration::from_secs(10),
        "poll on the thread node: {rev:#x} after {waited:?}"
    );
    for w in [&b"0"[..], b"USR1"] {
        let r = pk::write_fd(tfd, w);
        ensure!(
            r == Err(libc::ESRCH),
            "write {w:?} to the exited thread: {}",
            res(r)
        );
    }
    ensure_eq!(pk::node_field(tfd, "state")?, "exited");
    let pn = pk::open_s(&node(pid), libc::O_RDWR)?;
    ensure_eq!(pk::node_field(pn.as_raw_fd(), "state")?, "alive");
    ensure_eq!(pk::write_fd(pn.as_raw_fd(), b"USR1"), Ok(4));
    ensure_eq!(pk::pending(pid)?, (0, bit(libc::SIGUSR1)));
    Ok(())
}

/// A kernel thread (kthreadd, PID 2): the node answers as kill(2) does.
fn kernel_thread() -> TestResult {
    let _m = pk::load("")?;
    let comm = util::read_file("/proc/2/comm")?;
    ensure_eq!(comm.trim(), "kthreadd");
    let k = pk::kill(2, 0);
    let fd = pk::open_s(&node(2), libc::O_RDWR)?;
    let w = pk::write_fd(fd.as_raw_fd(), b"0").map(|_| ());
    ensure_eq!(w, k);
    ensure_eq!(pk::node_field(fd.as_raw_fd(), "state")?, "alive");
    let i = pk::info_s(fd.as_raw_fd())?;
    ensure_eq!(
        (i.pid, i.kind, i.state),
        (2, pk::KIND_PROCESS, pk::STATE_ALIVE)
    );
    Ok(())
}

/// The read text: pid, kind, state (alive, then exited), reason, policy,
/// start_time (matches /proc/<pid>/stat), opener; sequential small reads
/// give the same text.
fn read_text() -> TestResult {
    let _m = pk::load("")?;
    let t = Target::spawn(None)?;
    let pid = t.pid();
    let fd = pk::open_s(&node(pid), libc::O_RDONLY)?;
    let text = pk::read_text(fd.as_raw_fd()).map_err(errno_name)?;
    let k = |key: &str| kv(&text, key);
    eqm!(k("pid"), Some(pid.to_string()), "text: {text:?}");
    ensure_eq!(k("kind"), Some("process".to_string()));
    ensure_eq!(k("state"), Some("alive".to_string()));
    ensure_eq!(k("reason"), Some("-".to_string()));
    ensure_eq!(k("policy"), Some("setid".to_string()));
    ensure_eq!(k("handle_policy"), Some("never".to_string()));
    ensure_eq!(k("opener_uid"), Some("0".to_string()));
    let st: u64 = k("start_time")
        .and_then(|v| v.parse().ok())
        .ok_or("start_time")?;
    // USER_HZ is 100: one clock tick is 10 ms.
    eqm!(st / 10_000_000, stat_starttime(pid)?, "start_time {st} ns");
    ensure!(
        k("exec_gen").and_then(|v| v.parse::<u64>().ok()).is_some(),
        "exec_gen: {text:?}"
    );
    let info = pk::info_s(fd.as_raw_fd())?;
    ensure_eq!(k("exec_gen"), Some(info.exec_gen.to_string()));
    ensure_eq!(k("pidfs_ino"), Some(info.pidfs_ino.to_string()));
    ensure_eq!(info.start_time, st);
    // Small sequential reads return the same bytes, then EOF.
    let f2 = pk::open_s(&node(pid), libc::O_RDONLY)?;
    let mut got = Vec::new();
    loop {
        let mut b = [0u8; 5];
        // SAFETY: valid buffer.
        let n = unsafe { libc::read(f2.as_raw_fd(), b.as_mut_ptr().cast(), 5) };
        ensure!(n >= 0, "read: {}", errno_name(errno()));
        if n == 0 {
            break;
        }
        got.extend_from_slice(&b[..n as usize]);
        ensure!(got.len() < 4096);
    }
    ensure_eq!(String::from_utf8_lossy(&got), text);
    // A thread node.
    let tfd = pk::open_s(&tnode(pid, pid), libc::O_RDONLY)?;
    ensure_eq!(pk::node_field(tfd.as_raw_fd(), "kind")?, "thread");
    // Exit: state exited.
    pk::kill(pid, libc::SIGKILL).map_err(errno_name)?;
    pk::wait_zombie(pid, T20)?;
    ensure_eq!(pk::node_field(fd.as_raw_fd(), "state")?, "exited");
    ensure_eq!(pk::node_field(tfd.as_raw_fd(), "state")?, "exited");
    Ok(())
}

/// poll/epoll: not ready while the target lives, POLLIN (waking a blocked
/// poller) when it exits.
fn poll() -> TestResult {
    let _m = pk::load("")?;
    let t = Target::spawn(None)?;
    let pid = t.pid();
    let fd = pk::open_s(&node(pid), libc::O_RDONLY)?;
    let fd = fd.as_raw_fd();
    ensure_eq!(pk::poll_fd(fd, 0)?, 0);
    ensure_eq!(pk::poll_fd(fd, 200)?, 0);
    // SAFETY: epoll syscalls on our fds.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    ensure!(ep >= 0);
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: 7,
    };
    // SAFETY: valid epoll fd and event.
    ensure_eq!(
        unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) },
        0
    );
    let mut out = [libc::epoll_event { events: 0, u64: 0 }; 2];
    // SAFETY: valid buffer.
    ensure_eq!(unsafe { libc::epoll_wait(ep, out.as_mut_ptr(), 2, 0) }, 0);
    let killer = std::thread::spawn(move || {
        pk::sleep_ms(300);
        pk::kill(pid, libc::SIGKILL)
    });
    let t0 = Instant::now();
    let rev = pk::poll_fd(fd, 15000)?;
    let waited = t0.elapsed();
    killer
        .join()
        .map_err(|_| "killer thread panicked")?
        .map_err(errno_name)?;
    ensure!(
        rev & libc::POLLIN != 0,
        "poll after exit: {rev:#x} after {waited:?}"
    );
    ensure!(
        waited < Duration::from_secs(10),
        "poll woke only after {waited:?}"
    );
    // SAFETY: valid buffer.
    let n = unsafe { libc::epoll_wait(ep, out.as_mut_ptr(), 2, 5000) };
    ensure_eq!(n, 1);
    ensure!(
        out[0].events & libc::EPOLLIN as u32 != 0,
        "epoll events {:#x}",
        { out[0].events }
    );
    ensure!(
        out[0].events & (libc::EPOLLHUP | libc::EPOLLERR) as u32 == 0,
        "exit reported as HUP/ERR: {:#x}",
        { out[0].events }
    );
    // SAFETY: closing our epoll fd.
    unsafe { libc::close(ep) };
    Ok(())
}

/// ioctl: INFO fields (pidfs_ino = st_ino of a pidfd), SEND, errors.
fn ioctl() -> TestResult {
    ensure_eq!(std::mem::size_of::<pk::Info>(), 56);
    ensure_eq!(pk::IOC_INFO, 0x8038_B901);
    ensure_eq!(pk::IOC_SEND, 0x4008_B902);
    ensure_eq!(pk::IOC_SET_POLICY, 0x4004_B903);
    let _m = pk::load("")?;
    let t = Target::spawn(None)?;
    let pid = t.pid();
    let fd = pk::open_s(&node(pid), libc::O_WRONLY)?;
    let fd = fd.as_raw_fd();
    let i = pk::info_s(fd)?;
    let pidfd = pk::pidfd_open(pid).map_err(errno_name)?;
    let ino = fstat_ino(pidfd.as_raw_fd())?;
    ensure_eq!(
        (
            i.pid,
            i.kind,
            i.state,
            i.policy,
            i.handle_policy,
            i.revoke_reason,
            i.opener_uid,
            i.reserved
        ),
        (
            pid,
            pk::KIND_PROCESS,
            pk::STATE_ALIVE,
            pk::POLICY_SETID,
            pk::POLICY_NEVER,
            pk::REVOKE_NONE,
            0,
            0
        )
    );
    ensure_eq!(i.pidfs_ino, ino);
    ensure_eq!(i.start_time / 10_000_000, stat_starttime(pid)?);
    ensure_eq!(pk::ioc_send(fd, libc::SIGUSR1 as u32, 0), Ok(()));
    ensure_eq!(t.drain_sigs()?, vec![libc::SIGUSR1]);
    ensure_eq!(pk::ioc_send(fd, libc::SIGUSR1 as u32, 1), Err(libc::EINVAL));
    ensure_eq!(pk::ioc_send(fd, 65, 0), Err(libc::EINVAL));
    ensure_eq!(pk::ioc_send(fd, u32::MAX, 0), Err(libc::EINVAL));
    ensure_eq!(t.drain_sigs()?, Vec::<i32>::new());
    for cmd in [
        0u32,
        0x5401,
        (2 << 30) | (56 << 16) | (0xB9 << 8) | 9,
        (1 << 30) | (8 << 16) | (0xB9 << 8) | 1,
    ] {
        // SAFETY: the module rejects the command before touching the argument.
        let r = unsafe { libc::ioctl(fd, cmd as _, 0usize) };
        ensure!(
            r < 0 && errno() == libc::ENOTTY,
            "ioctl {cmd:#x}: {r} {}",
            errno_name(errno())
        );
    }
    // SAFETY: a bad user pointer; the kernel checks it.
    let r = unsafe { libc::ioctl(fd, pk::IOC_INFO as _, 8usize) };
    ensure!(
        r < 0 && errno() == libc::EFAULT,
        "INFO to a bad pointer: {}",
        errno_name(errno())
    );
    let ro = pk::open_s(&node(pid), libc::O_RDONLY)?;
    ensure_eq!(pk::ioc_send(ro.as_raw_fd(), 10, 0), Err(libc::EBADF));
    ensure_eq!(pk::info_s(ro.as_raw_fd())?.pidfs_ino, ino);
    ensure_eq!(t.drain_sigs()?, Vec::<i32>::new());
    let th = pk::open_s(&tnode(pid, pid), libc::O_RDONLY)?;
    let ti = pk::info_s(th.as_raw_fd())?;
    ensure_eq!((ti.pid, ti.kind, ti.pidfs_ino), (pid, pk::KIND_THREAD, ino));
    Ok(())
}

/// /proc/<pid>/fdinfo/<fd> shows the target and its state.
fn fdinfo() -> TestResult {
    let _m = pk::load("")?;
    let t = Target::spawn(None)?;
    let pid = t.pid();
    let fd = pk::open_s(&node(pid), libc::O_WRONLY)?;
    let path = format!("/proc/self/fdinfo/{}", fd.as_raw_fd());
    let text = util::read_file(&path)?;
    for want in [
        format!("prockill_pid:\t{pid}"),
        "prockill_kind:\tprocess".into(),
        "prockill_state:\talive".into(),
        "prockill_policy:\tsetid".into(),
    ] {
        ensure!(
            text.lines().any(|l| l == want),
            "fdinfo lacks {want:?}: {text:?}"
        );
    }
    drop(t);
    let text = util::read_file(&path)?;
    ensure!(
        text.lines().any(|l| l == "prockill_state:\texited"),
        "fdinfo after exit: {text:?}"
    );
    Ok(())
}

/// A node opened from the initial PID namespace on a process in a child
/// namespace works; readers see PIDs in their own namespace (0 if invisible).
fn pid_namespace() -> TestResult {
    let _m = pk::load("")?;
    let p = Pipe::new(true)?;
    let wr = p.wr.as_raw_fd();
    let cmd = Pipe::new(true)?;
    let crd = cmd.rd.as_raw_fd();
    let outside = std::process::id() as i32;
    let c1 = util::fork_fn(move || {
        // SAFETY: unshare(2).
        if unsafe { libc::unshare(libc::CLONE_NEWPID) } < 0 {
            return util::os_err("unshare(CLONE_NEWPID)");
        }
        let init = util::fork_fn(move || {
            pk::die_with_parent();
            let tgt = util::fork_fn(move || {
                pk::die_with_parent();
                pk::block_all_signals();
                let g = std::fs::read_link("/proc/self").map_err(|e| e.to_string())?;
                // SAFETY: getpid(2).
                let nspid = unsafe { libc::getpid() };
                let fd = pk::open_s("/proc/self/kill", libc::O_RDONLY)?;
                let tp = pk::node_field(fd.as_raw_fd(), "pid")?;
                let ip = pk::info_s(fd.as_raw_fd())?.pid;
                let o = pk::open_s(&node(outside), libc::O_RDONLY)?;
                let op = pk::node_field(o.as_raw_fd(), "pid")?;
                let oi = pk::info_s(o.as_raw_fd())?.pid;
                pk::put(
                    wr,
                    format!("{} {nspid} {tp} {ip} {op} {oi}\n", g.to_string_lossy()).as_bytes(),
                );
                // Commands: 'd' reports what is pending as the receiver
                // sees it; 's' signals itself through its own node.
                loop {
                    let c = pk::get(crd, 1, Duration::from_secs(3600))?;
                    if c == b"s" {
                        let k = pk::open_s("/proc/self/kill", libc::O_WRONLY)?;
                        pk::write_fd(k.as_raw_fd(), b"USR2").map_err(errno_name)?;
                        continue;
                    }
                    let mut line = String::new();
                    for g in pk::drain_pending() {
                        line += &format!("{},{},{},{} ", g.signo, g.code, g.pid, g.uid);
                    }
                    pk::put(wr, format!("{}\n", line.trim()).as_bytes());
                }
            })?;
            // Killed by the test at the end.
            let _ = tgt.wait_timeout(Duration::from_secs(3600));
            Ok(())
        })?;
        init.join(Duration::from_secs(3600))
    })?;
    drop(p.wr);
    let line = pk::get_line(p.rd.as_raw_fd(), T20)?;
    let f: Vec<&str> = line.split_whitespace().collect();
    eqm!(f.len(), 6, "report {line:?}");
    let g: i32 = f[0].parse().map_err(|_| format!("report {line:?}"))?;
    eqm!(
        &f[1..],
        &["2", "2", "2", "0", "0"][..],
        "inside the namespace (global pid {g}): {line:?}"
    );
    ensure!(g > 2, "global pid {g}");
    let fd = pk::open_s(&node(g), libc::O_RDWR)?;
    ensure_eq!(pk::node_field(fd.as_raw_fd(), "pid")?, g.to_string());
    ensure_eq!(pk::info_s(fd.as_raw_fd())?.pid, g);
    ensure_eq!(pk::write_fd(fd.as_raw_fd(), b"USR1"), Ok(4));
    ensure_eq!(pk::pending(g)?, (0, bit(libc::SIGUSR1)));
    // The receiver in the child namespace: si_pid 0 for a writer in an
    // ancestor namespace (as kill(2) gives), its own PID for itself.
    let drain = || -> Result<String, String> {
        pk::put(cmd.wr.as_raw_fd(), b"d");
        pk::get_line(p.rd.as_raw_fd(), T20)
    };
    ensure_eq!(drain()?, "10,0,0,0");
    ensure_eq!(pk::kill(g, libc::SIGUSR1), Ok(()));
    ensure_eq!(drain()?, "10,0,0,0");
    pk::put(cmd.wr.as_raw_fd(), b"s");
    ensure_eq!(drain()?, "12,0,2,0");
    ensure_eq!(pk::write_fd(fd.as_raw_fd(), b"KILL"), Ok(4));
    c1.join(T20)
}

fn rmmod_in_use(what: &str) -> TestResult {
    let r = util::rmmod(util::MODULE_NAME);
    // docs/kill-node.md: the kernel reports a module in use as EAGAIN (EWOULDBLOCK).
    ensure!(
        r == Err(libc::EAGAIN),
        "rmmod with {what}: {:?}, want EAGAIN (EWOULDBLOCK)",
        r.map_err(errno_name)
    );
    let mi = util::module_info(util::MODULE_NAME)?.ok_or("module gone after a failed rmmod")?;
    ensure_eq!(mi.state, "Live");
    ensure!(mi.refcount > 0, "refcount {} with {what}", mi.refcount);
    println!(
        "node/unload: rmmod with {what} fails with {} (refcount {})",
        errno_name(r.unwrap_err()),
        mi.refcount
    );
    Ok(())
}

/// rmmod fails while a node is open and the module stays Live; after the
/// close it succeeds and no node exists.
fn unload_busy() -> TestResult {
    let m = pk::load("")?;
    let c = sleeper()?;
    let fd = pk::open_s(&node(c.pid()), libc::O_WRONLY)?;
    rmmod_in_use("an open node")?;
    ensure_eq!(pk::write_fd(fd.as_raw_fd(), b"0"), Ok(1));
    drop(fd);
    m.unload()?;
    ensure_eq!(
        pk::open("/proc/self/kill", libc::O_WRONLY).map(drop),
        Err(libc::ENOENT)
    );
    ensure_eq!(
        pk::open(&node(c.pid()), libc::O_RDONLY).map(drop),
        Err(libc::ENOENT)
    );
    ensure_eq!(lstat_mode("/proc/self/kill"), Err(libc::ENOENT));
    Ok(())
}

/// A long-lived process that looked its node up (stat, and through a held
/// /proc/<pid> directory fd) before the unload gets ENOENT afterwards; after
/// a new load it opens a working node again.
fn unload_cached_dentry() -> TestResult {
    let m = pk::load("")?;
    let (go, back) = (Pipe::new(true)?, Pipe::new(true)?);
    let (grd, bwr) = (go.rd.as_raw_fd(), back.wr.as_raw_fd());
    let c = util::fork_fn(move || {
        let dir = pk::open_s("/proc/self", libc::O_DIRECTORY | libc::O_RDONLY)?;
        ensure_eq!(lstat_mode("/proc/self/kill"), Ok(libc::S_IFREG | 0o666));
        let k = pk::openat(dir.as_raw_fd(), "kill", libc::O_RDONLY).map_err(errno_name)?;
        drop(k);
        // SAFETY: chdir into our own /proc directory.
        if unsafe { libc::chdir(c"/proc/self".as_ptr()) } < 0 {
            return util::os_err("chdir");
        }
        ensure_eq!(lstat_mode("kill"), Ok(libc::S_IFREG | 0o666));
        pk::put(bwr, b"1");
        pk::get(grd, 1, Duration::from_secs(60))?;
        // Unloaded now.
        ensure_eq!(
            pk::open("/proc/self/kill", libc::O_WRONLY).map(drop),
            Err(libc::ENOENT)
        );
        ensure_eq!(
            pk::openat(dir.as_raw_fd(), "kill", libc::O_WRONLY).map(drop),
            Err(libc::ENOENT)
        );
        ensure_eq!(lstat_mode("kill"), Err(libc::ENOENT));
        ensure_eq!(lstat_mode("/proc/self/kill"), Err(libc::ENOENT));
        // SAFETY: getpid(2).
        let me = unsafe { libc::getpid() };
        ensure!(!listing(&format!("/proc/{me}"))?.contains(&"kill".to_string()));
        pk::put(bwr, b"2");
        pk::get(grd, 1, Duration::from_secs(60))?;
        // Loaded again.
        let k = pk::openat(dir.as_raw_fd(), "kill", libc::O_WRONLY).map_err(errno_name)?;
        ensure_eq!(pk::write_fd(k.as_raw_fd(), b"0"), Ok(1));
        ensure_eq!(lstat_mode("kill"), Ok(libc::S_IFREG | 0o666));
        Ok(())
    })?;
    pk::get(back.rd.as_raw_fd(), 1, T20)?;
    m.unload()?;
    pk::put(go.wr.as_raw_fd(), b"g");
    let r = pk::get(back.rd.as_raw_fd(), 1, T20);
    if r.is_err() {
        return c.join(T20).and(r.map(drop));
    }
    let _m2 = pk::load("")?;
    pk::put(go.wr.as_raw_fd(), b"g");
    c.join(T20)
}

/// (inode number, mode) of `path` by lstat(2).
fn lstat_ino(path: &str) -> Result<u64, String> {
    let c = std::ffi::CString::new(path).unwrap();
    // SAFETY: zeroed stat buffer, valid C string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::lstat(c.as_ptr(), &mut st) } < 0 {
        return util::os_err(&format!("lstat {path}"));
    }
    Ok(st.st_ino)
}

/// Every entry of `path` as (name, d_ino, readdir offset of the next entry),
/// read with getdents64 into a buffer of `buf` bytes (so small a buffer
/// makes one call per entry).
fn getdents(path: &str, buf: usize) -> Result<Vec<(String, u64, i64)>, String> {
    let fd = pk::open_s(path, libc::O_RDONLY | libc::O_DIRECTORY)?;
    util::getdents_fd(fd.as_raw_fd(), buf).map_err(|e| format!("{path}: {e}"))
}

/// Node dentries stay in the dcache while their process lives, so a node's
/// inode number is stable and readdir reports it; each cached dentry holds
/// a module reference: delete_module fails until `cache` is set to N, which
/// drops them. With caching off, the last close frees the dentry.
fn dentry_cache() -> TestResult {
    let m = pk::load("")?;
    let c = sleeper()?;
    let (dir, path) = (format!("/proc/{}", c.pid()), node(c.pid()));
    let fd = pk::open_s(&path, libc::O_WRONLY)?;
    let ino = fstat_ino(fd.as_raw_fd())?;
    drop(fd);
    ensure_eq!(lstat_ino(&path)?, ino);
    let listed: Vec<_> = getdents(&dir, 4096)?
        .into_iter()
        .filter(|(n, ..)| n == "kill")
        .collect();
    ensure_eq!(listed.len(), 1);
    eqm!(
        listed[0].1,
        ino,
        "readdir's d_ino of kill, stat's st_ino {ino}"
    );
    let fd = pk::open_s(&path, libc::O_RDONLY)?;
    ensure_eq!(fstat_ino(fd.as_raw_fd())?, ino);
    drop(fd);
    let refs = util::module_info(util::MODULE_NAME)?
        .ok_or("not loaded")?
        .refcount;
    ensure!(refs > 0, "refcount {refs} with a cached node dentry");
    ensure_eq!(util::delete_module(util::MODULE_NAME), Err(libc::EAGAIN));
    ensure_eq!(util::read_file(util::CACHE_PARAM)?.trim().to_string(), "Y");
    ensure_eq!(util::write_once(util::CACHE_PARAM, b"N"), Ok(1));
    ensure_eq!(util::read_file(util::CACHE_PARAM)?.trim().to_string(), "N");
    let refs = util::module_info(util::MODULE_NAME)?
        .ok_or("not loaded")?
        .refcount;
    ensure_eq!(refs, 0);
    // Caching off: each lookup makes a new dentry and inode, freed on its
    // last dput, so the module stays free to go.
    let fd = pk::open_s(&path, libc::O_WRONLY)?;
    ensure_eq!(pk::write_fd(fd.as_raw_fd(), b"0"), Ok(1));
    drop(fd);
    ensure_eq!(lstat_mode(&path), Ok(libc::S_IFREG | 0o666));
    ensure_eq!(
        util::module_info(util::MODULE_NAME)?
            .ok_or("not loaded")?
            .refcount,
        0
    );
    for bad in [&b"maybe"[..], b"2", b"-1"] {
        ensure!(
            util::write_once(util::CACHE_PARAM, bad).is_err(),
            "cache={:?} accepted",
            String::from_utf8_lossy(bad)
        );
    }
    ensure_eq!(util::write_once(util::CACHE_PARAM, b"1"), Ok(1));
    ensure_eq!(util::read_file(util::CACHE_PARAM)?.trim().to_string(), "Y");
    drop(c);
    m.unload()
}

/// "kill" comes after procfs' entries at one position: every buffer size,
/// down to one entry per getdents64 call, lists each name once, with the
/// same offsets; seeking back to an entry's offset lists from there. Past
/// "kill" (where the module answers without procfs' function) a listing is
/// empty while the process lives, and gets ENOENT, as procfs' own positions
/// do, once it is reaped.
fn readdir_positions() -> TestResult {
    let m = pk::load("")?;
    let c = sleeper()?;
    let dirs = |pid: libc::pid_t| [format!("/proc/{pid}"), format!("/proc/{pid}/task/{pid}")];
    let mut ends = Vec::new();
    for d in dirs(c.pid()) {
        let full = getdents(&d, 32768)?;
        ensure_eq!(full.last().map(|e| e.0.as_str()), Some("kill"));
        ensure_eq!(full.iter().filter(|e| e.0 == "kill").count(), 1);
        for buf in [40, 64, 100, 256, 1000] {
            let small = getdents(&d, buf)?;
            eqm!(small, full, "{d} with a {buf}-byte buffer");
        }
        // lseek to the offset before "kill", then list: only "kill".
        let before = full[full.len() - 2].2;
        let fd = pk::open_s(&d, libc::O_RDONLY | libc::O_DIRECTORY)?;
        // SAFETY: lseek on our fd.
        ensure_eq!(
            unsafe { libc::lseek(fd.as_raw_fd(), before, libc::SEEK_SET) },
            before
        );
        let rest = util::getdents_fd(fd.as_raw_fd(), 4096)?;
        eqm!(rest, full[full.len() - 1..], "{d} from offset {before}");
        // The offset after "kill" (its d_off), and one far beyond.
        let after = full[full.len() - 1].2;
        for off in [after, after + 1000] {
            eqm!(
                getdents_at(fd.as_raw_fd(), off),
                Ok(0),
                "{d} at offset {off}"
            );
        }
        ends.push((before, after));
    }
    drop(c);
    // A reaped process: its directory fds get ENOENT at every position.
    let c = sleeper()?;
    let fds = dirs(c.pid())
        .iter()
        .map(|d| pk::open_s(d, libc::O_RDONLY | libc::O_DIRECTORY))
        .collect::<Result<Vec<_>, _>>()?;
    c.kill(libc::SIGKILL)?;
    ensure_eq!(c.wait_timeout(T20)?, Outcome::Signaled(libc::SIGKILL));
    for (fd, &(before, after)) in fds.iter().zip(&ends) {
        for off in [0, before, after, after + 1000] {
            eqm!(
                getdents_at(fd.as_raw_fd(), off),
                Err(libc::ENOENT),
                "a reaped process's directory at offset {off}"
            );
        }
    }
    m.unload()
}

/// One getdents64 call on `fd` from offset `off`: the bytes it returned, or
/// its errno.
fn getdents_at(fd: libc::c_int, off: i64) -> Result<usize, i32> {
    // SAFETY: lseek on the caller's fd.
    if unsafe { libc::lseek(fd, off, libc::SEEK_SET) } != off {
        return Err(util::errno());
    }
    util::getdents_raw(fd, &mut [0u8; 4096])
}

/// An O_PATH fd on the node pins the module too.
fn unload_opath() -> TestResult {
    let m = pk::load("")?;
    let fd = pk::open_s("/proc/self/kill", libc::O_PATH)?;
    rmmod_in_use("an O_PATH fd")?;
    drop(fd);
    m.unload()?;
    ensure_eq!(lstat_mode("/proc/self/kill"), Err(libc::ENOENT));
    Ok(())
}

/// Load, use, unload, three times.
fn reload() -> TestResult {
    for round in 0..3 {
        let m = pk::load("")?;
        let c = sleeper()?;
        let r = util::write_once(&node(c.pid()), b"KILL");
        ensure!(r == Ok(4), "round {round}: {}", res(r));
        ensure_eq!(c.wait_timeout(T20)?, Outcome::Signaled(libc::SIGKILL));
        m.unload()?;
        ensure_eq!(lstat_mode("/proc/self/kill"), Err(libc::ENOENT));
    }
    Ok(())
}

/// Writer threads hammer process and thread nodes of many targets while
/// the targets' threads and processes exit (and are reaped): every write
/// returns the count or ESRCH, and nothing hangs.
fn stress() -> TestResult {
    let _m = pk::load("")?;
    const TARGETS: usize = 12;
    const WRITERS: usize = 4;
    let mut kids = Vec::new();
    let mut fds = Vec::new();
    for i in 0..TARGETS {
        let p = Pipe::new(true)?;
        let wr = p.wr.as_raw_fd();
        let (tlife, plife) = (50 + 37 * i as u64 % 400, 100 + 53 * i as u64 % 700);
        let c = util::fork_fn(move || {
            pk::ignore(libc::SIGUSR1);
            let h = std::thread::spawn(move || {
                pk::put(wr, &pk::gettid().to_le_bytes());
                pk::sleep_ms(tlife);
            });
            pk::sleep_ms(plife);
            let _ = h.join();
            Ok(())
        })?;
        drop(p.wr);
        let tid = i32::from_le_bytes(pk::get(p.rd.as_raw_fd(), 4, T20)?.try_into().unwrap());
        for path in [node(c.pid()), tnode(c.pid(), tid), tnode(c.pid(), c.pid())] {
            // The thread may be gone already: then there is nothing to open.
            if let Ok(fd) = pk::open(&path, libc::O_WRONLY) {
                fds.push(fd);
            }
        }
        kids.push(c);
    }
    let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let raw = raw.clone();
        let stop = stop.clone();
        writers.push(std::thread::spawn(move || -> Result<(u64, u64), String> {
            let (mut ok, mut srch) = (0u64, 0u64);
            let msgs: [&[u8]; 3] = [b"USR1", b"0", b"10\n"];
            let mut k = w;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for &fd in &raw {
                    k += 1;
                    let m = msgs[k % 3];
                    match pk::write_fd(fd, m) {
                        Ok(n) if n == m.len() => ok += 1,
                        Err(libc::ESRCH) => srch += 1,
                        other => return Err(format!("write {m:?} on fd {fd}: {}", res(other))),
                    }
                }
            }
            Ok((ok, srch))
        }));
    }
    // Reap the targets as they exit, while the writers run.
    let t0 = Instant::now();
    let mut fails = Vec::new();
    for c in kids {
        match c.wait_timeout(T20)? {
            Outcome::Exited(0, _) => {}
            o => fails.push(format!("target: {o:?}")),
        }
    }
    pk::sleep_ms(200);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut srch) = (0, 0);
    for w in writers {
        match w.join().map_err(|_| "writer panicked")? {
            Ok((a, b)) => {
                ok += a;
                srch += b;
            }
            Err(e) => fails.push(e),
        }
    }
    println!(
        "node/stress: {} nodes, {ok} writes ok, {srch} ESRCH, {:?}",
        raw.len(),
        t0.elapsed()
    );
    ensure!(fails.is_empty(), "{}", fails.join("; "));
    ensure!(ok > 0 && srch > 0, "ok {ok} ESRCH {srch}");
    // Every node is dead now.
    for &fd in &raw {
        ensure_eq!(pk::write_fd(fd, b"0"), Err(libc::ESRCH));
    }
    Ok(())
}
