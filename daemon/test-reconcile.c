/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "backend-sim.h"
#include "reconcile.h"
#include "strv.h"
#include "test-common.h"

DEFINE_TEST_MAIN

static DeviceState dev_state(const char *name, DeliveryMode mode, EntryKind fallback, uint32_t n, const Entry *e) {
        DeviceState s = { .mode = mode, .fallback = fallback };

        strcpy(s.name, name);
        if (n > 0) {
                s.entries = new(Entry, n);
                ASSERT_NOT_NULL(s.entries);
                memcpy(s.entries, e, n * sizeof(Entry));
        }
        s.n_entries = n;
        return s;
}

static void put(DeviceTable *t, DeviceState s) {
        ASSERT_OK(device_table_put(t, &s));
        device_state_done(&s);
}

#define HOST(h) ((Entry) { .target = TARGET_HART(h), .kind = ENTRY_HOST_FILE, .hart = (h), .refcount = 1 })
#define MRIF(t) ((Entry) { .target = (t), .kind = ENTRY_MRIF, .hart = NO_HART, .refcount = 1 })
#define GUEST(v, h, g) ((Entry) { .target = TARGET_VCPU(v), .kind = ENTRY_GUEST_FILE, .hart = (h), .guest = (g), .refcount = 1 })

TEST(phases_and_minimality_by_hand) {
        _cleanup_(desired_freep) Desired *d = new0(Desired, 1);
        _cleanup_(actual_freep) Actual *a = NULL;
        _cleanup_(plan_freep) Plan *p = NULL;
        Entry e;

        ASSERT_NOT_NULL(d);
        ASSERT_OK(actual_new(&a));

        /* a: identity -> MRIF (revoke); b: blocked -> identity (grant); c: same (no op);
         * d: MRIF -> identity (grant); e: off on both sides (no op); z: only in actual (revoke to blocked). */
        e = HOST(1);
        put(&d->devices, dev_state("a", MODE_MRIF, ENTRY_BLOCKED, 1, &MRIF(TARGET_HART(1))));
        put(&a->devices, dev_state("a", MODE_IDENTITY, ENTRY_BLOCKED, 1, &e));
        put(&d->devices, dev_state("b", MODE_IDENTITY, ENTRY_BLOCKED, 1, &e));
        put(&a->devices, dev_state("b", MODE_BLOCKED, ENTRY_BLOCKED, 0, NULL));
        put(&d->devices, dev_state("c", MODE_IDENTITY, ENTRY_BLOCKED, 1, &e));
        put(&a->devices, dev_state("c", MODE_IDENTITY, ENTRY_BLOCKED, 1, &e));
        put(&d->devices, dev_state("d", MODE_IDENTITY, ENTRY_BLOCKED, 1, &e));
        put(&a->devices, dev_state("d", MODE_MRIF, ENTRY_BLOCKED, 1, &MRIF(TARGET_HART(1))));
        put(&d->devices, dev_state("e", MODE_OFF, ENTRY_BLOCKED, 0, NULL));
        put(&a->devices, dev_state("e", MODE_OFF, ENTRY_BLOCKED, 0, NULL));
        put(&a->devices, dev_state("z", MODE_IDENTITY, ENTRY_BLOCKED, 1, &e));
        /* y: only in the model, the backend has no such device: nothing to program. */
        put(&d->devices, dev_state("y", MODE_IDENTITY, ENTRY_BLOCKED, 1, &e));

        ASSERT_OK(reconcile_plan(d, a, 0, &p));
        ASSERT_EQ(p->n_ops, 4);
        ASSERT_EQ(p->n_revoke, 2);
        ASSERT_STREQ(p->ops[0].device, "a");
        ASSERT_EQ(p->ops[0].mode, MODE_MRIF);
        ASSERT_TRUE(p->ops[0].revoke);
        ASSERT_STREQ(p->ops[1].device, "z");
        ASSERT_EQ(p->ops[1].mode, MODE_BLOCKED);
        ASSERT_STREQ(p->ops[2].device, "b");
        ASSERT_FALSE(p->ops[2].revoke);
        ASSERT_STREQ(p->ops[3].device, "d");
        /* a (1 changed), b (1 added), d (1 changed), z (1 removed) */
        ASSERT_EQ(p->n_entries_differing, 4);
        p = plan_free(p);

        /* Subset: only b is looked at. */
        {
                char *names[] = { (char *) "b", NULL };

                ASSERT_OK(reconcile_plan_subset(d, a, 0, names, NULL, &p));
                ASSERT_EQ(p->n_ops, 1);
                ASSERT_STREQ(p->ops[0].device, "b");
        }
}

TEST(guest_mode_differences_follow_grants) {
        DeviceState want, have;
        bool revoke;
        Entry we[2] = { GUEST(0, 2, 1), MRIF(TARGET_VCPU(1)) };
        Entry he[2] = { MRIF(TARGET_VCPU(0)), MRIF(TARGET_VCPU(1)) };

        want = dev_state("x", MODE_GUEST_FILE, ENTRY_MRIF, 2, we);
        have = dev_state("x", MODE_GUEST_FILE, ENTRY_MRIF, 2, he);
        /* The difference is a vCPU getting a file: the vCPU op does it, not a device op. */
        ASSERT_FALSE(reconcile_device_needs_op(&want, &have, &revoke));
        have.fallback = ENTRY_HOST_FILE;
        ASSERT_TRUE(reconcile_device_needs_op(&want, &have, &revoke));
        ASSERT_FALSE(revoke);   /* the guest file is new reachability */
        device_state_done(&want);
        device_state_done(&have);
}

/* ---- against the sim ---- */

typedef struct World {
        Backend *b;
        Sim *sim;
        Model *m;
        Policy *p;
} World;

static void world_done(World *w) {
        model_free(w->m);
        policy_free(w->p);
        backend_free(w->b);
}

/* n VMs with 2 vCPUs each on a 4-hart host with 1 guest file per hart; one device per VM plus host devices. */
static void world_new(World *w, unsigned n) {
        Geometry g = { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 1, .nr_ids = 255 };
        char u[UUID_STRING_MAX];

        ASSERT_OK(backend_sim_new(&g, &w->b));
        w->sim = backend_sim(w->b);
        ASSERT_NOT_NULL(w->sim);
        ASSERT_OK(model_new(&g, &w->m));
        ASSERT_OK(policy_new_default(&w->p));
        for (unsigned i = 0; i < n; i++) {
                char name[32];
                Vector v[2] = { { .hart = i % 4, .vcpu = 0 }, { .hart = (i + 1) % 4, .vcpu = 1 } };
                Vm *vm;

                test_uuid(i, u);
                ASSERT_OK(sim_add_vm(w->sim, u, NULL, 2));
                ASSERT_OK(sim_vcpu_move(w->sim, u, 0, i % 4));
                ASSERT_OK(sim_vcpu_move(w->sim, u, 1, (i + 2) % 4));
                ASSERT_OK(model_add_vm(w->m, u, NULL, 2, &vm));
                ASSERT_OK(model_vm_set_state(w->m, vm, VM_RUNNING));
                ASSERT_OK(model_vm_set_class(w->m, vm, (IsolationClass) (i % 3)));
                ASSERT_OK(model_vcpu_place(w->m, vm, 0, i % 4));
                ASSERT_OK(model_vcpu_place(w->m, vm, 1, (i + 2) % 4));
                (void) snprintf(name, sizeof(name), "0000:00:%02u.0", i);
                ASSERT_OK(sim_add_device(w->sim, name, CAPS_ALL));
                ASSERT_OK(sim_device_set_owner(w->sim, name, OWNER_VM, u));
                ASSERT_OK(sim_device_set_vectors(w->sim, name, 2, v));
                {
                        Device *d;

                        ASSERT_OK(model_add_device(w->m, name, CAPS_ALL, &d));
                        ASSERT_OK(model_device_set_owner(w->m, d, OWNER_VM, u));
                        ASSERT_OK(model_device_set_vectors(w->m, d, 2, v));
                }
        }
        for (unsigned i = 0; i < 3; i++) {
                char name[32];
                Vector v[2] = { { .hart = i, .vcpu = NO_HART }, { .hart = 3, .vcpu = NO_HART } };
                Device *d;

                (void) snprintf(name, sizeof(name), "0000:80:%02u.0", i);
                ASSERT_OK(sim_add_device(w->sim, name, CAP_MSI_FLAT | CAP_MSI_MRIF));
                ASSERT_OK(sim_device_set_owner(w->sim, name, i == 2 ? OWNER_USERSPACE : OWNER_HOST, NULL));
                ASSERT_OK(sim_device_set_vectors(w->sim, name, 2, v));
                ASSERT_OK(model_add_device(w->m, name, CAP_MSI_FLAT | CAP_MSI_MRIF, &d));
                ASSERT_OK(model_device_set_owner(w->m, d, i == 2 ? OWNER_USERSPACE : OWNER_HOST, NULL));
                ASSERT_OK(model_device_set_vectors(w->m, d, 2, v));
        }
}

static Plan *plan_now(World *w, Desired **ret_desired) {
        _cleanup_(actual_freep) Actual *a = NULL;
        Desired *d;
        Plan *p;

        ASSERT_OK(solver_compute(w->m, w->p, &d));
        ASSERT_OK(backend_dump(w->b, &a));
        ASSERT_OK(reconcile_plan(d, a, RECONCILE_GUEST_FILES, &p));
        if (ret_desired)
                *ret_desired = d;
        else
                desired_free(d);
        return p;
}

static void check_phases(const Plan *p) {
        int phase = 0;

        for (size_t i = 0; i < p->n_ops; i++) {
                const Op *op = &p->ops[i];
                int ph;

                if (op->type == OP_SET_MODE)
                        ph = op->revoke ? 0 : 3;
                else
                        ph = op->type == OP_VCPU_RELEASE ? 1 : 2;
                if (ph < phase)
                        TEST_FAIL("op %zu (%s) in phase %d after phase %d", i, op_type_to_string(op->type), ph, phase);
                phase = ph;
                ASSERT_EQ(op->revoke, i < p->n_revoke);
        }
}

/* Mirror the guest files the backend reports into the model (the watcher's job). */
static void sync_grants(World *w) {
        const Model *world = sim_world(w->sim);

        for (size_t i = 0; i < world->n_vms; i++) {
                Vm *vm = model_find_vm(w->m, world->vms[i]->uuid);

                for (uint32_t v = 0; vm && v < vm->nr_vcpus; v++)
                        if (vm->vcpus[v].hart == world->vms[i]->vcpus[v].hart)
                                ASSERT_OK(model_vcpu_set_guest_file(w->m, vm, v, world->vms[i]->vcpus[v].guest_file));
        }
}

static void converge(World *w) {
        _cleanup_(plan_freep) Plan *p = plan_now(w, NULL), *again = NULL;
        size_t applied;

        check_phases(p);
        ASSERT_OK(plan_apply(p, w->b, &applied));
        ASSERT_EQ(applied, p->n_ops);
        sync_grants(w);
        /* Idempotent and minimal: nothing left to do. */
        again = plan_now(w, NULL);
        if (again->n_ops != 0)
                TEST_FAIL("%zu ops left after applying (first: %s %s)", again->n_ops,
                          op_type_to_string(again->ops[0].type), again->ops[0].device);
        ASSERT_EQ(sim_n_violations(w->sim, NULL), 0);
}

TEST(converges_and_second_run_is_empty) {
        World w = {};

        world_new(&w, 6);
        converge(&w);
        /* Moving a priority around moves guest files: releases strictly before assignments. */
        for (unsigned i = 0; i < 6; i++) {
                char u[UUID_STRING_MAX];
                Vm *vm = model_find_vm(w.m, test_uuid(i, u));

                ASSERT_OK(model_vm_set_priority(w.m, vm, true, (int32_t) (6 - i)));
                {
                        _cleanup_(plan_freep) Plan *p = plan_now(&w, NULL);

                        check_phases(p);
                }
                converge(&w);
        }
        world_done(&w);
}

static bool states_differ(const DeviceState *d, const DeviceState *a) {
        uint32_t i = 0, j = 0;

        if (d->mode == MODE_OFF || a->mode == MODE_OFF)
                return false;
        if (d->mode != a->mode || (d->mode == MODE_GUEST_FILE && d->fallback != a->fallback))
                return true;
        /* Compare non-blocked entries in target order. */
        for (;;) {
                while (i < d->n_entries && d->entries[i].kind == ENTRY_BLOCKED)
                        i++;
                while (j < a->n_entries && a->entries[j].kind == ENTRY_BLOCKED)
                        j++;
                if (i >= d->n_entries || j >= a->n_entries)
                        return (i < d->n_entries) != (j < a->n_entries);
                if (!entry_same_destination(&d->entries[i], &a->entries[j]))
                        return true;
                i++;
                j++;
        }
}

/* Entries (non-blocked, by target) that are added, removed or point elsewhere. */
static size_t count_differing_entries(const DeviceState *d, const DeviceState *a) {
        size_t n = 0;

        for (int pass = 0; pass < 2; pass++) {
                const DeviceState *x = pass ? a : d, *y = pass ? d : a;

                for (uint32_t i = 0; i < x->n_entries; i++) {
                        const Entry *e = &x->entries[i], *o = NULL;

                        if (e->kind == ENTRY_BLOCKED)
                                continue;
                        for (uint32_t k = 0; k < y->n_entries; k++)
                                if (y->entries[k].target == e->target && y->entries[k].kind != ENTRY_BLOCKED)
                                        o = &y->entries[k];
                        if (!o)
                                n++;
                        else if (pass == 0 && !entry_same_destination(e, o))
                                n++;
                }
        }
        return n;
}

/* Does the plan need a set-mode for d over a? The rules of docs/solver.md, written out plainly. */
static bool reference_needs_op(const DeviceState *d, const DeviceState *a) {
        bool guest_mode = d->mode == MODE_GUEST_FILE && a->mode == MODE_GUEST_FILE && d->fallback == a->fallback;

        if (d->mode == MODE_OFF || a->mode == MODE_OFF)
                return false;
        if (d->mode != a->mode || (d->mode == MODE_GUEST_FILE && d->fallback != a->fallback))
                return true;
        /* A differing target needs one, unless it is a vCPU's guest-file entry that follows the grants. */
        for (int pass = 0; pass < 2; pass++) {
                const DeviceState *x = pass ? a : d, *y = pass ? d : a;

                for (uint32_t i = 0; i < x->n_entries; i++) {
                        const Entry *e = &x->entries[i], *o = NULL;

                        for (uint32_t k = 0; k < y->n_entries; k++)
                                if (y->entries[k].target == e->target)
                                        o = &y->entries[k];
                        if (e->kind == ENTRY_BLOCKED && (!o || o->kind == ENTRY_BLOCKED))
                                continue;
                        if (o && entry_same_destination(e, o))
                                continue;
                        if (guest_mode && TARGET_IS_VCPU(e->target) &&
                            (e->kind == ENTRY_GUEST_FILE || (o && o->kind == ENTRY_GUEST_FILE)))
                                continue;
                        return true;
                }
        }
        return false;
}

static uint32_t random_entries(uint64_t *rs, Entry *e, const uint32_t *targets, uint32_t n_targets) {
        static const EntryKind kinds[] = { ENTRY_BLOCKED, ENTRY_HOST_FILE, ENTRY_GUEST_FILE, ENTRY_MRIF };
        uint32_t n = 0;

        for (uint32_t i = 0; i < n_targets; i++) {
                EntryKind k = kinds[test_rand(rs) % ELEMENTSOF(kinds)];

                e[n++] = (Entry) {
                        .target = targets[i],
                        .kind = k,
                        /* A blocked entry goes nowhere, whatever else it says. */
                        .hart = k != ENTRY_MRIF && test_rand(rs) % 4 ? (uint32_t) (test_rand(rs) % 2) : NO_HART,
                        .guest = k == ENTRY_GUEST_FILE ? (uint8_t) (1 + test_rand(rs) % 2) : 0,
                        .refcount = 1,
                };
        }
        return n;
}

static void sort_targets(uint32_t *t, uint32_t n) {
        for (uint32_t i = 1; i < n; i++)
                for (uint32_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
                        uint32_t x = t[j];

                        t[j] = t[j - 1];
                        t[j - 1] = x;
                }
}

/*
 * The plan's comparison of a decision with a read-back, against the reference above and count_differing_entries():
 * random pairs, half with the same targets on both sides (the common case), half with targets on one side only.
 */
TEST(entry_comparison_matches_reference) {
        static const uint32_t pool[] = { TARGET_HART(0), TARGET_HART(1), TARGET_HART(5), TARGET_VCPU(0),
                                         TARGET_VCPU(1), TARGET_VCPU(2), TARGET_VCPU(7) };
        uint64_t rs = 99;
        unsigned n_ops = 0, n_same_targets = 0;

        for (int round = 0; round < 20000; round++) {
                _cleanup_(device_table_freep) DeviceTable *dt = NULL;
                _cleanup_(actual_freep) Actual *a = NULL;
                _cleanup_(desired_freep) Desired *d = NULL;
                _cleanup_(plan_freep) Plan *p = NULL;
                uint32_t td[ELEMENTSOF(pool)], ta[ELEMENTSOF(pool)], nd = 0, na = 0;
                Entry ed[ELEMENTSOF(pool)], ea[ELEMENTSOF(pool)];
                bool same = test_rand(&rs) % 2;
                DeviceState ds, as;

                for (size_t i = 0; i < ELEMENTSOF(pool); i++) {
                        bool in_d = test_rand(&rs) % 2;

                        if (in_d)
                                td[nd++] = pool[i];
                        if (same ? in_d : test_rand(&rs) % 2)
                                ta[na++] = pool[i];
                }
                /* Targets sorted, as both sides keep them. */
                sort_targets(td, nd);
                sort_targets(ta, na);
                n_same_targets += nd == na && memcmp(td, ta, nd * sizeof(uint32_t)) == 0;
                ds = dev_state("d", (DeliveryMode) (1 + test_rand(&rs) % 4),
                               test_rand(&rs) % 2 ? ENTRY_MRIF : ENTRY_BLOCKED, random_entries(&rs, ed, td, nd), ed);
                /* The read-back mostly agrees with the decision where both have a target. */
                (void) random_entries(&rs, ea, ta, na);
                for (uint32_t i = 0; i < na; i++)
                        for (uint32_t k = 0; k < nd; k++)
                                if (ed[k].target == ta[i] && test_rand(&rs) % 8 != 0)
                                        ea[i] = ed[k];
                as = dev_state("d", test_rand(&rs) % 4 ? ds.mode : (DeliveryMode) (1 + test_rand(&rs) % 4),
                               test_rand(&rs) % 4 ? ds.fallback : ENTRY_HOST_FILE, na, ea);
                ASSERT_NOT_NULL(d = new0(Desired, 1));
                ASSERT_OK(actual_new(&a));
                put(&d->devices, ds);
                put(&a->devices, as);
                ASSERT_OK(reconcile_plan(d, a, RECONCILE_GUEST_FILES, &p));
                ASSERT_EQ(p->n_entries_differing,
                          count_differing_entries(&d->devices.devices[0], &a->devices.devices[0]));
                if ((p->n_ops == 1) != reference_needs_op(&d->devices.devices[0], &a->devices.devices[0]))
                        TEST_FAIL("round %d: plan has %zu ops, the reference says %s", round, p->n_ops,
                                  p->n_ops ? "none" : "one");
                n_ops += p->n_ops;
        }
        /* Both kinds of pairs, and both answers, came up often. */
        fprintf(stderr, "%u pairs with the same targets, %u needed an operation\n", n_same_targets, n_ops);
        ASSERT_TRUE(n_same_targets > 8000 && n_same_targets < 16000);
        ASSERT_TRUE(n_ops > 2000 && n_ops < 18000);
}

TEST(random_perturbations_give_exactly_the_differing_devices) {
        World w = {};
        uint64_t rs = 42;
        size_t total_devices = 0, total_entries = 0;

        world_new(&w, 9);
        converge(&w);
        for (int round = 0; round < 40; round++) {
                _cleanup_(plan_freep) Plan *p = NULL;
                _cleanup_(desired_freep) Desired *d = NULL;
                _cleanup_(actual_freep) Actual *a = NULL;
                _cleanup_strv_free_ char **expected = NULL;
                const Model *world = sim_world(w.sim);
                unsigned n = 1 + (unsigned) (test_rand(&rs) % 4);
                size_t n_set_mode = 0, n_entries = 0;

                /* Perturb the backend behind the daemon's back: random modes on random devices. */
                for (unsigned k = 0; k < n; k++) {
                        const Device *dev = world->devices[test_rand(&rs) % world->n_devices];
                        Op op = { .type = OP_SET_MODE, .mode = (DeliveryMode) (1 + test_rand(&rs) % 4),
                                  .fallback = (EntryKind) (test_rand(&rs) % 2 ? ENTRY_MRIF : ENTRY_BLOCKED) };

                        strcpy(op.device, dev->name);
                        (void) backend_apply(w.b, &op);     /* may be refused (e.g. guest-file on a host device) */
                }
                ASSERT_OK(solver_compute(w.m, w.p, &d));
                ASSERT_OK(backend_dump(w.b, &a));
                for (size_t i = 0; i < d->devices.n_devices; i++) {
                        const DeviceState *ds = &d->devices.devices[i];
                        const DeviceState *as = device_table_find(&a->devices, ds->name);

                        ASSERT_NOT_NULL(as);
                        if (states_differ(ds, as))
                                ASSERT_OK(strv_extend(&expected, ds->name));
                        n_entries += count_differing_entries(ds, as);
                }
                ASSERT_OK(reconcile_plan(d, a, RECONCILE_GUEST_FILES, &p));
                ASSERT_EQ(p->n_entries_differing, n_entries);
                check_phases(p);
                for (size_t i = 0; i < p->n_ops; i++)
                        if (p->ops[i].type == OP_SET_MODE) {
                                n_set_mode++;
                                if (!strv_contains(expected, p->ops[i].device))
                                        TEST_FAIL("round %d: op for %s, which did not differ", round, p->ops[i].device);
                        }
                ASSERT_EQ(n_set_mode, strv_length(expected));
                total_devices += n_set_mode;
                total_entries += n_entries;
                converge(&w);
        }
        /* The perturbations did perturb. */
        fprintf(stderr, "%zu devices, %zu entries differed over 40 rounds\n", total_devices, total_entries);
        ASSERT_TRUE(total_devices >= 20);
        ASSERT_TRUE(total_entries >= total_devices);
        world_done(&w);
}

TEST(reconciler_driver_coalesces) {
        World w = {};
        _cleanup_(reconciler_freep) Reconciler *r = NULL;
        ReconcileStats st;
        char u[UUID_STRING_MAX];
        Vm *vm;

        world_new(&w, 4);
        ASSERT_OK(reconciler_new(w.m, &w.p, w.b, &r));
        ASSERT_TRUE(reconciler_is_dirty(r));
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_TRUE(st.full);
        ASSERT_TRUE(st.n_applied > 0);
        ASSERT_FALSE(reconciler_is_dirty(r));
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_EQ(st.n_ops, 0);

        /* A burst of events on one VM: marked dirty once, one run. */
        test_uuid(1, u);
        vm = model_find_vm(w.m, u);
        ASSERT_OK(sim_vcpu_move(w.sim, u, 0, 3));
        ASSERT_OK(model_vcpu_place(w.m, vm, 0, 3));
        ASSERT_TRUE(reconciler_mark_dirty(r, DIRTY_VM, u));
        ASSERT_OK(sim_vcpu_move(w.sim, u, 1, 0));
        ASSERT_OK(model_vcpu_place(w.m, vm, 1, 0));
        ASSERT_FALSE(reconciler_mark_dirty(r, DIRTY_VM, u));
        sync_grants(&w);
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_FALSE(st.full);
        ASSERT_FALSE(reconciler_is_dirty(r));
        {
                _cleanup_(plan_freep) Plan *p = NULL;

                ASSERT_OK(reconciler_plan(r, &p));
                ASSERT_EQ(p->n_ops, 0);
        }
        ASSERT_OK(reconciler_resync(r, &st));
        ASSERT_TRUE(st.full);
        ASSERT_EQ(st.n_ops, 0);
        ASSERT_EQ(sim_n_violations(w.sim, NULL), 0);
        r = reconciler_free(r);
        world_done(&w);
}

static bool device_states_same(const DeviceState *a, const DeviceState *b) {
        if (a->mode != b->mode || a->fallback != b->fallback || a->isolation != b->isolation ||
            a->reason != b->reason || a->violation != b->violation || a->caps != b->caps ||
            a->locked != b->locked || a->apply_state != b->apply_state || a->apply_error != b->apply_error ||
            a->n_entries != b->n_entries)
                return false;
        for (uint32_t i = 0; i < a->n_entries; i++) {
                const Entry *x = &a->entries[i], *y = &b->entries[i];

                if (x->target != y->target || !entry_same_destination(x, y) || x->reason != y->reason ||
                    x->flags != y->flags || x->refcount != y->refcount)
                        return false;
        }
        return true;
}

/* Every device whose state differs from before the run (changed, added or removed) is in last_solved. Returns
 * how many differed. */
static size_t assert_last_solved_covers(const Reconciler *r, const DeviceTable *before) {
        char *const *l = reconciler_last_solved(r);
        const DeviceTable *now = &reconciler_desired(r)->devices;
        size_t n = 0;

        ASSERT_NOT_NULL(l);
        for (size_t i = 0; i < now->n_devices; i++) {
                const DeviceState *s = &now->devices[i], *old = device_table_find(before, s->name);

                if (old && device_states_same(old, s))
                        continue;
                n++;
                if (!strv_contains((char **) l, s->name))
                        TEST_FAIL("'%s' changed in the run but is not in reconciler_last_solved()", s->name);
        }
        for (size_t i = 0; i < before->n_devices; i++)
                if (!device_table_find(now, before->devices[i].name)) {
                        n++;
                        if (!strv_contains((char **) l, before->devices[i].name))
                                TEST_FAIL("'%s' was removed but is not in reconciler_last_solved()",
                                          before->devices[i].name);
                }
        return n;
}

TEST(last_solved_names_what_the_run_recomputed) {
        World w = {};
        _cleanup_(reconciler_freep) Reconciler *r = NULL;
        ReconcileStats st;
        uint64_t rs = 7;
        size_t n_differed = 0, n_listed = 0, n_runs = 0;
        char u[UUID_STRING_MAX];

        world_new(&w, 6);
        ASSERT_OK(reconciler_new(w.m, &w.p, w.b, &r));
        ASSERT_TRUE(reconciler_last_solved(r) == NULL);         /* nothing compared yet */
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_TRUE(st.full);
        ASSERT_TRUE(reconciler_last_solved(r) == NULL);         /* a full solve recomputed every device */

        /* A run with nothing to do recomputed nothing. */
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_NOT_NULL(reconciler_last_solved(r));
        ASSERT_TRUE(reconciler_last_solved(r)[0] == NULL);

        /* vCPU moves with contention for the one guest file per hart: other VMs' devices change too. */
        for (int round = 0; round < 30; round++) {
                _cleanup_(device_table_freep) DeviceTable *before = NULL;
                unsigned i = (unsigned) (test_rand(&rs) % 6);
                uint32_t vcpu = (uint32_t) (test_rand(&rs) % 2), hart = (uint32_t) (test_rand(&rs) % 4);
                Vm *vm = model_find_vm(w.m, test_uuid(i, u));
                char *const *l;

                ASSERT_OK(device_table_copy(&reconciler_desired(r)->devices, &before));
                ASSERT_OK(sim_vcpu_move(w.sim, u, vcpu, hart));
                ASSERT_OK(model_vcpu_place(w.m, vm, vcpu, hart));
                sync_grants(&w);
                (void) reconciler_mark_dirty(r, DIRTY_VM, u);
                ASSERT_OK(reconciler_run(r, &st));
                ASSERT_FALSE(st.full);
                n_differed += assert_last_solved_covers(r, before);
                l = reconciler_last_solved(r);
                /* The VM's own device is always looked at; the host devices never. */
                ASSERT_TRUE(strv_contains((char **) l, vm->devices[0]->name));
                ASSERT_FALSE(strv_contains((char **) l, "0000:80:00.0"));
                n_listed += strv_length((char **) l);
                n_runs++;
        }
        /* The moves did change decisions, and the lists are far from "every device" (9 here). */
        fprintf(stderr, "%zu device states changed, %zu listed over %zu runs\n", n_differed, n_listed, n_runs);
        ASSERT_TRUE(n_differed > 0);
        ASSERT_TRUE(n_listed < n_runs * 4);

        /* One device's owner: exactly that device. */
        {
                _cleanup_(device_table_freep) DeviceTable *before = NULL;
                char *const *l;

                ASSERT_OK(device_table_copy(&reconciler_desired(r)->devices, &before));
                ASSERT_OK(model_device_set_owner(w.m, model_find_device(w.m, "0000:80:00.0"), OWNER_USERSPACE,
                                                 NULL));
                ASSERT_OK(sim_device_set_owner(w.sim, "0000:80:00.0", OWNER_USERSPACE, NULL));
                (void) reconciler_mark_dirty(r, DIRTY_DEVICE, "0000:80:00.0");
                ASSERT_OK(reconciler_run(r, &st));
                ASSERT_EQ(assert_last_solved_covers(r, before), 1);
                l = reconciler_last_solved(r);
                ASSERT_EQ(strv_length((char **) l), 1);
                ASSERT_STREQ(l[0], "0000:80:00.0");
        }

        /* A removed device is listed, and gone from the desired state. */
        {
                _cleanup_(device_table_freep) DeviceTable *before = NULL;

                ASSERT_OK(device_table_copy(&reconciler_desired(r)->devices, &before));
                ASSERT_OK(sim_remove_device(w.sim, "0000:80:01.0"));
                ASSERT_OK(model_remove_device(w.m, "0000:80:01.0"));
                (void) reconciler_mark_dirty(r, DIRTY_DEVICE, "0000:80:01.0");
                ASSERT_OK(reconciler_run(r, &st));
                ASSERT_EQ(assert_last_solved_covers(r, before), 1);
                ASSERT_TRUE(strv_contains((char **) reconciler_last_solved(r), "0000:80:01.0"));
                ASSERT_TRUE(device_table_find(&reconciler_desired(r)->devices, "0000:80:01.0") == NULL);
        }

        /* A resync, and any run after a mark of everything, recomputed every device. */
        ASSERT_OK(reconciler_resync(r, &st));
        ASSERT_TRUE(reconciler_last_solved(r) == NULL);
        (void) reconciler_mark_dirty(r, DIRTY_ALL, NULL);
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_TRUE(st.full);
        ASSERT_TRUE(reconciler_last_solved(r) == NULL);
        r = reconciler_free(r);
        world_done(&w);
}

TEST(actual_put_vm_keeps_order) {
        _cleanup_(actual_freep) Actual *a = NULL;
        static const unsigned order[] = { 3, 1, 4, 0, 2 };

        ASSERT_OK(actual_new(&a));
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                VmGrants g = { .nr_vcpus = 1 };

                test_uuid(order[i], g.uuid);
                g.vcpus = new0(VcpuGrant, 1);
                ASSERT_NOT_NULL(g.vcpus);
                g.vcpus[0].guest = (uint8_t) (1 + i);
                ASSERT_OK(actual_put_vm(a, &g));
                ASSERT_TRUE(g.vcpus == NULL);                   /* taken */
        }
        ASSERT_EQ(a->n_vms, 5);
        for (size_t i = 1; i < a->n_vms; i++)
                ASSERT_TRUE(strcmp(a->vms[i - 1].uuid, a->vms[i].uuid) < 0);
        /* The same uuid again replaces: no second entry. */
        {
                VmGrants g = { .nr_vcpus = 1 };

                test_uuid(4, g.uuid);
                g.vcpus = new0(VcpuGrant, 1);
                ASSERT_NOT_NULL(g.vcpus);
                g.vcpus[0].guest = 9;
                ASSERT_OK(actual_put_vm(a, &g));
                ASSERT_EQ(a->n_vms, 5);
                ASSERT_EQ(a->vms[4].vcpus[0].guest, 9);
        }
}

static unsigned n_subset_reads;

static int counting_dump_subset(Backend *b, char *const *devices, char *const *vms, Actual *ret) {
        n_subset_reads++;
        return backend_sim_ops.dump_subset(b, devices, vms, ret);
}

/*
 * A backend that reads a run's devices and VMs back in one call and one that is asked for each of them in turn
 * (the kernel backend) must lead to the same runs: same operations, same decisions, same backend state. The
 * backends are perturbed behind the daemon's back, so the read-back decides what is planned.
 */
TEST(subset_readback_equals_one_by_one) {
        BackendOps batched = backend_sim_ops, single = backend_sim_ops;
        World w[2] = {};
        _cleanup_(reconciler_freep) Reconciler *r0 = NULL, *r1 = NULL;
        Reconciler *r[2];
        uint64_t rs = 11;
        size_t n_ops = 0;
        unsigned n_incremental = 0;

        batched.dump_subset = counting_dump_subset;
        single.dump_subset = NULL;
        for (int k = 0; k < 2; k++) {
                world_new(&w[k], 8);
                w[k].b->ops = k == 0 ? &batched : &single;
        }
        ASSERT_OK(reconciler_new(w[0].m, &w[0].p, w[0].b, &r0));
        ASSERT_OK(reconciler_new(w[1].m, &w[1].p, w[1].b, &r1));
        r[0] = r0, r[1] = r1;
        n_subset_reads = 0;
        for (int round = 0; round < 60; round++) {
                unsigned i = (unsigned) (test_rand(&rs) % 8), what = (unsigned) (test_rand(&rs) % 3);
                uint32_t vcpu = (uint32_t) (test_rand(&rs) % 2), hart = (uint32_t) (test_rand(&rs) % 4);
                DeliveryMode mode = (DeliveryMode) (1 + test_rand(&rs) % 4);
                ReconcileStats st[2];
                char u[UUID_STRING_MAX], dev[32];

                test_uuid(i, u);
                (void) snprintf(dev, sizeof(dev), "0000:00:%02u.0", i);
                for (int k = 0; k < 2; k++) {
                        Vm *vm = model_find_vm(w[k].m, u);

                        if (what == 0) {
                                ASSERT_OK(sim_vcpu_move(w[k].sim, u, vcpu, hart));
                                ASSERT_OK(model_vcpu_place(w[k].m, vm, vcpu, hart));
                        } else {
                                /* Somebody else set the VM's device's mode: only the read-back can tell. */
                                Op op = { .type = OP_SET_MODE, .mode = mode, .fallback = ENTRY_MRIF };

                                strcpy(op.device, dev);
                                (void) backend_apply(w[k].b, &op);
                        }
                        sync_grants(&w[k]);
                        (void) reconciler_mark_dirty(r[k], DIRTY_VM, u);
                        ASSERT_OK(reconciler_run(r[k], &st[k]));
                }
                ASSERT_EQ(st[0].full, st[1].full);
                ASSERT_EQ(st[0].n_ops, st[1].n_ops);
                ASSERT_EQ(st[0].n_applied, st[1].n_applied);
                n_incremental += !st[0].full;
                n_ops += st[0].n_ops;
                {
                        const DeviceTable *t0 = &reconciler_desired(r0)->devices,
                                          *t1 = &reconciler_desired(r1)->devices;
                        _cleanup_(actual_freep) Actual *a0 = NULL, *a1 = NULL;

                        ASSERT_EQ(t0->n_devices, t1->n_devices);
                        for (size_t j = 0; j < t0->n_devices; j++)
                                ASSERT_TRUE(device_states_same(&t0->devices[j], &t1->devices[j]));
                        ASSERT_OK(backend_dump(w[0].b, &a0));
                        ASSERT_OK(backend_dump(w[1].b, &a1));
                        ASSERT_EQ(a0->devices.n_devices, a1->devices.n_devices);
                        for (size_t j = 0; j < a0->devices.n_devices; j++)
                                ASSERT_TRUE(device_states_same(&a0->devices.devices[j], &a1->devices.devices[j]));
                }
        }
        /* Every run after the first full one read back through dump_subset(), and there was work to do. */
        fprintf(stderr, "%u incremental runs, %zu ops\n", n_incremental, n_ops);
        ASSERT_EQ(n_subset_reads, n_incremental);
        ASSERT_TRUE(n_incremental >= 50);
        ASSERT_TRUE(n_ops >= 20);
        r0 = reconciler_free(r0);
        r1 = reconciler_free(r1);
        for (int k = 0; k < 2; k++) {
                w[k].b->ops = &backend_sim_ops;
                world_done(&w[k]);
        }
}

/* A backend that refuses operations on one device: a failed revoke must stop everything after it. */
static char failing_device[DEVICE_NAME_MAX];

static int failing_apply(Backend *b, const Op *op) {
        if (op->type == OP_SET_MODE && streq(op->device, failing_device))
                return -EIO;
        return backend_sim_ops.apply(b, op);
}

/*
 * A sim of two harts whose operations go through ops (failing_apply()), with one-vector devices named names[], and
 * a model that knows them: the first one owned by a userspace driver, the others by the host.
 */
static void refusing_host(const BackendOps *ops, const char *const *names, size_t n, Backend **ret_b, Model **ret_m) {
        Geometry g = { .nr_groups = 1, .nr_harts = 2, .nr_guest_files = 1, .nr_ids = 255 };
        Vector v[1] = { { .hart = 1, .vcpu = NO_HART } };
        Sim *s;

        ASSERT_OK(backend_new(ops, "harts=2,guests=1", ret_b));
        s = backend_sim(*ret_b);
        ASSERT_NOT_NULL(s);
        ASSERT_OK(model_new(&g, ret_m));
        for (size_t i = 0; i < n; i++) {
                Device *d;

                ASSERT_OK(sim_add_device(s, names[i], CAP_MSI_FLAT | CAP_MSI_MRIF));
                ASSERT_OK(sim_device_set_owner(s, names[i], OWNER_HOST, NULL));
                ASSERT_OK(sim_device_set_vectors(s, names[i], 1, v));
                ASSERT_OK(model_add_device(*ret_m, names[i], CAP_MSI_FLAT | CAP_MSI_MRIF, &d));
                ASSERT_OK(model_device_set_owner(*ret_m, d, i == 0 ? OWNER_USERSPACE : OWNER_HOST, NULL));
                ASSERT_OK(model_device_set_vectors(*ret_m, d, 1, v));
        }
}

TEST(failed_revoke_stops_the_plan) {
        static const char *const names[] = { "a", "b" };
        BackendOps ops = backend_sim_ops;
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(reconciler_freep) Reconciler *r = NULL;
        ReconcileStats st;

        ops.apply = failing_apply;
        /* a: host device currently identity, to become MRIF (revoke); b: blocked, to become identity (grant). */
        refusing_host(&ops, names, ELEMENTSOF(names), &b, &m);
        ASSERT_OK(policy_new_default(&p));
        {
                Op op = { .type = OP_SET_MODE, .mode = MODE_IDENTITY };

                strcpy(op.device, "a");
                ASSERT_OK(backend_apply(b, &op));
        }
        strcpy(failing_device, "a");
        ASSERT_OK(reconciler_new(m, &p, b, &r));
        ASSERT_ERROR(reconciler_run(r, &st), EIO);
        ASSERT_EQ(st.n_ops, 2);
        ASSERT_EQ(st.n_revoke, 1);
        ASSERT_EQ(st.n_applied, 0);
        ASSERT_TRUE(reconciler_is_dirty(r));
        {
                DeviceState ds = {};

                ASSERT_OK(b->ops->dump_device(b, "b", &ds));
                ASSERT_EQ(ds.mode, MODE_BLOCKED);       /* the grant did not run */
                device_state_done(&ds);
        }
        /* Each device says why it is not applied: a refused with its errno, b never reached. */
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "a")->apply_state, APPLY_FAILED);
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "a")->apply_error, -EIO);
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "b")->apply_state, APPLY_PENDING);
        failing_device[0] = 0;
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_TRUE(st.full);
        ASSERT_EQ(st.n_applied, 2);
        /* Read back after the apply: both equal their decision now. */
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "a")->apply_state, APPLY_DONE);
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "a")->apply_error, 0);
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "b")->apply_state, APPLY_DONE);
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_EQ(st.n_ops, 0);
}

/* A backend that takes operations without doing them: read back, the device is not applied. */
static int lying_apply(Backend *b, const Op *op) {
        return 0;
}

/*
 * The states an event's run leaves when an operation is refused, in either phase: the refused device is failed with
 * the errno, the devices whose operations ran are applied, the ones never reached are pending. An event's run
 * finds each device's operation through its own bookkeeping (not the full run's index), so check it there.
 */
static void set_owner(Model *m, Reconciler *r, const char *name, OwnerKind owner) {
        ASSERT_OK(model_device_set_owner(m, model_find_device(m, name), owner, NULL));
        (void) reconciler_mark_dirty(r, DIRTY_DEVICE, name);
}

static ApplyState apply_state_of(Reconciler *r, const char *name, int *ret_error) {
        const DeviceState *ds = device_table_find(&reconciler_desired(r)->devices, name);

        ASSERT_NOT_NULL(ds);
        *ret_error = ds->apply_error;
        return ds->apply_state;
}

/* An event's run of three set-modes where the backend refuses the one for refuse. */
static void run_refusing(Reconciler *r, const char *refuse, size_t n_revoke, size_t n_applied) {
        ReconcileStats st;

        strcpy(failing_device, refuse);
        ASSERT_ERROR(reconciler_run(r, &st), EIO);
        ASSERT_FALSE(st.full);
        ASSERT_EQ(st.n_ops, 3);
        ASSERT_EQ(st.n_revoke, n_revoke);
        ASSERT_EQ(st.n_applied, n_applied);
}

TEST(event_run_states_after_a_refused_operation) {
        static const char *const names[] = { "a", "b", "c" };
        BackendOps ops = backend_sim_ops;
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(reconciler_freep) Reconciler *r = NULL;
        ReconcileStats st;
        int e;

        ops.apply = failing_apply;
        /* a: userspace (MRIF), b and c: host (identity). */
        refusing_host(&ops, names, ELEMENTSOF(names), &b, &m);
        ASSERT_OK(policy_new_default(&p));
        failing_device[0] = 0;
        ASSERT_OK(reconciler_new(m, &p, b, &r));
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_TRUE(st.full);

        /* One event: a to the host (a grant), b and c to userspace (revokes). Plan: b, c, then a. b is refused. */
        set_owner(m, r, "a", OWNER_HOST);
        set_owner(m, r, "b", OWNER_USERSPACE);
        set_owner(m, r, "c", OWNER_USERSPACE);
        run_refusing(r, "b", 2, 0);
        ASSERT_EQ(apply_state_of(r, "b", &e), APPLY_FAILED);
        ASSERT_EQ(e, -EIO);
        ASSERT_EQ(apply_state_of(r, "c", &e), APPLY_PENDING);
        ASSERT_EQ(apply_state_of(r, "a", &e), APPLY_PENDING);

        /* The next run is a full one and applies everything. */
        failing_device[0] = 0;
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_TRUE(st.full);
        ASSERT_EQ(st.n_applied, 3);

        /* Back again: a to userspace (a revoke), c and b to the host (grants). Plan: a, then c, b. b is refused. */
        set_owner(m, r, "c", OWNER_HOST);
        set_owner(m, r, "b", OWNER_HOST);
        set_owner(m, r, "a", OWNER_USERSPACE);
        run_refusing(r, "b", 1, 2);
        ASSERT_EQ(apply_state_of(r, "a", &e), APPLY_DONE);
        ASSERT_EQ(apply_state_of(r, "c", &e), APPLY_DONE);
        ASSERT_EQ(apply_state_of(r, "b", &e), APPLY_FAILED);
        ASSERT_EQ(e, -EIO);
        failing_device[0] = 0;
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_EQ(apply_state_of(r, "b", &e), APPLY_DONE);
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_EQ(st.n_ops, 0);
}

TEST(applied_means_read_back_equal) {
        Geometry g = { .nr_groups = 1, .nr_harts = 2, .nr_guest_files = 1, .nr_ids = 255 };
        BackendOps ops = backend_sim_ops;
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(reconciler_freep) Reconciler *r = NULL;
        Vector v[1] = { { .hart = 1, .vcpu = NO_HART } };
        const DeviceState *ds;
        Device *d;
        Sim *s;

        ops.apply = lying_apply;
        ASSERT_OK(backend_new(&ops, "harts=2,guests=1", &b));
        s = backend_sim(b);
        ASSERT_OK(model_new(&g, &m));
        ASSERT_OK(policy_new_default(&p));
        ASSERT_OK(sim_add_device(s, "a", CAP_MSI_FLAT | CAP_MSI_MRIF));
        ASSERT_OK(sim_device_set_owner(s, "a", OWNER_HOST, NULL));
        ASSERT_OK(sim_device_set_vectors(s, "a", 1, v));
        ASSERT_OK(model_add_device(m, "a", CAP_MSI_FLAT | CAP_MSI_MRIF, &d));
        ASSERT_OK(model_device_set_owner(m, d, OWNER_HOST, NULL));
        ASSERT_OK(model_device_set_vectors(m, d, 1, v));
        /* "ghost": known to the model, not to the backend. */
        ASSERT_OK(model_add_device(m, "ghost", CAP_MSI_FLAT | CAP_MSI_MRIF, &d));
        ASSERT_OK(model_device_set_owner(m, d, OWNER_HOST, NULL));

        ASSERT_OK(reconciler_new(m, &p, b, &r));
        ASSERT_OK(reconciler_run(r, NULL));
        ds = device_table_find(&reconciler_desired(r)->devices, "a");
        ASSERT_EQ(ds->mode, MODE_IDENTITY);
        ASSERT_EQ(ds->apply_state, APPLY_PENDING);      /* the backend said yes, the read-back says no */
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "ghost")->apply_state, APPLY_UNSUPPORTED);

        /* The honest backend: applied. */
        b->ops = &backend_sim_ops;
        ASSERT_OK(reconciler_resync(r, NULL));
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "a")->apply_state, APPLY_DONE);
        /* Re-decided (another owner): pending until applied and read back, then applied again. */
        ASSERT_OK(model_device_set_owner(m, model_find_device(m, "a"), OWNER_USERSPACE, NULL));
        ASSERT_OK(solver_update_device(m, p, (Desired *) reconciler_desired(r), "a"));
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "a")->apply_state, APPLY_PENDING);
        reconciler_mark_dirty(r, DIRTY_DEVICE, "a");
        ASSERT_OK(reconciler_run(r, NULL));
        ds = device_table_find(&reconciler_desired(r)->devices, "a");
        ASSERT_EQ(ds->mode, MODE_MRIF);
        ASSERT_EQ(ds->apply_state, APPLY_DONE);
}

/*
 * Devices the backend has and the daemon was never told about: a host
 * driver's device keeps reaching its files (identity, the policy's default
 * for host devices), a device bound to a userspace driver gets that owner's
 * default (MRIF). Neither is blocked for being unknown.
 */
/* A sim of two harts with one guest file each and a host device "nvme" (one vector on hart 1); an empty model. */
static Sim *sim_with_host_nvme(Backend **ret_b, Model **ret_m, Policy **ret_p) {
        Geometry g = { .nr_groups = 1, .nr_harts = 2, .nr_guest_files = 1, .nr_ids = 255 };
        Vector v[1] = { { .hart = 1, .vcpu = NO_HART } };
        Sim *s;

        ASSERT_OK(backend_new(&backend_sim_ops, "harts=2,guests=1", ret_b));
        s = backend_sim(*ret_b);
        ASSERT_OK(model_new(&g, ret_m));
        ASSERT_OK(policy_new_default(ret_p));
        ASSERT_OK(sim_add_device(s, "nvme", CAP_MSI_FLAT | CAP_MSI_MRIF));
        ASSERT_OK(sim_device_set_owner(s, "nvme", OWNER_HOST, NULL));
        ASSERT_OK(sim_device_set_vectors(s, "nvme", 1, v));
        return s;
}

/*
 * The backend's facts about a device (here: the isolation lock) change behind the daemon's back; the next event
 * run reads the device back, corrects the model and decides again from the new facts. An event that changes no
 * fact leaves the model alone.
 */
TEST(event_run_takes_the_backends_facts) {
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(reconciler_freep) Reconciler *r = NULL;
        Sim *s = sim_with_host_nvme(&b, &m, &p);
        const Device *d;
        uint64_t gen;

        ASSERT_OK(reconciler_new(m, &p, b, &r));
        ASSERT_OK(reconciler_run(r, NULL));
        d = model_find_device(m, "nvme");
        ASSERT_NOT_NULL(d);
        ASSERT_FALSE(d->locked);
        ASSERT_EQ(desired_find_device(reconciler_desired(r), "nvme")->mode, MODE_IDENTITY);

        /* An event that changes nothing the backend knows: the model is not touched. */
        gen = m->generation;
        (void) reconciler_mark_dirty(r, DIRTY_DEVICE, "nvme");
        ASSERT_OK(reconciler_run(r, NULL));
        ASSERT_EQ(m->generation, gen);

        ASSERT_OK(sim_device_set_locked(s, "nvme", true));
        (void) reconciler_mark_dirty(r, DIRTY_DEVICE, "nvme");
        ASSERT_OK(reconciler_run(r, NULL));
        ASSERT_TRUE(d->locked);
        ASSERT_EQ(desired_find_device(reconciler_desired(r), "nvme")->mode, MODE_MRIF);
        ASSERT_TRUE(desired_find_device(reconciler_desired(r), "nvme")->locked);
}

TEST(unknown_backend_devices_are_adopted_not_blocked) {
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(reconciler_freep) Reconciler *r = NULL;
        _cleanup_(actual_freep) Actual *a = NULL;
        Sim *s = sim_with_host_nvme(&b, &m, &p);
        Vector v[1] = { { .hart = 1, .vcpu = NO_HART } };
        const DeviceState *ds;
        const Device *d;

        ASSERT_OK(sim_add_device(s, "dpdk", CAP_MSI_FLAT | CAP_MSI_MRIF));
        ASSERT_OK(sim_device_set_owner(s, "dpdk", OWNER_USERSPACE, NULL));
        ASSERT_OK(sim_device_set_vectors(s, "dpdk", 1, v));
        /* The kernel part gives a host device identity entries before any daemon runs. */
        {
                Op op = { .type = OP_SET_MODE, .mode = MODE_IDENTITY };

                strcpy(op.device, "nvme");
                ASSERT_OK(backend_apply(b, &op));
        }

        ASSERT_OK(reconciler_new(m, &p, b, &r));
        ASSERT_OK(reconciler_run(r, NULL));

        d = model_find_device(m, "nvme");
        ASSERT_NOT_NULL(d);
        ASSERT_EQ(d->owner, OWNER_HOST);
        ds = device_table_find(&reconciler_desired(r)->devices, "nvme");
        ASSERT_NOT_NULL(ds);
        ASSERT_EQ(ds->mode, MODE_IDENTITY);
        d = model_find_device(m, "dpdk");
        ASSERT_NOT_NULL(d);
        ASSERT_EQ(d->owner, OWNER_USERSPACE);
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "dpdk")->mode, MODE_MRIF);

        /* What the backend holds now: the host device still reaches its file. */
        ASSERT_OK(backend_dump(b, &a));
        ds = device_table_find(&a->devices, "nvme");
        ASSERT_NOT_NULL(ds);
        ASSERT_EQ(ds->mode, MODE_IDENTITY);
        ASSERT_EQ(ds->n_entries, 1);
        ASSERT_EQ(ds->entries[0].kind, ENTRY_HOST_FILE);
        ASSERT_EQ(device_table_find(&a->devices, "dpdk")->mode, MODE_MRIF);
}

/*
 * A backend that cannot read one device back (the kernel today): a changed
 * device is pending. A change that moved entries is read back when the
 * backend notifies it; one that moved none (no IRQs: the kernel sends
 * nothing) leaves the reconciler dirty, and the next run reads it back and
 * finds it applied. A backend that takes operations without doing them gets
 * one read-back per change, not an endless loop.
 */
TEST(readback_without_dump_device) {
        Geometry g = { .nr_groups = 1, .nr_harts = 2, .nr_guest_files = 1, .nr_ids = 255 };
        BackendOps ops = backend_sim_ops, lying;
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(reconciler_freep) Reconciler *r = NULL;
        Vector v[1] = { { .hart = 1, .vcpu = NO_HART } };
        ReconcileStats st;
        Device *d;
        Sim *s;

        ops.dump_device = NULL;
        ops.dump_subset = NULL;
        lying = ops;
        lying.apply = lying_apply;
        ASSERT_OK(backend_new(&ops, "harts=2,guests=1", &b));
        s = backend_sim(b);
        ASSERT_OK(model_new(&g, &m));
        ASSERT_OK(policy_new_default(&p));
        /* "a" has an IRQ, "n" has none */
        for (int i = 0; i < 2; i++) {
                const char *name = i == 0 ? "a" : "n";

                ASSERT_OK(sim_add_device(s, name, CAP_MSI_FLAT | CAP_MSI_MRIF));
                ASSERT_OK(sim_device_set_owner(s, name, OWNER_HOST, NULL));
                ASSERT_OK(model_add_device(m, name, CAP_MSI_FLAT | CAP_MSI_MRIF, &d));
                ASSERT_OK(model_device_set_owner(m, d, OWNER_HOST, NULL));
                if (i == 0) {
                        ASSERT_OK(sim_device_set_vectors(s, name, 1, v));
                        ASSERT_OK(model_device_set_vectors(m, d, 1, v));
                }
        }

        ASSERT_OK(reconciler_new(m, &p, b, &r));
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_EQ(st.n_applied, 2);
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "a")->apply_state, APPLY_PENDING);
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "n")->apply_state, APPLY_PENDING);
        ASSERT_TRUE(reconciler_is_dirty(r));                    /* for "n" only */
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_EQ(st.n_ops, 0);
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "n")->apply_state, APPLY_DONE);
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "a")->apply_state, APPLY_PENDING);
        ASSERT_FALSE(reconciler_is_dirty(r));
        /* the backend's notification for "a" */
        reconciler_mark_dirty(r, DIRTY_DEVICE, "a");
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_EQ(st.n_ops, 0);
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "a")->apply_state, APPLY_DONE);

        /* the lying backend: one read-back, then pending until something else happens */
        b->ops = &lying;
        ASSERT_OK(model_device_set_owner(m, model_find_device(m, "n"), OWNER_USERSPACE, NULL));
        reconciler_mark_dirty(r, DIRTY_DEVICE, "n");
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_EQ(st.n_applied, 1);
        ASSERT_TRUE(reconciler_is_dirty(r));
        ASSERT_OK(reconciler_run(r, &st));
        ASSERT_EQ(st.n_applied, 1);                             /* still different: asked again */
        ASSERT_EQ(device_table_find(&reconciler_desired(r)->devices, "n")->apply_state, APPLY_PENDING);
        ASSERT_FALSE(reconciler_is_dirty(r));                   /* and no third run of its own */
        b->ops = &backend_sim_ops;
}
