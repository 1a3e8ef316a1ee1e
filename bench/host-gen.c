/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-gen.h"
#include "model.h"

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

static int jadd(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int jpush(json_object *a, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static const char *const cap_names[] = { "msi-flat", "msi-mrif", "amo-mrif", "guest-file" };

int host_to_scenario(const Model *m, const char *name, bool compact, json_object **ret) {
        _cleanup_json_ json_object *root = json_object_new_object();
        json_object *geo, *vms, *devs;
        int r = 0;

        if (!root)
                return -ENOMEM;
        geo = json_object_new_object();
        vms = json_object_new_array();
        devs = json_object_new_array();
        if ((r = jadd(root, "version", json_object_new_int(1))) < 0 ||
            (r = jadd(root, "name", json_object_new_string(name))) < 0 ||
            (r = jadd(root, "geometry", geo)) < 0 ||
            (r = jadd(root, "vms", vms)) < 0 ||
            (r = jadd(root, "devices", devs)) < 0)
                return r;
        if ((r = jadd(geo, "groups", json_object_new_int64(m->geometry.nr_groups))) < 0 ||
            (r = jadd(geo, "harts", json_object_new_int64(m->geometry.nr_harts))) < 0 ||
            (r = jadd(geo, "guest_files", json_object_new_int64(m->geometry.nr_guest_files))) < 0 ||
            (r = jadd(geo, "ids", json_object_new_int64(m->geometry.nr_ids))) < 0)
                return r;

        for (size_t i = 0; i < m->n_vms; i++) {
                const Vm *vm = m->vms[i];
                json_object *o = json_object_new_object(), *pl = json_object_new_array();

                if ((r = jpush(vms, o)) < 0) {
                        json_object_put(pl);
                        return r;
                }
                if ((r = jadd(o, "placement", pl)) < 0 ||
                    (r = jadd(o, "uuid", json_object_new_string(vm->uuid))) < 0 ||
                    (vm->name && (r = jadd(o, "name", json_object_new_string(vm->name))) < 0) ||
                    (r = jadd(o, "vcpus", json_object_new_int64(vm->nr_vcpus))) < 0 ||
                    (r = jadd(o, "state", json_object_new_string(vm_state_to_string(vm->state)))) < 0)
                        return r;
                if (vm->klass >= 0 && (r = jadd(o, "class", json_object_new_string(isolation_class_to_string(vm->klass)))) < 0)
                        return r;
                if (vm->priority_set && (r = jadd(o, "priority", json_object_new_int64(vm->priority))) < 0)
                        return r;
                for (uint32_t v = 0; v < vm->nr_vcpus; v++) {
                        /* JSON null (not placed) is a NULL json_object. */
                        if (vm->vcpus[v].hart == NO_HART)
                                r = json_object_array_add(pl, NULL) < 0 ? -ENOMEM : 0;
                        else
                                r = jpush(pl, json_object_new_int64(vm->vcpus[v].hart));
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; i < m->n_devices; i++) {
                const Device *d = m->devices[i];
                json_object *o = json_object_new_object(), *caps = json_object_new_array(), *vec = json_object_new_array();

                if ((r = jpush(devs, o)) < 0) {
                        json_object_put(caps);
                        json_object_put(vec);
                        return r;
                }
                if ((r = jadd(o, "caps", caps)) < 0) {
                        json_object_put(vec);
                        return r;
                }
                if ((r = jadd(o, "vectors", vec)) < 0 ||
                    (r = jadd(o, "name", json_object_new_string(d->name))) < 0 ||
                    (r = jadd(o, "owner", json_object_new_string(owner_kind_to_string(d->owner)))) < 0)
                        return r;
                if (d->owner == OWNER_VM && (r = jadd(o, "vm", json_object_new_string(d->owner_vm))) < 0)
                        return r;
                if (d->owner_label && (r = jadd(o, "label", json_object_new_string(d->owner_label))) < 0)
                        return r;
                if (d->locked && (r = jadd(o, "locked", json_object_new_boolean(true))) < 0)
                        return r;
                for (size_t c = 0; c < ELEMENTSOF(cap_names); c++)
                        if ((d->caps & (UINT64_C(1) << c)) && (r = jpush(caps, json_object_new_string(cap_names[c]))) < 0)
                                return r;
                for (uint32_t v = 0; v < d->nr_vectors; v++) {
                        json_object *x = json_object_new_object();

                        if ((r = jpush(vec, x)) < 0)
                                return r;
                        if (d->vectors[v].hart != NO_HART && !(compact && d->owner == OWNER_VM) &&
                            (r = jadd(x, "hart", json_object_new_int64(d->vectors[v].hart))) < 0)
                                return r;
                        if (d->vectors[v].vcpu != NO_HART &&
                            (r = jadd(x, "vcpu", json_object_new_int64(d->vectors[v].vcpu))) < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(root);
        return 0;
}
