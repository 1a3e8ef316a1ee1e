/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /org/rvmsi/Manager1/vm/<escaped UUID>, org.rvmsi.Manager1.VM: one object
 * per registered VM, through a fallback vtable like the devices.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-manager.h"
#include "bus-names.h"
#include "policy.h"
#include "strv.h"

static Vm *vm_from_path(Manager *m, const char *path) {
        _cleanup_free_ char *uuid = NULL;

        if (sd_bus_path_decode(path, RVMSI_BUS_VM_PREFIX, &uuid) <= 0)
                return NULL;
        return model_find_vm(m->model, uuid);
}

int bus_vm_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                sd_bus_error *error) {
        Manager *m = userdata;

        if (!vm_from_path(m, path))
                return 0;
        *found = m;
        return 1;
}

int bus_vm_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        char **l;
        int r;

        l = new0(char *, m->model->n_vms + 1);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < m->model->n_vms; i++) {
                r = bus_vm_path(m->model->vms[i]->uuid, &l[i]);
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

#define GET_VM(m, vm)                                                           \
        Manager *m = userdata;                                                  \
        Vm *vm = vm_from_path(m, path);                                         \
        if (!vm)                                                                \
                return sd_bus_error_setf(error, RVMSI_BUS_ERROR_NO_SUCH_VM,     \
                                         "the VM is gone")

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_VM(m, vm);
        const char *v;

        if (streq(property, "Name"))
                v = vm->name;
        else if (streq(property, "UUID"))
                v = vm->uuid;
        else if (streq(property, "Class"))
                v = isolation_class_to_string(policy_vm_class(m->policy, vm));
        else if (streq(property, "State"))
                v = vm_state_to_string(vm->state);
        else
                return -EINVAL;
        return sd_bus_message_append(reply, "s", strempty(v));
}

static int property_get_u32(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_VM(m, vm);
        uint32_t gf = 0, mrif = 0, v;

        (void) manager_vm_counts(m, vm, &gf, &mrif);
        if (streq(property, "VCPUs"))
                v = vm->nr_vcpus;
        else if (streq(property, "GuestFiles"))
                v = gf;
        else if (streq(property, "MRIFTargets"))
                v = mrif;
        else
                return -EINVAL;
        return sd_bus_message_append(reply, "u", v);
}

static int property_get_priority(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_VM(m, vm);

        return sd_bus_message_append(reply, "i", policy_vm_priority(m->policy, vm));
}

static int property_get_pinning(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_VM(m, vm);
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(uau)");
        (void) m;
        for (uint32_t i = 0; r >= 0 && i < vm->nr_vcpus; i++) {
                const Vcpu *c = &vm->vcpus[i];

                /* The CPU set as registered (sorted), one CPU or many. */
                if (c->n_pin_cpus == 0)
                        continue;
                r = sd_bus_message_open_container(reply, 'r', "uau");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "u", i);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'u', c->pin_cpus, c->n_pin_cpus * sizeof(uint32_t));
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_VM(m, vm);
        int r;

        (void) m;
        r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < vm->n_devices; i++)
                r = sd_bus_message_append(reply, "s", vm->devices[i]->name);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_unsatisfied(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        GET_VM(m, vm);
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = manager_vm_unsatisfied(m, vm, &l);
        if (r < 0)
                return r;
        return sd_bus_message_append_strv(reply, l);
}

const sd_bus_vtable bus_vm_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UUID", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VCPUs", "u", property_get_u32, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Pinning", "a(uau)", property_get_pinning, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Class", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Priority", "i", property_get_priority, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("State", "s", property_get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Devices", "as", property_get_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("GuestFiles", "u", property_get_u32, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MRIFTargets", "u", property_get_u32, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Unsatisfied", "as", property_get_unsatisfied, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};
