/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "macro.h"

void *greedy_realloc(void **array, size_t *allocated, size_t need, size_t size) {
        size_t n;
        void *q;

        if (*allocated >= need && *array)
                return *array;

        n = MAX(need, (size_t) 4);
        if (n < SIZE_MAX / 2)
                n = MAX(n, *allocated * 2);
        if (size != 0 && n > SIZE_MAX / size)
                return NULL;

        q = realloc(*array, n * size);
        if (!q)
                return NULL;
        /* Zero the new tail so that callers can rely on fresh elements being zeroed. */
        memset((char *) q + *allocated * size, 0, (n - *allocated) * size);
        *array = q;
        *allocated = n;
        return q;
}
