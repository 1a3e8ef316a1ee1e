/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scenario files (daemon/scenario.c), also the argument of the Plan D-Bus
 * method. Parsing builds the simulated world and dry-runs every timeline
 * event, so this reaches the sim backend and the model as well.
 */

#include "fuzz.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(scenario_freep) Scenario *s = NULL;
        JsonError e = {};
        int r;

        /* Scenarios are small; big ones only make the fuzzer slow (the sim allocates per hart). */
        if (size > 64U * 1024U)
                return 0;
        r = scenario_parse_buffer((const char *) data, size, "fuzz.json", &s, &e);
        if (r < 0) {
                if (getenv("FUZZ_VERBOSE"))
                        fprintf(stderr, "rejected: %s:%u:%u: %s: %s\n", e.file, e.line, e.column, e.field, e.reason);
                FUZZ_CHECK(!s);
                FUZZ_CHECK(r == -ENOMEM || e.reason[0] != '\0');
                return 0;
        }
        FUZZ_CHECK(s);
        return 0;
}
