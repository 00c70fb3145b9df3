/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * prockill: /proc/<pid>/kill and /proc/<pid>/task/<tid>/kill.
 *
 * The text interface (write a signal number or name, read a status) needs
 * nothing from this header. The ioctls below are the same operations in
 * binary form, for programs that want typed results; the userspace crate
 * `prockill` generates its bindings from this file.
 *
 * ioctl type 0xB9 is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst.
 */
#ifndef _UAPI_LINUX_PROCKILL_H
#define _UAPI_LINUX_PROCKILL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PROCKILL_IOC_MAGIC 0xB9

/* What the handle is bound to: prockill_info.kind */
#define PROCKILL_KIND_PROCESS	1	/* /proc/<pid>/kill: process-directed, as kill(2) */
#define PROCKILL_KIND_THREAD	2	/* /proc/<pid>/task/<tid>/kill: thread-directed, as tgkill(2) */

/* State of the handle: prockill_info.state */
#define PROCKILL_STATE_ALIVE	1	/* the target lives; writes signal it */
#define PROCKILL_STATE_EXITED	2	/* the target exited (zombie or reaped); writes fail with ESRCH */
#define PROCKILL_STATE_REVOKED	3	/* an exec revoked the handle; writes fail with EIO */

/* Exec policies: module parameter `revoke`, and per handle (prockill_info.policy) */
#define PROCKILL_POLICY_NEVER	0	/* never revoke (pidfd-like) */
#define PROCKILL_POLICY_SETID	1	/* revoke on credential-changing exec (AT_SECURE), NetBSD's rule */
#define PROCKILL_POLICY_EXEC	2	/* revoke on every exec */

/* Why a handle was revoked: prockill_info.revoke_reason */
#define PROCKILL_REVOKE_NONE		0
#define PROCKILL_REVOKE_SETID_EXEC	1
#define PROCKILL_REVOKE_EXEC		2

/**
 * struct prockill_info - PROCKILL_IOC_INFO result
 * @pid:           target's PID (process node) or TID (thread node) in the
 *                 caller's PID namespace; 0 if not visible there or gone.
 * @kind:          PROCKILL_KIND_*.
 * @state:         PROCKILL_STATE_*.
 * @policy:        the handle's effective exec policy at the time of the call:
 *                 the stricter of the module parameter and the handle's own.
 * @handle_policy: the policy set on this handle with PROCKILL_IOC_SET_POLICY
 *                 (PROCKILL_POLICY_NEVER if none was set).
 * @revoke_reason: PROCKILL_REVOKE_*.
 * @opener_uid:    real uid of the opener, in the caller's user namespace.
 * @pidfs_ino:     inode number of the target's struct pid in pidfs; equals
 *                 st_ino of a pidfd for the same process.
 * @start_time:    target's start time, nanoseconds since boot (the clock of
 *                 /proc/<pid>/stat field 22).
 * @exec_gen:      the target's exec generation (task self_exec_id) when the
 *                 handle was opened.
 */
struct prockill_info {
	__s32 pid;
	__u32 kind;
	__u32 state;
	__u32 policy;
	__u32 handle_policy;
	__u32 revoke_reason;
	__u32 opener_uid;
	__u32 __reserved;
	__u64 pidfs_ino;
	__u64 start_time;
	__u64 exec_gen;
};

/**
 * struct prockill_send - PROCKILL_IOC_SEND argument
 * @sig:   signal number, 0 to probe (as a write of "0").
 * @flags: must be 0.
 */
struct prockill_send {
	__u32 sig;
	__u32 flags;
};

/* struct prockill_send_value flags: deliver with si_code SI_QUEUE and @value. */
#define PROCKILL_SEND_QUEUE	(1u << 0)

/**
 * struct prockill_send_value - PROCKILL_IOC_SEND_VALUE argument
 * @sig:   signal number, 0 to probe.
 * @flags: PROCKILL_SEND_QUEUE, or 0 (then as PROCKILL_IOC_SEND); other bits
 *         must be 0.
 * @value: with PROCKILL_SEND_QUEUE, the target's si_value.sival_int, as
 *         sigqueue(3) gives it (si_code SI_QUEUE).
 * @__pad: must be 0.
 * @ptr:   reserved for a full sival_ptr; must be 0.
 */
struct prockill_send_value {
	__u32 sig;
	__u32 flags;
	__s32 value;
	__u32 __pad;
	__u64 ptr;
};

/* Fill struct prockill_info. */
#define PROCKILL_IOC_INFO	_IOR(PROCKILL_IOC_MAGIC, 1, struct prockill_info)
/* Send a signal; same errors as write(2) on the node. */
#define PROCKILL_IOC_SEND	_IOW(PROCKILL_IOC_MAGIC, 2, struct prockill_send)
/*
 * Set the handle's exec policy (a __u32 PROCKILL_POLICY_*). A handle may only
 * become stricter (NEVER < SETID < EXEC); a looser value fails with EPERM.
 */
#define PROCKILL_IOC_SET_POLICY	_IOW(PROCKILL_IOC_MAGIC, 3, __u32)
/*
 * Send a signal, optionally queued with a value (sigqueue(3) through the
 * handle); same checks and errors as PROCKILL_IOC_SEND.
 */
#define PROCKILL_IOC_SEND_VALUE	_IOW(PROCKILL_IOC_MAGIC, 4, struct prockill_send_value)

#endif /* _UAPI_LINUX_PROCKILL_H */
