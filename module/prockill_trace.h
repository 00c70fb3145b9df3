/* SPDX-License-Identifier: GPL-2.0 */
/* prockill trace events: the prockill:revoke tracepoint. */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM prockill

#if !defined(_PROCKILL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PROCKILL_TRACE_H

#include <linux/tracepoint.h>

/*
 * revoke: an exec revoked a kill handle.
 * @target:   the exec'ing process (tgid, initial PID namespace)
 * @opener:   the process that opened the handle (tgid, initial namespace)
 * @uid:      the opener's real uid (initial user namespace)
 * @reason:   PROCKILL_REVOKE_SETID_EXEC or PROCKILL_REVOKE_EXEC
 * @gen_open: the target's exec generation when the handle was opened
 * @gen_now:  the generation this exec starts
 */
TRACE_EVENT(revoke,
	TP_PROTO(pid_t target, pid_t opener, uid_t uid, u32 reason, u64 gen_open, u64 gen_now),
	TP_ARGS(target, opener, uid, reason, gen_open, gen_now),
	TP_STRUCT__entry(
		__field(pid_t, target)
		__field(pid_t, opener)
		__field(uid_t, uid)
		__field(u32, reason)
		__field(u64, gen_open)
		__field(u64, gen_now)
	),
	TP_fast_assign(
		__entry->target = target;
		__entry->opener = opener;
		__entry->uid = uid;
		__entry->reason = reason;
		__entry->gen_open = gen_open;
		__entry->gen_now = gen_now;
	),
	TP_printk("target=%d opener=%d uid=%u reason=%s exec_gen=%llu->%llu",
		  __entry->target, __entry->opener, __entry->uid,
		  __entry->reason == 1 ? "setid-exec" : "exec",
		  __entry->gen_open, __entry->gen_now)
);

#endif /* _PROCKILL_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE prockill_trace
#include <trace/define_trace.h>
