/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt hook's domain XML parser (hooks/libvirt/domain-xml.c): libvirt
 * feeds the hook the domain XML on stdin, and a guest's owner writes much of
 * it. Properties of every accepted document: a name, a canonical UUID, pins
 * sorted by vCPU with each vCPU once and below the vCPU count, host device
 * addresses in canonical DDDD:BB:DD.F form. A rejection carries a reason.
 */

#include <ctype.h>
#include <string.h>

#include "domain-xml.h"
#include "fuzz.h"

static bool pci_canonical(const char *s) {
        /* DDDD:BB:DD.F, lower-case hex */
        static const char shape[] = "hhhh:hh:hh.h";

        if (strlen(s) != sizeof(shape) - 1)
                return false;
        for (size_t i = 0; shape[i]; i++)
                if (shape[i] == 'h' ? !(isdigit((unsigned char) s[i]) || (s[i] >= 'a' && s[i] <= 'f')) : s[i] != shape[i])
                        return false;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(domain_info_freep) DomainInfo *d = NULL;
        char err[512] = "";
        int r;

        if (size > FUZZ_MAX_INPUT)
                return 0;
        r = domain_parse((const char *) data, size, &d, err, sizeof(err));
        if (r < 0) {
                if (getenv("FUZZ_VERBOSE"))
                        fprintf(stderr, "rejected: %s\n", err);
                FUZZ_CHECK(!d);
                FUZZ_CHECK(r == -ENOMEM || (r == -EINVAL && err[0] != '\0'));
                return 0;
        }
        FUZZ_CHECK(d && d->name && d->name[0] != '\0');
        FUZZ_CHECK(strlen(d->uuid) == 36);
        FUZZ_CHECK(d->vcpus > 0);
        for (size_t i = 0; i < d->n_pins; i++) {
                FUZZ_CHECK(d->pins[i].vcpu < d->vcpus);
                FUZZ_CHECK(i == 0 || d->pins[i - 1].vcpu < d->pins[i].vcpu);
                FUZZ_CHECK(d->pins[i].n_cpus == 0 || d->pins[i].cpus);
        }
        for (size_t i = 0; i < d->n_hostdevs; i++)
                FUZZ_CHECK(pci_canonical(d->hostdevs[i].pci));
        FUZZ_CHECK(memchr(d->klass, '\0', sizeof(d->klass)));
        return 0;
}
