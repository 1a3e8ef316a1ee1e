/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulated backend: an in-process model of the hardware and the kernel
 * part, built on lib/msi so that it shares the kernel's bit semantics. Every
 * device has a real MSI page table (msi_addr_mask/pattern from the IMSIC
 * geometry, 16-byte PTEs encoded and decoded by lib/msi), MRIF images are
 * updated by lib/msi's write rules, and forged writes are translated exactly
 * as the IOMMU would, faulting with cause 262 on invalid entries.
 *
 * The sim also owns "the world": which devices exist with which IRQs and
 * affinity, and where KVM runs each vCPU (sim_world()). Tests and scenario
 * files change the world with the sim_* calls below; the sim reacts the way
 * the kernel does (identity entries follow affinity, mapping the new file
 * before unmapping the old; guest-file entries follow their vCPU or fall back)
 * and emits backend events. The daemon's own Model is separate: it learns
 * about the world only through events and watchers, as it would on a host.
 *
 * Every reachability window (device -> file, from time t0 to t1 on the sim's
 * logical clock) is recorded and checked as it opens and whenever a guest
 * file changes hands: a device may reach only its own MRIFs, guest files held
 * by vCPUs of its owner VM, and host S-level files in the effective affinity
 * of its own IRQs (never when locked).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "model.h"

extern const BackendOps backend_sim_ops;

typedef struct Sim Sim;

/*
 * args for backend_new(&backend_sim_ops, args, ...): NULL for the default
 * host (1 group, 4 harts, 5 guest files, 255 ids, like the lab's QEMU), or
 * "groups=G,harts=H,guests=N,ids=I" (any subset).
 */
int backend_sim_new(const Geometry *g, Backend **ret);
/* The sim behind a backend, NULL if b is not a sim. */
Sim *backend_sim(Backend *b);

const Model *sim_world(const Sim *s);
uint64_t sim_now(const Sim *s);

/* World changes (each emits the events the kernel / KVM would). */
int sim_add_device(Sim *s, const char *name, uint64_t caps);
int sim_remove_device(Sim *s, const char *name);
int sim_device_set_owner(Sim *s, const char *name, OwnerKind owner, const char *key);
int sim_device_set_locked(Sim *s, const char *name, bool locked);
int sim_device_set_vectors(Sim *s, const char *name, uint32_t n, const Vector *vectors);
int sim_set_affinity(Sim *s, const char *name, uint32_t vector, uint32_t hart);
int sim_add_vm(Sim *s, const char *uuid, const char *name, uint32_t nr_vcpus);
int sim_remove_vm(Sim *s, const char *uuid);
int sim_vm_set_state(Sim *s, const char *uuid, VmState state);
/* KVM moves a vCPU: it drops its guest file and takes a free one on the new hart, if any. */
int sim_vcpu_move(Sim *s, const char *uuid, uint32_t vcpu, uint32_t hart);
int sim_set_hart_reserved(Sim *s, uint32_t hart, uint64_t reserved_files);

typedef enum SimMsiOutcome {
        SIM_MSI_DELIVERED,      /* reached an interrupt file (basic-mode entry) */
        SIM_MSI_MRIF,           /* recorded in an MRIF, notice sent */
        SIM_MSI_DISCARDED,      /* MRIF write rules dropped it */
        SIM_MSI_FAULT,          /* faulted; cause set */
        SIM_MSI_NOT_MSI,        /* address outside the MSI window: regular DMA, not modelled */
        _SIM_MSI_OUTCOME_MAX,
} SimMsiOutcome;

const char *sim_msi_outcome_to_string(SimMsiOutcome o) _const_;

typedef struct SimMsiResult {
        SimMsiOutcome outcome;
        uint32_t cause;         /* FAULT */
        uint32_t hart;          /* DELIVERED: file reached */
        uint8_t guest;
        uint32_t id;            /* identity raised / recorded */
} SimMsiResult;

/* The address in the device's MSI window that names target (TARGET_HART/TARGET_VCPU). */
int sim_target_addr(const Sim *s, const char *device, uint32_t target, uint64_t *ret_addr);
/* The address of interrupt file (group, hart within the group, guest: 0 = S-level) in the device's MSI space. */
int sim_file_addr(const Sim *s, const char *device, uint32_t group, uint32_t hart, uint32_t guest, uint64_t *ret_addr);
/* The device DMA-writes 32-bit data to addr (as an MSI would, or as a forged one). */
int sim_msi_write(Sim *s, const char *device, uint64_t addr, uint32_t data, SimMsiResult *ret);

typedef struct SimWindow {
        char device[DEVICE_NAME_MAX];
        uint32_t target;
        uint8_t kind;           /* EntryKind: HOST_FILE, GUEST_FILE or MRIF */
        uint32_t hart;
        uint8_t guest;
        uint64_t from, to;      /* to == UINT64_MAX: still open */
} SimWindow;

/*
 * Keep a log of every window (default) or not: the ownership checks run
 * either way, but at bench scale the log would grow with every PTE write.
 */
void sim_set_record_windows(Sim *s, bool record);
size_t sim_n_windows(const Sim *s);
const SimWindow *sim_window(const Sim *s, size_t i);
/*
 * Fault injection for tests of the checks themselves: write one entry as a
 * buggy kernel might, bypassing every rule above (the device's mode is not
 * changed). A destination the device's owner does not own is counted as a
 * violation the moment it is mapped.
 */
int sim_inject_entry(Sim *s, const char *device, uint32_t target, EntryKind kind, uint32_t hart, uint8_t guest);

/* Invariant violations seen so far (0: none). ret_first (optional) describes the first one. */
size_t sim_n_violations(const Sim *s, const char **ret_first);
/* Counters: PTE writes, faults, MRIF notices, delivered MSIs. */
typedef struct SimCounters {
        uint64_t pte_writes;
        uint64_t faults;
        uint64_t notices;
        uint64_t delivered;
        uint64_t ops_applied;
} SimCounters;
void sim_get_counters(const Sim *s, SimCounters *ret);

/*
 * Persistence, for crash tests and what-if runs (docs/crash.md). The kernel's
 * MSI tables outlive rvmsid; a persisted sim's do too. Its whole state (the
 * world: harts, VMs with where each vCPU runs and the guest file it holds,
 * devices with owner, lock and IRQs; the hardware: every device's mode and
 * entries with their MRIF images; the clock, counters and invariant
 * violations) is written to PATH after every operation and every world
 * change, replacing the file with a rename, so that a process killed at any
 * instant leaves a whole state behind. Every reachability window is appended
 * to PATH.windows as it opens ("open I DEVICE TARGET KIND HART GUEST OWNER-VM
 * FROM") and closes ("close I TO"); the state names how many lines of the log
 * are its own, and a restore cuts off the rest.
 *
 * A sim opened on an existing PATH continues from it: same geometry (args,
 * if given, must repeat it), same tables, same clock, the violations so far,
 * and the invariant checks go on across the restart. Before its first dump
 * it emits, once, an ENTRY_CHANGED for every device and a VCPU_CHANGED for
 * every vCPU: how a new daemon learns the IRQs and vCPUs of a host that was
 * there before it.
 *
 * backend_sim_set_next(): the next sim backend opened in this process (and
 * only that one) persists to persist_path (NULL: not persisted) and, if
 * crash_after_ops > 0, raises SIGKILL right after its crash_after_ops-th
 * successful operation of this process, the operation done and saved
 * (rvmsid's RVMSI_TEST_CRASH_AFTER_OPS). Sims opened later (Plan()'s
 * what-if sims) are never affected.
 */
void backend_sim_set_next(const char *persist_path, uint64_t crash_after_ops);
/* The file this sim persists to, NULL if none. */
const char *sim_persist_path(const Sim *s);
/* Operations applied by this sim since it was opened (not since the persisted host began). */
uint64_t sim_ops_this_process(const Sim *s);
