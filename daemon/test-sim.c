/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/rvmsi.h>

#include "backend-sim.h"
#include "reconcile.h"
#include "rvmsi_msi.h"
#include "test-common.h"

DEFINE_TEST_MAIN

typedef struct Events {
        unsigned entry_changed, vcpu_changed, faults;
        uint32_t last_cause;
        char last_device[DEVICE_NAME_MAX];
} Events;

static void on_event(Backend *b, const BackendEvent *ev, void *userdata) {
        Events *e = userdata;

        switch (ev->type) {
        case BACKEND_EVENT_ENTRY_CHANGED:
                e->entry_changed++;
                break;
        case BACKEND_EVENT_VCPU_CHANGED:
                e->vcpu_changed++;
                break;
        case BACKEND_EVENT_FAULT:
                e->faults++;
                e->last_cause = ev->cause;
                strcpy(e->last_device, ev->device);
                break;
        default:
                break;
        }
}

static Op set_mode(const char *dev, DeliveryMode mode, EntryKind fallback) {
        Op op = { .type = OP_SET_MODE, .mode = mode, .fallback = fallback };

        strcpy(op.device, dev);
        return op;
}

TEST(args_and_geometry) {
        Backend *b = NULL;
        Geometry g;

        ASSERT_OK(backend_new(&backend_sim_ops, "groups=2,harts=8,guests=3,ids=127", &b));
        ASSERT_OK(backend_get_geometry(b, &g));
        ASSERT_EQ(g.nr_groups, 2);
        ASSERT_EQ(g.nr_harts, 8);
        ASSERT_EQ(g.nr_guest_files, 3);
        b = backend_free(b);
        ASSERT_ERROR(backend_new(&backend_sim_ops, "harts=3,groups=2", &b), EINVAL);
        ASSERT_ERROR(backend_new(&backend_sim_ops, "cores=3", &b), EINVAL);
        ASSERT_ERROR(backend_new(&backend_sim_ops, "harts=", &b), EINVAL);
        ASSERT_TRUE(b == NULL);
}

TEST(identity_forge_and_affinity) {
        _cleanup_(backend_freep) Backend *b = NULL;
        Geometry g = { .nr_groups = 2, .nr_harts = 8, .nr_guest_files = 2, .nr_ids = 255 };
        Vector v[2] = { { .hart = 0, .vcpu = NO_HART }, { .hart = 3, .vcpu = NO_HART } };
        Events ev = {};
        SimMsiResult res;
        uint64_t addr;
        Sim *s;
        Op op;
        size_t w0;

        ASSERT_OK(backend_sim_new(&g, &b));
        s = backend_sim(b);
        backend_set_handler(b, on_event, &ev);
        ASSERT_OK(sim_add_device(s, "0000:00:01.0", CAP_MSI_FLAT | CAP_MSI_MRIF));
        ASSERT_OK(sim_device_set_owner(s, "0000:00:01.0", OWNER_HOST, NULL));
        ASSERT_OK(sim_device_set_vectors(s, "0000:00:01.0", 2, v));

        /* Blocked at first: an MSI to its own affinity hart faults with 262. */
        ASSERT_OK(sim_target_addr(s, "0000:00:01.0", TARGET_HART(3), &addr));
        ASSERT_OK(sim_msi_write(s, "0000:00:01.0", addr, 5, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_FAULT);
        ASSERT_EQ(res.cause, RVMSI_FAULT_MSI_PTE_INVALID);
        ASSERT_EQ(ev.faults, 1);
        ASSERT_STREQ(ev.last_device, "0000:00:01.0");

        op = set_mode("0000:00:01.0", MODE_IDENTITY, ENTRY_BLOCKED);
        ASSERT_OK(backend_apply(b, &op));
        ASSERT_OK(sim_msi_write(s, "0000:00:01.0", addr, 5, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_DELIVERED);
        ASSERT_EQ(res.hart, 3);
        ASSERT_EQ(res.guest, 0);
        ASSERT_EQ(res.id, 5);

        /* Forged writes to a hart it is not affined to, and to a guest file: blocked. */
        ASSERT_OK(sim_target_addr(s, "0000:00:01.0", TARGET_HART(2), &addr));
        ASSERT_OK(sim_msi_write(s, "0000:00:01.0", addr, 1, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_FAULT);
        ASSERT_OK(sim_msi_write(s, "0000:00:01.0", addr + 2 * RVMSI_PAGE_SIZE, 1, &res));      /* hart 2, guest 2 */
        ASSERT_EQ(res.outcome, SIM_MSI_FAULT);
        ASSERT_OK(sim_msi_write(s, "0000:00:01.0", 0x1000, 1, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_NOT_MSI);

        /* Affinity 3 -> 6: the new file is mapped before the old one is unmapped. */
        w0 = sim_n_windows(s);
        ASSERT_OK(sim_set_affinity(s, "0000:00:01.0", 1, 6));
        {
                const SimWindow *old = NULL, *new = NULL;

                for (size_t i = 0; i < sim_n_windows(s); i++) {
                        const SimWindow *w = sim_window(s, i);

                        if (w->kind == ENTRY_HOST_FILE && w->hart == 3)
                                old = w;
                        if (i >= w0 && w->kind == ENTRY_HOST_FILE && w->hart == 6)
                                new = w;
                }
                ASSERT_NOT_NULL(old);
                ASSERT_NOT_NULL(new);
                ASSERT_TRUE(old->to != UINT64_MAX);
                ASSERT_TRUE(new->from < old->to);       /* overlap: map new, then unmap old */
        }
        ASSERT_OK(sim_target_addr(s, "0000:00:01.0", TARGET_HART(6), &addr));
        ASSERT_OK(sim_msi_write(s, "0000:00:01.0", addr, 7, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_DELIVERED);
        ASSERT_EQ(res.hart, 6);
        ASSERT_OK(sim_target_addr(s, "0000:00:01.0", TARGET_HART(3), &addr));
        ASSERT_OK(sim_msi_write(s, "0000:00:01.0", addr, 7, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_FAULT);

        /* Locked devices refuse identity, like the kernel (EPERM), and nothing changes. */
        ASSERT_OK(sim_device_set_locked(s, "0000:00:01.0", true));
        ASSERT_ERROR(backend_apply(b, &op), EPERM);
        op = set_mode("0000:00:01.0", MODE_GUEST_FILE, ENTRY_MRIF);
        ASSERT_ERROR(backend_apply(b, &op), EOPNOTSUPP);
        ASSERT_EQ(sim_n_violations(s, NULL), 0);
}

TEST(mrif_records_and_discards) {
        _cleanup_(backend_freep) Backend *b = NULL;
        Vector v[1] = { { .hart = 1, .vcpu = NO_HART } };
        SimMsiResult res;
        SimCounters c;
        uint64_t addr;
        Sim *s;
        Op op = set_mode("0000:00:02.0", MODE_MRIF, ENTRY_BLOCKED);
        DeviceState st = {};

        ASSERT_OK(backend_sim_new(NULL, &b));
        s = backend_sim(b);
        ASSERT_OK(sim_add_device(s, "0000:00:02.0", CAP_MSI_FLAT));
        ASSERT_OK(sim_device_set_owner(s, "0000:00:02.0", OWNER_USERSPACE, "dpdk"));
        ASSERT_OK(sim_device_set_vectors(s, "0000:00:02.0", 1, v));
        ASSERT_ERROR(backend_apply(b, &op), EOPNOTSUPP);       /* no MSI_MRIF capability */
        sim_remove_device(s, "0000:00:02.0");

        ASSERT_OK(sim_add_device(s, "0000:00:02.0", CAP_MSI_FLAT | CAP_MSI_MRIF));
        ASSERT_OK(sim_device_set_owner(s, "0000:00:02.0", OWNER_USERSPACE, "dpdk"));
        ASSERT_OK(sim_device_set_vectors(s, "0000:00:02.0", 1, v));
        ASSERT_OK(backend_apply(b, &op));
        ASSERT_OK(sim_target_addr(s, "0000:00:02.0", TARGET_HART(1), &addr));
        ASSERT_OK(sim_msi_write(s, "0000:00:02.0", addr, 42, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_MRIF);
        ASSERT_EQ(res.id, 42);
        /* Any identity lands in its own MRIF only. */
        ASSERT_OK(sim_msi_write(s, "0000:00:02.0", addr, 2047, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_MRIF);
        /* Identity above 2047, or an offset other than seteipnum: discarded by the IOMMU. */
        ASSERT_OK(sim_msi_write(s, "0000:00:02.0", addr, 4096, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_DISCARDED);
        ASSERT_OK(sim_msi_write(s, "0000:00:02.0", addr + 0x40, 3, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_DISCARDED);
        sim_get_counters(s, &c);
        ASSERT_EQ(c.notices, 2);
        ASSERT_OK(b->ops->dump_device(b, "0000:00:02.0", &st));
        ASSERT_EQ(st.n_entries, 1);
        ASSERT_EQ(st.entries[0].kind, ENTRY_MRIF);
        ASSERT_EQ(st.entries[0].notices, 2);
        ASSERT_EQ(st.isolation, ISOLATION_ISOLATED);
        device_state_done(&st);
}

TEST(guest_files_follow_vcpus) {
        _cleanup_(backend_freep) Backend *b = NULL;
        Geometry g = { .nr_groups = 1, .nr_harts = 2, .nr_guest_files = 1, .nr_ids = 255 };
        Vector v[1] = { { .hart = 0, .vcpu = 0 } };
        char a[UUID_STRING_MAX], c[UUID_STRING_MAX];
        SimMsiResult res;
        uint64_t addr;
        Sim *s;
        Op op;

        ASSERT_OK(backend_sim_new(&g, &b));
        s = backend_sim(b);
        test_uuid(1, a);
        test_uuid(2, c);
        ASSERT_OK(sim_add_vm(s, a, "a", 1));
        ASSERT_OK(sim_add_vm(s, c, "c", 1));
        ASSERT_OK(sim_vcpu_move(s, a, 0, 0));
        ASSERT_OK(sim_vm_set_state(s, a, VM_RUNNING));
        ASSERT_EQ(sim_world(s)->vms[0]->vcpus[0].guest_file, 1);       /* KVM took hart 0's file */
        ASSERT_OK(sim_add_device(s, "0000:05:00.0", CAPS_ALL));
        ASSERT_OK(sim_device_set_owner(s, "0000:05:00.0", OWNER_VM, a));
        ASSERT_OK(sim_device_set_vectors(s, "0000:05:00.0", 1, v));
        op = set_mode("0000:05:00.0", MODE_GUEST_FILE, ENTRY_MRIF);
        ASSERT_OK(backend_apply(b, &op));

        /* The device writes vCPU 0's guest-physical file page; it lands in hart 0's guest file 1. */
        ASSERT_OK(sim_target_addr(s, "0000:05:00.0", TARGET_VCPU(0), &addr));
        ASSERT_OK(sim_msi_write(s, "0000:05:00.0", addr, 9, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_DELIVERED);
        ASSERT_EQ(res.hart, 0);
        ASSERT_EQ(res.guest, 1);

        /* VM c's vCPU takes hart 0's only file after a moves away: a's device must not follow into it. */
        ASSERT_OK(sim_vcpu_move(s, a, 0, 1));
        ASSERT_OK(sim_vcpu_move(s, c, 0, 0));
        ASSERT_OK(sim_vm_set_state(s, c, VM_RUNNING));
        ASSERT_OK(sim_msi_write(s, "0000:05:00.0", addr, 9, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_DELIVERED);
        ASSERT_EQ(res.hart, 1);                 /* followed a to hart 1's file */
        /* Exhaustion: a moves back to hart 0, where c holds the file: MRIF fallback. */
        ASSERT_OK(sim_vcpu_move(s, a, 0, 0));
        ASSERT_OK(sim_msi_write(s, "0000:05:00.0", addr, 9, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_MRIF);
        /* Assigning c's file to a directly is refused while c holds it. */
        op = (Op) { .type = OP_VCPU_ASSIGN, .vcpu = 0, .hart = 0, .guest = 1 };
        memcpy(op.vm, a, sizeof(op.vm));
        ASSERT_ERROR(backend_apply(b, &op), EBUSY);
        ASSERT_EQ(sim_n_violations(s, NULL), 0);
}

/* The checks themselves: a buggy entry is caught the moment it is mapped, and so is a write through it. */
TEST(injected_bad_entries_are_caught) {
        _cleanup_(backend_freep) Backend *b = NULL;
        Geometry g = { .nr_groups = 1, .nr_harts = 2, .nr_guest_files = 2, .nr_ids = 255 };
        Vector v[1] = { { .hart = 0, .vcpu = 0 } };
        char a[UUID_STRING_MAX], c[UUID_STRING_MAX];
        const char *first;
        SimMsiResult res;
        uint64_t addr;
        Sim *s;

        ASSERT_OK(backend_sim_new(&g, &b));
        s = backend_sim(b);
        test_uuid(1, a);
        test_uuid(2, c);
        ASSERT_OK(sim_add_vm(s, a, NULL, 1));
        ASSERT_OK(sim_add_vm(s, c, NULL, 1));
        ASSERT_OK(sim_vcpu_move(s, c, 0, 1));
        ASSERT_OK(sim_vm_set_state(s, c, VM_RUNNING));          /* c holds hart 1's guest file 1 */
        ASSERT_OK(sim_add_device(s, "0000:06:00.0", CAPS_ALL));
        ASSERT_OK(sim_device_set_owner(s, "0000:06:00.0", OWNER_VM, a));
        ASSERT_OK(sim_device_set_vectors(s, "0000:06:00.0", 1, v));
        ASSERT_EQ(sim_n_violations(s, NULL), 0);

        /* MRIF is always its own: fine. */
        ASSERT_OK(sim_inject_entry(s, "0000:06:00.0", TARGET_VCPU(0), ENTRY_MRIF, NO_HART, 0));
        ASSERT_EQ(sim_n_violations(s, NULL), 0);
        /* VM c's guest file mapped for VM a's device: caught. */
        ASSERT_OK(sim_inject_entry(s, "0000:06:00.0", TARGET_VCPU(0), ENTRY_GUEST_FILE, 1, 1));
        ASSERT_EQ(sim_n_violations(s, &first), 1);
        ASSERT_TRUE(strstr(first, "0000:06:00.0") != NULL);
        ASSERT_OK(sim_target_addr(s, "0000:06:00.0", TARGET_VCPU(0), &addr));
        ASSERT_OK(sim_msi_write(s, "0000:06:00.0", addr, 4, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_DELIVERED);
        ASSERT_EQ(res.hart, 1);
        ASSERT_EQ(res.guest, 1);
        ASSERT_EQ(sim_n_violations(s, NULL), 2);
        /* A host file the device has no IRQ affined to: caught too. */
        ASSERT_OK(sim_inject_entry(s, "0000:06:00.0", TARGET_VCPU(0), ENTRY_HOST_FILE, 1, 0));
        ASSERT_EQ(sim_n_violations(s, NULL), 3);
        /* And handing a guest file over while a device still maps it. */
        ASSERT_OK(sim_inject_entry(s, "0000:06:00.0", TARGET_VCPU(0), ENTRY_GUEST_FILE, 0, 2));
        ASSERT_EQ(sim_n_violations(s, NULL), 4);                /* nobody holds hart 0's file 2 */
        ASSERT_OK(sim_vcpu_move(s, c, 0, 0));
        {
                Op op = { .type = OP_VCPU_ASSIGN, .vcpu = 0, .hart = 0, .guest = 2 };

                memcpy(op.vm, c, sizeof(op.vm));
                ASSERT_OK(backend_apply(b, &op));
        }
        ASSERT_EQ(sim_n_violations(s, NULL), 5);
}

/* Randomized world events; after each reconcile the backend equals the desired state and no window broke a rule. */
TEST(randomized_invariants) {
        for (uint64_t seed = 1; seed <= 25; seed++) {
                Geometry g = { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 2, .nr_ids = 255 };
                _cleanup_(backend_freep) Backend *b = NULL;
                _cleanup_(model_freep) Model *m = NULL;
                _cleanup_(policy_freep) Policy *p = NULL;
                _cleanup_(reconciler_freep) Reconciler *r = NULL;
                uint64_t rs = seed;
                const char *first;
                Sim *s;

                ASSERT_OK(backend_sim_new(&g, &b));
                s = backend_sim(b);
                ASSERT_OK(model_new(&g, &m));
                ASSERT_OK(policy_new_default(&p));
                p->mrif_fallback = seed % 3 != 0;
                for (unsigned i = 0; i < 5; i++) {
                        char u[UUID_STRING_MAX], name[32];
                        Vector v[3];
                        Device *d;
                        Vm *vm;

                        test_uuid(i, u);
                        ASSERT_OK(sim_add_vm(s, u, NULL, 2));
                        ASSERT_OK(model_add_vm(m, u, NULL, 2, &vm));
                        ASSERT_OK(model_vm_set_class(m, vm, (IsolationClass) (i % 3)));
                        (void) snprintf(name, sizeof(name), "0000:00:%02u.0", i);
                        for (unsigned k = 0; k < 3; k++)
                                v[k] = (Vector) { .hart = (uint32_t) (test_rand(&rs) % 4), .vcpu = k % 2 };
                        ASSERT_OK(sim_add_device(s, name, test_rand(&rs) % 4 ? CAPS_ALL : CAP_MSI_FLAT | CAP_MSI_MRIF));
                        ASSERT_OK(sim_device_set_owner(s, name, OWNER_VM, u));
                        ASSERT_OK(sim_device_set_vectors(s, name, 3, v));
                        ASSERT_OK(model_add_device(m, name, sim_world(s)->devices[i]->caps, &d));
                        ASSERT_OK(model_device_set_owner(m, d, OWNER_VM, u));
                        ASSERT_OK(model_device_set_vectors(m, d, 3, v));

                        (void) snprintf(name, sizeof(name), "0000:80:%02u.0", i);
                        v[0] = (Vector) { .hart = i % 4, .vcpu = NO_HART };
                        ASSERT_OK(sim_add_device(s, name, CAP_MSI_FLAT | CAP_MSI_MRIF));
                        ASSERT_OK(sim_device_set_owner(s, name, OWNER_HOST, NULL));
                        ASSERT_OK(sim_device_set_vectors(s, name, 1, v));
                        ASSERT_OK(model_add_device(m, name, CAP_MSI_FLAT | CAP_MSI_MRIF, &d));
                        ASSERT_OK(model_device_set_owner(m, d, OWNER_HOST, NULL));
                        ASSERT_OK(model_device_set_vectors(m, d, 1, v));
                }
                ASSERT_OK(reconciler_new(m, &p, b, &r));
                ASSERT_OK(reconciler_resync(r, NULL));

                for (int step = 0; step < 80; step++) {
                        const Model *world = sim_world(s);
                        const Vm *wvm = world->vms[test_rand(&rs) % world->n_vms];
                        char u[UUID_STRING_MAX];
                        Vm *vm;

                        memcpy(u, wvm->uuid, sizeof(u));
                        vm = model_find_vm(m, u);
                        switch (test_rand(&rs) % 5) {
                        case 0:
                        case 1: {
                                uint32_t vc = (uint32_t) (test_rand(&rs) % 2), h = (uint32_t) (test_rand(&rs) % 5);

                                ASSERT_OK(sim_vcpu_move(s, u, vc, h == 4 ? NO_HART : h));
                                break;
                        }
                        case 2: {
                                static const VmState st[] = { VM_RUNNING, VM_RUNNING, VM_PAUSED, VM_STOPPED,
                                                              VM_MIGRATING_OUT };
                                VmState x = st[test_rand(&rs) % ELEMENTSOF(st)];

                                ASSERT_OK(sim_vm_set_state(s, u, x));
                                ASSERT_OK(model_vm_set_state(m, vm, x));
                                break;
                        }
                        case 3: {
                                const Device *d = world->devices[test_rand(&rs) % world->n_devices];
                                char name[DEVICE_NAME_MAX];

                                strcpy(name, d->name);
                                ASSERT_OK(sim_set_affinity(s, name, 0, (uint32_t) (test_rand(&rs) % 4)));
                                ASSERT_OK(model_device_set_affinity(m, model_find_device(m, name), 0,
                                                                    d->vectors[0].hart));
                                reconciler_mark_dirty(r, DIRTY_DEVICE, name);
                                break;
                        }
                        case 4:
                                ASSERT_OK(model_vm_set_priority(m, vm, true, (int32_t) (test_rand(&rs) % 3)));
                                break;
                        }
                        /* The watchers: placement and held files as KVM reports them. */
                        for (uint32_t v = 0; v < vm->nr_vcpus; v++) {
                                ASSERT_OK(model_vcpu_place(m, vm, v, wvm->vcpus[v].hart));
                                ASSERT_OK(model_vcpu_set_guest_file(m, vm, v, wvm->vcpus[v].guest_file));
                        }
                        reconciler_mark_dirty(r, DIRTY_VM, u);
                        ASSERT_OK(reconciler_run(r, NULL));

                        {
                                _cleanup_(plan_freep) Plan *left = NULL;

                                ASSERT_OK(reconciler_plan(r, &left));
                                if (left->n_ops != 0)
                                        TEST_FAIL("seed %" PRIu64 " step %d: %zu ops left (%s %s)", seed, step,
                                                  left->n_ops, op_type_to_string(left->ops[0].type),
                                                  left->ops[0].device);
                        }
                        if (sim_n_violations(s, &first) != 0)
                                TEST_FAIL("seed %" PRIu64 " step %d: %s", seed, step, first);
                }

                /* Strict VMs' devices (VM 0 and 3) never had a window onto a host file. */
                for (size_t i = 0; i < sim_n_windows(s); i++) {
                        const SimWindow *w = sim_window(s, i);

                        if (streq(w->device, "0000:00:00.0") || streq(w->device, "0000:00:03.0"))
                                ASSERT_TRUE(w->kind != ENTRY_HOST_FILE);
                }
        }
}

/* ---- persistence (--sim-persist, docs/crash.md) ---- */

static char *dump_json(Backend *b) {
        _cleanup_(actual_freep) Actual *a = NULL;
        _cleanup_json_ json_object *j = NULL;
        char *text;

        ASSERT_OK(backend_dump(b, &a));
        ASSERT_OK(actual_to_json(a, &j));
        text = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
        ASSERT_NOT_NULL(text);
        return text;
}

static void build_host(Backend *b, const char *a, const char *c) {
        Vector v[2] = { { .hart = 0, .vcpu = 0 }, { .hart = 1, .vcpu = NO_HART } };
        Sim *s = backend_sim(b);
        SimMsiResult res;
        uint64_t addr;
        Op op;

        ASSERT_OK(sim_add_vm(s, a, "a", 1));
        ASSERT_OK(sim_add_vm(s, c, "c", 1));
        ASSERT_OK(sim_vcpu_move(s, a, 0, 0));
        ASSERT_OK(sim_vm_set_state(s, a, VM_RUNNING));
        ASSERT_OK(sim_add_device(s, "0000:05:00.0", CAPS_ALL));
        ASSERT_OK(sim_device_set_owner(s, "0000:05:00.0", OWNER_VM, a));
        ASSERT_OK(sim_device_set_vectors(s, "0000:05:00.0", 1, v));
        op = set_mode("0000:05:00.0", MODE_GUEST_FILE, ENTRY_MRIF);
        ASSERT_OK(backend_apply(b, &op));
        ASSERT_OK(sim_add_device(s, "0000:06:00.0", CAPS_ALL));
        ASSERT_OK(sim_device_set_owner(s, "0000:06:00.0", OWNER_HOST, NULL));
        ASSERT_OK(sim_device_set_vectors(s, "0000:06:00.0", 2, (Vector[]) { { 0, NO_HART }, { 1, NO_HART } }));
        op = set_mode("0000:06:00.0", MODE_MRIF, ENTRY_BLOCKED);
        ASSERT_OK(backend_apply(b, &op));
        /* An MSI recorded in the MRIF image, then a move: windows open and close. */
        ASSERT_OK(sim_target_addr(s, "0000:06:00.0", TARGET_HART(1), &addr));
        ASSERT_OK(sim_msi_write(s, "0000:06:00.0", addr, 7, &res));
        ASSERT_EQ(res.outcome, SIM_MSI_MRIF);
        ASSERT_OK(sim_vcpu_move(s, a, 0, 1));
        ASSERT_OK(sim_vcpu_move(s, c, 0, 0));
        ASSERT_OK(sim_vm_set_state(s, c, VM_RUNNING));
}

TEST(persist_and_restore) {
        _cleanup_free_ char *dir = strdup("/tmp/test-sim-persist-XXXXXX"), *path = NULL, *log = NULL;
        _cleanup_free_ char *before = NULL, *after = NULL;
        _cleanup_free_ SimWindow *windows = NULL;
        Backend *b = NULL;
        Events ev = {};
        SimCounters c0, c1;
        char a[UUID_STRING_MAX], c[UUID_STRING_MAX];
        size_t n_windows;
        uint64_t clock;
        Geometry g;
        Sim *s;
        FILE *f;

        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_TRUE(asprintf(&path, "%s/sim.json", dir) > 0);
        ASSERT_TRUE(asprintf(&log, "%s/sim.json.windows", dir) > 0);
        test_uuid(1, a);
        test_uuid(2, c);

        backend_sim_set_next(path, 0);
        ASSERT_OK(backend_new(&backend_sim_ops, "harts=2,guests=1", &b));
        s = backend_sim(b);
        ASSERT_TRUE(sim_persist_path(s) == NULL);      /* written from its first operation on */
        build_host(b, a, c);
        ASSERT_STREQ(sim_persist_path(s), path);
        before = dump_json(b);
        n_windows = sim_n_windows(s);
        ASSERT_TRUE(n_windows >= 4);
        windows = new(SimWindow, n_windows);
        for (size_t i = 0; i < n_windows; i++)
                windows[i] = *sim_window(s, i);
        clock = sim_now(s);
        sim_get_counters(s, &c0);
        ASSERT_EQ(c0.notices, 1);
        ASSERT_EQ(sim_n_violations(s, NULL), 0);
        b = backend_free(b);

        /* Lines the state never named (a kill between the log and the rename) are cut off. */
        f = fopen(log, "ae");
        ASSERT_NOT_NULL(f);
        fputs("open 999 0000:05:00.0 0 host-file 0 0 - 1\nclo", f);
        fclose(f);

        /* A sim nobody serves from (a validation sim) hands the options on. */
        backend_sim_set_next(path, 0);
        ASSERT_OK(backend_new(&backend_sim_ops, NULL, &b));
        s = backend_sim(b);
        ASSERT_STREQ(sim_persist_path(s), path);        /* restored: in use at once */
        backend_set_handler(b, on_event, &ev);
        ASSERT_OK(backend_get_geometry(b, &g));
        ASSERT_EQ(g.nr_harts, 2);
        ASSERT_EQ(g.nr_guest_files, 1);
        after = dump_json(b);
        ASSERT_STREQ(after, before);
        /* Announced once: every device, every vCPU. */
        ASSERT_EQ(ev.entry_changed, 2);
        ASSERT_EQ(ev.vcpu_changed, 2);
        free(dump_json(b));
        ASSERT_EQ(ev.entry_changed, 2);
        ASSERT_EQ(sim_now(s), clock);
        sim_get_counters(s, &c1);
        ASSERT_EQ(memcmp(&c0, &c1, sizeof(c0)), 0);
        ASSERT_EQ(sim_n_windows(s), n_windows);
        for (size_t i = 0; i < n_windows; i++)
                ASSERT_EQ(memcmp(sim_window(s, i), &windows[i], sizeof(SimWindow)), 0);
        /* The checks go on: c holds hart 0's file; a's device mapping it is a violation, and it is kept. */
        ASSERT_OK(sim_inject_entry(s, "0000:05:00.0", TARGET_VCPU(0), ENTRY_GUEST_FILE, 0, 1));
        ASSERT_EQ(sim_n_violations(s, NULL), 1);
        b = backend_free(b);

        backend_sim_set_next(path, 0);
        ASSERT_OK(backend_new(&backend_sim_ops, "harts=2,guests=1", &b));
        ASSERT_EQ(sim_n_violations(backend_sim(b), NULL), 1);
        ASSERT_TRUE(sim_n_windows(backend_sim(b)) > n_windows);
        b = backend_free(b);

        /* A different geometry than the saved host's is refused, and the file stays. */
        backend_sim_set_next(path, 0);
        ASSERT_ERROR(backend_new(&backend_sim_ops, "harts=4,guests=1", &b), EINVAL);
        /* ... and the refused options go to the next sim. */
        ASSERT_OK(backend_new(&backend_sim_ops, NULL, &b));
        ASSERT_STREQ(sim_persist_path(backend_sim(b)), path);
        b = backend_free(b);

        /* A corrupt file is an error, never a fresh host over it. */
        f = fopen(path, "we");
        ASSERT_NOT_NULL(f);
        fputs("{\"version\":1,\"geometry\":{\"groups\":1,\"harts\":2,\"guest_files\":1,\"ids\":255}}", f);
        fclose(f);
        backend_sim_set_next(path, 0);
        ASSERT_ERROR(backend_new(&backend_sim_ops, NULL, &b), EBADMSG);
        backend_sim_set_next(NULL, 0);

        (void) unlink(path);
        (void) unlink(log);
        (void) rmdir(dir);
}

/* A sim opened without a backend operation (scenario validation) does not keep the options. */
TEST(unused_sim_hands_options_on) {
        _cleanup_free_ char *dir = strdup("/tmp/test-sim-persist-XXXXXX"), *path = NULL, *log = NULL;
        Backend *first = NULL, *second = NULL;
        Geometry g;

        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_TRUE(asprintf(&path, "%s/sim.json", dir) > 0);
        ASSERT_TRUE(asprintf(&log, "%s/sim.json.windows", dir) > 0);
        backend_sim_set_next(path, 0);
        ASSERT_OK(backend_new(&backend_sim_ops, NULL, &first));
        ASSERT_OK(sim_add_device(backend_sim(first), "0000:01:00.0", CAPS_ALL));
        ASSERT_TRUE(access(path, F_OK) < 0);    /* not in use yet: nothing written */
        first = backend_free(first);
        ASSERT_OK(backend_new(&backend_sim_ops, NULL, &second));
        ASSERT_OK(backend_get_geometry(second, &g));
        ASSERT_STREQ(sim_persist_path(backend_sim(second)), path);
        ASSERT_TRUE(access(path, F_OK) >= 0);
        /* Plan()'s sims, opened later, get nothing. */
        ASSERT_OK(backend_new(&backend_sim_ops, NULL, &first));
        ASSERT_OK(backend_get_geometry(first, &g));
        ASSERT_TRUE(sim_persist_path(backend_sim(first)) == NULL);
        first = backend_free(first);
        second = backend_free(second);
        (void) unlink(path);
        (void) unlink(log);
        (void) rmdir(dir);
}

/* RVMSI_TEST_CRASH_AFTER_OPS: SIGKILL right after the N-th operation, which is done and saved. */
TEST(crash_after_ops) {
        _cleanup_free_ char *dir = strdup("/tmp/test-sim-persist-XXXXXX"), *path = NULL, *log = NULL;
        Backend *b = NULL;
        DeviceState st;
        pid_t pid;
        int status;

        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_TRUE(asprintf(&path, "%s/sim.json", dir) > 0);
        ASSERT_TRUE(asprintf(&log, "%s/sim.json.windows", dir) > 0);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                Op op = set_mode("0000:01:00.0", MODE_MRIF, ENTRY_BLOCKED);

                backend_sim_set_next(path, 2);
                if (backend_new(&backend_sim_ops, NULL, &b) < 0 ||
                    sim_add_device(backend_sim(b), "0000:01:00.0", CAPS_ALL) < 0 ||
                    backend_apply(b, &op) < 0)
                        _exit(2);
                op.mode = MODE_IDENTITY;
                (void) backend_apply(b, &op);           /* the 2nd: never returns */
                _exit(3);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status));
        ASSERT_EQ(WTERMSIG(status), SIGKILL);
        backend_sim_set_next(path, 0);
        ASSERT_OK(backend_new(&backend_sim_ops, NULL, &b));
        ASSERT_OK(b->ops->dump_device(b, "0000:01:00.0", &st));
        ASSERT_EQ(st.mode, MODE_IDENTITY);
        device_state_done(&st);
        b = backend_free(b);
        (void) unlink(path);
        (void) unlink(log);
        (void) rmdir(dir);
}

/* Binding a device to the owner it has is no rebind: its entries stay (a restarted rvmsid re-telling the world). */
TEST(same_owner_is_no_rebind) {
        _cleanup_(backend_freep) Backend *b = NULL;
        Vector v[1] = { { .hart = 1, .vcpu = NO_HART } };
        DeviceState st;
        Sim *s;
        Op op;

        ASSERT_OK(backend_new(&backend_sim_ops, "harts=2,guests=1", &b));
        s = backend_sim(b);
        ASSERT_OK(sim_add_device(s, "0000:01:00.0", CAPS_ALL));
        ASSERT_OK(sim_device_set_owner(s, "0000:01:00.0", OWNER_USERSPACE, "dpdk"));
        ASSERT_OK(sim_device_set_vectors(s, "0000:01:00.0", 1, v));
        op = set_mode("0000:01:00.0", MODE_MRIF, ENTRY_BLOCKED);
        ASSERT_OK(backend_apply(b, &op));
        ASSERT_OK(sim_device_set_owner(s, "0000:01:00.0", OWNER_USERSPACE, "dpdk"));
        ASSERT_OK(b->ops->dump_device(b, "0000:01:00.0", &st));
        ASSERT_EQ(st.mode, MODE_MRIF);
        ASSERT_EQ(st.n_entries, 1);
        device_state_done(&st);
        /* Another label is another driver: torn down. */
        ASSERT_OK(sim_device_set_owner(s, "0000:01:00.0", OWNER_USERSPACE, "spdk"));
        ASSERT_OK(b->ops->dump_device(b, "0000:01:00.0", &st));
        ASSERT_EQ(st.mode, MODE_BLOCKED);
        ASSERT_EQ(st.n_entries, 0);
        device_state_done(&st);
}
