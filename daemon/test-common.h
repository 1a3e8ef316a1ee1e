/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the daemon core's unit tests. */
#pragma once

#include "model.h"
#include "policy.h"
#include "solver.h"
#include <inttypes.h>

#include "tests.h"

#define CAPS_ALL (CAP_MSI_FLAT | CAP_MSI_MRIF | CAP_GUEST_FILE)

static inline const char *test_uuid(unsigned i, char buf[static UUID_STRING_MAX]) {
        (void) snprintf(buf, UUID_STRING_MAX, "00000000-0000-4000-8000-%012x", i);
        return buf;
}

static inline Vm *test_add_vm(Model *m, unsigned id, uint32_t nr_vcpus, VmState state, IsolationClass klass) {
        char u[UUID_STRING_MAX], name[32];
        Vm *vm;

        (void) snprintf(name, sizeof(name), "vm%u", id);
        ASSERT_OK(model_add_vm(m, test_uuid(id, u), name, nr_vcpus, &vm));
        ASSERT_OK(model_vm_set_state(m, vm, state));
        ASSERT_OK(model_vm_set_class(m, vm, klass));
        return vm;
}

/* A VM-owned device with one vector per listed vCPU; the host path of vector i goes to hart i % nr_harts. */
static inline Device *test_add_vm_device(Model *m, const char *name, const Vm *vm, uint64_t caps, uint32_t n,
                                         const uint32_t *vcpus) {
        Vector v[64];
        Device *d;

        ASSERT_TRUE(n <= 64);
        ASSERT_OK(model_add_device(m, name, caps, &d));
        ASSERT_OK(model_device_set_owner(m, d, OWNER_VM, vm->uuid));
        for (uint32_t i = 0; i < n; i++)
                v[i] = (Vector) { .hart = i % m->geometry.nr_harts, .vcpu = vcpus[i] };
        ASSERT_OK(model_device_set_vectors(m, d, n, v));
        return d;
}

static inline Device *test_add_host_device(Model *m, const char *name, OwnerKind owner, uint64_t caps, uint32_t n,
                                           const uint32_t *harts) {
        Vector v[64];
        Device *d;

        ASSERT_TRUE(n <= 64);
        ASSERT_OK(model_add_device(m, name, caps, &d));
        ASSERT_OK(model_device_set_owner(m, d, owner, NULL));
        for (uint32_t i = 0; i < n; i++)
                v[i] = (Vector) { .hart = harts[i], .vcpu = NO_HART };
        ASSERT_OK(model_device_set_vectors(m, d, n, v));
        return d;
}

static inline char *test_desired_string(const Desired *d) {
        json_object *o;
        char *s;

        ASSERT_OK(desired_to_json(d, &o));
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        ASSERT_NOT_NULL(s);
        json_object_put(o);
        return s;
}

static inline const DeviceState *test_find(const Desired *d, const char *name) {
        const DeviceState *s = device_table_find(&d->devices, name);

        if (!s)
                TEST_FAIL("device %s not in the desired state", name);
        return s;
}

/* Simple deterministic PRNG for randomized tests (xorshift64*). */
static inline uint64_t test_rand(uint64_t *state) {
        uint64_t x = *state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * UINT64_C(2685821657736338717);
}
