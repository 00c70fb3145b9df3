// SPDX-License-Identifier: GPL-2.0

//! The test runner: each test runs in its own forked child (its own process
//! group) with a timeout, so a crash, a panic or a hang fails that test only.

use crate::util::{self, Outcome};
use std::time::Duration;

/// What a test returns: `Err(reason)` fails it.
pub type TestResult = Result<(), String>;

/// One registered test.
#[derive(Clone, Copy)]
pub struct Test {
    /// `area/what`, e.g. `module/load-unload`; selection is by name prefix.
    pub name: &'static str,
    /// The test body; it runs in a forked child of the runner, as root.
    pub run: fn() -> TestResult,
    /// Wall-clock limit for the test (TCG + KASAN is slow: be generous).
    pub timeout: Duration,
}

impl Test {
    /// A test with the default timeout (60 s).
    pub const fn new(name: &'static str, run: fn() -> TestResult) -> Self {
        Test {
            name,
            run,
            timeout: Duration::from_secs(60),
        }
    }

    /// The same test with another timeout.
    pub const fn timeout_secs(self, secs: u64) -> Self {
        Test {
            timeout: Duration::from_secs(secs),
            ..self
        }
    }
}

/// What a test's `Err` starts with when the kernel lacks what it tests
/// (e.g. Landlock on the release kernel): see [`skip`].
const SKIP_MARK: &str = "\u{1}skip: ";

/// The `Err` of a test that cannot run on this kernel: printed as
/// `SKIP name: reason`, counted in neither total, and a failure under
/// `--no-skip` (what `make test` passes, so its kernels must have it all).
pub fn skip(reason: impl std::fmt::Display) -> String {
    format!("{SKIP_MARK}{reason}")
}

/// Run one test in a child process; `Err(reason)` if it failed.
pub fn run_one(test: &Test) -> TestResult {
    let child = util::fork_fn_pgrp(test.run)?;
    match child.wait_timeout(test.timeout)? {
        Outcome::Exited(0, _) => Ok(()),
        Outcome::Exited(_, msg) if !msg.is_empty() => Err(msg),
        Outcome::Exited(code, _) => Err(format!("test process exited with status {code}")),
        Outcome::Signaled(sig) => Err(format!(
            "test process killed by signal {sig} ({})",
            util::signal_name(sig)
        )),
        Outcome::TimedOut => Err(format!("timed out after {}s", test.timeout.as_secs())),
    }
}

/// `pk-vmtest [--list] [--no-skip] [PREFIX...]`: returns the process exit status.
pub fn main_with(tests: &[Test], args: &[String]) -> i32 {
    let mut list = false;
    let mut no_skip = false;
    let mut prefixes = Vec::new();
    for a in args {
        match a.as_str() {
            "--list" | "-l" => list = true,
            "--no-skip" => no_skip = true,
            "--help" | "-h" => {
                println!("usage: pk-vmtest [--list] [--no-skip] [NAME-PREFIX...]");
                println!(
                    "Runs the registered tests (all, or those whose name starts with a prefix)."
                );
                println!(
                    "A test the kernel cannot run (no Landlock...) prints SKIP; --no-skip fails it."
                );
                return 0;
            }
            p => prefixes.push(p.to_string()),
        }
    }
    let selected: Vec<&Test> = tests
        .iter()
        .filter(|t| prefixes.is_empty() || prefixes.iter().any(|p| t.name.starts_with(p.as_str())))
        .collect();
    if list {
        for t in &selected {
            println!("{}", t.name);
        }
        return 0;
    }
    if selected.is_empty() {
        eprintln!("pk-vmtest: no test matches {prefixes:?} (try --list)");
        println!("0 passed, 1 failed");
        return 1;
    }
    let (mut passed, mut failed, mut skipped) = (0u32, 0u32, 0u32);
    let slow = std::env::var("PK_SLOW_SECS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(5.0);
    for t in selected {
        let t0 = std::time::Instant::now();
        let res = run_one(t);
        let secs = t0.elapsed().as_secs_f64();
        if secs >= slow {
            // stderr: the console shows it, the parsed results (stdout) stay one line per test.
            eprintln!("pk-vmtest: {} took {secs:.1}s", t.name);
        }
        match res {
            Ok(()) => {
                passed += 1;
                println!("PASS {}", t.name);
            }
            Err(reason) => match reason.strip_prefix(SKIP_MARK) {
                Some(why) if !no_skip => {
                    skipped += 1;
                    println!("SKIP {}: {}", t.name, one_line(why));
                }
                Some(why) => {
                    failed += 1;
                    println!(
                        "FAIL {}: cannot run here (--no-skip): {}",
                        t.name,
                        one_line(why)
                    );
                }
                None => {
                    failed += 1;
                    println!("FAIL {}: {}", t.name, one_line(&reason));
                }
            },
        }
    }
    if skipped > 0 {
        println!("{skipped} skipped: this kernel lacks what they test");
    }
    println!("{passed} passed, {failed} failed");
    i32::from(failed > 0)
}

fn one_line(s: &str) -> String {
    s.trim().replace('\n', " | ")
}
