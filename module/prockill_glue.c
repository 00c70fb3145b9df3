// SPDX-License-Identifier: GPL-2.0
/*
 * prockill: the C glue.
 *
 * Everything that decides anything lives in Rust (prockill_main.rs and its
 * modules): handles, parsing, permissions, revocation, the file operations.
 * This file holds only what Rust cannot reach in Linux 7.3, in the manner of
 * Rust Binder's rust_binderfs.c. Each function says why it is C. The reasons
 * come down to four:
 *
 *  1. procfs has no registration API and no Rust bindings: /proc/<pid>/ is the
 *     static tgid_base_stuff[] table of fs/proc/base.c. We add "kill" by
 *     redirecting the four directory operations of /proc/<pid> and
 *     /proc/<pid>/task/<tid> with ftrace (as livepatch does), and build the
 *     node with procfs' own helpers, which are not exported and whose types
 *     live in fs/proc/internal.h.
 *  2. ftrace and kprobes have no Rust bindings (linux/ftrace.h and
 *     linux/kprobes.h are not in rust/bindings).
 *  3. Kernel helpers that are inline or unexported (get_pid(), clear_siginfo(),
 *     lock_task_sighand(), send_signal_locked(), security_task_kill(),
 *     struct linux_binprm).
 *     One of them, lock_task_sighand(), is copied: see
 *     prockill_lock_sighand().
 *  4. Trace events and writable module parameters are C macros; Rust's
 *     module! only has read-only integer parameters in 7.3.
 *
 * Unload safety (docs/procfs-glue.md explains it in full): every node dentry
 * holds the module (pk_users, a per-CPU count that holds one module
 * reference, or once an unload has begun a module reference of its own),
 * which its d_release drops, so no dentry, inode or
 * open file can point into an unloaded module (an open file holds its
 * dentry, which is why prockill_fops needs no owner); and exit waits for
 * every task still running a redirected function before the module text
 * goes away. Unused node dentries stay in the dcache while their process
 * lives, as procfs' own do, so they keep the module loaded: writing N to
 * the "cache" parameter drops them (pk_cache_param_set()).
 */

#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu-refcount.h>
#include <linux/binfmts.h>
#include <linux/pid.h>
#include <linux/proc_fs.h>
#include <linux/rcupdate.h>
#include <linux/rcupdate_wait.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/srcu.h>

/*
 * fs/proc/internal.h gives PROC_I() and proc_pid(). One of its inline
 * helpers, pde_make_permanent(), asserts PROC_ENTRY_PERMANENT != 0, which is
 * false in module builds (linux/proc_fs.h defines it as 0 under MODULE). We
 * never call that helper; silence the assertion for the include only.
 */
#pragma push_macro("static_assert")
#undef static_assert
#define static_assert(...)
#include "internal.h"
#pragma pop_macro("static_assert")

#include "prockill_glue.h"

/* ------------------------------------------------------------------------ */
/* Symbols procfs does not export                                            */
/* ------------------------------------------------------------------------ */

typedef struct dentry *(*lookup_fn)(struct inode *, struct dentry *, unsigned int);
typedef int (*readdir_fn)(struct file *, struct dir_context *);

static unsigned long (*pk_kallsyms_lookup_name)(const char *name);
static struct inode *(*pk_proc_pid_make_inode)(struct super_block *, struct task_struct *, umode_t);
static void (*pk_pid_update_inode)(struct task_struct *, struct inode *);
static struct dentry *(*pk_d_splice_alias_ops)(struct inode *, struct dentry *,
					       const struct dentry_operations *);
static int (*pk_pid_d_delete)(const struct dentry *);
static bool (*pk_proc_fill_cache)(struct file *, struct dir_context *, const char *, unsigned int,
				  instantiate_t, struct task_struct *, const void *);
static int (*pk_send_signal_locked)(int, struct kernel_siginfo *, struct task_struct *,
				    enum pid_type);
#ifdef CONFIG_SECURITY
static int (*pk_security_task_kill)(struct task_struct *, struct kernel_siginfo *, int,
				    const struct cred *);
#endif
static const struct dentry_operations *pk_pid_dentry_operations;
static unsigned long (*pk_ftrace_location)(unsigned long ip);

static lookup_fn pk_orig_tgid_lookup, pk_orig_tid_lookup;
static readdir_fn pk_orig_tgid_readdir, pk_orig_tid_readdir;

/*
 * Why C: kallsyms_lookup_name() is not exported; a kprobe registered on it
 * reports its address (kprobes have no Rust bindings).
 */
static int pk_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int ret = register_kprobe(&kp);

	if (ret) {
		pr_err("prockill: not loaded: cannot find kallsyms_lookup_name via kprobe (%d); needs CONFIG_KPROBES and CONFIG_KALLSYMS\n",
		       ret);
		return ret;
	}
	pk_kallsyms_lookup_name = (void *)kp.addr;
	unregister_kprobe(&kp);
	return 0;
}

/* Why C: see pk_find_kallsyms(). Names what is missing so init can say it. */
static int pk_resolve(void **slot, const char *name)
{
	unsigned long addr = pk_kallsyms_lookup_name(name);

	if (!addr) {
		pr_err("prockill: not loaded: kernel symbol %s not found (needs CONFIG_KALLSYMS_ALL for data symbols)\n",
		       name);
		return -ENOENT;
	}
	*slot = (void *)addr;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The node's dentries                                                       */
/* ------------------------------------------------------------------------ */

/*
 * Tasks executing a redirected lookup, or the exec hook's slow path, are
 * SRCU readers of pk_srcu; exit waits for them with synchronize_srcu() (see
 * pk_unhook()). A lookup blocks only for a bounded time (an allocation, and
 * the LSMs' security_d_instantiate(), whose SELinux genfs path allocates a
 * page).
 * SRCU-fast: a per-CPU counter increment on entry and exit, no shared cache
 * line is written and no full barrier is taken. A readdir may block without
 * bound (a page fault on the caller's buffer), so it holds the module
 * instead, as a dentry does: pk_readdir_held().
 */
DEFINE_STATIC_SRCU_FAST(pk_srcu);

static struct srcu_ctr __percpu *pk_enter(void)
{
	return srcu_read_lock_fast(&pk_srcu);
}

static void pk_leave(struct srcu_ctr __percpu *scp)
{
	srcu_read_unlock_fast(&pk_srcu, scp);
}

/*
 * Why C: SRCU has no Rust bindings, and pk_srcu lives beside pk_unhook()
 * which waits for its readers; Rust's exec hook enters before it takes the
 * registry's lock (see registry::on_exec). Returns the token for
 * prockill_inflight_leave().
 */
unsigned long prockill_inflight_enter(void)
{
	/* An integer: GCC refuses pointer casts out of the per-CPU space. */
	return (unsigned long)pk_enter();
}

void prockill_inflight_leave(unsigned long token)
{
	pk_leave((struct srcu_ctr __percpu *)token);
}

/*
 * Whether nodes may be instantiated: set once every redirection and the
 * exec hook are registered, cleared first thing at teardown. Until it is
 * set, the lookup and readdir handlers send nothing to the module, so a
 * load that fails half-way has created no dentry, inode or open file that
 * points into it (the module is freed on that path whatever it holds).
 */
static bool pk_live;

/*
 * What keeps the module loaded while something points into it: every node
 * dentry (its d_op, its inode's i_fop) and every listing in progress.
 *
 * While the module runs normally that is pk_users, a per-CPU count
 * (percpu_ref): taking and dropping it changes this CPU's counter only, so
 * building a node dentry (the first open of a process, every open with
 * cache=N) writes no cache line that all CPUs write. All of pk_users holds
 * one module reference, taken when the hooks go live (pk_hook()), so a
 * plain rmmod fails (EAGAIN) as long as pk_users is live.
 *
 * Writing N to "cache", the step before rmmod, kills pk_users
 * (percpu_ref_kill(): one atomic count from then on, and no new holder);
 * when that count reaches zero (no node dentry and no listing left),
 * pk_users_release() drops the module reference, and rmmod can succeed.
 * From the kill until the module is loaded again, each new dentry and
 * listing takes a module reference of its own (try_module_get(), which
 * fails once rmmod has begun), as every node dentry did before pk_users.
 *
 * The live flag is read and written under the module's parameter lock
 * (every "cache" write runs under it, and pk_hook() takes it).
 */
static struct percpu_ref pk_users;
static bool pk_users_live;

/*
 * Why C: a percpu_ref release callback (no Rust bindings for percpu_ref).
 * Runs where the last holder drops pk_users after the kill: a dput, the
 * end of a listing, or the RCU callback that completes the kill. Only the
 * return runs after module_put(), which pk_unhook()'s synchronize_rcu() and
 * synchronize_rcu_tasks() wait out (an RCU callback runs with bottom halves
 * off, a read-side section of RCU).
 */
static void pk_users_release(struct percpu_ref *ref)
{
	module_put(THIS_MODULE);
}

/*
 * Takes what keeps the module loaded: pk_users while it is live (*users is
 * then true), else a module reference. False once rmmod has begun.
 */
static bool pk_hold(bool *users)
{
	*users = percpu_ref_tryget_live(&pk_users);
	return *users || try_module_get(THIS_MODULE);
}

/* Drops what pk_hold() took. */
static void pk_unhold(bool users)
{
	if (users)
		percpu_ref_put(&pk_users);
	else
		module_put(THIS_MODULE);
}

/*
 * Why C: d_release is a dentry operation (no Rust binding for dcache).
 * Drops what the dentry took in pk_instantiate() (pk_hold()): pk_users for
 * a dentry with pk_dentry_ops_users, a module reference for one with
 * pk_dentry_ops (the dentry's d_op says which, so the module writes
 * nothing more into the dentry than the kernel does). Only non-sleeping
 * code runs after the drop, which pk_unhook()'s final
 * synchronize_rcu_tasks() waits out.
 */
static void pk_d_release(struct dentry *dentry)
{
	pk_unhold(false);
}

static void pk_d_release_users(struct dentry *dentry)
{
	pk_unhold(true);
}

/*
 * Why C: a dentry operation (no Rust binding for dcache). The dentry lets go
 * of its inode. Something else may hold the inode longer (an inotify or
 * fanotify mark, a Landlock rule: any user can watch a node), after the
 * dentry, and so its hold on the module, is gone; rmmod may then succeed.
 * Nothing can open the inode any more (an open needs a path, i.e. a
 * dentry), but its i_fop would still point into the module: clear it, so
 * that no inode points into an unloaded module (a use would be a NULL
 * i_fop, which do_dentry_open() refuses, not a stale table).
 */
static void pk_d_iput(struct dentry *dentry, struct inode *inode)
{
	WRITE_ONCE(inode->i_fop, NULL);
	iput(inode);
}

/*
 * Whether unused node dentries stay in the dcache (the "cache" parameter).
 * While they do, opening a node costs what opening /proc/<pid>/status
 * costs: no lookup, no new dentry or inode. Each of them holds the module
 * (pk_hold()), so rmmod needs "cache" set to N first (which drops them).
 */
static bool pk_cache = true;

/*
 * Why C: a dentry operation (no Rust binding for dcache). Keeps an unused
 * node dentry as procfs keeps its own (pid_delete_dentry(): until the
 * process is gone), unless caching is off.
 */
static int pk_d_delete(const struct dentry *dentry)
{
	return !READ_ONCE(pk_cache) || pk_pid_d_delete(dentry);
}

/*
 * d_revalidate is procfs' own pid_revalidate (copied from
 * pid_dentry_operations at init: it keeps the owner current and drops the
 * dentry once the task is gone), d_delete is procfs' pid_delete_dentry
 * behind the "cache" switch.
 */
static struct dentry_operations pk_dentry_ops __ro_after_init = {
	.d_delete = pk_d_delete,
	.d_iput = pk_d_iput,
	.d_release = pk_d_release,
};

/* The same, for a dentry that holds pk_users. */
static struct dentry_operations pk_dentry_ops_users __ro_after_init = {
	.d_delete = pk_d_delete,
	.d_iput = pk_d_iput,
	.d_release = pk_d_release_users,
};

/* Why C: iterate_supers_type()'s callback (no Rust bindings for the VFS). */
static void pk_shrink_sb(struct super_block *sb, void *unused)
{
	shrink_dcache_sb(sb);
}

/*
 * Why C: a writable module parameter (see prockill_revoke_param_set) that
 * drives the dcache. Writing N stops caching node dentries and drops the
 * unused ones in every procfs instance (shrink_dcache_sb() drops every
 * unused procfs dentry, which procfs rebuilds on demand), and ends
 * pk_users' per-CPU mode, so that what still holds the module is node
 * dentries in use (open files, O_PATH descriptors, lookups in progress) and
 * listings in progress. Then rmmod can succeed. N given to insmod (parsed
 * before init) only turns caching off.
 */
static int pk_cache_param_set(const char *val, const struct kernel_param *kp)
{
	struct file_system_type *proc;
	bool on;
	int ret;

	ret = kstrtobool(val, &on);
	if (ret)
		return ret;
	WRITE_ONCE(pk_cache, on);
	if (on)
		return 0;
	/* Under the parameter lock, as pk_hook()'s write of pk_users_live. */
	if (pk_users_live) {
		pk_users_live = false;
		percpu_ref_kill(&pk_users);
	}
	/*
	 * A dput() that read Y in pk_d_delete() still holds that dentry's
	 * d_lock, and adds it to the LRU before dropping it (retain_dentry()
	 * calls ->d_delete only with d_lock held). A spinlock's critical
	 * section is an RCU read-side one (preemption off; rt_spin_lock()
	 * takes rcu_read_lock() on PREEMPT_RT), so after a grace period every
	 * such dentry is on the LRU, where the shrink below finds it; later
	 * dput()s read N and free theirs.
	 */
	synchronize_rcu();
	proc = get_fs_type("proc");
	if (!proc)
		return -ENODEV;
	iterate_supers_type(proc, pk_shrink_sb, NULL);
	module_put(proc->owner);	/* put_filesystem(), which is not exported */
	/*
	 * The kill's switch to one atomic count completes in an RCU callback,
	 * which then drops the reference the switch held: once it has run, if
	 * nothing else holds pk_users, pk_users_release() has dropped the
	 * module reference, and an rmmod right after this write succeeds.
	 */
	rcu_barrier();
	return 0;
}

static const struct kernel_param_ops pk_cache_param_ops = {
	.set = pk_cache_param_set,
	.get = param_get_bool,
};
module_param_cb(cache, &pk_cache_param_ops, &pk_cache, 0644);
MODULE_PARM_DESC(cache, "keep unused node dentries in the dcache (Y, default); writing N drops them and prepares rmmod");

/*
 * Why C: builds a procfs inode with procfs' unexported helpers and attaches it
 * with d_splice_alias_ops(); the Rust file operations (prockill_fops) take over
 * from open(). @ptr carries the node kind (PROCKILL_KIND_*).
 */
static struct dentry *pk_instantiate(struct dentry *dentry, struct task_struct *task,
				     const void *ptr)
{
	struct inode *inode;
	bool users;

	/* Fails once rmmod has begun: then there is no node. */
	if (!pk_hold(&users))
		return ERR_PTR(-ENOENT);

	/*
	 * 0666: open() makes the real decision (kill(2)'s rule for writers,
	 * /proc/<pid>/status' rule for readers), as the inode owner of a
	 * set-uid process would otherwise lock out the user who may signal it.
	 */
	inode = pk_proc_pid_make_inode(dentry->d_sb, task, S_IFREG | 0666);
	if (!inode) {
		pk_unhold(users);
		return ERR_PTR(-ENOENT);
	}
	inode->i_fop = &prockill_fops;
	inode->i_private = (void *)ptr;
	pk_pid_update_inode(task, inode);
	dont_mount(dentry);
	/*
	 * For a non-directory inode d_splice_alias_ops() cannot fail and always
	 * installs @dentry with our ops, so its d_release will drop the hold.
	 */
	return pk_d_splice_alias_ops(inode, dentry, users ? &pk_dentry_ops_users : &pk_dentry_ops);
}

static __always_inline bool pk_is_kill(const struct dentry *dentry)
{
	return dentry->d_name.len == 4 && !memcmp(dentry->d_name.name, "kill", 4);
}

/*
 * Why C: replaces ->lookup of /proc/<pid> and /proc/<pid>/task/<tid>
 * (inode operations of procfs) for the name "kill" only: the ftrace
 * handler sends no other name here (pk_redirect_handler()), so every other
 * lookup runs procfs' own function, untouched.
 */
static struct dentry *pk_lookup(struct inode *dir, struct dentry *dentry, long kind)
{
	struct srcu_ctr __percpu *scp;
	struct task_struct *task;
	struct dentry *res;

	scp = pk_enter();
	task = get_pid_task(proc_pid(dir), PIDTYPE_PID);
	if (!task) {
		res = ERR_PTR(-ENOENT);
	} else {
		res = pk_instantiate(dentry, task, (void *)kind);
		put_task_struct(task);
	}
	pk_leave(scp);
	return res;
}

static struct dentry *pk_tgid_lookup(struct inode *dir, struct dentry *dentry, unsigned int flags)
{
	return pk_lookup(dir, dentry, PROCKILL_KIND_PROCESS);
}

static struct dentry *pk_tid_lookup(struct inode *dir, struct dentry *dentry, unsigned int flags)
{
	return pk_lookup(dir, dentry, PROCKILL_KIND_THREAD);
}

/*
 * readdir: procfs' own entries at their own positions ("." and ".." at 0
 * and 1, its table from 2), then "kill" at the first position after them,
 * which pk_end[] holds per directory kind. procfs' table is a static array,
 * so that position is the same for every directory of a kind; the first
 * readdir of each kind learns it by counting (pk_learn_end()).
 */
static loff_t pk_end[PROCKILL_KIND_THREAD + 1];

static bool pk_count_actor(struct dir_context *ctx, const char *name, int namlen,
			   loff_t offset, u64 ino, unsigned int d_type)
{
	return true;
}

/*
 * Lists procfs' table of @file's kind from position 2 into a context that
 * takes everything; proc_pident_readdir() leaves its position one past the
 * table's last entry. Returns it, or 0 if the listing failed (the process
 * is gone: a later readdir learns it).
 */
static loff_t pk_learn_end(struct file *file, readdir_fn orig, long kind)
{
	struct dir_context count = { .actor = pk_count_actor, .pos = 2 };

	if (orig(file, &count))
		return 0;
	WRITE_ONCE(pk_end[kind], count.pos);
	return count.pos;
}

/*
 * Why C: replaces ->iterate_shared of /proc/<pid> and /proc/<pid>/task/<tid>
 * (struct dir_context and proc_fill_cache() have no Rust bindings). procfs'
 * function gets the caller's context unchanged; only when it has listed its
 * last entry is "kill" added, with proc_fill_cache(), which finds the node's
 * dentry in the dcache or instantiates it, so readdir reports the inode
 * number stat() sees.
 */
static int pk_readdir(struct file *file, struct dir_context *ctx, readdir_fn orig, long kind)
{
	loff_t end = READ_ONCE(pk_end[kind]);
	struct qstr name = QSTR_INIT("kill", 4);
	struct dentry *dir, *child;
	struct task_struct *task;
	int ret;

	if (unlikely(!end)) {
		end = pk_learn_end(file, orig, kind);
		if (!end)
			return -ENOENT;
	}
	ret = orig(file, ctx);
	if (ret || ctx->pos != end)
		return ret;
	/* The node's dentry is usually cached: report its inode. */
	dir = file->f_path.dentry;
	name.hash = full_name_hash(dir, name.name, name.len);
	child = d_lookup(dir, &name);
	if (child) {
		struct inode *inode = d_inode(child);
		bool emitted = inode && dir_emit(ctx, "kill", 4, inode->i_ino, DT_REG);

		dput(child);
		if (emitted)
			ctx->pos++;
		if (inode)
			return 0;
	}
	/* Not cached: procfs' helper instantiates it, as for its own names. */
	task = get_pid_task(proc_pid(file_inode(file)), PIDTYPE_PID);
	if (!task)
		return 0;
	if (pk_proc_fill_cache(file, ctx, "kill", 4, pk_instantiate, task, (void *)kind))
		ctx->pos++;
	put_task_struct(task);
	return 0;
}

/*
 * A readdir from past "kill" (the second getdents(2) of every listing, the
 * one that finds the end): procfs' function would take a reference on the
 * task, find its position past its table, drop the reference and return 0,
 * or -ENOENT if the task is gone. This answers the same without calling it,
 * which saves a second pass through ftrace's trampoline, the task reference
 * and SRCU. Returns false when @ctx is not past "kill" (or its position is
 * not learned yet).
 *
 * The pid: the VFS holds @file for the call, the file its inode, and the
 * inode its pid, counted until eviction; pid_has_task() reads one RCU list
 * head for emptiness, as get_pid_task() does before taking its reference.
 * No pk_enter(): nothing here can block, and pk_unhook()'s
 * synchronize_rcu_tasks() waits for a task preempted here (a preemption is
 * not a quiescent state of RCU Tasks), as for the exec hook's fast path.
 */
static bool pk_readdir_past_end(struct file *file, struct dir_context *ctx, long kind, int *ret)
{
	loff_t end = READ_ONCE(pk_end[kind]);

	if (!end || ctx->pos <= end)
		return false;
	*ret = pid_has_task(proc_pid(file_inode(file)), PIDTYPE_PID) ? 0 : -ENOENT;
	return true;
}

/*
 * A listing: procfs' function and dir_emit() copy entries to the caller's
 * buffer, and a page fault there may wait without bound (a FUSE mapping
 * whose server never answers, a userfaultfd range nobody resolves). Any user
 * can arrange that, and unload would then wait in synchronize_srcu() for as
 * long: rmmod hung in D state. So a listing holds the module (pk_hold()),
 * as a node dentry does, and rmmod fails with EAGAIN instead while one is
 * in progress. When there is nothing to take (the module is going: rmmod has
 * begun and waits for this task in pk_unhook()), nothing has been listed:
 * the call is restarted (restart_syscall(): getdents64 returns its error,
 * and the return to user mode enters the system call again), and reaches
 * procfs' own function once unload has unhooked it.
 *
 * No SRCU: while the hold lasts, rmmod cannot begin; before pk_hold() and
 * after pk_unhold() nothing can block, and
 * pk_unhook()'s synchronize_rcu_tasks() waits for a task preempted there.
 */
static int pk_readdir_held(struct file *file, struct dir_context *ctx, readdir_fn orig, long kind)
{
	bool users;
	int ret;

	if (unlikely(!pk_hold(&users))) {
		/*
		 * A kernel thread that lists a directory (ksmbd serving a share,
		 * an io worker) makes no system call that could be restarted,
		 * and restart_syscall() would leave TIF_SIGPENDING set on it:
		 * it gets EAGAIN for the microseconds of the window instead.
		 */
		if (current->flags & (PF_KTHREAD | PF_IO_WORKER))
			return -EAGAIN;
		return restart_syscall();
	}
	ret = pk_readdir(file, ctx, orig, kind);
	pk_unhold(users);
	return ret;
}

static int pk_tgid_readdir(struct file *file, struct dir_context *ctx)
{
	int ret;

	if (pk_readdir_past_end(file, ctx, PROCKILL_KIND_PROCESS, &ret))
		return ret;
	return pk_readdir_held(file, ctx, pk_orig_tgid_readdir, PROCKILL_KIND_PROCESS);
}

static int pk_tid_readdir(struct file *file, struct dir_context *ctx)
{
	int ret;

	if (pk_readdir_past_end(file, ctx, PROCKILL_KIND_THREAD, &ret))
		return ret;
	return pk_readdir_held(file, ctx, pk_orig_tid_readdir, PROCKILL_KIND_THREAD);
}

/* ------------------------------------------------------------------------ */
/* ftrace: redirection and the exec hook                                     */
/* ------------------------------------------------------------------------ */

struct pk_redirect {
	const char *name;
	void **orig;
	void *replacement;
	unsigned long loc;	/* ftrace location of *orig, set by pk_hook() */
};

/* The order is pk_redirect_handler()'s: two lookups, then two readdirs. */
static struct pk_redirect pk_redirects[] = {
	{ "proc_tgid_base_lookup", (void **)&pk_orig_tgid_lookup, pk_tgid_lookup },
	{ "proc_tid_base_lookup", (void **)&pk_orig_tid_lookup, pk_tid_lookup },
	{ "proc_tgid_base_readdir", (void **)&pk_orig_tgid_readdir, pk_tgid_readdir },
	{ "proc_tid_base_readdir", (void **)&pk_orig_tid_readdir, pk_tid_readdir },
};

/*
 * Why C: an ftrace handler (no Rust bindings).
 *
 * One ops for all four functions, so that registering it is all or nothing:
 * if another IPMODIFY user owns any of them, register_ftrace_function()
 * fails before any call site is patched. (With one ops for the lookups and
 * another for the readdirs, a conflict on a readdir was found after the
 * lookups had been patched, and the rollback patched them again while
 * openers ran through them. The "Oops: int3" at proc_tgid_base_lookup+0x5
 * seen then was QEMU 7.2's, not this: docs/procfs-glue.md.)
 *
 * The two lookups are redirected only for the name "kill", tested here on the
 * dentry argument: every other lookup returns from the handler to procfs'
 * own function (one length test; one memcmp when the length is 4), so what
 * the module costs a lookup is the ftrace call and this test. The readdirs
 * are always redirected, except when called from this module, which is how
 * pk_readdir() reaches procfs' own function.
 *
 * The ops does not set FTRACE_OPS_FL_RECURSION: the handler calls nothing
 * that ftrace could trace back into it, so ftrace's trampoline calls it
 * directly instead of through ftrace_ops_assist_func() (about 100
 * instructions per call, measured with make profile).
 */
static void notrace pk_redirect_handler(unsigned long ip, unsigned long parent_ip,
					struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	unsigned long to;

	if (ip == pk_redirects[0].loc || ip == pk_redirects[1].loc) {
		const struct dentry *dentry = (void *)ftrace_regs_get_argument(fregs, 1);

		if (likely(!pk_is_kill(dentry)))
			return;
		to = ip == pk_redirects[0].loc ? (unsigned long)pk_tgid_lookup :
						 (unsigned long)pk_tid_lookup;
	} else {
		/*
		 * pk_readdir() calls procfs' own function: the call returns
		 * into our text. (One range test; within_module() tests all
		 * seven of the module's ranges when, as for every other
		 * caller, the address is in none.)
		 */
		if (within_module_mem_type(parent_ip, THIS_MODULE, MOD_TEXT))
			return;
		to = ip == pk_redirects[2].loc ? (unsigned long)pk_tgid_readdir :
						 (unsigned long)pk_tid_readdir;
	}
	if (!smp_load_acquire(&pk_live))
		return;
	ftrace_regs_set_instruction_pointer(fregs, to);
}

/*
 * FTRACE_OPS_FL_PERMANENT, as livepatch sets it: until 7.3, root could write
 * 0 to the sysctl kernel.ftrace_enabled, which takes every ftrace call site
 * out (FTRACE_DISABLE_CALLS) unless a permanent ops is registered. The nodes
 * would stay (the dcache keeps them) while no exec revoked a handle any
 * more, and ThreadId's soundness rests on the exec hook running at every
 * exec (docs/exec-hook.md §6). With the flag the sysctl fails (EBUSY) while
 * the module is loaded, and a load while ftrace is off fails. 7.3 no longer
 * lets the sysctl disable anything (EOPNOTSUPP); the flag costs nothing.
 */
#ifdef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
#define PK_FTRACE_FLAGS FTRACE_OPS_FL_PERMANENT
#else
#define PK_FTRACE_FLAGS (FTRACE_OPS_FL_PERMANENT | FTRACE_OPS_FL_SAVE_REGS)
#endif

static struct ftrace_ops pk_redirect_ops = {
	.func = pk_redirect_handler,
	.flags = FTRACE_OPS_FL_IPMODIFY | PK_FTRACE_FLAGS,
};

/*
 * Why C: an ftrace callback at the entry of setup_new_exec(), reading
 * struct linux_binprm (not in the Rust bindings). At this point exec has
 * passed its point of no return, installed the new credentials and bumped
 * self_exec_id, and still holds signal->exec_update_lock for writing: an
 * open or SET_POLICY, which hold that lock for reading, is either entirely
 * before this hook or after it; a write is ordered against it by the
 * target's siglock, which the hook takes after revoking (registry.rs).
 * docs/exec-hook.md has the timeline.
 *
 * Context: process context. Preemption is enabled while this ops is alone
 * on setup_new_exec() (no FTRACE_OPS_FL_RECURSION, so its trampoline calls
 * this directly), and disabled when another tracer shares the function
 * (ftrace's list function disables it around every callback). So the hook
 * must not sleep: it takes only spinlocks, which is why the module refuses
 * PREEMPT_RT, where they sleep (prockill_glue_init()). Its slow path still
 * counts itself in flight before taking them (see pk_unhook()).
 */
static void notrace pk_exec_handler(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct linux_binprm *bprm = (struct linux_binprm *)ftrace_regs_get_argument(fregs, 0);

	/*
	 * No pk_enter() here: the fast path (no handle open anywhere) cannot
	 * block, and pk_unhook()'s synchronize_rcu_tasks() waits for every
	 * task inside it, preempted or not (a preemption is not a quiescent
	 * state of RCU Tasks). The slow path counts itself before it can block.
	 */
	prockill_exec_hook(bprm->secureexec);
}

static struct ftrace_ops pk_exec_ops = {
	.func = pk_exec_handler,
	.flags = PK_FTRACE_FLAGS,
};

static bool pk_exec_registered, pk_redirect_registered;

/*
 * Why C: teardown of the ftrace hooks and the wait for tasks still inside
 * module code they led there.
 *
 * 1. unregister the ftrace ops: no new task is sent to module code;
 * 2. synchronize_rcu_tasks(): every task that was redirected but had not
 *    yet entered pk_srcu has since passed a voluntary context switch, i.e.
 *    has entered it (it cannot block before pk_enter()); a redirected
 *    readdir has failed to hold the module (the module is going)
 *    and left, or answered from past the end and left;
 * 3. synchronize_srcu(): wait for every reader (they can sleep, e.g. in a
 *    lookup);
 * 4. synchronize_rcu() and synchronize_rcu_tasks() again: the last
 *    instructions after pk_leave(), after pk_unhold() in pk_d_release() and
 *    pk_readdir_held() and after module_put() in pk_users_release() (an
 *    RCU callback may run it), are done, and RCU path walkers no longer
 *    look at pk_dentry_ops or pk_dentry_ops_users.
 */
static void pk_unhook(void)
{
	WRITE_ONCE(pk_live, false);
	if (pk_redirect_registered)
		unregister_ftrace_function(&pk_redirect_ops);
	if (pk_exec_registered)
		unregister_ftrace_function(&pk_exec_ops);
	pk_redirect_registered = pk_exec_registered = false;
	synchronize_rcu_tasks();
	synchronize_srcu(&pk_srcu);
	synchronize_rcu();
	synchronize_rcu_tasks();
}

static void pk_free_filters(void)
{
	ftrace_free_filter(&pk_redirect_ops);
	ftrace_free_filter(&pk_exec_ops);
}

/* Why C: ftrace registration (see pk_redirect_handler()). */
static int pk_hook(void)
{
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(pk_redirects); i++) {
		unsigned long loc = pk_ftrace_location((unsigned long)*pk_redirects[i].orig);

		if (!loc) {
			pr_err("prockill: not loaded: %s cannot be traced (needs CONFIG_DYNAMIC_FTRACE)\n",
			       pk_redirects[i].name);
			ret = -ENODEV;
			goto fail;
		}
		pk_redirects[i].loc = loc;
		ret = ftrace_set_filter_ip(&pk_redirect_ops, loc, 0, 0);
		if (ret) {
			pr_err("prockill: not loaded: ftrace filter on %s failed (%d)\n", pk_redirects[i].name, ret);
			goto fail;
		}
	}
	ret = ftrace_set_filter_ip(&pk_exec_ops, pk_ftrace_location((unsigned long)setup_new_exec), 0, 0);
	if (ret) {
		pr_err("prockill: not loaded: ftrace filter on setup_new_exec failed (%d)\n", ret);
		goto fail;
	}
	/*
	 * The redirection first: it is the registration that can meet another
	 * owner, and it fails before patching anything (see
	 * pk_redirect_handler()). No node exists before pk_live, so the exec
	 * hook need not be there yet.
	 */
	ret = register_ftrace_function(&pk_redirect_ops);
	if (ret) {
		pr_err("prockill: not loaded: cannot redirect procfs lookup and readdir (%d): another IPMODIFY ftrace user (a livepatch?) owns one of proc_tgid_base_lookup, proc_tid_base_lookup, proc_tgid_base_readdir, proc_tid_base_readdir, or ftrace is off (sysctl kernel.ftrace_enabled)\n",
		       ret);
		goto fail;
	}
	pk_redirect_registered = true;
	ret = register_ftrace_function(&pk_exec_ops);
	if (ret) {
		pr_err("prockill: not loaded: cannot hook setup_new_exec (%d)\n", ret);
		goto fail;
	}
	pk_exec_registered = true;
	/*
	 * The module reference that all of pk_users holds while it is live,
	 * taken before any node can exist. Under the parameter lock: a
	 * "cache=N" written during init either ran before (and found nothing
	 * to kill: it must be written again before rmmod) or waits.
	 */
	kernel_param_lock(THIS_MODULE);
	__module_get(THIS_MODULE);
	pk_users_live = true;
	kernel_param_unlock(THIS_MODULE);
	/* Every redirection is live: nodes may appear from now on. */
	smp_store_release(&pk_live, true);
	return 0;
fail:
#ifdef CONFIG_TASKS_RUDE_RCU
	/*
	 * A registration that failed (an IPMODIFY conflict) was on ftrace's
	 * list of ops for a moment, and ftrace's rollback does not wait, as
	 * its unregistration of a module's ops does, for CPUs where RCU was
	 * not watching (idle, entry code) and that may have been in its list
	 * function then. Wait for them before the module's text can go.
	 */
	synchronize_rcu_tasks_rude();
#endif
	pk_unhook();
	pk_free_filters();
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Entry points for Rust                                                     */
/* ------------------------------------------------------------------------ */

/* Why C: resolves procfs internals and registers the ftrace hooks above. */
int prockill_glue_init(void)
{
	size_t i;
	int ret;

	/*
	 * The exec hook takes the registry's spinlock and the target's siglock.
	 * On PREEMPT_RT those sleep, and ftrace calls the hook with preemption
	 * disabled as soon as another tracer (the function tracer, a kprobe or
	 * BPF program) shares setup_new_exec(): refuse rather than load a hook
	 * that a second tracer turns into a sleep in atomic context.
	 */
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		pr_err("prockill: not loaded: PREEMPT_RT is not supported (the exec hook takes spinlocks, which sleep there, and ftrace may call it with preemption disabled)\n");
		return -EOPNOTSUPP;
	}
	ret = pk_find_kallsyms();
	if (ret)
		return ret;
	if (pk_resolve((void **)&pk_proc_pid_make_inode, "proc_pid_make_inode") ||
	    pk_resolve((void **)&pk_pid_update_inode, "pid_update_inode") ||
	    pk_resolve((void **)&pk_d_splice_alias_ops, "d_splice_alias_ops") ||
	    pk_resolve((void **)&pk_proc_fill_cache, "proc_fill_cache") ||
	    pk_resolve((void **)&pk_send_signal_locked, "send_signal_locked") ||
#ifdef CONFIG_SECURITY
	    pk_resolve((void **)&pk_security_task_kill, "security_task_kill") ||
#endif
	    pk_resolve((void **)&pk_pid_dentry_operations, "pid_dentry_operations") ||
	    pk_resolve((void **)&pk_ftrace_location, "ftrace_location"))
		return -ENOENT;
	for (i = 0; i < ARRAY_SIZE(pk_redirects); i++)
		if (pk_resolve(pk_redirects[i].orig, pk_redirects[i].name))
			return -ENOENT;
	pk_dentry_ops.d_revalidate = pk_pid_dentry_operations->d_revalidate;
	pk_dentry_ops_users.d_revalidate = pk_dentry_ops.d_revalidate;
	pk_pid_d_delete = pk_pid_dentry_operations->d_delete;
	if (!pk_dentry_ops.d_revalidate || !pk_pid_d_delete) {
		pr_err("prockill: not loaded: procfs' pid_dentry_operations lacks d_revalidate or d_delete\n");
		return -ENOENT;
	}
	ret = percpu_ref_init(&pk_users, pk_users_release, 0, GFP_KERNEL);
	if (ret) {
		pr_err("prockill: not loaded: no memory for its per-CPU count (%d)\n", ret);
		return ret;
	}
	ret = pk_hook();
	if (ret)
		percpu_ref_exit(&pk_users);
	return ret;
}

/*
 * Why C: see pk_unhook(). rmmod began, so pk_users was killed and released
 * (its module reference kept rmmod out until then), and nothing holds it.
 */
void prockill_glue_exit(void)
{
	pk_unhook();
	pk_free_filters();
	percpu_ref_exit(&pk_users);
}

/*
 * Why C: task_pid(), task_tgid() and ns_of_pid() are inline, and struct
 * pid's numbers[] is a flexible array, none of which Rust has bindings for.
 *
 * current as the sender of a write or SEND to @pid, in one pass over
 * current's pids: current's thread-group id as its own pid namespace
 * numbers it (task_tgid_vnr(current), the si_pid of its signals), if that
 * namespace sees @pid (the rule of pidfd_send_signal(),
 * access_pidfd_pidns()); else 0, no task's number. Both tests are
 * pid_nr_ns()'s, inline, so a send pays one short call for what
 * pidfd_send_signal() does in access_pidfd_pidns() and
 * prepare_kill_siginfo() (a call to __task_pid_nr_ns(), which takes the RCU
 * read lock and looks up the namespace again).
 *
 * What keeps each read valid:
 * - @pid: the caller's node inode holds it; the namespaces it was allocated
 *   in, because a pid holds its namespace and a namespace its parent.
 * - current's pid (thread_pid) and its group's (signal->pids[PIDTYPE_TGID]):
 *   only current's own release sets them to NULL (__unhash_process()), and
 *   only de_thread() changes the first, for the thread that execs (current
 *   itself) and for the old leader once it is a zombie, past exit_files();
 *   the group's stays. A pid lives while a task is attached to it.
 * - current's namespace: the pid allocated in it holds it.
 * The threads of a group share one pid namespace (copy_process() refuses
 * CLONE_THREAD into another), so the group's pid has an entry at the level
 * of current's: the group's tests cannot fail, and are made as pid_nr_ns()
 * makes them. current's pid is NULL only once an exiting task has reaped
 * itself, after exit_files(), from where no write can come; as the kernel's
 * checks do, a NULL sees nothing.
 */
pid_t prockill_sender_vnr(struct pid *pid)
{
	struct pid *self = task_pid(current), *group;
	struct pid_namespace *ns;
	unsigned int level;

	if (unlikely(!self))
		return 0;
	/* ns_of_pid(self); a pid's namespace is at the pid's level. */
	level = self->level;
	ns = self->numbers[level].ns;
	/* pid_nr_ns(pid, ns) != 0; @pid is not NULL. */
	if (level > pid->level || pid->numbers[level].ns != ns)
		return 0;
	/* pid_nr_ns(task_tgid(current), ns) */
	group = task_tgid(current);
	if (unlikely(!group || level > group->level || group->numbers[level].ns != ns))
		return 0;
	return group->numbers[level].nr;
}

/*
 * Why C: get_user() is a macro, with no Rust binding. PROCKILL_IOC_SEND's
 * argument is 8 bytes; one get_user() reads it for about 25 instructions
 * less than _copy_from_user(), which UserSlice calls: a tenth of what the
 * module adds to a send (docs/handle-life.md §9). 0 or -EFAULT.
 */
int prockill_get_user_u64(u64 *dst, const u64 __user *src)
{
	return get_user(*dst, src);
}

/*
 * Why C: proc_pid() is in fs/proc/internal.h. Returns the struct pid a node
 * inode stands for, not counted: the inode holds it (proc_pid_make_inode()
 * took the reference, proc_evict_inode() drops it).
 */
struct pid *prockill_inode_pid_uncounted(const struct inode *inode)
{
	return proc_pid(inode);
}

/*
 * Why C: lock_task_sighand() (kernel/signal.c; __lock_task_sighand() behind
 * an inline wrapper in older kernels) is not exported. This is its code: the
 * sighand_struct slab is SLAB_TYPESAFE_BY_RCU, so under RCU the lock can be
 * taken even if the struct was just freed, and the pointer is checked again
 * under the lock (de_thread() and __exit_signal() change it). A NULL
 * pointer is read with acquire ordering, as the kernel's does: it pairs
 * with __exit_signal()'s smp_store_release(), so a caller that finds the
 * task released also sees what the release wrote before it.
 *
 * Locks @task's signal handlers (siglock, interrupts off) as every signal
 * send does, or returns NULL if @task has been released (no sighand left).
 */
struct sighand_struct *prockill_lock_sighand(struct task_struct *task, unsigned long *flags)
{
	struct sighand_struct *sighand;

	rcu_read_lock();
	for (;;) {
		sighand = rcu_dereference(task->sighand);
		if (unlikely(!sighand)) {
			smp_acquire__after_ctrl_dep();
			break;
		}
		spin_lock_irqsave(&sighand->siglock, *flags);
		if (likely(sighand == rcu_access_pointer(task->sighand)))
			break;
		spin_unlock_irqrestore(&sighand->siglock, *flags);
	}
	rcu_read_unlock();
	return sighand;
}

/*
 * Why C: unlock_task_sighand() is inline. This unlocks the sighand that
 * prockill_lock_sighand() returned (the same as task->sighand while locked).
 */
void prockill_unlock_sighand(struct sighand_struct *sighand, unsigned long flags)
{
	spin_unlock_irqrestore(&sighand->siglock, flags);
}

/*
 * Why C: as prockill_lock_sighand(); for the exec hook. Taking and releasing
 * current's siglock orders the revocations just made before every send that
 * locks it later, and waits out every send that holds it now.
 */
void prockill_sighand_barrier(void)
{
	spin_lock_irq(&current->sighand->siglock);
	spin_unlock_irq(&current->sighand->siglock);
}

/*
 * The siginfo of a kill-node signal, as prepare_kill_siginfo() builds it for
 * pidfd_send_signal(): si_code SI_USER for a process (PIDTYPE_TGID, as
 * kill(2)) and SI_TKILL for a thread (PIDTYPE_PID, as tgkill(2)), si_pid
 * @sender (the writer in its own pid namespace: prockill_sender_vnr(), or at
 * open the opener's task_tgid_vnr()), si_uid the real uid of @opener in the
 * writer's user namespace. send_signal_locked() then maps si_uid from the
 * writer's user namespace into the target's, and zeroes si_pid when the
 * writer is not visible in the target's pid namespace; it does not translate
 * si_pid, so the write path first refuses (EINVAL) a writer whose pid
 * namespace does not see the target (a descendant's pid would be a number
 * of the writer's namespace), as pidfd_send_signal() does.
 * An opener's uid that the writer's user namespace does not map: when the
 * target is in another user namespace, send_signal_locked() maps si_uid
 * from the writer's into the target's, so it gets (uid_t)-1, which becomes
 * INVALID_UID and then the overflow uid there (not from_kuid_munged()'s
 * 65534, which that mapping would turn into whatever uid 65534 is in the
 * writer's namespace); when the target is in the writer's, nothing maps it,
 * so it gets the overflow uid itself, as kill(2) gives. The open computed
 * the common case, a writer in the opener's user namespace, once
 * (@uid_opener_ns is from_kuid(opener->user_ns, opener->uid)). @task is
 * kept valid by the caller (RCU or a reference); its credentials are read
 * under RCU.
 */
static void pk_fill_siginfo(struct kernel_siginfo *info, struct task_struct *task, int sig,
			    enum pid_type type, const struct cred *opener, uid_t uid_opener_ns,
			    pid_t sender)
{
	struct user_namespace *ns = current_user_ns();
	uid_t uid = ns == opener->user_ns ? uid_opener_ns : from_kuid(ns, opener->uid);

	if (uid == (uid_t)-1 && task_cred_xxx(task, user_ns) == ns)
		uid = overflowuid;
	clear_siginfo(info);
	info->si_signo = sig;
	info->si_errno = 0;
	info->si_code = type == PIDTYPE_PID ? SI_TKILL : SI_USER;
	info->si_pid = sender;
	info->si_uid = uid;
}

/*
 * Why C: kernel_siginfo is a union of unions that bindgen renders opaquely,
 * clear_siginfo() and current_user_ns() are inline and send_signal_locked()
 * is not exported.
 *
 * Sends @sig to @task, whose siglock the caller holds (prockill_lock_sighand),
 * with pk_fill_siginfo()'s siginfo. The caller has decided that the send is
 * permitted: like do_send_sig_info(), this does no permission check.
 */
int prockill_send_signal_locked(struct task_struct *task, enum pid_type type, int sig,
				const struct cred *opener, uid_t uid_opener_ns, pid_t sender)
{
	struct kernel_siginfo info;

	pk_fill_siginfo(&info, task, sig, type, opener, uid_opener_ns, sender);
	return pk_send_signal_locked(sig, &info, task, type);
}

/*
 * Why C: as prockill_send_signal_locked(), which it is but for the siginfo
 * of sigqueue(3): si_code SI_QUEUE and si_int @value
 * (PROCKILL_IOC_SEND_VALUE). A function of its own, so that the plain send
 * passes and tests nothing for it.
 */
int prockill_send_queued_locked(struct task_struct *task, enum pid_type type, int sig,
				const struct cred *opener, uid_t uid_opener_ns, pid_t sender,
				int value)
{
	struct kernel_siginfo info;

	pk_fill_siginfo(&info, task, sig, type, opener, uid_opener_ns, sender);
	info.si_code = SI_QUEUE;
	info.si_int = value;
	return pk_send_signal_locked(sig, &info, task, type);
}

#ifdef CONFIG_SECURITY
/*
 * Why C: security_task_kill() is not exported, and takes a kernel_siginfo.
 * (Without CONFIG_SECURITY it is an inline that returns 0, and the Rust side
 * does not call this at all.)
 *
 * Asks the LSMs (SELinux, AppArmor, Smack, Landlock's scoped signals...)
 * whether @opener may send @sig to @task, as check_kill_permission() does for
 * kill(2) with the caller's credentials. The node's authority is its
 * opener's, so the LSMs see the opener's credentials, as they see the file
 * owner's for SIGIO. Returns 0 or an errno. Called with @task kept valid (RCU
 * or a reference), not under the siglock, as check_kill_permission() is.
 * With @value (PROCKILL_IOC_SEND_VALUE), the LSMs see the siginfo that will
 * be sent: SI_QUEUE and *@value, as sigqueue(3)'s own check would.
 */
int prockill_lsm_task_kill(struct task_struct *task, enum pid_type type, int sig,
			   const struct cred *opener, uid_t uid_opener_ns, pid_t sender,
			   const int *value)
{
	struct kernel_siginfo info;

	pk_fill_siginfo(&info, task, sig, type, opener, uid_opener_ns, sender);
	if (value) {
		info.si_code = SI_QUEUE;
		info.si_int = *value;
	}
	return pk_security_task_kill(task, &info, sig, opener);
}
#endif

/*
 * Why C: writable module parameter with a custom parser; the parser and the
 * state are Rust's (prockill_revoke_param_set/get).
 */
static const struct kernel_param_ops pk_revoke_param_ops = {
	.set = prockill_revoke_param_set,
	.get = prockill_revoke_param_get,
};
module_param_cb(revoke, &pk_revoke_param_ops, NULL, 0644);
MODULE_PARM_DESC(revoke, "when an exec revokes kill handles: setid (default), exec, never");

/*
 * Why C: offsetof() on the C definitions is the ground truth the Rust
 * bindings must match. prockill_main.rs compares the fields it reads and
 * refuses to load on any difference (bindgen has dropped the alignment of
 * an empty aligned struct before: see qemu/config.fragment, SCHEDSTATS).
 */
size_t prockill_c_offsetof(unsigned int field)
{
	switch (field) {
	case 0: return offsetof(struct task_struct, signal);
	case 1: return offsetof(struct task_struct, exit_state);
	case 2: return offsetof(struct task_struct, tgid);
	case 3: return offsetof(struct task_struct, self_exec_id);
	case 4: return offsetof(struct task_struct, start_boottime);
	case 5: return offsetof(struct signal_struct, live);
	case 6: return offsetof(struct signal_struct, exec_update_lock);
	case 7: return offsetof(struct signal_struct, pids);
	case 8: return offsetof(struct pid, ino);
	case 9: return offsetof(struct pid, wait_pidfd);
	case 10: return offsetof(struct cred, uid);
	case 11: return offsetof(struct cred, user_ns);
	case 12: return offsetof(struct file, f_mode);
	case 13: return offsetof(struct file, private_data);
	case 14: return offsetof(struct inode, i_private);
	case 15: return sizeof(struct task_struct);
	case 16: return offsetof(struct task_struct, real_cred);
	case 17: return offsetof(struct cred, euid);
	case 18: return offsetof(struct cred, suid);
	case 19: return offsetof(struct file, f_cred);
	}
	return (size_t)-1;
}
