// SPDX-License-Identifier: GPL-2.0

//! The references and locks through which the module reads `struct pid`,
//! `task_struct`, `signal_struct` and `cred` fields.
//!
//! Every such read in the module goes through a type of this file, and each
//! type names what keeps the object valid while it is borrowed:
//!
//! - [`NodePid`]: the `struct pid` of a kill node's inode, which the inode
//!   holds counted; a handle keeps one, and the handle never outlives the
//!   file, which holds the inode (see `handle::Handle`'s invariants);
//! - `ARef<Task>`: a counted task (`get_task_struct()`), from
//!   [`NodePid::task`];
//! - `&'a Task` with `'a` the life of an [`rcu::Guard`]: a task found under
//!   the RCU read lock ([`NodePid::task_rcu`]); `release_task()` frees it only
//!   after a grace period (`put_task_struct_rcu_user()`);
//! - [`ExecReadGuard`]: `signal->exec_update_lock` held for reading, which
//!   keeps `self_exec_id` and the credentials an exec installs from changing;
//! - [`SigLockGuard`]: `sighand->siglock` of one task, the lock every signal
//!   send holds; it borrows the task it locked, and the send requires it.
//!
//! `task->signal` is set at fork and freed with the last reference to the
//! `task_struct` (`__put_task_struct()`), so it is valid wherever the task
//! is. Pointers *inside* it are not: `signal->pids[PIDTYPE_TGID]` is set to
//! NULL by `__unhash_process()` when the group's last thread is released,
//! whatever references the reader holds. It is read only under RCU with a
//! NULL check ([`tgid_pid`]; NULL means "gone") or for `current`
//! ([`CurrentGroupPid`]), which cannot have been released.
//!
//! `docs/handle-life.md` ("What keeps each read valid") lists every read.

use crate::ffi;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::ffi::c_ulong;
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::rcu;
use kernel::task::{CurrentTask, Task};

/// A `struct pid` that some reference or lock keeps valid while the value
/// is borrowed; the fields the module reads of a pid, read through it.
///
/// # Safety
///
/// `as_ptr()` returns a valid `struct pid` for as long as `self` is
/// borrowed (each implementor's invariant says why).
pub(crate) unsafe trait PidRef {
    /// The raw pointer, valid while `self` is borrowed.
    fn as_ptr(&self) -> *mut bindings::pid;

    /// The pidfs inode number: unique for the life of the system.
    fn ino(&self) -> u64 {
        // SAFETY: The pid is valid (trait requirement); `ino` is set by
        // `alloc_pid()` before the pid is published and never changes.
        unsafe { (*self.as_ptr()).__bindgen_anon_1.ino }
    }

    /// The pid's `wait_pidfd` queue, on which pidfd and node pollers wait.
    fn wait_queue(&self) -> *mut bindings::wait_queue_head {
        // SAFETY: The pid is valid (trait requirement); the queue is
        // initialized by `alloc_pid()` and lives as long as the pid.
        unsafe { &raw mut (*self.as_ptr()).wait_pidfd }
    }
}

/// The `struct pid` of a kill node's inode (`proc_pid(inode)`), not
/// counted by this value: the inode holds the reference.
///
/// # Invariants
///
/// `self.0` is a valid `struct pid` for as long as this value exists: it is
/// the pid of an inode that stays alive at least that long.
pub(crate) struct NodePid(NonNull<bindings::pid>);

// SAFETY: A `struct pid` may be used from any thread; this value only reads
// fields that never change or calls functions that lock internally.
unsafe impl Send for NodePid {}
// SAFETY: As above: shared access is read-only.
unsafe impl Sync for NodePid {}

impl NodePid {
    /// The `struct pid` a kill-node inode stands for, uncounted.
    ///
    /// # Safety
    ///
    /// `inode` is a live procfs pid inode, and it stays alive for as long
    /// as the returned value exists.
    pub(crate) unsafe fn of_inode(inode: *const bindings::inode) -> Option<Self> {
        // SAFETY: `inode` is a live procfs pid inode (safety requirement).
        let pid = unsafe { ffi::prockill_inode_pid_uncounted(inode) };
        // INVARIANT: The inode holds a counted reference on its pid until it
        // is evicted, and it outlives this value (safety requirement).
        NonNull::new(pid).map(NodePid)
    }

    /// The task using this pid as its PID (`PIDTYPE_PID`), counted.
    pub(crate) fn task(&self) -> Option<ARef<Task>> {
        // SAFETY: The pid is valid (type invariant). `get_pid_task` returns
        // a counted reference or null.
        let t = unsafe { bindings::get_pid_task(self.as_ptr(), bindings::pid_type_PIDTYPE_PID) };
        // SAFETY: `Task` is a transparent wrapper of `task_struct`, and we
        // own the reference `get_pid_task` took, which `ARef` releases.
        NonNull::new(t).map(|t| unsafe { ARef::from_raw(t.cast::<Task>()) })
    }

    /// Whether `task` is the task using this pid as its PID now.
    pub(crate) fn is_task_of(&self, task: &Task) -> bool {
        let rcu = rcu::read_lock();
        self.task_rcu(&rcu)
            .is_some_and(|t| core::ptr::eq(t.as_ptr(), task.as_ptr()))
    }

    /// The task using this pid as its PID, valid while `_rcu` is held.
    pub(crate) fn task_rcu<'a>(&self, _rcu: &'a rcu::Guard) -> Option<&'a Task> {
        // SAFETY: The pid is valid (type invariant); `pid_task` needs the RCU
        // read lock, which `_rcu` holds.
        let t = unsafe { bindings::pid_task(self.as_ptr(), bindings::pid_type_PIDTYPE_PID) };
        // SAFETY: A task found under RCU is freed only after a grace period
        // (`release_task()` → `put_task_struct_rcu_user()` → `call_rcu()`),
        // so its usage count stays positive while `_rcu`, and so `'a`, lasts.
        // `Task` is a transparent wrapper of `task_struct`.
        NonNull::new(t).map(|t| unsafe { &*t.as_ptr().cast::<Task>() })
    }
}

impl NodePid {
    /// `current` as the sender of a signal to this pid, if its pid
    /// namespace sees the pid (is the pid's namespace or an ancestor of it,
    /// `pidfd_send_signal()`'s rule); `None` otherwise.
    pub(crate) fn sender(&self) -> Option<Sender> {
        // SAFETY: The pid is valid (type invariant); the function reads
        // `current`'s own pids, which `current` keeps while it runs.
        let si_pid = unsafe { ffi::prockill_sender_vnr(self.as_ptr()) };
        // INVARIANT: Non-zero means the namespace sees the pid, and it is
        // `current`'s thread-group id there.
        (si_pid != 0).then_some(Sender {
            si_pid,
            _current: PhantomData,
        })
    }
}

/// `current` as the sender of a signal to a [`NodePid`] whose pid namespace
/// sees it, from [`NodePid::sender`]; not `Send`, as it describes the task
/// that made it.
///
/// # Invariants
///
/// `current`'s pid namespace is the namespace of the pid it was made for or
/// an ancestor of it, and `si_pid` is `current`'s thread-group id in it
/// (`task_tgid_vnr(current)`). Both hold for as long as `current` runs:
/// a task's pid namespace and thread group never change.
#[derive(Clone, Copy)]
pub(crate) struct Sender {
    si_pid: bindings::pid_t,
    _current: PhantomData<*mut CurrentTask>,
}

impl Sender {
    /// The `si_pid` of the signals this sender sends.
    pub(crate) fn si_pid(self) -> bindings::pid_t {
        self.si_pid
    }
}

// SAFETY: Valid while the value exists (type invariant).
unsafe impl PidRef for NodePid {
    fn as_ptr(&self) -> *mut bindings::pid {
        self.0.as_ptr()
    }
}

/// The pidfs inode number of `task`'s thread group
/// (`signal->pids[PIDTYPE_TGID]->ino`), the registry key of its process, and
/// that `struct pid`'s address (to compare, not to use once `_rcu` is
/// dropped); `None` once the group's last thread has been released.
///
/// This is the read that used to follow a liveness check with a raw
/// dereference: for a task that is not `current` the pointer can become
/// NULL at any moment (`__unhash_process()` clears it when the group's last
/// thread is released). It is read once, under RCU, and checked; the pid it
/// leads to is freed only an RCU grace period after it was detached
/// (`free_pid()` → `call_rcu()`), so its `ino` can be read under the same
/// guard. No reference is taken: [`GroupPid::of`] takes one when needed.
pub(crate) fn tgid_pid(task: &Task, _rcu: &rcu::Guard) -> Option<(u64, *const bindings::pid)> {
    // SAFETY: `task` is valid while borrowed, and so is its signal struct;
    // the slot is written under `tasklist_lock` by `__change_pid()` and read
    // once here (a volatile read: `rcu_dereference()` without its lockdep
    // check).
    let pid = unsafe {
        core::ptr::read_volatile(
            &(*(*task.as_ptr()).signal).pids[bindings::pid_type_PIDTYPE_TGID as usize],
        )
    };
    let pid = NonNull::new(pid)?;
    // SAFETY: Non-null under `_rcu`: the pid stays allocated until the
    // guard is dropped; `ino` never changes after `alloc_pid()`.
    let ino = unsafe { (*pid.as_ptr()).__bindgen_anon_1.ino };
    Some((ino, pid.as_ptr()))
}

/// A counted reference on a thread group's `struct pid`
/// (`get_task_pid(task, PIDTYPE_TGID)`), dropped with `put_pid()`.
///
/// # Invariants
///
/// `self.0` is a `struct pid` on which this value owns one reference.
pub(crate) struct GroupPid(NonNull<bindings::pid>);

// SAFETY: A counted `struct pid` may be used and put from any thread.
unsafe impl Send for GroupPid {}
// SAFETY: Shared access only reads the wait queue's address.
unsafe impl Sync for GroupPid {}

impl GroupPid {
    /// The `struct pid` of `task`'s thread group, counted; `None` once the
    /// group's last thread has been released.
    pub(crate) fn of(task: &Task) -> Option<Self> {
        // SAFETY: `task` is valid while borrowed. `get_task_pid()` reads the
        // slot under RCU, checks it, and returns a counted pid or NULL.
        let p = unsafe { bindings::get_task_pid(task.as_ptr(), bindings::pid_type_PIDTYPE_TGID) };
        // INVARIANT: We own the reference `get_task_pid()` took.
        NonNull::new(p).map(GroupPid)
    }
}

// SAFETY: Counted while the value exists (type invariant).
unsafe impl PidRef for GroupPid {
    fn as_ptr(&self) -> *mut bindings::pid {
        self.0.as_ptr()
    }
}

impl Drop for GroupPid {
    fn drop(&mut self) {
        // SAFETY: We own one reference (type invariant).
        unsafe { bindings::put_pid(self.0.as_ptr()) };
    }
}

/// The `struct pid` of `current`'s thread group: the exec hook's registry
/// key (its `ino`) and the queue on which it announces revocations.
///
/// # Invariants
///
/// `self.0` is `current`'s `signal->pids[PIDTYPE_TGID]`, valid while the
/// borrowed `CurrentTask` is (`'a`).
pub(crate) struct CurrentGroupPid<'a>(NonNull<bindings::pid>, PhantomData<&'a CurrentTask>);

impl<'a> CurrentGroupPid<'a> {
    /// `current`'s thread-group pid.
    pub(crate) fn of(cur: &'a CurrentTask) -> Self {
        const TGID: usize = bindings::pid_type_PIDTYPE_TGID as usize;
        // SAFETY: `cur` is running, so it has not been released: its thread
        // group's pid, `signal->pids[PIDTYPE_TGID]`, is set (only
        // `__unhash_process()` in `release_task()` of the group's last thread
        // clears it, and `release_task()` never runs on a running task), and a
        // pid stays allocated while a task is attached to it. `signal` itself
        // is valid as long as the task is.
        let pid = unsafe { (*(*cur.as_ptr()).signal).pids[TGID] };
        // SAFETY: Not null, as above.
        let pid = unsafe { NonNull::new_unchecked(pid) };
        // INVARIANT: `current`'s group pid, attached while `cur` runs.
        CurrentGroupPid(pid, PhantomData)
    }
}

// SAFETY: Attached to `current` while the borrowed `CurrentTask` is (type
// invariant).
unsafe impl PidRef for CurrentGroupPid<'_> {
    fn as_ptr(&self) -> *mut bindings::pid {
        self.0.as_ptr()
    }
}

/// The fields of a task the module reads, each valid for as long as the
/// `&Task` is (a reference, RCU, or `current`): see the module comment.
pub(crate) trait TaskFields {
    /// `signal->live == 0`: no thread of the group is left running.
    fn group_exited(&self) -> bool;
    /// `exit_state != 0`: this thread is a zombie or dead.
    fn thread_exited(&self) -> bool;
    /// `start_boottime` (`de_thread()` may copy the leader's into it).
    fn start_boottime(&self) -> u64;
    /// `self_exec_id`; stable under [`ExecReadGuard`].
    fn self_exec_id(&self) -> u64;
    /// `signal->exec_update_lock`.
    fn exec_update_lock(&self) -> *mut bindings::rw_semaphore;
    /// `tgid`, the process id in the initial namespace (the kernel crate's
    /// `Task::tgid()` appeared in 7.3; 7.2 lacks it).
    fn tgid_nr(&self) -> bindings::pid_t;
}

impl TaskFields for Task {
    fn group_exited(&self) -> bool {
        // SAFETY: The task and its signal struct are valid while `self` is
        // borrowed (see the module comment); `live` is an atomic counter,
        // read once.
        unsafe { core::ptr::read_volatile(&(*(*self.as_ptr()).signal).live.counter) == 0 }
    }

    fn thread_exited(&self) -> bool {
        // SAFETY: The task is valid while `self` is borrowed; `exit_state`
        // is written by `exit_notify()` / `release_task()`, read once.
        unsafe { core::ptr::read_volatile(&(*self.as_ptr()).exit_state) != 0 }
    }

    fn start_boottime(&self) -> u64 {
        // SAFETY: The task is valid while `self` is borrowed; `de_thread()`
        // may store the leader's value concurrently: read once.
        unsafe { core::ptr::read_volatile(&(*self.as_ptr()).start_boottime) }
    }

    fn self_exec_id(&self) -> u64 {
        // SAFETY: The task is valid while `self` is borrowed; an exec
        // increments it with `WRITE_ONCE()`: read once.
        unsafe { core::ptr::read_volatile(&(*self.as_ptr()).self_exec_id) }
    }

    fn exec_update_lock(&self) -> *mut bindings::rw_semaphore {
        // SAFETY: The task and its signal struct are valid while `self` is
        // borrowed; the lock is initialized at fork.
        unsafe { &raw mut (*(*self.as_ptr()).signal).exec_update_lock }
    }

    fn tgid_nr(&self) -> bindings::pid_t {
        // SAFETY: The task is valid while `self` is borrowed; `tgid` is set
        // at fork and never changes.
        unsafe { (*self.as_ptr()).tgid }
    }
}

/// `signal->exec_update_lock` of a task, held for reading.
///
/// # Invariants
///
/// `task`'s `signal->exec_update_lock` is held for reading by this value;
/// `task` is a counted reference, which keeps the signal struct (and so
/// the lock) allocated.
pub(crate) struct ExecReadGuard<'a> {
    task: &'a ARef<Task>,
}

impl<'a> ExecReadGuard<'a> {
    /// Takes the lock for reading; `EINTR` if a fatal signal interrupts.
    pub(crate) fn lock(task: &'a ARef<Task>) -> Result<Self> {
        // SAFETY: `task` is counted, so the lock is valid and initialized.
        let ret = unsafe { bindings::down_read_killable(task.exec_update_lock()) };
        if ret != 0 {
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: We hold the lock for reading.
        Ok(ExecReadGuard { task })
    }
}

impl Drop for ExecReadGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: We hold the lock for reading (type invariant).
        unsafe { bindings::up_read(self.task.exec_update_lock()) };
    }
}

/// A task's siglock (`task->sighand->siglock`, interrupts off), held.
///
/// # Invariants
///
/// `sighand` is the `sighand_struct` of `task` while this value exists, and
/// its `siglock` is held by this value, which restores `flags` when it
/// releases it (holding it keeps `task->sighand` from changing or being
/// freed).
pub(crate) struct SigLockGuard<'a> {
    task: &'a Task,
    sighand: NonNull<bindings::sighand_struct>,
    flags: c_ulong,
}

impl<'a> SigLockGuard<'a> {
    /// Locks `task`'s siglock, or returns `None` if `task` was released
    /// (it has no signal handlers left).
    pub(crate) fn lock(task: &'a Task) -> Option<Self> {
        let mut flags: c_ulong = 0;
        // SAFETY: `task` is valid while borrowed.
        let sighand = unsafe { ffi::prockill_lock_sighand(task.as_ptr(), &mut flags) };
        // Null: nothing is held, and no guard (whose drop would unlock) is built.
        let sighand = NonNull::new(sighand)?;
        // INVARIANT: A non-null return is `task->sighand`, locked.
        Some(SigLockGuard {
            task,
            sighand,
            flags,
        })
    }

    /// The task whose siglock is held.
    pub(crate) fn task(&self) -> &'a Task {
        self.task
    }
}

impl Drop for SigLockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: We hold `sighand->siglock` (type invariant), taken with
        // these flags.
        unsafe { ffi::prockill_unlock_sighand(self.sighand.as_ptr(), self.flags) };
    }
}
