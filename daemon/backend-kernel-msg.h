/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building and parsing the messages of the "rvmsi" generic netlink family
 * (include/uapi/linux/rvmsi.h). Pure functions: no socket, no I/O, no
 * logging, so that unit tests can feed them hand-built and malformed
 * messages. The socket side is backend-kernel.c.
 *
 * Every parser validates type, exact length and presence of each attribute
 * it needs and returns -EBADMSG on anything malformed, -EPROTO on a message
 * of an unexpected command. Builders return -ENOMEM/-EMSGSIZE. libnl's
 * -NLE_* codes never leave this module: kmsg_errno() converts them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/msg.h>

/* Longest device name we accept: PCI names are 12 bytes, give headroom. */
#define KMSG_NAME_MAX 64

typedef struct KernelHost {
        uint32_t nr_groups;
        uint32_t nr_harts;
        uint32_t nr_guest_files;
        uint32_t nr_ids;
        uint32_t nr_devices;
} KernelHost;

typedef struct KernelEntry {
        uint32_t index;
        uint32_t kind;          /* enum iommu_rvmsi_entry_kind */
        uint32_t group;
        uint32_t hart;
        uint32_t guest;
        int32_t cpu;
        uint32_t refcount;
        uint64_t notices;
} KernelEntry;

typedef struct KernelDevice {
        char name[KMSG_NAME_MAX];
        uint32_t rid;
        char iommu[KMSG_NAME_MAX];
        uint64_t caps;          /* enum iommu_rvmsi_cap bits */
        uint32_t mode;          /* enum iommu_rvmsi_mode */
        uint32_t isolation;     /* enum iommu_rvmsi_isolation */
        bool locked;
        bool user_bound;
        uint32_t nr_entries;
        uint32_t nr_irqs;
        uint32_t reason;        /* enum rvmsi_change_reason, 0 if absent (dumps) */
        bool has_nr_valid;      /* a kernel that counts the valid entries */
        uint32_t nr_valid;      /* valid entries in the whole table */
        bool entries_omitted;   /* ENTRY_NTF: too many to carry; dump by name */
        uint32_t table_users;   /* devices sharing its MSI table (0: a kernel that does not say) */
        bool has_event_seq;     /* events of a kernel that numbers them */
        uint32_t event_seq;
        KernelEntry *entries;   /* owned; sorted by index */
        size_t n_entries;
} KernelDevice;

typedef struct KernelFault {
        char dev_name[KMSG_NAME_MAX];   /* "" if the kernel matched no device */
        uint32_t rid;
        uint32_t cause;
        uint32_t ttyp;
        uint64_t addr;
        bool has_file;                  /* group/hart/guest are valid */
        uint32_t group;
        uint32_t hart;
        uint32_t guest;
        uint32_t suppressed;
        bool has_event_seq;
        uint32_t event_seq;
} KernelFault;

/*
 * The family numbers its events with one counter; a number that skips is an
 * event the kernel could not send (include/uapi/linux/rvmsi.h, "Lost
 * events"). Feed every event's number, in the order read, to
 * kmsg_event_seq_next(): it returns false when events are missing between
 * the last one and this one. An event without a number (an older kernel)
 * tells nothing and passes. kmsg_event_seq_reset() after a loss found
 * otherwise (ENOBUFS), so that the same loss is not reported twice.
 */
typedef struct KernelEventSeq {
        bool known;
        uint32_t last;
} KernelEventSeq;

bool kmsg_event_seq_next(KernelEventSeq *s, bool has_seq, uint32_t seq);
void kmsg_event_seq_reset(KernelEventSeq *s);

/* Reset and free the owned parts; the struct itself stays. NULL-safe. */
void kernel_device_done(KernelDevice *d);

/* Convert a libnl return value (0 or -NLE_*) to 0 or -errno. */
int kmsg_errno(int nle);

/* Message builders. family is the resolved genl family id. */
int kmsg_build_host_get(struct nl_msg *msg, int family);
/* Always a dump, of one device (name) or of all (NULL): a device with more
 * entries than a message holds comes as several messages, which
 * kmsg_dev_append() puts together. */
int kmsg_build_dev_get(struct nl_msg *msg, int family, const char *name);
/* mode < 0 and locked < 0 mean "leave as is"; at least one must be given. */
int kmsg_build_dev_set(struct nl_msg *msg, int family, const char *name, int mode, int locked);

/* Parsers. nlh must be a whole message of the family (the caller checks
 * nlmsg_type against the family id). */
int kmsg_get_cmd(const struct nlmsghdr *nlh, uint8_t *ret_cmd);
int kmsg_parse_host(const struct nlmsghdr *nlh, KernelHost *ret);
/* RVMSI_CMD_DEV_GET replies and RVMSI_CMD_ENTRY_NTF events. On success *ret
 * owns an entries array; release it with kernel_device_done(). */
int kmsg_parse_dev(const struct nlmsghdr *nlh, KernelDevice *ret);
int kmsg_parse_fault(const struct nlmsghdr *nlh, KernelFault *ret);

/* Append the entries of a dump's next message of the same device (*part,
 * emptied) to *d. -EBADMSG if it names another device or its entries do
 * not continue after d's last. */
int kmsg_dev_append(KernelDevice *d, KernelDevice *part);
/* True if a dumped device carries all the entries its count promises. */
bool kmsg_dev_complete(const KernelDevice *d);

/* Pure name checks shared with the rest of the daemon. */
bool kmsg_dev_name_valid(const char *name);
