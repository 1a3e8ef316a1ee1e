/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdio.h>

#include "strset.h"
#include "strv.h"
#include "tests.h"

DEFINE_TEST_MAIN

TEST(empty) {
        StrSet s = {};

        ASSERT_EQ(strset_size(&s), 0);
        ASSERT_TRUE(strset_strv(&s) == NULL);
        ASSERT_FALSE(strset_contains(&s, "a"));
        ASSERT_FALSE(strset_contains(&s, ""));
        strset_clear(&s);
        ASSERT_EQ(strset_size(&s), 0);
        strset_done(&s);
        strset_done(&s);
}

TEST(order_and_duplicates) {
        StrSet s = {};
        _cleanup_strv_free_ char **l = NULL;
        char *const more[] = { (char *) "c", (char *) "a", (char *) "d", NULL };

        ASSERT_EQ(strset_put(&s, "b"), 1);
        ASSERT_EQ(strset_put(&s, "a"), 1);
        ASSERT_EQ(strset_put(&s, "b"), 0);
        ASSERT_EQ(strset_put(&s, ""), 1);
        ASSERT_EQ(strset_put_strv(&s, more), 2);
        ASSERT_EQ(strset_put_strv(&s, NULL), 0);
        ASSERT_EQ(strset_size(&s), 5);
        ASSERT_EQ(strv_length(strset_strv(&s)), 5);
        ASSERT_STREQ(strset_strv(&s)[0], "b");
        ASSERT_STREQ(strset_strv(&s)[1], "a");
        ASSERT_STREQ(strset_strv(&s)[2], "");
        ASSERT_STREQ(strset_strv(&s)[3], "c");
        ASSERT_STREQ(strset_strv(&s)[4], "d");
        ASSERT_TRUE(strset_contains(&s, ""));
        ASSERT_FALSE(strset_contains(&s, "e"));
        ASSERT_FALSE(strset_contains(&s, "bb"));

        /* The members are copies. */
        STRV_FOREACH(i, strset_strv(&s))
                ASSERT_OK(strv_extend(&l, *i));
        ASSERT_TRUE(strset_strv(&s)[0] != l[0]);
        strset_done(&s);
        ASSERT_EQ(strset_size(&s), 0);
        ASSERT_FALSE(strset_contains(&s, "b"));
        ASSERT_EQ(strv_length(l), 5);
        ASSERT_STREQ(l[4], "d");
        /* Usable again after being emptied. */
        ASSERT_EQ(strset_put(&s, "b"), 1);
        ASSERT_TRUE(strset_contains(&s, "b"));
        strset_done(&s);
        ASSERT_FALSE(strset_contains(&s, "b"));
}

/* Many members with a long common prefix (like PCI names), across several rebuilds of the index: every member is
 * found, nothing else is, and the order is the order added. */
TEST(many_like_device_names) {
        StrSet s = {};
        char name[32];

        for (unsigned i = 0; i < 20000; i++) {
                (void) snprintf(name, sizeof(name), "0000:%02x:%02x.%u", i / 256, (i / 8) % 32, i % 8);
                ASSERT_EQ(strset_put(&s, name), 1);
                if (i % 7 == 0)
                        ASSERT_EQ(strset_put(&s, name), 0);
        }
        ASSERT_EQ(strset_size(&s), 20000);
        ASSERT_TRUE(s.n_slots >= 2 * strset_size(&s));
        for (unsigned i = 0; i < 20000; i++) {
                (void) snprintf(name, sizeof(name), "0000:%02x:%02x.%u", i / 256, (i / 8) % 32, i % 8);
                ASSERT_TRUE(strset_contains(&s, name));
                ASSERT_STREQ(strset_strv(&s)[i], name);
                (void) snprintf(name, sizeof(name), "0001:%02x:%02x.%u", i / 256, (i / 8) % 32, i % 8);
                ASSERT_FALSE(strset_contains(&s, name));
        }
        ASSERT_TRUE(strset_strv(&s)[20000] == NULL);
        strset_done(&s);
}

/* Cleared sets are empty, keep small arrays, let large ones go, and work as before. */
TEST(clear_and_refill) {
        StrSet s = {};
        char name[32];

        strset_clear(&s);
        ASSERT_EQ(strset_size(&s), 0);
        for (unsigned round = 0; round < 3; round++) {
                ASSERT_EQ(strset_put(&s, "a"), 1);
                ASSERT_EQ(strset_put(&s, "b"), 1);
                ASSERT_EQ(strset_put(&s, "a"), 0);
                ASSERT_EQ(strset_size(&s), 2);
                ASSERT_STREQ(strset_strv(&s)[1], "b");
                ASSERT_TRUE(strset_strv(&s)[2] == NULL);
                strset_clear(&s);
                ASSERT_EQ(strset_size(&s), 0);
                ASSERT_TRUE(strset_strv(&s) == NULL || strset_strv(&s)[0] == NULL);
                ASSERT_FALSE(strset_contains(&s, "a"));
                /* Kept for the next round: nothing to allocate then. */
                ASSERT_TRUE(s.slots != NULL && s.strv != NULL && s.blocks != NULL);
        }

        for (unsigned i = 0; i < 1000; i++) {
                (void) snprintf(name, sizeof(name), "0000:%02x:%02x.%u", i / 256, (i / 8) % 32, i % 8);
                ASSERT_EQ(strset_put(&s, name), 1);
        }
        strset_clear(&s);
        ASSERT_TRUE(s.slots == NULL && s.strv == NULL && s.blocks == NULL);
        ASSERT_FALSE(strset_contains(&s, name));
        ASSERT_EQ(strset_put(&s, name), 1);
        ASSERT_TRUE(strset_contains(&s, name));
        ASSERT_EQ(strset_size(&s), 1);
        strset_done(&s);
}
