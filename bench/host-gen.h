/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Generated hosts for the benchmarks and the load tests: a deterministic
 * (seeded) population of harts, VMs and devices whose shape is the same at
 * every size, so that per-pair costs can be compared across sizes. Size
 * factor k gives 16k harts x 63 guest files, 8k VMs and 64k devices x 64
 * vectors; k = 256 is the largest host of issue 6 (4,096 harts, 2,048 VMs,
 * 16,384 devices).
 *
 * Shape (per size factor, all proportional):
 *   - every 16th hart has 62 of its 63 guest files reserved by someone rvmsid
 *     does not manage, so the solver meets guest-file exhaustion and fallback;
 *   - VMs have 4..16 vCPUs, placed pseudo-randomly; 7 in 8 are running, the
 *     rest defined (not started); classes strict / balanced / performance in
 *     turn, priorities -2..2;
 *   - half of the devices are assigned to VMs (4 per VM, 64 vectors routed
 *     to the VM's vCPUs round-robin), 3/8 are host devices (64 vectors spread
 *     over up to 64 harts), 1/8 userspace drivers (MRIF by default policy).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

typedef struct HostParams {
        uint32_t nr_harts;
        uint32_t nr_guest_files;
        uint32_t nr_vms;
        uint32_t nr_devices;
        uint32_t nr_vectors;
        uint64_t seed;
} HostParams;

/* The parameters for size factor k (1..256). */
HostParams host_params(uint32_t k, uint64_t seed);

/* Deterministic PRNG (splitmix64). */
uint64_t host_rand(uint64_t *state);
static inline uint32_t host_rand_below(uint64_t *state, uint32_t n) {
        return n ? (uint32_t) (host_rand(state) % n) : 0;
}

/* Names used by the generator, also by the event generators. */
void host_vm_uuid(uint32_t i, char ret[static UUID_STRING_MAX]);
void host_device_name(uint32_t i, char ret[static DEVICE_NAME_MAX]);

/* Build the model. */
int host_generate(const HostParams *hp, Model **ret);

/* Totals of a model: (device, target) pairs and vectors. */
uint64_t host_count_pairs(const Model *m);

/*
 * The same host as a scenario file (docs/scenario.md) for rvmsid --scenario:
 * geometry, VMs (state, class, priority, placement) and devices with their
 * vectors. Guest-file reservations are left out (a scenario reserves through
 * its timeline, which would race with the vCPUs starting). compact leaves
 * out the host affinity of VM-owned vectors (used only by a host-path
 * fallback), which keeps the largest host under rvmsid's 16 MiB limit for
 * scenario files.
 */
int host_to_scenario(const Model *m, const char *name, bool compact, json_object **ret);
