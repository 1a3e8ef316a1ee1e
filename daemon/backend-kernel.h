/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel backend: the rvmsi generic netlink family (kernel-link.c)
 * behind the BackendOps interface. The iommufd ioctls of the uAPI are for
 * VMMs, which hold the devices' iommufds; the daemon, as administrator,
 * uses netlink only. Guest-file operations are not offered
 * (BACKEND_FEATURE_GUEST_FILES is off): vCPU guest files are KVM's, and the
 * kernel moves guest-file entries along with them.
 *
 * open() fails with -EPROTONOSUPPORT when the kernel has no rvmsi family:
 * the daemon says so and exits; it never falls back to the sim by itself.
 */
#pragma once

#include "backend.h"
#include "backend-kernel-msg.h"

extern const BackendOps backend_kernel_ops;

/*
 * Which Linux CPU owns each hart, as the kernel's entries report it
 * (RVMSI_A_ENTRY_CPU); IMSIC hart order need not be CPU order. Copies
 * every hart learned from the last dump into the model; returns how many
 * changed (>= 0), 0 for a backend that is not the kernel's.
 */
int backend_kernel_sync_hart_cpus(Backend *b, Model *m);

/* DeviceState from a parsed DEV_GET reply; entries keyed by global hart.
 * Exposed for unit tests. */
int backend_kernel_device_state(const Geometry *g, const KernelDevice *kd, DeviceState *ret);
