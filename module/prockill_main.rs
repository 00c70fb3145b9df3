// SPDX-License-Identifier: GPL-2.0

//! prockill: `/proc/<pid>/kill`, a kill handle bound to the process at open
//! and revoked when the process execs.
//!
//! With the module loaded every process has a writable `/proc/<pid>/kill` and
//! every thread a `/proc/<pid>/task/<tid>/kill`. Opening one binds the file to
//! the target's `struct pid` and to the opener's credentials; writing a
//! signal number or name sends it to that process or fails, never to a
//! newcomer that reuses the PID. An exec hook, modelled on NetBSD's
//! `exechook_establish()`, revokes handles when their process execs (on
//! credential-changing execs by default), after which writes fail with `EIO`.
//!
//! The crate holds all logic and state:
//!
//! - [`signal`]: the write parser, shared with the userspace crate;
//! - [`policy`]: the exec policies and the `revoke` module parameter;
//! - [`exechook`]: the exec hook registry;
//! - [`handle`]: the open file: binding, permissions, read/write/ioctl/poll;
//! - [`registry`]: open handles per process, and revocation at exec;
//! - [`refs`]: the references and locks through which task, pid, signal
//!   and cred fields are read;
//! - [`layout`]: a load-time check of the bindings against C.
//!
//! `prockill_glue.c` attaches the node to procfs and hooks exec, where Rust
//! has no bindings; `docs/kill-node.md` and `docs/exec-hook.md` explain both.

use kernel::prelude::*;

mod exechook;
mod handle;
mod layout;
mod policy;
mod refs;
mod registry;
// Shared with the userspace crate, which uses all of it and needs it `pub`.
#[allow(dead_code, unreachable_pub)]
mod signal;

module! {
    type: ProcKill,
    name: "prockill",
    authors: ["prockill developers"],
    description: "/proc/<pid>/kill: race-free kill handles, revoked on exec",
    license: "GPL",
}

/// The C functions of `prockill_glue.c` and `prockill_events.c`
/// (declared for C in `prockill_glue.h`).
mod ffi {
    use kernel::bindings;
    use kernel::ffi::{c_int, c_uint, c_ulong};

    // Only pointers to these C structs cross the boundary, never the structs.
    #[allow(improper_ctypes)]
    extern "C" {
        /// Resolves the procfs internals and registers the ftrace hooks.
        pub(crate) fn prockill_glue_init() -> c_int;
        /// Removes the hooks and waits until no task runs code they led here.
        pub(crate) fn prockill_glue_exit();
        /// The `struct pid` of a node inode, not counted (the inode holds it).
        pub(crate) fn prockill_inode_pid_uncounted(
            inode: *const bindings::inode,
        ) -> *mut bindings::pid;
        /// `current`'s thread-group id in its own pid namespace, if that
        /// namespace sees `pid` (is the namespace of `pid` or an ancestor);
        /// else 0. `pid` must be valid.
        pub(crate) fn prockill_sender_vnr(pid: *mut bindings::pid) -> bindings::pid_t;
        /// `get_user()` of 8 bytes at the user address `src` into `*dst`:
        /// 0, or `-EFAULT` (and `*dst` zeroed).
        pub(crate) fn prockill_get_user_u64(dst: *mut u64, src: *const u64) -> c_int;
        /// `lock_task_sighand()`: locks `task`'s siglock (interrupts off,
        /// state in `flags`), or returns null if `task` was released.
        pub(crate) fn prockill_lock_sighand(
            task: *mut bindings::task_struct,
            flags: *mut c_ulong,
        ) -> *mut bindings::sighand_struct;
        /// Unlocks what `prockill_lock_sighand` locked.
        pub(crate) fn prockill_unlock_sighand(
            sighand: *mut bindings::sighand_struct,
            flags: c_ulong,
        );
        /// Takes and releases `current`'s siglock.
        pub(crate) fn prockill_sighand_barrier();
        /// Enters the glue's SRCU read side, which unload waits out;
        /// returns the token `prockill_inflight_leave` takes.
        pub(crate) fn prockill_inflight_enter() -> c_ulong;
        /// Leaves what `prockill_inflight_enter` entered (same task).
        pub(crate) fn prockill_inflight_leave(token: c_ulong);
        /// Sends `sig` with `si_code` `SI_USER` (`SI_TKILL` to a thread),
        /// `si_pid` (the writer, a `refs::Sender`) and `si_uid` the real
        /// uid of `opener` (`uid_opener_ns` when the caller is in
        /// `opener`'s user namespace), to the process (`PIDTYPE_TGID`) or
        /// thread (`PIDTYPE_PID`) of `task`. Does no
        /// permission check. The caller must hold `task`'s siglock
        /// (a `refs::SigLockGuard` of `task`).
        pub(crate) fn prockill_send_signal_locked(
            task: *mut bindings::task_struct,
            type_: bindings::pid_type,
            sig: c_int,
            opener: *const bindings::cred,
            uid_opener_ns: bindings::uid_t,
            si_pid: bindings::pid_t,
        ) -> c_int;
        /// As `prockill_send_signal_locked`, but `si_code` is `SI_QUEUE` and
        /// `si_int` is `value`, as `sigqueue(3)` gives them.
        pub(crate) fn prockill_send_queued_locked(
            task: *mut bindings::task_struct,
            type_: bindings::pid_type,
            sig: c_int,
            opener: *const bindings::cred,
            uid_opener_ns: bindings::uid_t,
            si_pid: bindings::pid_t,
            value: c_int,
        ) -> c_int;
        /// `security_task_kill()` for `opener` sending `sig` to `task`: 0 or
        /// an errno. With `task` kept valid, not under the siglock. A
        /// non-null `value` makes the siginfo a queued one (`SI_QUEUE`).
        #[cfg(CONFIG_SECURITY)]
        pub(crate) fn prockill_lsm_task_kill(
            task: *mut bindings::task_struct,
            type_: bindings::pid_type,
            sig: c_int,
            opener: *const bindings::cred,
            uid_opener_ns: bindings::uid_t,
            si_pid: bindings::pid_t,
            value: *const c_int,
        ) -> c_int;
        /// `offsetof()` of field number `field` (see `layout.rs`).
        pub(crate) fn prockill_c_offsetof(field: c_uint) -> usize;
        /// Fires the `prockill:revoke` trace event.
        pub(crate) fn prockill_trace_revoke(
            target: bindings::pid_t,
            opener: bindings::pid_t,
            opener_uid: bindings::uid_t,
            reason: c_uint,
            exec_gen_open: u64,
            exec_gen_now: u64,
        );
    }
}

/// The UAPI constants of `include/uapi/linux/prockill.h`, which userspace
/// shares; the module's own copy must agree (the VM tests check the ABI).
mod uapi {
    pub(crate) const KIND_PROCESS: u32 = 1;
    pub(crate) const KIND_THREAD: u32 = 2;

    pub(crate) const STATE_ALIVE: u32 = 1;
    pub(crate) const STATE_EXITED: u32 = 2;
    pub(crate) const STATE_REVOKED: u32 = 3;

    pub(crate) const POLICY_NEVER: u32 = 0;
    pub(crate) const POLICY_SETID: u32 = 1;
    pub(crate) const POLICY_EXEC: u32 = 2;

    pub(crate) const REVOKE_NONE: u32 = 0;
    pub(crate) const REVOKE_SETID_EXEC: u32 = 1;
    pub(crate) const REVOKE_EXEC: u32 = 2;

    /// `struct prockill_info`.
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    pub(crate) struct Info {
        pub(crate) pid: i32,
        pub(crate) kind: u32,
        pub(crate) state: u32,
        pub(crate) policy: u32,
        pub(crate) handle_policy: u32,
        pub(crate) revoke_reason: u32,
        pub(crate) opener_uid: u32,
        pub(crate) reserved: u32,
        pub(crate) pidfs_ino: u64,
        pub(crate) start_time: u64,
        pub(crate) exec_gen: u64,
    }

    // SAFETY: `Info` is `repr(C)` of integers with no padding (8 x u32, 3 x u64).
    unsafe impl kernel::transmute::AsBytes for Info {}

    /// `struct prockill_send`.
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    pub(crate) struct Send {
        pub(crate) sig: u32,
        pub(crate) flags: u32,
    }

    // SAFETY: `Send` is `repr(C)` of two u32: any bit pattern is valid.
    unsafe impl kernel::transmute::FromBytes for Send {}

    /// `PROCKILL_SEND_QUEUE`.
    pub(crate) const SEND_QUEUE: u32 = 1;

    /// `struct prockill_send_value`.
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    pub(crate) struct SendValue {
        pub(crate) sig: u32,
        pub(crate) flags: u32,
        pub(crate) value: i32,
        pub(crate) pad: u32,
        pub(crate) ptr: u64,
    }

    // SAFETY: `SendValue` is `repr(C)` of integers with no padding (4 x 4
    // bytes, then 8): any bit pattern is valid.
    unsafe impl kernel::transmute::FromBytes for SendValue {}

    const MAGIC: u32 = 0xB9;
    const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
        (dir << 30) | ((size as u32) << 16) | (MAGIC << 8) | nr
    }
    /// `_IOR(0xB9, 1, struct prockill_info)`.
    pub(crate) const IOC_INFO: u32 = ioc(2, 1, core::mem::size_of::<Info>());
    /// `_IOW(0xB9, 2, struct prockill_send)`.
    pub(crate) const IOC_SEND: u32 = ioc(1, 2, core::mem::size_of::<Send>());
    /// `_IOW(0xB9, 3, __u32)`.
    pub(crate) const IOC_SET_POLICY: u32 = ioc(1, 3, core::mem::size_of::<u32>());
    /// `_IOW(0xB9, 4, struct prockill_send_value)`.
    pub(crate) const IOC_SEND_VALUE: u32 = ioc(1, 4, core::mem::size_of::<SendValue>());
}

/// The module instance. Loading it makes the nodes appear; dropping it
/// (after `rmmod` succeeded, so no node is open) makes them disappear.
struct ProcKill {
    // Dropped in this order, after `Drop::drop` removed the glue's hooks:
    // the exec hook first, then the table it reads.
    _hook: exechook::Registration,
    _registry: registry::Registry,
}

/// The exec hook prockill establishes: revocation ([`registry::on_exec`]).
static REVOKE_ON_EXEC: exechook::ExecHook = registry::on_exec;

impl kernel::Module for ProcKill {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        layout::check()?;
        let registry = registry::Registry::new()?;
        let hook = exechook::establish(&REVOKE_ON_EXEC)?;
        // SAFETY: Called once, from module init, with nothing else of ours running.
        let ret = unsafe { ffi::prockill_glue_init() };
        if ret != 0 {
            // The glue printed the one line that says what is missing, and
            // left nothing behind: no redirection, no node.
            return Err(Error::from_errno(ret));
        }
        pr_info!(
            "loaded: /proc/<pid>/kill and /proc/<pid>/task/<tid>/kill, revoke={}\n",
            policy::module_policy().name()
        );
        Ok(ProcKill {
            _hook: hook,
            _registry: registry,
        })
    }
}

impl Drop for ProcKill {
    fn drop(&mut self) {
        // SAFETY: `init` succeeded, so the hooks are registered; exit runs once.
        unsafe { ffi::prockill_glue_exit() };
        pr_info!("unloaded\n");
    }
}
