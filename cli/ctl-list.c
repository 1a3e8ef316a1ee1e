/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsictl devices, vms, show: tables and details from the Describe()
 * document. The tables read it whole (in pages on a large host, see
 * ctl_describe()); show reads only the one object, and the VM that owns a
 * device for its name.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rvmsictl.h"
#include "strv.h"

static const char *num(char *buf, size_t n, int64_t v) {
        snprintf(buf, n, "%" PRIi64, v);
        return buf;
}

int verb_devices(Ctl *c, int argc, char **argv) {
        static char *const sections[] = { (char *) "vms", (char *) "devices", NULL };
        _cleanup_json_ json_object *d = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        json_object *devs;
        int r;

        r = ctl_describe(c, sections, &d, NULL);
        if (r != 0)
                return r;
        devs = ctl_json_array(d, "devices");
        if (c->json) {
                _cleanup_json_ json_object *empty = json_object_new_array();

                ctl_print_json(devs ?: empty);
                return CTL_EXIT_OK;
        }

        t = table_new(9, "DEVICE", "OWNER", "VM", "MODE", "ISOLATION", "VECTORS", "APPLIED", "FAULTS", "REASON");
        if (!t)
                return ctl_report_bus_error(NULL, -ENOMEM, "devices");
        for (size_t i = 0; devs && i < json_object_array_length(devs); i++) {
                json_object *dev = json_object_array_get_idx(devs, i);
                char vec[24], faults[24];
                const char *vm = ctl_json_str(dev, "vm");

                r = table_add_row(t, ctl_json_str(dev, "pci"), ctl_json_str(dev, "owner"),
                                  ctl_vm_name(d, vm) ?: vm, ctl_json_str(dev, "mode"),
                                  ctl_json_str(dev, "isolation"), num(vec, sizeof(vec), ctl_json_int(dev, "vectors", 0)),
                                  yes_no(ctl_json_bool(dev, "applied")),
                                  num(faults, sizeof(faults), ctl_json_int(dev, "faults", 0)),
                                  ctl_json_str(dev, "reason"));
                if (r < 0)
                        return ctl_report_bus_error(NULL, r, "devices");
        }
        table_print(t, c->legend);
        if (c->legend)
                printf("\n%zu device%s.\n", devs ? json_object_array_length(devs) : 0,
                       devs && json_object_array_length(devs) == 1 ? "" : "s");
        return CTL_EXIT_OK;
}

int verb_vms(Ctl *c, int argc, char **argv) {
        static char *const sections[] = { (char *) "vms", NULL };
        _cleanup_json_ json_object *d = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        json_object *vms;
        int r;

        r = ctl_describe(c, sections, &d, NULL);
        if (r != 0)
                return r;
        vms = ctl_json_array(d, "vms");
        if (c->json) {
                _cleanup_json_ json_object *empty = json_object_new_array();

                ctl_print_json(vms ?: empty);
                return CTL_EXIT_OK;
        }

        t = table_new(10, "NAME", "UUID", "STATE", "CLASS", "PRIORITY", "VCPUS", "DEVICES", "GUEST-FILES", "MRIF",
                      "UNSATISFIED");
        if (!t)
                return ctl_report_bus_error(NULL, -ENOMEM, "vms");
        for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
                json_object *vm = json_object_array_get_idx(vms, i), *a;
                char prio[24], vcpus[24], ndev[24], gf[24], mrif[24], uns[24];

                a = ctl_json_array(vm, "devices");
                snprintf(ndev, sizeof(ndev), "%zu", a ? json_object_array_length(a) : 0);
                a = ctl_json_array(vm, "unsatisfied");
                snprintf(uns, sizeof(uns), "%zu", a ? json_object_array_length(a) : 0);
                r = table_add_row(t, ctl_json_str(vm, "name"), ctl_json_str(vm, "uuid"), ctl_json_str(vm, "state"),
                                  ctl_json_str(vm, "class"), num(prio, sizeof(prio), ctl_json_int(vm, "priority", 0)),
                                  num(vcpus, sizeof(vcpus), ctl_json_int(vm, "vcpus", 0)), ndev,
                                  num(gf, sizeof(gf), ctl_json_int(vm, "guest_files", 0)),
                                  num(mrif, sizeof(mrif), ctl_json_int(vm, "mrif_targets", 0)), uns);
                if (r < 0)
                        return ctl_report_bus_error(NULL, r, "vms");
        }
        table_print(t, c->legend);
        if (c->legend)
                printf("\n%zu VM%s.\n", vms ? json_object_array_length(vms) : 0,
                       vms && json_object_array_length(vms) == 1 ? "" : "s");
        return CTL_EXIT_OK;
}

static void print_string_list(const char *label, json_object *a) {
        printf("%14s: ", label);
        if (!a || json_object_array_length(a) == 0) {
                printf("-\n");
                return;
        }
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);

                printf("%s%s", i ? ", " : "", json_object_is_type(e, json_type_string) ?
                       json_object_get_string(e) : json_object_to_json_string(e));
        }
        putchar('\n');
}

static int show_device(Ctl *c, json_object *dev) {
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_json_ json_object *owner = NULL;
        const char *vm = ctl_json_str(dev, "vm");
        json_object *targets = ctl_json_array(dev, "targets");
        int r;

        if (!isempty(vm)) {
                /* The owner's name; a device may name a VM that is not registered (any more). */
                r = ctl_describe_one(c, "vms", vm, &owner);
                if (r != 0)
                        return r;
        }
        printf("%s\n", ctl_json_str(dev, "pci"));
        if (!isempty(vm))
                printf("%14s: %s (VM %s, %s)\n", "Owner", ctl_json_str(dev, "owner"),
                       ctl_json_str(owner, "name") ?: "?", vm);
        else
                printf("%14s: %s\n", "Owner", strempty(ctl_json_str(dev, "owner")));
        printf("%14s: %s (%s)\n", "Mode", strempty(ctl_json_str(dev, "mode")), strempty(ctl_json_str(dev, "reason")));
        printf("%14s: %s\n", "Isolation", strempty(ctl_json_str(dev, "isolation")));
        printf("%14s: %" PRIi64 "\n", "Vectors", ctl_json_int(dev, "vectors", 0));
        if (ctl_json_bool(dev, "applied") || isempty(ctl_json_str(dev, "apply_state")))
                printf("%14s: %s\n", "Applied", yes_no(ctl_json_bool(dev, "applied")));
        else    /* say why not: pending, failed (with the error), unsupported */
                printf("%14s: no (%s%s%s)\n", "Applied", ctl_json_str(dev, "apply_state"),
                       isempty(ctl_json_str(dev, "apply_error")) ? "" : ": ",
                       strempty(ctl_json_str(dev, "apply_error")));
        printf("%14s: %" PRIi64 "\n", "Faults", ctl_json_int(dev, "faults", 0));
        putchar('\n');

        t = table_new(6, "TARGET", "MODE", "HART", "GUEST", "VECTORS", "REASON");
        if (!t)
                return ctl_report_bus_error(NULL, -ENOMEM, "show");
        for (size_t i = 0; targets && i < json_object_array_length(targets); i++) {
                json_object *e = json_object_array_get_idx(targets, i), *v;
                char hart[24] = "", guest[24] = "", vec[24];

                if (json_object_object_get_ex(e, "hart", &v))
                        num(hart, sizeof(hart), json_object_get_int64(v));
                if (json_object_object_get_ex(e, "guest", &v))
                        num(guest, sizeof(guest), json_object_get_int64(v));
                r = table_add_row(t, ctl_json_str(e, "target"), ctl_json_str(e, "mode"), hart, guest,
                                  num(vec, sizeof(vec), ctl_json_int(e, "vectors", 0)), ctl_json_str(e, "reason"));
                if (r < 0)
                        return ctl_report_bus_error(NULL, r, "show");
        }
        table_print(t, c->legend);
        return CTL_EXIT_OK;
}

static int show_vm(Ctl *c, json_object *vm) {
        json_object *pins = ctl_json_array(vm, "pinning"), *placement = ctl_json_array(vm, "placement");

        printf("%s (%s)\n", strempty(ctl_json_str(vm, "name")), strempty(ctl_json_str(vm, "uuid")));
        printf("%14s: %s\n", "State", strempty(ctl_json_str(vm, "state")));
        printf("%14s: %s\n", "Class", strempty(ctl_json_str(vm, "class")));
        printf("%14s: %" PRIi64 "\n", "Priority", ctl_json_int(vm, "priority", 0));
        printf("%14s: %" PRIi64 "\n", "vCPUs", ctl_json_int(vm, "vcpus", 0));
        printf("%14s: ", "Pinning");
        if (!pins || json_object_array_length(pins) == 0)
                printf("none (vCPUs float)\n");
        else {
                for (size_t i = 0; i < json_object_array_length(pins); i++) {
                        json_object *p = json_object_array_get_idx(pins, i);
                        json_object *cpus = ctl_json_array(p, "cpus");

                        printf("%svcpu %" PRIi64 " on cpu", i ? "; " : "", ctl_json_int(p, "vcpu", -1));
                        for (size_t j = 0; cpus && j < json_object_array_length(cpus); j++)
                                printf("%s%" PRIi64, j ? "," : " ", json_object_get_int64(json_object_array_get_idx(cpus, j)));
                }
                putchar('\n');
        }
        printf("%14s: ", "Placement");
        if (!placement || json_object_array_length(placement) == 0)
                printf("-\n");
        else {
                for (size_t i = 0; i < json_object_array_length(placement); i++) {
                        json_object *p = json_object_array_get_idx(placement, i), *h;

                        printf("%svcpu %" PRIi64, i ? "; " : "", ctl_json_int(p, "vcpu", -1));
                        if (json_object_object_get_ex(p, "hart", &h))
                                printf(" on hart %" PRIi64, json_object_get_int64(h));
                        else
                                printf(" not resident");
                        if (ctl_json_int(p, "guest_file", 0) > 0)
                                printf(", guest file %" PRIi64, ctl_json_int(p, "guest_file", 0));
                }
                putchar('\n');
        }
        print_string_list("Devices", ctl_json_array(vm, "devices"));
        printf("%14s: %" PRIi64 "\n", "Guest files", ctl_json_int(vm, "guest_files", 0));
        printf("%14s: %" PRIi64 "\n", "MRIF targets", ctl_json_int(vm, "mrif_targets", 0));
        print_string_list("Unsatisfied", ctl_json_array(vm, "unsatisfied"));
        return CTL_EXIT_OK;
}

int verb_show(Ctl *c, int argc, char **argv) {
        _cleanup_json_ json_object *o = NULL;
        const char *what = argv[0];
        bool is_device = ctl_is_pci_address(what);
        char uuid[UUID_STRING_MAX], pci[16];
        bool by_uuid;
        int r;

        by_uuid = !is_device && uuid_normalize(what, uuid) >= 0;
        if (is_device) {
                /* rvmsid names devices in lower case */
                for (size_t i = 0; i < sizeof(pci) - 1 && what[i]; i++)
                        pci[i] = (char) tolower((unsigned char) what[i]);
                pci[MIN(strlen(what), sizeof(pci) - 1)] = 0;
        }

        r = ctl_describe_one(c, is_device ? "devices" : "vms", is_device ? pci : by_uuid ? uuid : what, &o);
        if (r != 0)
                return r;
        if (o) {
                if (c->json) {
                        ctl_print_json(o);
                        return CTL_EXIT_OK;
                }
                return is_device ? show_device(c, o) : show_vm(c, o);
        }

        if (is_device) {
                fprintf(stderr, "rvmsictl: no device '%s'\n", what);
                fprintf(stderr, "Hint: 'rvmsictl devices' lists the devices rvmsid knows.\n");
        } else {
                fprintf(stderr, "rvmsictl: no VM with %s '%s'\n", by_uuid ? "UUID" : "name", what);
                fprintf(stderr, "Hint: 'rvmsictl vms' lists the registered VMs; devices are named DDDD:BB:DD.F.\n");
        }
        return CTL_EXIT_DAEMON_ERROR;
}
