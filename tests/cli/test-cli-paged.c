/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsictl on a host whose Describe() is over the reply limit: it reads the
 * host in pages with DescribeSelected() and prints exactly what it prints
 * for the same host read in one reply.
 *
 * Two rvmsid on the sim, each on its own private bus, both started with
 * tests/data/cli/host.json: one as usual, one with --describe-max far below
 * that host's description (through a wrapper script in RVMSID, since the
 * harness starts rvmsid with fixed arguments). Every reading verb must give
 * the same standard output, standard error and exit status on both, as root
 * and as uid 65534, and 'status --json' on the small-limit daemon must be
 * byte-identical to the other daemon's Describe().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-names.h"
#include "fileio.h"
#include "harness.h"
#include "macro.h"
#include "run.h"
#include "tests.h"

/* The host's Describe() is about 6 KB; one page of one device and one VM with every other section fits. */
#define SMALL_DESCRIBE_MAX 4096

static void start_small(Harness *h, const char *host, unsigned describe_max, char wrapper[static 512]) {
        _cleanup_free_ char *script = NULL;
        const char *real = getenv("RVMSID");
        char *saved;

        ASSERT_NOT_NULL(real);
        saved = strdup(real);
        ASSERT_NOT_NULL(saved);
        snprintf(wrapper, 512, "%s/rvmsid-small-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        ASSERT_TRUE(mkdtemp(wrapper) != NULL);
        ASSERT_OK(chmod(wrapper, 0755));
        strcat(wrapper, "/rvmsid");
        ASSERT_TRUE(asprintf(&script, "#!/bin/sh\nexec '%s' --describe-max=%u \"$@\"\n", real, describe_max) >= 0);
        ASSERT_OK(write_file_atomic(wrapper, script, strlen(script), 0755));

        ASSERT_OK(setenv("RVMSID", wrapper, 1));
        harness_start(h, host);
        ASSERT_OK(setenv("RVMSID", saved, 1));
        free(saved);
}

static void remove_wrapper(char wrapper[static 512]) {
        (void) unlink(wrapper);
        *strrchr(wrapper, '/') = 0;
        (void) rmdir(wrapper);
}

static void run_ctl(const Harness *h, const char *const *args, int uid, RunResult *ret) {
        const char *data = getenv("RVMSI_TEST_DATA"), *ctl = getenv("RVMSICTL");
        const char *argv[16];
        char bus_arg[600];
        size_t n = 0;

        ASSERT_NOT_NULL(data);
        ASSERT_NOT_NULL(ctl);
        snprintf(bus_arg, sizeof(bus_arg), "--bus=%s", h->address);
        argv[n++] = ctl;
        argv[n++] = bus_arg;
        for (; *args; args++) {
                ASSERT_TRUE(n < ELEMENTSOF(argv) - 1);
                argv[n++] = *args;
        }
        argv[n] = NULL;
        run_program(argv, NULL, uid, NULL, data, ret);
}

TEST(paged_read_equals_one_reply) {
        _cleanup_(harness_stop) Harness whole, small;
        _cleanup_free_ char *describe = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *data = getenv("RVMSI_TEST_DATA");
        char host[1024], wrapper[512];
        static const char *const cases[][6] = {
                { "devices", NULL },
                { "--json", "devices", NULL },
                { "--no-legend", "devices", NULL },
                { "vms", NULL },
                { "--json", "vms", NULL },
                { "--json", "status", NULL },
                { "faults", NULL },
                { "--json", "faults", NULL },
                { "show", "0000:01:00.0", NULL },
                { "show", "0000:02:00.0", NULL },
                { "--json", "show", "0000:03:00.0", NULL },
                { "show", "web1", NULL },
                { "show", "22222222-0000-4000-8000-000000000002", NULL },
                { "show", "0000:09:00.0", NULL },
                { "show", "nosuchvm", NULL },
                { "policy", "check", "cli/policy-strict.json", NULL },
        };
        unsigned n = 0;

        ASSERT_NOT_NULL(data);
        snprintf(host, sizeof(host), "%s/cli/host.json", data);
        harness_start(&whole, host);
        start_small(&small, host, SMALL_DESCRIBE_MAX, wrapper);
        /* rvmsid runs (the script exec'd it): the wrapper has done its part */
        remove_wrapper(wrapper);

        /* The premise: this host's Describe() does not fit the small daemon's limit. */
        describe = harness_describe(&whole);
        ASSERT_TRUE(strlen(describe) > SMALL_DESCRIBE_MAX);
        ASSERT_TRUE(sd_bus_call_method(small.bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER,
                                       "Describe", &error, &reply, NULL) < 0);
        ASSERT_STREQ(error.name, RVMSI_BUS_ERROR_REPLY_TOO_LARGE);
        sd_bus_error_free(&error);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                for (int uid = -1; uid <= 65534; uid += 65535) {
                        RunResult a = {}, b = {};

                        run_ctl(&whole, cases[i], uid, &a);
                        run_ctl(&small, cases[i], uid, &b);
                        if (a.status != b.status || !streq(a.out, b.out) || !streq(a.err, b.err))
                                TEST_FAIL("rvmsictl %s%s%s (uid %d): paged output differs:\n--- one reply (exit %d)\n"
                                          "%s%s--- paged (exit %d)\n%s%s", cases[i][0], cases[i][1] ? " " : "",
                                          strempty(cases[i][1]), uid, a.status, a.out, a.err, b.status, b.out,
                                          b.err);
                        /* only a 'show' of what is not there fails (and the same way on both) */
                        ASSERT_EQ(b.status, streq(cases[i][0], "show") && (streq(cases[i][1], "0000:09:00.0") ||
                                                                          streq(cases[i][1], "nosuchvm")) ? 1 : 0);
                        if (streq(cases[i][0], "--json") && streq_ptr(cases[i][1], "status"))
                                /* the pages put together are Describe(), byte for byte */
                                ASSERT_STREQ(b.out, describe);
                        run_result_done(&a);
                        run_result_done(&b);
                        n++;
                }
        ASSERT_EQ(n, 2 * ELEMENTSOF(cases));
}

/* Where not even one device and one VM with the rest of the document fit (the policy alone is about 1 KB),
 * rvmsictl gives up with rvmsid's error, after making the pages as small as they go. */
TEST(page_of_one_too_large) {
        _cleanup_(harness_stop) Harness tiny;
        const char *data = getenv("RVMSI_TEST_DATA");
        static const char *const args[] = { "devices", NULL };
        char host[1024], wrapper[512];
        RunResult r = {};

        ASSERT_NOT_NULL(data);
        snprintf(host, sizeof(host), "%s/cli/host.json", data);
        start_small(&tiny, host, 1024, wrapper);
        remove_wrapper(wrapper);

        run_ctl(&tiny, args, -1, &r);
        ASSERT_EQ(r.status, 1);
        ASSERT_STREQ(r.out, "");
        if (!strstr(r.err, "rvmsictl: DescribeSelected: " RVMSI_BUS_ERROR_REPLY_TOO_LARGE ": ") ||
            !strstr(r.err, "'device_limit'") || !strstr(r.err, "Hint: even the smallest page"))
                TEST_FAIL("unexpected error output: %s", r.err);
        run_result_done(&r);
}

DEFINE_TEST_MAIN
