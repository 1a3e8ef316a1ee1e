/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /org/rvmsi/Manager1/device/<escaped PCI address>, org.rvmsi.Manager1.Device:
 * one object per device of the model, found through a fallback vtable so
 * that nothing has to be registered or unregistered as devices come and go.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-manager.h"
#include "bus-names.h"

/* The object's userdata is the Manager; getters look the device up by path,
 * so a device removed between find and get gives a clean error. */
static Device *device_from_path(Manager *m, const char *path) {
        _cleanup_free_ char *name = NULL;

        if (sd_bus_path_decode(path, RVMSI_BUS_DEVICE_PREFIX, &name) <= 0)
                return NULL;
        return model_find_device(m->model, name);
}

int bus_device_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        Manager *m = userdata;

        if (!device_from_path(m, path))
                return 0;
        *found = m;
        return 1;
}

int bus_device_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        char **l;
        int r;

        l = new0(char *, m->model->n_devices + 1);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < m->model->n_devices; i++) {
                r = bus_device_path(m->model->devices[i]->name, &l[i]);
                if (r < 0) {
                        for (size_t j = 0; j < i; j++)
                                free(l[j]);
                        free(l);
                        return r;
                }
        }
        *nodes = l;
        return 0;
}

#define GET_DEVICE(m, d)                                                        \
        Manager *m = userdata;                                                  \
        Device *d = device_from_path(m, path);                                  \
        if (!d)                                                                 \
                return sd_bus_error_setf(error, RVMSI_BUS_ERROR_NO_SUCH_DEVICE, \
                                         "the device is gone")

static int property_get_name(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);

        return sd_bus_message_append(reply, "s", d->name);
}

static int property_get_owner(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);

        return sd_bus_message_append(reply, "s", owner_kind_to_string(d->owner));
}

static int property_get_vm(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);

        return sd_bus_message_append(reply, "s", d->owner == OWNER_VM ? d->owner_vm : "");
}

static int property_get_mode(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);
        const DeviceState *s = manager_device_desired(m, d->name);

        return sd_bus_message_append(reply, "s", s ? mode_to_string(s->mode) : RVMSI_MODE_BLOCKED);
}

static int property_get_reason(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);
        const DeviceState *s = manager_device_desired(m, d->name);

        return sd_bus_message_append(reply, "s", s ? reason_to_string(s->reason) : "");
}

static int property_get_targets(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);
        const DeviceState *s = manager_device_desired(m, d->name);
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        for (uint32_t i = 0; r >= 0 && s && i < s->n_entries; i++) {
                char t[32];

                r = sd_bus_message_append(reply, "(ssss)", target_to_string(s->entries[i].target, t),
                                          entry_mode_string(&s->entries[i]), reason_to_string(s->entries[i].reason),
                                          reason_describe(s->entries[i].reason));
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_applied(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);

        return sd_bus_message_append(reply, "b", manager_device_apply_state(m, d->name, NULL) == APPLY_DONE);
}

static int property_get_apply_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);

        return sd_bus_message_append(reply, "s", apply_state_to_string(manager_device_apply_state(m, d->name, NULL)));
}

static int property_get_apply_error(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);
        int err = 0;

        (void) manager_device_apply_state(m, d->name, &err);
        return sd_bus_message_append(reply, "s", err < 0 ? strerror(-err) : "");
}

static int property_get_isolation(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);
        const DeviceState *s = manager_device_desired(m, d->name);

        return sd_bus_message_append(reply, "s", s ? isolation_to_string(s->isolation) : "none");
}

static int property_get_vectors(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);

        return sd_bus_message_append(reply, "u", d->nr_vectors);
}

static int property_get_faults(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_DEVICE(m, d);

        return sd_bus_message_append(reply, "t", manager_device_faults(m, d->name));
}

const sd_bus_vtable bus_device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "s", property_get_owner, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("VM", "s", property_get_vm, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Mode", "s", property_get_mode, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Reason", "s", property_get_reason, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Targets", "a(ssss)", property_get_targets, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Applied", "b", property_get_applied, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ApplyState", "s", property_get_apply_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ApplyError", "s", property_get_apply_error, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Isolation", "s", property_get_isolation, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Vectors", "u", property_get_vectors, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Faults", "t", property_get_faults, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};
