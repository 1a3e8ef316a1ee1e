/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "scenario.h"
#include "test-common.h"

DEFINE_TEST_MAIN

static const char *const files[] = { "basic.json", "exhaustion.json", "lifecycle.json", "strict-without-mrif.json" };

TEST(scenario_files_run_clean) {
        const char *dir = getenv("RVMSI_TEST_DATA");

        if (!dir)
                TEST_FAIL("RVMSI_TEST_DATA is not set (run through meson test)");
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_(scenario_freep) Scenario *s = NULL;
                ScenarioReport rep;
                JsonError e = {};
                char path[1024], msg[2048];
                int r;

                (void) snprintf(path, sizeof(path), "%s/scenarios/%s", dir, files[i]);
                r = scenario_load_file(path, &s, &e);
                if (r < 0)
                        TEST_FAIL("%s", json_error_format(&e, msg, sizeof(msg)));
                r = scenario_run(s, &rep, &e);
                if (r < 0)
                        TEST_FAIL("%s", json_error_format(&e, msg, sizeof(msg)));
                ASSERT_EQ(rep.n_steps, scenario_n_steps(s));
                ASSERT_TRUE(rep.n_expectations > 0);
                ASSERT_EQ(rep.n_invariant_violations, 0);
                fprintf(stderr, "%s: %zu steps, %zu checks, %zu ops, %" PRIu64 " faults, %" PRIu64 " notices, "
                        "%" PRIu64 " delivered, %zu violations\n", files[i], rep.n_steps, rep.n_expectations,
                        rep.n_ops, rep.faults, rep.notices, rep.delivered, rep.n_violations);
        }
}

#define BASE \
        "{ \"version\": 1, \"geometry\": { \"harts\": 2, \"guest_files\": 1 }, " \
        "\"vms\": [ { \"uuid\": \"55555555-0000-4000-8000-000000000001\", \"vcpus\": 1, \"placement\": [0] } ], " \
        "\"devices\": [ { \"name\": \"0000:40:00.0\", \"owner\": \"host\", \"vectors\": [ { \"hart\": 1 } ] } ], " \
        "\"timeline\": [ %s ] }"

static int try_timeline(const char *events, JsonError *e, bool run) {
        _cleanup_(scenario_freep) Scenario *s = NULL;
        _cleanup_free_ char *text = NULL;
        ScenarioReport rep;
        int r;

        ASSERT_TRUE(asprintf(&text, BASE, events) > 0);
        r = scenario_parse_buffer(text, strlen(text), "t.json", &s, e);
        if (r < 0 || !run)
                return r;
        return scenario_run(s, &rep, e);
}

TEST(bad_scenarios_are_rejected_at_load) {
        static const struct {
                const char *events;
                const char *field;
        } cases[] = {
                { "{ \"event\": \"teleport\" }", "timeline[0].event" },
                { "{ \"event\": \"vcpu_move\", \"vm\": \"55555555-0000-4000-8000-000000000001\", \"vcpu\": 0, \"hart\": 9 }",
                  "timeline[0].hart" },
                { "{ \"event\": \"vcpu_move\", \"vm\": \"x\", \"vcpu\": 0, \"hart\": 1 }", "timeline[0].vm" },
                { "{}, { \"event\": \"affinity\", \"device\": \"0000:40:00.0\", \"vector\": 0 }", "timeline[0].event" },
                { "{ \"event\": \"affinity\", \"device\": \"0000:40:00.0\", \"vector\": 0 }", "timeline[0].hart" },
                { "{ \"event\": \"forge_msi\", \"device\": \"0000:40:00.0\", \"hart\": 0, \"vcpu\": 0 }", "timeline[0]" },
                { "{ \"event\": \"forge_msi\", \"device\": \"0000:40:00.0\", \"hart\": 0, \"expect\": \"maybe\" }",
                  "timeline[0].expect" },
                { "{ \"event\": \"expect\", \"device\": \"0000:40:00.0\", \"mode\": \"fast\" }", "timeline[0].mode" },
                { "{ \"event\": \"vm_start\", \"vm\": \"55555555-0000-4000-8000-000000000001\", \"x\": 1 }",
                  "timeline[0].x" },
                { "{ \"event\": \"reserve\", \"hart\": 0, \"guest_files\": [ 2 ] }", "timeline[0].guest_files[0]" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                JsonError e = {};
                int r = try_timeline(cases[i].events, &e, false);

                if (r >= 0)
                        TEST_FAIL("case %zu accepted", i);
                if (!streq(e.field, cases[i].field))
                        TEST_FAIL("case %zu: error names '%s', expected '%s' (%s)", i, e.field, cases[i].field, e.reason);
        }
        {
                JsonError e = {};
                Scenario *s = NULL;
                const char *t = "{ \"version\": 1, \"geometry\": { \"harts\": 3, \"groups\": 2, \"guest_files\": 1 } }";

                ASSERT_ERROR(scenario_parse_buffer(t, strlen(t), "g.json", &s, &e), EINVAL);
                ASSERT_STREQ(e.field, "geometry");
                t = "{ \"version\": 1, \"geometry\": { \"harts\": 1, \"guest_files\": 1 }, \"policy\": { \"version\": 1, \"mrif\": 1 } }";
                ASSERT_ERROR(scenario_parse_buffer(t, strlen(t), "g.json", &s, &e), EINVAL);
                ASSERT_STREQ(e.field, "policy.mrif");
        }
}

/* Everything but version and geometry is optional (found by fuzz-scenario: absent arrays were read). */
TEST(minimal_scenario) {
        const char *t = "{ \"version\": 1, \"geometry\": { \"harts\": 1, \"guest_files\": 0 } }";
        _cleanup_(scenario_freep) Scenario *s = NULL;
        ScenarioReport rep;
        JsonError e = {};

        ASSERT_OK(scenario_parse_buffer(t, strlen(t), "min.json", &s, &e));
        ASSERT_EQ(scenario_n_steps(s), 0);
        ASSERT_OK(scenario_run(s, &rep, &e));
        ASSERT_EQ(rep.n_ops, 0);
}

/* Expectations really check: a wrong one fails the run. */
TEST(wrong_expectations_fail) {
        static const char *const wrong[] = {
                "{ \"event\": \"expect\", \"device\": \"0000:40:00.0\", \"mode\": \"mrif\" }",
                "{ \"event\": \"expect\", \"device\": \"0000:40:00.0\", \"entries\": 2 }",
                "{ \"event\": \"expect\", \"vm\": \"55555555-0000-4000-8000-000000000001\", \"vcpu\": 0, \"guest_file\": 0 }",
                "{ \"event\": \"forge_msi\", \"device\": \"0000:40:00.0\", \"hart\": 0, \"expect\": \"delivered\" }",
                "{ \"event\": \"forge_msi\", \"device\": \"0000:40:00.0\", \"hart\": 0, \"expect\": \"fault\", \"cause\": 263 }",
                "{ \"event\": \"expect\", \"violations\": 1 }",
        };
        static const char *const right[] = {
                "{ \"event\": \"expect\", \"device\": \"0000:40:00.0\", \"mode\": \"identity\", \"entries\": 1 }",
                "{ \"event\": \"expect\", \"vm\": \"55555555-0000-4000-8000-000000000001\", \"vcpu\": 0, \"guest_file\": 1 }",
                "{ \"event\": \"forge_msi\", \"device\": \"0000:40:00.0\", \"hart\": 0, \"expect\": \"fault\", \"cause\": 262 }",
                "{ \"event\": \"expect\", \"violations\": 0 }",
        };

        for (size_t i = 0; i < ELEMENTSOF(wrong); i++) {
                JsonError e = {};

                if (try_timeline(wrong[i], &e, true) != -EBADE)
                        TEST_FAIL("wrong expectation %zu did not fail: %s", i, e.reason);
                ASSERT_STREQ(e.field, "timeline[0]");
        }
        for (size_t i = 0; i < ELEMENTSOF(right); i++) {
                JsonError e = {};

                if (try_timeline(right[i], &e, true) < 0)
                        TEST_FAIL("right expectation %zu failed: %s", i, e.reason);
        }
}
