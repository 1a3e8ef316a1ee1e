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

/* DeviceState from a parsed DEV_GET reply; entries keyed by global hart.
 * Exposed for unit tests. */
int backend_kernel_device_state(const Geometry *g, const KernelDevice *kd, DeviceState *ret);
