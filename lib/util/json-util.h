/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-c helpers: strict parsing with line and column on error, and typed
 * getters that name the JSON path of the field they failed on, so that the
 * caller can log one precise line ("policy.json: vms[2].class: unknown
 * class 'fast'") without this library ever logging anything itself.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "macro.h"

#define JSON_PATH_MAX 256

/*
 * Details of the first error a parser hit. Every field is a fixed buffer so
 * that reporting an error can never fail itself. file and field may be "".
 */
typedef struct JsonError {
        char file[512];
        char field[JSON_PATH_MAX];      /* JSON path, e.g. "vms[2].class" */
        char reason[256];
        unsigned line;                  /* 1-based, 0 if unknown */
        unsigned column;                /* 1-based, 0 if unknown */
} JsonError;

/* Record an error (first one wins is NOT applied: callers stop at the first). Returns -EINVAL. */
int json_error_set(JsonError *e, const char *field, const char *fmt, ...) _printf_(3, 4);
/* Same, with an explicit negative errno to return. */
int json_error_set_errno(JsonError *e, int error, const char *field, const char *fmt, ...) _printf_(4, 5);
void json_error_set_file(JsonError *e, const char *file);
/* "file:line:column: field: reason" (parts omitted when empty) into buf. */
const char *json_error_format(const JsonError *e, char *buf, size_t n);

/* Deepest nesting of objects and arrays a document may have. */
#define JSON_DEPTH_MAX 64

/*
 * Strict parse (JSON_TOKENER_STRICT: no trailing garbage, no comments, no
 * trailing commas), and stricter than json-c: a string with a NUL character
 * (\u0000) and an object with a key twice are refused, rather than cut short
 * or read as the last of the duplicates. Errors: -EBADMSG with line/column
 * set for these and for syntax errors, -ENOENT/-EACCES/... from opening the
 * file, -EFBIG for files > 16 MiB.
 */
int json_parse_buffer(const char *buf, size_t len, const char *name, json_object **ret, JsonError *e);
int json_parse_file(const char *path, json_object **ret, JsonError *e);

/* Build "parent.key" / "parent[i]" paths. Always NUL-terminates (truncating). */
const char *json_path_key(char buf[static JSON_PATH_MAX], const char *parent, const char *key);
const char *json_path_index(char buf[static JSON_PATH_MAX], const char *parent, size_t i);

/*
 * Typed getters. Each looks up key in object o (whose own path is path, "" at
 * the top). Return 1 when the value was found and stored in *ret, 0 when the
 * key is absent and !required (*ret untouched), or -EINVAL with e filled
 * (missing required key, wrong type, out of range).
 */
int json_get_object(json_object *o, const char *path, const char *key, bool required,
                    json_object **ret, JsonError *e);
int json_get_array(json_object *o, const char *path, const char *key, bool required,
                   json_object **ret, JsonError *e);
int json_get_string(json_object *o, const char *path, const char *key, bool required,
                    const char **ret, JsonError *e);
int json_get_bool(json_object *o, const char *path, const char *key, bool required,
                  bool *ret, JsonError *e);
int json_get_int64(json_object *o, const char *path, const char *key, bool required,
                   int64_t min, int64_t max, int64_t *ret, JsonError *e);
int json_get_uint32(json_object *o, const char *path, const char *key, bool required,
                    uint32_t min, uint32_t max, uint32_t *ret, JsonError *e);

/* Check that value v (at path) is an integer in [min, max]. */
int json_check_int64(json_object *v, const char *path, int64_t min, int64_t max, int64_t *ret,
                     JsonError *e);

/* Reject keys of object o (at path) that are not in the NULL-terminated list allowed. */
int json_check_keys(json_object *o, const char *path, const char *const *allowed, JsonError *e);

/* Serialize pretty, with a trailing newline; *ret is heap-allocated. */
int json_to_string_pretty(json_object *o, char **ret);

/*
 * Add v to object o under key, or append it to array a, taking the reference
 * in every case: v == NULL (a failed json_object_new_*()) gives -ENOMEM, and
 * on failure v is released. Lets builders chain with RET_GATHER().
 */
int json_add_take(json_object *o, const char *key, json_object *v);
int json_append_take(json_object *a, json_object *v);
