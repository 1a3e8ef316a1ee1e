/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "policy-json.h"

static int parse_owner_mode(json_object *defaults, const char *key, OwnerKind owner, Policy *p, JsonError *e) {
        char fpath[JSON_PATH_MAX];
        const char *s;
        DeliveryMode m;
        int r;

        r = json_get_string(defaults, "defaults", key, false, &s, e);
        if (r <= 0)
                return r;
        json_path_key(fpath, "defaults", key);
        m = mode_from_string(s);
        if (m < 0)
                return json_error_set(e, fpath, "unknown mode '%s' (expected blocked, identity or mrif)", s);
        if (m != MODE_BLOCKED && m != MODE_IDENTITY && m != MODE_MRIF)
                return json_error_set(e, fpath, "mode '%s' cannot be a default for %s devices "
                                      "(expected blocked, identity or mrif)", s, key);
        /* A device nobody drives must not reach a shared host file. */
        if (owner == OWNER_NONE && m == MODE_IDENTITY)
                return json_error_set(e, fpath, "devices without an owner cannot use identity");
        p->default_mode[owner] = m;
        return 0;
}

int policy_vm_override_from_json(json_object *v, const char *path, PolicyVmOverride *ret, JsonError *e) {
        static const char *const keys[] = { "vm", "class", "priority", "max_guest_files", NULL };
        PolicyVmOverride o = { .klass = _CLASS_INVALID };
        const char *key, *cls = NULL;
        int64_t prio;
        uint32_t max;
        char fpath[JSON_PATH_MAX];
        int r;

        r = json_check_keys(v, path, keys, e);
        if (r < 0)
                return r;
        r = json_get_string(v, path, "vm", true, &key, e);
        if (r < 0)
                return r;
        if (vm_name_validate(key) < 0)
                return json_error_set(e, json_path_key(fpath, path, "vm"),
                                      "not a valid VM UUID or name");
        r = json_get_string(v, path, "class", false, &cls, e);
        if (r < 0)
                return r;
        if (r > 0) {
                o.klass = isolation_class_from_string(cls);
                if (o.klass < 0)
                        return json_error_set(e, json_path_key(fpath, path, "class"),
                                              "unknown class '%s' (expected strict, balanced or performance)", cls);
        }
        r = json_get_int64(v, path, "priority", false, POLICY_PRIORITY_MIN, POLICY_PRIORITY_MAX, &prio, e);
        if (r < 0)
                return r;
        if (r > 0) {
                o.priority_set = true;
                o.priority = (int32_t) prio;
        }
        r = json_get_uint32(v, path, "max_guest_files", false, 0, VM_MAX_VCPUS, &max, e);
        if (r < 0)
                return r;
        if (r > 0) {
                o.max_guest_files_set = true;
                o.max_guest_files = max;
        }
        o.key = strdup(key);
        if (!o.key)
                return -ENOMEM;
        *ret = o;
        return 0;
}

int policy_from_json(json_object *root, Policy **ret, JsonError *e) {
        static const char *const top_keys[] = { "version", "defaults", "mrif_fallback", "limits", "vms", NULL };
        static const char *const default_keys[] = { "host", "userspace", "none", "class", "priority", NULL };
        static const char *const limit_keys[] = { "max_guest_files_per_vm", NULL };
        _cleanup_(policy_freep) Policy *p = NULL;
        json_object *defaults = NULL, *limits = NULL, *vms = NULL;
        uint32_t version;
        int r;

        assert_return(root && ret, -EINVAL);

        r = policy_new_default(&p);
        if (r < 0)
                return r;

        r = json_check_keys(root, "", top_keys, e);
        if (r < 0)
                return r;
        r = json_get_uint32(root, "", "version", true, 0, UINT32_MAX, &version, e);
        if (r < 0)
                return r;
        if (version != POLICY_VERSION)
                return json_error_set_errno(e, -EPROTONOSUPPORT, "version",
                                            "unsupported schema version %u (this rvmsid reads version %d)",
                                            version, POLICY_VERSION);

        r = json_get_object(root, "", "defaults", false, &defaults, e);
        if (r < 0)
                return r;
        if (r > 0) {
                const char *cls;
                int64_t prio;

                r = json_check_keys(defaults, "defaults", default_keys, e);
                if (r < 0)
                        return r;
                r = parse_owner_mode(defaults, "host", OWNER_HOST, p, e);
                if (r < 0)
                        return r;
                r = parse_owner_mode(defaults, "userspace", OWNER_USERSPACE, p, e);
                if (r < 0)
                        return r;
                r = parse_owner_mode(defaults, "none", OWNER_NONE, p, e);
                if (r < 0)
                        return r;
                r = json_get_string(defaults, "defaults", "class", false, &cls, e);
                if (r < 0)
                        return r;
                if (r > 0) {
                        p->default_class = isolation_class_from_string(cls);
                        if (p->default_class < 0)
                                return json_error_set(e, "defaults.class",
                                                      "unknown class '%s' (expected strict, balanced or performance)",
                                                      cls);
                }
                r = json_get_int64(defaults, "defaults", "priority", false, POLICY_PRIORITY_MIN,
                                   POLICY_PRIORITY_MAX, &prio, e);
                if (r < 0)
                        return r;
                if (r > 0)
                        p->default_priority = (int32_t) prio;
        }

        r = json_get_bool(root, "", "mrif_fallback", false, &p->mrif_fallback, e);
        if (r < 0)
                return r;

        r = json_get_object(root, "", "limits", false, &limits, e);
        if (r < 0)
                return r;
        if (r > 0) {
                json_object *v;

                r = json_check_keys(limits, "limits", limit_keys, e);
                if (r < 0)
                        return r;
                /* null means unlimited, the default; spelled out so that dumps round-trip. */
                if (json_object_object_get_ex(limits, "max_guest_files_per_vm", &v) && v) {
                        r = json_get_uint32(limits, "limits", "max_guest_files_per_vm", true, 0, VM_MAX_VCPUS,
                                            &p->max_guest_files_per_vm, e);
                        if (r < 0)
                                return r;
                }
        }

        r = json_get_array(root, "", "vms", false, &vms, e);
        if (r < 0)
                return r;
        if (r > 0) {
                size_t n = json_object_array_length(vms);

                for (size_t i = 0; i < n; i++) {
                        char path[JSON_PATH_MAX];
                        PolicyVmOverride o;
                        Vm probe = {};

                        json_path_index(path, "vms", i);
                        r = policy_vm_override_from_json(json_object_array_get_idx(vms, i), path, &o, e);
                        if (r < 0)
                                return r;
                        /* Two entries for the same VM would make the result depend on their order. */
                        if (uuid_normalize(o.key, probe.uuid) < 0)
                                probe.name = o.key;
                        if (policy_find_vm_override(p, &probe)) {
                                free(o.key);
                                return json_error_set(e, path, "second entry for VM '%s'", json_object_get_string(
                                                      json_object_object_get(json_object_array_get_idx(vms, i), "vm")));
                        }
                        r = policy_set_vm_override(p, o.key, &o);
                        free(o.key);
                        if (r < 0)
                                return json_error_set_errno(e, r, path, "cannot add override: %s", strerror(-r));
                }
        }

        *ret = TAKE_PTR(p);
        return 0;
}

int policy_parse_buffer(const char *buf, size_t len, const char *name, Policy **ret, JsonError *e) {
        _cleanup_json_ json_object *root = NULL;
        int r;

        json_error_set_file(e, name);
        r = json_parse_buffer(buf, len, name, &root, e);
        if (r < 0)
                return r;
        return policy_from_json(root, ret, e);
}

int policy_load_file(const char *path, Policy **ret, JsonError *e) {
        _cleanup_json_ json_object *root = NULL;
        int r;

        assert_return(path && ret, -EINVAL);

        r = json_parse_file(path, &root, e);
        if (r < 0)
                return r;
        return policy_from_json(root, ret, e);
}

int policy_vm_override_to_json(const PolicyVmOverride *o, json_object **ret) {
        _cleanup_json_ json_object *v = NULL;
        int r = 0;

        v = json_object_new_object();
        if (!v)
                return -ENOMEM;
        RET_GATHER(r, json_add_take(v, "vm", json_object_new_string(o->key)));
        if (o->klass != _CLASS_INVALID)
                RET_GATHER(r, json_add_take(v, "class", json_object_new_string(isolation_class_to_string(o->klass))));
        if (o->priority_set)
                RET_GATHER(r, json_add_take(v, "priority", json_object_new_int64(o->priority)));
        if (o->max_guest_files_set)
                RET_GATHER(r, json_add_take(v, "max_guest_files", json_object_new_int64(o->max_guest_files)));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int policy_to_json(const Policy *p, json_object **ret) {
        _cleanup_json_ json_object *root = NULL;
        json_object *defaults, *limits, *vms;
        int r = 0;

        assert_return(p && ret, -EINVAL);

        root = json_object_new_object();
        if (!root)
                return -ENOMEM;
        defaults = json_object_new_object();
        r = json_add_take(root, "version", json_object_new_int(POLICY_VERSION));
        RET_GATHER(r, json_add_take(root, "defaults", defaults));
        if (r < 0)
                return r;
        RET_GATHER(r, json_add_take(defaults, "host", json_object_new_string(mode_to_string(p->default_mode[OWNER_HOST]))));
        RET_GATHER(r, json_add_take(defaults, "userspace",
                          json_object_new_string(mode_to_string(p->default_mode[OWNER_USERSPACE]))));
        RET_GATHER(r, json_add_take(defaults, "none", json_object_new_string(mode_to_string(p->default_mode[OWNER_NONE]))));
        RET_GATHER(r, json_add_take(defaults, "class", json_object_new_string(isolation_class_to_string(p->default_class))));
        RET_GATHER(r, json_add_take(defaults, "priority", json_object_new_int64(p->default_priority)));
        RET_GATHER(r, json_add_take(root, "mrif_fallback", json_object_new_boolean(p->mrif_fallback)));
        limits = json_object_new_object();
        RET_GATHER(r, json_add_take(root, "limits", limits));
        if (r < 0)
                return r;
        if (p->max_guest_files_per_vm == UINT32_MAX)
                r = json_object_object_add(limits, "max_guest_files_per_vm", NULL) < 0 ? -ENOMEM : 0;
        else
                r = json_add_take(limits, "max_guest_files_per_vm", json_object_new_int64(p->max_guest_files_per_vm));
        if (r < 0)
                return r;
        vms = json_object_new_array();
        r = json_add_take(root, "vms", vms);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_vm_overrides; i++) {
                json_object *v;

                r = policy_vm_override_to_json(&p->vm_overrides[i], &v);
                if (r < 0)
                        return r;
                if (json_object_array_add(vms, v) < 0) {
                        json_object_put(v);
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(root);
        return 0;
}
