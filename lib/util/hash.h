/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fast 64-bit hash of a string, for the in-memory indexes (StrSet, PosHint). It takes the string eight bytes at
 * a time: an event hashes a few dozen device names and UUIDs, and a byte-wise hash (FNV-1a) made each UUID a chain
 * of 36 dependent multiplications. Not stable across versions or byte orders: never store it, never send it.
 */
#pragma once

#include <stdint.h>

uint64_t string_hash(const char *s);

/* splitmix64's finalizer: every bit of h reaches every bit of the result. */
static inline uint64_t hash_mix64(uint64_t h) {
        h ^= h >> 30;
        h *= UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 27;
        h *= UINT64_C(0x94d049bb133111eb);
        h ^= h >> 31;
        return h;
}
