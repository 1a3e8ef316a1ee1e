/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi: MSI handling of the RISC-V IOMMU driver.
 *
 * - The IMSIC window: the interrupt-file pages, reported as IOMMU_RESV_MSI;
 *   mapped by the driver into first-stage paging domains where there are no
 *   MSI page tables.
 * - MSI page tables, where paging domains are second stage: one table and
 *   one GSCID per set of devices that share a requester ID (most sets are
 *   one device), sized from the IMSIC geometry, programmed into the
 *   extended device context of every ID of the set, kept up to date by the
 *   set's MSI remapping irq domain.
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

bool riscv_iommu_msi_tables(struct riscv_iommu_device *iommu);
struct riscv_iommu_msi_dev *riscv_iommu_msi_probe(struct riscv_iommu_device *iommu,
						  struct device *dev);
void riscv_iommu_msi_release(struct riscv_iommu_msi_dev *mdev);
u32 riscv_iommu_msi_gscid(struct riscv_iommu_msi_dev *mdev);
struct device *riscv_iommu_msi_id_user(struct riscv_iommu_msi_dev *mdev, u32 did);
void riscv_iommu_msi_fill_dc(struct riscv_iommu_msi_dev *mdev,
			     struct riscv_iommu_dc *dc, u64 iohgatp, bool valid);
void riscv_iommu_msi_fault(struct riscv_iommu_device *iommu,
			   const struct riscv_iommu_fq_record *rec);

/* iommu.c: GSCIDs, which the sets own */
int riscv_iommu_gscid_alloc(void);
void riscv_iommu_gscid_free(struct riscv_iommu_device *iommu, u32 gscid);

#endif
