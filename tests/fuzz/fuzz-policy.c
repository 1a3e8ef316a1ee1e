/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.json (daemon/policy-json.c), the parser behind the config file,
 * SetPolicy and CheckPolicy. Properties checked on every accepted input: the
 * canonical form parses back to an equal policy, and serializing that gives
 * the same bytes. A rejected input must come with a reason.
 */

#include <string.h>

#include "fuzz.h"
#include "policy-json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(policy_freep) Policy *p = NULL, *q = NULL;
        _cleanup_json_ json_object *j1 = NULL, *j2 = NULL;
        JsonError e = {};
        const char *s1, *s2;
        int r;

        if (size > FUZZ_MAX_INPUT)
                return 0;
        r = policy_parse_buffer((const char *) data, size, "fuzz.json", &p, &e);
        if (r < 0) {
                if (getenv("FUZZ_VERBOSE"))
                        fprintf(stderr, "rejected: %s:%u:%u: %s: %s\n", e.file, e.line, e.column, e.field, e.reason);
                FUZZ_CHECK(!p);
                FUZZ_CHECK(r == -ENOMEM || e.reason[0] != '\0');
                return 0;
        }
        FUZZ_CHECK(p);

        r = policy_to_json(p, &j1);
        FUZZ_CHECK(r >= 0);
        e = (JsonError) {};
        r = policy_from_json(j1, &q, &e);
        if (r < 0)
                fprintf(stderr, "canonical form rejected: %s: %s\n", e.field, e.reason);
        FUZZ_CHECK(r >= 0);
        FUZZ_CHECK(policy_equal(p, q));
        r = policy_to_json(q, &j2);
        FUZZ_CHECK(r >= 0);
        s1 = json_object_to_json_string_ext(j1, JSON_C_TO_STRING_PLAIN);
        s2 = json_object_to_json_string_ext(j2, JSON_C_TO_STRING_PLAIN);
        FUZZ_CHECK(s1 && s2 && strcmp(s1, s2) == 0);
        return 0;
}
