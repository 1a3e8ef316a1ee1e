/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests for lib/msi/msi_table.c: DC MSI fields, extract/deposit, table
 * geometry and MSI PTEs, checked bit by bit and against naive references.
 */
#include "msi_table.h"
#include "iommu_cmd.h"
#include "testlib/runner.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

/* Deliberately naive references: one bit at a time, no tricks. */
static uint64_t naive_extract(uint64_t x, uint64_t mask) {
        uint64_t out = 0;
        unsigned n = 0;

        for (unsigned i = 0; i < 64; i++)
                if ((mask >> i) & 1) {
                        if ((x >> i) & 1)
                                out |= 1ULL << n;
                        n++;
                }
        return out;
}

static uint64_t naive_deposit(uint64_t index, uint64_t mask) {
        uint64_t out = 0;
        unsigned n = 0;

        for (unsigned i = 0; i < 64; i++)
                if ((mask >> i) & 1) {
                        if ((index >> n) & 1)
                                out |= 1ULL << i;
                        n++;
                }
        return out;
}

static bool naive_match(uint64_t addr, uint64_t mask, uint64_t pattern) {
        uint64_t page = addr >> 12;

        for (unsigned i = 0; i < 52; i++) {
                if ((mask >> i) & 1)
                        continue;
                if (((page >> i) & 1) != ((pattern >> i) & 1))
                        return false;
        }
        return true;
}

static unsigned naive_popcount(uint64_t x) {
        unsigned n = 0;

        for (unsigned i = 0; i < 64; i++)
                n += (x >> i) & 1;
        return n;
}

/* A random 52-bit mask with exactly k bits set. */
static uint64_t rand_mask_k(unsigned k) {
        uint64_t m = 0;

        while (naive_popcount(m) < k)
                m |= 1ULL << rt_rand_below(52);
        return m;
}

TEST(field_constants_match_spec_and_linux) {
        /* Literal values of the GENMASKs in Linux's iommu-bits.h. */
        CHECK_EQ(RVMSI_MSIPTP_PPN, 0x00000fffffffffffULL);
        CHECK_EQ(RVMSI_MSIPTP_MODE, 0xf000000000000000ULL);
        CHECK_EQ(RVMSI_MSIPTP_RSVD, 0x0ffff00000000000ULL);
        CHECK_EQ(RVMSI_MSI_ADDR_FIELD, 0x000fffffffffffffULL);
        CHECK_EQ(RVMSI_MSIPTE_V, 0x1ULL);
        CHECK_EQ(RVMSI_MSIPTE_M, 0x6ULL);
        CHECK_EQ(RVMSI_MSIPTE_PPN, 0x003ffffffffffc00ULL);
        CHECK_EQ(RVMSI_MSIPTE_MRIF_ADDR, 0x003fffffffffff80ULL);
        CHECK_EQ(RVMSI_MSIPTE_C, 0x8000000000000000ULL);
        CHECK_EQ(RVMSI_MSIPTE_NID_LO, 0x3ffULL);
        CHECK_EQ(RVMSI_MSIPTE_NPPN, 0x003ffffffffffc00ULL);
        CHECK_EQ(RVMSI_MSIPTE_NID_HI, 0x1000000000000000ULL);
        CHECK_EQ(RVMSI_CAP_AMO_MRIF, 1ULL << 21);
        CHECK_EQ(RVMSI_CAP_MSI_FLAT, 1ULL << 22);
        CHECK_EQ(RVMSI_CAP_MSI_MRIF, 1ULL << 23);
        /* Reserved sets: basic dw0 bits 62:54 and 9:3. */
        CHECK_EQ(RVMSI_MSIPTE_BASIC_RSVD0, 0x7fc00000000003f8ULL);
        /* MRIF dw0 bits 62:54 and 6:3; dw1 bits 63:61 and 59:54. */
        CHECK_EQ(RVMSI_MSIPTE_MRIF_RSVD0, 0x7fc0000000000078ULL);
        CHECK_EQ(RVMSI_MSIPTE_MRIF_RSVD1, 0xefc0000000000000ULL);
}

TEST(extract_spec_example) {
        /* x = a b c d e f g h (a = bit 7), y = 1 0 1 0 0 1 1 0 -> 0 0 0 0 a c f g */
        for (uint64_t x = 0; x < 256; x++) {
                uint64_t a = (x >> 7) & 1, c = (x >> 5) & 1, f = (x >> 2) & 1, g = (x >> 1) & 1;

                CHECK_EQ(rvmsi_extract(x, 0xa6), (a << 3) | (c << 2) | (f << 1) | g);
        }
        /* The example with letters picked as 1,0,1,0,1,0,1,0: a=1 c=1 f=0 g=1. */
        CHECK_EQ(rvmsi_extract(0xaa, 0xa6), 0xd);
}

TEST(extract_deposit_each_bit) {
        for (unsigned i = 0; i < 64; i++) {
                uint64_t b = 1ULL << i;

                CHECK_EQ(rvmsi_extract(b, b), 1);
                CHECK_EQ(rvmsi_extract(b, ~0ULL), b);
                CHECK_EQ(rvmsi_extract(~0ULL, b), 1);
                CHECK_EQ(rvmsi_extract(~b, b), 0);
                CHECK_EQ(rvmsi_deposit(1, b), b);
                CHECK_EQ(rvmsi_deposit(2, b), 0);
                CHECK_EQ(rvmsi_deposit(b, ~0ULL), b);
                /* The low i+1 bits of the mask: bit i of x lands at bit i. */
                CHECK_EQ(rvmsi_extract(b, GENMASK_ULL(i, 0)), b);
                /* Mask = bits i and 63-ish above: bit i packs to position 0. */
                CHECK_EQ(rvmsi_extract(b, ~GENMASK_ULL(i, 0) | b), 1);
        }
        CHECK_EQ(rvmsi_extract(~0ULL, 0), 0);
        CHECK_EQ(rvmsi_deposit(~0ULL, 0), 0);
        CHECK_EQ(rvmsi_extract(~0ULL, ~0ULL), ~0ULL);
        CHECK_EQ(rvmsi_deposit(~0ULL, ~0ULL), ~0ULL);
}

TEST(extract_deposit_random_vs_naive) {
        for (unsigned it = 0; it < 20000; it++) {
                uint64_t x = rt_rand(), m = rt_rand_mask(), k = naive_popcount(m);
                uint64_t idx = k == 64 ? rt_rand() : rt_rand_below(1ULL << k);

                CHECK_EQ(rvmsi_extract(x, m), naive_extract(x, m));
                CHECK_EQ(rvmsi_deposit(x, m), naive_deposit(x, m));
                CHECK_EQ(rvmsi_deposit(rvmsi_extract(x, m), m), x & m);
                CHECK_EQ(rvmsi_extract(rvmsi_deposit(idx, m), m), idx);
                if (k < 64)
                        CHECK(rvmsi_extract(x, m) < (1ULL << k));
        }
}

TEST(msiptp_encode_each_bit) {
        uint64_t v;

        for (unsigned i = 0; i < 44; i++) {
                CHECK_OK(rvmsi_msiptp_encode(RVMSI_MSIPTP_MODE_FLAT, 1ULL << i, &v));
                CHECK_EQ(v, (1ULL << 60) | (1ULL << i));
        }
        CHECK_OK(rvmsi_msiptp_encode(RVMSI_MSIPTP_MODE_FLAT, 0, &v));
        CHECK_EQ(v, 1ULL << 60);
        CHECK_OK(rvmsi_msiptp_encode(RVMSI_MSIPTP_MODE_OFF, 0, &v));
        CHECK_EQ(v, 0);
        CHECK_OK(rvmsi_msiptp_encode(RVMSI_MSIPTP_MODE_FLAT, RVMSI_PPN_MAX, &v));
        CHECK_EQ(v, 0x1000000000000000ULL | 0xfffffffffffULL);

        for (unsigned i = 44; i < 64; i++) {
                v = SENTINEL;
                CHECK_ERR(rvmsi_msiptp_encode(RVMSI_MSIPTP_MODE_FLAT, 1ULL << i, &v), -ERANGE);
                CHECK_EQ(v, SENTINEL);
        }
        for (unsigned mode = 2; mode < 64; mode++) {
                v = SENTINEL;
                CHECK_ERR(rvmsi_msiptp_encode(mode, 1, &v), -EOPNOTSUPP);
                CHECK_EQ(v, SENTINEL);
        }
        CHECK_ERR(rvmsi_msiptp_encode(RVMSI_MSIPTP_MODE_OFF, 1, &v), -EINVAL);
        CHECK_EQ(v, SENTINEL);
}

TEST(msiptp_decode) {
        unsigned mode = 77;
        uint64_t ppn = SENTINEL, v;

        for (unsigned i = 0; i < 44; i++) {
                CHECK_OK(rvmsi_msiptp_decode((1ULL << 60) | (1ULL << i), &mode, &ppn));
                CHECK_EQ(mode, RVMSI_MSIPTP_MODE_FLAT);
                CHECK_EQ(ppn, 1ULL << i);
        }
        /* Off with a stale PPN: hardware ignores the PPN, so does decode. */
        CHECK_OK(rvmsi_msiptp_decode(0x1234, &mode, &ppn));
        CHECK_EQ(mode, RVMSI_MSIPTP_MODE_OFF);
        CHECK_EQ(ppn, 0x1234);

        for (unsigned i = 44; i < 60; i++) {
                mode = 77;
                ppn = SENTINEL;
                CHECK_ERR(rvmsi_msiptp_decode((1ULL << 60) | (1ULL << i), &mode, &ppn), -EINVAL);
                CHECK_ERR(rvmsi_msiptp_decode(1ULL << i, &mode, &ppn), -EINVAL);
                CHECK_EQ(mode, 77);
                CHECK_EQ(ppn, SENTINEL);
        }
        for (uint64_t m = 2; m < 16; m++)
                CHECK_ERR(rvmsi_msiptp_decode(m << 60, &mode, &ppn), -EOPNOTSUPP);
        CHECK_EQ(mode, 77);

        for (unsigned it = 0; it < 5000; it++) {
                uint64_t p = rt_rand() & RVMSI_PPN_MAX;

                CHECK_OK(rvmsi_msiptp_encode(RVMSI_MSIPTP_MODE_FLAT, p, &v));
                CHECK_OK(rvmsi_msiptp_decode(v, &mode, &ppn));
                CHECK_EQ(mode, RVMSI_MSIPTP_MODE_FLAT);
                CHECK_EQ(ppn, p);
        }
}

TEST(msi_addr_check_reserved_bits) {
        for (unsigned i = 0; i < 64; i++) {
                int expect = i >= 52 ? -EINVAL : 0;

                CHECK_ERR(rvmsi_msi_addr_check(1ULL << i, 0), expect);
                CHECK_ERR(rvmsi_msi_addr_check(0, 1ULL << i), expect);
        }
        CHECK_OK(rvmsi_msi_addr_check(RVMSI_MSI_ADDR_FIELD, RVMSI_MSI_ADDR_FIELD));
}

TEST(msi_addr_match_vs_naive) {
        for (unsigned it = 0; it < 20000; it++) {
                uint64_t mask = rt_rand_mask() & RVMSI_MSI_ADDR_FIELD;
                uint64_t pattern = rt_rand() & RVMSI_MSI_ADDR_FIELD;
                uint64_t addr = rt_rand();

                /* Half the time build an address that should match. */
                if (it & 1)
                        addr = (((pattern & ~mask) | (rt_rand() & mask)) << 12) | (addr & 0xfff);
                CHECK_EQ(rvmsi_msi_addr_match(addr, mask, pattern), naive_match(addr, mask, pattern));
                if (it & 1)
                        CHECK(rvmsi_msi_addr_match(addr, mask, pattern));
        }
        /* Each page-number bit outside the mask must be compared. */
        for (unsigned i = 0; i < 52; i++) {
                CHECK(!rvmsi_msi_addr_match(1ULL << (i + 12), 0, 0));
                CHECK(rvmsi_msi_addr_match(1ULL << (i + 12), 1ULL << i, 0));
                CHECK(rvmsi_msi_addr_match(1ULL << (i + 12), 0, 1ULL << i));
        }
        /* Page offset never matters. */
        for (unsigned i = 0; i < 12; i++)
                CHECK(rvmsi_msi_addr_match(1ULL << i, 0, 0));
}

TEST(msi_index) {
        uint64_t idx = SENTINEL;

        CHECK_ERR(rvmsi_msi_index(0x28001000, 0x7, 0x28000 + 0x8, &idx), -ENOENT);
        CHECK_EQ(idx, SENTINEL);
        CHECK_OK(rvmsi_msi_index(0x28005abc, 0x7, 0x28000, &idx));
        CHECK_EQ(idx, 5);
        CHECK_ERR(rvmsi_msi_index(0x28005000, 1ULL << 52, 0x28000, &idx), -EINVAL);
        CHECK_ERR(rvmsi_msi_index(0x28005000, 0x7, 0x28000 | (1ULL << 63), &idx), -EINVAL);
        CHECK_EQ(idx, 5);

        for (unsigned it = 0; it < 10000; it++) {
                uint64_t mask = rt_rand_mask() & RVMSI_MSI_ADDR_FIELD;
                uint64_t pattern = rt_rand() & RVMSI_MSI_ADDR_FIELD;
                uint64_t addr = (((pattern & ~mask) | (rt_rand() & mask)) << 12) | rt_rand_below(4096);

                CHECK_OK(rvmsi_msi_index(addr, mask, pattern, &idx));
                CHECK_EQ(idx, naive_extract(addr >> 12, mask));
        }
}

TEST(msi_index_addr_roundtrip) {
        uint64_t addr = SENTINEL, idx;

        for (unsigned k = 0; k <= 52; k++) {
                uint64_t mask = rand_mask_k(k), pattern = rt_rand() & RVMSI_MSI_ADDR_FIELD;
                uint64_t i = k == 0 ? 0 : rt_rand_below(1ULL << k);

                CHECK_OK(rvmsi_msi_index_addr(i, mask, pattern, &addr));
                CHECK_EQ(addr & 0xfff, 0);
                CHECK(rvmsi_msi_addr_match(addr, mask, pattern));
                CHECK_OK(rvmsi_msi_index(addr, mask, pattern, &idx));
                CHECK_EQ(idx, i);
                CHECK_EQ(addr >> 12, (pattern & ~mask) | naive_deposit(i, mask));

                /* The last index is valid, the next is outside the table. */
                CHECK_OK(rvmsi_msi_index_addr((1ULL << k) - 1, mask, pattern, &addr));
                addr = SENTINEL;
                CHECK_ERR(rvmsi_msi_index_addr(1ULL << k, mask, pattern, &addr), -ERANGE);
                CHECK_EQ(addr, SENTINEL);
        }
        CHECK_ERR(rvmsi_msi_index_addr(0, 1ULL << 55, 0, &addr), -EINVAL);
        CHECK_ERR(rvmsi_msi_index_addr(0, 0, 1ULL << 55, &addr), -EINVAL);
}

TEST(table_order_size_align) {
        uint64_t size = SENTINEL, align = SENTINEL;

        for (unsigned k = 0; k <= 52; k++) {
                uint64_t mask = rand_mask_k(k);

                CHECK_EQ(rvmsi_msi_table_order(mask), k);
                CHECK_OK(rvmsi_msi_table_size(mask, &size));
                CHECK_EQ(size, 16ULL << k);
                CHECK_OK(rvmsi_msi_table_align(mask, &align));
                /* <= 256 entries: 4 KiB; larger: naturally aligned. */
                CHECK_EQ(align, k <= 8 ? 4096 : 16ULL << k);
        }
        /* The boundary: 256 entries is 4 KiB, 512 entries is 8 KiB-aligned. */
        CHECK_OK(rvmsi_msi_table_align(0xff, &align));
        CHECK_EQ(align, 4096);
        CHECK_OK(rvmsi_msi_table_align(0x1ff, &align));
        CHECK_EQ(align, 8192);
        /* Reserved bits are not counted, and they are rejected. */
        CHECK_EQ(rvmsi_msi_table_order(0xfff0000000000001ULL), 1);
        size = align = SENTINEL;
        for (unsigned i = 52; i < 64; i++) {
                CHECK_ERR(rvmsi_msi_table_size(1ULL << i, &size), -EINVAL);
                CHECK_ERR(rvmsi_msi_table_align(1ULL << i, &align), -EINVAL);
        }
        CHECK_EQ(size, SENTINEL);
        CHECK_EQ(align, SENTINEL);
}

TEST(table_check_addr) {
        for (unsigned k = 0; k <= 44; k++) {
                uint64_t mask = rand_mask_k(k), align = k <= 8 ? 4096 : 16ULL << k;
                uint64_t size = 16ULL << k;

                CHECK_OK(rvmsi_msi_table_check_addr(0, mask));
                CHECK_OK(rvmsi_msi_table_check_addr(align * 3, mask));
                for (unsigned b = 0; (1ULL << b) < align; b++)
                        CHECK_ERR(rvmsi_msi_table_check_addr(align | (1ULL << b), mask), -EINVAL);
                /* The highest legal place, and one table further. */
                CHECK_OK(rvmsi_msi_table_check_addr((1ULL << 56) - (size > align ? size : align), mask));
                CHECK_ERR(rvmsi_msi_table_check_addr(1ULL << 56, mask), -ERANGE);
        }
        /* 4 KiB alignment is not enough once the table has 512 entries. */
        CHECK_ERR(rvmsi_msi_table_check_addr((1ULL << 56) - 4096, rand_mask_k(9)), -EINVAL);
        CHECK_ERR(rvmsi_msi_table_check_addr(0, 1ULL << 60), -EINVAL);
        /* A 2^56-byte table (52 mask bits) fits only at address 0. */
        CHECK_OK(rvmsi_msi_table_check_addr(0, RVMSI_MSI_ADDR_FIELD));
}

TEST(pte_addr) {
        uint64_t msiptp, pa = SENTINEL;

        CHECK_OK(rvmsi_msiptp_encode(RVMSI_MSIPTP_MODE_FLAT, 0x80123, &msiptp));
        CHECK_OK(rvmsi_msi_pte_addr(msiptp, 0x7, 0x28000, 0x28005000, &pa));
        CHECK_EQ(pa, 0x80123000ULL + 5 * 16);
        pa = SENTINEL;
        CHECK_ERR(rvmsi_msi_pte_addr(msiptp, 0x7, 0x28000, 0x29005000, &pa), -ENOENT);
        CHECK_ERR(rvmsi_msi_pte_addr(0, 0x7, 0x28000, 0x28005000, &pa), -EINVAL);
        CHECK_ERR(rvmsi_msi_pte_addr(2ULL << 60, 0x7, 0x28000, 0x28005000, &pa), -EOPNOTSUPP);
        CHECK_ERR(rvmsi_msi_pte_addr(msiptp | (1ULL << 50), 0x7, 0x28000, 0x28005000, &pa), -EINVAL);
        CHECK_ERR(rvmsi_msi_pte_addr(msiptp, 1ULL << 53, 0x28000, 0x28005000, &pa), -EINVAL);
        CHECK_EQ(pa, SENTINEL);

        for (unsigned it = 0; it < 5000; it++) {
                uint64_t mask = rand_mask_k(rt_rand_below(12)), pattern = rt_rand() & RVMSI_MSI_ADDR_FIELD;
                uint64_t i = rt_rand_below(1ULL << naive_popcount(mask)), addr, ppn;

                ppn = (rt_rand() & RVMSI_PPN_MAX) & ~0xffULL;  /* 1 MiB aligned: fits 2^11 entries */
                CHECK_OK(rvmsi_msiptp_encode(RVMSI_MSIPTP_MODE_FLAT, ppn, &msiptp));
                CHECK_OK(rvmsi_msi_index_addr(i, mask, pattern, &addr));
                CHECK_OK(rvmsi_msi_pte_addr(msiptp, mask, pattern, addr | rt_rand_below(4096), &pa));
                CHECK_EQ(pa, (ppn << 12) + i * 16);
        }
}

TEST(basic_pte_each_bit) {
        struct rvmsi_msipte pte = { SENTINEL, SENTINEL };
        struct rvmsi_msipte_info info;

        for (unsigned i = 0; i < 44; i++) {
                CHECK_OK(rvmsi_msipte_basic(1ULL << i, 0, &pte));
                CHECK_EQ(pte.dw0, 0x7ULL | (1ULL << (10 + i)));
                CHECK_EQ(pte.dw1, 0);
                CHECK_OK(rvmsi_msipte_decode(&pte, &info));
                CHECK_EQ(info.kind, RVMSI_MSIPTE_BASIC);
                CHECK_EQ(info.ppn, 1ULL << i);
        }
        /* The second doubleword is software's and survives unchanged. */
        CHECK_OK(rvmsi_msipte_basic(0x28000, 0xdeadbeefcafef00dULL, &pte));
        CHECK_EQ(pte.dw0, 0x7ULL | (0x28000ULL << 10));
        CHECK_EQ(pte.dw1, 0xdeadbeefcafef00dULL);
        CHECK_OK(rvmsi_msipte_decode(&pte, &info));
        CHECK_EQ(info.sw, 0xdeadbeefcafef00dULL);
        CHECK_EQ(info.mrif_pa, 0);
        CHECK_EQ(info.nppn, 0);
        CHECK_EQ(info.nid, 0);

        for (unsigned i = 44; i < 64; i++) {
                pte.dw0 = pte.dw1 = SENTINEL;
                CHECK_ERR(rvmsi_msipte_basic(1ULL << i, 0, &pte), -ERANGE);
                CHECK_EQ(pte.dw0, SENTINEL);
        }
}

TEST(basic_pte_reserved_bits_rejected) {
        struct rvmsi_msipte pte;
        struct rvmsi_msipte_info info = { .kind = 99 };

        for (unsigned i = 0; i < 64; i++) {
                uint64_t b = 1ULL << i;
                bool rsvd = (i >= 3 && i <= 9) || (i >= 54 && i <= 62);

                CHECK_OK(rvmsi_msipte_basic(0x1234, 0, &pte));
                if (!rsvd)
                        continue;
                pte.dw0 |= b;
                CHECK_ERR(rvmsi_msipte_decode(&pte, &info), -EINVAL);
                CHECK_EQ(rvmsi_msipte_fault_cause(&pte, true), 263);
        }
        CHECK_EQ(info.kind, 99);
        /* Anything goes in dw1 of a basic entry. */
        CHECK_OK(rvmsi_msipte_basic(0x1234, ~0ULL, &pte));
        CHECK_OK(rvmsi_msipte_decode(&pte, &info));
}

TEST(pte_modes_and_custom) {
        struct rvmsi_msipte pte;
        struct rvmsi_msipte_info info;

        /* V=0: invalid, everything else ignored. */
        pte.dw0 = ~1ULL;
        pte.dw1 = ~0ULL;
        CHECK_OK(rvmsi_msipte_decode(&pte, &info));
        CHECK_EQ(info.kind, RVMSI_MSIPTE_INVALID);
        CHECK_EQ(info.ppn | info.sw | info.mrif_pa | info.nppn | info.nid, 0);
        CHECK_EQ(rvmsi_msipte_fault_cause(&pte, true), 262);

        /* M = 0 and M = 2 are reserved: cause 263. */
        for (uint64_t m = 0; m < 4; m++) {
                pte.dw0 = 1 | (m << 1) | (0x42ULL << 10);
                pte.dw1 = 0;
                if (m == 0 || m == 2) {
                        CHECK_ERR(rvmsi_msipte_decode(&pte, &info), -EINVAL);
                        CHECK_EQ(rvmsi_msipte_fault_cause(&pte, true), 263);
                } else {
                        CHECK_OK(rvmsi_msipte_decode(&pte, &info));
                        CHECK_EQ(info.kind, m);
                        CHECK_EQ(rvmsi_msipte_fault_cause(&pte, true), 0);
                }
        }
        /* C = 1 with V = 1: implementation-defined. */
        CHECK_OK(rvmsi_msipte_basic(0x42, 0, &pte));
        pte.dw0 |= RVMSI_MSIPTE_C;
        CHECK_ERR(rvmsi_msipte_decode(&pte, &info), -EOPNOTSUPP);
        CHECK_EQ(rvmsi_msipte_fault_cause(&pte, true), 263);
        /* C = 1 with V = 0: still just invalid. */
        pte.dw0 &= ~RVMSI_MSIPTE_V;
        CHECK_OK(rvmsi_msipte_decode(&pte, &info));
        CHECK_EQ(info.kind, RVMSI_MSIPTE_INVALID);

        rvmsi_msipte_invalid(&pte);
        CHECK_EQ(pte.dw0, 0);
        CHECK_EQ(pte.dw1, 0);
        CHECK_EQ(rvmsi_msipte_fault_cause(&pte, false), 262);
}

TEST(mrif_pte_each_bit) {
        struct rvmsi_msipte pte;
        struct rvmsi_msipte_info info;

        for (unsigned i = 9; i < 56; i++) {
                CHECK_OK(rvmsi_msipte_mrif(1ULL << i, 0, 0, &pte));
                CHECK_EQ(pte.dw0, 0x3ULL | (1ULL << (i - 2)));
                CHECK_EQ(pte.dw1, 0);
                CHECK_OK(rvmsi_msipte_decode(&pte, &info));
                CHECK_EQ(info.kind, RVMSI_MSIPTE_MRIF);
                CHECK_EQ(info.mrif_pa, 1ULL << i);
        }
        for (unsigned i = 0; i < 44; i++) {
                CHECK_OK(rvmsi_msipte_mrif(0, 1ULL << i, 0, &pte));
                CHECK_EQ(pte.dw0, 0x3);
                CHECK_EQ(pte.dw1, 1ULL << (10 + i));
                CHECK_OK(rvmsi_msipte_decode(&pte, &info));
                CHECK_EQ(info.nppn, 1ULL << i);
        }
        for (unsigned i = 0; i < 11; i++) {
                CHECK_OK(rvmsi_msipte_mrif(0, 0, 1U << i, &pte));
                /* NID[9:0] at dw1[9:0], NID[10] at dw1 bit 60. */
                CHECK_EQ(pte.dw1, i < 10 ? 1ULL << i : 1ULL << 60);
                CHECK_OK(rvmsi_msipte_decode(&pte, &info));
                CHECK_EQ(info.nid, 1U << i);
        }
        for (unsigned it = 0; it < 10000; it++) {
                uint64_t mrif = rt_rand() & GENMASK_ULL(55, 9), nppn = rt_rand() & RVMSI_PPN_MAX;
                uint32_t nid = (uint32_t) rt_rand_below(2048);

                CHECK_OK(rvmsi_msipte_mrif(mrif, nppn, nid, &pte));
                CHECK_OK(rvmsi_msipte_decode(&pte, &info));
                CHECK_EQ(info.kind, RVMSI_MSIPTE_MRIF);
                CHECK_EQ(info.mrif_pa, mrif);
                CHECK_EQ(info.nppn, nppn);
                CHECK_EQ(info.nid, nid);
                CHECK_EQ(info.ppn | info.sw, 0);
                CHECK_EQ(rvmsi_msipte_fault_cause(&pte, true), 0);
                CHECK_EQ(rvmsi_msipte_fault_cause(&pte, false), 263);
        }
}

TEST(mrif_pte_errors_and_reserved_bits) {
        struct rvmsi_msipte pte = { SENTINEL, SENTINEL };
        struct rvmsi_msipte_info info;

        for (unsigned i = 0; i < 9; i++)
                CHECK_ERR(rvmsi_msipte_mrif(0x80000000ULL | (1ULL << i), 0, 0, &pte), -EINVAL);
        for (unsigned i = 56; i < 64; i++)
                CHECK_ERR(rvmsi_msipte_mrif(1ULL << i, 0, 0, &pte), -ERANGE);
        CHECK_ERR(rvmsi_msipte_mrif(0, 1ULL << 44, 0, &pte), -ERANGE);
        CHECK_ERR(rvmsi_msipte_mrif(0, 0, 2048, &pte), -ERANGE);
        CHECK_EQ(pte.dw0, SENTINEL);
        CHECK_EQ(pte.dw1, SENTINEL);

        for (unsigned i = 0; i < 64; i++) {
                bool rsvd0 = (i >= 3 && i <= 6) || (i >= 54 && i <= 62);
                bool rsvd1 = (i >= 54 && i <= 59) || i >= 61;

                CHECK_OK(rvmsi_msipte_mrif(0x80000200ULL, 0x28000, 0x7ff, &pte));
                if (rsvd0) {
                        pte.dw0 |= 1ULL << i;
                        CHECK_ERR(rvmsi_msipte_decode(&pte, &info), -EINVAL);
                        CHECK_EQ(rvmsi_msipte_fault_cause(&pte, true), 263);
                        pte.dw0 &= ~(1ULL << i);
                }
                if (rsvd1) {
                        pte.dw1 |= 1ULL << i;
                        CHECK_ERR(rvmsi_msipte_decode(&pte, &info), -EINVAL);
                        CHECK_EQ(rvmsi_msipte_fault_cause(&pte, true), 263);
                }
        }
}

TEST(translate_basic) {
        struct rvmsi_msipte pte;
        uint64_t pa = SENTINEL;

        CHECK_OK(rvmsi_msipte_basic(0x28003, 0, &pte));
        for (unsigned off = 0; off < 4096; off += 4) {
                CHECK_OK(rvmsi_msipte_translate(&pte, 0x9000000000ULL | off, &pa));
                CHECK_EQ(pa, 0x28003000ULL | off);
        }
        pa = SENTINEL;
        CHECK_OK(rvmsi_msipte_mrif(0x80000000ULL, 0x28000, 5, &pte));
        CHECK_ERR(rvmsi_msipte_translate(&pte, 0x1000, &pa), -EINVAL);
        rvmsi_msipte_invalid(&pte);
        CHECK_ERR(rvmsi_msipte_translate(&pte, 0x1000, &pa), -EINVAL);
        CHECK_EQ(pa, SENTINEL);
}
