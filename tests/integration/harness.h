/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration test harness: a private dbus-daemon on a unix socket in a
 * temporary directory, rvmsid --backend=sim on it, and an sd-bus client
 * connection to the same bus. Paths come from the environment, set by
 * tests/integration/meson.build:
 *   RVMSID        the rvmsid binary under test
 *   DBUS_DAEMON   the dbus-daemon binary
 *   RVMSI_TEST_DATA  tests/data in the source tree
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

typedef struct Harness {
        char dir[256];          /* temp dir: bus socket, bus config, state, config */
        char state_dir[300];
        char config_dir[300];
        char address[512];      /* the private bus address */
        char scenario[512];     /* scenario file given to rvmsid, "" for none */
        pid_t bus_pid;
        pid_t daemon_pid;
        sd_bus *bus;            /* our client connection, as root */
        /* Set between harness_start() and a harness_start_daemon() to give the
         * daemon a notification socket (and a watchdog interval, if not 0). */
        char notify_socket[300];
        unsigned long watchdog_usec;
} Harness;

/* Start bus and daemon. scenario is a file name under RVMSI_TEST_DATA/scenarios
 * (or an absolute path), or NULL. Aborts the test on failure. */
void harness_start(Harness *h, const char *scenario);
/* Start, or restart, only the daemon against the existing bus and dirs, and
 * wait until it owns its name again. */
void harness_start_daemon(Harness *h);
/* Send sig to the daemon and reap it; returns its wait status. */
int harness_stop_daemon(Harness *h, int sig);
/* Stop everything and remove the temp dir. */
void harness_stop(Harness *h);

/* Open a new client connection to the private bus (caller unrefs). */
sd_bus *harness_connect(const Harness *h);

/* Does anyone own org.rvmsi.Manager1 on the private bus? */
bool name_has_owner_public(const Harness *h);

/* Call Describe() and return the JSON (caller frees). */
char *harness_describe(const Harness *h);

/* Write a file under the config dir. */
void harness_write_config(const Harness *h, const char *name, const char *contents);

/* Read a whole test data file (under RVMSI_TEST_DATA unless absolute). */
char *harness_read_data(const char *name);

/* Wait until pred(h, userdata) returns true, processing nothing else, up to
 * timeout_ms. Returns true if it did. */
bool harness_wait_for(const Harness *h, bool (*pred)(const Harness *h, void *userdata), void *userdata,
                      unsigned timeout_ms);
