/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt hook's configuration file (hooks/libvirt/hook-conf.c), read
 * from the path in RVMSI_HOOK_CONF as the hook does: the input is written to
 * a temporary file first (the parser reads files only; the file is unlinked
 * at once and named through /proc/self/fd). Accepted files give a timeout
 * above 0 and at most the documented 60 s, and a NUL-terminated bus address.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "hook-conf.h"

static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        HookConfig c = {};
        char err[512] = "";
        int r;

        if (size > 64U * 1024U)
                return 0;
        if (fd < 0) {
                char path[] = "/tmp/rvmsi-fuzz-hook-conf-XXXXXX", self[64];

                /* Unlinked at once and read through /proc: nothing is left behind however the run ends. */
                fd = mkstemp(path);
                FUZZ_CHECK(fd >= 0);
                FUZZ_CHECK(unlink(path) == 0);
                snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
                FUZZ_CHECK(setenv("RVMSI_HOOK_CONF", self, 1) == 0);
                (void) unsetenv("RVMSI_HOOK_STRICT");
                (void) unsetenv("RVMSI_HOOK_BUS");
        }
        FUZZ_CHECK(ftruncate(fd, 0) == 0);
        FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t) size);

        r = hook_config_load(&c, err, sizeof(err));
        if (r < 0) {
                if (getenv("FUZZ_VERBOSE"))
                        fprintf(stderr, "rejected: %s\n", err);
                FUZZ_CHECK(r == -ENOMEM || err[0] != '\0');
                return 0;
        }
        FUZZ_CHECK(c.timeout_usec > 0 && c.timeout_usec <= 60000000U);
        FUZZ_CHECK(memchr(c.bus, '\0', sizeof(c.bus)));
        return 0;
}
