// SPDX-License-Identifier: GPL-2.0-only
/*
 * rvmsi: MSI handling of the RISC-V IOMMU driver.
 *
 * Where MSI page tables are used
 * ------------------------------
 * The current RISC-V IOMMU specification (riscv-non-isa/riscv-iommu,
 * iommu_data_structures.adoc, "Device-context configuration checks", rule
 * added 2025-10-01) reserves any msiptp other than Off under a Bare
 * DC.iohgatp, and the IOMMU caches MSI PTEs tagged by {GSCID, GPA} only,
 * with no device ID ("Identifiers used to tag IOATC entries"). So a device
 * gets a table only where its paging domains are second stage
 * (riscv_iommu_msi_tables(): MSI_FLAT and an x4 mode), and each table is
 * cached under a GSCID of its own, allocated with the table and freed with
 * it after an IOTINVAL.GVMA for it has completed (riscv_iommu_gscid_free()).
 *
 * The IMSIC window
 * ----------------
 * The IMSIC page a device's MSI targets is chosen by the IMSIC driver and
 * changes with the IRQ's affinity, in atomic context, to a page of another
 * hart. The SW_MSI scheme (iommu_dma_prepare_msi(), one IOVA page per MSI
 * descriptor, mapped once at allocation) cannot follow that. The driver
 * therefore reports a fixed window instead: the interrupt-file pages, at
 * IOVA == physical address, as IOMMU_RESV_MSI (the hardware MSI window of
 * a second stage), so that no user of the domain (iommufd, VFIO) can place
 * its own mappings there.
 *
 * With MSI page tables the window holds each hart's S-level file and its
 * guest files, and nothing maps it: every write there is looked up in the
 * table before second-stage translation and is blocked (cause 262) unless
 * an entry allows it. A device that has no table (out of memory at probe,
 * or MSIs that do not go to the IMSIC) reaches no interrupt file at all:
 * its writes there fault in the second stage. Without MSI page tables the
 * window holds the S-level files only and the driver maps it into every
 * first-stage paging domain it creates.
 *
 * MSI page tables per set of devices
 * ----------------------------------
 * The IOMMU matches the guest-physical address A of a write (the IOVA, as
 * there is no first stage) against DC.msi_addr_mask/pattern and translates
 * a match through the table at DC.msiptp. The table belongs to the device
 * (its requester IDs), never to an iommu_domain: it must follow the
 * device's interrupts, which the domain knows nothing about. Devices that
 * share a requester ID (a DMA alias, e.g. behind a PCIe-to-PCI bridge)
 * share the device context of that ID, so they share one table, GSCID and
 * mode: a set (struct riscv_iommu_msi_table), in which every member's IRQs
 * count. Such devices are in one IOMMU group (pci_device_group()), so in
 * one domain and with one owner. It is in use
 * in every domain that lets the device through: paging domains are second
 * stage, and so is the identity domain (a 1:1 second-stage table, iommu.c),
 * every device's default domain on RISC-V, which has no DMA-API
 * translation. Under the blocking domain the context is invalid.
 *
 * The table is kept by the set's irq domain, inserted between the
 * device's MSI domain and the IMSIC (DOMAIN_BUS_MSI_REMAP, an MSI parent on
 * msi-lib). Its alloc and free see every MSI the device gets, its
 * set_affinity sees every move. Each entry covers one interrupt file; in
 * identity mode an entry is valid while at least one of the device's IRQs
 * targets that file (a per-entry reference count). Everything else is
 * blocked.
 *
 * The IMSIC repoints the device itself from inside its set_affinity, so the
 * file it will pick must be open before the parent is called: the files of
 * every online CPU in the requested mask are referenced first, the one the
 * parent picked keeps its reference, the others drop theirs. The old file is
 * released from an irq_work, after the new message is in the device, so an
 * MSI already on its way to the old file is not turned into a fault.
 *
 * Readers (GET_INFO, GET_ENTRIES, DEV_GET and the snapshot of an ENTRY_NTF)
 * first wait for the retire of every move that has committed, so what they
 * report of a move that completed before the call is its end state, never
 * the old and the new entry together (riscv_iommu_msi_settle()).
 *
 * Every PTE change is followed by IOTINVAL.GVMA for the set's GSCID and
 * the file's address, and IOFENCE.C; the device context fields are written
 * by the IODIR update path of the driver, which invalidates with
 * IODIR.INVAL_DDT.
 *
 * The address/data pair is not validated by the hardware: an identity entry
 * lets the device raise any identity in that file. The remap domain does not
 * claim IRQ_DOMAIN_FLAG_ISOLATED_MSI.
 */

#define pr_fmt(fmt) "riscv-iommu-msi: " fmt

#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/generic_pt/iommu.h>
#include <linux/iommu.h>
#include <linux/irq.h>
#include <linux/irq_work.h>
#include <linux/irqchip/irq-msi-lib.h>
#include <linux/irqchip/riscv-imsic.h>
#include <linux/irqdomain.h>
#include <linux/msi.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/ratelimit.h>
#include <linux/rvmsi.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "../iommu-pages.h"
#include "iommu-bits.h"
#include "iommu.h"
#include "iommu-msi.h"
#include "msi/rvmsi_msi.h"
#include "rvmsi-move.h"
#include "rvmsi-nl.h"

#define RISCV_IOMMU_MSI_PROT	(IOMMU_READ | IOMMU_WRITE | IOMMU_MMIO)

#define RISCV_IOMMU_MSI_GSTAGE_CAPS (RISCV_IOMMU_CAPABILITIES_SV39X4 | \
				     RISCV_IOMMU_CAPABILITIES_SV48X4 | \
				     RISCV_IOMMU_CAPABILITIES_SV57X4)

/* The IMSIC geometry, derived once from the IMSIC driver's configuration. */
struct riscv_iommu_msi_geom {
	struct rvmsi_imsic_geom g;
	u64 mask;
	u64 pattern;
	u64 nr_entries;
};

static DEFINE_MUTEX(riscv_iommu_msi_geom_lock);
static struct riscv_iommu_msi_geom riscv_iommu_msi_geom;
static int riscv_iommu_msi_geom_state;	/* 0 unknown, 1 valid, <0 errno */

/**
 * struct riscv_iommu_msi_table - MSI page table of a set of devices
 * @iommu: the IOMMU the devices sit behind
 * @node: in riscv_iommu_msi_sets
 * @members: the devices using the table (struct riscv_iommu_msi_dev), under
 *           riscv_iommu_msi_devs_lock
 * @table: the MSI page table, @geom->nr_entries entries; NULL if the set
 *         has none (no memory, or MSIs that do not go to the IMSIC)
 * @refs: per entry, how many of the devices' IRQs hold it open
 * @rs: the reference counting of @refs (rvmsi-move.h), under @lock
 * @lock: serialises @table and @refs; taken in hard interrupt context
 * @domain: the set's MSI remapping domain, the MSI parent of every member
 * @parent: the MSI parent the devices had before (the IMSIC)
 * @fwnode: @domain's fwnode
 * @mode: enum iommu_rvmsi_mode, under @lock
 * @locked: isolation lock: only blocked (and MRIF) entries, under @lock
 * @gscid: the set's GSCID, the tag of its cached MSI PTEs and second stage
 * @fence_owed: invalidations were queued and not yet fenced, under @lock
 * @nr_gvma: IOTINVAL.GVMA commands sent for the table, under @lock
 * @nr_fence: IOFENCE.C commands sent for the table, under @lock
 * @nr_irqs: IRQs allocated in @domain
 * @ntf_reasons: RVMSI_REASON_* bits waiting for @ntf_work
 * @ntf_work: sends the entry-changed events (not from hard IRQ context)
 * @irqs: the devices' IRQs (struct riscv_iommu_msi_irq); added and removed
 *        under both @irqs_lock and @lock, walked under either
 * @irqs_lock: lets a reader that sleeps walk @irqs (riscv_iommu_msi_settle())
 * @mrifs: MRIF mode: one 512-byte MRIF per entry, kernel memory
 * @notices: per entry, identities received through its MRIF
 * @forged: identities found in an MRIF that are none of the devices'
 * @notice_virq: the kernel-owned interrupt the notice MSIs go to
 * @notice_addr: its IMSIC address (page of the notice MSI), under @lock
 * @notice_id: its IMSIC identity (NID), under @lock
 * @notice_name: its name in /proc/interrupts
 *
 * The set is every device that shares a requester ID with another member
 * (a DMA alias): the IOMMU looks up the MSIs of all of them in the device
 * contexts of the shared IDs, so they must have one table, one GSCID and
 * one mode (docs/kernel.md, "Requester-ID aliases"). Most sets have one
 * member.
 */
struct riscv_iommu_msi_table {
	struct riscv_iommu_device *iommu;
	struct list_head node;
	struct list_head members;
	struct rvmsi_msipte *table;
	u32 *refs;
	struct rvmsi_refs rs;
	raw_spinlock_t lock;
	struct irq_domain *domain;
	struct irq_domain *parent;
	struct fwnode_handle *fwnode;
	u32 mode;
	bool locked;
	u32 gscid;
	bool fence_owed;
	u64 nr_gvma;
	u64 nr_fence;
	atomic_t nr_irqs;
	unsigned long ntf_reasons;
	struct work_struct ntf_work;
	struct list_head irqs;
	struct mutex irqs_lock;
	u64 *mrifs;
	u64 *notices;
	u64 forged;
	unsigned int notice_virq;
	u64 notice_addr;
	u32 notice_id;
	char *notice_name;
};

/**
 * struct riscv_iommu_msi_dev - one device's membership in a table's set
 * @tbl: the set's table
 * @dev: the device
 * @rid: its own requester ID (the first of its fwspec)
 * @debugfs: its file in the debugfs directory
 * @node: in riscv_iommu_msi_devs, if @tbl has a table
 * @member: in @tbl->members
 */
struct riscv_iommu_msi_dev {
	struct riscv_iommu_msi_table *tbl;
	struct device *dev;
	u32 rid;
	struct dentry *debugfs;
	struct list_head node;
	struct list_head member;
};

/*
 * Every set, and every device whose set has a table (for lookups by name and
 * dumps). The lock also guards each set's members.
 */
static LIST_HEAD(riscv_iommu_msi_sets);
static LIST_HEAD(riscv_iommu_msi_devs);
static DEFINE_MUTEX(riscv_iommu_msi_devs_lock);

/**
 * struct riscv_iommu_msi_irq - chip data of one IRQ in a remapping domain
 * @tbl: the table of the device's set
 * @mv: the entries it holds (current target, retired target, a move's
 *      candidates), under @tbl->lock
 * @retire_work: releases @retired once the device has the new message
 * @node: in @tbl->irqs
 * @virq: the Linux IRQ
 * @id: the IMSIC identity of its current target, under @tbl->lock
 */
struct riscv_iommu_msi_irq {
	struct riscv_iommu_msi_table *tbl;
	struct list_head node;
	unsigned int virq;
	u32 id;
	struct rvmsi_move_irq mv;
	struct irq_work retire_work;
};

static struct dentry *riscv_iommu_msi_debugfs_dir;

/*
 * Counts changes to any device's entries and to the list of devices, so
 * that a DEV_GET dump spread over several messages can tell that it read
 * from two different states (rvmsi_generation()).
 */
static atomic_t riscv_iommu_msi_gen = ATOMIC_INIT(1);

/* Queue an entry-changed event; safe in any context. */
static void riscv_iommu_msi_event(struct riscv_iommu_msi_table *tbl, u32 reason)
{
	atomic_inc(&riscv_iommu_msi_gen);
	set_bit(reason, &tbl->ntf_reasons);
	schedule_work(&tbl->ntf_work);
}

/*
 * The page of the window that belongs to @cpu: the supervisor-level
 * interrupt file of its hart, or 0 if the IMSIC driver found none.
 */
static phys_addr_t riscv_iommu_msi_cpu_page(const struct imsic_global_config *gc,
					    unsigned int cpu)
{
	return gc ? per_cpu_ptr(gc->local, cpu)->msi_pa : 0;
}

static int riscv_iommu_msi_geom_compute(struct riscv_iommu_msi_geom *mg)
{
	const struct imsic_global_config *gc = imsic_get_global_config();
	struct rvmsi_imsic_geom *g = &mg->g;
	u32 group, hart, max_group = 0, max_hart = 0;
	unsigned int cpu, found = 0;
	phys_addr_t pa;
	int ret;

	if (!gc)
		return -ENODEV;

	/* Start from the widest layout the index fields allow ... */
	g->base = gc->base_addr;
	g->guest_index_bits = gc->guest_index_bits;
	g->hart_index_bits = gc->hart_index_bits;
	g->group_index_bits = gc->group_index_bits;
	g->group_index_shift = gc->group_index_shift;
	g->nr_groups = 1U << gc->group_index_bits;
	g->nr_harts = 1U << gc->hart_index_bits;
	g->geilen = gc->nr_guest_files;
	g->nr_ids = gc->nr_ids;
	g->nr_guest_ids = g->geilen ? gc->nr_guest_ids : 0;
	ret = rvmsi_imsic_geom_validate(g);
	if (ret)
		return ret;

	/* ... then shrink it to the harts that really have a file. */
	for_each_possible_cpu(cpu) {
		pa = riscv_iommu_msi_cpu_page(gc, cpu);
		if (!pa)
			continue;
		ret = rvmsi_imsic_file_locate(g, pa, &group, &hart, NULL);
		if (ret)
			return ret;
		max_group = max(max_group, group);
		max_hart = max(max_hart, hart);
		found++;
	}
	if (!found)
		return -ENODEV;
	g->nr_groups = max_group + 1;
	g->nr_harts = max_hart + 1;

	ret = rvmsi_imsic_msi_mask_pattern(g, &mg->mask, &mg->pattern);
	if (ret)
		return ret;
	return rvmsi_imsic_table_entries(g, &mg->nr_entries);
}

/* The geometry, or NULL if there is none the MSI table can describe. */
static const struct riscv_iommu_msi_geom *riscv_iommu_msi_get_geom(void)
{
	guard(mutex)(&riscv_iommu_msi_geom_lock);
	if (!riscv_iommu_msi_geom_state) {
		riscv_iommu_msi_geom_state =
			riscv_iommu_msi_geom_compute(&riscv_iommu_msi_geom) ?: 1;
		if (riscv_iommu_msi_geom_state < 0)
			pr_warn("no usable IMSIC geometry (%d): no MSI page tables\n",
				riscv_iommu_msi_geom_state);
		else
			pr_info("IMSIC: %u group(s) x %u hart(s), %u guest file(s) per hart, %llu table entries\n",
				riscv_iommu_msi_geom.g.nr_groups,
				riscv_iommu_msi_geom.g.nr_harts,
				riscv_iommu_msi_geom.g.geilen,
				riscv_iommu_msi_geom.nr_entries);
	}
	return riscv_iommu_msi_geom_state > 0 ? &riscv_iommu_msi_geom : NULL;
}

/**
 * riscv_iommu_msi_tables() - do devices behind @iommu get MSI page tables
 * @iommu: the IOMMU
 *
 * Only with MSI_FLAT, a second-stage mode to put the tables under (msiptp
 * is reserved under a Bare iohgatp), and an IMSIC geometry a table can
 * describe. The answer never changes for an IOMMU, so paging domains and
 * device probes agree on it.
 *
 * Return: true if paging domains are second stage and devices get tables.
 */
bool riscv_iommu_msi_tables(struct riscv_iommu_device *iommu)
{
	return (iommu->caps & RISCV_IOMMU_CAPABILITIES_MSI_FLAT) &&
	       (iommu->caps & RISCV_IOMMU_MSI_GSTAGE_CAPS) &&
	       riscv_iommu_msi_get_geom();
}

/*
 * Number of pages of the window for @cpu: the S-level file alone, or the
 * S-level file and the hart's guest files when MSI page tables filter them.
 */
static unsigned int riscv_iommu_msi_cpu_pages(struct riscv_iommu_device *iommu)
{
	if (!riscv_iommu_msi_tables(iommu))
		return 1;
	return 1 + riscv_iommu_msi_geom.g.geilen;
}

/**
 * riscv_iommu_msi_get_resv_regions() - report the IMSIC window
 * @iommu: the IOMMU in front of the device
 * @head: list to add the regions to
 *
 * One IOMMU_RESV_MSI region per hart. These are translated by the hardware
 * (the MSI page table, or the driver's own first-stage mapping), not by an
 * IOVA the domain owner picks, hence MSI and not SW_MSI.
 */
void riscv_iommu_msi_get_resv_regions(struct riscv_iommu_device *iommu,
				      struct list_head *head)
{
	const struct imsic_global_config *gc = imsic_get_global_config();
	unsigned int pages = riscv_iommu_msi_cpu_pages(iommu);
	struct iommu_resv_region *region;
	unsigned int cpu;
	phys_addr_t pa;

	for_each_possible_cpu(cpu) {
		pa = riscv_iommu_msi_cpu_page(gc, cpu);
		if (!pa)
			continue;
		region = iommu_alloc_resv_region(pa, pages * IMSIC_MMIO_PAGE_SZ,
						 RISCV_IOMMU_MSI_PROT,
						 IOMMU_RESV_MSI, GFP_KERNEL);
		if (!region) {
			dev_warn_ratelimited(iommu->dev,
					     "cannot report the IMSIC window\n");
			return;
		}
		list_add_tail(&region->list, head);
	}
}

/**
 * riscv_iommu_msi_map_window() - map the IMSIC window into a new domain
 * @iommu: the IOMMU the domain is created for, without MSI page tables
 * @pt: the domain's first-stage page table, not yet visible to anyone else
 *
 * Called once, while the domain is being created, so there is nothing to
 * invalidate and no other mapping can collide. The mappings live as long
 * as the page table: the window is reserved, so no caller of
 * iommu_unmap() can reach them.
 *
 * Return: 0 or a negative errno from the page table code.
 */
int riscv_iommu_msi_map_window(struct riscv_iommu_device *iommu,
			       struct pt_iommu *pt)
{
	const struct imsic_global_config *gc = imsic_get_global_config();
	unsigned int pages = riscv_iommu_msi_cpu_pages(iommu);
	unsigned int cpu;
	size_t mapped;
	phys_addr_t pa;
	int ret;

	for_each_possible_cpu(cpu) {
		pa = riscv_iommu_msi_cpu_page(gc, cpu);
		if (!pa)
			continue;
		mapped = 0;
		ret = pt->ops->map_range(pt, pa, pa, pages * IMSIC_MMIO_PAGE_SZ,
					 RISCV_IOMMU_MSI_PROT, GFP_KERNEL,
					 &mapped);
		if (ret) {
			dev_err(iommu->dev,
				"cannot map the IMSIC window at %pa: %d\n",
				&pa, ret);
			return ret;
		}
	}
	return 0;
}

/* Table entry covering the page of @addr, or -1 if the table does not. */
static long riscv_iommu_msi_addr_index(u64 addr)
{
	const struct riscv_iommu_msi_geom *mg = &riscv_iommu_msi_geom;
	u64 index;

	if (rvmsi_msi_index(addr, mg->mask, mg->pattern, &index) ||
	    index >= mg->nr_entries)
		return -1;
	return index;
}

/* Table entry of the S-level file of @cpu's hart, or -1. */
static long riscv_iommu_msi_cpu_index(unsigned int cpu)
{
	phys_addr_t pa = riscv_iommu_msi_cpu_page(imsic_get_global_config(), cpu);

	return pa ? riscv_iommu_msi_addr_index(pa) : -1;
}

/*
 * Table entry the IRQ's current MSI message targets, or -1; @id gets the
 * identity (the message data).
 */
static long riscv_iommu_msi_irq_target(struct irq_data *d, u32 *id)
{
	struct msi_msg msg = { };

	if (irq_chip_compose_msi_msg(d, &msg))
		return -1;
	*id = msg.data;
	return riscv_iommu_msi_addr_index(((u64)msg.address_hi << 32) |
					  msg.address_lo);
}

/*
 * Store one entry. An entry that becomes valid gets its second doubleword
 * first; one that becomes invalid loses V first.
 */
static void riscv_iommu_msi_pte_write(struct rvmsi_msipte *slot,
				      const struct rvmsi_msipte *pte)
{
	if (pte->dw0 & RVMSI_MSIPTE_V) {
		WRITE_ONCE(slot->dw1, pte->dw1);
		dma_wmb();
		WRITE_ONCE(slot->dw0, pte->dw0);
	} else {
		WRITE_ONCE(slot->dw0, pte->dw0);
		dma_wmb();
		WRITE_ONCE(slot->dw1, pte->dw1);
	}
}

/*
 * Make the IOMMU forget cached MSI PTEs of the device: the one for the file
 * at @addr, or all of them (@addr == 0). Only queued: the caller owes a
 * riscv_iommu_msi_fence() before it lets go of @tbl->lock. Called with the
 * lock held, possibly in hard interrupt context: the command queue helpers
 * only spin.
 */
static void riscv_iommu_msi_inval_queue(struct riscv_iommu_msi_table *tbl, u64 addr)
{
	struct rvmsi_iommu_cmd icmd;
	struct riscv_iommu_command cmd;
	u32 flags = RVMSI_GVMA_GV | (addr ? RVMSI_GVMA_AV : 0);

	lockdep_assert_held(&tbl->lock);
	/* Order the PTE stores before the command the IOMMU reads. */
	dma_wmb();
	if (WARN_ON_ONCE(rvmsi_cmd_iotinval_gvma(flags, tbl->gscid, addr, &icmd)))
		return;
	cmd.dword0 = icmd.dw0;
	cmd.dword1 = icmd.dw1;
	riscv_iommu_cmd_send(tbl->iommu, &cmd);
	tbl->nr_gvma++;
	tbl->fence_owed = true;
}

/* Wait for the invalidations queued so far (one IOFENCE.C), if there are any. */
static void riscv_iommu_msi_fence(struct riscv_iommu_msi_table *tbl)
{
	lockdep_assert_held(&tbl->lock);
	if (!tbl->fence_owed)
		return;
	riscv_iommu_cmd_fence(tbl->iommu);
	tbl->nr_fence++;
	tbl->fence_owed = false;
}

static void riscv_iommu_msi_inval(struct riscv_iommu_msi_table *tbl, u64 addr)
{
	riscv_iommu_msi_inval_queue(tbl, addr);
	riscv_iommu_msi_fence(tbl);
}

/* The entry @index should hold under the device's mode and references. */
static void riscv_iommu_msi_entry_want(struct riscv_iommu_msi_table *tbl,
				       long index, struct rvmsi_msipte *pte)
{
	const struct riscv_iommu_msi_geom *mg = &riscv_iommu_msi_geom;
	u64 addr;

	rvmsi_msipte_invalid(pte);
	if (!tbl->refs[index])
		return;
	if (tbl->mode == IOMMU_RVMSI_MODE_MRIF) {
		/*
		 * The file is replaced by the device's own MRIF; the notice
		 * goes to the kernel's notice interrupt. Nothing the device
		 * writes reaches an interrupt file.
		 */
		if (!tbl->mrifs || !tbl->notice_addr ||
		    WARN_ON_ONCE(rvmsi_msipte_mrif(virt_to_phys(tbl->mrifs) +
						   index * RVMSI_MRIF_SIZE,
						   tbl->notice_addr >> RVMSI_PAGE_SHIFT,
						   tbl->notice_id, pte)))
			rvmsi_msipte_invalid(pte);
		return;
	}
	if (tbl->mode != IOMMU_RVMSI_MODE_IDENTITY)
		return;
	/* Identity: the entry redirects the file's page to itself. */
	if (WARN_ON_ONCE(rvmsi_msi_index_addr(index, mg->mask, mg->pattern, &addr) ||
			 rvmsi_msipte_basic(addr >> RVMSI_PAGE_SHIFT, 0, pte)))
		rvmsi_msipte_invalid(pte);
}

/*
 * Bring one entry in line with the mode and its references. Returns true
 * if it changed (and the caller owes an invalidation).
 */
static bool riscv_iommu_msi_entry_update(struct riscv_iommu_msi_table *tbl,
					 long index)
{
	struct rvmsi_msipte *slot = &tbl->table[index];
	struct rvmsi_msipte pte;

	lockdep_assert_held(&tbl->lock);
	riscv_iommu_msi_entry_want(tbl, index, &pte);
	if (READ_ONCE(slot->dw0) == pte.dw0 && READ_ONCE(slot->dw1) == pte.dw1)
		return false;
	riscv_iommu_msi_pte_write(slot, &pte);
	return true;
}

/*
 * Bring one entry in line and queue its invalidation. An entry that was
 * invalid needs none: the IOMMU never caches an MSI PTE whose V bit is clear
 * (riscv-iommu, iommu_data_structures.adoc, "Caching in-memory data
 * structures"), so its next lookup reads the new entry from memory. The
 * store is visible before the device can use it: the device learns the new
 * target from an MMIO write (its MSI message), which writel() orders after
 * the store.
 */
static void riscv_iommu_msi_entry_sync(struct riscv_iommu_msi_table *tbl,
				       long index)
{
	const struct riscv_iommu_msi_geom *mg = &riscv_iommu_msi_geom;
	bool was_valid = READ_ONCE(tbl->table[index].dw0) & RVMSI_MSIPTE_V;
	u64 addr;

	if (!riscv_iommu_msi_entry_update(tbl, index) || !was_valid)
		return;
	if (WARN_ON_ONCE(rvmsi_msi_index_addr(index, mg->mask, mg->pattern, &addr)))
		addr = 0;
	riscv_iommu_msi_inval_queue(tbl, addr);
}

/* rvmsi-move.h: an entry's count went 0 -> 1 or 1 -> 0. */
static void riscv_iommu_msi_refs_sync(void *ctx, long index)
{
	struct riscv_iommu_msi_table *tbl = ctx;

	lockdep_assert_held(&tbl->lock);
	riscv_iommu_msi_entry_sync(tbl, index);
}

static void riscv_iommu_msi_retire(struct irq_work *work)
{
	struct riscv_iommu_msi_irq *mirq =
		container_of(work, struct riscv_iommu_msi_irq, retire_work);
	struct riscv_iommu_msi_table *tbl = mirq->tbl;

	guard(raw_spinlock_irqsave)(&tbl->lock);
	rvmsi_move_retire(&tbl->rs, &mirq->mv);
	riscv_iommu_msi_fence(tbl);
}

/*
 * Wait until every move that has committed is also retired. A move commits
 * in the IRQ's set_affinity, which may run in the device's interrupt
 * handler on another CPU (PCI MSI moves are deferred to the next
 * interrupt); its retire runs from an irq_work on that CPU a moment later.
 * Without this, a reader that has seen the move done (the IRQ's effective
 * affinity, or the interrupt it took) could still find the old entry valid.
 */
static void riscv_iommu_msi_settle(struct riscv_iommu_msi_table *tbl)
{
	struct riscv_iommu_msi_irq *mirq;

	guard(mutex)(&tbl->irqs_lock);
	list_for_each_entry(mirq, &tbl->irqs, node)
		irq_work_sync(&mirq->retire_work);
}

static int riscv_iommu_msi_set_affinity(struct irq_data *d,
					const struct cpumask *mask, bool force)
{
	struct riscv_iommu_msi_irq *mirq = irq_data_get_irq_chip_data(d);
	struct riscv_iommu_msi_table *tbl = mirq->tbl;
	bool retire = false;
	unsigned int cpu;
	long index;
	u32 id = 0;
	int ret;

	/*
	 * Open every file the parent may pick: it repoints the device itself.
	 * Opening an entry needs no invalidation (riscv_iommu_msi_entry_sync()).
	 */
	scoped_guard(raw_spinlock_irqsave, &tbl->lock) {
		for_each_cpu_and(cpu, mask, cpu_online_mask)
			rvmsi_move_open(&tbl->rs, &mirq->mv,
					riscv_iommu_msi_cpu_index(cpu));
	}

	ret = irq_chip_set_affinity_parent(d, mask, force);
	index = riscv_iommu_msi_irq_target(d, &id);

	/* Close the candidates it did not pick: one fence for all of them. */
	scoped_guard(raw_spinlock_irqsave, &tbl->lock) {
		mirq->id = id;
		retire = rvmsi_move_commit(&tbl->rs, &mirq->mv, index);
		riscv_iommu_msi_fence(tbl);
	}
	if (retire) {
		irq_work_queue(&mirq->retire_work);
		riscv_iommu_msi_event(tbl, RVMSI_REASON_AFFINITY);
	}
	return ret;
}

static struct irq_chip riscv_iommu_msi_chip = {
	.name			= "RVMSI",
	.irq_mask		= irq_chip_mask_parent,
	.irq_unmask		= irq_chip_unmask_parent,
	.irq_ack		= irq_chip_ack_parent,
	.irq_retrigger		= irq_chip_retrigger_hierarchy,
	.irq_set_affinity	= riscv_iommu_msi_set_affinity,
	.flags			= IRQCHIP_SKIP_SET_WAKE | IRQCHIP_MASK_ON_SUSPEND,
};

static void riscv_iommu_msi_irq_free(struct riscv_iommu_msi_irq *mirq)
{
	struct riscv_iommu_msi_table *tbl = mirq->tbl;

	irq_work_sync(&mirq->retire_work);
	scoped_guard(mutex, &tbl->irqs_lock) {
		guard(raw_spinlock_irqsave)(&tbl->lock);
		list_del(&mirq->node);
		rvmsi_irq_release(&tbl->rs, &mirq->mv);
		riscv_iommu_msi_fence(tbl);
	}
	/* A notice handler may still be about to run this IRQ: let it finish. */
	if (tbl->notice_virq)
		synchronize_irq(tbl->notice_virq);
	atomic_dec(&tbl->nr_irqs);
	riscv_iommu_msi_event(tbl, RVMSI_REASON_IRQ_FREE);
	kfree(mirq->mv.premap);
	kfree(mirq->mv.opened);
	kfree(mirq);
}

static void riscv_iommu_msi_domain_free(struct irq_domain *domain,
					unsigned int virq, unsigned int nr_irqs)
{
	struct irq_data *d;
	unsigned int i;

	for (i = 0; i < nr_irqs; i++) {
		d = irq_domain_get_irq_data(domain, virq + i);
		if (d && d->chip_data)
			riscv_iommu_msi_irq_free(d->chip_data);
		irq_domain_reset_irq_data(d);
	}
	irq_domain_free_irqs_parent(domain, virq, nr_irqs);
}

static int riscv_iommu_msi_domain_alloc(struct irq_domain *domain,
					unsigned int virq, unsigned int nr_irqs,
					void *arg)
{
	struct riscv_iommu_msi_table *tbl = domain->host_data;
	struct riscv_iommu_msi_irq *mirq;
	struct irq_data *d;
	unsigned int i;
	long index;
	int ret;

	ret = irq_domain_alloc_irqs_parent(domain, virq, nr_irqs, arg);
	if (ret)
		return ret;

	for (i = 0; i < nr_irqs; i++) {
		mirq = kzalloc_obj(*mirq);
		if (mirq) {
			mirq->mv.premap = kzalloc(riscv_iommu_msi_geom.nr_entries,
						  GFP_KERNEL);
			mirq->mv.max_opened = nr_cpu_ids;
			mirq->mv.opened = kcalloc(nr_cpu_ids, sizeof(*mirq->mv.opened),
						  GFP_KERNEL);
		}
		if (!mirq || !mirq->mv.premap || !mirq->mv.opened) {
			if (mirq) {
				kfree(mirq->mv.premap);
				kfree(mirq->mv.opened);
			}
			kfree(mirq);
			riscv_iommu_msi_domain_free(domain, virq, i);
			if (i < nr_irqs)
				irq_domain_free_irqs_parent(domain, virq + i,
							    nr_irqs - i);
			return -ENOMEM;
		}
		mirq->tbl = tbl;
		atomic_inc(&tbl->nr_irqs);
		mirq->mv.index = -1;
		mirq->mv.retired = -1;
		mirq->retire_work = IRQ_WORK_INIT_HARD(riscv_iommu_msi_retire);
		irq_domain_set_hwirq_and_chip(domain, virq + i, virq + i,
					      &riscv_iommu_msi_chip, mirq);

		/* The IMSIC has picked a vector: open its file. */
		d = irq_domain_get_irq_data(domain, virq + i);
		mirq->virq = virq + i;
		index = riscv_iommu_msi_irq_target(d, &mirq->id);
		scoped_guard(mutex, &tbl->irqs_lock) {
			guard(raw_spinlock_irqsave)(&tbl->lock);
			list_add_tail(&mirq->node, &tbl->irqs);
			rvmsi_irq_init(&tbl->rs, &mirq->mv, index);
			riscv_iommu_msi_fence(tbl);
		}
		if (index < 0)
			dev_warn(tbl->iommu->dev, "rvmsi: IRQ %u targets no interrupt file\n",
				 virq + i);
		riscv_iommu_msi_event(tbl, RVMSI_REASON_IRQ_ALLOC);
	}
	return 0;
}

static const struct irq_domain_ops riscv_iommu_msi_domain_ops = {
	.alloc	= riscv_iommu_msi_domain_alloc,
	.free	= riscv_iommu_msi_domain_free,
};

static bool riscv_iommu_msi_init_dev_msi_info(struct device *dev,
					      struct irq_domain *domain,
					      struct irq_domain *real_parent,
					      struct msi_domain_info *info)
{
	if (!msi_lib_init_dev_msi_info(dev, domain, real_parent, info))
		return false;

	/*
	 * The IMSIC below moves a PCI MSI by rewriting the message, which
	 * plain MSI cannot do atomically: like the IMSIC's own children, move
	 * in interrupt context.
	 */
	switch (info->bus_token) {
	case DOMAIN_BUS_PCI_DEVICE_MSI:
	case DOMAIN_BUS_PCI_DEVICE_MSIX:
		info->chip->flags |= IRQCHIP_MOVE_DEFERRED;
		break;
	default:
		break;
	}
	return true;
}

static const struct msi_parent_ops riscv_iommu_msi_parent_ops = {
	.supported_flags	= MSI_GENERIC_FLAGS_MASK | MSI_FLAG_PCI_MSIX,
	.required_flags		= MSI_FLAG_USE_DEF_DOM_OPS |
				  MSI_FLAG_USE_DEF_CHIP_OPS |
				  MSI_FLAG_PCI_MSI_MASK_PARENT,
	.chip_flags		= MSI_CHIP_FLAG_SET_ACK,
	.bus_select_token	= DOMAIN_BUS_MSI_REMAP,
	.bus_select_mask	= MATCH_PCI_MSI,
	.prefix			= "RVMSI-",
	.init_dev_msi_info	= riscv_iommu_msi_init_dev_msi_info,
};

/* The CPU whose S-level file the entry at @index covers, or -1. */
static int riscv_iommu_msi_index_cpu(long index)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		if (riscv_iommu_msi_cpu_index(cpu) == index)
			return cpu;
	return -1;
}

static int riscv_iommu_msi_debugfs_show(struct seq_file *s, void *unused)
{
	const struct riscv_iommu_msi_geom *mg = &riscv_iommu_msi_geom;
	struct riscv_iommu_msi_table *tbl = s->private;
	struct riscv_iommu_msi_dev *mdev;
	u32 group, hart, guest;
	unsigned long flags;
	struct rvmsi_msipte pte;
	u64 i;
	u32 refs;

	seq_printf(s, "entries %llu mask %#llx pattern %#llx\n",
		   mg->nr_entries, mg->mask, mg->pattern);
	raw_spin_lock_irqsave(&tbl->lock, flags);
	seq_printf(s, "gscid %u commands gvma %llu fence %llu\n",
		   tbl->gscid, tbl->nr_gvma, tbl->nr_fence);
	raw_spin_unlock_irqrestore(&tbl->lock, flags);
	for (i = 0; i < mg->nr_entries; i++) {
		raw_spin_lock_irqsave(&tbl->lock, flags);
		pte.dw0 = READ_ONCE(tbl->table[i].dw0);
		refs = tbl->refs[i];
		raw_spin_unlock_irqrestore(&tbl->lock, flags);
		if (!(pte.dw0 & RVMSI_MSIPTE_V))
			continue;
		if (rvmsi_imsic_index_file(&mg->g, i, &group, &hart, &guest))
			continue;
		seq_printf(s, "%llu group %u hart %u guest %u cpu %d refs %u\n",
			   i, group, hart, guest,
			   guest ? -1 : riscv_iommu_msi_index_cpu(i), refs);
	}
	seq_puts(s, "members");
	scoped_guard(mutex, &riscv_iommu_msi_devs_lock) {
		list_for_each_entry(mdev, &tbl->members, member)
			seq_printf(s, " %s", dev_name(mdev->dev));
	}
	seq_putc(s, '\n');
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(riscv_iommu_msi_debugfs);

/* One file per device, showing its set's table. */
static void riscv_iommu_msi_debugfs_add(struct riscv_iommu_msi_dev *mdev)
{
	if (!IS_ENABLED(CONFIG_IOMMU_DEBUGFS) || !iommu_debugfs_dir)
		return;
	if (!riscv_iommu_msi_debugfs_dir)
		riscv_iommu_msi_debugfs_dir = debugfs_create_dir("riscv-msi",
								 iommu_debugfs_dir);
	mdev->debugfs = debugfs_create_file(dev_name(mdev->dev), 0400,
					    riscv_iommu_msi_debugfs_dir, mdev->tbl,
					    &riscv_iommu_msi_debugfs_fops);
}

/*
 * Does @dev use requester (device) ID @did? A device can have several: its
 * own and its DMA aliases, each with a device context holding its table.
 */
static bool riscv_iommu_msi_has_did(struct device *dev, u32 did)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	unsigned int i;

	for (i = 0; fwspec && i < fwspec->num_ids; i++)
		if (fwspec->ids[i] == did)
			return true;
	return false;
}

/*
 * The set's first device, which names its notice interrupt and its log
 * lines about the set as a whole. The caller holds
 * riscv_iommu_msi_devs_lock; a set has a member for as long as it exists.
 */
static struct device *riscv_iommu_msi_lead(struct riscv_iommu_msi_table *tbl)
{
	lockdep_assert_held(&riscv_iommu_msi_devs_lock);
	return list_first_entry(&tbl->members, struct riscv_iommu_msi_dev,
				member)->dev;
}

/* Do @a and @b share a requester ID? */
static bool riscv_iommu_msi_share_id(struct device *a, struct device *b)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(a);
	unsigned int i;

	for (i = 0; fwspec && i < fwspec->num_ids; i++)
		if (riscv_iommu_msi_has_did(b, fwspec->ids[i]))
			return true;
	return false;
}

static u32 fwspec_rid(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);

	return fwspec && fwspec->num_ids ? fwspec->ids[0] : 0;
}

static void riscv_iommu_msi_ntf_work(struct work_struct *work);
static void riscv_iommu_msi_notice_free(struct riscv_iommu_msi_table *tbl);

/* The table proper (riscv_iommu_msi_table_init()), leaving a set without one. */
static void riscv_iommu_msi_table_fini(struct riscv_iommu_msi_table *tbl)
{
	if (tbl->fwnode)
		irq_domain_free_fwnode(tbl->fwnode);
	if (tbl->table)
		iommu_free_pages(tbl->table);
	kfree(tbl->notices);
	kfree(tbl->refs);
	tbl->fwnode = NULL;
	tbl->table = NULL;
	tbl->notices = NULL;
	tbl->refs = NULL;
}

static void riscv_iommu_msi_free(struct riscv_iommu_msi_table *tbl)
{
	riscv_iommu_msi_table_fini(tbl);
	if (tbl->mrifs)
		iommu_free_pages(tbl->mrifs);
	kfree(tbl->notice_name);
	kfree(tbl);
}

/*
 * The table proper and its remapping domain, for a new set whose first
 * device is @dev. Returns false, with nothing allocated, if the set gets
 * no table: its devices reach no interrupt file (the window is not mapped
 * in second-stage domains).
 */
static bool riscv_iommu_msi_table_init(struct riscv_iommu_msi_table *tbl,
				       struct device *dev)
{
	const struct riscv_iommu_msi_geom *mg = &riscv_iommu_msi_geom;
	struct irq_domain_info info = {
		.ops		= &riscv_iommu_msi_domain_ops,
		.domain_flags	= IRQ_DOMAIN_FLAG_MSI_PARENT,
		.hwirq_max	= ~0U,
		.bus_token	= DOMAIN_BUS_MSI_REMAP,
		.parent		= tbl->parent,
		.host_data	= tbl,
	};
	u64 size, align;

	if (!tbl->parent || !irq_domain_is_msi_parent(tbl->parent)) {
		dev_info(dev, "MSIs do not go to the IMSIC: no MSI page table, no interrupt file reachable\n");
		return false;
	}
	if (WARN_ON(rvmsi_msi_table_size(mg->mask, &size) ||
		    rvmsi_msi_table_align(mg->mask, &align)))
		return false;

	/* Naturally aligned to its (power of two) size, at least a page. */
	tbl->table = iommu_alloc_pages_node_sz(dev_to_node(tbl->iommu->dev),
					       GFP_KERNEL, max(size, align));
	tbl->refs = kcalloc(mg->nr_entries, sizeof(*tbl->refs), GFP_KERNEL);
	tbl->notices = kcalloc(mg->nr_entries, sizeof(*tbl->notices), GFP_KERNEL);
	tbl->fwnode = irq_domain_alloc_named_fwnode(dev_name(dev));
	if (!tbl->table || !tbl->refs || !tbl->notices || !tbl->fwnode ||
	    WARN_ON(rvmsi_msi_table_check_addr(virt_to_phys(tbl->table),
					       mg->mask)))
		goto err;
	tbl->rs.refs = tbl->refs;
	tbl->rs.nr = mg->nr_entries;
	tbl->rs.sync = riscv_iommu_msi_refs_sync;
	tbl->rs.ctx = tbl;

	info.fwnode = tbl->fwnode;
	tbl->domain = irq_domain_instantiate(&info);
	if (IS_ERR(tbl->domain)) {
		tbl->domain = NULL;
		goto err;
	}
	tbl->domain->msi_parent_ops = &riscv_iommu_msi_parent_ops;
	return true;

err:
	dev_warn(dev, "no MSI page table (out of memory): its MSIs will fault\n");
	riscv_iommu_msi_table_fini(tbl);
	return false;
}

/* A new set for @dev: its GSCID and, where possible, its table. */
static struct riscv_iommu_msi_table *riscv_iommu_msi_set_new(struct riscv_iommu_device *iommu,
							      struct device *dev)
{
	struct riscv_iommu_msi_table *tbl;
	int gscid;

	tbl = kzalloc_obj(*tbl);
	if (!tbl)
		return ERR_PTR(-ENOMEM);
	gscid = riscv_iommu_gscid_alloc();
	if (gscid < 0) {
		kfree(tbl);
		return ERR_PTR(gscid);
	}
	tbl->iommu = iommu;
	tbl->gscid = gscid;
	tbl->parent = dev_get_msi_domain(dev);
	tbl->mode = IOMMU_RVMSI_MODE_IDENTITY;
	INIT_WORK(&tbl->ntf_work, riscv_iommu_msi_ntf_work);
	INIT_LIST_HEAD(&tbl->members);
	INIT_LIST_HEAD(&tbl->irqs);
	mutex_init(&tbl->irqs_lock);
	raw_spin_lock_init(&tbl->lock);
	riscv_iommu_msi_table_init(tbl, dev);
	return tbl;
}

/*
 * The set @dev belongs to: the one whose devices share a requester ID with
 * it, NULL if none does, or ERR_PTR(-EBUSY) if devices of two sets do (the
 * sets would have to merge, with their live tables; not done).
 */
static struct riscv_iommu_msi_table *riscv_iommu_msi_set_find(struct riscv_iommu_device *iommu,
							       struct device *dev)
{
	struct riscv_iommu_msi_table *tbl, *found = NULL;
	struct riscv_iommu_msi_dev *mdev;

	lockdep_assert_held(&riscv_iommu_msi_devs_lock);
	list_for_each_entry(tbl, &riscv_iommu_msi_sets, node) {
		if (tbl->iommu != iommu)
			continue;
		list_for_each_entry(mdev, &tbl->members, member) {
			if (!riscv_iommu_msi_share_id(dev, mdev->dev))
				continue;
			if (found && found != tbl)
				return ERR_PTR(-EBUSY);
			found = tbl;
		}
	}
	return found;
}

/**
 * riscv_iommu_msi_probe() - put a device into its set, with its MSI table
 * @iommu: the IOMMU the device sits behind
 * @dev: the device, being probed by the IOMMU core
 *
 * Only where riscv_iommu_msi_tables() says so. A device that shares a
 * requester ID with a device already probed joins that device's set: its
 * table, GSCID and mode. Otherwise it starts a set of its own, with a new
 * GSCID and, for a device whose MSIs go to the IMSIC, a table whose entries
 * start blocked. The device's MSI parent becomes its set's remapping
 * domain, so each MSI it gets from now on opens its entry.
 *
 * Return: the device's membership, NULL where there are no tables, or an
 * ERR_PTR (-ENOMEM, -ENOSPC without a free GSCID, -EBUSY if it would join
 * two sets).
 */
struct riscv_iommu_msi_dev *riscv_iommu_msi_probe(struct riscv_iommu_device *iommu,
						  struct device *dev)
{
	struct riscv_iommu_msi_dev *mdev, *first;
	struct riscv_iommu_msi_table *tbl;

	if (!riscv_iommu_msi_tables(iommu))
		return NULL;
	mdev = kzalloc_obj(*mdev);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	mdev->dev = dev;
	mdev->rid = fwspec_rid(dev);
	INIT_LIST_HEAD(&mdev->node);

	guard(mutex)(&riscv_iommu_msi_devs_lock);
	tbl = riscv_iommu_msi_set_find(iommu, dev);
	if (IS_ERR(tbl)) {
		dev_err(dev, "rvmsi: shares requester IDs with devices of two MSI tables\n");
		kfree(mdev);
		return ERR_CAST(tbl);
	}
	if (tbl) {
		first = list_first_entry(&tbl->members, struct riscv_iommu_msi_dev, member);
		dev_info(dev, "rvmsi: shares a requester ID with %s: its MSI table and GSCID %u\n",
			 dev_name(first->dev), tbl->gscid);
	} else {
		tbl = riscv_iommu_msi_set_new(iommu, dev);
		if (IS_ERR(tbl)) {
			kfree(mdev);
			return ERR_CAST(tbl);
		}
		list_add_tail(&tbl->node, &riscv_iommu_msi_sets);
	}
	mdev->tbl = tbl;
	list_add_tail(&mdev->member, &tbl->members);
	atomic_inc(&riscv_iommu_msi_gen);
	if (!tbl->table)
		return mdev;
	/*
	 * The table only counts the IRQs its remapping domain allocates. A
	 * member whose MSIs go elsewhere has none counted: its MSIs, looked up
	 * in the set's table, fault.
	 */
	if (dev_get_msi_domain(dev) != tbl->parent) {
		dev_warn(dev, "rvmsi: MSI parent differs from its set's: its MSIs will fault\n");
		return mdev;
	}
	dev_set_msi_domain(dev, tbl->domain);
	riscv_iommu_msi_debugfs_add(mdev);
	list_add_tail(&mdev->node, &riscv_iommu_msi_devs);
	return mdev;
}

/**
 * riscv_iommu_msi_release() - take a device out of its set
 * @mdev: the membership, or NULL
 *
 * Called when the IOMMU core releases the device, after the release domain
 * made its device contexts invalid. With the last member, the set goes:
 * the IOMMU forgets what it cached under the GSCID before the table is
 * freed and the GSCID can be handed out again.
 */
void riscv_iommu_msi_release(struct riscv_iommu_msi_dev *mdev)
{
	struct riscv_iommu_msi_table *tbl;
	bool last;

	if (IS_ERR_OR_NULL(mdev))
		return;
	tbl = mdev->tbl;
	scoped_guard(mutex, &riscv_iommu_msi_devs_lock) {
		list_del(&mdev->member);
		list_del(&mdev->node);
		last = list_empty(&tbl->members);
		if (last)
			list_del(&tbl->node);
		atomic_inc(&riscv_iommu_msi_gen);
	}
	if (tbl->domain && dev_get_msi_domain(mdev->dev) == tbl->domain) {
		rvmsi_nl_notify_gone(dev_name(mdev->dev), mdev->rid);
		debugfs_remove(mdev->debugfs);
		dev_set_msi_domain(mdev->dev, tbl->parent);
	}
	kfree(mdev);
	if (!last)
		return;
	cancel_work_sync(&tbl->ntf_work);
	riscv_iommu_msi_notice_free(tbl);
	if (tbl->domain)
		irq_domain_remove(tbl->domain);
	riscv_iommu_gscid_free(tbl->iommu, tbl->gscid);
	riscv_iommu_msi_free(tbl);
}

/**
 * riscv_iommu_msi_gscid() - the GSCID of a device's set
 * @mdev: the membership, or NULL
 *
 * Return: the GSCID, 0 for none (no second-stage domains for the device).
 */
u32 riscv_iommu_msi_gscid(struct riscv_iommu_msi_dev *mdev)
{
	return mdev ? mdev->tbl->gscid : 0;
}

/**
 * riscv_iommu_msi_id_user() - another device of the set using a requester ID
 * @mdev: the membership
 * @did: a requester ID of @mdev's device
 *
 * For the IOMMU driver, which must neither clear nor leave invalid a device
 * context that another member still uses. The caller holds the IOMMU
 * group's mutex: the set's members are in one group (pci_device_group()
 * puts devices that share an alias together), so none of them comes or
 * goes meanwhile.
 *
 * Return: that device, or NULL.
 */
struct device *riscv_iommu_msi_id_user(struct riscv_iommu_msi_dev *mdev, u32 did)
{
	struct riscv_iommu_msi_dev *other;

	if (!mdev)
		return NULL;
	guard(mutex)(&riscv_iommu_msi_devs_lock);
	list_for_each_entry(other, &mdev->tbl->members, member)
		if (other != mdev && riscv_iommu_msi_has_did(other->dev, did))
			return other->dev;
	return NULL;
}

/**
 * riscv_iommu_msi_fill_dc() - the MSI fields of a device context
 * @mdev: the device's membership, or NULL
 * @dc: the extended device context, not valid while it is written
 * @iohgatp: the iohgatp value written into @dc
 * @valid: whether @dc will be valid
 *
 * The table is used only under a second-stage @iohgatp; under a Bare one,
 * and for a set without a table, msiptp is Off. lib/msi refuses to encode
 * anything else. A device with a table gets a second stage in every domain
 * that lets it through (identity included), so a valid context under a
 * Bare iohgatp is a bug: its MSIs would fault in no table.
 */
void riscv_iommu_msi_fill_dc(struct riscv_iommu_msi_dev *mdev,
			     struct riscv_iommu_dc *dc, u64 iohgatp, bool valid)
{
	const struct riscv_iommu_msi_geom *mg = &riscv_iommu_msi_geom;
	struct riscv_iommu_msi_table *tbl = mdev ? mdev->tbl : NULL;
	bool bare = FIELD_GET(RISCV_IOMMU_DC_IOHGATP_MODE, iohgatp) ==
		    RISCV_IOMMU_DC_IOHGATP_MODE_BARE;
	bool use = false;
	u64 msiptp = 0;

	if (tbl && tbl->table && valid && !WARN_ON_ONCE(bare))
		use = !WARN_ON(rvmsi_msi_dc_encode(iohgatp, virt_to_phys(tbl->table),
						   mg->mask, mg->pattern,
						   tbl->iommu->caps, &msiptp));
	WRITE_ONCE(dc->msiptp, use ? msiptp : 0);
	WRITE_ONCE(dc->msi_addr_mask, use ? mg->mask : 0);
	WRITE_ONCE(dc->msi_addr_pattern, use ? mg->pattern : 0);
}

/*
 * MRIF mode
 * ---------
 * Each entry the device's IRQs use points at a 512-byte MRIF of the device
 * in kernel memory. The IOMMU records the device's MSI there and writes the
 * notice MSI, whose address and identity the kernel put in the entry, to a
 * host interrupt the kernel owns: one per device, allocated from the IMSIC
 * through a small domain of its own whose write_msi_msg rewrites the MRIF
 * entries if the IMSIC ever moves that interrupt. The notice handler takes
 * the pending identities out of the device's MRIFs and runs, for each, the
 * device's own IRQ that has this identity on this file; anything else is
 * counted and dropped. A device in MRIF mode cannot reach any interrupt file.
 */

static DEFINE_MUTEX(riscv_iommu_msi_notice_lock);
static struct irq_domain *riscv_iommu_msi_notice_domain;

/* The IMSIC (re)targeted the notice interrupt: follow it in every entry. */
static void riscv_iommu_msi_notice_write_msg(struct irq_data *d, struct msi_msg *msg)
{
	struct riscv_iommu_msi_table *tbl = irq_data_get_irq_chip_data(d);
	bool changed = false;
	unsigned long flags;
	u64 i;

	raw_spin_lock_irqsave(&tbl->lock, flags);
	tbl->notice_addr = ((u64)msg->address_hi << 32) | msg->address_lo;
	tbl->notice_id = msg->data;
	if (tbl->mode == IOMMU_RVMSI_MODE_MRIF) {
		for (i = 0; i < riscv_iommu_msi_geom.nr_entries; i++)
			changed |= riscv_iommu_msi_entry_update(tbl, i);
		if (changed)
			riscv_iommu_msi_inval(tbl, 0);
	}
	raw_spin_unlock_irqrestore(&tbl->lock, flags);
}

static struct irq_chip riscv_iommu_msi_notice_chip = {
	.name			= "RVMSI-notice",
	.irq_mask		= irq_chip_mask_parent,
	.irq_unmask		= irq_chip_unmask_parent,
	.irq_ack		= irq_chip_ack_parent,
	.irq_retrigger		= irq_chip_retrigger_hierarchy,
	.irq_set_affinity	= irq_chip_set_affinity_parent,
	.irq_write_msi_msg	= riscv_iommu_msi_notice_write_msg,
	.flags			= IRQCHIP_SKIP_SET_WAKE,
};

static int riscv_iommu_msi_notice_alloc(struct irq_domain *domain, unsigned int virq,
					unsigned int nr_irqs, void *arg)
{
	int ret;

	if (nr_irqs != 1)
		return -EINVAL;
	ret = irq_domain_alloc_irqs_parent(domain, virq, nr_irqs, NULL);
	if (ret)
		return ret;
	irq_domain_set_hwirq_and_chip(domain, virq, virq,
				      &riscv_iommu_msi_notice_chip, arg);
	return 0;
}

static void riscv_iommu_msi_notice_dfree(struct irq_domain *domain, unsigned int virq,
					 unsigned int nr_irqs)
{
	irq_domain_reset_irq_data(irq_domain_get_irq_data(domain, virq));
	irq_domain_free_irqs_parent(domain, virq, nr_irqs);
}

static const struct irq_domain_ops riscv_iommu_msi_notice_ops = {
	.alloc	= riscv_iommu_msi_notice_alloc,
	.free	= riscv_iommu_msi_notice_dfree,
};

#define RISCV_IOMMU_MSI_NOTICE_BATCH	16
/* Batches one notice interrupt handles before it yields (raises itself). */
#define RISCV_IOMMU_MSI_NOTICE_ROUNDS	4

/*
 * Atomically clear the pending bit of @id in a live MRIF; true if it was
 * set. MRIFs are little-endian doublewords, and so are the bitmap words of
 * a little-endian kernel, so bit n of doubleword w is bitmap bit 64w + n.
 *
 * Local helper: lib/msi works on MRIF images with plain read-modify-write
 * and has no atomic operation on a live MRIF (the offset still comes from
 * lib/msi). To move there once lib/msi grows one.
 */
static bool riscv_iommu_msi_mrif_take(u64 *mrif, u32 id)
{
	u32 off;

	BUILD_BUG_ON(IS_ENABLED(CONFIG_CPU_BIG_ENDIAN));
	if (rvmsi_mrif_pending_offset(id, &off))
		return false;
	return test_and_clear_bit((off / sizeof(u64)) * 64 + id % 64,
				  (unsigned long *)mrif);
}

/*
 * Forward what the device's MRIFs hold. Runs as the notice interrupt's
 * handler, and is re-triggered after leaving MRIF mode to drain leftovers.
 */
static irqreturn_t riscv_iommu_msi_notice(int irq, void *data)
{
	struct riscv_iommu_msi_table *tbl = data;
	const u64 nr_entries = riscv_iommu_msi_geom.nr_entries;
	unsigned int virqs[RISCV_IOMMU_MSI_NOTICE_BATCH];
	struct riscv_iommu_msi_irq *mirq;
	u64 image[RVMSI_MRIF_DWORDS];
	unsigned int n, k, forged;
	unsigned long flags;
	unsigned int rounds = 0;
	u64 *mrif;
	int id;
	u64 i;

	do {
		n = 0;
		forged = 0;
		raw_spin_lock_irqsave(&tbl->lock, flags);
		for (i = 0; i < nr_entries && n < ARRAY_SIZE(virqs); i++) {
			mrif = tbl->mrifs + i * RVMSI_MRIF_DWORDS;
			for (k = 0; k < RVMSI_MRIF_DWORDS; k++)
				image[k] = READ_ONCE(mrif[k]);
			id = 0;
			while (n < ARRAY_SIZE(virqs) &&
			       (id = rvmsi_mrif_next_pending(image, id + 1, true)) > 0) {
				/*
				 * The IOMMU may be setting other bits of the
				 * live MRIF right now: clear ours atomically,
				 * and only act on a bit we really cleared.
				 */
				if (!riscv_iommu_msi_mrif_take(mrif, id))
					continue;
				tbl->notices[i]++;
				list_for_each_entry(mirq, &tbl->irqs, node)
					if (mirq->mv.index == (long)i && mirq->id == id)
						break;
				if (list_entry_is_head(mirq, &tbl->irqs, node)) {
					tbl->forged++;
					forged++;
				} else {
					virqs[n++] = mirq->virq;
				}
			}
		}
		raw_spin_unlock_irqrestore(&tbl->lock, flags);

		if (forged)
			dev_warn_ratelimited(tbl->iommu->dev,
					     "rvmsi: %s: %u identity(ies) in the MRIFs that are none of its interrupts, dropped\n",
					     tbl->notice_name, forged);
		/* The device's own handlers, e.g. VFIO's eventfd trigger. */
		for (k = 0; k < n; k++)
			generic_handle_irq(virqs[k]);
	} while (n == ARRAY_SIZE(virqs) &&
		 ++rounds < RISCV_IOMMU_MSI_NOTICE_ROUNDS);
	/*
	 * A device that keeps its MRIFs full (a flood, or forged writes)
	 * must not hold this CPU in hard interrupt context: after a bounded
	 * number of batches, raise the notice again and let everything else
	 * run first. What is still pending is taken on the next run.
	 */
	if (n == ARRAY_SIZE(virqs))
		irq_chip_retrigger_hierarchy(irq_get_irq_data(irq));
	return IRQ_HANDLED;
}

/*
 * Give the device its MRIFs and notice interrupt, once; process context,
 * with riscv_iommu_msi_devs_lock held.
 */
static int riscv_iommu_msi_notice_init(struct riscv_iommu_msi_table *tbl)
{
	const struct riscv_iommu_msi_geom *mg = &riscv_iommu_msi_geom;
	struct irq_domain_info info = {
		.ops		= &riscv_iommu_msi_notice_ops,
		.hwirq_max	= ~0U,
		.parent		= tbl->parent,
	};
	struct msi_msg msg = { };
	u64 *mrifs, i;
	int virq, ret;
	u32 id;

	if (tbl->notice_virq)
		return 0;
	if (!(tbl->iommu->caps & RISCV_IOMMU_CAPABILITIES_MSI_MRIF))
		return -EOPNOTSUPP;

	scoped_guard(mutex, &riscv_iommu_msi_notice_lock) {
		if (!riscv_iommu_msi_notice_domain) {
			info.fwnode = irq_domain_alloc_named_fwnode("rvmsi-notice");
			if (!info.fwnode)
				return -ENOMEM;
			riscv_iommu_msi_notice_domain = irq_domain_instantiate(&info);
			if (IS_ERR(riscv_iommu_msi_notice_domain)) {
				ret = PTR_ERR(riscv_iommu_msi_notice_domain);
				riscv_iommu_msi_notice_domain = NULL;
				irq_domain_free_fwnode(info.fwnode);
				return ret;
			}
		}
	}

	mrifs = iommu_alloc_pages_node_sz(dev_to_node(tbl->iommu->dev), GFP_KERNEL,
					  mg->nr_entries * RVMSI_MRIF_SIZE);
	tbl->notice_name = kasprintf(GFP_KERNEL, "rvmsi-notice-%s",
				     dev_name(riscv_iommu_msi_lead(tbl)));
	if (!mrifs || !tbl->notice_name) {
		ret = -ENOMEM;
		goto err_free;
	}
	/* Every identity enabled: the notice handler decides, not the MRIF. */
	for (i = 0; i < mg->nr_entries; i++)
		for (id = 1; id <= mg->g.nr_ids; id++)
			rvmsi_mrif_set_enable(mrifs + i * RVMSI_MRIF_DWORDS, id, true);
	tbl->mrifs = mrifs;

	virq = irq_domain_alloc_irqs(riscv_iommu_msi_notice_domain, 1, NUMA_NO_NODE, tbl);
	if (virq <= 0) {
		ret = virq ?: -ENOSPC;
		goto err_mrifs;
	}
	/* Placed by riscv_iommu_msi_notice_follow(), not by irqbalance. */
	irq_set_status_flags(virq, IRQ_NO_BALANCING);
	ret = request_irq(virq, riscv_iommu_msi_notice, 0, tbl->notice_name, tbl);
	if (ret) {
		irq_domain_free_irqs(virq, 1);
		goto err_mrifs;
	}
	if (irq_chip_compose_msi_msg(irq_get_irq_data(virq), &msg)) {
		free_irq(virq, tbl);
		irq_domain_free_irqs(virq, 1);
		ret = -EIO;
		goto err_mrifs;
	}
	tbl->notice_virq = virq;
	riscv_iommu_msi_notice_write_msg(irq_get_irq_data(virq), &msg);
	dev_info(riscv_iommu_msi_lead(tbl), "rvmsi: MRIFs ready, notice interrupt %d\n", virq);
	return 0;

err_mrifs:
	tbl->mrifs = NULL;
err_free:
	if (mrifs)
		iommu_free_pages(mrifs);
	kfree(tbl->notice_name);
	tbl->notice_name = NULL;
	return ret;
}

/*
 * Keep the notice interrupt on the CPU of the device's first IRQ. The
 * notice handler runs the device's handlers on its own CPU, and they wake
 * whoever waits for the interrupt (VFIO's eventfd reader, a driver's
 * thread), which sleeps where that interrupt is delivered in identity mode.
 * From another CPU every such wakeup costs an IPI ("Function call
 * interrupts"): 0.7 per device interrupt in 70-bench-irq-cost. A device
 * whose IRQs target several CPUs still pays it for all but the first one's.
 *
 * From the event work, in process context: the device's IRQ moves in hard
 * interrupt context, under its descriptor's lock, where the notice's
 * cannot be taken.
 */
static void riscv_iommu_msi_notice_follow(struct riscv_iommu_msi_table *tbl)
{
	unsigned int notice = READ_ONCE(tbl->notice_virq);
	struct riscv_iommu_msi_irq *mirq;
	unsigned int cpu = nr_cpu_ids;

	if (!notice || READ_ONCE(tbl->mode) != IOMMU_RVMSI_MODE_MRIF)
		return;
	scoped_guard(mutex, &tbl->irqs_lock) {
		mirq = list_first_entry_or_null(&tbl->irqs, struct riscv_iommu_msi_irq, node);
		if (mirq)
			cpu = cpumask_first(irq_data_get_effective_affinity_mask(irq_get_irq_data(mirq->virq)));
	}
	if (cpu >= nr_cpu_ids ||
	    cpumask_test_cpu(cpu, irq_data_get_effective_affinity_mask(irq_get_irq_data(notice))))
		return;
	if (irq_set_affinity(notice, cpumask_of(cpu)))
		dev_dbg(tbl->iommu->dev, "rvmsi: %s stays off CPU %u\n",
			tbl->notice_name, cpu);
}

/* After the device context stopped using the table. */
static void riscv_iommu_msi_notice_free(struct riscv_iommu_msi_table *tbl)
{
	if (!tbl->notice_virq)
		return;
	free_irq(tbl->notice_virq, tbl);
	irq_domain_free_irqs(tbl->notice_virq, 1);
	tbl->notice_virq = 0;
}

/*
 * The rvmsi interface: what iommufd (include/linux/rvmsi.h) and the rvmsi
 * netlink family (rvmsi-nl.c) see of a device's table. Physical addresses
 * never leave this file: files are named by (group, hart, guest) and by
 * Linux CPU.
 */

/*
 * The table of @dev. The caller holds riscv_iommu_msi_devs_lock, which
 * keeps the table from being released.
 */
static struct riscv_iommu_msi_dev *riscv_iommu_msi_lookup(struct device *dev)
{
	struct riscv_iommu_msi_dev *mdev;

	lockdep_assert_held(&riscv_iommu_msi_devs_lock);
	list_for_each_entry(mdev, &riscv_iommu_msi_devs, node)
		if (mdev->dev == dev)
			return mdev;
	return NULL;
}

static struct riscv_iommu_msi_dev *riscv_iommu_msi_lookup_name(const char *name)
{
	struct riscv_iommu_msi_dev *mdev;

	lockdep_assert_held(&riscv_iommu_msi_devs_lock);
	list_for_each_entry(mdev, &riscv_iommu_msi_devs, node)
		if (!strcmp(dev_name(mdev->dev), name))
			return mdev;
	return NULL;
}

static u64 riscv_iommu_msi_caps(struct riscv_iommu_device *iommu)
{
	u64 caps = 0;

	if (iommu->caps & RISCV_IOMMU_CAPABILITIES_MSI_FLAT)
		caps |= IOMMU_RVMSI_CAP_MSI_FLAT;
	if (iommu->caps & RISCV_IOMMU_CAPABILITIES_MSI_MRIF)
		caps |= IOMMU_RVMSI_CAP_MSI_MRIF;
	if (iommu->caps & RISCV_IOMMU_CAPABILITIES_AMO_MRIF)
		caps |= IOMMU_RVMSI_CAP_AMO_MRIF;
	return caps;
}

static u32 riscv_iommu_msi_nr_harts(void)
{
	const struct imsic_global_config *gc = imsic_get_global_config();
	unsigned int cpu;
	u32 n = 0;

	for_each_possible_cpu(cpu)
		if (riscv_iommu_msi_cpu_page(gc, cpu))
			n++;
	return n;
}

/*
 * Bound to iommufd or VFIO: someone other than the kernel owns its DMA.
 * Takes the group's mutex, which the IOMMU core holds while it releases a
 * device (and with it, our table): never call this with
 * riscv_iommu_msi_devs_lock held, nor from the event work.
 */
static bool riscv_iommu_msi_user_bound(struct device *dev)
{
	struct iommu_group *group = iommu_group_get(dev);
	bool claimed;

	if (!group)
		return false;
	claimed = iommu_group_dma_owner_claimed(group);
	iommu_group_put(group);
	return claimed;
}

/*
 * Describe the valid entries from table index @first on into @ents (room
 * for @max) and return how many there are, even beyond @max.
 */
static u32 riscv_iommu_msi_describe(struct riscv_iommu_msi_table *tbl, u64 first,
				    struct iommu_rvmsi_entry *ents, u32 max)
{
	const struct riscv_iommu_msi_geom *mg = &riscv_iommu_msi_geom;
	struct iommu_rvmsi_entry *e;
	struct rvmsi_msipte_info pi;
	struct rvmsi_msipte pte;
	u32 group, hart, guest, tguest;
	unsigned long flags;
	u32 n = 0, refs;
	u64 i, notices;

	for (i = first; i < mg->nr_entries; i++) {
		raw_spin_lock_irqsave(&tbl->lock, flags);
		pte.dw0 = READ_ONCE(tbl->table[i].dw0);
		pte.dw1 = READ_ONCE(tbl->table[i].dw1);
		refs = tbl->refs[i];
		notices = tbl->notices[i];
		raw_spin_unlock_irqrestore(&tbl->lock, flags);

		if (rvmsi_msipte_decode(&pte, &pi) || pi.kind == RVMSI_MSIPTE_INVALID)
			continue;
		if (n++ >= max)
			continue;
		e = &ents[n - 1];
		memset(e, 0, sizeof(*e));
		if (rvmsi_imsic_index_file(&mg->g, i, &group, &hart, &guest)) {
			group = U32_MAX;
			hart = U32_MAX;
			guest = U32_MAX;
		}
		e->index = i;
		e->group = group;
		e->hart = hart;
		e->guest = guest;
		e->cpu = guest ? -1 : riscv_iommu_msi_index_cpu(i);
		e->refcount = refs;
		e->notices = notices;
		/* Where the write really goes: an MRIF, an S-level or a guest file. */
		if (pi.kind == RVMSI_MSIPTE_MRIF)
			e->kind = IOMMU_RVMSI_ENTRY_MRIF;
		else if (!rvmsi_imsic_file_locate(&mg->g, pi.ppn << RVMSI_PAGE_SHIFT,
						  NULL, NULL, &tguest) && !tguest)
			e->kind = IOMMU_RVMSI_ENTRY_HOST_FILE;
		else
			e->kind = IOMMU_RVMSI_ENTRY_GUEST_FILE;
	}
	return n;
}

/* Mode, isolation and the number of valid entries, consistently. */
static void riscv_iommu_msi_state(struct riscv_iommu_msi_table *tbl, u32 *mode,
				  u32 *isolation, u32 *nr_valid)
{
	const u64 nr_entries = riscv_iommu_msi_geom.nr_entries;
	bool shared = false, locked;
	unsigned long flags;
	u32 valid = 0;
	u64 i;

	raw_spin_lock_irqsave(&tbl->lock, flags);
	for (i = 0; i < nr_entries; i++) {
		if (!(READ_ONCE(tbl->table[i].dw0) & RVMSI_MSIPTE_V))
			continue;
		valid++;
		/* A basic-mode entry of the host reaches a shared file. */
		if (tbl->mode == IOMMU_RVMSI_MODE_IDENTITY)
			shared = true;
	}
	*mode = tbl->mode;
	locked = tbl->locked;
	raw_spin_unlock_irqrestore(&tbl->lock, flags);

	if (locked)
		*isolation = IOMMU_RVMSI_ISOLATION_LOCKED;
	else if (shared)
		*isolation = IOMMU_RVMSI_ISOLATION_SHARED;
	else
		*isolation = IOMMU_RVMSI_ISOLATION_ISOLATED;
	*nr_valid = valid;
}

/*
 * The device and the valid entries of its set's table from index @first on,
 * one message's worth.
 */
static struct rvmsi_snapshot *riscv_iommu_msi_snap(struct riscv_iommu_msi_dev *mdev,
						   u64 first)
{
	struct riscv_iommu_msi_table *tbl = mdev->tbl;
	struct riscv_iommu_msi_dev *m;
	struct rvmsi_snapshot *snap;
	u32 n;

	lockdep_assert_held(&riscv_iommu_msi_devs_lock);

	snap = kzalloc_obj(*snap);
	if (!snap)
		return ERR_PTR(-ENOMEM);
	strscpy(snap->name, dev_name(mdev->dev));
	strscpy(snap->iommu, dev_name(tbl->iommu->dev));
	riscv_iommu_msi_settle(tbl);
	snap->rid = mdev->rid;
	list_for_each_entry(m, &tbl->members, member)
		snap->table_users += !list_empty(&m->node);
	snap->caps = riscv_iommu_msi_caps(tbl->iommu);
	riscv_iommu_msi_state(tbl, &snap->mode, &snap->isolation, &snap->nr_valid);
	snap->locked = snap->isolation == IOMMU_RVMSI_ISOLATION_LOCKED;
	snap->nr_entries = riscv_iommu_msi_geom.nr_entries;
	snap->nr_irqs = atomic_read(&tbl->nr_irqs);
	n = riscv_iommu_msi_describe(tbl, first, snap->ents, ARRAY_SIZE(snap->ents));
	snap->nr_ents = min_t(u32, n, ARRAY_SIZE(snap->ents));
	snap->more = n > ARRAY_SIZE(snap->ents);
	return snap;
}

/**
 * rvmsi_snapshot_get() - state of a device, by name or by position
 * @name: device name, or NULL to take the @n-th device
 * @n: position in the list of devices with a table, if @name is NULL
 * @first: the lowest table index of the entries to describe
 *
 * The allocation is one message's worth, whatever the table's size.
 *
 * Return: a snapshot to kfree(), ERR_PTR(-ENODEV) if there is no such
 * device, or ERR_PTR(-ENOMEM).
 */
struct rvmsi_snapshot *rvmsi_snapshot_get(const char *name, unsigned long n,
					  u64 first)
{
	struct riscv_iommu_msi_dev *mdev, *found = NULL;
	struct rvmsi_snapshot *snap = ERR_PTR(-ENODEV);
	struct device *dev = NULL;

	scoped_guard(mutex, &riscv_iommu_msi_devs_lock) {
		if (name) {
			found = riscv_iommu_msi_lookup_name(name);
		} else {
			list_for_each_entry(mdev, &riscv_iommu_msi_devs, node) {
				if (!n--) {
					found = mdev;
					break;
				}
			}
		}
		if (found) {
			snap = riscv_iommu_msi_snap(found, first);
			if (!IS_ERR(snap))
				dev = get_device(found->dev);
		}
	}
	/* Outside our lock: it takes the group's (see _user_bound()). */
	if (dev) {
		snap->user_bound = riscv_iommu_msi_user_bound(dev);
		put_device(dev);
	}
	return snap;
}

/**
 * rvmsi_generation() - the number of changes to entries and devices so far
 *
 * Never 0, so that a dump can use it as its consistency check.
 */
u32 rvmsi_generation(void)
{
	return (u32)atomic_read(&riscv_iommu_msi_gen) ?: 1;
}

/**
 * rvmsi_host_get() - the IMSIC geometry and the number of devices
 * @host: filled in
 *
 * Return: 0, or -ENODEV without a usable geometry.
 */
int rvmsi_host_get(struct rvmsi_host *host)
{
	const struct riscv_iommu_msi_geom *mg = riscv_iommu_msi_get_geom();
	struct riscv_iommu_msi_dev *mdev;

	if (!mg)
		return -ENODEV;
	host->nr_groups = mg->g.nr_groups;
	host->nr_harts = riscv_iommu_msi_nr_harts();
	host->nr_guest_files = mg->g.geilen;
	host->nr_ids = mg->g.nr_ids;
	host->nr_devices = 0;
	guard(mutex)(&riscv_iommu_msi_devs_lock);
	list_for_each_entry(mdev, &riscv_iommu_msi_devs, node)
		host->nr_devices++;
	return 0;
}

/* Say something about the set in the log of each of its devices. */
#define riscv_iommu_msi_set_info(tbl, fmt, ...)					\
do {										\
	struct riscv_iommu_msi_dev *__m;					\
										\
	lockdep_assert_held(&riscv_iommu_msi_devs_lock);			\
	list_for_each_entry(__m, &(tbl)->members, member)			\
		dev_info(__m->dev, fmt, ##__VA_ARGS__);				\
} while (0)

/*
 * Switch the mode of a set; the caller holds riscv_iommu_msi_devs_lock.
 * Identity on a locked set is refused: the lock promises that the table
 * only ever holds blocked and MRIF entries.
 */
static int riscv_iommu_msi_set_mode(struct riscv_iommu_msi_table *tbl, u32 mode)
{
	bool changed = false, gained = false, left_mrif = false;
	unsigned long flags;
	int ret = 0;
	u64 i;

	switch (mode) {
	case IOMMU_RVMSI_MODE_BLOCKED:
	case IOMMU_RVMSI_MODE_IDENTITY:
		break;
	case IOMMU_RVMSI_MODE_MRIF:
		/* Without MSI_MRIF, or without memory: nothing changes. */
		ret = riscv_iommu_msi_notice_init(tbl);
		if (ret)
			return ret == -EOPNOTSUPP ? ret : -ENOMEM;
		break;
	case IOMMU_RVMSI_MODE_GUEST_FILE:
		return -EOPNOTSUPP;
	default:
		return -EINVAL;
	}

	raw_spin_lock_irqsave(&tbl->lock, flags);
	if (mode == IOMMU_RVMSI_MODE_IDENTITY && tbl->locked) {
		ret = -EPERM;
	} else if (tbl->mode != mode) {
		left_mrif = tbl->mode == IOMMU_RVMSI_MODE_MRIF;
		/*
		 * Entries that lose access are invalidated, and the
		 * invalidation fenced, before entries that gain access are
		 * written (include/uapi/linux/rvmsi.h): block everything,
		 * then write the new mode's entries. An MSI in between
		 * faults (262) and is reported; none reaches a file the
		 * new mode forbids.
		 */
		tbl->mode = IOMMU_RVMSI_MODE_BLOCKED;
		for (i = 0; i < riscv_iommu_msi_geom.nr_entries; i++)
			changed |= riscv_iommu_msi_entry_update(tbl, i);
		if (changed)
			riscv_iommu_msi_inval(tbl, 0);
		tbl->mode = mode;
		for (i = 0; i < riscv_iommu_msi_geom.nr_entries; i++)
			gained |= riscv_iommu_msi_entry_update(tbl, i);
		if (gained)
			riscv_iommu_msi_inval(tbl, 0);
		changed |= gained;
	}
	raw_spin_unlock_irqrestore(&tbl->lock, flags);
	/* MSIs recorded in the MRIFs before the switch still get delivered. */
	if (left_mrif && tbl->notice_virq)
		irq_chip_retrigger_hierarchy(irq_get_irq_data(tbl->notice_virq));
	if (changed) {
		riscv_iommu_msi_set_info(tbl, "rvmsi: MSI delivery mode %u\n", mode);
		riscv_iommu_msi_event(tbl, RVMSI_REASON_MODE);
	}
	return ret;
}

/*
 * Set or clear the isolation lock; the caller holds the device's DMA
 * ownership (rvmsi_dev_set()), so nobody can be checking or relying on the
 * flag. Locking a device in identity mode moves it to MRIF (or blocked).
 */
static int riscv_iommu_msi_set_lock(struct riscv_iommu_msi_table *tbl, bool lock)
{
	unsigned long flags;
	int ret;

	if (tbl->locked == lock)
		return 0;
	if (lock && tbl->mode == IOMMU_RVMSI_MODE_IDENTITY) {
		/* MRIF keeps the device's MSIs working; blocked is the fallback. */
		ret = riscv_iommu_msi_set_mode(tbl, IOMMU_RVMSI_MODE_MRIF);
		if (ret)
			ret = riscv_iommu_msi_set_mode(tbl, IOMMU_RVMSI_MODE_BLOCKED);
		if (ret)
			return ret;
	}
	raw_spin_lock_irqsave(&tbl->lock, flags);
	tbl->locked = lock;
	raw_spin_unlock_irqrestore(&tbl->lock, flags);
	/* What iommufd and VFIO test at bind time, see docs/isolation.md. */
	if (lock)
		tbl->domain->flags |= IRQ_DOMAIN_FLAG_ISOLATED_MSI;
	else
		tbl->domain->flags &= ~IRQ_DOMAIN_FLAG_ISOLATED_MSI;
	riscv_iommu_msi_set_info(tbl, "rvmsi: isolation lock %s\n", lock ? "set" : "cleared");
	riscv_iommu_msi_event(tbl, RVMSI_REASON_MODE);
	return 0;
}

/* The DMA owner rvmsi_dev_set() claims while it changes a lock. */
static int riscv_iommu_msi_lock_owner;

/**
 * rvmsi_dev_set() - the netlink DEV_SET: mode and/or isolation lock
 * @name: device name
 * @mode: new mode, or NULL to leave it
 * @lock: new lock state, or NULL to leave it
 *
 * A lock change comes first, so "lock and block" and "unlock and identity"
 * both work in one request. On failure of the second step the first stays.
 *
 * The lock decides IRQ_DOMAIN_FLAG_ISOLATED_MSI, which iommufd and VFIO
 * check once, when they bind, after they claim the device's DMA ownership.
 * So it changes only while this function holds that ownership itself,
 * under the device lock: no driver bind, no iommufd or VFIO bind, and no
 * change of the group's domain type can run meanwhile, and none can have
 * seen the old value and still be on its way.
 *
 * Return: 0, -ENODEV, -EINVAL, -EOPNOTSUPP, -EPERM or -EBUSY (the device's
 * DMA is in use: a driver or a user holds it).
 */
int rvmsi_dev_set(const char *name, const u32 *mode, const u8 *lock)
{
	struct riscv_iommu_msi_dev *mdev;
	struct device *dev;
	int ret = 0;

	scoped_guard(mutex, &riscv_iommu_msi_devs_lock) {
		mdev = riscv_iommu_msi_lookup_name(name);
		if (!mdev)
			return -ENODEV;
		dev = get_device(mdev->dev);
	}
	if (mode && *mode == IOMMU_RVMSI_MODE_OFF) {
		put_device(dev);
		return -EINVAL;
	}
	/*
	 * Outside our lock: the ownership takes the group's mutex, which the
	 * IOMMU core holds while it releases a device (and our table).
	 */
	if (lock) {
		device_lock(dev);
		ret = iommu_device_claim_dma_owner(dev, &riscv_iommu_msi_lock_owner);
		if (ret) {
			device_unlock(dev);
			put_device(dev);
			return ret == -EPERM || ret == -EBUSY ? -EBUSY : ret;
		}
	}

	scoped_guard(mutex, &riscv_iommu_msi_devs_lock) {
		/* The device may have gone while we looked at its group. */
		mdev = riscv_iommu_msi_lookup(dev);
		if (!mdev)
			ret = -ENODEV;
		if (!ret && lock)
			ret = riscv_iommu_msi_set_lock(mdev->tbl, *lock);
		if (!ret && mode)
			ret = riscv_iommu_msi_set_mode(mdev->tbl, *mode);
	}
	if (lock) {
		iommu_device_release_dma_owner(dev);
		device_unlock(dev);
	}
	put_device(dev);
	return ret;
}

static void riscv_iommu_msi_ntf_work(struct work_struct *work)
{
	struct riscv_iommu_msi_table *tbl =
		container_of(work, struct riscv_iommu_msi_table, ntf_work);
	struct riscv_iommu_msi_dev *mdev;
	struct rvmsi_snapshot *snap;
	unsigned long reasons;
	u32 reason;

	/*
	 * Take every pending reason before the snapshot: a change that comes
	 * in while the snapshot is taken sets its bit again and queues this
	 * work again, so its state is sent in the next run. Taking the bits
	 * one by one after the snapshot would send a later change with the
	 * earlier state, and its own run would find nothing left to send.
	 */
	reasons = xchg(&tbl->ntf_reasons, 0);
	if (!reasons)
		return;
	riscv_iommu_msi_notice_follow(tbl);
	/* Each device of the set sees the change: they share the table. */
	guard(mutex)(&riscv_iommu_msi_devs_lock);
	list_for_each_entry(mdev, &tbl->members, member) {
		if (list_empty(&mdev->node))
			continue;
		snap = riscv_iommu_msi_snap(mdev, 0);
		if (IS_ERR(snap)) {
			/* Out of memory: the listeners see the gap in the sequence. */
			rvmsi_nl_event_lost();
			continue;
		}
		for_each_set_bit(reason, &reasons, BITS_PER_LONG)
			rvmsi_nl_notify_entries(snap, reason);
		kfree(snap);
	}
}

/*
 * The device a fault with requester ID @did is reported for: the one whose
 * own ID it is, else the first that has it as an alias. A shared alias does
 * not tell which member of the set wrote; they are in one IOMMU group, so
 * they have one owner.
 */
static struct riscv_iommu_msi_dev *riscv_iommu_msi_fault_dev(struct riscv_iommu_device *iommu,
							      u32 did)
{
	struct riscv_iommu_msi_dev *mdev, *alias = NULL;

	lockdep_assert_held(&riscv_iommu_msi_devs_lock);
	list_for_each_entry(mdev, &riscv_iommu_msi_devs, node) {
		if (mdev->tbl->iommu != iommu || !riscv_iommu_msi_has_did(mdev->dev, did))
			continue;
		if (mdev->rid == did)
			return mdev;
		if (!alias)
			alias = mdev;
	}
	return alias;
}

/**
 * riscv_iommu_msi_fault() - a record from the fault queue
 * @iommu: the IOMMU that reported it
 * @rec: the record, decoded by lib/msi
 *
 * Called from the fault queue's threaded handler for every record; MSI
 * causes get a rate-limited log line and a netlink event.
 */
void riscv_iommu_msi_fault(struct riscv_iommu_device *iommu,
			   const struct riscv_iommu_fq_record *rec)
{
	static DEFINE_RATELIMIT_STATE(rs, 5 * HZ, 10);
	static u32 suppressed;
	const struct riscv_iommu_msi_geom *mg = &riscv_iommu_msi_geom;
	struct rvmsi_fault_record raw = {
		.hdr = rec->hdr, .iotval = rec->iotval, .iotval2 = rec->iotval2,
	};
	struct riscv_iommu_msi_dev *mdev;
	struct rvmsi_fault_info fi;
	struct rvmsi_fault f = { };
	u32 cause;

	rvmsi_fault_decode(&raw, &fi);
	cause = fi.cause;
	f.rid = fi.did;
	f.cause = fi.cause;
	f.ttyp = fi.ttyp;
	f.addr = fi.iotval;
	if (rvmsi_fault_cause_is_iommu_msi_write(cause)) {
		/* The IOMMU's own interrupt, not a device's MSI: no device to name. */
		dev_warn_ratelimited(iommu->dev,
				     "rvmsi: the IOMMU's MSI write to %#llx failed (cause %u)\n",
				     fi.iotval, cause);
		return;
	}
	if (!rvmsi_fault_cause_is_msi(cause))
		return;

	scoped_guard(mutex, &riscv_iommu_msi_devs_lock) {
		mdev = riscv_iommu_msi_fault_dev(iommu, fi.did);
		if (mdev)
			strscpy(f.dev_name, dev_name(mdev->dev));
	}
	f.has_file = riscv_iommu_msi_geom_state > 0 &&
		     !rvmsi_imsic_file_locate(&mg->g, fi.iotval, &f.group, &f.hart,
					      &f.guest);

	if (!__ratelimit(&rs)) {
		suppressed++;
		return;
	}
	f.suppressed = suppressed;
	suppressed = 0;
	dev_warn(iommu->dev, "rvmsi: %s: MSI fault %u (%s) at %#llx\n",
		 f.dev_name[0] ? f.dev_name : "unknown device", cause,
		 rvmsi_fault_cause_name(cause), fi.iotval);
	rvmsi_nl_notify_fault(&f);
}

/* iommufd: include/linux/rvmsi.h */

int rvmsi_dev_get_info(struct device *dev, struct iommu_rvmsi_info *info)
{
	const struct riscv_iommu_msi_geom *mg = &riscv_iommu_msi_geom;
	struct riscv_iommu_msi_dev *mdev;
	struct riscv_iommu_msi_table *tbl;

	guard(mutex)(&riscv_iommu_msi_devs_lock);
	mdev = riscv_iommu_msi_lookup(dev);
	if (!mdev)
		return -ENODEV;
	tbl = mdev->tbl;

	riscv_iommu_msi_settle(tbl);
	riscv_iommu_msi_state(tbl, &info->out_mode, &info->out_isolation,
			      &info->out_nr_valid);
	info->out_capabilities = riscv_iommu_msi_caps(tbl->iommu);
	info->out_nr_groups = mg->g.nr_groups;
	info->out_nr_harts = riscv_iommu_msi_nr_harts();
	info->out_nr_guest_files = mg->g.geilen;
	info->out_nr_ids = mg->g.nr_ids;
	info->out_nr_entries = mg->nr_entries;
	return 0;
}

int rvmsi_dev_set_mode(struct device *dev, u32 mode)
{
	struct riscv_iommu_msi_dev *mdev;
	struct riscv_iommu_msi_table *tbl;

	guard(mutex)(&riscv_iommu_msi_devs_lock);
	mdev = riscv_iommu_msi_lookup(dev);
	if (!mdev)
		return -ENODEV;
	tbl = mdev->tbl;
	return riscv_iommu_msi_set_mode(tbl, mode);
}

int rvmsi_dev_get_entries(struct device *dev, struct iommu_rvmsi_entry *ents,
			  u32 max, u32 *ret_count)
{
	struct riscv_iommu_msi_dev *mdev;
	struct riscv_iommu_msi_table *tbl;

	guard(mutex)(&riscv_iommu_msi_devs_lock);
	mdev = riscv_iommu_msi_lookup(dev);
	if (!mdev)
		return -ENODEV;
	tbl = mdev->tbl;
	riscv_iommu_msi_settle(tbl);
	*ret_count = riscv_iommu_msi_describe(tbl, 0, ents, max);
	return *ret_count > max ? -EMSGSIZE : 0;
}
