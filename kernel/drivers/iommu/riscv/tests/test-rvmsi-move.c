// SPDX-License-Identifier: GPL-2.0-only
/*
 * Userspace test of rvmsi-move.h, the reference counting and ordering of
 * MSI page table entries that iommu-msi.c runs under its table lock.
 *
 * A model of the interrupt controller picks any file of the requested mask
 * and repoints the "device" at it the moment it is called, exactly where
 * the IMSIC does it (inside set_affinity). After every step the test checks
 * that every file the device may still write to (its current target, and
 * the previous one until the move is retired) is valid, that each count
 * equals the number of holders, that an entry is valid exactly while its
 * count is not zero, and that sync is called only on 0 <-> 1 transitions.
 *
 * Build from the repository root with this file as the only source and
 * -I lib/msi -I kernel/drivers/iommu/riscv (see docs/kernel.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msi_compat.h"
#include "rvmsi-move.h"

#define NR_FILES	8
#define NR_IRQS		3
#define STEPS		200000

static u32 refs[NR_FILES];
static bool valid[NR_FILES];
static unsigned long syncs, bad_syncs;
static int failures;

struct model_irq {
	struct rvmsi_move_irq mv;
	u8 premap[NR_FILES];
	long opened[NR_FILES];
	bool live;
	long target;		/* where the device writes now */
	long in_flight;		/* previous target, until retired */
};

static struct rvmsi_refs rs = { .refs = refs, .nr = NR_FILES };

#define CHECK(cond, ...) do {							\
	if (!(cond)) {								\
		failures++;							\
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);\
		fprintf(stderr, __VA_ARGS__);					\
		fputc('\n', stderr);						\
		if (failures > 20)						\
			exit(1);						\
	}									\
} while (0)

static struct model_irq irqs[NR_IRQS];

static void sync_cb(void *ctx, long index)
{
	int i;

	(void)ctx;
	syncs++;
	/* Only called when the count crosses zero: the state must flip. */
	if (valid[index] == !!refs[index])
		bad_syncs++;
	valid[index] = refs[index] > 0;
	/* Never, not even for a moment, block a file a device may write to. */
	for (i = 0; i < NR_IRQS && !valid[index]; i++)
		CHECK(!irqs[i].live || (irqs[i].target != index && irqs[i].in_flight != index),
		      "file %ld blocked while irq %d may write to it", index, i);
}

static unsigned long long rng = 0x2545f4914f6cdd1dULL;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

static void check_invariants(const char *step)
{
	u32 want[NR_FILES] = { 0 };
	int i, f;

	for (i = 0; i < NR_IRQS; i++) {
		struct model_irq *m = &irqs[i];

		if (!m->live)
			continue;
		CHECK(m->target < 0 || valid[m->target], "%s: irq %d target %ld invalid",
		      step, i, m->target);
		CHECK(m->in_flight < 0 || valid[m->in_flight],
		      "%s: irq %d in-flight %ld invalid", step, i, m->in_flight);
		CHECK(m->mv.index == m->target, "%s: irq %d index %ld target %ld", step, i,
		      m->mv.index, m->target);
		CHECK(m->mv.retired == m->in_flight, "%s: irq %d retired %ld in flight %ld",
		      step, i, m->mv.retired, m->in_flight);
		if (m->mv.index >= 0)
			want[m->mv.index]++;
		if (m->mv.retired >= 0)
			want[m->mv.retired]++;
		for (f = 0; f < NR_FILES; f++)
			CHECK(!m->premap[f], "%s: irq %d premap %d left set", step, i, f);
		CHECK(!m->mv.nr_opened, "%s: irq %d %u opened entries left", step, i,
		      m->mv.nr_opened);
	}
	for (f = 0; f < NR_FILES; f++) {
		CHECK(refs[f] == want[f], "%s: file %d refs %u holders %u", step, f, refs[f],
		      want[f]);
		CHECK(valid[f] == (refs[f] > 0), "%s: file %d valid %d refs %u", step, f,
		      valid[f], refs[f]);
	}
	CHECK(!bad_syncs, "%s: %lu sync calls without a 0/1 transition", step, bad_syncs);
}

static void op_alloc(struct model_irq *m)
{
	memset(m, 0, sizeof(*m));
	m->mv.premap = m->premap;
	m->mv.opened = m->opened;
	m->mv.max_opened = NR_FILES;
	m->live = true;
	m->target = rnd(NR_FILES);
	m->in_flight = -1;
	rvmsi_irq_init(&rs, &m->mv, m->target);
}

/* The device's MSI is off before its IRQ is freed. */
static void op_free(struct model_irq *m)
{
	m->live = false;
	rvmsi_irq_release(&rs, &m->mv);
}

/* Retired: nothing can be in flight to the old file any more. */
static void op_retire(struct model_irq *m)
{
	m->in_flight = -1;
	rvmsi_move_retire(&rs, &m->mv);
}

/* One set_affinity: open the mask, the controller repoints, commit. */
static void op_move(struct model_irq *m)
{
	unsigned int mask = 1 + rnd((1U << NR_FILES) - 1);
	long pick, prev = m->target;
	int f, n = 0, cand[NR_FILES];

	for (f = 0; f < NR_FILES; f++) {
		if (!(mask & (1U << f)))
			continue;
		cand[n++] = f;
		rvmsi_move_open(&rs, &m->mv, f);
	}
	for (f = 0; f < n; f++)
		CHECK(valid[cand[f]], "candidate %d not valid before the switch", cand[f]);

	/* Like the IMSIC: keep the old file if it is in the mask. */
	pick = (mask & (1U << prev)) ? prev : cand[rnd(n)];
	if (pick != prev) {
		CHECK(valid[pick], "device switched to invalid file %ld", pick);
		/* A move not yet retired is two moves old: its MSIs have landed. */
		m->in_flight = prev;
		m->target = pick;
	}
	if (rvmsi_move_commit(&rs, &m->mv, pick))
		CHECK(m->mv.retired == prev, "retired %ld, expected %ld", m->mv.retired, prev);
	else
		CHECK(pick == prev, "no retire owed after a real move");
	if (pick == prev && m->mv.retired < 0)
		m->in_flight = -1;
}

int main(void)
{
	unsigned long step, moves = 0, retires = 0, frees = 0;
	int i;

	rs.sync = sync_cb;

	/* An unbalanced put is refused and changes nothing. */
	CHECK(!rvmsi_ref_put(&rs, 0), "put on a zero count accepted");
	CHECK(refs[0] == 0 && !valid[0] && syncs == 0, "state changed by a refused put");

	for (i = 0; i < NR_IRQS; i++)
		op_alloc(&irqs[i]);
	check_invariants("alloc");

	for (step = 0; step < STEPS; step++) {
		struct model_irq *m = &irqs[rnd(NR_IRQS)];

		switch (rnd(10)) {
		case 0:
			if (m->live) {
				op_free(m);
				frees++;
			} else {
				op_alloc(m);
			}
			check_invariants("free/alloc");
			break;
		case 1: case 2: case 3:
			if (m->live) {
				op_retire(m);
				retires++;
				check_invariants("retire");
			}
			break;
		default:
			if (m->live) {
				op_move(m);
				moves++;
				check_invariants("move");
			}
			break;
		}
	}

	/* Quiescent: everything retired, only the current targets are valid. */
	for (i = 0; i < NR_IRQS; i++)
		if (irqs[i].live)
			op_retire(&irqs[i]);
	check_invariants("quiescent");
	for (i = 0; i < NR_IRQS; i++)
		if (irqs[i].live)
			op_free(&irqs[i]);
	for (i = 0; i < NR_FILES; i++)
		CHECK(!valid[i] && !refs[i], "file %d still held after every IRQ is gone", i);

	printf("test-rvmsi-move: %lu steps, %lu moves, %lu retires, %lu frees, %lu syncs: %s\n",
	       (unsigned long)STEPS, moves, retires, frees, syncs, failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
