// SPDX-License-Identifier: GPL-2.0

//! Soundness: what an unprivileged user can do to the module must never
//! crash the kernel, and one user cannot make another's execs expensive.
//!
//! The race engine (`make fuzz`, `pk-fuzz`) explores interleavings at
//! random; the tests here replay the ones found by hand, each shown to fail
//! (a kernel splat, which fails the run) on the code before its fix.

use super::pk::{self, node, tnode};
use crate::harness::{Test, TestResult};
use crate::util::{self, errno_name, Outcome};
use crate::{ensure, ensure_eq};
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const TESTS: &[Test] = &[
    Test::new("soundness/open-exit-race", open_exit_race).timeout_secs(120),
    Test::new("soundness/foreign-limit", foreign_limit).timeout_secs(120),
    Test::new("soundness/thread-address-reuse", thread_address_reuse).timeout_secs(180),
    Test::new("soundness/send-value-input", send_value_input),
    Test::new("soundness/readdir-blocked-unload", readdir_blocked_unload).timeout_secs(120),
    Test::new(
        "soundness/thread-handles-pin-no-task",
        thread_handles_pin_no_task,
    )
    .timeout_secs(120),
    Test::new("soundness/exec-wakeups", exec_wakeups).timeout_secs(300),
    Test::new("soundness/handle-limit", handle_limit).timeout_secs(180),
    Test::new("soundness/pidns-writer", pidns_writer).timeout_secs(60),
    Test::new("soundness/ftrace-off", ftrace_off).timeout_secs(60),
    Test::new("soundness/bind-mount-refused", bind_mount_refused).timeout_secs(60),
];

/// Root cannot switch the exec hook off under the module: writing 0 to the
/// sysctl `kernel.ftrace_enabled` fails while it is loaded (`EBUSY`: its
/// ftrace ops are permanent, as livepatch's are; 7.3 refuses the sysctl
/// altogether, `EOPNOTSUPP`), and an exec still revokes. Until 7.3 the
/// sysctl took every ftrace call site out: the nodes stayed (cached
/// dentries), no exec revoked a handle any more, and thread handles lost
/// the hook their soundness rests on. Fails on the code before, on Debian's
/// 7.2 kernel (the write succeeds; the test then turns ftrace back on).
fn ftrace_off() -> TestResult {
    const SYSCTL: &str = "/proc/sys/kernel/ftrace_enabled";
    let _m = pk::load("revoke=exec")?;
    if let Ok(n) = util::write_once(SYSCTL, b"0") {
        let _ = util::write_once(SYSCTL, b"1");
        return Err(format!(
            "{SYSCTL}: writing 0 succeeded ({n} bytes) with the module loaded"
        ));
    }
    let e = pk::Execer::spawn(30000)?;
    let k = pk::open_s(&node(e.pid()), libc::O_RDWR)?;
    e.exec_now()?;
    ensure_eq!(pk::write_fd(k.as_raw_fd(), b"USR1"), Err(libc::EIO));
    e.still_alive_after(100)?;
    Ok(())
}

/// A process accepts at most 16384 handles in all (`MAX_HANDLES`). An exec
/// walks its process's handles with its registry bucket's spinlock held,
/// which the opens, closes and execs of other processes of the bucket wait
/// for; only foreign handles were limited, so any user who may signal a
/// process (its own, a set-uid program it started) could make that walk as
/// long as its memory allowed. Root opens handles on its own process up to
/// the cap: the next open is `EMFILE`, a close makes room, and another
/// process is not limited by them. Fails on the code before the cap (the
/// 16385th open succeeds).
fn handle_limit() -> TestResult {
    const LIMIT: usize = 16384;
    let _m = pk::load("")?;
    let t = pk::Target::spawn(None)?;
    set_nofile((LIMIT + 256) as libc::rlim_t)?;
    let path = node(t.pid());
    let mut fds = Vec::with_capacity(LIMIT);
    for i in 0..LIMIT {
        let flags = if i % 2 == 0 {
            libc::O_RDONLY
        } else {
            libc::O_WRONLY
        };
        fds.push(pk::open(&path, flags).map_err(|e| format!("open {i}: {}", errno_name(e)))?);
    }
    for flags in [libc::O_RDONLY, libc::O_WRONLY] {
        let r = pk::open(&path, flags).map(drop);
        ensure!(
            r == Err(libc::EMFILE),
            "open {LIMIT} (flags {flags}): {:?}, want EMFILE",
            r.map_err(errno_name)
        );
    }
    fds.pop();
    fds.push(
        pk::open(&path, libc::O_WRONLY)
            .map_err(|e| format!("open after a close: {}", errno_name(e)))?,
    );
    let other = pk::Target::spawn(None)?;
    let w = pk::open(&node(other.pid()), libc::O_WRONLY).map_err(errno_name)?;
    ensure_eq!(pk::write_fd(w.as_raw_fd(), b"0"), Ok(1));
    // The handles at the cap still work.
    let last = fds.last().map(|f| f.as_raw_fd()).unwrap_or(-1);
    ensure_eq!(pk::write_fd(last, b"USR1"), Ok(4));
    ensure_eq!(t.drain_sigs()?, vec![libc::SIGUSR1]);
    Ok(())
}

/// A node passed into a child pid namespace cannot signal out of it:
/// `EINVAL` (write and ioctl), as `pidfd_send_signal()` answers for a pidfd
/// there, and nothing arrives. The writer is pid 1 of its namespace; the
/// module used to send, and the receiver saw `si_pid` 1 (a number of the
/// writer's namespace, naming init in its own). In the same namespace the
/// node works and `si_pid` is the writer.
fn pidns_writer() -> TestResult {
    let _m = pk::load("")?;
    let t = pk::Target::spawn(None)?;
    let w = pk::open(&node(t.pid()), libc::O_WRONLY).map_err(errno_name)?;
    let pidfd = pk::pidfd_open(t.pid()).map_err(errno_name)?;
    let (raw, praw) = (w.as_raw_fd(), pidfd.as_raw_fd());
    util::fork_fn(move || {
        // SAFETY: unshare(2).
        if unsafe { libc::unshare(libc::CLONE_NEWPID) } < 0 {
            return util::os_err("unshare(CLONE_NEWPID)");
        }
        util::fork_fn(move || {
            // SAFETY: getpid(2).
            ensure_eq!(unsafe { libc::getpid() }, 1);
            ensure_eq!(pk::write_fd(raw, b"USR1"), Err(libc::EINVAL));
            ensure_eq!(pk::write_fd(raw, b"0"), Err(libc::EINVAL));
            ensure_eq!(
                pk::ioc_send(raw, libc::SIGUSR2 as u32, 0),
                Err(libc::EINVAL)
            );
            ensure_eq!(
                pk::pidfd_send_signal(praw, libc::SIGUSR1),
                Err(libc::EINVAL)
            );
            Ok(())
        })?
        .join(Duration::from_secs(20))
    })?
    .join(Duration::from_secs(30))?;
    let got = t.drain()?;
    ensure!(
        got.is_empty(),
        "signals arrived from a child namespace: {got:?}"
    );
    ensure_eq!(pk::write_fd(raw, b"USR1"), Ok(4));
    let got = t.drain()?;
    ensure_eq!(
        got.iter().map(|g| (g.signo, g.pid)).collect::<Vec<_>>(),
        vec![(libc::SIGUSR1, std::process::id() as i32)]
    );
    Ok(())
}

/// Issue 15's oops: as uid 1000, with SIGCHLD ignored (children are reaped
/// as they exit), children are started that exit at once, while three
/// threads loop `openat(dirfd, "kill", O_RDONLY)` + read + close through a
/// `/proc/<pid>` directory fd of the newest child. Open used to read
/// `signal->pids[PIDTYPE_TGID]->ino` after checking that the child had not
/// exited; the child's release sets that pointer to NULL, and the kernel
/// oopsed (NULL dereference in `pk_open`). The test fails if the kernel
/// splats (the runner checks the console), if a test process dies, or if
/// the openers never reached a live child.
///
/// The children are `clone(CLONE_VM | CLONE_FILES | CLONE_VFORK)`: no
/// address space to copy, so they come fast even on the debug kernel, and
/// each opens its own `/proc/self` into the shared fd table, so the openers
/// have its directory before it dies.
fn open_exit_race() -> TestResult {
    let _m = pk::load("")?;
    util::as_user(|| {
        pk::ignore(libc::SIGCHLD);
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            dirfd: AtomicI32::new(-1),
            spin: AtomicU64::new(0),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (opened, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let openers: Vec<_> = (0..3)
            .map(|_| {
                let stop = stop.clone();
                let (opened, refused) = (opened.clone(), refused.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let d = shared.dirfd.load(Ordering::Acquire);
                        if d < 0 {
                            std::thread::yield_now();
                            continue;
                        }
                        match pk::openat(d, "kill", libc::O_RDONLY) {
                            Ok(fd) => {
                                let _ = pk::read_text(fd.as_raw_fd());
                                opened.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(_) => {
                                refused.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                })
            })
            .collect();
        let mut stack = vec![0u8; 64 * 1024];
        // The stack grows down: start at its (16-byte aligned) top.
        let top = (stack.as_mut_ptr() as usize + stack.len()) & !15;
        // Directory fds the children opened, closed once well behind the
        // newest (an opener may still use a recent one).
        let mut dirs = std::collections::VecDeque::new();
        let t0 = Instant::now();
        let mut children = 0u64;
        while t0.elapsed() < Duration::from_secs(8) {
            shared.spin.store(children % 97, Ordering::Relaxed);
            // SAFETY: `race_child` runs on its own stack, shares our memory
            // and fd table, and only makes system calls; CLONE_VFORK keeps
            // this thread (whose TLS the child borrows) stopped until the
            // child exits. SIGCHLD is ignored: the child is reaped at exit.
            let pid = unsafe {
                libc::clone(
                    race_child,
                    top as *mut libc::c_void,
                    libc::CLONE_VM | libc::CLONE_FILES | libc::CLONE_VFORK | libc::SIGCHLD,
                    std::ptr::from_ref(shared).cast_mut().cast(),
                )
            };
            if pid < 0 {
                return util::os_err("clone");
            }
            children += 1;
            dirs.push_back(shared.dirfd.load(Ordering::Acquire));
            if dirs.len() > 64 {
                if let Some(old) = dirs.pop_front() {
                    // SAFETY: an fd a child opened in our table.
                    unsafe { libc::close(old) };
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        for o in openers {
            o.join().map_err(|_| "opener panicked")?;
        }
        let (o, r) = (
            opened.load(Ordering::Relaxed),
            refused.load(Ordering::Relaxed),
        );
        println!("open-exit-race: {children} children, {o} opens, {r} refused");
        ensure!(
            children > 200 && o > 50,
            "too little happened: {children} children, {o} opens"
        );
        Ok(())
    })
}

/// What `open_exit_race` shares with its children.
struct Shared {
    /// The newest child's `/proc/self` directory fd.
    dirfd: AtomicI32,
    /// How long the next child lives, in `getppid()` calls.
    spin: AtomicU64,
}

/// A child of `open_exit_race`: publishes its `/proc/<pid>` directory,
/// lives a little, and exits (this task only).
extern "C" fn race_child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the leaked, never freed `Shared`.
    let shared = unsafe { &*arg.cast::<Shared>() };
    // SAFETY: plain system calls on a static C string.
    unsafe {
        let fd = libc::open(
            c"/proc/self".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        shared.dirfd.store(fd, Ordering::Release);
        for _ in 0..shared.spin.load(Ordering::Relaxed) {
            libc::getppid();
        }
        libc::syscall(libc::SYS_exit, 0);
    }
    0
}

/// A process accepts at most 1024 foreign handles (read-only, opened by
/// someone who may not signal it): the next one is `EMFILE`, and a closed
/// one frees its place. Handles of those who may signal it do not count
/// and are not limited.
fn foreign_limit() -> TestResult {
    const LIMIT: usize = 1024;
    let _m = pk::load("")?;
    let root_t = pk::Target::spawn(None)?;
    let rp = root_t.pid();
    // Inherited by the user child.
    set_nofile(4096)?;
    // Root may signal its process: more than the limit, none counted.
    let own: Vec<_> = (0..LIMIT + 8)
        .map(|_| pk::open(&node(rp), libc::O_RDONLY))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("root's own opens: {}", errno_name(e)))?;
    util::as_user(move || {
        let mut fds = Vec::new();
        for i in 0..LIMIT {
            fds.push(
                pk::open(&node(rp), libc::O_RDONLY)
                    .map_err(|e| format!("foreign open {i}: {}", errno_name(e)))?,
            );
        }
        let r = pk::open(&node(rp), libc::O_RDONLY).map(drop);
        ensure!(
            r == Err(libc::EMFILE),
            "foreign open {LIMIT}: {:?}, want EMFILE",
            r.map_err(errno_name)
        );
        fds.pop();
        let r = pk::open(&node(rp), libc::O_RDONLY).map(drop);
        ensure!(
            r.is_ok(),
            "foreign open after a close: {:?}",
            r.map_err(errno_name)
        );
        // Its own processes are not limited by anyone's foreign handles.
        let mine = pk::Target::spawn(None)?;
        let w = pk::open(&node(mine.pid()), libc::O_WRONLY).map_err(errno_name)?;
        ensure_eq!(pk::write_fd(w.as_raw_fd(), b"0"), Ok(1));
        Ok(())
    })?;
    // Root still opens, and the user's handles are gone with its process.
    ensure!(pk::open(&node(rp), libc::O_WRONLY).is_ok());
    drop(own);
    Ok(())
}

/// Sets this process's `RLIMIT_NOFILE`, soft and hard, to `n`.
fn set_nofile(n: libc::rlim_t) -> TestResult {
    let lim = libc::rlimit {
        rlim_cur: n,
        rlim_max: n,
    };
    // SAFETY: setrlimit(2) with a valid struct.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } < 0 {
        return util::os_err("setrlimit");
    }
    Ok(())
}

/// Issue 15's thread-address reuse: a handle on the leader's thread node
/// (`/proc/P/task/P/kill`) of a process whose non-leader thread T1 execs
/// (T1 takes the leader's `struct pid`; the old leader L is released), and
/// whose new image starts a thread T2 that execs again (T2 takes the pid in
/// turn). The handle used to remember L by address only; T2's
/// `task_struct` can land in L's freed slot, and a write then reached the
/// new program (65 rounds out of 100 on the release kernel, one CPU). The
/// handle must say `ESRCH`, every round. Everything runs on CPU 0, where
/// the slab hands a freed object out again first, and the new image waits
/// 100 ms before it starts T2, so that L's `task_struct` (freed an RCU
/// grace period after its release) is free by then. With that wait, a
/// module whose exec hook does not forget the replaced thread
/// (`handle::ThreadId::on_exec`) failed 30 rounds of 30 on one CPU and on
/// two; without it, 2 of 30 on one CPU and none on two.
fn thread_address_reuse() -> TestResult {
    const ROUNDS: u32 = 30;
    let _m = pk::load("")?;
    // SAFETY: a zeroed cpu_set_t is empty; CPU_SET and sched_setaffinity
    // take valid pointers. Children inherit the affinity.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) < 0 {
            return util::os_err("sched_setaffinity");
        }
    }
    let target = pk::ensure_exec_target()?;
    let mut hits = Vec::new();
    for round in 0..ROUNDS {
        let go = pk::Pipe::new(true)?;
        let ready = pk::Pipe::new(false)?;
        let args = pk::ExecArgs::new(
            target,
            &["pk-exec-target"],
            &[
                ("PK_EXEC_TARGET", "thread-exec".into()),
                ("PK_READY_FD", ready.wr.as_raw_fd().to_string()),
                ("PK_LIFE_MS", "10000".into()),
                ("PK_SPAWN_DELAY_MS", "100".into()),
            ],
        );
        let grd = go.rd.as_raw_fd();
        let c = util::fork_fn(move || {
            pk::die_with_parent();
            pk::ignore(libc::SIGUSR1);
            let h = std::thread::spawn(move || -> String {
                if let Err(e) = pk::get(grd, 1, Duration::from_secs(60)) {
                    return e;
                }
                format!("execve: {}", errno_name(args.exec()))
            });
            Err(h.join().unwrap_or_default())
        })?;
        drop(ready.wr);
        let pid = c.pid();
        let l = pk::open(&tnode(pid, pid), libc::O_RDWR).map_err(|e| {
            format!(
                "round {round}: open the leader's thread node: {}",
                errno_name(e)
            )
        })?;
        pk::put(go.wr.as_raw_fd(), b"g");
        let r = pk::get(ready.rd.as_raw_fd(), 1, Duration::from_secs(30))?;
        ensure_eq!(r, b"R");
        let w = pk::write_fd(l.as_raw_fd(), b"USR1");
        let state = pk::node_field(l.as_raw_fd(), "state")?;
        // The new program exits 42 on SIGUSR1; otherwise it lives on.
        pk::sleep_ms(100);
        c.kill(libc::SIGKILL)?;
        let out = c.wait_timeout(Duration::from_secs(20))?;
        if w != Err(libc::ESRCH)
            || state != "exited"
            || out == Outcome::Exited(pk::USR1_EXIT, String::new())
        {
            hits.push(format!(
                "round {round}: write {}, state {state}, {out:?}",
                pk::res(w)
            ));
        }
    }
    ensure!(
        hits.is_empty(),
        "the old leader's thread handle reached another thread in {} of {ROUNDS} rounds: {}",
        hits.len(),
        hits.join("; ")
    );
    Ok(())
}

/// A thread handle pins what a pidfd pins, its `struct pid`, and not the
/// thread's `task_struct`. Handles used to hold a counted task, to tell
/// their thread from one that a non-leader exec puts on its pid (see
/// `soundness/thread-address-reuse`, which must still pass): so read-only
/// handles on the threads of a process, which anyone may open (up to
/// `MAX_FOREIGN` per target), kept every exited thread's `task_struct`
/// (about 10 KB) allocated for as long as they were open.
///
/// The test opens a handle on each of `N` threads of its own, lets the
/// threads exit, and counts `task_struct` objects (`/proc/slabinfo`, after
/// `/sys/kernel/slab/task_struct/shrink`, which also empties KASAN's
/// quarantine): with the handles open, the count must come back down to
/// within `N / 4` of where it was before the threads started. It first
/// checks that the count did go up by `N` while they ran, so that a count
/// that cannot see them cannot pass. The handles must then say `exited`.
fn thread_handles_pin_no_task() -> TestResult {
    const N: u64 = 256;
    let _m = pk::load("")?;
    let before = task_structs()?;
    let pid = std::process::id() as i32;
    let go = Arc::new(std::sync::Barrier::new(N as usize + 1));
    let (tx, rx) = std::sync::mpsc::channel();
    let threads: Vec<_> = (0..N)
        .map(|_| {
            let (go, tx) = (go.clone(), tx.clone());
            std::thread::spawn(move || {
                // SAFETY: gettid has no preconditions.
                let _ = tx.send(unsafe { libc::gettid() });
                go.wait();
            })
        })
        .collect();
    drop(tx);
    let tids: Vec<i32> = rx.iter().take(N as usize).collect();
    let handles = tids
        .iter()
        .map(|&t| pk::open(&tnode(pid, t), libc::O_RDONLY))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("open a thread node: {}", errno_name(e)))?;
    let running = task_structs()?;
    go.wait();
    for t in threads {
        t.join().map_err(|_| "a thread panicked".to_string())?;
    }
    ensure!(
        running >= before + N * 3 / 4,
        "task_struct count {before} before, {running} with {N} threads running: the count does not see them"
    );
    let mut after = running;
    let freed = util::wait_until(
        Duration::from_secs(15),
        "exited threads' task_structs to be freed",
        || {
            after = task_structs().unwrap_or(u64::MAX);
            after < before + N / 4
        },
    );
    ensure!(
        freed.is_ok(),
        "task_struct count {before} before, {running} with {N} threads running, still {after} after they exited \
         with a handle open on each: the handles pin their threads"
    );
    for h in &handles {
        ensure_eq!(pk::node_field(h.as_raw_fd(), "state")?, "exited");
    }
    Ok(())
}

/// Live `task_struct` objects: `/proc/slabinfo`'s active count, after a
/// shrink of the cache that flushes per-CPU caches and KASAN's quarantine,
/// where freed objects would still count as active.
fn task_structs() -> Result<u64, String> {
    util::write_once("/sys/kernel/slab/task_struct/shrink", b"1")
        .map_err(|e| format!("shrink task_struct: {}", errno_name(e)))?;
    let info = util::read_file("/proc/slabinfo")?;
    info.lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            (f.next() == Some("task_struct")).then(|| f.next()?.parse().ok())?
        })
        .ok_or_else(|| "no task_struct line in /proc/slabinfo".to_string())
}

/// An exec must not cost handles × pollers. Node pollers wait on the
/// target's `struct pid` queue (`wait_pidfd`), which pidfd pollers share,
/// and anyone may add waiters to any process's queue (`pidfd_open()` needs
/// no permission; each epoll registration of a pidfd is one waiter). The
/// exec hook used to wake that queue once per handle, under the bucket lock
/// with preemption disabled: 1024 read-only handles (anyone may open them)
/// and half a million epoll'd pidfds made every exec of the victim run
/// 5×10⁸ wake-up callbacks, a soft lockup. It now wakes the process's queue
/// once per exec, after the lock, and only if a handle changed state.
///
/// The test times a process's exec (fork, exec `/bin/true`, reap) with
/// `WAITERS` epoll'd pidfds on it, first with no handle, then with
/// `HANDLES` read-only handles on it, under `revoke=exec` (each handle is
/// revoked, the old code's wake-up per handle) and under `revoke=setid`
/// (nothing is revoked; the old code woke once per handle anyway). The
/// exec with handles must cost less than three times the exec without
/// plus 300 ms: the old code took seconds more.
fn exec_wakeups() -> TestResult {
    const HANDLES: usize = 1000;
    const WAITERS: usize = 8000;
    set_nofile(16384)?;
    let mut report = Vec::new();
    for policy in ["exec", "setid"] {
        let m = pk::load(&format!("revoke={policy}"))?;
        let base = timed_exec(0, WAITERS)?;
        let with = timed_exec(HANDLES, WAITERS)?;
        report.push(format!(
            "revoke={policy}: {:?} without handles, {:?} with {HANDLES}",
            base, with
        ));
        ensure!(
            with < base * 3 + Duration::from_millis(300),
            "an exec with {WAITERS} pidfd pollers took {with:?} with {HANDLES} handles on the process and {base:?} without (revoke={policy}): the exec hook's wake-ups grow with handles x pollers"
        );
        drop(m);
    }
    eprintln!("exec-wakeups: {}", report.join("; "));
    Ok(())
}

/// Forks a child that waits for a byte, then execs `/bin/true`; opens
/// `handles` read-only kill handles and `waiters` epoll registrations of
/// pidfds on it; and returns how long the child took from the byte to its
/// reaping.
fn timed_exec(handles: usize, waiters: usize) -> Result<Duration, String> {
    let go = pk::Pipe::new(true)?;
    let grd = go.rd.as_raw_fd();
    let args = pk::ExecArgs::new("/bin/true", &["true"], &[]);
    let c = util::fork_fn(move || {
        pk::get(grd, 1, Duration::from_secs(60))?;
        Err(format!("execve: {}", errno_name(args.exec())))
    })?;
    let pid = c.pid();
    let nodes = (0..handles)
        .map(|_| pk::open(&node(pid), libc::O_RDONLY))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("open a handle: {}", errno_name(e)))?;
    let pidfd = pk::pidfd_open(pid).map_err(|e| format!("pidfd_open: {}", errno_name(e)))?;
    // SAFETY: epoll_create1 has no preconditions.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if ep < 0 {
        return util::os_err("epoll_create1");
    }
    // SAFETY: a new fd we own.
    let ep = unsafe { std::os::fd::OwnedFd::from_raw_fd(ep) };
    let mut dups = Vec::with_capacity(waiters);
    for _ in 0..waiters {
        // SAFETY: dup of an fd we own; each copy is its own epoll item,
        // so its own waiter on the pid's queue.
        let d = unsafe { libc::fcntl(pidfd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if d < 0 {
            return util::os_err("dup pidfd");
        }
        // SAFETY: a new fd we own.
        let d = unsafe { std::os::fd::OwnedFd::from_raw_fd(d) };
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 0,
        };
        // SAFETY: valid fds and event.
        if unsafe { libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_ADD, d.as_raw_fd(), &mut ev) }
            < 0
        {
            return util::os_err("epoll_ctl");
        }
        dups.push(d);
    }
    let t0 = Instant::now();
    pk::put(go.wr.as_raw_fd(), b"g");
    let out = c.wait_timeout(Duration::from_secs(120))?;
    let took = t0.elapsed();
    ensure_eq!(out, Outcome::Exited(0, String::new()));
    drop((nodes, dups, ep, pidfd));
    Ok(took)
}

/// `PROCKILL_IOC_SEND_VALUE` refuses every field it does not understand
/// (`EINVAL`) and sends nothing then; a read-only handle is `EBADF`; a
/// queued value arrives with `SI_QUEUE`, an unqueued one with `SI_USER`
/// (the crate's `crate/queued-through-node` checks the value itself).
fn send_value_input() -> TestResult {
    let _m = pk::load("")?;
    let t = pk::Target::spawn(None)?;
    let w = pk::open(&node(t.pid()), libc::O_RDWR).map_err(errno_name)?;
    let fd = w.as_raw_fd();
    let q = |sig, flags, pad, ptr| pk::SendValueReq {
        sig,
        flags,
        value: 7,
        pad,
        ptr,
    };
    for (what, req) in [
        ("unknown flag", q(10, 2, 0, 0)),
        ("pad", q(10, pk::SEND_QUEUE, 1, 0)),
        ("ptr", q(10, pk::SEND_QUEUE, 0, 1)),
        ("signal 65", q(65, pk::SEND_QUEUE, 0, 0)),
    ] {
        let r = pk::ioc_send_value(fd, req);
        ensure!(
            r == Err(libc::EINVAL),
            "{what}: {:?}",
            r.map_err(errno_name)
        );
    }
    ensure_eq!(t.drain_sigs()?, Vec::<i32>::new());
    ensure_eq!(pk::ioc_send_value(fd, q(10, pk::SEND_QUEUE, 0, 0)), Ok(()));
    ensure_eq!(pk::ioc_send_value(fd, q(12, 0, 0, 0)), Ok(()));
    let got = t.drain()?;
    let codes: Vec<(i32, i32)> = got.iter().map(|g| (g.signo, g.code)).collect();
    ensure_eq!(
        codes,
        vec![
            (libc::SIGUSR1, libc::SI_QUEUE),
            (libc::SIGUSR2, libc::SI_USER)
        ]
    );
    let ro = pk::open(&node(t.pid()), libc::O_RDONLY).map_err(errno_name)?;
    ensure_eq!(
        pk::ioc_send_value(ro.as_raw_fd(), q(10, pk::SEND_QUEUE, 0, 0)),
        Err(libc::EBADF)
    );
    Ok(())
}

/// A listing of `/proc/<pid>` whose copy to the caller's buffer waits on a
/// page fault must not make `rmmod` wait for it. Any user can make that
/// copy wait as long as they like (a FUSE mapping whose server never
/// answers; here, as root, a userfaultfd range the test resolves late).
/// The replacement readdir used to be only an SRCU reader, and unload's
/// `synchronize_srcu()` then waited for the fault: `rmmod` hung in D state
/// (a hung-task report after 120 s, a panic with `hung_task_panic=1`). Now
/// a listing holds the module (its per-CPU count, begun before the unload's
/// `cache=N`), as an open node does: `cache=N` and then `rmmod` fail with
/// EAGAIN while it waits, the listing completes with "kill" in it once the
/// fault is resolved, and `rmmod` succeeds after. Shown to fail on the
/// module before the fix: `rmmod` had not returned after 5 s. SKIP on a
/// kernel without userfaultfd (the debug and Debian kernels have it).
fn readdir_blocked_unload() -> TestResult {
    let m = pk::load("cache=N")?;
    let uffd = match Uffd::new() {
        Err(libc::ENOSYS) => {
            m.unload()?;
            return Err(crate::harness::skip(
                "no userfaultfd in this kernel (CONFIG_USERFAULTFD): the debug and Debian kernels have it",
            ));
        }
        r => r.map_err(|e| format!("userfaultfd: {}", errno_name(e)))?,
    };
    const LEN: usize = 4096;
    // SAFETY: a fresh private anonymous mapping; unmapped below.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            LEN,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    ensure!(
        page != libc::MAP_FAILED,
        "mmap: {}",
        errno_name(util::errno())
    );
    let addr = page as u64;
    uffd.register(addr, LEN as u64)
        .map_err(|e| format!("UFFDIO_REGISTER: {}", errno_name(e)))?;
    let dir = pk::open_s(
        &format!("/proc/{}", std::process::id()),
        libc::O_RDONLY | libc::O_DIRECTORY,
    )?;
    let dfd = dir.as_raw_fd();
    let reader = std::thread::spawn(move || {
        // SAFETY: the mapping is LEN bytes and stays mapped until this
        // thread has been joined.
        let buf = unsafe { std::slice::from_raw_parts_mut(addr as *mut u8, LEN) };
        let r = util::getdents_raw(dfd, buf);
        (r, buf.to_vec())
    });
    // The fault message: the reader is inside the kernel's copy to `page`.
    let fault = uffd.wait_fault(Duration::from_secs(10));
    let (tx, rx) = std::sync::mpsc::channel();
    if fault.is_ok() {
        std::thread::spawn(move || {
            // The unload's first step: the listing, begun before it, holds
            // the module's per-CPU count, which no longer lets it go.
            let r = util::write_once(util::CACHE_PARAM, b"N")
                .map(drop)
                .and_then(|()| util::delete_module(util::MODULE_NAME));
            let _ = tx.send(r);
        });
    }
    let during = rx.recv_timeout(Duration::from_secs(5));
    // Resolve the fault whatever happened, so that the reader, and an
    // rmmod waiting for it, can finish.
    let zero = uffd.zeropage(addr, LEN as u64);
    let (listed, buf) = reader.join().map_err(|_| "the reader thread panicked")?;
    let late = match &during {
        Err(_) if fault.is_ok() => rx.recv_timeout(Duration::from_secs(60)).ok(),
        _ => None,
    };
    // SAFETY: unmapping our own mapping; the reader is done with it.
    unsafe { libc::munmap(page, LEN) };
    let at = fault.map_err(|e| format!("no page fault reported by the listing: {e}"))?;
    ensure!(
        (addr..addr + LEN as u64).contains(&at),
        "fault at {at:#x}, outside the buffer"
    );
    zero.map_err(|e| format!("UFFDIO_ZEROPAGE: {}", errno_name(e)))?;
    match during {
        Ok(r) => ensure!(
            r == Err(libc::EAGAIN),
            "rmmod during the blocked listing: {:?}, want EAGAIN (EWOULDBLOCK)",
            r.map_err(errno_name)
        ),
        Err(_) => {
            return Err(format!(
                "rmmod had not returned after 5 s: it waited for a listing blocked on a page fault \
                 (after the fault was resolved it returned {:?})",
                late.map(|r| r.map_err(errno_name))
            ))
        }
    }
    let n = listed.map_err(|e| format!("the blocked getdents64: {}", errno_name(e)))?;
    let names: Vec<String> = util::dirents(&buf[..n]).into_iter().map(|e| e.0).collect();
    ensure!(
        names.iter().any(|n| n == "kill"),
        "the listing that waited has no \"kill\": {names:?}"
    );
    drop(dir);
    m.unload()
}

/// A userfaultfd (`include/uapi/linux/userfaultfd.h`), for missing-page
/// faults of one range, kernel-mode faults included (root).
struct Uffd(std::os::fd::OwnedFd);

/// `_IOWR(0xAA, nr, size)`.
const fn uffdio(nr: u64, size: u64) -> u64 {
    (3 << 30) | (size << 16) | (0xAA << 8) | nr
}
const UFFD_API: u64 = 0xAA;
const UFFDIO_API: u64 = uffdio(0x3F, 24);
const UFFDIO_REGISTER: u64 = uffdio(0x00, 32);
const UFFDIO_ZEROPAGE: u64 = uffdio(0x04, 32);
const UFFDIO_REGISTER_MODE_MISSING: u64 = 1;
const UFFD_EVENT_PAGEFAULT: u8 = 0x12;

impl Uffd {
    fn new() -> Result<Self, i32> {
        // SAFETY: userfaultfd(2) with flags only.
        let fd = unsafe { libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(util::errno());
        }
        // SAFETY: a new fd we own.
        let u = Uffd(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) });
        let mut api = [UFFD_API, 0, 0];
        u.ioctl(UFFDIO_API, api.as_mut_ptr().cast())?;
        Ok(u)
    }

    fn ioctl(&self, req: u64, arg: *mut libc::c_void) -> Result<(), i32> {
        // SAFETY: `arg` points to the struct `req` names, of its size.
        if unsafe { libc::ioctl(self.0.as_raw_fd(), req as _, arg) } < 0 {
            Err(util::errno())
        } else {
            Ok(())
        }
    }

    fn register(&self, start: u64, len: u64) -> Result<(), i32> {
        let mut reg = [start, len, UFFDIO_REGISTER_MODE_MISSING, 0];
        self.ioctl(UFFDIO_REGISTER, reg.as_mut_ptr().cast())
    }

    fn zeropage(&self, start: u64, len: u64) -> Result<(), i32> {
        let mut z = [start, len, 0, 0];
        self.ioctl(UFFDIO_ZEROPAGE, z.as_mut_ptr().cast())
    }

    /// The address of the next page fault, waiting at most `timeout`.
    fn wait_fault(&self, timeout: Duration) -> Result<u64, String> {
        let mut pfd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as i32) };
        if r <= 0 {
            return Err(format!("none within {timeout:?}"));
        }
        let mut msg = [0u8; 32];
        // SAFETY: reading one struct uffd_msg (32 bytes) into msg.
        let n = unsafe { libc::read(self.0.as_raw_fd(), msg.as_mut_ptr().cast(), msg.len()) };
        if n != 32 || msg[0] != UFFD_EVENT_PAGEFAULT {
            return Err(format!(
                "unexpected message ({n} bytes, event {:#x})",
                msg[0]
            ));
        }
        Ok(u64::from_ne_bytes(msg[16..24].try_into().unwrap()))
    }
}

/// No bind mount can be made of a node, so none can pin its dentry, and
/// with it the module, beyond the reach of `cache=N`. `dont_mount()` marks
/// the node's dentries; a bind mount makes its source's dentry the root of
/// the new mount, which `attach_recursive_mnt()` registers as a mountpoint,
/// and `d_set_mounted()` refuses a `dont_mount()` dentry (ENOENT). Checked
/// as root and as uid 1000 in user and mount namespaces of its own, each
/// with procfs' own `status` of the same process as the control that does
/// mount; the module then unloads as usual.
fn bind_mount_refused() -> TestResult {
    let m = pk::load("")?;
    let t = pk::Target::spawn(None)?;
    let at = "/tmp/pk-bind-node";
    std::fs::write(at, b"").map_err(|e| format!("{at}: {e}"))?;
    std::os::unix::fs::chown(at, Some(util::USER_UID), Some(util::USER_GID))
        .map_err(|e| format!("chown {at}: {e}"))?;
    let (kill, status) = (node(t.pid()), format!("/proc/{}/status", t.pid()));
    let tries = move || -> TestResult {
        // SAFETY: unshare(2).
        if unsafe { libc::unshare(libc::CLONE_NEWNS) } < 0 {
            return util::os_err("unshare(CLONE_NEWNS)");
        }
        let (slash, flags) = (c"/".as_ptr(), libc::MS_REC | libc::MS_PRIVATE);
        let none = std::ptr::null();
        // SAFETY: mount(2) changing propagation only: nothing done here
        // reaches the test runner's namespace.
        if unsafe { libc::mount(none, slash, none, flags, none.cast()) } < 0 {
            return util::os_err("mount --make-rprivate /");
        }
        ensure_eq!(bind(&kill, at), Err(libc::ENOENT));
        ensure_eq!(bind(&status, at), Ok(()));
        Ok(())
    };
    let user = tries.clone();
    util::fork_fn(tries)?.join(Duration::from_secs(20))?;
    util::as_user(move || {
        super::node::enter_user_namespace(0)?;
        user()
    })?;
    let _ = std::fs::remove_file(at);
    drop(t);
    m.unload()
}

/// mount(2) of `source` on `target` with `MS_BIND`: `Err(errno)`.
fn bind(source: &str, target: &str) -> Result<(), i32> {
    let c = |p: &str| std::ffi::CString::new(p).map_err(|_| libc::EINVAL);
    let (s, t) = (c(source)?, c(target)?);
    // SAFETY: mount(2) with valid C strings and no data.
    let r = unsafe {
        libc::mount(
            s.as_ptr(),
            t.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        )
    };
    if r < 0 {
        Err(util::errno())
    } else {
        Ok(())
    }
}
