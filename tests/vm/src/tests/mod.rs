// SPDX-License-Identifier: GPL-2.0

//! The registry of VM tests, run in this order.
//!
//! To add tests: put `fn my_test() -> TestResult` in a module here (one file
//! per area, e.g. `node.rs`), list it in that module's
//! `pub const TESTS: &[Test]`, and, for a new module, add it to `mod` and to
//! [`all`] below. Test names are `area/what`; `pk-vmtest area/` runs an area.

use crate::harness::Test;

pub mod crate_vm;
pub mod fuzz;
pub mod harness;
pub mod initfail;
pub mod module;
pub mod node;
pub mod pk;
pub mod revoke;
pub mod soundness;

/// Every registered test, in run order.
pub fn all() -> Vec<Test> {
    [
        harness::TESTS,
        module::TESTS,
        initfail::TESTS,
        node::TESTS,
        revoke::TESTS,
        crate_vm::TESTS,
        soundness::TESTS,
        fuzz::TESTS,
    ]
    .concat()
}
