/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rvmsi.h>

#include "backend-kernel.h"
#include "kernel-link.h"

typedef struct KernelBackend {
        Backend *backend;
        KernelLink *link;
        Geometry geometry;
        int32_t *hart_cpu;      /* [geometry.nr_harts], learned from entries; -2: unknown */
} KernelBackend;

static int entry_cmp(const void *a, const void *b) {
        const Entry *x = a, *y = b;

        return CMP(x->target, y->target);
}

int backend_kernel_device_state(const Geometry *g, const KernelDevice *kd, DeviceState *ret) {
        uint32_t per_group = geometry_harts_per_group(g);
        _cleanup_free_ Entry *entries = NULL;
        uint32_t n = 0;

        if (strlen(kd->name) >= DEVICE_NAME_MAX)
                return -EINVAL;
        if (kd->mode >= _MODE_MAX || kd->isolation >= _ISOLATION_MAX)
                return -EBADMSG;

        if (kd->n_entries > 0) {
                entries = new0(Entry, kd->n_entries);
                if (!entries)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < kd->n_entries; i++) {
                const KernelEntry *ke = &kd->entries[i];
                uint32_t hart;

                if (ke->group >= g->nr_groups || ke->hart >= per_group || ke->guest > g->nr_guest_files)
                        return -EBADMSG;        /* the kernel and our geometry disagree: resync */
                hart = ke->group * per_group + ke->hart;
                if (ke->kind == IOMMU_RVMSI_ENTRY_BLOCKED)
                        continue;
                /* The entry covers the file the device writes to; for the
                 * daemon's host-side view that is the hart's S-level file. A
                 * device's guest-file entries (guest > 0) key on the same hart
                 * target; the first (lowest index) entry wins. */
                entries[n++] = (Entry) {
                        .target = TARGET_HART(hart),
                        .hart = (ke->kind == IOMMU_RVMSI_ENTRY_HOST_FILE ||
                                 ke->kind == IOMMU_RVMSI_ENTRY_GUEST_FILE) ? hart : NO_HART,
                        .kind = (uint8_t) ke->kind,
                        .guest = ke->kind == IOMMU_RVMSI_ENTRY_GUEST_FILE ? (uint8_t) ke->guest : 0,
                        .refcount = ke->refcount,
                        .notices = ke->notices,
                };
        }
        if (n > 1) {
                uint32_t k = 1;

                qsort(entries, n, sizeof(Entry), entry_cmp);
                for (uint32_t i = 1; i < n; i++)
                        if (entries[i].target != entries[k - 1].target)
                                entries[k++] = entries[i];
                n = k;
        }

        *ret = (DeviceState) {
                .mode = (DeliveryMode) kd->mode,
                .fallback = ENTRY_BLOCKED,
                .isolation = (Isolation) kd->isolation,
                .caps = kd->caps | (kd->table_users > 1 ? CAP_TABLE_SHARED : 0),
                .locked = kd->locked,
                .user_bound = kd->user_bound,
                .entries = n > 0 ? TAKE_PTR(entries) : NULL,
                .n_entries = n,
        };
        memcpy(ret->name, kd->name, strlen(kd->name) + 1);
        return 0;
}

static void on_entry(const KernelDevice *d, void *userdata) {
        KernelBackend *k = userdata;
        BackendEvent ev = {
                .type = BACKEND_EVENT_ENTRY_CHANGED,
                .reason = d->reason,
        };

        if (strlen(d->name) >= sizeof(ev.device))
                return;
        strcpy(ev.device, d->name);
        backend_emit(k->backend, &ev);
}

static void on_fault(const KernelFault *f, void *userdata) {
        KernelBackend *k = userdata;
        uint32_t per_group = geometry_harts_per_group(&k->geometry);
        BackendEvent ev = {
                .type = BACKEND_EVENT_FAULT,
                .cause = f->cause,
                .addr = f->addr,
                .has_file = f->has_file,
                .group = f->group,
                .file_hart = f->group * per_group + f->hart,
                .file_guest = f->guest,
                .suppressed = f->suppressed,
        };

        if (strlen(f->dev_name) < sizeof(ev.device))
                strcpy(ev.device, f->dev_name);
        backend_emit(k->backend, &ev);
}

static void on_overflow(void *userdata) {
        KernelBackend *k = userdata;
        BackendEvent ev = { .type = BACKEND_EVENT_OVERFLOW };

        backend_emit(k->backend, &ev);
}

static const KernelLinkCallbacks link_callbacks = {
        .entry = on_entry,
        .fault = on_fault,
        .overflow = on_overflow,
};

static int kernel_get_geometry(Backend *b, Geometry *ret) {
        KernelBackend *k = b->data;
        KernelHost h;
        Geometry g;
        int r;

        r = kernel_link_host_get(k->link, &h);
        if (r < 0)
                return r;
        g = (Geometry) {
                .nr_groups = h.nr_groups,
                .nr_harts = h.nr_harts,
                .nr_guest_files = h.nr_guest_files,
                .nr_ids = h.nr_ids,
        };
        r = geometry_validate(&g);
        if (r < 0)
                return -EBADMSG;
        if (!k->hart_cpu || k->geometry.nr_harts != g.nr_harts) {
                int32_t *hc = new(int32_t, g.nr_harts);

                if (!hc)
                        return -ENOMEM;
                for (uint32_t i = 0; i < g.nr_harts; i++)
                        hc[i] = -2;
                free(k->hart_cpu);
                k->hart_cpu = hc;
        }
        k->geometry = g;
        *ret = g;
        return 0;
}

static void learn_hart_cpus(KernelBackend *k, const KernelDevice *kd) {
        uint32_t per_group = geometry_harts_per_group(&k->geometry);

        for (size_t i = 0; i < kd->n_entries; i++) {
                const KernelEntry *e = &kd->entries[i];
                uint32_t hart = e->group * per_group + e->hart;

                if (e->group < k->geometry.nr_groups && e->hart < per_group && hart < k->geometry.nr_harts &&
                    e->cpu >= 0)
                        k->hart_cpu[hart] = e->cpu;
        }
}

int backend_kernel_sync_hart_cpus(Backend *b, Model *m) {
        KernelBackend *k;
        int n = 0;

        if (!b || b->ops != &backend_kernel_ops || !b->data)
                return 0;
        k = b->data;
        if (!k->hart_cpu || m->geometry.nr_harts != k->geometry.nr_harts)
                return 0;
        for (uint32_t h = 0; h < k->geometry.nr_harts; h++)
                if (k->hart_cpu[h] >= 0 && m->harts[h].cpu != k->hart_cpu[h] &&
                    model_set_hart_cpu(m, h, k->hart_cpu[h]) >= 0)
                        n++;
        return n;
}

static int kernel_open(Backend *b, const char *args) {
        _cleanup_free_ KernelBackend *k = NULL;
        Geometry g;
        int r;

        if (!isempty(args))
                return -EINVAL;         /* nothing to configure yet */

        k = new0(KernelBackend, 1);
        if (!k)
                return -ENOMEM;
        k->backend = b;
        r = kernel_link_open(true, &link_callbacks, k, &k->link);
        if (r < 0)
                return r;
        b->data = k;
        /* Fetch the geometry now: entries are translated with it. */
        r = kernel_get_geometry(b, &g);
        if (r < 0) {
                kernel_link_free(k->link);
                free(k->hart_cpu);
                b->data = NULL;
                return r;
        }
        TAKE_PTR(k);
        return 0;
}

static void kernel_close(Backend *b) {
        KernelBackend *k = b->data;

        if (!k)
                return;
        kernel_link_free(k->link);
        free(k->hart_cpu);
        free(k);
        b->data = NULL;
}

static int kernel_dump(Backend *b, Actual **ret) {
        KernelBackend *k = b->data;
        _cleanup_(actual_freep) Actual *a = NULL;
        KernelDevice *devs = NULL;
        size_t n = 0;
        int r;

        r = actual_new(&a);
        if (r < 0)
                return r;
        r = kernel_get_geometry(b, &a->geometry);
        if (r < 0)
                return r;
        r = kernel_link_dump(k->link, &devs, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                DeviceState s;

                if (r >= 0) {
                        learn_hart_cpus(k, &devs[i]);
                        r = backend_kernel_device_state(&k->geometry, &devs[i], &s);
                        if (r >= 0) {
                                r = device_table_put(&a->devices, &s);
                                if (r < 0)
                                        device_state_done(&s);
                        }
                }
                kernel_device_done(&devs[i]);
        }
        free(devs);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

/*
 * One device, read back right after the daemon changed it: DEV_SET is
 * synchronous in the kernel (the entries are rewritten and invalidated before
 * the ack), so this is the device's state now, not a guess until its ENTRY_NTF.
 */
static int kernel_dump_device(Backend *b, const char *name, DeviceState *ret) {
        KernelBackend *k = b->data;
        KernelDevice d;
        int r;

        r = kernel_link_dev_get(k->link, name, &d);
        if (r < 0)
                return r;
        learn_hart_cpus(k, &d);
        r = backend_kernel_device_state(&k->geometry, &d, ret);
        kernel_device_done(&d);
        return r;
}

static int kernel_apply(Backend *b, const Op *op) {
        KernelBackend *k = b->data;
        _cleanup_free_ char *msg = NULL;

        if (op->type != OP_SET_MODE)
                return -EOPNOTSUPP;
        if (op->mode <= MODE_OFF || op->mode >= _MODE_MAX)
                return -EINVAL;
        return kernel_link_dev_set(k->link, op->device, (int) op->mode, -1, &msg);
}

static int kernel_get_event_fd(Backend *b) {
        KernelBackend *k = b->data;

        return kernel_link_get_event_fd(k->link);
}

static int kernel_process_events(Backend *b) {
        KernelBackend *k = b->data;

        return kernel_link_process_events(k->link);
}

const BackendOps backend_kernel_ops = {
        .name = "kernel",
        .features = 0,
        .open = kernel_open,
        .close = kernel_close,
        .get_geometry = kernel_get_geometry,
        .dump = kernel_dump,
        .dump_device = kernel_dump_device,
        .apply = kernel_apply,
        .get_event_fd = kernel_get_event_fd,
        .process_events = kernel_process_events,
};
