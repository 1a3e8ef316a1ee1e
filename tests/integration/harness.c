/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus-names.h"
#include "harness.h"
#include "macro.h"
#include "tests.h"

static const char *env_or_die(const char *name) {
        const char *v = getenv(name);

        if (!v || !*v)
                TEST_FAIL("environment variable %s is not set (run through meson test)", name);
        return v;
}

static void write_file(const char *path, const char *contents) {
        FILE *f = fopen(path, "we");

        if (!f)
                TEST_FAIL("cannot create '%s': %m", path);
        if (fputs(contents, f) < 0 || fclose(f) != 0)
                TEST_FAIL("cannot write '%s': %m", path);
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void start_bus(Harness *h) {
        char conf[400], sock[400], buf[4096];
        int p[2];
        size_t n = 0;

        snprintf(sock, sizeof(sock), "%s/bus", h->dir);
        snprintf(conf, sizeof(conf), "%s/bus.conf", h->dir);
        /* Everyone may connect, own and call: the daemon's own credential
         * check is what the non-root tests exercise, not a bus policy. */
        snprintf(buf, sizeof(buf),
                 "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
                 " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                 "<busconfig>\n"
                 "  <type>rvmsi-test</type>\n"
                 "  <listen>unix:path=%s</listen>\n"
                 "  <auth>EXTERNAL</auth>\n"
                 "  <policy context=\"default\">\n"
                 "    <allow user=\"*\"/>\n"
                 "    <allow own=\"*\"/>\n"
                 "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                 "    <allow receive_sender=\"*\"/>\n"
                 "    <allow eavesdrop=\"true\"/>\n"
                 "  </policy>\n"
                 "</busconfig>\n", sock);
        write_file(conf, buf);

        if (pipe2(p, O_CLOEXEC) < 0)
                TEST_FAIL("pipe: %m");
        h->bus_pid = fork();
        if (h->bus_pid < 0)
                TEST_FAIL("fork: %m");
        if (h->bus_pid == 0) {
                char conf_arg[450], fd_arg[32];

                /* the write end must survive exec */
                int fd = dup(p[1]);

                /* a test that aborts must not leave a bus behind */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

                snprintf(conf_arg, sizeof(conf_arg), "--config-file=%s", conf);
                snprintf(fd_arg, sizeof(fd_arg), "--print-address=%d", fd);
                execl(env_or_die("DBUS_DAEMON"), "dbus-daemon", conf_arg, "--nofork", "--nosyslog", fd_arg,
                      (char *) NULL);
                fprintf(stderr, "exec dbus-daemon: %m\n");
                _exit(127);
        }
        close(p[1]);
        for (;;) {
                ssize_t k = read(p[0], buf + n, sizeof(buf) - 1 - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += k;
                if (memchr(buf, '\n', n))
                        break;
        }
        close(p[0]);
        buf[n] = 0;
        if (n == 0 || !strchr(buf, '\n'))
                TEST_FAIL("dbus-daemon did not print its address");
        *strchr(buf, '\n') = 0;
        if (strlen(buf) >= sizeof(h->address))
                TEST_FAIL("bus address too long: %s", buf);
        memcpy(h->address, buf, strlen(buf) + 1);
}

sd_bus *harness_connect(const Harness *h) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        ASSERT_OK(r);
        ASSERT_OK(sd_bus_set_address(bus, h->address));
        ASSERT_OK(sd_bus_set_bus_client(bus, 1));
        r = sd_bus_start(bus);
        if (r < 0)
                TEST_FAIL("cannot connect to '%s': %s", h->address, strerror(-r));
        return bus;
}

static bool name_has_owner(const Harness *h) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int has = 0, r;

        r = sd_bus_call_method(h->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", &error, &reply, "s", RVMSI_BUS_NAME);
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &has);
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return r >= 0 && has;
}

bool name_has_owner_public(const Harness *h) {
        return name_has_owner(h);
}

void harness_start_daemon(Harness *h) {
        uint64_t deadline;

        h->daemon_pid = fork();
        if (h->daemon_pid < 0)
                TEST_FAIL("fork: %m");
        if (h->daemon_pid == 0) {
                char bus_arg[600], state_arg[350], config_arg[350], scen_arg[600];
                const char *argv[8];
                int n = 0;

                snprintf(bus_arg, sizeof(bus_arg), "--bus=%s", h->address);
                snprintf(state_arg, sizeof(state_arg), "--state=%s", h->state_dir);
                snprintf(config_arg, sizeof(config_arg), "--config=%s", h->config_dir);
                argv[n++] = "rvmsid";
                argv[n++] = "--backend=sim";
                argv[n++] = bus_arg;
                argv[n++] = state_arg;
                argv[n++] = config_arg;
                if (h->scenario[0]) {
                        snprintf(scen_arg, sizeof(scen_arg), "--scenario=%s", h->scenario);
                        argv[n++] = scen_arg;
                }
                argv[n] = NULL;
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                /* not under journald: plain stderr into the test log */
                unsetenv("JOURNAL_STREAM");
                unsetenv("NOTIFY_SOCKET");
                unsetenv("WATCHDOG_USEC");
                unsetenv("WATCHDOG_PID");
                if (h->notify_socket[0]) {
                        char wd[32];

                        setenv("NOTIFY_SOCKET", h->notify_socket, 1);
                        snprintf(wd, sizeof(wd), "%lu", h->watchdog_usec);
                        if (h->watchdog_usec > 0)
                                setenv("WATCHDOG_USEC", wd, 1);
                }
                execv(env_or_die("RVMSID"), (char **) argv);
                fprintf(stderr, "exec rvmsid: %m\n");
                _exit(127);
        }

        deadline = now_ms() + 20000;
        while (!name_has_owner(h)) {
                int status;

                if (waitpid(h->daemon_pid, &status, WNOHANG) == h->daemon_pid) {
                        h->daemon_pid = 0;
                        TEST_FAIL("rvmsid exited before taking its name (status 0x%x)", (unsigned) status);
                }
                if (now_ms() > deadline)
                        TEST_FAIL("rvmsid did not take its bus name within 20 s");
                usleep(20 * 1000);
        }
}

void harness_start(Harness *h, const char *scenario) {
        const char *tmp = getenv("TMPDIR") ?: "/tmp";

        *h = (Harness) {};
        snprintf(h->dir, sizeof(h->dir), "%s/rvmsi-it-XXXXXX", tmp);
        if (!mkdtemp(h->dir))
                TEST_FAIL("mkdtemp: %m");
        /* The non-root client must reach the socket in here. */
        if (chmod(h->dir, 0755) < 0)
                TEST_FAIL("chmod: %m");
        snprintf(h->state_dir, sizeof(h->state_dir), "%s/state", h->dir);
        snprintf(h->config_dir, sizeof(h->config_dir), "%s/config", h->dir);
        if (mkdir(h->state_dir, 0700) < 0 || mkdir(h->config_dir, 0755) < 0)
                TEST_FAIL("mkdir: %m");
        if (scenario) {
                if (scenario[0] == '/')
                        snprintf(h->scenario, sizeof(h->scenario), "%s", scenario);
                else
                        snprintf(h->scenario, sizeof(h->scenario), "%s/scenarios/%s",
                                 env_or_die("RVMSI_TEST_DATA"), scenario);
        }

        start_bus(h);
        h->bus = harness_connect(h);
        harness_start_daemon(h);
}

int harness_stop_daemon(Harness *h, int sig) {
        int status = 0;

        if (h->daemon_pid <= 0)
                return -1;
        (void) kill(h->daemon_pid, sig);
        while (waitpid(h->daemon_pid, &status, 0) < 0 && errno == EINTR)
                ;
        h->daemon_pid = 0;
        return status;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

void harness_stop(Harness *h) {
        int status;

        if (h->daemon_pid > 0) {
                status = harness_stop_daemon(h, SIGTERM);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        TEST_FAIL("rvmsid did not exit cleanly on SIGTERM (status 0x%x)", (unsigned) status);
        }
        h->bus = sd_bus_flush_close_unref(h->bus);
        if (h->bus_pid > 0) {
                (void) kill(h->bus_pid, SIGTERM);
                (void) waitpid(h->bus_pid, &status, 0);
                h->bus_pid = 0;
        }
        if (!getenv("RVMSI_TEST_KEEP"))
                (void) nftw(h->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *harness_describe(const Harness *h) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *json;
        char *copy;
        int r;

        r = sd_bus_call_method(h->bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Describe",
                               &error, &reply, NULL);
        if (r < 0)
                TEST_FAIL("Describe: %s", error.message ?: strerror(-r));
        ASSERT_OK(sd_bus_message_read(reply, "s", &json));
        copy = strdup(json);
        ASSERT_NOT_NULL(copy);
        sd_bus_message_unref(reply);
        return copy;
}

void harness_write_config(const Harness *h, const char *name, const char *contents) {
        char path[600];

        snprintf(path, sizeof(path), "%s/%s", h->config_dir, name);
        write_file(path, contents);
}

char *harness_read_data(const char *name) {
        char path[1024];
        char *buf = NULL;
        size_t size = 0;
        FILE *f, *out;
        int c;

        if (name[0] == '/')
                snprintf(path, sizeof(path), "%s", name);
        else
                snprintf(path, sizeof(path), "%s/%s", env_or_die("RVMSI_TEST_DATA"), name);
        f = fopen(path, "re");
        if (!f)
                TEST_FAIL("cannot open '%s': %m", path);
        out = open_memstream(&buf, &size);
        ASSERT_NOT_NULL(out);
        while ((c = fgetc(f)) != EOF)
                fputc(c, out);
        fclose(f);
        fclose(out);
        return buf;
}

bool harness_wait_for(const Harness *h, bool (*pred)(const Harness *h, void *userdata), void *userdata,
                      unsigned timeout_ms) {
        uint64_t deadline = now_ms() + timeout_ms;

        while (!pred(h, userdata)) {
                if (now_ms() > deadline)
                        return false;
                usleep(20 * 1000);
        }
        return true;
}
