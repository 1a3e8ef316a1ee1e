/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers in the systemd style. libsystemd exports only the sd-*.h
 * APIs, not its internal macro collection, so rvmsi keeps its own: cleanup
 * attributes, ownership transfer, array sizes and a few string predicates.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json_object.h>

#define _cleanup_(x) __attribute__((__cleanup__(x)))
#define _unused_ __attribute__((__unused__))
#define _pure_ __attribute__((__pure__))
#define _const_ __attribute__((__const__))
#define _printf_(a, b) __attribute__((__format__(printf, a, b)))
#define _warn_unused_result_ __attribute__((__warn_unused_result__))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))

#define ELEMENTSOF(x)                                                                           \
        (__builtin_choose_expr(                                                                 \
                !__builtin_types_compatible_p(typeof(x), typeof(&*(x))),                        \
                sizeof(x) / sizeof((x)[0]),                                                     \
                (void) 0))

#undef MIN
#undef MAX
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
/* Three-way compare for qsort-style callbacks. */
#define CMP(a, b) (((a) > (b)) - ((a) < (b)))

/* Hand the value of a pointer (or fd) over to someone else and reset the variable. */
#define TAKE_PTR(p)                                     \
        ({                                              \
                typeof(p) *_pp_ = &(p);                 \
                typeof(p) _p_ = *_pp_;                  \
                *_pp_ = NULL;                           \
                _p_;                                    \
        })
#define TAKE_FD(fd)                                     \
        ({                                              \
                int *_fdp_ = &(fd);                     \
                int _fd_ = *_fdp_;                      \
                *_fdp_ = -EBADF;                        \
                _fd_;                                   \
        })

/* Early return for precondition failures in library code (no logging, no abort). */
#define assert_return(expr, r)                          \
        do {                                            \
                if (_unlikely_(!(expr)))                \
                        return (r);                     \
        } while (false)

/* Keep the first error of a series of operations, but run them all. */
#define RET_GATHER(ret, err)                            \
        ({                                              \
                int _e_ = (err);                        \
                if ((ret) >= 0 && _e_ < 0)              \
                        (ret) = _e_;                    \
                (ret);                                  \
        })

#define new(t, n) ((t *) calloc_multiply(sizeof(t), (n)))
#define new0(t, n) new(t, n)

static inline void *calloc_multiply(size_t size, size_t n) {
        if (n == 0)
                n = 1;
        return calloc(n, size);
}

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/*
 * Generate "funcp(type *p)" for use with _cleanup_. func must accept NULL and
 * its result (if any) is ignored.
 */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        (void) func(*p);                        \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}

static inline void fclosep(FILE **f) {
        if (*f) {
                (void) fclose(*f);
                *f = NULL;
        }
}

static inline void json_object_putp(json_object **j) {
        if (*j) {
                (void) json_object_put(*j);
                *j = NULL;
        }
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_json_ _cleanup_(json_object_putp)

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)

static inline bool isempty(const char *s) {
        return !s || s[0] == '\0';
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline const char *yes_no(bool b) {
        return b ? "yes" : "no";
}

/* Grow *array (of *allocated elements of size) to hold at least need elements. */
void *greedy_realloc(void **array, size_t *allocated, size_t need, size_t size);
#define GREEDY_REALLOC(array, allocated, need) \
        greedy_realloc((void **) &(array), &(allocated), (need), sizeof((array)[0]))

/*
 * Ask for the n bytes at p to be brought into the cache, one line at a time: the event paths start the misses of
 * several objects before reading any of them. No-op for p == NULL.
 */
#define CACHE_LINE_BYTES 64U
static inline void prefetch_bytes(const void *p, size_t n) {
        for (size_t off = 0; p && off < n; off += CACHE_LINE_BYTES)
                __builtin_prefetch((const char *) p + off);
}
