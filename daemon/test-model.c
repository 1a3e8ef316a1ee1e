/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <ctype.h>

#include "test-common.h"

DEFINE_TEST_MAIN

TEST(strings) {
        for (int i = 0; i < _MODE_MAX; i++)
                ASSERT_EQ(mode_from_string(mode_to_string(i)), i);
        for (int i = 0; i < _ENTRY_KIND_MAX; i++)
                ASSERT_EQ(entry_kind_from_string(entry_kind_to_string(i)), i);
        for (int i = 0; i < _OWNER_KIND_MAX; i++)
                ASSERT_EQ(owner_kind_from_string(owner_kind_to_string(i)), i);
        for (int i = 0; i < _CLASS_MAX; i++)
                ASSERT_EQ(isolation_class_from_string(isolation_class_to_string(i)), i);
        for (int i = 0; i < _VM_STATE_MAX; i++)
                ASSERT_EQ(vm_state_from_string(vm_state_to_string(i)), i);
        ASSERT_EQ(mode_from_string("fast"), -EINVAL);
        ASSERT_EQ(mode_from_string(NULL), -EINVAL);
        ASSERT_TRUE(mode_to_string(_MODE_MAX) == NULL);
}

TEST(geometry_and_harts) {
        Geometry bad[] = {
                { .nr_groups = 0, .nr_harts = 4, .nr_ids = 255 },
                { .nr_groups = 3, .nr_harts = 4, .nr_ids = 255 },
                { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 64, .nr_ids = 255 },
                { .nr_groups = 1, .nr_harts = 4, .nr_ids = 10 },
                { .nr_groups = 1, .nr_harts = 0, .nr_ids = 255 },
        };
        Geometry g = { .nr_groups = 2, .nr_harts = 8, .nr_guest_files = 63, .nr_ids = 2047 };
        _cleanup_(model_freep) Model *m = NULL;
        uint32_t h;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Model *x = NULL;

                ASSERT_ERROR(model_new(&bad[i], &x), EINVAL);
                ASSERT_TRUE(x == NULL);
        }
        ASSERT_OK(model_new(&g, &m));
        ASSERT_EQ(m->harts[5].group, 1);
        ASSERT_EQ(m->harts[5].hart, 1);
        ASSERT_OK(model_hart_by_cpu(m, 5, &h));
        ASSERT_EQ(h, 5);
        ASSERT_OK(model_set_hart_cpu(m, 5, 42));
        ASSERT_OK(model_hart_by_cpu(m, 42, &h));
        ASSERT_EQ(h, 5);
        ASSERT_ERROR(model_hart_by_cpu(m, 5, &h), ENOENT);
        /*
         * Booted on hart 2: Linux's CPU 0 is hart 2. Learning that takes CPU 0 away from hart 0 (its guess), so
         * an IRQ on CPU 0 is on hart 2, not on hart 0.
         */
        ASSERT_OK(model_set_hart_cpu(m, 2, 0));
        ASSERT_OK(model_hart_by_cpu(m, 0, &h));
        ASSERT_EQ(h, 2);
        ASSERT_EQ(m->harts[0].cpu, -1);
        ASSERT_EQ(m->harts[1].cpu, 1);
        ASSERT_ERROR(model_set_hart_cpu(m, 8, 1), ERANGE);
        ASSERT_ERROR(model_set_hart_reserved(m, 0, 1), EINVAL);          /* bit 0 is the S-level file */
        ASSERT_OK(model_set_hart_reserved(m, 0, UINT64_C(1) << 63));
}

TEST(vms_devices_and_links) {
        Geometry g = { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 2, .nr_ids = 255 };
        _cleanup_(model_freep) Model *m = NULL, *c = NULL;
        char u[UUID_STRING_MAX], upper[UUID_STRING_MAX], tmp[UUID_STRING_MAX];
        uint32_t *targets = NULL, *counts = NULL, *hart_of = NULL, n;
        Device *d;
        Vm *vm;

        ASSERT_OK(model_new(&g, &m));
        test_uuid(7, u);
        /* A device can name its VM before the VM registers; the link appears on registration. */
        ASSERT_OK(model_add_device(m, "0000:00:03.0", CAPS_ALL, &d));
        ASSERT_OK(model_device_set_owner(m, d, OWNER_VM, u));
        ASSERT_TRUE(d->vm == NULL);
        ASSERT_OK(model_add_vm(m, u, "seven", 4, &vm));
        ASSERT_TRUE(d->vm == vm);
        ASSERT_EQ(vm->n_devices, 1);

        for (size_t i = 0; i < 36; i++)
                upper[i] = (char) toupper((unsigned char) u[i]);
        upper[36] = 0;
        ASSERT_TRUE(model_find_vm(m, upper) == vm);
        ASSERT_TRUE(model_find_vm_by_name(m, "seven") == vm);
        ASSERT_ERROR(model_add_vm(m, upper, "other", 1, NULL), EEXIST);
        ASSERT_ERROR(model_add_vm(m, test_uuid(8, tmp), "seven", 1, NULL), EEXIST);
        ASSERT_ERROR(model_add_vm(m, "not-a-uuid", NULL, 1, NULL), EINVAL);
        ASSERT_ERROR(model_add_vm(m, test_uuid(9, tmp), NULL, 0, NULL), EINVAL);
        ASSERT_ERROR(model_add_device(m, "0000:00:03.0", 0, NULL), EEXIST);
        ASSERT_ERROR(model_add_device(m, "bad/name", 0, NULL), EINVAL);
        ASSERT_ERROR(model_add_device(m, "", 0, NULL), EINVAL);

        /* Vectors: vCPUs beyond the VM and harts beyond the host are refused, nothing changes. */
        {
                Vector ok[] = { { .hart = 1, .vcpu = 2 }, { .hart = 3, .vcpu = 2 }, { .hart = 0, .vcpu = 0 },
                                { .hart = 2, .vcpu = NO_HART } };
                Vector bad1[] = { { .hart = 4, .vcpu = 0 } };
                Vector bad2[] = { { .hart = 0, .vcpu = 4 } };

                ASSERT_OK(model_device_set_vectors(m, d, 4, ok));
                ASSERT_ERROR(model_device_set_vectors(m, d, 1, bad1), ERANGE);
                ASSERT_ERROR(model_device_set_vectors(m, d, 1, bad2), ERANGE);
                ASSERT_EQ(d->nr_vectors, 4);
        }
        ASSERT_OK(device_targets(d, &targets, &counts, &hart_of, &n));
        ASSERT_EQ(n, 2);
        ASSERT_EQ(targets[0], TARGET_VCPU(0));
        ASSERT_EQ(counts[0], 1);
        ASSERT_EQ(hart_of[0], 0);
        ASSERT_EQ(targets[1], TARGET_VCPU(2));
        ASSERT_EQ(counts[1], 2);
        ASSERT_EQ(hart_of[1], 1);               /* host path of the lowest vector aimed at vCPU 2 */
        free(targets);
        free(counts);
        free(hart_of);

        /* Without guest-file delivery the MSIs take the host path: the targets are the affinity harts. */
        ASSERT_OK(model_device_set_caps(m, d, CAP_MSI_FLAT | CAP_MSI_MRIF));
        ASSERT_OK(device_targets(d, &targets, &counts, NULL, &n));
        ASSERT_EQ(n, 4);
        ASSERT_EQ(targets[0], TARGET_HART(0));
        ASSERT_EQ(targets[3], TARGET_HART(3));
        free(targets);
        free(counts);
        ASSERT_OK(model_device_set_caps(m, d, CAPS_ALL));

        /* Changing the owner drops vCPU routes. */
        ASSERT_OK(model_device_set_owner(m, d, OWNER_HOST, NULL));
        ASSERT_TRUE(d->vm == NULL);
        ASSERT_EQ(vm->n_devices, 0);
        ASSERT_EQ(d->vectors[0].vcpu, NO_HART);
        ASSERT_ERROR(model_device_set_owner(m, d, OWNER_HOST, "label"), EINVAL);

        /* Placement keeps per-hart resident lists. */
        ASSERT_OK(model_vcpu_place(m, vm, 0, 2));
        ASSERT_OK(model_vcpu_place(m, vm, 1, 2));
        ASSERT_OK(model_vcpu_set_guest_file(m, vm, 0, 2));
        ASSERT_ERROR(model_vcpu_set_guest_file(m, vm, 0, 3), ERANGE);
        ASSERT_ERROR(model_vcpu_set_guest_file(m, vm, 2, 1), EINVAL);   /* not placed */
        ASSERT_EQ(m->harts[2].n_residents, 2);
        ASSERT_OK(model_vcpu_place(m, vm, 0, 3));
        ASSERT_EQ(vm->vcpus[0].guest_file, 0);                          /* a file stays with its hart */
        ASSERT_EQ(m->harts[2].n_residents, 1);
        ASSERT_EQ(m->harts[3].n_residents, 1);

        ASSERT_OK(model_copy(m, &c));
        {
                json_object *a, *b;

                ASSERT_OK(model_to_json(m, &a));
                ASSERT_OK(model_to_json(c, &b));
                ASSERT_STREQ(json_object_to_json_string(a), json_object_to_json_string(b));
                json_object_put(a);
                json_object_put(b);
        }

        ASSERT_OK(model_remove_vm(m, u));
        ASSERT_EQ(m->harts[2].n_residents, 0);
        ASSERT_ERROR(model_remove_vm(m, u), ENOENT);
        ASSERT_OK(model_remove_device(m, "0000:00:03.0"));
        ASSERT_ERROR(model_remove_device(m, "0000:00:03.0"), ENOENT);
}

/* Memory per (device, file) pair: the brief's goal is <= 128 bytes. */
/* A VM's device list is in name order, whatever order the devices came in. */
TEST(vm_devices_sorted) {
        Geometry g = { .nr_groups = 1, .nr_harts = 2, .nr_guest_files = 1, .nr_ids = 255 };
        _cleanup_(model_freep) Model *m = NULL;
        const char *names[] = { "0000:03:00.0", "0000:01:00.0", "0000:02:00.0" };
        Device *d;
        Vm *vm;

        ASSERT_OK(model_new(&g, &m));
        vm = test_add_vm(m, 1, 1, VM_DEFINED, CLASS_BALANCED);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                ASSERT_OK(model_add_device(m, names[i], CAP_MSI_FLAT, &d));
                ASSERT_OK(model_device_set_owner(m, d, OWNER_VM, vm->uuid));
        }
        ASSERT_EQ(vm->n_devices, 3);
        ASSERT_STREQ(vm->devices[0]->name, "0000:01:00.0");
        ASSERT_STREQ(vm->devices[1]->name, "0000:02:00.0");
        ASSERT_STREQ(vm->devices[2]->name, "0000:03:00.0");
        ASSERT_OK(model_device_set_owner(m, model_find_device(m, "0000:02:00.0"), OWNER_NONE, NULL));
        ASSERT_EQ(vm->n_devices, 2);
        ASSERT_STREQ(vm->devices[1]->name, "0000:03:00.0");
}

/* A copy equals its source: every VM (named or not, in order), its vCPUs and linked devices; the copy stays a
 * model whose rules hold (a VM name is still unique in it). */
TEST(copy_many_vms) {
        Geometry g = { .nr_groups = 1, .nr_harts = 8, .nr_guest_files = 3, .nr_ids = 255 };
        _cleanup_(model_freep) Model *m = NULL, *c = NULL;
        json_object *a, *b;
        char u[UUID_STRING_MAX];

        ASSERT_OK(model_new(&g, &m));
        for (unsigned i = 0; i < 300; i++) {
                Vm *vm;

                if (i % 3 == 0)
                        ASSERT_OK(model_add_vm(m, test_uuid(1000 - i, u), NULL, 2, &vm));      /* no name */
                else
                        vm = test_add_vm(m, 1000 - i, 2, i % 2 ? VM_RUNNING : VM_STOPPED, (IsolationClass) (i % 3));
                ASSERT_OK(model_vcpu_place(m, vm, 0, i % 8));
                ASSERT_OK(model_vcpu_place(m, vm, 1, (i + 3) % 8));
                if (i % 5 == 0) {
                        uint32_t vcpus[2] = { 0, 1 };
                        char name[32];

                        (void) snprintf(name, sizeof(name), "0000:%02x:%02x.0", i / 32, i % 32);
                        (void) test_add_vm_device(m, name, vm, CAPS_ALL, 2, vcpus);
                }
        }
        ASSERT_OK(model_copy(m, &c));
        ASSERT_EQ(c->n_vms, m->n_vms);
        for (size_t i = 0; i < m->n_vms; i++) {
                ASSERT_STREQ(c->vms[i]->uuid, m->vms[i]->uuid);
                ASSERT_EQ(c->vms[i]->n_devices, m->vms[i]->n_devices);
                ASSERT_TRUE(model_find_vm(c, m->vms[i]->uuid) == c->vms[i]);
        }
        for (size_t i = 0; i < m->n_devices; i++)
                ASSERT_TRUE(model_find_device(c, m->devices[i]->name)->vm ==
                            model_find_vm(c, m->devices[i]->vm->uuid));
        ASSERT_OK(model_to_json(m, &a));
        ASSERT_OK(model_to_json(c, &b));
        ASSERT_STREQ(json_object_to_json_string(a), json_object_to_json_string(b));
        json_object_put(a);
        json_object_put(b);

        /* Names and UUIDs are still unique in the copy, and it grows like any model. */
        ASSERT_ERROR(model_add_vm(c, test_uuid(6000, u), "vm999", 1, NULL), EEXIST);
        ASSERT_ERROR(model_add_vm(c, test_uuid(999, u), NULL, 1, NULL), EEXIST);
        ASSERT_OK(model_add_vm(c, test_uuid(5000, u), "vm5000", 1, NULL));
        ASSERT_EQ(c->n_vms, m->n_vms + 1);
}

/* The distinct targets by brute force: every possible target in order, the vectors aimed at it. */
static uint32_t reference_targets(const Device *d, uint32_t range, DeviceTarget *out) {
        bool vm_owned = device_targets_vcpus(d);
        uint32_t k = 0;

        for (uint32_t x = 0; x < range; x++) {
                uint32_t t = vm_owned ? TARGET_VCPU(x) : TARGET_HART(x);
                DeviceTarget r = { .target = t };

                for (uint32_t i = 0; i < d->nr_vectors; i++) {
                        uint32_t v = vm_owned ? d->vectors[i].vcpu : d->vectors[i].hart;

                        if (v != x)
                                continue;
                        if (r.count++ == 0)
                                r.hart = d->vectors[i].hart;
                }
                if (r.count > 0)
                        out[k++] = r;
        }
        return k;
}

TEST(targets_match_reference) {
        Geometry g = { .nr_groups = 1, .nr_harts = 64, .nr_guest_files = 3, .nr_ids = 255 };
        _cleanup_(model_freep) Model *m = NULL;
        Vector vec[200];
        DeviceTarget want[200], got[200];
        uint64_t rng = 0x9e3779b97f4a7c15;
        char u[UUID_STRING_MAX];
        Device *dv, *dh;
        Vm *vm;

        ASSERT_OK(model_new(&g, &m));
        vm = test_add_vm(m, 1, 16, VM_RUNNING, CLASS_BALANCED);
        ASSERT_OK(model_add_device(m, "0000:00:01.0", CAPS_ALL, &dv));
        ASSERT_OK(model_device_set_owner(m, dv, OWNER_VM, test_uuid(1, u)));
        ASSERT_TRUE(dv->vm == vm);
        ASSERT_OK(model_add_device(m, "0000:00:02.0", CAPS_ALL, &dh));
        ASSERT_OK(model_device_set_owner(m, dh, OWNER_HOST, NULL));

        /*
         * Round-robin, strided with wrap-around, reversed, repeated and random routes, with unrouted
         * vectors, at every length up to 200: what the fast paths (the next target, the last one) and the
         * insertion see.
         */
        for (unsigned iter = 0; iter < 3000; iter++) {
                uint32_t n = iter % 201, shape = (iter / 201) % 6, stride = 1 + iter % 7, base = iter % 64;

                for (uint32_t i = 0; i < n; i++) {
                        uint32_t x;

                        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
                        switch (shape) {
                        case 0:
                                x = i % (1 + iter % 16);
                                break;
                        case 1:
                                x = (base + i * stride) % 64;
                                break;
                        case 2:
                                x = 63 - i % 64;
                                break;
                        case 3:
                                x = (i / 3) % 5;
                                break;
                        default:
                                x = (uint32_t) (rng >> 33) % (shape == 4 ? 16 : 64);
                        }
                        vec[i] = (Vector) { .hart = x % 64, .vcpu = x % 16 };
                        if ((rng >> 20) % 11 == 0)
                                vec[i].vcpu = NO_HART;
                        if ((rng >> 24) % 13 == 0)
                                vec[i].hart = NO_HART;
                }
                ASSERT_OK(model_device_set_vectors(m, dv, n, vec));
                for (uint32_t i = 0; i < n; i++)
                        vec[i].vcpu = NO_HART;          /* only a VM's device routes to vCPUs */
                ASSERT_OK(model_device_set_vectors(m, dh, n, vec));

                for (unsigned w = 0; w < 2; w++) {
                        const Device *d = w == 0 ? dv : dh;
                        _cleanup_free_ uint32_t *targets = NULL, *counts = NULL, *hart_of = NULL;
                        uint32_t k = reference_targets(d, w == 0 ? 16 : 64, want), n_got;

                        ASSERT_EQ(device_targets_fill(d, got), k);
                        ASSERT_OK(device_targets(d, &targets, &counts, &hart_of, &n_got));
                        ASSERT_EQ(n_got, k);
                        for (uint32_t i = 0; i < k; i++) {
                                ASSERT_EQ(got[i].target, want[i].target);
                                ASSERT_EQ(got[i].count, want[i].count);
                                ASSERT_EQ(got[i].hart, want[i].hart);
                                ASSERT_EQ(targets[i], want[i].target);
                                ASSERT_EQ(counts[i], want[i].count);
                                ASSERT_EQ(hart_of[i], want[i].hart);
                        }
                }
        }
}

TEST(find_vm_after_moves) {
        Geometry g = { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 3, .nr_ids = 255 };
        _cleanup_(model_freep) Model *m = NULL;
        char u[UUID_STRING_MAX];

        /* model_find_vm() remembers positions; VMs that come and go move the others under it. */
        ASSERT_OK(model_new(&g, &m));
        for (unsigned i = 0; i < 200; i += 2)
                (void) test_add_vm(m, i, 1, VM_RUNNING, CLASS_BALANCED);
        for (unsigned round = 0; round < 3; round++) {
                for (unsigned i = 0; i < 200; i += 2)
                        ASSERT_STREQ(model_find_vm(m, test_uuid(i, u))->uuid, u);
                /* Round 0 adds the odd ones between them, round 1 removes them again, round 2 finds none. */
                for (unsigned i = 1; i < 200; i += 2) {
                        Vm *vm = model_find_vm(m, test_uuid(i, u));

                        if (round == 1) {
                                ASSERT_TRUE(vm && streq(vm->uuid, u));
                                ASSERT_OK(model_remove_vm(m, u));
                        } else
                                ASSERT_TRUE(vm == NULL);
                        if (round == 0)
                                (void) test_add_vm(m, i, 1, VM_RUNNING, CLASS_BALANCED);
                }
                for (unsigned i = 0; i < 200; i += 2)
                        ASSERT_STREQ(model_find_vm(m, test_uuid(i, u))->uuid, u);
                for (unsigned i = 1; round == 0 && i < 200; i += 2)
                        ASSERT_STREQ(model_find_vm(m, test_uuid(i, u))->uuid, u);
        }
        ASSERT_OK(model_remove_vm(m, test_uuid(0, u)));
        ASSERT_TRUE(model_find_vm(m, u) == NULL);
        ASSERT_STREQ(model_find_vm(m, test_uuid(198, u))->uuid, u);
}

TEST(sizes) {
        ASSERT_TRUE(sizeof(Entry) <= 32);
        ASSERT_TRUE(sizeof(Vector) == 8);
        fprintf(stderr, "sizeof(Entry) = %zu, sizeof(Vector) = %zu, sizeof(DeviceState) = %zu\n", sizeof(Entry),
                sizeof(Vector), sizeof(DeviceState));
}
