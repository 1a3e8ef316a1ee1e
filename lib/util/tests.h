/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny unit-test runner. TEST(name) { ... } registers a test through a
 * constructor; DEFINE_TEST_MAIN runs them all in order of definition, or only
 * those named on the command line. ASSERT_* print file:line and the values,
 * then abort(), so a failed test fails the binary (and sanitizers still see
 * the whole process). Nothing here can "skip" a test.
 */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct TestCase {
        const char *name;
        void (*func)(void);
        struct TestCase *next;
} TestCase;

extern TestCase *tests_head, **tests_tail;

#define TEST(n)                                                                         \
        static void test_##n(void);                                                     \
        static TestCase test_case_##n = { .name = #n, .func = test_##n };               \
        __attribute__((constructor)) static void test_register_##n(void) {              \
                *tests_tail = &test_case_##n;                                           \
                tests_tail = &test_case_##n.next;                                       \
        }                                                                               \
        static void test_##n(void)

#define DEFINE_TEST_MAIN                                                                \
        TestCase *tests_head = NULL, **tests_tail = &tests_head;                        \
        int main(int argc, char *argv[]) {                                              \
                unsigned n = 0;                                                         \
                for (TestCase *t = tests_head; t; t = t->next) {                        \
                        if (argc > 1) {                                                 \
                                int found = 0;                                          \
                                for (int i = 1; i < argc; i++)                          \
                                        if (strcmp(argv[i], t->name) == 0)              \
                                                found = 1;                              \
                                if (!found)                                             \
                                        continue;                                       \
                        }                                                               \
                        fprintf(stderr, "/* %s */\n", t->name);                         \
                        t->func();                                                      \
                        n++;                                                            \
                }                                                                       \
                if (n == 0) {                                                           \
                        fprintf(stderr, "no test ran\n");                               \
                        return EXIT_FAILURE;                                            \
                }                                                                       \
                fprintf(stderr, "%u tests passed\n", n);                                \
                return EXIT_SUCCESS;                                                    \
        }

#define TEST_FAIL(fmt, ...)                                                             \
        do {                                                                            \
                fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__);  \
                abort();                                                                \
        } while (0)

#define ASSERT_TRUE(e)                                                                  \
        do {                                                                            \
                if (!(e))                                                               \
                        TEST_FAIL("assertion failed: %s", #e);                          \
        } while (0)
#define ASSERT_FALSE(e) ASSERT_TRUE(!(e))

#define ASSERT_EQ(a, b)                                                                 \
        do {                                                                            \
                intmax_t _a_ = (intmax_t) (a), _b_ = (intmax_t) (b);                    \
                if (_a_ != _b_)                                                         \
                        TEST_FAIL("%s == %s: %jd != %jd", #a, #b, _a_, _b_);            \
        } while (0)
#define ASSERT_NE(a, b)                                                                 \
        do {                                                                            \
                intmax_t _a_ = (intmax_t) (a), _b_ = (intmax_t) (b);                    \
                if (_a_ == _b_)                                                         \
                        TEST_FAIL("%s != %s: both %jd", #a, #b, _a_);                   \
        } while (0)
#define ASSERT_OK(r)                                                                    \
        do {                                                                            \
                intmax_t _r_ = (intmax_t) (r);                                          \
                if (_r_ < 0)                                                            \
                        TEST_FAIL("%s failed: %jd (%s)", #r, _r_, strerror((int) -_r_));\
        } while (0)
#define ASSERT_ERROR(r, err)                                                            \
        do {                                                                            \
                intmax_t _r_ = (intmax_t) (r);                                          \
                if (_r_ != -(intmax_t) (err))                                           \
                        TEST_FAIL("%s: expected -%s, got %jd", #r, #err, _r_);          \
        } while (0)
#define ASSERT_STREQ(a, b)                                                              \
        do {                                                                            \
                const char *_a_ = (a), *_b_ = (b);                                      \
                if (!_a_ || !_b_ || strcmp(_a_, _b_) != 0)                              \
                        TEST_FAIL("%s == %s: '%s' != '%s'", #a, #b,                     \
                                  _a_ ?: "(null)", _b_ ?: "(null)");                    \
        } while (0)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)
