/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scenario files (docs/scenario.md): a host geometry, VMs, devices, a policy
 * and a timeline of events (vcpu_move, affinity, vm_start/resume/pause/stop/
 * migrate_out/migrate_in, vm_add/vm_remove, attach/detach,
 * device_add/device_remove, set_class/set_priority, reserve, forge_msi,
 * expect). Every event is validated when the file is loaded. scenario_run() builds a sim backend and a daemon model from it,
 * then for each event changes the sim's world, mirrors the change into the
 * daemon's model the way the watchers would, reconciles, and checks the
 * expectations and the sim's invariants after every step.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "backend.h"
#include "json-util.h"
#include "model.h"
#include "policy.h"
#include "reconcile.h"

typedef struct Scenario Scenario;

int scenario_parse_buffer(const char *buf, size_t len, const char *name, Scenario **ret, JsonError *e);
int scenario_load_file(const char *path, Scenario **ret, JsonError *e);
Scenario *scenario_free(Scenario *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Scenario *, scenario_free);

size_t scenario_n_steps(const Scenario *s);

/* A sim backend with the scenario's world, and a daemon model/policy matching it. */
int scenario_setup(const Scenario *s, Backend **ret_backend, Model **ret_model, Policy **ret_policy,
                   JsonError *e);

/*
 * Apply step i: change the sim's world, mirror it into m, mark r dirty.
 * forge_msi and expect steps are checked here; a failed expectation returns
 * -EBADE with e describing it.
 */
int scenario_step(const Scenario *s, size_t i, Backend *b, Model *m, Reconciler *r, JsonError *e);

typedef struct ScenarioReport {
        size_t n_steps;
        size_t n_ops;           /* backend operations issued, all steps */
        size_t n_expectations;  /* expect / forge_msi checks passed */
        size_t n_violations;    /* solver violations at the end */
        size_t n_invariant_violations;  /* from the sim: must be 0 */
        uint64_t faults, notices, delivered;
} ScenarioReport;

/* Setup, resync, then every step followed by reconciler_run(). */
int scenario_run(const Scenario *s, ScenarioReport *ret, JsonError *e);
