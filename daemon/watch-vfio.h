/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI devices bound to vfio-pci appearing and leaving, from udev (sd-device
 * monitor on subsystem "pci"). A device bound to vfio-pci enters the model
 * with owner "none" (blocked) until the libvirt hook or rvmsictl attaches it
 * to a VM or a userspace driver; a device that leaves vfio-pci and was
 * nobody's leaves the model. Devices attached to a VM stay: the VM's owner
 * must detach them.
 */
#pragma once

#include "manager.h"

int vfio_watch_new(Manager *m, VfioWatch **ret);
VfioWatch *vfio_watch_free(VfioWatch *w);
