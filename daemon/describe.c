/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Describe() document: everything rvmsid knows (daemon, host, policy,
 * VMs, devices with every target's decision, unsatisfied requirements,
 * recent faults) as one JSON object. Kept apart from manager.c so that the
 * document's shape lives in one place for every reader of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rvmsi.h>

#include "config.h"

#include "bus-names.h"
#include "json-util.h"
#include "manager.h"
#include "policy-json.h"
#include "strv.h"

static json_object *json_str(const char *s) {
        return json_object_new_string(strempty(s));
}

static int describe_device(Manager *m, const Device *d, json_object **ret) {
        _cleanup_json_ json_object *o = NULL, *targets = NULL;
        const DeviceState *s = manager_device_desired(m, d->name);

        o = json_object_new_object();
        targets = json_object_new_array();
        if (!o || !targets)
                return -ENOMEM;
        json_object_object_add(o, "pci", json_str(d->name));
        json_object_object_add(o, "owner", json_str(owner_kind_to_string(d->owner)));
        json_object_object_add(o, "vm", json_str(d->owner == OWNER_VM ? d->owner_vm : ""));
        json_object_object_add(o, "mode", json_str(s ? mode_to_string(s->mode) : RVMSI_MODE_BLOCKED));
        json_object_object_add(o, "reason", json_str(s ? reason_to_string(s->reason) : ""));
        json_object_object_add(o, "vectors", json_object_new_uint64(d->nr_vectors));
        json_object_object_add(o, "locked", json_object_new_boolean(d->locked));
        json_object_object_add(o, "isolation", json_str(s ? isolation_to_string(s->isolation) : "none"));
        json_object_object_add(o, "violation", json_object_new_boolean(s && s->violation));
        json_object_object_add(o, "faults", json_object_new_uint64(manager_device_faults(m, d->name)));
        json_object_object_add(o, "applied", json_object_new_boolean(s && s->apply_state == APPLY_DONE));
        json_object_object_add(o, "apply_state",
                               json_str(apply_state_to_string(s ? (ApplyState) s->apply_state : APPLY_PENDING)));
        if (s && s->apply_state == APPLY_FAILED)
                json_object_object_add(o, "apply_error", json_str(strerror(-s->apply_error)));
        for (uint32_t i = 0; s && i < s->n_entries; i++) {
                const Entry *en = &s->entries[i];
                json_object *t = json_object_new_object();
                char buf[32];

                if (!t)
                        return -ENOMEM;
                json_object_object_add(t, "target", json_str(target_to_string(en->target, buf)));
                json_object_object_add(t, "mode", json_str(entry_mode_string(en)));
                json_object_object_add(t, "reason", json_str(reason_to_string(en->reason)));
                json_object_object_add(t, "text", json_str(reason_describe(en->reason)));
                if (en->hart != NO_HART)
                        json_object_object_add(t, "hart", json_object_new_uint64(en->hart));
                if (en->guest > 0)
                        json_object_object_add(t, "guest", json_object_new_uint64(en->guest));
                json_object_object_add(t, "vectors", json_object_new_uint64(en->refcount));
                json_object_array_add(targets, t);
        }
        json_object_object_add(o, "targets", TAKE_PTR(targets));
        *ret = TAKE_PTR(o);
        return 0;
}

static int describe_vm(Manager *m, const Vm *vm, json_object **ret) {
        _cleanup_json_ json_object *o = NULL, *pins = NULL, *devs = NULL, *uns = NULL, *vcpus = NULL;
        _cleanup_strv_free_ char **l = NULL;
        uint32_t gf, mrif;
        int r;

        o = json_object_new_object();
        pins = json_object_new_array();
        devs = json_object_new_array();
        uns = json_object_new_array();
        vcpus = json_object_new_array();
        if (!o || !pins || !devs || !uns || !vcpus)
                return -ENOMEM;
        (void) manager_vm_counts(m, vm, &gf, &mrif);
        json_object_object_add(o, "name", json_str(vm->name));
        json_object_object_add(o, "uuid", json_str(vm->uuid));
        json_object_object_add(o, "vcpus", json_object_new_uint64(vm->nr_vcpus));
        json_object_object_add(o, "class", json_str(isolation_class_to_string(policy_vm_class(m->policy, vm))));
        json_object_object_add(o, "priority", json_object_new_int(policy_vm_priority(m->policy, vm)));
        json_object_object_add(o, "state", json_str(vm_state_to_string(vm->state)));
        for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
                json_object *v;

                if (vm->vcpus[i].n_pin_cpus > 0) {
                        json_object *p = json_object_new_object(), *cpus = json_object_new_array();

                        if (!p || !cpus) {
                                json_object_put(p);
                                json_object_put(cpus);
                                return -ENOMEM;
                        }
                        for (uint32_t c = 0; c < vm->vcpus[i].n_pin_cpus; c++)
                                json_object_array_add(cpus, json_object_new_uint64(vm->vcpus[i].pin_cpus[c]));
                        json_object_object_add(p, "vcpu", json_object_new_uint64(i));
                        json_object_object_add(p, "cpus", cpus);
                        json_object_array_add(pins, p);
                }
                v = json_object_new_object();
                if (!v)
                        return -ENOMEM;
                json_object_object_add(v, "vcpu", json_object_new_uint64(i));
                if (vm->vcpus[i].hart != NO_HART)
                        json_object_object_add(v, "hart", json_object_new_uint64(vm->vcpus[i].hart));
                json_object_object_add(v, "guest_file", json_object_new_uint64(vm->vcpus[i].guest_file));
                json_object_array_add(vcpus, v);
        }
        for (size_t i = 0; i < vm->n_devices; i++)
                json_object_array_add(devs, json_str(vm->devices[i]->name));
        r = manager_vm_unsatisfied(m, vm, &l);
        if (r < 0)
                return r;
        STRV_FOREACH(s, l)
                json_object_array_add(uns, json_str(*s));
        json_object_object_add(o, "pinning", TAKE_PTR(pins));
        json_object_object_add(o, "placement", TAKE_PTR(vcpus));
        json_object_object_add(o, "devices", TAKE_PTR(devs));
        json_object_object_add(o, "guest_files", json_object_new_uint64(gf));
        json_object_object_add(o, "mrif_targets", json_object_new_uint64(mrif));
        json_object_object_add(o, "unsatisfied", TAKE_PTR(uns));
        *ret = TAKE_PTR(o);
        return 0;
}

static int vm_name_cmp(const void *a, const void *b) {
        const Vm *const *x = a, *const *y = b;

        return strcmp((*x)->name, (*y)->name);
}

int manager_describe(Manager *m, char **ret) {
        _cleanup_json_ json_object *root = NULL, *daemon = NULL, *host = NULL, *policy = NULL, *vms = NULL,
                *devices = NULL, *faults = NULL, *unsat = NULL;
        _cleanup_free_ Vm **sorted = NULL;
        _cleanup_free_ char *status = NULL;
        const Geometry *g = &m->model->geometry;
        int r;

        root = json_object_new_object();
        daemon = json_object_new_object();
        host = json_object_new_object();
        vms = json_object_new_array();
        devices = json_object_new_array();
        faults = json_object_new_array();
        unsat = json_object_new_array();
        status = manager_status(m);
        if (!root || !daemon || !host || !vms || !devices || !faults || !unsat || !status)
                return -ENOMEM;

        json_object_object_add(root, "version", json_object_new_int(1));
        json_object_object_add(daemon, "version", json_str(PACKAGE_VERSION));
        json_object_object_add(daemon, "backend", json_str(backend_name(m->backend)));
        json_object_object_add(daemon, "status", json_str(status));
        json_object_object_add(daemon, "degraded", json_object_new_boolean(m->degraded || m->reload_failed ||
                                                                           m->backend_failed ||
                                                                           manager_n_unsatisfied(m) > 0));
        json_object_object_add(daemon, "affinity_source", json_str(affinity_source_to_string(m->affinity)));
        json_object_object_add(daemon, "policy_source", json_str(m->policy_source));
        json_object_object_add(daemon, "policy_generation", json_object_new_uint64(m->policy_generation));
        json_object_object_add(root, "daemon", TAKE_PTR(daemon));

        json_object_object_add(host, "groups", json_object_new_uint64(g->nr_groups));
        json_object_object_add(host, "harts", json_object_new_uint64(g->nr_harts));
        json_object_object_add(host, "guest_files_per_hart", json_object_new_uint64(g->nr_guest_files));
        json_object_object_add(host, "ids", json_object_new_uint64(g->nr_ids));
        json_object_object_add(host, "guest_files_total", json_object_new_uint64(g->nr_harts * g->nr_guest_files));
        json_object_object_add(host, "guest_files_free", json_object_new_uint64(manager_guest_files_free(m)));
        json_object_object_add(root, "host", TAKE_PTR(host));

        r = policy_to_json(m->policy, &policy);
        if (r < 0)
                return r;
        json_object_object_add(root, "policy", TAKE_PTR(policy));

        if (m->model->n_vms > 0) {
                sorted = new(Vm *, m->model->n_vms);
                if (!sorted)
                        return -ENOMEM;
                memcpy(sorted, m->model->vms, m->model->n_vms * sizeof(Vm *));
                qsort(sorted, m->model->n_vms, sizeof(Vm *), vm_name_cmp);
        }
        for (size_t i = 0; i < m->model->n_vms; i++) {
                json_object *o;

                r = describe_vm(m, sorted[i], &o);
                if (r < 0)
                        return r;
                json_object_array_add(vms, o);
        }
        json_object_object_add(root, "vms", TAKE_PTR(vms));

        for (size_t i = 0; i < m->model->n_devices; i++) {
                const Device *d = m->model->devices[i];
                const DeviceState *s = manager_device_desired(m, d->name);
                json_object *o;

                r = describe_device(m, d, &o);
                if (r < 0)
                        return r;
                json_object_array_add(devices, o);
                if (s && s->violation) {
                        json_object *u = json_object_new_object();
                        _cleanup_free_ char *text = NULL;

                        if (!u)
                                return -ENOMEM;
                        (void) solver_explain(m->model, m->policy, s, NULL, &text);
                        json_object_object_add(u, "vm", json_str(d->owner == OWNER_VM ? d->owner_vm : ""));
                        json_object_object_add(u, "device", json_str(d->name));
                        json_object_object_add(u, "text", json_str(text ?: reason_describe(s->reason)));
                        json_object_array_add(unsat, u);
                }
        }
        json_object_object_add(root, "devices", TAKE_PTR(devices));
        json_object_object_add(root, "unsatisfied", TAKE_PTR(unsat));

        for (size_t i = 0; i < m->n_faults; i++) {
                const FaultRecord *f = &m->faults[(m->fault_head + i) % MANAGER_N_FAULTS];
                json_object *o = json_object_new_object();

                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "device", json_str(f->device));
                json_object_object_add(o, "cause", json_object_new_uint64(f->cause));
                json_object_object_add(o, "address", json_object_new_uint64(f->addr));
                json_object_object_add(o, "target", json_str(f->target));
                json_object_object_add(o, "time", json_object_new_uint64(f->time));
                json_object_array_add(faults, o);
        }
        json_object_object_add(root, "faults", TAKE_PTR(faults));

        return json_to_string_pretty(root, ret);
}
