/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests for lib/msi/dc.c: DC.iohgatp, the capabilities bits, MGPAW and
 * the reserved msi_addr bits it makes, and rvmsi_msi_dc_encode(), checked
 * against the RISC-V IOMMU spec text of 2026-08-02 (docs/msi-bits.md).
 */
#include "dc.h"
#include "testlib/runner.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

/* An RV64 IOMMU like QEMU's: Sv39x4..Sv57x4, MSI_FLAT and MSI_MRIF, PAS 56. */
#define CAPS_ALL (RVMSI_CAP_SV39X4 | RVMSI_CAP_SV48X4 | RVMSI_CAP_SV57X4 | RVMSI_CAP_MSI_FLAT | \
                  RVMSI_CAP_MSI_MRIF | (56ULL << RVMSI_CAP_PAS_SHIFT))

static uint64_t sv39x4_root(uint64_t root_pa, uint32_t gscid) {
        return (8ULL << 60) | ((uint64_t) gscid << 44) | (root_pa >> 12);
}

TEST(field_constants_match_spec_and_linux) {
        /* iommu-bits.h: RISCV_IOMMU_DC_IOHGATP_{PPN,GSCID,MODE}, capabilities bits. */
        CHECK_EQ(RVMSI_IOHGATP_PPN, 0x00000fffffffffffULL);
        CHECK_EQ(RVMSI_IOHGATP_GSCID, 0x0ffff00000000000ULL);
        CHECK_EQ(RVMSI_IOHGATP_MODE, 0xf000000000000000ULL);
        CHECK_EQ(RVMSI_IOHGATP_MODE_BARE, 0);
        CHECK_EQ(RVMSI_IOHGATP_MODE_SV39X4, 8);
        CHECK_EQ(RVMSI_IOHGATP_MODE_SV48X4, 9);
        CHECK_EQ(RVMSI_IOHGATP_MODE_SV57X4, 10);
        CHECK_EQ(RVMSI_IOHGATP_ROOT_ALIGN, 16384);
        CHECK_EQ(RVMSI_GSCID_MAX, 0xffff);
        CHECK_EQ(RVMSI_CAP_SV32X4, 1ULL << 16);
        CHECK_EQ(RVMSI_CAP_SV39X4, 1ULL << 17);
        CHECK_EQ(RVMSI_CAP_SV48X4, 1ULL << 18);
        CHECK_EQ(RVMSI_CAP_SV57X4, 1ULL << 19);
        CHECK_EQ(RVMSI_CAP_PAS, 0x0000003f00000000ULL);
        CHECK_EQ(RVMSI_CAP_MSI_FLAT, 1ULL << 22);
}

TEST(iohgatp_encode_decode) {
        static const unsigned modes[] = { RVMSI_IOHGATP_MODE_SV39X4, RVMSI_IOHGATP_MODE_SV48X4,
                                          RVMSI_IOHGATP_MODE_SV57X4 };
        uint64_t v = SENTINEL, root;
        unsigned mode;
        uint32_t gscid;

        CHECK_OK(rvmsi_iohgatp_encode(RVMSI_IOHGATP_MODE_BARE, 0, 0, &v));
        CHECK_EQ(v, 0);
        CHECK_OK(rvmsi_iohgatp_encode(RVMSI_IOHGATP_MODE_SV39X4, 7, 0x80404000, &v));
        CHECK_EQ(v, (8ULL << 60) | (7ULL << 44) | 0x80404);
        CHECK_OK(rvmsi_iohgatp_decode(v, &mode, &gscid, &root));
        CHECK_EQ(mode, 8);
        CHECK_EQ(gscid, 7);
        CHECK_EQ(root, 0x80404000);

        for (unsigned it = 0; it < 5000; it++) {
                unsigned m = modes[rt_rand_below(3)];
                uint32_t g = (uint32_t) rt_rand_below(0x10000);
                uint64_t pa = rt_rand() & ((1ULL << 56) - 1) & ~16383ULL;

                CHECK_OK(rvmsi_iohgatp_encode(m, g, pa, &v));
                CHECK_EQ(v, ((uint64_t) m << 60) | ((uint64_t) g << 44) | (pa >> 12));
                CHECK_OK(rvmsi_iohgatp_decode(v, &mode, &gscid, &root));
                CHECK(mode == m && gscid == g && root == pa);
        }

        /* Every MODE value: 0, 8, 9, 10 are defined with GXL = 0, the rest reserved. */
        for (unsigned m = 0; m < 16; m++) {
                bool ok = m == 0 || (m >= 8 && m <= 10);

                v = SENTINEL;
                CHECK_ERR(rvmsi_iohgatp_encode(m, 0, 0, &v), ok ? 0 : -EOPNOTSUPP);
                if (!ok)
                        CHECK_EQ(v, SENTINEL);
                mode = 99;
                CHECK_ERR(rvmsi_iohgatp_decode((uint64_t) m << 60 | 0x1234, &mode, &gscid, &root),
                          ok ? 0 : -EOPNOTSUPP);
                CHECK_EQ(mode, ok ? m : 99);
        }
        CHECK_ERR(rvmsi_iohgatp_encode(16, 0, 0, &v), -EOPNOTSUPP);

        v = SENTINEL;
        /* Bare takes neither a GSCID nor a root. */
        CHECK_ERR(rvmsi_iohgatp_encode(RVMSI_IOHGATP_MODE_BARE, 1, 0, &v), -EINVAL);
        CHECK_ERR(rvmsi_iohgatp_encode(RVMSI_IOHGATP_MODE_BARE, 0, 0x4000, &v), -EINVAL);
        /* GSCID is 16 bits. */
        CHECK_OK(rvmsi_iohgatp_encode(RVMSI_IOHGATP_MODE_SV48X4, 0xffff, 0x4000, &v));
        v = SENTINEL;
        CHECK_ERR(rvmsi_iohgatp_encode(RVMSI_IOHGATP_MODE_SV48X4, 0x10000, 0x4000, &v), -ERANGE);
        /* The root is 16 KiB, 16 KiB aligned: 4 KiB alignment is not enough. */
        for (unsigned b = 0; b < 14; b++)
                CHECK_ERR(rvmsi_iohgatp_encode(RVMSI_IOHGATP_MODE_SV39X4, 1, 0x80000000ULL | (1ULL << b), &v),
                          -EINVAL);
        /* PPN is 44 bits: below 2^56. */
        CHECK_ERR(rvmsi_iohgatp_encode(RVMSI_IOHGATP_MODE_SV57X4, 1, 1ULL << 56, &v), -ERANGE);
        CHECK_EQ(v, SENTINEL);
        CHECK_OK(rvmsi_iohgatp_encode(RVMSI_IOHGATP_MODE_SV57X4, 1, (1ULL << 56) - 16384, &v));

        /* Decode reports what is there, also what the IOMMU ignores or refuses later. */
        CHECK_OK(rvmsi_iohgatp_decode(0x0000500000001001ULL, &mode, &gscid, &root));
        CHECK(mode == 0 && gscid == 5 && root == 0x1001000);
}

TEST(mgpaw_follows_the_spec_list) {
        /* In the spec's order: the widest x4 mode wins, else PAS. */
        CHECK_EQ(rvmsi_mgpaw(RVMSI_CAP_SV57X4 | RVMSI_CAP_SV39X4), 59);
        CHECK_EQ(rvmsi_mgpaw(RVMSI_CAP_SV48X4 | RVMSI_CAP_SV39X4 | RVMSI_CAP_SV32X4), 50);
        CHECK_EQ(rvmsi_mgpaw(RVMSI_CAP_SV39X4 | (56ULL << 32)), 41);
        CHECK_EQ(rvmsi_mgpaw(RVMSI_CAP_SV32X4 | (56ULL << 32)), 34);
        CHECK_EQ(rvmsi_mgpaw(56ULL << 32), 56);
        CHECK_EQ(rvmsi_mgpaw(RVMSI_CAP_MSI_FLAT | (40ULL << 32)), 40);
        CHECK_EQ(rvmsi_mgpaw(0), 0);
        CHECK_EQ(rvmsi_mgpaw(~0ULL), 59);
        /* Without any x4 mode, whatever else is set: PAS. */
        for (unsigned pas = 0; pas < 64; pas++)
                CHECK_EQ(rvmsi_mgpaw((uint64_t) pas << 32 | (RVMSI_CAP_SV32X4 - 1) | RVMSI_CAP_MSI_FLAT |
                                     RVMSI_CAP_MSI_MRIF), pas);
}

TEST(msi_addr_reserved_bits_above_mgpaw) {
        static const struct {
                uint64_t caps;
                unsigned lowest_reserved;       /* MGPAW - 12 */
        } t[] = {
                { RVMSI_CAP_SV57X4, 47 },
                { RVMSI_CAP_SV48X4, 38 },
                { RVMSI_CAP_SV39X4, 29 },
                { RVMSI_CAP_SV32X4, 22 },
                { 56ULL << 32, 44 },
                { 63ULL << 32, 51 },
                { 12ULL << 32, 0 },
                { 0, 0 },
        };

        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                for (unsigned b = 0; b < 64; b++) {
                        uint64_t bit = 1ULL << b;
                        int want = (b >= t[i].lowest_reserved) ? -EINVAL : 0;

                        CHECK_ERR(rvmsi_msi_addr_check_caps(bit, 0, t[i].caps), want);
                        CHECK_ERR(rvmsi_msi_addr_check_caps(0, bit, t[i].caps), want);
                }
        }
        /* The lab's QEMU layout fits every x4 mode. */
        CHECK_OK(rvmsi_msi_addr_check_caps(0x1f, 0x28000, RVMSI_CAP_SV39X4));
        /* Sv39x4: a guest address at 2^41 and above cannot exist, nor can its pattern bit. */
        CHECK_ERR(rvmsi_msi_addr_check_caps(0x1f, 1ULL << (41 - 12), RVMSI_CAP_SV39X4), -EINVAL);
        CHECK_OK(rvmsi_msi_addr_check_caps(0x1f, 1ULL << (40 - 12), RVMSI_CAP_SV39X4));
}

TEST(dc_encode) {
        uint64_t iohgatp = sv39x4_root(0x80400000, 3), v = SENTINEL, mode_ppn;
        unsigned mode;

        /* The lab layout: 32 entries, 4 KiB-aligned table, under an Sv39x4 second stage. */
        CHECK_OK(rvmsi_msi_dc_encode(iohgatp, 0x80201000, 0x1f, 0x28000, CAPS_ALL, &v));
        CHECK_EQ(v, (1ULL << 60) | 0x80201);
        CHECK_OK(rvmsi_msiptp_decode(v, &mode, &mode_ppn));
        CHECK_EQ(mode, RVMSI_MSIPTP_MODE_FLAT);
        CHECK_EQ(mode_ppn << 12, 0x80201000);

        /* What the old four-argument function refused, it still refuses. */
        v = SENTINEL;
        CHECK_ERR(rvmsi_msi_dc_encode(iohgatp, 0x80201200, 0x1f, 0x28000, CAPS_ALL, &v), -EINVAL);
        CHECK_ERR(rvmsi_msi_dc_encode(iohgatp, 0x80201000, 0x1f | (1ULL << 60), 0x28000, CAPS_ALL, &v),
                  -EINVAL);
        CHECK_ERR(rvmsi_msi_dc_encode(iohgatp, 0x80201000, 0x1f, 1ULL << 52, CAPS_ALL, &v), -EINVAL);
        /* 1024 entries need 16 KiB alignment. */
        CHECK_ERR(rvmsi_msi_dc_encode(iohgatp, 0x80201000, 0x3ff, 0, CAPS_ALL, &v), -EINVAL);
        CHECK_ERR(rvmsi_msi_dc_encode(iohgatp, 1ULL << 56, 0x1f, 0, CAPS_ALL, &v), -ERANGE);
        CHECK_EQ(v, SENTINEL);
        CHECK_OK(rvmsi_msi_dc_encode(iohgatp, 0x80204000, 0x3ff, 0, CAPS_ALL, &v));
        CHECK_EQ(v, (1ULL << 60) | 0x80204);
}

TEST(dc_encode_refuses_a_bare_or_bad_second_stage) {
        uint64_t v = SENTINEL;

        /* msiptp must be Off under a Bare iohgatp (spec 2025-10-01): nothing to encode. */
        CHECK_ERR(rvmsi_msi_dc_encode(0, 0x80201000, 0x1f, 0x28000, CAPS_ALL, &v), -EINVAL);
        /* Bare with stray fields is still Bare. */
        CHECK_ERR(rvmsi_msi_dc_encode(0x0000700000080400ULL, 0x80201000, 0x1f, 0x28000, CAPS_ALL, &v),
                  -EINVAL);
        /* Reserved iohgatp modes. */
        for (uint64_t m = 1; m < 16; m++)
                if (m < 8 || m > 10)
                        CHECK_ERR(rvmsi_msi_dc_encode((m << 60) | 0x80400, 0x80201000, 0x1f, 0x28000, CAPS_ALL,
                                                      &v), -EINVAL);
        /* A mode the IOMMU does not have. */
        CHECK_ERR(rvmsi_msi_dc_encode(sv39x4_root(0x80400000, 3), 0x80201000, 0x1f, 0x28000,
                                      CAPS_ALL & ~RVMSI_CAP_SV39X4, &v), -EINVAL);
        CHECK_ERR(rvmsi_msi_dc_encode((9ULL << 60) | 0x80400, 0x80201000, 0x1f, 0x28000,
                                      CAPS_ALL & ~RVMSI_CAP_SV48X4, &v), -EINVAL);
        CHECK_ERR(rvmsi_msi_dc_encode((10ULL << 60) | 0x80400, 0x80201000, 0x1f, 0x28000,
                                      CAPS_ALL & ~RVMSI_CAP_SV57X4, &v), -EINVAL);
        /* Sv32x4 is not a GXL = 0 mode: mode 8 needs Sv39x4, whatever Sv32x4 says. */
        CHECK_ERR(rvmsi_msi_dc_encode(sv39x4_root(0x80400000, 3), 0x80201000, 0x1f, 0x28000,
                                      RVMSI_CAP_SV32X4 | RVMSI_CAP_MSI_FLAT | (56ULL << 32), &v), -EINVAL);
        /* The root of the second stage is 16 KiB aligned. */
        CHECK_ERR(rvmsi_msi_dc_encode(sv39x4_root(0x80401000, 3), 0x80201000, 0x1f, 0x28000, CAPS_ALL, &v),
                  -EINVAL);
        /* No MSI_FLAT: the DC has no MSI fields at all. */
        CHECK_ERR(rvmsi_msi_dc_encode(sv39x4_root(0x80400000, 3), 0x80201000, 0x1f, 0x28000,
                                      CAPS_ALL & ~RVMSI_CAP_MSI_FLAT, &v), -EOPNOTSUPP);
        /* Mask and pattern within 2^41 for Sv39x4 alone, but not beyond. */
        CHECK_ERR(rvmsi_msi_dc_encode(sv39x4_root(0x80400000, 3), 0x80201000, 0x1f, 1ULL << 29,
                                      RVMSI_CAP_SV39X4 | RVMSI_CAP_MSI_FLAT | (56ULL << 32), &v), -EINVAL);
        CHECK_EQ(v, SENTINEL);
        CHECK_OK(rvmsi_msi_dc_encode(sv39x4_root(0x80400000, 3), 0x80201000, 0x1f, 1ULL << 28,
                                     RVMSI_CAP_SV39X4 | RVMSI_CAP_MSI_FLAT | (56ULL << 32), &v));
        /* ... and the same pattern is fine with Sv57x4. */
        CHECK_OK(rvmsi_msi_dc_encode(sv39x4_root(0x80400000, 3), 0x80201000, 0x1f, 1ULL << 29, CAPS_ALL, &v));
}

TEST(dc_encode_random_placements) {
        uint64_t iohgatp = sv39x4_root(0x80400000, 1), v;

        for (unsigned it = 0; it < 2000; it++) {
                unsigned k = (unsigned) rt_rand_below(20);
                uint64_t mask = 0, size, align, pa;

                /* k distinct bits below bit 29 (Sv39x4: page-number bits 28:0 are usable). */
                while (rvmsi_hweight64(mask) < k)
                        mask |= 1ULL << rt_rand_below(29);
                size = 16ULL << k;
                align = size < 4096 ? 4096 : size;
                pa = (rt_rand() & ((1ULL << 56) - 1)) & ~(align - 1);
                CHECK_OK(rvmsi_msi_dc_encode(iohgatp, pa, mask, 0, CAPS_ALL, &v));
                CHECK_EQ(v, (1ULL << 60) | (pa >> 12));
                if (align > 4096)
                        CHECK_ERR(rvmsi_msi_dc_encode(iohgatp, pa | 4096, mask, 0, CAPS_ALL, &v), -EINVAL);
        }
}

/* ---- rvmsi_dc_check() ---- */

/* A DC rvmsi would write: Sv39x4 second stage, Flat table of 512 entries (8 KiB, naturally aligned). */
static struct rvmsi_dc_view good_dc(void) {
        return (struct rvmsi_dc_view) {
                .tc = RVMSI_DC_TC_V,
                .iohgatp = sv39x4_root(0x80400000, 3),
                .msiptp = (1ULL << 60) | 0x80202,
                .msi_addr_mask = 0x1ff,
                .msi_addr_pattern = 0x28000,
        };
}

/* Its Bare twin: msiptp Off, no second stage. */
static struct rvmsi_dc_view good_bare_dc(void) {
        return (struct rvmsi_dc_view) { .tc = RVMSI_DC_TC_V };
}

TEST(dc_check_good) {
        struct rvmsi_dc_view dc = good_dc();

        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_OK);
        dc = good_bare_dc();
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_OK);
        /* Bare with msiptp Off may keep a mask and pattern: they are not used, nor reserved. */
        dc.msi_addr_mask = 0x1f;
        dc.msi_addr_pattern = 0x28000;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_OK);
        /* ta and fsc are not this checker's business. */
        dc = good_dc();
        dc.ta = dc.fsc = ~0ULL;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_OK);
        CHECK_EQ(rvmsi_dc_problem_fault_cause(RVMSI_DC_OK), 0);
}

TEST(dc_check_each_rule) {
        struct rvmsi_dc_view dc;

        /* V = 0: nothing else matters. */
        dc = (struct rvmsi_dc_view) { .iohgatp = ~0ULL, .msiptp = ~0ULL, .msi_addr_mask = ~0ULL };
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_INVALID);

        /* iohgatp.MODE, all 16 values, with and without each capability. */
        for (uint64_t m = 0; m < 16; m++) {
                dc = good_dc();
                dc.iohgatp = (dc.iohgatp & ~RVMSI_IOHGATP_MODE) | (m << 60);
                if (m == 0)
                        dc = good_bare_dc();
                if (m == 0 || (m >= 8 && m <= 10)) {
                        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_OK);
                        if (m >= 8)
                                CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL & ~(RVMSI_CAP_SV39X4 << (m - 8))),
                                         RVMSI_DC_IOHGATP_MODE_UNSUPPORTED);
                } else {
                        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_IOHGATP_MODE_RESERVED);
                }
        }
        /* Sv32x4 does not make mode 8 supported (GXL = 0). */
        dc = good_dc();
        CHECK_EQ(rvmsi_dc_check(&dc, (CAPS_ALL & ~RVMSI_CAP_SV39X4) | RVMSI_CAP_SV32X4),
                 RVMSI_DC_IOHGATP_MODE_UNSUPPORTED);

        /* The 16 KiB root: PPN bits 1:0 clear. */
        for (uint64_t b = 0; b < 44; b++) {
                dc = good_dc();
                dc.iohgatp = (dc.iohgatp & ~RVMSI_IOHGATP_PPN) | (1ULL << b);
                CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), b < 2 ? RVMSI_DC_IOHGATP_ROOT_MISALIGNED : RVMSI_DC_OK);
        }

        /* T2GPA needs a second stage. */
        dc = good_bare_dc();
        dc.tc |= RVMSI_DC_TC_T2GPA;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_T2GPA_UNDER_BARE);
        dc = good_dc();
        dc.tc |= RVMSI_DC_TC_T2GPA;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_OK);

        /* msiptp reserved bits [59:44]. */
        for (unsigned b = 44; b < 60; b++) {
                dc = good_dc();
                dc.msiptp |= 1ULL << b;
                CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_MSIPTP_RSVD_BITS);
        }
        /* msiptp.MODE: Off and Flat only; 2..13 reserved and 14..15 custom are both misconfigured. */
        for (uint64_t m = 0; m < 16; m++) {
                dc = good_dc();
                dc.msiptp = (dc.msiptp & ~RVMSI_MSIPTP_MODE) | (m << 60);
                CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), m <= 1 ? RVMSI_DC_OK : RVMSI_DC_MSIPTP_MODE_RESERVED);
        }

        /* mask/pattern: [63:52] always, [51:MGPAW-12] per capabilities (2025-07-25). */
        dc = good_dc();
        dc.msi_addr_mask |= 1ULL << 52;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_MSI_ADDR_RSVD);
        dc = good_dc();
        dc.msi_addr_pattern |= 1ULL << 47;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_MSI_ADDR_RSVD);
        dc.msi_addr_pattern &= ~(1ULL << 47);
        dc.msi_addr_pattern |= 1ULL << 46;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_OK);
        CHECK_EQ(rvmsi_dc_check(&dc, RVMSI_CAP_SV39X4 | RVMSI_CAP_MSI_FLAT | (56ULL << 32)),
                 RVMSI_DC_MSI_ADDR_RSVD);

        /* msiptp not Off under Bare (2025-10-01), whatever the table looks like. */
        dc = good_dc();
        dc.iohgatp = 0;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_MSIPTP_UNDER_BARE);

        /* Table alignment, as rvmsi_msi_table_check_addr() has it: 512 entries want 8 KiB. */
        dc = good_dc();
        dc.msiptp |= 1;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_MSI_TABLE_MISALIGNED);
        dc.msi_addr_mask = 0xff;        /* 256 entries: 4 KiB is enough */
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_OK);
        /* With msiptp Off, the PPN points at nothing. */
        dc = good_dc();
        dc.msiptp = 0x80201;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_OK);

        /* Bare with stray GSCID or PPN: rvmsi's canonical form only. */
        dc = good_bare_dc();
        dc.iohgatp = 1ULL << 44;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_IOHGATP_BARE_FIELDS);
        dc.iohgatp = 1;
        CHECK_EQ(rvmsi_dc_check(&dc, CAPS_ALL), RVMSI_DC_IOHGATP_BARE_FIELDS);
}

TEST(dc_check_without_msi_flat_ignores_the_msi_fields) {
        uint64_t caps = CAPS_ALL & ~RVMSI_CAP_MSI_FLAT;
        struct rvmsi_dc_view dc = good_dc();

        /* A base-format DC has no msiptp, mask or pattern: whatever the view holds there is not checked. */
        dc.msiptp = ~0ULL;
        dc.msi_addr_mask = dc.msi_addr_pattern = ~0ULL;
        CHECK_EQ(rvmsi_dc_check(&dc, caps), RVMSI_DC_OK);
        dc.iohgatp = 0;
        CHECK_EQ(rvmsi_dc_check(&dc, caps), RVMSI_DC_OK);
        /* The iohgatp rules still apply. */
        dc.iohgatp = 5ULL << 60;
        CHECK_EQ(rvmsi_dc_check(&dc, caps), RVMSI_DC_IOHGATP_MODE_RESERVED);
}

/*
 * The documented order: inject any subset of problems into a good DC and the first one in the order comes out.
 * Injections run from the last problem to the first, so where two touch the same field (msiptp.MODE, say) the
 * earlier problem's value is the one left, as the order says it must be found.
 */
struct injection {
        enum rvmsi_dc_problem p;
        void (*fn)(struct rvmsi_dc_view *dc, uint64_t *caps);
};

static void inj_invalid(struct rvmsi_dc_view *dc, uint64_t *caps) { dc->tc &= ~RVMSI_DC_TC_V; }
static void inj_mode_reserved(struct rvmsi_dc_view *dc, uint64_t *caps) {
        dc->iohgatp = (dc->iohgatp & ~RVMSI_IOHGATP_MODE) | (5ULL << 60);
}
static void inj_mode_unsupported(struct rvmsi_dc_view *dc, uint64_t *caps) { *caps &= ~RVMSI_CAP_SV39X4; }
static void inj_root(struct rvmsi_dc_view *dc, uint64_t *caps) { dc->iohgatp |= 2; }
static void inj_t2gpa(struct rvmsi_dc_view *dc, uint64_t *caps) { dc->tc |= RVMSI_DC_TC_T2GPA; }
static void inj_msiptp_rsvd(struct rvmsi_dc_view *dc, uint64_t *caps) { dc->msiptp |= 1ULL << 50; }
static void inj_msiptp_mode(struct rvmsi_dc_view *dc, uint64_t *caps) {
        dc->msiptp = (dc->msiptp & ~RVMSI_MSIPTP_MODE) | (14ULL << 60);
}
static void inj_addr_rsvd(struct rvmsi_dc_view *dc, uint64_t *caps) { dc->msi_addr_pattern |= 1ULL << 48; }
static void inj_under_bare(struct rvmsi_dc_view *dc, uint64_t *caps) {
        dc->msiptp = (dc->msiptp & ~RVMSI_MSIPTP_MODE) | (1ULL << 60);
}
static void inj_table(struct rvmsi_dc_view *dc, uint64_t *caps) {
        dc->msiptp = (1ULL << 60) | 0x80201;    /* odd PPN: misaligned for 512 entries */
}
static void inj_bare_fields(struct rvmsi_dc_view *dc, uint64_t *caps) { dc->iohgatp |= 7ULL << 44; }

static void check_order(struct rvmsi_dc_view base, const struct injection *inj, size_t n) {
        for (uint32_t set = 1; set < (1U << n); set++) {
                struct rvmsi_dc_view dc = base;
                uint64_t caps = CAPS_ALL;
                size_t first = n;

                for (size_t i = n; i-- > 0;)
                        if (set & (1U << i)) {
                                inj[i].fn(&dc, &caps);
                                first = i;
                        }
                if (!CHECK_EQ(rvmsi_dc_check(&dc, caps), inj[first].p))
                        fprintf(stderr, "  injected set 0x%x\n", set);
        }
}

TEST(dc_check_order) {
        /* The order of rvmsi_dc_check()'s comment, on a DC with a second stage ... */
        static const struct injection staged[] = {
                { RVMSI_DC_INVALID, inj_invalid },
                { RVMSI_DC_IOHGATP_MODE_RESERVED, inj_mode_reserved },
                { RVMSI_DC_IOHGATP_MODE_UNSUPPORTED, inj_mode_unsupported },
                { RVMSI_DC_IOHGATP_ROOT_MISALIGNED, inj_root },
                { RVMSI_DC_MSIPTP_RSVD_BITS, inj_msiptp_rsvd },
                { RVMSI_DC_MSIPTP_MODE_RESERVED, inj_msiptp_mode },
                { RVMSI_DC_MSI_ADDR_RSVD, inj_addr_rsvd },
                { RVMSI_DC_MSI_TABLE_MISALIGNED, inj_table },
        };
        /* ... and on a Bare one. */
        static const struct injection bare[] = {
                { RVMSI_DC_INVALID, inj_invalid },
                { RVMSI_DC_T2GPA_UNDER_BARE, inj_t2gpa },
                { RVMSI_DC_MSIPTP_RSVD_BITS, inj_msiptp_rsvd },
                { RVMSI_DC_MSIPTP_MODE_RESERVED, inj_msiptp_mode },
                { RVMSI_DC_MSI_ADDR_RSVD, inj_addr_rsvd },
                { RVMSI_DC_MSIPTP_UNDER_BARE, inj_under_bare },
                { RVMSI_DC_IOHGATP_BARE_FIELDS, inj_bare_fields },
        };
        struct rvmsi_dc_view b = good_bare_dc();

        check_order(good_dc(), staged, ARRAY_SIZE(staged));
        b.msi_addr_mask = 0x1ff;
        check_order(b, bare, ARRAY_SIZE(bare));
}

/* What rvmsi_msi_dc_encode() accepts is exactly what the checker passes, for a DC with that msiptp. */
TEST(dc_check_agrees_with_dc_encode) {
        static const uint64_t iohgatps[] = {
                0, (8ULL << 60) | (3ULL << 44) | 0x80400, (9ULL << 60) | 0x80400, (10ULL << 60) | 0x80400,
                (8ULL << 60) | 0x80401, (5ULL << 60) | 0x80400, 7ULL << 44,
        };
        static const uint64_t cap_bits[] = {
                RVMSI_CAP_SV32X4, RVMSI_CAP_SV39X4, RVMSI_CAP_SV48X4, RVMSI_CAP_SV57X4,
        };
        unsigned accepted = 0, refused = 0;

        for (unsigned it = 0; it < 20000; it++) {
                uint64_t caps = RVMSI_CAP_MSI_FLAT | ((uint64_t) (30 + rt_rand_below(27)) << 32), msiptp = SENTINEL;
                uint64_t mask = 0, pattern, table_pa;
                unsigned k = (unsigned) rt_rand_below(12);
                struct rvmsi_dc_view dc;
                int r;

                for (size_t i = 0; i < ARRAY_SIZE(cap_bits); i++)
                        if (rt_rand() & 1)
                                caps |= cap_bits[i];
                while (rvmsi_hweight64(mask) < k)
                        mask |= 1ULL << rt_rand_below(rt_rand() % 8 ? 29 : 52);
                pattern = rt_rand() & (rt_rand() % 4 ? GENMASK_ULL(28, 0) : GENMASK_ULL(52, 0));
                table_pa = (rt_rand() & GENMASK_ULL(55, 12)) & ~(rt_rand() % 4 ? GENMASK_ULL(17, 0) : 0);
                dc = (struct rvmsi_dc_view) {
                        .tc = RVMSI_DC_TC_V,
                        .iohgatp = iohgatps[rt_rand_below(ARRAY_SIZE(iohgatps))],
                        .msiptp = (1ULL << 60) | (table_pa >> 12),
                        .msi_addr_mask = mask,
                        .msi_addr_pattern = pattern,
                };
                r = rvmsi_msi_dc_encode(dc.iohgatp, table_pa, mask, pattern, caps, &msiptp);
                CHECK_EQ(r == 0, rvmsi_dc_check(&dc, caps) == RVMSI_DC_OK);
                if (r == 0) {
                        CHECK_EQ(msiptp, dc.msiptp);
                        accepted++;
                } else {
                        refused++;
                }
        }
        /* Both sides were exercised. */
        CHECK(accepted > 1000 && refused > 1000);
}

TEST(dc_problem_names_and_causes) {
        static const struct {
                enum rvmsi_dc_problem p;
                const char *name;
                unsigned cause;
        } t[] = {
                { RVMSI_DC_OK, "ok", 0 },
                { RVMSI_DC_INVALID, "invalid", 258 },
                { RVMSI_DC_MSIPTP_UNDER_BARE, "msiptp-under-bare", 259 },
                { RVMSI_DC_MSIPTP_MODE_RESERVED, "msiptp-mode-reserved", 259 },
                { RVMSI_DC_MSIPTP_RSVD_BITS, "msiptp-rsvd-bits", 259 },
                { RVMSI_DC_MSI_ADDR_RSVD, "msi-addr-rsvd", 259 },
                { RVMSI_DC_MSI_TABLE_MISALIGNED, "msi-table-misaligned", 0 },
                { RVMSI_DC_IOHGATP_MODE_UNSUPPORTED, "iohgatp-mode-unsupported", 259 },
                { RVMSI_DC_IOHGATP_ROOT_MISALIGNED, "iohgatp-root-misaligned", 259 },
                { RVMSI_DC_IOHGATP_BARE_FIELDS, "iohgatp-bare-fields", 0 },
                { RVMSI_DC_IOHGATP_MODE_RESERVED, "iohgatp-mode-reserved", 259 },
                { RVMSI_DC_T2GPA_UNDER_BARE, "t2gpa-under-bare", 259 },
        };

        /* The numbering is part of the interface: pinned. */
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                const char *n = rvmsi_dc_problem_name(t[i].p);

                CHECK_EQ(t[i].p, i);
                if (!CHECK(n && strcmp(n, t[i].name) == 0))
                        fprintf(stderr, "  problem %zu is named '%s'\n", i, n ? n : "(null)");
                CHECK_EQ(rvmsi_dc_problem_fault_cause(t[i].p), t[i].cause);
                for (const char *c = n; c && *c; c++)
                        CHECK((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-');
        }
        CHECK(strcmp(rvmsi_dc_problem_name((enum rvmsi_dc_problem) ARRAY_SIZE(t)), "unknown") == 0);
        CHECK(strcmp(rvmsi_dc_problem_name((enum rvmsi_dc_problem) 1000), "unknown") == 0);
        CHECK_EQ(rvmsi_dc_problem_fault_cause((enum rvmsi_dc_problem) 1000), 0);
        CHECK_EQ(RVMSI_CAUSE_DDT_INVALID, 258);
        CHECK_EQ(RVMSI_CAUSE_DDT_MISCONFIGURED, 259);
}
