/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cpulist.h"

static int parse_number(const char **p, unsigned *ret) {
        unsigned long v = 0;
        const char *s = *p;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        while (isdigit((unsigned char) *s)) {
                v = v * 10 + (unsigned long) (*s - '0');
                if (v >= CPULIST_MAX)
                        return -ERANGE;
                s++;
        }
        *p = s;
        *ret = (unsigned) v;
        return 0;
}

int cpulist_parse(const char *s, uint32_t **ret) {
        bool *set, *excl;
        uint32_t *list;
        size_t n = 0;
        int r = 0;

        set = calloc(CPULIST_MAX, sizeof(bool));
        excl = calloc(CPULIST_MAX, sizeof(bool));
        if (!set || !excl) {
                r = -ENOMEM;
                goto out;
        }

        for (;;) {
                bool exclude = false;
                unsigned a, b;

                while (*s == ' ')
                        s++;
                if (*s == '^') {
                        exclude = true;
                        s++;
                }
                r = parse_number(&s, &a);
                if (r < 0)
                        goto out;
                b = a;
                if (*s == '-') {
                        s++;
                        r = parse_number(&s, &b);
                        if (r < 0)
                                goto out;
                        if (b < a) {
                                r = -ERANGE;
                                goto out;
                        }
                }
                for (unsigned i = a; i <= b; i++)
                        (exclude ? excl : set)[i] = true;
                while (*s == ' ')
                        s++;
                if (*s == 0)
                        break;
                if (*s != ',') {
                        r = -EINVAL;
                        goto out;
                }
                s++;
        }

        for (unsigned i = 0; i < CPULIST_MAX; i++)
                if (set[i] && !excl[i])
                        n++;
        list = NULL;
        if (n > 0) {
                size_t k = 0;

                list = malloc(n * sizeof(uint32_t));
                if (!list) {
                        r = -ENOMEM;
                        goto out;
                }
                for (unsigned i = 0; i < CPULIST_MAX; i++)
                        if (set[i] && !excl[i])
                                list[k++] = i;
        }
        *ret = list;
        r = (int) n;
out:
        free(set);
        free(excl);
        return r;
}
