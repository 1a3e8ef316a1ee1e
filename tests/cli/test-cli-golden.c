/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsictl golden-output tests: one rvmsid --backend=sim on a private bus
 * (tests/integration/harness.c), started with tests/data/cli/host.json, and
 * the cases of tests/data/cli/cases run in order. Each case's standard
 * output, standard error and exit status must equal tests/data/cli/NAME.out.
 *
 * Only what cannot be stable is normalized: wall-clock times (the time of a
 * fault, of the last resync) become <time>. Everything else, including
 * error messages and the daemon's JSON, is compared byte for byte.
 *
 * Cases run as uid 65534 must leave rvmsid's state byte-identical.
 * RVMSI_UPDATE_GOLDEN=1 writes the .out files instead of comparing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus-names.h"
#include "fileio.h"
#include "harness.h"
#include "macro.h"
#include "run.h"
#include "tests.h"

static char *normalize(const char *s) {
        static const char *const patterns[] = {
                "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{6})? UTC",
                "\"time\": ?[0-9]+",
        };
        static const char *const repl[] = { "<time>", "\"time\": <time>" };
        char *cur = strdup(s);

        ASSERT_NOT_NULL(cur);
        for (size_t p = 0; p < ELEMENTSOF(patterns); p++) {
                regex_t re;
                regmatch_t m;
                char *out = NULL;
                size_t size = 0;
                FILE *f;
                const char *at = cur;

                ASSERT_EQ(regcomp(&re, patterns[p], REG_EXTENDED), 0);
                f = open_memstream(&out, &size);
                ASSERT_NOT_NULL(f);
                while (regexec(&re, at, 1, &m, 0) == 0) {
                        fwrite(at, 1, (size_t) m.rm_so, f);
                        fputs(repl[p], f);
                        at += m.rm_eo;
                }
                fputs(at, f);
                fclose(f);
                regfree(&re);
                free(cur);
                cur = out;
        }
        return cur;
}

static char *render(const char *args, const RunResult *r) {
        _cleanup_free_ char *out = normalize(r->out), *err = normalize(r->err);
        char *s;

        ASSERT_TRUE(asprintf(&s, "$ rvmsictl%s%s\n%s[stderr]\n%s[exit %d]\n", *args ? " " : "", args, out, err,
                             r->status) >= 0);
        return s;
}

TEST(golden) {
        _cleanup_(harness_stop) Harness h;
        _cleanup_free_ char *cases = NULL;
        const char *data = getenv("RVMSI_TEST_DATA"), *ctl = getenv("RVMSICTL");
        bool update = getenv("RVMSI_UPDATE_GOLDEN") && streq(getenv("RVMSI_UPDATE_GOLDEN"), "1");
        char path[1024], bus_arg[600], *line, *save = NULL;
        unsigned n = 0, failed = 0;

        ASSERT_NOT_NULL(data);
        ASSERT_NOT_NULL(ctl);
        snprintf(path, sizeof(path), "%s/cli/host.json", data);
        harness_start(&h, path);
        snprintf(bus_arg, sizeof(bus_arg), "--bus=%s", h.address);

        snprintf(path, sizeof(path), "%s/cli/cases", data);
        ASSERT_OK(read_full_file(path, 1 << 20, &cases, NULL));

        for (line = strtok_r(cases, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *got = NULL, *want = NULL, *before = NULL, *after = NULL;
                const char *argv[32];
                char *name, *user, *w, *s2 = NULL, args[512] = "";
                size_t argc = 0;
                bool bus_given = false;
                RunResult r = {};
                int uid;

                if (line[0] == '#' || !*line)
                        continue;
                name = strtok_r(line, " ", &s2);
                user = strtok_r(NULL, " ", &s2);
                ASSERT_NOT_NULL(name);
                ASSERT_NOT_NULL(user);
                ASSERT_TRUE(streq(user, "root") || streq(user, "nobody"));
                uid = streq(user, "root") ? -1 : 65534;

                argv[argc++] = ctl;
                argv[argc++] = NULL;    /* the bus, filled below unless the case names one */
                while ((w = strtok_r(NULL, " ", &s2))) {
                        ASSERT_TRUE(argc < ELEMENTSOF(argv) - 1);
                        if (strneq(w, "--bus=", 6))
                                bus_given = true;
                        argv[argc++] = w;
                        snprintf(args + strlen(args), sizeof(args) - strlen(args), "%s%s", *args ? " " : "", w);
                }
                argv[argc] = NULL;
                if (bus_given)
                        memmove(&argv[1], &argv[2], (argc - 1) * sizeof(char *));
                else
                        argv[1] = bus_arg;

                if (uid >= 0)
                        before = harness_describe(&h);
                run_program(argv, NULL, uid, NULL, data, &r);
                got = render(args, &r);
                run_result_done(&r);
                if (uid >= 0) {
                        after = harness_describe(&h);
                        if (!streq(before, after)) {
                                fprintf(stderr, "FAIL %s: rvmsid's state changed after a call as uid 65534\n", name);
                                failed++;
                        }
                }

                snprintf(path, sizeof(path), "%s/cli/%s.out", data, name);
                if (update) {
                        ASSERT_OK(write_file_atomic(path, got, strlen(got), 0644));
                        n++;
                        continue;
                }
                if (read_full_file(path, 1 << 20, &want, NULL) < 0) {
                        fprintf(stderr, "FAIL %s: no golden file %s; got:\n%s", name, path, got);
                        failed++;
                        continue;
                }
                if (!streq(got, want)) {
                        fprintf(stderr, "FAIL %s: output differs from %s\n--- want\n%s--- got\n%s", name, path, want,
                                got);
                        failed++;
                        continue;
                }
                n++;
        }
        fprintf(stderr, "%u cases %s, %u failed\n", n, update ? "written" : "matched", failed);
        ASSERT_EQ(failed, 0u);
        ASSERT_TRUE(n >= 60);
}

/* Read from fd into buf (appending) until it contains needle or timeout_ms pass. */
static bool read_until(int fd, char *buf, size_t size, const char *needle, int timeout_ms) {
        struct timespec t0, t;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (!strstr(buf, needle)) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                size_t len = strlen(buf);
                long left;
                ssize_t n;

                clock_gettime(CLOCK_MONOTONIC, &t);
                left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
                if (left <= 0 || len + 1 >= size)
                        return false;
                if (poll(&p, 1, (int) left) <= 0)
                        continue;
                n = read(fd, buf + len, size - len - 1);
                if (n <= 0)
                        return false;
                buf[len + (size_t) n] = 0;
        }
        return true;
}

/* rvmsictl faults --follow prints a fault the moment the daemon reports it:
 * started in the background, then a forged MSI on the sim (SimulateMSI()). */
TEST(faults_follow) {
        _cleanup_(harness_stop) Harness h;
        const char *data = getenv("RVMSI_TEST_DATA"), *ctl = getenv("RVMSICTL");
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        char path[1024], bus_arg[600], out[8192] = "";
        int fds[2], status;
        pid_t pid;

        ASSERT_NOT_NULL(data);
        ASSERT_NOT_NULL(ctl);
        snprintf(path, sizeof(path), "%s/cli/host.json", data);
        harness_start(&h, path);
        snprintf(bus_arg, sizeof(bus_arg), "--bus=%s", h.address);

        ASSERT_OK(pipe2(fds, O_CLOEXEC));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                (void) dup2(fds[1], STDOUT_FILENO);
                /* the timeout: never outlive the test, whatever happens to it */
                alarm(30);
                execl(ctl, "rvmsictl", bus_arg, "faults", "--follow", (char *) NULL);
                _exit(127);
        }
        close(fds[1]);

        /* The header comes after the subscription and the Describe(): from now on nothing is missed. */
        if (!read_until(fds[0], out, sizeof(out), "TARGET", 10000))
                TEST_FAIL("rvmsictl faults --follow printed no header: '%s'", out);
        ASSERT_TRUE(strstr(out, "0000:07:00.0") == NULL);

        /* a device nobody owns (blocked) writes to hart 2's S-level file */
        ASSERT_OK(sd_bus_call_method(h.bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "AttachDevice",
                                     &e, NULL, "sss", "0000:07:00.0", "none", ""));
        ASSERT_OK(sd_bus_call_method(h.bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "SimulateMSI",
                                     &e, &reply, "suuuu", "0000:07:00.0", 0, 2, 0, 9));
        sd_bus_message_unref(reply);

        if (!read_until(fds[0], out, sizeof(out), "hart:2\n", 10000))
                TEST_FAIL("rvmsictl faults --follow did not print the fault: '%s'", out);
        ASSERT_TRUE(strstr(out, "0000:07:00.0  262 MSI PTE not valid") != NULL);

        /* still following: it has not exited on its own */
        ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
        ASSERT_OK(kill(pid, SIGTERM));
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
        close(fds[0]);
}

DEFINE_TEST_MAIN
