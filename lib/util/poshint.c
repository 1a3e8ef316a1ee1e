/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdlib.h>

#include "hash.h"
#include "macro.h"
#include "poshint.h"

void pos_hint_done(PosHint *h) {
        if (!h)
                return;
        free(h->slots);
        *h = (PosHint) {};
}

static size_t slot_index(uint64_t key, size_t n_slots) {
        /* Pointers are aligned and hashes may cluster in the low bits: mix before masking. */
        key *= UINT64_C(0x9e3779b97f4a7c15);
        return (size_t) (key >> 32) & (n_slots - 1);
}

const PosHintSlot *pos_hint_slot(const PosHint *h, uint64_t key) {
        if (!h || h->n_slots == 0)
                return NULL;
        return &h->slots[slot_index(key, h->n_slots)];
}

size_t pos_hint_get(const PosHint *h, uint64_t key) {
        if (!h || h->n_slots == 0 || key == 0)
                return SIZE_MAX;
        for (size_t i = slot_index(key, h->n_slots);; i = (i + 1) & (h->n_slots - 1)) {
                const PosHintSlot *s = &h->slots[i];

                if (s->key == key)
                        return s->pos;
                if (s->key == 0)
                        return SIZE_MAX;
        }
}

void pos_hint_set(PosHint *h, uint64_t key, size_t pos, size_t n_expected) {
        size_t i;

        if (!h || key == 0)
                return;
        if ((h->n_used + 1) * 2 > h->n_slots) {
                /* Full: start over, larger. The hints fill up again as things are looked up. */
                size_t n = 64;
                PosHintSlot *t;

                while (n < h->n_slots * 2 || n < n_expected * 2) {
                        if (n > SIZE_MAX / 4 / sizeof(PosHintSlot))
                                return;
                        n *= 2;
                }
                t = calloc(n, sizeof(PosHintSlot));
                if (!t)
                        return;
                free(h->slots);
                *h = (PosHint) { .slots = t, .n_slots = n };
        }
        for (i = slot_index(key, h->n_slots); h->slots[i].key != 0 && h->slots[i].key != key;
             i = (i + 1) & (h->n_slots - 1))
                ;
        if (h->slots[i].key == 0)
                h->n_used++;
        h->slots[i] = (PosHintSlot) { .key = key, .pos = pos };
}

uint64_t pos_hint_key_string(const char *s) {
        return string_hash(s) ?: 1;
}
