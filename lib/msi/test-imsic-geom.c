/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests for lib/msi/imsic_geom.c: file addresses, the reverse lookup, the
 * covering msi_addr_mask/pattern and the table index of every file, on the
 * QEMU virt layout the lab uses, on large machines (4096 harts, GEILEN 63,
 * several groups) and on random geometries against a naive model written
 * with the AIA spec's arithmetic (g * 2^E + B + h * 2^D + guest * 4 KiB).
 */
#include "imsic_geom.h"
#include "msi_table.h"
#include "testlib/runner.h"

#define SENTINEL32 0xdeadbeefU

/*
 * QEMU's virt machine (hw/riscv/virt.c): S-level IMSICs at 0x28000000, one
 * group per socket 2^24 apart, guest-index-bits = ceil(log2(aia-guests + 1)),
 * hart-index-bits = ceil(log2(max harts per socket)), 255 identities.
 */
static struct rvmsi_imsic_geom qemu_virt(uint32_t sockets, uint32_t harts, uint32_t aia_guests) {
        return (struct rvmsi_imsic_geom) {
                .base = 0x28000000,
                .guest_index_bits = rvmsi_order_base_2((uint64_t) aia_guests + 1),
                .hart_index_bits = rvmsi_order_base_2(harts),
                .group_index_bits = rvmsi_order_base_2(sockets),
                .group_index_shift = 24,
                .nr_groups = sockets,
                .nr_harts = harts,
                .geilen = aia_guests,
                .nr_ids = 255,
                .nr_guest_ids = aia_guests ? 255 : 0,
        };
}

static uint64_t naive_file_addr(const struct rvmsi_imsic_geom *g, uint64_t group, uint64_t hart,
                                uint64_t guest) {
        uint64_t D = 12 + g->guest_index_bits, E = g->group_index_shift;

        return group * (1ULL << E) + g->base + hart * (1ULL << D) + guest * 4096;
}

static unsigned naive_popcount(uint64_t x) {
        unsigned n = 0;

        for (unsigned i = 0; i < 64; i++)
                n += (x >> i) & 1;
        return n;
}

/* Check every file of a (not too large) geometry in both directions. */
static void check_all_files(const struct rvmsi_imsic_geom *g) {
        uint64_t mask, pattern, entries, nfiles = 0, or_pages = 0;
        uint8_t *seen;

        if (!CHECK_OK(rvmsi_imsic_msi_mask_pattern(g, &mask, &pattern)))
                return;
        CHECK_OK(rvmsi_msi_addr_check(mask, pattern));
        CHECK_EQ(pattern & mask, 0);
        CHECK_OK(rvmsi_imsic_table_entries(g, &entries));
        CHECK_EQ(entries, 1ULL << naive_popcount(mask));
        seen = calloc(entries, 1);
        if (!CHECK(seen))
                return;

        for (uint32_t gr = 0; gr < g->nr_groups; gr++)
                for (uint32_t h = 0; h < g->nr_harts; h++)
                        for (uint32_t gu = 0; gu <= g->geilen; gu++) {
                                uint64_t pa = 0, idx = 0, back = 0;
                                uint32_t rg = SENTINEL32, rh = SENTINEL32, rgu = SENTINEL32;

                                nfiles++;
                                CHECK_OK(rvmsi_imsic_file_addr(g, gr, h, gu, &pa));
                                CHECK_EQ(pa, naive_file_addr(g, gr, h, gu));
                                CHECK_EQ(pa & 0xfff, 0);
                                CHECK(pa < (1ULL << 56));
                                or_pages |= pa >> 12;
                                CHECK_OK(rvmsi_imsic_file_locate(g, pa | (rt_rand() & 0xfff), &rg, &rh, &rgu));
                                CHECK(rg == gr && rh == h && rgu == gu);
                                CHECK(rvmsi_msi_addr_match(pa, mask, pattern));
                                CHECK_OK(rvmsi_imsic_file_index(g, gr, h, gu, &idx));
                                CHECK(idx < entries);
                                if (idx < entries) {
                                        CHECK_EQ(seen[idx], 0);         /* one file per entry */
                                        seen[idx] = 1;
                                }
                                CHECK_OK(rvmsi_msi_index_addr(idx, mask, pattern, &back));
                                CHECK_EQ(back, pa);
                                rg = rh = rgu = SENTINEL32;
                                CHECK_OK(rvmsi_imsic_index_file(g, idx, &rg, &rh, &rgu));
                                CHECK(rg == gr && rh == h && rgu == gu);
                        }

        /* Every other entry is a hole inside the IMSIC region, never a file. */
        for (uint64_t idx = 0; idx < entries; idx++) {
                uint64_t pa;

                if (seen[idx])
                        continue;
                CHECK_ERR(rvmsi_imsic_index_file(g, idx, NULL, NULL, NULL), -ENOENT);
                CHECK_OK(rvmsi_msi_index_addr(idx, mask, pattern, &pa));
                CHECK_ERR(rvmsi_imsic_file_locate(g, pa, NULL, NULL, NULL), -EINVAL);
        }
        CHECK_ERR(rvmsi_imsic_index_file(g, entries, NULL, NULL, NULL), -ERANGE);
        CHECK_EQ(nfiles, (uint64_t) g->nr_groups * g->nr_harts * (g->geilen + 1));

        /* The mask is tight: every mask bit is set in the page of some file. */
        CHECK_EQ(or_pages & mask, mask);
        free(seen);
}

TEST(qemu_virt_lab_layout) {
        /* The lab: -M virt,aia=aplic-imsic,aia-guests=5 -smp 4 */
        struct rvmsi_imsic_geom g = qemu_virt(1, 4, 5);
        uint64_t pa, mask, pattern, idx, entries, size;
        uint32_t gr, h, gu;

        CHECK_EQ(g.guest_index_bits, 3);
        CHECK_EQ(g.hart_index_bits, 2);
        CHECK_EQ(g.group_index_bits, 0);
        CHECK_OK(rvmsi_imsic_geom_validate(&g));

        /* Hart stride 2^(3+12) = 0x8000: S-file, then guest files 1..5. */
        CHECK_OK(rvmsi_imsic_file_addr(&g, 0, 0, 0, &pa));
        CHECK_EQ(pa, 0x28000000);
        CHECK_OK(rvmsi_imsic_file_addr(&g, 0, 1, 0, &pa));
        CHECK_EQ(pa, 0x28008000);
        CHECK_OK(rvmsi_imsic_file_addr(&g, 0, 3, 5, &pa));
        CHECK_EQ(pa, 0x2801d000);
        CHECK_OK(rvmsi_imsic_file_addr(&g, 0, 2, 1, &pa));
        CHECK_EQ(pa, 0x28011000);

        CHECK_OK(rvmsi_imsic_msi_mask_pattern(&g, &mask, &pattern));
        CHECK_EQ(mask, 0x1f);
        CHECK_EQ(pattern, 0x28000);
        CHECK_OK(rvmsi_imsic_table_entries(&g, &entries));
        CHECK_EQ(entries, 32);
        CHECK_OK(rvmsi_msi_table_size(mask, &size));
        CHECK_EQ(size, 512);

        CHECK_OK(rvmsi_imsic_file_index(&g, 0, 3, 5, &idx));
        CHECK_EQ(idx, 3 * 8 + 5);
        CHECK_OK(rvmsi_imsic_index_file(&g, 2 * 8 + 4, &gr, &h, &gu));
        CHECK(gr == 0 && h == 2 && gu == 4);
        /* Guest numbers 6 and 7 of each hart are holes. */
        CHECK_ERR(rvmsi_imsic_index_file(&g, 6, &gr, &h, &gu), -ENOENT);
        CHECK_ERR(rvmsi_imsic_index_file(&g, 3 * 8 + 7, &gr, &h, &gu), -ENOENT);
        CHECK_ERR(rvmsi_imsic_file_locate(&g, 0x28006000, &gr, &h, &gu), -EINVAL);
        /* The M-level files (0x24000000) and the page past hart 3 are not ours. */
        CHECK_ERR(rvmsi_imsic_file_locate(&g, 0x24000000, &gr, &h, &gu), -EINVAL);
        CHECK_ERR(rvmsi_imsic_file_locate(&g, 0x28020000, &gr, &h, &gu), -EINVAL);
        CHECK(!rvmsi_msi_addr_match(0x28020000, mask, pattern));
        CHECK(!rvmsi_msi_addr_match(0x27fff000, mask, pattern));
        CHECK(!rvmsi_msi_addr_match(0x24000000, mask, pattern));
        /* Outputs are optional. */
        CHECK_OK(rvmsi_imsic_file_locate(&g, 0x2801d000, NULL, NULL, NULL));
        CHECK_OK(rvmsi_imsic_index_file(&g, 29, NULL, NULL, NULL));
        /* Any offset inside a file page locates the file (seteipnum_be too). */
        CHECK_OK(rvmsi_imsic_file_locate(&g, 0x2801d004, &gr, &h, &gu));
        CHECK(gr == 0 && h == 3 && gu == 5);
        check_all_files(&g);
}

TEST(qemu_virt_multi_socket) {
        struct rvmsi_imsic_geom g = qemu_virt(2, 4, 5);
        uint64_t pa, mask, pattern;
        uint32_t gr, h, gu;

        CHECK_OK(rvmsi_imsic_geom_validate(&g));
        CHECK_OK(rvmsi_imsic_file_addr(&g, 1, 0, 0, &pa));
        CHECK_EQ(pa, 0x29000000);
        CHECK_OK(rvmsi_imsic_file_addr(&g, 1, 3, 5, &pa));
        CHECK_EQ(pa, 0x2901d000);
        CHECK_OK(rvmsi_imsic_file_locate(&g, 0x29008abc, &gr, &h, &gu));
        CHECK(gr == 1 && h == 1 && gu == 0);
        CHECK_OK(rvmsi_imsic_msi_mask_pattern(&g, &mask, &pattern));
        /* guest 3 bits, hart 2 bits, group bit 24 -> page bit 12 */
        CHECK_EQ(mask, 0x1f | (1ULL << 12));
        CHECK_EQ(pattern, 0x28000);
        check_all_files(&g);

        g = qemu_virt(8, 8, 7);
        CHECK_OK(rvmsi_imsic_geom_validate(&g));
        check_all_files(&g);
}

TEST(each_index_bit_position) {
        struct rvmsi_imsic_geom g = {
                .base = 0x100000000000ULL, .guest_index_bits = 6, .hart_index_bits = 12,
                .group_index_bits = 4, .group_index_shift = 40, .nr_groups = 16,
                .nr_harts = 4096, .geilen = 63, .nr_ids = 2047, .nr_guest_ids = 2047,
        };
        uint64_t pa, mask, pattern, idx;

        CHECK_OK(rvmsi_imsic_geom_validate(&g));
        for (unsigned b = 0; b < 6; b++) {
                CHECK_OK(rvmsi_imsic_file_addr(&g, 0, 0, 1U << b, &pa));
                CHECK_EQ(pa, g.base | (1ULL << (12 + b)));
                CHECK_OK(rvmsi_imsic_file_index(&g, 0, 0, 1U << b, &idx));
                CHECK_EQ(idx, 1ULL << b);
        }
        for (unsigned b = 0; b < 12; b++) {
                CHECK_OK(rvmsi_imsic_file_addr(&g, 0, 1U << b, 0, &pa));
                CHECK_EQ(pa, g.base | (1ULL << (18 + b)));
                CHECK_OK(rvmsi_imsic_file_index(&g, 0, 1U << b, 0, &idx));
                CHECK_EQ(idx, 1ULL << (6 + b));
        }
        for (unsigned b = 0; b < 4; b++) {
                CHECK_OK(rvmsi_imsic_file_addr(&g, 1U << b, 0, 0, &pa));
                CHECK_EQ(pa, g.base | (1ULL << (40 + b)));
                CHECK_OK(rvmsi_imsic_file_index(&g, 1U << b, 0, 0, &idx));
                CHECK_EQ(idx, 1ULL << (18 + b));
        }
        CHECK_OK(rvmsi_imsic_msi_mask_pattern(&g, &mask, &pattern));
        CHECK_EQ(mask, GENMASK_ULL(17, 0) | GENMASK_ULL(31, 28));
        CHECK_EQ(pattern, g.base >> 12);
}

TEST(many_harts_geilen_63) {
        /* 4 groups of 4096 harts with 63 guest files each: 1,048,576 files. */
        struct rvmsi_imsic_geom g = {
                .base = 0x800000000ULL, .guest_index_bits = 6, .hart_index_bits = 12,
                .group_index_bits = 2, .group_index_shift = 36, .nr_groups = 4,
                .nr_harts = 4096, .geilen = 63, .nr_ids = 2047, .nr_guest_ids = 1023,
        };
        uint64_t entries, size, align;

        CHECK_OK(rvmsi_imsic_geom_validate(&g));
        CHECK_OK(rvmsi_imsic_table_entries(&g, &entries));
        CHECK_EQ(entries, 1ULL << 20);          /* no holes: all counts are powers of two */
        {
                uint64_t mask, pattern;

                CHECK_OK(rvmsi_imsic_msi_mask_pattern(&g, &mask, &pattern));
                CHECK_OK(rvmsi_msi_table_size(mask, &size));
                CHECK_EQ(size, 16ULL << 20);
                CHECK_OK(rvmsi_msi_table_align(mask, &align));
                CHECK_EQ(align, 16ULL << 20);
        }
        check_all_files(&g);

        /* 4096 harts but GEILEN 62 and 3000 harts: holes appear. */
        g.geilen = 62;
        g.nr_harts = 3000;
        g.nr_groups = 3;
        CHECK_OK(rvmsi_imsic_geom_validate(&g));
        check_all_files(&g);
}

TEST(geilen_range) {
        for (uint32_t geilen = 0; geilen <= 63; geilen++) {
                struct rvmsi_imsic_geom g = qemu_virt(1, 3, geilen);
                uint64_t mask, pattern;

                CHECK_OK(rvmsi_imsic_geom_validate(&g));
                CHECK_OK(rvmsi_imsic_msi_mask_pattern(&g, &mask, &pattern));
                /* guest part of the mask: just enough bits for S + GEILEN files */
                CHECK_EQ(mask & ((1ULL << g.guest_index_bits) - 1),
                         (1ULL << rvmsi_order_base_2((uint64_t) geilen + 1)) - 1);
                check_all_files(&g);
                /* One guest-index bit fewer can no longer hold S + GEILEN files. */
                if (g.guest_index_bits) {
                        g.guest_index_bits--;
                        CHECK_ERR(rvmsi_imsic_geom_validate(&g), -EINVAL);
                }
        }
        {
                struct rvmsi_imsic_geom g = qemu_virt(1, 1, 63);

                g.geilen = 64;
                g.guest_index_bits = 7;
                CHECK_ERR(rvmsi_imsic_geom_validate(&g), -EINVAL);
        }
}

TEST(validate_rejects) {
        struct rvmsi_imsic_geom ok = qemu_virt(2, 4, 5), g;

        CHECK_OK(rvmsi_imsic_geom_validate(&ok));

#define REJECT(stmt)                                                    \
        do {                                                            \
                g = ok;                                                 \
                stmt;                                                   \
                CHECK_ERR(rvmsi_imsic_geom_validate(&g), -EINVAL);      \
        } while (0)

        REJECT(g.guest_index_bits = 9);
        REJECT(g.hart_index_bits = 17);
        REJECT(g.group_index_bits = 9);
        REJECT(g.group_index_shift = 23);
        REJECT(g.group_index_shift = 57);
        REJECT(g.nr_groups = 0);
        REJECT(g.nr_groups = 3);                /* 1 group bit: at most 2 groups */
        REJECT(g.nr_harts = 0);
        REJECT(g.nr_harts = 5);
        REJECT(g.geilen = 8);                   /* 3 guest bits: S + 7 files at most */
        REJECT(g.nr_ids = 62);
        REJECT(g.nr_ids = 64);
        REJECT(g.nr_ids = 2048);                /* Linux's IMSIC_MAX_ID, excluded there too */
        REJECT(g.nr_ids = 4095);
        REJECT(g.nr_guest_ids = 0);             /* guest files exist */
        REJECT(g.nr_guest_ids = 100);
        REJECT(g.base |= 0x1000);               /* inside the guest field */
        REJECT(g.base |= 0x10000);              /* inside the hart field */
        REJECT(g.base |= 0x1000000);            /* inside the group field */
        REJECT(g.base |= 0x800);                /* not page aligned */
        REJECT(g.base = 1ULL << 56);
        /* hart field (12 + 3 + 16 = 31) overlapping the group field at 24 */
        REJECT(g.hart_index_bits = 16);
        /* ... the same with a base that is aligned for it: only the overlap is wrong */
        REJECT((g.base = 1ULL << 40, g.hart_index_bits = 16));
        REJECT((g.base = 1ULL << 40, g.hart_index_bits = 10));  /* 12 + 3 + 10 = 25 > 24 */
        g = ok;
        g.base = 1ULL << 40;
        g.hart_index_bits = 9;                                  /* 12 + 3 + 9 = 24: fits */
        CHECK_OK(rvmsi_imsic_geom_validate(&g));
        /* group field ending above bit 56 */
        REJECT((g.group_index_shift = 56, g.group_index_bits = 1));
        REJECT((g.group_index_shift = 50, g.group_index_bits = 8, g.nr_groups = 2));
#undef REJECT

        /* Without groups the shift only has to be in range (Linux parity). */
        g = qemu_virt(1, 4, 5);
        g.hart_index_bits = 16;
        g.group_index_shift = 24;
        CHECK_ERR(rvmsi_imsic_geom_validate(&g), -EINVAL);     /* base now inside the hart field */
        g.base = 0x80000000;                                    /* 2^31: above 12 + 3 + 16 bits */
        CHECK_OK(rvmsi_imsic_geom_validate(&g));
        g.group_index_shift = 56;
        CHECK_OK(rvmsi_imsic_geom_validate(&g));
        /* No guest files: nr_guest_ids may be 0. */
        g = qemu_virt(1, 4, 0);
        CHECK_OK(rvmsi_imsic_geom_validate(&g));
        CHECK_EQ(g.guest_index_bits, 0);
        g.nr_guest_ids = 63;                    /* allowed, and checked like nr_ids */
        CHECK_OK(rvmsi_imsic_geom_validate(&g));
        g.nr_guest_ids = 100;
        CHECK_ERR(rvmsi_imsic_geom_validate(&g), -EINVAL);
        g.nr_guest_ids = 0;
        for (uint32_t n = 63; n <= 2047; n += 64) {
                g.nr_ids = n;
                CHECK_OK(rvmsi_imsic_geom_validate(&g));
        }
}

TEST(errors_leave_outputs_untouched) {
        struct rvmsi_imsic_geom g = qemu_virt(1, 4, 5), bad = g;
        uint64_t v = 0x5a5a;
        uint32_t gr = SENTINEL32, h = SENTINEL32, gu = SENTINEL32;

        bad.nr_harts = 0;
        CHECK_ERR(rvmsi_imsic_file_addr(&g, 1, 0, 0, &v), -ERANGE);
        CHECK_ERR(rvmsi_imsic_file_addr(&g, 0, 4, 0, &v), -ERANGE);
        CHECK_ERR(rvmsi_imsic_file_addr(&g, 0, 0, 6, &v), -ERANGE);
        CHECK_ERR(rvmsi_imsic_file_addr(&bad, 0, 0, 0, &v), -EINVAL);
        CHECK_ERR(rvmsi_imsic_file_index(&g, 0, 0, 6, &v), -ERANGE);
        CHECK_ERR(rvmsi_imsic_file_index(&bad, 0, 0, 0, &v), -EINVAL);
        CHECK_ERR(rvmsi_imsic_msi_mask_pattern(&bad, &v, &v), -EINVAL);
        CHECK_ERR(rvmsi_imsic_table_entries(&bad, &v), -EINVAL);
        CHECK_EQ(v, 0x5a5a);
        CHECK_ERR(rvmsi_imsic_file_locate(&bad, 0x28000000, &gr, &h, &gu), -EINVAL);
        CHECK_ERR(rvmsi_imsic_index_file(&bad, 0, &gr, &h, &gu), -EINVAL);
        CHECK_ERR(rvmsi_imsic_index_file(&g, 32, &gr, &h, &gu), -ERANGE);
        CHECK_ERR(rvmsi_imsic_file_locate(&g, 0x28006000, &gr, &h, &gu), -EINVAL);
        CHECK(gr == SENTINEL32 && h == SENTINEL32 && gu == SENTINEL32);
}

/* A random valid geometry, small enough to enumerate. */
static struct rvmsi_imsic_geom random_geom(void) {
        struct rvmsi_imsic_geom g = { 0 };
        unsigned hart_top;

        g.geilen = (uint32_t) rt_rand_below(64);
        g.guest_index_bits = rvmsi_order_base_2((uint64_t) g.geilen + 1) + (unsigned) rt_rand_below(2);
        g.nr_harts = 1 + (uint32_t) rt_rand_below(9);
        g.hart_index_bits = rvmsi_order_base_2(g.nr_harts) + (unsigned) rt_rand_below(3);
        g.nr_groups = 1 + (uint32_t) rt_rand_below(4);
        g.group_index_bits = rvmsi_order_base_2(g.nr_groups) + (unsigned) rt_rand_below(2);
        hart_top = 12 + g.guest_index_bits + g.hart_index_bits;
        g.group_index_shift = (hart_top > 24 ? hart_top : 24) + (unsigned) rt_rand_below(8);
        if (!g.group_index_bits && rt_rand_below(2))
                g.group_index_shift = 24;
        g.nr_ids = 63 + 64 * (uint32_t) rt_rand_below(32);
        g.nr_guest_ids = g.geilen ? 63 + 64 * (uint32_t) rt_rand_below(32) : 0;
        /* base: random bits outside the index fields, below 2^48 */
        g.base = rt_rand() & GENMASK_ULL(47, hart_top);
        if (g.group_index_bits)
                g.base &= ~GENMASK_ULL(g.group_index_shift + g.group_index_bits - 1, g.group_index_shift);
        return g;
}

TEST(random_geometries_vs_naive) {
        for (unsigned it = 0; it < 300; it++) {
                struct rvmsi_imsic_geom g = random_geom();
                uint64_t mask, pattern;

                if (!CHECK_OK(rvmsi_imsic_geom_validate(&g)))
                        continue;
                check_all_files(&g);
                CHECK_OK(rvmsi_imsic_msi_mask_pattern(&g, &mask, &pattern));

                /* Flip one address bit of a random file: a file page iff naive says so. */
                for (unsigned k = 0; k < 64; k++) {
                        uint32_t gr = (uint32_t) rt_rand_below(g.nr_groups), h = (uint32_t) rt_rand_below(g.nr_harts);
                        uint32_t gu = (uint32_t) rt_rand_below(g.geilen + 1);
                        uint64_t pa = naive_file_addr(&g, gr, h, gu) ^ (1ULL << k);
                        bool is_file = false;
                        uint32_t rg, rh, rgu;

                        /* Naive: search all files of the geometry for that page. */
                        for (uint32_t a = 0; a < g.nr_groups && !is_file; a++)
                                for (uint32_t b = 0; b < g.nr_harts && !is_file; b++)
                                        for (uint32_t c = 0; c <= g.geilen && !is_file; c++)
                                                if (naive_file_addr(&g, a, b, c) == (pa & ~0xfffULL)) {
                                                        is_file = true;
                                                        rg = a, rh = b, rgu = c;
                                                }
                        if (is_file) {
                                uint32_t xg, xh, xgu;

                                CHECK_OK(rvmsi_imsic_file_locate(&g, pa, &xg, &xh, &xgu));
                                CHECK(xg == rg && xh == rh && xgu == rgu);
                                CHECK(rvmsi_msi_addr_match(pa, mask, pattern));
                        } else
                                CHECK_ERR(rvmsi_imsic_file_locate(&g, pa, NULL, NULL, NULL), -EINVAL);
                }
        }
}
