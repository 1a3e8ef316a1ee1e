/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsi-bench: how the daemon's solver and reconciler scale (issue 6, part 1).
 *
 * For each host size it generates a host (bench/host-gen.h), then measures
 *   - the full solve (solver_compute) and a full resync (solve + dump + plan
 *     + apply), per (device, file) pair;
 *   - one incremental event (IRQ affinity move, vCPU move, VM stop, VM start)
 *     through the real reconciler (mark dirty + reconciler_run), as a ratio
 *     to the full solve (the median of the solves, and the fastest), and to
 *     a full resync with nothing to do (solve + dump + plan, no operation),
 *     which is what a reconciler without incremental runs spends per event;
 *   - the operations each event issued against the minimum: the number of
 *     operations a from-scratch diff of the whole host needs after the same
 *     event (solver_compute + full dump + reconcile_plan), which is the
 *     fewest that bring the backend to the desired state;
 *   - the daemon's memory per pair (model + desired), from glibc's
 *     mallinfo2() deltas.
 * It prints a table and writes JSON. It never fails on time; it exits
 * non-zero only when a correctness check fails (an event that issued more
 * or fewer operations than the minimum, an incremental result different
 * from a full solve, a plan that left work behind, an operation refused).
 *
 * The backend is bench/mirror-backend.c (see there why). The D-Bus round
 * trip of Describe is measured by bench/describe-rtt.sh against rvmsid.
 */

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <json-c/json.h>

#include "host-gen.h"
#include "mirror-backend.h"
#include "model.h"
#include "policy.h"
#include "reconcile.h"
#include "solver.h"

typedef enum EventType {
        EV_AFFINITY,
        EV_VCPU_MOVE,
        EV_VM_STOP,
        EV_VM_START,
        _EV_MAX,
} EventType;

static const char *const event_names[_EV_MAX] = {
        [EV_AFFINITY] = "affinity-move",
        [EV_VCPU_MOVE] = "vcpu-move",
        [EV_VM_STOP] = "vm-stop",
        [EV_VM_START] = "vm-start",
};

typedef struct EventStats {
        size_t n;
        double *usec;
        uint64_t ops, ops_min;          /* over verified samples */
        uint64_t ops_all;               /* over all samples */
        size_t n_verified, n_mismatch;
        size_t n_devices_resolved;
} EventStats;

typedef struct SizeResult {
        uint32_t k;
        HostParams hp;
        uint64_t pairs, vcpus;
        double gen_sec;
        double solve_usec;              /* median of the repetitions */
        double solve_min_usec;          /* the fastest of them: the strictest reading of an event's ratio */
        double resync_usec;
        /*
         * A full resync with nothing to do (solve, dump of the whole backend, plan; median of a few): what handling
         * one event costs a reconciler that cannot do less than everything. The like-for-like denominator of an
         * event, which also reads back, plans, applies and verifies.
         */
        double idle_resync_usec;
        size_t resync_ops;
        size_t violations;
        int64_t model_bytes, desired_bytes;
        int64_t copy_bytes;             /* the Manager's second copy of the decisions (last_desired) */
        EventStats ev[_EV_MAX];
} SizeResult;

static unsigned arg_samples = 200;
static unsigned arg_verify = 0;         /* 0: automatic */
static unsigned arg_solves = 5;
static uint64_t arg_seed = 1;
static const char *arg_json = NULL;
static bool arg_smoke = false;
static const char *arg_write_scenario = NULL;
static uint32_t arg_sizes[16];
static size_t arg_n_sizes = 0;
static unsigned failures = 0;

#define IDLE_RESYNCS 3U

#define FAIL(fmt, ...)                                                          \
        do {                                                                    \
                fprintf(stderr, "FAIL: " fmt "\n", ##__VA_ARGS__);              \
                failures++;                                                     \
        } while (0)

static double now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int64_t heap_in_use(void) {
        struct mallinfo2 mi = mallinfo2();

        return (int64_t) (mi.uordblks + mi.hblkhd);
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p) {
        size_t i;

        if (n == 0)
                return NAN;
        qsort(v, n, sizeof(double), cmp_double);
        i = (size_t) (p * (double) (n - 1) + 0.5);
        return v[MIN(i, n - 1)];
}

/* Same decision (mode, fallback, destinations) for every device, same grants for every vCPU? */
static bool desired_same(const Desired *a, const Desired *b, char *why, size_t n) {
        if (a->devices.n_devices != b->devices.n_devices) {
                snprintf(why, n, "%zu vs %zu devices", a->devices.n_devices, b->devices.n_devices);
                return false;
        }
        for (size_t i = 0; i < a->devices.n_devices; i++) {
                const DeviceState *x = &a->devices.devices[i], *y = &b->devices.devices[i];

                if (!streq(x->name, y->name) || x->mode != y->mode || x->fallback != y->fallback ||
                    x->n_entries != y->n_entries || x->violation != y->violation) {
                        snprintf(why, n, "device %s differs", x->name);
                        return false;
                }
                for (uint32_t e = 0; e < x->n_entries; e++)
                        if (x->entries[e].target != y->entries[e].target ||
                            !entry_same_destination(&x->entries[e], &y->entries[e]) ||
                            x->entries[e].reason != y->entries[e].reason) {
                                snprintf(why, n, "device %s entry %u differs", x->name, e);
                                return false;
                        }
        }
        if (a->n_vms != b->n_vms) {
                snprintf(why, n, "%zu vs %zu VMs", a->n_vms, b->n_vms);
                return false;
        }
        for (size_t i = 0; i < a->n_vms; i++) {
                if (!streq(a->vms[i].uuid, b->vms[i].uuid) || a->vms[i].nr_vcpus != b->vms[i].nr_vcpus) {
                        snprintf(why, n, "VM %s differs", a->vms[i].uuid);
                        return false;
                }
                for (uint32_t v = 0; v < a->vms[i].nr_vcpus; v++)
                        if (a->vms[i].vcpus[v].hart != b->vms[i].vcpus[v].hart ||
                            a->vms[i].vcpus[v].guest != b->vms[i].vcpus[v].guest) {
                                snprintf(why, n, "VM %s vCPU %u grant differs", a->vms[i].uuid, v);
                                return false;
                        }
        }
        return true;
}

/* The fewest operations that bring the backend from what it holds now to a from-scratch solve. */
static int full_diff_ops(Model *m, const Policy *p, Backend *b, size_t *ret_ops, Desired **ret_desired) {
        _cleanup_(desired_freep) Desired *d = NULL;
        _cleanup_(actual_freep) Actual *a = NULL;
        _cleanup_(plan_freep) Plan *plan = NULL;
        int r;

        r = solver_compute(m, p, &d);
        if (r < 0)
                return r;
        r = backend_dump(b, &a);
        if (r < 0)
                return r;
        r = reconcile_plan(d, a, RECONCILE_GUEST_FILES, &plan);
        if (r < 0)
                return r;
        *ret_ops = plan->n_ops;
        if (ret_desired)
                *ret_desired = TAKE_PTR(d);
        return 0;
}

typedef struct Ctx {
        Model *model;
        Policy *policy;
        Backend *backend;
        Reconciler *reconciler;
        uint64_t rng;
        /* VMs stopped by EV_VM_STOP, waiting for EV_VM_START. */
        char (*stopped)[UUID_STRING_MAX];
        size_t n_stopped;
} Ctx;

/* Change the world and the model the way the watchers would; mark the reconciler. */
static int event_prepare(Ctx *c, EventType t) {
        Model *m = c->model;
        int r;

        switch (t) {
        case EV_AFFINITY: {
                /* A host or userspace device (owner != VM): the second half of the population. */
                size_t first = m->n_devices / 2;
                Device *d = m->devices[first + host_rand_below(&c->rng, (uint32_t) (m->n_devices - first))];
                uint32_t vec = host_rand_below(&c->rng, d->nr_vectors);
                uint32_t h = host_rand_below(&c->rng, m->geometry.nr_harts);

                r = model_device_set_affinity(m, d, vec, h);
                if (r < 0)
                        return r;
                r = mirror_world_affinity_moved(c->backend, d->name);
                if (r < 0)
                        return r;
                (void) reconciler_mark_dirty(c->reconciler, DIRTY_DEVICE, d->name);
                return 0;
        }
        case EV_VCPU_MOVE: {
                Vm *vm = m->vms[host_rand_below(&c->rng, (uint32_t) m->n_vms)];
                uint32_t v = host_rand_below(&c->rng, vm->nr_vcpus);
                uint32_t h = host_rand_below(&c->rng, m->geometry.nr_harts);

                r = model_vcpu_place(m, vm, v, h);
                if (r < 0)
                        return r;
                r = mirror_world_vcpu_moved(c->backend, vm->uuid, v, h);
                if (r < 0)
                        return r;
                (void) reconciler_mark_dirty(c->reconciler, DIRTY_VM, vm->uuid);
                return 0;
        }
        case EV_VM_STOP: {
                Vm *vm = NULL;

                for (unsigned tries = 0; tries < 1000 && !vm; tries++) {
                        Vm *x = m->vms[host_rand_below(&c->rng, (uint32_t) m->n_vms)];

                        if (x->state == VM_RUNNING)
                                vm = x;
                }
                if (!vm)
                        return -ENOENT;
                r = model_vm_set_state(m, vm, VM_STOPPED);
                if (r < 0)
                        return r;
                /* KVM tears the vCPUs down: every guest file they held is free. */
                for (uint32_t v = 0; v < vm->nr_vcpus; v++) {
                        r = model_vcpu_set_guest_file(m, vm, v, 0);
                        if (r < 0)
                                return r;
                }
                r = mirror_world_vm_stopped(c->backend, vm->uuid);
                if (r < 0)
                        return r;
                memcpy(c->stopped[c->n_stopped++], vm->uuid, UUID_STRING_MAX);
                (void) reconciler_mark_dirty(c->reconciler, DIRTY_VM, vm->uuid);
                return 0;
        }
        case EV_VM_START: {
                Vm *vm;

                if (c->n_stopped == 0)
                        return -ENOENT;
                vm = model_find_vm(m, c->stopped[--c->n_stopped]);
                if (!vm)
                        return -ENOENT;
                r = model_vm_set_state(m, vm, VM_RUNNING);
                if (r < 0)
                        return r;
                (void) reconciler_mark_dirty(c->reconciler, DIRTY_VM, vm->uuid);
                return 0;
        }
        default:
                return -EINVAL;
        }
}

static int run_event(Ctx *c, EventType t, bool verify, EventStats *es) {
        _cleanup_(desired_freep) Desired *full = NULL;
        ReconcileStats st = {};
        size_t min_ops = 0, after_ops = 0;
        double t0, t1;
        int r;

        r = event_prepare(c, t);
        if (r < 0)
                return r;
        if (verify) {
                r = full_diff_ops(c->model, c->policy, c->backend, &min_ops, &full);
                if (r < 0)
                        return r;
        }

        t0 = now_usec();
        r = reconciler_run(c->reconciler, &st);
        t1 = now_usec();
        if (r < 0) {
                FAIL("%s: reconciler_run: %s (%zu of %zu ops applied)", event_names[t], strerror(-r), st.n_applied,
                     st.n_ops);
                return 0;
        }
        if (!verify) {
                /* Verified events run after the timed ones: the full solves they need evict the caches. */
                es->usec[es->n++] = t1 - t0;
                es->ops_all += st.n_ops;
                es->n_devices_resolved += st.n_devices_resolved;
        }
        if (st.full)
                FAIL("%s: the reconciler fell back to a full solve", event_names[t]);

        if (verify) {
                char why[256];

                es->n_verified++;
                es->ops += st.n_ops;
                es->ops_min += min_ops;
                r = full_diff_ops(c->model, c->policy, c->backend, &after_ops, NULL);
                if (r < 0)
                        return r;
                if (st.n_ops != min_ops || after_ops != 0) {
                        es->n_mismatch++;
                        FAIL("%s: issued %zu ops, minimum %zu, left %zu undone", event_names[t], st.n_ops, min_ops,
                             after_ops);
                }
                if (!desired_same(reconciler_desired(c->reconciler), full, why, sizeof(why)))
                        FAIL("%s: incremental result differs from a full solve: %s", event_names[t], why);
        }
        return 0;
}

static int run_size(uint32_t k, SizeResult *res) {
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(reconciler_freep) Reconciler *rec = NULL;
        _cleanup_free_ double *solves = NULL;
        double idle[IDLE_RESYNCS];
        ReconcileStats st = {};
        unsigned verify_n;
        int64_t h0;
        double t0;
        Ctx c;
        int r;

        *res = (SizeResult) { .k = k, .hp = host_params(k, arg_seed) };

        h0 = heap_in_use();
        t0 = now_usec();
        r = host_generate(&res->hp, &m);
        if (r < 0)
                return r;
        res->gen_sec = (now_usec() - t0) / 1e6;
        res->model_bytes = heap_in_use() - h0;
        res->pairs = host_count_pairs(m);
        for (size_t i = 0; i < m->n_vms; i++)
                res->vcpus += m->vms[i]->nr_vcpus;

        r = policy_new_default(&p);
        if (r < 0)
                return r;

        solves = new(double, arg_solves);
        if (!solves)
                return -ENOMEM;
        for (unsigned i = 0; i < arg_solves; i++) {
                _cleanup_(desired_freep) Desired *d = NULL;
                int64_t before = heap_in_use();

                t0 = now_usec();
                r = solver_compute(m, p, &d);
                if (r < 0)
                        return r;
                solves[i] = now_usec() - t0;
                if (i == 0) {
                        _cleanup_(device_table_freep) DeviceTable *copy = NULL;
                        int64_t b2;

                        res->desired_bytes = heap_in_use() - before;
                        res->violations = d->n_violations;
                        /* rvmsid's Manager keeps last_desired, a copy of the device table, to emit changes. */
                        b2 = heap_in_use();
                        r = device_table_copy(&d->devices, &copy);
                        if (r < 0)
                                return r;
                        res->copy_bytes = heap_in_use() - b2;
                }
        }
        res->solve_usec = percentile(solves, arg_solves, 0.5);
        res->solve_min_usec = percentile(solves, arg_solves, 0.0);

        r = backend_new(&mirror_backend_ops, NULL, &b);
        if (r < 0)
                return r;
        r = reconciler_new(m, &p, b, &rec);
        if (r < 0)
                return r;
        mirror_backend_bind(b, rec, m);

        t0 = now_usec();
        r = reconciler_resync(rec, &st);
        res->resync_usec = now_usec() - t0;
        if (r < 0) {
                FAIL("size %u: first resync: %s (%zu of %zu ops applied)", k, strerror(-r), st.n_applied, st.n_ops);
                return 0;
        }
        res->resync_ops = st.n_ops;
        for (unsigned i = 0; i < IDLE_RESYNCS; i++) {
                t0 = now_usec();
                r = reconciler_resync(rec, &st);
                idle[i] = now_usec() - t0;
                if (r < 0)
                        return r;
                if (st.n_ops != 0)
                        FAIL("size %u: resync %u after the first issued %zu ops (not idempotent)", k, i + 2,
                             st.n_ops);
        }
        res->idle_resync_usec = percentile(idle, IDLE_RESYNCS, 0.5);

        c = (Ctx) { .model = m, .policy = p, .backend = b, .reconciler = rec, .rng = arg_seed ^ k };
        verify_n = arg_verify ? arg_verify : (k <= 16 ? 50 : 3);
        c.stopped = calloc(arg_samples + verify_n + 1, UUID_STRING_MAX);
        if (!c.stopped)
                return -ENOMEM;

        for (EventType t = 0; t < _EV_MAX; t++) {
                res->ev[t].usec = new(double, arg_samples);
                if (!res->ev[t].usec) {
                        free(c.stopped);
                        return -ENOMEM;
                }
        }
        /*
         * Stop/start in pairs so that the population stays the same; interleave the kinds.
         * First the timed events, then the verified ones.
         */
        for (unsigned s = 0; s < arg_samples + verify_n; s++)
                for (EventType t = 0; t < _EV_MAX; t++) {
                        r = run_event(&c, t, s >= arg_samples, &res->ev[t]);
                        if (r < 0) {
                                FAIL("size %u: %s: %s", k, event_names[t], strerror(-r));
                                free(c.stopped);
                                return 0;
                        }
                }
        free(c.stopped);

        /* Everything the events did, reconciled: a full resync now has nothing to do. */
        r = reconciler_resync(rec, &st);
        if (r < 0)
                return r;
        if (st.n_ops != 0)
                FAIL("size %u: after %u events, a full resync still issued %zu ops", k,
                     (arg_samples + verify_n) * _EV_MAX, st.n_ops);
        return 0;
}

static json_object *jnum(double v) {
        return isfinite(v) ? json_object_new_double(v) : json_object_new_null();
}

static int emit(SizeResult *res, size_t n) {
        _cleanup_json_ json_object *root = json_object_new_object(), *sizes = json_object_new_array();
        struct utsname u = {};

        printf("\n%-5s %6s %5s %6s %6s %9s | %10s %8s %10s %8s %8s | %7s %7s %7s\n", "size", "harts", "VMs",
               "devs", "vcpus", "pairs", "solve ms", "ns/pair", "resync ms", "ns/pair", "idle ms", "B/pair", "model",
               "+copy");
        for (size_t i = 0; i < n; i++) {
                SizeResult *s = &res[i];

                printf("%-5u %6u %5u %6u %6" PRIu64 " %9" PRIu64 " | %10.2f %8.1f %10.2f %8.1f %8.2f | %7.1f %7.1f "
                       "%7.1f\n",
                       s->k, s->hp.nr_harts, s->hp.nr_vms, s->hp.nr_devices, s->vcpus, s->pairs, s->solve_usec / 1e3,
                       s->solve_usec * 1e3 / (double) s->pairs, s->resync_usec / 1e3,
                       s->resync_usec * 1e3 / (double) s->pairs, s->idle_resync_usec / 1e3,
                       (double) (s->model_bytes + s->desired_bytes) / (double) s->pairs,
                       (double) s->model_bytes / (double) s->pairs, (double) s->copy_bytes / (double) s->pairs);
        }
        printf("\n%-5s %-14s %10s %10s %10s %12s %10s %12s %10s %10s %9s\n", "size", "event", "median us", "p99 us",
               "max us", "solve/event", "fastest", "resync/event", "ops/event", "verified", "ops==min");
        for (size_t i = 0; i < n; i++)
                for (EventType t = 0; t < _EV_MAX; t++) {
                        EventStats *e = &res[i].ev[t];
                        double med = percentile(e->usec, e->n, 0.5), p99 = percentile(e->usec, e->n, 0.99),
                               max = percentile(e->usec, e->n, 1.0);

                        printf("%-5u %-14s %10.1f %10.1f %10.1f %12.0f %10.0f %12.0f %10.2f %4" PRIu64 "/%-5" PRIu64
                               " %6zu/%zu\n",
                               res[i].k, event_names[t], med, p99, max, res[i].solve_usec / med,
                               res[i].solve_min_usec / med, res[i].idle_resync_usec / med,
                               e->n ? (double) e->ops_all / (double) e->n : NAN, e->ops, e->ops_min,
                               e->n_verified - e->n_mismatch, e->n_verified);
                }

        if (!arg_json)
                return 0;
        if (!root || !sizes)
                return -ENOMEM;
        (void) uname(&u);
        json_object_object_add(root, "program", json_object_new_string("rvmsi-bench"));
        json_object_object_add(root, "backend", json_object_new_string("mirror"));
        json_object_object_add(root, "machine", json_object_new_string(u.machine));
        json_object_object_add(root, "kernel", json_object_new_string(u.release));
        json_object_object_add(root, "seed", json_object_new_int64((int64_t) arg_seed));
        json_object_object_add(root, "samples", json_object_new_int64(arg_samples));
        json_object_object_add(root, "failures", json_object_new_int64(failures));
        for (size_t i = 0; i < n; i++) {
                SizeResult *s = &res[i];
                json_object *o = json_object_new_object(), *evs = json_object_new_object();

                json_object_object_add(o, "size_factor", json_object_new_int64(s->k));
                json_object_object_add(o, "harts", json_object_new_int64(s->hp.nr_harts));
                json_object_object_add(o, "guest_files", json_object_new_int64(s->hp.nr_guest_files));
                json_object_object_add(o, "vms", json_object_new_int64(s->hp.nr_vms));
                json_object_object_add(o, "vcpus", json_object_new_int64((int64_t) s->vcpus));
                json_object_object_add(o, "devices", json_object_new_int64(s->hp.nr_devices));
                json_object_object_add(o, "vectors_per_device", json_object_new_int64(s->hp.nr_vectors));
                json_object_object_add(o, "pairs", json_object_new_int64((int64_t) s->pairs));
                json_object_object_add(o, "violations", json_object_new_int64((int64_t) s->violations));
                json_object_object_add(o, "generate_sec", jnum(s->gen_sec));
                json_object_object_add(o, "full_solve_usec", jnum(s->solve_usec));
                json_object_object_add(o, "full_solve_ns_per_pair", jnum(s->solve_usec * 1e3 / (double) s->pairs));
                json_object_object_add(o, "full_solve_min_usec", jnum(s->solve_min_usec));
                json_object_object_add(o, "full_resync_usec", jnum(s->resync_usec));
                json_object_object_add(o, "full_resync_ops", json_object_new_int64((int64_t) s->resync_ops));
                json_object_object_add(o, "idle_resync_usec", jnum(s->idle_resync_usec));
                json_object_object_add(o, "model_bytes", json_object_new_int64(s->model_bytes));
                json_object_object_add(o, "desired_bytes", json_object_new_int64(s->desired_bytes));
                json_object_object_add(o, "manager_copy_bytes", json_object_new_int64(s->copy_bytes));
                json_object_object_add(o, "daemon_bytes_per_pair",
                                       jnum((double) (s->model_bytes + s->desired_bytes) / (double) s->pairs));
                json_object_object_add(o, "daemon_bytes_per_pair_with_manager_copy",
                                       jnum((double) (s->model_bytes + s->desired_bytes + s->copy_bytes) /
                                            (double) s->pairs));
                for (EventType t = 0; t < _EV_MAX; t++) {
                        EventStats *e = &s->ev[t];
                        json_object *eo = json_object_new_object();
                        double med = percentile(e->usec, e->n, 0.5);

                        json_object_object_add(eo, "samples", json_object_new_int64((int64_t) e->n));
                        json_object_object_add(eo, "median_usec", jnum(med));
                        json_object_object_add(eo, "p99_usec", jnum(percentile(e->usec, e->n, 0.99)));
                        json_object_object_add(eo, "max_usec", jnum(percentile(e->usec, e->n, 1.0)));
                        json_object_object_add(eo, "full_solve_over_event", jnum(s->solve_usec / med));
                        json_object_object_add(eo, "fastest_full_solve_over_event", jnum(s->solve_min_usec / med));
                        json_object_object_add(eo, "idle_resync_over_event", jnum(s->idle_resync_usec / med));
                        json_object_object_add(eo, "ops_total", json_object_new_int64((int64_t) e->ops_all));
                        json_object_object_add(eo, "devices_resolved_total",
                                               json_object_new_int64((int64_t) e->n_devices_resolved));
                        json_object_object_add(eo, "verified", json_object_new_int64((int64_t) e->n_verified));
                        json_object_object_add(eo, "verified_ops", json_object_new_int64((int64_t) e->ops));
                        json_object_object_add(eo, "verified_ops_minimum", json_object_new_int64((int64_t) e->ops_min));
                        json_object_object_add(eo, "verified_mismatches", json_object_new_int64((int64_t) e->n_mismatch));
                        json_object_object_add(evs, event_names[t], eo);
                }
                json_object_object_add(o, "events", evs);
                json_object_array_add(sizes, o);
        }
        json_object_object_add(root, "sizes", json_object_get(sizes));
        if (json_object_to_file_ext(arg_json, root, JSON_C_TO_STRING_PRETTY) < 0) {
                fprintf(stderr, "Failed to write '%s': %s\n", arg_json, json_util_get_last_err());
                return -EIO;
        }
        printf("\nJSON written to %s\n", arg_json);
        return 0;
}

static int write_scenario(uint32_t k, const char *path) {
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_json_ json_object *o = NULL;
        HostParams hp = host_params(k, arg_seed);
        char name[64];
        int r;

        r = host_generate(&hp, &m);
        if (r < 0)
                return r;
        snprintf(name, sizeof(name), "bench-size-%u", k);
        r = host_to_scenario(m, name, k >= 64, &o);
        if (r < 0)
                return r;
        if (json_object_to_file_ext(path, o, JSON_C_TO_STRING_PLAIN) < 0) {
                fprintf(stderr, "Failed to write '%s': %s\n", path, json_util_get_last_err());
                return -EIO;
        }
        fprintf(stderr, "%s: %u harts, %zu VMs, %zu devices, %" PRIu64 " (device, file) pairs\n", path,
                m->geometry.nr_harts, m->n_vms, m->n_devices, host_count_pairs(m));
        return 0;
}

static void help(void) {
        printf("rvmsi-bench [OPTIONS]\n\n"
               "  --sizes=K,K,...   size factors (1 = 16 harts, 256 = 4096 harts); default 1,4,16,64,256\n"
               "  --samples=N       timed events of each kind per size (default 200)\n"
               "  --verify=N        then N more of each kind, each checked against a full diff\n"
               "                    (default: 50 up to size 16, 3 above; not timed)\n"
               "  --solves=N        full solves to time per size (default 5)\n"
               "  --seed=N          generator seed (default 1)\n"
               "  --json=PATH       also write the results as JSON\n"
               "  --write-scenario=PATH  write the host of the first --sizes as a scenario file\n"
               "                    for rvmsid --scenario (bench/describe-rtt.sh) and exit; from\n"
               "                    size 64 on without the host affinity of VM-owned vectors\n"
               "  --smoke           sizes 1,4, 10 timed and 100 verified events of each kind (the 'bench' suite)\n");
}

static int parse_sizes(const char *s) {
        char *end;

        arg_n_sizes = 0;
        while (*s) {
                unsigned long v = strtoul(s, &end, 10);

                if (end == s || v < 1 || v > 1024 || arg_n_sizes >= ELEMENTSOF(arg_sizes))
                        return -EINVAL;
                arg_sizes[arg_n_sizes++] = (uint32_t) v;
                s = end;
                if (*s == ',')
                        s++;
                else if (*s)
                        return -EINVAL;
        }
        return arg_n_sizes > 0 ? 0 : -EINVAL;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "sizes", required_argument, NULL, 's' },
                { "samples", required_argument, NULL, 'n' },
                { "verify", required_argument, NULL, 'v' },
                { "solves", required_argument, NULL, 'S' },
                { "seed", required_argument, NULL, 'r' },
                { "json", required_argument, NULL, 'j' },
                { "smoke", no_argument, NULL, 'k' },
                { "write-scenario", required_argument, NULL, 'w' },
                {}
        };
        _cleanup_free_ SizeResult *res = NULL;
        unsigned long v;
        int c, r;

        arg_sizes[0] = 1, arg_sizes[1] = 4, arg_sizes[2] = 16, arg_sizes[3] = 64, arg_sizes[4] = 256;
        arg_n_sizes = 5;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case 's':
                        if (parse_sizes(optarg) < 0) {
                                fprintf(stderr, "Invalid --sizes '%s'\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'n':
                case 'v':
                case 'S':
                        if (parse_uint(optarg, 1000000, &v) < 0 || (c != 'v' && v == 0)) {
                                fprintf(stderr, "Invalid number '%s'\n", optarg);
                                return EXIT_FAILURE;
                        }
                        if (c == 'n')
                                arg_samples = (unsigned) v;
                        else if (c == 'v')
                                arg_verify = (unsigned) v;
                        else
                                arg_solves = (unsigned) v;
                        break;
                case 'r':
                        if (parse_uint(optarg, ULONG_MAX, &v) < 0) {
                                fprintf(stderr, "Invalid --seed '%s'\n", optarg);
                                return EXIT_FAILURE;
                        }
                        arg_seed = v;
                        break;
                case 'j':
                        arg_json = optarg;
                        break;
                case 'k':
                        arg_smoke = true;
                        break;
                case 'w':
                        arg_write_scenario = optarg;
                        break;
                default:
                        return EXIT_FAILURE;
                }
        if (optind < argc) {
                fprintf(stderr, "Unexpected argument '%s'\n", argv[optind]);
                return EXIT_FAILURE;
        }
        if (arg_smoke) {
                arg_sizes[0] = 1, arg_sizes[1] = 4;
                arg_n_sizes = 2;
                arg_samples = 10;
                arg_verify = 100;
                arg_solves = 1;
        }

        if (arg_write_scenario)
                return write_scenario(arg_sizes[0], arg_write_scenario) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        res = new0(SizeResult, arg_n_sizes);
        if (!res)
                return EXIT_FAILURE;
        for (size_t i = 0; i < arg_n_sizes; i++) {
                fprintf(stderr, "size %u: %u harts, %u VMs, %u devices x %u vectors...\n", arg_sizes[i],
                        16 * arg_sizes[i], 8 * arg_sizes[i], 64 * arg_sizes[i], 64);
                r = run_size(arg_sizes[i], &res[i]);
                if (r < 0) {
                        fprintf(stderr, "size %u: %s\n", arg_sizes[i], strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        r = emit(res, arg_n_sizes);
        for (size_t i = 0; i < arg_n_sizes; i++)
                for (EventType t = 0; t < _EV_MAX; t++)
                        free(res[i].ev[t].usec);
        if (r < 0)
                return EXIT_FAILURE;
        if (failures > 0) {
                fprintf(stderr, "%u correctness check(s) failed\n", failures);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
