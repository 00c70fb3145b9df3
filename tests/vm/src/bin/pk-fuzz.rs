// SPDX-License-Identifier: GPL-2.0

//! `pk-fuzz [--seed N] [--secs S] [--procs P] [--weights opener=W,host=W,
//! forkstorm=W,chain=W] [--no-module]`: an adversarial race engine for the
//! kill node, run in the guest as root (`make fuzz`, `qemu/fuzz.sh`). It
//! loads the module if it is not loaded and leaves it as it found it;
//! `--no-module` (no loading, no cycler) only smoke-tests the engine.
//!
//! P worker processes run *episodes* one after another, each chosen from a
//! seeded PRNG (the seed is printed first, so a run replays the same choices;
//! the interleaving of course differs):
//!
//! - `opener`: 2-3 threads (optionally a partner process on a unix socket)
//!   opening nodes of the live targets (`/proc/P/kill`, via a `/proc/P` dir
//!   fd, `task/T/kill`, via a `task/T` dir fd, `O_PATH` + reopen through
//!   `/proc/self/fd`), writing valid and garbage signal text, SEND / INFO /
//!   SET_POLICY ioctls, read, poll, epoll, fdinfo, dup, close, passing fds
//!   with SCM_RIGHTS; as root or as uid 1000;
//! - `host`: forks 1-3 targets: threads come and go, children are forked
//!   and exit at once (SIGCHLD ignored or waited), the leader or a
//!   non-leader thread execs (pk-fuzz itself, or the set-uid-root
//!   pk-setuid-helper), setuid(1000), unshare(CLONE_NEWUSER), and targets
//!   that are PID 1 of a new PID namespace;
//! - `forkstorm`: a process (root or uid 1000; SIGCHLD ignored or waited)
//!   forks children that exit at once while threads open `kill` through a
//!   dir fd of the newest child, read it and close it;
//! - `chain`: a target whose threads exec one after another (non-leader
//!   execs), while the episode holds nodes of each image's leader thread
//!   and keeps writing to them; half of them pinned to CPU 0, 40% "quiet"
//!   (the other episodes hold off forks and thread spawns for up to 1.5 s,
//!   so a freed task_struct is there for the chain's next thread).
//!
//! Default weights: opener 25, host 20, forkstorm 30, chain 25.
//!
//! Beside them, a module cycler (`rmmod` / `insmod` while everything runs:
//! each must succeed or fail with an expected errno, and return) and a
//! policy changer (`revoke=` parameter).
//!
//! Oracles, each reported as a `VIOLATION:` line (exit status 1):
//!
//! - every target publishes in shared memory its process and thread
//!   identities (pidfs inode numbers and ids that never recur, kept across
//!   its execs); an opener resolves a handle to its target with
//!   `PROCKILL_IOC_INFO`. Probe signals (USR1, RTMIN..RTMIN+2 for process
//!   nodes; USR2, RTMIN+3..+5 for thread nodes) are caught by an
//!   `SA_SIGINFO` handler in every pk-fuzz process, which checks that the
//!   sender (`si_pid`) holds a handle on *this* process (thread) and that
//!   no exec revoked it under the per-handle exec policy;
//! - a write or SEND that succeeds on a handle observed revoked (read,
//!   INFO, poll, `EIO`), on a target known dead (reaped, or a thread
//!   destroyed by another thread's exec), on a handle that a completed exec
//!   must have revoked (`SET_POLICY` exec, then an exec; or an exec run
//!   wholly under the module's `revoke=exec`, no policy change, unload or
//!   load from its start to its new image, after the handle was opened), or
//!   with garbage text;
//! - an `rmmod`/`insmod` with an unexpected errno or taking over 30 s.
//!
//! Output: the seed, one line per second (ops and ops/s), the violations
//! as they happen, per-operation totals, and `pk-fuzz: N ops, V violations`.

use prockill_vmtests::tests::pk::{
    self, Info, KIND_PROCESS, KIND_THREAD, POLICY_EXEC, REVOKE_PARAM, STATE_REVOKED,
};
use prockill_vmtests::util;
use std::cell::{Cell, UnsafeCell};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ------------------------------------------------------------------ rng --

#[derive(Clone)]
struct Rng(u64);

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(splitmix(seed) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn range(&mut self, a: u64, b: u64) -> u64 {
        a + self.below(b - a + 1)
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    fn split(&mut self) -> Rng {
        Rng::new(self.next())
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    fn weighted(&mut self, w: &[u64]) -> usize {
        let total: u64 = w.iter().sum();
        let mut r = self.below(total);
        for (i, &x) in w.iter().enumerate() {
            if r < x {
                return i;
            }
            r -= x;
        }
        w.len() - 1
    }
}

// ---------------------------------------------------------- shared state --

const NSLOTS: usize = 128;
const NTHR: usize = 32;
const NSENDERS: usize = 128;
const NRING: usize = 256;
const NVIOL: usize = 32;
const VLEN: usize = 480;

// Slot states.
const FREE: u32 = 0;
const LIVE: u32 = 1;
const DEAD: u32 = 2;
const RESERVED: u32 = 3;
// Thread entry states (FREE, LIVE, DEAD as above).
const CLAIMING: u32 = 4;

/// Operation counters.
#[derive(Clone, Copy, PartialEq)]
#[repr(usize)]
enum Op {
    Open,
    OpenFail,
    Write,
    Send,
    Info,
    SetPolicy,
    Read,
    Poll,
    Epoll,
    Fdinfo,
    Dup,
    Close,
    Pass,
    Recv,
    Reopen,
    Fork,
    Thread,
    Exec,
    Setuid,
    Unshare,
    Policy,
    Rmmod,
    RmmodOk,
    Insmod,
    Delivered,
    Episode,
    N,
}
impl Op {
    fn from_index(i: usize) -> Op {
        const ALL: [Op; Op::N as usize] = [
            Op::Open,
            Op::OpenFail,
            Op::Write,
            Op::Send,
            Op::Info,
            Op::SetPolicy,
            Op::Read,
            Op::Poll,
            Op::Epoll,
            Op::Fdinfo,
            Op::Dup,
            Op::Close,
            Op::Pass,
            Op::Recv,
            Op::Reopen,
            Op::Fork,
            Op::Thread,
            Op::Exec,
            Op::Setuid,
            Op::Unshare,
            Op::Policy,
            Op::Rmmod,
            Op::RmmodOk,
            Op::Insmod,
            Op::Delivered,
            Op::Episode,
        ];
        ALL[i]
    }
}

const OP_NAMES: [&str; Op::N as usize] = [
    "open",
    "open-fail",
    "write",
    "send",
    "info",
    "set-policy",
    "read",
    "poll",
    "epoll",
    "fdinfo",
    "dup",
    "close",
    "pass",
    "recv",
    "reopen",
    "fork",
    "thread",
    "exec",
    "setuid",
    "unshare",
    "policy",
    "rmmod",
    "rmmod-ok",
    "insmod",
    "delivered",
    "episode",
];

#[repr(C)]
struct TEnt {
    state: AtomicU32,
    tid: AtomicI32,
    tiid: AtomicU64,
    ino: AtomicU64,
}

#[repr(C)]
struct Slot {
    state: AtomicU32,
    pid: AtomicI32,
    piid: AtomicU64,
    ino: AtomicU64,
    /// Odd while an exec is in progress; +2 per completed exec. `NOEXEC`
    /// set: an exec failed or ran a foreign program (no exec oracle).
    exec_seq: AtomicU64,
    flags: AtomicU32,
    _pad: AtomicU32,
    /// The exec in progress: [`Shm::mpol_gen`] when it began if no change
    /// was in progress and `revoke=exec` was in force, else `u64::MAX`.
    mstart: AtomicU64,
    /// The `exec_seq` that the last exec run wholly under `revoke=exec`
    /// (no policy change, load or unload from its start to its new image)
    /// completed at; 0: none.
    mexec: AtomicU64,
    th: [TEnt; NTHR],
}
const NOEXEC: u32 = 1;
/// The target is PID 1 of a new PID namespace, a child of the forked process.
const NSINIT: u32 = 2;

#[repr(C)]
struct Intent {
    seq: AtomicU64,
    class: AtomicU64,
    target: AtomicU64,
    /// 0: no exec policy; else the slot's exec_seq read after SET_POLICY(exec) + 1.
    strict: AtomicU64,
}

#[repr(C)]
struct Sender {
    tgid: AtomicI32,
    _pad: AtomicU32,
    head: AtomicU64,
    ring: [Intent; NRING],
}

#[repr(C)]
struct Viol {
    len: AtomicU32,
    buf: UnsafeCell<[u8; VLEN]>,
}

#[repr(C)]
struct Shm {
    stop: AtomicU32,
    pause: AtomicU32,
    /// Non-zero while a "quiet" chain episode runs: the others hold off
    /// creating tasks (fork, threads), so a task_struct freed by an exec is
    /// there for the chain's next thread to reuse.
    /// (A deadline, in CLOCK_MONOTONIC ns: self-healing if the episode dies.)
    quiet: AtomicU64,
    next_id: AtomicU64,
    nviol: AtomicU64,
    cyc_busy: AtomicU64,
    /// Changes of the module's `revoke=` begun (a write, an unload or a
    /// load, by the policy changer or the cycler) and ended: +1 at each
    /// begin and each end.
    mpol_gen: AtomicU64,
    /// 1 while a change is under way (changes are serialized: [`mpol_begin`]).
    mpol_busy: AtomicU32,
    /// 1 if `revoke=` read `exec` at the end of the last change.
    mpol_exec: AtomicU32,
    counts: [AtomicU64; Op::N as usize],
    slots: [Slot; NSLOTS],
    senders: [Sender; NSENDERS],
    viol: [Viol; NVIOL],
}

// SAFETY: every field is an atomic except the violation buffers, which are
// written once by the writer that claimed the index and read after `len`
// is published (Release/Acquire).
unsafe impl Sync for Shm {}

static SHM: AtomicPtr<Shm> = AtomicPtr::new(std::ptr::null_mut());
static SHM_FD: AtomicI32 = AtomicI32::new(-1);

fn shm() -> &'static Shm {
    // SAFETY: set once in main/image setup to a mapping that lives until exit.
    unsafe { &*SHM.load(Relaxed) }
}

fn map_shm(fd: RawFd) {
    let len = std::mem::size_of::<Shm>();
    // SAFETY: mapping a memfd of at least `len` bytes, shared.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        eprintln!("pk-fuzz: mmap shm: {}", util::errno_name(util::errno()));
        std::process::exit(2);
    }
    SHM.store(p.cast(), Relaxed);
    SHM_FD.store(fd, Relaxed);
}

fn create_shm() {
    let name = CString::new("pk-fuzz").unwrap();
    // SAFETY: memfd_create with a valid name; no CLOEXEC: exec'd images map it.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), 0) };
    // SAFETY: ftruncate on our fd.
    if fd < 0 || unsafe { libc::ftruncate(fd, std::mem::size_of::<Shm>() as libc::off_t) } < 0 {
        eprintln!("pk-fuzz: memfd: {}", util::errno_name(util::errno()));
        std::process::exit(2);
    }
    map_shm(fd);
}

fn count(op: Op) {
    shm().counts[op as usize].fetch_add(1, Relaxed);
}

fn stopping() -> bool {
    shm().stop.load(Relaxed) != 0
}

fn new_id() -> u64 {
    shm().next_id.fetch_add(1, Relaxed) + 1
}

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

fn sleep_us(us: u64) {
    std::thread::sleep(Duration::from_micros(us));
}

/// Record a violation (async-signal-safe: no allocation).
fn violation_bytes(parts: &[&[u8]]) {
    let s = shm();
    let i = s.nviol.fetch_add(1, SeqCst) as usize;
    if i >= NVIOL {
        return;
    }
    let v = &s.viol[i];
    // SAFETY: index `i` was claimed by this writer alone; readers wait for `len`.
    let buf = unsafe { &mut *v.buf.get() };
    let mut n = 0;
    for p in parts {
        for &b in p.iter() {
            if n < VLEN {
                buf[n] = b;
                n += 1;
            }
        }
    }
    v.len.store(n.max(1) as u32, Release);
}

fn violation(msg: String) {
    violation_bytes(&[msg.as_bytes()]);
}

/// Decimal digits of `v` into `buf` (async-signal-safe formatting).
fn fmt_u64(v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = 20;
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

// ------------------------------------------------------------ identity --

static PIID: AtomicU64 = AtomicU64::new(0);
/// The slot's exec_seq this image published (0 before any exec).
static MY_EXEC_SEQ: AtomicU64 = AtomicU64::new(0);
/// This process's sender slot (usize::MAX: none).
static SENDER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(usize::MAX);

thread_local! {
    static TIID: Cell<u64> = const { Cell::new(0) };
}

fn gettid() -> i32 {
    pk::gettid()
}

/// Global pid (the /proc mount's namespace) of the calling process.
fn global_pid() -> i32 {
    std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_string_lossy().parse().ok())
        .unwrap_or(0)
}

/// Global tid of the calling thread.
fn global_tid() -> i32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| {
            p.to_string_lossy()
                .rsplit('/')
                .next()
                .and_then(|s| s.parse().ok())
        })
        .unwrap_or(0)
}

const PIDFD_THREAD: i32 = libc::O_EXCL;

/// The pidfs inode number of a process (or thread) in our namespace.
fn pid_ino(pid: i32, thread: bool) -> u64 {
    // SAFETY: plain syscall.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_pidfd_open,
            pid,
            if thread { PIDFD_THREAD } else { 0 },
        )
    };
    if fd < 0 {
        return 0;
    }
    // SAFETY: zeroed stat is a valid buffer; fd is ours.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        let r = libc::fstat(fd as i32, &mut st);
        libc::close(fd as i32);
        if r < 0 {
            0
        } else {
            st.st_ino
        }
    }
}

// ------------------------------------------------------------- signals --

const P_SIGS: [i32; 4] = [libc::SIGUSR1, 34, 35, 36];
const T_SIGS: [i32; 4] = [libc::SIGUSR2, 37, 38, 39];
const CLASS_P: u64 = 1;
const CLASS_T: u64 = 2;
const ANY: u64 = u64::MAX;

fn class_of(sig: i32) -> u64 {
    if P_SIGS.contains(&sig) {
        CLASS_P
    } else {
        CLASS_T
    }
}

/// [`Shm::mpol_gen`] if no change of the module's policy is under way and
/// it is `revoke=exec`, else `u64::MAX`. An exec whose image finds
/// `mpol_gen` unchanged ran wholly under `revoke=exec`: every change
/// begins by bumping it.
fn mpol_exec_token() -> u64 {
    let s = shm();
    let g = s.mpol_gen.load(SeqCst);
    if s.mpol_busy.load(SeqCst) == 0
        && s.mpol_exec.load(SeqCst) == 1
        && s.mpol_gen.load(SeqCst) == g
    {
        g
    } else {
        u64::MAX
    }
}

/// Begin a change of the module's policy (a `revoke=` write, an unload or
/// a load): execs from now on until it has ended are not known to run under
/// one policy. Changes are serialized (the changer's and the cycler's would
/// otherwise overlap, and the first to end could record a reading of
/// `revoke=` that the second had already made stale).
fn mpol_begin() {
    let s = shm();
    while s.mpol_busy.compare_exchange(0, 1, SeqCst, SeqCst).is_err() {
        sleep_ms(1);
    }
    s.mpol_gen.fetch_add(1, SeqCst);
}

/// End it: record whether `revoke=` now reads `exec`. No other change can
/// be under way, so the reading stays true until the next `mpol_begin`.
fn mpol_end() {
    let s = shm();
    let exec = util::read_file(REVOKE_PARAM).is_ok_and(|v| v.trim() == "exec");
    s.mpol_exec.store(u32::from(exec), SeqCst);
    s.mpol_gen.fetch_add(1, SeqCst);
    s.mpol_busy.store(0, SeqCst);
}

fn exec_threshold(s0: u64) -> u64 {
    if s0 & 1 == 0 {
        s0 + 2
    } else {
        s0 + 3
    }
}

extern "C" fn on_probe(sig: i32, si: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let e = util::errno();
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let (code, spid) = unsafe { ((*si).si_code, (*si).si_pid()) };
    check_probe(sig, code, spid);
    // SAFETY: restore errno for the interrupted code.
    unsafe { *libc::__errno_location() = e };
}

fn check_probe(sig: i32, code: i32, spid: i32) {
    let s = shm();
    count(Op::Delivered);
    // SI_USER from a process node, SI_TKILL from a thread node.
    if !(code == libc::SI_USER || code == libc::SI_TKILL) || spid <= 0 {
        return;
    }
    let class = class_of(sig);
    let me = if class == CLASS_P {
        PIID.load(Relaxed)
    } else {
        TIID.with(|t| t.get())
    };
    let Some(snd) = s.senders.iter().find(|x| x.tgid.load(Acquire) == spid) else {
        return;
    };
    let my_exec = MY_EXEC_SEQ.load(Relaxed);
    let (mut any, mut ok, mut revoked) = (false, false, false);
    for it in snd.ring.iter() {
        let q0 = it.seq.load(Acquire);
        if q0 == 0 {
            continue;
        }
        let (c, t, st) = (
            it.class.load(Relaxed),
            it.target.load(Relaxed),
            it.strict.load(Relaxed),
        );
        if it.seq.load(Acquire) != q0 {
            ok = true; // being rewritten: give up on this signal
            continue;
        }
        if c & 0xff != class || (c >> 8) as i32 != sig {
            continue;
        }
        any = true;
        if t == ANY {
            ok = true;
        } else if t == me {
            if st != 0 && my_exec >= exec_threshold(st - 1) {
                revoked = true;
            } else {
                ok = true;
            }
        }
    }
    if !any || ok || snd.tgid.load(Acquire) != spid {
        return;
    }
    let mut b = [[0u8; 20]; 5];
    let [b0, b1, b2, b3, b4] = &mut b;
    // SAFETY: getpid has no preconditions.
    let mypid = unsafe { libc::getpid() } as u64;
    let what: &[u8] = if revoked {
        b"signal from a handle that an exec revoked (SET_POLICY exec, then exec) reached the new image: signal "
    } else if class == CLASS_P {
        b"signal reached a process that no handle of its sender targets: signal "
    } else {
        b"thread-node signal reached a thread that no handle of its sender targets: signal "
    };
    violation_bytes(&[
        what,
        fmt_u64(sig as u64, b0),
        b" from pid ",
        fmt_u64(spid as u64, b1),
        b" to pid ",
        fmt_u64(mypid, b2),
        b" tid ",
        fmt_u64(gettid() as u64, b3),
        if class == CLASS_P {
            b" piid "
        } else {
            b" tiid "
        },
        fmt_u64(me, b4),
    ]);
}

fn install_handlers() {
    for &sig in P_SIGS.iter().chain(T_SIGS.iter()) {
        // SAFETY: zeroed sigaction with a valid SA_SIGINFO handler.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_probe as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    pk::unblock_all_signals();
}

fn ignore_probes() {
    for &sig in P_SIGS.iter().chain(T_SIGS.iter()) {
        pk::ignore(sig);
    }
}

// -------------------------------------------------------------- senders --

fn claim_sender() {
    let me = global_pid();
    for (i, s) in shm().senders.iter().enumerate() {
        if s.tgid.compare_exchange(0, me, AcqRel, Relaxed).is_ok() {
            SENDER.store(i, Relaxed);
            return;
        }
    }
}

fn release_sender_of(pid: i32) {
    for s in shm().senders.iter() {
        if s.tgid.load(Relaxed) == pid {
            for it in s.ring.iter() {
                it.seq.store(0, Relaxed);
            }
            s.tgid.store(0, Release);
        }
    }
}

/// What an opener knows of a handle.
const MLEN: usize = 72;

struct Meta {
    /// CLASS_P / CLASS_T, 0: unresolved (only probes of 0 and garbage).
    class: u64,
    target: u64,
    slot: usize,
    slot_piid: u64,
    /// The one probe signal sent through this handle (of its class), so a
    /// receiver can tell this sender's handles apart.
    sig: i32,
    /// The target's pid (global) and pidfs inode, from INFO.
    pid: i32,
    ino: u64,
    writable: bool,
    opath: bool,
    strict: AtomicU64,
    /// The slot's exec_seq the handle was opened at, + 1 (0: unknown): an
    /// exec completing at `opened + 1` or later began after the open.
    opened: u64,
    revoked: AtomicBool,
    pos: AtomicU64,
}

impl Meta {
    fn unresolved(writable: bool, opath: bool) -> Meta {
        Meta {
            class: 0,
            target: 0,
            slot: 0,
            slot_piid: 0,
            sig: 0,
            pid: 0,
            ino: 0,
            writable,
            opath,
            strict: AtomicU64::new(0),
            opened: 0,
            revoked: AtomicBool::new(false),
            pos: AtomicU64::new(u64::MAX),
        }
    }

    fn post(&self, force: bool) {
        let si = SENDER.load(Relaxed);
        if si == usize::MAX || self.class == 0 {
            return;
        }
        let snd = &shm().senders[si];
        let pos = self.pos.load(Relaxed);
        let head = snd.head.load(Relaxed);
        if !force && pos != u64::MAX && head.wrapping_sub(pos) < (NRING / 2) as u64 {
            return;
        }
        let p = snd.head.fetch_add(1, AcqRel);
        let it = &snd.ring[p as usize % NRING];
        it.seq.store(0, Release);
        it.class.store(self.class | (self.sig as u64) << 8, Relaxed);
        it.target.store(self.target, Relaxed);
        it.strict.store(self.strict.load(Relaxed), Relaxed);
        it.seq.store(p + 1, Release);
        self.pos.store(p, Relaxed);
    }

    /// The target's process is known to be gone (reaped).
    fn slot_dead(&self) -> bool {
        if self.class == 0 {
            return false;
        }
        let slot = &shm().slots[self.slot];
        slot.piid.load(Acquire) != self.slot_piid || slot.state.load(Acquire) == DEAD
    }

    /// The target thread is known to be destroyed by another thread's exec.
    fn dead(&self) -> bool {
        if self.class == 0 {
            return false;
        }
        let slot = &shm().slots[self.slot];
        if self.class == CLASS_T && slot.piid.load(Acquire) == self.slot_piid {
            return slot
                .th
                .iter()
                .any(|e| e.tiid.load(Acquire) == self.target && e.state.load(Acquire) == DEAD);
        }
        false
    }

    /// An exec that must have revoked the handle has completed: why, if so.
    fn exec_revoked(&self) -> Option<&'static str> {
        if self.class == 0 {
            return None;
        }
        let slot = &shm().slots[self.slot];
        if slot.flags.load(Acquire) & NOEXEC != 0 || slot.piid.load(Acquire) != self.slot_piid {
            return None;
        }
        let st = self.strict.load(Relaxed);
        if st != 0 && slot.exec_seq.load(Acquire) >= exec_threshold(st - 1) {
            return Some(
                "succeeded though SET_POLICY(exec) was set before a completed exec of the target",
            );
        }
        if self.opened != 0 && slot.mexec.load(Acquire) > self.opened {
            return Some("succeeded though an exec of the target, begun after the open, ran wholly under the module's revoke=exec");
        }
        None
    }

    fn to_bytes(&self) -> [u8; MLEN] {
        let mut b = [0u8; MLEN];
        let w = [
            self.class | (self.sig as u64) << 8,
            self.target,
            self.slot as u64,
            self.slot_piid,
            self.strict.load(Relaxed),
            u64::from(self.writable)
                | u64::from(self.opath) << 1
                | u64::from(self.revoked.load(Relaxed)) << 2,
            self.pid as u64,
            self.ino,
            self.opened,
        ];
        for (i, v) in w.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn from_bytes(b: &[u8; MLEN]) -> Meta {
        let r = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
        Meta {
            class: r(0) & 0xff,
            sig: (r(0) >> 8) as i32,
            target: r(1),
            slot: (r(2) as usize).min(NSLOTS - 1),
            slot_piid: r(3),
            pid: r(6) as i32,
            ino: r(7),
            writable: r(5) & 1 != 0,
            opath: r(5) & 2 != 0,
            strict: AtomicU64::new(r(4)),
            opened: r(8),
            revoked: AtomicBool::new(r(5) & 4 != 0),
            pos: AtomicU64::new(u64::MAX),
        }
    }
}

// ---------------------------------------------------------------- slots --

fn reserve_slot() -> Option<usize> {
    let s = shm();
    for (i, sl) in s.slots.iter().enumerate() {
        for from in [FREE, DEAD] {
            if sl
                .state
                .compare_exchange(from, RESERVED, AcqRel, Relaxed)
                .is_ok()
            {
                sl.piid.store(0, Release);
                sl.pid.store(0, Relaxed);
                sl.ino.store(0, Relaxed);
                sl.flags.store(0, Relaxed);
                sl.exec_seq.store(0, Relaxed);
                sl.mstart.store(u64::MAX, Relaxed);
                sl.mexec.store(0, Relaxed);
                for e in sl.th.iter() {
                    e.state.store(FREE, Relaxed);
                    e.tiid.store(0, Relaxed);
                }
                return Some(i);
            }
        }
    }
    None
}

fn mark_dead(slot: usize) {
    shm().slots[slot].state.store(DEAD, Release);
}

/// Publish the calling thread in the slot's thread table.
fn thread_enter(slot: usize) -> Option<usize> {
    let sl = &shm().slots[slot];
    if sl.piid.load(Acquire) != PIID.load(Relaxed) {
        return None;
    }
    let tiid = TIID.with(|t| t.get());
    for (i, e) in sl.th.iter().enumerate() {
        if e.state
            .compare_exchange(FREE, CLAIMING, AcqRel, Relaxed)
            .is_ok()
        {
            e.tid.store(global_tid(), Relaxed);
            e.ino.store(pid_ino(gettid(), true), Relaxed);
            e.tiid.store(tiid, Relaxed);
            e.state.store(LIVE, Release);
            return Some(i);
        }
    }
    None
}

fn thread_leave(slot: usize, ent: Option<usize>) {
    if let Some(i) = ent {
        let e = &shm().slots[slot].th[i];
        e.tiid.store(0, Release);
        e.state.store(FREE, Release);
    }
}

// ------------------------------------------------------------- targets --

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Churn,
    Chain,
}

struct TargetCfg {
    slot: usize,
    mode: Mode,
    deadline: u64,
    chain_left: u32,
    seed: u64,
}

fn setup_dumpable() {
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1) };
}

/// A fresh target process (forked by a host): publish, then behave.
fn target_start(cfg: TargetCfg) -> ! {
    PIID.store(new_id(), Relaxed);
    TIID.with(|t| t.set(new_id()));
    MY_EXEC_SEQ.store(0, Relaxed);
    let sl = &shm().slots[cfg.slot];
    sl.pid.store(global_pid(), Relaxed);
    // SAFETY: getpid has no preconditions.
    sl.ino
        .store(pid_ino(unsafe { libc::getpid() }, false), Relaxed);
    sl.piid.store(PIID.load(Relaxed), Release);
    thread_enter(cfg.slot);
    sl.state.store(LIVE, Release);
    install_handlers();
    target_loop(cfg)
}

/// An exec'd image of a target (`pk-fuzz --image`): re-publish, then behave.
fn image_main() -> ! {
    let env = |k: &str| -> u64 {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    map_shm(env("PKF_SHM_FD") as RawFd);
    let slot = (env("PKF_SLOT") as usize).min(NSLOTS - 1);
    let tiid = env("PKF_TIID");
    PIID.store(env("PKF_PIID"), Relaxed);
    TIID.with(|t| t.set(tiid));
    let sl = &shm().slots[slot];
    if sl.piid.load(Acquire) != PIID.load(Relaxed) || sl.pid.load(Relaxed) != global_pid() {
        eprintln!(
            "pk-fuzz: note: image of piid {} (pid {}) finds slot {slot} taken by piid {} (pid {})",
            PIID.load(Relaxed),
            global_pid(),
            sl.piid.load(Relaxed),
            sl.pid.load(Relaxed)
        );
        // SAFETY: leaving.
        unsafe { libc::_exit(0) };
    }
    let seq = sl.exec_seq.load(Acquire);
    MY_EXEC_SEQ.store(seq + 1, Relaxed);
    // Every other thread of the old image is gone (de_thread waited for them).
    let mut mine = None;
    for (i, e) in sl.th.iter().enumerate() {
        let st = e.state.load(Acquire);
        if st == LIVE || st == CLAIMING {
            if e.tiid.load(Relaxed) == tiid && mine.is_none() {
                mine = Some(i);
            } else {
                e.state.store(DEAD, Release);
            }
        }
    }
    match mine {
        Some(i) => {
            let e = &sl.th[i];
            e.tid.store(global_tid(), Relaxed);
            e.ino.store(pid_ino(gettid(), true), Relaxed);
        }
        None => {
            thread_enter(slot);
        }
    }
    let m0 = sl.mstart.load(Acquire);
    if m0 != u64::MAX && shm().mpol_gen.load(SeqCst) == m0 {
        // revoke=exec from before the exec began to here, so during the
        // exec hook too.
        sl.mexec.store(seq + 1, Release);
    }
    sl.exec_seq.store(seq + 1, Release);
    install_handlers();
    let mode = if env("PKF_CHAIN") == 1 {
        Mode::Chain
    } else {
        Mode::Churn
    };
    target_loop(TargetCfg {
        slot,
        mode,
        deadline: env("PKF_DEADLINE"),
        chain_left: env("PKF_CHAIN_LEFT") as u32,
        seed: env("PKF_SEED"),
    })
}

struct ExecPlan {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
}

fn self_exe() -> String {
    std::env::var("PKF_EXE").unwrap_or_else(|_| "/usr/bin/pk-fuzz".into())
}

fn image_plan(cfg: &TargetCfg, tiid: u64, seed: u64, chain_left: u32) -> ExecPlan {
    let env = [
        format!("PKF_SHM_FD={}", SHM_FD.load(Relaxed)),
        format!("PKF_SLOT={}", cfg.slot),
        format!("PKF_PIID={}", PIID.load(Relaxed)),
        format!("PKF_TIID={tiid}"),
        format!("PKF_DEADLINE={}", cfg.deadline),
        format!("PKF_CHAIN={}", u8::from(cfg.mode == Mode::Chain)),
        format!("PKF_CHAIN_LEFT={chain_left}"),
        format!("PKF_SEED={seed}"),
        format!("PKF_EXE={}", self_exe()),
        "PATH=/usr/bin:/bin".to_string(),
    ];
    ExecPlan {
        path: CString::new(self_exe()).unwrap(),
        argv: vec![
            CString::new("pk-fuzz").unwrap(),
            CString::new("--image").unwrap(),
        ],
        envp: env
            .iter()
            .map(|s| CString::new(s.as_str()).unwrap())
            .collect(),
    }
}

fn helper_plan() -> ExecPlan {
    ExecPlan {
        path: CString::new(util::SETUID_HELPER).unwrap(),
        argv: vec![
            CString::new("pk-setuid-helper").unwrap(),
            CString::new("").unwrap(),
        ],
        envp: vec![CString::new("PATH=/usr/bin:/bin").unwrap()],
    }
}

/// Exec `plan` from the calling thread, keeping the slot's exec sequence.
/// Returns if another exec is in progress or the exec failed.
fn do_exec(slot: usize, plan: &ExecPlan, foreign: bool) {
    let sl = &shm().slots[slot];
    let s = sl.exec_seq.load(Acquire);
    if sl.piid.load(Acquire) != PIID.load(Relaxed)
        || s & 1 == 1
        || sl
            .exec_seq
            .compare_exchange(s, s + 1, AcqRel, Relaxed)
            .is_err()
    {
        return;
    }
    if foreign {
        sl.flags.fetch_or(NOEXEC, Release);
    }
    sl.mstart.store(mpol_exec_token(), Release);
    count(Op::Exec);
    ignore_probes();
    let mut argv: Vec<*const libc::c_char> = plan.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = plan.envp.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: NULL-terminated arrays of valid C strings.
    unsafe { libc::execve(plan.path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    sl.flags.fetch_or(NOEXEC, Release);
    sl.exec_seq.fetch_add(1, AcqRel);
    install_handlers();
}

/// Fork children that exit at once (SIGCHLD ignored: auto-reaped; else waited).
/// Hold off creating tasks while a quiet chain runs (at most 2 s).
fn quiet_point() {
    let t0 = now_ns();
    while now_ns() < shm().quiet.load(Relaxed) && now_ns() - t0 < 2_000_000_000 && !stopping() {
        sleep_ms(2);
    }
}

fn fork_burst(rng: &mut Rng, reap: bool) {
    let n = rng.range(1, 12);
    for _ in 0..n {
        quiet_point();
        count(Op::Fork);
        // SAFETY: the child only calls _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: leaving the child at once.
            unsafe { libc::_exit(0) };
        }
        if pid > 0 && reap {
            // SAFETY: reaping our own child.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL) };
        }
    }
}

fn target_loop(cfg: TargetCfg) -> ! {
    let mut rng = Rng::new(cfg.seed);
    let slot = cfg.slot;
    let threads = Arc::new(AtomicU32::new(0));
    let auto_reap = rng.chance(50);
    if auto_reap {
        pk::ignore(libc::SIGCHLD);
    } else {
        // SAFETY: default disposition.
        unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
    }
    if cfg.mode == Mode::Chain {
        sleep_ms(rng.range(2, 40));
        if cfg.chain_left > 0 && now_ns() < cfg.deadline && !stopping() {
            let plan = image_plan(&cfg, 0, rng.next(), cfg.chain_left - 1);
            if rng.chance(10) {
                // The leader execs itself.
                let plan = image_plan(&cfg, TIID.with(|t| t.get()), rng.next(), cfg.chain_left - 1);
                do_exec(slot, &plan, false);
            } else {
                let delay = rng.range(0, 15);
                let extra = rng.chance(30);
                let _ = std::thread::Builder::new()
                    .stack_size(256 << 10)
                    .spawn(move || {
                        let tiid = new_id();
                        TIID.with(|t| t.set(tiid));
                        count(Op::Thread);
                        let ent = thread_enter(slot);
                        sleep_ms(delay);
                        let mut plan = plan;
                        plan.envp[3] = CString::new(format!("PKF_TIID={tiid}")).unwrap();
                        do_exec(slot, &plan, false);
                        thread_leave(slot, ent);
                    });
                if extra {
                    spawn_target_thread(&mut rng, slot, &threads, 200);
                }
            }
            // Wait for the exec to take us away.
            while now_ns() < cfg.deadline && !stopping() {
                sleep_ms(20);
            }
        } else {
            sleep_ms(rng.range(20, 200));
        }
        // SAFETY: leaving the target.
        unsafe { libc::_exit(0) };
    }
    let mut setuid_done = false;
    while now_ns() < cfg.deadline && !stopping() {
        match rng.weighted(&[30, 20, 20, 3, 3, 2, 2, 2]) {
            0 => sleep_ms(rng.range(1, 20)),
            1 => {
                if threads.load(Relaxed) < 6 {
                    spawn_target_thread(&mut rng, slot, &threads, 300);
                }
            }
            2 => fork_burst(&mut rng, !auto_reap),
            3 => {
                if !setuid_done && rng.chance(50) {
                    setuid_done = true;
                    count(Op::Setuid);
                    // SAFETY: plain credential syscalls (glibc broadcasts to threads).
                    unsafe {
                        libc::setresgid(util::USER_GID, util::USER_GID, util::USER_GID);
                        libc::setresuid(util::USER_UID, util::USER_UID, util::USER_UID);
                    }
                    setup_dumpable();
                    pk::die_with_parent();
                }
            }
            4 => {
                // Leader exec of pk-fuzz itself.
                let plan = image_plan(&cfg, TIID.with(|t| t.get()), rng.next(), 0);
                do_exec(slot, &plan, false);
            }
            5 => {
                // A non-leader thread execs pk-fuzz.
                let mut plan = image_plan(&cfg, 0, rng.next(), 0);
                let _ = std::thread::Builder::new()
                    .stack_size(256 << 10)
                    .spawn(move || {
                        let tiid = new_id();
                        TIID.with(|t| t.set(tiid));
                        let ent = thread_enter(slot);
                        plan.envp[3] = CString::new(format!("PKF_TIID={tiid}")).unwrap();
                        do_exec(slot, &plan, false);
                        thread_leave(slot, ent);
                    });
                sleep_ms(5);
            }
            6 => {
                // The set-uid-root helper (it exits at once).
                if rng.chance(30) {
                    let plan = helper_plan();
                    if let Ok(null) = pk::open("/dev/null", libc::O_RDWR) {
                        // SAFETY: dup2 onto our stdio.
                        unsafe {
                            libc::dup2(null.as_raw_fd(), 0);
                            libc::dup2(null.as_raw_fd(), 1);
                            libc::dup2(null.as_raw_fd(), 2);
                        }
                    }
                    do_exec(slot, &plan, true);
                }
            }
            _ => {
                if threads.load(Relaxed) == 0 {
                    count(Op::Unshare);
                    // SAFETY: plain syscall.
                    unsafe { libc::unshare(libc::CLONE_NEWUSER) };
                }
            }
        }
    }
    // SAFETY: leaving the target.
    unsafe { libc::_exit(0) }
}

fn spawn_target_thread(rng: &mut Rng, slot: usize, threads: &Arc<AtomicU32>, max_ms: u64) {
    quiet_point();
    let life = rng.range(1, max_ms);
    let forks = rng.chance(20);
    let mut r2 = rng.split();
    let th = threads.clone();
    th.fetch_add(1, Relaxed);
    count(Op::Thread);
    let res = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            TIID.with(|t| t.set(new_id()));
            let ent = thread_enter(slot);
            let end = now_ns() + life * 1_000_000;
            while now_ns() < end {
                if forks {
                    fork_burst(&mut r2, true);
                }
                sleep_ms(r2.range(1, 10));
            }
            thread_leave(slot, ent);
            th.fetch_sub(1, Relaxed);
        });
    if res.is_err() {
        threads.fetch_sub(1, Relaxed);
    }
}

/// Fork a target in `slot`; returns its pid (in our namespace).
fn fork_target(cfg: TargetCfg, uid1000: bool, newpid: bool) -> i32 {
    // SAFETY: the host is single-threaded when it forks.
    let pid = unsafe { libc::fork() };
    if pid != 0 {
        return pid;
    }
    pk::die_with_parent();
    if uid1000 {
        let _ = util::drop_privileges(util::USER_UID, util::USER_GID);
        setup_dumpable();
        pk::die_with_parent();
    }
    if newpid {
        count(Op::Unshare);
        // SAFETY: plain syscall; the next fork is PID 1 of the new namespace.
        if unsafe { libc::unshare(libc::CLONE_NEWPID) } == 0 {
            // SAFETY: single-threaded.
            let c = unsafe { libc::fork() };
            if c == 0 {
                pk::die_with_parent();
                target_start(cfg);
            }
            if c > 0 {
                shm().slots[cfg.slot].flags.fetch_or(NSINIT, Release);
                // SAFETY: reaping our child.
                unsafe { libc::waitpid(c, std::ptr::null_mut(), 0) };
                mark_dead(cfg.slot);
            }
            // SAFETY: leaving.
            unsafe { libc::_exit(0) };
        }
    }
    target_start(cfg)
}

// -------------------------------------------------------------- openers --

struct H {
    fd: OwnedFd,
    m: Arc<Meta>,
}

struct Dir {
    fd: OwnedFd,
    slot: usize,
    thread: bool,
}

struct OpCtx {
    rng: Rng,
    hs: Vec<H>,
    dirs: Vec<Dir>,
    ep: Option<OwnedFd>,
    inbox: Arc<Mutex<Vec<H>>>,
    sock: Option<RawFd>,
}

fn cvt(r: i64) -> Result<i64, i32> {
    if r < 0 {
        Err(util::errno())
    } else {
        Ok(r)
    }
}

/// A live slot and one of its live threads: (slot, pid, tid, exec_seq).
fn pick_target(rng: &mut Rng) -> Option<(usize, i32, i32, u64)> {
    let s = shm();
    let live: Vec<usize> = (0..NSLOTS)
        .filter(|&i| s.slots[i].state.load(Acquire) == LIVE)
        .collect();
    if live.is_empty() {
        return None;
    }
    let i = *rng.pick(&live);
    let sl = &s.slots[i];
    let seq = sl.exec_seq.load(Acquire);
    let pid = sl.pid.load(Relaxed);
    let tids: Vec<i32> = sl
        .th
        .iter()
        .filter(|e| e.state.load(Acquire) == LIVE)
        .map(|e| e.tid.load(Relaxed))
        .collect();
    let tid = if tids.is_empty() || rng.chance(30) {
        pid
    } else {
        *rng.pick(&tids)
    };
    Some((i, pid, tid, seq))
}

/// Resolve a freshly opened handle to its target (INFO + shared state).
fn resolve(fd: RawFd, slot: usize, seq0: u64, piid0: u64, writable: bool) -> Meta {
    let mut m = Meta::unresolved(writable, false);
    let Ok(info) = pk::info(fd) else {
        return m;
    };
    count(Op::Info);
    let sl = &shm().slots[slot];
    if seq0 & 1 == 1 || sl.state.load(Acquire) != LIVE {
        return m;
    }
    let (class, target) =
        match info.kind {
            KIND_PROCESS if info.pidfs_ino != 0 && sl.ino.load(Acquire) == info.pidfs_ino => {
                (CLASS_P, piid0)
            }
            KIND_THREAD if info.pidfs_ino != 0 => {
                match sl.th.iter().find(|e| {
                    e.state.load(Acquire) == LIVE && e.ino.load(Acquire) == info.pidfs_ino
                }) {
                    Some(e) => (CLASS_T, e.tiid.load(Acquire)),
                    None => return m,
                }
            }
            _ => return m,
        };
    if sl.exec_seq.load(Acquire) != seq0
        || sl.piid.load(Acquire) != piid0
        || target == 0
        || sl.flags.load(Acquire) & NOEXEC != 0
    {
        return m;
    }
    if info.state == STATE_REVOKED {
        m.revoked.store(true, Relaxed);
    }
    m.class = class;
    let sigs = if class == CLASS_T { T_SIGS } else { P_SIGS };
    m.sig = sigs[(new_id() % 4) as usize];
    m.target = target;
    m.pid = info.pid;
    m.ino = info.pidfs_ino;
    m.slot = slot;
    m.slot_piid = piid0;
    // seq0 is even and unchanged since before the open: no exec was in
    // progress from the open to here.
    m.opened = seq0 + 1;
    m
}

fn open_flags(rng: &mut Rng) -> (i32, bool) {
    let f = match rng.weighted(&[40, 40, 20]) {
        0 => libc::O_RDONLY,
        1 => libc::O_WRONLY,
        _ => libc::O_RDWR,
    };
    let nb = if rng.chance(20) { libc::O_NONBLOCK } else { 0 };
    (f | nb, f != libc::O_RDONLY)
}

fn op_open(c: &mut OpCtx) {
    let (flags, writable) = open_flags(&mut c.rng);
    let opath = c.rng.chance(8);
    let flags = if opath { libc::O_PATH } else { flags };
    // Through a cached dir fd (maybe of a target that is gone by now).
    if !c.dirs.is_empty() && c.rng.chance(30) {
        let i = c.rng.below(c.dirs.len() as u64) as usize;
        let (slot, thread) = (c.dirs[i].slot, c.dirs[i].thread);
        let sl = &shm().slots[slot];
        let (seq0, piid0) = (sl.exec_seq.load(Acquire), sl.piid.load(Acquire));
        count(Op::Open);
        match pk::openat(c.dirs[i].fd.as_raw_fd(), "kill", flags) {
            Ok(fd) => {
                let m = if opath {
                    Meta::unresolved(false, true)
                } else {
                    resolve(fd.as_raw_fd(), slot, seq0, piid0, writable)
                };
                let _ = thread;
                c.hs.push(H { fd, m: Arc::new(m) });
            }
            Err(_) => {
                count(Op::OpenFail);
                if c.rng.chance(50) {
                    c.dirs.swap_remove(i);
                }
            }
        }
        return;
    }
    let (slot, pid, tid, seq0, piid0) = match pick_target(&mut c.rng) {
        Some((s, p, t, q)) if !c.rng.chance(5) => (s, p, t, q, shm().slots[s].piid.load(Acquire)),
        _ => {
            // Not a target: ourselves, init, or a random pid.
            // SAFETY: getpid has no preconditions.
            let me = unsafe { libc::getpid() };
            let r = c.rng.range(2, 400) as i32;
            let p = *c.rng.pick(&[me, 1, r]);
            (0, p, p, 1, 0)
        }
    };
    let thread = c.rng.chance(45);
    let dirpath = if thread {
        format!("/proc/{pid}/task/{tid}")
    } else {
        format!("/proc/{pid}")
    };
    count(Op::Open);
    let r = match c.rng.below(3) {
        0 => pk::open(&format!("{dirpath}/kill"), flags),
        _ => match pk::open(&dirpath, libc::O_RDONLY | libc::O_DIRECTORY) {
            Ok(d) => {
                let r = pk::openat(d.as_raw_fd(), "kill", flags);
                if c.dirs.len() < 6 && seq0 & 1 == 0 {
                    c.dirs.push(Dir {
                        fd: d,
                        slot,
                        thread,
                    });
                }
                r
            }
            Err(e) => Err(e),
        },
    };
    match r {
        Ok(fd) => {
            let m = if opath {
                Meta::unresolved(false, true)
            } else {
                resolve(fd.as_raw_fd(), slot, seq0, piid0, writable)
            };
            c.hs.push(H { fd, m: Arc::new(m) });
        }
        Err(_) => count(Op::OpenFail),
    }
}

const GARBAGE: [&[u8]; 14] = [
    b"",
    b"abc",
    b"-1",
    b"65",
    b"1 2",
    b"SIGFOO",
    b"15\0",
    b"+15",
    b"0x10",
    b"RTMIN+99",
    b"\n",
    b"111111111111111111111111111111111111111",
    b"term",
    b"SIGRTMAX+1",
];

fn sig_text(rng: &mut Rng, sig: i32) -> Vec<u8> {
    let name = match sig {
        libc::SIGUSR1 => "USR1".to_string(),
        libc::SIGUSR2 => "USR2".to_string(),
        libc::SIGTERM => "TERM".to_string(),
        libc::SIGKILL => "KILL".to_string(),
        s if s >= 34 => format!("RTMIN+{}", s - 34),
        s => s.to_string(),
    };
    let t = match rng.below(5) {
        0 => sig.to_string(),
        1 => format!("{sig}\n"),
        2 => name,
        3 => format!("SIG{name}"),
        _ => format!("  {name}\n"),
    };
    t.into_bytes()
}

static NOTED: AtomicBool = AtomicBool::new(false);

/// What a send attempt on `h` may do: (must fail, reason).
fn must_fail(h: &H) -> Option<&'static str> {
    if h.m.revoked.load(Relaxed) {
        Some("succeeded on a handle already observed revoked")
    } else if h.m.slot_dead() {
        if h.m.pid > 0 && pid_ino(h.m.pid, h.m.class == CLASS_T) == h.m.ino {
            // The process is still there: the engine's own bookkeeping is
            // wrong, not the module. Say so (once per process), no violation.
            if !NOTED.swap(true, Relaxed) {
                eprintln!(
                    "pk-fuzz: note: slot {} says process {} (pid {}) is gone but it is not",
                    h.m.slot, h.m.target, h.m.pid
                );
            }
            return None;
        }
        Some("succeeded though its target process is known reaped")
    } else if h.m.dead() {
        Some("succeeded though its target thread was destroyed by another thread's exec")
    } else if let Some(why) = h.m.exec_revoked() {
        Some(why)
    } else {
        None
    }
}

fn report_send(h: &H, how: &str, what: &str, why: &str) {
    let sl = &shm().slots[h.m.slot];
    let ent = sl
        .th
        .iter()
        .find(|e| e.tiid.load(Relaxed) == h.m.target)
        .map(|e| {
            format!(
                "entry state {} tid {}",
                e.state.load(Relaxed),
                e.tid.load(Relaxed)
            )
        })
        .unwrap_or_default();
    let same = pid_ino(h.m.pid, h.m.class == CLASS_T) == h.m.ino;
    // What the module-policy oracle believed, beside what the module says now.
    let revoke_now = util::read_file(REVOKE_PARAM)
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|e| format!("unreadable ({e})"));
    let state_now = pk::info(h.fd.as_raw_fd())
        .map(|i| i.state.to_string())
        .unwrap_or_else(|e| util::errno_name(e).to_string());
    violation(format!(
        "{how} {what:?} {why} (slot state {} exec_seq {}, {ent}, pid {} still has that ino: {same}; \
         opened at {} mexec {}, revoke= now {revoke_now}, INFO state now {state_now}) ({})",
        sl.state.load(Relaxed),
        sl.exec_seq.load(Relaxed),
        h.m.pid,
        h.m.opened,
        sl.mexec.load(Relaxed),
        report_tail(h)
    ));
}

fn report_tail(h: &H) -> String {
    format!(
        "class {}, target id {}, slot {}, pid {}, opened on pid {} ino {}",
        match h.m.class {
            CLASS_P => "process",
            CLASS_T => "thread",
            _ => "?",
        },
        h.m.target,
        h.m.slot,
        shm().slots[h.m.slot].pid.load(Relaxed),
        h.m.pid,
        h.m.ino
    )
}

fn op_write(c: &mut OpCtx, i: usize) {
    let h = &c.hs[i];
    let rng = &mut c.rng;
    let (payload, garbage) = if h.m.class != 0 && rng.chance(65) {
        let sig = if h.m.class == CLASS_P && rng.chance(1) {
            libc::SIGTERM
        } else {
            h.m.sig
        };
        h.m.post(false);
        (sig_text(rng, sig), false)
    } else if rng.chance(40) {
        (b"0".to_vec(), false)
    } else {
        (rng.pick(&GARBAGE).to_vec(), true)
    };
    let mf = must_fail(h);
    let fd = h.fd.as_raw_fd();
    count(Op::Write);
    let r = if rng.chance(2) {
        // A bad user pointer.
        // SAFETY: the kernel must fail with EFAULT; nothing is read here.
        cvt(unsafe { libc::write(fd, 16usize as *const libc::c_void, 4) } as i64)
    } else {
        pk::write_fd(fd, &payload).map(|n| n as i64)
    };
    let text = String::from_utf8_lossy(&payload).into_owned();
    match r {
        Ok(_) if garbage && !payload.is_empty() => {
            report_send(h, "write of garbage", &text, "succeeded")
        }
        Ok(_) if !garbage => {
            if let Some(why) = mf {
                report_send(h, "write", &text, why);
            }
        }
        Err(libc::EIO) => h.m.revoked.store(true, Relaxed),
        _ => {}
    }
}

fn op_send(c: &mut OpCtx, i: usize) {
    let h = &c.hs[i];
    let (sig, flags) = if h.m.class != 0 {
        h.m.post(false);
        (h.m.sig as u32, if c.rng.chance(3) { 1 } else { 0 })
    } else {
        (
            if c.rng.chance(80) { 0 } else { 65 },
            if c.rng.chance(3) { 1 } else { 0 },
        )
    };
    let mf = must_fail(h);
    count(Op::Send);
    match pk::ioc_send(h.fd.as_raw_fd(), sig, flags) {
        Ok(()) => {
            if flags != 0 || sig > 64 {
                report_send(
                    h,
                    "SEND",
                    &format!("sig {sig} flags {flags}"),
                    "was accepted",
                );
            } else if let Some(why) = mf {
                report_send(h, "SEND", &format!("sig {sig}"), why);
            }
        }
        Err(libc::EIO) => h.m.revoked.store(true, Relaxed),
        Err(_) => {}
    }
}

fn op_info(c: &mut OpCtx, i: usize) {
    let h = &c.hs[i];
    count(Op::Info);
    if let Ok(info) = pk::info(h.fd.as_raw_fd()) {
        observe_state(h, info);
    }
}

fn observe_state(h: &H, info: Info) {
    if info.state == STATE_REVOKED {
        h.m.revoked.store(true, Relaxed);
    }
}

fn op_set_policy(c: &mut OpCtx, i: usize) {
    let h = &c.hs[i];
    let p = match c.rng.below(10) {
        0..=5 => POLICY_EXEC,
        6 | 7 => c.rng.below(2) as u32,
        _ => c.rng.range(3, 1 << 20) as u32,
    };
    count(Op::SetPolicy);
    if pk::set_policy(h.fd.as_raw_fd(), p).is_ok() && p == POLICY_EXEC && h.m.class != 0 {
        let sl = &shm().slots[h.m.slot];
        let s0 = sl.exec_seq.load(Acquire);
        if sl.piid.load(Acquire) == h.m.slot_piid && h.m.strict.load(Relaxed) == 0 {
            h.m.strict.store(s0 + 1, Relaxed);
            h.m.post(true);
        }
    }
}

fn op_read(c: &mut OpCtx, i: usize) {
    let h = &c.hs[i];
    count(Op::Read);
    let fd = h.fd.as_raw_fd();
    let r = if c.rng.chance(50) {
        pk::read_text(fd)
    } else {
        let mut buf = [0u8; 64];
        let n = c.rng.range(0, 64) as usize;
        // SAFETY: valid buffer of at least n bytes.
        cvt(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), n) } as i64)
            .map(|k| String::from_utf8_lossy(&buf[..k as usize]).into_owned())
    };
    if let Ok(t) = r {
        if t.contains("state: revoked") {
            h.m.revoked.store(true, Relaxed);
        }
    }
}

fn op_poll(c: &mut OpCtx, i: usize) {
    let h = &c.hs[i];
    count(Op::Poll);
    let mut p = libc::pollfd {
        fd: h.fd.as_raw_fd(),
        events: libc::POLLIN | libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    if r > 0 && !h.m.opath && p.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
        h.m.revoked.store(true, Relaxed);
    }
}

fn op_epoll(c: &mut OpCtx, i: usize) {
    count(Op::Epoll);
    if c.ep.is_none() {
        // SAFETY: plain syscall.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return;
        }
        // SAFETY: a new fd we own.
        c.ep = Some(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    let ep = c.ep.as_ref().unwrap().as_raw_fd();
    let fd = c.hs[i].fd.as_raw_fd();
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLHUP) as u32,
        u64: fd as u64,
    };
    // SAFETY: valid epoll fd and event.
    unsafe {
        match c.rng.below(3) {
            0 => {
                libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev);
            }
            1 => {
                libc::epoll_ctl(ep, libc::EPOLL_CTL_DEL, fd, &mut ev);
            }
            _ => {}
        }
        let mut out = [libc::epoll_event { events: 0, u64: 0 }; 8];
        libc::epoll_wait(ep, out.as_mut_ptr(), 8, 0);
    }
}

fn op_fdinfo(c: &mut OpCtx, i: usize) {
    count(Op::Fdinfo);
    let fd = c.hs[i].fd.as_raw_fd();
    if let Ok(t) = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")) {
        if t.contains("prockill_state:\trevoked") || t.contains("prockill_state: revoked") {
            c.hs[i].m.revoked.store(true, Relaxed);
        }
    }
}

fn op_dup(c: &mut OpCtx, i: usize) {
    count(Op::Dup);
    let fd = c.hs[i].fd.as_raw_fd();
    // SAFETY: plain syscall.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if n < 0 {
        return;
    }
    // SAFETY: a new fd we own.
    let h = H {
        fd: unsafe { OwnedFd::from_raw_fd(n) },
        m: c.hs[i].m.clone(),
    };
    if c.rng.chance(50) {
        if let Ok(mut ib) = c.inbox.lock() {
            ib.push(h);
            return;
        }
    }
    c.hs.push(h);
}

fn op_reopen(c: &mut OpCtx, i: usize) {
    count(Op::Reopen);
    let fd = c.hs[i].fd.as_raw_fd();
    let (flags, writable) = open_flags(&mut c.rng);
    if let Ok(n) = pk::open(&format!("/proc/self/fd/{fd}"), flags) {
        // A reopen is a fresh open of the same node: resolve it from scratch
        // only if the old handle's target is known.
        let m = c.hs[i].m.clone();
        let meta = if m.class != 0 {
            let sl = &shm().slots[m.slot];
            let (seq0, piid0) = (sl.exec_seq.load(Acquire), sl.piid.load(Acquire));
            if piid0 == m.slot_piid {
                resolve(n.as_raw_fd(), m.slot, seq0, piid0, writable)
            } else {
                Meta::unresolved(writable, false)
            }
        } else {
            Meta::unresolved(writable, false)
        };
        c.hs.push(H {
            fd: n,
            m: Arc::new(meta),
        });
    }
}

fn send_h(sock: RawFd, h: &H) -> bool {
    let data = h.m.to_bytes();
    pk::sendmsg_fd(sock, h.fd.as_raw_fd(), &data, libc::MSG_DONTWAIT) == Ok(data.len())
}

fn recv_h(sock: RawFd) -> Option<H> {
    let mut data = [0u8; MLEN];
    let (n, fd) = match pk::recvmsg_fd(sock, &mut data, libc::MSG_DONTWAIT) {
        Ok((n, Some(fd))) if n > 0 => (n, fd),
        _ => return None,
    };
    let m = if n == MLEN {
        Meta::from_bytes(&data)
    } else {
        Meta::unresolved(false, false)
    };
    Some(H { fd, m: Arc::new(m) })
}

/// One random operation of an opener thread.
fn opener_step(c: &mut OpCtx) {
    if let Some(sock) = c.sock {
        if c.rng.chance(20) {
            count(Op::Recv);
            if let Some(h) = recv_h(sock) {
                c.hs.push(h);
            }
        }
    }
    if c.rng.chance(10) {
        if let Ok(mut ib) = c.inbox.lock() {
            if let Some(h) = ib.pop() {
                c.hs.push(h);
            }
        }
    }
    if c.hs.is_empty() || (c.hs.len() < 12 && c.rng.chance(25)) {
        op_open(c);
        return;
    }
    let i = c.rng.below(c.hs.len() as u64) as usize;
    let op = c.rng.weighted(&[30, 10, 8, 5, 8, 6, 3, 3, 3, 3, 10, 4]);
    match op {
        0 => op_write(c, i),
        1 => op_send(c, i),
        2 => op_info(c, i),
        3 => op_set_policy(c, i),
        4 => op_read(c, i),
        5 => op_poll(c, i),
        6 => op_epoll(c, i),
        7 => op_fdinfo(c, i),
        8 => op_dup(c, i),
        9 => op_reopen(c, i),
        10 => {
            count(Op::Close);
            c.hs.swap_remove(i);
        }
        _ => {
            if let Some(sock) = c.sock {
                count(Op::Pass);
                let h = c.hs.swap_remove(i);
                if !send_h(sock, &h) && c.rng.chance(50) {
                    c.hs.push(h);
                }
            } else {
                let fd = c.hs[i].fd.as_raw_fd();
                count(Op::Info);
                // SAFETY: an unknown ioctl request: the node must say ENOTTY.
                let _ = unsafe { libc::ioctl(fd, 0xB9FF as _, 0usize) };
            }
        }
    }
}

/// During a module-cycler pause, hold no node (so rmmod can succeed).
fn pause_point(c: &mut OpCtx) {
    if shm().pause.load(Relaxed) == 0 {
        return;
    }
    c.hs.clear();
    if let Ok(mut ib) = c.inbox.lock() {
        ib.clear();
    }
    if let Some(sock) = c.sock {
        while recv_h(sock).is_some() {}
    }
    let t0 = now_ns();
    while shm().pause.load(Relaxed) != 0 && now_ns() - t0 < 3_000_000_000 && !stopping() {
        sleep_ms(5);
        if let Some(sock) = c.sock {
            while recv_h(sock).is_some() {}
        }
    }
}

fn ep_opener(rng: &mut Rng, secs_ms: u64) {
    let uid1000 = rng.chance(40);
    let partner = rng.chance(50);
    let mut sock = None;
    let mut partner_pid = 0;
    if partner {
        if let Ok((a, b)) = pk::socketpair() {
            let seed = rng.next();
            // SAFETY: single-threaded here; the child runs an opener set.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                pk::die_with_parent();
                drop(a);
                opener_proc(Rng::new(seed), secs_ms, uid1000, Some(b.as_raw_fd()));
                // SAFETY: leaving the child.
                unsafe { libc::_exit(0) };
            }
            partner_pid = pid;
            drop(b);
            sock = Some(a);
        }
    }
    opener_proc(
        rng.split(),
        secs_ms,
        uid1000,
        sock.as_ref().map(|s| s.as_raw_fd()),
    );
    if partner_pid > 0 {
        // SAFETY: reaping our child.
        unsafe { libc::waitpid(partner_pid, std::ptr::null_mut(), 0) };
        release_sender_of(partner_pid);
    }
}

fn opener_proc(mut rng: Rng, ms: u64, uid1000: bool, sock: Option<RawFd>) {
    if uid1000 && util::drop_privileges(util::USER_UID, util::USER_GID).is_ok() {
        setup_dumpable();
        pk::die_with_parent();
    }
    PIID.store(new_id(), Relaxed);
    claim_sender();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let n = rng.range(2, 3);
    let end = now_ns() + ms * 1_000_000;
    let mut hs = Vec::new();
    for _ in 0..n {
        let mut c = OpCtx {
            rng: rng.split(),
            hs: Vec::new(),
            dirs: Vec::new(),
            ep: None,
            inbox: inbox.clone(),
            sock,
        };
        hs.push(
            std::thread::Builder::new()
                .stack_size(512 << 10)
                .spawn(move || {
                    TIID.with(|t| t.set(new_id()));
                    while now_ns() < end && !stopping() {
                        pause_point(&mut c);
                        opener_step(&mut c);
                    }
                }),
        );
    }
    for h in hs.into_iter().flatten() {
        let _ = h.join();
    }
}

// ------------------------------------------------------------- episodes --

fn ep_host(rng: &mut Rng, ms: u64) {
    let n = rng.range(1, 3);
    let mut kids = Vec::new();
    for _ in 0..n {
        let Some(slot) = reserve_slot() else { break };
        let cfg = TargetCfg {
            slot,
            mode: Mode::Churn,
            deadline: now_ns() + rng.range(ms / 4, ms) * 1_000_000,
            chain_left: 0,
            seed: rng.next(),
        };
        let uid1000 = rng.chance(25);
        let newpid = rng.chance(15);
        let pid = fork_target(cfg, uid1000, newpid);
        if pid < 0 {
            mark_dead(slot);
        } else {
            kids.push((pid, slot, newpid));
        }
    }
    reap_all(kids, ms + 5000);
}

/// Reap the targets (pid, slot); mark their slots dead. A target that is
/// PID 1 of a new namespace is a child of the forked process: that one
/// marks the slot when it has reaped it, or, if it died first, main does
/// when it reaps the orphan.
fn reap_all(mut kids: Vec<(i32, usize, bool)>, max_ms: u64) {
    let end = now_ns() + max_ms * 1_000_000;
    while !kids.is_empty() {
        kids.retain(|&(pid, slot, _)| {
            let mut st = 0;
            // SAFETY: reaping our own child.
            let r = unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) };
            if r == pid || r < 0 {
                if shm().slots[slot].flags.load(Acquire) & NSINIT == 0 {
                    mark_dead(slot);
                }
                false
            } else {
                true
            }
        });
        if now_ns() > end || stopping() {
            for &(pid, slot, ns) in &kids {
                if ns && shm().slots[slot].flags.load(Acquire) & NSINIT != 0 {
                    let _ = pk::kill(shm().slots[slot].pid.load(Relaxed), libc::SIGKILL);
                }
                let _ = pk::kill(pid, libc::SIGKILL);
            }
        }
        sleep_ms(5);
    }
}

/// Children that exit at once, and threads opening `kill` through a dir fd
/// of the newest one.
fn ep_forkstorm(rng: &mut Rng, ms: u64) {
    if rng.chance(70) && util::drop_privileges(util::USER_UID, util::USER_GID).is_ok() {
        setup_dumpable();
        pk::die_with_parent();
    }
    let auto = rng.chance(70);
    // Children exit at once, or after a short spin (0-500 us).
    let linger = if rng.chance(50) { rng.range(1, 500) } else { 0 };
    if auto {
        pk::ignore(libc::SIGCHLD);
    }
    let newest = Arc::new(AtomicI32::new(-1));
    let newest_pid = Arc::new(AtomicI32::new(-1));
    let end = now_ns() + ms * 1_000_000;
    let mut ts = Vec::new();
    for _ in 0..rng.range(2, 4) {
        let (nw, np) = (newest.clone(), newest_pid.clone());
        let mut r = rng.split();
        ts.push(
            std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn(move || {
                    while now_ns() < end && !stopping() {
                        if shm().pause.load(Relaxed) != 0 {
                            sleep_ms(5);
                            continue;
                        }
                        let d = nw.load(Relaxed);
                        if d < 0 {
                            sleep_us(100);
                            continue;
                        }
                        let flags = match r.weighted(&[70, 20, 10]) {
                            0 => libc::O_RDONLY,
                            1 => libc::O_WRONLY,
                            _ => libc::O_PATH,
                        };
                        count(Op::Open);
                        let res = if r.chance(85) {
                            pk::openat(d, "kill", flags)
                        } else {
                            let p = np.load(Relaxed);
                            pk::open(&format!("/proc/{p}/task/{p}/kill"), flags)
                        };
                        let Ok(k) = res else {
                            count(Op::OpenFail);
                            continue;
                        };
                        match r.below(4) {
                            0 => {
                                count(Op::Info);
                                let _ = pk::info(k.as_raw_fd());
                            }
                            1 => {
                                count(Op::Write);
                                let _ = pk::write_fd(k.as_raw_fd(), b"0");
                            }
                            _ => {
                                count(Op::Read);
                                let _ = pk::read_text(k.as_raw_fd());
                            }
                        }
                        count(Op::Close);
                        drop(k);
                    }
                }),
        );
    }
    while now_ns() < end && !stopping() {
        quiet_point();
        count(Op::Fork);
        // SAFETY: the child only calls _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            if linger > 0 {
                let t = now_ns() + linger * 1000;
                while now_ns() < t {}
            }
            // SAFETY: leaving at once.
            unsafe { libc::_exit(0) };
        }
        if pid < 0 {
            sleep_ms(5);
            continue;
        }
        let d = pk::open(&format!("/proc/{pid}"), libc::O_RDONLY | libc::O_DIRECTORY);
        let new = d.map(|d| {
            let raw = d.as_raw_fd();
            std::mem::forget(d);
            raw
        });
        newest_pid.store(pid, Relaxed);
        let old = newest.swap(new.unwrap_or(-1), Relaxed);
        if old >= 0 {
            // SAFETY: we own the previous dir fd.
            unsafe { libc::close(old) };
        }
        if !auto {
            if rng.chance(50) {
                sleep_us(rng.range(0, 500));
            }
            // SAFETY: reaping our child.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        }
    }
    for t in ts.into_iter().flatten() {
        let _ = t.join();
    }
}

/// A target whose threads exec one after another; the episode holds nodes
/// of every image's leader thread (and the process) and keeps writing.
fn ep_chain(rng: &mut Rng, ms: u64) {
    if rng.chance(50) {
        // Everything on one CPU: the freed task_struct is reused sooner.
        // SAFETY: a zeroed cpu_set_t with one bit set.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    let uid1000 = rng.chance(30);
    if uid1000 && util::drop_privileges(util::USER_UID, util::USER_GID).is_ok() {
        setup_dumpable();
        pk::die_with_parent();
    }
    PIID.store(new_id(), Relaxed);
    claim_sender();
    let Some(slot) = reserve_slot() else {
        sleep_ms(50);
        return;
    };
    let cfg = TargetCfg {
        slot,
        mode: Mode::Chain,
        deadline: now_ns() + ms * 1_000_000,
        chain_left: rng.range(2, 8) as u32,
        seed: rng.next(),
    };
    let pid = fork_target(cfg, false, false);
    if pid < 0 {
        mark_dead(slot);
        return;
    }
    let quiet = rng.chance(40);
    if quiet {
        shm()
            .quiet
            .fetch_max(now_ns() + ms.min(1500) * 1_000_000, SeqCst);
    }
    let mut c = OpCtx {
        rng: rng.split(),
        hs: Vec::new(),
        dirs: Vec::new(),
        ep: None,
        inbox: Arc::new(Mutex::new(Vec::new())),
        sock: None,
    };
    let sl = &shm().slots[slot];
    let mut after = 0;
    let end = now_ns() + (ms + 5000) * 1_000_000;
    loop {
        if after > 0 {
            // Reaped: a few more rounds on the dead target's handles (the
            // slot may already belong to another target: never mark it again).
            after += 1;
            if after > 4 {
                break;
            }
        } else {
            let mut st = 0;
            // SAFETY: reaping our own child.
            let r = unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) };
            if r == pid || r < 0 {
                mark_dead(slot);
                after = 1;
                if quiet {
                    shm().quiet.store(0, SeqCst);
                }
            }
        }
        if after == 0 && (now_ns() > end || stopping()) {
            let _ = pk::kill(pid, libc::SIGKILL);
        }
        if shm().pause.load(Relaxed) != 0 {
            pause_point(&mut c);
            continue;
        }
        // A node of the current leader thread (or the process), by path or dir fd.
        if after == 0 && sl.state.load(Acquire) == LIVE && c.hs.len() < 8 && c.rng.chance(40) {
            let seq0 = sl.exec_seq.load(Acquire);
            let piid0 = sl.piid.load(Acquire);
            let thread = c.rng.chance(75);
            let path = if thread {
                format!("/proc/{pid}/task/{pid}/kill")
            } else {
                format!("/proc/{pid}/kill")
            };
            let flags = if c.rng.chance(85) {
                libc::O_WRONLY
            } else {
                libc::O_RDWR
            };
            count(Op::Open);
            let r = if c.rng.chance(50) {
                pk::open(&path, flags)
            } else {
                let dir = if thread {
                    format!("/proc/{pid}/task/{pid}")
                } else {
                    format!("/proc/{pid}")
                };
                pk::open(&dir, libc::O_RDONLY | libc::O_DIRECTORY)
                    .and_then(|d| pk::openat(d.as_raw_fd(), "kill", flags))
            };
            match r {
                Ok(fd) => {
                    let m = resolve(fd.as_raw_fd(), slot, seq0, piid0, true);
                    c.hs.push(H { fd, m: Arc::new(m) });
                }
                Err(_) => count(Op::OpenFail),
            }
        }
        for i in 0..c.hs.len() {
            match c.rng.below(10) {
                0..=5 => op_write(&mut c, i),
                6 | 7 => op_send(&mut c, i),
                8 => op_info(&mut c, i),
                _ => op_set_policy(&mut c, i),
            }
        }
        if !c.hs.is_empty() && c.rng.chance(5) {
            let i = c.rng.below(c.hs.len() as u64) as usize;
            count(Op::Close);
            c.hs.swap_remove(i);
        }
        sleep_ms(c.rng.range(1, 8));
    }
}

// ------------------------------------------------------ module / policy --

fn cycler(mut rng: Rng, ko: String) {
    let s = shm();
    let timed = |what: &str, f: &mut dyn FnMut() -> Result<(), i32>| -> Result<(), i32> {
        let t0 = now_ns();
        s.cyc_busy.store(t0, Relaxed);
        let r = f();
        s.cyc_busy.store(0, Relaxed);
        let dt = now_ns() - t0;
        if dt > 30_000_000_000 {
            violation(format!("{what} took {}s", dt / 1_000_000_000));
        }
        r
    };
    let mut next_pause = now_ns() + rng.range(3000, 8000) * 1_000_000;
    while !stopping() {
        sleep_ms(rng.range(200, 1500));
        if stopping() {
            break;
        }
        let quiesce = now_ns() >= next_pause;
        if quiesce {
            next_pause = now_ns() + rng.range(8000, 20000) * 1_000_000;
            s.pause.store(1, SeqCst);
            sleep_ms(rng.range(20, 150));
        }
        let t0 = now_ns();
        let mut removed = false;
        mpol_begin();
        loop {
            count(Op::Rmmod);
            match timed("rmmod", &mut || util::rmmod(util::MODULE_NAME)) {
                Ok(()) => {
                    count(Op::RmmodOk);
                    removed = true;
                    break;
                }
                Err(libc::EAGAIN) | Err(libc::EBUSY) => {}
                Err(libc::ENOENT) => {
                    removed = true;
                    break;
                }
                Err(e) => {
                    violation(format!("rmmod failed with {}", util::errno_name(e)));
                    break;
                }
            }
            if !quiesce || now_ns() - t0 > 1_000_000_000 || stopping() {
                break;
            }
            sleep_ms(10);
        }
        // Openers go on while the module is away and while it loads.
        s.pause.store(0, SeqCst);
        if removed {
            sleep_ms(rng.range(0, 300));
            let p = ["", "revoke=setid", "revoke=exec", "revoke=never", "cache=N"]
                [rng.below(5) as usize];
            count(Op::Insmod);
            match timed("insmod", &mut || util::insmod(&ko, p)) {
                Ok(()) | Err(libc::EEXIST) => {}
                Err(e) => violation(format!("insmod {p:?} failed with {}", util::errno_name(e))),
            }
        }
        mpol_end();
        s.pause.store(0, SeqCst);
    }
}

fn policy_changer(mut rng: Rng) {
    while !stopping() {
        sleep_ms(rng.range(50, 600));
        let v: &[u8] = match rng.below(10) {
            0..=2 => b"setid",
            3..=5 => b"exec",
            6..=8 => b"never",
            _ => b"bogus",
        };
        count(Op::Policy);
        mpol_begin();
        let _ = util::write_once(REVOKE_PARAM, v);
        mpol_end();
        // The dcache switch: N drops every cached node dentry while
        // lookups, opens and readdirs go on.
        if rng.below(3) == 0 {
            let c: &[u8] = if rng.below(2) == 0 { b"Y" } else { b"N" };
            let _ = util::write_once(util::CACHE_PARAM, c);
        }
    }
}

// ------------------------------------------------------------------ main --

/// Episode weights: opener, host, forkstorm, chain.
const WEIGHTS: [u64; 4] = [25, 20, 30, 25];
const EPISODES: [&str; 4] = ["opener", "host", "forkstorm", "chain"];

fn worker(mut rng: Rng, weights: [u64; 4]) {
    while !stopping() {
        let kind = rng.weighted(&weights);
        let ms = rng.range(1000, 4000);
        let seed = rng.next();
        quiet_point();
        count(Op::Episode);
        // SAFETY: the worker is single-threaded; the child runs one episode.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            pk::die_with_parent();
            PIID.store(new_id(), Relaxed);
            let mut r = Rng::new(seed);
            match kind {
                0 => ep_opener(&mut r, ms),
                1 => ep_host(&mut r, ms),
                2 => ep_forkstorm(&mut r, ms),
                _ => ep_chain(&mut r, ms),
            }
            // SAFETY: leaving the episode.
            unsafe { libc::_exit(0) };
        }
        if pid < 0 {
            sleep_ms(100);
            continue;
        }
        let deadline = now_ns() + (ms + 15000) * 1_000_000;
        loop {
            // SAFETY: reaping our child.
            let r = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
            if r == pid || r < 0 {
                break;
            }
            if now_ns() > deadline || (stopping() && now_ns() > deadline - 10_000_000_000) {
                let _ = pk::kill(pid, libc::SIGKILL);
            }
            sleep_ms(10);
        }
        release_sender_of(pid);
    }
}

fn counts_text(s: &Shm) -> String {
    let per: Vec<String> = OP_NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n} {}", s.counts[i].load(Relaxed)))
        .collect();
    per.join(", ")
}

fn module_loaded() -> bool {
    util::module_info(util::MODULE_NAME)
        .map(|m| m.is_some())
        .unwrap_or(false)
}

fn out(line: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{line}");
    let _ = o.flush();
}

fn usage() -> ! {
    eprintln!(
        "usage: pk-fuzz [--seed N] [--secs S] [--procs P] [--weights opener=W,host=W,forkstorm=W,chain=W] [--no-module]"
    );
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--image") {
        image_main();
    }
    let mut seed: Option<u64> = None;
    let mut secs = 60u64;
    let mut procs = 6u64;
    let mut use_module = true;
    let mut weights = WEIGHTS;
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match args[i].as_str() {
            "--seed" => seed = Some(v.unwrap_or_else(|| usage())),
            "--secs" => secs = v.unwrap_or_else(|| usage()),
            "--procs" => procs = v.unwrap_or_else(|| usage()).clamp(1, 64),
            "--weights" => {
                // NAME=W,... over opener, host, forkstorm, chain.
                for kv in args.get(i + 1).unwrap_or_else(|| usage()).split(',') {
                    let (k, v) = kv.split_once('=').unwrap_or_else(|| usage());
                    let j = EPISODES
                        .iter()
                        .position(|e| *e == k)
                        .unwrap_or_else(|| usage());
                    weights[j] = v.parse().unwrap_or_else(|_| usage());
                }
                if weights.iter().sum::<u64>() == 0 {
                    usage();
                }
            }
            "--no-module" => {
                // Smoke-testing the engine itself where the module is absent.
                use_module = false;
                i += 1;
                continue;
            }
            _ => usage(),
        }
        i += 2;
    }
    let seed = seed.unwrap_or_else(|| {
        let mut b = [0u8; 8];
        // SAFETY: valid buffer.
        unsafe { libc::getrandom(b.as_mut_ptr().cast(), 8, 0) };
        u64::from_le_bytes(b) % 1_000_000_000
    });
    let wtext: Vec<String> = EPISODES
        .iter()
        .zip(weights)
        .map(|(e, w)| format!("{e}={w}"))
        .collect();
    let wtext = wtext.join(",");
    out(&format!(
        "pk-fuzz: seed {seed} (replay: pk-fuzz --seed {seed} --secs {secs} --procs {procs} --weights {wtext})"
    ));
    let exe = std::fs::read_link("/proc/self/exe")
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/usr/bin/pk-fuzz".into());
    std::env::set_var("PKF_EXE", &exe);
    create_shm();
    PIID.store(new_id(), Relaxed);
    install_handlers();
    let ko = util::module_path();
    let was_loaded = module_loaded() || !use_module;
    if !was_loaded {
        if let Err(e) = util::insmod(&ko, "") {
            out(&format!("pk-fuzz: insmod {ko}: {}", util::errno_name(e)));
            std::process::exit(2);
        }
    }
    let revoke0 = util::read_file(REVOKE_PARAM)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "setid".into());
    mpol_begin();
    mpol_end();
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) };
    let mut rng = Rng::new(seed);
    let crng = rng.split();
    let prng = rng.split();
    let wrngs: Vec<Rng> = (0..procs).map(|_| rng.split()).collect();
    // SAFETY: single-threaded; the child leads the process group of everything.
    let root = unsafe { libc::fork() };
    if root == 0 {
        // SAFETY: plain syscall.
        unsafe { libc::setpgid(0, 0) };
        pk::die_with_parent();
        let mut kids = Vec::new();
        let mut spawn = |f: Box<dyn FnOnce()>| {
            // SAFETY: single-threaded.
            let p = unsafe { libc::fork() };
            if p == 0 {
                pk::die_with_parent();
                PIID.store(new_id(), Relaxed);
                f();
                // SAFETY: leaving the child.
                unsafe { libc::_exit(0) };
            }
            kids.push(p);
        };
        let ko2 = ko.clone();
        if use_module {
            spawn(Box::new(move || cycler(crng, ko2)));
        }
        spawn(Box::new(move || policy_changer(prng)));
        for r in wrngs {
            spawn(Box::new(move || worker(r, weights)));
        }
        for p in kids {
            // SAFETY: reaping our children.
            unsafe { libc::waitpid(p, std::ptr::null_mut(), 0) };
        }
        // SAFETY: leaving.
        unsafe { libc::_exit(0) };
    }
    let s = shm();
    let t0 = now_ns();
    let total = |s: &Shm| -> u64 {
        s.counts
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                ![Op::Delivered, Op::Episode, Op::OpenFail, Op::RmmodOk]
                    .contains(&Op::from_index(*i))
            })
            .map(|(_, c)| c.load(Relaxed))
            .sum()
    };
    let mut printed = 0usize;
    let mut last_ops = 0u64;
    let mut next_tick = 1u64;
    let mut hang_reported = false;
    let mut root_reaped = false;
    let print_viols = |printed: &mut usize| {
        let n = (s.nviol.load(Acquire) as usize).min(NVIOL);
        while *printed < n {
            let v = &s.viol[*printed];
            let len = v.len.load(Acquire) as usize;
            if len == 0 {
                break;
            }
            // SAFETY: published by `len` (Release) and never written again.
            let b = unsafe { &*v.buf.get() };
            out(&format!(
                "VIOLATION: {}",
                String::from_utf8_lossy(&b[..len.min(VLEN)])
            ));
            *printed += 1;
        }
    };
    loop {
        sleep_ms(100);
        // Orphans (targets whose host died) come to us: reap them.
        loop {
            // SAFETY: reaping any child.
            let p =
                unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG | libc::__WALL) };
            if p == root {
                root_reaped = true;
            }
            if p <= 0 || p == root {
                break;
            }
            for sl in s.slots.iter() {
                if sl.pid.load(Relaxed) == p && sl.state.load(Acquire) == LIVE {
                    sl.state.store(DEAD, Release);
                }
            }
        }
        print_viols(&mut printed);
        let el = (now_ns() - t0) / 1_000_000_000;
        if el >= next_tick {
            let ops = total(s);
            let live = s
                .slots
                .iter()
                .filter(|x| x.state.load(Relaxed) == LIVE)
                .count();
            out(&format!(
                "pk-fuzz: t={el}s ops={ops} +{}/s targets={live} delivered={} rmmod={}/{} violations={}",
                ops - last_ops,
                s.counts[Op::Delivered as usize].load(Relaxed),
                s.counts[Op::RmmodOk as usize].load(Relaxed),
                s.counts[Op::Rmmod as usize].load(Relaxed),
                s.nviol.load(Relaxed)
            ));
            last_ops = ops;
            next_tick = el + 1;
            if el % 10 == 0 {
                out(&format!("pk-fuzz: counts: {}", counts_text(s)));
            }
        }
        let busy = s.cyc_busy.load(Relaxed);
        if busy != 0 && now_ns() - busy > 30_000_000_000 && !hang_reported {
            hang_reported = true;
            violation("rmmod/insmod has not returned after 30s".into());
        }
        if el >= secs {
            break;
        }
    }
    s.stop.store(1, SeqCst);
    let stop0 = now_ns();
    let mut root_done = root_reaped;
    while now_ns() - stop0 < 20_000_000_000 {
        // SAFETY: reaping any child.
        let p = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG | libc::__WALL) };
        if p == root {
            root_done = true;
        }
        if p <= 0 {
            if root_done {
                break;
            }
            sleep_ms(20);
        }
    }
    let _ = pk::kill(-root, libc::SIGKILL);
    let kill0 = now_ns();
    loop {
        // SAFETY: reaping any child.
        let p = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG | libc::__WALL) };
        if p < 0 {
            break;
        }
        if p == 0 {
            if now_ns() - kill0 > 20_000_000_000 {
                violation(
                    "processes still running 20s after SIGKILL (stuck in the kernel?)".into(),
                );
                break;
            }
            sleep_ms(20);
        }
    }
    let el = (now_ns() - t0) as f64 / 1e9;
    // Leave the module as we found it.
    let loaded = use_module && module_loaded();
    if use_module && was_loaded && !loaded {
        if let Err(e) = util::insmod(&ko, &format!("revoke={revoke0}")) {
            out(&format!(
                "pk-fuzz: reloading the module: {}",
                util::errno_name(e)
            ));
        }
    } else if !was_loaded && loaded {
        let t = now_ns();
        while let Err(e) = util::rmmod(util::MODULE_NAME) {
            if (e != libc::EAGAIN && e != libc::EBUSY) || now_ns() - t > 10_000_000_000 {
                violation(format!(
                    "rmmod after the run (all processes gone): {}",
                    util::errno_name(e)
                ));
                break;
            }
            sleep_ms(50);
        }
    }
    if was_loaded {
        let _ = util::write_once(REVOKE_PARAM, revoke0.as_bytes());
    }
    print_viols(&mut printed);
    let ops = total(s);
    out(&format!("pk-fuzz: counts: {}", counts_text(s)));
    out(&format!(
        "pk-fuzz: {:.0} ops/s over {el:.1}s (seed {seed}, {procs} workers)",
        ops as f64 / el
    ));
    let v = s.nviol.load(Relaxed);
    out(&format!("pk-fuzz: {ops} ops, {v} violations"));
    std::process::exit(i32::from(v > 0));
}
