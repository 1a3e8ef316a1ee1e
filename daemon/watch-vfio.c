/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-device.h>

#include "log.h"
#include "watch-irq.h"
#include "watch-vfio.h"

#define VFIO_DRIVER "vfio-pci"

struct VfioWatch {
        Manager *manager;
        sd_device_monitor *monitor;
};

static void device_bound(VfioWatch *w, const char *name) {
        Manager *m = w->manager;
        Device *d;
        int r;

        if (device_name_validate(name) < 0)
                return;
        d = model_find_device(m->model, name);
        if (!d) {
                r = model_add_device(m->model, name, 0, &d);
                if (r < 0) {
                        log_warning_errno(r, "Cannot add vfio-pci device '%s': %m", name);
                        return;
                }
                log_fields(LOG_INFO, 0, &((LogFields) { .device = name }), "Device '%s' bound to vfio-pci.", name);
        }
        if (m->irq_watch)
                (void) irq_watch_refresh_device(m->irq_watch, name);
        manager_mark_dirty(m, DIRTY_DEVICE, name);
}

static void device_unbound(VfioWatch *w, const char *name) {
        Manager *m = w->manager;
        Device *d = model_find_device(m->model, name);

        if (!d)
                return;
        if (d->owner != OWNER_NONE) {
                log_fields(LOG_WARNING, 0, &((LogFields) { .device = name }),
                           "Device '%s' left vfio-pci while attached to %s; keeping it until it is detached.", name,
                           owner_kind_to_string(d->owner));
                manager_mark_dirty(m, DIRTY_DEVICE, name);
                return;
        }
        (void) model_remove_device(m->model, name);
        log_fields(LOG_INFO, 0, &((LogFields) { .device = name }), "Device '%s' left vfio-pci.", name);
        manager_mark_dirty(m, DIRTY_DEVICE, name);
}

static int on_uevent(sd_device_monitor *monitor, sd_device *dev, void *userdata) {
        VfioWatch *w = userdata;
        const char *name = NULL, *driver = NULL;
        sd_device_action_t action;

        if (sd_device_get_sysname(dev, &name) < 0 || sd_device_get_action(dev, &action) < 0)
                return 0;
        (void) sd_device_get_driver(dev, &driver);

        switch (action) {
        case SD_DEVICE_ADD:
        case SD_DEVICE_BIND:
        case SD_DEVICE_CHANGE:
        case SD_DEVICE_MOVE:
                if (streq_ptr(driver, VFIO_DRIVER))
                        device_bound(w, name);
                else if (action == SD_DEVICE_BIND)
                        device_unbound(w, name);        /* bound to another driver */
                break;
        case SD_DEVICE_UNBIND:
        case SD_DEVICE_REMOVE:
                device_unbound(w, name);
                break;
        default:
                break;
        }
        return 0;
}

VfioWatch *vfio_watch_free(VfioWatch *w) {
        if (!w)
                return NULL;
        sd_device_monitor_unref(w->monitor);
        free(w);
        return NULL;
}

int vfio_watch_new(Manager *m, VfioWatch **ret) {
        sd_device_enumerator *e = NULL;
        VfioWatch *w;
        int r;

        w = new0(VfioWatch, 1);
        if (!w)
                return -ENOMEM;
        w->manager = m;

        r = sd_device_monitor_new(&w->monitor);
        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(w->monitor, "pci", NULL);
        if (r >= 0)
                r = sd_device_monitor_attach_event(w->monitor, m->event);
        if (r >= 0)
                r = sd_device_monitor_start(w->monitor, on_uevent, w);
        if (r < 0) {
                vfio_watch_free(w);
                return r;
        }

        /* Devices already bound before we started. */
        r = sd_device_enumerator_new(&e);
        if (r >= 0)
                r = sd_device_enumerator_add_match_subsystem(e, "pci", true);
        if (r >= 0)
                for (sd_device *d = sd_device_enumerator_get_device_first(e); d;
                     d = sd_device_enumerator_get_device_next(e)) {
                        const char *name, *driver;

                        if (sd_device_get_sysname(d, &name) >= 0 && sd_device_get_driver(d, &driver) >= 0 &&
                            streq(driver, VFIO_DRIVER))
                                device_bound(w, name);
                }
        sd_device_enumerator_unref(e);

        *ret = w;
        return 0;
}
