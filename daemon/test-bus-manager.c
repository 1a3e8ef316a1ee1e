/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The D-Bus objects without a bus daemon: rvmsid's Manager (sim backend, no
 * state) serves one end of a socketpair in a child process, the test talks
 * to it from the other end. Checks introspection, properties, a
 * registration with its object and signals, named errors, Describe and
 * DescribeSelected.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "backend-sim.h"
#include "bus-manager.h"
#include "bus-names.h"
#include "fileio.h"
#include "log.h"
#include "manager.h"
#include "tests.h"

#define UUID1 "6c0f7e2a-9d1e-4b55-8a57-0a2b6c1b9d01"

static pid_t server_pid;
static sd_bus *client;

#define FORGE_DEV "0000:00:05.0"

/* SIGUSR1 in the server: a device nobody owns (all entries blocked) writes
 * an MSI to hart 1's file, as a forged DMA would. The sim's IOMMU faults it
 * and the daemon must turn that into a Fault signal. */
static int on_forge(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        Sim *sim = backend_sim(m->backend);
        SimMsiResult res = {};
        uint64_t addr;

        ASSERT_NOT_NULL(sim);
        if (!model_find_device(sim_world(sim), FORGE_DEV))
                ASSERT_OK(sim_add_device(sim, FORGE_DEV, CAP_MSI_FLAT | CAP_MSI_MRIF));
        ASSERT_OK(sim_target_addr(sim, FORGE_DEV, TARGET_HART(1), &addr));
        ASSERT_OK(sim_msi_write(sim, FORGE_DEV, addr, 5, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_FAULT);
        return 0;
}

/* sd_event_add_signal() wants the signals the Manager handles blocked. */
static void block_manager_signals(void) {
        sigset_t ss;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigprocmask(SIG_BLOCK, &ss, NULL);
}

/* A small ceiling on Describe() replies, so a test can reach it with a few hundred VMs. */
#define TEST_DESCRIBE_MAX (64U * 1024U)

static void serve(int fd) {
        _cleanup_(manager_freep) Manager *m = NULL;
        ManagerConfig c = {
                .backend = BACKEND_KIND_SIM,
                .config_dir = "/nonexistent-rvmsi-config",
                .state_dir = "",
                .affinity = _AFFINITY_SOURCE_INVALID,
                .describe_max = TEST_DESCRIBE_MAX,
        };
        sd_id128_t id;
        sigset_t ss;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigaddset(&ss, SIGUSR1);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        ASSERT_OK(manager_new(&c, &m));
        ASSERT_OK(manager_startup(m));
        ASSERT_OK(sd_event_add_signal(m->event, NULL, SIGUSR1, on_forge, m));
        ASSERT_OK(sd_bus_new(&m->bus));
        ASSERT_OK(sd_bus_set_fd(m->bus, fd, fd));
        ASSERT_OK(sd_id128_randomize(&id));
        ASSERT_OK(sd_bus_set_server(m->bus, 1, id));
        ASSERT_OK(sd_bus_start(m->bus));
        ASSERT_OK(bus_manager_add_objects(m));
        ASSERT_OK(sd_bus_attach_event(m->bus, m->event, 0));
        ASSERT_OK(sd_bus_set_exit_on_disconnect(m->bus, true));
        ASSERT_OK(manager_run(m));
        m = manager_free(m);
        _exit(EXIT_SUCCESS);
}

static void setup(void) {
        int fds[2];

        if (client)
                return;
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
        server_pid = fork();
        ASSERT_TRUE(server_pid >= 0);
        if (server_pid == 0) {
                close(fds[0]);
                serve(fds[1]);
        }
        close(fds[1]);
        ASSERT_OK(sd_bus_new(&client));
        ASSERT_OK(sd_bus_set_fd(client, fds[0], fds[0]));
        ASSERT_OK(sd_bus_start(client));
}

static char *introspect(const char *path) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *xml;
        char *copy;

        setup();
        ASSERT_OK(sd_bus_call_method(client, NULL, path, "org.freedesktop.DBus.Introspectable", "Introspect",
                                     &error, &reply, NULL));
        ASSERT_OK(sd_bus_message_read(reply, "s", &xml));
        copy = strdup(xml);
        sd_bus_message_unref(reply);
        return copy;
}

TEST(introspect) {
        _cleanup_free_ char *xml = introspect(RVMSI_BUS_PATH);

        ASSERT_NOT_NULL(strstr(xml, RVMSI_BUS_IFACE_MANAGER));
        for (const char *const *name = (const char *const[]) { "RegisterVM", "UnregisterVM", "VMEvent",
                                                               "AttachDevice", "DetachDevice", "SetPolicy",
                                                               "GetPolicy", "CheckPolicy", "Reload", "Plan",
                                                               "Resync", "Describe", "DescribeSelected",
                                                               "Explain", "ListDevices",
                                                               "ListVMs", "Changed", "Fault", "Geometry",
                                                               "Degraded", "Status", NULL };
             *name; name++)
                if (!strstr(xml, *name))
                        TEST_FAIL("'%s' missing from the introspection data", *name);
        /* named arguments are part of the API */
        ASSERT_NOT_NULL(strstr(xml, "name=\"pinning\""));
}

TEST(properties) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        uint32_t groups, harts, guests, ids, gids;
        char *backend = NULL;

        setup();
        ASSERT_OK(sd_bus_get_property_string(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Backend",
                                             &error, &backend));
        ASSERT_STREQ(backend, "sim");
        free(backend);
        ASSERT_OK(sd_bus_get_property(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Geometry", &error,
                                      &reply, "(uuuuu)"));
        ASSERT_OK(sd_bus_message_read(reply, "(uuuuu)", &groups, &harts, &guests, &ids, &gids));
        /* the sim's default host, like the lab's QEMU */
        ASSERT_EQ(groups, 1);
        ASSERT_EQ(harts, 4);
        ASSERT_EQ(guests, 5);
        ASSERT_EQ(ids, 255);
        sd_bus_message_unref(reply);
}

static int changed_seen;

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *kind, *id, *what;

        if (sd_bus_message_read(m, "sss", &kind, &id, &what) >= 0 && streq(kind, "vm") && streq(id, UUID1))
                changed_seen++;
        return 0;
}

TEST(register_vm) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus_slot *slot = NULL;
        const char *path;
        char *state = NULL;
        uint32_t vcpus = 0;
        _cleanup_free_ char *xml = NULL;

        setup();
        ASSERT_OK(sd_bus_match_signal(client, &slot, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Changed",
                                      on_changed, NULL));

        /* a malformed UUID: named error, nothing registered */
        ASSERT_TRUE(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "RegisterVM", &error,
                                       NULL, "ssua(uau)si", "web1", "not-a-uuid", 2, 0, "strict", 0) < 0);
        ASSERT_STREQ(error.name, RVMSI_BUS_ERROR_INVALID_ARGUMENT);
        sd_bus_error_free(&error);

        ASSERT_OK(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "RegisterVM", &error,
                                     &reply, "ssua(uau)si", "web1", UUID1, 2, 1, 0, 1, 1, "strict", 0));
        ASSERT_OK(sd_bus_message_read(reply, "o", &path));
        ASSERT_STREQ(path, "/org/rvmsi/Manager1/vm/_36c0f7e2a_2d9d1e_2d4b55_2d8a57_2d0a2b6c1b9d01");
        ASSERT_OK(sd_bus_get_property_string(client, NULL, path, RVMSI_BUS_IFACE_VM, "State", &error, &state));
        ASSERT_STREQ(state, "defined");
        free(state);
        ASSERT_OK(sd_bus_get_property_trivial(client, NULL, path, RVMSI_BUS_IFACE_VM, "VCPUs", &error, 'u',
                                              &vcpus));
        ASSERT_EQ(vcpus, 2);

        /* the node enumerator lists it */
        xml = introspect(RVMSI_BUS_VM_PREFIX);
        ASSERT_NOT_NULL(strstr(xml, "_36c0f7e2a_2d9d1e_2d4b55_2d8a57_2d0a2b6c1b9d01"));
        sd_bus_message_unref(reply);

        /* an unknown VM object is not there */
        ASSERT_TRUE(sd_bus_get_property_string(client, NULL, RVMSI_BUS_VM_PREFIX "/nope", RVMSI_BUS_IFACE_VM,
                                               "State", &error, &state) < 0);
        sd_bus_error_free(&error);

        /* the Changed signal arrived */
        for (int i = 0; i < 200 && changed_seen == 0; i++) {
                int r = sd_bus_process(client, NULL);

                ASSERT_OK(r);
                if (r == 0)
                        ASSERT_OK(sd_bus_wait(client, 10 * 1000));
        }
        ASSERT_TRUE(changed_seen > 0);
        sd_bus_slot_unref(slot);
}

TEST(errors_and_describe) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        json_object *j, *vms;
        const char *json;

        setup();
        ASSERT_TRUE(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "VMEvent", &error,
                                       NULL, "ss", UUID1, "fly") < 0);
        ASSERT_STREQ(error.name, RVMSI_BUS_ERROR_INVALID_ARGUMENT);
        sd_bus_error_free(&error);
        ASSERT_TRUE(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "UnregisterVM",
                                       &error, NULL, "s", "00000000-0000-0000-0000-000000000000") < 0);
        ASSERT_STREQ(error.name, RVMSI_BUS_ERROR_NO_SUCH_VM);
        sd_bus_error_free(&error);
        ASSERT_TRUE(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Explain", &error,
                                       NULL, "ss", "0000:00:1f.7", "") < 0);
        ASSERT_STREQ(error.name, RVMSI_BUS_ERROR_NO_SUCH_DEVICE);
        sd_bus_error_free(&error);
        ASSERT_TRUE(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "SetPolicy", &error,
                                       NULL, "s", "{ not json") < 0);
        ASSERT_STREQ(error.name, RVMSI_BUS_ERROR_POLICY_INVALID);
        sd_bus_error_free(&error);

        ASSERT_OK(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Describe", &error,
                                     &reply, NULL));
        ASSERT_OK(sd_bus_message_read(reply, "s", &json));
        j = json_tokener_parse(json);
        ASSERT_NOT_NULL(j);
        ASSERT_TRUE(json_object_object_get_ex(j, "vms", &vms));
        ASSERT_EQ(json_object_array_length(vms), 1);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(json_object_array_get_idx(vms, 0), "uuid")),
                     UUID1);
        json_object_put(j);
        sd_bus_message_unref(reply);
}

static int fault_seen;

static int on_fault(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *dev, *target;
        uint32_t cause;
        uint64_t addr, time;

        ASSERT_OK(sd_bus_message_read(msg, "sutst", &dev, &cause, &addr, &target, &time));
        ASSERT_STREQ(dev, FORGE_DEV);
        ASSERT_EQ(cause, 262);
        ASSERT_STREQ(target, "hart:1");
        ASSERT_TRUE(time > 0);
        fault_seen++;
        return 0;
}

TEST(fault_signal) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_slot *slot = NULL;
        uint64_t count = 0;

        setup();
        ASSERT_OK(sd_bus_match_signal(client, &slot, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Fault",
                                      on_fault, NULL));
        ASSERT_OK(kill(server_pid, SIGUSR1));
        for (int i = 0; i < 500 && fault_seen == 0; i++) {
                int r = sd_bus_process(client, NULL);

                ASSERT_OK(r);
                if (r == 0)
                        ASSERT_OK(sd_bus_wait(client, 10 * 1000));
        }
        ASSERT_EQ(fault_seen, 1);
        ASSERT_OK(sd_bus_get_property_trivial(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "FaultCount",
                                              &error, 't', &count));
        ASSERT_EQ(count, 1);
        sd_bus_slot_unref(slot);
}

/* The sim answers operations synchronously, from inside the reconciler's
 * apply: those echoes must not schedule another run, and every device is
 * read back as applied right after the call. */
TEST(one_run_per_call) {
        _cleanup_(manager_freep) Manager *m = NULL;
        ManagerConfig c = {
                .backend = BACKEND_KIND_SIM,
                .config_dir = "/nonexistent-rvmsi-config",
                .state_dir = "",
                .affinity = _AFFINITY_SOURCE_INVALID,
        };
        PinSpec pins[1] = { { .vcpu = 0, .cpus = (uint32_t[]) { 1 }, .n_cpus = 1 } };
        Vector vectors[2] = { { .hart = 1, .vcpu = 0 }, { .hart = 2, .vcpu = 1 } };
        const DeviceState *s;
        ManagerError e = {};
        uint64_t runs, ops;

        block_manager_signals();
        ASSERT_OK(manager_new(&c, &m));
        ASSERT_OK(manager_startup(m));
        ASSERT_OK(manager_register_vm(m, true, "web1", UUID1, 2, pins, 1, "balanced", 0, &e));
        ASSERT_OK(manager_attach_device(m, true, "0000:00:03.0", "vm", UUID1, &e));
        /* the device sets up two IRQs (the world tells the daemon through events) */
        ASSERT_OK(sim_device_set_vectors(backend_sim(m->backend), "0000:00:03.0", 2, vectors));
        ASSERT_OK(manager_reconcile_now(m));
        runs = m->n_runs;
        ops = m->n_ops;
        ASSERT_OK(manager_vm_event(m, true, UUID1, "start", &e));
        /* the start took operations (a guest file, the device's mode) ... */
        ASSERT_TRUE(m->n_ops > ops);
        ASSERT_EQ(m->n_runs, runs + 1);
        /* ... and left nothing for another run */
        ASSERT_FALSE(reconciler_is_dirty(m->reconciler));
        s = manager_device_desired(m, "0000:00:03.0");
        ASSERT_NOT_NULL(s);
        ASSERT_EQ(s->n_entries, 2);
        ASSERT_EQ(s->apply_state, APPLY_DONE);
        ASSERT_EQ(manager_device_apply_state(m, "0000:00:03.0", NULL), APPLY_DONE);
}

static ino_t inode_of(const char *path) {
        struct stat st;

        ASSERT_OK(stat(path, &st));
        return st.st_ino;
}

/* A call saves the state before it replies; a vCPU move the backend reports
 * is written within MANAGER_SAVE_DELAY_USEC, once for a whole series, and on
 * a clean exit at the latest. */
TEST(placement_saved_later) {
        _cleanup_(manager_freep) Manager *m = NULL;
        char dir[] = "/tmp/rvmsi-test-save-XXXXXX", path[1024];
        ManagerConfig c = {
                .backend = BACKEND_KIND_SIM,
                .config_dir = "/nonexistent-rvmsi-config",
                .affinity = _AFFINITY_SOURCE_INVALID,
        };
        ManagerError e = {};
        _cleanup_free_ char *text = NULL;
        ino_t ino;
        Sim *sim;

        block_manager_signals();
        ASSERT_NOT_NULL(mkdtemp(dir));
        c.state_dir = dir;
        snprintf(path, sizeof(path), "%s/state.json", dir);
        ASSERT_OK(manager_new(&c, &m));
        ASSERT_OK(manager_startup(m));
        ASSERT_OK(manager_register_vm(m, true, "web1", UUID1, 2, NULL, 0, "balanced", 0, &e));
        ASSERT_OK(manager_vm_event(m, true, UUID1, "start", &e));
        ino = inode_of(path);   /* written (atomically: a new file) before the calls returned */

        /* KVM moves vCPU 0 around: the daemon follows at once, the file waits */
        sim = backend_sim(m->backend);
        for (uint32_t h = 0; h < 4; h++) {
                ASSERT_OK(sim_vcpu_move(sim, UUID1, 0, h));
                ASSERT_OK(manager_reconcile_now(m));
        }
        ASSERT_EQ(model_find_vm(m->model, UUID1)->vcpus[0].hart, 3);
        ASSERT_EQ(inode_of(path), ino);
        ASSERT_TRUE(m->state_dirty_later);

        /* within the delay it is written, once */
        for (int i = 0; i < 100 && m->state_dirty_later; i++)
                ASSERT_OK(sd_event_run(m->event, 50 * 1000));
        ASSERT_FALSE(m->state_dirty_later);
        ASSERT_TRUE(inode_of(path) != ino);
        ASSERT_OK(read_full_file(path, 1 << 20, &text, NULL));
        ASSERT_TRUE(strstr(text, "\"hart\": 3") != NULL);

        /* a move just before a clean exit is saved by the exit */
        ASSERT_OK(sim_vcpu_move(sim, UUID1, 0, 1));
        ASSERT_OK(manager_reconcile_now(m));
        ino = inode_of(path);
        ASSERT_EQ(manager_save_state(m), 1);
        ASSERT_TRUE(inode_of(path) != ino);
        ASSERT_EQ(manager_save_state(m), 0);   /* nothing left to write */

        m = manager_free(m);
        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));
}

/*
 * A Describe() reply too large for the bus is refused with a named error,
 * and the daemon stays on the bus: before, the reply itself took rvmsid off
 * it, at the request of any caller.
 */
TEST(describe_too_large_is_refused) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        unsigned n = 0;
        int r = 0;

        setup();
        for (; n < 2000; n++) {
                char name[32], uuid[40];

                snprintf(name, sizeof(name), "big%u", n);
                snprintf(uuid, sizeof(uuid), "7e570000-0000-4000-8000-%012u", n);
                ASSERT_OK(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "RegisterVM",
                                             &error, NULL, "ssua(uau)si", name, uuid, 1, 0, "balanced", 0));
                if (n % 16 != 15)
                        continue;
                r = sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Describe", &error,
                                       &reply, NULL);
                if (r < 0)
                        break;
                reply = sd_bus_message_unref(reply);
        }
        ASSERT_TRUE(r < 0);
        ASSERT_STREQ(error.name, RVMSI_BUS_ERROR_REPLY_TOO_LARGE);
        ASSERT_NOT_NULL(strstr(error.message, "ListDevices"));
        sd_bus_error_free(&error);

        /* Still on the bus and answering; smaller again, Describe() works. */
        for (unsigned i = 0; i <= n; i++) {
                char uuid[40];

                snprintf(uuid, sizeof(uuid), "7e570000-0000-4000-8000-%012u", i);
                ASSERT_OK(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "UnregisterVM",
                                             &error, NULL, "s", uuid));
        }
        ASSERT_OK(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Describe", &error,
                                     &reply, NULL));
        sd_bus_message_unref(reply);
}

/* ---- DescribeSelected() ---------------------------------------------------------------- */

/* The string a Manager method without arguments returns (Describe(), GetPolicy()), as a copy to free(). */
static char *call_for_string(const char *method) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *json;
        char *copy;

        ASSERT_OK(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, method, &error,
                                     &reply, NULL));
        ASSERT_OK(sd_bus_message_read(reply, "s", &json));
        copy = strdup(json);
        ASSERT_NOT_NULL(copy);
        sd_bus_message_unref(reply);
        return copy;
}

static char *describe_text(void) {
        return call_for_string("Describe");
}

/*
 * DescribeSelected() with the options as sd_bus_message_append() takes
 * "a{sv}": the number of entries, then key, variant type, value for each.
 * Returns the parsed document; or NULL with the error in *error.
 */
static json_object *describe_selected(sd_bus_error *error, ...) {
        sd_bus_message *call = NULL, *reply = NULL;
        json_object *j;
        const char *json;
        va_list ap;
        int r;

        ASSERT_OK(sd_bus_message_new_method_call(client, &call, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER,
                                                 "DescribeSelected"));
        va_start(ap, error);
        r = sd_bus_message_appendv(call, "a{sv}", ap);
        va_end(ap);
        ASSERT_OK(r);
        r = sd_bus_call(client, call, 0, error, &reply);
        sd_bus_message_unref(call);
        if (r < 0) {
                ASSERT_TRUE(sd_bus_error_is_set(error));
                return NULL;
        }
        ASSERT_OK(sd_bus_message_read(reply, "s", &json));
        j = json_tokener_parse(json);
        ASSERT_NOT_NULL(j);
        sd_bus_message_unref(reply);
        return j;
}

static void expect_error(sd_bus_error *error, const char *name, const char *in_message) {
        if (!streq_ptr(error->name, name) || !strstr(strempty(error->message), in_message))
                TEST_FAIL("expected %s with '%s', got %s: %s", name, in_message, error->name ?: "(null)",
                          error->message ?: "(null)");
        sd_bus_error_free(error);
}

/*
 * A policy with a NUL inside a string, or a key twice, was read as something else: the string cut short at the
 * NUL (so "fill1\u0000zzz" changed VM fill1's class), the last of the duplicates (so {"version":2,"version":1}
 * passed as version 1). Each is refused now, with the reason, and the policy stays as it was.
 */
TEST(policy_nul_and_duplicate_keys_refused) {
        static const struct {
                const char *json, *why;
        } cases[] = {
                { "{\"version\":1,\"vms\":[{\"vm\":\"fill1\\u0000zzz\",\"class\":\"strict\"}]}", "NUL character" },
                { "{\"version\":1,\"vms\":[{\"vm\":\"fill1\",\"class\":\"strict\\u0000bogus\"}]}", "NUL character" },
                { "{\"version\":2,\"version\":1}", "duplicate key \"version\"" },
                { "{\"version\":1,\"vms\":[{\"vm\":\"fill1\",\"class\":\"best-effort\",\"class\":\"strict\"}]}",
                  "duplicate key \"class\"" },
        };
        sd_bus_error error = SD_BUS_ERROR_NULL;

        setup();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *before = call_for_string("GetPolicy"), *after = NULL;

                ASSERT_TRUE(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "SetPolicy",
                                               &error, NULL, "s", cases[i].json) < 0);
                expect_error(&error, RVMSI_BUS_ERROR_POLICY_INVALID, cases[i].why);
                after = call_for_string("GetPolicy");
                ASSERT_STREQ(after, before);
        }
}

static json_object *get(json_object *o, const char *key) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v))
                TEST_FAIL("no '%s' in %s", key, json_object_to_json_string(o));
        return v;
}

static bool has(json_object *o, const char *key) {
        return json_object_object_get_ex(o, key, NULL);
}

static int64_t page_field(json_object *doc, const char *kind, const char *key) {
        return json_object_get_int64(get(get(get(doc, "page"), kind), key));
}

#define N_SEL_DEVICES 23

/* A paged read returns every device exactly once, in Describe()'s order and
 * with Describe()'s bytes; the same for VMs. */
TEST(describe_selected_pages) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *text = NULL;
        json_object *full, *all_devs, *all_vms;
        size_t n_devs, n_vms, seen;
        uint32_t offset;

        setup();
        for (unsigned i = 0; i < N_SEL_DEVICES; i++) {
                char pci[16];

                /* attached in an order that is not the sorted one */
                snprintf(pci, sizeof(pci), "0000:%02x:%02x.%u", 0x40 + (i * 7) % N_SEL_DEVICES, i % 32, i % 8);
                ASSERT_OK(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "AttachDevice",
                                             &error, NULL, "sss", pci, "host", ""));
        }
        for (unsigned i = 0; i < 5; i++) {
                char name[16], uuid[40];

                snprintf(name, sizeof(name), "sel%u", 4 - i);
                snprintf(uuid, sizeof(uuid), "5e1ec700-0000-4000-8000-%012u", i);
                ASSERT_OK(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "RegisterVM",
                                             &error, NULL, "ssua(uau)si", name, uuid, 2, 0, "balanced", 0));
        }

        text = describe_text();
        full = json_tokener_parse(text);
        ASSERT_NOT_NULL(full);
        all_devs = get(full, "devices");
        all_vms = get(full, "vms");
        n_devs = json_object_array_length(all_devs);
        n_vms = json_object_array_length(all_vms);
        ASSERT_TRUE(n_devs >= N_SEL_DEVICES);
        ASSERT_TRUE(n_vms >= 6);

        /* No options: the whole document, plus "page" at the end. */
        {
                json_object *j = describe_selected(&error, 0);

                ASSERT_NOT_NULL(j);
                ASSERT_TRUE(json_object_equal(get(j, "devices"), all_devs));
                ASSERT_TRUE(json_object_equal(get(j, "vms"), all_vms));
                ASSERT_TRUE(json_object_equal(get(j, "policy"), get(full, "policy")));
                ASSERT_EQ(page_field(j, "devices", "total"), (int64_t) n_devs);
                ASSERT_EQ(page_field(j, "devices", "count"), (int64_t) n_devs);
                ASSERT_FALSE(has(get(get(j, "page"), "devices"), "next_offset"));
                json_object_object_del(j, "page");
                ASSERT_TRUE(json_object_equal(j, full));
                json_object_put(j);
        }

        /* Pages of 4 devices: each device once, in order, as Describe() has it. */
        seen = 0;
        offset = 0;
        for (unsigned pages = 0;; pages++) {
                json_object *j = describe_selected(&error, 3, "device_offset", "u", offset, "device_limit", "u", 4,
                                                   "sections", "as", 1, "devices");
                json_object *devs, *p;

                ASSERT_NOT_NULL(j);
                ASSERT_TRUE(pages <= n_devs / 4);
                /* only what was asked for */
                ASSERT_FALSE(has(j, "vms"));
                ASSERT_FALSE(has(j, "policy"));
                ASSERT_FALSE(has(j, "unsatisfied"));
                devs = get(j, "devices");
                p = get(get(j, "page"), "devices");
                ASSERT_EQ(json_object_get_int64(get(p, "total")), (int64_t) n_devs);
                ASSERT_EQ(json_object_get_int64(get(p, "offset")), (int64_t) offset);
                ASSERT_EQ(json_object_get_int64(get(p, "count")), (int64_t) json_object_array_length(devs));
                ASSERT_TRUE(json_object_array_length(devs) >= 1 && json_object_array_length(devs) <= 4);
                for (size_t i = 0; i < json_object_array_length(devs); i++, seen++)
                        ASSERT_TRUE(json_object_equal(json_object_array_get_idx(devs, i),
                                                      json_object_array_get_idx(all_devs, seen)));
                if (!has(p, "next_offset")) {
                        ASSERT_EQ(seen, n_devs);
                        json_object_put(j);
                        break;
                }
                ASSERT_EQ(json_object_get_int64(get(p, "next_offset")), (int64_t) seen);
                ASSERT_EQ(json_object_array_length(devs), 4);
                offset = (uint32_t) json_object_get_int64(get(p, "next_offset"));
                json_object_put(j);
        }
        ASSERT_EQ(seen, n_devs);

        /* VMs, two at a time, by name */
        seen = 0;
        offset = 0;
        for (;;) {
                json_object *j = describe_selected(&error, 3, "vm_offset", "u", offset, "vm_limit", "u", 2,
                                                   "sections", "as", 1, "vms");
                json_object *vms, *p;

                ASSERT_NOT_NULL(j);
                ASSERT_FALSE(has(j, "devices"));
                vms = get(j, "vms");
                p = get(get(j, "page"), "vms");
                ASSERT_EQ(json_object_get_int64(get(p, "total")), (int64_t) n_vms);
                for (size_t i = 0; i < json_object_array_length(vms); i++, seen++)
                        ASSERT_TRUE(json_object_equal(json_object_array_get_idx(vms, i),
                                                      json_object_array_get_idx(all_vms, seen)));
                if (!has(p, "next_offset")) {
                        json_object_put(j);
                        break;
                }
                offset = (uint32_t) json_object_get_int64(get(p, "next_offset"));
                json_object_put(j);
        }
        ASSERT_EQ(seen, n_vms);

        /* Past the end: an empty page, not an error (the host may have shrunk between pages). */
        {
                json_object *j = describe_selected(&error, 1, "device_offset", "u", (uint32_t) n_devs + 5);

                ASSERT_NOT_NULL(j);
                ASSERT_EQ(json_object_array_length(get(j, "devices")), 0);
                ASSERT_EQ(page_field(j, "devices", "count"), 0);
                ASSERT_EQ(page_field(j, "devices", "offset"), (int64_t) n_devs + 5);
                ASSERT_FALSE(has(get(get(j, "page"), "devices"), "next_offset"));
                json_object_put(j);
        }
        json_object_put(full);
}

TEST(describe_selected_filters) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        json_object *j, *a;
        const char *first, *second;
        _cleanup_free_ char *text = NULL;
        json_object *full;

        setup();
        text = describe_text();
        full = json_tokener_parse(text);
        ASSERT_NOT_NULL(full);
        first = json_object_get_string(get(json_object_array_get_idx(get(full, "devices"), 3), "pci"));
        second = json_object_get_string(get(json_object_array_get_idx(get(full, "devices"), 9), "pci"));

        /* named devices: in the document's order whatever the order asked, each once */
        j = describe_selected(&error, 2, "devices", "as", 3, second, first, second, "sections", "as", 2, "devices",
                              "unsatisfied");
        ASSERT_NOT_NULL(j);
        a = get(j, "devices");
        ASSERT_EQ(json_object_array_length(a), 2);
        ASSERT_TRUE(json_object_equal(json_object_array_get_idx(a, 0),
                                      json_object_array_get_idx(get(full, "devices"), 3)));
        ASSERT_STREQ(json_object_get_string(get(json_object_array_get_idx(a, 1), "pci")), second);
        ASSERT_EQ(page_field(j, "devices", "total"), 2);
        ASSERT_TRUE(has(j, "unsatisfied"));
        ASSERT_FALSE(has(j, "daemon"));
        json_object_put(j);

        /* named VMs, by UUID (any case) and by name */
        j = describe_selected(&error, 1, "vms", "as", 2, "sel3", "6C0F7E2A-9D1E-4B55-8A57-0A2B6C1B9D01");
        ASSERT_NOT_NULL(j);
        a = get(j, "vms");
        ASSERT_EQ(json_object_array_length(a), 2);
        ASSERT_STREQ(json_object_get_string(get(json_object_array_get_idx(a, 0), "name")), "sel3");
        ASSERT_STREQ(json_object_get_string(get(json_object_array_get_idx(a, 1), "uuid")), UUID1);
        ASSERT_EQ(page_field(j, "vms", "total"), 2);
        /* the device filter is not the VM filter: every device is there */
        ASSERT_TRUE(json_object_equal(get(j, "devices"), get(full, "devices")));
        json_object_put(j);

        /* an empty list selects nothing; no sections leaves only "version" and "page" */
        j = describe_selected(&error, 2, "vms", "as", 0, "sections", "as", 1, "vms");
        ASSERT_NOT_NULL(j);
        ASSERT_EQ(json_object_array_length(get(j, "vms")), 0);
        ASSERT_EQ(page_field(j, "vms", "total"), 0);
        json_object_put(j);
        j = describe_selected(&error, 1, "sections", "as", 0);
        ASSERT_NOT_NULL(j);
        ASSERT_EQ(json_object_object_length(j), 2);
        ASSERT_TRUE(has(j, "version"));
        ASSERT_EQ(page_field(j, "devices", "total"),
                  (int64_t) json_object_array_length(get(full, "devices")));
        ASSERT_TRUE(has(get(j, "page"), "generation"));
        json_object_put(j);

        /* "host" alone, and the sections keep the document's order whatever order they are asked in */
        j = describe_selected(&error, 1, "sections", "as", 3, "faults", "host", "daemon");
        ASSERT_NOT_NULL(j);
        ASSERT_TRUE(json_object_equal(get(j, "host"), get(full, "host")));
        {
                const char *want[] = { "version", "daemon", "host", "faults", "page" };
                size_t i = 0;

                json_object_object_foreach(j, key, val) {
                        (void) val;
                        ASSERT_TRUE(i < ELEMENTSOF(want));
                        ASSERT_STREQ(key, want[i++]);
                }
                ASSERT_EQ(i, ELEMENTSOF(want));
        }
        json_object_put(j);
        json_object_put(full);
}

/* Bad options: a named error that says which, and nothing changes. */
TEST(describe_selected_errors) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *before = NULL, *after = NULL;
        uint64_t gen_before = 0, gen_after = 0;

        setup();
        before = describe_text();
        ASSERT_OK(sd_bus_get_property_trivial(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER,
                                              "PolicyGeneration", &error, 't', &gen_before));

        ASSERT_TRUE(describe_selected(&error, 1, "device_limt", "u", 5) == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "'device_limt'");
        ASSERT_TRUE(describe_selected(&error, 1, "device_limit", "s", "5") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "'device_limit' must be of type 'u', not 's'");
        ASSERT_TRUE(describe_selected(&error, 1, "devices", "s", "0000:00:03.0") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "'devices' must be of type 'as'");
        ASSERT_TRUE(describe_selected(&error, 1, "vm_offset", "t", (uint64_t) 1) == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "'vm_offset'");
        ASSERT_TRUE(describe_selected(&error, 2, "vm_limit", "u", 1, "vm_limit", "u", 2) == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "'vm_limit' given more than once");
        ASSERT_TRUE(describe_selected(&error, 1, "device_limit", "u", 0) == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "'device_limit' must be at least 1");
        ASSERT_TRUE(describe_selected(&error, 1, "vm_limit", "u", 0) == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "'vm_limit' must be at least 1");
        ASSERT_TRUE(describe_selected(&error, 1, "sections", "as", 2, "devices", "everything") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "unknown section 'everything'");
        ASSERT_TRUE(describe_selected(&error, 1, "devices", "as", 1, "00:03.0") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "invalid PCI address '00:03.0'");
        ASSERT_TRUE(describe_selected(&error, 1, "devices", "as", 1, "0000:00:03.0/") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "invalid PCI address");
        ASSERT_TRUE(describe_selected(&error, 1, "vms", "as", 1, "") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "neither a UUID nor a VM name");

        /* well-formed, but not there; a bad form is reported before a missing name */
        ASSERT_TRUE(describe_selected(&error, 1, "devices", "as", 1, "0000:1f:1f.7") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_NO_SUCH_DEVICE, "no device '0000:1f:1f.7'");
        ASSERT_TRUE(describe_selected(&error, 2, "devices", "as", 1, "0000:1f:1f.7", "sections", "as", 1, "x") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT, "unknown section 'x'");
        ASSERT_TRUE(describe_selected(&error, 1, "vms", "as", 1, "nosuchvm") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_NO_SUCH_VM, "no VM named 'nosuchvm'");
        ASSERT_TRUE(describe_selected(&error, 1, "vms", "as", 2, "web1", "00000000-0000-4000-8000-0000000000AA") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_NO_SUCH_VM, "no VM with UUID '00000000-0000-4000-8000-0000000000aa'");

        after = describe_text();
        ASSERT_STREQ(before, after);
        ASSERT_OK(sd_bus_get_property_trivial(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER,
                                              "PolicyGeneration", &error, 't', &gen_after));
        ASSERT_EQ(gen_before, gen_after);
}

/* A selection still over the reply limit is refused, and says what to lower. */
TEST(describe_selected_too_large) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *huge_uuid = "b16b16b1-0000-4000-8000-000000000001";
        json_object *j;

        setup();
        /* every vCPU is a "placement" entry: one VM alone is more than TEST_DESCRIBE_MAX */
        ASSERT_OK(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "RegisterVM", &error,
                                     NULL, "ssua(uau)si", "huge", huge_uuid, 1024, 0, "balanced", 0));

        ASSERT_TRUE(describe_selected(&error, 0) == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_REPLY_TOO_LARGE, "'vm_limit'");
        ASSERT_TRUE(describe_selected(&error, 1, "vms", "as", 1, "huge") == NULL);
        expect_error(&error, RVMSI_BUS_ERROR_REPLY_TOO_LARGE, "more than the 65536 a reply may carry");
        ASSERT_TRUE(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Describe", &error,
                                       NULL, NULL) < 0);
        expect_error(&error, RVMSI_BUS_ERROR_REPLY_TOO_LARGE, "DescribeSelected()");

        /* the rest of the host reads in pages around it; the daemon stays on the bus */
        j = describe_selected(&error, 2, "vms", "as", 1, "web1", "sections", "as", 1, "vms");
        ASSERT_NOT_NULL(j);
        ASSERT_EQ(json_object_array_length(get(j, "vms")), 1);
        json_object_put(j);
        j = describe_selected(&error, 2, "device_limit", "u", 8, "sections", "as", 2, "devices", "policy");
        ASSERT_NOT_NULL(j);
        ASSERT_EQ(page_field(j, "devices", "count"), 8);
        json_object_put(j);

        ASSERT_OK(sd_bus_call_method(client, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "UnregisterVM", &error,
                                     NULL, "s", huge_uuid));
        j = describe_selected(&error, 0);
        ASSERT_NOT_NULL(j);
        json_object_put(j);
}

TEST(zz_shutdown) {
        int status;

        setup();
        client = sd_bus_flush_close_unref(client);
        ASSERT_EQ(waitpid(server_pid, &status, 0), server_pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
}

DEFINE_TEST_MAIN
