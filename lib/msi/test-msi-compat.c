/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests for the helpers of lib/msi/msi_compat.h, against naive loops.
 */
#include "msi_compat.h"
#include "testlib/runner.h"

static unsigned naive_popcount(uint64_t x) {
        unsigned n = 0;

        for (unsigned i = 0; i < 64; i++)
                n += (x >> i) & 1;
        return n;
}

static unsigned naive_ctz(uint64_t x) {
        for (unsigned i = 0; i < 64; i++)
                if ((x >> i) & 1)
                        return i;
        return 64;
}

static unsigned naive_order(uint64_t n) {
        /* smallest b with 2^b >= n, by repeated doubling in 128-bit space */
        unsigned b = 0;
        unsigned __int128 p = 1;

        while (p < n) {
                p <<= 1;
                b++;
        }
        return b;
}

TEST(macros) {
        CHECK_EQ(BIT_ULL(0), 1);
        CHECK_EQ(BIT_ULL(63), 0x8000000000000000ULL);
        CHECK_EQ(GENMASK_ULL(63, 0), ~0ULL);
        CHECK_EQ(GENMASK_ULL(53, 10), 0x003ffffffffffc00ULL);
        CHECK_EQ(GENMASK_ULL(0, 0), 1);
        CHECK_EQ(GENMASK(3, 1), 0xe);
        CHECK_EQ(BIT(5), 32);
        for (unsigned h = 0; h < 64; h++)
                for (unsigned l = 0; l <= h; l++)
                        CHECK_EQ(naive_popcount(GENMASK_ULL(h, l)), h - l + 1);
        {
                int a[7];

                CHECK_EQ(ARRAY_SIZE(a), 7);
        }
        CHECK_EQ(sizeof(u8), 1);
        CHECK_EQ(sizeof(u16), 2);
        CHECK_EQ(sizeof(u32), 4);
        CHECK_EQ(sizeof(u64), 8);
}

TEST(hweight_and_ctz) {
        CHECK_EQ(rvmsi_hweight64(0), 0);
        CHECK_EQ(rvmsi_hweight64(~0ULL), 64);
        CHECK_EQ(rvmsi_ctz64(0), 64);
        for (unsigned i = 0; i < 64; i++) {
                CHECK_EQ(rvmsi_hweight64(1ULL << i), 1);
                CHECK_EQ(rvmsi_hweight64(~(1ULL << i)), 63);
                CHECK_EQ(rvmsi_ctz64(1ULL << i), i);
                CHECK_EQ(rvmsi_ctz64(~0ULL << i), i);
        }
        for (unsigned it = 0; it < 50000; it++) {
                uint64_t x = rt_rand_mask();

                CHECK_EQ(rvmsi_hweight64(x), naive_popcount(x));
                CHECK_EQ(rvmsi_ctz64(x), naive_ctz(x));
        }
}

TEST(order_base_2) {
        CHECK_EQ(rvmsi_order_base_2(0), 0);
        CHECK_EQ(rvmsi_order_base_2(1), 0);
        CHECK_EQ(rvmsi_order_base_2(2), 1);
        CHECK_EQ(rvmsi_order_base_2(3), 2);
        CHECK_EQ(rvmsi_order_base_2(6), 3);     /* QEMU aia-guests=5: 6 files, 3 bits */
        CHECK_EQ(rvmsi_order_base_2(64), 6);
        CHECK_EQ(rvmsi_order_base_2(65), 7);
        CHECK_EQ(rvmsi_order_base_2(~0ULL), 64);
        for (unsigned i = 0; i < 64; i++) {
                CHECK_EQ(rvmsi_order_base_2(1ULL << i), i);
                CHECK_EQ(rvmsi_order_base_2((1ULL << i) + 1), i + 1);
        }
        for (unsigned it = 0; it < 20000; it++) {
                uint64_t n = rt_rand() >> rt_rand_below(64);

                CHECK_EQ(rvmsi_order_base_2(n), naive_order(n));
        }
}
