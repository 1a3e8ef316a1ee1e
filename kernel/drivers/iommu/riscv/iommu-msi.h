/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi: MSI handling of the RISC-V IOMMU driver.
 *
 * The IMSIC window: which interrupt-file pages a device behind the IOMMU
 * must be able to reach through first-stage translation, reported as
 * IOMMU_RESV_MSI and mapped by the driver into every paging domain it
 * creates.
 */
#ifndef _RISCV_IOMMU_MSI_H_
#define _RISCV_IOMMU_MSI_H_

#include <linux/list.h>

struct device;
struct pt_iommu;
struct riscv_iommu_device;

void riscv_iommu_msi_get_resv_regions(struct riscv_iommu_device *iommu,
				      struct list_head *head);
int riscv_iommu_msi_map_window(struct riscv_iommu_device *iommu,
			       struct pt_iommu *pt);

#endif
