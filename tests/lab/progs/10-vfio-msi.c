/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * P0 of the rvmsi kernel part: device assignment works at all on the RISC-V
 * IOMMU. edu is bound to vfio-pci, opened through the VFIO cdev + iommufd,
 * attached to a paging IOAS; its MSI, routed to an eventfd, must arrive,
 * which needs its MSI page table to let it through (the paging domain is
 * second stage and maps no interrupt file). The window must also be
 * reserved: iommufd refuses user mappings there.
 *
 * The IOMMU cannot isolate MSIs by data, so binding still needs
 * iommufd.allow_unsafe_interrupts=1 here.
 */
#include "vfio-edu.h"
#include "kselftest_harness.h"

#define IRQ_TIMEOUT_MS	2000
#define RAISES		5

FIXTURE(edu) {
	struct edu e;
};

FIXTURE_SETUP(edu)
{
	const char *step = "";
	int r;

	r = edu_open_msi(&self->e, NULL, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
}

FIXTURE_TEARDOWN(edu)
{
	edu_close(&self->e);
}

/* The raise-interrupt register, several times: every MSI reaches the eventfd. */
TEST_F(edu, msi_raise_reaches_eventfd)
{
	long long before, after;
	int i, irq = -1;
	uint64_t got = 0;

	before = proc_irq_count("vfio-msi", &irq);
	ASSERT_LE(0, before) TH_LOG("no vfio-msi line in /proc/interrupts");
	for (i = 0; i < RAISES; i++) {
		edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1 << i);
		got += edu_wait_irq(&self->e, IRQ_TIMEOUT_MS);
	}
	after = proc_irq_count("vfio-msi", NULL);
	TH_LOG("edu %s: %d raises, eventfd count %llu, IRQ %d count %lld -> %lld",
	       self->e.bdf, RAISES, (unsigned long long)got, irq, before, after);
	ASSERT_EQ((uint64_t)RAISES, got);
	ASSERT_EQ(before + RAISES, after);
}

/* DMA both ways through the IOAS mapping, each completion signalled by MSI. */
TEST_F(edu, dma_roundtrip_with_completion_msi)
{
	struct edu *e = &self->e;
	uint64_t got;
	int i;

	for (i = 0; i < 64; i++)
		e->buf[i] = 0x40 + i;
	ASSERT_EQ(0, edu_dma(e, EDU_IOVA, EDU_DMA_BUF, 64, EDU_DMA_IRQ));
	got = edu_wait_irq(e, IRQ_TIMEOUT_MS);
	ASSERT_EQ(1ULL, (unsigned long long)got) TH_LOG("no completion MSI for RAM -> edu");
	ASSERT_EQ(0, edu_dma(e, EDU_DMA_BUF, EDU_IOVA + 2048, 64,
			     EDU_DMA_TO_RAM | EDU_DMA_IRQ));
	got = edu_wait_irq(e, IRQ_TIMEOUT_MS);
	ASSERT_EQ(1ULL, (unsigned long long)got) TH_LOG("no completion MSI for edu -> RAM");
	ASSERT_EQ(0, memcmp(e->buf, e->buf + 2048, 64));
}

/*
 * The paging domain is second stage, and the IOMMU caches its translations
 * under the device's GSCID. After the IOVA is unmapped and mapped again to
 * another page, the device's DMA must reach the new page: the unmap sent
 * IOTINVAL.GVMA for that GSCID. QEMU's IOMMU caches translations and drops
 * them on GVMA, so a missing or mistagged invalidation shows here as a write
 * into the old page.
 */
TEST_F(edu, dma_follows_a_remap)
{
	struct iommu_ioas_unmap u = { .size = sizeof(u) };
	struct iommu_ioas_map m = { .size = sizeof(m) };
	struct edu *e = &self->e;
	uint8_t *other;

	/* Fill edu's buffer from RAM and write it back: the IOVA is cached. */
	memset(e->buf, 0x11, 64);
	ASSERT_EQ(0, edu_dma(e, EDU_IOVA, EDU_DMA_BUF, 64, 0));
	ASSERT_EQ(0, edu_dma(e, EDU_DMA_BUF, EDU_IOVA + 1024, 64, EDU_DMA_TO_RAM));
	ASSERT_EQ(0x11, e->buf[1024]);

	other = mmap(NULL, EDU_BUF_SIZE, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, other);
	memset(other, 0, EDU_BUF_SIZE);
	u.ioas_id = e->ioas_id;
	u.iova = EDU_IOVA;
	u.length = EDU_BUF_SIZE;
	ASSERT_EQ(0, ioctl(e->iommufd, IOMMU_IOAS_UNMAP, &u)) TH_LOG("unmap: %s", strerror(errno));
	m.ioas_id = e->ioas_id;
	m.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
		  IOMMU_IOAS_MAP_WRITEABLE;
	m.user_va = (uintptr_t)other;
	m.length = EDU_BUF_SIZE;
	m.iova = EDU_IOVA;
	ASSERT_EQ(0, ioctl(e->iommufd, IOMMU_IOAS_MAP, &m)) TH_LOG("map: %s", strerror(errno));

	ASSERT_EQ(0, edu_dma(e, EDU_DMA_BUF, EDU_IOVA + 2048, 64, EDU_DMA_TO_RAM));
	TH_LOG("after the remap: new page %#x, old page %#x", other[2048], e->buf[2048]);
	EXPECT_EQ(0x11, other[2048]);
	EXPECT_EQ(0, e->buf[2048]);
	munmap(other, EDU_BUF_SIZE);
}

/*
 * The IMSIC window is reserved in the IOAS: the allowed IOVA ranges leave
 * holes covering at least one interrupt-file page per hart, and a fixed
 * mapping over the first hole is refused (EINVAL, like any reserved IOVA).
 */
TEST_F(edu, imsic_window_reserved)
{
	struct iommu_iova_range ranges[64];
	struct iommu_ioas_iova_ranges rq = {
		.size = sizeof(rq),
		.ioas_id = self->e.ioas_id,
		.num_iovas = 64,
		.allowed_iovas = (uintptr_t)ranges,
	};
	struct iommu_ioas_map m = { .size = sizeof(m) };
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	uint64_t first = 0, pages = 0;
	unsigned int i;

	ASSERT_EQ(0, ioctl(self->e.iommufd, IOMMU_IOAS_IOVA_RANGES, &rq));
	ASSERT_GE(64U, rq.num_iovas);
	ASSERT_LE(2U, rq.num_iovas) TH_LOG("no reserved hole in the IOAS");
	for (i = 0; i + 1 < rq.num_iovas; i++) {
		uint64_t start = ranges[i].last + 1, end = ranges[i + 1].start;

		TH_LOG("reserved [%#llx, %#llx)", (unsigned long long)start,
		       (unsigned long long)end);
		ASSERT_EQ(0U, start & 4095);
		ASSERT_EQ(0U, end & 4095);
		if (!first)
			first = start;
		pages += (end - start) / 4096;
	}
	ASSERT_LE((uint64_t)ncpu, pages);

	m.ioas_id = self->e.ioas_id;
	m.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
		  IOMMU_IOAS_MAP_WRITEABLE;
	m.user_va = (uintptr_t)self->e.buf;
	m.length = 4096;
	m.iova = first;
	ASSERT_NE(0, ioctl(self->e.iommufd, IOMMU_IOAS_MAP, &m));
	ASSERT_EQ(EINVAL, errno);	/* iopt_check_iova(): reserved */
}

TEST_HARNESS_MAIN
