/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * P1 of the rvmsi kernel part: edu's per-device MSI page table in identity
 * mode. Only the S-level file of the hart edu's IRQ is affine to is mapped;
 * the entry follows the IRQ when /proc/irq/N/smp_affinity moves it.
 *
 * This program used to forge an MSI with edu's DMA engine into another
 * hart's file and check that it was not delivered. That check could not
 * fail: QEMU 10's IOMMU model runs the MSI table only for writes that carry
 * a requester ID, and drops device DMA (pci_dma_write(),
 * MEMTXATTRS_UNSPECIFIED) into the MSI window before the table lookup,
 * whatever the entry says. It was removed (issue 17). Forged MSIs that do
 * reach the table are sent through edu's own MSI capability in
 * 25-forged-msi.
 */
#include "imsic-lab.h"
#include "kselftest_harness.h"

FIXTURE(table) {
	struct edu e;
	struct imsic_dt im;
	int irq;		/* edu's vfio-msi IRQ */
	int ncpu;
	char debugfs[256];
};

FIXTURE_SETUP(table)
{
	const char *step = "";
	int r;

	self->ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	ASSERT_LE(2, self->ncpu);
	r = edu_open_msi(&self->e, &self->irq, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
	ASSERT_EQ(0, imsic_dt_read(&self->im));
	TH_LOG("IMSIC S-level files at %#llx, %u harts, guest index bits %u",
	       (unsigned long long)self->im.base, self->im.nr, self->im.guest_bits);

	snprintf(self->debugfs, sizeof(self->debugfs),
		 "/sys/kernel/debug/iommu/riscv-msi/%s", self->e.bdf);
}

FIXTURE_TEARDOWN(table)
{
	edu_close(&self->e);
}

/*
 * The valid S-level entries of edu's table as the driver's debugfs file
 * lists them: @cpus[i] gets the CPU, @refs[i] the reference count.
 */
static int table_entries(const char *path, int *cpus, int *refs, int max, int *guest_entries)
{
	char line[256];
	int n = 0, idx, g, h, guest, cpu, ref;
	FILE *f;

	*guest_entries = 0;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d group %d hart %d guest %d cpu %d refs %d",
			   &idx, &g, &h, &guest, &cpu, &ref) != 6)
			continue;
		if (guest) {
			(*guest_entries)++;
			continue;
		}
		if (n < max) {
			cpus[n] = cpu;
			refs[n] = ref;
		}
		n++;
	}
	fclose(f);
	return n;
}

/*
 * The IOMMU commands the driver sent for edu's table so far, from the
 * "gscid <n> commands gvma <n> fence <n>" line of its debugfs file.
 */
static int table_commands(const char *path, unsigned long long *gvma,
			  unsigned long long *fence)
{
	char line[256];
	unsigned int gscid;
	int r = -ENOENT;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "gscid %u commands gvma %llu fence %llu",
			   &gscid, gvma, fence) == 3) {
			r = gscid ? 0 : -EINVAL;
			break;
		}
	fclose(f);
	return r;
}

/*
 * Move edu's IRQ across every CPU: the one valid entry follows it (the file
 * it left is blocked again: exactly one S-level entry is valid). A move to
 * one CPU costs the IOMMU one IOTINVAL.GVMA (the old file) and one
 * IOFENCE.C: opening the new entry needs no invalidation, since the IOMMU
 * never caches an invalid MSI PTE.
 */
TEST_F(table, identity_entry_follows_affinity)
{
	unsigned long long gvma0, fence0, gvma1, fence1;
	int cpus[8], refs[8], guest, n, cpu, got, prev;
	long long before, after;

	prev = lab_irq_effective_cpu(self->irq);
	ASSERT_LE(0, prev);
	for (cpu = 0; cpu < self->ncpu; cpu++) {
		ASSERT_EQ(0, table_commands(self->debugfs, &gvma0, &fence0));
		got = edu_move_irq(&self->e, self->irq, cpu);
		ASSERT_EQ(cpu, got) TH_LOG("IRQ %d did not move to CPU %d", self->irq, cpu);

		/* Delivered, and on the new CPU. */
		before = lab_irq_count(self->irq, cpu);
		edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x2);
		ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&self->e, 2000));
		after = lab_irq_count(self->irq, cpu);
		ASSERT_EQ(before + 1, after);

		n = table_entries(self->debugfs, cpus, refs, 8, &guest);
		ASSERT_EQ(1, n) TH_LOG("%d valid S-level entries after moving to CPU %d", n, cpu);
		ASSERT_EQ(cpu, cpus[0]);
		ASSERT_EQ(1, refs[0]);
		ASSERT_EQ(0, guest);

		ASSERT_EQ(0, table_commands(self->debugfs, &gvma1, &fence1));
		TH_LOG("IRQ %d on CPU %d: one entry, refs 1, delivered; IOMMU commands for the move: %llu IOTINVAL.GVMA, %llu IOFENCE.C",
		       self->irq, cpu, gvma1 - gvma0, fence1 - fence0);
		EXPECT_EQ(cpu != prev ? 1ULL : 0ULL, gvma1 - gvma0);
		EXPECT_EQ(cpu != prev ? 1ULL : 0ULL, fence1 - fence0);
		prev = cpu;
	}
}

TEST_HARNESS_MAIN
