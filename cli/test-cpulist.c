/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include "cpulist.h"
#include "macro.h"
#include "tests.h"

static void check(const char *s, int want, const uint32_t *cpus) {
        _cleanup_free_ uint32_t *l = NULL;
        int r = cpulist_parse(s, &l);

        if (r != want)
                TEST_FAIL("cpulist_parse('%s') = %d, want %d", s, r, want);
        for (int i = 0; i < want; i++)
                if (l[i] != cpus[i])
                        TEST_FAIL("cpulist_parse('%s')[%d] = %u, want %u", s, i, l[i], cpus[i]);
}

TEST(valid) {
        check("0", 1, (const uint32_t[]) { 0 });
        check("3,1", 2, (const uint32_t[]) { 1, 3 });
        check("0-3,^2", 3, (const uint32_t[]) { 0, 1, 3 });
        check("4-5, 1 ,1", 3, (const uint32_t[]) { 1, 4, 5 });
        check("0-3,^0-3", 0, NULL);
        check("4095", 1, (const uint32_t[]) { 4095 });
}

TEST(invalid) {
        check("", -EINVAL, NULL);
        check("a", -EINVAL, NULL);
        check("1,", -EINVAL, NULL);
        check("1-", -EINVAL, NULL);
        check("-1", -EINVAL, NULL);
        check("1;2", -EINVAL, NULL);
        check("3-1", -ERANGE, NULL);
        check("4096", -ERANGE, NULL);
        check("99999999999999999999", -ERANGE, NULL);
}

DEFINE_TEST_MAIN
