/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>

#include "fileio.h"
#include "json-util.h"
#include "strset.h"

#define JSON_FILE_MAX (16U * 1024U * 1024U)

_printf_(3, 0) static void json_error_vset(JsonError *e, const char *field, const char *fmt, va_list ap) {
        if (!e)
                return;
        (void) snprintf(e->field, sizeof(e->field), "%s", strempty(field));
        (void) vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
}

int json_error_set(JsonError *e, const char *field, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        json_error_vset(e, field, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

int json_error_set_errno(JsonError *e, int error, const char *field, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        json_error_vset(e, field, fmt, ap);
        va_end(ap);
        return error < 0 ? error : -error;
}

void json_error_set_file(JsonError *e, const char *file) {
        if (e)
                (void) snprintf(e->file, sizeof(e->file), "%s", strempty(file));
}

const char *json_error_format(const JsonError *e, char *buf, size_t n) {
        size_t k = 0;

#define APPEND(...)                                                                     \
        do {                                                                            \
                if (k < n) {                                                            \
                        int _w_ = snprintf(buf + k, n - k, __VA_ARGS__);                \
                        if (_w_ > 0)                                                    \
                                k += (size_t) _w_;                                      \
                }                                                                       \
        } while (0)

        if (n == 0)
                return buf;
        buf[0] = '\0';
        if (!isempty(e->file)) {
                APPEND("%s", e->file);
                if (e->line > 0)
                        APPEND(":%u:%u", e->line, e->column);
                APPEND(": ");
        }
        if (!isempty(e->field))
                APPEND("%s: ", e->field);
        APPEND("%s", isempty(e->reason) ? "unknown error" : e->reason);
#undef APPEND
        return buf;
}

static void offset_to_line_column(const char *buf, size_t offset, unsigned *ret_line, unsigned *ret_col) {
        unsigned line = 1, col = 1;

        for (size_t i = 0; i < offset && buf[i]; i++) {
                if (buf[i] == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        *ret_line = line;
        *ret_col = col;
}

/* JSON's whitespace; not strchr(), which would take the NUL byte for some. */
static bool is_json_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int hex4(const char *p, uint32_t *ret) {
        uint32_t v = 0;

        for (int i = 0; i < 4; i++) {
                char c = p[i];

                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t) (c - 'A' + 10);
                else
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

static size_t utf8_put(char *out, uint32_t cp) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

/*
 * Decode the JSON string whose opening quote is at buf[*pos] into out (room for the raw length + 1 is enough: no
 * escape decodes to more bytes than it takes) and move *pos past the closing quote. -EBADMSG if it decodes to a
 * NUL character. The text is syntactically valid JSON already (json-c checked it).
 */
static int decode_string(const char *buf, size_t len, size_t *pos, char *out) {
        size_t i = *pos + 1, n = 0;

        while (i < len && buf[i] != '"') {
                uint32_t cp, lo;

                if (buf[i] != '\\') {
                        out[n++] = buf[i++];
                        continue;
                }
                i++;
                switch (buf[i]) {
                case 'b': out[n++] = '\b'; i++; break;
                case 'f': out[n++] = '\f'; i++; break;
                case 'n': out[n++] = '\n'; i++; break;
                case 'r': out[n++] = '\r'; i++; break;
                case 't': out[n++] = '\t'; i++; break;
                case 'u':
                        if (i + 5 > len || hex4(buf + i + 1, &cp) < 0)
                                return -EBADMSG;
                        i += 5;
                        if (cp >= 0xd800 && cp < 0xdc00 && i + 6 <= len && buf[i] == '\\' && buf[i + 1] == 'u' &&
                            hex4(buf + i + 2, &lo) >= 0 && lo >= 0xdc00 && lo < 0xe000) {
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                i += 6;
                        }
                        if (cp == 0)
                                return -EBADMSG;
                        n += utf8_put(out + n, cp);
                        break;
                default:        /* the quote, the backslash and the slash stand for themselves */
                        out[n++] = buf[i++];
                        break;
                }
        }
        out[n] = '\0';
        *pos = i + 1;
        return 0;
}

/*
 * What json-c lets through and a strict reader must not: a string with a NUL character in it (json-c keeps it,
 * every C consumer would see the string cut short there), an object with the same key twice (json-c keeps the
 * last one, so "version":2,"version":1 reads as 1), and a key in single quotes (json-c takes those even in
 * strict mode; JSON has none). buf[0..len) is a document json-c parsed without error.
 */
static int json_check_strict(const char *buf, size_t len, JsonError *e) {
        StrSet keys[JSON_DEPTH_MAX + 1] = {};
        _cleanup_free_ char *s = NULL;
        size_t depth = 0, i = 0;
        int r = 0;

        s = new(char, len + 1);
        if (!s)
                return -ENOMEM;
        while (i < len && r >= 0) {
                size_t start = i, j;

                switch (buf[i]) {
                case '{':
                case '[':
                        /* Arrays take a level too, unused: the depth of the two kinds together is what json-c
                         * limits. */
                        if (++depth > JSON_DEPTH_MAX) {
                                r = -EBADMSG;
                                break;
                        }
                        strset_clear(&keys[depth]);
                        i++;
                        break;
                case '}':
                case ']':
                        if (depth == 0) {       /* cannot happen after json-c; never index below the stack */
                                r = -EBADMSG;
                                break;
                        }
                        depth--;
                        i++;
                        break;
                case '\'':
                        /* Outside a double-quoted string, json-c took this for a string delimiter. */
                        offset_to_line_column(buf, start, &e->line, &e->column);
                        r = json_error_set_errno(e, -EBADMSG, "", "a string in single quotes (JSON strings take \")");
                        break;
                case '"':
                        if (decode_string(buf, len, &i, s) < 0) {
                                offset_to_line_column(buf, start, &e->line, &e->column);
                                r = json_error_set_errno(e, -EBADMSG, "",
                                                         "a string contains a NUL character (\\u0000)");
                                break;
                        }
                        for (j = i; j < len && is_json_space(buf[j]); j++)
                                ;
                        if (j < len && buf[j] == ':') {
                                r = strset_put(&keys[depth], s);
                                if (r == 0) {
                                        offset_to_line_column(buf, start, &e->line, &e->column);
                                        r = json_error_set_errno(e, -EBADMSG, "", "duplicate key \"%s\"", s);
                                }
                        }
                        break;
                default:
                        i++;
                        break;
                }
        }
        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                strset_done(&keys[k]);
        return r < 0 ? r : 0;
}

int json_parse_buffer(const char *buf, size_t len, const char *name, json_object **ret, JsonError *e) {
        json_tokener *tok;
        json_object *o;
        enum json_tokener_error jerr;
        size_t end;
        int r;

        assert_return(buf && ret, -EINVAL);

        if (len > INT_MAX)
                return json_error_set_errno(e, -EFBIG, "", "document too large");
        if (e && isempty(e->file))
                json_error_set_file(e, name);

        tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);

        o = json_tokener_parse_ex(tok, buf, (int) len);
        jerr = json_tokener_get_error(tok);
        if (!o && jerr == json_tokener_continue) {
                /* Input ended inside a value: a truncated file. */
                jerr = json_tokener_error_parse_eof;
        }
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);

        if (jerr != json_tokener_success || !o) {
                json_object_put(o);
                if (e) {
                        offset_to_line_column(buf, end, &e->line, &e->column);
                        (void) json_error_set(e, "", "JSON syntax error: %s", json_tokener_error_desc(jerr));
                }
                return -EBADMSG;
        }

        /* Strict mode stops after one value; anything but whitespace after it is garbage. */
        for (size_t i = end; i < len; i++)
                if (!is_json_space(buf[i])) {
                        json_object_put(o);
                        if (e) {
                                offset_to_line_column(buf, i, &e->line, &e->column);
                                (void) json_error_set(e, "", "trailing data after the JSON document");
                        }
                        return -EBADMSG;
                }

        r = json_check_strict(buf, end, e ?: &(JsonError) {});
        if (r < 0) {
                json_object_put(o);
                return r;
        }

        *ret = o;
        return 0;
}

int json_parse_file(const char *path, json_object **ret, JsonError *e) {
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        assert_return(path && ret, -EINVAL);

        json_error_set_file(e, path);
        r = read_full_file(path, JSON_FILE_MAX, &buf, &size);
        if (r < 0)
                return json_error_set_errno(e, r, "", "cannot read file: %s", strerror(-r));
        if (memchr(buf, '\0', size))
                return json_error_set_errno(e, -EBADMSG, "", "file contains a NUL byte");
        return json_parse_buffer(buf, size, path, ret, e);
}

const char *json_path_key(char buf[static JSON_PATH_MAX], const char *parent, const char *key) {
        if (isempty(parent))
                (void) snprintf(buf, JSON_PATH_MAX, "%s", key);
        else
                (void) snprintf(buf, JSON_PATH_MAX, "%s.%s", parent, key);
        return buf;
}

const char *json_path_index(char buf[static JSON_PATH_MAX], const char *parent, size_t i) {
        (void) snprintf(buf, JSON_PATH_MAX, "%s[%zu]", strempty(parent), i);
        return buf;
}

static const char *json_type_name(json_object *v) {
        return v ? json_type_to_name(json_object_get_type(v)) : "null";
}

/* Look up key; 1 found, 0 absent and optional, -EINVAL absent and required or o not an object. */
static int json_lookup(json_object *o, const char *path, const char *key, bool required,
                       json_object **ret, char fpath[static JSON_PATH_MAX], JsonError *e) {
        json_path_key(fpath, path, key);
        if (!json_object_is_type(o, json_type_object))
                return json_error_set(e, isempty(path) ? "(top level)" : path, "expected an object, got %s",
                                      json_type_name(o));
        if (!json_object_object_get_ex(o, key, ret)) {
                if (required)
                        return json_error_set(e, fpath, "required field is missing");
                return 0;
        }
        return 1;
}

int json_get_object(json_object *o, const char *path, const char *key, bool required,
                    json_object **ret, JsonError *e) {
        char fpath[JSON_PATH_MAX];
        json_object *v;
        int r;

        r = json_lookup(o, path, key, required, &v, fpath, e);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_object))
                return json_error_set(e, fpath, "expected an object, got %s", json_type_name(v));
        *ret = v;
        return 1;
}

int json_get_array(json_object *o, const char *path, const char *key, bool required,
                   json_object **ret, JsonError *e) {
        char fpath[JSON_PATH_MAX];
        json_object *v;
        int r;

        r = json_lookup(o, path, key, required, &v, fpath, e);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_array))
                return json_error_set(e, fpath, "expected an array, got %s", json_type_name(v));
        *ret = v;
        return 1;
}

int json_get_string(json_object *o, const char *path, const char *key, bool required,
                    const char **ret, JsonError *e) {
        char fpath[JSON_PATH_MAX];
        json_object *v;
        int r;

        r = json_lookup(o, path, key, required, &v, fpath, e);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_string))
                return json_error_set(e, fpath, "expected a string, got %s", json_type_name(v));
        *ret = json_object_get_string(v);
        return 1;
}

int json_get_bool(json_object *o, const char *path, const char *key, bool required,
                  bool *ret, JsonError *e) {
        char fpath[JSON_PATH_MAX];
        json_object *v;
        int r;

        r = json_lookup(o, path, key, required, &v, fpath, e);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_boolean))
                return json_error_set(e, fpath, "expected true or false, got %s", json_type_name(v));
        *ret = json_object_get_boolean(v);
        return 1;
}

int json_check_int64(json_object *v, const char *path, int64_t min, int64_t max, int64_t *ret,
                     JsonError *e) {
        int64_t x;

        if (!json_object_is_type(v, json_type_int))
                return json_error_set(e, path, "expected an integer, got %s", json_type_name(v));
        /*
         * json-c keeps positive values above INT64_MAX as uint64 (saturating at
         * UINT64_MAX) and get_int64() then clamps silently: detect that.
         */
        errno = 0;
        x = json_object_get_int64(v);
        if (x == INT64_MAX && json_object_get_uint64(v) > (uint64_t) INT64_MAX)
                errno = ERANGE;
        if (errno != 0 || x < min || x > max)
                return json_error_set(e, path, "value %s out of range %" PRIi64 "..%" PRIi64,
                                      json_object_to_json_string(v), min, max);
        *ret = x;
        return 0;
}

int json_get_int64(json_object *o, const char *path, const char *key, bool required,
                   int64_t min, int64_t max, int64_t *ret, JsonError *e) {
        char fpath[JSON_PATH_MAX];
        json_object *v;
        int r;

        r = json_lookup(o, path, key, required, &v, fpath, e);
        if (r <= 0)
                return r;
        r = json_check_int64(v, fpath, min, max, ret, e);
        if (r < 0)
                return r;
        return 1;
}

int json_get_uint32(json_object *o, const char *path, const char *key, bool required,
                    uint32_t min, uint32_t max, uint32_t *ret, JsonError *e) {
        int64_t x;
        int r;

        r = json_get_int64(o, path, key, required, min, max, &x, e);
        if (r <= 0)
                return r;
        *ret = (uint32_t) x;
        return 1;
}

int json_check_keys(json_object *o, const char *path, const char *const *allowed, JsonError *e) {
        if (!json_object_is_type(o, json_type_object))
                return json_error_set(e, isempty(path) ? "(top level)" : path, "expected an object, got %s",
                                      json_type_name(o));

        json_object_object_foreach(o, key, val) {
                bool ok = false;
                char fpath[JSON_PATH_MAX];

                (void) val;
                for (const char *const *a = allowed; a && *a; a++)
                        if (streq(*a, key)) {
                                ok = true;
                                break;
                        }
                if (!ok)
                        return json_error_set(e, json_path_key(fpath, path, key), "unknown field");
        }
        return 0;
}

int json_to_string_pretty(json_object *o, char **ret) {
        const char *s;
        char *c;

        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                              JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        if (asprintf(&c, "%s\n", s) < 0)
                return -ENOMEM;
        *ret = c;
        return 0;
}

int json_add_take(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int json_append_take(json_object *a, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}
