// SPDX-License-Identifier: GPL-2.0-only
/*
 * rvmsi: MSI handling of the RISC-V IOMMU driver.
 *
 * The IMSIC window
 * ----------------
 * The driver runs paging domains in first-stage translation only. A
 * device's MSI write is translated by the first stage before the IOMMU
 * looks at its MSI page table (and before it reaches the interrupt file),
 * so under a paging domain the IMSIC pages must be mapped in that domain or
 * every MSI faults.
 *
 * The IMSIC page a device's MSI targets is chosen by the IMSIC driver and
 * changes with the IRQ's affinity, in atomic context, to a page of another
 * hart. The SW_MSI scheme (iommu_dma_prepare_msi(), one IOVA page per MSI
 * descriptor, mapped once at allocation) cannot follow that. The driver
 * therefore owns a fixed MSI window instead: the interrupt-file pages, at
 * IOVA == physical address, reported as IOMMU_RESV_MSI so that no user of
 * the domain (iommufd, VFIO) can place its own mappings there, and mapped
 * by the driver into each paging domain when the domain is created. The
 * IRQ layer never touches an iommu_domain.
 */

#define pr_fmt(fmt) "riscv-iommu-msi: " fmt

#include <linux/cpumask.h>
#include <linux/generic_pt/iommu.h>
#include <linux/iommu.h>
#include <linux/irqchip/riscv-imsic.h>
#include <linux/percpu.h>

#include "iommu.h"
#include "iommu-msi.h"

#define RISCV_IOMMU_MSI_PROT	(IOMMU_READ | IOMMU_WRITE | IOMMU_MMIO)

/*
 * The page of the window that belongs to @cpu: the supervisor-level
 * interrupt file of its hart, or 0 if the IMSIC driver found none.
 */
static phys_addr_t riscv_iommu_msi_cpu_page(const struct imsic_global_config *gc,
					    unsigned int cpu)
{
	return gc ? per_cpu_ptr(gc->local, cpu)->msi_pa : 0;
}

/**
 * riscv_iommu_msi_get_resv_regions() - report the IMSIC window
 * @iommu: the IOMMU in front of the device
 * @head: list to add the regions to
 *
 * One IOMMU_RESV_MSI region per interrupt-file page of the window. These
 * are translated by the hardware (the driver maps them), not by an IOVA the
 * domain owner picks, hence MSI and not SW_MSI.
 */
void riscv_iommu_msi_get_resv_regions(struct riscv_iommu_device *iommu,
				      struct list_head *head)
{
	const struct imsic_global_config *gc = imsic_get_global_config();
	struct iommu_resv_region *region;
	unsigned int cpu;
	phys_addr_t pa;

	for_each_possible_cpu(cpu) {
		pa = riscv_iommu_msi_cpu_page(gc, cpu);
		if (!pa)
			continue;
		region = iommu_alloc_resv_region(pa, IMSIC_MMIO_PAGE_SZ,
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
 * @iommu: the IOMMU the domain is created for
 * @pt: the domain's page table, not yet visible to anyone else
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
	unsigned int cpu;
	size_t mapped;
	phys_addr_t pa;
	int ret;

	for_each_possible_cpu(cpu) {
		pa = riscv_iommu_msi_cpu_page(gc, cpu);
		if (!pa)
			continue;
		mapped = 0;
		ret = pt->ops->map_range(pt, pa, pa, IMSIC_MMIO_PAGE_SZ,
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
