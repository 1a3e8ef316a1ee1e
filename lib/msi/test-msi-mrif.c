/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests for lib/msi/msi_mrif.c: MRIF layout, the IOMMU's accept/discard
 * rules for writes to an MRIF page, and the image helpers, checked against a
 * naive model that keeps one bool per identity.
 */
#include "msi_mrif.h"
#include "testlib/runner.h"

struct model {
        bool pending[2048];
        bool enabled[2048];
};

/* What the naive model says the 64-doubleword image must be. */
static void model_to_image(const struct model *m, uint64_t img[64]) {
        memset(img, 0, 64 * sizeof(uint64_t));
        for (unsigned id = 0; id < 2048; id++) {
                if (m->pending[id])
                        img[(id / 64) * 2] |= 1ULL << (id % 64);
                if (m->enabled[id])
                        img[(id / 64) * 2 + 1] |= 1ULL << (id % 64);
        }
}

static void random_model(struct model *m, unsigned density) {
        for (unsigned id = 0; id < 2048; id++) {
                m->pending[id] = rt_rand_below(100) < density;
                m->enabled[id] = rt_rand_below(100) < 50;
        }
}

static uint32_t swab32_naive(uint32_t x) {
        uint8_t b[4];

        for (unsigned i = 0; i < 4; i++)
                b[i] = (uint8_t) (x >> (8 * i));
        return ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) | ((uint32_t) b[2] << 8) | b[3];
}

TEST(offsets_match_spec_table) {
        uint32_t off = 0xdead;

        /* The spec's table: 0x000/0x008 for 1-63 ... 0x1F0/0x1F8 for 1984-2047. */
        CHECK_OK(rvmsi_mrif_pending_offset(1, &off));
        CHECK_EQ(off, 0x000);
        CHECK_OK(rvmsi_mrif_enable_offset(63, &off));
        CHECK_EQ(off, 0x008);
        CHECK_OK(rvmsi_mrif_pending_offset(64, &off));
        CHECK_EQ(off, 0x010);
        CHECK_OK(rvmsi_mrif_enable_offset(127, &off));
        CHECK_EQ(off, 0x018);
        CHECK_OK(rvmsi_mrif_pending_offset(1984, &off));
        CHECK_EQ(off, 0x1f0);
        CHECK_OK(rvmsi_mrif_enable_offset(2047, &off));
        CHECK_EQ(off, 0x1f8);

        for (uint32_t id = 0; id < 2048; id++) {
                CHECK_OK(rvmsi_mrif_pending_offset(id, &off));
                CHECK_EQ(off, (id / 64) * 16);
                CHECK_OK(rvmsi_mrif_enable_offset(id, &off));
                CHECK_EQ(off, (id / 64) * 16 + 8);
                CHECK(off < RVMSI_MRIF_SIZE);
                CHECK_EQ(rvmsi_mrif_bit(id), 1ULL << (id % 64));
        }
        off = 0xdead;
        CHECK_ERR(rvmsi_mrif_pending_offset(2048, &off), -ERANGE);
        CHECK_ERR(rvmsi_mrif_enable_offset(2048, &off), -ERANGE);
        CHECK_ERR(rvmsi_mrif_pending_offset(UINT32_MAX, &off), -ERANGE);
        CHECK_EQ(off, 0xdead);
}

TEST(classify_every_offset) {
        uint32_t id;

        for (uint32_t off = 0; off < 4096; off++) {
                for (uint32_t size = 1; size <= 8; size *= 2) {
                        enum rvmsi_mrif_verdict v, want;

                        id = 0xdead;
                        v = rvmsi_mrif_classify_write(0x90000000ULL + off, size, 5, true, &id);
                        if (size != 4 || off % 4)
                                want = RVMSI_MRIF_ABORT;
                        else if (off == 0)
                                want = RVMSI_MRIF_RECORD;
                        else if (off == 4)
                                want = RVMSI_MRIF_DISCARD;      /* BE value 0x05000000 > 2047 */
                        else
                                want = RVMSI_MRIF_DISCARD;      /* A[11:3] != 0 */
                        CHECK_EQ(v, want);
                        CHECK_EQ(id, want == RVMSI_MRIF_RECORD ? 5 : 0xdead);
                }
        }
}

TEST(classify_data_bits_and_endianness) {
        uint32_t id;

        for (uint32_t d = 0; d < 2048; d++) {
                CHECK_EQ(rvmsi_mrif_classify_write(0x1000, 4, d, false, &id), RVMSI_MRIF_RECORD);
                CHECK_EQ(id, d);
                /* Big-endian: the same identity written byte-swapped at offset 4. */
                CHECK_EQ(rvmsi_mrif_classify_write(0x1004, 4, swab32_naive(d), true, &id),
                         RVMSI_MRIF_RECORD);
                CHECK_EQ(id, d);
                /* ... discarded when the system has no seteipnum_be. */
                id = 0xdead;
                CHECK_EQ(rvmsi_mrif_classify_write(0x1004, 4, swab32_naive(d), false, &id),
                         RVMSI_MRIF_DISCARD);
                CHECK_EQ(id, 0xdead);
        }
        /* Any of D[31:11] set: accepted but discarded, either byte order. */
        for (unsigned b = 11; b < 32; b++) {
                uint32_t d = (1U << b) | 3;

                CHECK_EQ(rvmsi_mrif_classify_write(0x1000, 4, d, true, &id), RVMSI_MRIF_DISCARD);
                CHECK_EQ(rvmsi_mrif_classify_write(0x1004, 4, swab32_naive(d), true, &id),
                         RVMSI_MRIF_DISCARD);
        }
        /* Each address bit 3..11 set: discarded; higher bits never matter. */
        for (unsigned b = 3; b < 12; b++)
                CHECK_EQ(rvmsi_mrif_classify_write(1ULL << b, 4, 1, true, &id), RVMSI_MRIF_DISCARD);
        for (unsigned b = 12; b < 64; b++) {
                CHECK_EQ(rvmsi_mrif_classify_write(1ULL << b, 4, 9, true, &id), RVMSI_MRIF_RECORD);
                CHECK_EQ(id, 9);
        }
}

TEST(set_test_each_identity) {
        uint64_t img[64];
        bool p, e;

        for (uint32_t id = 0; id < 2048; id++) {
                memset(img, 0, sizeof(img));
                CHECK_OK(rvmsi_mrif_set_pending(img, id));
                for (unsigned w = 0; w < 64; w++)
                        CHECK_EQ(img[w], w == (id / 64) * 2 ? 1ULL << (id % 64) : 0);
                CHECK_OK(rvmsi_mrif_test(img, id, &p, &e));
                CHECK(p && !e);

                memset(img, 0, sizeof(img));
                CHECK_OK(rvmsi_mrif_set_enable(img, id, true));
                for (unsigned w = 0; w < 64; w++)
                        CHECK_EQ(img[w], w == (id / 64) * 2 + 1 ? 1ULL << (id % 64) : 0);
                CHECK_OK(rvmsi_mrif_test(img, id, &p, &e));
                CHECK(!p && e);
                CHECK_OK(rvmsi_mrif_set_enable(img, id, false));
                for (unsigned w = 0; w < 64; w++)
                        CHECK_EQ(img[w], 0);
        }
        memset(img, 0xff, sizeof(img));
        CHECK_OK(rvmsi_mrif_test(img, 2047, NULL, NULL));
        CHECK_ERR(rvmsi_mrif_set_pending(img, 2048), -ERANGE);
        CHECK_ERR(rvmsi_mrif_set_enable(img, 2048, false), -ERANGE);
        CHECK_ERR(rvmsi_mrif_test(img, 2048, &p, &e), -ERANGE);
        for (unsigned w = 0; w < 64; w++)
                CHECK_EQ(img[w], ~0ULL);
}

TEST(apply_write_vs_model) {
        uint64_t img[64], want[64];
        struct model m = { 0 };

        memset(img, 0, sizeof(img));
        for (unsigned it = 0; it < 20000; it++) {
                uint64_t addr = rt_rand();
                uint32_t size = rt_rand_below(3) ? 4 : (uint32_t) (1U << rt_rand_below(4));
                uint32_t data = (uint32_t) rt_rand(), id = 0xdead;
                bool be_ok = rt_rand() & 1, be, record;
                uint32_t d;
                enum rvmsi_mrif_verdict v;

                /* Bias towards the interesting cases. */
                if (rt_rand_below(2))
                        addr &= ~0xff8ULL;
                if (rt_rand_below(2))
                        data &= rt_rand_below(2) ? 0x7ffU : 0xff070000U;

                be = addr & 4;
                d = be ? swab32_naive(data) : data;
                record = size == 4 && !(addr & 3) && !(addr & 0xff8) && d < 2048 && (!be || be_ok);

                v = rvmsi_mrif_apply_write(img, addr, size, data, be_ok, &id);
                if (size != 4 || (addr & 3))
                        CHECK_EQ(v, RVMSI_MRIF_ABORT);
                else
                        CHECK_EQ(v, record ? RVMSI_MRIF_RECORD : RVMSI_MRIF_DISCARD);
                if (record) {
                        CHECK_EQ(id, d);
                        m.pending[d] = true;    /* even when not enabled, and for d = 0 */
                } else
                        CHECK_EQ(id, 0xdead);
                model_to_image(&m, want);
                CHECK(memcmp(img, want, sizeof(img)) == 0);
        }
        CHECK(rvmsi_mrif_apply_write(img, 0, 4, 0, false, NULL) == RVMSI_MRIF_RECORD);
        CHECK_EQ(img[0] & 1, 1);
}

TEST(next_take_count_vs_model) {
        for (unsigned it = 0; it < 300; it++) {
                struct model m;
                uint64_t img[64], want[64];
                unsigned density = (unsigned) rt_rand_below(4) == 0 ? 100 : (unsigned) rt_rand_below(10);
                unsigned n_pe = 0, n_p = 0;
                int id, prev;

                random_model(&m, density);
                model_to_image(&m, img);
                for (unsigned i = 1; i < 2048; i++) {
                        n_p += m.pending[i];
                        n_pe += m.pending[i] && m.enabled[i];
                }
                CHECK_EQ(rvmsi_mrif_count_pending(img, false), n_p);
                CHECK_EQ(rvmsi_mrif_count_pending(img, true), n_pe);

                /* next_pending from every start agrees with a linear scan. */
                for (uint32_t from = 0; from < 2050; from += 1 + (uint32_t) rt_rand_below(40)) {
                        int want_p = -ENOENT, want_pe = -ENOENT;

                        for (uint32_t i = from ? from : 1; i < 2048; i++)
                                if (m.pending[i]) {
                                        want_p = (int) i;
                                        break;
                                }
                        for (uint32_t i = from ? from : 1; i < 2048; i++)
                                if (m.pending[i] && m.enabled[i]) {
                                        want_pe = (int) i;
                                        break;
                                }
                        CHECK_EQ(rvmsi_mrif_next_pending(img, from, false), want_p);
                        CHECK_EQ(rvmsi_mrif_next_pending(img, from, true), want_pe);
                }

                /* Drain: ascending, exactly the pending-and-enabled set. */
                prev = 0;
                id = 0;
                while ((id = rvmsi_mrif_take_pending(img, (uint32_t) id)) >= 0) {
                        CHECK(id > prev);
                        CHECK(m.pending[id] && m.enabled[id]);
                        m.pending[id] = false;
                        prev = id;
                        n_pe--;
                }
                CHECK_EQ(id, -ENOENT);
                CHECK_EQ(n_pe, 0);
                m.pending[0] = false;   /* the faux bit is always cleared */
                model_to_image(&m, want);
                CHECK(memcmp(img, want, sizeof(img)) == 0);
                CHECK_EQ(rvmsi_mrif_count_pending(img, true), 0);
        }
}

TEST(identity_zero_is_never_reported) {
        uint64_t img[64];

        memset(img, 0, sizeof(img));
        CHECK_OK(rvmsi_mrif_set_pending(img, 0));
        CHECK_OK(rvmsi_mrif_set_enable(img, 0, true));
        CHECK_EQ(rvmsi_mrif_count_pending(img, false), 0);
        CHECK_EQ(rvmsi_mrif_next_pending(img, 0, false), -ENOENT);
        CHECK_EQ(rvmsi_mrif_take_pending(img, 0), -ENOENT);
        CHECK_EQ(img[0], 0);
        CHECK_EQ(img[1], 1);
        /* Edges: identities 1, 63, 64 and 2047. */
        for (unsigned i = 0; i < 4; i++) {
                static const uint32_t ids[] = { 1, 63, 64, 2047 };

                memset(img, 0, sizeof(img));
                CHECK_OK(rvmsi_mrif_set_pending(img, ids[i]));
                CHECK_OK(rvmsi_mrif_set_enable(img, ids[i], true));
                CHECK_EQ(rvmsi_mrif_next_pending(img, 0, true), ids[i]);
                CHECK_EQ(rvmsi_mrif_next_pending(img, ids[i], true), ids[i]);
                CHECK_EQ(rvmsi_mrif_next_pending(img, ids[i] + 1, true), -ENOENT);
                CHECK_EQ(rvmsi_mrif_take_pending(img, 1), ids[i]);
                CHECK_EQ(rvmsi_mrif_count_pending(img, false), 0);
        }
        CHECK_EQ(rvmsi_mrif_next_pending(img, 5000, false), -ENOENT);
}
