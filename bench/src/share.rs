// SPDX-License-Identifier: GPL-2.0

//! `pk-bench --share`: the guest side of `make profile`'s second run
//! (`qemu/profile.sh`, two vCPUs, the plugin `qemu/profile/pk-share.c`).
//!
//! Issue 13 wants no global lock and no globally written cache line on the
//! node's open, close, write and exec paths. Each section runs one
//! operation on two threads at once, pinned to vCPU 0 and vCPU 1, each on
//! its own target process; the plugin records which kernel cache lines
//! each vCPU writes in it, and the host (`qemu/profile/share.py`) lists
//! the lines both wrote, by writer function, for the node's paths and for
//! the kernel's own (pidfd_open, pidfd_send_signal, an exec without the
//! module) as anchors.
//!
//! Bracketing: the main thread starts the section (`count::mark_start`)
//! while both workers wait on a barrier, releases them together, waits for
//! both on a second barrier once they are done, and ends the section, so
//! that each worker's whole run lies inside it; the threads are joined
//! afterwards. Inside, the two workers run in lock-step: before each
//! iteration both wait for the other on a spinning barrier (user memory
//! only, no system call), so that a line both write in every operation
//! passes from one vCPU to the other at least once per iteration however
//! the host schedules the vCPUs, while memory that one CPU frees and the
//! other reuses passes rarely (the plugin counts these transfers).
//!
//! Output (`--results`): `SHARE <i> <iters per thread> <kind> <role>
//! <label>` per section, in the order the plugin numbers them (kind: open,
//! lookup, send or exec; role: node or anchor), then `KSYM <line>` for
//! `/proc/kallsyms` with the module loaded.

use super::*;
use crate::count::{mark_start, mark_stop};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Barrier;

/// A barrier of two threads that spins in user space.
struct Lockstep {
    arrived: AtomicUsize,
    round: AtomicUsize,
    abort: AtomicBool,
}

impl Lockstep {
    /// False once the other thread gave up.
    fn wait(&self) -> bool {
        let round = self.round.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) == 1 {
            self.arrived.store(0, Ordering::Relaxed);
            self.round.fetch_add(1, Ordering::Release);
            return true;
        }
        while self.round.load(Ordering::Acquire) == round {
            if self.abort.load(Ordering::Relaxed) {
                return false;
            }
            std::hint::spin_loop();
        }
        true
    }
}

/// Iterations per thread of an open + close or a send.
const ITERS: usize = 1000;
/// Of a fork + exec + wait.
const EXEC_ITERS: usize = 40;

struct Sections {
    lines: Vec<String>,
}

impl Sections {
    /// Runs `op(t, iters)` on threads 0 and 1 (thread t on CPU t) between
    /// the markers, after one warm-up call on each.
    fn run(&mut self, kind: &str, role: &str, label: &str, iters: usize, op: ThreadOp) -> Res<()> {
        let (ready, go, done) = (Barrier::new(3), Barrier::new(3), Barrier::new(3));
        let step = Lockstep {
            arrived: AtomicUsize::new(0),
            round: AtomicUsize::new(0),
            abort: AtomicBool::new(false),
        };
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|t| {
                    let (ready, go, done, step) = (&ready, &go, &done, &step);
                    s.spawn(move || {
                        let warm = pin_to_cpu(t).and_then(|()| op(t, 1));
                        ready.wait();
                        go.wait();
                        let mut r = warm;
                        for _ in 0..iters {
                            if r.is_err() || !step.wait() {
                                break;
                            }
                            r = op(t, 1);
                        }
                        if r.is_err() {
                            step.abort.store(true, Ordering::Relaxed);
                        }
                        done.wait();
                        r
                    })
                })
                .collect();
            ready.wait();
            // Deferred work of what came before (RCU callbacks, softirqs)
            // runs outside the section.
            std::thread::sleep(Duration::from_millis(300));
            mark_start();
            go.wait();
            done.wait();
            mark_stop();
            let mut r = Ok(());
            for h in hs {
                let x = h
                    .join()
                    .unwrap_or_else(|_| Err("share thread panicked".into()));
                r = r.and(x);
            }
            r
        })?;
        let i = self.lines.len();
        self.lines
            .push(format!("SHARE {i} {iters} {kind} {role} {label}"));
        eprintln!("pk-bench --share: {label}");
        Ok(())
    }
}

/// `n` × `pidfd_send_signal(fd, 0)`.
fn pidfd_probes(fd: RawFd, n: usize) -> Res<()> {
    for _ in 0..n {
        check(sys_pidfd_send(fd, 0), "pidfd_send_signal(0)")?;
    }
    Ok(())
}

/// `n` × (fork a child that waits on a pipe; open a handle on it, a kill
/// handle or a pidfd; let it exec /bin/true; reap it; close the handle).
fn exec_with_handle(args: &ExecArgs, node: bool, n: usize) -> Res<()> {
    for _ in 0..n {
        let mut child = ExecChild::fork(args, None)?;
        let fd = if node {
            open_raw(&kill_path(child.pid), libc::O_WRONLY)
        } else {
            sys_pidfd_open(child.pid)
        };
        let opened = if fd < 0 {
            os_err("exec: opening a handle on the child")
        } else {
            Ok(())
        };
        let waited = child.go_wait();
        if fd >= 0 {
            close(fd);
        }
        opened?;
        waited?;
    }
    Ok(())
}

/// The sections, then kallsyms; needs two CPUs.
pub(crate) fn run(results: Option<&str>) -> Res<()> {
    // SAFETY: plain call.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if cpus < 2 {
        return Err(format!("needs 2 CPUs, has {cpus} (PROCKILL_SMP=2)"));
    }
    raise_nofile()?;
    if module_loaded() {
        rmmod()?;
    }
    let mut s = Sections { lines: Vec::new() };
    let targets = [spawn_sleeper()?, spawn_sleeper()?];
    let guard = Sleepers(targets.to_vec());
    let true_bin = ExecArgs::new(TRUE_BIN);
    let tb = &true_bin;
    let exec = |node: bool| move |_t: usize, n: usize| exec_with_handle(tb, node, n);
    let (exec_pidfd, exec_node) = (exec(false), exec(true));

    s.run(
        "exec",
        "anchor",
        "fork + exec /bin/true + wait, a pidfd on the child [not loaded]",
        EXEC_ITERS,
        &exec_pidfd,
    )?;
    insmod("")?;
    set_revoke_policy("exec")?;
    s.run(
        "exec",
        "node",
        "fork + exec /bin/true + wait, a pidfd on the child [loaded, revoke=exec]",
        EXEC_ITERS,
        &exec_pidfd,
    )?;
    s.run(
        "exec",
        "node",
        "fork + exec /bin/true + wait, a kill handle on the child, revoked by the exec",
        EXEC_ITERS,
        &exec_node,
    )?;
    let mut sleepers = Vec::new();
    for _ in 0..SLEEPERS {
        sleepers.push(spawn_sleeper()?);
    }
    let sleepers_guard = Sleepers(sleepers.clone());
    let mut holder = Holder::spawn(&sleepers, 0)?;
    holder.hold(1000)?;
    s.run(
        "exec",
        "node",
        "fork + exec /bin/true + wait, a pidfd on the child, 1000 kill handles on 100 other processes [revoke=exec]",
        EXEC_ITERS,
        &exec_pidfd,
    )?;
    drop(holder);
    drop(sleepers_guard);
    set_revoke_policy("setid")?;

    let kpaths = targets.map(kill_path);
    let spaths = targets.map(|p| cstr(&format!("/proc/{p}/status")));
    let open_node = |t: usize, n: usize| open_closes(&kpaths[t], libc::O_WRONLY, n, "open node");
    let open_status =
        |t: usize, n: usize| open_closes(&spaths[t], libc::O_RDONLY, n, "open status");
    let open_pidfd = |t: usize, n: usize| pidfd_open_closes(targets[t], n);
    s.run(
        "open",
        "node",
        "open(/proc/<pid>/kill, O_WRONLY) + close",
        ITERS,
        &open_node,
    )?;
    // A node's first open on a process looks its name up and makes its
    // dentry; with cache=N every open does. Given at load, cache=N keeps
    // the module's per-CPU count live (written later, it is the first step
    // of an unload and ends it): the module is loaded again for this row.
    rmmod()?;
    insmod("cache=N")?;
    s.run(
        "lookup",
        "node",
        "open(/proc/<pid>/kill, O_WRONLY) + close, looked up each time (cache=N, as the first open on a process)",
        ITERS,
        &open_node,
    )?;
    rmmod()?;
    insmod("")?;
    let mpaths = targets.map(|p| cstr(&format!("/proc/{p}/{MISS_NAME}")));
    let lookup_miss = |t: usize, n: usize| {
        for _ in 0..n {
            // SAFETY: valid C string and buffer.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            if unsafe { libc::stat(mpaths[t].as_ptr(), &mut st) } == 0 || errno() != libc::ENOENT {
                return Err("stat of a missing /proc/<pid> entry: not ENOENT".into());
            }
        }
        Ok(())
    };
    s.run(
        "lookup",
        "anchor",
        "stat /proc/<pid>/kilo (ENOENT: procfs' own lookup each time)",
        ITERS,
        &lookup_miss,
    )?;
    // procfs building an inode of its own each time, as the node's lookup
    // does: an fd's entry under /proc/<tid>/fd, looked up once the fd is
    // closed (ENOENT, which drops the stale entry) and again once it is back
    // (a new dentry and inode: proc_fd_instantiate(), proc_pid_make_inode()).
    let fd_inode = |t: usize, n: usize| {
        let fdn = 900 + t as i32;
        // SAFETY: gettid(2).
        let tid = unsafe { libc::syscall(libc::SYS_gettid) };
        let path = cstr(&format!("/proc/{tid}/fd/{fdn}"));
        let null = open_raw(&cstr("/dev/null"), libc::O_RDONLY);
        if null < 0 {
            return os_err("open /dev/null");
        }
        // SAFETY: a plain struct for lstat(2) to fill.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        for _ in 0..n {
            // SAFETY: closing our own fd number (not open the first time).
            unsafe { libc::close(fdn) };
            // SAFETY: valid C string and buffer.
            if unsafe { libc::lstat(path.as_ptr(), &mut st) } == 0 || errno() != libc::ENOENT {
                return Err("lstat of a closed fd's /proc entry: not ENOENT".into());
            }
            // SAFETY: dup2(2) of our own fd.
            if unsafe { libc::dup2(null, fdn) } != fdn {
                return os_err("dup2");
            }
            // SAFETY: valid C string and buffer.
            if unsafe { libc::lstat(path.as_ptr(), &mut st) } != 0 {
                return os_err("lstat of an fd's /proc entry");
            }
        }
        close(fdn);
        close(null);
        Ok(())
    };
    s.run(
        "lookup",
        "anchor",
        "procfs builds an inode: lstat /proc/<tid>/fd/N, N closed then reopened",
        ITERS,
        &fd_inode,
    )?;
    s.run("open", "anchor", "pidfd_open + close", ITERS, &open_pidfd)?;
    s.run(
        "open",
        "anchor",
        "open(/proc/<pid>/status) + close",
        ITERS,
        &open_status,
    )?;

    let mut nodes = [-1; 2];
    let mut pidfds = [-1; 2];
    for t in 0..2 {
        nodes[t] = open_raw(&kpaths[t], libc::O_WRONLY);
        pidfds[t] = sys_pidfd_open(targets[t]);
        if nodes[t] < 0 || pidfds[t] < 0 {
            return os_err("share: opening the handles");
        }
    }
    let write_node = |t: usize, n: usize| writes(nodes[t], b"0", n, "write 0 to the node");
    let ioctl_node = |t: usize, n: usize| ioc_send_n(nodes[t], 0, n);
    let send_pidfd = |t: usize, n: usize| pidfd_probes(pidfds[t], n);
    s.run(
        "send",
        "node",
        "write(2) of \"0\" to /proc/<pid>/kill",
        ITERS,
        &write_node,
    )?;
    s.run(
        "send",
        "node",
        "ioctl(PROCKILL_IOC_SEND), signal 0",
        ITERS,
        &ioctl_node,
    )?;
    s.run(
        "send",
        "anchor",
        "pidfd_send_signal(pidfd, 0)",
        ITERS,
        &send_pidfd,
    )?;
    for fd in nodes.into_iter().chain(pidfds) {
        close(fd);
    }

    let ksyms =
        std::fs::read_to_string("/proc/kallsyms").map_err(|e| format!("/proc/kallsyms: {e}"))?;
    drop(guard);
    rmmod()?;

    write_sections(&s.lines, &ksyms, results)
}
