/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#include "fileio.h"
#include "hash.h"
#include "json-util.h"
#include "macro.h"
#include "strv.h"
#include "tests.h"

TEST(uuid) {
        char u[UUID_STRING_MAX];

        ASSERT_OK(uuid_normalize("0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", u));
        ASSERT_STREQ(u, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
        ASSERT_ERROR(uuid_normalize("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f", u), EINVAL);
        ASSERT_ERROR(uuid_normalize("0f1e2d3c_4b5a-6978-8796-a5b4c3d2e1f0", u), EINVAL);
        ASSERT_ERROR(uuid_normalize("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg", u), EINVAL);
        ASSERT_ERROR(uuid_normalize(NULL, u), EINVAL);

        /* Every byte in a digit's place: exactly the 22 hex digits are taken, upper case folded. */
        for (unsigned c = 1; c < 256; c++) {
                char in[UUID_STRING_MAX] = "00000000-0000-0000-0000-000000000000";
                bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

                in[35] = (char) c;
                if (!hex) {
                        ASSERT_ERROR(uuid_normalize(in, u), EINVAL);
                        continue;
                }
                ASSERT_OK(uuid_normalize(in, u));
                ASSERT_EQ(u[35], (char) (c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c));
        }
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/*
 * The indexes' hash: the same string gives the same value, the names rvmsid meets (PCI names that differ in one
 * digit, UUIDs that differ in one character) all give different values, and their low bits fill a table evenly.
 */
TEST(string_hash_spreads_names) {
        enum { N_NAMES = 65536, N_BUCKETS = 1024 };
        static uint64_t seen[N_NAMES];
        static unsigned buckets[N_BUCKETS];
        char name[64];
        unsigned lo = UINT_MAX, hi = 0;

        ASSERT_EQ(string_hash("0000:00:01.0"), string_hash("0000:00:01.0"));
        ASSERT_TRUE(string_hash("") != string_hash("0"));
        ASSERT_TRUE(string_hash("abcdefgh") != string_hash("abcdefgh0"));
        for (unsigned i = 0; i < N_NAMES; i++) {
                if (i % 2)
                        (void) snprintf(name, sizeof(name), "%04x:%02x:%02x.%u", i / 8192, (i / 32) % 256, (i / 8) % 32,
                                        i % 8);
                else
                        (void) snprintf(name, sizeof(name), "00000000-0000-4000-8000-%012x", i);
                seen[i] = string_hash(name);
                buckets[seen[i] % N_BUCKETS]++;
        }
        for (unsigned i = 0; i < N_BUCKETS; i++) {
                lo = MIN(lo, buckets[i]);
                hi = MAX(hi, buckets[i]);
        }
        /* 64 per bucket on average; a uniform hash stays well within 32..100 at this size. */
        printf("%u names over %u buckets: %u to %u each\n", N_NAMES, N_BUCKETS, lo, hi);
        ASSERT_TRUE(lo >= 32 && hi <= 100);
        qsort(seen, N_NAMES, sizeof(uint64_t), cmp_u64);
        for (unsigned i = 1; i < N_NAMES; i++)
                ASSERT_TRUE(seen[i] != seen[i - 1]);
}

TEST(strv_and_strings) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *s = NULL;
        char small[4];

        ASSERT_OK(strv_extend(&l, "a"));
        ASSERT_OK(strv_extend(&l, "bc"));
        ASSERT_EQ(strv_length(l), 2);
        ASSERT_TRUE(strv_contains(l, "bc"));
        ASSERT_FALSE(strv_contains(l, "b"));

        ASSERT_OK(strextendf(&s, "%d-", 1));
        ASSERT_OK(strextendf(&s, "%s", "two"));
        ASSERT_STREQ(s, "1-two");

        ASSERT_OK(strcpy_checked(small, sizeof(small), "abc"));
        ASSERT_ERROR(strcpy_checked(small, sizeof(small), "abcd"), ENAMETOOLONG);
        ASSERT_STREQ(small, "abc");
}

TEST(greedy_realloc) {
        _cleanup_free_ int *a = NULL;
        size_t allocated = 0;

        ASSERT_NOT_NULL(GREEDY_REALLOC(a, allocated, 10));
        ASSERT_TRUE(allocated >= 10);
        for (size_t i = 0; i < allocated; i++)
                ASSERT_EQ(a[i], 0);
}

TEST(json_syntax_errors) {
        static const struct {
                const char *text;
                unsigned line, column;
        } cases[] = {
                { "{\n  \"a\": 1,\n  \"b\": }\n", 3, 8 },
                { "{ \"a\": 1 } x", 1, 12 },
                { "{ \"a\": 1", 1, 9 },
                { "[1, 2,]", 1, 7 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                JsonError e = {};
                json_object *o = NULL;

                ASSERT_ERROR(json_parse_buffer(cases[i].text, strlen(cases[i].text), "t.json", &o, &e), EBADMSG);
                ASSERT_TRUE(o == NULL);
                ASSERT_STREQ(e.file, "t.json");
                ASSERT_EQ(e.line, cases[i].line);
                if (cases[i].column != e.column)
                        TEST_FAIL("case %zu: column %u, expected %u", i, e.column, cases[i].column);
                ASSERT_TRUE(strlen(e.reason) > 0);
        }
}

/* What json-c accepts and a strict reader refuses: NUL in a string, a key twice in one object. */
TEST(json_strict) {
        static const struct {
                const char *text;
                unsigned line, column;
                const char *reason;
        } refused[] = {
                { "{\"version\":2,\"version\":1}", 1, 14, "duplicate key \"version\"" },
                { "{\"version\":1,\"version\":2}", 1, 14, "duplicate key \"version\"" },
                { "{\"vms\":[{\"vm\":\"a\",\n \"class\":\"x\", \"class\":\"y\"}]}", 2, 15, "duplicate key \"class\"" },
                /* the same key however it is escaped */
                { "{\"a\":1,\"\\u0061\":2}", 1, 8, "duplicate key \"a\"" },
                { "{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", 1, 19, "duplicate key \"\xf0\x9f\x98\x80\"" },
                { "{\"vm\":\"fill1\\u0000zzz\"}", 1, 7, "a string contains a NUL character (\\u0000)" },
                { "{\"cl\\u0000ass\":\"strict\"}", 1, 2, "a string contains a NUL character (\\u0000)" },
                { "[\"a\", [\"\\u0000\"]]", 1, 8, "a string contains a NUL character (\\u0000)" },
                /* json-c takes keys in single quotes even in strict mode; a brace in one once unbalanced the scan */
                { "{\"a\":{'{ \"b\": 1 }':1}}", 1, 7, "a string in single quotes (JSON strings take \")" },
                { "{'a':1}", 1, 2, "a string in single quotes (JSON strings take \")" },
        };
        static const char *const accepted[] = {
                /* one key in different objects, on different levels, in arrays of objects */
                "{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}],\"c\":{\"a\":{\"a\":[]}}}",
                /* keys that differ only after an escape, a backslash before "u0000", a lone surrogate */
                "{\"a\\n\":1,\"a\\t\":2,\"x\":\"\\\\u0000\",\"\\ud800\":3,\"\\u00e9\":4,\"e\":5}",
                /* a key that looks like a value, and a value that equals a key */
                "{\"k\":\"k\",\"v\":[\"k\",\"v\"]}",
        };

        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                JsonError e = {};
                json_object *o = NULL;

                ASSERT_ERROR(json_parse_buffer(refused[i].text, strlen(refused[i].text), "t.json", &o, &e), EBADMSG);
                ASSERT_TRUE(o == NULL);
                if (e.line != refused[i].line || e.column != refused[i].column)
                        TEST_FAIL("case %zu: at %u:%u, expected %u:%u", i, e.line, e.column, refused[i].line,
                                  refused[i].column);
                ASSERT_STREQ(e.reason, refused[i].reason);
        }
        for (size_t i = 0; i < ELEMENTSOF(accepted); i++) {
                _cleanup_json_ json_object *o = NULL;
                JsonError e = {};

                if (json_parse_buffer(accepted[i], strlen(accepted[i]), "t.json", &o, &e) < 0)
                        TEST_FAIL("case %zu refused: %s", i, e.reason);
        }
}

TEST(json_getters) {
        const char *text = "{ \"s\": \"x\", \"n\": 7, \"b\": true, \"o\": { \"deep\": -3 }, \"a\": [1] , \"big\": 99999999999999999999 }";
        _cleanup_json_ json_object *o = NULL;
        JsonError e = {};
        const char *s;
        bool b;
        uint32_t u;
        int64_t i;
        json_object *sub;
        char buf[1024];

        ASSERT_OK(json_parse_buffer(text, strlen(text), "g.json", &o, &e));
        ASSERT_EQ(json_get_string(o, "", "s", true, &s, &e), 1);
        ASSERT_STREQ(s, "x");
        ASSERT_EQ(json_get_bool(o, "", "b", true, &b, &e), 1);
        ASSERT_TRUE(b);
        ASSERT_EQ(json_get_uint32(o, "", "n", true, 0, 10, &u, &e), 1);
        ASSERT_EQ(u, 7);
        ASSERT_EQ(json_get_uint32(o, "", "missing", false, 0, 10, &u, &e), 0);
        ASSERT_EQ(u, 7);

        ASSERT_ERROR(json_get_uint32(o, "", "n", true, 0, 5, &u, &e), EINVAL);
        ASSERT_STREQ(e.field, "n");
        ASSERT_ERROR(json_get_string(o, "", "n", true, &s, &e), EINVAL);
        ASSERT_STREQ(e.field, "n");
        ASSERT_ERROR(json_get_bool(o, "", "nope", true, &b, &e), EINVAL);
        ASSERT_STREQ(e.field, "nope");
        ASSERT_ERROR(json_get_int64(o, "", "big", true, INT64_MIN, INT64_MAX, &i, &e), EINVAL);

        ASSERT_EQ(json_get_object(o, "", "o", true, &sub, &e), 1);
        ASSERT_ERROR(json_get_uint32(sub, "o", "deep", true, 0, 10, &u, &e), EINVAL);
        ASSERT_STREQ(e.field, "o.deep");
        ASSERT_STREQ(json_error_format(&e, buf, sizeof(buf)), "g.json: o.deep: value -3 out of range 0..10");
        ASSERT_EQ(json_get_int64(sub, "o", "deep", true, -5, 0, &i, &e), 1);
        ASSERT_EQ(i, -3);

        ASSERT_ERROR(json_get_array(o, "", "o", true, &sub, &e), EINVAL);
        ASSERT_EQ(json_get_array(o, "", "a", true, &sub, &e), 1);

        static const char *const allowed[] = { "s", "n", "b", "o", "a", NULL };
        ASSERT_ERROR(json_check_keys(o, "", allowed, &e), EINVAL);
        ASSERT_STREQ(e.field, "big");
        ASSERT_STREQ(json_path_index(buf, "vms", 3), "vms[3]");
}

static size_t count_dir_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        ASSERT_NOT_NULL(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

TEST(atomic_write) {
        char dir[] = "/tmp/rvmsi-test-util-XXXXXX";
        _cleanup_free_ char *path = NULL, *data = NULL, *bad = NULL;
        size_t size;
        struct stat st;

        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_TRUE(asprintf(&path, "%s/state.json", dir) > 0);

        ASSERT_OK(write_file_atomic(path, "first", 5, 0600));
        ASSERT_OK(read_full_file(path, 1024, &data, &size));
        ASSERT_STREQ(data, "first");
        ASSERT_EQ(size, 5);
        data = mfree(data);

        ASSERT_OK(write_file_atomic(path, "second!", 7, 0644));
        ASSERT_OK(read_full_file(path, 1024, &data, &size));
        ASSERT_STREQ(data, "second!");
        ASSERT_OK(stat(path, &st));
        ASSERT_EQ(st.st_mode & 0777, 0644);
        /* No temporary file left behind. */
        ASSERT_EQ(count_dir_entries(dir), 1);

        ASSERT_ERROR(read_full_file(path, 3, &bad, NULL), EFBIG);

        /* Rename onto a directory fails: the temp file must be gone, the target untouched. */
        {
                _cleanup_free_ char *sub = NULL;

                ASSERT_TRUE(asprintf(&sub, "%s/sub", dir) > 0);
                ASSERT_OK(mkdir(sub, 0700));
                ASSERT_TRUE(write_file_atomic(sub, "x", 1, 0600) < 0);
                ASSERT_EQ(count_dir_entries(dir), 2);
                ASSERT_OK(rmdir(sub));
        }
        ASSERT_ERROR(write_file_atomic("/nonexistent-dir-rvmsi/x", "x", 1, 0600), ENOENT);

        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));
}

DEFINE_TEST_MAIN
