/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Describe() document: everything rvmsid knows (daemon, host, policy,
 * VMs, devices with every target's decision, unsatisfied requirements,
 * recent faults) as one JSON object. Kept apart from manager.c so that the
 * document's shape lives in one place for every reader of it: Describe()
 * writes all of it, DescribeSelected() the same members for a selection and
 * one page of it (describe.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rvmsi.h>

#include "config.h"

#include "bus-names.h"
#include "describe.h"
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

static const char *const section_names[_DESCRIBE_SECTION_MAX] = {
        [DESCRIBE_SECTION_DAEMON] = "daemon",
        [DESCRIBE_SECTION_HOST] = "host",
        [DESCRIBE_SECTION_POLICY] = "policy",
        [DESCRIBE_SECTION_VMS] = "vms",
        [DESCRIBE_SECTION_DEVICES] = "devices",
        [DESCRIBE_SECTION_UNSATISFIED] = "unsatisfied",
        [DESCRIBE_SECTION_FAULTS] = "faults",
};

const char *describe_section_to_string(DescribeSection s) {
        return s >= 0 && s < _DESCRIBE_SECTION_MAX ? section_names[s] : NULL;
}

DescribeSection describe_section_from_string(const char *s) {
        for (DescribeSection i = 0; i < _DESCRIBE_SECTION_MAX; i++)
                if (streq_ptr(s, section_names[i]))
                        return i;
        return _DESCRIBE_SECTION_INVALID;
}

#define SECTIONS_ALL ((1U << _DESCRIBE_SECTION_MAX) - 1)
#define HAS(sections, s) (((sections) & (1U << (s))) != 0)

/* By name; VMs without one (a scenario or the sim may leave it out) after those with, by UUID. */
static int vm_name_cmp(const void *a, const void *b) {
        const Vm *x = *(const Vm *const *) a, *y = *(const Vm *const *) b;

        if (x->name && y->name)
                return strcmp(x->name, y->name);
        if (x->name || y->name)
                return x->name ? -1 : 1;
        return strcmp(x->uuid, y->uuid);
}

int manager_vms_by_name(Manager *m, Vm ***ret) {
        Vm **sorted = NULL;

        if (m->model->n_vms > 0) {
                sorted = new(Vm *, m->model->n_vms);
                if (!sorted)
                        return -ENOMEM;
                memcpy(sorted, m->model->vms, m->model->n_vms * sizeof(Vm *));
                qsort(sorted, m->model->n_vms, sizeof(Vm *), vm_name_cmp);
        }
        *ret = sorted;
        return 0;
}

/*
 * The document: "version", then the sections asked for, for exactly these
 * VMs and devices (already in the document's order). "unsatisfied" lists
 * the requirements of these devices, so that the pages of a paged read
 * concatenate to what a single read would give.
 */
static int describe_build(Manager *m, unsigned sections, Vm *const *vms, size_t n_vms, Device *const *devs,
                          size_t n_devs, json_object **ret) {
        _cleanup_json_ json_object *root = NULL, *devices = NULL, *unsat = NULL;
        int r;

        root = json_object_new_object();
        if (!root)
                return -ENOMEM;
        json_object_object_add(root, "version", json_object_new_int(1));

        if (HAS(sections, DESCRIBE_SECTION_DAEMON)) {
                _cleanup_json_ json_object *daemon = json_object_new_object();
                _cleanup_free_ char *status = manager_status(m);

                if (!daemon || !status)
                        return -ENOMEM;
                json_object_object_add(daemon, "version", json_str(PACKAGE_VERSION));
                json_object_object_add(daemon, "backend", json_str(backend_name(m->backend)));
                json_object_object_add(daemon, "status", json_str(status));
                json_object_object_add(daemon, "degraded",
                                       json_object_new_boolean(m->degraded || m->reload_failed ||
                                                               m->backend_failed || manager_n_unsatisfied(m) > 0));
                json_object_object_add(daemon, "affinity_source", json_str(affinity_source_to_string(m->affinity)));
                json_object_object_add(daemon, "policy_source", json_str(m->policy_source));
                json_object_object_add(daemon, "policy_generation", json_object_new_uint64(m->policy_generation));
                json_object_object_add(root, "daemon", TAKE_PTR(daemon));
        }

        if (HAS(sections, DESCRIBE_SECTION_HOST)) {
                _cleanup_json_ json_object *host = json_object_new_object();
                const Geometry *g = &m->model->geometry;

                if (!host)
                        return -ENOMEM;
                json_object_object_add(host, "groups", json_object_new_uint64(g->nr_groups));
                json_object_object_add(host, "harts", json_object_new_uint64(g->nr_harts));
                json_object_object_add(host, "guest_files_per_hart", json_object_new_uint64(g->nr_guest_files));
                json_object_object_add(host, "ids", json_object_new_uint64(g->nr_ids));
                json_object_object_add(host, "guest_files_total",
                                       json_object_new_uint64(g->nr_harts * g->nr_guest_files));
                json_object_object_add(host, "guest_files_free", json_object_new_uint64(manager_guest_files_free(m)));
                json_object_object_add(root, "host", TAKE_PTR(host));
        }

        if (HAS(sections, DESCRIBE_SECTION_POLICY)) {
                _cleanup_json_ json_object *policy = NULL;

                r = policy_to_json(m->policy, &policy);
                if (r < 0)
                        return r;
                json_object_object_add(root, "policy", TAKE_PTR(policy));
        }

        if (HAS(sections, DESCRIBE_SECTION_VMS)) {
                _cleanup_json_ json_object *a = json_object_new_array();

                if (!a)
                        return -ENOMEM;
                for (size_t i = 0; i < n_vms; i++) {
                        json_object *o;

                        r = describe_vm(m, vms[i], &o);
                        if (r < 0)
                                return r;
                        json_object_array_add(a, o);
                }
                json_object_object_add(root, "vms", TAKE_PTR(a));
        }

        if (HAS(sections, DESCRIBE_SECTION_DEVICES)) {
                devices = json_object_new_array();
                if (!devices)
                        return -ENOMEM;
        }
        if (HAS(sections, DESCRIBE_SECTION_UNSATISFIED)) {
                unsat = json_object_new_array();
                if (!unsat)
                        return -ENOMEM;
        }
        for (size_t i = 0; (devices || unsat) && i < n_devs; i++) {
                const Device *d = devs[i];
                const DeviceState *s = manager_device_desired(m, d->name);

                if (devices) {
                        json_object *o;

                        r = describe_device(m, d, &o);
                        if (r < 0)
                                return r;
                        json_object_array_add(devices, o);
                }
                if (unsat && s && s->violation) {
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
        if (devices)
                json_object_object_add(root, "devices", TAKE_PTR(devices));
        if (unsat)
                json_object_object_add(root, "unsatisfied", TAKE_PTR(unsat));

        if (HAS(sections, DESCRIBE_SECTION_FAULTS)) {
                _cleanup_json_ json_object *faults = json_object_new_array();

                if (!faults)
                        return -ENOMEM;
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
        }

        *ret = TAKE_PTR(root);
        return 0;
}

int manager_describe(Manager *m, char **ret) {
        _cleanup_json_ json_object *root = NULL;
        _cleanup_free_ Vm **sorted = NULL;
        int r;

        r = manager_vms_by_name(m, &sorted);
        if (r < 0)
                return r;
        r = describe_build(m, SECTIONS_ALL, sorted, m->model->n_vms, m->model->devices, m->model->n_devices, &root);
        if (r < 0)
                return r;
        return json_to_string_pretty(root, ret);
}

/* ---- DescribeSelected() ---------------------------------------------------------------- */

/* "DDDD:BB:DD.F", lower-case hex, device 0..1f, function 0..7: the only form the API accepts. */
static bool pci_address_valid(const char *s) {
        if (strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
                return false;
        for (size_t i = 0; i < 12; i++) {
                if (i == 4 || i == 7 || i == 10)
                        continue;
                if (!isdigit((unsigned char) s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
                        return false;
        }
        return s[8] <= '1' && s[11] <= '7';
}

/* Index of the first device not sorting before name (the model keeps them sorted by strcmp). */
static size_t device_lower_bound(const Model *model, const char *name) {
        size_t lo = 0, hi = model->n_devices;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(model->devices[mid]->name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static size_t vm_lower_bound(Vm *const *sorted, size_t n, const char *name) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(sorted[mid]->name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* Every check that needs no lookup: section names, address and name forms, limits. */
static int selection_validate(const DescribeSelection *sel, unsigned *ret_sections, ManagerError *e) {
        unsigned sections = SECTIONS_ALL;

        if (sel->sections_set) {
                sections = 0;
                STRV_FOREACH(s, sel->sections) {
                        DescribeSection k = describe_section_from_string(*s);

                        if (k < 0)
                                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                                         "'sections': unknown section '%s' (daemon, host, policy, "
                                                         "vms, devices, unsatisfied, faults)", *s);
                        sections |= 1U << k;
                }
        }
        STRV_FOREACH(s, sel->devices)
                if (!pci_address_valid(*s))
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                                 "'devices': invalid PCI address '%s' (expected DDDD:BB:DD.F, "
                                                 "lower-case hex)", *s);
        STRV_FOREACH(s, sel->vms) {
                char uuid[UUID_STRING_MAX];

                if (uuid_normalize(*s, uuid) < 0 && vm_name_validate(*s) < 0)
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                                 "'vms': '%s' is neither a UUID nor a VM name", *s);
        }
        if (sel->device_limit_set && sel->device_limit == 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "'device_limit' must be at least 1 (leave it out to read to the end)");
        if (sel->vm_limit_set && sel->vm_limit == 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "'vm_limit' must be at least 1 (leave it out to read to the end)");
        *ret_sections = sections;
        return 0;
}

typedef struct Page {
        size_t total, offset, count;
} Page;

static Page page_of(size_t total, uint32_t offset, bool limit_set, uint32_t limit) {
        Page p = { .total = total, .offset = offset };

        if (offset < total)
                p.count = limit_set ? MIN((size_t) limit, total - offset) : total - offset;
        return p;
}

static json_object *page_to_json(const Page *p) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "total", json_object_new_uint64(p->total));
        json_object_object_add(o, "offset", json_object_new_uint64(p->offset));
        json_object_object_add(o, "count", json_object_new_uint64(p->count));
        /* only while there is more: a pager stops when it is absent */
        if (p->offset + p->count < p->total)
                json_object_object_add(o, "next_offset", json_object_new_uint64(p->offset + p->count));
        return o;
}

int manager_describe_selected(Manager *m, const DescribeSelection *sel, char **ret, ManagerError *e) {
        _cleanup_json_ json_object *root = NULL, *page = NULL, *pv = NULL, *pd = NULL;
        _cleanup_free_ Vm **vms = NULL;
        _cleanup_free_ Device **devs = NULL;
        _cleanup_free_ bool *want_vm = NULL, *want_dev = NULL;
        size_t n_vms = m->model->n_vms, n_devs = m->model->n_devices;
        unsigned sections = 0;
        Page vp, dp;
        int r;

        r = selection_validate(sel, &sections, e);
        if (r < 0)
                return r;

        /* Sorting is the costly part of a small selection on a large host: only when VMs are listed. */
        if (HAS(sections, DESCRIBE_SECTION_VMS)) {
                r = manager_vms_by_name(m, &vms);
                if (r < 0)
                        return r;
        }

        /* The filters: mark what they name (each at most once), then keep the marked in order. */
        if (sel->vms_set) {
                if (!vms) {
                        /* the names are checked whether VMs are listed or not */
                        r = manager_vms_by_name(m, &vms);
                        if (r < 0)
                                return r;
                }
                want_vm = new0(bool, MAX(n_vms, (size_t) 1));
                if (!want_vm)
                        return -ENOMEM;
                STRV_FOREACH(s, sel->vms) {
                        char uuid[UUID_STRING_MAX];
                        const char *name = *s;
                        size_t i;

                        if (uuid_normalize(*s, uuid) >= 0) {
                                const Vm *vm = model_find_vm(m->model, uuid);

                                if (!vm)
                                        return manager_error_set(e, MERR_NO_SUCH_VM, -ESRCH,
                                                                 "no VM with UUID '%s'", uuid);
                                name = vm->name;
                        }
                        i = vm_lower_bound(vms, n_vms, name);
                        if (i >= n_vms || !streq(vms[i]->name, name))
                                return manager_error_set(e, MERR_NO_SUCH_VM, -ESRCH, "no VM named '%s'", name);
                        want_vm[i] = true;
                }
                n_vms = 0;
                for (size_t i = 0; i < m->model->n_vms; i++)
                        if (want_vm[i])
                                vms[n_vms++] = vms[i];
        }

        if (sel->devices_set) {
                want_dev = new0(bool, MAX(n_devs, (size_t) 1));
                if (!want_dev)
                        return -ENOMEM;
                STRV_FOREACH(s, sel->devices) {
                        size_t i = device_lower_bound(m->model, *s);

                        if (i >= n_devs || !streq(m->model->devices[i]->name, *s))
                                return manager_error_set(e, MERR_NO_SUCH_DEVICE, -ENODEV, "no device '%s'", *s);
                        want_dev[i] = true;
                }
                devs = new(Device *, MAX(n_devs, (size_t) 1));
                if (!devs)
                        return -ENOMEM;
                n_devs = 0;
                for (size_t i = 0; i < m->model->n_devices; i++)
                        if (want_dev[i])
                                devs[n_devs++] = m->model->devices[i];
        }

        vp = page_of(n_vms, sel->vm_offset, sel->vm_limit_set, sel->vm_limit);
        dp = page_of(n_devs, sel->device_offset, sel->device_limit_set, sel->device_limit);

        r = describe_build(m, sections, vms && vp.count > 0 ? vms + vp.offset : NULL, vms ? vp.count : 0,
                           dp.count > 0 ? (devs ?: m->model->devices) + dp.offset : NULL, dp.count, &root);
        if (r < 0)
                return r;

        page = json_object_new_object();
        pv = page_to_json(&vp);
        pd = page_to_json(&dp);
        if (!page || !pv || !pd)
                return -ENOMEM;
        /* Changes whenever the model or the policy in force does: a pager compares it between pages. */
        json_object_object_add(page, "generation",
                               json_object_new_uint64(m->model->generation + m->policy_generation));
        json_object_object_add(page, "vms", TAKE_PTR(pv));
        json_object_object_add(page, "devices", TAKE_PTR(pd));
        json_object_object_add(root, "page", TAKE_PTR(page));

        return json_to_string_pretty(root, ret);
}
