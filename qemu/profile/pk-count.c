// SPDX-License-Identifier: GPL-2.0
/*
 * pk-count: a QEMU TCG plugin that counts the guest code each operation runs.
 *
 * Under TCG, time is a noisy measure (the host preempts QEMU; the guest has
 * only a TSC derived from the host's). The guest code an operation executes
 * is not: this plugin counts, per translation block, how often it ran, and
 * reports the counts between two marker instructions the guest executes
 * (pk-bench --count). qemu/profile.sh turns the reports into per-function
 * profiles with the guest's /proc/kallsyms.
 *
 *   markers (7-byte NOPs no compiler emits):
 *     nopl 0x50b1a001(%rax)   0f 1f 80 01 a0 b1 50   start a section
 *     nopl 0x50b1a002(%rax)   0f 1f 80 02 a0 b1 50   end it, write it out
 *
 *   output (out=PATH): per section, "section N" then one line per block
 *   that ran in it: "<start vaddr hex> <instructions> <executions>".
 *
 * QEMU's plugin API is stable C (include/qemu/qemu-plugin.h); Debian does
 * not ship the header, so the few declarations used are repeated in
 * pk-plugin.h (shared with pk-share.c), for the API version
 * PK_QEMU_PLUGIN_API (default 1). QEMU loads a plugin only
 * if its version lies in QEMU's [min, cur], and the calls differ by version:
 *
 *   1  QEMU 7.2 (min 0, cur 1): the build on these machines.
 *        gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -o pk-count.so \
 *            pk-count.c -lpthread
 *   4  QEMU 9.2 to 10.0 (10.0: min 2, cur 4): add -DPK_QEMU_PLUGIN_API=4.
 *      Version 2 dropped the shared-pointer inline add for per-vCPU
 *      scoreboards; version 3 made qemu_plugin_insn_data() copy into a
 *      buffer. 2 is refused here: QEMU 9.1 and later accept it but then
 *      expect the version 3 insn_data call.
 *
 * PK_COUNT_DEBUG=1 in the environment makes the plugin say on stderr that
 * it loaded and, at exit, how many blocks it saw.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk-plugin.h"

#if PK_QEMU_PLUGIN_API != 1 && PK_QEMU_PLUGIN_API < 3
#error "PK_QEMU_PLUGIN_API must be 1 (QEMU 7.2) or 3 and up (4 for QEMU 10.0)"
#endif

QEMU_PLUGIN_EXPORT int qemu_plugin_version = PK_QEMU_PLUGIN_API;

static const uint8_t marker[6] = { 0x0f, 0x1f, 0x80, 0x00, 0xa0, 0xb1 };

/* One translated block; never freed (QEMU may run it until exit). */
struct block {
	uint64_t vaddr;
	uint64_t insns;
#if PK_QEMU_PLUGIN_API == 1
	uint64_t count;		/* bumped inline by the generated code */
#else
	qemu_plugin_u64 count;	/* the same, one slot per vCPU: sum them */
#endif
	uint64_t base;	/* count at the last start marker */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct block **blocks;
static size_t nblocks, capblocks;
static FILE *out;
static unsigned section;
static bool open_section;
static bool debug;

#if PK_QEMU_PLUGIN_API != 1
/*
 * Version 2 and up add inline only into scoreboards (an array of one entry
 * per vCPU, which QEMU grows with the vCPUs). A scoreboard per block would
 * be an allocation and a list entry inside QEMU per block, so blocks take
 * their counter from a shared scoreboard whose entry is SLAB counters.
 */
#define SLAB 4096
static struct qemu_plugin_scoreboard *slab;
static size_t slab_used = SLAB;

static uint64_t block_count(const struct block *b)
{
	return qemu_plugin_u64_sum(b->count);
}
#else
static uint64_t block_count(const struct block *b)
{
	return b->count;
}
#endif

static void on_start(unsigned int vcpu, void *udata)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nblocks; i++)
		blocks[i]->base = block_count(blocks[i]);
	open_section = true;
	pthread_mutex_unlock(&lock);
}

static void on_stop(unsigned int vcpu, void *udata)
{
	pthread_mutex_lock(&lock);
	if (open_section) {
		fprintf(out, "section %u\n", section++);
		for (size_t i = 0; i < nblocks; i++) {
			struct block *b = blocks[i];
			uint64_t count = block_count(b);

			if (count > b->base)
				fprintf(out, "%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", b->vaddr, b->insns,
					count - b->base);
		}
		fflush(out);
		open_section = false;
	}
	pthread_mutex_unlock(&lock);
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct block *b = calloc(1, sizeof(*b));
	size_t n = qemu_plugin_tb_n_insns(tb);

	if (!b)
		abort();
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->insns = n;
	/*
	 * Blocks translated inside a section start counting from 0: their
	 * base stays 0, which is right.
	 */
	pthread_mutex_lock(&lock);
	if (nblocks == capblocks) {
		capblocks = capblocks ? 2 * capblocks : 65536;
		blocks = realloc(blocks, capblocks * sizeof(*blocks));
		if (!blocks)
			abort();
	}
	blocks[nblocks++] = b;
#if PK_QEMU_PLUGIN_API == 1
	pthread_mutex_unlock(&lock);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->count, 1);
#else
	if (slab_used == SLAB) {
		slab = qemu_plugin_scoreboard_new(SLAB * sizeof(uint64_t));
		if (!slab)
			abort();
		slab_used = 0;
	}
	b->count.score = slab;
	b->count.offset = slab_used++ * sizeof(uint64_t);
	pthread_mutex_unlock(&lock);
	qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, b->count, 1);
#endif

	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
#if PK_QEMU_PLUGIN_API == 1
		const uint8_t *d = qemu_plugin_insn_data(insn);
#else
		uint8_t d[7];	/* only 7-byte instructions are compared */
#endif

		if (qemu_plugin_insn_size(insn) != 7)
			continue;
#if PK_QEMU_PLUGIN_API != 1
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
		fprintf(stderr, "pk-count: exit, %zu blocks translated, %u sections\n", nblocks,
			section);
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
		fprintf(stderr, "pk-count: needs out=PATH\n");
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		perror(path);
		return -1;
	}
	debug = getenv("PK_COUNT_DEBUG") && strcmp(getenv("PK_COUNT_DEBUG"), "0");
	if (debug)
		fprintf(stderr, "pk-count: loaded, API %d, QEMU %s API %d..%d\n",
			PK_QEMU_PLUGIN_API, info->target_name, info->version.min, info->version.cur);
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
	qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
	return 0;
}
