/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fast 64-bit hash of a string, for the in-memory indexes (StrSet, PosHint). It takes the string eight bytes at
 * a time: an event hashes a few dozen device names and UUIDs, and a byte-wise hash (FNV-1a) made each UUID a chain
 * of 36 dependent multiplications. Not stable across versions or byte orders: never store it, never send it.
 */
#pragma once

#include <stdint.h>

uint64_t string_hash(const char *s);
