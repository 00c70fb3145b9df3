// SPDX-License-Identifier: GPL-2.0
/*
 * pk-share: a QEMU TCG plugin that finds the kernel cache lines two vCPUs
 * both write during an operation.
 *
 * Issue 13 asks for no global lock and no globally written cache line on
 * the node's open, close, write and exec paths. Timing two threads under
 * TCG cannot show that (the host's load decides how the vCPUs interleave);
 * which lines each vCPU writes does not depend on it. Between the two
 * marker instructions of pk-count (qemu/profile/pk-count.c; `pk-bench
 * --share` executes them on one thread around a barrier-synchronised run
 * of two threads pinned to vCPU 0 and 1), this plugin records every guest
 * store to a kernel address (>= 0xffff800000000000; atomic read-modify-
 * writes are stores too) by its 64-byte line: how many stores each vCPU
 * made, how often the line passed from one vCPU's store to the other's
 * (load-dependent, for information), and per vCPU the first few distinct
 * writers: the store's PC and, from the frame-pointer chain, the two
 * return addresses above it (the kernel is built with FRAME_POINTER).
 *
 *   markers (7-byte NOPs no compiler emits), as in pk-count:
 *     nopl 0x50b1a001(%rax)   0f 1f 80 01 a0 b1 50   start a section
 *     nopl 0x50b1a002(%rax)   0f 1f 80 02 a0 b1 50   end it, write it out
 *
 *   output (out=PATH): per section "section N lines L lost X", then for
 *   every line written by two or more vCPUs
 *     "line <addr hex> <transfers> <stores vCPU0> <stores vCPU1> ..."
 *   and one line per recorded writer
 *     "w <vcpu> <pc hex> <ret0 hex> <ret1 hex> <stores>"
 *   (ret 0: unknown; "w <vcpu> other 0 0 <stores>" counts the stores of
 *   writers beyond the first NW). qemu/profile/share.py names them.
 *
 * Only instructions in kernel text are instrumented (stores to kernel
 * memory come from there), and outside a section their callback is one
 * load and a return.
 *
 * Plugin API (see pk-count.c; the declarations used are in pk-plugin.h):
 *   4  QEMU 9.2 to 10.0 (-DPK_QEMU_PLUGIN_API=4): with writer frames
 *      (qemu_plugin_read_register, qemu_plugin_read_memory_vaddr).
 *   1  QEMU 7.2 (the default): PCs only, no frames (ret0 = ret1 = 0).
 *   2 and 3 are refused.
 *
 *   gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -DPK_QEMU_PLUGIN_API=4 \
 *       -o pk-share.so pk-share.c
 *
 * PK_SHARE_DEBUG=1 in the environment makes it report on stderr.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk-plugin.h"

#if PK_QEMU_PLUGIN_API != 1 && PK_QEMU_PLUGIN_API < 4
#error "PK_QEMU_PLUGIN_API must be 1 (QEMU 7.2) or 4 and up (QEMU 9.2 to 10.0)"
#endif

QEMU_PLUGIN_EXPORT int qemu_plugin_version = PK_QEMU_PLUGIN_API;

#define KERNEL_BASE 0xffff800000000000ull
#define MAXV 4			/* vCPUs recorded; stores of others are ignored */
#define NW 4			/* writers recorded per line and vCPU */
#define FRAMED 16		/* stores per line and vCPU whose frames are always read */
#define TAB_BITS 18
#define TAB_SIZE (1u << TAB_BITS)
#define TAB_LIMIT (TAB_SIZE / 4 * 3)
#define PROBES 64

struct writer {
	uint64_t pc, ret[2];
	uint64_t stores;
};

struct line {
	_Atomic uint64_t addr;		/* 0: free */
	_Atomic uint32_t last;		/* 1 + the vCPU of the last store */
	_Atomic uint32_t transfers;	/* stores after another vCPU's */
	uint64_t stores[MAXV];		/* each written by its vCPU only */
	uint64_t other[MAXV];		/* stores by writers beyond the first NW */
	uint32_t nw[MAXV];
	struct writer w[MAXV][NW];
};

static const uint8_t marker[6] = { 0x0f, 0x1f, 0x80, 0x00, 0xa0, 0xb1 };

static struct line *tab;
static uint32_t *used;			/* indices of the entries in use */
static _Atomic uint32_t nused;
static _Atomic uint64_t lost;		/* stores whose line found no entry */
static _Atomic int active;
static _Atomic int busy[MAXV];		/* vCPU v is inside a recording */
static FILE *out;
static unsigned section;
static bool debug;

#if PK_QEMU_PLUGIN_API != 1
static struct qemu_plugin_register *rbp_reg[MAXV];
static GByteArray *buf[MAXV];

static void on_vcpu_init(qemu_plugin_id_t id, unsigned int vcpu)
{
	GArray *regs;

	if (vcpu >= MAXV)
		return;
	regs = qemu_plugin_get_registers();
	buf[vcpu] = g_byte_array_new();
	for (unsigned int i = 0; regs && i < regs->len; i++) {
		qemu_plugin_reg_descriptor *d = (qemu_plugin_reg_descriptor *)regs->data + i;

		if (d->name && !strcmp(d->name, "rbp"))
			rbp_reg[vcpu] = d->handle;
	}
	if (debug)
		fprintf(stderr, "pk-share: vCPU %u: rbp %s\n", vcpu, rbp_reg[vcpu] ? "found" : "missing");
	if (regs)
		g_array_free(regs, 1);
}

static uint64_t read_u64(unsigned int vcpu, uint64_t addr)
{
	uint64_t v = 0;

	if (addr < KERNEL_BASE || (addr & 7))
		return 0;
	g_byte_array_set_size(buf[vcpu], 0);
	if (!qemu_plugin_read_memory_vaddr(addr, buf[vcpu], 8) || buf[vcpu]->len < 8)
		return 0;
	memcpy(&v, buf[vcpu]->data, 8);
	return v;
}

/* The return addresses of the store's function and of its caller. */
static void frames(unsigned int vcpu, uint64_t ret[2])
{
	uint64_t rbp = 0;

	ret[0] = ret[1] = 0;
	if (!rbp_reg[vcpu])
		return;
	g_byte_array_set_size(buf[vcpu], 0);
	if (qemu_plugin_read_register(rbp_reg[vcpu], buf[vcpu]) != 8)
		return;
	memcpy(&rbp, buf[vcpu]->data, 8);
	ret[0] = read_u64(vcpu, rbp + 8);
	rbp = read_u64(vcpu, rbp);
	if (rbp)
		ret[1] = read_u64(vcpu, rbp + 8);
}
#else
static void frames(unsigned int vcpu, uint64_t ret[2])
{
	ret[0] = ret[1] = 0;
}
#endif

static struct line *find(uint64_t a)
{
	uint32_t i = (uint32_t)(((a >> 6) * 0x61c8864680b583ebull) >> (64 - TAB_BITS));

	for (int k = 0; k < PROBES; k++, i = (i + 1) & (TAB_SIZE - 1)) {
		struct line *e = &tab[i];
		uint64_t cur = atomic_load_explicit(&e->addr, memory_order_acquire);

		if (cur == a)
			return e;
		if (cur)
			continue;
		if (atomic_load_explicit(&nused, memory_order_relaxed) >= TAB_LIMIT)
			return NULL;
		if (atomic_compare_exchange_strong(&e->addr, &cur, a)) {
			used[atomic_fetch_add(&nused, 1)] = i;
			return e;
		}
		if (cur == a)
			return e;
	}
	return NULL;
}

static void record(unsigned int v, struct line *e, uint64_t pc)
{
	uint32_t me = v + 1;
	struct writer *w = e->w[v];
	uint64_t ret[2] = { 0, 0 };
	bool framed = e->stores[v] < FRAMED;
	uint32_t j;

	e->stores[v]++;
	if (atomic_load_explicit(&e->last, memory_order_relaxed) != me) {
		uint32_t prev = atomic_exchange(&e->last, me);

		if (prev && prev != me)
			atomic_fetch_add_explicit(&e->transfers, 1, memory_order_relaxed);
	}
	if (!framed) {
		/* Past the first stores: a known PC counts for its first writer. */
		for (j = 0; j < e->nw[v]; j++)
			if (w[j].pc == pc) {
				w[j].stores++;
				return;
			}
	}
	frames(v, ret);
	for (j = 0; j < e->nw[v]; j++)
		if (w[j].pc == pc && w[j].ret[0] == ret[0] && w[j].ret[1] == ret[1]) {
			w[j].stores++;
			return;
		}
	if (e->nw[v] < NW) {
		w[e->nw[v]++] = (struct writer){ pc, { ret[0], ret[1] }, 1 };
		return;
	}
	e->other[v]++;
}

static void on_store(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
	struct line *e;

	if (!atomic_load_explicit(&active, memory_order_relaxed))
		return;
	if (vcpu >= MAXV || vaddr < KERNEL_BASE || !qemu_plugin_mem_is_store(info))
		return;
	/* Dekker with on_stop: busy is seen, or this sees active cleared. */
	atomic_store(&busy[vcpu], 1);
	if (atomic_load(&active)) {
		e = find(vaddr & ~63ull);
		if (e)
			record(vcpu, e, (uint64_t)(uintptr_t)udata);
		else
			atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
	}
	atomic_store_explicit(&busy[vcpu], 0, memory_order_release);
}

static void on_start(unsigned int vcpu, void *udata)
{
	if (atomic_load(&active))
		return;
	for (uint32_t k = 0; k < atomic_load(&nused); k++)
		memset(&tab[used[k]], 0, sizeof(*tab));
	atomic_store(&nused, 0);
	atomic_store(&lost, 0);
	atomic_store(&active, 1);
}

static void on_stop(unsigned int vcpu, void *udata)
{
	uint32_t n, shared = 0;

	if (!atomic_exchange(&active, 0))
		return;
	for (int v = 0; v < MAXV; v++)
		while (atomic_load_explicit(&busy[v], memory_order_acquire))
			;
	n = atomic_load(&nused);
	fprintf(out, "section %u lines %u lost %" PRIu64 "\n", section++, n, atomic_load(&lost));
	for (uint32_t k = 0; k < n; k++) {
		struct line *e = &tab[used[k]];
		int writers = 0, top = 0;

		for (int v = 0; v < MAXV; v++)
			if (e->stores[v]) {
				writers++;
				top = v + 1;
			}
		if (writers < 2)
			continue;
		shared++;
		fprintf(out, "line %" PRIx64 " %u", (uint64_t)e->addr, (unsigned int)e->transfers);
		for (int v = 0; v < (top < 2 ? 2 : top); v++)
			fprintf(out, " %" PRIu64, e->stores[v]);
		fputc('\n', out);
		for (int v = 0; v < top; v++) {
			for (uint32_t j = 0; j < e->nw[v]; j++) {
				struct writer *w = &e->w[v][j];

				fprintf(out, "w %d %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIu64 "\n", v,
					w->pc, w->ret[0], w->ret[1], w->stores);
			}
			if (e->other[v])
				fprintf(out, "w %d other 0 0 %" PRIu64 "\n", v, e->other[v]);
		}
	}
	fflush(out);
	if (debug)
		fprintf(stderr, "pk-share: section %u: %u lines, %u shared, %" PRIu64 " stores lost\n",
			section - 1, n, shared, atomic_load(&lost));
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	bool kernel = qemu_plugin_tb_vaddr(tb) >= KERNEL_BASE;

	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t pc = qemu_plugin_insn_vaddr(insn);
#if PK_QEMU_PLUGIN_API == 1
		const uint8_t *d;
#else
		uint8_t d[7];	/* only 7-byte instructions are compared */
#endif

		if (kernel)
			qemu_plugin_register_vcpu_mem_cb(insn, on_store,
							 PK_QEMU_PLUGIN_API == 1 ? QEMU_PLUGIN_CB_NO_REGS
										 : QEMU_PLUGIN_CB_R_REGS,
							 QEMU_PLUGIN_MEM_W, (void *)(uintptr_t)pc);
		if (qemu_plugin_insn_size(insn) != 7)
			continue;
#if PK_QEMU_PLUGIN_API == 1
		d = qemu_plugin_insn_data(insn);
#else
		if (qemu_plugin_insn_data(insn, d, sizeof(d)) != sizeof(d))
			continue;
#endif
		if (memcmp(d, marker, 3) || d[4] != 0xa0 || d[5] != 0xb1 || d[6] != 0x50)
			continue;
		if (d[3] == 0x01)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
		else if (d[3] == 0x02)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop, QEMU_PLUGIN_CB_NO_REGS, NULL);
	}
}

static void on_exit_cb(qemu_plugin_id_t id, void *p)
{
	if (debug)
		fprintf(stderr, "pk-share: exit, %u sections\n", section);
	fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
					   char **argv)
{
	const char *path = NULL;

	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
	if (!path) {
		fprintf(stderr, "pk-share: needs out=PATH\n");
		return -1;
	}
	/* calloc: pages of the table are only touched as lines use them. */
	tab = calloc(TAB_SIZE, sizeof(*tab));
	used = calloc(TAB_SIZE, sizeof(*used));
	if (!tab || !used) {
		fprintf(stderr, "pk-share: out of memory\n");
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		perror(path);
		return -1;
	}
	debug = getenv("PK_SHARE_DEBUG") && strcmp(getenv("PK_SHARE_DEBUG"), "0");
	if (debug)
		fprintf(stderr, "pk-share: loaded, API %d, QEMU %s API %d..%d\n", PK_QEMU_PLUGIN_API,
			info->target_name, info->version.min, info->version.cur);
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
#if PK_QEMU_PLUGIN_API != 1
	qemu_plugin_register_vcpu_init_cb(id, on_vcpu_init);
#endif
	qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
	return 0;
}
