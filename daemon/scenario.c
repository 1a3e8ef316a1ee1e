/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <inttypes.h>

#include "backend-sim.h"
#include "fileio.h"
#include "policy-json.h"
#include "scenario.h"

#define SCENARIO_VERSION 1

struct Scenario {
        json_object *root;
        json_object *timeline;  /* borrowed from root, may be NULL */
        char name[256];
};

Scenario *scenario_free(Scenario *s) {
        if (!s)
                return NULL;
        json_object_put(s->root);
        return mfree(s);
}

size_t scenario_n_steps(const Scenario *s) {
        return s && s->timeline ? json_object_array_length(s->timeline) : 0;
}

/* ---- small parsers ---- */

static int get_uuid(json_object *o, const char *path, const char *key, char ret[static UUID_STRING_MAX], JsonError *e) {
        const char *s;
        char fpath[JSON_PATH_MAX];
        int r;

        r = json_get_string(o, path, key, true, &s, e);
        if (r < 0)
                return r;
        if (uuid_normalize(s, ret) < 0)
                return json_error_set(e, json_path_key(fpath, path, key), "not a UUID: '%s'", s);
        return 0;
}

static int get_device_name(json_object *o, const char *path, const char *key, char ret[static DEVICE_NAME_MAX],
                           JsonError *e) {
        const char *s;
        char fpath[JSON_PATH_MAX];
        int r;

        r = json_get_string(o, path, key, true, &s, e);
        if (r < 0)
                return r;
        if (device_name_validate(s) < 0)
                return json_error_set(e, json_path_key(fpath, path, key), "invalid device name '%s'", s);
        strcpy(ret, s);
        return 0;
}

/* "hart": n, or null / absent = NO_HART when optional */
static int get_hart(json_object *o, const char *path, const char *key, bool required, uint32_t nr_harts,
                    uint32_t *ret, JsonError *e) {
        json_object *v;
        char fpath[JSON_PATH_MAX];
        int64_t x;
        int r;

        json_path_key(fpath, path, key);
        if (!json_object_object_get_ex(o, key, &v)) {
                if (required)
                        return json_error_set(e, fpath, "required field is missing");
                *ret = NO_HART;
                return 0;
        }
        if (!v) {
                *ret = NO_HART;
                return 0;
        }
        r = json_check_int64(v, fpath, 0, (int64_t) nr_harts - 1, &x, e);
        if (r < 0)
                return r;
        *ret = (uint32_t) x;
        return 0;
}

static int parse_caps(json_object *o, const char *path, uint64_t *ret, JsonError *e) {
        static const struct {
                const char *name;
                uint64_t bit;
        } table[] = {
                { "msi-flat", CAP_MSI_FLAT },
                { "msi-mrif", CAP_MSI_MRIF },
                { "amo-mrif", CAP_AMO_MRIF },
                { "guest-file", CAP_GUEST_FILE },
                { "table-shared", CAP_TABLE_SHARED },
        };
        json_object *a;
        uint64_t caps = 0;
        int r;

        r = json_get_array(o, path, "caps", false, &a, e);
        if (r < 0)
                return r;
        if (r == 0) {
                /* What QEMU's riscv-iommu-pci offers today: flat tables and MRIFs. */
                *ret = CAP_MSI_FLAT | CAP_MSI_MRIF;
                return 0;
        }
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *v = json_object_array_get_idx(a, i);
                char fpath[JSON_PATH_MAX], ipath[JSON_PATH_MAX];
                bool found = false;

                json_path_index(ipath, json_path_key(fpath, path, "caps"), i);
                if (!json_object_is_type(v, json_type_string))
                        return json_error_set(e, ipath, "expected a capability name");
                for (size_t k = 0; k < ELEMENTSOF(table); k++)
                        if (streq(json_object_get_string(v), table[k].name)) {
                                caps |= table[k].bit;
                                found = true;
                        }
                if (!found)
                        return json_error_set(e, ipath, "unknown capability '%s'", json_object_get_string(v));
        }
        *ret = caps;
        return 0;
}

/* ---- mirroring the world into the daemon's model (what the watchers do) ---- */

static int mirror_vcpus(const Model *world, Model *m, const char *uuid) {
        const Vm *w = model_find_vm(world, uuid);
        Vm *vm = model_find_vm(m, uuid);
        int r;

        if (!w || !vm)
                return 0;
        for (uint32_t v = 0; v < MIN(w->nr_vcpus, vm->nr_vcpus); v++) {
                r = model_vcpu_place(m, vm, v, w->vcpus[v].hart);
                if (r < 0)
                        return r;
                r = model_vcpu_set_guest_file(m, vm, v, w->vcpus[v].hart == NO_HART ? 0 : w->vcpus[v].guest_file);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int mirror_all_vcpus(const Model *world, Model *m) {
        for (size_t i = 0; i < world->n_vms; i++) {
                int r = mirror_vcpus(world, m, world->vms[i]->uuid);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int mirror_device(const Model *world, Model *m, const char *name) {
        const Device *w = model_find_device(world, name);
        Device *d = model_find_device(m, name);
        int r;

        if (!w) {
                if (d)
                        return model_remove_device(m, name);
                return 0;
        }
        if (!d) {
                r = model_add_device(m, name, w->caps, &d);
                if (r < 0)
                        return r;
        }
        r = model_device_set_caps(m, d, w->caps);
        if (r < 0)
                return r;
        r = model_device_set_owner(m, d, w->owner, w->owner == OWNER_VM ? w->owner_vm : w->owner_label);
        if (r < 0)
                return r;
        r = model_device_set_locked(m, d, w->locked);
        if (r < 0)
                return r;
        return model_device_set_vectors(m, d, w->nr_vectors, w->vectors);
}

/* ---- world setup pieces shared by setup and timeline ---- */

static int add_vm(Sim *sim, Model *m, json_object *o, const char *path, bool apply, JsonError *e) {
        static const char *const keys[] = { "uuid", "name", "vcpus", "state", "placement", "class", "priority", NULL };
        const Model *world = sim_world(sim);
        char uuid[UUID_STRING_MAX], fpath[JSON_PATH_MAX];
        const char *name = NULL, *state_s = "running", *cls = NULL;
        json_object *placement = NULL;
        uint32_t nr_vcpus;
        int64_t prio = 0;
        bool has_prio;
        VmState state;
        IsolationClass klass = _CLASS_INVALID;
        Vm *vm;
        int r;

        r = json_check_keys(o, path, keys, e);
        if (r < 0)
                return r;
        r = get_uuid(o, path, "uuid", uuid, e);
        if (r < 0)
                return r;
        r = json_get_string(o, path, "name", false, &name, e);
        if (r < 0)
                return r;
        if (name && vm_name_validate(name) < 0)
                return json_error_set(e, json_path_key(fpath, path, "name"), "invalid VM name");
        r = json_get_uint32(o, path, "vcpus", true, 1, VM_MAX_VCPUS, &nr_vcpus, e);
        if (r < 0)
                return r;
        r = json_get_string(o, path, "state", false, &state_s, e);
        if (r < 0)
                return r;
        state = vm_state_from_string(state_s);
        if (state < 0)
                return json_error_set(e, json_path_key(fpath, path, "state"), "unknown VM state '%s'", state_s);
        r = json_get_string(o, path, "class", false, &cls, e);
        if (r < 0)
                return r;
        if (cls) {
                klass = isolation_class_from_string(cls);
                if (klass < 0)
                        return json_error_set(e, json_path_key(fpath, path, "class"), "unknown class '%s'", cls);
        }
        r = json_get_int64(o, path, "priority", false, POLICY_PRIORITY_MIN, POLICY_PRIORITY_MAX, &prio, e);
        if (r < 0)
                return r;
        has_prio = r > 0;
        r = json_get_array(o, path, "placement", false, &placement, e);
        if (r < 0)
                return r;
        if (placement && json_object_array_length(placement) != nr_vcpus)
                return json_error_set(e, json_path_key(fpath, path, "placement"), "needs one hart (or null) per vCPU");
        if (placement)
                for (size_t v = 0; v < nr_vcpus; v++) {
                        json_object *h = json_object_array_get_idx(placement, v);
                        char ipath[JSON_PATH_MAX];
                        int64_t x;

                        json_path_index(ipath, json_path_key(fpath, path, "placement"), v);
                        if (h && json_check_int64(h, ipath, 0, (int64_t) world->geometry.nr_harts - 1, &x, e) < 0)
                                return -EINVAL;
                }
        if (!apply)
                return 0;

        if (model_find_vm(world, uuid))
                return json_error_set_errno(e, -EEXIST, path, "VM %s exists already", uuid);
        r = sim_add_vm(sim, uuid, name, nr_vcpus);
        if (r < 0)
                return json_error_set_errno(e, r, path, "cannot add VM: %s", strerror(-r));
        /* Place first, then start: KVM takes guest files as the vCPUs begin to run. */
        if (placement)
                for (uint32_t v = 0; v < nr_vcpus; v++) {
                        json_object *h = json_object_array_get_idx(placement, v);

                        r = sim_vcpu_move(sim, uuid, v, h ? (uint32_t) json_object_get_int64(h) : NO_HART);
                        if (r < 0)
                                return json_error_set_errno(e, r, path, "cannot place vCPU %u: %s", v, strerror(-r));
                }
        r = sim_vm_set_state(sim, uuid, state);
        if (r < 0)
                return json_error_set_errno(e, r, path, "cannot set state: %s", strerror(-r));

        r = model_add_vm(m, uuid, name, nr_vcpus, &vm);
        if (r < 0)
                return json_error_set_errno(e, r, path, "cannot register VM: %s", strerror(-r));
        (void) model_vm_set_state(m, vm, state);
        (void) model_vm_set_class(m, vm, klass);
        (void) model_vm_set_priority(m, vm, has_prio, (int32_t) prio);
        return mirror_vcpus(world, m, uuid);
}

static int parse_vectors(json_object *o, const char *path, uint32_t nr_harts, Vector **ret, uint32_t *ret_n,
                         JsonError *e) {
        _cleanup_free_ Vector *v = NULL;
        json_object *a;
        char fpath[JSON_PATH_MAX];
        size_t n;
        int r;

        r = json_get_array(o, path, "vectors", false, &a, e);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        n = json_object_array_length(a);
        if (n > DEVICE_MAX_VECTORS)
                return json_error_set(e, json_path_key(fpath, path, "vectors"), "too many vectors");
        v = new0(Vector, n);
        if (!v && n > 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                static const char *const keys[] = { "hart", "vcpu", NULL };
                json_object *x = json_object_array_get_idx(a, i);
                char ipath[JSON_PATH_MAX];
                int64_t vc;

                json_path_index(ipath, json_path_key(fpath, path, "vectors"), i);
                r = json_check_keys(x, ipath, keys, e);
                if (r < 0)
                        return r;
                r = get_hart(x, ipath, "hart", false, nr_harts, &v[i].hart, e);
                if (r < 0)
                        return r;
                r = json_get_int64(x, ipath, "vcpu", false, 0, VM_MAX_VCPUS - 1, &vc, e);
                if (r < 0)
                        return r;
                v[i].vcpu = r > 0 ? (uint32_t) vc : NO_HART;
        }
        *ret = TAKE_PTR(v);
        *ret_n = (uint32_t) n;
        return 0;
}

static int add_device(Sim *sim, Model *m, json_object *o, const char *path, bool apply, JsonError *e) {
        static const char *const keys[] = { "name", "caps", "owner", "vm", "label", "locked", "vectors", NULL };
        _cleanup_free_ Vector *vectors = NULL;
        char name[DEVICE_NAME_MAX], uuid[UUID_STRING_MAX] = "", fpath[JSON_PATH_MAX];
        const char *owner_s = "host", *label = NULL;
        uint32_t nv;
        uint64_t caps = 0;
        OwnerKind owner;
        bool locked = false;
        int r;

        r = json_check_keys(o, path, keys, e);
        if (r < 0)
                return r;
        r = get_device_name(o, path, "name", name, e);
        if (r < 0)
                return r;
        r = parse_caps(o, path, &caps, e);
        if (r < 0)
                return r;
        r = json_get_string(o, path, "owner", false, &owner_s, e);
        if (r < 0)
                return r;
        owner = owner_kind_from_string(owner_s);
        if (owner < 0)
                return json_error_set(e, json_path_key(fpath, path, "owner"), "unknown owner kind '%s'", owner_s);
        if (owner == OWNER_VM) {
                r = get_uuid(o, path, "vm", uuid, e);
                if (r < 0)
                        return r;
        } else if (json_object_object_get_ex(o, "vm", NULL))
                return json_error_set(e, json_path_key(fpath, path, "vm"), "only for owner 'vm'");
        r = json_get_string(o, path, "label", false, &label, e);
        if (r < 0)
                return r;
        r = json_get_bool(o, path, "locked", false, &locked, e);
        if (r < 0)
                return r;
        r = parse_vectors(o, path, sim_world(sim)->geometry.nr_harts, &vectors, &nv, e);
        if (r < 0)
                return r;
        if (!apply)
                return 0;

        r = sim_add_device(sim, name, caps);
        if (r < 0)
                return json_error_set_errno(e, r, path, "cannot add device: %s", strerror(-r));
        r = sim_device_set_owner(sim, name, owner, owner == OWNER_VM ? uuid : label);
        if (r < 0)
                return json_error_set_errno(e, r, path, "cannot set owner: %s", strerror(-r));
        r = sim_device_set_locked(sim, name, locked);
        if (r < 0)
                return json_error_set_errno(e, r, path, "cannot lock: %s", strerror(-r));
        r = sim_device_set_vectors(sim, name, nv, vectors);
        if (r < 0)
                return json_error_set_errno(e, r, json_path_key(fpath, path, "vectors"), "rejected: %s", strerror(-r));
        return mirror_device(sim_world(sim), m, name);
}

/* ---- timeline events ---- */

typedef struct StepContext {
        Sim *sim;
        Backend *backend;
        Model *model;
        Reconciler *reconciler;
        bool apply;
} StepContext;

static int expect_check(StepContext *c, json_object *o, const char *path, JsonError *e) {
        static const char *const keys[] = { "event", "device", "mode", "isolation", "violation", "entries", "kind",
                                            "vm", "vcpu", "guest_file", "violations", NULL };
        const Desired *d = c->apply ? reconciler_desired(c->reconciler) : NULL;
        char fpath[JSON_PATH_MAX];
        const char *s;
        int r;

        r = json_check_keys(o, path, keys, e);
        if (r < 0)
                return r;

        if (json_object_object_get_ex(o, "device", NULL)) {
                char name[DEVICE_NAME_MAX];
                DeviceState st = {};
                const char *mode = NULL, *iso = NULL, *kind = NULL;
                bool viol = false, has_viol;
                uint32_t n_entries = 0;
                int has_entries;

                r = get_device_name(o, path, "device", name, e);
                if (r < 0)
                        return r;
                if ((r = json_get_string(o, path, "mode", false, &mode, e)) < 0 ||
                    (r = json_get_string(o, path, "isolation", false, &iso, e)) < 0 ||
                    (r = json_get_string(o, path, "kind", false, &kind, e)) < 0)
                        return r;
                if (mode && mode_from_string(mode) < 0)
                        return json_error_set(e, json_path_key(fpath, path, "mode"), "unknown mode '%s'", mode);
                if (iso && isolation_from_string(iso) < 0)
                        return json_error_set(e, json_path_key(fpath, path, "isolation"), "unknown isolation '%s'", iso);
                if (kind && entry_kind_from_string(kind) < 0)
                        return json_error_set(e, json_path_key(fpath, path, "kind"), "unknown entry kind '%s'", kind);
                r = json_get_bool(o, path, "violation", false, &viol, e);
                if (r < 0)
                        return r;
                has_viol = r > 0;
                has_entries = json_get_uint32(o, path, "entries", false, 0, UINT32_MAX, &n_entries, e);
                if (has_entries < 0)
                        return has_entries;
                if (!c->apply)
                        return 0;

                r = c->backend->ops->dump_device(c->backend, name, &st);
                if (r < 0)
                        return json_error_set_errno(e, r, path, "cannot read device %s: %s", name, strerror(-r));
                if (mode && st.mode != mode_from_string(mode))
                        r = json_error_set_errno(e, -EBADE, path, "device %s: mode %s, expected %s", name,
                                                 mode_to_string(st.mode), mode);
                else if (iso && st.isolation != isolation_from_string(iso))
                        r = json_error_set_errno(e, -EBADE, path, "device %s: isolation %s, expected %s", name,
                                                 isolation_to_string(st.isolation), iso);
                else if (has_entries > 0 && st.n_entries != n_entries)
                        r = json_error_set_errno(e, -EBADE, path, "device %s: %u valid entries, expected %u", name,
                                                 st.n_entries, n_entries);
                if (r >= 0 && kind)
                        for (uint32_t i = 0; i < st.n_entries; i++)
                                if (st.entries[i].kind != entry_kind_from_string(kind)) {
                                        r = json_error_set_errno(e, -EBADE, path, "device %s: an entry is %s, expected %s",
                                                                 name, entry_kind_to_string(st.entries[i].kind), kind);
                                        break;
                                }
                device_state_done(&st);
                if (r < 0)
                        return r;
                if (has_viol) {
                        const DeviceState *ds = d ? device_table_find(&d->devices, name) : NULL;

                        if (!ds || ds->violation != viol)
                                return json_error_set_errno(e, -EBADE, path, "device %s: violation is %s, expected %s",
                                                            name, ds ? yes_no(ds->violation) : "unknown", yes_no(viol));
                }
                return 0;
        }

        if (json_object_object_get_ex(o, "vm", NULL)) {
                char uuid[UUID_STRING_MAX];
                uint32_t vcpu;
                json_object *gf;
                int64_t want = -1;
                bool any = false;
                Vm *vm;

                r = json_get_uint32(o, path, "vcpu", true, 0, VM_MAX_VCPUS - 1, &vcpu, e);
                if (r < 0)
                        return r;
                if (!json_object_object_get_ex(o, "guest_file", &gf))
                        return json_error_set(e, json_path_key(fpath, path, "guest_file"), "required field is missing");
                if (json_object_is_type(gf, json_type_string) && streq(json_object_get_string(gf), "any"))
                        any = true;
                else if (json_check_int64(gf, json_path_key(fpath, path, "guest_file"), 0, 63, &want, e) < 0)
                        return -EINVAL;
                if (get_uuid(o, path, "vm", uuid, e) < 0)
                        return -EINVAL;
                if (!c->apply)
                        return 0;
                vm = model_find_vm(sim_world(c->sim), uuid);
                if (!vm)
                        return json_error_set_errno(e, -ENOENT, path, "no VM %s in the scenario", uuid);
                if (vcpu >= vm->nr_vcpus)
                        return json_error_set(e, json_path_key(fpath, path, "vcpu"), "no such vCPU");
                if (any ? vm->vcpus[vcpu].guest_file == 0 : vm->vcpus[vcpu].guest_file != want)
                        return json_error_set_errno(e, -EBADE, path, "VM %s vCPU %u holds guest file %u, expected %s",
                                                    uuid, vcpu, vm->vcpus[vcpu].guest_file,
                                                    any ? "any" : json_object_get_string(gf));
                return 0;
        }

        if (json_object_object_get_ex(o, "violations", NULL)) {
                uint32_t n;

                r = json_get_uint32(o, path, "violations", true, 0, UINT32_MAX, &n, e);
                if (r < 0)
                        return r;
                if (c->apply && (!d || d->n_violations != n))
                        return json_error_set_errno(e, -EBADE, path, "%zu violations, expected %u",
                                                    d ? d->n_violations : 0, n);
                return 0;
        }
        (void) s;
        return json_error_set(e, path, "an expectation needs 'device', 'vm' or 'violations'");
}

static int forge_msi(StepContext *c, json_object *o, const char *path, JsonError *e) {
        static const char *const keys[] = { "event", "device", "hart", "vcpu", "addr", "data", "expect", "cause", NULL };
        char name[DEVICE_NAME_MAX], fpath[JSON_PATH_MAX];
        const char *expect = NULL;
        uint32_t data = 1, cause = 0, hart = NO_HART, vcpu = NO_HART;
        int64_t addr = -1, x;
        SimMsiResult res;
        int r, has_cause;

        r = json_check_keys(o, path, keys, e);
        if (r < 0)
                return r;
        r = get_device_name(o, path, "device", name, e);
        if (r < 0)
                return r;
        if ((r = json_get_uint32(o, path, "data", false, 0, UINT32_MAX, &data, e)) < 0 ||
            (r = json_get_string(o, path, "expect", false, &expect, e)) < 0)
                return r;
        has_cause = json_get_uint32(o, path, "cause", false, 0, 4095, &cause, e);
        if (has_cause < 0)
                return has_cause;
        r = json_get_int64(o, path, "hart", false, 0, GEOMETRY_MAX_HARTS - 1, &x, e);
        if (r < 0)
                return r;
        if (r > 0)
                hart = (uint32_t) x;
        r = json_get_int64(o, path, "vcpu", false, 0, VM_MAX_VCPUS - 1, &x, e);
        if (r < 0)
                return r;
        if (r > 0)
                vcpu = (uint32_t) x;
        r = json_get_int64(o, path, "addr", false, 0, INT64_MAX, &addr, e);
        if (r < 0)
                return r;
        if ((hart != NO_HART) + (vcpu != NO_HART) + (addr >= 0) != 1)
                return json_error_set(e, path, "give exactly one of 'hart', 'vcpu' or 'addr'");
        if (expect) {
                bool ok = false;

                for (int i = 0; i < _SIM_MSI_OUTCOME_MAX; i++)
                        if (streq(expect, sim_msi_outcome_to_string(i)))
                                ok = true;
                if (!ok)
                        return json_error_set(e, json_path_key(fpath, path, "expect"), "unknown outcome '%s'", expect);
        }
        if (!c->apply)
                return 0;

        if (addr < 0) {
                uint64_t a;

                r = sim_target_addr(c->sim, name, hart != NO_HART ? TARGET_HART(hart) : TARGET_VCPU(vcpu), &a);
                if (r < 0)
                        return json_error_set_errno(e, r, path, "no address for that target: %s", strerror(-r));
                addr = (int64_t) a;
        }
        r = sim_msi_write(c->sim, name, (uint64_t) addr, data, &res);
        if (r < 0)
                return json_error_set_errno(e, r, path, "write failed: %s", strerror(-r));
        if (expect && !streq(expect, sim_msi_outcome_to_string(res.outcome)))
                return json_error_set_errno(e, -EBADE, path, "MSI from %s to 0x%" PRIx64 ": %s, expected %s", name,
                                            (uint64_t) addr, sim_msi_outcome_to_string(res.outcome), expect);
        if (has_cause > 0 && res.cause != cause)
                return json_error_set_errno(e, -EBADE, path, "fault cause %u, expected %u", res.cause, cause);
        return 0;
}

static int run_event(StepContext *c, json_object *o, const char *path, JsonError *e) {
        static const struct {
                const char *name;
                VmState state;
        } states[] = {
                { "vm_start", VM_RUNNING },
                { "vm_resume", VM_RUNNING },
                { "vm_pause", VM_PAUSED },
                { "vm_stop", VM_STOPPED },
                { "vm_migrate_out", VM_MIGRATING_OUT },
                { "vm_migrate_in", VM_MIGRATING_IN },
        };
        const Model *world = sim_world(c->sim);
        char uuid[UUID_STRING_MAX], name[DEVICE_NAME_MAX], fpath[JSON_PATH_MAX];
        const char *ev;
        int r;

        r = json_get_string(o, path, "event", true, &ev, e);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(states); i++)
                if (streq(ev, states[i].name)) {
                        static const char *const keys[] = { "event", "vm", NULL };
                        Vm *vm;

                        r = json_check_keys(o, path, keys, e);
                        if (r < 0)
                                return r;
                        if (get_uuid(o, path, "vm", uuid, e) < 0)
                                return -EINVAL;
                        if (!c->apply)
                                return 0;
                        r = sim_vm_set_state(c->sim, uuid, states[i].state);
                        if (r < 0)
                                return json_error_set_errno(e, r, path, "%s %s: %s", ev, uuid, strerror(-r));
                        vm = model_find_vm(c->model, uuid);
                        if (vm)
                                (void) model_vm_set_state(c->model, vm, states[i].state);
                        r = mirror_vcpus(world, c->model, uuid);
                        if (r < 0)
                                return r;
                        reconciler_mark_dirty(c->reconciler, DIRTY_VM, uuid);
                        return 0;
                }

        if (streq(ev, "vcpu_move")) {
                static const char *const keys[] = { "event", "vm", "vcpu", "hart", NULL };
                uint32_t vcpu, hart;

                if ((r = json_check_keys(o, path, keys, e)) < 0 ||
                    (r = json_get_uint32(o, path, "vcpu", true, 0, VM_MAX_VCPUS - 1, &vcpu, e)) < 0 ||
                    (r = get_hart(o, path, "hart", true, world->geometry.nr_harts, &hart, e)) < 0)
                        return r;
                if (get_uuid(o, path, "vm", uuid, e) < 0)
                        return -EINVAL;
                if (!c->apply)
                        return 0;
                r = sim_vcpu_move(c->sim, uuid, vcpu, hart);
                if (r < 0)
                        return json_error_set_errno(e, r, path, "vcpu_move: %s", strerror(-r));
                r = mirror_vcpus(world, c->model, uuid);
                if (r < 0)
                        return r;
                reconciler_mark_dirty(c->reconciler, DIRTY_VM, uuid);
                return 0;
        }

        if (streq(ev, "affinity")) {
                static const char *const keys[] = { "event", "device", "vector", "hart", NULL };
                uint32_t vector, hart;

                if ((r = json_check_keys(o, path, keys, e)) < 0 ||
                    (r = get_device_name(o, path, "device", name, e)) < 0 ||
                    (r = json_get_uint32(o, path, "vector", true, 0, DEVICE_MAX_VECTORS - 1, &vector, e)) < 0 ||
                    (r = get_hart(o, path, "hart", true, world->geometry.nr_harts, &hart, e)) < 0)
                        return r;
                if (!c->apply)
                        return 0;
                r = sim_set_affinity(c->sim, name, vector, hart);
                if (r < 0)
                        return json_error_set_errno(e, r, path, "affinity: %s", strerror(-r));
                r = mirror_device(world, c->model, name);
                if (r < 0)
                        return r;
                reconciler_mark_dirty(c->reconciler, DIRTY_DEVICE, name);
                return 0;
        }

        if (streq(ev, "attach") || streq(ev, "detach")) {
                static const char *const keys[] = { "event", "device", "vm", "owner", "label", "vectors", NULL };
                _cleanup_free_ Vector *vectors = NULL;
                const char *owner_s = "host", *label = NULL;
                bool attach = streq(ev, "attach");
                OwnerKind owner = OWNER_VM;
                bool has_vectors;
                uint32_t nv;

                if ((r = json_check_keys(o, path, keys, e)) < 0 ||
                    (r = get_device_name(o, path, "device", name, e)) < 0)
                        return r;
                if (attach) {
                        if (get_uuid(o, path, "vm", uuid, e) < 0)
                                return -EINVAL;
                } else {
                        r = json_get_string(o, path, "owner", false, &owner_s, e);
                        if (r < 0)
                                return r;
                        owner = owner_kind_from_string(owner_s);
                        if (owner < 0 || owner == OWNER_VM)
                                return json_error_set(e, json_path_key(fpath, path, "owner"),
                                                      "detach to 'host', 'userspace' or 'none'");
                        r = json_get_string(o, path, "label", false, &label, e);
                        if (r < 0)
                                return r;
                }
                has_vectors = json_object_object_get_ex(o, "vectors", NULL);
                r = parse_vectors(o, path, world->geometry.nr_harts, &vectors, &nv, e);
                if (r < 0)
                        return r;
                if (!c->apply)
                        return 0;
                r = sim_device_set_owner(c->sim, name, owner, attach ? uuid : label);
                if (r < 0)
                        return json_error_set_errno(e, r, path, "%s: %s", ev, strerror(-r));
                if (has_vectors) {
                        r = sim_device_set_vectors(c->sim, name, nv, vectors);
                        if (r < 0)
                                return json_error_set_errno(e, r, path, "%s: vectors: %s", ev, strerror(-r));
                }
                r = mirror_device(world, c->model, name);
                if (r < 0)
                        return r;
                reconciler_mark_dirty(c->reconciler, DIRTY_DEVICE, name);
                return 0;
        }

        if (streq(ev, "device_add")) {
                json_object *d;

                r = json_get_object(o, path, "device", true, &d, e);
                if (r < 0)
                        return r;
                r = add_device(c->sim, c->model, d, json_path_key(fpath, path, "device"), c->apply, e);
                if (r < 0 || !c->apply)
                        return r;
                reconciler_mark_dirty(c->reconciler, DIRTY_DEVICE,
                                      json_object_get_string(json_object_object_get(d, "name")));
                return 0;
        }

        if (streq(ev, "device_remove")) {
                static const char *const keys[] = { "event", "device", NULL };

                if ((r = json_check_keys(o, path, keys, e)) < 0 ||
                    (r = get_device_name(o, path, "device", name, e)) < 0)
                        return r;
                if (!c->apply)
                        return 0;
                r = sim_remove_device(c->sim, name);
                if (r < 0)
                        return json_error_set_errno(e, r, path, "device_remove: %s", strerror(-r));
                r = mirror_device(world, c->model, name);
                if (r < 0)
                        return r;
                reconciler_mark_dirty(c->reconciler, DIRTY_DEVICE, name);
                return 0;
        }

        if (streq(ev, "vm_add")) {
                json_object *v;

                r = json_get_object(o, path, "vm", true, &v, e);
                if (r < 0)
                        return r;
                r = add_vm(c->sim, c->model, v, json_path_key(fpath, path, "vm"), c->apply, e);
                if (r < 0 || !c->apply)
                        return r;
                reconciler_mark_dirty(c->reconciler, DIRTY_VM, json_object_get_string(json_object_object_get(v, "uuid")));
                return 0;
        }

        if (streq(ev, "vm_remove")) {
                static const char *const keys[] = { "event", "vm", NULL };

                if ((r = json_check_keys(o, path, keys, e)) < 0)
                        return r;
                if (get_uuid(o, path, "vm", uuid, e) < 0)
                        return -EINVAL;
                if (!c->apply)
                        return 0;
                r = sim_remove_vm(c->sim, uuid);
                if (r < 0)
                        return json_error_set_errno(e, r, path, "vm_remove: %s", strerror(-r));
                (void) model_remove_vm(c->model, uuid);
                reconciler_mark_dirty(c->reconciler, DIRTY_VM, uuid);
                return 0;
        }

        if (streq(ev, "set_class") || streq(ev, "set_priority")) {
                static const char *const keys[] = { "event", "vm", "class", "priority", NULL };
                const char *cls = NULL;
                int64_t prio = 0;
                IsolationClass k = _CLASS_INVALID;
                bool is_class = streq(ev, "set_class");
                Vm *vm;

                if ((r = json_check_keys(o, path, keys, e)) < 0)
                        return r;
                if (get_uuid(o, path, "vm", uuid, e) < 0)
                        return -EINVAL;
                if (is_class) {
                        r = json_get_string(o, path, "class", true, &cls, e);
                        if (r < 0)
                                return r;
                        k = isolation_class_from_string(cls);
                        if (k < 0)
                                return json_error_set(e, json_path_key(fpath, path, "class"), "unknown class '%s'", cls);
                } else {
                        r = json_get_int64(o, path, "priority", true, POLICY_PRIORITY_MIN, POLICY_PRIORITY_MAX, &prio, e);
                        if (r < 0)
                                return r;
                }
                if (!c->apply)
                        return 0;
                vm = model_find_vm(c->model, uuid);
                if (!vm)
                        return json_error_set_errno(e, -ENOENT, path, "no VM %s", uuid);
                r = is_class ? model_vm_set_class(c->model, vm, k) : model_vm_set_priority(c->model, vm, true, (int32_t) prio);
                if (r < 0)
                        return json_error_set_errno(e, r, path, "%s: %s", ev, strerror(-r));
                reconciler_mark_dirty(c->reconciler, DIRTY_VM, uuid);
                return 0;
        }

        if (streq(ev, "reserve")) {
                static const char *const keys[] = { "event", "hart", "guest_files", NULL };
                json_object *a;
                uint32_t hart;
                uint64_t mask = 0;

                if ((r = json_check_keys(o, path, keys, e)) < 0 ||
                    (r = get_hart(o, path, "hart", true, world->geometry.nr_harts, &hart, e)) < 0 ||
                    (r = json_get_array(o, path, "guest_files", true, &a, e)) < 0)
                        return r;
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        char ipath[JSON_PATH_MAX];
                        int64_t g;

                        json_path_index(ipath, json_path_key(fpath, path, "guest_files"), i);
                        r = json_check_int64(json_object_array_get_idx(a, i), ipath, 1,
                                             world->geometry.nr_guest_files, &g, e);
                        if (r < 0)
                                return r;
                        mask |= UINT64_C(1) << g;
                }
                if (!c->apply)
                        return 0;
                r = sim_set_hart_reserved(c->sim, hart, mask);
                if (r < 0)
                        return json_error_set_errno(e, r, path, "reserve: %s", strerror(-r));
                r = model_set_hart_reserved(c->model, hart, mask);
                if (r < 0)
                        return r;
                reconciler_mark_dirty(c->reconciler, DIRTY_ALL, NULL);
                return 0;
        }

        if (streq(ev, "forge_msi"))
                return forge_msi(c, o, path, e);
        if (streq(ev, "expect"))
                return expect_check(c, o, path, e);

        return json_error_set(e, json_path_key(fpath, path, "event"), "unknown event '%s'", ev);
}

/* ---- load, setup, step, run ---- */

int scenario_parse_buffer(const char *buf, size_t len, const char *name, Scenario **ret, JsonError *e) {
        static const char *const keys[] = { "version", "name", "geometry", "policy", "vms", "devices", "timeline", NULL };
        static const char *const geo_keys[] = { "groups", "harts", "guest_files", "ids", NULL };
        _cleanup_(scenario_freep) Scenario *s = NULL;
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        json_object *geo, *x;
        const char *n = NULL;
        uint32_t version;
        Geometry g = { .nr_groups = 1, .nr_ids = 255 };
        int r;

        assert_return(buf && ret, -EINVAL);

        s = new0(Scenario, 1);
        if (!s)
                return -ENOMEM;
        json_error_set_file(e, name);
        r = json_parse_buffer(buf, len, name, &s->root, e);
        if (r < 0)
                return r;
        r = json_check_keys(s->root, "", keys, e);
        if (r < 0)
                return r;
        r = json_get_uint32(s->root, "", "version", true, 0, UINT32_MAX, &version, e);
        if (r < 0)
                return r;
        if (version != SCENARIO_VERSION)
                return json_error_set_errno(e, -EPROTONOSUPPORT, "version", "unsupported scenario version %u", version);
        r = json_get_string(s->root, "", "name", false, &n, e);
        if (r < 0)
                return r;
        (void) snprintf(s->name, sizeof(s->name), "%s", n ?: strempty(name));
        r = json_get_object(s->root, "", "geometry", true, &geo, e);
        if (r < 0)
                return r;
        if ((r = json_check_keys(geo, "geometry", geo_keys, e)) < 0 ||
            (r = json_get_uint32(geo, "geometry", "groups", false, 1, 256, &g.nr_groups, e)) < 0 ||
            (r = json_get_uint32(geo, "geometry", "harts", true, 1, GEOMETRY_MAX_HARTS, &g.nr_harts, e)) < 0 ||
            (r = json_get_uint32(geo, "geometry", "guest_files", true, 0, GEOMETRY_MAX_GUEST_FILES, &g.nr_guest_files, e)) < 0 ||
            (r = json_get_uint32(geo, "geometry", "ids", false, 63, 2047, &g.nr_ids, e)) < 0)
                return r;
        if (geometry_validate(&g) < 0)
                return json_error_set(e, "geometry", "inconsistent geometry (harts must be a multiple of groups)");
        r = json_get_array(s->root, "", "timeline", false, &s->timeline, e);
        if (r < 0)
                return r;

        /*
         * Validate everything now, so that a bad file is rejected before
         * anything runs: build the world once and dry-run every event.
         */
        r = scenario_setup(s, &b, &m, &p, e);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(s->root, "policy", &x) && !x)
                return json_error_set(e, "policy", "expected an object");
        for (size_t i = 0; i < scenario_n_steps(s); i++) {
                StepContext c = { .sim = backend_sim(b), .backend = b, .model = m, .apply = false };
                char path[JSON_PATH_MAX];
                json_object *ev = json_object_array_get_idx(s->timeline, i);

                json_path_index(path, "timeline", i);
                if (!json_object_is_type(ev, json_type_object))
                        return json_error_set(e, path, "expected an event object");
                r = run_event(&c, ev, path, e);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int scenario_load_file(const char *path, Scenario **ret, JsonError *e) {
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        assert_return(path && ret, -EINVAL);
        json_error_set_file(e, path);
        r = read_full_file(path, 16U * 1024U * 1024U, &buf, &size);
        if (r < 0)
                return json_error_set_errno(e, r, "", "cannot read file: %s", strerror(-r));
        return scenario_parse_buffer(buf, size, path, ret, e);
}

int scenario_setup(const Scenario *s, Backend **ret_backend, Model **ret_model, Policy **ret_policy, JsonError *e) {
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        json_object *geo, *pol = NULL, *vms = NULL, *devs = NULL;
        Geometry g = { .nr_groups = 1, .nr_ids = 255 };
        Sim *sim;
        int r;

        assert_return(s && ret_backend && ret_model && ret_policy, -EINVAL);

        r = json_get_object(s->root, "", "geometry", true, &geo, e);
        if (r < 0)
                return r;
        (void) json_get_uint32(geo, "geometry", "groups", false, 1, 256, &g.nr_groups, e);
        (void) json_get_uint32(geo, "geometry", "harts", true, 1, GEOMETRY_MAX_HARTS, &g.nr_harts, e);
        (void) json_get_uint32(geo, "geometry", "guest_files", true, 0, 63, &g.nr_guest_files, e);
        (void) json_get_uint32(geo, "geometry", "ids", false, 63, 2047, &g.nr_ids, e);
        r = backend_sim_new(&g, &b);
        if (r < 0)
                return json_error_set_errno(e, r, "geometry", "the sim cannot model this geometry: %s", strerror(-r));
        sim = backend_sim(b);
        r = model_new(&g, &m);
        if (r < 0)
                return r;

        r = json_get_object(s->root, "", "policy", false, &pol, e);
        if (r < 0)
                return r;
        if (r > 0) {
                r = policy_from_json(pol, &p, e);
                if (r < 0) {
                        /* Paths inside the embedded policy are relative to "policy". */
                        char f[JSON_PATH_MAX + 16];

                        if (e) {
                                (void) snprintf(f, sizeof(f), "policy%s%s", isempty(e->field) ? "" : ".", e->field);
                                f[JSON_PATH_MAX - 1] = '\0';
                                memcpy(e->field, f, sizeof(e->field));
                        }
                        return r;
                }
        } else {
                r = policy_new_default(&p);
                if (r < 0)
                        return r;
        }

        r = json_get_array(s->root, "", "vms", false, &vms, e);
        if (r < 0)
                return r;
        for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
                char path[JSON_PATH_MAX];

                json_path_index(path, "vms", i);
                r = add_vm(sim, m, json_object_array_get_idx(vms, i), path, true, e);
                if (r < 0)
                        return r;
        }
        r = json_get_array(s->root, "", "devices", false, &devs, e);
        if (r < 0)
                return r;
        for (size_t i = 0; devs && i < json_object_array_length(devs); i++) {
                char path[JSON_PATH_MAX];

                json_path_index(path, "devices", i);
                r = add_device(sim, m, json_object_array_get_idx(devs, i), path, true, e);
                if (r < 0)
                        return r;
        }
        r = mirror_all_vcpus(sim_world(sim), m);
        if (r < 0)
                return r;

        *ret_backend = TAKE_PTR(b);
        *ret_model = TAKE_PTR(m);
        *ret_policy = TAKE_PTR(p);
        return 0;
}

int scenario_step(const Scenario *s, size_t i, Backend *b, Model *m, Reconciler *r, JsonError *e) {
        StepContext c = { .sim = backend_sim(b), .backend = b, .model = m, .reconciler = r, .apply = true };
        char path[JSON_PATH_MAX];

        assert_return(s && b && m && r, -EINVAL);
        if (!c.sim)
                return -EOPNOTSUPP;     /* scenarios drive the simulated world only */
        if (i >= scenario_n_steps(s))
                return -ERANGE;
        json_path_index(path, "timeline", i);
        json_error_set_file(e, s->name);
        return run_event(&c, json_object_array_get_idx(s->timeline, i), path, e);
}

int scenario_run(const Scenario *s, ScenarioReport *ret, JsonError *e) {
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(model_freep) Model *m = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(reconciler_freep) Reconciler *rec = NULL;
        ScenarioReport rep = {};
        ReconcileStats st;
        SimCounters cnt;
        const char *first;
        int r;

        assert_return(s && ret, -EINVAL);

        r = scenario_setup(s, &b, &m, &p, e);
        if (r < 0)
                return r;
        r = reconciler_new(m, &p, b, &rec);
        if (r < 0)
                return r;
        r = reconciler_resync(rec, &st);
        if (r < 0)
                return json_error_set_errno(e, r, "", "initial resync failed: %s", strerror(-r));
        rep.n_ops += st.n_applied;

        for (size_t i = 0; i < scenario_n_steps(s); i++) {
                json_object *ev = json_object_array_get_idx(s->timeline, i);
                const char *type = json_object_get_string(json_object_object_get(ev, "event"));

                r = scenario_step(s, i, b, m, rec, e);
                if (r < 0)
                        return r;
                if (streq_ptr(type, "expect") || streq_ptr(type, "forge_msi"))
                        rep.n_expectations++;
                r = reconciler_run(rec, &st);
                if (r < 0) {
                        char path[JSON_PATH_MAX];

                        return json_error_set_errno(e, r, json_path_index(path, "timeline", i),
                                                    "reconcile failed: %s", strerror(-r));
                }
                rep.n_ops += st.n_applied;
                rep.n_steps++;
                if (sim_n_violations(backend_sim(b), &first) > 0) {
                        char path[JSON_PATH_MAX];

                        return json_error_set_errno(e, -ENOTRECOVERABLE, json_path_index(path, "timeline", i),
                                                    "invariant violated: %s", first);
                }
        }
        sim_get_counters(backend_sim(b), &cnt);
        rep.faults = cnt.faults;
        rep.notices = cnt.notices;
        rep.delivered = cnt.delivered;
        rep.n_violations = reconciler_desired(rec) ? reconciler_desired(rec)->n_violations : 0;
        rep.n_invariant_violations = sim_n_violations(backend_sim(b), NULL);
        *ret = rep;
        return 0;
}
