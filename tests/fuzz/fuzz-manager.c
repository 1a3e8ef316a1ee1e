/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The D-Bus methods, one layer below D-Bus: a sequence of Manager operations
 * (what bus-manager.c calls for RegisterVM, UnregisterVM, VMEvent,
 * AttachDevice, DetachDevice, SetPolicy, CheckPolicy, Plan, Explain,
 * DescribeSelected) with
 * arguments taken from the input, on a fresh rvmsid Manager on the sim
 * backend (tests/crash/restart-host.json, no bus, no state directory).
 *
 * Each operation is called the way the bus layer does: first with
 * apply = false (validate only), then, if that passed, with apply = true.
 * Properties (DESIGN §7: bad input gets a clear error and changes nothing):
 *   - the validation pass never changes anything (Describe() identical);
 *   - a failed call changes nothing and names an error with a message;
 *   - what validation accepts, the real call does not refuse;
 *   - read-only calls (CheckPolicy, Plan, Explain, DescribeSelected) change
 *     nothing, and DescribeSelected() answers a JSON document or an error;
 *   - at the end the sim saw no invariant violation, and the daemon's
 *     decision equals a full solve of its model.
 *
 * Input format: a stream of records, each one opcode byte followed by
 * NUL-terminated strings. A string whose first byte is 0x01-0x1f picks a
 * known-good value from a small dictionary instead (so the fuzzer reaches
 * the paths behind valid arguments quickly).
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "backend-sim.h"
#include "describe.h"
#include "fuzz.h"
#include "log.h"
#include "manager.h"

/* tests/crash/restart-host.json, shortened: a running strict VM, host, userspace and 3 free devices. */
static const char scenario_host_json[] =
        "{\"version\":1,\"name\":\"restart host: a running VM, host and userspace devices, 12 free devices to "
        "attach\",\"geometry\":{\"groups\":1,\"harts\":8,\"guest_files\":2,\"ids\":255},\"vms\":[{\"uuid\":\"aaaaaaaa-000"
        "0-4000-8000-000000000001\",\"name\":\"base\",\"vcpus\":2,\"placement\":[0,1],\"class\":\"strict\"}],\"devices\""
        ":[{\"name\":\"0000:10:00.0\",\"caps\":[\"msi-flat\",\"msi-mrif\",\"guest-file\"],\"owner\":\"vm\",\"vm\":\"aaaaaaaa"
        "-0000-4000-8000-000000000001\",\"vectors\":[{\"hart\":0,\"vcpu\":0},{\"hart\":1,\"vcpu\":1}]},{\"name\":\"0000"
        ":10:01.0\",\"owner\":\"host\",\"vectors\":[{\"hart\":2},{\"hart\":3},{\"hart\":2}]},{\"name\":\"0000:10:02.0\",\"o"
        "wner\":\"userspace\",\"label\":\"dpdk\",\"vectors\":[{\"hart\":4}]},{\"name\":\"0000:20:00.0\",\"caps\":[\"msi-fla"
        "t\",\"msi-mrif\",\"guest-file\"],\"owner\":\"none\",\"vectors\":[{\"hart\":0},{\"hart\":1},{\"hart\":2}]},{\"name\""
        ":\"0000:20:01.0\",\"caps\":[\"msi-flat\",\"msi-mrif\",\"guest-file\"],\"owner\":\"none\",\"vectors\":[{\"hart\":1}"
        ",{\"hart\":2},{\"hart\":3}]},{\"name\":\"0000:20:02.0\",\"caps\":[\"msi-flat\",\"msi-mrif\",\"guest-file\"],\"own"
        "er\":\"none\",\"vectors\":[{\"hart\":2},{\"hart\":3},{\"hart\":4}]}],\"timeline\":[]}";

static const char *const dict[] = {
        "aaaaaaaa-0000-4000-8000-000000000001",         /* the scenario's VM */
        "bbbbbbbb-0000-4000-8000-000000000001",
        "BBBBBBBB-0000-4000-8000-000000000001",
        "0000:20:00.0", "0000:20:01.0", "0000:10:00.0", "0000:10:01.0", "0000:10:02.0", "0000:99:00.0",
        "vm", "host", "userspace", "none",
        "prepare", "start", "started", "stopped", "release", "migrate-out-begin", "migrate-in-prepare",
        "migrate-done", "reconnect",
        "strict", "balanced", "performance", "",
        "web", "db",
        "{\"version\":1}",
        "{\"version\":1,\"defaults\":{\"class\":\"strict\"},\"mrif_fallback\":false}",
        "{\"version\":1,\"vms\":[{\"vm\":\"web\",\"class\":\"performance\",\"max_guest_files\":0}]}",
};

typedef struct Reader {
        const uint8_t *p, *end;
        char buf[4096];
} Reader;

/* Next string argument (always returns a valid C string). */
static const char *next_str(Reader *rd) {
        size_t n = 0;

        if (rd->p < rd->end && *rd->p >= 0x01 && *rd->p <= 0x1f) {
                /* 31 entries at most: one per byte value 0x01-0x1f (make-manager-seeds.py has the same list). */
                const char *s = dict[(*rd->p - 1) % ELEMENTSOF(dict)];

                while (rd->p < rd->end && *rd->p)
                        rd->p++;
                if (rd->p < rd->end)
                        rd->p++;
                return s;
        }
        while (rd->p < rd->end && *rd->p && n < sizeof(rd->buf) - 1)
                rd->buf[n++] = (char) *rd->p++;
        while (rd->p < rd->end && *rd->p)
                rd->p++;
        if (rd->p < rd->end)
                rd->p++;
        rd->buf[n] = '\0';
        return rd->buf;
}

static uint32_t next_u32(Reader *rd) {
        uint32_t v = 0;

        for (int i = 0; i < 4 && rd->p < rd->end; i++)
                v = v << 8 | *rd->p++;
        return v;
}

static char *describe(Manager *m) {
        char *s = NULL;

        FUZZ_CHECK(manager_describe(m, &s) >= 0);
        return s;
}

static void settle(Manager *m) {
        for (int i = 0; i < 1000; i++) {
                int r = sd_event_run(m->event, 0);

                FUZZ_CHECK(r >= 0);
                if (r == 0 && !reconciler_is_dirty(m->reconciler))
                        return;
        }
        FUZZ_CHECK(!"the manager did not settle");
}

typedef int (*op_fn)(Manager *m, bool apply, Reader *rd, char **args, ManagerError *e);

/* Arguments are read once (into args) and reused for both passes. */
static int op_register(Manager *m, bool apply, Reader *rd, char **a, ManagerError *e) {
        static PinSpec pins[4];
        static uint32_t cpus[4][4];
        static uint32_t vcpus, n_pins;
        static int32_t prio;

        if (!apply) {
                a[0] = strdup(next_str(rd));
                a[1] = strdup(next_str(rd));
                a[2] = strdup(next_str(rd));
                vcpus = next_u32(rd) % 6;
                prio = (int32_t) next_u32(rd) % 1200;
                n_pins = next_u32(rd) % 5;
                for (uint32_t i = 0; i < n_pins; i++) {
                        pins[i].vcpu = next_u32(rd) % 8;
                        pins[i].n_cpus = next_u32(rd) % 5;
                        for (size_t c = 0; c < pins[i].n_cpus; c++)
                                cpus[i][c] = next_u32(rd) % 12;
                        pins[i].cpus = cpus[i];
                }
        }
        if (!a[0] || !a[1] || !a[2])
                return -ENOMEM;
        return manager_register_vm(m, apply, a[0], a[1], vcpus, pins, n_pins, a[2], prio, e);
}

static int op_unregister(Manager *m, bool apply, Reader *rd, char **a, ManagerError *e) {
        if (!apply)
                a[0] = strdup(next_str(rd));
        return a[0] ? manager_unregister_vm(m, apply, a[0], e) : -ENOMEM;
}

static int op_event(Manager *m, bool apply, Reader *rd, char **a, ManagerError *e) {
        if (!apply) {
                a[0] = strdup(next_str(rd));
                a[1] = strdup(next_str(rd));
        }
        return a[0] && a[1] ? manager_vm_event(m, apply, a[0], a[1], e) : -ENOMEM;
}

static int op_attach(Manager *m, bool apply, Reader *rd, char **a, ManagerError *e) {
        if (!apply) {
                a[0] = strdup(next_str(rd));
                a[1] = strdup(next_str(rd));
                a[2] = strdup(next_str(rd));
        }
        return a[0] && a[1] && a[2] ? manager_attach_device(m, apply, a[0], a[1], a[2], e) : -ENOMEM;
}

static int op_detach(Manager *m, bool apply, Reader *rd, char **a, ManagerError *e) {
        if (!apply)
                a[0] = strdup(next_str(rd));
        return a[0] ? manager_detach_device(m, apply, a[0], e) : -ENOMEM;
}

static int op_set_policy(Manager *m, bool apply, Reader *rd, char **a, ManagerError *e) {
        if (!apply)
                a[0] = strdup(next_str(rd));
        return a[0] ? manager_set_policy(m, apply, a[0], e) : -ENOMEM;
}

static const op_fn ops[] = { op_register, op_unregister, op_event, op_attach, op_detach, op_set_policy };
/* Then the read-only ones: CheckPolicy, Plan, Explain, DescribeSelected. */
#define N_OPCODES (ELEMENTSOF(ops) + 4)

/*
 * DescribeSelected(): a flags byte says which of sections, devices, VMs,
 * device limit and VM limit are set; each set list is a count byte (0-3)
 * and that many strings; then device and VM offsets and the set limits.
 */
static int describe_selected(Manager *m, Reader *rd, char **ret, ManagerError *e) {
        char names[3][3][256] = {}, *lists[3][4] = {};
        DescribeSelection sel = {};
        uint8_t flags = rd->p < rd->end ? *rd->p++ : 0;

        for (unsigned l = 0; l < 3; l++) {
                unsigned count;

                if (!(flags & (1U << l)))
                        continue;
                count = rd->p < rd->end ? *rd->p++ % 4 : 0;
                for (unsigned i = 0; i < count; i++) {
                        snprintf(names[l][i], sizeof(names[l][i]), "%s", next_str(rd));
                        lists[l][i] = names[l][i];
                }
        }
        sel.sections_set = flags & 1;
        sel.sections = lists[0];
        sel.devices_set = flags & 2;
        sel.devices = lists[1];
        sel.vms_set = flags & 4;
        sel.vms = lists[2];
        sel.device_offset = next_u32(rd) % 16;
        sel.vm_offset = next_u32(rd) % 16;
        sel.device_limit_set = flags & 8;
        if (sel.device_limit_set)
                sel.device_limit = next_u32(rd) % 16;
        sel.vm_limit_set = flags & 16;
        if (sel.vm_limit_set)
                sel.vm_limit = next_u32(rd) % 16;
        return manager_describe_selected(m, &sel, ret, e);
}

static void read_only(Manager *m, uint8_t op, Reader *rd) {
        _cleanup_free_ char *before = describe(m), *after = NULL, *out = NULL;
        ManagerError e = {};
        Explanation *x = NULL;
        size_t n = 0;
        int r;

        switch (op) {
        case 0: {
                const char *json = next_str(rd);

                r = manager_check_policy(m, json, &out, &e);
                break;
        }
        case 1: {
                const char *json = next_str(rd);

                r = manager_plan(m, json, &out, &e);
                break;
        }
        case 2: {
                _cleanup_free_ char *dev = strdup(next_str(rd));

                FUZZ_CHECK(dev);
                r = manager_explain(m, dev, next_str(rd), &x, &n, &e);
                if (r >= 0)
                        explanations_free(x, n);
                break;
        }
        default:
                r = describe_selected(m, rd, &out, &e);
                if (r >= 0) {
                        _cleanup_json_ json_object *doc = json_tokener_parse(out);

                        /* Whatever was selected: a JSON object with the version and the page. */
                        FUZZ_CHECK(doc && json_object_is_type(doc, json_type_object));
                        FUZZ_CHECK(json_object_object_get_ex(doc, "version", NULL));
                        FUZZ_CHECK(json_object_object_get_ex(doc, "page", NULL));
                }
        }
        if (r < 0)
                FUZZ_CHECK(r == -ENOMEM || (e.code != MERR_NONE && e.message[0]));
        after = describe(m);
        FUZZ_CHECK(streq(before, after));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int scenario_fd = -1;
        static char scenario_path[64];
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(desired_freep) Desired *full = NULL;
        _cleanup_json_ json_object *j1 = NULL, *j2 = NULL;
        ManagerConfig cfg = {
                .backend = BACKEND_KIND_SIM,
                .state_dir = "",
                .config_dir = "/nonexistent/rvmsi-fuzz",
                .affinity = _AFFINITY_SOURCE_INVALID,
        };
        Reader rd = { .p = data, .end = data + size };
        unsigned n_ops = 0;

        if (size > 16384)
                return 0;
        if (scenario_fd < 0) {
                char path[] = "/tmp/rvmsi-fuzz-manager-XXXXXX";
                sigset_t ss;

                scenario_fd = mkstemp(path);
                FUZZ_CHECK(scenario_fd >= 0);
                FUZZ_CHECK(unlink(path) == 0);
                FUZZ_CHECK(write(scenario_fd, scenario_host_json, strlen(scenario_host_json)) ==
                           (ssize_t) strlen(scenario_host_json));
                snprintf(scenario_path, sizeof(scenario_path), "/proc/self/fd/%d", scenario_fd);
                sigemptyset(&ss);
                sigaddset(&ss, SIGTERM);
                sigaddset(&ss, SIGINT);
                sigaddset(&ss, SIGHUP);
                FUZZ_CHECK(sigprocmask(SIG_BLOCK, &ss, NULL) == 0);
                (void) setenv("RVMSI_LOG_LEVEL", getenv("FUZZ_VERBOSE") ? "debug" : "emerg", 1);
                log_setup();
        }
        cfg.scenario = scenario_path;
        FUZZ_CHECK(manager_new(&cfg, &m) >= 0);
        FUZZ_CHECK(manager_startup(m) >= 0);
        settle(m);

        while (rd.p < rd.end && n_ops++ < 32) {
                uint8_t op = *rd.p++;

                if (op % N_OPCODES >= ELEMENTSOF(ops)) {
                        read_only(m, (uint8_t) (op % N_OPCODES - ELEMENTSOF(ops)), &rd);
                        continue;
                }
                {
                        _cleanup_free_ char *before = describe(m), *after = NULL;
                        char *args[3] = {};
                        ManagerError e = {};
                        int r;

                        r = ops[op % N_OPCODES](m, false, &rd, args, &e);
                        after = describe(m);
                        /* Validation alone never changes anything. */
                        FUZZ_CHECK(streq(before, after));
                        if (r < 0) {
                                FUZZ_CHECK(r == -ENOMEM || (e.code != MERR_NONE && e.message[0]));
                        } else {
                                e = (ManagerError) {};
                                r = ops[op % N_OPCODES](m, true, &rd, args, &e);
                                if (r < 0 && getenv("FUZZ_VERBOSE"))
                                        fprintf(stderr, "op %u validated but failed: %s\n", (unsigned) (op % N_OPCODES), e.message);
                                /* What validation accepted, the real call carries out. */
                                FUZZ_CHECK(r >= 0 || r == -ENOMEM);
                                settle(m);
                        }
                        for (size_t i = 0; i < ELEMENTSOF(args); i++)
                                free(args[i]);
                }
        }

        settle(m);
        FUZZ_CHECK(sim_n_violations(backend_sim(m->backend), NULL) == 0);
        FUZZ_CHECK(solver_compute(m->model, m->policy, &full) >= 0);
        FUZZ_CHECK(desired_to_json(full, &j1) >= 0);
        FUZZ_CHECK(desired_to_json(reconciler_desired(m->reconciler), &j2) >= 0);
        FUZZ_CHECK(streq(json_object_to_json_string(j1), json_object_to_json_string(j2)));
        return 0;
}
