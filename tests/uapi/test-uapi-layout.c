/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The uAPI header must compile on its own (it is the first and only project
 * include here) and its layout is ABI: pin every size and offset, and check
 * there is no implicit padding anywhere, so an accidental change fails here
 * before it reaches a kernel.
 */
#include <linux/rvmsi.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define PIN(type, member, off, sz)                                                      \
        _Static_assert(offsetof(struct type, member) == (off), #type "." #member " offset"); \
        _Static_assert(sizeof(((struct type *)0)->member) == (sz), #type "." #member " size")

PIN(iommu_rvmsi_info, size, 0, 4);
PIN(iommu_rvmsi_info, flags, 4, 4);
PIN(iommu_rvmsi_info, dev_id, 8, 4);
PIN(iommu_rvmsi_info, __reserved, 12, 4);
PIN(iommu_rvmsi_info, out_capabilities, 16, 8);
PIN(iommu_rvmsi_info, out_mode, 24, 4);
PIN(iommu_rvmsi_info, out_isolation, 28, 4);
PIN(iommu_rvmsi_info, out_nr_groups, 32, 4);
PIN(iommu_rvmsi_info, out_nr_harts, 36, 4);
PIN(iommu_rvmsi_info, out_nr_guest_files, 40, 4);
PIN(iommu_rvmsi_info, out_nr_ids, 44, 4);
PIN(iommu_rvmsi_info, out_nr_entries, 48, 4);
PIN(iommu_rvmsi_info, out_nr_valid, 52, 4);
_Static_assert(sizeof(struct iommu_rvmsi_info) == 56, "iommu_rvmsi_info size");

PIN(iommu_rvmsi_set_mode, size, 0, 4);
PIN(iommu_rvmsi_set_mode, flags, 4, 4);
PIN(iommu_rvmsi_set_mode, dev_id, 8, 4);
PIN(iommu_rvmsi_set_mode, mode, 12, 4);
_Static_assert(sizeof(struct iommu_rvmsi_set_mode) == 16, "iommu_rvmsi_set_mode size");

PIN(iommu_rvmsi_entry, index, 0, 4);
PIN(iommu_rvmsi_entry, kind, 4, 4);
PIN(iommu_rvmsi_entry, group, 8, 4);
PIN(iommu_rvmsi_entry, hart, 12, 4);
PIN(iommu_rvmsi_entry, guest, 16, 4);
PIN(iommu_rvmsi_entry, cpu, 20, 4);
PIN(iommu_rvmsi_entry, refcount, 24, 4);
PIN(iommu_rvmsi_entry, __reserved, 28, 4);
PIN(iommu_rvmsi_entry, notices, 32, 8);
_Static_assert(sizeof(struct iommu_rvmsi_entry) == 40, "iommu_rvmsi_entry size (documented minimum entry_len)");

PIN(iommu_rvmsi_get_entries, size, 0, 4);
PIN(iommu_rvmsi_get_entries, flags, 4, 4);
PIN(iommu_rvmsi_get_entries, dev_id, 8, 4);
PIN(iommu_rvmsi_get_entries, num_entries, 12, 4);
PIN(iommu_rvmsi_get_entries, entry_len, 16, 4);
PIN(iommu_rvmsi_get_entries, __reserved, 20, 4);
PIN(iommu_rvmsi_get_entries, entries_uptr, 24, 8);
_Static_assert(sizeof(struct iommu_rvmsi_get_entries) == 32, "iommu_rvmsi_get_entries size");

/* 64-bit members are 8-byte aligned even on 32-bit ABIs. */
_Static_assert(_Alignof(struct iommu_rvmsi_info) == 8, "iommu_rvmsi_info alignment");
_Static_assert(_Alignof(struct iommu_rvmsi_entry) == 8, "iommu_rvmsi_entry alignment");
_Static_assert(_Alignof(struct iommu_rvmsi_get_entries) == 8, "iommu_rvmsi_get_entries alignment");

/* Fault causes are the specification's numbers. */
_Static_assert(RVMSI_FAULT_MSI_PTE_LOAD_ACCESS == 261, "cause 261");
_Static_assert(RVMSI_FAULT_MSI_PTE_INVALID == 262, "cause 262");
_Static_assert(RVMSI_FAULT_MSI_PTE_MISCONFIGURED == 263, "cause 263");
_Static_assert(RVMSI_FAULT_MRIF_ACCESS == 264, "cause 264");
_Static_assert(RVMSI_FAULT_MSI_PT_CORRUPTION == 270, "cause 270");
_Static_assert(RVMSI_FAULT_MRIF_CORRUPTION == 271, "cause 271");
_Static_assert(RVMSI_FAULT_MSI_WRITE_ACCESS == 273, "cause 273");

/* Netlink numbering is ABI too: attribute and command values never move. */
_Static_assert(RVMSI_CMD_HOST_GET == 1 && RVMSI_CMD_DEV_GET == 2 && RVMSI_CMD_DEV_SET == 3 &&
               RVMSI_CMD_ENTRY_NTF == 4 && RVMSI_CMD_FAULT_NTF == 5 && RVMSI_CMD_MAX == 5, "commands");
_Static_assert(RVMSI_A_DEV_NAME == 1 && RVMSI_A_DEV_ENTRY == 11 && RVMSI_A_DEV_REASON == 12 &&
               RVMSI_A_DEV_EVENT_SEQ == 13 && RVMSI_A_DEV_NR_VALID == 14 &&
               RVMSI_A_DEV_ENTRIES_OMITTED == 15 && RVMSI_A_DEV_TABLE_USERS == 16 &&
               RVMSI_A_DEV_MAX == 16, "dev attributes");
_Static_assert(RVMSI_A_ENTRY_INDEX == 1 && RVMSI_A_ENTRY_NOTICES == 8 && RVMSI_A_ENTRY_MAX == 8,
               "entry attributes");
_Static_assert(RVMSI_A_FAULT_DEV_NAME == 1 && RVMSI_A_FAULT_SUPPRESSED == 9 && RVMSI_A_FAULT_EVENT_SEQ == 10 &&
               RVMSI_A_FAULT_MAX == 10,
               "fault attributes");
_Static_assert(RVMSI_A_HOST_NR_GROUPS == 1 && RVMSI_A_HOST_NR_DEVICES == 5 && RVMSI_A_HOST_MAX == 5,
               "host attributes");

static int check_ioctl(const char *name, unsigned long nr, unsigned expect_nr) {
        int bad = _IOC_TYPE(nr) != ';' || _IOC_NR(nr) != expect_nr || _IOC_SIZE(nr) != 0 ||
                  _IOC_DIR(nr) != _IOC_NONE;

        printf("%s %s: type '%c' nr 0x%x\n", bad ? "not ok" : "ok", name, (int) _IOC_TYPE(nr),
               (unsigned) _IOC_NR(nr));
        return bad;
}

int main(void) {
        int failed = 0;

        /* iommufd ioctls carry no size in the number: the struct says it. */
        failed += check_ioctl("IOMMU_RVMSI_GET_INFO", IOMMU_RVMSI_GET_INFO, 0xb0);
        failed += check_ioctl("IOMMU_RVMSI_SET_MODE", IOMMU_RVMSI_SET_MODE, 0xb1);
        failed += check_ioctl("IOMMU_RVMSI_GET_ENTRIES", IOMMU_RVMSI_GET_ENTRIES, 0xb2);

        if (strcmp(RVMSI_FAMILY_NAME, "rvmsi") != 0 || RVMSI_FAMILY_VERSION != 1 ||
            strcmp(RVMSI_MCGRP_EVENTS, "events") != 0) {
                printf("not ok family name, version or group\n");
                failed++;
        }
        printf("%d passed, %d failed\n", 4 - failed, failed);
        return failed ? 1 : 0;
}
