// SPDX-License-Identifier: GPL-2.0

//! `pk-bench --count`: the guest side of `make profile` (`qemu/profile.sh`).
//!
//! Each operation runs `COUNT_ITERS` times between two marker instructions
//! that the QEMU plugin `qemu/profile/pk-count.c` recognises; the plugin
//! writes out how often every translated block of guest code ran in between.
//! Unlike time under TCG, these counts do not depend on the host's load: the
//! same guest code gives the same numbers (up to interrupts and the timer).
//!
//! What the module costs others (lookups, listings, ps, fork + exec) is
//! measured in `ROUNDS` rounds, the module unloaded and then loaded in each,
//! so that a slow drift of the guest's state (the page allocator's per-CPU
//! lists, the slabs) does not fall on one side; the host takes each row's
//! median round (`qemu/profile/symbolize.py`).
//!
//! Output (`--results`): `SECTION <i> <iters> <label>` per section, in the
//! order the plugin numbers them (a label ending in ` #<round>` is one round
//! of a row); after each load of the module, `MODKSYM <line>` for the lines
//! of `/proc/kallsyms` that name module code (the module, its ftrace
//! trampolines: they move from load to load), which name the blocks of the
//! sections that follow; at the end `KSYM <line>` for the rest of
//! `/proc/kallsyms`.

use super::*;

/// Iterations of the cheap operations per section.
const ITERS: usize = 2000;
/// fork + exec + wait is ~1000x dearer.
const EXEC_ITERS: usize = 100;
/// Rounds of the rows that compare the module unloaded and loaded.
const ROUNDS: usize = 3;

/// Starts a counted section (`nopl 0x50b1a001(%rax)`).
#[inline(always)]
pub(crate) fn mark_start() {
    // SAFETY: a 7-byte NOP; it only has a meaning to the plugin.
    unsafe { core::arch::asm!(".byte 0x0f, 0x1f, 0x80, 0x01, 0xa0, 0xb1, 0x50") };
}

/// Ends a counted section (`nopl 0x50b1a002(%rax)`).
#[inline(always)]
pub(crate) fn mark_stop() {
    // SAFETY: as `mark_start`.
    unsafe { core::arch::asm!(".byte 0x0f, 0x1f, 0x80, 0x02, 0xa0, 0xb1, 0x50") };
}

struct Sections {
    lines: Vec<String>,
    /// Sections run so far: the plugin numbers them in order.
    count: usize,
}

impl Sections {
    /// Runs `op(iters)` between the markers (after one warm-up call).
    fn run(&mut self, label: &str, iters: usize, op: &mut dyn FnMut(usize) -> Res<()>) -> Res<()> {
        op(1)?;
        // Let the deferred work of what came before (RCU callbacks freeing
        // the last section's objects, softirqs) run outside the section.
        std::thread::sleep(Duration::from_millis(300));
        mark_start();
        let r = op(iters);
        mark_stop();
        r?;
        let i = self.count;
        self.count += 1;
        self.lines.push(format!("SECTION {i} {iters} {label}"));
        eprintln!("pk-bench --count: {label}");
        Ok(())
    }

    /// Loads the module and records where its code now is (`MODKSYM`).
    ///
    /// `/proc/kallsyms` is read a line at a time: read whole, it is several
    /// megabytes that the heap keeps once freed, and every later fork would
    /// copy their page tables (fork + exec got a third dearer).
    fn insmod(&mut self) -> Res<()> {
        use std::io::BufRead;
        insmod("")?;
        let f =
            std::fs::File::open("/proc/kallsyms").map_err(|e| format!("/proc/kallsyms: {e}"))?;
        for l in std::io::BufReader::new(f).lines() {
            let l = l.map_err(|e| format!("/proc/kallsyms: {e}"))?;
            if l.split_whitespace().nth(3).is_some() {
                self.lines.push(format!("MODKSYM {l}"));
            }
        }
        Ok(())
    }
}

/// Counts the send paths (module loaded) and what the module costs others
/// (lookups, ps, fork+exec; not loaded, then loaded, `ROUNDS` times).
pub(crate) fn run(results: Option<&str>) -> Res<()> {
    raise_nofile()?;
    pin_to_cpu(0)?;
    if module_loaded() {
        rmmod()?;
    }
    let mut s = Sections {
        lines: Vec::new(),
        count: 0,
    };
    let target = spawn_sleeper()?;
    let guard = Sleepers(vec![target]);
    let miss: Vec<CString> = numeric_dirs()?
        .iter()
        .map(|p| cstr(&format!("/proc/{p}/{MISS_NAME}")))
        .collect();
    let true_bin = ExecArgs::new(TRUE_BIN);
    let pid_dir = cstr(&format!("/proc/{target}"));
    let task_dir = cstr(&format!("/proc/{target}/task/{target}"));
    // Bring the dcache to the state both module states will see: with
    // children (stat, status) cached under every /proc/<pid>, a lookup's
    // final dput of the pid directory is the cheap one.
    ps_scan()?;
    let others = |s: &mut Sections, state: &str, round: usize| -> Res<()> {
        s.run(
            &format!("stat /proc/<pid>/kilo x{} [{state}] #{round}", miss.len()),
            100,
            &mut |n| {
                for _ in 0..n {
                    lookup_miss(&miss)?;
                }
                Ok(())
            },
        )?;
        let listed = state == "loaded";
        s.run(
            &format!("ls /proc/<pid> [{state}] #{round}"),
            ITERS / 4,
            &mut |n| list_dirs(&pid_dir, listed, n),
        )?;
        s.run(
            &format!("ls /proc/<pid>/task/<tid> [{state}] #{round}"),
            ITERS / 4,
            &mut |n| list_dirs(&task_dir, listed, n),
        )?;
        s.run(&format!("ps scan [{state}] #{round}"), 5, &mut |n| {
            for _ in 0..n {
                ps_scan()?;
            }
            Ok(())
        })?;
        s.run(
            &format!("fork + exec {TRUE_BIN} + wait [{state}] #{round}"),
            EXEC_ITERS,
            &mut |n| {
                for _ in 0..n {
                    fork_exec_wait(&true_bin)?;
                }
                Ok(())
            },
        )
    };
    for round in 1..=ROUNDS {
        others(&mut s, "not loaded", round)?;
        s.insmod()?;
        ps_scan()?;
        others(&mut s, "loaded", round)?;
        if round < ROUNDS {
            rmmod()?;
            // The unload's cache=N dropped every unused procfs dentry: the
            // state above again, or every lookup's final dput of its
            // /proc/<pid> would take the slow path (about 45 instructions
            // more per lookup) in the unloaded rounds only.
            ps_scan()?;
        }
    }

    let pidfd = sys_pidfd_open(target);
    let node = open_raw(&kill_path(target), libc::O_WRONLY);
    let devnull = open_raw(&cstr("/dev/null"), libc::O_WRONLY);
    if pidfd < 0 || node < 0 || devnull < 0 {
        return os_err("count: opening the handles");
    }
    let text = SIG.to_string();
    let text = text.as_bytes();
    s.run("pidfd_send_signal(pidfd)", ITERS, &mut |n| {
        pidfd_sends(pidfd, n)
    })?;
    s.run("kill(2)", ITERS, &mut |n| kills(target, n))?;
    s.run("write(2) to /proc/<pid>/kill", ITERS, &mut |n| {
        writes(node, text, n, "write node")
    })?;
    s.run("write(2) to /dev/null", ITERS, &mut |n| {
        writes(devnull, text, n, "write /dev/null")
    })?;
    s.run("ioctl(PROCKILL_IOC_SEND)", ITERS, &mut |n| {
        ioc_sends(node, n)
    })?;
    let kpath = kill_path(target);
    // With a handle open, the node's dentry stays in the dcache (the open
    // file holds it); with none, each open looks the name up again.
    s.run(
        "open(/proc/<pid>/kill) + close, another handle open",
        ITERS / 4,
        &mut |n| open_closes(&kpath, libc::O_WRONLY, n, "open node"),
    )?;
    close(node);
    s.run("open(/proc/<pid>/kill) + close", ITERS / 4, &mut |n| {
        open_closes(&kpath, libc::O_WRONLY, n, "open node")
    })?;
    s.run("pidfd_open + close", ITERS / 4, &mut |n| {
        pidfd_open_closes(target, n)
    })?;
    let spath = cstr(&format!("/proc/{target}/status"));
    s.run("open(/proc/<pid>/status) + close", ITERS / 4, &mut |n| {
        open_closes(&spath, libc::O_RDONLY, n, "open status")
    })?;
    s.run(
        "open(/proc/<pid>/kill, O_RDONLY) + close",
        ITERS / 4,
        &mut |n| open_closes(&kpath, libc::O_RDONLY, n, "open node read-only"),
    )?;
    let opath = cstr(&format!("/proc/{target}/oom_score_adj"));
    s.run(
        "open(/proc/<pid>/oom_score_adj, O_WRONLY) + close",
        ITERS / 4,
        &mut |n| open_closes(&opath, libc::O_WRONLY, n, "open oom_score_adj"),
    )?;
    let dirfd = open_raw(&pid_dir, libc::O_RDONLY | libc::O_DIRECTORY);
    if dirfd < 0 {
        return os_err("count: opening /proc/<pid>");
    }
    let (kill, status) = (cstr("kill"), cstr("status"));
    s.run("openat(dirfd, kill) + close", ITERS / 4, &mut |n| {
        openat_closes(dirfd, &kill, libc::O_WRONLY, n, "openat kill")
    })?;
    s.run("openat(dirfd, status) + close", ITERS / 4, &mut |n| {
        openat_closes(dirfd, &status, libc::O_RDONLY, n, "openat status")
    })?;
    close(dirfd);
    // Revocation: fork + exec with many handles on *other* processes, and
    // the control with as many pidfds there (the same number of open files).
    let mut sleepers = Vec::new();
    for _ in 0..SLEEPERS {
        sleepers.push(spawn_sleeper()?);
    }
    let sleepers_guard = Sleepers(sleepers.clone());
    let mut holder = Holder::spawn(&sleepers, 1)?;
    set_revoke_policy("exec")?;
    for (what, op, n) in [
        ("no handles", HOLD, 0),
        ("10000 kill handles on 100 other processes", HOLD, 10000),
        ("10000 pidfds on 100 other processes", HOLD_PIDFD, 10000),
    ] {
        let label = format!("fork + exec {TRUE_BIN} + wait, revoke=exec, {what}");
        holder.hold_kind(op, 0, n)?;
        s.run(&label, EXEC_ITERS, &mut |k| {
            for _ in 0..k {
                fork_exec_wait(&true_bin)?;
            }
            Ok(())
        })?;
        holder.hold(0)?;
    }
    set_revoke_policy("setid")?;
    drop(holder);
    drop(sleepers_guard);

    let ksyms =
        std::fs::read_to_string("/proc/kallsyms").map_err(|e| format!("/proc/kallsyms: {e}"))?;
    // Module code is named by the `MODKSYM` lines of its load.
    let ksyms: String = ksyms
        .lines()
        .filter(|l| l.split_whitespace().nth(3).is_none())
        .map(|l| format!("{l}\n"))
        .collect();
    for fd in [pidfd, devnull] {
        close(fd);
    }
    drop(guard);
    rmmod()?;

    write_sections(&s.lines, &ksyms, results)
}
