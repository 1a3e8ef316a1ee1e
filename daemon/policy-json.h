/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.json <-> Policy. Schema "version": 1, documented in docs/policy.md.
 * Unknown keys are errors (a typo must not silently change nothing). Every
 * error names the file, the JSON path of the field and the reason in the
 * JsonError; on error *ret is untouched.
 */
#pragma once

#include <json-c/json.h>

#include "json-util.h"
#include "policy.h"

#define POLICY_FILE_DEFAULT RVMSI_CONFDIR_DEFAULT "/policy.json"
#define RVMSI_CONFDIR_DEFAULT "/etc/rvmsi"

int policy_from_json(json_object *root, Policy **ret, JsonError *e);
int policy_parse_buffer(const char *buf, size_t len, const char *name, Policy **ret, JsonError *e);
/* -ENOENT (with e->file set) if the file does not exist: the caller decides whether that is fine. */
int policy_load_file(const char *path, Policy **ret, JsonError *e);
/* Complete policy, every field explicit; policy_from_json(policy_to_json(p)) equals p. */
int policy_to_json(const Policy *p, json_object **ret);
/* One override object, as used in policy.json "vms" and in the state file. */
int policy_vm_override_to_json(const PolicyVmOverride *o, json_object **ret);
int policy_vm_override_from_json(json_object *v, const char *path, PolicyVmOverride *ret, JsonError *e);
