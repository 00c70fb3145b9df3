/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prockill: what the C glue and the Rust crate call in each other.
 * The Rust side declares the C functions in prockill_main.rs (mod ffi).
 */
#ifndef PROCKILL_GLUE_H
#define PROCKILL_GLUE_H

#include <linux/fs.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include "include/uapi/linux/prockill.h"

/* Defined in Rust. */
extern const struct file_operations prockill_fops;
void prockill_exec_hook(bool secureexec);
int prockill_revoke_param_set(const char *val, const struct kernel_param *kp);
int prockill_revoke_param_get(char *buffer, const struct kernel_param *kp);

/* Defined in C. */
int prockill_glue_init(void);
void prockill_glue_exit(void);
struct pid *prockill_inode_pid_uncounted(const struct inode *inode);
pid_t prockill_sender_vnr(struct pid *pid);
int prockill_get_user_u64(u64 *dst, const u64 __user *src);
struct sighand_struct *prockill_lock_sighand(struct task_struct *task, unsigned long *flags);
void prockill_unlock_sighand(struct sighand_struct *sighand, unsigned long flags);
void prockill_sighand_barrier(void);
unsigned long prockill_inflight_enter(void);
void prockill_inflight_leave(unsigned long token);
int prockill_send_signal_locked(struct task_struct *task, enum pid_type type, int sig,
				const struct cred *opener, uid_t uid_opener_ns, pid_t sender);
int prockill_send_queued_locked(struct task_struct *task, enum pid_type type, int sig,
				const struct cred *opener, uid_t uid_opener_ns, pid_t sender,
				int value);
int prockill_lsm_task_kill(struct task_struct *task, enum pid_type type, int sig,
			   const struct cred *opener, uid_t uid_opener_ns, pid_t sender,
			   const int *value);
size_t prockill_c_offsetof(unsigned int field);
void prockill_trace_revoke(pid_t target, pid_t opener, uid_t opener_uid, u32 reason,
			   u64 exec_gen_open, u64 exec_gen_now);

#endif /* PROCKILL_GLUE_H */
