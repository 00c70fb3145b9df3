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
//! Hooks run in the exec'ing task, called from an ftrace callback at the
//! entry of `setup_new_exec()`: process context, preemption enabled while
//! the glue's ops is alone on that function (it does not set
//! `FTRACE_OPS_FL_RECURSION`, so its trampoline calls the handler directly),
//! disabled when another tracer shares it (ftrace's list function disables
//! preemption around every callback). So hooks must not sleep. They may take
//! spinlocks, which do not sleep: the module refuses PREEMPT_RT, where they
//! do. A hook past its lock-free fast path counts itself in flight
//! (`registry::on_exec` does), so that unload's wait covers it whatever it
//! does. They cannot veto the exec.
//!
//! The table is read at every exec on the system, so reading it takes no
//! lock: each slot is an atomic pointer to a `'static` hook, set and cleared
//! with compare-and-exchange. (NetBSD guards its list with a lock; a slot
//! array that changes only when a module loads or unloads does not need
//! one.) A hook that is being disestablished may still run for an exec that
//! read its slot just before; prockill's only hook is established before the
//! glue hooks `setup_new_exec()` and disestablished after it unhooked.

use kernel::prelude::*;
use kernel::sync::atomic::{Acquire, Atomic, Relaxed, Release};
use kernel::task::CurrentTask;

/// What a hook learns about an exec.
pub(crate) struct ExecEvent<'a> {
    /// The exec'ing task: `current`, now the thread-group leader.
    pub(crate) task: &'a CurrentTask,
    /// Whether the exec changes credentials (set-uid, set-gid, file
    /// capabilities): `bprm->secureexec`, which the new program sees as
    /// `AT_SECURE`.
    pub(crate) secureexec: bool,
}

/// An exec hook. Established as a `&'static ExecHook` (a `static` holding
/// the function), so that the table can hold plain pointers to it.
pub(crate) type ExecHook = fn(&ExecEvent<'_>);

/// How many hooks can be established at once. prockill has one client.
const MAX_HOOKS: usize = 4;

/// The established hooks: null or a pointer to a `'static` [`ExecHook`].
static HOOKS: [Atomic<*const ExecHook>; MAX_HOOKS] =
    [const { Atomic::new(core::ptr::null()) }; MAX_HOOKS];

/// An established hook; dropping it disestablishes the hook.
pub(crate) struct Registration {
    slot: &'static Atomic<*const ExecHook>,
}

/// Establishes `hook`: from now on it runs at every exec. `EBUSY` when all
/// slots are taken.
pub(crate) fn establish(hook: &'static ExecHook) -> Result<Registration> {
    let new: *const ExecHook = hook;
    for slot in &HOOKS {
        // Release: a `run` that sees the pointer sees the hook it points to.
        if slot.cmpxchg(core::ptr::null(), new, Release).is_ok() {
            return Ok(Registration { slot });
        }
    }
    Err(EBUSY)
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.slot.store(core::ptr::null(), Relaxed);
    }
}

/// Runs every established hook for an exec. Called by the glue.
pub(crate) fn run(event: &ExecEvent<'_>) {
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
/// Called by the exec'ing task inside `setup_new_exec()`, with
/// `signal->exec_update_lock` held for writing.
#[no_mangle]
pub(crate) unsafe extern "C" fn prockill_exec_hook(secureexec: bool) {
    run(&ExecEvent {
        task: kernel::current!(),
        secureexec,
    });
}
