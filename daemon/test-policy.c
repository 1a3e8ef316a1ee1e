/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "policy-json.h"
#include "test-common.h"

DEFINE_TEST_MAIN

static const char *data_path(const char *name, char buf[static 1024]) {
        const char *dir = getenv("RVMSI_TEST_DATA");

        if (!dir)
                TEST_FAIL("RVMSI_TEST_DATA is not set (run through meson test)");
        (void) snprintf(buf, 1024, "%s/policy/%s", dir, name);
        return buf;
}

TEST(defaults) {
        _cleanup_(policy_freep) Policy *p = NULL, *q = NULL;
        JsonError e = {};
        char buf[1024];

        ASSERT_OK(policy_new_default(&p));
        ASSERT_OK(policy_load_file(data_path("minimal.json", buf), &q, &e));
        ASSERT_TRUE(policy_equal(p, q));
        ASSERT_EQ(q->default_mode[OWNER_HOST], MODE_IDENTITY);
        ASSERT_EQ(q->default_mode[OWNER_USERSPACE], MODE_MRIF);
        ASSERT_EQ(q->default_mode[OWNER_NONE], MODE_BLOCKED);
        ASSERT_EQ(q->default_class, CLASS_BALANCED);
        ASSERT_TRUE(q->mrif_fallback);
        ASSERT_EQ(q->max_guest_files_per_vm, UINT32_MAX);
}

TEST(example_and_round_trip) {
        _cleanup_(policy_freep) Policy *p = NULL, *q = NULL;
        _cleanup_json_ json_object *o = NULL;
        JsonError e = {};
        char buf[1024];
        const char *text;
        Vm vm = { .klass = _CLASS_INVALID };

        ASSERT_OK(policy_load_file(data_path("example.json", buf), &p, &e));
        ASSERT_EQ(p->max_guest_files_per_vm, 8);
        ASSERT_EQ(p->n_vm_overrides, 2);
        /* UUID keys are canonical (lowercase) and match in any case. */
        ASSERT_OK(uuid_normalize("7f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", vm.uuid));
        ASSERT_EQ(policy_vm_class(p, &vm), CLASS_PERFORMANCE);
        ASSERT_EQ(policy_vm_max_guest_files(p, &vm), 2);
        ASSERT_EQ(policy_vm_priority(p, &vm), 0);
        memset(vm.uuid, 0, sizeof(vm.uuid));
        ASSERT_OK(uuid_normalize("11111111-2222-3333-4444-555555555555", vm.uuid));
        vm.name = (char *) "database";
        ASSERT_EQ(policy_vm_class(p, &vm), CLASS_STRICT);
        ASSERT_EQ(policy_vm_priority(p, &vm), 10);
        ASSERT_EQ(policy_vm_max_guest_files(p, &vm), 8);
        vm.name = (char *) "other";
        vm.klass = CLASS_PERFORMANCE;
        ASSERT_EQ(policy_vm_class(p, &vm), CLASS_PERFORMANCE);        /* registration beats the default */

        ASSERT_OK(policy_to_json(p, &o));
        text = json_object_to_json_string(o);
        ASSERT_OK(policy_parse_buffer(text, strlen(text), "dump", &q, &e));
        ASSERT_TRUE(policy_equal(p, q));
}

/* Each invalid input gives an error naming the field, and nothing is returned. */
TEST(invalid_fields) {
        static const struct {
                const char *text;
                const char *field;
                int error;
        } cases[] = {
                { "{}", "version", EINVAL },
                { "{ \"version\": 2 }", "version", EPROTONOSUPPORT },
                { "{ \"version\": \"1\" }", "version", EINVAL },
                { "{ \"version\": 1, \"typo\": true }", "typo", EINVAL },
                { "{ \"version\": 1, \"defaults\": [] }", "defaults", EINVAL },
                { "{ \"version\": 1, \"defaults\": { \"host\": \"fast\" } }", "defaults.host", EINVAL },
                { "{ \"version\": 1, \"defaults\": { \"host\": \"guest-file\" } }", "defaults.host", EINVAL },
                { "{ \"version\": 1, \"defaults\": { \"none\": \"identity\" } }", "defaults.none", EINVAL },
                { "{ \"version\": 1, \"defaults\": { \"userspace\": 3 } }", "defaults.userspace", EINVAL },
                { "{ \"version\": 1, \"defaults\": { \"class\": \"fast\" } }", "defaults.class", EINVAL },
                { "{ \"version\": 1, \"defaults\": { \"priority\": 1001 } }", "defaults.priority", EINVAL },
                { "{ \"version\": 1, \"defaults\": { \"vm\": \"x\" } }", "defaults.vm", EINVAL },
                { "{ \"version\": 1, \"mrif_fallback\": \"yes\" }", "mrif_fallback", EINVAL },
                { "{ \"version\": 1, \"limits\": { \"max_guest_files_per_vm\": -1 } }", "limits.max_guest_files_per_vm", EINVAL },
                { "{ \"version\": 1, \"limits\": { \"max_files\": 1 } }", "limits.max_files", EINVAL },
                { "{ \"version\": 1, \"vms\": {} }", "vms", EINVAL },
                { "{ \"version\": 1, \"vms\": [ 1 ] }", "vms[0]", EINVAL },
                { "{ \"version\": 1, \"vms\": [ { \"class\": \"strict\" } ] }", "vms[0].vm", EINVAL },
                { "{ \"version\": 1, \"vms\": [ { \"vm\": \"a\", \"class\": \"gold\" } ] }", "vms[0].class", EINVAL },
                { "{ \"version\": 1, \"vms\": [ { \"vm\": \"a\", \"priority\": true } ] }", "vms[0].priority", EINVAL },
                { "{ \"version\": 1, \"vms\": [ { \"vm\": \"a\", \"max_guest_files\": 5000 } ] }", "vms[0].max_guest_files", EINVAL },
                { "{ \"version\": 1, \"vms\": [ { \"vm\": \"a\", \"colour\": 1 } ] }", "vms[0].colour", EINVAL },
                { "{ \"version\": 1, \"vms\": [ { \"vm\": \"\" } ] }", "vms[0].vm", EINVAL },
                { "{ \"version\": 1, \"vms\": [ { \"vm\": \"a\" }, { \"vm\": \"b\" }, { \"vm\": \"a\" } ] }", "vms[2]", EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Policy *p = NULL;
                JsonError e = {};
                int r;

                r = policy_parse_buffer(cases[i].text, strlen(cases[i].text), "policy.json", &p, &e);
                if (r != -cases[i].error)
                        TEST_FAIL("case %zu: expected -%d, got %d (%s)", i, cases[i].error, r, e.reason);
                ASSERT_TRUE(p == NULL);
                if (!streq(e.field, cases[i].field))
                        TEST_FAIL("case %zu: error names '%s', expected '%s' (%s)", i, e.field, cases[i].field, e.reason);
                ASSERT_STREQ(e.file, "policy.json");
                ASSERT_TRUE(strlen(e.reason) > 0);
        }
}

/* The daemon's reload pattern: a bad file leaves the policy in force untouched. */
TEST(failed_reload_keeps_last_good) {
        _cleanup_(policy_freep) Policy *current = NULL, *before = NULL;
        char buf[1024], msg[2048];
        JsonError e = {};
        Policy *next = NULL;

        ASSERT_OK(policy_load_file(data_path("example.json", buf), &current, &e));
        ASSERT_OK(policy_copy(current, &before));

        ASSERT_ERROR(policy_load_file(data_path("bad-syntax.json", buf), &next, &e), EBADMSG);
        ASSERT_TRUE(next == NULL);
        ASSERT_EQ(e.line, 3);
        ASSERT_TRUE(strstr(json_error_format(&e, msg, sizeof(msg)), "bad-syntax.json:3:") != NULL);
        ASSERT_TRUE(policy_equal(current, before));

        e = (JsonError) {};
        ASSERT_ERROR(policy_load_file(data_path("does-not-exist.json", buf), &next, &e), ENOENT);
        ASSERT_TRUE(next == NULL);
        ASSERT_TRUE(strstr(e.file, "does-not-exist.json") != NULL);
        ASSERT_TRUE(policy_equal(current, before));
}

TEST(runtime_overrides) {
        _cleanup_(policy_freep) Policy *p = NULL;
        PolicyVmOverride o = { .klass = CLASS_STRICT };
        Vm vm = { .klass = _CLASS_INVALID, .name = (char *) "web" };

        ASSERT_OK(policy_new_default(&p));
        ASSERT_OK(uuid_normalize("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", vm.uuid));
        ASSERT_OK(policy_set_vm_override(p, "web", &o));
        ASSERT_EQ(policy_vm_class(p, &vm), CLASS_STRICT);
        o.klass = CLASS_PERFORMANCE;
        ASSERT_OK(policy_set_vm_override(p, "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE", &o));
        ASSERT_EQ(policy_vm_class(p, &vm), CLASS_PERFORMANCE);  /* UUID beats name */
        ASSERT_EQ(p->n_vm_overrides, 2);
        o.priority_set = true;
        o.priority = 5000;
        ASSERT_ERROR(policy_set_vm_override(p, "web", &o), ERANGE);
        ASSERT_EQ(p->n_vm_overrides, 2);
        ASSERT_OK(policy_remove_vm_override(p, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"));
        ASSERT_ERROR(policy_remove_vm_override(p, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), ENOENT);
        ASSERT_EQ(policy_vm_class(p, &vm), CLASS_STRICT);
}
