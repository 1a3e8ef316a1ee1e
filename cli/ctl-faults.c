/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsictl faults [--follow]: the audit of MSIs the IOMMU blocked. The last
 * faults come from Describe(); --follow then prints every Fault signal as it
 * arrives, until interrupted.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bus-names.h"
#include "rvmsictl.h"

/* RISC-V IOMMU fault causes for MSI translation (IOMMU spec, FAULT_CAUSE), and 273, the IOMMU's own interrupt
 * MSI failing: rvmsid reports that one with no device and no target, so it prints as "?" and "-". */
static const char *cause_name(uint64_t cause) {
        switch (cause) {
        case 261: return "MSI PTE load access fault";
        case 262: return "MSI PTE not valid";
        case 263: return "MSI PTE misconfigured";
        case 264: return "MRIF access fault";
        case 270: return "MSI PT data corruption";
        case 271: return "MSI MRIF data corruption";
        case 273: return "IOMMU MSI write access fault";
        default:  return "unknown cause";
        }
}

static void format_time_us(uint64_t usec, char *buf, size_t n) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        char s[32];

        if (!gmtime_r(&t, &tm) || strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm) == 0) {
                snprintf(buf, n, "%" PRIu64, usec);
                return;
        }
        snprintf(buf, n, "%s.%06" PRIu64 " UTC", s, usec % 1000000);
}

static void print_fault(Ctl *c, const char *device, uint64_t cause, uint64_t address, const char *target,
                        uint64_t time_us) {
        char when[64];

        if (c->json) {
                _cleanup_json_ json_object *o = json_object_new_object();

                if (!o)
                        return;
                json_object_object_add(o, "device", json_object_new_string(device));
                json_object_object_add(o, "cause", json_object_new_uint64(cause));
                json_object_object_add(o, "address", json_object_new_uint64(address));
                json_object_object_add(o, "target", json_object_new_string(target));
                json_object_object_add(o, "time", json_object_new_uint64(time_us));
                /* one object per line: a stream a program can read as it comes */
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        } else {
                format_time_us(time_us, when, sizeof(when));
                printf("%s  %-12s  %" PRIu64 " %-30s  0x%016" PRIx64 "  %s\n", when, isempty(device) ? "?" : device,
                       cause, cause_name(cause), address, isempty(target) ? "-" : target);
        }
        fflush(stdout);
}

static int on_fault(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Ctl *c = userdata;
        const char *device, *target;
        uint32_t cause;
        uint64_t address, time_us;
        int r;

        r = sd_bus_message_read(m, "sutst", &device, &cause, &address, &target, &time_us);
        if (r < 0) {
                fprintf(stderr, "rvmsictl: ignoring a malformed Fault signal: %s\n", strerror(-r));
                return 0;
        }
        print_fault(c, device, cause, address, target, time_us);
        return 0;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && isempty(new_owner))
                fprintf(stderr, "rvmsictl: rvmsid left the bus; waiting for it to come back\n");
        return 0;
}

int verb_faults(Ctl *c, int argc, char **argv) {
        _cleanup_json_ json_object *d = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL, *slot_owner = NULL;
        json_object *faults;
        sd_bus *bus;
        int r;

        r = ctl_bus(c, &bus);
        if (r != 0)
                return r;
        if (c->follow) {
                /* Subscribe before Describe(), so no fault falls between the two. A
                 * fault in that gap is printed twice rather than never. */
                r = sd_bus_match_signal(bus, &slot, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Fault",
                                        on_fault, c);
                if (r < 0)
                        return ctl_report_bus_error(NULL, r, "subscribing to Fault signals");
                r = sd_bus_match_signal(bus, &slot_owner, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "NameOwnerChanged", on_owner_changed, c);
                if (r < 0)
                        return ctl_report_bus_error(NULL, r, "subscribing to NameOwnerChanged");
        }

        r = ctl_describe(c, (char *const[]) { (char *) "faults", NULL }, &d, NULL);
        if (r != 0)
                return r;
        faults = ctl_json_array(d, "faults");
        if (c->json && !c->follow) {
                _cleanup_json_ json_object *empty = json_object_new_array();

                ctl_print_json(faults ?: empty);
                return CTL_EXIT_OK;
        }
        if (!c->json && c->legend)
                printf("%-30s  %-12s  %-34s  %-18s  %s\n", "TIME", "DEVICE", "CAUSE", "ADDRESS", "TARGET");
        for (size_t i = 0; faults && i < json_object_array_length(faults); i++) {
                json_object *f = json_object_array_get_idx(faults, i);

                print_fault(c, strempty(ctl_json_str(f, "device")), (uint64_t) ctl_json_int(f, "cause", 0),
                            (uint64_t) ctl_json_int(f, "address", 0), strempty(ctl_json_str(f, "target")),
                            (uint64_t) ctl_json_int(f, "time", 0));
        }
        if (!c->follow) {
                if (!c->json && c->legend && (!faults || json_object_array_length(faults) == 0))
                        printf("(no MSI was blocked)\n");
                return CTL_EXIT_OK;
        }

        /* What was printed so far must be visible before we block, also in a pipe. */
        fflush(stdout);

        /* No call timeout applies here: wait for signals until killed. */
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return ctl_report_bus_error(NULL, r, "reading from the bus");
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        return ctl_report_bus_error(NULL, r, "waiting on the bus");
        }
}
