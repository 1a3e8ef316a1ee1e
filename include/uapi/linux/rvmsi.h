/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rvmsi: MSI isolation and routing for the RISC-V IOMMU.
 *
 * Two interfaces share this header:
 *
 *  - iommufd ioctls, for whoever holds the iommufd a device is bound to
 *    (typically the VMM): query a device's MSI geometry and capabilities,
 *    set its delivery mode, read its MSI page table entries;
 *  - the "rvmsi" generic netlink family, for the host administrator (the
 *    rvmsid policy daemon): dump every device, set a device's mode and
 *    isolation lock, and receive events (entry changed, MSI fault).
 *
 * Userspace never names a physical address. Interrupt files are named
 * abstractly as (group, hart, guest) indexes of the IMSIC geometry, or by the
 * Linux CPU that owns the hart; MRIFs are owned and placed by the kernel.
 */
#ifndef _UAPI_LINUX_RVMSI_H
#define _UAPI_LINUX_RVMSI_H

#include <linux/types.h>
#include <linux/ioctl.h>

#ifndef IOMMUFD_TYPE
#define IOMMUFD_TYPE (';')
#endif

/**
 * DOC: rvmsi iommufd ioctl format
 *
 * The ioctls follow the iommufd conventions (see linux/iommufd.h, "General
 * ioctl format"): they are issued on the /dev/iommu file descriptor, every
 * struct starts with a __u32 size that userspace sets to sizeof(the struct it
 * was compiled with), followed by __u32 flags. The kernel accepts a shorter
 * struct down to the documented minimum and zero-extends it, and a longer one
 * if every byte it does not know is zero.
 *
 * Errno contract, common to every rvmsi ioctl:
 *
 *  - ENOTTY: the ioctl number is not known (kernel without rvmsi);
 *  - EINVAL: size is smaller than the minimum, or a field has a value out of
 *    its documented range (e.g. an unknown mode);
 *  - E2BIG: size is larger than the kernel's struct and a byte the kernel does
 *    not understand is not zero;
 *  - EOPNOTSUPP: a flag is not known, a __reserved field is not zero, or the
 *    request needs a capability the IOMMU or the kernel does not have (MRIF
 *    without MSI_MRIF, guest-file delivery without irqbypass);
 *  - ENOENT: dev_id does not name a device object of this iommufd;
 *  - ENODEV: the device has no MSI page table: its IOMMU lacks MSI_FLAT or
 *    a second-stage mode, so rvmsi cannot manage it;
 *  - EPERM: the request would weaken a device's isolation lock (identity
 *    delivery for a device locked to isolated delivery);
 *  - EMSGSIZE: an output array was too small; its count field tells the
 *    size needed and nothing beyond the given capacity was written;
 *  - EFAULT: a user pointer could not be accessed;
 *  - ENOMEM, EBUSY: as usual.
 *
 * A request that fails changes nothing.
 */

/*
 * The rvmsi commands sit in a block of their own, well away from the core
 * iommufd sequence (0x80...) and IOMMU_TEST_CMD (0xa0), so that core growth
 * cannot collide with them while the series is out of tree.
 */
enum {
	IOMMUFD_CMD_RVMSI_GET_INFO = 0xb0,
	IOMMUFD_CMD_RVMSI_SET_MODE = 0xb1,
	IOMMUFD_CMD_RVMSI_GET_ENTRIES = 0xb2,
};

/**
 * enum iommu_rvmsi_mode - How a device's MSIs are delivered
 * @IOMMU_RVMSI_MODE_OFF: No MSI page table: the IOMMU lacks MSI_FLAT or a
 *                        second-stage mode, or the device is not managed.
 *                        Reported only; cannot be set.
 * @IOMMU_RVMSI_MODE_BLOCKED: Every MSI page table entry is invalid; an MSI
 *                            write faults (cause 262) and is reported.
 * @IOMMU_RVMSI_MODE_IDENTITY: Basic-mode entries map the S-level interrupt
 *                             files of the harts in the effective affinity of
 *                             each of the device's IRQs, and follow affinity
 *                             changes. Those files are shared with other host
 *                             interrupts: not isolated.
 * @IOMMU_RVMSI_MODE_MRIF: Each file the device's IRQs target is replaced by a
 *                         kernel-owned memory-resident interrupt file; the
 *                         IOMMU's notice MSI goes to a host interrupt owned by
 *                         the kernel, which forwards the pending identities to
 *                         the device's own handlers. Isolated.
 * @IOMMU_RVMSI_MODE_GUEST_FILE: Entries map the guest interrupt files of the
 *                               vCPUs the vectors are bypassed to (irqbypass).
 *                               Reserved: EOPNOTSUPP until irqbypass exists.
 */
enum iommu_rvmsi_mode {
	IOMMU_RVMSI_MODE_OFF = 0,
	IOMMU_RVMSI_MODE_BLOCKED = 1,
	IOMMU_RVMSI_MODE_IDENTITY = 2,
	IOMMU_RVMSI_MODE_MRIF = 3,
	IOMMU_RVMSI_MODE_GUEST_FILE = 4,
};

/**
 * enum iommu_rvmsi_isolation - What a device's MSI page table allows, honestly
 * @IOMMU_RVMSI_ISOLATION_NONE: No MSI page table: the device can reach every
 *                              interrupt file its DMA translation reaches.
 * @IOMMU_RVMSI_ISOLATION_SHARED: Some entry maps a file shared with other
 *                                interrupt sources (identity mode). The
 *                                device can raise any identity there.
 * @IOMMU_RVMSI_ISOLATION_ISOLATED: Every entry is blocked, an MRIF owned by the
 *                                  device, or a guest file of the device's VM.
 * @IOMMU_RVMSI_ISOLATION_LOCKED: Isolated, and locked so by the administrator
 *                                since before the device was bound: its table
 *                                can only ever hold MRIF and blocked entries.
 */
enum iommu_rvmsi_isolation {
	IOMMU_RVMSI_ISOLATION_NONE = 0,
	IOMMU_RVMSI_ISOLATION_SHARED = 1,
	IOMMU_RVMSI_ISOLATION_ISOLATED = 2,
	IOMMU_RVMSI_ISOLATION_LOCKED = 3,
};

/**
 * enum iommu_rvmsi_cap - Capabilities of the IOMMU in front of a device
 * @IOMMU_RVMSI_CAP_MSI_FLAT: The IOMMU has MSI page tables (basic mode).
 * @IOMMU_RVMSI_CAP_MSI_MRIF: The IOMMU supports MRIF-mode entries.
 * @IOMMU_RVMSI_CAP_AMO_MRIF: MRIF pending bits are updated atomically.
 * @IOMMU_RVMSI_CAP_GUEST_FILE: Guest-file delivery (irqbypass) is available.
 */
enum iommu_rvmsi_cap {
	IOMMU_RVMSI_CAP_MSI_FLAT = 1 << 0,
	IOMMU_RVMSI_CAP_MSI_MRIF = 1 << 1,
	IOMMU_RVMSI_CAP_AMO_MRIF = 1 << 2,
	IOMMU_RVMSI_CAP_GUEST_FILE = 1 << 3,
};

/**
 * struct iommu_rvmsi_info - ioctl(IOMMU_RVMSI_GET_INFO)
 * @size: sizeof(struct iommu_rvmsi_info)
 * @flags: Must be 0
 * @dev_id: The device, as returned when it was bound to this iommufd
 * @__reserved: Must be 0
 * @out_capabilities: Bitmap of enum iommu_rvmsi_cap
 * @out_mode: Current enum iommu_rvmsi_mode
 * @out_isolation: Current enum iommu_rvmsi_isolation
 * @out_nr_groups: Number of IMSIC groups
 * @out_nr_harts: Number of harts with interrupt files, all groups together
 * @out_nr_guest_files: Guest interrupt file slots per hart in the IMSIC
 *                      geometry (what the MMIO layout provides; every slot
 *                      is covered by the table). KVM may use fewer: the
 *                      hart's GEILEN bounds how many it can hand to vCPUs
 * @out_nr_ids: Interrupt identities per file
 * @out_nr_entries: Entries in the device's MSI page table
 * @out_nr_valid: Entries currently valid (not blocked)
 *
 * Describe the MSI page table of one device. Only geometry, counts and modes
 * are reported: no physical address leaves the kernel.
 */
struct iommu_rvmsi_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 __reserved;
	__aligned_u64 out_capabilities;
	__u32 out_mode;
	__u32 out_isolation;
	__u32 out_nr_groups;
	__u32 out_nr_harts;
	__u32 out_nr_guest_files;
	__u32 out_nr_ids;
	__u32 out_nr_entries;
	__u32 out_nr_valid;
};
#define IOMMU_RVMSI_GET_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_RVMSI_GET_INFO)

/**
 * struct iommu_rvmsi_set_mode - ioctl(IOMMU_RVMSI_SET_MODE)
 * @size: sizeof(struct iommu_rvmsi_set_mode)
 * @flags: Must be 0
 * @dev_id: The device, as returned when it was bound to this iommufd
 * @mode: The new enum iommu_rvmsi_mode; IOMMU_RVMSI_MODE_OFF is not accepted
 *
 * Switch a device's MSI delivery. The kernel computes every entry itself from
 * the device's IRQs and their affinity. Switching never opens a window in
 * which a file the new mode does not allow is reachable: entries that lose
 * access are invalidated (and the invalidation fenced) before entries that
 * gain access are written.
 *
 * IOMMU_RVMSI_MODE_IDENTITY on a device with an isolation lock fails with
 * EPERM; IOMMU_RVMSI_MODE_MRIF without MSI_MRIF, and GUEST_FILE, fail with
 * EOPNOTSUPP.
 */
struct iommu_rvmsi_set_mode {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 mode;
};
#define IOMMU_RVMSI_SET_MODE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_RVMSI_SET_MODE)

/**
 * enum iommu_rvmsi_entry_kind - What one MSI page table entry does
 * @IOMMU_RVMSI_ENTRY_BLOCKED: Invalid (V=0); writes fault with cause 262.
 * @IOMMU_RVMSI_ENTRY_HOST_FILE: Basic mode to a host S-level interrupt file.
 * @IOMMU_RVMSI_ENTRY_GUEST_FILE: Basic mode to a guest interrupt file.
 * @IOMMU_RVMSI_ENTRY_MRIF: MRIF mode, to a kernel-owned MRIF of this device.
 */
enum iommu_rvmsi_entry_kind {
	IOMMU_RVMSI_ENTRY_BLOCKED = 0,
	IOMMU_RVMSI_ENTRY_HOST_FILE = 1,
	IOMMU_RVMSI_ENTRY_GUEST_FILE = 2,
	IOMMU_RVMSI_ENTRY_MRIF = 3,
};

/**
 * struct iommu_rvmsi_entry - One MSI page table entry, described abstractly
 * @index: Index in the device's MSI page table
 * @kind: enum iommu_rvmsi_entry_kind
 * @group: IMSIC group index of the file the index covers
 * @hart: Hart index within the group
 * @guest: 0 for the S-level file, 1..nr_guest_files for a guest file
 * @cpu: Linux CPU number owning that hart, or -1 if none is online
 * @refcount: For HOST_FILE entries, how many of the device's IRQs target the
 *            file; for MRIF entries, the number of IRQs routed through it
 * @__reserved: Zero
 * @notices: For MRIF entries, notice MSIs handled since the entry was made
 *
 * An entry always describes the interrupt file whose page the device writes
 * to (group, hart, guest): what the device believes it targets. @kind says
 * where the write really goes.
 */
struct iommu_rvmsi_entry {
	__u32 index;
	__u32 kind;
	__u32 group;
	__u32 hart;
	__u32 guest;
	__s32 cpu;
	__u32 refcount;
	__u32 __reserved;
	__aligned_u64 notices;
};

/**
 * struct iommu_rvmsi_get_entries - ioctl(IOMMU_RVMSI_GET_ENTRIES)
 * @size: sizeof(struct iommu_rvmsi_get_entries)
 * @flags: Must be 0
 * @dev_id: The device, as returned when it was bound to this iommufd
 * @num_entries: In: capacity of the array at @entries_uptr, in entries.
 *               Out: number of entries that are not blocked
 * @entry_len: sizeof(struct iommu_rvmsi_entry) as userspace knows it; the
 *             array stride. The kernel writes min(@entry_len, its own size)
 *             bytes of each entry and zero-fills the rest of the
 *             stride. Must be at least 40, the size of the first version,
 *             and at most 256 (EINVAL).
 * @__reserved: Must be 0
 * @entries_uptr: User pointer to an array of @num_entries entries
 *
 * Read the entries of a device's table that are not blocked, in index order.
 * If @num_entries is too small, fails with EMSGSIZE and sets @num_entries to
 * the count needed. Blocked entries are implicit: every index not returned is
 * blocked. The array is written in one copy; if that faults (EFAULT), the
 * kernel zeroes whatever of the array it can reach and leaves @num_entries
 * as it was, so no entry is ever left half-written.
 */
struct iommu_rvmsi_get_entries {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 num_entries;
	__u32 entry_len;
	__u32 __reserved;
	__aligned_u64 entries_uptr;
};
#define IOMMU_RVMSI_GET_ENTRIES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_RVMSI_GET_ENTRIES)

/**
 * DOC: rvmsi generic netlink family
 *
 * Family "rvmsi", version 1, specified in YNL
 * (Documentation/netlink/specs/rvmsi.yaml). The family exists only in the
 * initial network namespace: the tables are the host's, and a container's
 * namespace has no business with them. Every operation that changes
 * anything requires CAP_NET_ADMIN (GENL_ADMIN_PERM), and so does joining
 * the multicast group "events" (GENL_MCAST_CAP_NET_ADMIN), where the
 * host's IRQ moves and MSI faults are announced; reads are open to
 * everyone, because they reveal only geometry, modes and counts.
 *
 * Size: a message holds a bounded number of entries (32 today; a reader
 * must not depend on the number). The dump
 * (NLM_F_DUMP, optionally with RVMSI_A_DEV_NAME to select one device)
 * sends a device with more valid entries as several consecutive messages,
 * each carrying the device's attributes and the next entries in index
 * order; RVMSI_A_DEV_NR_VALID says how many there are in all. The do form
 * of DEV_GET refuses such a device with EMSGSIZE, and an ENTRY_NTF leaves
 * their entries out (RVMSI_A_DEV_ENTRIES_OMITTED). A dump that changes
 * sets NLM_F_DUMP_INTR on its messages: read it again.
 *
 * Devices are named by their kernel device name (for PCI, the
 * "domain:bus:device.function" string), which stays stable while the device
 * exists and is what sysfs, udev and libvirt use.
 *
 * Devices that share a requester ID (a DMA alias, e.g. behind a PCIe-to-PCI
 * bridge) share one MSI table and one mode: each is listed with the table's
 * state, RVMSI_A_DEV_TABLE_USERS says how many devices use it, and a
 * DEV_SET of one is a DEV_SET of all (each gets its ENTRY_NTF).
 *
 * Errors come back as negative errno in the netlink ack, with an extended ack
 * message naming the attribute: EINVAL (missing or malformed attribute),
 * ENODEV (no such device, or no MSI table), EOPNOTSUPP (mode not supported),
 * EPERM (missing CAP_NET_ADMIN, or identity on a locked device), EBUSY
 * (isolation lock changed while the device is bound to a user), EMSGSIZE
 * (DEV_GET do: more entries than one message holds).
 *
 * Consistency: an IRQ move completes in two steps, the new entry before the
 * device is repointed, the old one released a moment later (from an
 * irq_work, once the device has the new message). DEV_GET, the state an
 * ENTRY_NTF carries, GET_INFO and GET_ENTRIES first wait for the second
 * step of every move that has begun, so they never show a completed move
 * half done. A change that runs concurrently with a read is followed by an
 * ENTRY_NTF of its own, taken after it.
 *
 * Lost events: every event carries an event number (RVMSI_A_DEV_EVENT_SEQ,
 * RVMSI_A_FAULT_EVENT_SEQ), one counter for the family, incremented (modulo
 * 2^32) for each event the kernel meant to send while anyone listened,
 * whether it could be sent or not. A listener that finds a number skipped,
 * or reads ENOBUFS from its socket (its receive buffer overflowed), has
 * lost events and must dump again to learn the state.
 */
#define RVMSI_FAMILY_NAME	"rvmsi"
#define RVMSI_FAMILY_VERSION	1
#define RVMSI_MCGRP_EVENTS	"events"

/**
 * enum rvmsi_change_reason - Why an entry changed (RVMSI_A_DEV_REASON)
 * @RVMSI_REASON_IRQ_ALLOC: An IRQ of the device was set up
 * @RVMSI_REASON_IRQ_FREE: An IRQ of the device was torn down
 * @RVMSI_REASON_AFFINITY: An IRQ's effective affinity moved
 * @RVMSI_REASON_MODE: The device's mode was changed
 * @RVMSI_REASON_DEV_GONE: The device went away; all its entries are gone
 */
enum rvmsi_change_reason {
	RVMSI_REASON_IRQ_ALLOC = 1,
	RVMSI_REASON_IRQ_FREE = 2,
	RVMSI_REASON_AFFINITY = 3,
	RVMSI_REASON_MODE = 4,
	RVMSI_REASON_DEV_GONE = 5,
};

/**
 * enum rvmsi_fault_cause - MSI-related IOMMU fault causes (RVMSI_A_FAULT_CAUSE)
 *
 * The values are the RISC-V IOMMU specification's CAUSE codes.
 */
enum rvmsi_fault_cause {
	RVMSI_FAULT_MSI_PTE_LOAD_ACCESS = 261,
	RVMSI_FAULT_MSI_PTE_INVALID = 262,
	RVMSI_FAULT_MSI_PTE_MISCONFIGURED = 263,
	RVMSI_FAULT_MRIF_ACCESS = 264,
	RVMSI_FAULT_MSI_PT_CORRUPTION = 270,
	RVMSI_FAULT_MRIF_CORRUPTION = 271,
	RVMSI_FAULT_MSI_WRITE_ACCESS = 273,
};

/* Attributes of the "host" set: the IMSIC geometry as the kernel found it. */
enum {
	RVMSI_A_HOST_NR_GROUPS = 1,		/* u32 */
	RVMSI_A_HOST_NR_HARTS,			/* u32 */
	RVMSI_A_HOST_NR_GUEST_FILES,		/* u32 */
	RVMSI_A_HOST_NR_IDS,			/* u32 */
	RVMSI_A_HOST_NR_DEVICES,		/* u32: devices with an MSI table */

	__RVMSI_A_HOST_MAX,
	RVMSI_A_HOST_MAX = (__RVMSI_A_HOST_MAX - 1)
};

/* Attributes of the "entry" set; mirrors struct iommu_rvmsi_entry. */
enum {
	RVMSI_A_ENTRY_INDEX = 1,		/* u32 */
	RVMSI_A_ENTRY_KIND,			/* u32, enum iommu_rvmsi_entry_kind */
	RVMSI_A_ENTRY_GROUP,			/* u32 */
	RVMSI_A_ENTRY_HART,			/* u32 */
	RVMSI_A_ENTRY_GUEST,			/* u32 */
	RVMSI_A_ENTRY_CPU,			/* s32, -1: no online CPU */
	RVMSI_A_ENTRY_REFCOUNT,			/* u32 */
	RVMSI_A_ENTRY_NOTICES,			/* u64 */

	__RVMSI_A_ENTRY_MAX,
	RVMSI_A_ENTRY_MAX = (__RVMSI_A_ENTRY_MAX - 1)
};

/* Attributes of the "dev" set. */
enum {
	RVMSI_A_DEV_NAME = 1,			/* string, e.g. "0000:00:03.0" */
	RVMSI_A_DEV_RID,			/* u32, requester ID (device context ID) */
	RVMSI_A_DEV_IOMMU,			/* string, the IOMMU's device name */
	RVMSI_A_DEV_CAPS,			/* u64, enum iommu_rvmsi_cap bits */
	RVMSI_A_DEV_MODE,			/* u32, enum iommu_rvmsi_mode */
	RVMSI_A_DEV_ISOLATION,			/* u32, enum iommu_rvmsi_isolation */
	RVMSI_A_DEV_LOCKED,			/* u8, isolation lock (0/1) */
	RVMSI_A_DEV_USER_BOUND,			/* u8, bound to iommufd/VFIO (0/1) */
	RVMSI_A_DEV_NR_ENTRIES,			/* u32, table size */
	RVMSI_A_DEV_NR_IRQS,			/* u32, IRQs the kernel routes */
	RVMSI_A_DEV_ENTRY,			/* nest "entry", multi-attr */
	RVMSI_A_DEV_REASON,			/* u32, enum rvmsi_change_reason */
	RVMSI_A_DEV_EVENT_SEQ,			/* u32, ENTRY_NTF: event number */
	RVMSI_A_DEV_NR_VALID,			/* u32, valid entries in the table */
	RVMSI_A_DEV_ENTRIES_OMITTED,		/* flag, ENTRY_NTF: dump for them */
	RVMSI_A_DEV_TABLE_USERS,		/* u32, devices sharing the table */

	__RVMSI_A_DEV_MAX,
	RVMSI_A_DEV_MAX = (__RVMSI_A_DEV_MAX - 1)
};

/* Attributes of the "fault" set. */
enum {
	RVMSI_A_FAULT_DEV_NAME = 1,		/* string, "" if no device matches */
	RVMSI_A_FAULT_RID,			/* u32, device ID from the record */
	RVMSI_A_FAULT_CAUSE,			/* u32, enum rvmsi_fault_cause */
	RVMSI_A_FAULT_TTYP,			/* u32, transaction type */
	RVMSI_A_FAULT_ADDR,			/* u64, iotval: the address written */
	RVMSI_A_FAULT_GROUP,			/* u32, file the address names, */
	RVMSI_A_FAULT_HART,			/* u32  if it names one          */
	RVMSI_A_FAULT_GUEST,			/* u32                          */
	RVMSI_A_FAULT_SUPPRESSED,		/* u32, records rate-limited since */
						/*      the previous event         */
	RVMSI_A_FAULT_EVENT_SEQ,		/* u32, event number */

	__RVMSI_A_FAULT_MAX,
	RVMSI_A_FAULT_MAX = (__RVMSI_A_FAULT_MAX - 1)
};

enum {
	RVMSI_CMD_HOST_GET = 1,		/* do: the "host" set */
	RVMSI_CMD_DEV_GET,		/* do or dump, by RVMSI_A_DEV_NAME or all */
	RVMSI_CMD_DEV_SET,		/* do, admin: NAME + MODE and/or LOCKED */
	RVMSI_CMD_ENTRY_NTF,		/* event: "dev" with REASON and ENTRY */
	RVMSI_CMD_FAULT_NTF,		/* event: "fault" */

	__RVMSI_CMD_MAX,
	RVMSI_CMD_MAX = (__RVMSI_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_RVMSI_H */
