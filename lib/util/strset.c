/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "strset.h"
#include "strv.h"

/* Device names and UUIDs share long prefixes: every byte goes into the hash. */
static size_t hash_string(const char *v) {
        return (size_t) string_hash(v);
}

/* A block of members' bytes. Blocks never move, so the strv can point into them. */
struct StrSetBlock {
        struct StrSetBlock *next;
        size_t used, size;
        char data[];
};

#define BLOCK_MIN 512U

static void blocks_free(struct StrSetBlock *b) {
        while (b) {
                struct StrSetBlock *next = b->next;

                free(b);
                b = next;
        }
}

/* Room for len bytes in the newest block, or in a new one twice the size of the last (a burst: few blocks). */
static char *blocks_alloc(StrSet *s, size_t len) {
        struct StrSetBlock *b = s->blocks;

        if (!b || b->size - b->used < len) {
                size_t size = MAX(b ? 2 * b->size : BLOCK_MIN, len);

                if (size > SIZE_MAX - sizeof(struct StrSetBlock))
                        return NULL;
                b = malloc(sizeof(struct StrSetBlock) + size);
                if (!b)
                        return NULL;
                *b = (struct StrSetBlock) { .next = s->blocks, .size = size };
                s->blocks = b;
        }
        b->used += len;
        return b->data + b->used - len;
}

void strset_done(StrSet *s) {
        if (!s)
                return;
        free(s->strv);
        free(s->slots);
        blocks_free(s->blocks);
        *s = (StrSet) {};
}

/* strset_clear() keeps arrays up to this many entries, and one block of the smallest size: an event's sets. A
 * burst's are let go. */
#define CLEAR_KEEP_MAX 64U

void strset_clear(StrSet *s) {
        if (!s)
                return;
        if (s->blocks && s->blocks->size == BLOCK_MIN && !s->blocks->next)
                s->blocks->used = 0;
        else {
                blocks_free(s->blocks);
                s->blocks = NULL;
        }
        if (s->n_allocated > CLEAR_KEEP_MAX) {
                s->strv = mfree(s->strv);
                s->n_allocated = 0;
        } else if (s->strv)
                s->strv[0] = NULL;
        if (s->n_slots > CLEAR_KEEP_MAX) {
                s->slots = mfree(s->slots);
                s->n_slots = 0;
        } else if (s->slots)
                memset(s->slots, 0, s->n_slots * sizeof(size_t));
        s->n = 0;
}

/* The slot that holds v (hash: hash_string(v)), or the empty slot where it would go. */
static size_t *slot_of_hashed(const StrSet *s, const char *v, size_t hash) {
        size_t mask = s->n_slots - 1;

        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                size_t *slot = &s->slots[i];

                if (*slot == 0 || streq(s->strv[*slot - 1], v))
                        return slot;
        }
}

static size_t *slot_of(const StrSet *s, const char *v) {
        return slot_of_hashed(s, v, hash_string(v));
}

/* Rebuild the index with room for n members at a load of at most one half. */
static int reindex(StrSet *s, size_t n) {
        size_t n_slots = 16, *slots;
        StrSet t;

        while (n_slots / 2 < n) {
                if (n_slots > SIZE_MAX / 2 / sizeof(size_t))
                        return -ENOMEM;
                n_slots *= 2;
        }
        if (n_slots <= s->n_slots)
                return 0;
        slots = calloc(n_slots, sizeof(size_t));
        if (!slots)
                return -ENOMEM;
        t = (StrSet) { .strv = s->strv, .slots = slots, .n_slots = n_slots };
        for (size_t i = 0; i < s->n; i++)
                *slot_of(&t, s->strv[i]) = i + 1;
        free(s->slots);
        s->slots = slots;
        s->n_slots = n_slots;
        return 0;
}

bool strset_contains(const StrSet *s, const char *v) {
        if (!s || !v || s->n == 0)
                return false;
        return *slot_of(s, v) != 0;
}

int strset_put(StrSet *s, const char *v) {
        size_t *slot, hash, len;
        char *copy;
        int r;

        assert_return(s && v, -EINVAL);

        /* Hashed once: an event puts a few names into a few sets, and the hash was a third of the cost. */
        hash = hash_string(v);
        if (s->n > 0 && *slot_of_hashed(s, v, hash) != 0)
                return 0;
        r = reindex(s, s->n + 1);
        if (r < 0)
                return r;
        /* The member and the terminator after it. */
        if (!GREEDY_REALLOC(s->strv, s->n_allocated, s->n + 2))
                return -ENOMEM;
        len = strlen(v) + 1;
        copy = blocks_alloc(s, len);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, v, len);
        slot = slot_of_hashed(s, v, hash);
        s->strv[s->n] = copy;
        s->strv[s->n + 1] = NULL;
        *slot = ++s->n;
        return 1;
}

int strset_put_strv(StrSet *s, char *const *l) {
        int n = 0, r;

        STRV_FOREACH(i, l) {
                r = strset_put(s, *i);
                if (r < 0)
                        return r;
                n += r;
        }
        return n;
}
