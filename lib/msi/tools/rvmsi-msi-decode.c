/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi-msi-decode: print the fields of RISC-V IOMMU MSI structures given as
 * hex on the command line, using lib/msi (so it decodes exactly what the
 * kernel part and the daemon encode).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rvmsi_msi.h"

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 16);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_args(int argc, char **argv, int min, int max, uint64_t *v) {
        if (argc < min || argc > max) {
                fprintf(stderr, "expected %d to %d hex values, got %d\n", min, max, argc);
                return -EINVAL;
        }
        for (int i = 0; i < max; i++) {
                v[i] = 0;
                if (i < argc && parse_u64(argv[i], &v[i]) < 0) {
                        fprintf(stderr, "not a hex number: '%s'\n", argv[i]);
                        return -EINVAL;
                }
        }
        return 0;
}

static int fail(const char *what, int r) {
        printf("%s: invalid (%s)\n", what, strerror(-r));
        return 1;
}

static int cmd_pte(int argc, char **argv) {
        struct rvmsi_msipte_info info;
        struct rvmsi_msipte pte;
        uint64_t v[2];
        int r;

        if (parse_args(argc, argv, 1, 2, v) < 0)
                return 2;
        pte.dw0 = v[0];
        pte.dw1 = v[1];
        r = rvmsi_msipte_decode(&pte, &info);
        printf("fault cause if used: %u (with MSI_MRIF), %u (without)\n",
               rvmsi_msipte_fault_cause(&pte, true), rvmsi_msipte_fault_cause(&pte, false));
        if (r < 0)
                return fail("msi pte", r);
        switch (info.kind) {
        case RVMSI_MSIPTE_INVALID:
                printf("msi pte: invalid (V=0)\n");
                break;
        case RVMSI_MSIPTE_BASIC:
                printf("msi pte: basic, target 0x%" PRIx64 " (ppn 0x%" PRIx64 "), sw 0x%" PRIx64 "\n",
                       (uint64_t) info.ppn << 12, (uint64_t) info.ppn, (uint64_t) info.sw);
                break;
        case RVMSI_MSIPTE_MRIF:
                printf("msi pte: mrif 0x%" PRIx64 ", notice to 0x%" PRIx64 " id %u\n",
                       (uint64_t) info.mrif_pa, (uint64_t) info.nppn << 12, info.nid);
                break;
        }
        return 0;
}

static int cmd_dc(int argc, char **argv) {
        uint64_t v[3], ppn, size, align, entries;
        unsigned mode;
        int r;

        if (parse_args(argc, argv, 3, 3, v) < 0)
                return 2;
        r = rvmsi_msiptp_decode(v[0], &mode, &ppn);
        if (r < 0)
                return fail("msiptp", r);
        r = rvmsi_msi_addr_check(v[1], v[2]);
        if (r < 0)
                return fail("msi_addr_mask/pattern", r);
        (void) rvmsi_msi_table_size(v[1], &size);
        (void) rvmsi_msi_table_align(v[1], &align);
        entries = size / RVMSI_MSIPTE_SIZE;
        printf("msiptp: mode %s, table 0x%" PRIx64 "\n", mode == RVMSI_MSIPTP_MODE_FLAT ? "flat" : "off",
               (uint64_t) ppn << 12);
        printf("mask 0x%" PRIx64 " pattern 0x%" PRIx64 ": %" PRIu64 " entries, %" PRIu64
               " bytes, alignment 0x%" PRIx64 "\n",
               (uint64_t) v[1], (uint64_t) v[2], entries, size, align);
        if (mode == RVMSI_MSIPTP_MODE_FLAT) {
                r = rvmsi_msi_table_check_addr(ppn << 12, v[1]);
                printf("table placement: %s\n", r < 0 ? strerror(-r) : "ok");
        }
        for (uint64_t i = 0; i < entries && i < 8; i++) {
                uint64_t addr;

                (void) rvmsi_msi_index_addr(i, v[1], v[2], &addr);
                printf("  entry %" PRIu64 " covers page 0x%" PRIx64 "\n", i, addr);
        }
        if (entries > 8)
                printf("  ...\n");
        return 0;
}

static int cmd_index(int argc, char **argv) {
        uint64_t v[3], idx;
        int r;

        if (parse_args(argc, argv, 3, 3, v) < 0)
                return 2;
        r = rvmsi_msi_index(v[2], v[0], v[1], &idx);
        if (r == -ENOENT) {
                printf("address 0x%" PRIx64 ": no match, regular translation\n", (uint64_t) v[2]);
                return 0;
        }
        if (r < 0)
                return fail("index", r);
        printf("address 0x%" PRIx64 ": table index %" PRIu64 "\n", (uint64_t) v[2], idx);
        return 0;
}

static int cmd_fault(int argc, char **argv) {
        struct rvmsi_fault_record rec;
        struct rvmsi_fault_info f;
        const char *tag = "";
        uint64_t v[4];

        if (parse_args(argc, argv, 1, 4, v) < 0)
                return 2;
        rec = (struct rvmsi_fault_record) { v[0], v[1], v[2], v[3] };
        rvmsi_fault_decode(&rec, &f);
        /*
         * [msi]: a device's MSI was stopped by MSI translation (DID names it).
         * [iommu-msi-write]: the IOMMU's own interrupt MSI failed; iotval is
         * its msi_addr_x and no device is involved.
         */
        if (rvmsi_fault_cause_is_msi(f.cause))
                tag = " [msi]";
        else if (rvmsi_fault_cause_is_iommu_msi_write(f.cause))
                tag = " [iommu-msi-write]";
        printf("cause %u (%s)%s, ttyp %u (%s), did 0x%x", f.cause, rvmsi_fault_cause_name(f.cause), tag,
               f.ttyp, rvmsi_fault_ttyp_name(f.ttyp), f.did);
        if (f.pv)
                printf(", pid 0x%x", f.pid);
        if (f.priv)
                printf(", priv");
        printf(", iotval 0x%" PRIx64 ", iotval2 0x%" PRIx64 "\n", (uint64_t) f.iotval,
               (uint64_t) f.iotval2);
        return 0;
}

static int cmd_cmd(int argc, char **argv) {
        struct rvmsi_iommu_cmd c;
        struct rvmsi_cmd_info info;
        uint64_t v[2];
        int r;

        if (parse_args(argc, argv, 2, 2, v) < 0)
                return 2;
        c = (struct rvmsi_iommu_cmd) { v[0], v[1] };
        r = rvmsi_cmd_decode(&c, &info);
        if (r < 0)
                return fail("command", r);
        switch (info.kind) {
        case RVMSI_CMD_IOTINVAL_GVMA:
                printf("IOTINVAL.GVMA");
                if (info.flags & RVMSI_GVMA_GV)
                        printf(" gscid %u", info.id);
                else
                        printf(" all VMs");
                if (info.flags & RVMSI_GVMA_AV)
                        printf(" gpa 0x%" PRIx64, (uint64_t) info.addr);
                printf("\n");
                break;
        case RVMSI_CMD_IOFENCE_C:
                printf("IOFENCE.C%s%s%s", info.flags & RVMSI_IOFENCE_PR ? " PR" : "",
                       info.flags & RVMSI_IOFENCE_PW ? " PW" : "",
                       info.flags & RVMSI_IOFENCE_WSI ? " WSI" : "");
                if (info.flags & RVMSI_IOFENCE_AV)
                        printf(" write 0x%x to 0x%" PRIx64, info.data, (uint64_t) info.addr);
                printf("\n");
                break;
        case RVMSI_CMD_IODIR_INVAL_DDT:
                if (info.flags & 1)
                        printf("IODIR.INVAL_DDT did 0x%x\n", info.id);
                else
                        printf("IODIR.INVAL_DDT all devices\n");
                break;
        }
        return 0;
}

static void usage(FILE *f) {
        fputs("usage: rvmsi-msi-decode pte DW0 [DW1]\n"
              "       rvmsi-msi-decode dc MSIPTP MSI_ADDR_MASK MSI_ADDR_PATTERN\n"
              "       rvmsi-msi-decode index MSI_ADDR_MASK MSI_ADDR_PATTERN ADDRESS\n"
              "       rvmsi-msi-decode fault HDR [DW1 IOTVAL IOTVAL2]\n"
              "       rvmsi-msi-decode cmd DW0 DW1\n"
              "All values are hexadecimal (0x prefix optional).\n", f);
}

int main(int argc, char **argv) {
        static const struct {
                const char *verb;
                int (*fn)(int argc, char **argv);
        } verbs[] = {
                { "pte", cmd_pte },
                { "dc", cmd_dc },
                { "index", cmd_index },
                { "fault", cmd_fault },
                { "cmd", cmd_cmd },
        };

        if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
                usage(stdout);
                return 0;
        }
        if (argc >= 2)
                for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
                        if (strcmp(argv[1], verbs[i].verb) == 0)
                                return verbs[i].fn(argc - 2, argv + 2);
        usage(stderr);
        return 2;
}
