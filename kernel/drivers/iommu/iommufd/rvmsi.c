// SPDX-License-Identifier: GPL-2.0-only
/*
 * rvmsi iommufd ioctls: the holder of the iommufd a device is bound to
 * (typically the VMM) reads the device's MSI geometry, capabilities and
 * entries and sets its MSI delivery mode. The RISC-V IOMMU driver does the
 * work (include/linux/rvmsi.h); this file is the uAPI side: argument
 * checks, the device object lookup and copying out. The errno contract is
 * the one documented in include/uapi/linux/rvmsi.h; a request that fails
 * changes nothing.
 */
#include <linux/rvmsi.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommufd_private.h"

/* Size of the first version of struct iommu_rvmsi_entry. */
#define IOMMU_RVMSI_ENTRY_LEN_V1	40
/* Room for the entry to grow, and a bound on what one call copies out. */
#define IOMMU_RVMSI_ENTRY_LEN_MAX	256

int iommufd_rvmsi_get_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_rvmsi_info *cmd = ucmd->cmd;
	struct iommu_rvmsi_info out = {};
	struct iommufd_device *idev;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;

	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = rvmsi_dev_get_info(idev->dev, &out);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	if (rc)
		return rc;

	cmd->out_capabilities = out.out_capabilities;
	cmd->out_mode = out.out_mode;
	cmd->out_isolation = out.out_isolation;
	cmd->out_nr_groups = out.out_nr_groups;
	cmd->out_nr_harts = out.out_nr_harts;
	cmd->out_nr_guest_files = out.out_nr_guest_files;
	cmd->out_nr_ids = out.out_nr_ids;
	cmd->out_nr_entries = out.out_nr_entries;
	cmd->out_nr_valid = out.out_nr_valid;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommufd_rvmsi_set_mode(struct iommufd_ucmd *ucmd)
{
	struct iommu_rvmsi_set_mode *cmd = ucmd->cmd;
	struct iommufd_device *idev;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	/* OFF is reported only; anything above GUEST_FILE does not exist. */
	if (cmd->mode == IOMMU_RVMSI_MODE_OFF ||
	    cmd->mode > IOMMU_RVMSI_MODE_GUEST_FILE)
		return -EINVAL;

	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = rvmsi_dev_set_mode(idev->dev, cmd->mode);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

int iommufd_rvmsi_get_entries(struct iommufd_ucmd *ucmd)
{
	struct iommu_rvmsi_get_entries *cmd = ucmd->cmd;
	void __user *uptr = u64_to_user_ptr(cmd->entries_uptr);
	size_t len = min_t(size_t, cmd->entry_len, sizeof(struct iommu_rvmsi_entry));
	struct iommu_rvmsi_entry *ents = NULL;
	u8 *out = NULL;
	struct iommu_rvmsi_info info = {};
	struct iommufd_device *idev;
	u32 cap, count = 0, i;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->entry_len < IOMMU_RVMSI_ENTRY_LEN_V1 ||
	    cmd->entry_len > IOMMU_RVMSI_ENTRY_LEN_MAX)
		return -EINVAL;

	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	/* No more entries can be valid than the table has. */
	rc = rvmsi_dev_get_info(idev->dev, &info);
	if (rc)
		goto out_put;
	cap = min(cmd->num_entries, info.out_nr_entries);
	ents = kcalloc(max(cap, 1U), sizeof(*ents), GFP_KERNEL);
	if (!ents) {
		rc = -ENOMEM;
		goto out_put;
	}
	rc = rvmsi_dev_get_entries(idev->dev, ents, cap, &count);
	if (rc && rc != -EMSGSIZE)
		goto out_put;

	if (count > cmd->num_entries) {
		/* Tell the caller how many it needs; write no entry. */
		cmd->num_entries = count;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd)) ?: -EMSGSIZE;
		goto out_put;
	}

	/*
	 * Lay the array out in the caller's stride and copy it in one go. A
	 * fault part way zeroes what can be reached: no entry is left
	 * half-written, and num_entries is not updated.
	 */
	out = kvcalloc(max(count, 1U), cmd->entry_len, GFP_KERNEL);
	if (!out) {
		rc = -ENOMEM;
		goto out_put;
	}
	for (i = 0; i < count; i++)
		memcpy(out + (size_t)i * cmd->entry_len, &ents[i], len);
	if (copy_to_user(uptr, out, (size_t)count * cmd->entry_len)) {
		if (clear_user(uptr, (size_t)count * cmd->entry_len))
			pr_debug("rvmsi: GET_ENTRIES array not writable\n");
		rc = -EFAULT;
		goto out_put;
	}
	cmd->num_entries = count;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));

out_put:
	kvfree(out);
	kfree(ents);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}
