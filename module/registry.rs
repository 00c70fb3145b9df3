// SPDX-License-Identifier: GPL-2.0

//! Open handles, per process, and their revocation at exec.
//!
//! The registry maps a process to the list of kill handles open on it. The
//! key is the pidfs inode number of the process's thread-group `struct pid`
//! (`pid->ino`): unique for the lifetime of the system, so a process that
//! exits and a newcomer with the same PID can never share an entry.
//!
//! Costs, which the benchmarks measure:
//! - an exec when no handle is open anywhere: one atomic load;
//! - an exec otherwise: one red-black-tree lookup (logarithmic in the number
//!   of *processes* with open handles, not in the number of handles), then a
//!   walk of that process's own handles only, marking each revoked;
//! - open and close: one lookup plus an O(1) list insertion or removal.

use crate::exechook::ExecEvent;
use crate::ffi;
use crate::handle::Handle;
use kernel::bindings;
use kernel::list::{List, ListArc};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNodeReservation};
use kernel::sync::atomic::{Atomic, Relaxed};

/// Handles open on each process, keyed by the pidfs inode of its tgid pid.
pub(crate) struct Registry {
    /// `None` until the first handle opens (`RBTree::new` is not `const`).
    procs: Option<RBTree<u64, List<Handle>>>,
}

impl Registry {
    fn procs(&mut self) -> &mut RBTree<u64, List<Handle>> {
        self.procs.get_or_insert_with(RBTree::new)
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialized by `init()` in module init, before the first use.
    unsafe(uninit) static REGISTRY: SpinLock<Registry> = Registry { procs: None };
}

/// How many processes have at least one open handle: the exec fast path.
static PROCS_WITH_HANDLES: Atomic<usize> = Atomic::new(0);

/// Initializes the registry. Call once, from module init.
pub(crate) fn init() {
    // SAFETY: Called exactly once, from module init, before any other use.
    unsafe { REGISTRY.init() };
}

/// The registry key of `task`'s process: the pidfs inode number of its
/// thread group's `struct pid` (`signal->pids[PIDTYPE_TGID]`, which exec and
/// de_thread keep).
///
/// # Safety
///
/// `task` is a valid task for the duration of the call.
pub(crate) unsafe fn process_key(task: *mut bindings::task_struct) -> u64 {
    // SAFETY: `task` is valid (function safety requirement), so are its
    // signal struct and the thread group's pid it references.
    unsafe {
        let tgid_pid = (*(*task).signal).pids[bindings::pid_type_PIDTYPE_TGID as usize];
        (*tgid_pid).__bindgen_anon_1.ino
    }
}

/// Adds `handle` to the list of the process `key`.
///
/// Called by open with the target's `exec_update_lock` held for reading, so
/// an exec either revokes the handle or happened before it was opened.
pub(crate) fn register(key: u64, handle: ListArc<Handle>) -> Result {
    let reservation = RBTreeNodeReservation::new(GFP_KERNEL)?;
    let mut reg = REGISTRY.lock();
    if let Some(list) = reg.procs().get_mut(&key) {
        list.push_back(handle);
        drop(reg);
        // `reservation` is freed here, outside the lock.
        return Ok(());
    }
    let mut list = List::new();
    list.push_back(handle);
    reg.procs().insert(reservation.into_node(key, list));
    PROCS_WITH_HANDLES.add(1, Relaxed);
    Ok(())
}

/// Removes `handle` from its process's list (on release).
pub(crate) fn unregister(handle: &Handle) {
    let key = handle.key();
    let mut reg = REGISTRY.lock();
    let Some(list) = reg.procs().get_mut(&key) else {
        return;
    };
    // SAFETY: A handle is only ever inserted in the list of its own key
    // (`register` is called once per handle, with `handle.key()`).
    let removed = unsafe { list.remove(handle) };
    let node = if list.is_empty() {
        PROCS_WITH_HANDLES.fetch_sub(1, Relaxed);
        reg.procs().remove_node(&key)
    } else {
        None
    };
    drop(reg);
    // The file still holds its own reference: neither drop frees a handle.
    drop(removed);
    drop(node);
}

/// The exec hook client: revokes the handles of the exec'ing process that
/// the policy in force (the stricter of the module's and the handle's)
/// says this exec revokes.
///
/// Runs in the exec'ing task, in atomic context, with
/// `signal->exec_update_lock` held for writing (see `exechook`).
pub(crate) fn on_exec(event: &ExecEvent) {
    if PROCS_WITH_HANDLES.load(Relaxed) == 0 {
        return;
    }
    let task = event.task;
    // SAFETY: `task` is `current`, so it and its signal struct are alive;
    // `pids[PIDTYPE_TGID]` is the thread group's pid, which exec keeps.
    let (key, tgid, gen_now) = unsafe { (process_key(task), (*task).tgid, (*task).self_exec_id) };
    let module_policy = crate::policy::module_policy();
    let mut reg = REGISTRY.lock();
    let Some(list) = reg.procs().get(&key) else {
        return;
    };
    let mut revoked = false;
    for handle in list.iter() {
        let policy = core::cmp::max(module_policy, handle.policy());
        let Some(reason) = policy.revokes(event.secureexec) else {
            // Not revoked, but a thread handle may have lost its thread to
            // de_thread(): let its pollers look again.
            handle.wake();
            continue;
        };
        if handle.revoke(reason) {
            revoked = true;
            // SAFETY: Plain function call; all arguments are values.
            unsafe {
                ffi::prockill_trace_revoke(
                    tgid,
                    handle.opener_tgid(),
                    handle.opener_uid_global(),
                    reason,
                    handle.exec_gen(),
                    gen_now,
                )
            };
        }
    }
    drop(reg);
    if revoked {
        // Writers check and send under the target's siglock (`Handle::send`).
        // Taking it once, after marking, waits out every write already past
        // its check, and every later write sees the marks: no signal through
        // a revoked handle is sent once the hook is done.
        // SAFETY: Called by the exec'ing task itself, in process context.
        unsafe { ffi::prockill_sighand_barrier() };
    }
}
