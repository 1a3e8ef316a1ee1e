/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One run of tests/crash/crash-ops.sh: rvmsid on the simulated host
 * persisted in DIR, a workload of D-Bus calls, optionally killed by
 * RVMSI_TEST_CRASH_AFTER_OPS=K, restarted and the interrupted call made
 * again. In C rather than with busctl because the test makes hundreds of
 * runs of about fifty calls each: one bus connection for the whole run, no
 * process per call.
 *
 *   crash-ops-run RVMSID DIR K STEPS CONFIG_DIR BUS_ADDRESS
 *
 * STEPS has one call per line: METHOD|SIGNATURE|ARGS, ARGS separated by
 * spaces in busctl's notation (arrays as a count, then the elements), "-"
 * for an empty string. K = 0: no kill. Writes DIR/describe.json (Describe()
 * after the last call) and prints how many times rvmsid was killed. Fails
 * (exit 1, with the reason on stderr) if rvmsid dies other than by SIGKILL,
 * if K > 0 and it was not killed exactly once, if what a kill left behind
 * is not accepted (state.json not valid JSON, a state file moved aside as
 * corrupt, a restart that does not come up or complains), or if a call
 * fails other than as a retry may.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#define DEST "org.rvmsi.Manager1"
#define PATH "/org/rvmsi/Manager1"
#define IFACE "org.rvmsi.Manager1.Manager"
#define CALL_TIMEOUT_USEC (120ULL * 1000000ULL)

static const char *rvmsid, *dir, *config_dir, *address;
static char log_path[4096];
static pid_t daemon_pid = -1;
static sd_bus *bus;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...) {
        va_list ap;

        fputs("FAIL: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (daemon_pid > 0)
                (void) kill(daemon_pid, SIGKILL);
        exit(EXIT_FAILURE);
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        (void) nanosleep(&ts, NULL);
}

/* rvmsid exited: its wait status, else -1. */
static int reap(bool block_ms_5000) {
        int status;

        for (unsigned i = 0; i < (block_ms_5000 ? 5000U : 1U); i++) {
                pid_t p = waitpid(daemon_pid, &status, WNOHANG);

                if (p == daemon_pid) {
                        daemon_pid = -1;
                        return status;
                }
                if (p < 0)
                        fail("waitpid: %s", strerror(errno));
                if (block_ms_5000)
                        sleep_ms(1);
        }
        return -1;
}

static bool owns_name(void) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int has = 0, r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", &e, &reply, "s", DEST);
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &has);
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        if (r < 0)
                fail("NameHasOwner: %s", strerror(-r));
        return has;
}

/* Start rvmsid; 0 once it owns its name, else its wait status (it died during startup). */
static int launch(unsigned long k) {
        pid_t pid;

        pid = fork();
        if (pid < 0)
                fail("fork: %s", strerror(errno));
        if (pid == 0) {
                char persist[4200], state[4200], config[4200], busarg[4200], kbuf[32];
                int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(126);
                snprintf(persist, sizeof(persist), "--sim-persist=%s/sim.json", dir);
                snprintf(state, sizeof(state), "--state=%s/state", dir);
                snprintf(config, sizeof(config), "--config=%s", config_dir);
                snprintf(busarg, sizeof(busarg), "--bus=%s", address);
                if (k > 0) {
                        snprintf(kbuf, sizeof(kbuf), "%lu", k);
                        setenv("RVMSI_TEST_CRASH_AFTER_OPS", kbuf, 1);
                } else
                        unsetenv("RVMSI_TEST_CRASH_AFTER_OPS");
                execl(rvmsid, rvmsid, "--backend=sim", persist, state, config, busarg, (char *) NULL);
                _exit(127);
        }
        daemon_pid = pid;
        for (unsigned i = 0; i < 60000; i++) {
                int status = reap(false);

                if (status >= 0)
                        return status;
                if (owns_name()) {
                        /* The name may still be the one of a dying process: check again. */
                        status = reap(false);
                        if (status >= 0)
                                return status;
                        return 0;
                }
                sleep_ms(1);
        }
        fail("rvmsid did not take its bus name in 60 s");
}

static bool file_contains(const char *path, const char *const *needles) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = fopen(path, "re");
        bool found = false;

        if (!f)
                return false;
        if (getdelim(&buf, &n, '\0', f) > 0)
                for (const char *const *s = needles; *s; s++)
                        if (strstr(buf, *s))
                                found = true;
        free(buf);
        fclose(f);
        return found;
}

/* rvmsid died with status: it must have been our SIGKILL, and what it left must be whole. */
static void check_kill(int status) {
        char path[4200];
        DIR *d;
        struct dirent *de;

        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
                fail("rvmsid ended with wait status 0x%x, not by SIGKILL (log: %s)", (unsigned) status, log_path);
        snprintf(path, sizeof(path), "%s/state/state.json", dir);
        if (access(path, F_OK) >= 0) {
                json_object *j = json_object_from_file(path);

                if (!j)
                        fail("%s is not valid JSON after a kill", path);
                json_object_put(j);
        }
        snprintf(path, sizeof(path), "%s/state", dir);
        d = opendir(path);
        if (!d)
                fail("cannot open %s", path);
        while ((de = readdir(d)))
                if (strstr(de->d_name, "corrupt"))
                        fail("a state file was moved aside as corrupt: %s/%s", path, de->d_name);
        closedir(d);
}

static void restart(void) {
        static const char *const bad[] = { "corrupt", "Cannot read the state", "Failed to create the sim", NULL };
        int status = launch(0);

        if (status != 0)
                fail("rvmsid did not come up again after a kill (wait status 0x%x; log: %s)", (unsigned) status,
                     log_path);
        if (file_contains(log_path, bad))
                fail("rvmsid did not accept what the kill left behind (log: %s)", log_path);
}

/* Append busctl-notation arguments for signature sig; *argp advances. */
static int append(sd_bus_message *m, const char **sig, char ***argp) {
        char t = **sig;
        char *a;
        int r;

        (*sig)++;
        if (t == '(') {
                const char *end = *sig;
                char contents[64];
                int depth = 1;

                while (depth > 0) {
                        if (*end == '(')
                                depth++;
                        else if (*end == ')')
                                depth--;
                        end++;
                }
                snprintf(contents, sizeof(contents), "%.*s", (int) (end - 1 - *sig), *sig);
                r = sd_bus_message_open_container(m, 'r', contents);
                if (r < 0)
                        return r;
                while (**sig != ')') {
                        r = append(m, sig, argp);
                        if (r < 0)
                                return r;
                }
                (*sig)++;
                return sd_bus_message_close_container(m);
        }
        a = *(*argp)++;
        if (!a)
                return -EINVAL;
        switch (t) {
        case 's':
                return sd_bus_message_append_basic(m, 's', strcmp(a, "-") == 0 ? "" : a);
        case 'u': {
                uint32_t v = (uint32_t) strtoul(a, NULL, 10);
                return sd_bus_message_append_basic(m, 'u', &v);
        }
        case 'i': {
                int32_t v = (int32_t) strtol(a, NULL, 10);
                return sd_bus_message_append_basic(m, 'i', &v);
        }
        case 'a': {
                const char *elem = *sig, *after;
                char contents[64];
                unsigned long n = strtoul(a, NULL, 10);
                int depth = 0;

                /* The element type: one complete type. */
                after = elem;
                do {
                        if (*after == '(')
                                depth++;
                        else if (*after == ')')
                                depth--;
                        after++;
                } while (depth > 0);
                snprintf(contents, sizeof(contents), "%.*s", (int) (after - elem), elem);
                r = sd_bus_message_open_container(m, 'a', contents);
                if (r < 0)
                        return r;
                for (unsigned long i = 0; i < n; i++) {
                        const char *s = elem;

                        r = append(m, &s, argp);
                        if (r < 0)
                                return r;
                }
                *sig = after;
                return sd_bus_message_close_container(m);
        }
        default:
                return -EOPNOTSUPP;
        }
}

/* One call; 0, or -errno with the error message in *msg. */
static int call(const char *method, const char *sig, char **args, char **msg) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        const char *s = sig;
        char **a = args;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, IFACE, method);
        if (r < 0)
                fail("%s: %s", method, strerror(-r));
        while (*s) {
                r = append(m, &s, &a);
                if (r < 0)
                        fail("%s: cannot build the arguments for '%s': %s", method, sig, strerror(-r));
        }
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &e, &reply);
        *msg = NULL;
        if (r < 0 && asprintf(msg, "%s: %s", e.name ?: "?", e.message ?: strerror(-r)) < 0)
                *msg = NULL;
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return r;
}

static bool retry_ok(const char *msg) {
        return msg && (strstr(msg, "is not valid for VM") || strstr(msg, "no VM with UUID"));
}

static void describe(void) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *text;
        char path[4200];
        FILE *f;
        int r;

        r = sd_bus_call_method(bus, DEST, PATH, IFACE, "Describe", &e, &reply, "");
        if (r < 0)
                fail("Describe(): %s", e.message ?: strerror(-r));
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                fail("Describe(): %s", strerror(-r));
        snprintf(path, sizeof(path), "%s/describe.json", dir);
        f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                fail("cannot write %s", path);
        sd_bus_message_unref(reply);
}

int main(int argc, char *argv[]) {
        char *line = NULL;
        size_t n = 0;
        unsigned long k;
        unsigned kills = 0, step = 0;
        FILE *steps;
        int status, r;

        if (argc != 7) {
                fprintf(stderr, "usage: %s RVMSID DIR K STEPS CONFIG_DIR BUS_ADDRESS\n", argv[0]);
                return EXIT_FAILURE;
        }
        rvmsid = argv[1];
        dir = argv[2];
        k = strtoul(argv[3], NULL, 10);
        config_dir = argv[5];
        address = argv[6];
        snprintf(log_path, sizeof(log_path), "%s.log", dir);
        steps = fopen(argv[4], "re");
        if (!steps)
                fail("cannot open %s", argv[4]);

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, true);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                fail("cannot connect to %s: %s", address, strerror(-r));

        status = launch(k);
        if (status != 0) {
                check_kill(status);
                kills++;
                restart();
        }
        while (getline(&line, &n, steps) > 0) {
                char *method, *sig, *args, *argvv[64], *save = NULL, *tok;
                unsigned na = 0;
                bool retry = false;

                line[strcspn(line, "\n")] = '\0';
                method = strtok_r(line, "|", &save);
                sig = strtok_r(NULL, "|", &save);
                args = strtok_r(NULL, "", &save);
                if (!method || !sig)
                        fail("bad step line %u", step);
                if (strcmp(sig, "-") == 0)
                        sig = (char *) "";
                for (tok = args ? strtok_r(args, " ", &save) : NULL; tok && na < 63; tok = strtok_r(NULL, " ", &save))
                        argvv[na++] = tok;
                argvv[na] = NULL;

                for (;;) {
                        char *msg = NULL;

                        r = call(method, sig, argvv, &msg);
                        /* A call to a rvmsid that died (or is dying) fails; give it a moment to be reaped. */
                        status = reap(r < 0 && msg &&
                                      (strstr(msg, "NoReply") || strstr(msg, "ServiceUnknown") ||
                                       strstr(msg, "NameHasNoOwner") || strstr(msg, "Disconnected")));
                        if (status >= 0) {
                                free(msg);
                                check_kill(status);
                                kills++;
                                restart();
                                /* The call may or may not have taken effect: make it again. */
                                retry = true;
                                continue;
                        }
                        if (r >= 0 || (retry && retry_ok(msg))) {
                                free(msg);
                                break;
                        }
                        fail("crash point %lu, step %u (%s): %s", k, step, method, msg ?: strerror(-r));
                }
                step++;
        }
        free(line);
        fclose(steps);

        describe();
        (void) kill(daemon_pid, SIGTERM);
        if (waitpid(daemon_pid, &status, 0) != daemon_pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail("rvmsid did not exit cleanly on SIGTERM (log: %s)", log_path);
        daemon_pid = -1;
        if (k > 0 && kills != 1)
                fail("crash point %lu: %u kills (the point was never reached?)", k, kills);
        if (k == 0 && kills != 0)
                fail("rvmsid was killed without RVMSI_TEST_CRASH_AFTER_OPS");
        printf("%u\n", kills);
        sd_bus_flush_close_unref(bus);
        return EXIT_SUCCESS;
}
