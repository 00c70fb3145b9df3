// SPDX-License-Identifier: GPL-2.0

//! prockill VM test suite: runs inside the QEMU guest as root (`pk-vmtest`).
//!
//! Adding a test: write a `fn name() -> TestResult` in a module under
//! `src/tests/` and list it in that module's `TESTS` table (see
//! `src/tests/mod.rs`). Helpers live in [`util`] (fork, wait with timeout,
//! run as the unprivileged user, load/unload the module, read files).

pub mod harness;
pub mod tests;
pub mod util;

pub use harness::{Test, TestResult};

/// Fail the current test with a formatted message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr) => {
        if !$cond {
            return Err(format!("{}:{}: check failed: {}", file!(), line!(), stringify!($cond)));
        }
    };
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!("{}:{}: {}", file!(), line!(), format!($($fmt)+)));
        }
    };
}

/// Fail the current test unless `left == right`, showing both values.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr $(,)?) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err(format!(
                "{}:{}: {} == {} failed: {:?} != {:?}",
                file!(),
                line!(),
                stringify!($left),
                stringify!($right),
                l,
                r
            ));
        }
    }};
}
