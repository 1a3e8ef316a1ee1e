/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where in a sorted array something was last found: a small open-addressing map from a 64-bit key (a pointer, or
 * a hash of a name) to a position. Only a hint: the caller confirms what it finds at the position and falls back
 * to its own search when the hint is missing or wrong, then records the right position. That way the arrays keep
 * their plain layout and their owners may insert, remove and move elements without telling the hint, which only
 * gets slower until it is corrected.
 *
 * An incremental event at a large host looks a handful of names up in arrays of 16,384; each binary search there
 * is a dozen dependent cache misses, and those searches were a large part of the event.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct PosHintSlot {
        uint64_t key;           /* 0: empty */
        size_t pos;
} PosHintSlot;

typedef struct PosHint {
        PosHintSlot *slots;
        size_t n_slots, n_used; /* n_slots: 0 or a power of two */
} PosHint;

void pos_hint_done(PosHint *h);
/* Where key's search starts (for a prefetch); NULL while the map is empty. */
const PosHintSlot *pos_hint_slot(const PosHint *h, uint64_t key);
/* The position recorded for key (not 0), or SIZE_MAX. */
size_t pos_hint_get(const PosHint *h, uint64_t key);
/* Record key (not 0) -> pos. n_expected: about how many keys there will be (to size the map). Best effort: when
 * memory is short nothing is recorded. */
void pos_hint_set(PosHint *h, uint64_t key, size_t pos, size_t n_expected);
/* A key for a NUL-terminated name (string_hash(), never 0). */
uint64_t pos_hint_key_string(const char *s);
