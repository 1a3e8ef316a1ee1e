/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The persisted state file (daemon/state.c), read at every start; a crash
 * mid-write must never leave a file that crashes the next start. Accepted
 * input is serialized and parsed again (must round-trip), then applied to a
 * small model the way the daemon does at startup, which must neither crash
 * nor leak whatever the file says (out-of-range harts are dropped).
 */

#include <string.h>

#include "fuzz.h"
#include "json-util.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_json_ json_object *root = NULL, *j1 = NULL, *j2 = NULL;
        _cleanup_(state_freep) State *s = NULL, *t = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        Geometry g = { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 5, .nr_ids = 255 };
        JsonError e = {};
        int r;

        if (size > FUZZ_MAX_INPUT)
                return 0;
        r = json_parse_buffer((const char *) data, size, "state.json", &root, &e);
        if (r < 0)
                return 0;
        r = state_from_json(root, &s, &e);
        if (r < 0) {
                if (getenv("FUZZ_VERBOSE"))
                        fprintf(stderr, "rejected: %s:%u:%u: %s: %s\n", e.file, e.line, e.column, e.field, e.reason);
                FUZZ_CHECK(!s);
                FUZZ_CHECK(r == -ENOMEM || e.reason[0] != '\0');
                return 0;
        }

        r = state_to_json(s, &j1);
        FUZZ_CHECK(r >= 0);
        e = (JsonError) {};
        r = state_from_json(j1, &t, &e);
        if (r < 0)
                fprintf(stderr, "canonical form rejected: %s: %s\n", e.field, e.reason);
        FUZZ_CHECK(r >= 0);
        r = state_to_json(t, &j2);
        FUZZ_CHECK(r >= 0);
        FUZZ_CHECK(strcmp(json_object_to_json_string_ext(j1, JSON_C_TO_STRING_PLAIN),
                          json_object_to_json_string_ext(j2, JSON_C_TO_STRING_PLAIN)) == 0);

        FUZZ_CHECK(model_new(&g, &m) >= 0);
        FUZZ_CHECK(policy_new_default(&p) >= 0);
        r = state_apply(s, m, p);
        FUZZ_CHECK(r >= 0 || r == -ENOMEM);
        return 0;
}
