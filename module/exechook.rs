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
//!
//! The table is read at every exec on the system, so reading it takes no
//! lock: each slot is an atomic pointer to a `'static` hook, set and cleared
//! with compare-and-exchange. (NetBSD guards its list with a lock; a slot
//! array that changes only when a module loads or unloads does not need
//! one.) A hook that is being disestablished may still run for an exec that
//! read its slot just before; prockill's only hook is established before the
//! glue hooks `setup_new_exec()` and disestablished after it unhooked.

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::atomic::{Acquire, Atomic, Relaxed, Release};

/// What a hook learns about an exec.
pub(crate) struct ExecEvent {
    /// The exec'ing task: `current`, now the thread-group leader.
    pub(crate) task: *mut bindings::task_struct,
    /// Whether the exec changes credentials (set-uid, set-gid, file
    /// capabilities): `bprm->secureexec`, which the new program sees as
    /// `AT_SECURE`.
    pub(crate) secureexec: bool,
}

/// An exec hook. Established as a `&'static ExecHook` (a `static` holding
/// the function), so that the table can hold plain pointers to it.
pub(crate) type ExecHook = fn(&ExecEvent);

/// How many hooks can be established at once. prockill has one client.
const MAX_HOOKS: usize = 4;

/// The established hooks: null or a pointer to a `'static` [`ExecHook`].
static HOOKS: [Atomic<*const ExecHook>; MAX_HOOKS] =
    [const { Atomic::new(core::ptr::null()) }; MAX_HOOKS];

/// An established hook; dropping it disestablishes the hook.
pub(crate) struct Registration {
    slot: usize,
}

/// Establishes `hook`: from now on it runs at every exec. `EBUSY` when all
/// slots are taken.
pub(crate) fn establish(hook: &'static ExecHook) -> Result<Registration> {
    let new: *const ExecHook = hook;
    for (slot, h) in HOOKS.iter().enumerate() {
        // Release: a `run` that sees the pointer sees the hook it points to.
        if h.cmpxchg(core::ptr::null(), new, Release).is_ok() {
            return Ok(Registration { slot });
        }
    }
    Err(EBUSY)
}

impl Drop for Registration {
    fn drop(&mut self) {
        HOOKS[self.slot].store(core::ptr::null(), Relaxed);
    }
}

/// Runs every established hook for an exec. Called by the glue.
pub(crate) fn run(event: &ExecEvent) {
    for h in &HOOKS {
        let p = h.load(Acquire);
        if !p.is_null() {
            // SAFETY: Non-null slots only ever hold a `&'static ExecHook`
            // (`establish`), valid forever.
            let hook = unsafe { *p };
            hook(event);
        }
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
