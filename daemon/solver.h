/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The solver: a pure, deterministic function (Model, Policy) -> Desired, the
 * desired mode of every device and the desired entry of every (device,
 * target), each with a reason code for `explain`, plus the guest file every
 * vCPU should hold. How decisions are made (classes, priority, fairness,
 * fallback) is documented in docs/solver.md.
 *
 * Guest files are allocated per hart, and the allocation on one hart depends
 * only on the vCPUs placed there; a device's decision depends only on the
 * device, its owner VM and that VM's vCPU grants. That locality is what makes
 * solver_update_vm() / solver_update_device() exact: after any sequence of
 * updates the Desired is identical to a full solver_compute() (tested).
 */
#pragma once

#include <json-c/json.h>

#include "model.h"
#include "policy.h"
#include "poshint.h"
#include "strset.h"

typedef enum ReasonCode {
        REASON_NONE = 0,
        REASON_OWNER_DEFAULT,           /* non-VM owner: the policy's mode for that owner kind */
        REASON_NO_OWNER,                /* owner none: blocked */
        REASON_VM_UNKNOWN,              /* owner VM not registered: blocked */
        REASON_VM_NOT_ACTIVE,           /* owner VM defined/stopped: blocked */
        REASON_GUEST_FILE,              /* the vCPU holds a guest file: direct injection */
        REASON_FALLBACK_NO_GUEST_FILE,  /* all guest files of the vCPU's hart went to higher-ranked vCPUs */
        REASON_FALLBACK_VCPU_NOT_RESIDENT, /* the vCPU is not on any hart (paused, migrating, not placed) */
        REASON_FALLBACK_VM_LIMIT,       /* the VM's max_guest_files limit excludes this vCPU */
        REASON_FALLBACK_NO_GUEST_CAP,   /* the IOMMU has no guest-file delivery */
        REASON_FALLBACK_NO_GEILEN,      /* the host has no guest files at all */
        REASON_REQUIREMENT_UNMET,       /* violation: nothing the class allows is possible; blocked */
        REASON_LOCKED,                  /* isolation lock: identity not allowed, MRIF or blocked */
        REASON_NO_MRIF_CAP,             /* wanted MRIF, IOMMU lacks MSI_MRIF */
        REASON_NO_TARGET,               /* device has no routed vectors */
        REASON_NO_MSI_TABLE,            /* the IOMMU has no MSI page table for it (mode off) */
        REASON_MRIF_NOT_ALLOWED,        /* policy: mrif_fallback is false */
        REASON_TABLE_SHARED,            /* the MSI table is shared with other devices: not managed (mode off) */
        _REASON_MAX,
} ReasonCode;

const char *reason_to_string(ReasonCode r) _const_;    /* short, stable code, e.g. "fallback-no-guest-file" */
const char *reason_describe(ReasonCode r) _const_;     /* one human sentence */

/*
 * Whether the backend's state of a device equals the decision (desired
 * states only; set by the reconciler after each run that planned the device,
 * reset to APPLY_PENDING whenever the solver re-decides it).
 */
typedef enum ApplyState {
        APPLY_PENDING = 0,      /* not read back since decided, or read back and still different */
        APPLY_DONE,             /* read back after the last change: equal to the decision */
        APPLY_FAILED,           /* the backend refused the operation (apply_error) */
        APPLY_UNSUPPORTED,      /* the backend has no MSI table for the device, or cannot take the mode */
        _APPLY_STATE_MAX,
} ApplyState;

const char *apply_state_to_string(ApplyState s) _const_;

/* Per device: the desired mode and entries; also used for the actual state read from a backend. */
typedef struct DeviceState {
        char name[DEVICE_NAME_MAX];
        DeliveryMode mode;
        /*
         * For MODE_GUEST_FILE: what a target without a guest file gets
         * (ENTRY_MRIF, ENTRY_HOST_FILE or ENTRY_BLOCKED). The kernel applies it
         * itself when a vCPU loses its file; ENTRY_BLOCKED otherwise.
         */
        EntryKind fallback;
        Isolation isolation;
        uint8_t reason;                 /* ReasonCode for the device as a whole */
        bool violation;                 /* some entry is REASON_REQUIREMENT_UNMET */
        uint64_t caps;
        bool locked;
        bool user_bound;                /* read-back only: bound to a userspace driver (iommufd/VFIO) */
        uint8_t apply_state;            /* ApplyState (desired states only) */
        int32_t apply_error;            /* APPLY_FAILED: the operation's negative errno */
        Entry *entries;                 /* sorted by target */
        uint32_t n_entries;
} DeviceState;

void device_state_done(DeviceState *s);

/* A set of DeviceStates sorted by name. */
typedef struct DeviceTable {
        DeviceState *devices;
        size_t n_devices, n_allocated;
} DeviceTable;

DeviceTable *device_table_free(DeviceTable *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(DeviceTable *, device_table_free);
int device_table_new(DeviceTable **ret);
/* Insert or replace (by name; keeps the table sorted). Takes ownership of s->entries. */
int device_table_put(DeviceTable *t, DeviceState *s);
int device_table_remove(DeviceTable *t, const char *name);
DeviceState *device_table_find(const DeviceTable *t, const char *name);
int device_table_copy(const DeviceTable *t, DeviceTable **ret);

/* The guest file a vCPU should hold (desired) or holds (actual). */
typedef struct VcpuGrant {
        uint32_t hart;                  /* hart the vCPU is placed on, NO_HART if none */
        uint8_t guest;                  /* guest file on that hart, 1..63; 0 = none */
        uint8_t reason;                 /* ReasonCode */
        /*
         * Desired only: what the solver decided this grant from (the vCPU's reason not to compete or 0, its held
         * file, class rank and priority), so that an update re-solves only the harts where something changed.
         */
        uint8_t seen_reason;
        uint8_t seen_held;
        uint8_t seen_rank;
        int32_t seen_priority;
} VcpuGrant;

typedef struct VmGrants {
        char uuid[UUID_STRING_MAX];
        uint32_t nr_vcpus;
        VcpuGrant *vcpus;
} VmGrants;

/*
 * What the last solve of one hart left, kept so that an update can skip the contest where it cannot change
 * anything (solver_update_vms()): a hart where every competing vCPU won and holds the file it was granted keeps
 * every one of them where it is when a vCPU stops competing, and a vCPU that starts to compete only takes a free
 * file.
 */
typedef struct HartSummary {
        uint64_t granted;               /* bit g: guest file g is granted to a competing vCPU */
        uint16_t n_candidates;          /* vCPUs competing for the hart's files */
        /*
         * Candidates without a file, or granted one they did not hold yet; the hart is settled at 0.
         * HART_UNSETTLED: not known, solve the hart in full next time.
         */
        uint16_t n_open;
} HartSummary;

#define HART_UNSETTLED UINT16_MAX

typedef struct SolverScratch SolverScratch;

typedef struct Desired {
        Geometry geometry;
        DeviceTable devices;
        VmGrants *vms;                  /* sorted by uuid, one per registered VM */
        size_t n_vms;
        size_t n_violations;            /* entries with ENTRY_FLAG_VIOLATION */
        /*
         * The solver's own: where in vms each model VM (by address) and each UUID, and in devices each name, was
         * last found (hints).
         */
        PosHint vm_hint, uuid_hint, device_hint;
        HartSummary *harts;             /* geometry.nr_harts of them; NULL: solve every hart in full */
        SolverScratch *scratch;         /* the solver's own: an update's working memory */
        size_t n_harts_settled;         /* harts an update settled without a contest (statistics) */
} Desired;

Desired *desired_free(Desired *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Desired *, desired_free);
const VmGrants *desired_find_vm(const Desired *d, const char *uuid);
/* device_table_find(&d->devices, name), faster on repeated lookups at a large host (a hint kept in d). */
DeviceState *desired_find_device(const Desired *d, const char *name);

/* Full solve. */
int solver_compute(const Model *m, const Policy *p, Desired **ret);
/*
 * Incremental re-solve after a change to one VM (placement, state, class,
 * priority, registration or removal) or one device (owner, vectors,
 * affinity, caps, lock, add/remove). The model must be the same one (with the
 * change applied) the Desired was computed from, with no other change in
 * between. Returns the number of device decisions that changed (>= 0).
 */
int solver_update_vm(const Model *m, const Policy *p, Desired *d, const char *uuid);
int solver_update_device(const Model *m, const Policy *p, Desired *d, const char *name);
/*
 * Incremental re-solve after changes to several VMs at once (a coalesced burst: the model has all of them
 * applied), each as for solver_update_vm(). Adds to changed_devices every device of the batch's VMs and the
 * other devices whose decision changed, and to changed_vms every VM of the batch (gone ones too) and the VMs whose
 * vCPU grants changed (either may be NULL), so that the reconciler can read back and plan only those. Updating the VMs one by one instead is not the same: solving a hart for one
 * VM rewrites the grants of another VM's vCPUs that moved there, and that VM's update would lose the hart they
 * left. Returns the number of device decisions that changed (>= 0).
 */
int solver_update_vms(const Model *m, const Policy *p, Desired *d, char *const *uuids, StrSet *changed_devices,
                      StrSet *changed_vms);

/*
 * The reconciler applied a grant or a release and recorded the guest file the vCPU holds now
 * (vm->vcpus[vcpu].guest_file). A winner that now holds the file it was granted settles its hart again.
 */
void solver_note_held(Desired *d, const Vm *vm, uint32_t vcpu);

/* Human explanation of one entry (or of the device when e is NULL). *ret is heap-allocated. */
int solver_explain(const Model *m, const Policy *p, const DeviceState *s, const Entry *e, char **ret);

/* Deterministic JSON: same Desired, same bytes. */
int desired_to_json(const Desired *d, json_object **ret);
int device_state_to_json(const DeviceState *s, json_object **ret);
