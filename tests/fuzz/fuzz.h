/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by every harness: the libFuzzer entry point, and a check that
 * aborts (so that libFuzzer and the replay runner both report it) when a
 * property the parser promises does not hold.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(expr)                                                                        \
        do {                                                                                    \
                if (!(expr)) {                                                                  \
                        fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                                \
                }                                                                               \
        } while (0)

/* Inputs larger than this are not interesting and only slow the fuzzer down. */
#define FUZZ_MAX_INPUT (256U * 1024U)
