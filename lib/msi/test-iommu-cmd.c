/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests for lib/msi/iommu_cmd.c: IOTINVAL.GVMA, IODIR.INVAL_DDT and
 * IOFENCE.C encodings bit by bit, their decoder, and fault records.
 */
#include "iommu_cmd.h"
#include "testlib/runner.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

TEST(field_constants_match_spec_and_linux) {
        /* Literal values of the GENMASKs in Linux's iommu-bits.h. */
        CHECK_EQ(RVMSI_CMD_OPCODE, 0x7f);
        CHECK_EQ(RVMSI_CMD_FUNC, 0x380);
        CHECK_EQ(RVMSI_CMD_IOTINVAL_AV, 1ULL << 10);
        CHECK_EQ(RVMSI_CMD_IOTINVAL_PSCID, 0xfffff000ULL);
        CHECK_EQ(RVMSI_CMD_IOTINVAL_PSCV, 1ULL << 32);
        CHECK_EQ(RVMSI_CMD_IOTINVAL_GV, 1ULL << 33);
        CHECK_EQ(RVMSI_CMD_IOTINVAL_GSCID, 0x0ffff00000000000ULL);
        CHECK_EQ(RVMSI_CMD_IOTINVAL_ADDR, 0x3ffffffffffffc00ULL);
        CHECK_EQ(RVMSI_CMD_IOFENCE_AV, 1ULL << 10);
        CHECK_EQ(RVMSI_CMD_IOFENCE_WSI, 1ULL << 11);
        CHECK_EQ(RVMSI_CMD_IOFENCE_PR, 1ULL << 12);
        CHECK_EQ(RVMSI_CMD_IOFENCE_PW, 1ULL << 13);
        CHECK_EQ(RVMSI_CMD_IOFENCE_DATA, 0xffffffff00000000ULL);
        CHECK_EQ(RVMSI_CMD_IODIR_PID, 0xfffff000ULL);
        CHECK_EQ(RVMSI_CMD_IODIR_DV, 1ULL << 33);
        CHECK_EQ(RVMSI_CMD_IODIR_DID, 0xffffff0000000000ULL);
        CHECK_EQ(RVMSI_FQ_CAUSE, 0xfff);
        CHECK_EQ(RVMSI_FQ_PID, 0xfffff000ULL);
        CHECK_EQ(RVMSI_FQ_PV, 1ULL << 32);
        CHECK_EQ(RVMSI_FQ_PRIV, 1ULL << 33);
        CHECK_EQ(RVMSI_FQ_TTYP, 0xfc00000000ULL);
        CHECK_EQ(RVMSI_FQ_DID, 0xffffff0000000000ULL);
}

TEST(gvma_encodings) {
        struct rvmsi_iommu_cmd c = { SENTINEL, SENTINEL };
        struct rvmsi_cmd_info info;

        /* GV=0: all VMs. opcode 1, func3 1 -> 0x81. */
        CHECK_OK(rvmsi_cmd_iotinval_gvma(0, 0, 0, &c));
        CHECK_EQ(c.dw0, 0x81);
        CHECK_EQ(c.dw1, 0);
        CHECK_OK(rvmsi_cmd_decode(&c, &info));
        CHECK_EQ(info.kind, RVMSI_CMD_IOTINVAL_GVMA);
        CHECK_EQ(info.flags, 0);

        for (unsigned i = 0; i < 16; i++) {
                CHECK_OK(rvmsi_cmd_iotinval_gvma(RVMSI_GVMA_GV, 1U << i, 0, &c));
                CHECK_EQ(c.dw0, 0x81 | (1ULL << 33) | (1ULL << (44 + i)));
                CHECK_EQ(c.dw1, 0);
                CHECK_OK(rvmsi_cmd_decode(&c, &info));
                CHECK_EQ(info.flags, RVMSI_GVMA_GV);
                CHECK_EQ(info.id, 1U << i);
        }
        for (unsigned i = 12; i < 64; i++) {
                CHECK_OK(rvmsi_cmd_iotinval_gvma(RVMSI_GVMA_GV | RVMSI_GVMA_AV, 7, 1ULL << i, &c));
                CHECK_EQ(c.dw0, 0x81 | (1ULL << 10) | (1ULL << 33) | (7ULL << 44));
                /* ADDR[63:12] lives in dword1 bits 61:10 */
                CHECK_EQ(c.dw1, 1ULL << (i - 2));
                CHECK_OK(rvmsi_cmd_decode(&c, &info));
                CHECK_EQ(info.flags, RVMSI_GVMA_GV | RVMSI_GVMA_AV);
                CHECK_EQ(info.addr, 1ULL << i);
                CHECK_EQ(info.id, 7);
        }
        for (unsigned it = 0; it < 5000; it++) {
                uint32_t gscid = (uint32_t) rt_rand_below(0x10000);
                uint64_t gpa = rt_rand() & ~0xfffULL;

                CHECK_OK(rvmsi_cmd_iotinval_gvma(RVMSI_GVMA_GV | RVMSI_GVMA_AV, gscid, gpa, &c));
                CHECK_OK(rvmsi_cmd_decode(&c, &info));
                CHECK_EQ(info.id, gscid);
                CHECK_EQ(info.addr, gpa);
                /* PSCV is never set for GVMA */
                CHECK_EQ(c.dw0 & RVMSI_CMD_IOTINVAL_PSCV, 0);
        }
}

TEST(gvma_errors) {
        struct rvmsi_iommu_cmd c = { SENTINEL, SENTINEL };

        CHECK_ERR(rvmsi_cmd_iotinval_gvma(4, 0, 0, &c), -EINVAL);
        CHECK_ERR(rvmsi_cmd_iotinval_gvma(RVMSI_GVMA_AV, 0, 0x1000, &c), -EINVAL);
        CHECK_ERR(rvmsi_cmd_iotinval_gvma(RVMSI_GVMA_GV, 0x10000, 0, &c), -ERANGE);
        CHECK_ERR(rvmsi_cmd_iotinval_gvma(0, 1, 0, &c), -EINVAL);
        CHECK_ERR(rvmsi_cmd_iotinval_gvma(RVMSI_GVMA_GV, 1, 0x1000, &c), -EINVAL);
        for (unsigned i = 0; i < 12; i++)
                CHECK_ERR(rvmsi_cmd_iotinval_gvma(RVMSI_GVMA_GV | RVMSI_GVMA_AV, 1,
                                                  0x28000000ULL | (1ULL << i), &c), -EINVAL);
        CHECK_EQ(c.dw0, SENTINEL);
        CHECK_EQ(c.dw1, SENTINEL);
}

/*
 * [IOMMU-Q] "When PSCV operand is 0, the PSCID operand is ignored" (text since
 * spec commit 4212d57, 2023-02-03): a GVMA with PSCID bits set and PSCV = 0 is
 * legal and means the same as with PSCID = 0; PSCV = 1 with GVMA stays illegal.
 */
TEST(gvma_pscid_ignored_without_pscv) {
        struct rvmsi_iommu_cmd c, ref;
        struct rvmsi_cmd_info info, want;

        CHECK_OK(rvmsi_cmd_iotinval_gvma(RVMSI_GVMA_GV | RVMSI_GVMA_AV, 0x1234, 0x28005000, &ref));
        CHECK_OK(rvmsi_cmd_decode(&ref, &want));
        for (unsigned it = 0; it < 2000; it++) {
                uint64_t pscid = rt_rand() & RVMSI_CMD_IOTINVAL_PSCID;

                memset(&info, 0x5a, sizeof(info));
                c = ref;
                c.dw0 |= pscid;
                CHECK_OK(rvmsi_cmd_decode(&c, &info));
                CHECK_EQ(info.kind, want.kind);
                CHECK_EQ(info.flags, want.flags);
                CHECK_EQ(info.id, want.id);
                CHECK_EQ(info.addr, want.addr);
                CHECK_EQ(info.data, want.data);
                /* PSCV = 1 is illegal for GVMA, with or without a PSCID. */
                c.dw0 |= RVMSI_CMD_IOTINVAL_PSCV;
                CHECK_ERR(rvmsi_cmd_decode(&c, &info), -EINVAL);
        }
        c = ref;
        c.dw0 |= RVMSI_CMD_IOTINVAL_PSCID;
        CHECK_OK(rvmsi_cmd_decode(&c, &info));
        /* The builder itself never writes a PSCID. */
        CHECK_EQ(ref.dw0 & (RVMSI_CMD_IOTINVAL_PSCID | RVMSI_CMD_IOTINVAL_PSCV), 0);
}

TEST(iodir_inval_ddt) {
        struct rvmsi_iommu_cmd c = { SENTINEL, SENTINEL };
        struct rvmsi_cmd_info info;

        CHECK_OK(rvmsi_cmd_iodir_inval_ddt(false, 0, &c));
        CHECK_EQ(c.dw0, 3);             /* opcode 3, func3 0 */
        CHECK_EQ(c.dw1, 0);
        CHECK_OK(rvmsi_cmd_decode(&c, &info));
        CHECK_EQ(info.kind, RVMSI_CMD_IODIR_INVAL_DDT);
        CHECK_EQ(info.flags, 0);
        for (unsigned i = 0; i < 24; i++) {
                CHECK_OK(rvmsi_cmd_iodir_inval_ddt(true, 1U << i, &c));
                CHECK_EQ(c.dw0, 3 | (1ULL << 33) | (1ULL << (40 + i)));
                CHECK_EQ(c.dw1, 0);
                CHECK_OK(rvmsi_cmd_decode(&c, &info));
                CHECK_EQ(info.flags, 1);
                CHECK_EQ(info.id, 1U << i);
        }
        c.dw0 = c.dw1 = SENTINEL;
        CHECK_ERR(rvmsi_cmd_iodir_inval_ddt(true, 1U << 24, &c), -ERANGE);
        CHECK_ERR(rvmsi_cmd_iodir_inval_ddt(false, 5, &c), -EINVAL);
        CHECK_EQ(c.dw0, SENTINEL);
}

TEST(iofence_c) {
        struct rvmsi_iommu_cmd c = { SENTINEL, SENTINEL };
        struct rvmsi_cmd_info info;
        static const struct {
                uint32_t flag;
                uint64_t bit;
        } fl[] = {
                { RVMSI_IOFENCE_AV, 1ULL << 10 },
                { RVMSI_IOFENCE_WSI, 1ULL << 11 },
                { RVMSI_IOFENCE_PR, 1ULL << 12 },
                { RVMSI_IOFENCE_PW, 1ULL << 13 },
        };

        CHECK_OK(rvmsi_cmd_iofence_c(0, 0, 0, &c));
        CHECK_EQ(c.dw0, 2);             /* opcode 2, func3 0 */
        CHECK_EQ(c.dw1, 0);
        for (uint32_t f = 0; f < 16; f++) {
                uint64_t want = 2;

                for (unsigned i = 0; i < 4; i++)
                        if (f & fl[i].flag)
                                want |= fl[i].bit;
                CHECK_OK(rvmsi_cmd_iofence_c(f, 0, 0, &c));
                CHECK_EQ(c.dw0, want);
                CHECK_OK(rvmsi_cmd_decode(&c, &info));
                CHECK_EQ(info.kind, RVMSI_CMD_IOFENCE_C);
                CHECK_EQ(info.flags, f);
        }
        for (unsigned i = 2; i < 64; i++) {
                CHECK_OK(rvmsi_cmd_iofence_c(RVMSI_IOFENCE_AV, 1ULL << i, 0, &c));
                CHECK_EQ(c.dw1, 1ULL << (i - 2));       /* ADDR[63:2] in bits 61:0 */
                CHECK_OK(rvmsi_cmd_decode(&c, &info));
                CHECK_EQ(info.addr, 1ULL << i);
        }
        for (unsigned i = 0; i < 32; i++) {
                CHECK_OK(rvmsi_cmd_iofence_c(RVMSI_IOFENCE_AV, 0x28000000, 1U << i, &c));
                CHECK_EQ(c.dw0, 2 | (1ULL << 10) | (1ULL << (32 + i)));
                CHECK_EQ(c.dw1, 0x28000000 >> 2);
                CHECK_OK(rvmsi_cmd_decode(&c, &info));
                CHECK_EQ(info.data, 1U << i);
        }
        c.dw0 = c.dw1 = SENTINEL;
        CHECK_ERR(rvmsi_cmd_iofence_c(16, 0, 0, &c), -EINVAL);
        CHECK_ERR(rvmsi_cmd_iofence_c(RVMSI_IOFENCE_AV, 0x1002, 1, &c), -EINVAL);
        CHECK_ERR(rvmsi_cmd_iofence_c(RVMSI_IOFENCE_AV, 0x1001, 1, &c), -EINVAL);
        CHECK_ERR(rvmsi_cmd_iofence_c(RVMSI_IOFENCE_PR, 0x1000, 0, &c), -EINVAL);
        CHECK_ERR(rvmsi_cmd_iofence_c(RVMSI_IOFENCE_PW, 0, 1, &c), -EINVAL);
        CHECK_EQ(c.dw0, SENTINEL);
}

TEST(decode_rejects_reserved_and_unknown) {
        struct rvmsi_iommu_cmd c;
        struct rvmsi_cmd_info info = { .kind = 99 };

        /* Every dw0/dw1 bit that is reserved in each command gives -EINVAL. */
        for (unsigned i = 10; i < 64; i++) {
                uint64_t b = 1ULL << i;
                /* PSCID [31:12] is ignored, not reserved, while PSCV is 0. */
                bool gvma_ok = i == 10 || (i >= 12 && i <= 31) || i == 33 || (i >= 44 && i <= 59);
                bool fence_ok = (i >= 10 && i <= 13) || i >= 32;
                bool ddt_ok = i == 33 || i >= 40;

                CHECK_OK(rvmsi_cmd_iotinval_gvma(0, 0, 0, &c));
                c.dw0 |= b;
                CHECK_ERR(rvmsi_cmd_decode(&c, &info), gvma_ok ? 0 : -EINVAL);
                CHECK_OK(rvmsi_cmd_iofence_c(0, 0, 0, &c));
                c.dw0 |= b;
                CHECK_ERR(rvmsi_cmd_decode(&c, &info), fence_ok ? 0 : -EINVAL);
                CHECK_OK(rvmsi_cmd_iodir_inval_ddt(false, 0, &c));
                c.dw0 |= b;
                CHECK_ERR(rvmsi_cmd_decode(&c, &info), ddt_ok ? 0 : -EINVAL);
        }
        for (unsigned i = 0; i < 64; i++) {
                uint64_t b = 1ULL << i;

                CHECK_OK(rvmsi_cmd_iotinval_gvma(0, 0, 0, &c));
                c.dw1 = b;
                CHECK_ERR(rvmsi_cmd_decode(&c, &info), (i >= 10 && i <= 61) ? 0 : -EINVAL);
                CHECK_OK(rvmsi_cmd_iofence_c(0, 0, 0, &c));
                c.dw1 = b;
                CHECK_ERR(rvmsi_cmd_decode(&c, &info), i <= 61 ? 0 : -EINVAL);
                CHECK_OK(rvmsi_cmd_iodir_inval_ddt(false, 0, &c));
                c.dw1 = b;
                CHECK_ERR(rvmsi_cmd_decode(&c, &info), -EINVAL);
        }
        info.kind = 99;
        /* Other opcodes and functions are not ours. */
        for (uint64_t op = 0; op < 128; op++)
                for (uint64_t func = 0; func < 8; func++) {
                        bool known = (op == 1 && func == 1) || (op == 2 && func == 0) ||
                                     (op == 3 && func == 0);

                        c.dw0 = op | (func << 7);
                        c.dw1 = 0;
                        if (!known)
                                CHECK_ERR(rvmsi_cmd_decode(&c, &info), -EOPNOTSUPP);
                        else
                                CHECK_OK(rvmsi_cmd_decode(&c, &info));
                }
        c.dw0 = 1;      /* IOTINVAL.VMA */
        info.kind = 99;
        CHECK_ERR(rvmsi_cmd_decode(&c, &info), -EOPNOTSUPP);
        CHECK_EQ(info.kind, 99);
}

TEST(fault_record_each_field) {
        struct rvmsi_fault_record r = { 0 };
        struct rvmsi_fault_info f;

        /* MSI PTE not valid from device 0x10 on an untranslated write. */
        r.hdr = 262 | (3ULL << 34) | (0x10ULL << 40);
        r.iotval = 0x28005000;
        r.iotval2 = 0x1234;
        rvmsi_fault_decode(&r, &f);
        CHECK_EQ(f.cause, 262);
        CHECK_EQ(f.ttyp, RVMSI_TTYP_UADDR_WR);
        CHECK_EQ(f.did, 0x10);
        CHECK(!f.pv && !f.priv);
        CHECK_EQ(f.pid, 0);
        CHECK_EQ(f.iotval, 0x28005000);
        CHECK_EQ(f.iotval2, 0x1234);

        for (unsigned i = 0; i < 64; i++) {
                r.hdr = 1ULL << i;
                rvmsi_fault_decode(&r, &f);
                CHECK_EQ(f.cause, i < 12 ? 1U << i : 0);
                CHECK_EQ(f.pid, i >= 12 && i < 32 ? 1U << (i - 12) : 0);
                CHECK_EQ(f.pv, i == 32);
                CHECK_EQ(f.priv, i == 33);
                CHECK_EQ(f.ttyp, i >= 34 && i < 40 ? 1U << (i - 34) : 0);
                CHECK_EQ(f.did, i >= 40 ? 1U << (i - 40) : 0);
        }
}

TEST(fault_record_encode_roundtrip) {
        struct rvmsi_fault_record r = { SENTINEL, SENTINEL, SENTINEL, SENTINEL };
        struct rvmsi_fault_info f, g;

        for (unsigned it = 0; it < 5000; it++) {
                f = (struct rvmsi_fault_info) {
                        .cause = (uint32_t) rt_rand_below(4096), .pid = (uint32_t) rt_rand_below(1 << 20),
                        .pv = rt_rand() & 1, .priv = rt_rand() & 1, .ttyp = (uint32_t) rt_rand_below(64),
                        .did = (uint32_t) rt_rand_below(1 << 24), .iotval = rt_rand(), .iotval2 = rt_rand(),
                };
                CHECK_OK(rvmsi_fault_encode(&f, &r));
                CHECK_EQ(r.custom, 0);
                rvmsi_fault_decode(&r, &g);
                CHECK(f.cause == g.cause && f.pid == g.pid && f.pv == g.pv && f.priv == g.priv &&
                      f.ttyp == g.ttyp && f.did == g.did && f.iotval == g.iotval &&
                      f.iotval2 == g.iotval2);
        }
        r.hdr = SENTINEL;
        f = (struct rvmsi_fault_info) { .cause = 4096 };
        CHECK_ERR(rvmsi_fault_encode(&f, &r), -ERANGE);
        f = (struct rvmsi_fault_info) { .pid = 1 << 20 };
        CHECK_ERR(rvmsi_fault_encode(&f, &r), -ERANGE);
        f = (struct rvmsi_fault_info) { .ttyp = 64 };
        CHECK_ERR(rvmsi_fault_encode(&f, &r), -ERANGE);
        f = (struct rvmsi_fault_info) { .did = 1 << 24 };
        CHECK_ERR(rvmsi_fault_encode(&f, &r), -ERANGE);
        CHECK_EQ(r.hdr, SENTINEL);
}

TEST(cause_names_and_classes) {
        /* 273 is the IOMMU's own MSI write failing, not a device MSI fault. */
        static const uint32_t msi[] = { 261, 262, 263, 264, 270, 271 };
        static const uint32_t dtf[] = { 256, 257, 258, 259, 268, 272, 273 };
        static const uint32_t defined[] = { 1, 4, 5, 6, 7, 12, 13, 15, 20, 21, 23, 256, 257, 258, 259,
                                            260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 270,
                                            271, 272, 273, 274 };

        CHECK(strcmp(rvmsi_fault_cause_name(261), "MSI PTE load access fault") == 0);
        CHECK(strcmp(rvmsi_fault_cause_name(262), "MSI PTE not valid") == 0);
        CHECK(strcmp(rvmsi_fault_cause_name(263), "MSI PTE misconfigured") == 0);
        CHECK(strcmp(rvmsi_fault_cause_name(264), "MRIF access fault") == 0);
        CHECK(strcmp(rvmsi_fault_cause_name(270), "MSI PT data corruption") == 0);
        CHECK(strcmp(rvmsi_fault_cause_name(271), "MSI MRIF data corruption") == 0);
        CHECK(strcmp(rvmsi_fault_cause_name(273), "IOMMU MSI write access fault") == 0);
        CHECK(strcmp(rvmsi_fault_cause_name(15), "write/AMO page fault") == 0);

        for (uint32_t c = 0; c < 5000; c++) {
                bool is_msi = false, is_dtf = false, is_def = false;
                const char *n = rvmsi_fault_cause_name(c);

                for (size_t i = 0; i < sizeof(msi) / sizeof(msi[0]); i++)
                        is_msi |= msi[i] == c;
                for (size_t i = 0; i < sizeof(dtf) / sizeof(dtf[0]); i++)
                        is_dtf |= dtf[i] == c;
                for (size_t i = 0; i < sizeof(defined) / sizeof(defined[0]); i++)
                        is_def |= defined[i] == c;
                CHECK_EQ(rvmsi_fault_cause_is_msi(c), is_msi);
                CHECK_EQ(rvmsi_fault_cause_is_iommu_msi_write(c), c == 273);
                CHECK_EQ(rvmsi_fault_cause_reported_with_dtf(c), is_dtf);
                if (!CHECK(n))
                        continue;
                if (is_def)
                        CHECK(strcmp(n, "reserved") != 0 && strcmp(n, "custom") != 0);
                else if (c >= 2048 && c <= 4095)
                        CHECK(strcmp(n, "custom") == 0);
                else
                        CHECK(strcmp(n, "reserved") == 0);
        }
}

/*
 * Cause 273 as the spec describes it ([IOMMU-REG] "MSI configuration table",
 * since spec commit c8570d6, 2022-06-12): an access fault on the IOMMU's own
 * MSI write to msi_addr_x, reported with TTYP 0 (so DID, PV, PID and PRIV are
 * 0) and iotval = msi_addr_x. Nothing in it names a device.
 */
TEST(iommu_msi_write_fault_record) {
        struct rvmsi_fault_info f = {
                .cause = RVMSI_CAUSE_MSI_WR_FAULT, .ttyp = RVMSI_TTYP_NONE, .iotval = 0x28000000,
        }, g;
        struct rvmsi_fault_record r;

        CHECK_EQ(RVMSI_CAUSE_MSI_WR_FAULT, 273);
        CHECK_OK(rvmsi_fault_encode(&f, &r));
        CHECK_EQ(r.hdr, 273);
        rvmsi_fault_decode(&r, &g);
        CHECK_EQ(g.did, 0);
        CHECK_EQ(g.ttyp, RVMSI_TTYP_NONE);
        CHECK_EQ(g.iotval, 0x28000000);
        CHECK(rvmsi_fault_cause_is_iommu_msi_write(g.cause));
        CHECK(!rvmsi_fault_cause_is_msi(g.cause));
        /* Still reported with DTF = 1: DTF belongs to a device context, 273 to none. */
        CHECK(rvmsi_fault_cause_reported_with_dtf(g.cause));
}

TEST(ttyp_names) {
        CHECK(strcmp(rvmsi_fault_ttyp_name(0), "none") == 0);
        CHECK(strcmp(rvmsi_fault_ttyp_name(3), "untranslated write/AMO") == 0);
        CHECK(strcmp(rvmsi_fault_ttyp_name(4), "reserved") == 0);
        CHECK(strcmp(rvmsi_fault_ttyp_name(7), "translated write/AMO") == 0);
        CHECK(strcmp(rvmsi_fault_ttyp_name(9), "PCIe message request") == 0);
        for (uint32_t t = 10; t < 32; t++)
                CHECK(strcmp(rvmsi_fault_ttyp_name(t), "reserved") == 0);
        for (uint32_t t = 32; t < 64; t++)
                CHECK(strcmp(rvmsi_fault_ttyp_name(t), "custom") == 0);
        CHECK(strcmp(rvmsi_fault_ttyp_name(64), "reserved") == 0);
        CHECK(strcmp(rvmsi_fault_ttyp_name(UINT32_MAX), "reserved") == 0);
}
