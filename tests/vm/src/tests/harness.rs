// SPDX-License-Identifier: GPL-2.0

//! Checks of the guest image itself: the unprivileged user and the
//! set-uid-root helper that credential tests rely on.

use crate::harness::{Test, TestResult};
use crate::util::{self, USER_GID, USER_UID};
use crate::{ensure, ensure_eq};

pub const TESTS: &[Test] = &[
    Test::new("harness/unprivileged-user", unprivileged_user),
    Test::new("harness/setuid-helper", setuid_helper),
];

/// `as_user` really drops root: uid 1000, and module loading is refused.
fn unprivileged_user() -> TestResult {
    util::as_user(|| {
        // SAFETY: plain getters.
        let (uid, euid, gid) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid()) };
        ensure_eq!((uid, euid, gid), (USER_UID, USER_UID, USER_GID));
        let r = util::insmod(&util::module_path(), "");
        ensure!(r == Err(libc::EPERM), "insmod as user: {r:?}, want EPERM");
        Ok(())
    })
}

/// The helper is set-uid root in the image and reports its write to fd 2.
fn setuid_helper() -> TestResult {
    let md = std::fs::metadata(util::SETUID_HELPER).map_err(|e| format!("stat helper: {e}"))?;
    use std::os::unix::fs::MetadataExt;
    ensure_eq!((md.uid(), md.mode() & 0o7777), (0, 0o4755));
    util::as_user(|| {
        let (code, out) = util::sh(&format!("{} 'hello' 2>/dev/null", util::SETUID_HELPER))?;
        ensure_eq!(code, 0);
        ensure_eq!(out.trim(), format!("euid=0 ruid={USER_UID} write=ok"));
        // fd 2 closed: the write fails with EBADF, still exit 0.
        let (code, out) = util::sh(&format!("{} 'x' 2>&-", util::SETUID_HELPER))?;
        ensure_eq!(code, 0);
        ensure_eq!(out.trim(), format!("euid=0 ruid={USER_UID} write=EBADF"));
        Ok(())
    })
}
