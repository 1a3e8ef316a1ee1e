/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsi-bench-dbus: the D-Bus round trips of reading a running rvmsid's
 * description: a full read in pages with DescribeSelected() (what rvmsictl
 * does; --page devices and VMs per page), one device's DescribeSelected(),
 * Describe() where the host's description fits a reply, and, for scale, a
 * read of the Status property; plus the daemon's resident memory. Driven by
 * bench/describe-rtt.sh, which starts a private bus and rvmsid on the sim
 * with a generated host.
 *
 *   rvmsi-bench-dbus --address=ADDR [--count=N] [--page=N] [--pid=PID] [--json=PATH]
 */

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "bus-describe.h"
#include "bus-names.h"
#include "macro.h"

static double now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* VmRSS / VmHWM of a process in KiB, -1 if unknown. */
static long proc_status_kib(long pid, const char *field) {
        char path[64], line[256];
        FILE *f;
        long v = -1;

        snprintf(path, sizeof(path), "/proc/%ld/status", pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':') {
                        v = strtol(line + strlen(field) + 1, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

typedef struct Series {
        double *v;
        size_t n;
} Series;

static void summary(const char *what, Series *s, json_object *o) {
        json_object *x = json_object_new_object();

        if (s->n == 0)
                return;
        qsort(s->v, s->n, sizeof(double), cmp_double);
        printf("%-26s min %10.1f us  median %10.1f us  max %10.1f us  (%zu calls)\n", what, s->v[0],
               s->v[s->n / 2], s->v[s->n - 1], s->n);
        json_object_object_add(x, "calls", json_object_new_int64((int64_t) s->n));
        json_object_object_add(x, "min_usec", json_object_new_double(s->v[0]));
        json_object_object_add(x, "median_usec", json_object_new_double(s->v[s->n / 2]));
        json_object_object_add(x, "max_usec", json_object_new_double(s->v[s->n - 1]));
        json_object_object_add(o, what, x);
}

/*
 * DescribeSelected() with: sections (NULL: all), one device (or NULL), the
 * offsets and limits (limit 0: leave both out). Returns the reply, or NULL
 * after printing why.
 */
static sd_bus_message *describe_selected(sd_bus *bus, char **sections, const char *device, uint32_t device_offset,
                                         uint32_t device_limit, uint32_t vm_offset, uint32_t vm_limit) {
        const DescribeSelection sel = {
                .sections = sections,
                .device = device,
                .device_offset = device_offset,
                .device_limit = device_limit,
                .vm_offset = vm_offset,
                .vm_limit = vm_limit,
        };
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = describe_selected_message(bus, &sel, &m);
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &error, &reply);
        sd_bus_message_unref(m);
        if (r < 0) {
                fprintf(stderr, "DescribeSelected failed: %s\n", error.message ?: strerror(-r));
                sd_bus_error_free(&error);
                return NULL;
        }
        return reply;
}

/* The "page" member, parsed alone: it is the document's last, so a pager need not parse the rest to go on. */
static json_object *page_member(const char *text) {
        const char *p = strstr(text, "\n  \"page\": {");
        json_tokener *tok;
        json_object *o;

        if (!p)
                return NULL;
        p = strchr(p, '{');
        tok = json_tokener_new();
        if (!tok)
                return NULL;
        o = json_tokener_parse_ex(tok, p, (int) strlen(p));
        json_tokener_free(tok);
        return o;
}

static int64_t next_offset(json_object *page, const char *kind) {
        json_object *k, *v;

        if (!json_object_object_get_ex(page, kind, &k) || !json_object_object_get_ex(k, "next_offset", &v))
                return -1;
        return json_object_get_int64(v);
}

typedef struct PagedRead {
        size_t pages, bytes, devices, vms;
} PagedRead;

/*
 * Read the whole description the way rvmsictl does: the first page with every
 * section, then only the arrays that have more, page devices and VMs at a
 * time. With verify, parse every page in full and count what it carries.
 */
static int paged_read(sd_bus *bus, uint32_t page, bool verify, PagedRead *ret) {
        PagedRead pr = {};
        uint32_t device_offset = 0, vm_offset = 0;
        bool first = true, vms_more = true, devices_more = true;

        while (vms_more || devices_more) {
                char *later[4] = {};
                size_t n = 0;
                sd_bus_message *reply;
                json_object *pm;
                const char *text;
                int64_t next;

                if (!first) {
                        if (vms_more)
                                later[n++] = (char *) "vms";
                        if (devices_more) {
                                later[n++] = (char *) "devices";
                                later[n++] = (char *) "unsatisfied";
                        }
                }
                reply = describe_selected(bus, first ? NULL : later, NULL, device_offset, page, vm_offset, page);
                if (!reply)
                        return -EIO;
                if (sd_bus_message_read(reply, "s", &text) < 0) {
                        sd_bus_message_unref(reply);
                        return -EBADMSG;
                }
                pr.pages++;
                pr.bytes += strlen(text);
                if (verify) {
                        json_object *doc = json_tokener_parse(text), *a;

                        if (!doc) {
                                sd_bus_message_unref(reply);
                                return -EBADMSG;
                        }
                        if (json_object_object_get_ex(doc, "devices", &a))
                                pr.devices += json_object_array_length(a);
                        if (json_object_object_get_ex(doc, "vms", &a))
                                pr.vms += json_object_array_length(a);
                        json_object_put(doc);
                }
                pm = page_member(text);
                sd_bus_message_unref(reply);
                if (!pm)
                        return -EBADMSG;
                if (vms_more) {
                        next = next_offset(pm, "vms");
                        vms_more = next >= 0;
                        vm_offset = next >= 0 ? (uint32_t) next : vm_offset;
                }
                if (devices_more) {
                        next = next_offset(pm, "devices");
                        devices_more = next >= 0;
                        device_offset = next >= 0 ? (uint32_t) next : device_offset;
                }
                json_object_put(pm);
                first = false;
        }
        *ret = pr;
        return 0;
}

static uint32_t get_u(sd_bus *bus, const char *property) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        uint32_t v = 0;

        if (sd_bus_get_property_trivial(bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, property,
                                        &error, 'u', &v) < 0) {
                fprintf(stderr, "Get(%s) failed: %s\n", property, strempty(error.message));
                sd_bus_error_free(&error);
        }
        return v;
}

/* The PCI address of the device in the middle of ListDevices(), into buf. */
static int middle_device(sd_bus *bus, char *buf, size_t size) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *name, *owner, *path;
        uint32_t n = get_u(bus, "NDevices"), i = 0;
        int r;

        r = sd_bus_call_method(bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "ListDevices", &error,
                               &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sso)", &name, &owner, &path)) > 0)
                if (i++ == n / 2) {
                        snprintf(buf, size, "%s", name);
                        break;
                }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        return r > 0 ? 0 : -ENOENT;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "address", required_argument, NULL, 'a' },
                { "count", required_argument, NULL, 'n' },
                { "page", required_argument, NULL, 'g' },
                { "pid", required_argument, NULL, 'p' },
                { "json", required_argument, NULL, 'j' },
                {}
        };
        _cleanup_json_ json_object *out = json_object_new_object();
        const char *address = NULL, *json_path = NULL;
        sd_bus *bus = NULL;
        long pid = 0, count = 10, page = 256;
        Series describe = {}, paged = {}, single = {}, status = {};
        size_t reply_bytes = 0, single_bytes = 0;
        PagedRead pr = {};
        uint32_t n_devices, n_vms;
        char device[64];
        bool describe_fits = true;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        address = optarg;
                        break;
                case 'n':
                        count = strtol(optarg, NULL, 10);
                        break;
                case 'g':
                        page = strtol(optarg, NULL, 10);
                        break;
                case 'p':
                        pid = strtol(optarg, NULL, 10);
                        break;
                case 'j':
                        json_path = optarg;
                        break;
                default:
                        return EXIT_FAILURE;
                }
        if (!address || count < 1 || count > 100000 || page < 1 || page > 1000000 || !out) {
                fprintf(stderr, "Usage: rvmsi-bench-dbus --address=ADDR [--count=N] [--page=N] [--pid=PID] "
                        "[--json=PATH]\n");
                return EXIT_FAILURE;
        }

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "Cannot connect to '%s': %s\n", address, strerror(-r));
                return EXIT_FAILURE;
        }
        describe.v = calloc((size_t) count, sizeof(double));
        paged.v = calloc((size_t) count, sizeof(double));
        single.v = calloc((size_t) count, sizeof(double));
        status.v = calloc((size_t) count, sizeof(double));
        if (!describe.v || !paged.v || !single.v || !status.v)
                return EXIT_FAILURE;

        n_devices = get_u(bus, "NDevices");
        n_vms = get_u(bus, "NVMs");
        if (middle_device(bus, device, sizeof(device)) < 0) {
                fprintf(stderr, "The host has no device to read\n");
                return EXIT_FAILURE;
        }

        /* Once, untimed: the pages put together carry every device and VM exactly as often as the host has them. */
        r = paged_read(bus, (uint32_t) page, true, &pr);
        if (r < 0 || pr.devices != n_devices || pr.vms != n_vms) {
                fprintf(stderr, "Paged read incomplete: %zu of %u devices, %zu of %u VMs (%s)\n", pr.devices,
                        n_devices, pr.vms, n_vms, strerror(r < 0 ? -r : 0));
                return EXIT_FAILURE;
        }

        for (long i = 0; i < count; i++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                const char *s;
                double t0;

                /* The default method timeout (25 s) is what a client gets: no special treatment. */
                if (describe_fits) {
                        t0 = now_usec();
                        r = sd_bus_call_method(bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER,
                                               "Describe", &error, &reply, "");
                        if (r < 0 && sd_bus_error_has_name(&error, RVMSI_BUS_ERROR_REPLY_TOO_LARGE)) {
                                /* Refused, as it must be: say so, once, with what it cost to find out. */
                                printf("Describe(): %s (refused after %.1f us)\n", error.message, now_usec() - t0);
                                json_object_object_add(out, "describe_refused_usec",
                                                       json_object_new_double(now_usec() - t0));
                                json_object_object_add(out, "describe_error", json_object_new_string(error.message));
                                sd_bus_error_free(&error);
                                describe_fits = false;
                        } else if (r < 0) {
                                fprintf(stderr, "Describe failed: %s\n", error.message ?: strerror(-r));
                                return EXIT_FAILURE;
                        } else {
                                describe.v[describe.n++] = now_usec() - t0;
                                r = sd_bus_message_read(reply, "s", &s);
                                if (r >= 0) {
                                        json_object *j = json_tokener_parse(s);

                                        r = j ? 0 : -EBADMSG;
                                        json_object_put(j);
                                }
                                if (r < 0) {
                                        fprintf(stderr, "Describe returned no valid JSON\n");
                                        return EXIT_FAILURE;
                                }
                                reply_bytes = strlen(s);
                                reply = sd_bus_message_unref(reply);
                        }
                }

                t0 = now_usec();
                r = paged_read(bus, (uint32_t) page, false, &pr);
                if (r < 0)
                        return EXIT_FAILURE;
                paged.v[paged.n++] = now_usec() - t0;

                t0 = now_usec();
                reply = describe_selected(bus, (char *[]) { (char *) "devices", NULL }, device, 0, 0, 0, 0);
                if (!reply)
                        return EXIT_FAILURE;
                single.v[single.n++] = now_usec() - t0;
                if (sd_bus_message_read(reply, "s", &s) < 0 || !strstr(s, device))
                        return EXIT_FAILURE;
                single_bytes = strlen(s);
                sd_bus_message_unref(reply);

                t0 = now_usec();
                r = sd_bus_get_property_string(bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER,
                                               "Status", &error, (char **) &s);
                if (r < 0) {
                        fprintf(stderr, "Status failed: %s\n", error.message ?: strerror(-r));
                        return EXIT_FAILURE;
                }
                status.v[status.n++] = now_usec() - t0;
                free((char *) s);
        }

        printf("host: %u devices, %u VMs; pages of %ld devices and VMs\n", n_devices, n_vms, page);
        json_object_object_add(out, "devices", json_object_new_int64(n_devices));
        json_object_object_add(out, "vms", json_object_new_int64(n_vms));
        json_object_object_add(out, "page", json_object_new_int64(page));
        summary("Describe()", &describe, out);
        summary("paged read (all pages)", &paged, out);
        summary("DescribeSelected(1 dev)", &single, out);
        summary("Get(Status)", &status, out);
        if (describe.n > 0) {
                printf("Describe() reply: %zu bytes\n", reply_bytes);
                json_object_object_add(out, "describe_reply_bytes", json_object_new_int64((int64_t) reply_bytes));
        }
        printf("paged read: %zu pages, %zu bytes; one device (%s): %zu bytes\n", pr.pages, pr.bytes, device,
               single_bytes);
        json_object_object_add(out, "paged_pages", json_object_new_int64((int64_t) pr.pages));
        json_object_object_add(out, "paged_bytes", json_object_new_int64((int64_t) pr.bytes));
        json_object_object_add(out, "single_device_bytes", json_object_new_int64((int64_t) single_bytes));
        if (pid > 0) {
                long rss = proc_status_kib(pid, "VmRSS"), hwm = proc_status_kib(pid, "VmHWM");

                printf("rvmsid VmRSS %ld KiB, VmHWM %ld KiB\n", rss, hwm);
                json_object_object_add(out, "daemon_rss_kib", json_object_new_int64(rss));
                json_object_object_add(out, "daemon_hwm_kib", json_object_new_int64(hwm));
        }
        if (json_path && json_object_to_file_ext(json_path, out, JSON_C_TO_STRING_PRETTY) < 0) {
                fprintf(stderr, "Cannot write '%s'\n", json_path);
                return EXIT_FAILURE;
        }
        sd_bus_flush_close_unref(bus);
        free(describe.v);
        free(paged.v);
        free(single.v);
        free(status.v);
        return EXIT_SUCCESS;
}
