/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt qemu hook (hooks/libvirt/rvmsi-qemu-hook) driven the way
 * libvirtd drives it: "rvmsi GUEST OP SUBOP EXTRA" with a real domain XML
 * document on stdin (tests/data/libvirt/), against rvmsid --backend=sim on a
 * private bus (tests/integration/harness.c). After every operation the
 * daemon's state is read back through Describe() and checked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bus-names.h"
#include "harness.h"
#include "macro.h"
#include "run.h"
#include "tests.h"

#define WEB1 "6c0f7e2a-9d1e-4b55-8a57-0a2b6c1b9d01"
#define DB1 "0b7d9c4e-2f3a-4c1b-9e8d-7a6b5c4d3e21"
#define PLAIN "a1b2c3d4-e5f6-4789-8abc-def012345678"
#define BIG "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"

static char conf_env[700];

static void start(Harness *h) {
        char path[600], conf[1024], scenario[1024];

        snprintf(scenario, sizeof(scenario), "%s/libvirt/host.json", getenv("RVMSI_TEST_DATA"));
        harness_start(h, scenario);
        /* What an administrator would write, plus the private bus and no journal. */
        snprintf(conf, sizeof(conf), "# test hook.conf\nbus = %s\njournal=no\nverbose=yes\ntimeout=10\n", h->address);
        snprintf(path, sizeof(path), "%s/hook.conf", h->dir);
        {
                FILE *f = fopen(path, "we");

                ASSERT_NOT_NULL(f);
                fputs(conf, f);
                fclose(f);
        }
        snprintf(conf_env, sizeof(conf_env), "RVMSI_HOOK_CONF=%s", path);
}

/* Run the hook as libvirtd does; xml is a file under tests/data/libvirt. */
static void hook(const char *guest, const char *op, const char *subop, const char *xml, const char *extra_env,
                 int uid, RunResult *ret) {
        char xml_path[1024];
        const char *argv[] = { getenv("RVMSI_HOOK"), guest, op, subop, "-", NULL };
        const char *env[] = { conf_env, extra_env, NULL };

        snprintf(xml_path, sizeof(xml_path), "%s/libvirt/%s", getenv("RVMSI_TEST_DATA"), xml);
        run_program(argv, xml_path, uid, env, NULL, ret);
        fprintf(stderr, "hook %s %s %s < %s: exit %d\n  stdout: %s\n  stderr: %s", guest, op, subop, xml,
                ret->status, ret->out, ret->err);
}

static void hook_ok(const char *guest, const char *op, const char *subop, const char *xml) {
        RunResult r = {};

        hook(guest, op, subop, xml, NULL, -1, &r);
        ASSERT_EQ(r.status, 0);
        /* migrate and restore are filters: printing anything would replace the XML */
        ASSERT_STREQ(r.out, "");
        run_result_done(&r);
}

static json_object *describe(const Harness *h) {
        _cleanup_free_ char *s = harness_describe(h);
        json_object *o = json_tokener_parse(s);

        ASSERT_NOT_NULL(o);
        return o;
}

static json_object *find(json_object *d, const char *array, const char *key, const char *value) {
        json_object *a, *v;

        ASSERT_TRUE(json_object_object_get_ex(d, array, &a));
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *o = json_object_array_get_idx(a, i);

                if (json_object_object_get_ex(o, key, &v) && streq(json_object_get_string(v), value))
                        return o;
        }
        return NULL;
}

static const char *str(json_object *o, const char *key) {
        json_object *v;

        ASSERT_NOT_NULL(o);
        if (!json_object_object_get_ex(o, key, &v))
                TEST_FAIL("no key '%s' in %s", key, json_object_to_json_string(o));
        return json_object_get_string(v);
}

static int64_t num(json_object *o, const char *key) {
        json_object *v;

        ASSERT_NOT_NULL(o);
        if (!json_object_object_get_ex(o, key, &v))
                TEST_FAIL("no key '%s' in %s", key, json_object_to_json_string(o));
        return json_object_get_int64(v);
}

/* The VM's state, or NULL when rvmsid does not know it. */
static void expect_vm_state(const Harness *h, const char *uuid, const char *state) {
        _cleanup_json_ json_object *d = describe(h);
        json_object *vm = find(d, "vms", "uuid", uuid);

        if (!state) {
                if (vm)
                        TEST_FAIL("VM %s still registered: %s", uuid, json_object_to_json_string(vm));
                return;
        }
        if (!vm)
                TEST_FAIL("VM %s not registered", uuid);
        ASSERT_STREQ(str(vm, "state"), state);
}

static void expect_device(const Harness *h, const char *pci, const char *owner, const char *vm) {
        _cleanup_json_ json_object *d = describe(h);
        json_object *dev = find(d, "devices", "pci", pci);

        if (!dev)
                TEST_FAIL("device %s unknown", pci);
        ASSERT_STREQ(str(dev, "owner"), owner);
        ASSERT_STREQ(str(dev, "vm"), vm);
}

TEST(start_stop_release_with_pinning_and_hostdev) {
        _cleanup_(harness_stop) Harness h;
        json_object *vm, *pins, *p;

        start(&h);
        expect_device(&h, "0000:00:03.0", "none", "");

        hook_ok("web1", "prepare", "begin", "web1.xml");
        {
                _cleanup_json_ json_object *d = describe(&h);

                vm = find(d, "vms", "uuid", WEB1);
                ASSERT_NOT_NULL(vm);
                ASSERT_STREQ(str(vm, "name"), "web1");
                ASSERT_STREQ(str(vm, "state"), "running");
                ASSERT_STREQ(str(vm, "class"), "strict");
                ASSERT_EQ(num(vm, "priority"), 100);
                ASSERT_EQ(num(vm, "vcpus"), 2);
                ASSERT_TRUE(json_object_object_get_ex(vm, "pinning", &pins));
                ASSERT_EQ(json_object_array_length(pins), 2u);
                p = json_object_array_get_idx(pins, 1);
                ASSERT_EQ(num(p, "vcpu"), 1);
                ASSERT_STREQ(json_object_to_json_string_ext(json_object_object_get(p, "cpus"),
                                                            JSON_C_TO_STRING_PLAIN), "[2]");
                /* pinned to one CPU each: placed on those harts at once, with guest files */
                ASSERT_EQ(num(vm, "guest_files"), 2);
                ASSERT_STREQ(json_object_to_json_string_ext(json_object_object_get(vm, "devices"),
                                                            JSON_C_TO_STRING_PLAIN), "[\"0000:00:03.0\"]");
        }
        expect_device(&h, "0000:00:03.0", "vm", WEB1);
        expect_device(&h, "0000:00:04.0", "none", "");

        hook_ok("web1", "start", "begin", "web1.xml");
        expect_vm_state(&h, WEB1, "running");
        hook_ok("web1", "started", "begin", "web1.xml");
        expect_vm_state(&h, WEB1, "running");

        hook_ok("web1", "stopped", "end", "web1.xml");
        expect_vm_state(&h, WEB1, "stopped");
        {
                _cleanup_json_ json_object *d = describe(&h);

                ASSERT_EQ(num(find(d, "vms", "uuid", WEB1), "guest_files"), 0);
                ASSERT_STREQ(str(find(d, "devices", "pci", "0000:00:03.0"), "mode"), "blocked");
        }
        /* libvirt repeats stopped in some error paths: harmless */
        hook_ok("web1", "stopped", "end", "web1.xml");

        hook_ok("web1", "release", "end", "web1.xml");
        expect_vm_state(&h, WEB1, NULL);
        expect_device(&h, "0000:00:03.0", "none", "");
        /* release of a VM rvmsid does not know (again): nothing to do */
        hook_ok("web1", "release", "end", "web1.xml");
}

TEST(cpuset_vf_interface_and_restart_of_a_stopped_vm) {
        _cleanup_(harness_stop) Harness h;

        start(&h);
        hook_ok("db1", "restore", "begin", "db1.xml");       /* checks the XML only */
        expect_vm_state(&h, DB1, NULL);
        hook_ok("db1", "prepare", "begin", "db1.xml");
        {
                _cleanup_json_ json_object *d = describe(&h);
                json_object *vm = find(d, "vms", "uuid", DB1), *pins;

                ASSERT_STREQ(str(vm, "class"), "balanced");
                ASSERT_EQ(num(vm, "vcpus"), 4);
                ASSERT_TRUE(json_object_object_get_ex(vm, "pinning", &pins));
                /* Sent: vCPUs 0, 1, 3 on CPUs 0,1,3 (<vcpu cpuset='0-3,^2'>), vCPU 2 on CPU 3
                 * (<vcpupin>). rvmsid reports the pins it acts on; vCPU 2's, the only one to a
                 * single CPU, must be there, and nothing may contradict the XML. */
                {
                        bool seen2 = false;

                        for (size_t i = 0; i < json_object_array_length(pins); i++) {
                                json_object *p = json_object_array_get_idx(pins, i);
                                const char *cpus = json_object_to_json_string_ext(json_object_object_get(p, "cpus"),
                                                                                  JSON_C_TO_STRING_PLAIN);

                                if (num(p, "vcpu") == 2) {
                                        ASSERT_STREQ(cpus, "[3]");
                                        seen2 = true;
                                } else
                                        ASSERT_TRUE(streq(cpus, "[0,1,3]") || streq(cpus, "[0]") ||
                                                    streq(cpus, "[1]") || streq(cpus, "[3]"));
                        }
                        ASSERT_TRUE(seen2);
                }
        }
        expect_device(&h, "0000:00:04.0", "vm", DB1);
        expect_device(&h, "0000:01:00.1", "vm", DB1);

        hook_ok("db1", "stopped", "end", "db1.xml");
        expect_vm_state(&h, DB1, "stopped");
        /* started again without release in between (libvirt keeps the definition) */
        hook_ok("db1", "prepare", "begin", "db1.xml");
        expect_vm_state(&h, DB1, "running");
        expect_device(&h, "0000:00:04.0", "vm", DB1);
}

TEST(migration_destination_ready_before_the_guest_runs) {
        _cleanup_(harness_stop) Harness h;

        start(&h);
        /* destination: migrate begin (filter: prints nothing), then QEMU is prepared and started */
        hook_ok("web1", "migrate", "begin", "web1.xml");
        expect_vm_state(&h, WEB1, "migrating-in");
        expect_device(&h, "0000:00:03.0", "vm", WEB1);
        {
                _cleanup_json_ json_object *d = describe(&h);

                json_object *pl;

                /* decided before the guest runs here: the device's mode is the
                 * class's first choice, not blocked, and the pinned vCPUs are
                 * placed; guest files are taken when KVM runs the vCPUs */
                ASSERT_STREQ(str(find(d, "devices", "pci", "0000:00:03.0"), "mode"), "guest-file");
                ASSERT_STREQ(str(find(d, "devices", "pci", "0000:00:03.0"), "isolation"), "isolated");
                ASSERT_TRUE(json_object_object_get_ex(find(d, "vms", "uuid", WEB1), "placement", &pl));
                ASSERT_EQ(num(json_object_array_get_idx(pl, 0), "hart"), 1);
                ASSERT_EQ(num(json_object_array_get_idx(pl, 1), "hart"), 2);
        }
        hook_ok("web1", "prepare", "begin", "web1.xml");
        expect_vm_state(&h, WEB1, "migrating-in");
        hook_ok("web1", "start", "begin", "web1.xml");
        expect_vm_state(&h, WEB1, "migrating-in");
        hook_ok("web1", "started", "begin", "web1.xml");
        expect_vm_state(&h, WEB1, "running");
        {
                _cleanup_json_ json_object *d = describe(&h);

                ASSERT_EQ(num(find(d, "vms", "uuid", WEB1), "guest_files"), 2);
        }
}

TEST(migration_source_releases_afterwards) {
        _cleanup_(harness_stop) Harness h;

        start(&h);
        hook_ok("web1", "prepare", "begin", "web1.xml");
        hook_ok("web1", "start", "begin", "web1.xml");
        hook_ok("web1", "started", "begin", "web1.xml");
        expect_vm_state(&h, WEB1, "running");
        /* libvirt has no source-side hook when a migration begins; the source
         * QEMU stops once the destination runs, then libvirt releases (10.5+:
         * with the shutoff reason as EXTRA) */
        hook_ok("web1", "stopped", "end", "web1.xml");
        expect_vm_state(&h, WEB1, "stopped");
        {
                RunResult r = {};
                char xml_path[1024];
                const char *argv[] = { getenv("RVMSI_HOOK"), "web1", "release", "end", "migrated", NULL };
                const char *env[] = { conf_env, NULL };

                snprintf(xml_path, sizeof(xml_path), "%s/libvirt/web1.xml", getenv("RVMSI_TEST_DATA"));
                run_program(argv, xml_path, -1, env, NULL, &r);
                ASSERT_EQ(r.status, 0);
                run_result_done(&r);
        }
        expect_vm_state(&h, WEB1, NULL);
        expect_device(&h, "0000:00:03.0", "none", "");
}

TEST(reconnect_after_libvirtd_restart) {
        _cleanup_(harness_stop) Harness h;
        _cleanup_free_ char *before = NULL, *after = NULL;

        start(&h);
        hook_ok("web1", "prepare", "begin", "web1.xml");
        hook_ok("web1", "start", "begin", "web1.xml");
        hook_ok("web1", "started", "begin", "web1.xml");
        before = harness_describe(&h);
        /* libvirtd restarted: the VM runs on; rvmsid already agrees, nothing changes */
        hook_ok("web1", "reconnect", "begin", "web1.xml");
        after = harness_describe(&h);
        ASSERT_STREQ(after, before);

        /* a guest rvmsid never saw (hook installed while it ran): reconnect registers it running */
        hook_ok("plain", "reconnect", "begin", "plain.xml");
        expect_vm_state(&h, PLAIN, "running");
        /* attach (to a QEMU started outside libvirt) does the same */
        hook_ok("db1", "attach", "begin", "db1.xml");
        expect_vm_state(&h, DB1, "running");
        expect_device(&h, "0000:01:00.1", "vm", DB1);

        /* rvmsid restarted and kept its state: still running after reconnect */
        ASSERT_EQ(harness_stop_daemon(&h, SIGTERM), 0);
        harness_start_daemon(&h);
        hook_ok("web1", "reconnect", "begin", "web1.xml");
        expect_vm_state(&h, WEB1, "running");
        expect_device(&h, "0000:00:03.0", "vm", WEB1);
}

TEST(started_repairs_a_vm_rvmsid_missed) {
        _cleanup_(harness_stop) Harness h;

        start(&h);
        hook_ok("web1", "started", "begin", "web1.xml");
        expect_vm_state(&h, WEB1, "running");
        expect_device(&h, "0000:00:03.0", "vm", WEB1);
}

TEST(isolation_unsatisfiable_fails_the_start) {
        _cleanup_(harness_stop) Harness h;
        _cleanup_free_ char *before = NULL, *after = NULL;
        RunResult r = {};

        start(&h);
        expect_vm_state(&h, BIG, "stopped");
        before = harness_describe(&h);
        hook("big", "prepare", "begin", "big.xml", NULL, -1, &r);
        ASSERT_EQ(r.status, 1);
        ASSERT_STREQ(r.out, "");
        /* one line, the one libvirt shows */
        ASSERT_TRUE(strstr(r.err, "rvmsi: VM 'big' not started: its isolation class 'strict' cannot be met") == r.err);
        ASSERT_TRUE(strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
        run_result_done(&r);
        expect_vm_state(&h, BIG, "stopped");
        after = harness_describe(&h);
        {
                /* the registration now has the XML's pinning; nothing else moved */
                _cleanup_json_ json_object *a = json_tokener_parse(after), *b = json_tokener_parse(before);

                ASSERT_STREQ(json_object_to_json_string(json_object_object_get(a, "devices")),
                             json_object_to_json_string(json_object_object_get(b, "devices")));
                ASSERT_EQ(num(json_object_object_get(a, "host"), "guest_files_free"),
                          num(json_object_object_get(b, "host"), "guest_files_free"));
        }

        /* migrating such a VM in is refused the same way */
        hook("big", "migrate", "begin", "big.xml", NULL, -1, &r);
        ASSERT_EQ(r.status, 1);
        ASSERT_TRUE(strstr(r.err, "cannot be met") != NULL);
        run_result_done(&r);
        expect_vm_state(&h, BIG, "stopped");

        /* but a guest that already runs is never killed for it */
        hook("big", "reconnect", "begin", "big.xml", NULL, -1, &r);
        ASSERT_EQ(r.status, 0);
        run_result_done(&r);
}

static void expect_refused_unchanged(Harness *h, const char *guest, const char *op, const char *subop,
                                     const char *xml, int want_status, const char *want_err) {
        _cleanup_free_ char *before = harness_describe(h), *after = NULL;
        RunResult r = {};

        hook(guest, op, subop, xml, NULL, -1, &r);
        ASSERT_EQ(r.status, want_status);
        ASSERT_STREQ(r.out, "");
        if (want_err && !strstr(r.err, want_err))
                TEST_FAIL("stderr '%s' does not contain '%s'", r.err, want_err);
        run_result_done(&r);
        after = harness_describe(h);
        ASSERT_STREQ(after, before);
}

TEST(malformed_xml_changes_nothing) {
        static const char *const bad[] = {
                "bad-truncated.xml", "bad-not-domain.xml", "bad-no-uuid.xml", "bad-uuid.xml", "bad-vcpupin.xml",
                "bad-pci-slot.xml", "bad-class.xml", "bad-priority.xml", "bad-entity.xml", "empty.xml",
        };
        _cleanup_(harness_stop) Harness h;

        start(&h);
        hook_ok("web1", "prepare", "begin", "web1.xml");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                /* operations that may fail: exit 1 with the reason */
                expect_refused_unchanged(&h, "web1", "prepare", "begin", bad[i], 1, "cannot use the domain XML");
                expect_refused_unchanged(&h, "web1", "start", "begin", bad[i], 1, "cannot use the domain XML");
                expect_refused_unchanged(&h, "web1", "migrate", "begin", bad[i], 1, "cannot use the domain XML");
                expect_refused_unchanged(&h, "web1", "restore", "begin", bad[i], 1, "cannot use the domain XML");
                /* libvirt ignores the status of these, but the error is reported */
                expect_refused_unchanged(&h, "web1", "stopped", "end", bad[i], 1, "cannot use the domain XML");
                expect_refused_unchanged(&h, "web1", "release", "end", bad[i], 1, "cannot use the domain XML");
                /* a failure here would make libvirt kill the running guest: report, exit 0 */
                expect_refused_unchanged(&h, "web1", "started", "begin", bad[i], 0, "cannot use the domain XML");
                expect_refused_unchanged(&h, "web1", "reconnect", "begin", bad[i], 0, "cannot use the domain XML");
        }
        /* well-formed, but for another guest than the one libvirt named */
        expect_refused_unchanged(&h, "db1", "prepare", "begin", "web1.xml", 1, "hook was called for 'db1'");
        expect_refused_unchanged(&h, "db1", "reconnect", "begin", "web1.xml", 0, "hook was called for 'db1'");
        expect_vm_state(&h, WEB1, "running");
}

TEST(unknown_operations_are_ignored) {
        _cleanup_(harness_stop) Harness h;

        start(&h);
        hook_ok("web1", "prepare", "begin", "web1.xml");
        /* libvirt adds operations over time; even with broken XML they are not ours */
        expect_refused_unchanged(&h, "web1", "frobnicate", "begin", "web1.xml", 0, NULL);
        expect_refused_unchanged(&h, "web1", "frobnicate", "begin", "bad-truncated.xml", 0, NULL);
        expect_refused_unchanged(&h, "-", "shutdown", "-", "empty.xml", 0, NULL);
        {
                RunResult r = {};

                hook("web1", "frobnicate", "begin", "web1.xml", NULL, -1, &r);
                ASSERT_STREQ(r.err, "");
                run_result_done(&r);
        }
}

TEST(rvmsid_not_running) {
        _cleanup_(harness_stop) Harness h;
        RunResult r = {};

        start(&h);
        ASSERT_EQ(harness_stop_daemon(&h, SIGTERM), 0);

        /* default: a warning, and the VM starts */
        hook("web1", "prepare", "begin", "web1.xml", NULL, -1, &r);
        ASSERT_EQ(r.status, 0);
        ASSERT_TRUE(strstr(r.err, "rvmsid is not reachable") != NULL);
        ASSERT_TRUE(strstr(r.err, "starts without MSI isolation management") != NULL);
        run_result_done(&r);

        /* strict=yes: the start fails with one line */
        hook("web1", "prepare", "begin", "web1.xml", "RVMSI_HOOK_STRICT=yes", -1, &r);
        ASSERT_EQ(r.status, 1);
        ASSERT_TRUE(strstr(r.err, "rvmsi: VM 'web1' not started") == r.err);
        ASSERT_TRUE(strstr(r.err, "strict=yes") != NULL);
        run_result_done(&r);

        /* but stopping or reconnecting never fails, strict or not */
        hook("web1", "stopped", "end", "web1.xml", "RVMSI_HOOK_STRICT=yes", -1, &r);
        ASSERT_EQ(r.status, 0);
        run_result_done(&r);
        hook("web1", "reconnect", "begin", "web1.xml", "RVMSI_HOOK_STRICT=yes", -1, &r);
        ASSERT_EQ(r.status, 0);
        run_result_done(&r);

        /* no bus at all */
        hook("web1", "prepare", "begin", "web1.xml", "RVMSI_HOOK_BUS=unix:path=/nonexistent/bus", -1, &r);
        ASSERT_EQ(r.status, 0);
        ASSERT_TRUE(strstr(r.err, "rvmsid is not reachable") != NULL);
        run_result_done(&r);

        harness_start_daemon(&h);
        expect_vm_state(&h, WEB1, NULL);
}

TEST(bad_configuration) {
        _cleanup_(harness_stop) Harness h;
        RunResult r = {};

        start(&h);
        hook("web1", "prepare", "begin", "web1.xml", "RVMSI_HOOK_STRICT=maybe", -1, &r);
        ASSERT_EQ(r.status, 1);
        ASSERT_TRUE(strstr(r.err, "invalid hook configuration: RVMSI_HOOK_STRICT") != NULL);
        run_result_done(&r);
        expect_vm_state(&h, WEB1, NULL);
}

TEST(non_root_hook_changes_nothing) {
        _cleanup_(harness_stop) Harness h;
        _cleanup_free_ char *before = NULL, *after = NULL;
        RunResult r = {};

        start(&h);
        before = harness_describe(&h);
        /* rvmsid refuses (NotPermitted): a warning without strict, a refusal with it */
        hook("web1", "prepare", "begin", "web1.xml", NULL, 65534, &r);
        ASSERT_EQ(r.status, 0);
        ASSERT_TRUE(strstr(r.err, RVMSI_BUS_ERROR_NOT_PERMITTED) != NULL);
        run_result_done(&r);
        hook("web1", "prepare", "begin", "web1.xml", "RVMSI_HOOK_STRICT=yes", 65534, &r);
        ASSERT_EQ(r.status, 1);
        run_result_done(&r);
        after = harness_describe(&h);
        ASSERT_STREQ(after, before);
}

DEFINE_TEST_MAIN
