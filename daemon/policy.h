/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy: what the administrator wants, independent of what the host
 * currently looks like. Parsed from /etc/rvmsi/policy.json by policy-json.c
 * (schema in docs/policy.md), amended at runtime over D-Bus (per-VM
 * overrides, persisted in the state file).
 *
 * A Policy is a value: it is never modified in place by a reload. Load into a
 * new object and swap it in only on success, so that a bad file leaves the
 * last good policy in force:
 *
 *         _cleanup_(policy_freep) Policy *p = NULL;
 *         JsonError e = {};
 *         r = policy_load_file(path, &p, &e);
 *         if (r < 0)
 *                 return log_error(...e...);   // m->policy untouched
 *         policy_free(m->policy);
 *         m->policy = TAKE_PTR(p);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

#define POLICY_VERSION 1
#define POLICY_PRIORITY_MIN (-1000)
#define POLICY_PRIORITY_MAX 1000

typedef struct PolicyVmOverride {
        char *key;              /* VM UUID (canonical) or VM name */
        IsolationClass klass;   /* _CLASS_INVALID: not overridden */
        bool priority_set;
        int32_t priority;
        bool max_guest_files_set;
        uint32_t max_guest_files;       /* 0: this VM gets no guest file */
} PolicyVmOverride;

typedef struct Policy {
        /*
         * Mode for devices that are not owned by a VM, per owner kind. Only
         * MODE_BLOCKED, MODE_IDENTITY and MODE_MRIF are valid; the entry for
         * OWNER_VM is unused (VM devices follow their class).
         */
        DeliveryMode default_mode[_OWNER_KIND_MAX];
        IsolationClass default_class;
        int32_t default_priority;
        bool mrif_fallback;             /* may a VM device fall back to MRIF when guest files run out */
        uint32_t max_guest_files_per_vm;/* UINT32_MAX: unlimited */
        PolicyVmOverride *vm_overrides; /* sorted by key */
        size_t n_vm_overrides;
} Policy;

/* The built-in policy used when no file exists (documented in docs/policy.md). */
int policy_new_default(Policy **ret);
Policy *policy_free(Policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Policy *, policy_free);
int policy_copy(const Policy *p, Policy **ret);
/* Byte-for-byte semantic equality (used by tests and to skip no-op reloads). */
bool policy_equal(const Policy *a, const Policy *b);

/*
 * Add or replace the override for key (UUID or name). The fields are taken
 * from o (o->key is ignored). -EINVAL on out-of-range values; p unchanged then.
 */
int policy_set_vm_override(Policy *p, const char *key, const PolicyVmOverride *o);
int policy_remove_vm_override(Policy *p, const char *key);     /* -ENOENT */
/* Override matching the VM's UUID, else its name, else NULL. */
const PolicyVmOverride *policy_find_vm_override(const Policy *p, const Vm *vm);

/* Effective values for a VM: override > registration > policy default. */
IsolationClass policy_vm_class(const Policy *p, const Vm *vm);
int32_t policy_vm_priority(const Policy *p, const Vm *vm);
uint32_t policy_vm_max_guest_files(const Policy *p, const Vm *vm);
DeliveryMode policy_owner_mode(const Policy *p, OwnerKind owner);
