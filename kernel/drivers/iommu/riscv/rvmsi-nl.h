/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi: the generic netlink family "rvmsi" (rvmsi-nl.c) and what it needs
 * from the MSI page table code (iommu-msi.c).
 */
#ifndef _RISCV_RVMSI_NL_H_
#define _RISCV_RVMSI_NL_H_

#include <linux/types.h>
#include <uapi/linux/rvmsi.h>

/*
 * Entries in one DEV_GET or ENTRY_NTF message. rvmsi-nl.c proves at build
 * time that a message with this many, and every other attribute at its
 * largest, fits in NLMSG_GOODSIZE. A device with more valid entries is
 * dumped as several messages; its ENTRY_NTF leaves them out.
 */
#define RVMSI_NL_MAX_ENTRIES	32

/*
 * A copy of one device's state and of up to RVMSI_NL_MAX_ENTRIES of its
 * valid entries, those from a given table index on: one message's worth.
 */
struct rvmsi_snapshot {
	char name[64];
	char iommu[64];
	u32 rid;
	u64 caps;
	u32 mode;
	u32 isolation;
	bool locked;
	bool user_bound;
	u32 nr_entries;
	u32 nr_irqs;
	u32 nr_valid;
	u32 table_users;	/* devices sharing the table, this one included */
	bool more;	/* valid entries after ents[nr_ents - 1] */
	u32 nr_ents;
	struct iommu_rvmsi_entry ents[RVMSI_NL_MAX_ENTRIES];
};

struct rvmsi_host {
	u32 nr_groups;
	u32 nr_harts;
	u32 nr_guest_files;
	u32 nr_ids;
	u32 nr_devices;
};

struct rvmsi_fault {
	char dev_name[64];
	u32 rid;
	u32 cause;
	u32 ttyp;
	u64 addr;
	bool has_file;
	u32 group;
	u32 hart;
	u32 guest;
	u32 suppressed;
};

/* iommu-msi.c */
struct rvmsi_snapshot *rvmsi_snapshot_get(const char *name, unsigned long n,
					  u64 first);
u32 rvmsi_generation(void);
int rvmsi_host_get(struct rvmsi_host *host);
int rvmsi_dev_set(const char *name, const u32 *mode, const u8 *lock);

/* rvmsi-nl.c */
void rvmsi_nl_notify_entries(const struct rvmsi_snapshot *snap, u32 reason);
void rvmsi_nl_notify_gone(const char *name, u32 rid);
void rvmsi_nl_notify_fault(const struct rvmsi_fault *f);
void rvmsi_nl_event_lost(void);

#endif
