// SPDX-License-Identifier: GPL-2.0
/*
 * pk_ipmodify_holder: a throwaway test module (tests/vm/src/tests/initfail.rs)
 * that holds FTRACE_OPS_FL_IPMODIFY on one kernel function, named by the
 * parameter func= (default proc_tgid_base_readdir), with a handler that does
 * nothing. While it is loaded, any other IPMODIFY ftrace_ops on that function
 * (prockill's procfs redirections, a livepatch) fails to register with EBUSY:
 * that is how the VM tests make each of prockill's registrations fail.
 *
 *   insmod pk_ipmodify_holder.ko func=proc_tid_base_lookup
 *
 * Its messages say "pk_ipmodify_holder", never the word the tests count in
 * the kernel log for prockill's own errors.
 */

#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

static char *func = "proc_tgid_base_readdir";
module_param(func, charp, 0444);
MODULE_PARM_DESC(func, "the kernel function to hold IPMODIFY on (an exact name)");

/* Does nothing: the IPMODIFY flag alone is what makes the others fail. */
static void notrace pk_holder_handler(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *op, struct ftrace_regs *fregs)
{
}

#ifdef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
#define PK_HOLDER_FLAGS 0
#else
#define PK_HOLDER_FLAGS FTRACE_OPS_FL_SAVE_REGS
#endif

static struct ftrace_ops pk_holder_ops = {
	.func = pk_holder_handler,
	.flags = FTRACE_OPS_FL_IPMODIFY | PK_HOLDER_FLAGS,
};

static int __init pk_holder_init(void)
{
	char name[KSYM_NAME_LEN];
	int ret;

	/* An exact name only: no glob, so one function and no surprises. */
	if (strscpy(name, func, sizeof(name)) <= 0 || strpbrk(name, "*?[!:")) {
		pr_err("pk_ipmodify_holder: func=%s is not a plain function name\n", func);
		return -EINVAL;
	}
	/* ftrace_set_filter() matches by name; -EINVAL if nothing matched. */
	ret = ftrace_set_filter(&pk_holder_ops, (unsigned char *)name, strlen(name), 1);
	if (ret) {
		pr_err("pk_ipmodify_holder: %s is not a traceable function (%d)\n", name, ret);
		return ret;
	}
	ret = register_ftrace_function(&pk_holder_ops);
	if (ret) {
		pr_err("pk_ipmodify_holder: cannot hold IPMODIFY on %s (%d)\n", name, ret);
		ftrace_free_filter(&pk_holder_ops);
		return ret;
	}
	pr_info("pk_ipmodify_holder: holding IPMODIFY on %s\n", name);
	return 0;
}

static void __exit pk_holder_exit(void)
{
	unregister_ftrace_function(&pk_holder_ops);
	ftrace_free_filter(&pk_holder_ops);
	pr_info("pk_ipmodify_holder: released %s\n", func);
}

module_init(pk_holder_init);
module_exit(pk_holder_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("prockill tests: hold FTRACE_OPS_FL_IPMODIFY on one function");
