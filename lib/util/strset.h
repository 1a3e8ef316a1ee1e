/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A set of strings that keeps the order in which they were added: a NULL-terminated strv of the members plus an
 * open-addressing hash index over it. Adding and looking up are O(1) on average, so a burst that names n devices
 * costs O(n), not the O(n^2) of strv_contains() + strv_extend(); and the members can be passed to anything that
 * takes a strv, in a deterministic order. The members' bytes live in blocks owned by the set (one allocation
 * for many members, none once a cleared set is filled again).
 *
 * A zero-initialized StrSet is an empty set. No removal: the users build a set, read it, and drop or clear it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

typedef struct StrSet {
        char **strv;            /* the members in the order added, NULL-terminated; NULL while empty */
        size_t n, n_allocated;  /* members; room in strv (counting the terminator) */
        size_t *slots;          /* 0: empty, else 1 + the member's index in strv; n_slots is a power of two */
        size_t n_slots;
        struct StrSetBlock *blocks;     /* the members' bytes, newest block first */
} StrSet;

/* Free the members and the index; the set is empty (and reusable) after. */
void strset_done(StrSet *s);
/*
 * Empty the set but keep its arrays and a block for the members' bytes when they are small (large ones are let
 * go), so that a set filled again for every event allocates nothing.
 */
void strset_clear(StrSet *s);
#define _cleanup_strset_ _cleanup_(strset_done)
/* Add a copy of v. Returns 1 if added, 0 if it was a member already, -ENOMEM (set unchanged) on failure. */
int strset_put(StrSet *s, const char *v);
/* Add every string of l (may be NULL). Returns the number added or -ENOMEM (those before stay added). */
int strset_put_strv(StrSet *s, char *const *l);
bool strset_contains(const StrSet *s, const char *v) _pure_;
/* The members, NULL-terminated, in the order added; NULL while empty. Owned by the set, valid until it is
 * cleared or done. */
static inline char *const *strset_strv(const StrSet *s) {
        return s->strv;
}
static inline size_t strset_size(const StrSet *s) {
        return s->n;
}
