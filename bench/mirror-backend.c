/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdlib.h>
#include <string.h>

#include "mirror-backend.h"

typedef struct Mirror {
        const Reconciler *reconciler;
        const Model *model;
        Geometry geometry;
        DeviceTable devices;
        VmGrants *vms;          /* sorted by uuid */
        size_t n_vms;
        uint64_t *used;         /* per hart: guest files held (bit g), reserved ones included */
        /*
         * Where each device and VM was found last: the kernel finds a device by its handle in constant time, and a
         * binary search over 16,384 names here, cache misses and all, was about 8 % of a timed VM stop.
         */
        PosHint device_hint, vm_hint;
} Mirror;

static Mirror *mirror_of(Backend *b) {
        return b->data;
}

static int copy_state(const DeviceState *s, DeviceState *ret) {
        *ret = *s;
        ret->entries = NULL;
        if (s->n_entries > 0) {
                /* Not zeroed: every byte is copied over. */
                ret->entries = reallocarray(NULL, s->n_entries, sizeof(Entry));
                if (!ret->entries)
                        return -ENOMEM;
                memcpy(ret->entries, s->entries, s->n_entries * sizeof(Entry));
        }
        return 0;
}

static int copy_grants(const VmGrants *g, VmGrants *ret) {
        *ret = *g;
        ret->vcpus = new(VcpuGrant, g->nr_vcpus ?: 1);
        if (!ret->vcpus)
                return -ENOMEM;
        memcpy(ret->vcpus, g->vcpus, g->nr_vcpus * sizeof(VcpuGrant));
        return 0;
}

static VmGrants *find_vm(Mirror *mi, const char *uuid) {
        uint64_t key = pos_hint_key_string(uuid);
        size_t lo = 0, hi = mi->n_vms, i = pos_hint_get(&mi->vm_hint, key);

        if (i < mi->n_vms && streq(mi->vms[i].uuid, uuid))
                return &mi->vms[i];
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(mi->vms[mid].uuid, uuid);

                if (c == 0) {
                        pos_hint_set(&mi->vm_hint, key, mid, mi->n_vms);
                        return &mi->vms[mid];
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

static DeviceState *find_device(Mirror *mi, const char *name) {
        uint64_t key = pos_hint_key_string(name);
        size_t i = pos_hint_get(&mi->device_hint, key);
        DeviceState *s;

        if (i < mi->devices.n_devices && streq(mi->devices.devices[i].name, name))
                return &mi->devices.devices[i];
        s = device_table_find(&mi->devices, name);
        if (s)
                pos_hint_set(&mi->device_hint, key, (size_t) (s - mi->devices.devices), mi->devices.n_devices);
        return s;
}

static void mirror_clear(Mirror *mi) {
        for (size_t i = 0; i < mi->devices.n_devices; i++)
                device_state_done(&mi->devices.devices[i]);
        mi->devices.devices = mfree(mi->devices.devices);
        mi->devices.n_devices = mi->devices.n_allocated = 0;
        for (size_t i = 0; i < mi->n_vms; i++)
                free(mi->vms[i].vcpus);
        mi->vms = mfree(mi->vms);
        mi->n_vms = 0;
        mi->used = mfree(mi->used);
        pos_hint_done(&mi->device_hint);
        pos_hint_done(&mi->vm_hint);
}

static int mirror_open(Backend *b, const char *args) {
        Mirror *mi = new0(Mirror, 1);

        if (!mi)
                return -ENOMEM;
        b->data = mi;
        return 0;
}

static void mirror_close(Backend *b) {
        Mirror *mi = mirror_of(b);

        if (!mi)
                return;
        mirror_clear(mi);
        free(mi);
        b->data = NULL;
}

static int mirror_get_geometry(Backend *b, Geometry *ret) {
        *ret = mirror_of(b)->geometry;
        return 0;
}

/* The world as the kernel sees it at start: every device blocked, every vCPU where KVM placed it, no files. */
static int mirror_populate(Mirror *mi) {
        const Model *m = mi->model;

        mi->geometry = m->geometry;
        mi->used = new(uint64_t, m->geometry.nr_harts ?: 1);
        if (!mi->used)
                return -ENOMEM;
        for (uint32_t h = 0; h < m->geometry.nr_harts; h++)
                mi->used[h] = m->harts[h].reserved_files | 1;

        mi->devices.devices = new(DeviceState, m->n_devices ?: 1);
        if (!mi->devices.devices)
                return -ENOMEM;
        mi->devices.n_allocated = m->n_devices;
        for (size_t i = 0; i < m->n_devices; i++) {
                DeviceState *s = &mi->devices.devices[mi->devices.n_devices++];

                *s = (DeviceState) {
                        .mode = MODE_BLOCKED,
                        .fallback = ENTRY_BLOCKED,
                        .caps = m->devices[i]->caps,
                };
                strcpy(s->name, m->devices[i]->name);
        }

        mi->vms = new0(VmGrants, m->n_vms ?: 1);
        if (!mi->vms)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_vms; i++) {
                const Vm *vm = m->vms[i];
                VmGrants *g = &mi->vms[mi->n_vms];

                memcpy(g->uuid, vm->uuid, sizeof(g->uuid));
                g->nr_vcpus = vm->nr_vcpus;
                g->vcpus = new(VcpuGrant, vm->nr_vcpus ?: 1);
                if (!g->vcpus)
                        return -ENOMEM;
                for (uint32_t v = 0; v < vm->nr_vcpus; v++)
                        g->vcpus[v] = (VcpuGrant) { .hart = vm->vcpus[v].hart };
                mi->n_vms++;
        }
        return 0;
}

void mirror_backend_bind(Backend *b, const Reconciler *r, const Model *m) {
        Mirror *mi = mirror_of(b);

        mirror_clear(mi);
        mi->reconciler = r;
        mi->model = m;
        /* Out of memory here leaves an empty backend, which the first resync reports (-ENODEV). */
        (void) mirror_populate(mi);
}

static int mirror_dump(Backend *b, Actual **ret) {
        Mirror *mi = mirror_of(b);
        _cleanup_(actual_freep) Actual *a = NULL;
        int r;

        r = actual_new(&a);
        if (r < 0)
                return r;
        a->geometry = mi->geometry;
        a->devices.devices = new(DeviceState, mi->devices.n_devices ?: 1);
        a->vms = new0(VmGrants, mi->n_vms ?: 1);
        if (!a->devices.devices || !a->vms)
                return -ENOMEM;
        a->devices.n_allocated = mi->devices.n_devices;
        for (size_t i = 0; i < mi->devices.n_devices; i++) {
                r = copy_state(&mi->devices.devices[i], &a->devices.devices[i]);
                if (r < 0)
                        return r;
                a->devices.n_devices++;
        }
        for (size_t i = 0; i < mi->n_vms; i++) {
                r = copy_grants(&mi->vms[i], &a->vms[i]);
                if (r < 0)
                        return r;
                a->n_vms++;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

static int mirror_dump_device(Backend *b, const char *name, DeviceState *ret) {
        const DeviceState *s = find_device(mirror_of(b), name);

        if (!s)
                return -ENODEV;
        return copy_state(s, ret);
}

/*
 * A batch of DEV_GET requests costs the kernel one round trip; here the batch's lookups overlap their cache misses
 * instead: first every hint slot, then every device and VM, then their entries and vCPUs, each level asked for
 * before any of it is read.
 */
#define MIRROR_BATCH 16U

static int mirror_dump_subset(Backend *b, char *const *devices, char *const *vms, Actual *ret) {
        Mirror *mi = mirror_of(b);
        size_t n_dev = strv_length(devices), n_vm = strv_length(vms);

        for (size_t at = 0, vat = 0; at < n_dev || vat < n_vm; at += MIRROR_BATCH, vat += MIRROR_BATCH) {
                size_t nd = at < n_dev ? MIN(n_dev - at, (size_t) MIRROR_BATCH) : 0;
                size_t nv = vat < n_vm ? MIN(n_vm - vat, (size_t) MIRROR_BATCH) : 0;
                const DeviceState *dev[MIRROR_BATCH];
                const VmGrants *vm[MIRROR_BATCH];
                uint64_t dkey[MIRROR_BATCH], vkey[MIRROR_BATCH];
                int r;

                for (size_t i = 0; i < nd; i++) {
                        dkey[i] = pos_hint_key_string(devices[at + i]);
                        __builtin_prefetch(pos_hint_slot(&mi->device_hint, dkey[i]));
                }
                for (size_t i = 0; i < nv; i++) {
                        vkey[i] = pos_hint_key_string(vms[vat + i]);
                        __builtin_prefetch(pos_hint_slot(&mi->vm_hint, vkey[i]));
                }
                for (size_t i = 0; i < nd; i++) {
                        size_t pos = pos_hint_get(&mi->device_hint, dkey[i]);

                        if (pos < mi->devices.n_devices)
                                __builtin_prefetch(&mi->devices.devices[pos]);
                }
                for (size_t i = 0; i < nv; i++) {
                        size_t pos = pos_hint_get(&mi->vm_hint, vkey[i]);

                        if (pos < mi->n_vms)
                                __builtin_prefetch(&mi->vms[pos]);
                }
                for (size_t i = 0; i < nd; i++) {
                        dev[i] = find_device(mi, devices[at + i]);
                        if (dev[i])
                                prefetch_bytes(dev[i]->entries, dev[i]->n_entries * sizeof(Entry));
                }
                for (size_t i = 0; i < nv; i++) {
                        vm[i] = find_vm(mi, vms[vat + i]);
                        if (vm[i])
                                prefetch_bytes(vm[i]->vcpus, vm[i]->nr_vcpus * sizeof(VcpuGrant));
                }

                for (size_t i = 0; i < nd; i++) {
                        DeviceState s;

                        if (!dev[i])
                                continue;
                        r = copy_state(dev[i], &s);
                        if (r < 0)
                                return r;
                        r = device_table_put(&ret->devices, &s);
                        device_state_done(&s);
                        if (r < 0)
                                return r;
                }
                for (size_t i = 0; i < nv; i++) {
                        VmGrants g;

                        if (!vm[i])
                                continue;
                        r = copy_grants(vm[i], &g);
                        if (r < 0)
                                return r;
                        r = actual_put_vm(ret, &g);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int mirror_dump_vm(Backend *b, const char *uuid, VmGrants *ret) {
        const VmGrants *g = find_vm(mirror_of(b), uuid);

        if (!g)
                return -ENOENT;
        return copy_grants(g, ret);
}

static void grant_drop(Mirror *mi, VcpuGrant *c) {
        if (c->guest != 0 && c->hart < mi->geometry.nr_harts)
                mi->used[c->hart] &= ~(UINT64_C(1) << c->guest);
        c->guest = 0;
}

static int mirror_apply(Backend *b, const Op *op) {
        Mirror *mi = mirror_of(b);
        DeviceState *s;
        VmGrants *g;
        VcpuGrant *c;

        switch (op->type) {
        case OP_SET_MODE: {
                const Desired *d = mi->reconciler ? reconciler_desired(mi->reconciler) : NULL;
                const DeviceState *want = d ? desired_find_device(d, op->device) : NULL;
                DeviceState n;
                int r;

                s = find_device(mi, op->device);
                if (!s)
                        return -ENODEV;
                if (want && want->mode == op->mode && want->n_entries == s->n_entries) {
                        /* The same number of targets (the usual case): the device's entries are rewritten in place. */
                        n = *want;
                        n.entries = s->entries;
                        if (n.n_entries > 0)
                                memcpy(n.entries, want->entries, n.n_entries * sizeof(Entry));
                        s->entries = NULL;
                } else if (want && want->mode == op->mode) {
                        r = copy_state(want, &n);
                        if (r < 0)
                                return r;
                } else
                        /* Not in the model any more (or a mode the solver did not ask for): no entries. */
                        n = (DeviceState) { .caps = s->caps };
                strcpy(n.name, s->name);
                n.mode = op->mode;
                n.fallback = op->fallback;
                device_state_done(s);
                *s = n;
                return 0;
        }
        case OP_VCPU_RELEASE:
                g = find_vm(mi, op->vm);
                if (!g || op->vcpu >= g->nr_vcpus)
                        return -ENOENT;
                grant_drop(mi, &g->vcpus[op->vcpu]);
                return 0;
        case OP_VCPU_ASSIGN:
                g = find_vm(mi, op->vm);
                if (!g || op->vcpu >= g->nr_vcpus)
                        return -ENOENT;
                c = &g->vcpus[op->vcpu];
                if (op->hart >= mi->geometry.nr_harts || op->guest == 0 || op->guest > mi->geometry.nr_guest_files)
                        return -EINVAL;
                if (c->hart != op->hart)
                        return -ESTALE;         /* KVM runs the vCPU elsewhere */
                if (c->guest == op->guest)
                        return 0;
                /* A file somebody else holds cannot be given: this is what catches a grant before its revoke. */
                if (mi->used[op->hart] & (UINT64_C(1) << op->guest))
                        return -EBUSY;
                grant_drop(mi, c);
                c->guest = op->guest;
                mi->used[op->hart] |= UINT64_C(1) << op->guest;
                return 0;
        default:
                return -EOPNOTSUPP;
        }
}

int mirror_world_vcpu_moved(Backend *b, const char *uuid, uint32_t vcpu, uint32_t hart) {
        Mirror *mi = mirror_of(b);
        VmGrants *g = find_vm(mi, uuid);

        if (!g || vcpu >= g->nr_vcpus)
                return -ENOENT;
        if (g->vcpus[vcpu].hart == hart)
                return 0;
        grant_drop(mi, &g->vcpus[vcpu]);
        g->vcpus[vcpu].hart = hart;
        return 0;
}

int mirror_world_vm_stopped(Backend *b, const char *uuid) {
        Mirror *mi = mirror_of(b);
        VmGrants *g = find_vm(mi, uuid);

        if (!g)
                return -ENOENT;
        for (uint32_t v = 0; v < g->nr_vcpus; v++)
                grant_drop(mi, &g->vcpus[v]);
        return 0;
}

int mirror_world_affinity_moved(Backend *b, const char *device) {
        Mirror *mi = mirror_of(b);
        _cleanup_free_ uint32_t *targets = NULL, *counts = NULL, *hart_of = NULL;
        const Device *d = mi->model ? model_find_device(mi->model, device) : NULL;
        DeviceState *s = find_device(mi, device);
        Entry *e = NULL;
        uint32_t n;
        int r;

        if (!d || !s)
                return -ENODEV;
        if (s->mode != MODE_IDENTITY && s->mode != MODE_MRIF)
                return 0;       /* blocked / guest-file entries do not follow host affinity */
        r = device_targets(d, &targets, &counts, &hart_of, &n);
        if (r < 0)
                return r;
        if (n > 0) {
                e = new0(Entry, n);
                if (!e)
                        return -ENOMEM;
        }
        for (uint32_t i = 0; i < n; i++) {
                e[i] = (Entry) {
                        .target = targets[i],
                        .refcount = counts[i],
                };
                if (s->mode == MODE_IDENTITY) {
                        e[i].kind = ENTRY_HOST_FILE;
                        e[i].hart = TARGET_INDEX(targets[i]);
                } else {
                        e[i].kind = ENTRY_MRIF;
                        e[i].hart = NO_HART;
                }
        }
        free(s->entries);
        s->entries = e;
        s->n_entries = n;
        return 0;
}

size_t mirror_backend_bytes(Backend *b) {
        Mirror *mi = mirror_of(b);
        size_t n = sizeof(Mirror) + mi->devices.n_allocated * sizeof(DeviceState) +
                   mi->geometry.nr_harts * sizeof(uint64_t) + mi->n_vms * sizeof(VmGrants);

        for (size_t i = 0; i < mi->devices.n_devices; i++)
                n += mi->devices.devices[i].n_entries * sizeof(Entry);
        for (size_t i = 0; i < mi->n_vms; i++)
                n += mi->vms[i].nr_vcpus * sizeof(VcpuGrant);
        return n;
}

const BackendOps mirror_backend_ops = {
        .name = "mirror",
        .features = BACKEND_FEATURE_GUEST_FILES,
        .open = mirror_open,
        .close = mirror_close,
        .get_geometry = mirror_get_geometry,
        .dump = mirror_dump,
        .dump_device = mirror_dump_device,
        .apply = mirror_apply,
        .dump_vm = mirror_dump_vm,
        .dump_subset = mirror_dump_subset,
};
