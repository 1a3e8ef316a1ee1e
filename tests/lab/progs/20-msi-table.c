/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * P1 of the rvmsi kernel part: edu's per-device MSI page table in identity
 * mode. Only the S-level file of the hart edu's IRQ is affine to is mapped;
 * the entry follows the IRQ when /proc/irq/N/smp_affinity moves it.
 *
 * An MSI forged with edu's DMA engine into another hart's file must not be
 * delivered. The forged identity is the one of the IOMMU's command-queue
 * interrupt, a real, enabled vector that never fires on its own: had the
 * write got through, that IRQ's count would move.
 *
 * QEMU 10's IOMMU model only runs the MSI table for writes that carry a
 * requester ID. Device DMA (pci_dma_write(), MEMTXATTRS_UNSPECIFIED) into
 * the MSI window is discarded before the table lookup and without a fault
 * record, whatever the entry says. So here a forged write is blocked but
 * leaves no cause-262 record; the fault path is exercised with edu's real
 * MSIs against a blocked table (30-rvmsi-ioctl) and with MSIs forged through
 * edu's own MSI capability, which do reach the table (25-forged-msi). Measured control: the same
 * forged write on the kernel without MSI tables (only the P0 patches) was
 * delivered, the CQ IRQ count went 0 -> 1.
 */
#include "imsic-lab.h"
#include "kselftest_harness.h"

#define SETTLE_US	200000

FIXTURE(table) {
	struct edu e;
	struct imsic_dt im;
	int irq;		/* edu's vfio-msi IRQ */
	int cq_irq;		/* the IOMMU's command-queue IRQ */
	int ncpu;
	char debugfs[256];
};

FIXTURE_SETUP(table)
{
	const char *step = "";
	char iommu[64];
	int r;

	self->ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	ASSERT_LE(2, self->ncpu);
	r = edu_open_msi(&self->e, &self->irq, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
	ASSERT_EQ(0, imsic_dt_read(&self->im));
	TH_LOG("IMSIC S-level files at %#llx, %u harts, guest index bits %u",
	       (unsigned long long)self->im.base, self->im.nr, self->im.guest_bits);

	r = lab_iommu_cq_irq(iommu, sizeof(iommu), &self->cq_irq);
	ASSERT_EQ(0, r) TH_LOG("the IOMMU's CQ IRQ (IOMMU '%s'): %s", iommu, strerror(-r));
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
 * Move edu's IRQ across every CPU: the one valid entry follows it (the file
 * it left is blocked again: exactly one S-level entry is valid).
 */
TEST_F(table, identity_entry_follows_affinity)
{
	int cpus[8], refs[8], guest, n, cpu, got;
	long long before, after;

	for (cpu = 0; cpu < self->ncpu; cpu++) {
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
		TH_LOG("IRQ %d on CPU %d: one entry, refs 1, delivered", self->irq, cpu);

	}
}

/*
 * Forge the command-queue vector into its own hart's file while edu's IRQ
 * lives elsewhere: not delivered.
 */
TEST_F(table, forged_msi_other_hart_blocked)
{
	int cq_cpu, cq_id, edu_cpu, faults;
	long long cq_before, cq_after;
	uint64_t addr;

	ASSERT_EQ(0, lab_irq_imsic_vector(self->cq_irq, &cq_cpu, &cq_id));
	ASSERT_EQ(0, imsic_file_addr(&self->im, cq_cpu, 0, &addr));
	edu_cpu = (cq_cpu + 1) % self->ncpu;
	ASSERT_EQ(edu_cpu, edu_move_irq(&self->e, self->irq, edu_cpu));
	TH_LOG("IOMMU CQ IRQ %d: CPU %d identity %d, file %#llx; edu on CPU %d",
	       self->cq_irq, cq_cpu, cq_id, (unsigned long long)addr, edu_cpu);

	cq_before = lab_irq_count(self->cq_irq, -1);
	faults = lab_klog_count("Fault 262 ", NULL);
	ASSERT_EQ(0, edu_forge_msi(&self->e, addr, cq_id));
	usleep(SETTLE_US);
	cq_after = lab_irq_count(self->cq_irq, -1);
	TH_LOG("forged write: CQ IRQ count %lld -> %lld, cause-262 records %d -> %d",
	       cq_before, cq_after, faults, lab_klog_count("Fault 262 ", NULL));
	ASSERT_EQ(cq_before, cq_after);

	/* edu itself still works, on its own file. */
	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x4);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&self->e, 2000));
}

TEST_HARNESS_MAIN
