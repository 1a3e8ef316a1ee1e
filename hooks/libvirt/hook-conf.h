/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /etc/rvmsi/hook.conf: how the libvirt hook behaves. "key=value" lines,
 * '#' starts a comment. Keys:
 *   strict=no|yes   yes: a VM does not start (prepare/start/migrate fail)
 *                   unless rvmsid confirmed its MSI setup; no (default): only
 *                   an isolation class that cannot be met stops a VM, and a
 *                   missing rvmsid is a warning
 *   timeout=SECONDS how long one D-Bus call may take (default 5, max 60)
 *   bus=system|ADDRESS  where rvmsid is (default system; tests use an address)
 *   journal=yes|no  also log to the journal (default yes)
 *   verbose=no|yes  warnings on stderr too, not only in the journal
 * The environment overrides the file: RVMSI_HOOK_CONF (another file),
 * RVMSI_HOOK_STRICT, RVMSI_HOOK_BUS. libvirtd runs hooks with a cleaned
 * environment, so these only matter for tests and manual runs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct HookConfig {
        bool strict;
        uint64_t timeout_usec;
        char bus[512];
        bool journal;
        bool verbose;
} HookConfig;

/* Defaults, then the file (missing is fine), then the environment. Returns
 * -EINVAL with the file, line and reason in errbuf for a bad file. */
int hook_config_load(HookConfig *c, char *errbuf, size_t errlen);
