/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU lists as people and libvirt write them: "0-3,6,^2" (ranges, single
 * CPUs, ^N excludes). Shared by rvmsictl (vm register --pin) and the libvirt
 * hook (<vcpupin cpuset=>, <vcpu cpuset=>).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Largest CPU number accepted (exclusive); rvmsid checks against the real host. */
#define CPULIST_MAX 4096

/*
 * Parse s into a sorted list of distinct CPUs. Returns the number of CPUs
 * (>= 0, may be 0 when everything is excluded), -EINVAL on a syntax error,
 * -ERANGE on a CPU >= CPULIST_MAX or a backwards range, -ENOMEM.
 * *ret is malloc()ed (or NULL when empty).
 */
int cpulist_parse(const char *s, uint32_t **ret);
