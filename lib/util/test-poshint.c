/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdio.h>

#include "poshint.h"
#include "tests.h"

DEFINE_TEST_MAIN

TEST(empty_and_zero_key) {
        PosHint h = {};

        ASSERT_EQ(pos_hint_get(&h, 1), SIZE_MAX);
        pos_hint_set(&h, 0, 5, 10);             /* 0 is "empty": never recorded */
        ASSERT_EQ(h.n_used, 0);
        ASSERT_EQ(pos_hint_get(&h, 0), SIZE_MAX);
        pos_hint_done(&h);
        pos_hint_done(&h);
}

TEST(set_get_update_and_regrow) {
        PosHint h = {};

        for (uint64_t k = 1; k <= 5000; k++)
                pos_hint_set(&h, k * 8, (size_t) k, 0);       /* aligned like pointers */
        /* Started over on the way (it is a hint): what is there is right, and at most half full. */
        ASSERT_TRUE(h.n_used * 2 <= h.n_slots);
        for (uint64_t k = 1; k <= 5000; k++) {
                size_t p = pos_hint_get(&h, k * 8);

                ASSERT_TRUE(p == SIZE_MAX || p == (size_t) k);
        }
        /* The last ones added since the last start-over are all there. */
        ASSERT_EQ(pos_hint_get(&h, 5000 * 8), 5000);
        pos_hint_set(&h, 5000 * 8, 7, 0);
        ASSERT_EQ(pos_hint_get(&h, 5000 * 8), 7);
        pos_hint_done(&h);

        /* Sized for what is expected: nothing is dropped then. */
        for (uint64_t k = 1; k <= 5000; k++)
                pos_hint_set(&h, k * 8, (size_t) k, 5000);
        for (uint64_t k = 1; k <= 5000; k++)
                ASSERT_EQ(pos_hint_get(&h, k * 8), (size_t) k);
        ASSERT_EQ(pos_hint_get(&h, 5001 * 8), SIZE_MAX);
        pos_hint_done(&h);
}

TEST(string_keys) {
        char a[32], b[32];

        ASSERT_TRUE(pos_hint_key_string("") != 0);
        ASSERT_EQ(pos_hint_key_string("0000:00:01.0"), pos_hint_key_string("0000:00:01.0"));
        for (unsigned i = 0; i < 1000; i++) {
                (void) snprintf(a, sizeof(a), "0000:%02x:%02x.%u", i / 256, (i / 8) % 32, i % 8);
                (void) snprintf(b, sizeof(b), "0000:%02x:%02x.%u", (i + 1) / 256, ((i + 1) / 8) % 32, (i + 1) % 8);
                ASSERT_TRUE(pos_hint_key_string(a) != pos_hint_key_string(b));
        }
}
