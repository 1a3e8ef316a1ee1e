/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <sys/stat.h>

#include "fileio.h"
#include "state.h"
#include "test-common.h"

DEFINE_TEST_MAIN

static Model *sample_model(void) {
        Geometry g = { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 2, .nr_ids = 255 };
        uint32_t vcpus[] = { 0, 1 }, harts[] = { 2 };
        Model *m;
        Vm *a, *b;
        Device *d;

        ASSERT_OK(model_new(&g, &m));
        a = test_add_vm(m, 1, 2, VM_RUNNING, CLASS_STRICT);
        b = test_add_vm(m, 2, 1, VM_PAUSED, _CLASS_INVALID);
        ASSERT_OK(model_vm_set_priority(m, b, true, -3));
        ASSERT_OK(model_vcpu_place(m, a, 0, 3));
        ASSERT_OK(model_vcpu_pin(m, a, 0, 3));
        ASSERT_OK(model_vcpu_place(m, b, 0, 1));
        test_add_vm_device(m, "0000:01:00.0", a, CAPS_ALL, 2, vcpus);
        d = test_add_host_device(m, "0000:02:00.0", OWNER_USERSPACE, CAP_MSI_FLAT | CAP_MSI_MRIF, 1, harts);
        ASSERT_OK(model_device_set_owner(m, d, OWNER_USERSPACE, "spdk"));
        ASSERT_OK(model_device_set_locked(m, d, true));
        return m;
}

static char *json_of_model(const Model *m) {
        json_object *o;
        char *s;

        ASSERT_OK(model_to_json(m, &o));
        s = strdup(json_object_to_json_string(o));
        json_object_put(o);
        return s;
}

TEST(round_trip) {
        char dir[] = "/tmp/rvmsi-test-state-XXXXXX", path[1024];
        _cleanup_(model_freep) Model *m = sample_model(), *m2 = NULL;
        _cleanup_(policy_freep) Policy *ov = NULL, *p2 = NULL;
        _cleanup_(state_freep) State *s = NULL, *s2 = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL;
        PolicyVmOverride o = { .klass = CLASS_PERFORMANCE, .max_guest_files_set = true, .max_guest_files = 1 };
        StateLoadReport rep;
        struct stat st;

        ASSERT_NOT_NULL(mkdtemp(dir));
        (void) snprintf(path, sizeof(path), "%s/state.json", dir);
        ASSERT_OK(policy_new_default(&ov));
        ASSERT_OK(policy_set_vm_override(ov, "vm2", &o));
        ASSERT_OK(state_capture(m, ov, &s));
        ASSERT_OK(state_save(s, path));
        ASSERT_OK(stat(path, &st));
        ASSERT_EQ(st.st_mode & 0777, 0600);

        ASSERT_EQ(state_load(path, &s2, &rep), 1);
        ASSERT_FALSE(rep.corrupt);
        ASSERT_FALSE(rep.missing);
        {
                Geometry g = m->geometry;

                ASSERT_OK(model_new(&g, &m2));
        }
        ASSERT_OK(policy_new_default(&p2));
        ASSERT_EQ(state_apply(s2, m2, p2), 0);
        /* Vectors are not state: the kernel and the watchers report them again after a restart. */
        for (size_t i = 0; i < m->n_devices; i++)
                ASSERT_OK(model_device_set_vectors(m2, model_find_device(m2, m->devices[i]->name),
                                                   m->devices[i]->nr_vectors, m->devices[i]->vectors));
        /* Everything the state holds comes back; held guest files are not state (the kernel knows them). */
        a = json_of_model(m);
        b = json_of_model(m2);
        ASSERT_STREQ(a, b);
        ASSERT_EQ(p2->n_vm_overrides, 1);
        ASSERT_STREQ(p2->vm_overrides[0].key, "vm2");
        ASSERT_EQ(p2->vm_overrides[0].klass, CLASS_PERFORMANCE);

        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));
}

TEST(test_mode_and_missing) {
        _cleanup_(model_freep) Model *m = sample_model();
        _cleanup_(state_freep) State *s = NULL;
        State *none = NULL;
        StateLoadReport rep;

        ASSERT_OK(state_capture(m, NULL, &s));
        ASSERT_OK(state_save(s, ""));
        ASSERT_OK(state_save(s, NULL));
        ASSERT_EQ(state_load("", &none, &rep), 0);
        ASSERT_TRUE(rep.test_mode);
        ASSERT_TRUE(none == NULL);
        ASSERT_EQ(state_load("/tmp/rvmsi-no-such-dir/state.json", &none, &rep), 0);
        ASSERT_TRUE(rep.missing);
        ASSERT_TRUE(none == NULL);
}

TEST(corrupt_files_are_moved_aside) {
        static const char *const bad[] = {
                "{ \"version\": 1, \"vms\": [",                                      /* truncated */
                "\x01\x02garbage",
                "{ \"version\": 7 }",                                                /* future version */
                "{ \"version\": 1, \"vms\": [ { \"uuid\": \"nope\", \"state\": \"running\", \"vcpus\": [{}] } ] }",
                "{ \"version\": 1, \"devices\": [ { \"name\": \"a/b\", \"owner\": \"host\" } ] }",
                "",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char dir[] = "/tmp/rvmsi-test-state-XXXXXX", path[1024];
                _cleanup_free_ char *moved = NULL;
                State *s = NULL;
                StateLoadReport rep;
                size_t n;

                ASSERT_NOT_NULL(mkdtemp(dir));
                (void) snprintf(path, sizeof(path), "%s/state.json", dir);
                ASSERT_OK(write_file_atomic(path, bad[i], strlen(bad[i]), 0600));
                ASSERT_EQ(state_load(path, &s, &rep), 0);
                ASSERT_TRUE(s == NULL);
                if (!rep.corrupt)
                        TEST_FAIL("case %zu not reported corrupt", i);
                ASSERT_TRUE(strlen(rep.error.reason) > 0);
                ASSERT_TRUE(strstr(rep.moved_to, "state.json.corrupt-") != NULL);
                /* The original is gone, the copy holds exactly the old bytes. */
                ASSERT_TRUE(access(path, F_OK) < 0);
                ASSERT_OK(read_full_file(rep.moved_to, 1 << 20, &moved, &n));
                ASSERT_EQ(n, strlen(bad[i]));
                ASSERT_TRUE(memcmp(moved, bad[i], n) == 0);
                ASSERT_OK(unlink(rep.moved_to));
                ASSERT_OK(rmdir(dir));
        }
}

/* Not being able to read the file is an error, not corruption: nothing is moved. */
TEST(unreadable_is_an_error) {
        char dir[] = "/tmp/rvmsi-test-state-XXXXXX", path[1024];
        State *s = NULL;
        StateLoadReport rep;

        ASSERT_NOT_NULL(mkdtemp(dir));
        (void) snprintf(path, sizeof(path), "%s/state.json", dir);
        ASSERT_OK(mkdir(path, 0700));           /* a directory where the file should be */
        ASSERT_TRUE(state_load(path, &s, &rep) < 0);
        ASSERT_TRUE(s == NULL);
        ASSERT_OK(access(path, F_OK));
        ASSERT_OK(rmdir(path));
        ASSERT_OK(rmdir(dir));
}

TEST(apply_drops_what_no_longer_fits) {
        const char *text = "{ \"version\": 1, \"vms\": [ { \"uuid\": \"00000000-0000-4000-8000-000000000001\", "
                           "\"state\": \"running\", \"vcpus\": [ { \"hart\": 60 }, { \"hart\": 1 } ] } ] }";
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(state_freep) State *s = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        Geometry g = { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 2, .nr_ids = 255 };
        JsonError e = {};
        const Vm *vm;

        ASSERT_OK(json_parse_buffer(text, strlen(text), "t", &o, &e));
        ASSERT_OK(state_from_json(o, &s, &e));
        ASSERT_OK(model_new(&g, &m));
        ASSERT_EQ(state_apply(s, m, NULL), 1);           /* hart 60 does not exist on this host */
        vm = model_find_vm(m, "00000000-0000-4000-8000-000000000001");
        ASSERT_NOT_NULL(vm);
        ASSERT_EQ(vm->vcpus[0].hart, NO_HART);
        ASSERT_EQ(vm->vcpus[1].hart, 1);
}

/* Version 1 files (one pinned hart per vCPU) still load: the pin becomes the set of that hart's CPU. */
TEST(version_1_pinning_loads) {
        const char *text = "{ \"version\": 1, \"vms\": [ { \"uuid\": \"00000000-0000-4000-8000-000000000001\", "
                           "\"state\": \"running\", \"vcpus\": [ { \"hart\": 2, \"pinned\": 2 }, "
                           "{ \"hart\": null, \"pinned\": null } ] } ] }";
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(state_freep) State *s = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        Geometry g = { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 2, .nr_ids = 255 };
        JsonError e = {};
        const Vm *vm;

        ASSERT_OK(json_parse_buffer(text, strlen(text), "t", &o, &e));
        ASSERT_OK(state_from_json(o, &s, &e));
        ASSERT_OK(model_new(&g, &m));
        ASSERT_OK(model_set_hart_cpu(m, 2, 7));
        ASSERT_EQ(state_apply(s, m, NULL), 0);
        vm = model_find_vm(m, "00000000-0000-4000-8000-000000000001");
        ASSERT_NOT_NULL(vm);
        ASSERT_EQ(vm->vcpus[0].pinned_hart, 2);
        ASSERT_EQ(vm->vcpus[0].n_pin_cpus, 1);
        ASSERT_EQ(vm->vcpus[0].pin_cpus[0], 7);
        ASSERT_EQ(vm->vcpus[1].n_pin_cpus, 0);
        ASSERT_EQ(vm->vcpus[1].pinned_hart, NO_HART);
}

/* Version 2 keeps a CPU set as registered, through save and load. */
TEST(cpu_set_round_trip) {
        _cleanup_(model_freep) Model *m = NULL, *m2 = NULL;
        _cleanup_(state_freep) State *s = NULL, *s2 = NULL;
        _cleanup_json_ json_object *o = NULL;
        Geometry g = { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 2, .nr_ids = 255 };
        JsonError e = {};
        Vm *vm;

        ASSERT_OK(model_new(&g, &m));
        vm = test_add_vm(m, 1, 2, VM_DEFINED, CLASS_BALANCED);
        ASSERT_OK(model_vcpu_set_pin_cpus(m, vm, 0, (uint32_t[]) { 3, 1 }, 2));
        /* a CPU the host does not have, or one twice: refused, nothing changed */
        ASSERT_ERROR(model_vcpu_set_pin_cpus(m, vm, 1, (uint32_t[]) { 1, 9 }, 2), EINVAL);
        ASSERT_ERROR(model_vcpu_set_pin_cpus(m, vm, 1, (uint32_t[]) { 2, 2 }, 2), EINVAL);
        ASSERT_EQ(vm->vcpus[1].n_pin_cpus, 0);
        ASSERT_EQ(vm->vcpus[0].n_pin_cpus, 2);
        ASSERT_EQ(vm->vcpus[0].pin_cpus[0], 1);
        ASSERT_EQ(vm->vcpus[0].pin_cpus[1], 3);
        ASSERT_EQ(vm->vcpus[0].pinned_hart, NO_HART);   /* two harts allowed: no single one */
        /* not placed: plan for the first hart of the set; placed inside it: stay */
        ASSERT_EQ(model_vcpu_pin_plan_hart(m, vm, 0), 1);
        ASSERT_OK(model_vcpu_place(m, vm, 0, 3));
        ASSERT_EQ(model_vcpu_pin_plan_hart(m, vm, 0), 3);
        ASSERT_OK(model_vcpu_place(m, vm, 0, 2));
        ASSERT_EQ(model_vcpu_pin_plan_hart(m, vm, 0), 1);
        ASSERT_EQ(model_vcpu_pin_plan_hart(m, vm, 1), NO_HART);

        ASSERT_OK(state_capture(m, NULL, &s));
        ASSERT_OK(state_to_json(s, &o));
        ASSERT_EQ(json_object_get_int(json_object_object_get(o, "version")), 2);
        ASSERT_OK(state_from_json(o, &s2, &e));
        ASSERT_OK(model_new(&g, &m2));
        ASSERT_EQ(state_apply(s2, m2, NULL), 0);
        vm = model_find_vm(m2, m->vms[0]->uuid);
        ASSERT_NOT_NULL(vm);
        ASSERT_EQ(vm->vcpus[0].n_pin_cpus, 2);
        ASSERT_EQ(vm->vcpus[0].pin_cpus[0], 1);
        ASSERT_EQ(vm->vcpus[0].pin_cpus[1], 3);
        ASSERT_EQ(vm->vcpus[1].n_pin_cpus, 0);
}

/* A version 2 CPU list must be sorted and distinct. */
TEST(cpu_set_must_be_sorted) {
        const char *text = "{ \"version\": 2, \"vms\": [ { \"uuid\": \"00000000-0000-4000-8000-000000000001\", "
                           "\"state\": \"running\", \"vcpus\": [ { \"hart\": 2, \"cpus\": [3, 1] } ] } ] }";
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(state_freep) State *s = NULL;
        JsonError e = {};

        ASSERT_OK(json_parse_buffer(text, strlen(text), "t", &o, &e));
        ASSERT_ERROR(state_from_json(o, &s, &e), EINVAL);
        ASSERT_TRUE(strstr(e.field, "cpus") != NULL);
}
