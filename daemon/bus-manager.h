/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The D-Bus face of the Manager (docs/org.rvmsi.Manager1.md): the manager
 * object here, the per-device and per-VM objects in bus-device.c and
 * bus-vm.c. Only this layer knows about D-Bus: it reads and validates
 * arguments, checks the caller's credentials for mutating methods, calls
 * the Manager and maps ManagerError codes to named errors.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* Add every object vtable to m->bus (before the name is requested). */
int bus_manager_add_objects(Manager *m);

/*
 * Mutating methods: validation first (the caller does it), then this. 1 if
 * the sender's effective UID is 0, else sets NotPermitted and returns a
 * negative errno. The UID is the bus daemon's record of the peer's
 * credentials (SO_PEERCRED at connect time), never anything the caller sent.
 */
int bus_verify_root(sd_bus_message *message, sd_bus_error *error);

/* Fill error from a ManagerError. Returns r (negative). */
int bus_error_from_manager(sd_bus_error *error, const ManagerError *e, int r);

/* Signals; all are no-ops without a bus. */
void bus_emit_manager_changed(Manager *m);
/* Changed(kind, id, what) on the manager object. */
void bus_emit_changed(Manager *m, const char *kind, const char *id, const char *what);
void bus_emit_device_changed(Manager *m, const char *name, const char *what);
/* Only the device's Applied, ApplyState and ApplyError changed: PropertiesChanged, no Changed signal. */
void bus_emit_device_apply_changed(Manager *m, const char *name);
void bus_emit_vm_changed(Manager *m, const char *uuid, const char *what);
void bus_emit_fault(Manager *m, const FaultRecord *f);

/* Object paths (caller frees). */
int bus_device_path(const char *name, char **ret);
int bus_vm_path(const char *uuid, char **ret);

/* From bus-device.c and bus-vm.c */
extern const sd_bus_vtable bus_device_vtable[];
int bus_device_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error);
int bus_device_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

extern const sd_bus_vtable bus_vm_vtable[];
int bus_vm_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                sd_bus_error *error);
int bus_vm_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
