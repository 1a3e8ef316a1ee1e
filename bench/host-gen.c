/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-gen.h"

HostParams host_params(uint32_t k, uint64_t seed) {
        return (HostParams) {
                .nr_harts = 16 * k,
                .nr_guest_files = 63,
                .nr_vms = 8 * k,
                .nr_devices = 64 * k,
                .nr_vectors = 64,
                .seed = seed,
        };
}

uint64_t host_rand(uint64_t *state) {
        uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

void host_vm_uuid(uint32_t i, char ret[static UUID_STRING_MAX]) {
        (void) snprintf(ret, UUID_STRING_MAX, "%08x-0000-4000-8000-%012x", i * 2654435761U, i);
}

void host_device_name(uint32_t i, char ret[static DEVICE_NAME_MAX]) {
        /* PCI-style and unique for i < 2^21: domain, bus, device, function. */
        (void) snprintf(ret, DEVICE_NAME_MAX, "%04x:%02x:%02x.%x", i >> 16, (i >> 8) & 0xff, (i >> 3) & 0x1f,
                        i & 7);
}

uint64_t host_count_pairs(const Model *m) {
        uint64_t n = 0;

        for (size_t i = 0; i < m->n_devices; i++) {
                _cleanup_free_ uint32_t *t = NULL, *c = NULL;
                uint32_t k = 0;

                if (device_targets(m->devices[i], &t, &c, NULL, &k) >= 0)
                        n += k;
        }
        return n;
}

static const IsolationClass classes[] = { CLASS_BALANCED, CLASS_STRICT, CLASS_PERFORMANCE };

int host_generate(const HostParams *hp, Model **ret) {
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_free_ Vector *vec = NULL;
        uint64_t rs = hp->seed;
        Geometry g = {
                .nr_groups = 1,
                .nr_harts = hp->nr_harts,
                .nr_guest_files = hp->nr_guest_files,
                .nr_ids = 2047,
        };
        uint32_t n_vm_devices, n_host_devices;
        int r;

        r = model_new(&g, &m);
        if (r < 0)
                return r;

        for (uint32_t h = 0; h < hp->nr_harts; h++) {
                r = model_set_hart_cpu(m, h, (int32_t) h);
                if (r < 0)
                        return r;
                if (h % 16 == 15 && hp->nr_guest_files > 1) {
                        /* Every file but the first is held by someone else. */
                        uint64_t mask = (hp->nr_guest_files >= 63 ? UINT64_MAX : ((UINT64_C(1) << (hp->nr_guest_files + 1)) - 1));

                        mask &= ~(UINT64_C(1) | UINT64_C(2));
                        r = model_set_hart_reserved(m, h, mask);
                        if (r < 0)
                                return r;
                }
        }

        for (uint32_t i = 0; i < hp->nr_vms; i++) {
                char uuid[UUID_STRING_MAX], name[32];
                uint32_t nv = 4 + host_rand_below(&rs, 13);
                Vm *vm;

                host_vm_uuid(i, uuid);
                (void) snprintf(name, sizeof(name), "vm%u", i);
                r = model_add_vm(m, uuid, name, nv, &vm);
                if (r < 0)
                        return r;
                r = model_vm_set_class(m, vm, classes[i % ELEMENTSOF(classes)]);
                if (r < 0)
                        return r;
                r = model_vm_set_priority(m, vm, true, (int32_t) (i % 5) - 2);
                if (r < 0)
                        return r;
                for (uint32_t v = 0; v < nv; v++) {
                        r = model_vcpu_place(m, vm, v, host_rand_below(&rs, hp->nr_harts));
                        if (r < 0)
                                return r;
                }
                r = model_vm_set_state(m, vm, i % 8 == 7 ? VM_DEFINED : VM_RUNNING);
                if (r < 0)
                        return r;
        }

        vec = new(Vector, hp->nr_vectors);
        if (!vec)
                return -ENOMEM;

        n_vm_devices = hp->nr_devices / 2;
        if (hp->nr_vms == 0)
                n_vm_devices = 0;
        n_host_devices = hp->nr_devices * 3 / 8;
        for (uint32_t i = 0; i < hp->nr_devices; i++) {
                char name[DEVICE_NAME_MAX];
                Device *d;

                host_device_name(i, name);
                r = model_add_device(m, name, CAP_MSI_FLAT | CAP_MSI_MRIF | CAP_GUEST_FILE, &d);
                if (r < 0)
                        return r;

                if (i < n_vm_devices) {
                        char uuid[UUID_STRING_MAX];
                        Vm *vm;

                        host_vm_uuid(i % hp->nr_vms, uuid);
                        vm = model_find_vm(m, uuid);
                        if (!vm)
                                return -ENOENT;
                        r = model_device_set_owner(m, d, OWNER_VM, uuid);
                        if (r < 0)
                                return r;
                        for (uint32_t j = 0; j < hp->nr_vectors; j++) {
                                uint32_t v = j % vm->nr_vcpus;

                                vec[j] = (Vector) { .hart = vm->vcpus[v].hart, .vcpu = v };
                        }
                } else {
                        uint32_t base = host_rand_below(&rs, hp->nr_harts);
                        uint32_t stride = 1 + host_rand_below(&rs, 7);

                        r = model_device_set_owner(m, d, i < n_vm_devices + n_host_devices ? OWNER_HOST : OWNER_USERSPACE,
                                                   NULL);
                        if (r < 0)
                                return r;
                        for (uint32_t j = 0; j < hp->nr_vectors; j++)
                                vec[j] = (Vector) {
                                        .hart = (base + j * stride) % hp->nr_harts,
                                        .vcpu = NO_HART,
                                };
                }
                r = model_device_set_vectors(m, d, hp->nr_vectors, vec);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(m);
        return 0;
}
