/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the rvmsi libvirt hook needs from a domain XML document (libvirt's
 * formatdomain): name, UUID, vCPU count and pinning, PCI host devices, and
 * the rvmsi policy in <metadata>:
 *
 *   <metadata>
 *     <rvmsi:policy xmlns:rvmsi="https://rvmsi.invalid/xmlns/1" class="strict" priority="10"/>
 *   </metadata>
 *
 * The namespace URI is a name, not a web address: nothing is fetched.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define RVMSI_XMLNS "https://rvmsi.invalid/xmlns/1"

typedef struct DomainPin {
        uint32_t vcpu;
        uint32_t *cpus;
        size_t n_cpus;
} DomainPin;

typedef struct DomainHostdev {
        char pci[13];           /* DDDD:BB:DD.F, lower case */
        bool iommufd;           /* <driver iommufd='yes'/> */
        bool interface;         /* from <interface type='hostdev'> */
} DomainHostdev;

typedef struct DomainInfo {
        char *name;
        char uuid[37];
        uint32_t vcpus;         /* <vcpu> maximum: every vCPU the guest may ever have */
        DomainPin *pins;        /* sorted by vCPU, each vCPU at most once */
        size_t n_pins;
        DomainHostdev *hostdevs;
        size_t n_hostdevs;
        char klass[16];         /* "" = the policy's default */
        int32_t priority;       /* 0 = the policy's default */
        bool has_policy;        /* an rvmsi:policy element was present */
} DomainInfo;

DomainInfo *domain_info_free(DomainInfo *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(DomainInfo *, domain_info_free);

/*
 * Parse a domain XML document. On error returns -EINVAL (not XML, not a
 * domain, or a value that makes no sense; the reason, with the line where
 * it can be known, is in errbuf) or -ENOMEM.
 */
int domain_parse(const char *xml, size_t len, DomainInfo **ret, char *errbuf, size_t errlen);
