/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The socket side of the kernel backend: two libnl-genl sockets to the
 * "rvmsi" family, one for requests and dumps, one for the "events"
 * multicast group, the latter non-blocking: its fd goes on the daemon's
 * sd-event loop, which calls kernel_link_process_events() when it is
 * readable. Everything it returns is -errno; libnl codes are converted here.
 */
#pragma once

#include <stddef.h>

#include <stdbool.h>

#include "backend-kernel-msg.h"
#include "macro.h"

typedef struct KernelLink KernelLink;

typedef struct KernelLinkCallbacks {
        /* An ENTRY_NTF event; the device is only valid during the call. */
        void (*entry)(const KernelDevice *d, void *userdata);
        void (*fault)(const KernelFault *f, void *userdata);
        /* Events were lost (socket overflow) or unparseable: re-dump all. */
        void (*overflow)(void *userdata);
} KernelLinkCallbacks;

/*
 * Resolve the family and its group by name and connect. Returns
 * -EPROTONOSUPPORT when the family does not exist (kernel without rvmsi),
 * -ENOENT when it has no "events" group. events: also open the
 * notification socket.
 */
int kernel_link_open(bool events, const KernelLinkCallbacks *cb, void *userdata, KernelLink **ret);
/* The notification socket's fd (non-blocking), -EOPNOTSUPP without events. */
int kernel_link_get_event_fd(KernelLink *l);
/* Read and dispatch every queued event; returns 0 when drained. */
int kernel_link_process_events(KernelLink *l);
KernelLink *kernel_link_free(KernelLink *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(KernelLink *, kernel_link_free);

int kernel_link_host_get(KernelLink *l, KernelHost *ret);
/* Dump every device; redone (up to a few times) when the kernel reports
 * that the dump was interrupted by a change. *ret is an array of n devices,
 * free each with kernel_device_done() and the array with free(). */
int kernel_link_dump(KernelLink *l, KernelDevice **ret, size_t *ret_n);
/* One device (a DEV_GET "do" request). -ENODEV when the kernel has no MSI
 * page table for it. Free *ret with kernel_device_done(). */
int kernel_link_dev_get(KernelLink *l, const char *name, KernelDevice *ret);
/* mode/locked < 0: leave unchanged. Returns the kernel's -errno, and its
 * extended-ack message (if any) in ret_msg (caller frees; may be NULL). */
int kernel_link_dev_set(KernelLink *l, const char *name, int mode, int locked, char **ret_msg);
