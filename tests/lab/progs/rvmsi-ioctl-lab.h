/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rvmsi iommufd ioctls (include/uapi/linux/rvmsi.h) on edu's iommufd
 * device: the well-formed requests the lab tests make over and over. The
 * malformed ones (short, long, garbage structs) stay in the tests, which
 * build them by hand.
 */
#ifndef RVMSI_LAB_RVMSI_IOCTL_LAB_H
#define RVMSI_LAB_RVMSI_IOCTL_LAB_H

#include <linux/rvmsi.h>

#include "vfio-edu.h"

/* ioctl() returning 0 or -errno. */
static inline int lab_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

/* IOMMU_RVMSI_GET_INFO of edu. */
static inline int rvmsi_get_info(struct edu *e, struct iommu_rvmsi_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->dev_id = e->dev_id;
	return lab_ioctl(e->iommufd, IOMMU_RVMSI_GET_INFO, info);
}

/* IOMMU_RVMSI_SET_MODE of edu. */
static inline int rvmsi_set_mode(struct edu *e, uint32_t mode)
{
	struct iommu_rvmsi_set_mode sm = {
		.size = sizeof(sm), .dev_id = e->dev_id, .mode = mode,
	};

	return lab_ioctl(e->iommufd, IOMMU_RVMSI_SET_MODE, &sm);
}

/*
 * IOMMU_RVMSI_GET_ENTRIES of edu into @ents (room for *@num); *@num gets
 * what the kernel wrote back (the count, or the count needed on -EMSGSIZE).
 */
static inline int rvmsi_get_entries(struct edu *e, struct iommu_rvmsi_entry *ents,
				    uint32_t *num)
{
	struct iommu_rvmsi_get_entries ge = {
		.size = sizeof(ge), .dev_id = e->dev_id, .num_entries = *num,
		.entry_len = sizeof(*ents), .entries_uptr = (uintptr_t)ents,
	};
	int r;

	r = lab_ioctl(e->iommufd, IOMMU_RVMSI_GET_ENTRIES, &ge);
	*num = ge.num_entries;
	return r;
}

#endif /* RVMSI_LAB_RVMSI_IOCTL_LAB_H */
