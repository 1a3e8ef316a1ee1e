/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A zero-cost backend for measuring the daemon alone: it holds the "actual"
 * tables in memory and, as a kernel would, computes a device's entries when
 * its mode is set. Because computing entries from a mode needs the solver's
 * view of the world, OP_SET_MODE copies the entries of the reconciler's
 * current Desired for that device (what a correct kernel part produces), so
 * its cost is a copy, not a table walk with PTE writes and invalidations.
 *
 * The world side (what KVM and the kernel do on their own, without the
 * daemon) is mirror_world_*: a vCPU move drops the file the vCPU held, a VM
 * stop drops every file of the VM, an IRQ affinity move makes the kernel
 * re-point that device's identity entries (map new, unmap old).
 *
 * The sim backend (backend-sim.c) is the real model of the hardware; this
 * one exists so that the bench measures rvmsid's solver and reconciler, not
 * the simulation of 16,384 MSI tables.
 */
#pragma once

#include "backend.h"
#include "reconcile.h"

extern const BackendOps mirror_backend_ops;

/* The Desired that OP_SET_MODE copies from (read through the reconciler at each op). */
void mirror_backend_bind(Backend *b, const Reconciler *r, const Model *m);

int mirror_world_vcpu_moved(Backend *b, const char *uuid, uint32_t vcpu, uint32_t hart);
int mirror_world_vm_stopped(Backend *b, const char *uuid);
int mirror_world_affinity_moved(Backend *b, const char *device);

/* Bytes held by the backend's tables (the "kernel's" memory, not the daemon's). */
size_t mirror_backend_bytes(Backend *b);
