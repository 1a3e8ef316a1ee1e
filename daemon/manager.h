/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Manager: rvmsid's one object. It owns the sd-event loop, the bus
 * connection, the model, the policy, the backend and the reconciler, and
 * wires them: every event source (D-Bus calls, backend events, watchers)
 * changes the model and marks the reconciler dirty; one deferred event
 * source runs the reconciler once per burst, then emits change signals and
 * saves the state.
 *
 * The operations below are what the bus layer calls. Each takes a `bool
 * apply`: with false it only validates (every argument, every precondition)
 * and reports what would fail; the bus layer calls it that way before it
 * checks the caller's privileges, then again with true. A failed operation
 * changes nothing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "backend.h"
#include "macro.h"
#include "model.h"
#include "policy.h"
#include "reconcile.h"
#include "solver.h"

typedef enum BackendKind {
        BACKEND_KIND_KERNEL,
        BACKEND_KIND_SIM,
        _BACKEND_KIND_MAX,
        _BACKEND_KIND_INVALID = -EINVAL,
} BackendKind;

typedef enum AffinitySource {
        AFFINITY_SOURCE_SIM,            /* the sim's world is the truth */
        AFFINITY_SOURCE_KERNEL_EVENTS,  /* re-read a device's IRQs on its ENTRY_NTF */
        AFFINITY_SOURCE_PROC_POLL,      /* periodic reads of /proc/irq/N/effective_affinity_list */
        _AFFINITY_SOURCE_MAX,
        _AFFINITY_SOURCE_INVALID = -EINVAL,
} AffinitySource;

const char *affinity_source_to_string(AffinitySource s) _const_;

/* Named failures of Manager operations; the bus layer maps each to a D-Bus error. */
typedef enum ManagerErrorCode {
        MERR_NONE,
        MERR_NO_SUCH_DEVICE,
        MERR_NO_SUCH_VM,
        MERR_NO_SUCH_TARGET,
        MERR_INVALID_ARGUMENT,
        MERR_EXISTS,
        MERR_BUSY,
        MERR_INVALID_TRANSITION,
        MERR_ISOLATION_UNSATISFIABLE,
        MERR_POLICY_INVALID,
        MERR_SCENARIO_INVALID,
        MERR_NOT_PERMITTED,
        MERR_BACKEND_UNAVAILABLE,
        MERR_BACKEND_FAILED,
        MERR_NOT_SUPPORTED,
        _MERR_MAX,
} ManagerErrorCode;

typedef struct ManagerError {
        ManagerErrorCode code;
        char message[512];
} ManagerError;

/* Record an error; returns -EINVAL-style negative errno given. */
int manager_error_set(ManagerError *e, ManagerErrorCode code, int error, const char *fmt, ...) _printf_(4, 5);

#define MANAGER_N_FAULTS 64
/* How long placement learned from backend events may wait to be written (one fsync per interval, not per burst). */
#define MANAGER_SAVE_DELAY_USEC (1 * 1000 * 1000ULL)

typedef struct FaultRecord {
        char device[DEVICE_NAME_MAX];
        uint32_t cause;
        uint64_t addr;
        char target[32];
        uint64_t time;          /* CLOCK_REALTIME µs */
} FaultRecord;

typedef struct ManagerConfig {
        BackendKind backend;
        const char *scenario;           /* sim only, may be NULL */
        const char *sim_geometry;       /* sim args ("harts=8,..."), may be NULL */
        const char *config_dir;         /* /etc/rvmsi */
        const char *state_dir;          /* /var/lib/rvmsi; "" = test mode, nothing saved */
        const char *bus;                /* "system", "user" or an address */
        AffinitySource affinity;        /* _AFFINITY_SOURCE_INVALID: choose */
        const char *sysfs_root;         /* "" normally; tests point it at a fake tree */
        size_t describe_max;            /* largest Describe() reply in bytes; 0: MANAGER_DESCRIBE_MAX */
} ManagerConfig;

/*
 * dbus-daemon passes messages up to 32 MiB by default (max_message_size) and
 * disconnects a peer that sends a larger one; sd-bus refuses over 128 MiB.
 * Either way a too large Describe() reply would take rvmsid off the bus, at
 * the request of any unprivileged caller. Stay well below.
 */
#define MANAGER_DESCRIBE_MAX (24U * 1024U * 1024U)

typedef struct IrqWatch IrqWatch;
typedef struct VfioWatch VfioWatch;

typedef struct Manager {
        ManagerConfig config;
        char *config_dir;
        char *state_dir;
        char *state_path;               /* NULL in test mode */
        char *scenario_path;

        sd_event *event;
        sd_bus *bus;
        sd_bus_slot *name_slot;
        sd_event_source *reconcile_event;
        sd_event_source *backend_io;
        sd_event_source *watchdog_event;
        sd_event_source *sigterm_event, *sigint_event, *sighup_event;
        uint64_t watchdog_usec;

        Backend *backend;
        Model *model;
        Policy *policy;
        char *policy_source;            /* file path, "dbus", "scenario" or "builtin" */
        uint64_t policy_generation;
        Reconciler *reconciler;
        AffinitySource affinity;

        IrqWatch *irq_watch;
        VfioWatch *vfio_watch;

        /* What the last emitted signals were about, to emit only changes. */
        DeviceTable *last_desired;
        uint64_t last_saved_generation;
        bool state_dirty;               /* a call changed what the state file records: save before replying */
        bool state_dirty_later;         /* the backend moved a vCPU: save within MANAGER_SAVE_DELAY_USEC */
        sd_event_source *save_event;

        bool need_resync;               /* events were lost: dump in full at the next run */
        bool degraded;
        bool reload_failed;
        bool backend_failed;
        char *last_error;               /* for Status */
        uint64_t last_resync;           /* CLOCK_REALTIME µs */
        uint64_t n_runs, n_ops;

        FaultRecord faults[MANAGER_N_FAULTS];
        size_t n_faults, fault_head;
        uint64_t fault_count;

        /* The reconciler is applying: a synchronous backend's events now are echoes of our own operations. */
        bool reconciling;

        /*
         * The last IsolationUnsatisfiable check and its answer: a mutating call checks in its validation pass
         * and again in its apply pass, right after, on the same model. Valid while the model's generation and the
         * policy's are the same and no run or backend event came in between.
         */
        struct {
                bool valid;
                uint64_t generation, policy_generation;
                char uuid[UUID_STRING_MAX];
                VmState state;
                bool activate;
                char attach[DEVICE_NAME_MAX];
                int r;
                ManagerError e;
        } last_check;

        bool exiting;
} Manager;

int manager_new(const ManagerConfig *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Open the backend, build the model, load policy and state, converge. */
int manager_startup(Manager *m);
/* Connect to the bus, publish the objects, take the name. */
int manager_connect_bus(Manager *m);
int manager_run(Manager *m);
/* Write the state file now if anything is waiting to be written (also on exit). */
int manager_save_state(Manager *m);

/* Schedule a reconciler run for this burst. */
void manager_mark_dirty(Manager *m, DirtyScope scope, const char *key);
/* Run the reconciler now (used after mutating calls so the reply reflects the result). */
int manager_reconcile_now(Manager *m);

/* Re-read the configuration; on error the old policy stays in force. */
int manager_reload(Manager *m, ManagerError *e);

typedef struct PinSpec {
        uint32_t vcpu;
        uint32_t *cpus;
        size_t n_cpus;
} PinSpec;

int manager_register_vm(Manager *m, bool apply, const char *name, const char *uuid, uint32_t vcpus,
                        const PinSpec *pins, size_t n_pins, const char *klass, int32_t priority,
                        ManagerError *e);
int manager_unregister_vm(Manager *m, bool apply, const char *uuid, ManagerError *e);
int manager_vm_event(Manager *m, bool apply, const char *uuid, const char *event, ManagerError *e);
int manager_attach_device(Manager *m, bool apply, const char *name, const char *owner, const char *vm_uuid,
                          ManagerError *e);
int manager_detach_device(Manager *m, bool apply, const char *name, ManagerError *e);
int manager_set_policy(Manager *m, bool apply, const char *json, ManagerError *e);
int manager_resync(Manager *m, ManagerError *e);
/*
 * Sim only, for tests: the device DMA-writes identity to the page of interrupt
 * file (group, hart within the group, guest: 0 = S-level) in its own MSI
 * address space, as a forged MSI would; the sim's IOMMU translates it through
 * the device's table. A fault is reported like any other (Fault signal,
 * FaultCount). ret_outcome: the sim's outcome ("fault", "delivered", ...);
 * ret_cause: the fault cause or 0. MERR_NOT_SUPPORTED on the kernel backend.
 */
int manager_simulate_msi(Manager *m, bool apply, const char *device, uint32_t group, uint32_t hart, uint32_t guest,
                         uint32_t identity, const char **ret_outcome, uint32_t *ret_cause, ManagerError *e);

/* Read-only operations; results heap-allocated. */
int manager_get_policy(Manager *m, char **ret);
int manager_check_policy(Manager *m, const char *json, char **ret, ManagerError *e);
int manager_plan(Manager *m, const char *scenario_json, char **ret, ManagerError *e);
int manager_describe(Manager *m, char **ret);

typedef struct Explanation {
        char target[32];
        const char *mode;
        const char *code;
        char *text;
} Explanation;
int manager_explain(Manager *m, const char *device, const char *target, Explanation **ret, size_t *ret_n,
                    ManagerError *e);
void explanations_free(Explanation *x, size_t n);

/* Helpers shared with the bus layer. */
const char *target_to_string(uint32_t target, char buf[static 32]);
int target_from_string(const char *s, uint32_t *ret);
const char *entry_mode_string(const Entry *e);
const DeviceState *manager_device_desired(Manager *m, const char *name);
/* Whether the backend has the decision for the device (ApplyState); ret_error: the errno of a refused operation. */
ApplyState manager_device_apply_state(Manager *m, const char *name, int *ret_error);
uint32_t manager_guest_files_free(Manager *m);
size_t manager_n_unsatisfied(Manager *m);
char *manager_status(Manager *m);
int manager_vm_counts(Manager *m, const Vm *vm, uint32_t *ret_guest_files, uint32_t *ret_mrif);
int manager_vm_unsatisfied(Manager *m, const Vm *vm, char ***ret);
uint64_t manager_device_faults(Manager *m, const char *name);
