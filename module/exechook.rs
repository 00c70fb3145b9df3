// SPDX-License-Identifier: GPL-2.0

//! The exec hook registry: the Linux counterpart of NetBSD's
//! `exechook_establish()` / `exechook_disestablish()` (`kern_exec.c`).
//!
//! NetBSD runs its exec hooks from `execve_runproc()` after `credexec()`;
//! procfs establishes one that revokes the vnodes of a process execing a
//! set-id program. Linux has no such registry for modules, so prockill's glue
//! hooks `setup_new_exec()`, whose entry is the one point of every exec that
//! is past the point of no return, has the new credentials installed, and
//! still holds `signal->exec_update_lock` for writing. There it calls
//! [`run`], which calls every established hook with an [`ExecEvent`].
//!
//! Hooks run in the exec'ing task, in atomic context (an ftrace callback):
//! they must not sleep. They cannot veto the exec.

use kernel::bindings;
use kernel::prelude::*;

/// What a hook learns about an exec.
pub(crate) struct ExecEvent {
    /// The exec'ing task: `current`, now the thread-group leader.
    pub(crate) task: *mut bindings::task_struct,
    /// Whether the exec changes credentials (set-uid, set-gid, file
    /// capabilities): `bprm->secureexec`, which the new program sees as
    /// `AT_SECURE`.
    pub(crate) secureexec: bool,
}

/// An exec hook.
pub(crate) type ExecHook = fn(&ExecEvent);

/// How many hooks can be established at once. prockill has one client.
const MAX_HOOKS: usize = 4;

kernel::sync::global_lock! {
    // SAFETY: Initialized by `init()` in module init, before the first use.
    unsafe(uninit) static HOOKS: SpinLock<[Option<ExecHook>; MAX_HOOKS]> = [None; MAX_HOOKS];
}

/// Initializes the registry. Call once, from module init.
pub(crate) fn init() {
    // SAFETY: Called exactly once, from module init, before any other use.
    unsafe { HOOKS.init() };
}

/// An established hook; dropping it disestablishes the hook.
pub(crate) struct Registration {
    slot: usize,
}

/// Establishes `hook`: from now on it runs at every exec.
pub(crate) fn establish(hook: ExecHook) -> Result<Registration> {
    let mut hooks = HOOKS.lock();
    let slot = hooks.iter().position(Option::is_none).ok_or(EBUSY)?;
    hooks[slot] = Some(hook);
    Ok(Registration { slot })
}

impl Drop for Registration {
    fn drop(&mut self) {
        HOOKS.lock()[self.slot] = None;
    }
}

/// Runs every established hook for an exec. Called by the glue.
pub(crate) fn run(event: &ExecEvent) {
    // Copy the table so hooks run without the registry lock held.
    let hooks = *HOOKS.lock();
    for hook in hooks.iter().flatten() {
        hook(event);
    }
}

/// The glue's entry point (see `pk_exec_handler()` in `prockill_glue.c`).
///
/// # Safety
///
/// `task` is `current`, inside `setup_new_exec()`, with
/// `signal->exec_update_lock` held for writing.
#[no_mangle]
pub(crate) unsafe extern "C" fn prockill_exec_hook(
    task: *mut bindings::task_struct,
    secureexec: bool,
) {
    run(&ExecEvent { task, secureexec });
}
