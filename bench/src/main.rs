// SPDX-License-Identifier: GPL-2.0

//! pk-bench: the prockill benchmarks behind `make bench` (`qemu/bench.sh`).
//!
//! Runs in the guest as root, on a kernel booted *without* the module: it
//! loads and unloads `/lib/modules/prockill.ko` itself. Every comparison is
//! measured in the same run, in rounds: each round times one batch of every
//! variant, in an order that rotates from round to round, so slow phases of a
//! noisy (emulated) machine hit all variants alike. A variant's result is the
//! median ns/op over the rounds with p25/p75; a ratio is the median (p25/p75)
//! of the per-round ratios variant/baseline.
//!
//! ```text
//! pk-bench [--quick] [--results FILE] [--only GROUP,...]
//! pk-bench --count [--results FILE]
//! pk-bench --share [--results FILE]
//! ```
//!
//! Groups: `send`, `handle`, `memory`, `others`, `revoke`. Human-readable
//! tables go to stdout; `--results FILE` (the harness uses `/dev/ttyS1`) gets
//! machine-readable lines: `MD <markdown>`, `DAT <series> <n> <median> <p25>
//! <p75>` (revocation curves, µs), `META <key> <value>`.

use std::ffi::CString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prockill::{Backend, Process, Signal};

mod count;
mod share;

const MODULE_NAME: &str = "prockill";
const MODULE_PATH: &str = "/lib/modules/prockill.ko";
const TRUE_BIN: &str = "/bin/true";
/// The signal sent in the send benchmarks: blocked by the target, so it stays
/// pending and later sends coalesce (the cost measured is the send's).
const SIG: i32 = libc::SIGUSR1;
const SLEEPERS: usize = 100;
const OTHERS_HANDLES: usize = 5000;
/// Own handles per exec'ing process; the last is the module's cap (MAX_HANDLES).
const REVOKE_NS: [usize; 8] = [0, 1, 10, 100, 1000, 3000, 10000, 16384];
const MEM_HANDLES: usize = 10000;

type Res<T> = Result<T, String>;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn os_err<T>(what: &str) -> Res<T> {
    Err(format!("{what}: {}", std::io::Error::last_os_error()))
}

fn cstr(s: &str) -> CString {
    CString::new(s).expect("no NUL in paths")
}

// -------------------------------------------------------------- clock --
//
// The guest kernel has no usable clocksource under TCG (no HPET/ACPI PM
// timer; the TSC cannot be calibrated), so CLOCK_MONOTONIC ticks in jiffies
// (4 ms). QEMU's emulated TSC follows the host's, so intervals are timed
// with rdtsc and converted with a rate calibrated against CLOCK_MONOTONIC
// between two jiffy edges. Ratios do not depend on the rate at all.

/// TSC ticks per second, as f64 bits.
static TSC_HZ: AtomicU64 = AtomicU64::new(0);

fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no preconditions on x86_64.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// A start time.
#[derive(Clone, Copy)]
struct Tick(u64);

impl Tick {
    fn now() -> Tick {
        Tick(rdtsc())
    }
    fn ns(self) -> f64 {
        let hz = f64::from_bits(TSC_HZ.load(Ordering::Relaxed));
        (rdtsc() - self.0) as f64 * 1e9 / hz
    }
}

/// Waits for CLOCK_MONOTONIC to change; returns (monotonic, tsc) just after.
fn clock_edge() -> (Instant, u64) {
    let a = Instant::now();
    loop {
        let b = Instant::now();
        let t = rdtsc();
        if b != a {
            return (b, t);
        }
    }
}

fn calibrate_tsc(secs: f64) -> f64 {
    let (m0, t0) = clock_edge();
    while m0.elapsed().as_secs_f64() < secs {
        std::hint::spin_loop();
    }
    let (m1, t1) = clock_edge();
    let hz = (t1 - t0) as f64 / (m1 - m0).as_secs_f64();
    TSC_HZ.store(hz.to_bits(), Ordering::Relaxed);
    hz
}

// ------------------------------------------------------------- module --

fn module_loaded() -> bool {
    std::fs::read_to_string("/proc/modules")
        .map(|t| {
            t.lines()
                .any(|l| l.split_whitespace().next() == Some(MODULE_NAME))
        })
        .unwrap_or(false)
}

fn insmod(params: &str) -> Res<()> {
    let f = std::fs::File::open(MODULE_PATH).map_err(|e| format!("open {MODULE_PATH}: {e}"))?;
    let p = cstr(params);
    // SAFETY: valid fd and C string.
    let r = unsafe { libc::syscall(libc::SYS_finit_module, f.as_raw_fd(), p.as_ptr(), 0) };
    if r < 0 {
        return os_err(&format!("insmod {MODULE_PATH} {params:?}"));
    }
    Ok(())
}

/// `cache` set to N (dropping the cached node dentries and ending the
/// module's per-CPU count of them, which holds the module), then
/// delete_module; retried while the module is still busy (a dentry in use
/// is freed on its last dput).
fn rmmod() -> Res<()> {
    std::fs::write("/sys/module/prockill/parameters/cache", "N")
        .map_err(|e| format!("cache=N: {e}"))?;
    let n = cstr(MODULE_NAME);
    for _ in 0..200 {
        // SAFETY: valid C string.
        let r = unsafe { libc::syscall(libc::SYS_delete_module, n.as_ptr(), libc::O_NONBLOCK) };
        if r == 0 {
            return Ok(());
        }
        if errno() != libc::EAGAIN && errno() != libc::EBUSY {
            return os_err("rmmod prockill");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    os_err("rmmod prockill (still busy after 2 s)")
}

fn set_revoke_policy(p: &str) -> Res<()> {
    std::fs::write("/sys/module/prockill/parameters/revoke", p)
        .map_err(|e| format!("set revoke={p}: {e}"))
}

// ---------------------------------------------------------- processes --

/// Pins the calling process (and the children it forks) to one CPU: a
/// child's exit then wakes the waiting parent on the same CPU, with no
/// cross-CPU wakeup (the guest's timers under TCG make those slow and erratic).
fn pin_to_cpu(cpu: usize) -> Res<()> {
    // SAFETY: plain struct, filled by the libc macros.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) < 0 {
            return os_err("sched_setaffinity");
        }
    }
    Ok(())
}

fn raise_nofile() -> Res<()> {
    let lim = libc::rlimit {
        rlim_cur: 65536,
        rlim_max: 65536,
    };
    // SAFETY: valid pointer.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } < 0 {
        return os_err("setrlimit(RLIMIT_NOFILE, 65536)");
    }
    Ok(())
}

/// A child that blocks every signal and sleeps forever (SIGKILL ends it).
fn spawn_sleeper() -> Res<i32> {
    // SAFETY: single-threaded; the child only makes syscalls.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return os_err("fork");
    }
    if pid == 0 {
        // SAFETY: plain syscalls in the child.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::sigprocmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
            loop {
                libc::pause();
            }
        }
    }
    Ok(pid)
}

fn kill_reap(pid: i32) {
    // SAFETY: our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
}

fn pipe() -> Res<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: valid array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return os_err("pipe2");
    }
    // SAFETY: fresh fds.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn write_u32(fd: RawFd, v: u32) -> Res<()> {
    let b = v.to_ne_bytes();
    // SAFETY: valid buffer.
    if unsafe { libc::write(fd, b.as_ptr().cast(), 4) } != 4 {
        return os_err("pipe write");
    }
    Ok(())
}

fn read_u32(fd: RawFd) -> Res<u32> {
    let mut b = [0u8; 4];
    // SAFETY: valid buffer.
    if unsafe { libc::read(fd, b.as_mut_ptr().cast(), 4) } != 4 {
        return os_err("pipe read");
    }
    Ok(u32::from_ne_bytes(b))
}

fn open_raw(path: &CString, flags: i32) -> RawFd {
    // SAFETY: valid C string.
    unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) }
}

fn close(fd: RawFd) {
    // SAFETY: an fd we own.
    unsafe { libc::close(fd) };
}

fn kill_path(pid: i32) -> CString {
    cstr(&format!("/proc/{pid}/kill"))
}

/// A process holding kill handles, pinned to the *other* CPU: handles "open
/// on other processes" are then not in the benchmark's own fd table (which
/// fork and exec would copy and close), and opening thousands of handles
/// right before a timed exec does not happen on the CPU that runs it. That
/// matters under TCG: QEMU's software TLB grows with the pages a vCPU has
/// recently touched, and every later guest TLB flush (context switch, exec)
/// on that vCPU costs more, so opening n handles on the timed CPU made the
/// exec slower by a sublinear amount that had nothing to do with the kernel.
///
/// Commands on a pipe: (HOLD, pid, n) = close everything, then hold n
/// handles on `/proc/<pid>/kill` (pid 0: spread round-robin over min(n, 100)
/// sleepers); (HOLD_PIDFD, pid, n) the same with pidfds; (PROBE, 0, 0) = write "0" to the last handle. Replies 0 or an
/// errno.
struct Holder {
    pid: i32,
    cmd: OwnedFd,
    ack: OwnedFd,
    held: (i32, usize),
}

const HOLD: u32 = 1;
const PROBE: u32 = 2;
/// As HOLD, with pidfds (pidfd_open) instead of kill handles: the control.
const HOLD_PIDFD: u32 = 3;

impl Holder {
    fn spawn(sleepers: &[i32], cpu: usize) -> Res<Holder> {
        let (cmd_r, cmd_w) = pipe()?;
        let (ack_r, ack_w) = pipe()?;
        let paths: Vec<CString> = sleepers.iter().map(|&p| kill_path(p)).collect();
        let pids = sleepers.to_vec();
        // SAFETY: single-threaded.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return os_err("fork");
        }
        if pid == 0 {
            // SAFETY: plain syscalls.
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
            let _ = pin_to_cpu(cpu);
            let mut fds: Vec<RawFd> = Vec::new();
            loop {
                let (Ok(op), Ok(target), Ok(n)) = (
                    read_u32(cmd_r.as_raw_fd()),
                    read_u32(cmd_r.as_raw_fd()),
                    read_u32(cmd_r.as_raw_fd()),
                ) else {
                    // SAFETY: leaving the child.
                    unsafe { libc::_exit(0) };
                };
                let mut reply = 0u32;
                if op == PROBE {
                    let w = match fds.last() {
                        // SAFETY: valid buffer.
                        Some(&fd) => unsafe { libc::write(fd, b"0".as_ptr().cast(), 1) },
                        None => -1,
                    };
                    if w < 0 {
                        reply = errno() as u32;
                    }
                } else {
                    for fd in fds.drain(..) {
                        close(fd);
                    }
                    let n = n as usize;
                    let own = (target != 0).then(|| kill_path(target as i32));
                    let spread = n.min(paths.len()).max(1);
                    for i in 0..n {
                        let path = own.as_ref().unwrap_or(&paths[i % spread]);
                        let fd = if op == HOLD_PIDFD {
                            sys_pidfd_open(if target != 0 {
                                target as i32
                            } else {
                                pids[i % spread]
                            })
                        } else {
                            open_raw(path, libc::O_WRONLY)
                        };
                        if fd < 0 {
                            reply = errno() as u32;
                            for fd in fds.drain(..) {
                                close(fd);
                            }
                            break;
                        }
                        fds.push(fd);
                    }
                }
                let _ = write_u32(ack_w.as_raw_fd(), reply);
            }
        }
        Ok(Holder {
            pid,
            cmd: cmd_w,
            ack: ack_r,
            held: (0, 0),
        })
    }

    fn command(&mut self, op: u32, target: i32, n: usize) -> Res<u32> {
        write_u32(self.cmd.as_raw_fd(), op)?;
        write_u32(self.cmd.as_raw_fd(), target as u32)?;
        write_u32(self.cmd.as_raw_fd(), n as u32)?;
        read_u32(self.ack.as_raw_fd())
    }

    /// Hold n handles on the sleepers.
    fn hold(&mut self, n: usize) -> Res<()> {
        self.hold_on(0, n)
    }

    /// Hold n handles on process `target` (0: on the sleepers).
    fn hold_on(&mut self, target: i32, n: usize) -> Res<()> {
        self.hold_kind(HOLD, target, n)
    }

    fn hold_kind(&mut self, op: u32, target: i32, n: usize) -> Res<()> {
        if op == HOLD && ((target, n) == self.held || (n == 0 && self.held.1 == 0)) {
            return Ok(());
        }
        let r = self.command(op, target, n)?;
        if r != 0 {
            self.held = (0, 0);
            return Err(format!(
                "holder: opening {n} kill handles: {}",
                std::io::Error::from_raw_os_error(r as i32)
            ));
        }
        self.held = (target, n);
        Ok(())
    }

    /// Writes "0" to the last handle held: Ok(()) or the errno.
    fn probe(&mut self) -> Res<Result<(), i32>> {
        let r = self.command(PROBE, 0, 0)?;
        Ok(if r == 0 { Ok(()) } else { Err(r as i32) })
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        kill_reap(self.pid);
    }
}

/// Everything prepared before fork for a child that waits on a pipe and
/// then execs /bin/true.
struct ExecArgs {
    path: CString,
}

impl ExecArgs {
    fn new(path: &str) -> ExecArgs {
        ExecArgs { path: cstr(path) }
    }

    /// execve(path, [path], []); only returns on failure. No allocation:
    /// safe in a forked child.
    fn exec(&self) {
        let argv = [self.path.as_ptr(), std::ptr::null()];
        let envp = [std::ptr::null::<libc::c_char>()];
        // SAFETY: NUL-terminated arrays of valid C strings.
        unsafe { libc::execve(self.path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    }
}

/// Forks a child blocked on a pipe; `go()` makes it exec /bin/true.
struct ExecChild {
    pid: i32,
    go: Option<OwnedFd>,
}

impl ExecChild {
    /// Forks a child that blocks in read(2) on a pipe, then execs `args`;
    /// it first writes a byte to `ready`, if given.
    fn fork(args: &ExecArgs, ready: Option<&OwnedFd>) -> Res<ExecChild> {
        let (r, w) = pipe()?;
        // SAFETY: the child only makes syscalls (write, read, execve,
        // _exit) on what was prepared before the fork.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return os_err("fork");
        }
        if pid == 0 {
            let mut b = [0u8; 1];
            // SAFETY: as above.
            unsafe {
                if let Some(ready) = ready {
                    libc::write(ready.as_raw_fd(), b"r".as_ptr().cast(), 1);
                }
                libc::read(r.as_raw_fd(), b.as_mut_ptr().cast(), 1);
                args.exec();
                libc::_exit(127);
            }
        }
        Ok(ExecChild { pid, go: Some(w) })
    }

    /// Returns once the child is asleep in read(2) on the pipe, so that
    /// none of its post-fork work falls in the timed window.
    fn spawn(args: &ExecArgs) -> Res<ExecChild> {
        let (ready_r, ready_w) = pipe()?;
        let child = Self::fork(args, Some(&ready_w))?;
        drop(ready_w);
        read_u8(ready_r.as_raw_fd())?;
        wait_sleeping(child.pid)?;
        Ok(child)
    }

    /// Lets the child exec and waits for it: the time from the go to the
    /// reaped exit.
    fn go_wait(&mut self) -> Res<f64> {
        let w = self.go.take().expect("go once");
        let t0 = Tick::now();
        // SAFETY: valid buffer.
        unsafe { libc::write(w.as_raw_fd(), b"x".as_ptr().cast(), 1) };
        let mut st = 0;
        // SAFETY: our child.
        let r = unsafe { libc::waitpid(self.pid, &mut st, 0) };
        let d = t0.ns();
        drop(w);
        if r != self.pid {
            return os_err("waitpid");
        }
        self.pid = 0;
        if !libc::WIFEXITED(st) || libc::WEXITSTATUS(st) != 0 {
            return Err(format!("exec child: status {st:#x}"));
        }
        Ok(d)
    }
}

impl Drop for ExecChild {
    fn drop(&mut self) {
        if self.pid > 0 {
            kill_reap(self.pid);
        }
    }
}

fn read_u8(fd: RawFd) -> Res<u8> {
    let mut b = [0u8; 1];
    // SAFETY: valid buffer.
    if unsafe { libc::read(fd, b.as_mut_ptr().cast(), 1) } != 1 {
        return os_err("pipe read");
    }
    Ok(b[0])
}

/// Waits until `pid` is in state S (asleep), per /proc/<pid>/stat.
fn wait_sleeping(pid: i32) -> Res<()> {
    let path = format!("/proc/{pid}/stat");
    for _ in 0..100_000 {
        let t = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        let state = t.rsplit_once(") ").and_then(|(_, r)| r.chars().next());
        if state == Some('S') {
            return Ok(());
        }
        // SAFETY: plain call.
        unsafe { libc::sched_yield() };
    }
    Err(format!("{pid} never went to sleep"))
}

/// fork + exec /bin/true + waitpid.
fn fork_exec_wait(args: &ExecArgs) -> Res<()> {
    // SAFETY: single-threaded; the child only execs.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return os_err("fork");
    }
    if pid == 0 {
        // SAFETY: pointers prepared before fork.
        args.exec();
        // SAFETY: leaving the failed child.
        unsafe { libc::_exit(127) };
    }
    let mut st = 0;
    // SAFETY: our child.
    if unsafe { libc::waitpid(pid, &mut st, 0) } != pid {
        return os_err("waitpid");
    }
    if !libc::WIFEXITED(st) || libc::WEXITSTATUS(st) != 0 {
        return Err(format!("{TRUE_BIN}: status {st:#x}"));
    }
    Ok(())
}

// --------------------------------------------------------------- stats --

fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pos = q * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

#[derive(Clone, Copy)]
struct Q {
    med: f64,
    p25: f64,
    p75: f64,
}

fn q(v: &[f64]) -> Q {
    Q {
        med: quantile(v, 0.5),
        p25: quantile(v, 0.25),
        p75: quantile(v, 0.75),
    }
}

fn ratios(v: &[f64], base: &[f64]) -> Vec<f64> {
    v.iter().zip(base).map(|(a, b)| a / b).collect()
}

/// Human-readable duration from nanoseconds.
fn dur(ns: f64) -> String {
    if ns < 0.0 {
        return format!("−{}", dur(-ns));
    }
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e4 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.0} ns", ns)
    }
}

fn spread(x: Q) -> String {
    format!("{} – {}", dur(x.p25), dur(x.p75))
}

fn ratio_s(r: Q) -> String {
    format!("**{:.3}x** ({:.3} – {:.3})", r.med, r.p25, r.p75)
}

/// PASS/MISS of a target "median ratio <= limit".
fn verdict(r: Q, limit: f64) -> String {
    let v = if r.med <= limit { "PASS" } else { "MISS" };
    format!("≤ {limit:.2}x: **{v}**")
}

// -------------------------------------------------------------- report --

struct Report {
    md: Vec<String>,
    dat: Vec<String>,
    meta: Vec<(String, String)>,
    summary: Vec<String>,
}

impl Report {
    fn md(&mut self, line: impl Into<String>) {
        let l = line.into();
        println!("{l}");
        self.md.push(l);
    }
    fn meta(&mut self, k: &str, v: impl Into<String>) {
        self.meta.push((k.to_string(), v.into()));
    }
    fn write(&self, path: &str) -> Res<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(!path.starts_with("/dev/"))
            .open(path)
            .map_err(|e| format!("open {path}: {e}"))?;
        let mut s = String::from("PK-BENCH-BEGIN\n");
        for (k, v) in &self.meta {
            let _ = writeln!(s, "META {k} {v}");
        }
        for l in &self.summary {
            let _ = writeln!(s, "SUM {l}");
        }
        for l in &self.md {
            let _ = writeln!(s, "MD {l}");
        }
        for l in &self.dat {
            let _ = writeln!(s, "DAT {l}");
        }
        s.push_str("PK-BENCH-END\n");
        f.write_all(s.as_bytes())
            .map_err(|e| format!("write {path}: {e}"))
    }
}

// ----------------------------------------------------- the round runner --

/// One variant of a comparison: a name, the op (run `n` times per call),
/// and an optional target ratio against the group's baseline.
struct Variant<'a> {
    name: String,
    target: Option<f64>,
    op: Box<dyn FnMut(usize) -> Res<()> + 'a>,
}

fn variant<'a>(
    name: &str,
    target: Option<f64>,
    op: impl FnMut(usize) -> Res<()> + 'a,
) -> Variant<'a> {
    Variant {
        name: name.to_string(),
        target,
        op: Box::new(op),
    }
}

/// Iterations per batch so that the baseline batch takes about `batch`.
/// (The fastest of 3 tries at each size: one preempted try must not make
/// the batches tiny.)
fn calibrate(op: &mut dyn FnMut(usize) -> Res<()>, batch: Duration, max: usize) -> Res<usize> {
    op(1)?;
    let want = batch.as_secs_f64() * 1e9;
    let mut n = 1;
    loop {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = Tick::now();
            op(n)?;
            best = best.min(t.ns());
        }
        if best >= want / 4.0 || n >= max {
            let per = best / n as f64;
            return Ok(((want / per) as usize).clamp(1, max));
        }
        n *= 4;
    }
}

/// Sub-batches per round and variant: the round's value is the fastest
/// (the host preempting QEMU only ever adds time).
const SUB: usize = 4;

/// Runs `rounds` rounds of every variant, rotating the order; in a round a
/// variant runs SUB sub-batches and keeps the fastest. Returns ns/op per
/// variant per round.
fn run_rounds(
    vars: &mut [Variant],
    rounds: usize,
    batch: Duration,
    max: usize,
) -> Res<Vec<Vec<f64>>> {
    let n = calibrate(&mut vars[0].op, batch / SUB as u32, max)?;
    for v in vars.iter_mut() {
        (v.op)(n)?; // warm up
    }
    let k = vars.len();
    let mut out = vec![Vec::with_capacity(rounds); k];
    for r in 0..rounds {
        for j in 0..k {
            let i = (r + j) % k;
            let mut best = f64::INFINITY;
            for _ in 0..SUB {
                let t = Tick::now();
                (vars[i].op)(n)?;
                best = best.min(t.ns() / n as f64);
            }
            out[i].push(best);
        }
    }
    Ok(out)
}

/// A markdown table: one row per variant, ratios against variant 0.
fn table(rep: &mut Report, vars: &[Variant], res: &[Vec<f64>], base_name: &str) {
    rep.md(format!(
        "| operation | median | p25 – p75 | ratio to {base_name} (p25 – p75) | target |"
    ));
    rep.md("|---|---:|---:|---:|---|");
    for (i, v) in vars.iter().enumerate() {
        let x = q(&res[i]);
        let (rs, ts) = if i == 0 {
            ("1 (baseline)".to_string(), String::new())
        } else {
            let r = q(&ratios(&res[i], &res[0]));
            let t = v.target.map(|l| verdict(r, l)).unwrap_or_default();
            if let Some(l) = v.target {
                rep.summary.push(format!(
                    "{} / {base_name}: {:.3}x (p25 {:.3}, p75 {:.3}); target <= {l:.2}x: {}",
                    v.name,
                    r.med,
                    r.p25,
                    r.p75,
                    if r.med <= l { "PASS" } else { "MISS" }
                ));
            }
            (ratio_s(r), t)
        };
        rep.md(format!(
            "| {} | {} | {} | {} | {} |",
            v.name,
            dur(x.med),
            spread(x),
            rs,
            ts
        ));
    }
    rep.md("");
}

// ------------------------------------------------------------- groups --

struct Cfg {
    quick: bool,
}

impl Cfg {
    fn rounds(&self, full: usize) -> usize {
        if self.quick {
            (full / 4).max(3)
        } else {
            full
        }
    }
    fn batch(&self, ms: u64) -> Duration {
        Duration::from_millis(if self.quick { ms / 4 } else { ms })
    }
}

fn sys_pidfd_open(pid: i32) -> RawFd {
    // SAFETY: plain syscall.
    unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) as RawFd }
}

fn sys_pidfd_send(fd: RawFd, sig: i32) -> i64 {
    // SAFETY: plain syscall; NULL info.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd,
            sig,
            std::ptr::null::<u8>(),
            0,
        )
    }
}

fn check(r: i64, what: &str) -> Res<()> {
    if r < 0 {
        os_err(what)
    } else {
        Ok(())
    }
}

// The operations measured, `n` at a time; `bench_*` time them, `--count`
// (count.rs) counts their guest code.

/// `n` × `pidfd_send_signal(fd, SIG)`.
fn pidfd_sends(fd: RawFd, n: usize) -> Res<()> {
    for _ in 0..n {
        check(sys_pidfd_send(fd, SIG), "pidfd_send_signal")?;
    }
    Ok(())
}

/// `n` × `kill(pid, SIG)`.
fn kills(pid: i32, n: usize) -> Res<()> {
    for _ in 0..n {
        // SAFETY: plain syscall.
        check(unsafe { libc::kill(pid, SIG) } as i64, "kill")?;
    }
    Ok(())
}

/// `n` × `write(fd, text)`.
fn writes(fd: RawFd, text: &[u8], n: usize, what: &str) -> Res<()> {
    for _ in 0..n {
        // SAFETY: valid buffer.
        let r = unsafe { libc::write(fd, text.as_ptr().cast(), text.len()) };
        check(r as i64, what)?;
    }
    Ok(())
}

/// `n` × `ioctl(node, PROCKILL_IOC_SEND, {SIG, 0})`.
fn ioc_sends(node: RawFd, n: usize) -> Res<()> {
    ioc_send_n(node, SIG as u32, n)
}

/// `n` × `ioctl(node, PROCKILL_IOC_SEND, {sig, 0})`.
fn ioc_send_n(node: RawFd, sig: u32, n: usize) -> Res<()> {
    let arg = prockill::unstable::uapi::prockill_send { sig, flags: 0 };
    for _ in 0..n {
        // SAFETY: SEND reads one struct prockill_send.
        let r = unsafe {
            libc::ioctl(
                node,
                prockill::unstable::ioctl::PROCKILL_IOC_SEND as _,
                &arg,
            )
        };
        check(r as i64, "ioctl SEND")?;
    }
    Ok(())
}

/// The output of `--count` and `--share`: the section lines, then
/// `/proc/kallsyms` as `KSYM` lines, to `results` or stdout.
fn write_sections(lines: &[String], ksyms: &str, results: Option<&str>) -> Res<()> {
    let mut out = String::new();
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    for l in ksyms.lines() {
        let _ = writeln!(out, "KSYM {l}");
    }
    match results {
        Some(p) => std::fs::write(p, out).map_err(|e| format!("{p}: {e}")),
        None => {
            print!("{out}");
            Ok(())
        }
    }
}

/// `n` × (`open(path, flags)` + `close`).
fn open_closes(path: &CString, flags: i32, n: usize, what: &str) -> Res<()> {
    for _ in 0..n {
        let fd = open_raw(path, flags);
        check(fd as i64, what)?;
        close(fd);
    }
    Ok(())
}

/// `n` × (`openat(dirfd, name, flags)` + `close`).
fn openat_closes(dirfd: RawFd, name: &CString, flags: i32, n: usize, what: &str) -> Res<()> {
    for _ in 0..n {
        // SAFETY: valid C string; the result is checked.
        let fd = unsafe { libc::openat(dirfd, name.as_ptr(), flags | libc::O_CLOEXEC) };
        check(fd as i64, what)?;
        close(fd);
    }
    Ok(())
}

/// `ls DIR` without the formatting: open, getdents64 until the end, close.
/// Returns the number of entries and whether one is named `kill`.
fn list_dir(path: &CString) -> Res<(usize, bool)> {
    let fd = open_raw(path, libc::O_RDONLY | libc::O_DIRECTORY);
    if fd < 0 {
        return os_err(&format!("open {}", path.to_string_lossy()));
    }
    let mut buf = [0u8; 8192];
    let (mut n, mut kill) = (0, false);
    loop {
        // SAFETY: getdents64 writes at most buf.len() bytes into buf.
        let got = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) };
        if got < 0 {
            close(fd);
            return os_err("getdents64");
        }
        if got == 0 {
            break;
        }
        let mut off = 0usize;
        while off < got as usize {
            // struct linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name.
            let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
            let name = &buf[off + 19..off + reclen];
            if name.starts_with(b"kill\0") {
                kill = true;
            }
            n += 1;
            off += reclen;
        }
    }
    close(fd);
    Ok((n, kill))
}

/// `n` × `list_dir(path)`, checking that `kill` is listed iff `want_kill`.
fn list_dirs(path: &CString, want_kill: bool, n: usize) -> Res<()> {
    for _ in 0..n {
        let (_, kill) = list_dir(path)?;
        if kill != want_kill {
            return Err(format!(
                "ls {}: kill listed: {kill}",
                path.to_string_lossy()
            ));
        }
    }
    Ok(())
}

/// `n` × (`pidfd_open(pid)` + `close`).
fn pidfd_open_closes(pid: i32, n: usize) -> Res<()> {
    for _ in 0..n {
        let fd = sys_pidfd_open(pid);
        check(fd as i64, "pidfd_open")?;
        close(fd);
    }
    Ok(())
}

fn bench_send(cfg: &Cfg, rep: &mut Report, target: i32) -> Res<()> {
    let pidfd = sys_pidfd_open(target);
    let dir = open_raw(
        &cstr(&format!("/proc/{target}")),
        libc::O_RDONLY | libc::O_DIRECTORY,
    );
    let node = open_raw(&kill_path(target), libc::O_WRONLY);
    let devnull = open_raw(&cstr("/dev/null"), libc::O_WRONLY);
    if pidfd < 0 || dir < 0 || node < 0 || devnull < 0 {
        return os_err("send: opening the handles");
    }
    let p_node =
        Process::open_with(target, Backend::Node).map_err(|e| format!("crate node: {e}"))?;
    let p_pidfd =
        Process::open_with(target, Backend::Pidfd).map_err(|e| format!("crate pidfd: {e}"))?;
    let sig = Signal::new(SIG as u32).unwrap();
    let text = SIG.to_string();
    let text = text.as_bytes();
    let mut vars = vec![
        variant("pidfd_send_signal(pidfd)", None, |n| pidfd_sends(pidfd, n)),
        variant("kill(2)", None, |n| kills(target, n)),
        variant("pidfd_send_signal(/proc/<pid> dir fd)", None, |n| {
            pidfd_sends(dir, n)
        }),
        variant("write(2) to /proc/<pid>/kill", None, |n| {
            writes(node, text, n, "write node")
        }),
        variant(
            "reference: write(2) of the same bytes to /dev/null (the VFS write path alone)",
            None,
            |n| writes(devnull, text, n, "write /dev/null"),
        ),
        variant("ioctl(PROCKILL_IOC_SEND)", None, |n| ioc_sends(node, n)),
        variant("crate: Process::send_signal, Backend::Node", None, |n| {
            for _ in 0..n {
                p_node.send_signal(sig).map_err(|e| e.to_string())?;
            }
            Ok(())
        }),
        variant("crate: Process::send_signal, Backend::Pidfd", None, |n| {
            for _ in 0..n {
                p_pidfd.send_signal(sig).map_err(|e| e.to_string())?;
            }
            Ok(())
        }),
    ];
    let res = run_rounds(&mut vars, cfg.rounds(31), cfg.batch(40), 200_000)?;
    rep.md("## Sending a signal");
    rep.md("");
    rep.md(format!(
        "SIGUSR1 to a process that blocks every signal (it stays pending; later sends coalesce), module loaded (`revoke=setid`). \
         {} rounds; a round's value is the fastest of {SUB} batches.",
        res[0].len()
    ));
    rep.md("");
    table(rep, &vars, &res, "pidfd_send_signal(pidfd)");
    rep.md(
        "The write pays for `write(2)` itself: its VFS layers and the copy of the text cost more than everything \
         `pidfd_send_signal()` does with its fd, while the module's own checks and send cost what the kernel's own do \
         (counted below, in *Guest code per operation*; [handle-life.md](handle-life.md) §9 takes a write apart). \
         The SEND ioctl is the binary twin of the write, and what the crate uses.",
    );
    rep.md("");
    drop(vars);
    for fd in [pidfd, dir, node, devnull] {
        close(fd);
    }
    Ok(())
}

fn bench_handle(cfg: &Cfg, rep: &mut Report, target: i32) -> Res<()> {
    let dpath = cstr(&format!("/proc/{target}"));
    let kpath = kill_path(target);
    let spath = cstr(&format!("/proc/{target}/status"));
    let opath = cstr(&format!("/proc/{target}/oom_score_adj"));
    let dirfd = open_raw(&dpath, libc::O_RDONLY | libc::O_DIRECTORY);
    if dirfd < 0 {
        return os_err("open /proc/<pid>");
    }
    let (kill, status) = (cstr("kill"), cstr("status"));
    rep.md("## Getting a handle");
    rep.md("");
    rep.md("Open and close one handle on a live process, module loaded (the node's dentry cached, as procfs caches its own: `cache=Y`, the default). A round's value is the fastest of 4 batches; the variants of a table run interleaved.");
    rep.md("");
    let mut vars = vec![
        variant("open(\"/proc/<pid>/status\") + close", None, |n| {
            open_closes(&spath, libc::O_RDONLY, n, "open status")
        }),
        variant(
            "open(\"/proc/<pid>/kill\", O_WRONLY) + close",
            Some(1.3),
            |n| open_closes(&kpath, libc::O_WRONLY, n, "open node"),
        ),
        variant("open(\"/proc/<pid>/kill\", O_RDONLY) + close", None, |n| {
            open_closes(&kpath, libc::O_RDONLY, n, "open node read-only")
        }),
        variant(
            "procfs' own writable file: open(\"/proc/<pid>/oom_score_adj\", O_WRONLY) + close",
            None,
            |n| open_closes(&opath, libc::O_WRONLY, n, "open oom_score_adj"),
        ),
        variant("pidfd_open + close", None, |n| pidfd_open_closes(target, n)),
        variant("open(\"/proc/<pid>\", O_DIRECTORY) + close", None, |n| {
            open_closes(&dpath, libc::O_RDONLY | libc::O_DIRECTORY, n, "open dir")
        }),
    ];
    let res = run_rounds(&mut vars, cfg.rounds(31), cfg.batch(40), 100_000)?;
    table(rep, &vars, &res, "open(status)");
    let mut vars = vec![
        variant("openat(dirfd, \"status\") + close", None, |n| {
            openat_closes(dirfd, &status, libc::O_RDONLY, n, "openat status")
        }),
        variant(
            "openat(dirfd, \"kill\", O_WRONLY) + close",
            Some(1.3),
            |n| openat_closes(dirfd, &kill, libc::O_WRONLY, n, "openat kill"),
        ),
    ];
    let res = run_rounds(&mut vars, cfg.rounds(31), cfg.batch(40), 100_000)?;
    rep.md("Relative to a held `/proc/<pid>` directory fd (no path walk from `/`):");
    rep.md("");
    table(rep, &vars, &res, "openat(status)");
    close(dirfd);
    Ok(())
}

/// One thread's share of a parallel batch: `op(thread, n)`.
type ThreadOp<'a> = &'a (dyn Fn(usize, usize) -> Res<()> + Sync);

/// Runs `op(thread, n)` on `threads` threads, thread `t` pinned to CPU `t`,
/// all released at once; returns the wall time until the last finishes.
fn parallel(threads: usize, n: usize, op: ThreadOp) -> Res<f64> {
    let go = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let go = &go;
                s.spawn(move || {
                    let pinned = pin_to_cpu(t);
                    go.wait();
                    pinned?;
                    op(t, n)
                })
            })
            .collect();
        go.wait();
        let t0 = Tick::now();
        let mut r = Ok(());
        for h in hs {
            let x = h
                .join()
                .unwrap_or_else(|_| Err("bench thread panicked".into()));
            r = r.and(x);
        }
        let ns = t0.ns();
        r.map(|()| ns)
    })
}

/// Open + close from one and from two threads, each thread on its own
/// target and CPU: throughput, and how it scales, for the kill node and
/// for pidfd_open. Under TCG this is a coarse test: a registry of one
/// bucket (one lock for every open and close, the old design) measured the
/// same scaling as 256 buckets (per-round ratio 0.991), since its critical
/// sections are short next to an emulated open; it would show a lock held
/// for much of an open, or a line bounced on every instruction path.
fn bench_scaling(cfg: &Cfg, rep: &mut Report, targets: [i32; 2]) -> Res<()> {
    let kpaths = targets.map(kill_path);
    let node = |t: usize, n: usize| open_closes(&kpaths[t], libc::O_WRONLY, n, "open node");
    let pidfd = |t: usize, n: usize| pidfd_open_closes(targets[t], n);
    let ops: [(&str, ThreadOp); 2] = [
        ("open(\"/proc/<pid>/kill\") + close", &node),
        ("pidfd_open + close", &pidfd),
    ];
    // Calibrate on one thread of the node: a batch of about 40 ms.
    let want = cfg.batch(40).as_secs_f64() * 1e9;
    let mut n = 64;
    loop {
        let ns = parallel(1, n, &node)?;
        if ns >= want || n >= 1 << 20 {
            break;
        }
        n = (n as f64 * (want / ns.max(1.0)).clamp(1.5, 16.0)) as usize;
    }
    let rounds = cfg.rounds(21);
    // res[op][threads - 1] = ops per second, per round
    let mut res = vec![vec![Vec::new(); 2]; 2];
    for (_, op) in &ops {
        parallel(2, n / 8 + 1, *op)?; // warm up: dentries cached, caches hot
    }
    for r in 0..rounds {
        for j in 0..4 {
            let k = (r + j) % 4;
            let (o, threads) = (k / 2, k % 2 + 1);
            let mut best = f64::INFINITY;
            for _ in 0..2 {
                best = best.min(parallel(threads, n, ops[o].1)?);
            }
            res[o][threads - 1].push((threads * n) as f64 / best * 1e9);
        }
    }
    rep.md("## Opening handles from two threads");
    rep.md("");
    rep.md(format!(
        "Each thread opens and closes handles on its own target process, pinned to its own vCPU ({n} per thread per batch, {rounds} rounds, interleaved; a round's value is the faster of 2 batches). Throughput in operations per second over all threads; scaling is 2-thread over 1-thread throughput, per round. Under TCG each vCPU is a host thread, so two vCPUs run in parallel when the host has two free cores. The test is coarse: a registry of one bucket (one lock for every open and close, the old design) scaled the same here (per-round ratio 0.991), its critical sections being short next to an emulated open; the absence of a global lock rests on the code ([handle-life.md](handle-life.md) §8)."
    ));
    rep.md("");
    rep.md("| operation | 1 thread | 2 threads | scaling 2T / 1T (p25 – p75) |");
    rep.md("|---|---:|---:|---:|");
    let mut scale = Vec::new();
    for (o, (name, _)) in ops.iter().enumerate() {
        let s: Vec<f64> = res[o][1]
            .iter()
            .zip(&res[o][0])
            .map(|(b, a)| b / a)
            .collect();
        let sq = q(&s);
        rep.md(format!(
            "| {name} | {:.0}/s | {:.0}/s | {:.2}x ({:.2} – {:.2}) |",
            q(&res[o][0]).med,
            q(&res[o][1]).med,
            sq.med,
            sq.p25,
            sq.p75
        ));
        scale.push(sq.med);
    }
    rep.md("");
    // Per round, the node's scaling over pidfd_open's: 1 means the same.
    let rel: Vec<f64> = (0..rounds)
        .map(|r| (res[0][1][r] / res[0][0][r]) / (res[1][1][r] / res[1][0][r]))
        .collect();
    let rq = q(&rel);
    rep.md(format!(
        "Per round, the kill node's scaling over pidfd_open's: {:.3} (p25 {:.3}, p75 {:.3}); 1 means they scale alike.",
        rq.med, rq.p25, rq.p75
    ));
    rep.md("");
    rep.summary.push(format!(
        "open+close scaling at 2 threads: kill node {:.2}x, pidfd_open {:.2}x; node over pidfd_open per round {:.3} (p25 {:.3}, p75 {:.3}); target >= 0.97 (as good, within 3%): {}",
        scale[0],
        scale[1],
        rq.med,
        rq.p25,
        rq.p75,
        if rq.med >= 0.97 { "PASS" } else { "MISS" }
    ));
    Ok(())
}

// ---- what the module costs everyone else

fn numeric_dirs() -> Res<Vec<i32>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").map_err(|e| format!("readdir /proc: {e}"))? {
        let e = e.map_err(|e| format!("readdir /proc: {e}"))?;
        if let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) {
            v.push(p);
        }
    }
    Ok(v)
}

fn read_path(path: &str, buf: &mut [u8]) -> bool {
    let c = cstr(path);
    let fd = open_raw(&c, libc::O_RDONLY);
    if fd < 0 {
        return false;
    }
    // SAFETY: valid buffer.
    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    close(fd);
    true
}

/// `ps`: readdir /proc; for every process, open + read `stat` and `status`.
fn ps_scan() -> Res<usize> {
    let mut buf = [0u8; 4096];
    let mut n = 0;
    for pid in numeric_dirs()? {
        if read_path(&format!("/proc/{pid}/stat"), &mut buf) {
            n += 1;
        }
        read_path(&format!("/proc/{pid}/status"), &mut buf);
    }
    Ok(n)
}

/// `ls /proc/<pid>` for every process: the readdir the module replaces.
fn list_pid_dirs() -> Res<()> {
    for pid in numeric_dirs()? {
        if let Ok(d) = std::fs::read_dir(format!("/proc/{pid}")) {
            for e in d {
                let _ = e;
            }
        }
    }
    Ok(())
}

/// `ls /proc/<pid>/task/<pid>` (the main thread's directory) for every process.
fn list_task_dirs() -> Res<()> {
    for pid in numeric_dirs()? {
        if let Ok(d) = std::fs::read_dir(format!("/proc/{pid}/task/{pid}")) {
            for e in d {
                let _ = e;
            }
        }
    }
    Ok(())
}

/// A name /proc/<pid>/ does not have, of the length of `kill`: the module's
/// lookup compares its length and its bytes before passing it on.
const MISS_NAME: &str = "kilo";

/// stat() of a missing name under every /proc/<pid>: procfs caches no
/// negative dentry for it, so each call runs the (replaced) lookup.
fn lookup_miss(paths: &[CString]) -> Res<()> {
    // SAFETY: plain struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    for p in paths {
        // SAFETY: valid C string and buffer.
        if unsafe { libc::stat(p.as_ptr(), &mut st) } == 0 {
            return Err(format!("{} exists", p.to_string_lossy()));
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum ModState {
    Unloaded,
    Loaded,
    LoadedHandles,
}

impl ModState {
    fn label(self) -> String {
        match self {
            ModState::Unloaded => "module not loaded".into(),
            ModState::Loaded => "loaded, no handle open".into(),
            ModState::LoadedHandles => {
                format!("loaded, {OTHERS_HANDLES} handles on 100 other processes")
            }
        }
    }
}

fn set_state(holder: &mut Holder, want: ModState, params: &str) -> Res<()> {
    let loaded = module_loaded();
    match want {
        ModState::Unloaded => {
            holder.hold(0)?;
            if loaded {
                rmmod()?;
            }
        }
        ModState::Loaded | ModState::LoadedHandles => {
            if !loaded {
                insmod(params)?;
            }
            holder.hold(if want == ModState::LoadedHandles {
                OTHERS_HANDLES
            } else {
                0
            })?;
        }
    }
    Ok(())
}

fn bench_others(cfg: &Cfg, rep: &mut Report, holder: &mut Holder) -> Res<()> {
    let states = [
        ModState::Unloaded,
        ModState::Loaded,
        ModState::LoadedHandles,
    ];
    let args = ExecArgs::new(TRUE_BIN);
    // (name, target?, op)
    type Op<'a> = Box<dyn FnMut() -> Res<()> + 'a>;
    let miss: Vec<CString> = numeric_dirs()?
        .iter()
        .map(|p| cstr(&format!("/proc/{p}/{MISS_NAME}")))
        .collect();
    let mut ops: Vec<(&str, Option<f64>, Op)> = vec![
        ("ps scan: readdir /proc, open+read stat and status of each", Some(1.03), Box::new(|| ps_scan().map(|_| ()))),
        (
            "uncached lookup: stat /proc/<pid>/kilo for each process (ENOENT; every call reaches procfs' lookup)",
            Some(1.03),
            Box::new(|| lookup_miss(&miss)),
        ),
        ("fork + exec /bin/true + wait", Some(1.03), Box::new(|| fork_exec_wait(&args))),
        ("ls /proc/<pid> for each process (readdir the module replaces)", Some(1.03), Box::new(list_pid_dirs)),
        ("ls /proc/<pid>/task/<tid> for each process", Some(1.03), Box::new(list_task_dirs)),
    ];
    set_state(holder, ModState::Unloaded, "")?;
    let nprocs = ps_scan()?;
    let rounds = cfg.rounds(31);
    let samples = if cfg.quick { 4 } else { 20 };
    // res[op][state] = per-round ns/op
    let mut res = vec![vec![Vec::with_capacity(rounds); states.len()]; ops.len()];
    for r in 0..rounds {
        for j in 0..states.len() {
            let s = (r + j) % states.len();
            set_state(holder, states[s], "")?;
            for (_, _, op) in ops.iter_mut() {
                op()?; // warm up after the state change
            }
            let mut best = vec![f64::INFINITY; ops.len()];
            for _ in 0..samples {
                for k in 0..ops.len() {
                    let o = (r + k) % ops.len();
                    let t = Tick::now();
                    (ops[o].2)()?;
                    best[o] = best[o].min(t.ns());
                }
            }
            for (o, b) in best.into_iter().enumerate() {
                res[o][s].push(b);
            }
        }
    }
    set_state(holder, ModState::Unloaded, "")?;
    rep.md("## What the module costs everyone else");
    rep.md("");
    rep.md(format!(
        "Each round measures every operation in the three states (state order and operation order rotate from round to round; {rounds} rounds; \
         a round's value is the fastest of {samples} runs of the operation, interleaved with the others). \
         {nprocs} processes in /proc (100 idle ones among them, the same in every state). Ratios are to *module not loaded*, in the same round. \
         The `ls` row lists one more entry (`kill`) when the module is loaded, by design; it has no target."
    ));
    rep.md("");
    rep.md("| operation | state | median | p25 – p75 | ratio to not loaded (p25 – p75) | target |");
    rep.md("|---|---|---:|---:|---:|---|");
    for (o, (name, target, _)) in ops.iter().enumerate() {
        for (s, st) in states.iter().enumerate() {
            let x = q(&res[o][s]);
            let (rs, ts) = if s == 0 {
                ("1 (baseline)".to_string(), String::new())
            } else {
                let r = q(&ratios(&res[o][s], &res[o][0]));
                if let Some(l) = target {
                    rep.summary.push(format!(
                        "{name} [{}] / not loaded: {:.3}x (p25 {:.3}, p75 {:.3}); target <= {l:.2}x: {}",
                        st.label(),
                        r.med,
                        r.p25,
                        r.p75,
                        if r.med <= *l { "PASS" } else { "MISS" }
                    ));
                }
                (
                    ratio_s(r),
                    target.map(|l| verdict(r, l)).unwrap_or_default(),
                )
            };
            let n = if s == 0 {
                name.to_string()
            } else {
                String::new()
            };
            rep.md(format!(
                "| {n} | {} | {} | {} | {rs} | {ts} |",
                st.label(),
                dur(x.med),
                spread(x)
            ));
        }
    }
    rep.md("");
    Ok(())
}

// ---- revocation

/// One exec with `n` handles open (held by the holder) on the exec'ing
/// process; with `verify`, checks that the exec revoked them.
fn exec_with_own(args: &ExecArgs, holder: &mut Holder, n: usize, verify: bool) -> Res<f64> {
    let mut child = ExecChild::spawn(args)?;
    holder.hold_on(child.pid, n)?;
    let d = child.go_wait()?;
    if verify && n > 0 {
        // The exec'd process has exited by now; a revoked handle says EIO
        // (revocation is permanent), an unrevoked one ESRCH.
        match holder.probe()? {
            Err(libc::EIO) => {}
            r => return Err(format!("handle not revoked by the exec (write: {r:?})")),
        }
    }
    Ok(d)
}

/// The control: one exec with n pidfds (held by the holder) on the exec'ing
/// process: what many open files on an exiting process cost without the module's work.
fn exec_with_pidfds(args: &ExecArgs, holder: &mut Holder, n: usize) -> Res<f64> {
    let mut child = ExecChild::spawn(args)?;
    holder.hold_kind(HOLD_PIDFD, child.pid, n)?;
    let d = child.go_wait()?;
    holder.held = (-1, n);
    Ok(d)
}

fn exec_plain(args: &ExecArgs) -> Res<f64> {
    let mut child = ExecChild::spawn(args)?;
    child.go_wait()
}

fn bench_revoke(cfg: &Cfg, rep: &mut Report, holder: &mut Holder) -> Res<()> {
    set_state(holder, ModState::Loaded, "revoke=exec")?;
    // Experiment knobs (not used by make bench): PK_BENCH_REVOKE_NS=0,300,...
    // and PK_BENCH_REVOKE_POLICY=never|setid (walk the list, revoke nothing).
    let policy = std::env::var("PK_BENCH_REVOKE_POLICY").unwrap_or_else(|_| "exec".into());
    set_revoke_policy(&policy)?;
    let args = ExecArgs::new(TRUE_BIN);
    let ns: Vec<usize> = match std::env::var("PK_BENCH_REVOKE_NS") {
        Ok(v) => v.split(',').filter_map(|x| x.parse().ok()).collect(),
        Err(_) => REVOKE_NS.to_vec(),
    };
    let rounds = cfg.rounds(15);
    let reps = if cfg.quick { 3 } else { 13 };
    // Warm up (page cache, binary).
    for _ in 0..3 {
        exec_with_own(&args, holder, 10, policy == "exec")?;
    }
    let mut own = vec![Vec::new(); ns.len()];
    let mut others = vec![Vec::new(); ns.len()];
    let mut ctl = vec![Vec::new(); ns.len()];
    let mut octl = vec![Vec::new(); ns.len()];
    for r in 0..rounds {
        for j in 0..ns.len() {
            let i = (r + j) % ns.len();
            // More execs where they are cheap (no thousands of handles to open).
            let reps_n = if ns[i] <= 1000 { 3 * reps } else { reps };
            // Own handles: execs each on a fresh process with n fresh handles.
            holder.hold(0)?;
            let mut v = Vec::new();
            for k in 0..reps_n {
                v.push(exec_with_own(
                    &args,
                    holder,
                    ns[i],
                    r == 0 && k == 0 && policy == "exec",
                )?);
            }
            own[i].push(v.iter().cloned().fold(f64::INFINITY, f64::min));
            // Others' handles: the holder keeps n handles on the sleepers.
            holder.hold(ns[i])?;
            let mut v = Vec::new();
            for _ in 0..3 * reps {
                v.push(exec_plain(&args)?);
            }
            others[i].push(v.iter().cloned().fold(f64::INFINITY, f64::min));
            // Their control: n pidfds on the same other processes (as many
            // open files elsewhere, no module code on the exec path).
            holder.hold_kind(HOLD_PIDFD, 0, ns[i])?;
            let mut v = Vec::new();
            for _ in 0..3 * reps {
                v.push(exec_plain(&args)?);
            }
            octl[i].push(v.iter().cloned().fold(f64::INFINITY, f64::min));
            holder.hold(0)?;
            // The control: n pidfds on the exec'ing process.
            let mut v = Vec::new();
            for _ in 0..reps_n {
                v.push(exec_with_pidfds(&args, holder, ns[i])?);
            }
            ctl[i].push(v.iter().cloned().fold(f64::INFINITY, f64::min));
        }
    }
    holder.hold(0)?;
    set_revoke_policy("setid")?;
    rep.md("## Revocation: exec cost against open handles");
    rep.md("");
    rep.md(format!(
        "Module loaded with `revoke=exec`. One exec = a forked child blocked on a pipe is released, execs `{TRUE_BIN}` and is reaped; \
         the time runs from the release to `waitpid` returning; the benchmark and the child run on CPU 0. **Own**: n kill handles on the exec'ing process, \
         all revoked by that exec (checked), held by a helper process on CPU 1 (so that opening them does not disturb the timed CPU). \
         **Others**: n kill handles held by the same helper on up to 100 other processes, none on the exec'ing one; \
         its control: n pidfds on the same processes (as many open files elsewhere, and under TCG as much memory the vCPUs touch, with no module code). \
         **Control**: n pidfds on the exec'ing process, held by the helper: many open files on the exec'ing (and then exiting) process cost \
         something without the module too, and under TCG that cost is large and sublinear; own minus control is the module's share. \
         Per round and point, the fastest of {reps} execs ({} for the others series and for n ≤ 1000, where they are cheap); {rounds} rounds, the order of n rotating. \
         Ratios are to n = 0 in the same round.",
        3 * reps
    ));
    rep.md("");
    rep.md("| n | own: median | own: p25 – p75 | own: ratio to n=0 | own minus control, over n=0 | others: median | others: p25 – p75 | others: ratio to n=0 | others over its control (n pidfds there) | control, n pidfds on the exec'ing process: median | control: ratio to n=0 |");
    rep.md("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let diff0 = q(&own[0]
        .iter()
        .zip(&ctl[0])
        .map(|(a, b)| a - b)
        .collect::<Vec<_>>())
    .med;
    let mut per_handle = Vec::new();
    for (i, &n) in ns.iter().enumerate() {
        let o = q(&own[i]);
        let t = q(&others[i]);
        let ro = q(&ratios(&own[i], &own[0]));
        let rt = q(&ratios(&others[i], &others[0]));
        let rto = q(&ratios(&others[i], &octl[i]));
        let c = q(&ctl[i]);
        let rc = q(&ratios(&ctl[i], &ctl[0]));
        // The module's own share: own minus the pidfd control, per round.
        let diff: Vec<f64> = own[i].iter().zip(&ctl[i]).map(|(a, b)| a - b).collect();
        let d = q(&diff).med - diff0;
        let extra = if n > 0 {
            let e = d / n as f64;
            per_handle.push((n, d));
            if n >= 1000 {
                format!("{} ({} per handle)", dur(d), dur(e))
            } else {
                // Below the noise: no per-handle figure.
                dur(d)
            }
        } else {
            "—".into()
        };
        rep.md(format!(
            "| {n} | {} | {} | {:.3}x ({:.3} – {:.3}) | {extra} | {} | {} | {:.3}x ({:.3} – {:.3}) | {:.3}x ({:.3} – {:.3}) | {} | {:.3}x ({:.3} – {:.3}) |",
            dur(o.med),
            spread(o),
            ro.med,
            ro.p25,
            ro.p75,
            dur(t.med),
            spread(t),
            rt.med,
            rt.p25,
            rt.p75,
            rto.med,
            rto.p25,
            rto.p75,
            dur(c.med),
            rc.med,
            rc.p25,
            rc.p75
        ));
        rep.dat.push(format!(
            "pidfd {n} {:.3} {:.3} {:.3}",
            c.med / 1e3,
            c.p25 / 1e3,
            c.p75 / 1e3
        ));
        rep.dat.push(format!(
            "own {n} {:.3} {:.3} {:.3}",
            o.med / 1e3,
            o.p25 / 1e3,
            o.p75 / 1e3
        ));
        rep.dat.push(format!(
            "others {n} {:.3} {:.3} {:.3}",
            t.med / 1e3,
            t.p25 / 1e3,
            t.p75 / 1e3
        ));
        let oc = q(&octl[i]);
        rep.dat.push(format!(
            "otherspidfd {n} {:.3} {:.3} {:.3}",
            oc.med / 1e3,
            oc.p25 / 1e3,
            oc.p75 / 1e3
        ));
    }
    rep.md("");
    // Linear in own handles: the module's share (own minus the pidfd
    // control, over n = 0) per handle agrees within 1.5x between the two
    // largest n, where it stands well above the noise, and the largest n is
    // clearly above n = 0 (p25 of the ratio > 1).
    let k = per_handle.len();
    let (n_a, d_a) = per_handle[k - 2];
    let (n_b, d_b) = per_handle[k - 1];
    let (s_a, s_b) = (d_a / n_a as f64, d_b / n_b as f64);
    let r_big = q(&ratios(&own[ns.len() - 1], &own[0]));
    let lin = s_a > 0.0 && s_b > 0.0 && (1.0 / 1.5..=1.5).contains(&(s_a / s_b)) && r_big.p25 > 1.0;
    let lin_s = format!(
        "revocation linear in the exec'ing process's own handles: the module's share of the exec (own minus pidfd control) is {} per handle at n={n_a} \
         and {} at n={n_b} (ratio {:.2}, want 0.67 – 1.5); n={n_b} over n=0 {:.2}x (p25 {:.2} > 1): {}",
        dur(s_a),
        dur(s_b),
        s_a / s_b,
        r_big.med,
        r_big.p25,
        if lin { "PASS" } else { "MISS" }
    );
    // Flat in others' handles: at n=10000, an exec with n kill handles on
    // other processes within 1.05x of one with n pidfds on them (median of
    // the per-round ratios): as many open files elsewhere, so what remains
    // is the module's. The raw ratio to n=0 and the worst n are shown too.
    let i10k = ns.iter().position(|&n| n == 10000).unwrap_or(ns.len() - 1);
    let r_oth = q(&ratios(&others[i10k], &octl[i10k]));
    let r_raw = q(&ratios(&others[i10k], &others[0]));
    let r_ctl = q(&ratios(&octl[i10k], &octl[0]));
    let worst = (1..ns.len())
        .map(|i| (ns[i], q(&ratios(&others[i], &octl[i])).med))
        .fold((0, 0.0f64), |a, b| if b.1 > a.1 { b } else { a });
    let flat = r_oth.med <= 1.05;
    let flat_s = format!(
        "revocation flat in other processes' handles: at n=10000, kill handles over as many pidfds on the other processes {:.3}x \
         (p25 {:.3}, p75 {:.3}; want <= 1.05x; worst n: {:.3}x at n={}); raw, over n=0: kill handles {:.3}x, pidfds {:.3}x: {}",
        r_oth.med,
        r_oth.p25,
        r_oth.p75,
        worst.1,
        worst.0,
        r_raw.med,
        r_ctl.med,
        if flat { "PASS" } else { "MISS" }
    );
    rep.md(format!(
        "- Linear in own handles: {}",
        lin_s
            .replace(": PASS", ": **PASS**")
            .replace(": MISS", ": **MISS**")
    ));
    rep.md(format!(
        "- Flat in others' handles: {}",
        flat_s
            .replace(": PASS", ": **PASS**")
            .replace(": MISS", ": **MISS**")
    ));
    rep.md("");
    rep.md("![exec time against open handles](bench-scaling.png)");
    rep.md("");
    rep.summary.push(lin_s);
    rep.summary.push(flat_s);
    Ok(())
}

// ---- memory

/// Σ active_objs × objsize per cache, from /proc/slabinfo.
fn slab_bytes() -> Res<Vec<(String, i64)>> {
    let t =
        std::fs::read_to_string("/proc/slabinfo").map_err(|e| format!("/proc/slabinfo: {e}"))?;
    Ok(t.lines()
        .skip(2)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 4).then(|| {
                let active: i64 = f[1].parse().unwrap_or(0);
                let size: i64 = f[3].parse().unwrap_or(0);
                (f[0].to_string(), active * size)
            })
        })
        .collect())
}

fn meminfo_kb(key: &str) -> i64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.strip_prefix(':'))
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|v| v.parse().ok())
            })
        })
        .unwrap_or(0)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Node,
    Pidfd,
    Dir,
}

fn bench_memory(cfg: &Cfg, rep: &mut Report, sleepers: &[i32]) -> Res<()> {
    // Grow our fd table beforehand so that its growth is not counted.
    let null = open_raw(&cstr("/dev/null"), libc::O_RDONLY);
    // SAFETY: dup3 to a free high fd.
    let hi = unsafe { libc::dup3(null, (MEM_HANDLES + 64) as i32, libc::O_CLOEXEC) };
    if null < 0 || hi < 0 {
        return os_err("growing the fd table");
    }
    close(hi);
    close(null);
    let kinds = [
        (
            Kind::Node,
            "kill node: open(\"/proc/<pid>/kill\", O_WRONLY)",
        ),
        (Kind::Pidfd, "pidfd_open"),
        (Kind::Dir, "open(\"/proc/<pid>\", O_DIRECTORY)"),
    ];
    let paths: Vec<(CString, CString)> = sleepers
        .iter()
        .map(|&p| (kill_path(p), cstr(&format!("/proc/{p}"))))
        .collect();
    let reps = cfg.rounds(5);
    let mut slab = vec![Vec::new(); kinds.len()];
    let mut slab_mi = vec![Vec::new(); kinds.len()];
    let mut top: Vec<(String, i64)> = Vec::new();
    for r in 0..reps {
        for j in 0..kinds.len() {
            let k = (r + j) % kinds.len();
            let before = slab_bytes()?;
            let mi0 = meminfo_kb("Slab");
            let mut fds = Vec::with_capacity(MEM_HANDLES);
            for i in 0..MEM_HANDLES {
                let (kp, dp) = &paths[i % paths.len()];
                let fd = match kinds[k].0 {
                    Kind::Node => open_raw(kp, libc::O_WRONLY),
                    Kind::Pidfd => sys_pidfd_open(sleepers[i % sleepers.len()]),
                    Kind::Dir => open_raw(dp, libc::O_RDONLY | libc::O_DIRECTORY),
                };
                if fd < 0 {
                    return os_err("memory: open");
                }
                fds.push(fd);
            }
            let after = slab_bytes()?;
            let mi1 = meminfo_kb("Slab");
            for fd in fds {
                close(fd);
            }
            let mut delta: Vec<(String, i64)> = after
                .iter()
                .map(|(n, a)| {
                    let b = before.iter().find(|x| &x.0 == n).map(|x| x.1).unwrap_or(0);
                    (n.clone(), a - b)
                })
                .collect();
            let total: i64 = delta.iter().map(|d| d.1).sum();
            slab[k].push(total as f64 / MEM_HANDLES as f64);
            slab_mi[k].push((mi1 - mi0) as f64 * 1024.0 / MEM_HANDLES as f64);
            if kinds[k].0 == Kind::Node {
                delta.sort_by_key(|d| -d.1);
                top = delta
                    .into_iter()
                    .filter(|d| d.1 >= MEM_HANDLES as i64)
                    .take(4)
                    .collect();
            }
        }
    }
    rep.md("## Memory per open handle");
    rep.md("");
    rep.md(format!(
        "{MEM_HANDLES} handles opened on 100 processes by one process whose fd table was grown beforehand; \
         the growth of /proc/slabinfo (Σ active objects × object size over all caches) and of `Slab:` in /proc/meminfo, divided by {MEM_HANDLES}. \
         {reps} repetitions, kinds interleaved."
    ));
    rep.md("");
    rep.md("| handle | slabinfo bytes/handle: median | p25 – p75 | meminfo Slab bytes/handle | ratio to pidfd |");
    rep.md("|---|---:|---:|---:|---:|");
    let pid_med = q(&slab[1]).med;
    for (k, (_, name)) in kinds.iter().enumerate() {
        let x = q(&slab[k]);
        let m = q(&slab_mi[k]);
        rep.md(format!(
            "| {name} | {:.0} | {:.0} – {:.0} | {:.0} | {:.2}x |",
            x.med,
            x.p25,
            x.p75,
            m.med,
            x.med / pid_med
        ));
    }
    rep.md("");
    let tops: Vec<String> = top
        .iter()
        .map(|(n, b)| format!("`{n}` {:.0} B", *b as f64 / MEM_HANDLES as f64))
        .collect();
    rep.md(format!("Largest growths per kill handle (last repetition; SLUB merges caches, so names may be those of merged caches): {}.", tops.join(", ")));
    rep.md("");
    rep.summary.push(format!(
        "memory per kill handle: {:.0} B (slabinfo), pidfd {:.0} B, /proc/<pid> dir fd {:.0} B",
        q(&slab[0]).med,
        pid_med,
        q(&slab[2]).med
    ));
    Ok(())
}

// ---------------------------------------------------------------- main --

fn run(cfg: &Cfg, only: &[String], rep: &mut Report) -> Res<()> {
    let want = |g: &str| only.is_empty() || only.iter().any(|o| o == g);
    raise_nofile()?;
    pin_to_cpu(0)?;
    rep.meta("pinned", "cpu 0");
    if module_loaded() {
        rmmod()?;
    }
    let mut sleepers = Vec::new();
    for _ in 0..SLEEPERS {
        sleepers.push(spawn_sleeper()?);
    }
    let guard = Sleepers(sleepers.clone());
    let mut holder = Holder::spawn(&sleepers, 1)?;
    let target = sleepers[0];
    let t_all = Instant::now();
    let mut timed = |name: &str,
                     f: &mut dyn FnMut(&mut Holder, &mut Report) -> Res<()>,
                     rep: &mut Report|
     -> Res<()> {
        if !want(name) {
            return Ok(());
        }
        eprintln!("pk-bench: {name}...");
        let t = Instant::now();
        f(&mut holder, rep)?;
        eprintln!("pk-bench: {name} done in {:.1}s", t.elapsed().as_secs_f64());
        rep.meta(
            &format!("time_{name}"),
            format!("{:.1}", t.elapsed().as_secs_f64()),
        );
        Ok(())
    };
    timed(
        "send",
        &mut |h, rep| {
            set_state(h, ModState::Loaded, "")?;
            bench_send(cfg, rep, target)
        },
        rep,
    )?;
    timed(
        "handle",
        &mut |h, rep| {
            set_state(h, ModState::Loaded, "")?;
            bench_handle(cfg, rep, target)
        },
        rep,
    )?;
    timed(
        "scaling",
        &mut |h, rep| {
            set_state(h, ModState::Loaded, "")?;
            bench_scaling(cfg, rep, [sleepers[0], sleepers[1]])
        },
        rep,
    )?;
    timed("others", &mut |h, rep| bench_others(cfg, rep, h), rep)?;
    timed("revoke", &mut |h, rep| bench_revoke(cfg, rep, h), rep)?;
    timed(
        "memory",
        &mut |h, rep| {
            set_state(h, ModState::Loaded, "")?;
            bench_memory(cfg, rep, &sleepers)
        },
        rep,
    )?;
    set_state(&mut holder, ModState::Unloaded, "")?;
    drop(holder);
    drop(guard);
    rep.meta(
        "time_total",
        format!("{:.1}", t_all.elapsed().as_secs_f64()),
    );
    Ok(())
}

struct Sleepers(Vec<i32>);

impl Drop for Sleepers {
    fn drop(&mut self) {
        for &p in &self.0 {
            kill_reap(p);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut cfg = Cfg { quick: false };
    let mut results = None;
    let mut only = Vec::new();
    let mut count = false;
    let mut share = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => cfg.quick = true,
            "--count" => count = true,
            "--share" => share = true,
            "--results" => results = args.next(),
            "--only" => {
                only = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            _ => {
                eprintln!("usage: pk-bench [--quick] [--results FILE] [--only send,handle,others,revoke,memory]");
                eprintln!("       pk-bench --count [--results FILE]   (under qemu/profile.sh)");
                eprintln!(
                    "       pk-bench --share [--results FILE]   (under qemu/profile.sh, 2 vCPUs)"
                );
                std::process::exit(2);
            }
        }
    }
    if share {
        if let Err(e) = share::run(results.as_deref()) {
            eprintln!("pk-bench --share: FAILED: {e}");
            std::process::exit(1);
        }
        return;
    }
    if count {
        if let Err(e) = count::run(results.as_deref()) {
            eprintln!("pk-bench --count: FAILED: {e}");
            std::process::exit(1);
        }
        return;
    }
    let mut rep = Report {
        md: Vec::new(),
        dat: Vec::new(),
        meta: Vec::new(),
        summary: Vec::new(),
    };
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer.
    unsafe { libc::uname(&mut uts) };
    let field = |f: &[libc::c_char]| {
        // SAFETY: uname NUL-terminates its fields.
        unsafe { std::ffi::CStr::from_ptr(f.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    rep.meta(
        "kernel",
        format!("{} {}", field(&uts.release), field(&uts.version)),
    );
    // SAFETY: plain call.
    rep.meta(
        "guest_cpus",
        unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.to_string(),
    );
    rep.meta("quick", cfg.quick.to_string());
    let (m0, t0) = clock_edge();
    let hz = calibrate_tsc(1.0);
    rep.meta("tsc_mhz_calibrated", format!("{:.1}", hz / 1e6));
    let r = run(&cfg, &only, &mut rep);
    // The rate over the whole run, as a check of the 1 s calibration.
    let (m1, t1) = clock_edge();
    rep.meta(
        "tsc_mhz_whole_run",
        format!("{:.1}", (t1 - t0) as f64 / (m1 - m0).as_secs_f64() / 1e6),
    );
    if let Err(e) = &r {
        eprintln!("pk-bench: FAILED: {e}");
        rep.meta("error", e.clone());
    }
    println!("\npk-bench summary:");
    for s in &rep.summary {
        println!("  {s}");
    }
    if let Some(p) = results {
        if let Err(e) = rep.write(&p) {
            eprintln!("pk-bench: {e}");
            std::process::exit(1);
        }
    }
    std::process::exit(if r.is_ok() { 0 } else { 1 });
}
