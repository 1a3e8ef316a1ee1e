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

TEST(sizes) {
        ASSERT_TRUE(sizeof(Entry) <= 32);
        ASSERT_TRUE(sizeof(Vector) == 8);
        fprintf(stderr, "sizeof(Entry) = %zu, sizeof(Vector) = %zu, sizeof(DeviceState) = %zu\n", sizeof(Entry),
                sizeof(Vector), sizeof(DeviceState));
}
