/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "reconcile.h"
#include "test-common.h"

DEFINE_TEST_MAIN

static Model *new_model(uint32_t harts, uint32_t guests) {
        Geometry g = { .nr_groups = 1, .nr_harts = harts, .nr_guest_files = guests, .nr_ids = 255 };
        Model *m;

        ASSERT_OK(model_new(&g, &m));
        return m;
}

static Policy *new_policy(void) {
        Policy *p;

        ASSERT_OK(policy_new_default(&p));
        return p;
}

static Desired *solve(const Model *m, const Policy *p) {
        Desired *d;

        ASSERT_OK(solver_compute(m, p, &d));
        return d;
}

/* Three single-vCPU VMs on one hart with two guest files, per class; table-driven. */
TEST(guest_file_exhaustion_per_class) {
        static const struct {
                IsolationClass klass;
                bool mrif_fallback;
                uint64_t caps;
                DeliveryMode mode;
                EntryKind loser_kind;
                ReasonCode loser_reason;
                size_t violations;
        } cases[] = {
                { CLASS_BALANCED, true, CAPS_ALL, MODE_GUEST_FILE, ENTRY_MRIF, REASON_FALLBACK_NO_GUEST_FILE, 0 },
                { CLASS_STRICT, true, CAPS_ALL, MODE_GUEST_FILE, ENTRY_MRIF, REASON_FALLBACK_NO_GUEST_FILE, 0 },
                { CLASS_STRICT, false, CAPS_ALL, MODE_GUEST_FILE, ENTRY_BLOCKED, REASON_REQUIREMENT_UNMET, 1 },
                { CLASS_PERFORMANCE, true, CAPS_ALL, MODE_GUEST_FILE, ENTRY_HOST_FILE, REASON_FALLBACK_NO_GUEST_FILE, 0 },
                { CLASS_BALANCED, false, CAPS_ALL, MODE_GUEST_FILE, ENTRY_HOST_FILE, REASON_FALLBACK_NO_GUEST_FILE, 0 },
                /* Without guest-file delivery nobody gets one; strict falls back to MRIF for all. */
                { CLASS_STRICT, true, CAP_MSI_FLAT | CAP_MSI_MRIF, MODE_MRIF, ENTRY_MRIF, REASON_FALLBACK_NO_GUEST_CAP, 0 },
                { CLASS_STRICT, true, CAP_MSI_FLAT, MODE_BLOCKED, ENTRY_BLOCKED, REASON_REQUIREMENT_UNMET, 3 },
        };

        for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
                _cleanup_(model_freep) Model *m = new_model(1, 2);
                _cleanup_(policy_freep) Policy *p = new_policy();
                _cleanup_(desired_freep) Desired *d = NULL;
                unsigned granted = 0, lost = 0;

                p->mrif_fallback = cases[c].mrif_fallback;
                for (unsigned i = 0; i < 3; i++) {
                        char name[32];
                        uint32_t vcpu0 = 0;
                        Vm *vm = test_add_vm(m, i, 1, VM_RUNNING, cases[c].klass);

                        ASSERT_OK(model_vcpu_place(m, vm, 0, 0));
                        (void) snprintf(name, sizeof(name), "0000:00:0%u.0", i);
                        test_add_vm_device(m, name, vm, cases[c].caps, 1, &vcpu0);
                }
                d = solve(m, p);
                for (size_t i = 0; i < d->devices.n_devices; i++) {
                        const DeviceState *s = &d->devices.devices[i];

                        if (s->mode != cases[c].mode)
                                TEST_FAIL("case %zu: %s mode %s", c, s->name, mode_to_string(s->mode));
                        ASSERT_EQ(s->n_entries, 1);
                        if (s->entries[0].kind == ENTRY_GUEST_FILE) {
                                ASSERT_EQ(s->entries[0].reason, REASON_GUEST_FILE);
                                ASSERT_EQ(s->entries[0].hart, 0);
                                ASSERT_TRUE(s->entries[0].guest >= 1 && s->entries[0].guest <= 2);
                                granted++;
                        } else {
                                if (s->entries[0].kind != cases[c].loser_kind ||
                                    s->entries[0].reason != cases[c].loser_reason)
                                        TEST_FAIL("case %zu: %s got %s/%s", c, s->name,
                                                  entry_kind_to_string(s->entries[0].kind),
                                                  reason_to_string(s->entries[0].reason));
                                lost++;
                        }
                }
                if (cases[c].caps & CAP_GUEST_FILE)
                        ASSERT_EQ(granted, 2);
                else
                        ASSERT_EQ(granted, 0);
                ASSERT_EQ(granted + lost, 3);
                ASSERT_EQ(d->n_violations, cases[c].violations);
                /* The two winners hold distinct files. */
                {
                        uint64_t used = 0;

                        for (size_t i = 0; i < d->n_vms; i++)
                                if (d->vms[i].vcpus[0].guest) {
                                        ASSERT_FALSE(used & (UINT64_C(1) << d->vms[i].vcpus[0].guest));
                                        used |= UINT64_C(1) << d->vms[i].vcpus[0].guest;
                                }
                }
        }
}

TEST(priority_then_class_then_round_robin) {
        _cleanup_(model_freep) Model *m = new_model(1, 2);
        _cleanup_(policy_freep) Policy *p = new_policy();
        _cleanup_(desired_freep) Desired *d = NULL;
        Vm *a, *b, *c, *hi;
        char u[UUID_STRING_MAX];

        /* a: 3 vCPUs balanced, b: 1 vCPU balanced, c: 1 vCPU strict; 2 files. */
        a = test_add_vm(m, 1, 3, VM_RUNNING, CLASS_BALANCED);
        b = test_add_vm(m, 2, 1, VM_RUNNING, CLASS_BALANCED);
        c = test_add_vm(m, 3, 1, VM_RUNNING, CLASS_STRICT);
        for (uint32_t v = 0; v < 3; v++)
                ASSERT_OK(model_vcpu_place(m, a, v, 0));
        ASSERT_OK(model_vcpu_place(m, b, 0, 0));
        ASSERT_OK(model_vcpu_place(m, c, 0, 0));

        d = solve(m, p);
        /* Round-robin between the balanced VMs: one file each; strict ranks lower at equal priority. */
        ASSERT_EQ(desired_find_vm(d, b->uuid)->vcpus[0].guest != 0, 1);
        ASSERT_EQ((desired_find_vm(d, a->uuid)->vcpus[0].guest != 0) + (desired_find_vm(d, a->uuid)->vcpus[1].guest != 0) +
                  (desired_find_vm(d, a->uuid)->vcpus[2].guest != 0), 1);
        ASSERT_EQ(desired_find_vm(d, a->uuid)->vcpus[0].guest != 0, 1);       /* lowest vCPU first within a VM */
        ASSERT_EQ(desired_find_vm(d, c->uuid)->vcpus[0].guest, 0);
        ASSERT_EQ(desired_find_vm(d, c->uuid)->vcpus[0].reason, REASON_FALLBACK_NO_GUEST_FILE);
        d = desired_free(d);

        /* Priority beats class and round-robin. */
        ASSERT_OK(model_vm_set_priority(m, c, true, 10));
        d = solve(m, p);
        ASSERT_TRUE(desired_find_vm(d, c->uuid)->vcpus[0].guest != 0);
        d = desired_free(d);

        /* A policy override beats the registration's priority. */
        {
                PolicyVmOverride o = { .klass = _CLASS_INVALID, .priority_set = true, .priority = -5 };

                ASSERT_OK(policy_set_vm_override(p, test_uuid(3, u), &o));
        }
        hi = c;
        d = solve(m, p);
        ASSERT_EQ(desired_find_vm(d, hi->uuid)->vcpus[0].guest, 0);
}

TEST(performance_beats_strict_at_equal_priority) {
        _cleanup_(model_freep) Model *m = new_model(1, 1);
        _cleanup_(policy_freep) Policy *p = new_policy();
        _cleanup_(desired_freep) Desired *d = NULL;
        Vm *s = test_add_vm(m, 1, 1, VM_RUNNING, CLASS_STRICT);
        Vm *f = test_add_vm(m, 2, 1, VM_RUNNING, CLASS_PERFORMANCE);

        ASSERT_OK(model_vcpu_place(m, s, 0, 0));
        ASSERT_OK(model_vcpu_place(m, f, 0, 0));
        d = solve(m, p);
        ASSERT_EQ(desired_find_vm(d, f->uuid)->vcpus[0].guest, 1);
        ASSERT_EQ(desired_find_vm(d, s->uuid)->vcpus[0].guest, 0);
}

TEST(incumbent_keeps_its_file) {
        _cleanup_(model_freep) Model *m = new_model(1, 3);
        _cleanup_(policy_freep) Policy *p = new_policy();
        _cleanup_(desired_freep) Desired *d = NULL;
        Vm *a = test_add_vm(m, 1, 1, VM_RUNNING, CLASS_BALANCED);
        Vm *b = test_add_vm(m, 2, 1, VM_RUNNING, CLASS_BALANCED);

        ASSERT_OK(model_vcpu_place(m, a, 0, 0));
        ASSERT_OK(model_vcpu_place(m, b, 0, 0));
        ASSERT_OK(model_vcpu_set_guest_file(m, a, 0, 3));
        ASSERT_OK(model_vcpu_set_guest_file(m, b, 0, 2));
        d = solve(m, p);
        ASSERT_EQ(desired_find_vm(d, a->uuid)->vcpus[0].guest, 3);
        ASSERT_EQ(desired_find_vm(d, b->uuid)->vcpus[0].guest, 2);
        d = desired_free(d);

        /* A reserved file is never handed out, even to its former holder. */
        ASSERT_OK(model_set_hart_reserved(m, 0, UINT64_C(1) << 3));
        d = solve(m, p);
        ASSERT_EQ(desired_find_vm(d, a->uuid)->vcpus[0].guest, 1);
        ASSERT_EQ(desired_find_vm(d, b->uuid)->vcpus[0].guest, 2);
}

TEST(vm_limit_and_residency) {
        _cleanup_(model_freep) Model *m = new_model(2, 4);
        _cleanup_(policy_freep) Policy *p = new_policy();
        _cleanup_(desired_freep) Desired *d = NULL;
        Vm *a = test_add_vm(m, 1, 3, VM_RUNNING, CLASS_STRICT);
        uint32_t vcpus[] = { 0, 1, 2 };
        const DeviceState *s;

        ASSERT_OK(model_vcpu_place(m, a, 0, 0));
        ASSERT_OK(model_vcpu_place(m, a, 1, 1));
        /* vCPU 2 is not placed anywhere. */
        test_add_vm_device(m, "0000:01:00.0", a, CAPS_ALL, 3, vcpus);
        p->max_guest_files_per_vm = 1;
        d = solve(m, p);
        s = test_find(d, "0000:01:00.0");
        ASSERT_EQ(s->mode, MODE_GUEST_FILE);
        ASSERT_EQ(s->fallback, ENTRY_MRIF);
        ASSERT_EQ(s->entries[0].kind, ENTRY_GUEST_FILE);
        ASSERT_EQ(s->entries[1].kind, ENTRY_MRIF);
        ASSERT_EQ(s->entries[1].reason, REASON_FALLBACK_VM_LIMIT);
        ASSERT_EQ(s->entries[2].kind, ENTRY_MRIF);
        ASSERT_EQ(s->entries[2].reason, REASON_FALLBACK_VCPU_NOT_RESIDENT);
        ASSERT_EQ(s->isolation, ISOLATION_ISOLATED);
        d = desired_free(d);

        /* Paused: nobody runs, every target falls back; stopped: blocked, not a violation. */
        ASSERT_OK(model_vm_set_state(m, a, VM_PAUSED));
        d = solve(m, p);
        s = test_find(d, "0000:01:00.0");
        for (uint32_t i = 0; i < 3; i++)
                ASSERT_EQ(s->entries[i].kind, ENTRY_MRIF);
        d = desired_free(d);
        ASSERT_OK(model_vm_set_state(m, a, VM_STOPPED));
        d = solve(m, p);
        s = test_find(d, "0000:01:00.0");
        ASSERT_EQ(s->mode, MODE_BLOCKED);
        ASSERT_EQ(s->reason, REASON_VM_NOT_ACTIVE);
        ASSERT_FALSE(s->violation);
        ASSERT_EQ(d->n_violations, 0);
}

TEST(non_vm_owners_and_locks) {
        _cleanup_(model_freep) Model *m = new_model(4, 2);
        _cleanup_(policy_freep) Policy *p = new_policy();
        _cleanup_(desired_freep) Desired *d = NULL;
        uint32_t harts[] = { 1, 1, 3 };
        const DeviceState *s;
        Device *locked;
        char *text = NULL;

        test_add_host_device(m, "0000:00:01.0", OWNER_HOST, CAP_MSI_FLAT | CAP_MSI_MRIF, 3, harts);
        locked = test_add_host_device(m, "0000:00:02.0", OWNER_HOST, CAP_MSI_FLAT | CAP_MSI_MRIF, 3, harts);
        ASSERT_OK(model_device_set_locked(m, locked, true));
        test_add_host_device(m, "0000:00:03.0", OWNER_USERSPACE, CAP_MSI_FLAT | CAP_MSI_MRIF, 1, harts);
        test_add_host_device(m, "0000:00:04.0", OWNER_USERSPACE, CAP_MSI_FLAT, 1, harts);
        test_add_host_device(m, "0000:00:05.0", OWNER_NONE, CAP_MSI_FLAT | CAP_MSI_MRIF, 1, harts);
        test_add_host_device(m, "0000:00:06.0", OWNER_HOST, 0, 1, harts);
        d = solve(m, p);

        s = test_find(d, "0000:00:01.0");
        ASSERT_EQ(s->mode, MODE_IDENTITY);
        ASSERT_EQ(s->n_entries, 2);                     /* harts 1 and 3 */
        ASSERT_EQ(s->entries[0].kind, ENTRY_HOST_FILE);
        ASSERT_EQ(s->entries[0].hart, 1);
        ASSERT_EQ(s->entries[0].refcount, 2);
        ASSERT_EQ(s->entries[1].hart, 3);
        ASSERT_EQ(s->isolation, ISOLATION_SHARED);

        s = test_find(d, "0000:00:02.0");
        ASSERT_EQ(s->mode, MODE_MRIF);
        ASSERT_EQ(s->reason, REASON_LOCKED);
        ASSERT_EQ(s->isolation, ISOLATION_LOCKED);

        ASSERT_EQ(test_find(d, "0000:00:03.0")->mode, MODE_MRIF);
        s = test_find(d, "0000:00:04.0");
        ASSERT_EQ(s->mode, MODE_BLOCKED);
        ASSERT_EQ(s->reason, REASON_NO_MRIF_CAP);
        ASSERT_EQ(test_find(d, "0000:00:05.0")->mode, MODE_BLOCKED);
        ASSERT_EQ(test_find(d, "0000:00:05.0")->reason, REASON_NO_OWNER);
        ASSERT_EQ(test_find(d, "0000:00:06.0")->mode, MODE_OFF);
        ASSERT_EQ(test_find(d, "0000:00:06.0")->isolation, ISOLATION_NONE);
        ASSERT_EQ(d->n_violations, 0);

        ASSERT_OK(solver_explain(m, p, test_find(d, "0000:00:02.0"), NULL, &text));
        ASSERT_TRUE(strstr(text, "isolation-locked") != NULL);
        ASSERT_TRUE(strstr(text, "[locked]") != NULL);
        free(text);
        ASSERT_OK(solver_explain(m, p, test_find(d, "0000:00:01.0"), &test_find(d, "0000:00:01.0")->entries[0], &text));
        ASSERT_TRUE(strstr(text, "S-level file of hart 1") != NULL);
        free(text);
}

/*
 * Devices whose MSI table the kernel shares (a requester-ID alias) are not managed: whatever their owners, they get
 * no mode of their own, so two of them can never take the table from each other. A strict VM hears about it.
 */
TEST(shared_table_not_managed) {
        _cleanup_(model_freep) Model *m = new_model(4, 2);
        _cleanup_(policy_freep) Policy *p = new_policy();
        _cleanup_(desired_freep) Desired *d = NULL;
        const uint64_t shared = CAP_MSI_FLAT | CAP_MSI_MRIF | CAP_TABLE_SHARED;
        uint32_t harts[] = { 1 }, vcpus[] = { 0 };
        Vm *strict = test_add_vm(m, 0, 2, VM_RUNNING, CLASS_STRICT);
        Vm *balanced = test_add_vm(m, 1, 2, VM_RUNNING, CLASS_BALANCED);
        const DeviceState *s;
        const char *names[] = { "0000:01:01.0", "0000:01:02.0", "0000:01:03.0", "0000:01:04.0" };

        ASSERT_OK(model_vcpu_place(m, strict, 0, 1));
        ASSERT_OK(model_vcpu_place(m, balanced, 0, 2));
        test_add_vm_device(m, names[0], strict, shared, 1, vcpus);
        test_add_vm_device(m, names[1], balanced, shared, 1, vcpus);
        test_add_host_device(m, names[2], OWNER_HOST, shared, 1, harts);
        test_add_host_device(m, names[3], OWNER_NONE, shared, 0, harts);       /* no vectors: still the reason */
        d = solve(m, p);

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                s = test_find(d, names[i]);
                ASSERT_EQ(s->mode, MODE_OFF);
                ASSERT_EQ(s->reason, REASON_TABLE_SHARED);
                ASSERT_EQ(s->isolation, ISOLATION_NONE);
                ASSERT_EQ(s->violation, i == 0);
                /* nothing to set, whatever the kernel holds */
                ASSERT_FALSE(reconcile_device_needs_op(s, &(DeviceState) { .mode = MODE_IDENTITY }, NULL));
                ASSERT_FALSE(reconcile_device_needs_op(s, &(DeviceState) { .mode = MODE_BLOCKED }, NULL));
        }
        ASSERT_EQ(d->n_violations, 1);
        ASSERT_STREQ(reason_to_string(REASON_TABLE_SHARED), "table-shared");
}

TEST(strict_never_gets_a_host_file) {
        /* Whatever the capabilities and guest-file pressure, a strict VM's device never maps a host file. */
        for (uint64_t caps = 0; caps < 16; caps++) {
                for (int fb = 0; fb < 2; fb++) {
                        _cleanup_(model_freep) Model *m = new_model(2, 1);
                        _cleanup_(policy_freep) Policy *p = new_policy();
                        _cleanup_(desired_freep) Desired *d = NULL;
                        uint32_t vcpus[] = { 0, 1, 2, 3 };

                        p->mrif_fallback = fb;
                        for (unsigned i = 0; i < 3; i++) {
                                char name[32];
                                Vm *vm = test_add_vm(m, i, 4, VM_RUNNING, i == 0 ? CLASS_STRICT : CLASS_PERFORMANCE);

                                for (uint32_t v = 0; v < 4; v++)
                                        ASSERT_OK(model_vcpu_place(m, vm, v, v % 2));
                                (void) snprintf(name, sizeof(name), "0000:02:%02u.0", i);
                                test_add_vm_device(m, name, vm, caps, 4, vcpus);
                        }
                        d = solve(m, p);
                        {
                                const DeviceState *s = test_find(d, "0000:02:00.0");

                                ASSERT_TRUE(s->isolation != ISOLATION_SHARED);
                                ASSERT_TRUE(s->fallback != ENTRY_HOST_FILE);
                                for (uint32_t i = 0; i < s->n_entries; i++) {
                                        ASSERT_TRUE(s->entries[i].kind != ENTRY_HOST_FILE);
                                        /* Blocked without being a stopped VM / no table must be reported. */
                                        if (s->entries[i].kind == ENTRY_BLOCKED && s->mode != MODE_OFF)
                                                ASSERT_TRUE(s->entries[i].flags & ENTRY_FLAG_VIOLATION);
                                }
                        }
                }
        }
}

static Model *build_random_model(uint64_t seed, bool reverse, uint32_t guests) {
        Model *m = new_model(8, guests);
        uint64_t rs = seed;
        unsigned order[12];

        for (unsigned i = 0; i < 12; i++)
                order[i] = reverse ? 11 - i : i;
        /* VMs and devices inserted in a different order must give the same result. */
        for (unsigned k = 0; k < 12; k++) {
                unsigned i = order[k];
                uint64_t r = seed * 31 + i;
                Vm *vm = test_add_vm(m, i, 1 + (uint32_t) (test_rand(&r) % 4), VM_RUNNING,
                                     (IsolationClass) (test_rand(&r) % 3));
                uint32_t vcpus[8];

                for (uint32_t v = 0; v < vm->nr_vcpus; v++)
                        ASSERT_OK(model_vcpu_place(m, vm, v, (uint32_t) (test_rand(&r) % 8)));
                for (uint32_t v = 0; v < 8; v++)
                        vcpus[v] = (uint32_t) (test_rand(&r) % vm->nr_vcpus);
                {
                        char name[32];

                        (void) snprintf(name, sizeof(name), "0000:10:%02u.0", i);
                        test_add_vm_device(m, name, vm, CAPS_ALL, 8, vcpus);
                }
        }
        (void) rs;
        return m;
}

TEST(determinism) {
        _cleanup_(policy_freep) Policy *p = new_policy();

        for (uint64_t seed = 1; seed < 20; seed++) {
                _cleanup_(model_freep) Model *a = build_random_model(seed, false, 3);
                _cleanup_(model_freep) Model *b = build_random_model(seed, true, 3);
                _cleanup_(model_freep) Model *c = NULL;
                _cleanup_(desired_freep) Desired *da = solve(a, p), *da2 = solve(a, p), *db = solve(b, p), *dc = NULL;
                _cleanup_free_ char *sa = test_desired_string(da), *sa2 = test_desired_string(da2),
                                    *sb = test_desired_string(db), *sc = NULL;

                ASSERT_STREQ(sa, sa2);
                ASSERT_STREQ(sa, sb);
                ASSERT_OK(model_copy(a, &c));
                dc = solve(c, p);
                sc = test_desired_string(dc);
                ASSERT_STREQ(sa, sc);
        }
}

/* After any sequence of changes, incremental updates give exactly the full solve. */
TEST(incremental_equals_full) {
        _cleanup_(policy_freep) Policy *p = new_policy();

        for (uint64_t seed = 1; seed < 30; seed++) {
                _cleanup_(model_freep) Model *m = build_random_model(seed, false, 3);
                _cleanup_(desired_freep) Desired *inc = solve(m, p);
                uint64_t rs = seed * 7919;

                for (int step = 0; step < 60; step++) {
                        unsigned vmi = (unsigned) (test_rand(&rs) % m->n_vms);
                        Vm *vm = m->vms[vmi];
                        char uuid[UUID_STRING_MAX];
                        int what = (int) (test_rand(&rs) % 7);

                        memcpy(uuid, vm->uuid, sizeof(uuid));
                        switch (what) {
                        case 0: /* vCPU move (or off-hart) */
                        case 1: {
                                uint32_t v = (uint32_t) (test_rand(&rs) % vm->nr_vcpus);
                                uint32_t h = (uint32_t) (test_rand(&rs) % 9);

                                ASSERT_OK(model_vcpu_place(m, vm, v, h == 8 ? NO_HART : h));
                                ASSERT_TRUE(solver_update_vm(m, p, inc, uuid) >= 0);
                                break;
                        }
                        case 2:
                                ASSERT_OK(model_vm_set_state(m, vm, (VmState) (test_rand(&rs) % _VM_STATE_MAX)));
                                ASSERT_TRUE(solver_update_vm(m, p, inc, uuid) >= 0);
                                break;
                        case 3:
                                ASSERT_OK(model_vm_set_class(m, vm, (IsolationClass) (test_rand(&rs) % 3)));
                                ASSERT_TRUE(solver_update_vm(m, p, inc, uuid) >= 0);
                                break;
                        case 4:
                                ASSERT_OK(model_vm_set_priority(m, vm, true, (int32_t) (test_rand(&rs) % 5)));
                                ASSERT_TRUE(solver_update_vm(m, p, inc, uuid) >= 0);
                                break;
                        case 5: {
                                Device *d = m->devices[test_rand(&rs) % m->n_devices];
                                char name[DEVICE_NAME_MAX];

                                strcpy(name, d->name);
                                if (d->nr_vectors > 0)
                                        ASSERT_OK(model_device_set_affinity(m, d, 0, (uint32_t) (test_rand(&rs) % 8)));
                                if (test_rand(&rs) % 4 == 0)
                                        ASSERT_OK(model_device_set_locked(m, d, !d->locked));
                                ASSERT_TRUE(solver_update_device(m, p, inc, name) >= 0);
                                break;
                        }
                        case 6:
                                /* Re-register: remove and add back with another size. */
                                if (test_rand(&rs) % 3 == 0) {
                                        ASSERT_OK(model_remove_vm(m, uuid));
                                        ASSERT_TRUE(solver_update_vm(m, p, inc, uuid) >= 0);
                                        {
                                                Vm *n;

                                                ASSERT_OK(model_add_vm(m, uuid, NULL, 2, &n));
                                                ASSERT_OK(model_vm_set_state(m, n, VM_RUNNING));
                                                ASSERT_OK(model_vcpu_place(m, n, 0, 1));
                                                ASSERT_TRUE(solver_update_vm(m, p, inc, uuid) >= 0);
                                        }
                                }
                                break;
                        }
                        {
                                _cleanup_(desired_freep) Desired *full = solve(m, p);
                                _cleanup_free_ char *a = test_desired_string(inc), *b = test_desired_string(full);

                                if (!streq(a, b))
                                        TEST_FAIL("seed %" PRIu64 " step %d (change %d): incremental differs from full",
                                                  seed, step, what);
                                ASSERT_EQ(inc->n_violations, full->n_violations);
                        }
                }
        }
}

/*
 * The reconciler coalesces a burst: several VMs change in the model (the same VM may change twice), then one
 * update takes them all. Updating them one by one was wrong: the first update re-solved harts the others' vCPUs
 * had moved onto and overwrote their grants, and their own updates no longer knew the harts they had left. Held
 * guest files are fed back as the reconciler does after applying.
 */
TEST(coalesced_updates_equal_full) {
        _cleanup_(policy_freep) Policy *p = new_policy();
        unsigned n_differed = 0;
        size_t settled[2] = {};

        /* Three files for ~4 vCPUs per hart: contests everywhere; six: most harts settle (update_hart()). */
        for (unsigned files = 0; files < 2; files++)
        for (uint64_t seed = 1; seed < 40; seed++) {
                _cleanup_(model_freep) Model *m = build_random_model(seed, false, files ? 6 : 3);
                _cleanup_(desired_freep) Desired *inc = solve(m, p);
                uint64_t rs = seed * 104729;

                for (int burst = 0; burst < 30; burst++) {
                        char uuids[4][UUID_STRING_MAX];
                        char *list[5] = {};
                        unsigned n = 2 + (unsigned) (test_rand(&rs) % 3);

                        for (unsigned k = 0; k < n; k++) {
                                Vm *vm = m->vms[test_rand(&rs) % m->n_vms];
                                uint32_t v = (uint32_t) (test_rand(&rs) % vm->nr_vcpus);
                                uint32_t h = (uint32_t) (test_rand(&rs) % 9);

                                memcpy(uuids[k], vm->uuid, UUID_STRING_MAX);
                                list[k] = uuids[k];
                                switch (test_rand(&rs) % 6) {
                                case 2:
                                        ASSERT_OK(model_vm_set_class(m, vm, (IsolationClass) (test_rand(&rs) % 3)));
                                        break;
                                case 3:
                                        /*
                                         * KVM dropped the vCPU's file (a migration, a reset), or loaded it with
                                         * one of its own choosing, maybe one granted to another vCPU.
                                         */
                                        if (vm->vcpus[v].hart != NO_HART)
                                                ASSERT_OK(model_vcpu_set_guest_file(
                                                        m, vm, v,
                                                        (uint8_t) (test_rand(&rs) % (m->geometry.nr_guest_files + 1))));
                                        if (test_rand(&rs) % 2)
                                                ASSERT_OK(model_vm_set_state(m, vm, VM_RUNNING));
                                        break;
                                case 0:
                                        ASSERT_OK(model_vm_set_state(m, vm, vm->state == VM_RUNNING ? VM_STOPPED :
                                                                                                      VM_RUNNING));
                                        break;
                                case 1:
                                        ASSERT_OK(model_vm_set_priority(m, vm, true, (int32_t) (test_rand(&rs) % 3)));
                                        break;
                                default:
                                        ASSERT_OK(model_vcpu_place(m, vm, v, h == 8 ? NO_HART : h));
                                }
                        }
                        ASSERT_TRUE(solver_update_vms(m, p, inc, list, NULL, NULL) >= 0);
                        {
                                _cleanup_(desired_freep) Desired *full = solve(m, p);
                                _cleanup_free_ char *a = test_desired_string(inc), *b = test_desired_string(full);

                                if (!streq(a, b))
                                        TEST_FAIL("seed %" PRIu64 " burst %d: incremental differs from full", seed,
                                                  burst);
                                n_differed += !streq(a, b);
                        }
                        /* The backend now holds what was granted. */
                        for (size_t i = 0; i < inc->n_vms; i++) {
                                Vm *vm = model_find_vm(m, inc->vms[i].uuid);

                                for (uint32_t v = 0; vm && v < vm->nr_vcpus; v++) {
                                        const VcpuGrant *g = &inc->vms[i].vcpus[v];

                                        if (vm->vcpus[v].hart != NO_HART && vm->vcpus[v].hart == g->hart) {
                                                ASSERT_OK(model_vcpu_set_guest_file(m, vm, v, g->guest));
                                                solver_note_held(inc, vm, v);
                                        }
                                }
                        }
                }
                settled[files] += inc->n_harts_settled;
        }
        ASSERT_EQ(n_differed, 0);
        /* The shortcut was taken, and compared with full solves each time. */
        printf("harts settled without a contest: %zu with 3 files, %zu with 6\n", settled[0], settled[1]);
        ASSERT_TRUE(settled[1] > 100);
}

/* A settled hart: vCPUs stop and start competing without a contest; anything else runs it. */
TEST(settled_hart_updates) {
        _cleanup_(model_freep) Model *m = new_model(2, 4);
        _cleanup_(policy_freep) Policy *p = new_policy();
        _cleanup_(desired_freep) Desired *d = NULL;
        Vm *vms[3];
        size_t before;
        uint8_t f0;

        for (unsigned i = 0; i < 3; i++) {
                vms[i] = test_add_vm(m, i + 1, 1, VM_RUNNING, CLASS_BALANCED);
                ASSERT_OK(model_vcpu_place(m, vms[i], 0, 0));
        }
        d = solve(m, p);
        /* Nobody held a file yet: open until the reconciler records what it applied. */
        ASSERT_EQ(d->harts[0].n_candidates, 3);
        ASSERT_EQ(d->harts[0].n_open, 3);
        for (unsigned i = 0; i < 3; i++) {
                ASSERT_OK(model_vcpu_set_guest_file(m, vms[i], 0, desired_find_vm(d, vms[i]->uuid)->vcpus[0].guest));
                solver_note_held(d, vms[i], 0);
        }
        ASSERT_EQ(d->harts[0].n_open, 0);
        ASSERT_EQ(d->harts[0].granted, UINT64_C(0xe));

        /* The first VM stops: its file is free, the others keep theirs, no contest. */
        f0 = desired_find_vm(d, vms[0]->uuid)->vcpus[0].guest;
        before = d->n_harts_settled;
        ASSERT_OK(model_vm_set_state(m, vms[0], VM_STOPPED));
        ASSERT_OK(model_vcpu_set_guest_file(m, vms[0], 0, 0));
        ASSERT_TRUE(solver_update_vm(m, p, d, vms[0]->uuid) >= 0);
        ASSERT_EQ(d->n_harts_settled, before + 1);
        ASSERT_EQ(desired_find_vm(d, vms[0]->uuid)->vcpus[0].guest, 0);
        ASSERT_EQ(desired_find_vm(d, vms[0]->uuid)->vcpus[0].reason, REASON_FALLBACK_VCPU_NOT_RESIDENT);
        ASSERT_EQ(d->harts[0].n_candidates, 2);
        ASSERT_EQ(d->harts[0].granted, UINT64_C(0xe) & ~(UINT64_C(1) << f0));
        {
                _cleanup_(desired_freep) Desired *full = solve(m, p);
                _cleanup_free_ char *a = test_desired_string(d), *b = test_desired_string(full);

                ASSERT_STREQ(a, b);
        }

        /* It starts again without a file: it takes the lowest free one (its old one, below 4), and the hart waits
         * for the grant. */
        ASSERT_OK(model_vm_set_state(m, vms[0], VM_RUNNING));
        ASSERT_TRUE(solver_update_vm(m, p, d, vms[0]->uuid) >= 0);
        ASSERT_EQ(d->n_harts_settled, before + 2);
        ASSERT_EQ(desired_find_vm(d, vms[0]->uuid)->vcpus[0].guest, f0);
        ASSERT_EQ(d->harts[0].n_open, 1);
        {
                _cleanup_(desired_freep) Desired *full = solve(m, p);
                _cleanup_free_ char *a = test_desired_string(d), *b = test_desired_string(full);

                ASSERT_STREQ(a, b);
        }

        /* A winner that ends up with another file than granted: only a contest can tell what follows. */
        ASSERT_OK(model_vcpu_set_guest_file(m, vms[0], 0, 4));
        solver_note_held(d, vms[0], 0);
        ASSERT_EQ(d->harts[0].n_open, HART_UNSETTLED);
        ASSERT_OK(model_vm_set_state(m, vms[1], VM_STOPPED));
        ASSERT_TRUE(solver_update_vm(m, p, d, vms[1]->uuid) >= 0);
        ASSERT_EQ(d->n_harts_settled, before + 2);
        {
                _cleanup_(desired_freep) Desired *full = solve(m, p);
                _cleanup_free_ char *a = test_desired_string(d), *b = test_desired_string(full);

                ASSERT_STREQ(a, b);
        }
        /* The contest found every candidate on its held file: settled again. */
        ASSERT_EQ(d->harts[0].n_open, 0);
        ASSERT_EQ(desired_find_vm(d, vms[0]->uuid)->vcpus[0].guest, 4);
}

static void assert_equals_full(const Model *m, const Policy *p, const Desired *d) {
        _cleanup_(desired_freep) Desired *full = solve((Model *) m, p);
        _cleanup_free_ char *a = test_desired_string(d), *b = test_desired_string(full);

        ASSERT_STREQ(a, b);
}

/* A contested hart (one file, three candidates): losers leave without a contest, a winner leaving runs it. */
TEST(contested_hart_losers_leave) {
        _cleanup_(model_freep) Model *m = new_model(2, 1);
        _cleanup_(policy_freep) Policy *p = new_policy();
        _cleanup_(desired_freep) Desired *d = NULL;
        Vm *vms[3], *winner = NULL, *losers[2];
        size_t n_losers = 0, before;

        for (unsigned i = 0; i < 3; i++) {
                vms[i] = test_add_vm(m, i + 1, 1, VM_RUNNING, CLASS_BALANCED);
                ASSERT_OK(model_vcpu_place(m, vms[i], 0, 0));
        }
        d = solve(m, p);
        for (unsigned i = 0; i < 3; i++) {
                uint8_t g = desired_find_vm(d, vms[i]->uuid)->vcpus[0].guest;

                if (g != 0) {
                        ASSERT_TRUE(winner == NULL);
                        winner = vms[i];
                        ASSERT_OK(model_vcpu_set_guest_file(m, vms[i], 0, g));
                        solver_note_held(d, vms[i], 0);
                } else
                        losers[n_losers++] = vms[i];
        }
        ASSERT_NOT_NULL(winner);
        ASSERT_EQ(n_losers, 2);
        ASSERT_EQ(d->harts[0].n_candidates, 3);
        ASSERT_EQ(d->harts[0].n_open, 2);                       /* the two losers */

        /* A loser stops: no contest, the winner keeps its file. */
        before = d->n_harts_settled;
        ASSERT_OK(model_vm_set_state(m, losers[0], VM_STOPPED));
        ASSERT_TRUE(solver_update_vm(m, p, d, losers[0]->uuid) >= 0);
        ASSERT_EQ(d->n_harts_settled, before + 1);
        ASSERT_EQ(d->harts[0].n_candidates, 2);
        ASSERT_EQ(d->harts[0].n_open, 1);
        ASSERT_EQ(desired_find_vm(d, winner->uuid)->vcpus[0].guest, 1);
        assert_equals_full(m, p, d);

        /* The other loser moves away: no contest either (its new hart is free: settled there too). */
        ASSERT_OK(model_vcpu_place(m, losers[1], 0, 1));
        ASSERT_TRUE(solver_update_vm(m, p, d, losers[1]->uuid) >= 0);
        ASSERT_EQ(d->n_harts_settled, before + 3);
        ASSERT_EQ(d->harts[0].n_candidates, 1);
        ASSERT_EQ(d->harts[0].n_open, 0);                       /* settled now */
        assert_equals_full(m, p, d);

        /* The first loser starts again: it joins a settled hart with no free file, so the contest runs. */
        ASSERT_OK(model_vm_set_state(m, losers[0], VM_RUNNING));
        ASSERT_TRUE(solver_update_vm(m, p, d, losers[0]->uuid) >= 0);
        ASSERT_EQ(d->n_harts_settled, before + 3);
        ASSERT_EQ(d->harts[0].n_open, 1);
        assert_equals_full(m, p, d);

        /* The winner stops with a loser waiting: the contest runs and gives the loser the file. */
        ASSERT_OK(model_vm_set_state(m, winner, VM_STOPPED));
        ASSERT_OK(model_vcpu_set_guest_file(m, winner, 0, 0));
        ASSERT_TRUE(solver_update_vm(m, p, d, winner->uuid) >= 0);
        ASSERT_EQ(d->n_harts_settled, before + 3);
        ASSERT_EQ(desired_find_vm(d, losers[0]->uuid)->vcpus[0].guest, 1);
        assert_equals_full(m, p, d);
}

TEST(device_unknown_vm_and_removal) {
        _cleanup_(model_freep) Model *m = new_model(2, 1);
        _cleanup_(policy_freep) Policy *p = new_policy();
        _cleanup_(desired_freep) Desired *d = NULL;
        char u[UUID_STRING_MAX];
        Device *dev;
        Vm *vm;

        ASSERT_OK(model_add_device(m, "0000:03:00.0", CAPS_ALL, &dev));
        ASSERT_OK(model_device_set_owner(m, dev, OWNER_VM, test_uuid(9, u)));
        ASSERT_OK(model_device_set_vectors(m, dev, 1, &(Vector) { .hart = 0, .vcpu = 0 }));
        d = solve(m, p);
        ASSERT_EQ(test_find(d, "0000:03:00.0")->reason, REASON_VM_UNKNOWN);
        ASSERT_EQ(test_find(d, "0000:03:00.0")->mode, MODE_BLOCKED);

        /* Registering the VM later resolves the owner. */
        vm = test_add_vm(m, 9, 1, VM_RUNNING, CLASS_BALANCED);
        ASSERT_OK(model_vcpu_place(m, vm, 0, 1));
        ASSERT_EQ(solver_update_vm(m, p, d, u), 1);
        ASSERT_EQ(test_find(d, "0000:03:00.0")->mode, MODE_GUEST_FILE);
        ASSERT_EQ(test_find(d, "0000:03:00.0")->entries[0].kind, ENTRY_GUEST_FILE);

        ASSERT_OK(model_remove_device(m, "0000:03:00.0"));
        ASSERT_EQ(solver_update_device(m, p, d, "0000:03:00.0"), 1);
        ASSERT_TRUE(device_table_find(&d->devices, "0000:03:00.0") == NULL);
        ASSERT_EQ(solver_update_device(m, p, d, "0000:03:00.0"), 0);
}

/* Without guest-file delivery, VM devices are decided per host hart (the VFIO host path), like the kernel sees them. */
TEST(vm_device_without_guest_cap_uses_host_targets) {
        static const struct {
                IsolationClass klass;
                DeliveryMode mode;
                EntryKind kind;
        } cases[] = {
                { CLASS_STRICT, MODE_MRIF, ENTRY_MRIF },
                { CLASS_BALANCED, MODE_MRIF, ENTRY_MRIF },
                { CLASS_PERFORMANCE, MODE_IDENTITY, ENTRY_HOST_FILE },
        };

        for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
                _cleanup_(model_freep) Model *m = new_model(4, 2);
                _cleanup_(policy_freep) Policy *p = new_policy();
                _cleanup_(desired_freep) Desired *d = NULL;
                Vm *vm = test_add_vm(m, 1, 2, VM_RUNNING, cases[c].klass);
                uint32_t vcpus[] = { 0, 1, 1 };   /* host harts 0, 1, 2 */
                const DeviceState *s;

                ASSERT_OK(model_vcpu_place(m, vm, 0, 3));
                test_add_vm_device(m, "0000:07:00.0", vm, CAP_MSI_FLAT | CAP_MSI_MRIF, 3, vcpus);
                d = solve(m, p);
                s = test_find(d, "0000:07:00.0");
                ASSERT_EQ(s->mode, cases[c].mode);
                ASSERT_EQ(s->n_entries, 3);
                for (uint32_t i = 0; i < 3; i++) {
                        ASSERT_EQ(s->entries[i].target, TARGET_HART(i));
                        ASSERT_EQ(s->entries[i].kind, cases[c].kind);
                        ASSERT_EQ(s->entries[i].reason, REASON_FALLBACK_NO_GUEST_CAP);
                        if (cases[c].kind == ENTRY_HOST_FILE)
                                ASSERT_EQ(s->entries[i].hart, i);
                }
        }
}

/* Fairness across harts: two equal VMs contending on 128 single-file harts each win about half. */
TEST(fairness_across_harts) {
        static const unsigned pairs[][2] = { { 1, 2 }, { 2, 3 }, { 10, 11 }, { 7, 700 }, { 0x100, 0x200 }, { 5, 0xfff5 } };

        for (size_t k = 0; k < ELEMENTSOF(pairs); k++) {
                _cleanup_(model_freep) Model *m = new_model(128, 1);
                _cleanup_(policy_freep) Policy *p = new_policy();
                _cleanup_(desired_freep) Desired *d = NULL;
                Vm *a = test_add_vm(m, pairs[k][0], 128, VM_RUNNING, CLASS_BALANCED);
                Vm *b = test_add_vm(m, pairs[k][1], 128, VM_RUNNING, CLASS_BALANCED);
                unsigned wa = 0, wb = 0;

                for (uint32_t h = 0; h < 128; h++) {
                        ASSERT_OK(model_vcpu_place(m, a, h, h));
                        ASSERT_OK(model_vcpu_place(m, b, h, h));
                }
                d = solve(m, p);
                for (uint32_t h = 0; h < 128; h++) {
                        bool ga = desired_find_vm(d, a->uuid)->vcpus[h].guest != 0;
                        bool gb = desired_find_vm(d, b->uuid)->vcpus[h].guest != 0;

                        ASSERT_TRUE(ga != gb);          /* exactly one winner per hart */
                        wa += ga;
                        wb += gb;
                }
                fprintf(stderr, "VMs %u and %u won %u and %u harts\n", pairs[k][0], pairs[k][1], wa, wb);
                /* Binomial(128, 1/2): 40..88 is more than 4 standard deviations wide. */
                ASSERT_TRUE(wa >= 40 && wb >= 40);
        }
}

/* vCPU moves, step by step: files follow, the one left behind gets the freed file, a full hart falls back. */
TEST(vcpu_moves) {
        static const struct {
                unsigned vm;            /* which VM moves its vCPU 0 */
                uint32_t hart;          /* to which hart (NO_HART: off) */
                uint8_t guest[3];       /* expected guest file of VM 0, 1, 2 afterwards */
        } steps[] = {
                /* start: all three on hart 0, one file per hart; VM 2 has priority 2, VM 1 priority 1 */
                { 0, 0, { 0, 0, 1 } },
                { 2, 1, { 0, 1, 1 } },          /* VM 2 leaves: VM 1 takes hart 0's file */
                { 0, 1, { 0, 1, 1 } },          /* VM 0 joins VM 2 on hart 1 and loses to it */
                { 2, NO_HART, { 1, 1, 0 } },    /* VM 2 stops running anywhere: VM 0 gets hart 1 */
                { 1, 1, { 0, 1, 0 } },          /* VM 1 moves onto hart 1: priority 1 beats VM 0 */
        };
        _cleanup_(model_freep) Model *m = new_model(2, 1);
        _cleanup_(policy_freep) Policy *p = new_policy();
        _cleanup_(desired_freep) Desired *d = NULL;
        Vm *vms[3];

        for (unsigned i = 0; i < 3; i++) {
                vms[i] = test_add_vm(m, i, 1, VM_RUNNING, CLASS_BALANCED);
                ASSERT_OK(model_vm_set_priority(m, vms[i], true, (int32_t) i));
                ASSERT_OK(model_vcpu_place(m, vms[i], 0, 0));
        }
        d = solve(m, p);
        for (size_t k = 0; k < ELEMENTSOF(steps); k++) {
                _cleanup_(desired_freep) Desired *full = NULL;

                ASSERT_OK(model_vcpu_place(m, vms[steps[k].vm], 0, steps[k].hart));
                ASSERT_TRUE(solver_update_vm(m, p, d, vms[steps[k].vm]->uuid) >= 0);
                for (unsigned i = 0; i < 3; i++) {
                        const VcpuGrant *g = &desired_find_vm(d, vms[i]->uuid)->vcpus[0];

                        if (g->guest != steps[k].guest[i])
                                TEST_FAIL("step %zu: VM %u holds %u, expected %u (%s)", k, i, g->guest,
                                          steps[k].guest[i], reason_to_string(g->reason));
                        /* Feed the held file back, as the reconciler does after applying. */
                        ASSERT_OK(model_vcpu_set_guest_file(m, vms[i], 0, g->guest));
                }
                full = solve(m, p);
                {
                        _cleanup_free_ char *a = test_desired_string(d), *b = test_desired_string(full);

                        ASSERT_STREQ(a, b);
                }
        }
}
