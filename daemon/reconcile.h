/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Desired vs actual -> an ordered, minimal, idempotent list of backend
 * operations, and a small driver that coalesces bursts of events.
 *
 * Order (docs/solver.md, "Reconciling"): first every OP_SET_MODE that only
 * removes reachability of files (to blocked or MRIF, or any change that adds
 * no file), then every guest-file release, then every guest-file assignment,
 * then every OP_SET_MODE that makes some file reachable. Within a phase,
 * devices by name and vCPUs by (VM UUID, index). A device whose entries and
 * mode already match gets no operation; re-planning after applying a plan
 * yields an empty plan.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "backend.h"
#include "model.h"
#include "policy.h"
#include "solver.h"

typedef struct Plan {
        Op *ops;
        size_t n_ops, n_allocated;
        size_t n_revoke;                /* ops[0..n_revoke) are the revoke phase (incl. releases) */
        size_t n_entries_differing;     /* entries (added, removed or changed) behind the ops */
} Plan;

Plan *plan_free(Plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Plan *, plan_free);

#define RECONCILE_GUEST_FILES (1U << 0) /* emit OP_VCPU_* (backend has BACKEND_FEATURE_GUEST_FILES) */

/*
 * Plan over all devices of desired and actual. Devices only in actual (not in
 * the model) are set to blocked; devices only in desired get no operation:
 * the backend does not have them (yet), so there is nothing to program, and
 * an operation bound to fail would stop plan_apply() before the others.
 */
int reconcile_plan(const Desired *desired, const Actual *actual, unsigned flags, Plan **ret);
/* Only the named devices and VMs (NULL-terminated lists, may be NULL). */
int reconcile_plan_subset(const Desired *desired, const Actual *actual, unsigned flags,
                          char *const *devices, char *const *vms, Plan **ret);
/* Does a change from actual a to desired d of one device need an op, and which phase? */
bool reconcile_device_needs_op(const DeviceState *desired, const DeviceState *actual, bool *ret_revoke);

/* Does the backend's state of a device equal the decision: same mode, same fallback in guest-file mode, same
 * non-blocked entries (blocked ones are implicit, as in the kernel's GET_ENTRIES)? */
bool reconcile_device_matches(const DeviceState *desired, const DeviceState *actual) _pure_;

int plan_to_json(const Plan *p, json_object **ret);

/*
 * Apply every op in order. Stops at the first failure (returning it, with
 * *ret_applied ops done): a failed revoke must not be followed by grants, and
 * the next resync recomputes from what really happened.
 */
int plan_apply(const Plan *p, Backend *b, size_t *ret_applied);

/*
 * The coalescing driver. The service hooks reconciler_mark_dirty() to every
 * event source and, when it returns true (first dirt since the last run),
 * enables a deferred sd-event source that calls reconciler_run() once for the
 * whole burst. reconciler_resync() does a full solve, a full dump and applies:
 * at start, after BACKEND_EVENT_OVERFLOW and on request.
 */
typedef struct Reconciler Reconciler;

typedef enum DirtyScope {
        DIRTY_ALL,
        DIRTY_VM,               /* key: VM UUID */
        DIRTY_DEVICE,           /* key: device name */
        DIRTY_POLICY,           /* the policy object was replaced: full re-solve */
        _DIRTY_SCOPE_MAX,
} DirtyScope;

typedef struct ReconcileStats {
        size_t n_ops;
        size_t n_applied;
        size_t n_revoke;
        size_t n_entries_differing;
        size_t n_violations;
        size_t n_devices_resolved;      /* device decisions recomputed */
        bool full;                      /* this was a full solve/resync */
} ReconcileStats;

/* The reconciler borrows m, *policy and b; policy is read through the pointer at each run. */
int reconciler_new(Model *m, Policy *const *policy, Backend *b, Reconciler **ret);
Reconciler *reconciler_free(Reconciler *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Reconciler *, reconciler_free);

/* Returns true if the reconciler was clean before (schedule a run), false otherwise. */
bool reconciler_mark_dirty(Reconciler *r, DirtyScope scope, const char *key);
bool reconciler_is_dirty(const Reconciler *r);
/* Solve what is dirty, read the backend, plan and apply. No-op when clean. */
int reconciler_run(Reconciler *r, ReconcileStats *ret_stats);
int reconciler_resync(Reconciler *r, ReconcileStats *ret_stats);
/*
 * After applying, each planned device's DeviceState.apply_state says whether the backend now has the decision:
 * devices that had no difference are APPLY_DONE at once; devices that changed are read back (dump_device) and
 * compared; a refused operation gives APPLY_FAILED with its errno, operations not reached APPLY_PENDING. A
 * backend without dump_device leaves changed devices APPLY_PENDING until a read-back: the backend's
 * notification of moved entries triggers it; for a change that moved no entry the reconciler stays dirty
 * (once per change; the caller schedules the run as for any other dirt). A device the backend does not have, or whose MSI table state the
 * daemon cannot set (mode off on one side only), is APPLY_UNSUPPORTED.
 */

/* The current desired state (NULL before the first run). */
const Desired *reconciler_desired(const Reconciler *r);

/*
 * The devices whose decisions the last reconciler_run()/reconciler_resync() recomputed (NULL-terminated, owned
 * by the reconciler, valid until the next run or mark). Returns NULL if that run recomputed every device
 * (a full solve/resync); an empty list if it recomputed none.
 *
 * Every device whose DeviceState in reconciler_desired() may differ after the run (decision or apply_state) is
 * in the list; a listed name that is no longer in reconciler_desired() was removed by that run. Also NULL
 * before the first run and after a run that failed before it applied anything: compare everything then.
 */
char *const *reconciler_last_solved(const Reconciler *r);
/* Plan against the backend without applying (dry run of the current model). */
int reconciler_plan(Reconciler *r, Plan **ret);
