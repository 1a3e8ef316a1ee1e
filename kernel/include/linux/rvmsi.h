/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi: the RISC-V IOMMU's per-device MSI page tables as seen by iommufd
 * and the rvmsi generic netlink family. Implemented by the RISC-V IOMMU
 * driver (drivers/iommu/riscv/iommu-msi.c).
 */
#ifndef _LINUX_RVMSI_H
#define _LINUX_RVMSI_H

#include <linux/errno.h>
#include <linux/types.h>
#include <uapi/linux/rvmsi.h>

struct device;

#if IS_ENABLED(CONFIG_RISCV_IOMMU)
int rvmsi_dev_get_info(struct device *dev, struct iommu_rvmsi_info *info);
int rvmsi_dev_set_mode(struct device *dev, u32 mode);
int rvmsi_dev_get_entries(struct device *dev, struct iommu_rvmsi_entry *ents,
			  u32 max, u32 *ret_count);
#else
static inline int rvmsi_dev_get_info(struct device *dev,
				     struct iommu_rvmsi_info *info)
{
	return -ENODEV;
}

static inline int rvmsi_dev_set_mode(struct device *dev, u32 mode)
{
	return -ENODEV;
}

static inline int rvmsi_dev_get_entries(struct device *dev,
					struct iommu_rvmsi_entry *ents,
					u32 max, u32 *ret_count)
{
	return -ENODEV;
}
#endif

#endif /* _LINUX_RVMSI_H */
