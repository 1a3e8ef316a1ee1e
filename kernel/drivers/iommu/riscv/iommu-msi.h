/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi: MSI handling of the RISC-V IOMMU driver.
 *
 * - The IMSIC window: which interrupt-file pages a device behind the IOMMU
 *   must reach through first-stage translation, reported as IOMMU_RESV_MSI
 *   and mapped by the driver into every paging domain it creates.
 * - Per-device MSI page tables: one table per device (requester ID), sized
 *   from the IMSIC geometry, programmed into the extended device context,
 *   kept up to date by a per-device MSI remapping irq domain.
 */
#ifndef _RISCV_IOMMU_MSI_H_
#define _RISCV_IOMMU_MSI_H_

#include <linux/list.h>
#include <linux/types.h>

struct device;
struct pt_iommu;
struct riscv_iommu_dc;
struct riscv_iommu_device;
struct riscv_iommu_fq_record;
struct riscv_iommu_msi_dev;

void riscv_iommu_msi_get_resv_regions(struct riscv_iommu_device *iommu,
				      struct list_head *head);
int riscv_iommu_msi_map_window(struct riscv_iommu_device *iommu,
			       struct pt_iommu *pt);

struct riscv_iommu_msi_dev *riscv_iommu_msi_probe(struct riscv_iommu_device *iommu,
						  struct device *dev);
void riscv_iommu_msi_release(struct riscv_iommu_msi_dev *mdev);
void riscv_iommu_msi_fill_dc(struct riscv_iommu_msi_dev *mdev,
			     struct riscv_iommu_dc *dc);
void riscv_iommu_msi_fault(struct riscv_iommu_device *iommu,
			   const struct riscv_iommu_fq_record *rec);

#endif
