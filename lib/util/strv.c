/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdarg.h>

#include "strv.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        if (!l)
                return 0;
        while (l[n])
                n++;
        return n;
}

bool strv_contains(char *const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

int strv_extend(char ***l, const char *value) {
        _cleanup_free_ char *v = NULL;
        size_t n = strv_length(*l);
        char **c;

        assert_return(value, -EINVAL);

        v = strdup(value);
        if (!v)
                return -ENOMEM;
        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c)
                return -ENOMEM;
        c[n] = TAKE_PTR(v);
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strcpy_checked(char *dst, size_t n, const char *src) {
        size_t l;

        assert_return(dst && src && n > 0, -EINVAL);

        l = strlen(src);
        if (l >= n)
                return -ENAMETOOLONG;
        memcpy(dst, src, l + 1);
        return 0;
}

int strextendf(char **s, const char *fmt, ...) {
        va_list ap;
        size_t old = *s ? strlen(*s) : 0;
        int k;
        char *n;

        va_start(ap, fmt);
        k = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -EINVAL;

        n = realloc(*s, old + (size_t) k + 1);
        if (!n)
                return -ENOMEM;
        va_start(ap, fmt);
        (void) vsnprintf(n + old, (size_t) k + 1, fmt, ap);
        va_end(ap);
        *s = n;
        return 0;
}

int uuid_normalize(const char *s, char ret[static UUID_STRING_MAX]) {
        char buf[UUID_STRING_MAX];

        if (!s || strlen(s) != 36)
                return -EINVAL;
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return -EINVAL;
                        buf[i] = '-';
                        continue;
                }
                /* Plain comparisons, not isxdigit()/tolower(): every event normalizes a few UUIDs. */
                if ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))
                        buf[i] = s[i];
                else if (s[i] >= 'A' && s[i] <= 'F')
                        buf[i] = (char) (s[i] - 'A' + 'a');
                else
                        return -EINVAL;
        }
        buf[36] = '\0';
        memcpy(ret, buf, sizeof(buf));
        return 0;
}
