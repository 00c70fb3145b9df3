// SPDX-License-Identifier: GPL-2.0

//! Open handles, per process, and their revocation at exec.
//!
//! The registry maps a process to the list of kill handles open on it. The
//! key is the pidfs inode number of the process's thread-group `struct pid`
//! (`pid->ino`): unique for the lifetime of the system, so a process that
//! exits and a newcomer with the same PID can never share an entry.
//!
//! The map is a table of [`BUCKETS`] buckets, each its own spinlock and red-black tree,
//! on its own cache line: open, close and exec touch one bucket, chosen by
//! hashing the key, and no lock or written cache line is shared by all
//! processes.
//!
//! Costs, which the benchmarks measure:
//! - an exec when no process in its bucket has a handle: one load of the
//!   bucket's count, no lock;
//! - an exec otherwise: the bucket's lock, one red-black-tree lookup
//!   (logarithmic in the number of processes with handles in the bucket),
//!   then a walk of that process's own handles only, marking each revoked;
//! - open and close: one lookup plus an O(1) list insertion or removal,
//!   under the bucket's lock. When a process's last handle closes, its entry
//!   stays in the tree, empty (the bucket's idle entry, at most one), until
//!   the bucket needs a node for another process: closing and reopening a
//!   handle on one process then adds and removes no tree node, and a first
//!   handle on another process reuses the idle entry's node (no allocation)
//!   or allocates one.
//!
//! Abuse: anyone may open a node read-only, on any process. Such handles,
//! when their opener may not signal the target ("foreign" handles), count
//! against a per-process limit, [`MAX_FOREIGN`], so that no user can make
//! another user's execs walk an unbounded list; every handle's memory is
//! charged to its opener (`GFP_KERNEL_ACCOUNT`).

use crate::exechook::ExecEvent;
use crate::ffi;
use crate::handle::Handle;
use crate::refs::{self, PidRef, TaskFields};
use core::marker::PhantomData;
use kernel::bindings;
use kernel::ffi::c_ulong;
use kernel::list::{List, ListArc};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNodeReservation};
use kernel::sync::atomic::{Acquire, Atomic, Relaxed, Release};
use kernel::sync::SpinLock;

/// How many foreign handles (read-only, opened by someone who may not
/// signal the process) one process may have; the next such open fails with
/// `EMFILE`. Handles of openers who may signal it are limited only by
/// [`MAX_HANDLES`]: they could kill it anyway.
pub(crate) const MAX_FOREIGN: usize = 1024;

/// How many handles one process may have in all, foreign or not; the next
/// open fails with `EMFILE`. An exec walks its process's handles with the
/// bucket's lock held (`on_exec`), so this bounds that walk, whoever opened
/// them: 16384 handles take about 2 ms there (`make bench`'s revocation
/// rows, 130 ns per handle). A program that needs more handles on one
/// process than that is not known.
pub(crate) const MAX_HANDLES: usize = 16384;

/// log2 of [`BUCKETS`].
const BUCKET_BITS: u32 = 8;
/// How many buckets the registry has (16 KiB of table).
pub(crate) const BUCKETS: usize = 1 << BUCKET_BITS;

/// The handles open on one process.
struct Entry {
    handles: List<Handle>,
    /// How many of them are foreign (`Handle::foreign`).
    foreign: usize,
    /// How many there are (at most [`MAX_HANDLES`]).
    count: usize,
}

/// A bucket's state, under its lock.
///
/// # Invariants
///
/// Every entry of `tree` has handles, except the one `idle` names, if any.
struct Procs {
    /// The processes of the bucket that have handles, and the idle entry.
    tree: RBTree<u64, Entry>,
    /// The key of the entry whose last handle closed last, kept in the tree
    /// with no handles, so that reopening a handle on that process touches
    /// no tree node and another process's first handle gets a node without
    /// an allocation. At most one per bucket; its node stays charged to the
    /// memory cgroup that allocated it until the bucket reuses it or the
    /// module is unloaded. Keys are never reused (pidfs inode numbers), so
    /// an idle entry of a process that has exited is only a spare node.
    idle: Option<u64>,
    /// How many entries of `tree` have handles (all but the idle one).
    used: usize,
}

/// One bucket: the processes whose key hashes here. Aligned to a cache
/// line, so that buckets never share one.
#[pin_data]
#[repr(align(64))]
struct Bucket {
    #[pin]
    procs: SpinLock<Procs>,
    /// How many processes in `procs` have handles (`Procs::used`): the
    /// exec fast path reads it without the lock. Written under the lock.
    used: Atomic<usize>,
}

impl Bucket {
    /// Adds `delta` to the count of processes with handles. The count
    /// lives in `procs`, the bucket's locked state, whose guard the caller
    /// holds; `used` mirrors it for the exec hook's lockless read. So the
    /// update is one atomic store and no atomic load.
    fn add_used(&self, procs: &mut Procs, delta: isize) {
        procs.used = procs.used.wrapping_add_signed(delta);
        self.used.store(procs.used, Relaxed);
    }
}

/// The registry's table.
type Table = [Bucket; BUCKETS];

/// The table, set by [`Registry::new`] before any node can exist and
/// cleared when the [`Registry`] is dropped, after the last node is gone
/// and the exec hook can no longer run.
static TABLE: Atomic<*const Table> = Atomic::new(core::ptr::null());

/// The registry's owner: the module instance holds it.
///
/// # Invariants
///
/// `TABLE` points to `*self._table` while `self` exists.
pub(crate) struct Registry {
    /// Owned here, read only through `TABLE`.
    _table: Pin<KBox<Table>>,
}

impl Registry {
    /// Allocates the table and publishes it. Call once, from module init,
    /// before the exec hook and the nodes can run.
    pub(crate) fn new() -> Result<Self> {
        let table = KBox::pin_init(
            pin_init::pin_init_array_from_fn(|_| {
                pin_init!(Bucket {
                    procs <- kernel::new_spinlock!(
                        Procs {
                            tree: RBTree::new(),
                            idle: None,
                            used: 0,
                        },
                        "prockill_bucket"
                    ),
                    used: Atomic::new(0),
                })
            }),
            GFP_KERNEL,
        )?;
        let ptr: *const Table = &*table;
        // INVARIANT: Published here, cleared in `drop`.
        TABLE.store(ptr, Release);
        Ok(Registry { _table: table })
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Nothing reads the table any more: module exit runs after every
        // node file is closed and the glue has waited out every exec hook.
        TABLE.store(core::ptr::null(), Relaxed);
    }
}

/// The bucket of `key` (`hash_64()` of `include/linux/hash.h`).
fn bucket(key: u64) -> &'static Bucket {
    const GOLDEN_RATIO_64: u64 = 0x61c8_8646_80b5_83eb;
    let i = (key.wrapping_mul(GOLDEN_RATIO_64) >> (64 - BUCKET_BITS)) as usize;
    let table = TABLE.load(Acquire);
    // SAFETY: The table is published before any node or exec hook can run
    // and stays until both are gone (`Registry`), and every caller is one of
    // them: a node's open or release, or the exec hook. `i < BUCKETS`.
    unsafe { &(*table)[i] }
}

/// A tree node for a process's entry, allocated before the opener takes any
/// lock: [`register`] runs under the target's `exec_update_lock`, where an
/// allocation that may reclaim could make the target's exec wait for the
/// opener's memory cgroup (any user may open a node read-only).
pub(crate) struct Node(RBTreeNodeReservation<u64, Entry>);

impl Node {
    /// Allocates a node, charged to the opener's memory cgroup.
    pub(crate) fn new() -> Result<Self> {
        Ok(Node(RBTreeNodeReservation::new(GFP_KERNEL_ACCOUNT)?))
    }
}

/// [`register`] needed a tree node and the caller had none: the handle was
/// dropped, not registered. The caller releases its locks, allocates a
/// [`Node`] and opens again.
pub(crate) struct NeedNode;

/// Adds `handle` to the list of its process (`handle.key()`); `EMFILE` if
/// the process has [`MAX_HANDLES`] handles, or if `handle` is foreign and
/// the process has [`MAX_FOREIGN`] foreign handles.
///
/// Called by open with the target's `exec_update_lock` held for reading, so
/// an exec either revokes the handle or happened before it was opened;
/// allocates nothing. The process usually has an entry when it already has
/// handles, or had the last ones of the bucket: then no tree node is needed.
/// Otherwise it takes the bucket's idle entry's node, or `node`, or, with
/// neither, answers [`NeedNode`]. An unused `node` is left to the caller,
/// which frees it outside the lock.
pub(crate) fn register(
    handle: ListArc<Handle>,
    node: &mut Option<Node>,
) -> Result<core::result::Result<(), NeedNode>> {
    let key = handle.key();
    let foreign = usize::from(handle.foreign());
    let b = bucket(key);
    let mut procs = b.procs.lock();
    if let Some(entry) = procs.tree.get_mut(&key) {
        let Some(foreign) = entry
            .foreign
            .checked_add(foreign)
            .filter(|&n| n <= MAX_FOREIGN)
        else {
            return Err(EMFILE);
        };
        let Some(count) = entry.count.checked_add(1).filter(|&n| n <= MAX_HANDLES) else {
            return Err(EMFILE);
        };
        let was_idle = entry.handles.is_empty();
        (entry.foreign, entry.count) = (foreign, count);
        entry.handles.push_back(handle);
        if was_idle {
            // INVARIANT: The idle entry has a handle again.
            procs.idle = None;
            b.add_used(&mut procs, 1);
        }
        return Ok(Ok(()));
    }
    // The idle entry (empty: dropping it frees nothing) gives its node to
    // this process; else the caller's node.
    let node = procs
        .idle
        .take()
        .and_then(|idle| procs.tree.remove_node(&idle))
        .map(|n| n.into_reservation())
        .or_else(|| node.take().map(|n| n.0));
    let Some(node) = node else {
        drop(procs);
        // Dropped outside the lock: the handle's counted group pid.
        drop(handle);
        return Ok(Err(NeedNode));
    };
    let mut handles = List::new();
    handles.push_back(handle);
    procs.tree.insert(node.into_node(
        key,
        Entry {
            handles,
            foreign,
            count: 1,
        },
    ));
    b.add_used(&mut procs, 1);
    Ok(Ok(()))
}

/// Removes `handle` from its process's list (on release) and returns it:
/// the list was its owner, and now the caller is.
pub(crate) fn unregister(handle: &Handle) -> Option<ListArc<Handle>> {
    let key = handle.key();
    let b = bucket(key);
    let mut procs = b.procs.lock();
    let entry = procs.tree.get_mut(&key)?;
    // SAFETY: A handle is only ever inserted in the list of its own key
    // (`register` is called once per handle, with `handle.key()`).
    let removed = unsafe { entry.handles.remove(handle) };
    if removed.is_some() {
        // `register` counted the handle if it is foreign, so this does not
        // go below zero; saturating rather than checked: no panic path.
        entry.foreign = entry.foreign.saturating_sub(usize::from(handle.foreign()));
        entry.count = entry.count.saturating_sub(1);
    }
    let emptied = removed.is_some() && entry.handles.is_empty();
    let mut node = None;
    if emptied {
        b.add_used(&mut procs, -1);
        if procs.idle.is_none() {
            // INVARIANT: The one idle entry of the bucket.
            procs.idle = Some(key);
        } else {
            // Dropping the entry frees nothing but its node: its list is
            // empty.
            node = procs.tree.remove_node(&key);
        }
    }
    drop(procs);
    // A tree node is freed outside the lock; the handle goes to the caller.
    drop(node);
    removed
}

/// The exec hook client: revokes the handles of the exec'ing process that
/// the policy in force (the stricter of the module's and the handle's)
/// says this exec revokes.
///
/// Runs in the exec'ing task, in process context with preemption enabled,
/// with `signal->exec_update_lock` held for writing (see `exechook`).
pub(crate) fn on_exec(event: &ExecEvent<'_>) {
    let task = event.task;
    let group = refs::CurrentGroupPid::of(task);
    let key = group.ino();
    let b = bucket(key);
    // Relaxed is enough: an open registers under the exec'ing process's
    // `exec_update_lock`, which this exec holds for writing, so a handle on
    // this process is either visible here or opened after the exec.
    if b.used.load(Relaxed) == 0 {
        return;
    }
    // From here on the hook takes locks. They cannot sleep (the module
    // refuses PREEMPT_RT), but a sleeping task would be quiescent for RCU
    // Tasks: count this task in flight, so that unload waits for it whatever
    // the locks do.
    let _inflight = InFlight::enter();
    let (tgid, gen_now) = (task.tgid_nr(), task.self_exec_id());
    let module_policy = crate::policy::module_policy();
    let procs = b.procs.lock();
    let Some(entry) = procs.tree.get(&key) else {
        return;
    };
    let (mut revoked, mut changed) = (false, false);
    for handle in entry.handles.iter() {
        // Before anything else: a thread handle forgets a thread that
        // `de_thread()` replaced (`handle::ThreadId`), whatever the policy.
        changed |= handle.on_exec_thread();
        let policy = core::cmp::max(module_policy, handle.policy());
        let Some(reason) = policy.revokes(event.secureexec) else {
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
    drop(procs);
    if revoked {
        // Writers check and send under the target's siglock (`Handle::send`).
        // Taking it once, after marking, waits out every write already past
        // its check, and every later write sees the marks: no signal through
        // a revoked handle is sent once the hook is done.
        // SAFETY: Called by the exec'ing task itself, in process context.
        unsafe { ffi::prockill_sighand_barrier() };
    }
    if revoked || changed {
        // One wake-up for the whole process, with no lock held: every poller
        // of a handle on it waits on this queue (a handle on the group's pid
        // waits on it as its own; any other registers on it too,
        // `Handle::group`). Waking per handle, under the bucket lock, cost
        // handles × waiters with preemption disabled, and anyone can add
        // waiters to any process's queue (`pidfd_open()` and epoll). Now it
        // costs what the kernel's own exit notification does
        // (`do_notify_pidfd()`, once per event). Pidfd pollers wake for
        // nothing and poll again.
        // SAFETY: The queue is `current`'s group pid's, valid while it runs.
        unsafe { bindings::__wake_up(group.wait_queue(), TASK_NORMAL, 0, core::ptr::null_mut()) };
    }
}

/// `TASK_NORMAL` for `__wake_up()`.
const TASK_NORMAL: kernel::ffi::c_uint =
    bindings::TASK_INTERRUPTIBLE | bindings::TASK_UNINTERRUPTIBLE;

/// The current task inside the glue's SRCU read side, which unload waits
/// out before the module's code goes away.
///
/// # Invariants
///
/// `token` is what `prockill_inflight_enter` returned to this task, not
/// yet passed to `prockill_inflight_leave`.
struct InFlight {
    token: c_ulong,
    /// Left by the task that entered: not `Send`.
    _not_send: PhantomData<*mut ()>,
}

impl InFlight {
    fn enter() -> Self {
        // SAFETY: Enters an SRCU read side; `Drop` leaves it.
        let token = unsafe { ffi::prockill_inflight_enter() };
        // INVARIANT: Entered just now by this task.
        InFlight {
            token,
            _not_send: PhantomData,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // SAFETY: `token` came from `prockill_inflight_enter` in this task
        // and is left once (type invariant).
        unsafe { ffi::prockill_inflight_leave(self.token) };
    }
}
