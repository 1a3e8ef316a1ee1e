/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Persisted state (docs/state.md): what rvmsid cannot re-read from the kernel
 * or libvirt after a restart — registered VMs with their last known
 * placement, device attachments, and the per-VM policy overrides set over
 * D-Bus. JSON, "version": 2 (1 still loads), written atomically (lib/util write_file_atomic).
 * An empty path means test mode: nothing is read or written.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "json-util.h"
#include "model.h"
#include "policy.h"

/* Written: 2 (per-vCPU CPU sets). Read: 1 (one pinned hart per vCPU) and 2. */
#define STATE_VERSION 2
#define STATE_VERSION_MIN 1
#define STATE_FILE_DEFAULT "/var/lib/rvmsi/state.json"

typedef struct StateVm {
        char uuid[UUID_STRING_MAX];
        char *name;
        VmState state;
        IsolationClass klass;   /* _CLASS_INVALID: not set at registration */
        bool priority_set;
        int32_t priority;
        uint32_t nr_vcpus;
        uint32_t *placement;    /* [nr_vcpus], NO_HART if not placed */
        uint32_t *pinned;       /* [nr_vcpus], version 1 only: the one hart a vCPU was pinned to, NO_HART if none */
        uint32_t **pin_cpus;    /* [nr_vcpus], version 2: the CPUs each vCPU is pinned to (NULL: not pinned) */
        uint32_t *n_pin_cpus;   /* [nr_vcpus] */
} StateVm;

typedef struct StateDevice {
        char name[DEVICE_NAME_MAX];
        OwnerKind owner;
        char vm[UUID_STRING_MAX];
        char *label;
        bool locked;
        uint64_t caps;
} StateDevice;

typedef struct State {
        StateVm *vms;
        size_t n_vms;
        StateDevice *devices;
        size_t n_devices;
        PolicyVmOverride *overrides;
        size_t n_overrides;
} State;

State *state_free(State *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(State *, state_free);

/* Snapshot the model; overrides (may be NULL) supplies the D-Bus-set per-VM overrides. */
int state_capture(const Model *m, const Policy *overrides, State **ret);
int state_to_json(const State *s, json_object **ret);
/* The same document as text, as state_save() writes it (*ret_len optional: its length). */
int state_to_text(const State *s, char **ret, size_t *ret_len);
int state_from_json(json_object *root, State **ret, JsonError *e);

/* path NULL or "": test mode, returns 0 and writes nothing. */
int state_save(const State *s, const char *path);

typedef struct StateLoadReport {
        bool test_mode;         /* empty path */
        bool missing;           /* no file: first start */
        bool corrupt;           /* unreadable JSON or schema: moved aside */
        char moved_to[1024];    /* where the corrupt file went */
        JsonError error;        /* why it was corrupt */
} StateLoadReport;

/*
 * Returns 1 with *ret set when a state was loaded; 0 with *ret = NULL when
 * there was nothing to load (test mode, missing, or corrupt and moved aside
 * to "<path>.corrupt-<unix time>": see report, and log it); negative errno on
 * an I/O error (a corrupt file that could not be moved aside is left alone
 * and reported as -EIO-class error, so it is never silently overwritten).
 */
int state_load(const char *path, State **ret, StateLoadReport *report);

/*
 * Apply to a model: register missing VMs (with state and placement), create
 * missing devices with the recorded caps, set owners and locks. Overrides go
 * into p if p is not NULL. Entries that conflict with the model's geometry
 * (hart beyond nr_harts) are dropped, counted in the return value (>= 0).
 */
int state_apply(const State *s, Model *m, Policy *p);
