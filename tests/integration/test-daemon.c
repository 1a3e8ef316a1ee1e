/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsid on the sim backend, on a private dbus-daemon, driven over D-Bus
 * the way rvmsictl and the libvirt hook drive it. Every test starts its own
 * bus and daemon (harness.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/rvmsi.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include "bus-names.h"
#include "harness.h"
#include "macro.h"
#include "tests.h"

#define UUID1 "6c0f7e2a-9d1e-4b55-8a57-0a2b6c1b9d01"
#define UUID2 "0b9e2c7d-3f41-4a6e-9c2d-5e8f7a1b2c3d"
#define DEV1 "0000:00:03.0"
#define DEV2 "0000:00:04.0"

/* ---- small helpers --------------------------------------------------------------------- */

static int call(const Harness *h, sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply,
                const char *types, ...) {
        sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus ?: h->bus, &m, RVMSI_BUS_NAME, RVMSI_BUS_PATH,
                                           RVMSI_BUS_IFACE_MANAGER, method);
        ASSERT_OK(r);
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                ASSERT_OK(r);
        }
        r = sd_bus_call(bus ?: h->bus, m, 0, error, reply);
        sd_bus_message_unref(m);
        return r;
}

/* Expect a call to fail with this error name. */
#define EXPECT_ERROR(h, ename, method, ...)                                                      \
        do {                                                                                    \
                sd_bus_error _e = SD_BUS_ERROR_NULL;                                            \
                int _r = call((h), NULL, (method), &_e, NULL, __VA_ARGS__);                     \
                if (_r >= 0)                                                                    \
                        TEST_FAIL("%s() succeeded, expected %s", (method), (ename));             \
                if (!sd_bus_error_has_name(&_e, (ename)))                                        \
                        TEST_FAIL("%s() failed with %s (%s), expected %s", (method),            \
                                  _e.name, _e.message, (ename));                                 \
                if (!_e.message || !*_e.message)                                                \
                        TEST_FAIL("%s(): error %s without a message", (method), (ename));        \
                sd_bus_error_free(&_e);                                                         \
        } while (0)

#define EXPECT_OK(h, method, ...)                                                               \
        do {                                                                                    \
                sd_bus_error _e = SD_BUS_ERROR_NULL;                                            \
                int _r = call((h), NULL, (method), &_e, NULL, __VA_ARGS__);                     \
                if (_r < 0)                                                                     \
                        TEST_FAIL("%s() failed: %s: %s", (method), _e.name, _e.message);        \
                sd_bus_error_free(&_e);                                                         \
        } while (0)

static json_object *describe_json(const Harness *h) {
        _cleanup_free_ char *s = harness_describe(h);
        json_object *j = json_tokener_parse(s);

        if (!j)
                TEST_FAIL("Describe() is not JSON: %s", s);
        return j;
}

static json_object *jget(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                TEST_FAIL("no key '%s' in %s", key, json_object_to_json_string(o));
        return v;
}

static json_object *find_by(json_object *array, const char *key, const char *value) {
        for (size_t i = 0; i < json_object_array_length(array); i++) {
                json_object *o = json_object_array_get_idx(array, i), *v;

                if (json_object_object_get_ex(o, key, &v) && streq(json_object_get_string(v), value))
                        return o;
        }
        return NULL;
}

static void register_vm(const Harness *h, const char *name, const char *uuid, const char *klass) {
        /* vCPU 0 pinned to CPU 1, vCPU 1 to CPU 2 */
        EXPECT_OK(h, "RegisterVM", "ssua(uau)si", name, uuid, 2, 2, 0, 1, 1, 1, 1, 2, klass, 100);
}

static char *get_policy(const Harness *h) {
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *s;
        char *copy;

        if (call(h, NULL, "GetPolicy", &e, &reply, NULL) < 0)
                TEST_FAIL("GetPolicy: %s", e.message);
        ASSERT_OK(sd_bus_message_read(reply, "s", &s));
        copy = strdup(s);
        sd_bus_message_unref(reply);
        return copy;
}

static char *get_string_property(const Harness *h, const char *prop) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *s = NULL;

        if (sd_bus_get_property_string(h->bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, prop, &e,
                                       &s) < 0)
                TEST_FAIL("Get %s: %s", prop, e.message);
        return s;
}

static uint64_t get_u64_property(const Harness *h, const char *prop) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint64_t v = 0;

        if (sd_bus_get_property_trivial(h->bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, prop, &e,
                                        't', &v) < 0)
                TEST_FAIL("Get %s: %s", prop, e.message);
        return v;
}

static int get_bool_property(const Harness *h, const char *prop) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int v = 0;

        if (sd_bus_get_property_trivial(h->bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, prop, &e,
                                        'b', &v) < 0)
                TEST_FAIL("Get %s: %s", prop, e.message);
        return v;
}

/* ---- tests ----------------------------------------------------------------------------- */

TEST(lifecycle) {
        Harness h;
        json_object *j, *vm, *dev;
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *target, *mode, *code, *text;
        char *state = NULL;
        _cleanup_free_ char *vm_path = NULL;
        int n = 0;

        harness_start(&h, NULL);

        register_vm(&h, "web1", UUID1, "strict");
        EXPECT_OK(&h, "AttachDevice", "sss", DEV1, "vm", UUID1);
        EXPECT_OK(&h, "AttachDevice", "sss", DEV2, "host", "");

        j = describe_json(&h);
        vm = find_by(jget(j, "vms"), "uuid", UUID1);
        ASSERT_NOT_NULL(vm);
        ASSERT_STREQ(json_object_get_string(jget(vm, "state")), "defined");
        ASSERT_STREQ(json_object_get_string(jget(vm, "class")), "strict");
        ASSERT_EQ(json_object_get_int(jget(vm, "priority")), 100);
        ASSERT_EQ(json_object_array_length(jget(vm, "pinning")), 2);
        dev = find_by(jget(j, "devices"), "pci", DEV1);
        ASSERT_NOT_NULL(dev);
        ASSERT_STREQ(json_object_get_string(jget(dev, "owner")), "vm");
        ASSERT_STREQ(json_object_get_string(jget(dev, "vm")), UUID1);
        /* a device of a VM that does not run is blocked */
        ASSERT_STREQ(json_object_get_string(jget(dev, "mode")), "blocked");
        json_object_put(j);

        /* libvirt's order for a start */
        EXPECT_OK(&h, "VMEvent", "ss", UUID1, "prepare");
        EXPECT_OK(&h, "VMEvent", "ss", UUID1, "start");
        EXPECT_OK(&h, "VMEvent", "ss", UUID1, "started");
        ASSERT_OK(sd_bus_path_encode(RVMSI_BUS_VM_PREFIX, UUID1, &vm_path));
        ASSERT_OK(sd_bus_get_property_string(h.bus, RVMSI_BUS_NAME, vm_path, RVMSI_BUS_IFACE_VM, "State", &e,
                                             &state));
        ASSERT_STREQ(state, "running");
        free(state);

        /* a running VM's device cannot be detached; a stopped one can */
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_BUSY, "DetachDevice", "s", DEV1);
        /* started again is fine, release while running is not */
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_TRANSITION, "VMEvent", "ss", UUID1, "release");

        /* Explain answers for the device, one row per target or one for the device */
        ASSERT_OK(call(&h, NULL, "Explain", &e, &reply, "ss", DEV1, ""));
        ASSERT_OK(sd_bus_message_enter_container(reply, 'a', "(ssss)"));
        while (sd_bus_message_read(reply, "(ssss)", &target, &mode, &code, &text) > 0) {
                ASSERT_TRUE(*mode);
                ASSERT_TRUE(*code);
                ASSERT_TRUE(*text);
                n++;
        }
        ASSERT_TRUE(n >= 1);
        sd_bus_message_unref(reply);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_NO_SUCH_TARGET, "Explain", "ss", DEV1, "hart:63");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "Explain", "ss", DEV1, "core:1");

        EXPECT_OK(&h, "VMEvent", "ss", UUID1, "stopped");
        j = describe_json(&h);
        vm = find_by(jget(j, "vms"), "uuid", UUID1);
        ASSERT_STREQ(json_object_get_string(jget(vm, "state")), "stopped");
        dev = find_by(jget(j, "devices"), "pci", DEV1);
        ASSERT_STREQ(json_object_get_string(jget(dev, "mode")), "blocked");
        json_object_put(j);

        /* release forgets the VM; its device becomes nobody's */
        EXPECT_OK(&h, "VMEvent", "ss", UUID1, "release");
        j = describe_json(&h);
        ASSERT_TRUE(find_by(jget(j, "vms"), "uuid", UUID1) == NULL);
        dev = find_by(jget(j, "devices"), "pci", DEV1);
        ASSERT_STREQ(json_object_get_string(jget(dev, "owner")), "none");
        ASSERT_STREQ(json_object_get_string(jget(dev, "mode")), "blocked");
        json_object_put(j);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_NO_SUCH_VM, "VMEvent", "ss", UUID1, "started");

        harness_stop(&h);
}

TEST(migration) {
        Harness h;
        json_object *j;

        harness_start(&h, NULL);
        register_vm(&h, "db1", UUID2, "balanced");
        EXPECT_OK(&h, "AttachDevice", "sss", DEV1, "vm", UUID2);

        /* destination side: ready before the guest runs here */
        EXPECT_OK(&h, "VMEvent", "ss", UUID2, "migrate-in-prepare");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_TRANSITION, "VMEvent", "ss", UUID2, "migrate-out-begin");
        EXPECT_OK(&h, "VMEvent", "ss", UUID2, "migrate-done");
        j = describe_json(&h);
        ASSERT_STREQ(json_object_get_string(jget(find_by(jget(j, "vms"), "uuid", UUID2), "state")), "running");
        json_object_put(j);

        /* source side: keeps everything until done, then forgets */
        EXPECT_OK(&h, "VMEvent", "ss", UUID2, "migrate-out-begin");
        EXPECT_OK(&h, "VMEvent", "ss", UUID2, "migrate-done");
        j = describe_json(&h);
        ASSERT_TRUE(find_by(jget(j, "vms"), "uuid", UUID2) == NULL);
        json_object_put(j);

        /* reconnect after a libvirtd restart: register again, then reconnect */
        register_vm(&h, "db1", UUID2, "balanced");
        EXPECT_OK(&h, "VMEvent", "ss", UUID2, "reconnect");
        /* registering the same VM again is an update, not an error */
        register_vm(&h, "db1", UUID2, "balanced");
        j = describe_json(&h);
        ASSERT_STREQ(json_object_get_string(jget(find_by(jget(j, "vms"), "uuid", UUID2), "state")), "running");
        json_object_put(j);

        harness_stop(&h);
}

TEST(bad_arguments_change_nothing) {
        Harness h;
        _cleanup_free_ char *before = NULL, *after = NULL, *bad_uuid_pin = NULL;

        harness_start(&h, NULL);
        register_vm(&h, "web1", UUID1, "strict");
        EXPECT_OK(&h, "AttachDevice", "sss", DEV1, "vm", UUID1);
        before = harness_describe(&h);

        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "", UUID2, 1, 0, "", 0);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "-x", UUID2, 1, 0, "", 0);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "a/b", UUID2, 1, 0, "", 0);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "vm2", "1234", 1, 0, "", 0);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "vm2", UUID2, 0, 0, "", 0);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "vm2", UUID2, 100000, 0, "",
                     0);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "vm2", UUID2, 1, 0, "fast",
                     0);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "vm2", UUID2, 1, 0, "", 5000);
        /* pinning: vCPU out of range, CPU that does not exist, vCPU twice */
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "vm2", UUID2, 1, 1, 3, 1, 0,
                     "", 0);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "vm2", UUID2, 1, 1, 0, 1,
                     999, "", 0);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "vm2", UUID2, 2, 2, 0, 1, 0,
                     0, 1, 1, "", 0);
        /* a name another VM has */
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_EXISTS, "RegisterVM", "ssua(uau)si", "web1", UUID2, 1, 0, "", 0);

        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "UnregisterVM", "s", "nope");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_NO_SUCH_VM, "UnregisterVM", "s", UUID2);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "VMEvent", "ss", UUID1, "explode");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_NO_SUCH_VM, "VMEvent", "ss", UUID2, "prepare");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_TRANSITION, "VMEvent", "ss", UUID1, "migrate-done");

        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "AttachDevice", "sss", "00:03.0", "host", "");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "AttachDevice", "sss", "0000:00:03.0\n", "host", "");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "AttachDevice", "sss", "0000:00:03.8", "host", "");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "AttachDevice", "sss", "0000:00:03.0", "root", "");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "AttachDevice", "sss", DEV2, "host", UUID1);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "AttachDevice", "sss", DEV2, "vm", "");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_NO_SUCH_VM, "AttachDevice", "sss", DEV2, "vm", UUID2);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_EXISTS, "AttachDevice", "sss", DEV1, "host", "");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_NO_SUCH_DEVICE, "DetachDevice", "s", DEV2);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "DetachDevice", "s", "x");

        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_POLICY_INVALID, "SetPolicy", "s", "");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_POLICY_INVALID, "SetPolicy", "s", "{\"version\": 99}");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_POLICY_INVALID, "SetPolicy", "s", "[1,2");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_POLICY_INVALID, "CheckPolicy", "s", "{\"version\": 1, \"bogus\": true}");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_SCENARIO_INVALID, "Plan", "s", "{}");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_SCENARIO_INVALID, "Plan", "s", "not json");
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_NO_SUCH_DEVICE, "Explain", "ss", DEV2, "");
        {
                /* anyone may call Plan(): it must not parse megabytes for them */
                _cleanup_free_ char *huge = malloc(2 * 1024 * 1024);

                ASSERT_NOT_NULL(huge);
                memset(huge, ' ', 2 * 1024 * 1024 - 1);
                huge[0] = '{';
                huge[2 * 1024 * 1024 - 2] = '}';
                huge[2 * 1024 * 1024 - 1] = 0;
                EXPECT_ERROR(&h, RVMSI_BUS_ERROR_SCENARIO_INVALID, "Plan", "s", huge);
                EXPECT_ERROR(&h, RVMSI_BUS_ERROR_POLICY_INVALID, "CheckPolicy", "s", huge);
        }

        after = harness_describe(&h);
        if (!streq(before, after))
                TEST_FAIL("a refused call changed the state:\nbefore: %s\nafter: %s", before, after);
        (void) bad_uuid_pin;
        harness_stop(&h);
}

/* In a child that is not root: every mutating method, with arguments that
 * are valid (so that only the credential check can refuse), must get
 * NotPermitted; reads still work. Returns the number of failures. */
static int nonroot_calls(const Harness *h, const char *policy) {
        struct {
                const char *method, *types;
        } const calls[] = {
                { "RegisterVM", "ssua(uau)si" },
                { "UnregisterVM", "s" },
                { "VMEvent", "ss" },
                { "AttachDevice", "sss" },
                { "DetachDevice", "s" },
                { "SetPolicy", "s" },
                { "Reload", NULL },
                { "Resync", NULL },
                { "SimulateMSI", "suuuu" },
        };
        sd_bus *bus;
        int failures = 0;

        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) {
                fprintf(stderr, "setresuid: %m\n");
                return 100;
        }
        bus = harness_connect(h);
        for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                int r;

                if (streq(calls[i].method, "RegisterVM"))
                        r = call(h, bus, "RegisterVM", &e, NULL, calls[i].types, "vm9", UUID2, 1, 0, "", 0);
                else if (streq(calls[i].method, "UnregisterVM"))
                        r = call(h, bus, "UnregisterVM", &e, NULL, "s", UUID1);
                else if (streq(calls[i].method, "VMEvent"))
                        r = call(h, bus, "VMEvent", &e, NULL, "ss", UUID1, "prepare");
                else if (streq(calls[i].method, "AttachDevice"))
                        r = call(h, bus, "AttachDevice", &e, NULL, "sss", DEV2, "userspace", "");
                else if (streq(calls[i].method, "DetachDevice"))
                        r = call(h, bus, "DetachDevice", &e, NULL, "s", DEV1);
                else if (streq(calls[i].method, "SetPolicy"))
                        r = call(h, bus, "SetPolicy", &e, NULL, "s", policy);
                else if (streq(calls[i].method, "SimulateMSI"))
                        r = call(h, bus, "SimulateMSI", &e, NULL, "suuuu", DEV1, 0, 1, 0, 5);
                else
                        r = call(h, bus, calls[i].method, &e, NULL, NULL);
                if (r >= 0 || !sd_bus_error_has_name(&e, RVMSI_BUS_ERROR_NOT_PERMITTED)) {
                        fprintf(stderr, "non-root %s(): %s (%s)\n", calls[i].method, r >= 0 ? "succeeded" : e.name,
                                strempty(e.message));
                        failures++;
                }
                sd_bus_error_free(&e);
        }
        /* reading is for everyone */
        {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;

                if (call(h, bus, "Describe", &e, &reply, NULL) < 0) {
                        fprintf(stderr, "non-root Describe(): %s\n", e.message);
                        failures++;
                }
                sd_bus_message_unref(reply);
                sd_bus_error_free(&e);
        }
        sd_bus_flush_close_unref(bus);
        return failures;
}

TEST(nonroot_refused) {
        Harness h;
        _cleanup_free_ char *before = NULL, *after = NULL, *policy = NULL;
        pid_t pid;
        int status;

        if (geteuid() != 0)
                TEST_FAIL("this test must run as root (it drops to uid 65534 in a child)");
        harness_start(&h, NULL);
        register_vm(&h, "web1", UUID1, "performance");
        EXPECT_OK(&h, "AttachDevice", "sss", DEV1, "host", "");
        policy = get_policy(&h);
        before = harness_describe(&h);

        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                h.bus = NULL;   /* the parent's connection is not ours */
                _exit(nonroot_calls(&h, policy));
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        if (WEXITSTATUS(status) != 0)
                TEST_FAIL("%d mutating call(s) were not refused for a non-root caller", WEXITSTATUS(status));

        after = harness_describe(&h);
        if (!streq(before, after))
                TEST_FAIL("a refused non-root call changed the state");
        /* and root may do all of it */
        EXPECT_OK(&h, "VMEvent", "ss", UUID1, "prepare");
        EXPECT_OK(&h, "SetPolicy", "s", policy);
        EXPECT_OK(&h, "Resync", NULL);
        EXPECT_OK(&h, "Reload", NULL);
        harness_stop(&h);
}

static bool generation_is(const Harness *h, void *userdata) {
        return get_u64_property(h, "PolicyGeneration") == *(uint64_t *) userdata;
}

static bool is_degraded(const Harness *h, void *userdata) {
        return get_bool_property(h, "Degraded");
}

TEST(reload) {
        Harness h;
        _cleanup_free_ char *policy = NULL, *source = NULL, *after = NULL, *expected_source = NULL;
        uint64_t gen, want;

        harness_start(&h, NULL);
        policy = get_policy(&h);
        source = get_string_property(&h, "PolicySource");
        ASSERT_STREQ(source, "builtin");
        ASSERT_FALSE(get_bool_property(&h, "Degraded"));

        /* a good file, by Reload() */
        harness_write_config(&h, "policy.json", policy);
        gen = get_u64_property(&h, "PolicyGeneration");
        EXPECT_OK(&h, "Reload", NULL);
        ASSERT_EQ(get_u64_property(&h, "PolicyGeneration"), gen + 1);
        free(source);
        source = get_string_property(&h, "PolicySource");
        ASSERT_TRUE(asprintf(&expected_source, "%s/policy.json", h.config_dir) > 0);
        ASSERT_STREQ(source, expected_source);

        /* a good file, by SIGHUP */
        want = gen + 2;
        ASSERT_OK(kill(h.daemon_pid, SIGHUP));
        if (!harness_wait_for(&h, generation_is, &want, 10000))
                TEST_FAIL("SIGHUP did not reload the policy");

        /* a bad file: SIGHUP keeps the last good policy and says so */
        harness_write_config(&h, "policy.json", "{ \"version\": 1, \"default_class\": \"fastest\" }\n");
        ASSERT_OK(kill(h.daemon_pid, SIGHUP));
        if (!harness_wait_for(&h, is_degraded, NULL, 10000))
                TEST_FAIL("a bad policy file did not make the daemon degraded");
        ASSERT_EQ(get_u64_property(&h, "PolicyGeneration"), want);
        after = get_policy(&h);
        ASSERT_STREQ(after, policy);
        free(source);
        source = get_string_property(&h, "PolicySource");
        ASSERT_STREQ(source, expected_source);
        /* and Reload() reports the file's error */
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_POLICY_INVALID, "Reload", NULL);
        ASSERT_EQ(get_u64_property(&h, "PolicyGeneration"), want);

        /* fixed again: no longer degraded */
        harness_write_config(&h, "policy.json", policy);
        EXPECT_OK(&h, "Reload", NULL);
        ASSERT_FALSE(get_bool_property(&h, "Degraded"));
        harness_stop(&h);
}

/* Which guest file (1..GEILEN) of its hart a vCPU holds is KVM's choice of
 * a free one: after a restart the sim's world is rebuilt (on a host, KVM
 * would have kept it) and may hand out another, equivalent index. Whether a
 * vCPU holds a guest file, on which hart, and every mode are compared. */
static void normalize_guest_indexes(json_object *o) {
        if (json_object_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        normalize_guest_indexes(json_object_array_get_idx(o, i));
                return;
        }
        if (!json_object_is_type(o, json_type_object))
                return;
        json_object_object_foreach(o, key, val) {
                if ((streq(key, "guest_file") || streq(key, "guest")) && json_object_is_type(val, json_type_int))
                        json_object_object_add(o, key, json_object_new_boolean(json_object_get_int(val) > 0));
                else
                        normalize_guest_indexes(val);
        }
}

/* The parts of Describe() that are the converged state (not counters). */
static char *converged_state(const Harness *h) {
        json_object *j = describe_json(h), *o = json_object_new_object();
        char *s;

        json_object_object_add(o, "host", json_object_get(jget(j, "host")));
        json_object_object_add(o, "policy", json_object_get(jget(j, "policy")));
        json_object_object_add(o, "vms", json_object_get(jget(j, "vms")));
        json_object_object_add(o, "devices", json_object_get(jget(j, "devices")));
        json_object_object_add(o, "unsatisfied", json_object_get(jget(j, "unsatisfied")));
        normalize_guest_indexes(o);
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
        json_object_put(o);
        json_object_put(j);
        return s;
}

TEST(restart_converges) {
        Harness h;
        _cleanup_free_ char *before = NULL, *after = NULL, *after2 = NULL;
        int status;

        harness_start(&h, NULL);
        register_vm(&h, "web1", UUID1, "strict");
        register_vm(&h, "db1", UUID2, "performance");
        EXPECT_OK(&h, "AttachDevice", "sss", DEV1, "vm", UUID1);
        EXPECT_OK(&h, "AttachDevice", "sss", DEV2, "vm", UUID2);
        EXPECT_OK(&h, "VMEvent", "ss", UUID1, "prepare");
        EXPECT_OK(&h, "VMEvent", "ss", UUID1, "started");
        EXPECT_OK(&h, "VMEvent", "ss", UUID2, "prepare");
        before = converged_state(&h);

        /* no goodbye: the state on disk is all the next one gets */
        status = harness_stop_daemon(&h, SIGKILL);
        ASSERT_TRUE(WIFSIGNALED(status));
        harness_start_daemon(&h);
        after = converged_state(&h);
        if (!streq(before, after))
                TEST_FAIL("state after kill -9 and restart differs:\nbefore: %s\nafter: %s", before, after);

        /* and once more, with a resync in between: nothing moves */
        EXPECT_OK(&h, "Resync", NULL);
        status = harness_stop_daemon(&h, SIGKILL);
        harness_start_daemon(&h);
        after2 = converged_state(&h);
        ASSERT_STREQ(after2, before);
        harness_stop(&h);
}

TEST(plan) {
        Harness h;
        _cleanup_free_ char *scenario = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        _cleanup_free_ char *before = NULL, *after = NULL;
        const char *s;
        json_object *j;

        harness_start(&h, NULL);
        scenario = harness_read_data("scenarios/exhaustion.json");
        before = harness_describe(&h);
        if (call(&h, NULL, "Plan", &e, &reply, "s", scenario) < 0)
                TEST_FAIL("Plan: %s: %s", e.name, e.message);
        ASSERT_OK(sd_bus_message_read(reply, "s", &s));
        j = json_tokener_parse(s);
        ASSERT_NOT_NULL(j);
        ASSERT_TRUE(json_object_get_int(jget(jget(j, "report"), "steps")) > 0);
        ASSERT_EQ(json_object_get_int(jget(jget(j, "report"), "invariant_violations")), 0);
        ASSERT_NOT_NULL(jget(j, "desired"));
        json_object_put(j);
        sd_bus_message_unref(reply);
        /* a what-if changes nothing in the daemon */
        after = harness_describe(&h);
        ASSERT_STREQ(after, before);
        harness_stop(&h);
}

/* A scenario host (tests/data/scenarios/basic.json): a strict VM whose
 * device is on guest files, a host device on identity entries, and forged
 * MSIs that the sim's IOMMU blocked. */
TEST(scenario_host) {
        Harness h;
        json_object *j, *dev, *faults, *f;
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *target, *mode, *code, *text;
        int n = 0;

        harness_start(&h, "basic.json");
        j = describe_json(&h);
        dev = find_by(jget(j, "devices"), "pci", "0000:01:00.0");
        ASSERT_NOT_NULL(dev);
        ASSERT_STREQ(json_object_get_string(jget(dev, "owner")), "vm");
        ASSERT_STREQ(json_object_get_string(jget(dev, "mode")), "guest-file");
        ASSERT_EQ(json_object_array_length(jget(dev, "targets")), 2);
        ASSERT_STREQ(json_object_get_string(jget(json_object_array_get_idx(jget(dev, "targets"), 0), "target")),
                     "vcpu:0");
        dev = find_by(jget(j, "devices"), "pci", "0000:02:00.0");
        ASSERT_NOT_NULL(dev);
        ASSERT_STREQ(json_object_get_string(jget(dev, "mode")), "identity");
        /* the scenario forged MSIs into files its entries do not map */
        faults = jget(j, "faults");
        ASSERT_TRUE(json_object_array_length(faults) >= 1);
        f = json_object_array_get_idx(faults, 0);
        ASSERT_EQ(json_object_get_int(jget(f, "cause")), 262);
        ASSERT_STREQ(json_object_get_string(jget(f, "device")), "0000:02:00.0");
        ASSERT_TRUE(get_u64_property(&h, "FaultCount") >= 1);
        json_object_put(j);

        ASSERT_OK(call(&h, NULL, "Explain", &e, &reply, "ss", "0000:01:00.0", "vcpu:1"));
        ASSERT_OK(sd_bus_message_enter_container(reply, 'a', "(ssss)"));
        while (sd_bus_message_read(reply, "(ssss)", &target, &mode, &code, &text) > 0) {
                ASSERT_STREQ(target, "vcpu:1");
                ASSERT_STREQ(mode, "guest-file");
                ASSERT_TRUE(*code && *text);
                n++;
        }
        ASSERT_EQ(n, 1);
        sd_bus_message_unref(reply);
        harness_stop(&h);
}

static int get_device_bool(const Harness *h, const char *pci, const char *prop) {
        _cleanup_free_ char *path = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int v = 0;

        ASSERT_OK(sd_bus_path_encode(RVMSI_BUS_DEVICE_PREFIX, pci, &path));
        if (sd_bus_get_property_trivial(h->bus, RVMSI_BUS_NAME, path, RVMSI_BUS_IFACE_DEVICE, prop, &e, 'b', &v) < 0)
                TEST_FAIL("Get %s of %s: %s", prop, pci, e.message);
        return v;
}

static char *get_device_string(const Harness *h, const char *pci, const char *prop) {
        _cleanup_free_ char *path = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *s = NULL;

        ASSERT_OK(sd_bus_path_encode(RVMSI_BUS_DEVICE_PREFIX, pci, &path));
        if (sd_bus_get_property_string(h->bus, RVMSI_BUS_NAME, path, RVMSI_BUS_IFACE_DEVICE, prop, &e, &s) < 0)
                TEST_FAIL("Get %s of %s: %s", prop, pci, e.message);
        return s;
}

/* Every device of j is applied, in Describe() and in its object's properties. */
static void assert_all_applied(const Harness *h, json_object *j, size_t n_expected) {
        json_object *devs = jget(j, "devices");

        ASSERT_EQ(json_object_array_length(devs), n_expected);
        for (size_t i = 0; i < json_object_array_length(devs); i++) {
                json_object *dev = json_object_array_get_idx(devs, i);
                const char *pci = json_object_get_string(jget(dev, "pci"));
                _cleanup_free_ char *state = NULL;

                if (!json_object_get_boolean(jget(dev, "applied")))
                        TEST_FAIL("device %s is not applied: %s", pci, json_object_to_json_string(dev));
                ASSERT_STREQ(json_object_get_string(jget(dev, "apply_state")), "applied");
                ASSERT_TRUE(get_device_bool(h, pci, "Applied"));
                state = get_device_string(h, pci, "ApplyState");
                ASSERT_STREQ(state, "applied");
        }
}

/* On the sim the reconciler's work is read back: "applied" is true once the
 * sim's tables equal the decision, after start-up and after each call. */
TEST(applied_on_sim) {
        Harness h;
        json_object *j;

        harness_start(&h, "basic.json");
        j = describe_json(&h);
        assert_all_applied(&h, j, 2);
        json_object_put(j);

        register_vm(&h, "web1", UUID1, "balanced");
        EXPECT_OK(&h, "AttachDevice", "sss", DEV1, "vm", UUID1);
        EXPECT_OK(&h, "AttachDevice", "sss", DEV2, "userspace", "");
        EXPECT_OK(&h, "VMEvent", "ss", UUID1, "start");
        j = describe_json(&h);
        assert_all_applied(&h, j, 4);
        json_object_put(j);

        EXPECT_OK(&h, "VMEvent", "ss", UUID1, "stopped");
        EXPECT_OK(&h, "DetachDevice", "s", DEV2);
        j = describe_json(&h);
        assert_all_applied(&h, j, 4);
        json_object_put(j);
        harness_stop(&h);
}

/* The pinning of vCPU v in Describe()'s VM object, as "c,c,..." ("" if not listed). */
static void describe_pinning(json_object *vm, uint32_t v, char *buf, size_t size) {
        json_object *pins = jget(vm, "pinning");

        buf[0] = 0;
        for (size_t i = 0; i < json_object_array_length(pins); i++) {
                json_object *p = json_object_array_get_idx(pins, i), *cpus;

                if ((uint32_t) json_object_get_int(jget(p, "vcpu")) != v)
                        continue;
                cpus = jget(p, "cpus");
                for (size_t k = 0; k < json_object_array_length(cpus); k++)
                        snprintf(buf + strlen(buf), size - strlen(buf), "%s%d", k ? "," : "",
                                 json_object_get_int(json_object_array_get_idx(cpus, k)));
        }
}

/* libvirt pins vCPUs to CPU sets (<vcpupin cpuset='2-3'>): kept as
 * registered, shown by Describe() and the VM's Pinning property, planned on
 * the first hart of the set, and kept across a restart. */
TEST(pinning_to_a_cpu_set) {
        Harness h;
        json_object *j, *vm;
        _cleanup_free_ char *vm_path = NULL;
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char buf[64];
        uint32_t vcpu;
        const uint32_t *cpus;
        size_t n;
        int rows = 0;

        harness_start(&h, NULL);
        /* vCPU 0 on CPUs 3 and 2 (any order), vCPU 1 on CPU 1, vCPU 2 floats */
        EXPECT_OK(&h, "RegisterVM", "ssua(uau)si", "web2", UUID2, 3, 2, 0, 2, 3, 2, 1, 1, 1, "balanced", 0);
        j = describe_json(&h);
        vm = find_by(jget(j, "vms"), "uuid", UUID2);
        ASSERT_NOT_NULL(vm);
        ASSERT_EQ(json_object_array_length(jget(vm, "pinning")), 2);
        describe_pinning(vm, 0, buf, sizeof(buf));
        ASSERT_STREQ(buf, "2,3");
        describe_pinning(vm, 1, buf, sizeof(buf));
        ASSERT_STREQ(buf, "1");
        json_object_put(j);

        ASSERT_OK(sd_bus_path_encode(RVMSI_BUS_VM_PREFIX, UUID2, &vm_path));
        ASSERT_OK(sd_bus_get_property(h.bus, RVMSI_BUS_NAME, vm_path, RVMSI_BUS_IFACE_VM, "Pinning", &e, &reply,
                                      "a(uau)"));
        ASSERT_OK(sd_bus_message_enter_container(reply, 'a', "(uau)"));
        while (sd_bus_message_enter_container(reply, 'r', "uau") > 0) {
                ASSERT_OK(sd_bus_message_read(reply, "u", &vcpu));
                ASSERT_OK(sd_bus_message_read_array(reply, 'u', (const void **) &cpus, &n));
                if (vcpu == 0) {
                        ASSERT_EQ(n, 2 * sizeof(uint32_t));
                        ASSERT_EQ(cpus[0], 2);
                        ASSERT_EQ(cpus[1], 3);
                } else {
                        ASSERT_EQ(vcpu, 1);
                        ASSERT_EQ(n, sizeof(uint32_t));
                        ASSERT_EQ(cpus[0], 1);
                }
                ASSERT_OK(sd_bus_message_exit_container(reply));
                rows++;
        }
        ASSERT_EQ(rows, 2);
        reply = sd_bus_message_unref(reply);

        /* running: the set's vCPU is planned on the set's first hart */
        EXPECT_OK(&h, "VMEvent", "ss", UUID2, "start");
        j = describe_json(&h);
        vm = find_by(jget(j, "vms"), "uuid", UUID2);
        ASSERT_EQ(json_object_get_int(jget(json_object_array_get_idx(jget(vm, "placement"), 0), "hart")), 2);
        ASSERT_EQ(json_object_get_int(jget(json_object_array_get_idx(jget(vm, "placement"), 1), "hart")), 1);
        json_object_put(j);

        /* a restart keeps the set */
        harness_stop_daemon(&h, SIGTERM);
        harness_start_daemon(&h);
        j = describe_json(&h);
        vm = find_by(jget(j, "vms"), "uuid", UUID2);
        ASSERT_NOT_NULL(vm);
        describe_pinning(vm, 0, buf, sizeof(buf));
        ASSERT_STREQ(buf, "2,3");
        json_object_put(j);

        /* a CPU twice in one set: refused, nothing changed */
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "RegisterVM", "ssua(uau)si", "web2", UUID2, 3, 1, 0, 2, 3,
                     3, "balanced", 0);
        harness_stop(&h);
}

typedef struct FaultSeen {
        unsigned n;
        char device[64];
        uint32_t cause;
        uint64_t address;
        char target[64];
} FaultSeen;

static int on_fault_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        FaultSeen *f = userdata;
        const char *device, *target;
        uint64_t time_us;

        ASSERT_OK(sd_bus_message_read(m, "sutst", &device, &f->cause, &f->address, &target, &time_us));
        snprintf(f->device, sizeof(f->device), "%s", device);
        snprintf(f->target, sizeof(f->target), "%s", target);
        ASSERT_TRUE(time_us > 0);
        f->n++;
        return 0;
}

/* A forged MSI on the sim, end to end over D-Bus: SimulateMSI() makes a
 * device write to a file its table does not map; the sim's IOMMU faults it
 * and the daemon reports it (Fault signal, FaultCount, Describe()). */
TEST(simulate_msi_fault) {
        Harness h;
        FaultSeen seen = {};
        sd_bus_slot *slot = NULL;
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *before = NULL, *after = NULL;
        const char *outcome;
        uint32_t cause;
        json_object *j, *f;

        harness_start(&h, NULL);
        /* a host device without IRQs: identity mode, no valid entry at all */
        EXPECT_OK(&h, "AttachDevice", "sss", DEV1, "host", "");
        ASSERT_EQ(get_u64_property(&h, "FaultCount"), 0);
        ASSERT_OK(sd_bus_match_signal(h.bus, &slot, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Fault",
                                      on_fault_signal, &seen));

        /* bad arguments and unknown devices change nothing */
        before = harness_describe(&h);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "SimulateMSI", "suuuu", "00:03.0", 0, 1, 0, 5);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "SimulateMSI", "suuuu", DEV1, 1, 1, 0, 5);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "SimulateMSI", "suuuu", DEV1, 0, 4, 0, 5);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "SimulateMSI", "suuuu", DEV1, 0, 1, 6, 5);
        EXPECT_ERROR(&h, RVMSI_BUS_ERROR_NO_SUCH_DEVICE, "SimulateMSI", "suuuu", "0000:00:1f.7", 0, 1, 0, 5);
        after = harness_describe(&h);
        ASSERT_STREQ(after, before);

        ASSERT_OK(call(&h, NULL, "SimulateMSI", &e, &reply, "suuuu", DEV1, 0, 1, 0, 5));
        ASSERT_OK(sd_bus_message_read(reply, "su", &outcome, &cause));
        ASSERT_STREQ(outcome, "fault");
        ASSERT_EQ(cause, 262);          /* MSI PTE not valid */
        reply = sd_bus_message_unref(reply);

        for (int i = 0; i < 500 && seen.n == 0; i++) {
                int r = sd_bus_process(h.bus, NULL);

                ASSERT_OK(r);
                if (r == 0)
                        ASSERT_OK(sd_bus_wait(h.bus, 10 * 1000));
        }
        ASSERT_EQ(seen.n, 1);
        ASSERT_STREQ(seen.device, DEV1);
        ASSERT_EQ(seen.cause, 262);
        ASSERT_TRUE(seen.address != 0);
        ASSERT_STREQ(seen.target, "hart:1");
        ASSERT_EQ(get_u64_property(&h, "FaultCount"), 1);

        j = describe_json(&h);
        ASSERT_EQ(json_object_array_length(jget(j, "faults")), 1);
        f = json_object_array_get_idx(jget(j, "faults"), 0);
        ASSERT_STREQ(json_object_get_string(jget(f, "device")), DEV1);
        ASSERT_EQ((uint64_t) json_object_get_int64(jget(f, "address")), seen.address);
        ASSERT_EQ(json_object_get_int(jget(find_by(jget(j, "devices"), "pci", DEV1), "faults")), 1);
        json_object_put(j);

        /* a guest file of the same hart: another address, another fault */
        ASSERT_OK(call(&h, NULL, "SimulateMSI", &e, &reply, "suuuu", DEV1, 0, 1, 2, 5));
        ASSERT_OK(sd_bus_message_read(reply, "su", &outcome, &cause));
        ASSERT_STREQ(outcome, "fault");
        reply = sd_bus_message_unref(reply);
        ASSERT_EQ(get_u64_property(&h, "FaultCount"), 2);

        sd_bus_slot_unref(slot);
        harness_stop(&h);
}

/* Is the rvmsi genl family in this kernel? Asked the way the daemon asks. */
static bool kernel_has_rvmsi(void) {
        struct nl_sock *sk = nl_socket_alloc();
        bool found = false;

        ASSERT_NOT_NULL(sk);
        if (genl_connect(sk) >= 0)
                found = genl_ctrl_resolve(sk, RVMSI_FAMILY_NAME) >= 0;
        nl_socket_free(sk);
        return found;
}

static bool name_released(const Harness *h, void *userdata) {
        return !name_has_owner_public(h);
}

/* --backend=kernel on a kernel without the rvmsi part: say so, exit
 * non-zero, never fall back to the sim. */
TEST(kernel_backend_absent) {
        Harness h;
        char buf[8192];
        size_t n = 0;
        int p[2], status;
        pid_t pid;

        /* a bus for it to (not) get to, without the harness's sim daemon */
        harness_start(&h, NULL);
        status = harness_stop_daemon(&h, SIGTERM);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* The bus releases the name when it sees the connection close, which may be a moment after the exit. */
        ASSERT_TRUE(harness_wait_for(&h, name_released, NULL, 5000));
        ASSERT_OK(pipe(p));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                char bus_arg[600];

                dup2(p[1], STDERR_FILENO);
                close(p[0]);
                close(p[1]);
                unsetenv("JOURNAL_STREAM");
                snprintf(bus_arg, sizeof(bus_arg), "--bus=%s", h.address);
                execl(getenv("RVMSID"), "rvmsid", "--backend=kernel", bus_arg, "--state=", "--config=/nonexistent",
                      (char *) NULL);
                _exit(127);
        }
        close(p[1]);
        if (kernel_has_rvmsi()) {
                /* the lab's kernel: it must come up on the kernel backend */
                _cleanup_free_ char *backend = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;

                for (int i = 0; i < 500; i++) {
                        if (sd_bus_get_property_string(h.bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER,
                                                       "Backend", &e, &backend) >= 0)
                                break;
                        sd_bus_error_free(&e);
                        usleep(20 * 1000);
                }
                ASSERT_STREQ(backend, "kernel");
                kill(pid, SIGTERM);
                ASSERT_EQ(waitpid(pid, &status, 0), pid);
                close(p[0]);
                harness_stop(&h);
                return;
        }
        for (;;) {
                ssize_t k = read(p[0], buf + n, sizeof(buf) - 1 - n);

                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = 0;
        close(p[0]);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 1);
        if (!strstr(buf, "no 'rvmsi' generic netlink family") || !strstr(buf, "--backend=sim"))
                TEST_FAIL("rvmsid did not say plainly why it stopped: %s", buf);
        /* and it did not take the name on the sim behind our back */
        ASSERT_FALSE(name_has_owner_public(&h));
        harness_stop(&h);
}

/* sd_notify: READY=1 once the name is taken, a STATUS= line, and
 * WATCHDOG=1 pings at half the interval systemd asks for. */
TEST(notify_and_watchdog) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        Harness h;
        bool ready = false, status = false;
        int fd, pings = 0, st;
        uint64_t start;

        harness_start(&h, NULL);
        st = harness_stop_daemon(&h, SIGTERM);
        ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        snprintf(h.notify_socket, sizeof(h.notify_socket), "%s/notify", h.dir);
        ASSERT_TRUE(strlen(h.notify_socket) < sizeof(sa.sun_path));
        strcpy(sa.sun_path, h.notify_socket);
        ASSERT_OK(bind(fd, (struct sockaddr *) &sa, sizeof(sa)));
        h.watchdog_usec = 200 * 1000;
        harness_start_daemon(&h);

        /* 200 ms watchdog: about 10 pings in the next second */
        start = (uint64_t) time(NULL);
        while (pings < 4 && (uint64_t) time(NULL) < start + 10) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                char buf[4096];
                ssize_t n;

                if (poll(&pfd, 1, 1000) <= 0)
                        continue;
                n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n <= 0)
                        continue;
                buf[n] = 0;
                for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                        if (streq(line, "READY=1"))
                                ready = true;
                        else if (strneq(line, "STATUS=", 7) && strstr(line, "sim backend"))
                                status = true;
                        else if (streq(line, "WATCHDOG=1"))
                                pings++;
                }
        }
        close(fd);
        ASSERT_TRUE(ready);
        ASSERT_TRUE(status);
        if (pings < 4)
                TEST_FAIL("only %d watchdog pings with WATCHDOG_USEC=200000", pings);
        harness_stop(&h);
}

/*
 * Under journald, log lines carry structured fields. journald is not
 * running here, so stand in for it: in a private mount namespace a tmpfs
 * on /run holds our own datagram socket at /run/systemd/journal/socket,
 * where sd_journal_send() writes the native protocol (KEY=value lines).
 */
static int journal_child(const Harness *h) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket" };
        bool device = false, mode = false, reason = false, priority = false;
        char scen[600], bus_arg[600];
        struct stat st;
        pid_t pid;
        int fd, status;
        time_t start;

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 || mkdir("/run/systemd", 0755) < 0 ||
            mkdir("/run/systemd/journal", 0755) < 0) {
                fprintf(stderr, "cannot set up a private /run: %m\n");
                return 100;
        }
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                fprintf(stderr, "cannot bind the journal socket: %m\n");
                return 101;
        }

        pid = fork();
        if (pid < 0)
                return 102;
        if (pid == 0) {
                char stream[64];

                /* what systemd sets for a service whose stderr is the journal */
                if (fstat(STDERR_FILENO, &st) < 0)
                        _exit(126);
                snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long) st.st_dev,
                         (unsigned long long) st.st_ino);
                setenv("JOURNAL_STREAM", stream, 1);
                snprintf(scen, sizeof(scen), "--scenario=%s/scenarios/basic.json", getenv("RVMSI_TEST_DATA"));
                snprintf(bus_arg, sizeof(bus_arg), "--bus=%s", h->address);
                execl(getenv("RVMSID"), "rvmsid", "--backend=sim", scen, bus_arg, "--state=",
                      "--config=/nonexistent", (char *) NULL);
                _exit(127);
        }

        start = time(NULL);
        while (!(device && mode && reason && priority) && time(NULL) < start + 20) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                char buf[65536];
                ssize_t n;

                if (poll(&pfd, 1, 500) <= 0)
                        continue;
                n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n <= 0)
                        continue;
                buf[n] = 0;
                /* one record: the decision for the VM's device */
                if (!strstr(buf, "RVMSI_DEVICE=0000:01:00.0\n") || !strstr(buf, "MESSAGE=Device '0000:01:00.0'"))
                        continue;
                device = true;
                mode = mode || strstr(buf, "RVMSI_MODE=guest-file\n");
                reason = reason || strstr(buf, "RVMSI_REASON=guest-file\n");
                priority = priority || strstr(buf, "PRIORITY=6\n");
        }
        kill(pid, SIGTERM);
        (void) waitpid(pid, &status, 0);
        if (!(device && mode && reason && priority)) {
                fprintf(stderr, "journal record incomplete: device=%d mode=%d reason=%d priority=%d\n", device, mode,
                        reason, priority);
                return 1;
        }
        return 0;
}

TEST(journal_fields) {
        Harness h;
        int status;
        pid_t pid;

        if (geteuid() != 0)
                TEST_FAIL("this test must run as root (private mount namespace)");
        harness_start(&h, NULL);
        status = harness_stop_daemon(&h, SIGTERM);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                h.bus = NULL;
                _exit(journal_child(&h));
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        if (WEXITSTATUS(status) != 0)
                TEST_FAIL("no complete structured journal record from rvmsid (status %d)", WEXITSTATUS(status));
        harness_stop(&h);
}

DEFINE_TEST_MAIN
