/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <string.h>

#include "hash.h"

uint64_t string_hash(const char *s) {
        size_t len = strlen(s);
        uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ len, w;

        for (; len >= 8; s += 8, len -= 8) {
                memcpy(&w, s, sizeof(w));
                h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
                h ^= h >> 31;
        }
        /* The last 0 to 7 bytes, zero-padded (a string has no NUL inside, so the padding is unambiguous). */
        w = 0;
        memcpy(&w, s, len);
        return hash_mix64((h ^ w) * UINT64_C(0x94d049bb133111eb));
}
