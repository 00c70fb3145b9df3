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
//!
//! Abuse: anyone may open a node read-only, on any process. Such handles,
//! when their opener may not signal the target ("foreign" handles), count
//! against a per-process limit, [`MAX_FOREIGN`], so that no user can make
//! another user's execs walk an unbounded list; every handle's memory is
//! charged to its opener (`GFP_KERNEL_ACCOUNT`).

use crate::exechook::ExecEvent;
use crate::ffi;
use crate::handle::Handle;
use crate::refs::{self, TaskFields};
use kernel::list::{List, ListArc};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNodeReservation};
use kernel::sync::atomic::{Atomic, Relaxed};

/// How many foreign handles (read-only, opened by someone who may not
/// signal the process) one process may have; the next such open fails with
/// `EMFILE`. Handles of openers who may signal it are not limited: they
/// could kill it anyway.
pub(crate) const MAX_FOREIGN: usize = 1024;

/// The handles open on one process.
struct Entry {
    handles: List<Handle>,
    /// How many of them are foreign (`Handle::foreign`).
    foreign: usize,
}

/// Handles open on each process, keyed by the pidfs inode of its tgid pid.
pub(crate) struct Registry {
    /// `None` until the first handle opens (`RBTree::new` is not `const`).
    procs: Option<RBTree<u64, Entry>>,
}

impl Registry {
    fn procs(&mut self) -> &mut RBTree<u64, Entry> {
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

/// Adds `handle` to the list of its process (`handle.key()`); `EMFILE` if
/// it is foreign and the process has [`MAX_FOREIGN`] foreign handles.
///
/// Called by open with the target's `exec_update_lock` held for reading, so
/// an exec either revokes the handle or happened before it was opened.
pub(crate) fn register(handle: ListArc<Handle>) -> Result {
    let key = handle.key();
    let foreign = usize::from(handle.foreign());
    let reservation = RBTreeNodeReservation::new(GFP_KERNEL_ACCOUNT)?;
    let mut reg = REGISTRY.lock();
    if let Some(entry) = reg.procs().get_mut(&key) {
        if entry.foreign + foreign > MAX_FOREIGN {
            return Err(EMFILE);
        }
        entry.foreign += foreign;
        entry.handles.push_back(handle);
        drop(reg);
        // `reservation` is freed here, outside the lock.
        return Ok(());
    }
    let mut handles = List::new();
    handles.push_back(handle);
    reg.procs()
        .insert(reservation.into_node(key, Entry { handles, foreign }));
    PROCS_WITH_HANDLES.add(1, Relaxed);
    Ok(())
}

/// Removes `handle` from its process's list (on release).
pub(crate) fn unregister(handle: &Handle) {
    let key = handle.key();
    let mut reg = REGISTRY.lock();
    let Some(entry) = reg.procs().get_mut(&key) else {
        return;
    };
    // SAFETY: A handle is only ever inserted in the list of its own key
    // (`register` is called once per handle, with `handle.key()`).
    let removed = unsafe { entry.handles.remove(handle) };
    if removed.is_some() {
        entry.foreign -= usize::from(handle.foreign());
    }
    let node = if entry.handles.is_empty() {
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
/// Runs in the exec'ing task, in process context with preemption enabled,
/// with `signal->exec_update_lock` held for writing (see `exechook`).
pub(crate) fn on_exec(event: &ExecEvent<'_>) {
    if PROCS_WITH_HANDLES.load(Relaxed) == 0 {
        return;
    }
    // From here on the hook may block (the registry lock sleeps on
    // PREEMPT_RT), and a sleeping task is quiescent for RCU Tasks: count
    // this task in flight, so that unload waits for it.
    let _inflight = InFlight::enter();
    let task = event.task;
    let key = refs::current_process_key(task);
    let (tgid, gen_now) = (task.tgid(), task.self_exec_id());
    let module_policy = crate::policy::module_policy();
    let mut reg = REGISTRY.lock();
    let Some(entry) = reg.procs().get(&key) else {
        return;
    };
    let mut revoked = false;
    for handle in entry.handles.iter() {
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

/// The current task counted in the glue's in-flight count, which unload
/// waits to drain before the module's code goes away.
struct InFlight(());

impl InFlight {
    fn enter() -> Self {
        // SAFETY: Plain counter increment; `Drop` pairs it.
        unsafe { ffi::prockill_inflight_enter() };
        InFlight(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // SAFETY: Pairs the increment of `enter`.
        unsafe { ffi::prockill_inflight_leave() };
    }
}
