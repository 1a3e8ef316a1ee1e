/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host IRQ affinity of the devices rvmsid manages: which IRQs a PCI device
 * has (sysfs msi_irqs/) and where each is delivered now
 * (/proc/irq/N/effective_affinity_list). With the kernel part present, the
 * kernel sends an ENTRY_NTF (reason AFFINITY) whenever it moved a device's
 * identity entries, and the daemon re-reads that device only; without
 * events (or with --affinity=poll) a timer re-reads every device.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "manager.h"

#define IRQ_POLL_INTERVAL_USEC (2 * 1000 * 1000ULL)

int irq_watch_new(Manager *m, bool poll, IrqWatch **ret);
IrqWatch *irq_watch_free(IrqWatch *w);
/* Re-read one device and update the model (marking it dirty if it changed). */
int irq_watch_refresh_device(IrqWatch *w, const char *name);
/* Re-read every device of the model: after lost events, any of them may have moved. */
void irq_watch_refresh_all(IrqWatch *w);

/*
 * Pure reader (unit-tested against a fake tree): root is prepended to /sys
 * and /proc ("" on a real host). Vectors come sorted by IRQ number, each
 * with the hart of the first CPU of its effective affinity (NO_HART if that
 * CPU is no hart of the model) and vcpu NO_HART. -ENOENT if the device does
 * not exist; 0 vectors if it has no MSI IRQs.
 */
int irq_read_device_vectors(const char *root, const Model *m, const char *name, Vector **ret, uint32_t *ret_n);

/* Parse the first CPU of a cpulist ("3", "0-3,8"); -EINVAL if none. */
int cpulist_first(const char *s, int32_t *ret);
