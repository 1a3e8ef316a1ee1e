/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Manager without the bus, on random small sim hosts where guest files are scarce: what it decides locally
 * (to stay cheap on large hosts) must be what a computation over the whole model decides.
 *
 *   - IsolationUnsatisfiable for VMEvent(start|prepare|migrate-in-prepare) and AttachDevice() to an active VM is
 *     checked on a scratch model of the VM's neighbourhood; the oracle here is a full copy of the model, solved
 *     in full, exactly as the Manager once did it: same answer, same message.
 *   - After every settled event, the Manager's record of emitted decisions (last_desired, kept up to date from
 *     the devices each run recomputed) equals the reconciler's decisions, and a full plan of the current model
 *     against the backend is empty: the backend has converged even where the Manager skipped a run for an echo.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "backend-sim.h"
#include "describe.h"
#include "bus-names.h"
#include "json-util.h"
#include "log.h"
#include "manager.h"
#include "state.h"
#include "test-common.h"

DEFINE_TEST_MAIN

#define N_VMS 6
#define N_DEVICES 10

static const char *const classes[] = { "strict", "balanced", "performance" };
static const char *const states[] = { "running", "defined", "stopped" };

static void vm_uuid(unsigned i, char buf[static UUID_STRING_MAX]) {
        (void) snprintf(buf, UUID_STRING_MAX, "55555555-0000-4000-8000-%012x", i);
}

static void device_name(unsigned i, char buf[static DEVICE_NAME_MAX]) {
        (void) snprintf(buf, DEVICE_NAME_MAX, "0000:%02x:00.0", 0x40 + i);
}

static json_object *random_scenario(uint64_t *rng, uint32_t *ret_vcpus) {
        json_object *root = json_object_new_object(), *geo = json_object_new_object(),
                    *policy = json_object_new_object(), *vms = json_object_new_array(),
                    *devs = json_object_new_array();
        uint32_t harts = 3 + (uint32_t) (test_rand(rng) % 2), guests = 1 + (uint32_t) (test_rand(rng) % 2);

        ASSERT_TRUE(root && geo && policy && vms && devs);
        json_object_object_add(root, "version", json_object_new_int(1));
        json_object_object_add(geo, "groups", json_object_new_int(1));
        json_object_object_add(geo, "harts", json_object_new_int((int) harts));
        json_object_object_add(geo, "guest_files", json_object_new_int((int) guests));
        json_object_object_add(geo, "ids", json_object_new_int(255));
        json_object_object_add(root, "geometry", geo);
        json_object_object_add(policy, "version", json_object_new_int(1));
        json_object_object_add(policy, "mrif_fallback", json_object_new_boolean(test_rand(rng) % 2));
        json_object_object_add(root, "policy", policy);

        for (unsigned i = 0; i < N_VMS; i++) {
                json_object *vm = json_object_new_object(), *placement = json_object_new_array();
                char u[UUID_STRING_MAX], name[16];

                vm_uuid(i, u);
                (void) snprintf(name, sizeof(name), "v%u", i);
                ret_vcpus[i] = 1 + (uint32_t) (test_rand(rng) % 3);
                json_object_object_add(vm, "uuid", json_object_new_string(u));
                json_object_object_add(vm, "name", json_object_new_string(name));
                json_object_object_add(vm, "vcpus", json_object_new_int((int) ret_vcpus[i]));
                json_object_object_add(vm, "state", json_object_new_string(states[test_rand(rng) % 3]));
                json_object_object_add(vm, "class", json_object_new_string(classes[test_rand(rng) % 3]));
                json_object_object_add(vm, "priority", json_object_new_int((int) (test_rand(rng) % 3)));
                for (uint32_t v = 0; v < ret_vcpus[i]; v++)
                        json_object_array_add(placement, test_rand(rng) % 5 == 0 ? NULL :
                                              json_object_new_int((int) (test_rand(rng) % harts)));
                json_object_object_add(vm, "placement", placement);
                json_object_array_add(vms, vm);
        }
        json_object_object_add(root, "vms", vms);

        for (unsigned i = 0; i < N_DEVICES; i++) {
                json_object *d = json_object_new_object(), *caps = json_object_new_array(),
                            *vectors = json_object_new_array();
                unsigned owner = (unsigned) (test_rand(rng) % (N_VMS + 2));
                uint32_t nv = 1 + (uint32_t) (test_rand(rng) % 3);
                char name[DEVICE_NAME_MAX];

                device_name(i, name);
                json_object_object_add(d, "name", json_object_new_string(name));
                if (test_rand(rng) % 8 != 0)
                        json_object_array_add(caps, json_object_new_string("msi-flat"));
                if (test_rand(rng) % 2)
                        json_object_array_add(caps, json_object_new_string("msi-mrif"));
                if (test_rand(rng) % 4 != 0)
                        json_object_array_add(caps, json_object_new_string("guest-file"));
                json_object_object_add(d, "caps", caps);
                if (owner < N_VMS) {
                        char u[UUID_STRING_MAX];

                        vm_uuid(owner, u);
                        json_object_object_add(d, "owner", json_object_new_string("vm"));
                        json_object_object_add(d, "vm", json_object_new_string(u));
                } else
                        json_object_object_add(d, "owner", json_object_new_string("host"));
                if (test_rand(rng) % 6 == 0)
                        json_object_object_add(d, "locked", json_object_new_boolean(true));
                for (uint32_t k = 0; k < nv; k++) {
                        json_object *v = json_object_new_object();

                        json_object_object_add(v, "hart", json_object_new_int((int) (test_rand(rng) % harts)));
                        if (owner < N_VMS)
                                json_object_object_add(v, "vcpu", json_object_new_int(
                                                               (int) (test_rand(rng) % ret_vcpus[owner])));
                        json_object_array_add(vectors, v);
                }
                json_object_object_add(d, "vectors", vectors);
                json_object_array_add(devs, d);
        }
        json_object_object_add(root, "devices", devs);
        return root;
}

static Manager *start(const char *scenario_path) {
        Manager *m = NULL;
        ManagerConfig c = {
                .backend = BACKEND_KIND_SIM,
                .scenario = scenario_path,
                .config_dir = "/nonexistent-rvmsi-config",
                .state_dir = "",
                .affinity = _AFFINITY_SOURCE_INVALID,
        };

        sigset_t ss;

        /* sd-event takes these signals through a signalfd: they must be blocked. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        ASSERT_OK(sigprocmask(SIG_BLOCK, &ss, NULL));
        /* A line per decision of thousands of events would bury a failure. */
        (void) setenv("RVMSI_LOG_LEVEL", "warning", 0);
        log_setup();
        ASSERT_OK(manager_new(&c, &m));
        ASSERT_OK(manager_startup(m));
        return m;
}

/* Run the loop until nothing is pending and the reconciler is clean. */
static void settle(Manager *m) {
        for (int i = 0; i < 1000; i++) {
                int r = sd_event_run(m->event, 0);

                ASSERT_TRUE(r >= 0);
                if (r == 0 && !reconciler_is_dirty(m->reconciler))
                        return;
        }
        TEST_FAIL("the event loop does not settle");
}

/* A Manager on a fresh random host (written to a scenario file only for the start), settled. */
static Manager *start_random(uint64_t *rng, uint32_t vcpus[static N_VMS]) {
        char dir[] = "/tmp/rvmsi-test-manager-XXXXXX", path[64];
        json_object *sc;
        Manager *m;

        ASSERT_NOT_NULL(mkdtemp(dir));
        (void) snprintf(path, sizeof(path), "%s/host.json", dir);
        sc = random_scenario(rng, vcpus);
        ASSERT_TRUE(json_object_to_file_ext(path, sc, JSON_C_TO_STRING_PLAIN) >= 0);
        json_object_put(sc);
        m = start(path);
        settle(m);
        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));
        return m;
}

/*
 * The IsolationUnsatisfiable check as the Manager did it before it looked at the VM's neighbourhood only: copy
 * the whole model, apply the change, solve everything. Returns 1 and the message if the VM would be left with an
 * unmet requirement.
 */
static int oracle(Manager *m, const char *uuid, bool activate, VmState next, const char *attach, char **ret) {
        _cleanup_(model_freep) Model *c = NULL;
        _cleanup_(desired_freep) Desired *d = NULL;
        Vm *vm;

        ASSERT_OK(model_copy(m->model, &c));
        vm = model_find_vm(c, uuid);
        ASSERT_NOT_NULL(vm);
        if (activate) {
                ASSERT_OK(model_vm_set_state(c, vm, next));
                for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
                        uint32_t h = model_vcpu_pin_plan_hart(c, vm, i);

                        if (h != NO_HART && vm->vcpus[i].hart != h)
                                ASSERT_OK(model_vcpu_place(c, vm, i, h));
                }
        }
        if (attach) {
                Device *sd = model_find_device(c, attach);

                if (!sd)
                        ASSERT_OK(model_add_device(c, attach, 0, &sd));
                ASSERT_OK(model_device_set_owner(c, sd, OWNER_VM, uuid));
        }
        ASSERT_OK(solver_compute(c, m->policy, &d));
        for (size_t i = 0; i < c->n_devices; i++) {
                const Device *dev = c->devices[i];
                const DeviceState *s;

                if (dev->owner != OWNER_VM || !streq(dev->owner_vm, uuid))
                        continue;
                s = device_table_find(&d->devices, dev->name);
                if (s && s->violation) {
                        _cleanup_free_ char *text = NULL;

                        ASSERT_OK(solver_explain(c, m->policy, s, NULL, &text));
                        ASSERT_TRUE(asprintf(ret, "device '%s' of VM '%s': %s", dev->name, uuid, text) >= 0);
                        return 1;
                }
        }
        return 0;
}

static void assert_same_answer(int r, const ManagerError *e, int expect, const char *message) {
        if (expect) {
                ASSERT_EQ(r, -EPERM);
                ASSERT_EQ(e->code, MERR_ISOLATION_UNSATISFIABLE);
                ASSERT_STREQ(e->message, message);
        } else if (r < 0)
                ASSERT_NE(e->code, MERR_ISOLATION_UNSATISFIABLE);
}

/* What the Manager emitted last equals the reconciler's decisions, and the backend has a full solve's plan done. */
static void assert_consistent(Manager *m) {
        const Desired *d = reconciler_desired(m->reconciler);
        _cleanup_(desired_freep) Desired *full = NULL;
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL;

        ASSERT_NOT_NULL(d);
        ASSERT_NOT_NULL(m->last_desired);
        ASSERT_EQ(m->last_desired->n_devices, d->devices.n_devices);
        for (size_t i = 0; i < d->devices.n_devices; i++) {
                const DeviceState *s = &d->devices.devices[i];
                const DeviceState *o = device_table_find(m->last_desired, s->name);

                if (!o)
                        TEST_FAIL("no emitted decision for '%s'", s->name);
                ASSERT_EQ(o->mode, s->mode);
                ASSERT_EQ(o->reason, s->reason);
                ASSERT_EQ(o->violation, s->violation);
                ASSERT_EQ(o->isolation, s->isolation);
                ASSERT_EQ(o->apply_state, s->apply_state);
                ASSERT_EQ(o->apply_error, s->apply_error);
                ASSERT_EQ(o->n_entries, s->n_entries);
                for (uint32_t j = 0; j < s->n_entries; j++) {
                        ASSERT_EQ(o->entries[j].target, s->entries[j].target);
                        ASSERT_TRUE(entry_same_destination(&o->entries[j], &s->entries[j]));
                        ASSERT_EQ(o->entries[j].reason, s->entries[j].reason);
                        ASSERT_EQ(o->entries[j].refcount, s->entries[j].refcount);
                }
        }

        /* The incremental decisions are a full solve's, and the backend holds them. */
        ASSERT_OK(solver_compute(m->model, m->policy, &full));
        a = test_desired_string(d);
        b = test_desired_string(full);
        ASSERT_STREQ(a, b);
        ASSERT_OK(reconciler_plan(m->reconciler, &plan));
        if (plan->n_ops != 0)
                TEST_FAIL("%zu operations left for a full plan after the Manager settled", plan->n_ops);
}

/* The state file's text is the document state_to_json() builds, and reads back as the state it was made from. */
static void assert_state_text_of(const State *st, bool read_back) {
        _cleanup_(state_freep) State *back = NULL;
        _cleanup_json_ json_object *o = NULL, *parsed = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL;
        JsonError je = {};
        size_t len;

        ASSERT_OK(state_to_json(st, &o));
        ASSERT_OK(state_to_text(st, &text, &len));
        ASSERT_EQ(len, strlen(text));
        parsed = json_tokener_parse(text);
        ASSERT_NOT_NULL(parsed);
        if (!json_object_equal(o, parsed))
                TEST_FAIL("state_to_text() differs from state_to_json():\n%s\n%s", text,
                          json_object_to_json_string(o));
        if (!read_back)
                return;
        ASSERT_OK(state_from_json(parsed, &back, &je));
        ASSERT_OK(state_to_json(back, &again));
        ASSERT_TRUE(json_object_equal(o, again));
}

static void assert_state_text(const Model *model) {
        _cleanup_(state_freep) State *st = NULL;

        ASSERT_OK(state_capture(model, NULL, &st));
        if (st->n_vms > 0) {
                /* The lowest priority there is: a sign and four digits. */
                st->vms[0].priority_set = true;
                st->vms[0].priority = -1000;
        }
        assert_state_text_of(st, true);
        if (st->n_devices > 0) {
                /* Strings the validators refuse (so the state would not load) still come out as valid JSON. */
                free(st->devices[0].label);
                st->devices[0].label = strdup("a\"b\\c\x01d/\xc3\xa9\n");
                ASSERT_NOT_NULL(st->devices[0].label);
                assert_state_text_of(st, false);
        }
}

/* Devices the model dropped during the random events (their "removed" path must be exercised). */
static unsigned n_dropped;

static const char *const events[] = {
        RVMSI_VM_EVENT_START, RVMSI_VM_EVENT_PREPARE, RVMSI_VM_EVENT_MIGRATE_IN_PREPARE, RVMSI_VM_EVENT_STOPPED,
        RVMSI_VM_EVENT_MIGRATE_OUT_BEGIN, RVMSI_VM_EVENT_MIGRATE_DONE, RVMSI_VM_EVENT_RELEASE,
};

static void one_host(uint64_t seed, unsigned steps, unsigned *n_checked, unsigned *n_refused) {
        _cleanup_(manager_freep) Manager *m = NULL;
        uint32_t vcpus[N_VMS];
        uint64_t rng = seed;

        m = start_random(&rng, vcpus);
        assert_consistent(m);
        assert_state_text(m->model);

        for (unsigned step = 0; step < steps; step++) {
                Sim *sim = backend_sim(m->backend);
                unsigned i = (unsigned) (test_rand(&rng) % N_VMS);
                char u[UUID_STRING_MAX], name[DEVICE_NAME_MAX];
                ManagerError e = {};
                _cleanup_free_ char *message = NULL;
                Vm *vm;
                int r, expect;

                size_t n_devices = m->model->n_devices;

                vm_uuid(i, u);
                vm = model_find_vm(m->model, u);
                switch (test_rand(&rng) % 7) {
                case 0:
                case 1: {
                        const char *ev = events[test_rand(&rng) % ELEMENTSOF(events)];
                        bool activate;
                        VmState next;

                        if (!vm) {
                                char vname[16];

                                (void) snprintf(vname, sizeof(vname), "v%u", i);
                                ASSERT_OK(manager_register_vm(m, true, vname, u, vcpus[i], NULL, 0,
                                                              classes[test_rand(&rng) % 3], 0, &e));
                                break;
                        }
                        next = streq(ev, RVMSI_VM_EVENT_MIGRATE_IN_PREPARE) ? VM_MIGRATING_IN : VM_RUNNING;
                        activate = !vm_state_is_active(vm->state) &&
                                (streq(ev, RVMSI_VM_EVENT_START) || streq(ev, RVMSI_VM_EVENT_PREPARE) ||
                                 streq(ev, RVMSI_VM_EVENT_MIGRATE_IN_PREPARE));
                        expect = activate ? oracle(m, u, true, next, NULL, &message) : 0;
                        r = manager_vm_event(m, false, u, ev, &e);
                        assert_same_answer(r, &e, expect, message);
                        if (activate) {
                                (*n_checked)++;
                                *n_refused += expect;
                        }
                        if (r >= 0) {
                                uint64_t runs = m->n_runs;

                                ASSERT_OK(manager_vm_event(m, true, u, ev, &e));
                                /* The call's own run takes everything: the loop has none left to do. */
                                settle(m);
                                ASSERT_TRUE(m->n_runs <= runs + 1);
                        }
                        break;
                }
                case 2: {
                        const Device *d;

                        /* Sometimes a device nobody has seen yet. */
                        device_name((unsigned) (test_rand(&rng) % (N_DEVICES + 2)), name);
                        d = model_find_device(m->model, name);
                        if (!vm || (d && d->owner == OWNER_VM && !streq(d->owner_vm, u)) ||
                            (d && d->owner == OWNER_VM && streq(d->owner_vm, u)))
                                break;
                        expect = vm_state_is_active(vm->state) ? oracle(m, u, false, vm->state, name, &message) : 0;
                        r = manager_attach_device(m, false, name, "vm", u, &e);
                        assert_same_answer(r, &e, expect, message);
                        if (vm_state_is_active(vm->state)) {
                                (*n_checked)++;
                                *n_refused += expect;
                        }
                        if (r >= 0) {
                                uint64_t runs = m->n_runs;

                                ASSERT_OK(manager_attach_device(m, true, name, "vm", u, &e));
                                settle(m);
                                ASSERT_TRUE(m->n_runs <= runs + 1);
                        }
                        break;
                }
                case 3:
                        device_name((unsigned) (test_rand(&rng) % N_DEVICES), name);
                        if (manager_detach_device(m, false, name, &e) >= 0)
                                ASSERT_OK(manager_detach_device(m, true, name, &e));
                        break;
                case 4:
                        /* KVM moves a vCPU (or the VM re-registers with one vCPU pinned to a CPU). */
                        if (!vm)
                                break;
                        if (test_rand(&rng) % 3 == 0) {
                                uint32_t cpu = (uint32_t) (test_rand(&rng) % m->model->geometry.nr_harts);
                                PinSpec pin = { .vcpu = 0, .cpus = &cpu, .n_cpus = 1 };

                                ASSERT_OK(manager_register_vm(m, true, vm->name, u, vm->nr_vcpus, &pin, 1,
                                                              vm->klass >= 0 ? classes[vm->klass] : "",
                                                              vm->priority, &e));
                        } else
                                (void) sim_vcpu_move(sim, u, (uint32_t) (test_rand(&rng) % vm->nr_vcpus),
                                                     (uint32_t) (test_rand(&rng) % m->model->geometry.nr_harts));
                        break;
                case 6:
                        /* A device is unplugged (the model drops it if nobody owns it) or plugged in. */
                        device_name((unsigned) (test_rand(&rng) % (N_DEVICES + 2)), name);
                        if (model_find_device(sim_world(sim), name))
                                ASSERT_OK(sim_remove_device(sim, name));
                        else
                                ASSERT_OK(sim_add_device(sim, name,
                                                         CAP_MSI_FLAT | (test_rand(&rng) % 2 ? CAP_MSI_MRIF : 0)));
                        break;
                case 5: {
                        const Model *w = sim_world(sim);
                        const Device *d = w->n_devices > 0 ? w->devices[test_rand(&rng) % w->n_devices] : NULL;

                        if (d && d->nr_vectors > 0)
                                (void) sim_set_affinity(sim, d->name, (uint32_t) (test_rand(&rng) % d->nr_vectors),
                                                        (uint32_t) (test_rand(&rng) % w->geometry.nr_harts));
                        break;
                }
                }
                settle(m);
                if (m->model->n_devices < n_devices)
                        n_dropped++;
                assert_consistent(m);
        }
        assert_state_text(m->model);
}

TEST(local_checks_match_the_whole_model) {
        unsigned checked = 0, refused = 0;

        for (uint64_t seed = 1; seed <= 60; seed++)
                one_host(seed * 7919, 150, &checked, &refused);
        /* The hosts must exercise both answers, or the comparison proves nothing. */
        printf("%u activations and attachments checked, %u refused\n", checked, refused);
        ASSERT_TRUE(checked > 500);
        ASSERT_TRUE(refused > 50);
        ASSERT_TRUE(refused < checked - 50);
        printf("%u events dropped a device from the model\n", n_dropped);
        ASSERT_TRUE(n_dropped > 20);
}

/*
 * A VM without a name (a scenario may leave it out, and the state file then records it so) made the by-name order
 * of Describe() and ListVMs() call strcmp() on NULL: the daemon crashed on every read, and again after every
 * restart. Nameless VMs come after the named ones, by UUID.
 */
TEST(vms_without_a_name_are_listed) {
        static const char scenario[] =
                "{\"version\":1,\"geometry\":{\"groups\":1,\"harts\":2,\"guest_files\":1,\"ids\":63},"
                "\"vms\":[{\"uuid\":\"22222222-0000-4000-8000-000000000002\",\"vcpus\":1},"
                "{\"uuid\":\"33333333-0000-4000-8000-000000000003\",\"name\":\"web\",\"vcpus\":1},"
                "{\"uuid\":\"11111111-0000-4000-8000-000000000001\",\"vcpus\":1}]}";
        char dir[] = "/tmp/rvmsi-test-manager-XXXXXX", path[64];
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_free_ char *doc = NULL;
        _cleanup_free_ Vm **vms = NULL;
        FILE *f;

        ASSERT_NOT_NULL(mkdtemp(dir));
        (void) snprintf(path, sizeof(path), "%s/nameless.json", dir);
        f = fopen(path, "we");
        ASSERT_NOT_NULL(f);
        ASSERT_TRUE(fputs(scenario, f) >= 0);
        ASSERT_OK(fclose(f));
        m = start(path);
        settle(m);
        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));

        ASSERT_EQ(m->model->n_vms, 3);
        ASSERT_OK(manager_vms_by_name(m, &vms));
        ASSERT_STREQ(vms[0]->name, "web");
        ASSERT_TRUE(vms[1]->name == NULL);
        ASSERT_STREQ(vms[1]->uuid, "11111111-0000-4000-8000-000000000001");
        ASSERT_STREQ(vms[2]->uuid, "22222222-0000-4000-8000-000000000002");
        ASSERT_OK(manager_describe(m, &doc));
        ASSERT_NOT_NULL(strstr(doc, "22222222-0000-4000-8000-000000000002"));
}

/* A device the daemon decided and applied, with at least one entry that is not blocked. */
static const DeviceState *applied_device(Manager *m) {
        const Desired *d = reconciler_desired(m->reconciler);

        for (size_t i = 0; i < d->devices.n_devices; i++) {
                const DeviceState *s = &d->devices.devices[i];

                if (s->apply_state != APPLY_DONE || s->mode == MODE_OFF)
                        continue;
                for (uint32_t j = 0; j < s->n_entries; j++)
                        if (s->entries[j].kind != ENTRY_BLOCKED)
                                return s;
        }
        return NULL;
}

/*
 * The backend reports a change of a device (as the kernel does after every DEV_SET the daemon sends): if it only
 * confirms the decision, the daemon reads the device back and runs nothing; if the device really differs from the
 * decision, it runs and puts the decision back.
 */
TEST(echo_of_an_applied_decision_needs_no_run) {
        _cleanup_(manager_freep) Manager *m = NULL;
        uint32_t vcpus[N_VMS];
        const DeviceState *s = NULL;
        uint64_t rng = 4242, runs;
        BackendEvent ev = { .type = BACKEND_EVENT_ENTRY_CHANGED, .reason = 4 /* RVMSI_REASON_MODE */ };
        char name[DEVICE_NAME_MAX];
        uint32_t j;

        /* A host with a device in a non-blocked mode. */
        for (int tries = 0; !s; tries++) {
                ASSERT_TRUE(tries < 20);
                m = manager_free(m);
                m = start_random(&rng, vcpus);
                s = applied_device(m);
        }
        strcpy(name, s->name);
        strcpy(ev.device, name);

        runs = m->n_runs;
        backend_emit(m->backend, &ev);
        ASSERT_FALSE(reconciler_is_dirty(m->reconciler));
        settle(m);
        ASSERT_EQ(m->n_runs, runs);
        assert_consistent(m);

        /* Now something else rewrote one of its entries behind the daemon's back, and the backend says so. */
        for (j = 0; j < s->n_entries && s->entries[j].kind == ENTRY_BLOCKED; j++)
                ;
        ASSERT_TRUE(j < s->n_entries);
        ASSERT_OK(sim_inject_entry(backend_sim(m->backend), name, s->entries[j].target,
                                   s->entries[j].kind == ENTRY_MRIF ? ENTRY_HOST_FILE : ENTRY_MRIF, 0, 0));
        backend_emit(m->backend, &ev);
        ASSERT_TRUE(reconciler_is_dirty(m->reconciler));
        settle(m);
        ASSERT_EQ(m->n_runs, runs + 1);
        assert_consistent(m);
        ASSERT_EQ(manager_device_apply_state(m, name, NULL), APPLY_DONE);
}

/*
 * Cause 273 is the IOMMU's own interrupt MSI failing (RISC-V IOMMU spec, "MSI configuration table"): the record
 * has TTYP 0, so DID 0, and iotval is the IOMMU's msi_addr_x. A kernel that forwards it as an MSI fault may have
 * matched DID 0 to a device and named the interrupt file that address falls in; neither is true. The daemon keeps
 * the fault (and counts it) but blames no device and names no target, while a real MSI fault (262) keeps both.
 */
TEST(iommu_msi_write_fault_names_no_device) {
        uint32_t vcpus[N_VMS];
        uint64_t rng = 273;
        _cleanup_(manager_freep) Manager *m = start_random(&rng, vcpus);
        BackendEvent ev = {
                .type = BACKEND_EVENT_FAULT, .cause = 273, .addr = 0x28001000, .has_file = true, .file_hart = 1,
        };
        char name[DEVICE_NAME_MAX];
        const FaultRecord *f;
        uint64_t count;

        device_name(0, name);
        strcpy(ev.device, name);
        count = m->fault_count;
        ASSERT_EQ(manager_device_faults(m, name), 0);

        backend_emit(m->backend, &ev);
        ASSERT_EQ(m->fault_count, count + 1);
        f = &m->faults[(m->fault_head + m->n_faults - 1) % MANAGER_N_FAULTS];
        ASSERT_EQ(f->cause, 273);
        ASSERT_EQ(f->addr, 0x28001000);
        ASSERT_STREQ(f->device, "");
        ASSERT_STREQ(f->target, "");
        ASSERT_EQ(manager_device_faults(m, name), 0);

        ev.cause = 262;
        backend_emit(m->backend, &ev);
        ASSERT_EQ(m->fault_count, count + 2);
        f = &m->faults[(m->fault_head + m->n_faults - 1) % MANAGER_N_FAULTS];
        ASSERT_STREQ(f->device, name);
        ASSERT_STREQ(f->target, "hart:1");
        ASSERT_EQ(manager_device_faults(m, name), 1);
}
