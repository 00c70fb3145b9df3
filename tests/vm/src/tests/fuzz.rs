// SPDX-License-Identifier: GPL-2.0

//! A fixed-seed slice of the race engine (`pk-fuzz`, `make fuzz`): 45 s of
//! seed 1, failing on any violation it reports. The kernel splats it may
//! cause fail `make test` through the console check.

use crate::harness::{Test, TestResult};
use crate::util;

pub const TESTS: &[Test] = &[Test::new("fuzz/slice", slice).timeout_secs(150)];

/// The guest's pk-fuzz (override: env `PK_FUZZ`).
fn pk_fuzz() -> String {
    std::env::var("PK_FUZZ").unwrap_or_else(|_| "/usr/bin/pk-fuzz".into())
}

fn slice() -> TestResult {
    if util::module_info(util::MODULE_NAME)?.is_some() {
        return Err(format!("{} is already loaded", util::MODULE_NAME));
    }
    // pk-fuzz loads the module itself and leaves it as it found it (unloaded).
    let (code, out) = util::sh(&format!("{} --seed 1 --secs 45 --procs 4", pk_fuzz()))?;
    // The console shows the run (stderr of pk-vmtest).
    eprint!("{out}");
    let viol: Vec<&str> = out.lines().filter(|l| l.starts_with("VIOLATION")).collect();
    if !viol.is_empty() {
        return Err(format!("{} violation(s): {}", viol.len(), viol.join(" | ")));
    }
    let summary = out
        .lines()
        .rev()
        .find(|l| l.starts_with("pk-fuzz: ") && l.ends_with(" violations"))
        .ok_or_else(|| format!("pk-fuzz did not finish (status {code})"))?;
    if code != 0 {
        return Err(format!("pk-fuzz exited {code}: {summary}"));
    }
    if util::module_info(util::MODULE_NAME)?.is_some() {
        return Err("pk-fuzz left the module loaded".into());
    }
    Ok(())
}
