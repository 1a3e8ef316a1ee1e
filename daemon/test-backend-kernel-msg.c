/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the rvmsi genl message builders and parsers, on messages
 * built by hand with libnl: well-formed replies and events, and broken ones
 * (missing attributes, wrong sizes, bad values, truncation, wrong command)
 * that must all give a clean error and leave the output untouched.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rvmsi.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/genl/genl.h>

#include "backend-kernel.h"
#include "backend-kernel-msg.h"
#include "tests.h"

#define FAMILY 0x1d

static struct nl_msg *new_msg(uint8_t cmd) {
        struct nl_msg *m = nlmsg_alloc();

        if (!m || !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, FAMILY, 0, 0, cmd, RVMSI_FAMILY_VERSION)) {
                fprintf(stderr, "out of memory\n");
                exit(EXIT_FAILURE);
        }
        return m;
}

static void put_host(struct nl_msg *m, int skip) {
        for (int a = RVMSI_A_HOST_NR_GROUPS; a <= RVMSI_A_HOST_NR_DEVICES; a++)
                if (a != skip)
                        nla_put_u32(m, a, a == RVMSI_A_HOST_NR_IDS ? 255 : (uint32_t) a + 1);
}

TEST(host) {
        struct nl_msg *m;
        KernelHost h, sentinel = { .nr_groups = 77 };

        m = new_msg(RVMSI_CMD_HOST_GET);
        put_host(m, 0);
        ASSERT_EQ(kmsg_parse_host(nlmsg_hdr(m), &h), 0);
        ASSERT_EQ(h.nr_groups, 2);
        ASSERT_EQ(h.nr_harts, 3);
        ASSERT_EQ(h.nr_guest_files, 4);
        ASSERT_EQ(h.nr_ids, 255);
        ASSERT_EQ(h.nr_devices, 6);
        nlmsg_free(m);

        /* each mandatory attribute missing in turn */
        for (int a = RVMSI_A_HOST_NR_GROUPS; a <= RVMSI_A_HOST_NR_IDS; a++) {
                h = sentinel;
                m = new_msg(RVMSI_CMD_HOST_GET);
                put_host(m, a);
                ASSERT_EQ(kmsg_parse_host(nlmsg_hdr(m), &h), -EBADMSG);
                ASSERT_EQ(h.nr_groups, 77);
                nlmsg_free(m);
        }

        /* NR_DEVICES is optional */
        m = new_msg(RVMSI_CMD_HOST_GET);
        put_host(m, RVMSI_A_HOST_NR_DEVICES);
        ASSERT_EQ(kmsg_parse_host(nlmsg_hdr(m), &h), 0);
        ASSERT_EQ(h.nr_devices, 0);
        nlmsg_free(m);

        /* a u64 where a u32 belongs */
        m = new_msg(RVMSI_CMD_HOST_GET);
        nla_put_u64(m, RVMSI_A_HOST_NR_GROUPS, 1);
        nla_put_u32(m, RVMSI_A_HOST_NR_HARTS, 4);
        nla_put_u32(m, RVMSI_A_HOST_NR_GUEST_FILES, 5);
        nla_put_u32(m, RVMSI_A_HOST_NR_IDS, 255);
        ASSERT_EQ(kmsg_parse_host(nlmsg_hdr(m), &h), -EBADMSG);
        nlmsg_free(m);

        /* a u16 where a u32 belongs (policy minimum) */
        m = new_msg(RVMSI_CMD_HOST_GET);
        nla_put_u16(m, RVMSI_A_HOST_NR_GROUPS, 1);
        nla_put_u32(m, RVMSI_A_HOST_NR_HARTS, 4);
        nla_put_u32(m, RVMSI_A_HOST_NR_GUEST_FILES, 5);
        nla_put_u32(m, RVMSI_A_HOST_NR_IDS, 255);
        ASSERT_EQ(kmsg_parse_host(nlmsg_hdr(m), &h), -EBADMSG);
        nlmsg_free(m);

        /* zero harts is not a geometry */
        m = new_msg(RVMSI_CMD_HOST_GET);
        nla_put_u32(m, RVMSI_A_HOST_NR_GROUPS, 1);
        nla_put_u32(m, RVMSI_A_HOST_NR_HARTS, 0);
        nla_put_u32(m, RVMSI_A_HOST_NR_GUEST_FILES, 5);
        nla_put_u32(m, RVMSI_A_HOST_NR_IDS, 255);
        ASSERT_EQ(kmsg_parse_host(nlmsg_hdr(m), &h), -EBADMSG);
        nlmsg_free(m);

        /* wrong command */
        m = new_msg(RVMSI_CMD_DEV_GET);
        put_host(m, 0);
        ASSERT_EQ(kmsg_parse_host(nlmsg_hdr(m), &h), -EPROTO);
        nlmsg_free(m);

        /* a message too short to hold the genl header */
        m = new_msg(RVMSI_CMD_HOST_GET);
        nlmsg_hdr(m)->nlmsg_len = NLMSG_HDRLEN + 2;
        ASSERT_EQ(kmsg_parse_host(nlmsg_hdr(m), &h), -EBADMSG);
        nlmsg_free(m);
}

static void put_entry(struct nl_msg *m, uint32_t index, uint32_t kind, uint32_t hart, int32_t cpu, int skip) {
        struct nlattr *nest = nla_nest_start(m, RVMSI_A_DEV_ENTRY);

        if (skip != RVMSI_A_ENTRY_INDEX)
                nla_put_u32(m, RVMSI_A_ENTRY_INDEX, index);
        if (skip != RVMSI_A_ENTRY_KIND)
                nla_put_u32(m, RVMSI_A_ENTRY_KIND, kind);
        if (skip != RVMSI_A_ENTRY_GROUP)
                nla_put_u32(m, RVMSI_A_ENTRY_GROUP, 0);
        if (skip != RVMSI_A_ENTRY_HART)
                nla_put_u32(m, RVMSI_A_ENTRY_HART, hart);
        if (skip != RVMSI_A_ENTRY_GUEST)
                nla_put_u32(m, RVMSI_A_ENTRY_GUEST, 0);
        nla_put_s32(m, RVMSI_A_ENTRY_CPU, cpu);
        nla_put_u32(m, RVMSI_A_ENTRY_REFCOUNT, 2);
        nla_put_u64(m, RVMSI_A_ENTRY_NOTICES, 1ULL << 40);
        nla_nest_end(m, nest);
}

static struct nl_msg *dev_msg(uint8_t cmd, const char *name) {
        struct nl_msg *m = new_msg(cmd);

        if (name)
                nla_put_string(m, RVMSI_A_DEV_NAME, name);
        nla_put_u32(m, RVMSI_A_DEV_RID, 0x18);
        nla_put_string(m, RVMSI_A_DEV_IOMMU, "0000:00:01.0");
        nla_put_u64(m, RVMSI_A_DEV_CAPS, IOMMU_RVMSI_CAP_MSI_FLAT | IOMMU_RVMSI_CAP_MSI_MRIF);
        nla_put_u32(m, RVMSI_A_DEV_MODE, IOMMU_RVMSI_MODE_IDENTITY);
        nla_put_u32(m, RVMSI_A_DEV_ISOLATION, IOMMU_RVMSI_ISOLATION_SHARED);
        nla_put_u8(m, RVMSI_A_DEV_LOCKED, 0);
        nla_put_u8(m, RVMSI_A_DEV_USER_BOUND, 1);
        nla_put_u32(m, RVMSI_A_DEV_NR_ENTRIES, 8);
        nla_put_u32(m, RVMSI_A_DEV_NR_IRQS, 3);
        return m;
}

TEST(dev) {
        KernelDevice d = {};
        struct nl_msg *m;

        /* a dump reply with entries out of order */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        put_entry(m, 5, IOMMU_RVMSI_ENTRY_HOST_FILE, 3, 3, 0);
        put_entry(m, 1, IOMMU_RVMSI_ENTRY_MRIF, 1, -1, 0);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), 0);
        ASSERT_TRUE(strcmp(d.name, "0000:00:03.0") == 0);
        ASSERT_TRUE(strcmp(d.iommu, "0000:00:01.0") == 0);
        ASSERT_EQ(d.rid, 0x18);
        ASSERT_EQ(d.mode, IOMMU_RVMSI_MODE_IDENTITY);
        ASSERT_EQ(d.isolation, IOMMU_RVMSI_ISOLATION_SHARED);
        ASSERT_EQ(d.locked, 0);
        ASSERT_EQ(d.user_bound, 1);
        ASSERT_EQ(d.nr_irqs, 3);
        ASSERT_EQ(d.reason, 0);
        ASSERT_EQ(d.n_entries, 2);
        if (d.n_entries == 2) {
                ASSERT_EQ(d.entries[0].index, 1);
                ASSERT_EQ(d.entries[0].kind, IOMMU_RVMSI_ENTRY_MRIF);
                ASSERT_EQ(d.entries[0].cpu, -1);
                ASSERT_EQ(d.entries[1].index, 5);
                ASSERT_EQ(d.entries[1].hart, 3);
                ASSERT_EQ(d.entries[1].cpu, 3);
                ASSERT_EQ(d.entries[1].refcount, 2);
                ASSERT_EQ(d.entries[1].notices, 1ULL << 40);
        }
        kernel_device_done(&d);
        ASSERT_TRUE(d.entries == NULL);
        nlmsg_free(m);

        /* an event needs a reason ... */
        m = dev_msg(RVMSI_CMD_ENTRY_NTF, "0000:00:03.0");
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nla_put_u32(m, RVMSI_A_DEV_REASON, RVMSI_REASON_AFFINITY);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), 0);
        ASSERT_EQ(d.reason, RVMSI_REASON_AFFINITY);
        ASSERT_EQ(d.n_entries, 0);
        ASSERT_FALSE(d.has_event_seq);
        kernel_device_done(&d);
        /* ... and may carry its number (a newer kernel) */
        nla_put_u32(m, RVMSI_A_DEV_EVENT_SEQ, 0xfffffffe);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), 0);
        ASSERT_TRUE(d.has_event_seq);
        ASSERT_EQ(d.event_seq, 0xfffffffe);
        kernel_device_done(&d);
        nlmsg_free(m);

        /* an event number in a reply, or one of the wrong size */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_DEV_EVENT_SEQ, 1);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);
        m = dev_msg(RVMSI_CMD_ENTRY_NTF, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_DEV_REASON, RVMSI_REASON_MODE);
        nla_put_u64(m, RVMSI_A_DEV_EVENT_SEQ, 1);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* ... from the known set */
        m = dev_msg(RVMSI_CMD_ENTRY_NTF, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_DEV_REASON, 99);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* no name */
        m = dev_msg(RVMSI_CMD_DEV_GET, NULL);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* an empty name, a name with a slash */
        m = dev_msg(RVMSI_CMD_DEV_GET, "");
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);
        m = dev_msg(RVMSI_CMD_DEV_GET, "../../etc");
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* a name without its terminating NUL */
        m = new_msg(RVMSI_CMD_DEV_GET);
        nla_put(m, RVMSI_A_DEV_NAME, 4, "abcd");
        nla_put_u32(m, RVMSI_A_DEV_MODE, IOMMU_RVMSI_MODE_BLOCKED);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* a name with an embedded NUL */
        m = new_msg(RVMSI_CMD_DEV_GET);
        nla_put(m, RVMSI_A_DEV_NAME, 6, "ab\0cd");
        nla_put_u32(m, RVMSI_A_DEV_MODE, IOMMU_RVMSI_MODE_BLOCKED);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* a name longer than we accept */
        {
                char longname[KMSG_NAME_MAX + 10];

                memset(longname, 'a', sizeof(longname) - 1);
                longname[sizeof(longname) - 1] = 0;
                m = dev_msg(RVMSI_CMD_DEV_GET, longname);
                ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
                nlmsg_free(m);
        }

        /* mode missing, mode out of range */
        m = new_msg(RVMSI_CMD_DEV_GET);
        nla_put_string(m, RVMSI_A_DEV_NAME, "0000:00:03.0");
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nla_put_u32(m, RVMSI_A_DEV_MODE, 17);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* LOCKED must be 0/1 and a u8 */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        nla_put_u8(m, RVMSI_A_DEV_LOCKED, 2);   /* the later one wins in genlmsg_parse */
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);
        m = new_msg(RVMSI_CMD_DEV_GET);
        nla_put_string(m, RVMSI_A_DEV_NAME, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_DEV_MODE, IOMMU_RVMSI_MODE_BLOCKED);
        nla_put_u32(m, RVMSI_A_DEV_LOCKED, 1);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* each mandatory entry attribute missing in turn */
        for (int skip = RVMSI_A_ENTRY_INDEX; skip <= RVMSI_A_ENTRY_GUEST; skip++) {
                m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
                put_entry(m, 1, IOMMU_RVMSI_ENTRY_HOST_FILE, 0, 0, 0);
                put_entry(m, 2, IOMMU_RVMSI_ENTRY_HOST_FILE, 1, 1, skip);
                d.entries = NULL;
                ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
                ASSERT_TRUE(d.entries == NULL);
                nlmsg_free(m);
        }

        /* entry kind out of range, duplicate index, index beyond the table */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        put_entry(m, 1, 9, 0, 0, 0);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        put_entry(m, 1, IOMMU_RVMSI_ENTRY_HOST_FILE, 0, 0, 0);
        put_entry(m, 1, IOMMU_RVMSI_ENTRY_MRIF, 1, 1, 0);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        put_entry(m, 8, IOMMU_RVMSI_ENTRY_HOST_FILE, 0, 0, 0);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* cpu below -1 */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        put_entry(m, 1, IOMMU_RVMSI_ENTRY_HOST_FILE, 0, -5, 0);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* an entry that is not a nest: a bare u32 */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_DEV_ENTRY, 1);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* truncated: the message length cuts the last entry in half. The
         * entry nest then claims more bytes than the message has; libnl
         * would stop there quietly and report one entry, which would make
         * the lost one look blocked. */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        put_entry(m, 1, IOMMU_RVMSI_ENTRY_HOST_FILE, 0, 0, 0);
        put_entry(m, 2, IOMMU_RVMSI_ENTRY_HOST_FILE, 1, 1, 0);
        nlmsg_hdr(m)->nlmsg_len -= 20;
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* truncated inside a nest: the last attribute of the last entry
         * claims 4 bytes more than its nest holds */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        put_entry(m, 1, IOMMU_RVMSI_ENTRY_HOST_FILE, 0, 0, 0);
        {
                struct nlattr *nest = nla_nest_start(m, RVMSI_A_DEV_ENTRY);
                struct nlattr *last;

                nla_put_u32(m, RVMSI_A_ENTRY_INDEX, 2);
                nla_put_u32(m, RVMSI_A_ENTRY_KIND, IOMMU_RVMSI_ENTRY_HOST_FILE);
                nla_put_u32(m, RVMSI_A_ENTRY_GROUP, 0);
                nla_put_u32(m, RVMSI_A_ENTRY_HART, 1);
                nla_put_u32(m, RVMSI_A_ENTRY_GUEST, 0);
                last = (struct nlattr *) ((char *) nlmsg_hdr(m) + nlmsg_hdr(m)->nlmsg_len);
                nla_put_u32(m, RVMSI_A_ENTRY_REFCOUNT, 1);
                nla_nest_end(m, nest);
                last->nla_len += 4;
        }
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* the wrong command */
        m = dev_msg(RVMSI_CMD_FAULT_NTF, "0000:00:03.0");
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EPROTO);
        nlmsg_free(m);
}

/* The number of devices that share the table: absent is 0 (an older kernel), present is read. */
TEST(dev_table_users) {
        KernelDevice d = {};
        struct nl_msg *m;

        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:01:01.0");
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), 0);
        nlmsg_free(m);
        ASSERT_EQ(d.table_users, 0U);
        kernel_device_done(&d);

        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:01:01.0");
        nla_put_u32(m, RVMSI_A_DEV_TABLE_USERS, 2);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), 0);
        nlmsg_free(m);
        ASSERT_EQ(d.table_users, 2U);
        kernel_device_done(&d);

        /* the wrong size is refused */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:01:01.0");
        nla_put_u8(m, RVMSI_A_DEV_TABLE_USERS, 2);
        ASSERT_TRUE(kmsg_parse_dev(nlmsg_hdr(m), &d) < 0);
        nlmsg_free(m);
}

/* A device whose entries span messages, as the kernel dumps it. */
TEST(dev_in_parts) {
        KernelDevice d = {}, part = {};
        struct nl_msg *m;

        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_DEV_NR_VALID, 3);
        put_entry(m, 1, IOMMU_RVMSI_ENTRY_HOST_FILE, 1, 1, 0);
        put_entry(m, 2, IOMMU_RVMSI_ENTRY_HOST_FILE, 2, 2, 0);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), 0);
        nlmsg_free(m);
        ASSERT_TRUE(d.has_nr_valid);
        ASSERT_EQ(d.nr_valid, 3U);
        ASSERT_EQ(d.n_entries, 2U);
        ASSERT_FALSE(kmsg_dev_complete(&d));

        /* the next message must continue after the last index */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_DEV_NR_VALID, 3);
        put_entry(m, 2, IOMMU_RVMSI_ENTRY_HOST_FILE, 2, 2, 0);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &part), 0);
        nlmsg_free(m);
        ASSERT_EQ(kmsg_dev_append(&d, &part), -EBADMSG);
        ASSERT_EQ(d.n_entries, 2U);
        kernel_device_done(&part);

        /* another device's message is not a continuation */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:04.0");
        put_entry(m, 7, IOMMU_RVMSI_ENTRY_HOST_FILE, 3, 3, 0);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &part), 0);
        nlmsg_free(m);
        ASSERT_EQ(kmsg_dev_append(&d, &part), -EBADMSG);
        kernel_device_done(&part);

        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_DEV_NR_VALID, 3);
        put_entry(m, 5, IOMMU_RVMSI_ENTRY_MRIF, 0, -1, 0);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &part), 0);
        nlmsg_free(m);
        ASSERT_EQ(kmsg_dev_append(&d, &part), 0);
        ASSERT_EQ(part.n_entries, 0U);
        ASSERT_EQ(d.n_entries, 3U);
        ASSERT_EQ(d.entries[0].index, 1U);
        ASSERT_EQ(d.entries[2].index, 5U);
        ASSERT_EQ(d.entries[2].kind, (uint32_t) IOMMU_RVMSI_ENTRY_MRIF);
        ASSERT_TRUE(kmsg_dev_complete(&d));
        kernel_device_done(&d);

        /* an event too large for its entries says so, and carries none */
        m = dev_msg(RVMSI_CMD_ENTRY_NTF, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_DEV_REASON, RVMSI_REASON_AFFINITY);
        nla_put_u32(m, RVMSI_A_DEV_NR_VALID, 40);
        nla_put_flag(m, RVMSI_A_DEV_ENTRIES_OMITTED);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), 0);
        ASSERT_TRUE(d.entries_omitted);
        ASSERT_EQ(d.n_entries, 0U);
        kernel_device_done(&d);
        put_entry(m, 1, IOMMU_RVMSI_ENTRY_HOST_FILE, 1, 1, 0);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);

        /* only an event may omit its entries */
        m = dev_msg(RVMSI_CMD_DEV_GET, "0000:00:03.0");
        nla_put_flag(m, RVMSI_A_DEV_ENTRIES_OMITTED);
        ASSERT_EQ(kmsg_parse_dev(nlmsg_hdr(m), &d), -EBADMSG);
        nlmsg_free(m);
}

TEST(fault) {
        KernelFault f = {}, sentinel = { .cause = 1 };
        struct nl_msg *m;

        m = new_msg(RVMSI_CMD_FAULT_NTF);
        nla_put_string(m, RVMSI_A_FAULT_DEV_NAME, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_FAULT_RID, 0x18);
        nla_put_u32(m, RVMSI_A_FAULT_CAUSE, RVMSI_FAULT_MSI_PTE_INVALID);
        nla_put_u32(m, RVMSI_A_FAULT_TTYP, 6);
        nla_put_u64(m, RVMSI_A_FAULT_ADDR, 0x28001000ULL);
        nla_put_u32(m, RVMSI_A_FAULT_GROUP, 0);
        nla_put_u32(m, RVMSI_A_FAULT_HART, 1);
        nla_put_u32(m, RVMSI_A_FAULT_GUEST, 0);
        nla_put_u32(m, RVMSI_A_FAULT_SUPPRESSED, 3);
        ASSERT_EQ(kmsg_parse_fault(nlmsg_hdr(m), &f), 0);
        ASSERT_TRUE(strcmp(f.dev_name, "0000:00:03.0") == 0);
        ASSERT_EQ(f.cause, 262);
        ASSERT_EQ(f.addr, 0x28001000ULL);
        ASSERT_EQ(f.has_file, 1);
        ASSERT_EQ(f.hart, 1);
        ASSERT_EQ(f.suppressed, 3);
        ASSERT_FALSE(f.has_event_seq);
        nla_put_u32(m, RVMSI_A_FAULT_EVENT_SEQ, 42);
        ASSERT_EQ(kmsg_parse_fault(nlmsg_hdr(m), &f), 0);
        ASSERT_TRUE(f.has_event_seq);
        ASSERT_EQ(f.event_seq, 42);
        nlmsg_free(m);

        /* no device matched, no file named: still a fault */
        m = new_msg(RVMSI_CMD_FAULT_NTF);
        nla_put_string(m, RVMSI_A_FAULT_DEV_NAME, "");
        nla_put_u32(m, RVMSI_A_FAULT_RID, 0x99);
        nla_put_u32(m, RVMSI_A_FAULT_CAUSE, RVMSI_FAULT_MSI_WRITE_ACCESS);
        nla_put_u64(m, RVMSI_A_FAULT_ADDR, 0xdead0000ULL);
        ASSERT_EQ(kmsg_parse_fault(nlmsg_hdr(m), &f), 0);
        ASSERT_EQ(f.dev_name[0], 0);
        ASSERT_EQ(f.has_file, 0);
        nlmsg_free(m);

        /* a cause that is not an MSI cause */
        f = sentinel;
        m = new_msg(RVMSI_CMD_FAULT_NTF);
        nla_put_u32(m, RVMSI_A_FAULT_RID, 0x99);
        nla_put_u32(m, RVMSI_A_FAULT_CAUSE, 5);
        nla_put_u64(m, RVMSI_A_FAULT_ADDR, 0);
        ASSERT_EQ(kmsg_parse_fault(nlmsg_hdr(m), &f), -EBADMSG);
        ASSERT_EQ(f.cause, 1);
        nlmsg_free(m);

        /* a file named in part */
        m = new_msg(RVMSI_CMD_FAULT_NTF);
        nla_put_u32(m, RVMSI_A_FAULT_RID, 0x99);
        nla_put_u32(m, RVMSI_A_FAULT_CAUSE, 262);
        nla_put_u64(m, RVMSI_A_FAULT_ADDR, 0);
        nla_put_u32(m, RVMSI_A_FAULT_HART, 1);
        ASSERT_EQ(kmsg_parse_fault(nlmsg_hdr(m), &f), -EBADMSG);
        nlmsg_free(m);

        /* address as a u32 */
        m = new_msg(RVMSI_CMD_FAULT_NTF);
        nla_put_u32(m, RVMSI_A_FAULT_RID, 0x99);
        nla_put_u32(m, RVMSI_A_FAULT_CAUSE, 262);
        nla_put_u32(m, RVMSI_A_FAULT_ADDR, 0);
        ASSERT_EQ(kmsg_parse_fault(nlmsg_hdr(m), &f), -EBADMSG);
        nlmsg_free(m);

        /* missing cause */
        m = new_msg(RVMSI_CMD_FAULT_NTF);
        nla_put_u32(m, RVMSI_A_FAULT_RID, 0x99);
        nla_put_u64(m, RVMSI_A_FAULT_ADDR, 0);
        ASSERT_EQ(kmsg_parse_fault(nlmsg_hdr(m), &f), -EBADMSG);
        nlmsg_free(m);
}

/* Event numbers: consecutive ones pass, across the wrap too; a skipped one (or an
 * older one, read out of order) is a loss; an event without one tells nothing. */
TEST(event_seq) {
        KernelEventSeq s = {};

        ASSERT_TRUE(kmsg_event_seq_next(&s, true, 17));         /* the first one seen */
        ASSERT_TRUE(kmsg_event_seq_next(&s, true, 18));
        ASSERT_TRUE(kmsg_event_seq_next(&s, false, 0));
        ASSERT_TRUE(kmsg_event_seq_next(&s, true, 19));
        ASSERT_FALSE(kmsg_event_seq_next(&s, true, 21));        /* 20 was lost */
        ASSERT_TRUE(kmsg_event_seq_next(&s, true, 22));         /* reported once */
        ASSERT_FALSE(kmsg_event_seq_next(&s, true, 22));        /* a repeat is no successor */

        s = (KernelEventSeq) {};
        ASSERT_TRUE(kmsg_event_seq_next(&s, true, UINT32_MAX));
        ASSERT_TRUE(kmsg_event_seq_next(&s, true, 0));
        ASSERT_FALSE(kmsg_event_seq_next(&s, true, 2));

        /* After a loss found otherwise (ENOBUFS), the next number starts afresh. */
        kmsg_event_seq_reset(&s);
        ASSERT_TRUE(kmsg_event_seq_next(&s, true, 90));
        ASSERT_TRUE(kmsg_event_seq_next(&s, true, 91));
}

TEST(build) {
        struct nlattr *tb[RVMSI_A_DEV_MAX + 1];
        struct genlmsghdr *g;
        struct nl_msg *m;

        m = nlmsg_alloc();
        ASSERT_EQ(kmsg_build_dev_get(m, FAMILY, NULL), 0);
        g = nlmsg_data(nlmsg_hdr(m));
        ASSERT_EQ(g->cmd, RVMSI_CMD_DEV_GET);
        ASSERT_EQ(g->version, RVMSI_FAMILY_VERSION);
        ASSERT_EQ(nlmsg_hdr(m)->nlmsg_type, FAMILY);
        ASSERT_TRUE(nlmsg_hdr(m)->nlmsg_flags & NLM_F_DUMP);
        ASSERT_EQ(genlmsg_attrlen(g, 0), 0);
        nlmsg_free(m);

        m = nlmsg_alloc();
        ASSERT_EQ(kmsg_build_dev_get(m, FAMILY, "0000:00:03.0"), 0);
        /* one device is a dump too: its entries may span several messages */
        ASSERT_TRUE(nlmsg_hdr(m)->nlmsg_flags & NLM_F_DUMP);
        ASSERT_EQ(genlmsg_parse(nlmsg_hdr(m), 0, tb, RVMSI_A_DEV_MAX, NULL), 0);
        ASSERT_TRUE(tb[RVMSI_A_DEV_NAME] && strcmp(nla_get_string(tb[RVMSI_A_DEV_NAME]), "0000:00:03.0") == 0);
        nlmsg_free(m);

        m = nlmsg_alloc();
        ASSERT_EQ(kmsg_build_dev_set(m, FAMILY, "0000:00:03.0", IOMMU_RVMSI_MODE_MRIF, -1), 0);
        g = nlmsg_data(nlmsg_hdr(m));
        ASSERT_EQ(g->cmd, RVMSI_CMD_DEV_SET);
        ASSERT_TRUE(nlmsg_hdr(m)->nlmsg_flags & NLM_F_ACK);
        ASSERT_EQ(genlmsg_parse(nlmsg_hdr(m), 0, tb, RVMSI_A_DEV_MAX, NULL), 0);
        ASSERT_TRUE(tb[RVMSI_A_DEV_MODE] && nla_get_u32(tb[RVMSI_A_DEV_MODE]) == IOMMU_RVMSI_MODE_MRIF);
        ASSERT_TRUE(!tb[RVMSI_A_DEV_LOCKED]);
        nlmsg_free(m);

        m = nlmsg_alloc();
        ASSERT_EQ(kmsg_build_dev_set(m, FAMILY, "0000:00:03.0", -1, 1), 0);
        ASSERT_EQ(genlmsg_parse(nlmsg_hdr(m), 0, tb, RVMSI_A_DEV_MAX, NULL), 0);
        ASSERT_TRUE(!tb[RVMSI_A_DEV_MODE]);
        ASSERT_TRUE(tb[RVMSI_A_DEV_LOCKED] && nla_get_u8(tb[RVMSI_A_DEV_LOCKED]) == 1);
        nlmsg_free(m);

        /* bad requests are refused before anything is built */
        m = nlmsg_alloc();
        ASSERT_EQ(kmsg_build_dev_set(m, FAMILY, "0000:00:03.0", -1, -1), -EINVAL);
        ASSERT_EQ(kmsg_build_dev_set(m, FAMILY, "0000:00:03.0", IOMMU_RVMSI_MODE_OFF, -1), -EINVAL);
        ASSERT_EQ(kmsg_build_dev_set(m, FAMILY, "0000:00:03.0", 5, -1), -EINVAL);
        ASSERT_EQ(kmsg_build_dev_set(m, FAMILY, "0000:00:03.0", -1, 2), -EINVAL);
        ASSERT_EQ(kmsg_build_dev_set(m, FAMILY, "bad name", IOMMU_RVMSI_MODE_MRIF, -1), -EINVAL);
        ASSERT_EQ(kmsg_build_dev_set(m, FAMILY, NULL, IOMMU_RVMSI_MODE_MRIF, -1), -EINVAL);
        ASSERT_EQ(kmsg_build_dev_get(m, 0, NULL), -EINVAL);
        ASSERT_EQ(nlmsg_hdr(m)->nlmsg_len, NLMSG_HDRLEN);
        nlmsg_free(m);

        m = nlmsg_alloc();
        ASSERT_EQ(kmsg_build_host_get(m, FAMILY), 0);
        ASSERT_EQ(((struct genlmsghdr *) nlmsg_data(nlmsg_hdr(m)))->cmd, RVMSI_CMD_HOST_GET);
        nlmsg_free(m);
}

TEST(errno) {
        ASSERT_EQ(kmsg_errno(0), 0);
        ASSERT_EQ(kmsg_errno(5), 5);
        ASSERT_EQ(kmsg_errno(-NLE_PERM), -EPERM);
        ASSERT_EQ(kmsg_errno(-NLE_NODEV), -ENODEV);
        ASSERT_EQ(kmsg_errno(-NLE_OBJ_NOTFOUND), -ENOENT);
        ASSERT_EQ(kmsg_errno(-NLE_DUMP_INTR), -EINTR);
        ASSERT_EQ(kmsg_errno(-NLE_NOMEM), -ENOMEM);
        ASSERT_EQ(kmsg_errno(-NLE_OPNOTSUPP), -EOPNOTSUPP);
        ASSERT_EQ(kmsg_errno(-1000), -EIO);
        /* every NLE code maps to a negative errno, none to 0 */
        for (int i = 1; i <= NLE_MAX; i++)
                ASSERT_TRUE(kmsg_errno(-i) < 0);
}

/* DEV_GET reply -> the daemon's DeviceState: entries keyed by the global
 * hart (group-major), blocked entries implicit, sorted; disagreement with
 * the geometry is a broken message, not a guess. */
TEST(device_state) {
        Geometry g = { .nr_groups = 2, .nr_harts = 8, .nr_guest_files = 3, .nr_ids = 255 };
        KernelEntry entries[] = {
                { .index = 9, .kind = IOMMU_RVMSI_ENTRY_HOST_FILE, .group = 1, .hart = 2, .guest = 0, .refcount = 2 },
                { .index = 1, .kind = IOMMU_RVMSI_ENTRY_MRIF, .group = 0, .hart = 1, .guest = 0, .notices = 7 },
                { .index = 3, .kind = IOMMU_RVMSI_ENTRY_BLOCKED, .group = 0, .hart = 3 },
        };
        KernelDevice kd = {
                .name = "0000:00:03.0",
                .mode = IOMMU_RVMSI_MODE_IDENTITY,
                .isolation = IOMMU_RVMSI_ISOLATION_SHARED,
                .caps = IOMMU_RVMSI_CAP_MSI_FLAT,
                .locked = false,
                .entries = entries,
                .n_entries = 3,
        };
        DeviceState s = {};

        ASSERT_OK(backend_kernel_device_state(&g, &kd, &s));
        ASSERT_STREQ(s.name, "0000:00:03.0");
        ASSERT_EQ(s.mode, MODE_IDENTITY);
        ASSERT_EQ(s.isolation, ISOLATION_SHARED);
        ASSERT_EQ(s.n_entries, 2);
        ASSERT_EQ(s.entries[0].target, TARGET_HART(1));
        ASSERT_EQ(s.entries[0].kind, ENTRY_MRIF);
        ASSERT_EQ(s.entries[0].hart, NO_HART);
        ASSERT_EQ(s.entries[0].notices, 7);
        ASSERT_EQ(s.entries[1].target, TARGET_HART(6));        /* group 1, hart 2 of 4 */
        ASSERT_EQ(s.entries[1].kind, ENTRY_HOST_FILE);
        ASSERT_EQ(s.entries[1].hart, 6);
        ASSERT_EQ(s.entries[1].refcount, 2);
        device_state_done(&s);

        /* a hart beyond the geometry, a guest file beyond GEILEN */
        entries[0].hart = 4;
        ASSERT_ERROR(backend_kernel_device_state(&g, &kd, &s), EBADMSG);
        entries[0].hart = 2;
        entries[0].guest = 4;
        ASSERT_ERROR(backend_kernel_device_state(&g, &kd, &s), EBADMSG);
        entries[0].guest = 0;
        entries[0].group = 2;
        ASSERT_ERROR(backend_kernel_device_state(&g, &kd, &s), EBADMSG);
}

/* The kernel puts u64 attributes with nla_put_u64_64bit(..., padattr 0):
 * where alignment needs it, an empty attribute of type 0 comes first. It
 * must be skipped, not taken for an error or a value. */
TEST(pad_attributes) {
        KernelDevice d = {};
        KernelFault f = {};
        struct nl_msg *m;
        struct nlattr *nest;

        m = new_msg(RVMSI_CMD_DEV_GET);
        nla_put_string(m, RVMSI_A_DEV_NAME, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_DEV_MODE, IOMMU_RVMSI_MODE_MRIF);
        ASSERT_NOT_NULL(nla_reserve(m, 0, 0));
        nla_put_u64(m, RVMSI_A_DEV_CAPS, IOMMU_RVMSI_CAP_MSI_FLAT | IOMMU_RVMSI_CAP_MSI_MRIF);
        nest = nla_nest_start(m, RVMSI_A_DEV_ENTRY);
        nla_put_u32(m, RVMSI_A_ENTRY_INDEX, 0);
        nla_put_u32(m, RVMSI_A_ENTRY_KIND, IOMMU_RVMSI_ENTRY_MRIF);
        nla_put_u32(m, RVMSI_A_ENTRY_GROUP, 0);
        nla_put_u32(m, RVMSI_A_ENTRY_HART, 2);
        nla_put_u32(m, RVMSI_A_ENTRY_GUEST, 0);
        ASSERT_NOT_NULL(nla_reserve(m, 0, 0));
        nla_put_u64(m, RVMSI_A_ENTRY_NOTICES, 42);
        nla_nest_end(m, nest);
        ASSERT_OK(kmsg_parse_dev(nlmsg_hdr(m), &d));
        ASSERT_EQ(d.caps, IOMMU_RVMSI_CAP_MSI_FLAT | IOMMU_RVMSI_CAP_MSI_MRIF);
        ASSERT_EQ(d.n_entries, 1);
        ASSERT_EQ(d.entries[0].notices, 42);
        kernel_device_done(&d);
        nlmsg_free(m);

        m = new_msg(RVMSI_CMD_FAULT_NTF);
        nla_put_string(m, RVMSI_A_FAULT_DEV_NAME, "0000:00:03.0");
        nla_put_u32(m, RVMSI_A_FAULT_RID, 0x18);
        nla_put_u32(m, RVMSI_A_FAULT_CAUSE, RVMSI_FAULT_MSI_PTE_INVALID);
        ASSERT_NOT_NULL(nla_reserve(m, 0, 0));
        nla_put_u64(m, RVMSI_A_FAULT_ADDR, 0x28002000ULL);
        ASSERT_OK(kmsg_parse_fault(nlmsg_hdr(m), &f));
        ASSERT_EQ(f.addr, 0x28002000ULL);
        nlmsg_free(m);
}

DEFINE_TEST_MAIN
