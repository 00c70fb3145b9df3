// SPDX-License-Identifier: GPL-2.0

//! Every init failure path of the module, with openers hammering the node
//! during the failed load (issue 15, item 4).
//!
//! The throwaway helper module `pk_ipmodify_holder.ko` (tests/modules/,
//! built by qemu/helper-modules.sh, shipped at /lib/modules/) holds
//! `FTRACE_OPS_FL_IPMODIFY` on one function named by `func=`, so that
//! prockill's own registration on it fails with EBUSY, as it would under a
//! livepatch. For each function prockill hooks, with the holder on it and
//! openers (root and uid 1000, several threads) looping stat/open/openat/
//! readdir on /proc/<pid> and /proc/<pid>/task/<tid> of a threaded target,
//! each `insmod prockill.ko` of a series must:
//!
//! - fail cleanly with EBUSY, the module absent from /proc/modules after;
//! - have let no node be seen or opened while it was loading: a node that
//!   exists during a load that then fails is a dentry whose d_op, i_fop and
//!   module reference point into a module that is about to be freed;
//! - leave no /proc/<pid>/kill or task/<tid>/kill behind;
//! - log exactly one prockill error line (KERN_ERR or worse), naming what
//!   failed (the function, or its kind: lookup, readdir, setup_new_exec).
//!
//! Then the holder is unloaded, and prockill must load and work (a signal-0
//! write to a child's node) and unload. `initfail/bad-param` covers the
//! failure before init (a bad `revoke=` value) the same way.
//!
//! setup_new_exec is special: prockill's exec hook is not an IPMODIFY ops,
//! so a holder there does not conflict with it and prockill may load. That
//! test then checks that it works alongside (node write, exec revocation)
//! instead of a failure; a failed load must be clean, as for the others.

use super::pk;
use crate::harness::{Test, TestResult};
use crate::util::{self, errno, errno_name, MODULE_NAME};
use crate::{ensure, ensure_eq};
use std::ffi::CString;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const TESTS: &[Test] = &[
    Test::new("initfail/proc_tgid_base_lookup", tgid_lookup).timeout_secs(90),
    Test::new("initfail/proc_tid_base_lookup", tid_lookup).timeout_secs(90),
    Test::new("initfail/proc_tgid_base_readdir", tgid_readdir).timeout_secs(90),
    Test::new("initfail/proc_tid_base_readdir", tid_readdir).timeout_secs(90),
    Test::new("initfail/setup_new_exec", exec_hook).timeout_secs(90),
    Test::new("initfail/bad-param", bad_param),
    Test::new("soundness/reload-under-openers", reload_under_openers).timeout_secs(240),
];

/// The helper module's image in the guest (override: env `PK_HOLDER_KO`).
pub const HOLDER_PATH: &str = "/lib/modules/pk_ipmodify_holder.ko";
/// Its module name.
pub const HOLDER_NAME: &str = "pk_ipmodify_holder";

/// Failed loads per function: at least this many, and more until
/// [`HAMMER_FOR`] has passed (each takes 0.3-1 s under TCG + KASAN).
const MIN_LOADS: u32 = 4;
const HAMMER_FOR: Duration = Duration::from_secs(8);
const MAX_LOADS: u32 = 40;

fn tgid_lookup() -> TestResult {
    run_case(
        "proc_tgid_base_lookup",
        &["proc_tgid_base_lookup", "lookup"],
    )
}

fn tid_lookup() -> TestResult {
    run_case("proc_tid_base_lookup", &["proc_tid_base_lookup", "lookup"])
}

fn tgid_readdir() -> TestResult {
    run_case(
        "proc_tgid_base_readdir",
        &["proc_tgid_base_readdir", "readdir"],
    )
}

fn tid_readdir() -> TestResult {
    run_case(
        "proc_tid_base_readdir",
        &["proc_tid_base_readdir", "readdir"],
    )
}

fn exec_hook() -> TestResult {
    run_case("setup_new_exec", &["setup_new_exec", "exec"])
}

/// A load that fails before init (a bad `revoke=`), the module's other
/// failure path: EINVAL, nothing listed, no node, one error line naming the
/// parameter.
fn bad_param() -> TestResult {
    ensure_eq!(util::module_info(MODULE_NAME)?.map(|m| m.state), None);
    let (target, _tid) = spawn_target()?;
    let mut kmsg = Kmsg::open()?;
    let r = util::insmod(&util::module_path(), "revoke=bogus");
    let errs = prockill_errors(&kmsg.take());
    ensure!(
        r == Err(libc::EINVAL),
        "insmod revoke=bogus: {:?}, want EINVAL",
        r.map_err(errno_name)
    );
    ensure_eq!(util::module_info(MODULE_NAME)?.map(|m| m.state), None);
    ensure!(
        !exists(&pk::node(target.pid())),
        "{} exists after the failed load",
        pk::node(target.pid())
    );
    ensure!(
        errs.len() == 1 && errs[0].contains("revoke"),
        "want exactly one prockill error line naming revoke, got {errs:?}"
    );
    drop(target);
    loads_and_works("after the failed load")
}

/// Cycles of [`reload_under_openers`] (override: env `PK_RELOAD_CYCLES`).
const RELOAD_CYCLES: u32 = 24;

/// Loads, unloads and failed loads of prockill while openers (root and uid
/// 1000) run lookups and readdirs of /proc/<pid> and /proc/<pid>/task/<tid>,
/// the procfs functions whose call sites the module's ftrace ops patch. Each
/// load and unload rewrites those call sites (int3, tail, first byte, with a
/// cross-CPU sync after each step) while the other vCPU runs them.
///
/// Each cycle, in turn: a load with the default `cache=Y` whose unload must
/// drop the cached node dentries first ([`util::rmmod`]); a load with
/// `cache=N`; and a load that fails (the holder on one of the hooked
/// functions), whose rollback unregisters what it registered a moment
/// before. Every successful load must show the target's node, every unload
/// must remove it. While an unload waits for the module to be unused, the
/// openers leave the node alone (an open, a stat or a readdir holds the
/// module while it runs) but go on looking up other names in the same
/// directories, the calls the unload's unpatching races with. The
/// test fails on any splat (the runner reads the console) and if the
/// openers did not run throughout.
///
/// Under QEMU 7.2's multi-threaded TCG this loop met an "Oops: int3" at a
/// patched call site (proc_tgid_base_lookup+0x5) within a few cycles: a
/// vCPU ran an int3 that the kernel had already replaced. The same loop
/// ran clean for 150 cycles with QEMU 7.2's single-threaded TCG and with
/// QEMU 10.0's multi-threaded TCG, so qemu/run uses QEMU 10
/// (docs/procfs-glue.md §4).
fn reload_under_openers() -> TestResult {
    ensure_eq!(util::module_info(MODULE_NAME)?.map(|m| m.state), None);
    let cycles: u32 = std::env::var("PK_RELOAD_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RELOAD_CYCLES);
    let run = Openers::start()?;
    let (pid, tid, sh) = (run.pid, run.tid, run.sh);
    let t0 = Instant::now();
    let hooked = [
        "proc_tgid_base_lookup",
        "proc_tid_base_lookup",
        "proc_tgid_base_readdir",
        "proc_tid_base_readdir",
    ];
    let mut result: TestResult = Ok(());
    let mut last_rounds = sh.rounds.load(Ordering::SeqCst);
    for i in 0..cycles {
        let step = || -> TestResult {
            match i % 3 {
                0 | 1 => {
                    let params = if i % 3 == 0 { "" } else { "cache=N" };
                    util::insmod(&util::module_path(), params)
                        .map_err(|e| format!("cycle {i}: insmod {params:?}: {}", errno_name(e)))?;
                    // Let the openers meet the loaded module.
                    std::thread::sleep(Duration::from_millis(60));
                    ensure!(
                        exists(&pk::node(pid)) && exists(&pk::tnode(pid, tid)),
                        "cycle {i}: the target's nodes are missing while prockill is loaded"
                    );
                    // The openers go on with lookups and readdirs, the
                    // calls the unload unpatches, but open no node, which
                    // would hold the module.
                    sh.quiet.store(true, Ordering::SeqCst);
                    let r = util::wait_until(Duration::from_secs(30), "rmmod prockill", || {
                        util::rmmod(MODULE_NAME).is_ok()
                    });
                    sh.quiet.store(false, Ordering::SeqCst);
                    r.map_err(|e| format!("cycle {i}: {e}"))?;
                    ensure!(
                        !exists(&pk::node(pid)),
                        "cycle {i}: {} exists after rmmod",
                        pk::node(pid)
                    );
                }
                _ => {
                    let func = hooked[(i / 3) as usize % hooked.len()];
                    let holder = Holder::load(func)?;
                    let r = util::insmod(&util::module_path(), "");
                    holder.unload()?;
                    ensure!(
                        r == Err(libc::EBUSY),
                        "cycle {i}: insmod with {HOLDER_NAME} on {func}: {:?}, want EBUSY",
                        r.map_err(errno_name)
                    );
                }
            }
            ensure_eq!(util::module_info(MODULE_NAME)?.map(|m| m.state), None);
            Ok(())
        };
        if let Err(e) = step() {
            result = Err(e);
            break;
        }
        let rounds = sh.rounds.load(Ordering::SeqCst);
        if rounds == last_rounds {
            result = Err(format!("the openers made no progress during cycle {i}"));
            break;
        }
        last_rounds = rounds;
    }
    let rounds = run.stop()?;
    if result.is_err() && util::module_info(MODULE_NAME)?.is_some() {
        // Leave no module loaded for the tests after this one.
        let _ = util::wait_until(Duration::from_secs(30), "rmmod prockill", || {
            util::rmmod(MODULE_NAME).is_ok()
        });
    }
    eprintln!(
        "soundness/reload-under-openers: {cycles} cycles in {:.1}s, {rounds} opener rounds",
        t0.elapsed().as_secs_f64()
    );
    result
}

// ------------------------------------------------------------- the holder --

fn holder_path() -> String {
    std::env::var("PK_HOLDER_KO").unwrap_or_else(|_| HOLDER_PATH.to_string())
}

/// The holder, loaded on one function for the lifetime of this guard.
struct Holder;

impl Holder {
    fn load(func: &str) -> Result<Holder, String> {
        ensure!(
            util::module_info(HOLDER_NAME)?.is_none(),
            "{HOLDER_NAME} is already loaded (a previous test leaked it)"
        );
        util::insmod(&holder_path(), &format!("func={func}")).map_err(|e| {
            format!(
                "insmod {} func={func}: {} (see the console)",
                holder_path(),
                errno_name(e)
            )
        })?;
        Ok(Holder)
    }

    fn unload(self) -> TestResult {
        std::mem::forget(self);
        util::rmmod(HOLDER_NAME).map_err(|e| format!("rmmod {HOLDER_NAME}: {}", errno_name(e)))
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = util::rmmod(HOLDER_NAME);
    }
}

// ------------------------------------------------------------- kernel log --

/// Reads the kernel log records (/dev/kmsg) written after [`Kmsg::open`].
struct Kmsg {
    fd: std::os::fd::OwnedFd,
}

impl Kmsg {
    fn open() -> Result<Kmsg, String> {
        let fd = pk::open("/dev/kmsg", libc::O_RDONLY | libc::O_NONBLOCK)
            .map_err(|e| format!("open /dev/kmsg: {}", errno_name(e)))?;
        // SAFETY: lseek on an fd we own; SEEK_END skips the existing records.
        unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_END) };
        Ok(Kmsg { fd })
    }

    /// The new records since the last call: (level, text).
    fn take(&mut self) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            // SAFETY: valid buffer; one record per read.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                match errno() {
                    libc::EPIPE | libc::EINTR => continue, // records overwritten: go on
                    _ => break,                            // EAGAIN: no more
                }
            }
            if n == 0 {
                break;
            }
            let rec = String::from_utf8_lossy(&buf[..n as usize]).into_owned();
            // "prio,seq,ts,flags;text\n" then " KEY=value" continuation lines.
            let Some((head, rest)) = rec.split_once(';') else {
                continue;
            };
            let prio: u32 = head.split(',').next().unwrap_or("").parse().unwrap_or(7);
            let text = rest.lines().next().unwrap_or("").to_string();
            out.push((prio & 7, text));
        }
        out
    }
}

/// Keep the error lines (KERN_ERR or worse) that are prockill's.
fn prockill_errors(records: &[(u32, String)]) -> Vec<String> {
    records
        .iter()
        .filter(|(lvl, t)| *lvl <= 3 && t.contains(MODULE_NAME))
        .map(|(_, t)| t.clone())
        .collect()
}

// ---------------------------------------------------------------- openers --

/// Counters shared by the opener processes and the test (MAP_SHARED).
#[repr(C)]
struct Shared {
    stop: AtomicBool,
    /// Set: the opener threads leave the node alone (no open, stat or
    /// readdir, each of which holds the module while it runs) and look up
    /// other names of the same directories, through the same procfs
    /// lookup, so that an unload can find the module unused.
    quiet: AtomicBool,
    /// Loop rounds done by all opener threads.
    rounds: AtomicU64,
    /// A kill node was seen: stat succeeded or readdir listed "kill".
    seen: AtomicU64,
    /// A kill node was opened.
    opened: AtomicU64,
    /// The first hit: [`Op`] code * 16 + 1 (process node) or + 2 (thread node).
    first: AtomicU32,
}

struct SharedMap(*mut Shared);

impl SharedMap {
    fn new() -> Result<SharedMap, String> {
        let len = std::mem::size_of::<Shared>();
        // SAFETY: anonymous shared mapping, zero-filled: every field is a
        // valid atomic at zero; it stays mapped in the forked openers.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return util::os_err("mmap");
        }
        Ok(SharedMap(p.cast()))
    }

    fn get(&self) -> &'static Shared {
        // SAFETY: mapped in new() and never unmapped (the test process exits).
        unsafe { &*self.0 }
    }
}

const OP_STAT: u32 = 1;
const OP_OPEN: u32 = 2;
const OP_OPENAT: u32 = 3;
const OP_READDIR: u32 = 4;

fn describe_hit(code: u32) -> String {
    let op = match code / 16 {
        OP_STAT => "stat",
        OP_OPEN => "open by path",
        OP_OPENAT => "openat through the directory fd",
        OP_READDIR => "readdir listing",
        _ => "?",
    };
    let node = if code % 16 == 2 {
        "/proc/<pid>/task/<tid>/kill"
    } else {
        "/proc/<pid>/kill"
    };
    format!("{op} of {node}")
}

fn hit(sh: &Shared, op: u32, thread_node: bool, opened: bool) {
    if opened {
        sh.opened.fetch_add(1, Ordering::SeqCst);
    } else {
        sh.seen.fetch_add(1, Ordering::SeqCst);
    }
    let code = op * 16 + if thread_node { 2 } else { 1 };
    let _ = sh
        .first
        .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
}

/// Does a getdents64 pass over `dir` (rewound) list an entry "kill"?
fn lists_kill(dir: RawFd) -> bool {
    // SAFETY: lseek on a directory fd we hold.
    unsafe { libc::lseek(dir, 0, libc::SEEK_SET) };
    util::getdents_fd(dir, 4096).is_ok_and(|v| v.iter().any(|e| e.0 == "kill"))
}

/// One opener thread: loops over the ways to reach the node of `pid`
/// (`thread_node`: of its thread `tid`) until `stop`.
fn opener_thread(sh: &'static Shared, pid: i32, tid: i32, thread_node: bool) {
    let (dir_path, node_path) = if thread_node {
        (format!("/proc/{pid}/task/{tid}"), pk::tnode(pid, tid))
    } else {
        (format!("/proc/{pid}"), pk::node(pid))
    };
    let Ok(dir) = pk::open(
        &dir_path,
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
    ) else {
        return;
    };
    let cnode = CString::new(node_path).unwrap_or_default();
    let cstatus = CString::new(format!("{dir_path}/status")).unwrap_or_default();
    let ckilo = CString::new(format!("{dir_path}/kilo")).unwrap_or_default();
    let kill = c"kill";
    let mut round: u64 = 0;
    // PK_INITFAIL_HOLD=1: keep every node fd obtained open until the
    // openers stop (after the failed load freed the module), so that the
    // close runs the freed module's release: shows the use-after-free as a
    // kernel splat instead of a test failure. Default: close at once.
    let hold = std::env::var_os("PK_INITFAIL_HOLD").is_some();
    let mut held: Vec<libc::c_int> = Vec::new();
    let mut done = |fd: libc::c_int| {
        if hold {
            held.push(fd);
        } else {
            // SAFETY: an fd this thread just opened.
            unsafe { libc::close(fd) };
        }
    };
    while !sh.stop.load(Ordering::Relaxed) {
        // SAFETY: plain syscalls on valid C strings, a stat buffer and a
        // directory fd we hold; every fd obtained is closed at once.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if sh.quiet.load(Ordering::Relaxed) {
                libc::stat(cstatus.as_ptr(), &mut st);
                libc::stat(ckilo.as_ptr(), &mut st);
                round += 1;
                sh.rounds.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if libc::stat(cnode.as_ptr(), &mut st) == 0 {
                hit(sh, OP_STAT, thread_node, false);
            }
            let fd = libc::open(cnode.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
            if fd >= 0 {
                hit(sh, OP_OPEN, thread_node, true);
                done(fd);
            }
            let fd = libc::openat(
                dir.as_raw_fd(),
                kill.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            );
            if fd >= 0 {
                hit(sh, OP_OPENAT, thread_node, true);
                done(fd);
            }
        }
        // A readdir instantiates every entry: costly under KASAN, so one
        // round in four.
        if round % 4 == 0 && lists_kill(dir.as_raw_fd()) {
            hit(sh, OP_READDIR, thread_node, false);
        }
        round += 1;
        sh.rounds.fetch_add(1, Ordering::Relaxed);
    }
    for fd in held {
        // SAFETY: fds this thread opened and kept.
        unsafe { libc::close(fd) };
    }
}

/// An opener process (root, or uid 1000 with `as_user`): two threads on the
/// process node, one on the thread node.
fn spawn_opener(
    sh: &'static Shared,
    pid: i32,
    tid: i32,
    as_user: bool,
) -> Result<util::Child, String> {
    util::fork_fn(move || {
        if as_user {
            util::drop_privileges(util::USER_UID, util::USER_GID)?;
        }
        let threads: Vec<_> = [false, false, true]
            .into_iter()
            .map(|t| std::thread::spawn(move || opener_thread(sh, pid, tid, t)))
            .collect();
        for t in threads {
            let _ = t.join();
        }
        Ok(())
    })
}

/// A threaded target and two opener processes on it (root and uid 1000,
/// three threads each), running.
struct Openers {
    target: util::Child,
    pid: i32,
    tid: i32,
    sh: &'static Shared,
    openers: [util::Child; 2],
}

impl Openers {
    fn start() -> Result<Openers, String> {
        let (target, tid) = spawn_target()?;
        let pid = target.pid();
        let sh = SharedMap::new()?.get();
        let openers = [
            spawn_opener(sh, pid, tid, false)?,
            spawn_opener(sh, pid, tid, true)?,
        ];
        util::wait_until(Duration::from_secs(10), "the openers to start", || {
            sh.rounds.load(Ordering::Relaxed) >= 6
        })?;
        Ok(Openers {
            target,
            pid,
            tid,
            sh,
            openers,
        })
    }

    /// Stops and reaps the openers, then the target; the rounds they made.
    fn stop(self) -> Result<u64, String> {
        self.sh.stop.store(true, Ordering::SeqCst);
        let rounds = self.sh.rounds.load(Ordering::SeqCst);
        for o in self.openers {
            o.join(Duration::from_secs(20))?;
        }
        drop(self.target);
        Ok(rounds)
    }
}

/// A target with two extra threads; returns it and one non-leader tid.
fn spawn_target() -> Result<(util::Child, i32), String> {
    let child = util::fork_fn(|| {
        for _ in 0..2 {
            std::thread::spawn(|| loop {
                std::thread::sleep(Duration::from_secs(3600));
            });
        }
        loop {
            // SAFETY: pause(2) has no preconditions.
            unsafe { libc::pause() };
        }
    })?;
    let pid = child.pid();
    let task = format!("/proc/{pid}/task");
    let mut tid = 0;
    util::wait_until(Duration::from_secs(10), "the target's threads", || {
        let tids: Vec<i32> = std::fs::read_dir(&task)
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        tid = tids.iter().copied().find(|&t| t != pid).unwrap_or(0);
        tids.len() >= 3
    })?;
    Ok((child, tid))
}

// ------------------------------------------------------------- the checks --

fn exists(path: &str) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Accepted in the error line as naming what failed.
fn names_it(line: &str, names: &[&str]) -> bool {
    names.iter().any(|n| line.contains(n))
}

/// prockill loads, its node of a child works (signal 0, process and thread
/// node), and it unloads.
fn loads_and_works(what: &str) -> TestResult {
    let m = util::load_module("").map_err(|e| format!("{what}: {e}"))?;
    let (target, tid) = spawn_target()?;
    let pid = target.pid();
    let r = util::write_once(&pk::node(pid), b"0");
    ensure!(
        r == Ok(1),
        "{what}: write 0 to {}: {}",
        pk::node(pid),
        pk::res(r)
    );
    let r = util::write_once(&pk::tnode(pid, tid), b"0");
    ensure!(
        r == Ok(1),
        "{what}: write 0 to {}: {}",
        pk::tnode(pid, tid),
        pk::res(r)
    );
    drop(target);
    m.unload().map_err(|e| format!("{what}: {e}"))
}

/// With the holder loaded, an exec still revokes a handle (policy exec):
/// the exec hook works alongside the holder's IPMODIFY on setup_new_exec.
fn exec_revokes() -> TestResult {
    let m = util::load_module("revoke=exec")?;
    let go = pk::Pipe::new(true)?;
    let go_rd = go.rd.as_raw_fd();
    let child = util::fork_fn(move || {
        // Wait for the parent to open the node, then exec busybox sleep.
        let mut b = [0u8; 1];
        // SAFETY: valid buffer; the pipe's read end is open in the child.
        unsafe { libc::read(go_rd, b.as_mut_ptr().cast(), 1) };
        let prog = c"/bin/sleep";
        let args = [prog.as_ptr(), c"30".as_ptr(), std::ptr::null()];
        // SAFETY: valid NULL-terminated argv of C strings.
        unsafe { libc::execv(prog.as_ptr(), args.as_ptr()) };
        util::os_err("execv /bin/sleep")
    })?;
    let pid = child.pid();
    let fd = pk::open(&pk::node(pid), libc::O_WRONLY | libc::O_CLOEXEC)
        .map_err(|e| format!("open {}: {}", pk::node(pid), errno_name(e)))?;
    pk::put(go.wr.as_raw_fd(), b"x");
    util::wait_until(Duration::from_secs(20), "the child's exec", || {
        util::read_file(&format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with("/bin/sleep"))
    })?;
    let r = pk::write_fd(fd.as_raw_fd(), b"0");
    ensure!(
        r == Err(libc::EIO),
        "write to a handle revoked by exec (revoke=exec, holder on setup_new_exec): {}, want EIO",
        pk::res(r)
    );
    drop(fd);
    drop(child);
    m.unload()
}

/// Add problem `p` ("kind: details") unless one of its kind is there: one
/// report per kind, the first time it shows.
fn note(p: String, problems: &mut Vec<String>) {
    let kind: String = p.chars().take_while(|&c| c != ':').collect();
    if !problems.iter().any(|q| q.starts_with(&kind)) {
        problems.push(p);
    }
}

fn run_case(func: &str, names: &[&str]) -> TestResult {
    ensure_eq!(util::module_info(MODULE_NAME)?.map(|m| m.state), None);
    let holder = Holder::load(func)?;
    let run = Openers::start()?;
    let (pid, tid, sh) = (run.pid, run.tid, run.sh);

    let mut kmsg = Kmsg::open()?;
    let mut problems: Vec<String> = Vec::new();
    let t0 = Instant::now();
    let (mut loads, mut loaded_ok) = (0u32, 0u32);
    while loads < MIN_LOADS || (t0.elapsed() < HAMMER_FOR && loads < MAX_LOADS) {
        loads += 1;
        kmsg.take();
        let r = util::insmod(&util::module_path(), "");
        let after = util::module_info(MODULE_NAME)?;
        let log = kmsg.take();
        let errs = prockill_errors(&log);
        match r {
            Ok(()) if func == "setup_new_exec" => {
                // No conflict (see the top of this file): nodes are
                // legitimately there now; check it works, below.
                loaded_ok += 1;
                break;
            }
            Ok(()) => {
                note(
                    format!("load succeeded: insmod #{loads} loaded prockill although {HOLDER_NAME} holds IPMODIFY on {func}"),
                    &mut problems,
                );
                loaded_ok += 1;
                break;
            }
            Err(e) => {
                if e != libc::EBUSY {
                    note(
                        format!("errno: insmod #{loads} failed with {}, want EBUSY (the IPMODIFY conflict)", errno_name(e)),
                        &mut problems,
                    );
                }
                if let Some(m) = after {
                    note(
                        format!("still listed: after the failed insmod #{loads}, /proc/modules lists prockill ({})", m.state),
                        &mut problems,
                    );
                }
                if errs.len() != 1 {
                    note(
                        format!("error lines: insmod #{loads} logged {} prockill error lines, want exactly 1: {errs:?}", errs.len()),
                        &mut problems,
                    );
                }
                if !errs.iter().any(|l| names_it(l, names)) {
                    note(
                        format!("unnamed: no prockill error line of insmod #{loads} names {func} (or {:?}): {errs:?}", &names[1..]),
                        &mut problems,
                    );
                }
            }
        }
        for path in [pk::node(pid), pk::tnode(pid, tid)] {
            if util::module_info(MODULE_NAME)?.is_none() && exists(&path) {
                note(
                    format!("left behind: {path} exists after the failed insmod #{loads}"),
                    &mut problems,
                );
            }
        }
        let (seen, opened) = (
            sh.seen.load(Ordering::SeqCst),
            sh.opened.load(Ordering::SeqCst),
        );
        if opened > 0 || seen > 0 {
            let first = describe_hit(sh.first.load(Ordering::SeqCst));
            problems.insert(
                0,
                format!("node during a failed load: by insmod #{loads}, openers opened a kill node {opened} times and saw one {seen} times (first: {first}); each holds d_op/i_fop/a module reference into the module being freed"),
            );
            break;
        }
    }
    let rounds = run.stop()?;
    if loaded_ok > 0 {
        // The openers held nodes of the loaded module: unload once they are gone.
        util::wait_until(Duration::from_secs(20), "rmmod prockill", || {
            util::rmmod(MODULE_NAME).is_ok()
        })?;
    }
    eprintln!(
        "initfail/{func}: {loads} loads ({loaded_ok} succeeded) in {:.1}s, {rounds} opener rounds",
        t0.elapsed().as_secs_f64()
    );
    if func == "setup_new_exec" && loaded_ok > 0 {
        // No conflict: prockill works alongside the holder.
        exec_revokes().map_err(|e| format!("with {HOLDER_NAME} on {func}: {e}"))?;
    }
    holder.unload()?;
    ensure!(problems.is_empty(), "{}", problems.join("; "));
    ensure!(
        rounds >= u64::from(loads),
        "the openers barely ran ({rounds} rounds for {loads} loads)"
    );
    loads_and_works("after the holder was unloaded")
}
