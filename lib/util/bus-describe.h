/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A DescribeSelected() call, built in one place for every client of it (rvmsictl, the benchmarks), so that the
 * option names and their encoding are written once. Header only, like bus-names.h: only D-Bus clients include it,
 * and they link libsystemd anyway.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus-names.h"

typedef struct DescribeSelection {
        char *const *sections;          /* NULL: every section */
        const char *device, *vm;        /* one object only, or NULL */
        uint32_t device_offset, device_limit, vm_offset, vm_limit;     /* 0: left out (a limit: to the end) */
} DescribeSelection;

/* A new method call with the selection's options; *ret is the caller's reference. */
static inline int describe_selected_message(sd_bus *bus, const DescribeSelection *sel, sd_bus_message **ret) {
        sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER,
                                           "DescribeSelected");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && sel->sections) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "sections");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, (char **) sel->sections);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && sel->device)
                r = sd_bus_message_append(m, "{sv}", "devices", "as", 1, sel->device);
        if (r >= 0 && sel->vm)
                r = sd_bus_message_append(m, "{sv}", "vms", "as", 1, sel->vm);
        if (r >= 0 && sel->device_offset > 0)
                r = sd_bus_message_append(m, "{sv}", "device_offset", "u", sel->device_offset);
        if (r >= 0 && sel->device_limit > 0)
                r = sd_bus_message_append(m, "{sv}", "device_limit", "u", sel->device_limit);
        if (r >= 0 && sel->vm_offset > 0)
                r = sd_bus_message_append(m, "{sv}", "vm_offset", "u", sel->vm_offset);
        if (r >= 0 && sel->vm_limit > 0)
                r = sd_bus_message_append(m, "{sv}", "vm_limit", "u", sel->vm_limit);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        *ret = m;
        return 0;
}
