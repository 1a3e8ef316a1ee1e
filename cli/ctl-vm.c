/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsictl vm register|unregister|event, attach, detach: what the libvirt
 * hook does, for VMs started without libvirt (plain QEMU, docs/qemu.md) and
 * for operators. All of these are privileged in rvmsid.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-names.h"
#include "cpulist.h"
#include "rvmsictl.h"
#include "strv.h"

/* UUID as given (canonical form), or the UUID of the VM with that name. */
static int resolve_vm(Ctl *c, const char *what, char ret[static UUID_STRING_MAX]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *uuid, *name, *path;
        int r;

        if (uuid_normalize(what, ret) >= 0)
                return 0;
        r = ctl_call(c, "ListVMs", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sso)");
        if (r < 0)
                return ctl_report_bus_error(NULL, r, "parsing the ListVMs() reply");
        while ((r = sd_bus_message_read(reply, "(sso)", &uuid, &name, &path)) > 0)
                if (streq(name, what)) {
                        snprintf(ret, UUID_STRING_MAX, "%s", uuid);
                        return 0;
                }
        if (r < 0)
                return ctl_report_bus_error(NULL, r, "parsing the ListVMs() reply");
        fprintf(stderr, "rvmsictl: no VM named '%s'\n", what);
        fprintf(stderr, "Hint: 'rvmsictl vms' lists the registered VMs.\n");
        return CTL_EXIT_DAEMON_ERROR;
}

typedef struct Pin {
        uint32_t vcpu;
        uint32_t *cpus;
        int n_cpus;
} Pin;

static int vm_register(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *name, *klass = "", *path;
        char uuid[UUID_STRING_MAX];
        Pin pins[256];
        size_t n_pins = 0;
        char **devices = NULL;
        size_t n_devices = 0;
        long vcpus = -1, priority = 0;
        bool start = false;
        sd_bus *bus;
        int r, status = CTL_EXIT_OK;

        if (argc != 3)
                return ctl_usage_error("'vm register' takes NAME UUID and --vcpus=N");
        name = argv[1];
        if (uuid_normalize(argv[2], uuid) < 0)
                return ctl_usage_error("'%s' is not a UUID (8-4-4-4-12 hex digits)", argv[2]);

        for (size_t i = 0; i < arg_n_vm_opts; i++) {
                char *o = arg_vm_opts[i], *v = strchr(o, '=') + 1, *end;

                if (strneq(o, "vcpus=", 6)) {
                        vcpus = strtol(v, &end, 10);
                        if (end == v || *end || vcpus < 1 || vcpus > 1024)
                                status = ctl_usage_error("invalid --vcpus '%s' (1-1024)", v);
                } else if (strneq(o, "priority=", 9)) {
                        priority = strtol(v, &end, 10);
                        if (end == v || *end || priority < -1000 || priority > 1000)
                                status = ctl_usage_error("invalid --priority '%s' (-1000-1000)", v);
                } else if (strneq(o, "class=", 6)) {
                        if (!streq(v, RVMSI_CLASS_STRICT) && !streq(v, RVMSI_CLASS_BALANCED) &&
                            !streq(v, RVMSI_CLASS_PERFORMANCE))
                                status = ctl_usage_error("invalid --class '%s' (strict, balanced, performance)", v);
                        klass = v;
                } else if (strneq(o, "pin=", 4)) {
                        char *colon = strchr(v, ':');
                        unsigned long vc;

                        if (n_pins >= ELEMENTSOF(pins)) {
                                status = ctl_usage_error("too many --pin options");
                                break;
                        }
                        vc = colon ? strtoul(v, &end, 10) : 0;
                        if (!colon || end != colon || colon == v || vc >= 1024) {
                                status = ctl_usage_error("invalid --pin '%s' (VCPU:CPULIST, e.g. 0:2 or 1:4-7)", v);
                                continue;
                        }
                        pins[n_pins].vcpu = (uint32_t) vc;
                        pins[n_pins].n_cpus = cpulist_parse(colon + 1, &pins[n_pins].cpus);
                        if (pins[n_pins].n_cpus <= 0) {
                                status = ctl_usage_error("invalid CPU list in --pin '%s'", v);
                                continue;
                        }
                        n_pins++;
                } else if (strneq(o, "device=", 7)) {
                        if (!ctl_is_pci_address(v))
                                status = ctl_usage_error("invalid --device '%s' (DDDD:BB:DD.F)", v);
                        else {
                                char **l = realloc(devices, (n_devices + 1) * sizeof(char *));

                                if (!l) {
                                        status = ctl_usage_error("out of memory");
                                        break;
                                }
                                devices = l;
                                devices[n_devices++] = v;
                        }
                } else if (streq(o, "start=")) {
                        start = true;
                }
        }
        if (status == CTL_EXIT_OK && vcpus < 0)
                status = ctl_usage_error("'vm register' needs --vcpus=N");
        if (status != CTL_EXIT_OK)
                goto out;

        status = ctl_bus(c, &bus);
        if (status != 0)
                goto out;
        r = sd_bus_message_new_method_call(bus, &m, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER,
                                           "RegisterVM");
        if (r >= 0)
                r = sd_bus_message_append(m, "ssu", name, uuid, (uint32_t) vcpus);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(uau)");
        for (size_t i = 0; r >= 0 && i < n_pins; i++) {
                r = sd_bus_message_open_container(m, 'r', "uau");
                if (r >= 0)
                        r = sd_bus_message_append(m, "u", pins[i].vcpu);
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'u', pins[i].cpus, pins[i].n_cpus * sizeof(uint32_t));
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "si", klass, (int32_t) priority);
        if (r < 0) {
                status = ctl_report_bus_error(NULL, r, "building the RegisterVM() call");
                goto out;
        }
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                status = ctl_report_bus_error(&error, r, "RegisterVM");
                goto out;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                status = ctl_report_bus_error(NULL, r, "parsing the RegisterVM() reply");
                goto out;
        }
        if (!c->json)
                printf("Registered VM '%s' (%s), %s.\n", name, uuid, path);

        for (size_t i = 0; i < n_devices; i++) {
                status = ctl_call(c, "AttachDevice", NULL, "sss", devices[i], RVMSI_OWNER_VM, uuid);
                if (status != 0)
                        goto out;
                if (!c->json)
                        printf("Attached %s to it.\n", devices[i]);
        }
        if (start) {
                status = ctl_call(c, "VMEvent", NULL, "ss", uuid, RVMSI_VM_EVENT_START);
                if (status != 0)
                        goto out;
                if (!c->json)
                        printf("Started: its devices' MSI tables are decided and applied.\n");
        }
out:
        for (size_t i = 0; i < n_pins; i++)
                free(pins[i].cpus);
        free(devices);
        return status;
}

int verb_vm(Ctl *c, int argc, char **argv) {
        char uuid[UUID_STRING_MAX];
        int r;

        if (streq(argv[0], "register"))
                return vm_register(c, argc, argv);
        if (streq(argv[0], "unregister")) {
                if (argc != 2)
                        return ctl_usage_error("'vm unregister' takes UUID or NAME");
                r = resolve_vm(c, argv[1], uuid);
                if (r != 0)
                        return r;
                r = ctl_call(c, "UnregisterVM", NULL, "s", uuid);
                if (r != 0)
                        return r;
                if (!c->json)
                        printf("Unregistered VM %s; its devices now have owner 'none'.\n", uuid);
                return CTL_EXIT_OK;
        }
        if (streq(argv[0], "event")) {
                if (argc != 3)
                        return ctl_usage_error("'vm event' takes UUID|NAME and EVENT");
                r = resolve_vm(c, argv[1], uuid);
                if (r != 0)
                        return r;
                r = ctl_call(c, "VMEvent", NULL, "ss", uuid, argv[2]);
                if (r != 0)
                        return r;
                if (!c->json)
                        printf("VM %s: '%s' done.\n", uuid, argv[2]);
                return CTL_EXIT_OK;
        }
        return ctl_usage_error("unknown 'vm' command '%s' (register, unregister or event)", argv[0]);
}

int verb_attach(Ctl *c, int argc, char **argv) {
        char uuid[UUID_STRING_MAX] = "";
        int r;

        if (!ctl_is_pci_address(argv[0]))
                return ctl_usage_error("'%s' is not a PCI address (DDDD:BB:DD.F)", argv[0]);
        if (streq(argv[1], RVMSI_OWNER_VM) != (argc == 3))
                return ctl_usage_error("owner 'vm' needs a VM (UUID or name), other owners none");
        if (argc == 3) {
                r = resolve_vm(c, argv[2], uuid);
                if (r != 0)
                        return r;
        }
        r = ctl_call(c, "AttachDevice", NULL, "sss", argv[0], argv[1], uuid);
        if (r != 0)
                return r;
        if (!c->json)
                printf("%s now has owner '%s'%s%s.\n", argv[0], argv[1], *uuid ? ", VM " : "", uuid);
        return CTL_EXIT_OK;
}

int verb_detach(Ctl *c, int argc, char **argv) {
        int r;

        if (!ctl_is_pci_address(argv[0]))
                return ctl_usage_error("'%s' is not a PCI address (DDDD:BB:DD.F)", argv[0]);
        r = ctl_call(c, "DetachDevice", NULL, "s", argv[0]);
        if (r != 0)
                return r;
        if (!c->json)
                printf("%s now has owner 'none': every entry blocked.\n", argv[0]);
        return CTL_EXIT_OK;
}
