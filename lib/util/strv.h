/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NULL-terminated string arrays and a few string helpers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Append a copy of value; -ENOMEM on failure, *l unchanged then. */
int strv_extend(char ***l, const char *value);
#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)

/* Copy src into dst of size n; -ENAMETOOLONG (dst untouched) if it does not fit. */
int strcpy_checked(char *dst, size_t n, const char *src);

/* Append with snprintf semantics into a growing heap string; -ENOMEM on failure. */
int strextendf(char **s, const char *fmt, ...) _printf_(2, 3);

/* Canonical UUID text (8-4-4-4-12 hex): validate and lowercase into ret (37 bytes). */
#define UUID_STRING_MAX 37
int uuid_normalize(const char *s, char ret[static UUID_STRING_MAX]);
