/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsi-bench-dbus: the D-Bus round trip of Describe() (and, for scale, of
 * reading the Status property) against a running rvmsid, plus the daemon's
 * resident memory. Driven by bench/describe-rtt.sh, which starts a private
 * bus and rvmsid on the sim with a generated host.
 *
 *   rvmsi-bench-dbus --address=ADDR [--count=N] [--pid=PID] [--json=PATH]
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

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

        qsort(s->v, s->n, sizeof(double), cmp_double);
        printf("%-22s min %10.1f us  median %10.1f us  max %10.1f us  (%zu calls)\n", what, s->v[0],
               s->v[s->n / 2], s->v[s->n - 1], s->n);
        json_object_object_add(x, "calls", json_object_new_int64((int64_t) s->n));
        json_object_object_add(x, "min_usec", json_object_new_double(s->v[0]));
        json_object_object_add(x, "median_usec", json_object_new_double(s->v[s->n / 2]));
        json_object_object_add(x, "max_usec", json_object_new_double(s->v[s->n - 1]));
        json_object_object_add(o, what, x);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "address", required_argument, NULL, 'a' },
                { "count", required_argument, NULL, 'n' },
                { "pid", required_argument, NULL, 'p' },
                { "json", required_argument, NULL, 'j' },
                {}
        };
        _cleanup_json_ json_object *out = json_object_new_object();
        const char *address = NULL, *json_path = NULL;
        sd_bus *bus = NULL;
        long pid = 0, count = 10;
        Series describe = {}, status = {};
        size_t reply_bytes = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        address = optarg;
                        break;
                case 'n':
                        count = strtol(optarg, NULL, 10);
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
        if (!address || count < 1 || count > 100000 || !out) {
                fprintf(stderr, "Usage: rvmsi-bench-dbus --address=ADDR [--count=N] [--pid=PID] [--json=PATH]\n");
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
        status.v = calloc((size_t) count, sizeof(double));
        if (!describe.v || !status.v)
                return EXIT_FAILURE;

        for (long i = 0; i < count; i++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                const char *s;
                double t0 = now_usec();

                /* The default method timeout (25 s) is what a client gets: no special treatment. */
                r = sd_bus_call_method(bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Describe",
                                       &error, &reply, "");
                if (r < 0) {
                        fprintf(stderr, "Describe failed: %s\n", error.message ?: strerror(-r));
                        return EXIT_FAILURE;
                }
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

        summary("Describe()", &describe, out);
        summary("Get(Status)", &status, out);
        printf("Describe() reply: %zu bytes\n", reply_bytes);
        json_object_object_add(out, "describe_reply_bytes", json_object_new_int64((int64_t) reply_bytes));
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
        free(status.v);
        return EXIT_SUCCESS;
}
