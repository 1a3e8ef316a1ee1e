/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal unit-test runner for lib/msi (userspace only; never copied into
 * the kernel tree).
 *
 *   TEST(name) { CHECK(x); CHECK_EQ(a, b); CHECK_ERR(f(), -EINVAL); }
 *
 * Tests register themselves at load time and run in source order. A failed
 * check prints file:line, the expression and both values, and the test goes
 * on so one run shows every failure. A test that performs no check at all is
 * itself a failure, so an empty or skipped test can never count as a pass.
 * Usage: test-foo [name...]  (no arguments: run every test)
 */
#ifndef RVMSI_TEST_RUNNER_H
#define RVMSI_TEST_RUNNER_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_MAX_TESTS 256

struct rt_test {
        const char *name;
        void (*fn)(void);
};

static struct rt_test rt_tests[RT_MAX_TESTS];
static unsigned rt_n_tests;
static unsigned long rt_checks, rt_failures;
static const char *rt_current;

static inline void rt_register(const char *name, void (*fn)(void)) {
        if (rt_n_tests >= RT_MAX_TESTS) {
                fprintf(stderr, "runner: too many tests, raise RT_MAX_TESTS\n");
                exit(2);
        }
        rt_tests[rt_n_tests++] = (struct rt_test) { name, fn };
}

#define TEST(name)                                                              \
        static void test_##name(void);                                          \
        __attribute__((constructor)) static void rt_reg_##name(void) {          \
                rt_register(#name, test_##name);                                \
        }                                                                       \
        static void test_##name(void)

static inline bool rt_fail_header(const char *file, int line) {
        rt_failures++;
        fprintf(stderr, "%s:%d: [%s] check failed: ", file, line, rt_current);
        return false;
}

/* Plain boolean check. */
#define CHECK(expr)                                                             \
        ({                                                                      \
                bool _ok = (expr);                                              \
                rt_checks++;                                                    \
                if (!_ok) {                                                     \
                        rt_fail_header(__FILE__, __LINE__);                     \
                        fprintf(stderr, "%s\n", #expr);                         \
                }                                                               \
                _ok;                                                            \
        })

/* Equality of two integers (any integer type up to 64 bits), values shown. */
#define CHECK_EQ(a, b)                                                          \
        ({                                                                      \
                uint64_t _a = (uint64_t) (a), _b = (uint64_t) (b);              \
                bool _ok = _a == _b;                                            \
                rt_checks++;                                                    \
                if (!_ok) {                                                     \
                        rt_fail_header(__FILE__, __LINE__);                     \
                        fprintf(stderr, "%s == %s: 0x%" PRIx64 " (%" PRId64     \
                                ") != 0x%" PRIx64 " (%" PRId64 ")\n",           \
                                #a, #b, _a, (int64_t) _a, _b, (int64_t) _b);    \
                }                                                               \
                _ok;                                                            \
        })

/* An int-returning call must give exactly the expected errno (or 0). */
#define CHECK_ERR(call, expected)                                               \
        ({                                                                      \
                int _r = (call), _e = (expected);                               \
                bool _ok = _r == _e;                                            \
                rt_checks++;                                                    \
                if (!_ok) {                                                     \
                        rt_fail_header(__FILE__, __LINE__);                     \
                        fprintf(stderr, "%s returned %d (%s), expected %d (%s)\n", \
                                #call, _r, _r < 0 ? strerror(-_r) : "ok", _e,   \
                                _e < 0 ? strerror(-_e) : "ok");                 \
                }                                                               \
                _ok;                                                            \
        })

#define CHECK_OK(call) CHECK_ERR(call, 0)

/* Deterministic xorshift64 so every run exercises the same inputs. */
static uint64_t rt_rng_state = 0x9e3779b97f4a7c15ULL;

static inline void rt_seed(uint64_t seed) {
        rt_rng_state = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

static inline uint64_t rt_rand(void) {
        uint64_t x = rt_rng_state;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return rt_rng_state = x;
}

/* Uniform-enough value in [0, n) for n > 0 (modulo bias is irrelevant here). */
static inline uint64_t rt_rand_below(uint64_t n) {
        return rt_rand() % n;
}

/* A random mask with a random density: sparse, dense and mixed masks. */
static inline uint64_t rt_rand_mask(void) {
        uint64_t m = rt_rand();

        switch (rt_rand_below(4)) {
        case 0:
                return m & rt_rand() & rt_rand();
        case 1:
                return m | rt_rand();
        default:
                return m;
        }
}

static inline bool rt_selected(int argc, char **argv, const char *name) {
        if (argc <= 1)
                return true;
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], name) == 0)
                        return true;
        return false;
}

int main(int argc, char **argv) {
        unsigned run = 0, failed = 0;

        for (unsigned i = 0; i < rt_n_tests; i++) {
                unsigned long checks0 = rt_checks, failures0 = rt_failures;

                if (!rt_selected(argc, argv, rt_tests[i].name))
                        continue;
                rt_current = rt_tests[i].name;
                rt_seed(0x9e3779b97f4a7c15ULL + i);
                rt_tests[i].fn();
                run++;

                if (rt_checks == checks0) {
                        fprintf(stderr, "[%s] made no checks: an empty test is a failure\n",
                                rt_tests[i].name);
                        rt_failures++;
                }
                if (rt_failures != failures0) {
                        failed++;
                        printf("FAIL %s (%lu failed checks)\n", rt_tests[i].name,
                               rt_failures - failures0);
                } else
                        printf("ok   %s (%lu checks)\n", rt_tests[i].name, rt_checks - checks0);
        }

        if (run == 0) {
                fprintf(stderr, "no test matched\n");
                return 1;
        }
        printf("%u tests, %u failed, %lu checks\n", run, failed, rt_checks);
        return failed ? 1 : 0;
}

#endif /* RVMSI_TEST_RUNNER_H */
