// SPDX-License-Identifier: GPL-2.0

//! Exec policies: when an exec revokes a kill handle.
//!
//! The module parameter `revoke` (`/sys/module/prockill/parameters/revoke`,
//! root-writable) sets the policy for every handle; a handle can be made
//! stricter, never looser, with `PROCKILL_IOC_SET_POLICY`. The policy in
//! force *when the exec happens* decides, so changing the parameter affects
//! handles that are already open.

use crate::uapi;
use kernel::bindings;
use kernel::ffi::{c_char, c_int};
use kernel::prelude::*;
use kernel::sync::atomic::{Atomic, Relaxed};

/// When an exec revokes a handle. Ordered from loosest to strictest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Policy {
    /// Never revoke: the handle follows the process across execs, as a pidfd.
    Never,
    /// Revoke on credential-changing execs (set-uid, set-gid, file
    /// capabilities: what `AT_SECURE` reports). NetBSD's rule, the default.
    SetId,
    /// Revoke on every exec.
    Exec,
}

impl Policy {
    /// The UAPI number (`PROCKILL_POLICY_*`).
    pub(crate) const fn to_uapi(self) -> u32 {
        match self {
            Policy::Never => uapi::POLICY_NEVER,
            Policy::SetId => uapi::POLICY_SETID,
            Policy::Exec => uapi::POLICY_EXEC,
        }
    }

    /// From the UAPI number; `None` for an unknown value.
    pub(crate) const fn from_uapi(v: u32) -> Option<Self> {
        match v {
            uapi::POLICY_NEVER => Some(Policy::Never),
            uapi::POLICY_SETID => Some(Policy::SetId),
            uapi::POLICY_EXEC => Some(Policy::Exec),
            _ => None,
        }
    }

    /// The parameter spelling.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Policy::Never => "never",
            Policy::SetId => "setid",
            Policy::Exec => "exec",
        }
    }

    /// Parses the parameter spelling, ignoring one trailing newline
    /// (`echo exec > .../revoke`).
    pub(crate) fn parse(s: &[u8]) -> Option<Self> {
        let s = s.strip_suffix(b"\n").unwrap_or(s);
        [Policy::Never, Policy::SetId, Policy::Exec]
            .into_iter()
            .find(|p| p.name().as_bytes() == s)
    }

    /// Whether an exec revokes a handle under this policy, and why.
    /// `secureexec` is the exec's `AT_SECURE`.
    pub(crate) const fn revokes(self, secureexec: bool) -> Option<u32> {
        match (self, secureexec) {
            (Policy::Never, _) => None,
            (Policy::SetId, false) => None,
            (_, true) => Some(uapi::REVOKE_SETID_EXEC),
            (Policy::Exec, false) => Some(uapi::REVOKE_EXEC),
        }
    }
}

/// The module parameter's value, as a UAPI number.
static MODULE_POLICY: Atomic<u32> = Atomic::new(uapi::POLICY_SETID);

/// The module-wide policy now.
pub(crate) fn module_policy() -> Policy {
    Policy::from_uapi(MODULE_POLICY.load(Relaxed)).unwrap_or(Policy::SetId)
}

/// `kernel_param_ops.set` of `revoke`: accepts `setid`, `exec` or `never`.
///
/// # Safety
///
/// `val` is null or a NUL-terminated string valid for the call (the
/// module-parameter core guarantees it).
#[no_mangle]
pub(crate) unsafe extern "C" fn prockill_revoke_param_set(
    val: *const c_char,
    _kp: *const bindings::kernel_param,
) -> c_int {
    if val.is_null() {
        return EINVAL.to_errno();
    }
    // Longer than any policy name and its newline; a longer value is cut
    // here and then matches none.
    const MAX: usize = 16;
    // SAFETY: `val` is a valid NUL-terminated string (function safety
    // requirement); `strnlen` reads no further than its NUL or `MAX` bytes.
    let len = unsafe { bindings::strnlen(val, MAX) };
    // SAFETY: The `len` bytes before the NUL (or the first `MAX`) are part
    // of the string, valid for the call and not written meanwhile. Not
    // `CStr`, whose length computation brings an overflow check, and so a
    // panic path, into the module.
    let s = unsafe { core::slice::from_raw_parts(val.cast::<u8>(), len) };
    match Policy::parse(s) {
        Some(p) => {
            MODULE_POLICY.store(p.to_uapi(), Relaxed);
            0
        }
        None => EINVAL.to_errno(),
    }
}

/// `kernel_param_ops.get` of `revoke`: writes the policy name and a newline.
///
/// # Safety
///
/// `buffer` is valid for writes of `PAGE_SIZE` bytes (the module-parameter
/// core guarantees it).
#[no_mangle]
pub(crate) unsafe extern "C" fn prockill_revoke_param_get(
    buffer: *mut c_char,
    _kp: *const bindings::kernel_param,
) -> c_int {
    let name = module_policy().name().as_bytes();
    // SAFETY: `buffer` holds PAGE_SIZE bytes; a policy name and a newline are
    // far fewer, and the source is a distinct static string.
    unsafe {
        core::ptr::copy_nonoverlapping(name.as_ptr(), buffer.cast::<u8>(), name.len());
        *buffer.add(name.len()) = b'\n' as c_char;
    }
    (name.len() + 1) as c_int
}
