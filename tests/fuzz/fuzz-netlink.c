/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Messages of the "rvmsi" generic netlink family as the daemon receives
 * them (daemon/backend-kernel-msg.c): replies to HOST_GET and DEV_GET, and
 * ENTRY_NTF / FAULT_NTF events. The kernel is trusted, but a parser bug here
 * is a daemon crash on any malformed or future message, so every parser
 * gets every input. libnl has checked nlmsg_len against the datagram before
 * these parsers run; the harness does the same by setting it to the input
 * size.
 */

#include <string.h>

#include <netlink/genl/genl.h>

#include "backend-kernel-msg.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct nlmsghdr *nlh;
        KernelHost h;
        KernelDevice d = {};
        KernelFault f;
        uint8_t cmd;
        int r;

        if (size < NLMSG_HDRLEN || size > 65536)
                return 0;
        /* Netlink messages are 4-byte aligned in the receive buffer. */
        nlh = malloc(size);
        if (!nlh)
                return 0;
        memcpy(nlh, data, size);
        nlh->nlmsg_len = (uint32_t) size;

        (void) kmsg_get_cmd(nlh, &cmd);
        r = kmsg_parse_host(nlh, &h);
        FUZZ_CHECK(r <= 0);
        r = kmsg_parse_dev(nlh, &d);
        FUZZ_CHECK(r <= 0);
        if (r == 0) {
                FUZZ_CHECK(memchr(d.name, '\0', sizeof(d.name)));
                FUZZ_CHECK(d.n_entries == 0 || d.entries);
                for (size_t i = 1; i < d.n_entries; i++)
                        FUZZ_CHECK(d.entries[i - 1].index < d.entries[i].index);
        }
        kernel_device_done(&d);
        r = kmsg_parse_fault(nlh, &f);
        FUZZ_CHECK(r <= 0);
        if (r == 0)
                FUZZ_CHECK(memchr(f.dev_name, '\0', sizeof(f.dev_name)));
        free(nlh);
        return 0;
}
