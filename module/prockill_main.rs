// SPDX-License-Identifier: GPL-2.0

//! prockill: `/proc/<pid>/kill`, a kill handle bound to the process at open.

use kernel::prelude::*;

#[allow(dead_code)]
mod signal;

module! {
    type: ProcKill,
    name: "prockill",
    authors: ["prockill developers"],
    description: "/proc/<pid>/kill: race-free kill handles revoked on exec",
    license: "GPL",
}

/// The module instance.
struct ProcKill;

impl kernel::Module for ProcKill {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("loaded\n");
        Ok(ProcKill)
    }
}

impl Drop for ProcKill {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}
