/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi: reference counting of MSI page table entries and the order of
 * entry changes around an IRQ move. Pure logic, no locking and no hardware:
 * iommu-msi.c runs it under its table lock, and a userspace test
 * (tests/test-rvmsi-move.c) runs the very same code against a model of the
 * IMSIC. Include msi_compat.h (for u8, u32, bool) before this header.
 *
 * An entry is valid while its reference count is not zero; the owner is
 * told through @sync whenever a count goes 0 -> 1 or 1 -> 0 and rewrites
 * the entry (and invalidates it) from the count.
 *
 * A move goes: rvmsi_move_open() with the entries of every file the
 * interrupt controller may pick (they become valid before the device can
 * be pointed at any of them); the controller repoints the device;
 * rvmsi_move_commit() with the entry it picked, which keeps a reference,
 * drops the temporary ones and remembers the old entry as retired;
 * rvmsi_move_retire() later, once the device can no longer have an MSI in
 * flight to the old file, releases it.
 */
#ifndef _RISCV_RVMSI_MOVE_H_
#define _RISCV_RVMSI_MOVE_H_

/**
 * struct rvmsi_refs - the reference counts of one table
 * @refs: one count per entry
 * @nr: number of entries
 * @sync: called when entry @index must become valid or invalid
 * @ctx: passed to @sync
 */
struct rvmsi_refs {
	u32 *refs;
	unsigned long nr;
	void (*sync)(void *ctx, long index);
	void *ctx;
};

/**
 * struct rvmsi_move_irq - what one IRQ holds
 * @index: entry of its current target, -1 if none
 * @retired: entry of its previous target, held until retired, -1 if none
 * @premap: per entry, 1 while opened by the current move (@nr bytes)
 * @opened: the entries the current move opened, @nr_opened of them, so
 *	    that the commit walks only those (it runs in hard interrupt
 *	    context, and a table can have thousands of entries)
 * @nr_opened: entries in @opened
 * @max_opened: room in @opened: one per CPU the controller may pick
 */
struct rvmsi_move_irq {
	long index;
	long retired;
	u8 *premap;
	long *opened;
	unsigned int nr_opened;
	unsigned int max_opened;
};

static inline void rvmsi_ref_get(struct rvmsi_refs *r, long index)
{
	if (!r->refs[index]++)
		r->sync(r->ctx, index);
}

/* Returns false (and changes nothing) on an unbalanced put. */
static inline bool rvmsi_ref_put(struct rvmsi_refs *r, long index)
{
	if (!r->refs[index])
		return false;
	if (!--r->refs[index])
		r->sync(r->ctx, index);
	return true;
}

/* A new IRQ targets @index (or nothing, if negative). */
static inline void rvmsi_irq_init(struct rvmsi_refs *r, struct rvmsi_move_irq *irq,
				  long index)
{
	irq->index = index;
	irq->retired = -1;
	if (index >= 0)
		rvmsi_ref_get(r, index);
}

/*
 * Before the controller may repoint the device: open one candidate file.
 * The owner sizes @opened for every CPU, and a CPU has one file, so it
 * never runs out of room.
 */
static inline void rvmsi_move_open(struct rvmsi_refs *r, struct rvmsi_move_irq *irq,
				   long index)
{
	if (index < 0 || (unsigned long)index >= r->nr || irq->premap[index] ||
	    irq->nr_opened >= irq->max_opened)
		return;
	irq->premap[index] = 1;
	irq->opened[irq->nr_opened++] = index;
	rvmsi_ref_get(r, index);
}

/*
 * The controller picked @index (negative: it could not tell). Returns true
 * if an old entry now waits for rvmsi_move_retire().
 */
static inline bool rvmsi_move_commit(struct rvmsi_refs *r, struct rvmsi_move_irq *irq,
				     long index)
{
	bool retire = false;
	long i;

	if (index >= 0 && index != irq->index) {
		rvmsi_ref_get(r, index);
		/* A move still waiting to retire is two moves old now. */
		if (irq->retired >= 0)
			rvmsi_ref_put(r, irq->retired);
		irq->retired = irq->index;
		irq->index = index;
		retire = irq->retired >= 0;
	}
	while (irq->nr_opened) {
		i = irq->opened[--irq->nr_opened];
		irq->premap[i] = 0;
		rvmsi_ref_put(r, i);
	}
	return retire;
}

/* The device has the new message: release the old file. */
static inline void rvmsi_move_retire(struct rvmsi_refs *r, struct rvmsi_move_irq *irq)
{
	if (irq->retired < 0)
		return;
	rvmsi_ref_put(r, irq->retired);
	irq->retired = -1;
}

/* The IRQ goes away: release everything it holds. */
static inline void rvmsi_irq_release(struct rvmsi_refs *r, struct rvmsi_move_irq *irq)
{
	rvmsi_move_retire(r, irq);
	if (irq->index >= 0)
		rvmsi_ref_put(r, irq->index);
	irq->index = -1;
}

#endif /* _RISCV_RVMSI_MOVE_H_ */
