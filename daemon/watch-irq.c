/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "watch-irq.h"

struct IrqWatch {
        Manager *manager;
        sd_event_source *timer;
};

int cpulist_first(const char *s, int32_t *ret) {
        unsigned long v;
        char *end;

        while (*s && isspace((unsigned char) *s))
                s++;
        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || v > INT32_MAX)
                return -EINVAL;
        if (*end && *end != '-' && *end != ',' && !isspace((unsigned char) *end))
                return -EINVAL;
        *ret = (int32_t) v;
        return 0;
}

static int uint_cmp(const void *a, const void *b) {
        const unsigned *x = a, *y = b;

        return CMP(*x, *y);
}

int irq_read_device_vectors(const char *root, const Model *m, const char *name, Vector **ret, uint32_t *ret_n) {
        _cleanup_free_ unsigned *irqs = NULL;
        _cleanup_free_ Vector *v = NULL;
        char path[PATH_MAX];
        size_t n = 0, allocated = 0;
        struct dirent *de;
        DIR *d;

        if (!name || strchr(name, '/') || name[0] == '.')
                return -EINVAL;
        snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", root, name);
        if (access(path, F_OK) < 0)
                return -errno;
        snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/msi_irqs", root, name);
        d = opendir(path);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = NULL;
                *ret_n = 0;     /* no MSI enabled */
                return 0;
        }
        while ((de = readdir(d))) {
                unsigned long irq;
                char *end;

                if (!isdigit((unsigned char) de->d_name[0]))
                        continue;
                irq = strtoul(de->d_name, &end, 10);
                if (*end || irq > UINT32_MAX)
                        continue;
                if (n >= DEVICE_MAX_VECTORS)
                        break;
                if (!GREEDY_REALLOC(irqs, allocated, n + 1)) {
                        closedir(d);
                        return -ENOMEM;
                }
                irqs[n++] = (unsigned) irq;
        }
        closedir(d);
        if (n == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        qsort(irqs, n, sizeof(unsigned), uint_cmp);

        v = new0(Vector, n);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *text = NULL;
                int32_t cpu;
                uint32_t hart;

                v[i] = (Vector) { .hart = NO_HART, .vcpu = NO_HART };
                snprintf(path, sizeof(path), "%s/proc/irq/%u/effective_affinity_list", root, irqs[i]);
                if (read_full_file(path, 4096, &text, NULL) < 0)
                        continue;       /* IRQ torn down meanwhile, or no affinity: not routed */
                if (cpulist_first(text, &cpu) < 0)
                        continue;
                if (model_hart_by_cpu(m, cpu, &hart) >= 0)
                        v[i].hart = hart;
        }
        *ret = TAKE_PTR(v);
        *ret_n = (uint32_t) n;
        return 0;
}

static bool vectors_equal(const Device *d, const Vector *v, uint32_t n) {
        if (d->nr_vectors != n)
                return false;
        for (uint32_t i = 0; i < n; i++)
                if (d->vectors[i].hart != v[i].hart || d->vectors[i].vcpu != v[i].vcpu)
                        return false;
        return true;
}

int irq_watch_refresh_device(IrqWatch *w, const char *name) {
        Manager *m = w->manager;
        _cleanup_free_ Vector *v = NULL;
        uint32_t n = 0;
        Device *d;
        int r;

        d = model_find_device(m->model, name);
        if (!d)
                return -ENODEV;
        /* A VM's vectors are routed to its vCPUs by the VMM; the host's
         * affinity of the VFIO IRQ says nothing about where the guest wants
         * them. */
        if (d->owner == OWNER_VM)
                return 0;
        r = irq_read_device_vectors(strempty(m->config.sysfs_root), m->model, name, &v, &n);
        if (r < 0)
                return r;
        if (vectors_equal(d, v, n))
                return 0;
        r = model_device_set_vectors(m->model, d, n, v);
        if (r < 0)
                return log_warning_errno(r, "Cannot record the IRQs of '%s': %m", name);
        log_fields(LOG_DEBUG, 0, &((LogFields) { .device = name }), "IRQ affinity of '%s' changed (%u vectors).",
                   name, n);
        manager_mark_dirty(m, DIRTY_DEVICE, name);
        return 1;
}

void irq_watch_refresh_all(IrqWatch *w) {
        Manager *m = w->manager;

        for (size_t i = 0; i < m->model->n_devices; i++)
                (void) irq_watch_refresh_device(w, m->model->devices[i]->name);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        IrqWatch *w = userdata;

        irq_watch_refresh_all(w);
        (void) sd_event_source_set_time(s, usec + IRQ_POLL_INTERVAL_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

IrqWatch *irq_watch_free(IrqWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->timer);
        free(w);
        return NULL;
}

int irq_watch_new(Manager *m, bool poll, IrqWatch **ret) {
        IrqWatch *w;
        int r;

        w = new0(IrqWatch, 1);
        if (!w)
                return -ENOMEM;
        w->manager = m;
        if (poll) {
                r = sd_event_add_time_relative(m->event, &w->timer, CLOCK_MONOTONIC, IRQ_POLL_INTERVAL_USEC,
                                               100 * 1000, on_poll, w);
                if (r < 0) {
                        irq_watch_free(w);
                        return r;
                }
                (void) sd_event_source_set_description(w->timer, "irq-affinity-poll");
        }
        /* One read of everything now, whichever way changes arrive later. */
        irq_watch_refresh_all(w);
        *ret = w;
        return 0;
}
