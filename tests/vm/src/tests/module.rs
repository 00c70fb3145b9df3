// SPDX-License-Identifier: GPL-2.0

//! Loading and unloading the module.

use crate::harness::{Test, TestResult};
use crate::util::{self, errno_name, MODULE_NAME};
use crate::{ensure, ensure_eq};

pub const TESTS: &[Test] = &[
    Test::new("module/load-unload", load_unload),
    Test::new("module/load-twice", load_twice),
    Test::new("module/unload-not-loaded", unload_not_loaded),
];

fn state() -> Result<Option<String>, String> {
    Ok(util::module_info(MODULE_NAME)?.map(|m| m.state))
}

/// Loads, shows as Live in /proc/modules and /sys/module, unloads, is gone.
fn load_unload() -> TestResult {
    ensure_eq!(state()?, None);
    let m = util::load_module("")?;
    ensure_eq!(state()?, Some("Live".to_string()));
    ensure!(
        std::path::Path::new("/sys/module/prockill").exists(),
        "/sys/module/prockill missing"
    );
    m.unload()?;
    ensure_eq!(state()?, None);
    ensure!(
        !std::path::Path::new("/sys/module/prockill").exists(),
        "/sys/module/prockill still there"
    );
    Ok(())
}

/// A second load fails with EEXIST and leaves the first instance working.
fn load_twice() -> TestResult {
    let m = util::load_module("")?;
    let r = util::insmod(&util::module_path(), "");
    ensure!(
        r == Err(libc::EEXIST),
        "second insmod: {:?}, want EEXIST",
        r.map_err(errno_name)
    );
    ensure_eq!(state()?, Some("Live".to_string()));
    // One reference: the module's per-CPU count of its dentries holds it
    // until an unload begins (`cache=N`), and nothing else does.
    ensure_eq!(util::module_info(MODULE_NAME)?.map(|m| m.refcount), Some(1));
    m.unload()?;
    ensure_eq!(state()?, None);
    Ok(())
}

/// Unloading a module that is not loaded fails with ENOENT.
fn unload_not_loaded() -> TestResult {
    ensure_eq!(state()?, None);
    let r = util::rmmod(MODULE_NAME);
    ensure!(
        r == Err(libc::ENOENT),
        "rmmod: {:?}, want ENOENT",
        r.map_err(errno_name)
    );
    Ok(())
}
