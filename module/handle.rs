// SPDX-License-Identifier: GPL-2.0

//! The open kill node: a handle on one process (or thread).
//!
//! `open` binds the file to the target's `struct pid` (never its number) and
//! to the opener's credentials, which the file keeps (`file->f_cred`). From
//! then on:
//!
//! - `write` parses one signal ([`crate::signal`]) and sends it to that
//!   `struct pid`, or fails: `ESRCH` once the target has exited (even if its
//!   number now belongs to another process), `EIO` once an exec revoked the
//!   handle, `EPERM` if the *opener* may no longer signal the target,
//!   `EINVAL` for anything that is not exactly one signal;
//! - `read` shows the binding and the state as `key: value` lines;
//! - `poll` reports the target's exit (`EPOLLIN`) and revocation
//!   (`EPOLLHUP | EPOLLERR`);
//! - `ioctl` offers the same operations in binary (`PROCKILL_IOC_*`).
//!
//! Every check-then-send runs under the target's siglock, which the exec
//! hook takes once it has revoked handles: a write either sends before the
//! hook is done or sees the revocation. Open and `SET_POLICY` hold the
//! target's `signal->exec_update_lock` for reading, the lock an exec holds
//! for writing from before its new credentials until after the hook.
//!
//! Every read of a task, pid, signal or cred field goes through the types
//! of [`crate::refs`], which say what keeps the object valid.

use crate::policy::{self, Policy};
use crate::refs::{
    tgid_pid, ExecReadGuard, GroupPid, NodePid, PidRef, Sender, SigLockGuard, TaskFields,
};
use crate::registry::{self, NeedNode};
use crate::{ffi, signal, uapi};
use core::fmt::Write;
use core::mem::MaybeUninit;
use kernel::bindings;
use kernel::cred::Credential;
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
use kernel::fs::LocalFile;
use kernel::list::{ListArc, ListLinks};
use kernel::prelude::*;
use kernel::seq_file::{seq_print, SeqFile};
use kernel::sync::atomic::{Acquire, Atomic, Relaxed, Release};
use kernel::sync::{rcu, UniqueArc};
use kernel::task::Task;
use kernel::uaccess::{UserPtr, UserSlice};

/// `FMODE_WRITE` (`include/linux/fs.h`; a `__force` cast bindgen skips).
const FMODE_WRITE: u32 = 1 << 1;
/// Poll bits (`include/uapi/linux/eventpoll.h`; `__force` casts as well).
const EPOLLIN: c_uint = 0x0001;
const EPOLLERR: c_uint = 0x0008;
const EPOLLHUP: c_uint = 0x0010;
const EPOLLRDNORM: c_uint = 0x0040;

/// What a node is bound to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `/proc/<pid>/kill`: process-directed signals, as `kill(2)`.
    Process,
    /// `/proc/<pid>/task/<tid>/kill`: thread-directed, as `tgkill(2)`.
    Thread,
}

impl Kind {
    fn from_inode_private(v: usize) -> Option<Self> {
        match v as u32 {
            uapi::KIND_PROCESS => Some(Kind::Process),
            uapi::KIND_THREAD => Some(Kind::Thread),
            _ => None,
        }
    }

    const fn to_uapi(self) -> u32 {
        match self {
            Kind::Process => uapi::KIND_PROCESS,
            Kind::Thread => uapi::KIND_THREAD,
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Kind::Process => "process",
            Kind::Thread => "thread",
        }
    }

    const fn pid_type(self) -> bindings::pid_type {
        match self {
            Kind::Process => bindings::pid_type_PIDTYPE_TGID,
            Kind::Thread => bindings::pid_type_PIDTYPE_PID,
        }
    }
}

/// The thread a thread handle was opened on, remembered by the address of
/// its `task_struct`, which is never dereferenced and not counted: a handle
/// pins its `struct pid` (through the inode), as a pidfd does, and no task.
/// A process handle has none (`addr` 0): it follows whichever task its pid
/// leads to, as long as the thread group lives (`kill(2)` semantics), while
/// a thread handle must not follow its pid to another thread. The pid may
/// come to lead to another thread: a non-leader exec hands the leader's pid
/// to the exec'ing thread (`exchange_tids()`), which also takes the leader's
/// start time, so only the task itself tells them apart.
///
/// An address alone is not an identity: once the thread is freed, another
/// task may get its slot (issue 15: a handle on a leader that a non-leader
/// exec replaced reached the thread of a later exec that landed in the old
/// leader's slot). What makes the comparison sound is that a pid only ever
/// comes to lead to *another* task through `exchange_tids()` in
/// `de_thread()`, and every such exchange is followed, in the same exec and
/// before the group can exec again, by the exec hook, which calls
/// [`ThreadId::on_exec`] on every thread handle of the process and forgets
/// the address of each whose pid no longer leads to it.
///
/// # Invariants
///
/// While `addr` is not 0, a task with address `addr` that the handle's pid
/// leads to (`PIDTYPE_PID`) is the thread the handle was opened on:
///
/// - at open, `addr` is the pid's task, counted by the opener until the
///   handle is registered, and checked not exited under
///   `exec_update_lock`, which a later exec takes before its hook;
/// - a pid whose task is released never leads to a task again
///   (`attach_pid()` is only called on new pids), except by an exchange;
/// - an exchange puts on the pid another live task, at another address
///   (the two are alive together), and the exec's hook clears `addr` before
///   the group's next exchange (execs of a group are serialised by
///   `cred_guard_mutex`, held from before `de_thread()` to after the hook).
///   An exec that fails after `de_thread()` never reaches the hook, but
///   then the group is killed (`force_fatal_sig()`) and never execs again.
struct ThreadId {
    addr: Atomic<usize>,
}

impl ThreadId {
    /// No thread: a process handle's.
    const fn none() -> Self {
        ThreadId {
            addr: Atomic::new(0),
        }
    }

    /// Remembers `task`, which the opener holds counted and found not
    /// exited under its `exec_update_lock` (see the invariants).
    fn new(task: &Task) -> Self {
        ThreadId {
            addr: Atomic::new(task.as_ptr() as usize),
        }
    }

    /// Whether `task`, which the handle's pid leads to now (read before this
    /// call), is the thread the handle was opened on.
    fn is(&self, task: &Task) -> bool {
        // Orders the caller's read of the pid's task before the read of
        // `addr`. Pairs with the exec hook's store of 0, which reaches the
        // next exchange's `rcu_assign_pointer()` through the exec's unlock
        // of `cred_guard_mutex` and the next exec's lock of it: a reader
        // that sees the task of the next exchange sees 0 here.
        // `bindings::smp_rmb()`, not `kernel::sync::barrier`: its API differs
        // between 7.2 and 7.3.
        // SAFETY: A memory barrier has no preconditions.
        unsafe { bindings::smp_rmb() };
        let addr = self.addr.load(Relaxed);
        addr != 0 && addr == task.as_ptr() as usize
    }

    /// The exec hook's part: forgets the thread if the pid no longer leads
    /// to it (`now` is the pid's task, if any, read after `de_thread()`),
    /// and says whether it did. Called with the bucket lock held, so calls
    /// for one handle do not race; readers use [`ThreadId::is`].
    fn on_exec(&self, now: Option<&Task>) -> bool {
        let addr = self.addr.load(Relaxed);
        if addr != 0 && now.map(|t| t.as_ptr() as usize) != Some(addr) {
            self.addr.store(0, Relaxed);
            return true;
        }
        false
    }
}

/// The state a handle reports.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Alive,
    Exited,
    Revoked(u32),
}

impl State {
    const fn to_uapi(self) -> u32 {
        match self {
            State::Alive => uapi::STATE_ALIVE,
            State::Exited => uapi::STATE_EXITED,
            State::Revoked(_) => uapi::STATE_REVOKED,
        }
    }

    const fn name(self) -> &'static str {
        match self {
            State::Alive => "alive",
            State::Exited => "exited",
            State::Revoked(_) => "revoked",
        }
    }
}

/// What [`Handle::snapshot`] reads.
struct Snapshot {
    state: State,
    policy: Policy,
    info: uapi::Info,
}

const fn reason_name(reason: u32) -> &'static str {
    match reason {
        uapi::REVOKE_SETID_EXEC => "setid-exec",
        uapi::REVOKE_EXEC => "exec",
        _ => "-",
    }
}

/// One open kill node.
///
/// # Invariants
///
/// - `key` is the pidfs inode number of the thread group that `pid`'s task
///   belonged to at open; the handle is in that key's registry list from
///   open until release.
/// - That list entry is the handle's only owner: one `ListArc`, from which
///   no `Arc` is ever cloned. The file's `private_data` borrows the handle,
///   and `release` takes the `ListArc` back out of the list and drops it, so
///   the handle never outlives its file's `release`.
/// - `pid` is `proc_pid()` of the file's inode. The file holds its dentry,
///   and so the inode, until after `release` returns; the inode holds its
///   pid counted until it is evicted. So `pid` is valid for the handle's
///   whole life, and taking a reference of its own would only cost two
///   atomic operations per open and close.
#[pin_data]
pub(crate) struct Handle {
    pid: NodePid,
    kind: Kind,
    /// The thread of a thread handle ([`ThreadId::none`] for a process).
    thread: ThreadId,
    /// The thread group's `struct pid`, counted, when it is not `pid`
    /// (thread handles, and process handles opened through a non-leader's
    /// `/proc/<tid>`): pollers wait on its queue too, where the exec hook
    /// announces revocation once per exec (`registry::on_exec`).
    group: Option<GroupPid>,
    key: u64,
    /// Opened read-only by someone who may not signal the target: counted
    /// against the target's limit (`registry::MAX_FOREIGN`).
    foreign: bool,
    start_time: u64,
    exec_gen: u64,
    opener_tgid: bindings::pid_t,
    opener_uid: bindings::kuid_t,
    /// `opener_uid` in the opener's own user namespace (`from_kuid()`, so
    /// `-1` if unmapped): the `si_uid` of every write made from that
    /// namespace, computed once.
    si_uid_opener_ns: bindings::uid_t,
    /// The handle's own policy (a `Policy` as UAPI number); only grows
    /// (`set_policy`'s compare-and-exchange).
    policy: Atomic<u32>,
    /// `REVOKE_NONE`, or why an exec revoked the handle; set once.
    revoked: Atomic<u32>,
    #[pin]
    links: ListLinks,
}

// With `Arc`'s count in front, a handle is one `kmalloc-96` object; one
// more word would make it a `kmalloc-128` one (`docs/benchmarks.md`, memory
// per handle).
const _: () = assert!(core::mem::size_of::<Handle>() <= 88);

kernel::list::impl_list_arc_safe! {
    impl ListArcSafe<0> for Handle { untracked; }
}
kernel::list::impl_list_item! {
    impl ListItem<0> for Handle { using ListLinks { self.links }; }
}

impl Handle {
    /// The registry key: pidfs inode number of the target's thread group.
    pub(crate) fn key(&self) -> u64 {
        self.key
    }

    /// Whether the handle counts against its target's limit of handles
    /// opened by those who may not signal it.
    pub(crate) fn foreign(&self) -> bool {
        self.foreign
    }

    /// The handle's own exec policy.
    pub(crate) fn policy(&self) -> Policy {
        handle_policy(self.policy.load(Relaxed))
    }

    /// The target's exec generation when the handle was opened.
    pub(crate) fn exec_gen(&self) -> u64 {
        self.exec_gen
    }

    /// The opener's tgid in the initial PID namespace.
    pub(crate) fn opener_tgid(&self) -> bindings::pid_t {
        self.opener_tgid
    }

    /// The opener's real uid in the initial user namespace.
    pub(crate) fn opener_uid_global(&self) -> bindings::uid_t {
        self.opener_uid.val
    }

    /// Marks the handle revoked for `reason`. Returns false if it already
    /// was. Called by the exec hook, which then wakes the pollers
    /// (`registry::on_exec`).
    pub(crate) fn revoke(&self, reason: u32) -> bool {
        if self.revoked.load(Acquire) != uapi::REVOKE_NONE {
            return false;
        }
        self.revoked.store(reason, Release);
        true
    }

    fn revoked_reason(&self) -> Option<u32> {
        match self.revoked.load(Acquire) {
            uapi::REVOKE_NONE => None,
            r => Some(r),
        }
    }

    fn state(&self) -> State {
        if let Some(r) = self.revoked_reason() {
            return State::Revoked(r);
        }
        match self.pid.task() {
            Some(t) if !self.gone(&t) => State::Alive,
            _ => State::Exited,
        }
    }

    /// Whether the target the handle was opened on is gone, given the task
    /// now using its `struct pid`: for a process, no thread of the group is
    /// left; for a thread, it exited, or the pid now leads to another task
    /// (see [`ThreadId`]): a thread node does not follow its TID to another
    /// thread.
    fn gone(&self, task: &Task) -> bool {
        match self.kind {
            Kind::Process => task.group_exited(),
            Kind::Thread => task.thread_exited() || !self.thread.is(task),
        }
    }

    /// The exec hook's check of a thread handle of the exec'ing process,
    /// after `de_thread()`: see [`ThreadId`]. Returns whether the handle lost
    /// its thread just now. Called with the process's bucket lock held.
    pub(crate) fn on_exec_thread(&self) -> bool {
        if self.kind != Kind::Thread {
            return false;
        }
        let rcu = rcu::read_lock();
        self.thread.on_exec(self.pid.task_rcu(&rcu))
    }

    /// The effective policy: the stricter of the module's and the handle's.
    fn effective_policy(&self) -> Policy {
        effective(self.policy())
    }

    /// The target's PID (or TID) in the caller's PID namespace, 0 if none.
    fn pid_in_caller_ns(&self) -> i32 {
        // SAFETY: `pid` is valid; `pid_vnr` handles a pid without tasks.
        unsafe { bindings::pid_vnr(self.pid.as_ptr()) }
    }

    /// Sends `sig` (0 probes) with the authority of the opener (`file`).
    ///
    /// The checks and the send run under the target's siglock, the lock
    /// every signal send takes anyway (`do_send_sig_info()`), and the exec
    /// hook takes it after revoking (`registry::on_exec`): a write either
    /// sends before the hook is done or sees the revocation. Like
    /// `kill_pid_info_type()`, it looks the task up again if the one it found
    /// was released before it could lock it (an exit, or the old leader that
    /// `de_thread()` replaced). No reference is taken: RCU keeps the task.
    ///
    /// A revoked handle answers `EIO` forever, even once the target is gone.
    /// `queued` carries a `sigqueue(3)` value (`PROCKILL_IOC_SEND_VALUE`).
    fn send(&self, file: &LocalFile, sig: u32, queued: Option<i32>) -> Result {
        // The writer must see the target: its active pid namespace is the
        // target's or an ancestor of it, as `pidfd_send_signal()` requires
        // (`access_pidfd_pidns()`), with the same `EINVAL`. Otherwise `si_pid`
        // (the writer's pid in its own namespace) would name another process
        // to the receiver, and a writer in a sibling namespace would send as
        // if from an ancestor (`send_signal_locked()`'s `force`).
        let sender = self.pid.sender().ok_or(EINVAL)?;
        loop {
            let rcu = rcu::read_lock();
            let task = self.pid.task_rcu(&rcu).ok_or_else(|| self.gone_errno())?;
            // The LSMs first, under RCU and not under the siglock, where
            // `check_kill_permission()` asks them too.
            let ty = self.kind.pid_type();
            let asker = Asker::Sender(sender);
            if let Err(e) = lsm_may_signal(
                file,
                task,
                ty,
                sig,
                self.si_uid_opener_ns,
                asker,
                queued.as_ref(),
            ) {
                // A revoked or gone handle says so, whatever the LSMs say.
                self.usable(task)?;
                return Err(e);
            }
            let Some(locked) = SigLockGuard::lock(task) else {
                continue;
            };
            return self.send_locked(file, &locked, sender, sig, queued, &rcu);
        }
    }

    /// The error for a target with no task left: `EIO` if revoked, else `ESRCH`.
    fn gone_errno(&self) -> Error {
        if self.revoked_reason().is_some() {
            EIO
        } else {
            ESRCH
        }
    }

    /// `EIO` if an exec revoked the handle, `ESRCH` if its target is gone
    /// (`task` being what its `struct pid` leads to now).
    fn usable(&self, task: &Task) -> Result {
        if self.revoked_reason().is_some() {
            return Err(EIO);
        }
        if self.gone(task) {
            return Err(ESRCH);
        }
        Ok(())
    }

    /// The checks and the send, with the target's siglock held (`locked`,
    /// which names the task) and the RCU read lock (for `may_signal`).
    fn send_locked(
        &self,
        file: &LocalFile,
        locked: &SigLockGuard<'_>,
        sender: Sender,
        sig: u32,
        queued: Option<i32>,
        rcu: &rcu::Guard,
    ) -> Result {
        let task = locked.task();
        self.usable(task)?;
        if !may_signal(file, task, rcu) {
            return Err(EPERM);
        }
        if sig == 0 {
            return Ok(());
        }
        let (t, ty, opener) = (task.as_ptr(), self.kind.pid_type(), file.cred().as_ptr());
        let (uid, si_pid) = (self.si_uid_opener_ns, sender.si_pid());
        let ret = match queued {
            // SAFETY: `task` is valid (borrowed under `rcu`) and `locked`
            // holds its siglock, as `prockill_send_signal_locked` requires;
            // `file.cred()` is valid while the file is.
            None => unsafe {
                ffi::prockill_send_signal_locked(t, ty, sig as c_int, opener, uid, si_pid)
            },
            // SAFETY: As above (`prockill_send_queued_locked` has the same
            // requirements).
            Some(v) => unsafe {
                ffi::prockill_send_queued_locked(t, ty, sig as c_int, opener, uid, si_pid, v)
            },
        };
        if ret == 0 {
            Ok(())
        } else {
            Err(Error::from_errno(ret))
        }
    }

    /// `PROCKILL_IOC_SET_POLICY`: stricter only.
    fn set_policy(&self, new: Policy) -> Result {
        let task = self.pid.task().ok_or(ESRCH)?;
        let _exec = ExecReadGuard::lock(&task)?;
        if self.revoked_reason().is_some() {
            return Err(EIO);
        }
        // A compare-and-exchange, not a check then a store: two threads may
        // set the policy of one file at once (the exec lock is shared), and
        // a store of the laxer of two policies after the stricter one would
        // lower it.
        let mut cur = self.policy.load(Relaxed);
        loop {
            if new < effective(handle_policy(cur)) {
                return Err(EPERM);
            }
            match self.policy.cmpxchg(cur, new.to_uapi(), Relaxed) {
                Ok(_) => return Ok(()),
                Err(now) => cur = now,
            }
        }
    }

    /// The handle's state and effective policy, read once, with the
    /// `PROCKILL_IOC_INFO` fields they go into; `read` and fdinfo print
    /// from the same snapshot so their lines agree with each other.
    fn snapshot(&self, opener: &Credential) -> Snapshot {
        let state = self.state();
        let policy = self.effective_policy();
        // SAFETY: `opener` is valid while borrowed, and its `uid` never
        // changes; `current_user_ns()` is the reader's.
        let opener_uid = unsafe {
            bindings::from_kuid_munged(bindings::current_user_ns(), (*opener.as_ptr()).uid)
        };
        let info = uapi::Info {
            pid: self.pid_in_caller_ns(),
            kind: self.kind.to_uapi(),
            state: state.to_uapi(),
            policy: policy.to_uapi(),
            handle_policy: self.policy().to_uapi(),
            revoke_reason: self.revoked_reason().unwrap_or(uapi::REVOKE_NONE),
            opener_uid,
            reserved: 0,
            pidfs_ino: self.pid.ino(),
            start_time: self.start_time,
            exec_gen: self.exec_gen,
        };
        Snapshot {
            state,
            policy,
            info,
        }
    }

    /// The text `read` returns.
    fn status(&self, opener: &Credential, out: &mut impl Write) -> core::fmt::Result {
        let Snapshot {
            state,
            policy,
            info: i,
        } = self.snapshot(opener);
        let reason = reason_name(i.revoke_reason);
        writeln!(out, "pid: {}", i.pid)?;
        writeln!(out, "kind: {}", self.kind.name())?;
        writeln!(out, "state: {}", state.name())?;
        writeln!(out, "reason: {reason}")?;
        writeln!(out, "policy: {}", policy.name())?;
        writeln!(out, "handle_policy: {}", self.policy().name())?;
        writeln!(out, "start_time: {}", i.start_time)?;
        writeln!(out, "exec_gen: {}", i.exec_gen)?;
        writeln!(out, "pidfs_ino: {}", i.pidfs_ino)?;
        writeln!(out, "opener_uid: {}", i.opener_uid)
    }
}

/// Whether the credentials of `file` (its opener's) may signal `task`:
/// `kill_ok_by_cred()` of `kernel/signal.c`, applied to the opener. The
/// caller holds the RCU read lock (`_rcu`), under which the task's
/// credentials are read.
fn may_signal(file: &LocalFile, task: &Task, rcu: &rcu::Guard) -> bool {
    uid_may_signal(file.cred(), task, rcu)
        // SAFETY: `file` and the target's `user_ns` (under `rcu`) are valid.
        // `send` calls this under the target's siglock, interrupts off,
        // where `kill(2)` never asks: `file_ns_capable` asks the LSMs'
        // `capable` hooks, which do not sleep (BPF's is not in bpf_lsm.c's
        // sleepable set; SELinux and AppArmor audit with `GFP_ATOMIC`).
        || unsafe { bindings::file_ns_capable(file.as_ptr(), target_user_ns(task, rcu), CAP_KILL) }
}

/// `CAP_KILL`, as the `c_int` the capability functions take.
const CAP_KILL: c_int = bindings::CAP_KILL as c_int;

/// The user namespace of `task`'s real credentials, valid under `_rcu`.
fn target_user_ns(task: &Task, _rcu: &rcu::Guard) -> *mut bindings::user_namespace {
    // SAFETY: `task` is valid while borrowed; `real_cred` is an
    // RCU-protected pointer (`__task_cred()`), read once under `_rcu`, and
    // the credential it points to, whose `user_ns` never changes, is freed
    // only after a grace period.
    unsafe { (*core::ptr::read_volatile(&(*task.as_ptr()).real_cred)).user_ns }
}

/// The uid part of `kill_ok_by_cred()`: `opener`'s real or effective uid is
/// `task`'s real or saved uid. Reads the task's credentials under `_rcu`.
fn uid_may_signal(opener: &Credential, task: &Task, _rcu: &rcu::Guard) -> bool {
    let c = opener.as_ptr();
    // SAFETY: `task` is valid while borrowed; `real_cred` is an
    // RCU-protected pointer (`__task_cred()`), read once under `_rcu`.
    let t = unsafe { core::ptr::read_volatile(&(*task.as_ptr()).real_cred) };
    // SAFETY: `c` is valid while `opener` is borrowed; `t` stays valid until
    // `_rcu` is dropped (credentials are freed after a grace period). The
    // uid fields of a committed credential never change.
    unsafe {
        let (c, t) = (&*c, &*t);
        c.euid.val == t.suid.val
            || c.euid.val == t.uid.val
            || c.uid.val == t.suid.val
            || c.uid.val == t.uid.val
    }
}

/// Who asks the LSMs, which decides the `si_pid` of the siginfo they see.
/// Only the LSM call reads it, and kernels without `CONFIG_SECURITY` have
/// none.
#[derive(Clone, Copy)]
#[cfg_attr(not(CONFIG_SECURITY), expect(dead_code))]
enum Asker {
    /// A write or SEND, by a writer whose pid namespace sees the target.
    Sender(Sender),
    /// The opener at open, whose pid namespace need not see the target
    /// (it may open through another namespace's procfs): its
    /// `task_tgid_vnr()`, as `kill(2)` would name it.
    Opener,
}

/// What the LSMs (`security_task_kill()`) say of the opener (`file`'s
/// credentials) sending `sig` to `task`; `si_uid` is the opener's uid in its
/// own user namespace (`Handle::si_uid_opener_ns`); `asker` gives `si_pid`;
/// `queued` the value of a `sigqueue(3)`-like send, whose siginfo the LSMs
/// then see. `task` must stay valid for the call (RCU, as in `send`, or a
/// reference, as at open).
#[cfg(CONFIG_SECURITY)]
fn lsm_may_signal(
    file: &LocalFile,
    task: &Task,
    ty: bindings::pid_type,
    sig: u32,
    si_uid: bindings::uid_t,
    asker: Asker,
    queued: Option<&i32>,
) -> Result {
    let si_pid = match asker {
        Asker::Sender(sender) => sender.si_pid(),
        Asker::Opener => kernel::current!().tgid_nr_ns(None),
    };
    let value = queued.map_or(core::ptr::null(), core::ptr::from_ref);
    // SAFETY: `task` is valid while borrowed; `file.cred()` is valid while
    // the file is; `value` is null or points to `queued`, borrowed here.
    let ret = unsafe {
        ffi::prockill_lsm_task_kill(
            task.as_ptr(),
            ty,
            sig as c_int,
            file.cred().as_ptr(),
            si_uid,
            si_pid,
            value,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(Error::from_errno(ret))
    }
}

/// Without `CONFIG_SECURITY` there are no LSMs to ask (the kernel's own
/// `security_task_kill()` is then an inline that returns 0).
#[cfg(not(CONFIG_SECURITY))]
fn lsm_may_signal(
    _file: &LocalFile,
    _task: &Task,
    _ty: bindings::pid_type,
    _sig: u32,
    _si_uid: bindings::uid_t,
    _asker: Asker,
    _queued: Option<&i32>,
) -> Result {
    Ok(())
}

/// [`may_signal`] at open, where a process may also signal its own thread
/// group, as `check_kill_permission()` allows. For a read-only open (which
/// only decides whether the handle counts against the target's limit of
/// foreign handles) the capability is checked without an audit record: a
/// reader was not trying to kill anything. Open runs in the opener, so
/// `current`'s credentials are the file's; `opener_tgid` is `current`'s
/// tgid. The caller holds the RCU read lock (`rcu`), under which the task's
/// credentials are read.
fn may_open_for_signals(
    file: &LocalFile,
    task: &Task,
    writable: bool,
    opener_tgid: bindings::pid_t,
    rcu: &rcu::Guard,
) -> bool {
    if task.tgid_nr() == opener_tgid {
        return true;
    }
    if writable {
        return may_signal(file, task, rcu);
    }
    uid_may_signal(file.cred(), task, rcu)
        // SAFETY: The target's `user_ns` is valid under `rcu`;
        // `ns_capable_noaudit` checks `current`'s credentials, the opener's.
        || unsafe { bindings::ns_capable_noaudit(target_user_ns(task, rcu), CAP_KILL) }
}

/// A handle's policy field as a `Policy`; an unknown value (there is none)
/// reads as the strictest.
fn handle_policy(v: u32) -> Policy {
    Policy::from_uapi(v).unwrap_or(Policy::Exec)
}

/// The policy in force for a handle whose own policy is `handle`: the
/// stricter of it and the module's.
fn effective(handle: Policy) -> Policy {
    core::cmp::max(policy::module_policy(), handle)
}

/// `from_kuid(ns, uid)`, with the initial namespace inline: its map is the
/// identity (`INVALID_UID` included: `(uid_t)-1` either way), from
/// `init_user_ns`'s one extent, which no one can change; most openers live
/// in it. Not munged: an unmapped uid must reach `send_signal_locked()` as
/// `-1`, which it maps to the overflow uid, and not as 65534, which it would
/// map through the writer's namespace (`pk_fill_siginfo()` in the glue).
fn uid_in(ns: *mut bindings::user_namespace, uid: bindings::kuid_t) -> bindings::uid_t {
    // Only the address is taken; nothing is read.
    let init = &raw mut bindings::init_user_ns;
    if core::ptr::eq(ns, init) {
        return uid.val;
    }
    // SAFETY: `ns` is the user namespace of a credential the caller holds,
    // which holds `ns`.
    unsafe { bindings::from_kuid(ns, uid) }
}

/// A fixed buffer implementing `fmt::Write`, for the status text.
struct TextBuf {
    buf: [u8; 512],
    len: usize,
}

impl Write for TextBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The handle of an open node file.
///
/// # Safety
///
/// `file` is a kill-node file between a successful `open` and `release`,
/// held by the caller for `'a`.
unsafe fn handle<'a>(file: *mut bindings::file) -> &'a Handle {
    // SAFETY: `open` stored a pointer to the handle in `private_data`; the
    // handle lives until `release`, which has not run (safety requirement;
    // `Handle`'s invariants).
    unsafe { &*(*file).private_data.cast::<Handle>() }
}

/// The handle of an open node file, and the file, for a file operation
/// that the VFS calls on the thread that made the system call.
///
/// # Safety
///
/// As [`handle`], and `'a` is a `read`, `write` or `ioctl` call on the
/// current thread: an `fdget_pos()` that skipped `f_pos_lock` (on an
/// unshared file) was made by this thread, as `LocalFile` requires. Not for
/// `show_fdinfo`, which runs in whoever reads `/proc/<pid>/fdinfo`.
unsafe fn handle_and_file<'a>(file: *mut bindings::file) -> (&'a Handle, &'a LocalFile) {
    // SAFETY: As `handle` (safety requirement).
    let h = unsafe { handle(file) };
    // SAFETY: `file` is valid for `'a`, and any `fdget_pos()` without the
    // lock is on this thread (safety requirement).
    let f = unsafe { LocalFile::from_raw_file(file) };
    (h, f)
}

fn errno_isize(e: Error) -> isize {
    e.to_errno() as isize
}

/// `open`: binds the file to the target and registers the handle.
///
/// # Safety
///
/// Called by the VFS with a kill-node inode and the file being opened on it.
unsafe extern "C" fn pk_open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: The VFS passes a valid inode and file being opened.
    match unsafe { open_inner(inode, file) } {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `inode` is a kill-node inode built by the glue; `file` is being opened on
/// it by the current thread.
unsafe fn open_inner(inode: *mut bindings::inode, file: *mut bindings::file) -> Result {
    // SAFETY: The glue stores the node kind in `i_private`.
    let kind = Kind::from_inode_private(unsafe { (*inode).i_private } as usize).ok_or(ENOENT)?;
    // SAFETY: `file` is valid during open, and nothing has called
    // `fdget_pos()` on a file that is not installed yet.
    let file_ref = unsafe { LocalFile::from_raw_file(file) };
    // SAFETY: As above; `f_mode` is set before `open` is called.
    let writable = unsafe { (*file).f_mode } & FMODE_WRITE != 0;

    // Nothing that may sleep or reclaim is allocated under the target's
    // `exec_update_lock`: an allocation charged to the opener's memory
    // cgroup may reclaim, and the target's exec would wait for it (any user
    // may open read-only). The handle's memory comes first; a tree node for
    // the process's registry entry, seldom needed, makes the open start
    // again with one in hand (once: `register` needs no second node; its
    // checks, the LSMs' included, are then made again).
    let mut node = None;
    loop {
        // Charged to the opener's memory cgroup, as pidfs charges its objects.
        let slot = UniqueArc::<Handle>::new_uninit(GFP_KERNEL_ACCOUNT)?;
        // SAFETY: `inode` is a procfs pid inode (built by the glue), alive
        // while it is being opened; if the open succeeds, the file holds it
        // until after `release`, which frees the handle that keeps `pid`.
        let pid = unsafe { NodePid::of_inode(inode) }.ok_or(ENOENT)?;
        let task = pid.task().ok_or(ESRCH)?;
        let exec = ExecReadGuard::lock(&task)?;
        // An exec's `de_thread()` runs before the exec takes the lock: while
        // this open waited for it, a thread's exec may have given the pid to
        // that thread and released `task`, whose credentials and exec
        // generation are then the old ones. Once the lock is held, a
        // `de_thread()` that moves the pid afterwards belongs to an exec
        // that has yet to take the lock, and its hook will see this handle.
        if !pid.is_task_of(&task) {
            continue;
        }
        let handle = locked_handle(slot, &exec, &task, pid, kind, file_ref, writable)?;
        let ptr: *const Handle = &*handle;
        // INVARIANT: The registry list takes the only owner; nothing clones it.
        match registry::register(handle, &mut node)? {
            Ok(()) => {
                drop(exec);
                // SAFETY: `file` is valid. The handle stays in the registry,
                // and so alive, until `release` takes it out (`Handle`'s
                // invariants).
                unsafe { (*file).private_data = ptr.cast_mut().cast() };
                return Ok(());
            }
            Err(NeedNode) => {
                drop(exec);
                node = Some(registry::Node::new()?);
            }
        }
    }
}

/// The checks of an open and the handle they make, in `slot`, with the
/// target's `exec_update_lock` held for reading (`_exec`, on `task`, found
/// the task of `pid` with the lock held): no exec can install credentials or
/// a new exec generation meanwhile.
fn locked_handle(
    slot: UniqueArc<MaybeUninit<Handle>>,
    _exec: &ExecReadGuard<'_>,
    task: &Task,
    pid: NodePid,
    kind: Kind,
    file_ref: &LocalFile,
    writable: bool,
) -> Result<ListArc<Handle>> {
    let exited = match kind {
        Kind::Process => task.group_exited(),
        Kind::Thread => task.thread_exited(),
    };
    if exited {
        return Err(ESRCH);
    }
    let me = kernel::current!().tgid_nr();
    // The registry key, and whether the node's pid is the group's. The
    // group's pid is read under RCU and checked, not trusted after the
    // check above: the group's last thread may be released at any moment
    // (`__unhash_process()` clears the pointer).
    let (key, own_group, may) = {
        let rcu = rcu::read_lock();
        let (key, group) = tgid_pid(task, &rcu).ok_or(ESRCH)?;
        let may = may_open_for_signals(file_ref, task, writable, me, &rcu);
        (key, core::ptr::eq(group, pid.as_ptr()), may)
    };
    let group = if own_group {
        None
    } else {
        Some(GroupPid::of(task).ok_or(ESRCH)?)
    };
    let cred = file_ref.cred().as_ptr();
    // SAFETY: `cred` is the opener's credential, held by the file; its
    // fields never change after it is committed.
    let (opener_uid, opener_ns) = unsafe { ((*cred).uid, (*cred).user_ns) };
    let si_uid_opener_ns = uid_in(opener_ns, opener_uid);
    if writable {
        if !may {
            return Err(EPERM);
        }
        // What the LSMs say of a probe (signal 0), as for `kill(pid, 0)`.
        let ty = kind.pid_type();
        lsm_may_signal(file_ref, task, ty, 0, si_uid_opener_ns, Asker::Opener, None)?;
    }
    let thread = match kind {
        Kind::Process => ThreadId::none(),
        Kind::Thread => ThreadId::new(task),
    };
    let (start_time, exec_gen) = (
        task.start_boottime(),
        // Stable: `_exec` holds `exec_update_lock`, under which exec
        // increments it.
        task.self_exec_id(),
    );
    let handle = slot.pin_init_with(try_pin_init!(Handle {
        pid,
        kind,
        thread,
        group,
        key,
        foreign: !may,
        start_time,
        exec_gen,
        opener_tgid: me,
        opener_uid,
        si_uid_opener_ns,
        policy: Atomic::new(uapi::POLICY_NEVER),
        revoked: Atomic::new(uapi::REVOKE_NONE),
        links <- ListLinks::new(),
    }))?;
    Ok(ListArc::from(handle))
}

/// `release`: takes the handle out of the registry and frees it.
///
/// # Safety
///
/// Called by the VFS once, on a file whose `open` succeeded.
unsafe extern "C" fn pk_release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `open` succeeded, so the handle is registered and alive;
    // release runs once, after every other operation on the file.
    let owned = registry::unregister(unsafe { handle(file) });
    // The handle's only owner: this frees it. Nothing borrows it any more:
    // the file's operations are over and the registry no longer lists it.
    drop(owned);
    0
}

/// `write`: one signal per write; returns `count` or an errno.
///
/// # Safety
///
/// Called by the VFS on an open kill node, with a user buffer of `count` bytes.
unsafe extern "C" fn pk_write(
    file: *mut bindings::file,
    buf: *const c_char,
    count: usize,
    _ppos: *mut bindings::loff_t,
) -> isize {
    if count > signal::MAX_WRITE {
        return errno_isize(EINVAL);
    }
    let mut kbuf = [MaybeUninit::<u8>::uninit(); signal::MAX_WRITE];
    let mut reader = UserSlice::new(UserPtr::from_addr(buf as usize), count).reader();
    if let Err(e) = reader.read_raw(&mut kbuf[..count]) {
        return errno_isize(e);
    }
    // SAFETY: `read_raw` succeeded, so it initialized the first `count`
    // bytes (`count <= MAX_WRITE` was checked above).
    let text = unsafe { core::slice::from_raw_parts(kbuf.as_ptr().cast::<u8>(), count) };
    let Ok(sig) = signal::parse(text) else {
        return errno_isize(EINVAL);
    };
    // SAFETY: `file` is an open kill node; the VFS holds it for the call.
    let (h, f) = unsafe { handle_and_file(file) };
    match h.send(f, sig, None) {
        Ok(()) => count as isize,
        Err(e) => errno_isize(e),
    }
}

/// `read`: the handle's status text.
///
/// # Safety
///
/// Called by the VFS on an open kill node, with a user buffer of `count`
/// bytes and a valid `ppos`.
unsafe extern "C" fn pk_read(
    file: *mut bindings::file,
    buf: *mut c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `file` is an open kill node; the VFS holds it for the call.
    let (h, f) = unsafe { handle_and_file(file) };
    let mut text = TextBuf {
        buf: [0; 512],
        len: 0,
    };
    if h.status(f.cred(), &mut text).is_err() {
        return errno_isize(EIO);
    }
    // SAFETY: `buf`/`count`/`ppos` come from the VFS; the source is our
    // buffer of `text.len` initialized bytes.
    unsafe {
        bindings::simple_read_from_buffer(
            buf.cast::<c_void>(),
            count,
            ppos,
            text.buf.as_ptr().cast::<c_void>(),
            text.len,
        )
    }
}

/// `poll`: `EPOLLIN` once the target exited, `EPOLLHUP | EPOLLERR` once revoked.
///
/// # Safety
///
/// Called by the VFS on an open kill node with a valid (or null) poll table.
unsafe extern "C" fn pk_poll(
    file: *mut bindings::file,
    table: *mut bindings::poll_table_struct,
) -> bindings::__poll_t {
    // SAFETY: `file` is an open kill node; the VFS holds it for the call.
    let h = unsafe { handle(file) };
    // SAFETY: The wait queue lives in the node's struct pid, which the file
    // keeps while it is open: file -> dentry -> inode -> pid (`NodePid`).
    unsafe { bindings::poll_wait(file, h.pid.wait_queue(), table) };
    if let Some(g) = &h.group {
        // SAFETY: As above: `g` is counted by the handle. The exec hook
        // announces revocations and lost threads on this queue.
        unsafe { bindings::poll_wait(file, g.wait_queue(), table) };
    }
    match h.state() {
        State::Revoked(_) => EPOLLHUP | EPOLLERR,
        State::Exited => EPOLLIN | EPOLLRDNORM,
        State::Alive => 0,
    }
}

/// `unlocked_ioctl`: `PROCKILL_IOC_INFO`, `_SEND` and `_SET_POLICY`; `ENOTTY` otherwise.
///
/// # Safety
///
/// Called by the VFS on an open kill node; `arg` is a user pointer.
unsafe extern "C" fn pk_ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: `file` is an open kill node; the VFS holds it for the call.
    let (h, f) = unsafe { handle_and_file(file) };
    let user = UserPtr::from_addr(arg);
    // The send first: the one call that is on a hot path.
    let res: Result = match cmd {
        uapi::IOC_SEND => (|| {
            // SAFETY: `file` is valid.
            if unsafe { (*file).f_mode } & FMODE_WRITE == 0 {
                return Err(EBADF);
            }
            let req = read_send(arg)?;
            if req.flags != 0 || req.sig > signal::SIG_MAX {
                return Err(EINVAL);
            }
            h.send(f, req.sig, None)
        })(),
        uapi::IOC_INFO => {
            let info = h.snapshot(f.cred()).info;
            UserSlice::new(user, core::mem::size_of::<uapi::Info>())
                .writer()
                .write(&info)
        }
        uapi::IOC_SEND_VALUE => (|| {
            // SAFETY: `file` is valid.
            if unsafe { (*file).f_mode } & FMODE_WRITE == 0 {
                return Err(EBADF);
            }
            let req: uapi::SendValue =
                UserSlice::new(user, core::mem::size_of::<uapi::SendValue>())
                    .reader()
                    .read()?;
            if req.flags & !uapi::SEND_QUEUE != 0
                || req.pad != 0
                || req.ptr != 0
                || req.sig > signal::SIG_MAX
            {
                return Err(EINVAL);
            }
            let queued = (req.flags & uapi::SEND_QUEUE != 0).then_some(req.value);
            h.send(f, req.sig, queued)
        })(),
        uapi::IOC_SET_POLICY => (|| {
            let v: u32 = UserSlice::new(user, core::mem::size_of::<u32>())
                .reader()
                .read()?;
            h.set_policy(Policy::from_uapi(v).ok_or(EINVAL)?)
        })(),
        _ => Err(ENOTTY),
    };
    match res {
        Ok(()) => 0,
        Err(e) => e.to_errno() as c_long,
    }
}

/// Reads `PROCKILL_IOC_SEND`'s argument, a `struct prockill_send` at the
/// user address `arg`, with one `get_user()` of its 8 bytes.
fn read_send(arg: c_ulong) -> Result<uapi::Send> {
    const _: () = assert!(core::mem::size_of::<uapi::Send>() == 8);
    let mut raw = 0u64;
    // SAFETY: `raw` is a valid `u64` to write; `arg` is only used as a user
    // address, which `get_user()` checks.
    if unsafe { ffi::prockill_get_user_u64(&mut raw, arg as *const u64) } != 0 {
        return Err(EFAULT);
    }
    // `struct prockill_send` is two u32s in memory order, as the bytes were.
    let b = raw.to_ne_bytes();
    Ok(uapi::Send {
        sig: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
        flags: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
    })
}

/// `show_fdinfo`: the target and state in `/proc/<pid>/fdinfo/<fd>`.
///
/// # Safety
///
/// Called by procfs with a valid seq_file and an open kill node.
unsafe extern "C" fn pk_show_fdinfo(m: *mut bindings::seq_file, file: *mut bindings::file) {
    // SAFETY: `file` is an open kill node and `m` a valid seq_file, both for
    // the duration of the call.
    // The opener's credentials, which the file holds (`f_cred` never
    // changes); no `File` is made here, another thread may own the file.
    let (h, m, opener) = unsafe {
        (
            handle(file),
            SeqFile::from_raw(m),
            Credential::from_ptr((*file).f_cred),
        )
    };
    let Snapshot {
        state,
        policy,
        info: i,
    } = h.snapshot(opener);
    seq_print!(
        m,
        "prockill_pid:\t{}\nprockill_kind:\t{}\nprockill_state:\t{}\nprockill_reason:\t{}\nprockill_policy:\t{}\nprockill_exec_gen:\t{}\n",
        i.pid,
        h.kind.name(),
        state.name(),
        reason_name(i.revoke_reason),
        policy.name(),
        i.exec_gen
    );
}

/// `struct file_operations` that can be a `static`.
#[repr(transparent)]
pub(crate) struct FileOperations(bindings::file_operations);

// SAFETY: The table is immutable and holds only function pointers.
unsafe impl Sync for FileOperations {}

/// The node's file operations; the glue installs them in each node inode
/// (C sees a `const struct file_operations`: same layout).
///
/// # Invariants
///
/// `owner` is null: the VFS takes no module reference for a node's open
/// file. None is needed, because every inode that points here is reached
/// only through node dentries, each of which holds a module reference until
/// its `d_release` (`pk_instantiate()` in the glue), and an open file holds
/// its dentry from before `open` until after `release` and the last read of
/// this table (`__fput()` drops the dentry last). Without an owner, opening
/// and closing a node writes no module-wide cache line (the module's
/// reference count), only the node's own dentry and the handle's bucket.
#[no_mangle]
pub(crate) static prockill_fops: FileOperations = FileOperations(bindings::file_operations {
    owner: core::ptr::null_mut(),
    open: Some(pk_open),
    release: Some(pk_release),
    read: Some(pk_read),
    write: Some(pk_write),
    poll: Some(pk_poll),
    unlocked_ioctl: Some(pk_ioctl),
    compat_ioctl: bindings::compat_ptr_ioctl,
    show_fdinfo: Some(pk_show_fdinfo),
    llseek: Some(bindings::noop_llseek),
    ..pin_init::zeroed()
});
