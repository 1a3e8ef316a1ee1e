/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "reconcile.h"
#include "strset.h"
#include "strv.h"

static void plan_done(Plan *p) {
        p->ops = mfree(p->ops);
        p->n_ops = p->n_allocated = 0;
}

Plan *plan_free(Plan *p) {
        if (!p)
                return NULL;
        plan_done(p);
        return mfree(p);
}

/* Up to this many devices, plan_build() collects an event's operations on the stack. */
#define PLAN_STACK_DEVICES 16U

static int plan_add(Plan *p, const Op *op) {
        if (!GREEDY_REALLOC(p->ops, p->n_allocated, p->n_ops + 1))
                return -ENOMEM;
        p->ops[p->n_ops++] = *op;
        return 0;
}

static bool entry_reaches_file(const Entry *e) {
        return e->kind == ENTRY_HOST_FILE || e->kind == ENTRY_GUEST_FILE;
}

/* Is there an entry in s with the same file destination as e? */
static bool reach_contains(const DeviceState *s, const Entry *e) {
        for (uint32_t i = 0; i < s->n_entries; i++) {
                const Entry *x = &s->entries[i];

                if (x->kind == e->kind && x->hart == e->hart && x->guest == e->guest)
                        return true;
        }
        return false;
}

/*
 * One difference between a desired entry d and an actual entry a of the same device (either may be NULL: no
 * entry for the target on that side). In guest-file mode with the same fallback, a difference in a vCPU target's
 * guest-file entry follows the vCPU grants, which the vCPU operations take care of.
 */
static void entry_differs(const Entry *d, const Entry *a, bool guest_mode, size_t *n, bool *unexplained) {
        const Entry *e = d ?: a;

        (*n)++;
        if (!(guest_mode && TARGET_IS_VCPU(e->target) &&
              ((d && d->kind == ENTRY_GUEST_FILE) || (a && a->kind == ENTRY_GUEST_FILE))))
                *unexplained = true;
}

/*
 * Compare the non-blocked entries; blocked ones are implicit, as in the kernel's GET_ENTRIES. Both sides are
 * sorted by target: one merge walk over both.
 */
static size_t entries_differing(const DeviceState *d, const DeviceState *a, bool *ret_unexplained) {
        static const DeviceState empty = {};
        size_t n = 0, i = 0, j = 0;
        bool unexplained = false, guest_mode;

        if (!a)
                a = &empty;
        guest_mode = d->mode == MODE_GUEST_FILE && a->mode == MODE_GUEST_FILE && d->fallback == a->fallback;

        /*
         * Mostly both sides have the same targets (they follow the same vectors): compare them pairwise. At the
         * first target that is not the other side's, start over with the merge walk.
         */
        if (d->n_entries == a->n_entries) {
                for (; i < d->n_entries; i++) {
                        const Entry *x = &d->entries[i], *y = &a->entries[i];

                        if (x->target != y->target)
                                break;
                        if (!(x->kind == ENTRY_BLOCKED && y->kind == ENTRY_BLOCKED) && !entry_same_destination(x, y))
                                entry_differs(x, y, guest_mode, &n, &unexplained);
                }
                if (i == d->n_entries)
                        goto done;
                i = n = 0;
                unexplained = false;
        }

        while (i < d->n_entries || j < a->n_entries) {
                const Entry *x = i < d->n_entries ? &d->entries[i] : NULL;
                const Entry *y = j < a->n_entries ? &a->entries[j] : NULL;

                if (y && (!x || y->target < x->target)) {
                        /* Only the backend has an entry for the target. */
                        if (y->kind != ENTRY_BLOCKED)
                                entry_differs(NULL, y, guest_mode, &n, &unexplained);
                        j++;
                } else if (!y || x->target < y->target) {
                        /* Only the decision has one. */
                        if (x->kind != ENTRY_BLOCKED)
                                entry_differs(x, NULL, guest_mode, &n, &unexplained);
                        i++;
                } else {
                        /* Both: blocked on both sides is no entry; blocked on one differs from the other. */
                        if (!(x->kind == ENTRY_BLOCKED && y->kind == ENTRY_BLOCKED) && !entry_same_destination(x, y))
                                entry_differs(x, y, guest_mode, &n, &unexplained);
                        i++;
                        j++;
                }
        }
done:
        if (ret_unexplained)
                *ret_unexplained = unexplained;
        return n;
}

/* unexplained: from entries_differing(desired, actual). */
static bool device_needs_op(const DeviceState *desired, const DeviceState *actual, bool unexplained,
                            bool *ret_revoke) {
        DeliveryMode amode = actual ? actual->mode : MODE_BLOCKED;
        EntryKind afb = actual ? actual->fallback : ENTRY_BLOCKED;
        bool need;

        if (desired->mode == MODE_OFF || amode == MODE_OFF)
                /* No MSI table: nothing can be set (the kernel refuses MODE_OFF, and has no table to program). */
                return false;

        need = desired->mode != amode || (desired->mode == MODE_GUEST_FILE && desired->fallback != afb) ||
               unexplained;
        if (need && ret_revoke) {
                bool adds = false;

                /* Revoke phase only if the new state makes no file reachable that is not reachable now. */
                for (uint32_t i = 0; i < desired->n_entries && !adds; i++)
                        if (entry_reaches_file(&desired->entries[i]) &&
                            (!actual || !reach_contains(actual, &desired->entries[i])))
                                adds = true;
                /* A host-file fallback may map host files the moment a vCPU loses its file. */
                if (desired->mode == MODE_GUEST_FILE && desired->fallback == ENTRY_HOST_FILE &&
                    !(amode == MODE_GUEST_FILE && afb == ENTRY_HOST_FILE))
                        adds = true;
                *ret_revoke = !adds;
        }
        return need;
}

bool reconcile_device_needs_op(const DeviceState *desired, const DeviceState *actual, bool *ret_revoke) {
        bool unexplained;

        (void) entries_differing(desired, actual, &unexplained);
        return device_needs_op(desired, actual, unexplained, ret_revoke);
}

bool reconcile_device_matches(const DeviceState *desired, const DeviceState *actual) {
        DeliveryMode amode = actual ? actual->mode : MODE_BLOCKED;
        EntryKind afb = actual ? actual->fallback : ENTRY_BLOCKED;

        if (desired->mode != amode)
                return false;
        if (desired->mode == MODE_GUEST_FILE && desired->fallback != afb)
                return false;
        return entries_differing(desired, actual, NULL) == 0;
}

/*
 * One device's OP_SET_MODE, if it needs one, into revokes or grants. ret_slot (optional): where it went, as an
 * index into revokes, or PLAN_SLOT_GRANT + an index into grants; SIZE_MAX if none.
 */
#define PLAN_SLOT_GRANT (SIZE_MAX / 2)

static int plan_device(Plan *p, const DeviceState *d, const DeviceState *a, Op *revokes, size_t *n_revokes,
                       Op *grants, size_t *n_grants, size_t *ret_slot) {
        bool revoke, unexplained;
        Op op;

        if (ret_slot)
                *ret_slot = SIZE_MAX;
        /* One comparison of the entries for both the count and the decision. */
        p->n_entries_differing += entries_differing(d, a, &unexplained);
        if (!device_needs_op(d, a, unexplained, &revoke))
                return 0;
        op = (Op) {
                .type = OP_SET_MODE,
                .revoke = revoke,
                .mode = d->mode,
                .fallback = d->mode == MODE_GUEST_FILE ? d->fallback : ENTRY_BLOCKED,
        };
        strcpy(op.device, d->name);
        if (ret_slot)
                *ret_slot = revoke ? *n_revokes : PLAN_SLOT_GRANT + *n_grants;
        if (revoke)
                revokes[(*n_revokes)++] = op;
        else
                grants[(*n_grants)++] = op;
        return 0;
}

/*
 * One device of an event's run: its decision and its read-back, looked up once by name for both the plan and the
 * verification (each lookup by name hashes the name and compares it), and the position of its OP_SET_MODE in the
 * plan, which the verification needs too.
 */
typedef struct RunDevice {
        DeviceState *want;              /* the decision; NULL: the model has no such device */
        const DeviceState *have;        /* the read-back; NULL: the backend has no such device */
        size_t op;                      /* index into the plan's ops, SIZE_MAX if none */
} RunDevice;

static const VmGrants *find_grants(const VmGrants *v, size_t n, const char *uuid) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(v[mid].uuid, uuid) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo < n && streq(v[lo].uuid, uuid))
                return &v[lo];
        return NULL;
}

static int plan_vm(Plan *release, Plan *assign, const VmGrants *want, const VmGrants *have) {
        int r;

        for (uint32_t v = 0; v < have->nr_vcpus; v++) {
                const VcpuGrant *h = &have->vcpus[v];
                const VcpuGrant *w = want && v < want->nr_vcpus ? &want->vcpus[v] : NULL;
                bool same = w && w->guest == h->guest && (h->guest == 0 || w->hart == h->hart);
                Op op = { .vcpu = v };

                memcpy(op.vm, have->uuid, sizeof(op.vm));
                if (same)
                        continue;
                if (h->guest != 0) {
                        op.type = OP_VCPU_RELEASE;
                        op.revoke = true;
                        op.hart = h->hart;
                        op.guest = h->guest;
                        r = plan_add(release, &op);
                        if (r < 0)
                                return r;
                }
                if (w && w->guest != 0) {
                        op.type = OP_VCPU_ASSIGN;
                        op.revoke = false;
                        op.hart = w->hart;
                        op.guest = w->guest;
                        r = plan_add(assign, &op);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* d: the decision (NULL: none), a: the read-back (NULL: the backend has no such device, nothing to program). */
static int plan_subset_device(Plan *p, const DeviceState *d, const DeviceState *a, Op *revokes, size_t *n_revokes,
                              Op *grants, size_t *n_grants, size_t *ret_slot) {
        DeviceState blocked = { .mode = MODE_BLOCKED, .fallback = ENTRY_BLOCKED };

        if (!a) {
                if (ret_slot)
                        *ret_slot = SIZE_MAX;
                return 0;
        }
        if (!d) {
                /* Known to the backend, not to the model: nobody may be reached through it. */
                strcpy(blocked.name, a->name);
                d = &blocked;
        }
        return plan_device(p, d, a, revokes, n_revokes, grants, n_grants, ret_slot);
}

/*
 * devices/vms: plan only those (NULL: everything). run (with n_run): instead of devices, the run's devices looked
 * up already; their op is filled in.
 */
static int plan_build(const Desired *desired, const Actual *actual, unsigned flags, char *const *devices,
                      char *const *vms, RunDevice *run, size_t n_run, Plan **ret) {
        _cleanup_(plan_freep) Plan *p = NULL;
        _cleanup_(plan_done) Plan release = {}, assign = {};
        _cleanup_free_ Op *heap = NULL;
        Op stack[2 * PLAN_STACK_DEVICES], *revokes = stack, *grants = stack + PLAN_STACK_DEVICES;
        size_t n_revokes = 0, n_grants = 0, cap;
        const DeviceTable *dt = &desired->devices, *at = &actual->devices;
        bool subset = devices || vms || run;
        int r;

        p = new0(Plan, 1);
        if (!p)
                return -ENOMEM;
        /*
         * At most one operation per device looked at. Sized by the subset, and not zeroed (every slot is written
         * before it is read): an event plans a handful of devices, and allocating and clearing room for every
         * device of a large host (2 x 16,400 x sizeof(Op), 4.3 MB) cost more than the rest of the event. A few
         * fit on the stack.
         */
        cap = run ? n_run : subset ? strv_length(devices) : dt->n_devices + at->n_devices;
        if (cap > PLAN_STACK_DEVICES) {
                heap = reallocarray(NULL, cap, 2 * sizeof(Op));
                if (!heap)
                        return -ENOMEM;
                revokes = heap;
                grants = heap + cap;
        }

        if (run)
                for (size_t k = 0; k < n_run; k++) {
                        r = plan_subset_device(p, run[k].want, run[k].have, revokes, &n_revokes, grants, &n_grants,
                                               &run[k].op);
                        if (r < 0)
                                return r;
                }
        else if (subset) {
                STRV_FOREACH(name, devices) {
                        r = plan_subset_device(p, desired_find_device(desired, *name), device_table_find(at, *name),
                                               revokes, &n_revokes, grants, &n_grants, NULL);
                        if (r < 0)
                                return r;
                }
        } else {
                /* Merge-join of two name-sorted tables. */
                size_t i = 0, j = 0;

                while (i < dt->n_devices || j < at->n_devices) {
                        int c;

                        if (i >= dt->n_devices)
                                c = 1;
                        else if (j >= at->n_devices)
                                c = -1;
                        else
                                c = strcmp(dt->devices[i].name, at->devices[j].name);

                        if (c == 0)
                                r = plan_device(p, &dt->devices[i++], &at->devices[j++], revokes, &n_revokes,
                                                grants, &n_grants, NULL);
                        else if (c < 0) {
                                /* The backend has no such device (yet): nothing to program. */
                                i++;
                                r = 0;
                        }
                        else {
                                /* Known to the backend, not to the model: nobody may be reached through it. */
                                DeviceState blocked = { .mode = MODE_BLOCKED, .fallback = ENTRY_BLOCKED };

                                strcpy(blocked.name, at->devices[j].name);
                                r = plan_device(p, &blocked, &at->devices[j++], revokes, &n_revokes, grants,
                                                &n_grants, NULL);
                        }
                        if (r < 0)
                                return r;
                }
        }

        if (flags & RECONCILE_GUEST_FILES) {
                if (subset) {
                        STRV_FOREACH(uuid, vms) {
                                const VmGrants *have = find_grants(actual->vms, actual->n_vms, *uuid);

                                if (!have)
                                        continue;       /* the backend does not run it: nothing to assign */
                                r = plan_vm(&release, &assign, desired_find_vm(desired, *uuid), have);
                                if (r < 0)
                                        return r;
                        }
                } else
                        for (size_t k = 0; k < actual->n_vms; k++) {
                                const VmGrants *have = &actual->vms[k];

                                r = plan_vm(&release, &assign, find_grants(desired->vms, desired->n_vms, have->uuid),
                                            have);
                                if (r < 0)
                                        return r;
                        }
        }

        /* Phases: revoking set-modes, releases, assignments, granting set-modes. */
        if (!GREEDY_REALLOC(p->ops, p->n_allocated, n_revokes + release.n_ops + assign.n_ops + n_grants))
                return -ENOMEM;
        for (size_t k = 0; k < n_revokes; k++)
                if ((r = plan_add(p, &revokes[k])) < 0)
                        return r;
        for (size_t k = 0; k < release.n_ops; k++)
                if ((r = plan_add(p, &release.ops[k])) < 0)
                        return r;
        p->n_revoke = p->n_ops;
        for (size_t k = 0; k < assign.n_ops; k++)
                if ((r = plan_add(p, &assign.ops[k])) < 0)
                        return r;
        for (size_t k = 0; k < n_grants; k++)
                if ((r = plan_add(p, &grants[k])) < 0)
                        return r;
        /* Where each run device's operation ended up: revokes first, grants after the vCPU operations. */
        for (size_t k = 0; run && k < n_run; k++)
                if (run[k].op != SIZE_MAX)
                        run[k].op = run[k].op >= PLAN_SLOT_GRANT ?
                                p->n_ops - n_grants + (run[k].op - PLAN_SLOT_GRANT) : run[k].op;

        *ret = TAKE_PTR(p);
        return 0;
}

int reconcile_plan(const Desired *desired, const Actual *actual, unsigned flags, Plan **ret) {
        assert_return(desired && actual && ret, -EINVAL);
        return plan_build(desired, actual, flags, NULL, NULL, NULL, 0, ret);
}

int reconcile_plan_subset(const Desired *desired, const Actual *actual, unsigned flags,
                          char *const *devices, char *const *vms, Plan **ret) {
        static char *const none[] = { NULL };

        assert_return(desired && actual && ret, -EINVAL);
        return plan_build(desired, actual, flags, devices ?: none, vms ?: none, NULL, 0, ret);
}

int plan_to_json(const Plan *p, json_object **ret) {
        _cleanup_json_ json_object *a = NULL;

        assert_return(p && ret, -EINVAL);

        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_ops; i++) {
                const Op *op = &p->ops[i];
                json_object *o = json_object_new_object();
                int r = 0;

                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
#define ADD(k, v)                                                               \
                do {                                                            \
                        json_object *_v_ = (v);                                 \
                        if (!_v_ || json_object_object_add(o, (k), _v_) < 0) {  \
                                json_object_put(_v_);                           \
                                r = -ENOMEM;                                    \
                        }                                                       \
                } while (0)
                ADD("op", json_object_new_string(op_type_to_string(op->type)));
                ADD("phase", json_object_new_string(op->revoke ? "revoke" : "grant"));
                if (op->type == OP_SET_MODE) {
                        ADD("device", json_object_new_string(op->device));
                        ADD("mode", json_object_new_string(mode_to_string(op->mode)));
                        if (op->mode == MODE_GUEST_FILE)
                                ADD("fallback", json_object_new_string(entry_kind_to_string(op->fallback)));
                } else {
                        ADD("vm", json_object_new_string(op->vm));
                        ADD("vcpu", json_object_new_int64(op->vcpu));
                        ADD("hart", json_object_new_int64(op->hart));
                        ADD("guest_file", json_object_new_int64(op->guest));
                }
#undef ADD
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

int plan_apply(const Plan *p, Backend *b, size_t *ret_applied) {
        size_t i;
        int r = 0;

        assert_return(p && b, -EINVAL);

        for (i = 0; i < p->n_ops; i++) {
                r = backend_apply(b, &p->ops[i]);
                if (r < 0)
                        break;
        }
        if (ret_applied)
                *ret_applied = i;
        return r < 0 ? r : 0;
}

/* ---- the coalescing driver ---- */

struct Reconciler {
        Model *model;
        Policy *const *policy;
        Backend *backend;
        Desired *desired;
        bool dirty, dirty_all;
        StrSet dirty_vms;               /* canonical UUIDs */
        StrSet dirty_devices;
        /* Changed devices a backend without dump_device must read back in a run of their own (this run's, the
         * previous run's). */
        StrSet readback, readback_prev;
        /*
         * What the last run recomputed (reconciler_last_solved()); last_solved_all: every device. The run fills
         * it as the devices it plans, and the VMs it plans go to run_vms: both are emptied, not freed, between
         * runs, since every event fills them again.
         */
        StrSet solved, run_vms;
        bool last_solved_all;
};

int reconciler_new(Model *m, Policy *const *policy, Backend *b, Reconciler **ret) {
        Reconciler *r;

        assert_return(m && policy && b && ret, -EINVAL);

        r = new0(Reconciler, 1);
        if (!r)
                return -ENOMEM;
        r->model = m;
        r->policy = policy;
        r->backend = b;
        r->dirty = r->dirty_all = true;         /* the first run is a full one */
        r->last_solved_all = true;              /* nothing compared yet: everything is new */
        *ret = r;
        return 0;
}

Reconciler *reconciler_free(Reconciler *r) {
        if (!r)
                return NULL;
        desired_free(r->desired);
        strset_done(&r->dirty_vms);
        strset_done(&r->dirty_devices);
        strset_done(&r->readback);
        strset_done(&r->readback_prev);
        strset_done(&r->solved);
        strset_done(&r->run_vms);
        return mfree(r);
}

bool reconciler_mark_dirty(Reconciler *r, DirtyScope scope, const char *key) {
        bool was_clean;
        StrSet *l = NULL;
        char u[UUID_STRING_MAX];

        if (!r)
                return false;
        was_clean = !r->dirty;
        r->dirty = true;

        switch (scope) {
        case DIRTY_VM:
                if (uuid_normalize(key, u) < 0) {
                        r->dirty_all = true;
                        break;
                }
                key = u;
                l = &r->dirty_vms;
                break;
        case DIRTY_DEVICE:
                if (!key) {
                        r->dirty_all = true;
                        break;
                }
                l = &r->dirty_devices;
                break;
        default:
                r->dirty_all = true;
        }
        if (l && !r->dirty_all && key)
                /* Out of memory: fall back to a full run rather than lose the event. */
                if (strset_put(l, key) < 0)
                        r->dirty_all = true;
        return was_clean;
}

bool reconciler_is_dirty(const Reconciler *r) {
        return r && r->dirty;
}

const Desired *reconciler_desired(const Reconciler *r) {
        return r ? r->desired : NULL;
}

char *const *reconciler_last_solved(const Reconciler *r) {
        static char *const none[] = { NULL };

        if (!r || r->last_solved_all)
                return NULL;
        return strset_strv(&r->solved) ?: none;
}

/* Until a run says otherwise, anything may have changed (a run that fails half-way leaves it so). */
static void last_solved_reset(Reconciler *r, bool all) {
        strset_clear(&r->solved);
        r->last_solved_all = all;
}

static void reconciler_clean(Reconciler *r) {
        r->dirty = r->dirty_all = false;
        strset_clear(&r->dirty_vms);
        strset_clear(&r->dirty_devices);
}

/* Read back only what is needed; falls back to a full dump without per-object dump ops. */
static int read_subset(Reconciler *r, char *const *devices, char *const *vms, bool need_vms, Actual **ret) {
        _cleanup_(actual_freep) Actual *a = NULL;
        Backend *b = r->backend;
        int k;

        if (!need_vms)
                vms = NULL;
        if (!b->ops->dump_subset && (!b->ops->dump_device || (!b->ops->dump_vm && vms && *vms)))
                return backend_dump(b, ret);

        k = actual_new(&a);
        if (k < 0)
                return k;
        if (!GREEDY_REALLOC(a->devices.devices, a->devices.n_allocated, strv_length(devices)))
                return -ENOMEM;
        if (b->ops->dump_subset) {
                k = b->ops->dump_subset(b, devices, vms, a);
                if (k < 0)
                        return k;
                *ret = TAKE_PTR(a);
                return 0;
        }
        STRV_FOREACH(name, devices) {
                DeviceState s = {};

                k = b->ops->dump_device(b, *name, &s);
                if (k == -ENODEV)
                        continue;
                if (k < 0)
                        return k;
                k = device_table_put(&a->devices, &s);
                device_state_done(&s);
                if (k < 0)
                        return k;
        }
        STRV_FOREACH(uuid, vms) {
                VmGrants g = {};

                k = b->ops->dump_vm(b, *uuid, &g);
                if (k == -ENOENT)
                        continue;
                if (k < 0)
                        return k;
                /* Sorted by uuid, for find_grants(). */
                k = actual_put_vm(a, &g);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* Keep the model's record of held guest files in step with what was applied. */
static void note_applied(Reconciler *r, const Plan *p, size_t n_applied) {
        const char *last = NULL;
        Vm *vm = NULL;

        for (size_t i = 0; i < n_applied; i++) {
                const Op *op = &p->ops[i];

                if (op->type == OP_SET_MODE)
                        continue;
                /* A VM's operations come one after the other: look it up once for them. */
                if (!last || !streq(last, op->vm))
                        vm = model_find_vm(r->model, op->vm);
                last = op->vm;
                if (!vm || op->vcpu >= vm->nr_vcpus)
                        continue;
                if (op->type == OP_VCPU_RELEASE)
                        vm->vcpus[op->vcpu].guest_file = 0;
                else if (vm->vcpus[op->vcpu].hart == op->hart)
                        vm->vcpus[op->vcpu].guest_file = op->guest;
                solver_note_held(r->desired, vm, op->vcpu);
        }
}

/* Take the held guest files from the backend, for vCPUs the model places on the same hart. */
static void sync_held_files(Model *m, const Actual *a) {
        for (size_t i = 0; i < a->n_vms; i++) {
                Vm *vm = model_find_vm(m, a->vms[i].uuid);

                for (uint32_t v = 0; vm && v < MIN(vm->nr_vcpus, a->vms[i].nr_vcpus); v++) {
                        const VcpuGrant *g = &a->vms[i].vcpus[v];

                        if (vm->vcpus[v].hart != NO_HART && vm->vcpus[v].hart == g->hart &&
                            g->guest <= m->geometry.nr_guest_files)
                                vm->vcpus[v].guest_file = g->guest;
                }
        }
}

/*
 * What the IOMMU in front of a device can do (caps) and whether the device is under the isolation lock are facts
 * only the backend knows: a device the model learned from udev starts with no caps, and the read-back fills them
 * in before anything is decided for it. Returns the number of devices whose facts changed.
 */
static int sync_device_facts(Model *m, const Desired *decided, const Actual *a, StrSet *changed) {
        int n = 0, k;

        /*
         * Only the devices read back can be corrected, so look at those, not at every device of the model: an
         * event reads back a handful of devices, and walking the whole model for them cost more than the event.
         */
        for (size_t i = 0; i < a->devices.n_devices; i++) {
                const DeviceState *s = &a->devices.devices[i];
                const DeviceState *known = decided ? desired_find_device(decided, s->name) : NULL;
                Device *d;

                /*
                 * decided: the Desired this run just brought up to date, from the model's facts. A device it has
                 * with the same facts needs no look at the model (whose index an event finds cold).
                 */
                if (known && known->caps == s->caps && known->locked == s->locked)
                        continue;
                d = model_find_device(m, s->name);

                if (!d) {
                        /*
                         * A device the backend manages but nobody told us about (a host NVMe behind the IOMMU, a
                         * device bound to VFIO before we started) is adopted with the owner the backend reports,
                         * and the policy decides for it like for any other. Planning it as unknown would block
                         * it: on a real host that cuts off the MSIs of every device driven by a host kernel
                         * driver the moment rvmsid starts.
                         */
                        k = model_add_device(m, s->name, s->caps, &d);
                        if (k < 0)
                                return k;
                        (void) model_device_set_locked(m, d, s->locked);
                        k = model_device_set_owner(m, d, s->user_bound ? OWNER_USERSPACE : OWNER_HOST, NULL);
                        if (k < 0)
                                return k;
                } else if (d->caps != s->caps || d->locked != s->locked) {
                        (void) model_device_set_caps(m, d, s->caps);
                        (void) model_device_set_locked(m, d, s->locked);
                } else
                        continue;
                if (changed && (k = strset_put(changed, d->name)) < 0)
                        return k;
                n++;
        }
        return n;
}

static void set_apply_state(DeviceState *s, ApplyState st, int error) {
        s->apply_state = st;
        s->apply_error = st == APPLY_FAILED ? error : 0;
}

/* The plan's OP_SET_MODE operations by device name, for lookups while verifying: a full run plans every device. */
typedef struct OpIndex {
        const Plan *plan;
        size_t *ops;            /* indexes into plan->ops, sorted by device name: small, or allocated */
        size_t n;
        size_t small[16];       /* an event's plan: no allocation, no qsort() */
} OpIndex;

static int op_index_cmp(const void *a, const void *b, void *userdata) {
        const Plan *p = userdata;
        const Op *x = &p->ops[*(const size_t *) a], *y = &p->ops[*(const size_t *) b];

        return strcmp(x->device, y->device);
}

static int op_index_build(const Plan *p, OpIndex *ret) {
        *ret = (OpIndex) { .plan = p };
        ret->ops = ret->small;
        if (p->n_ops > ELEMENTSOF(ret->small)) {
                ret->ops = new(size_t, p->n_ops);
                if (!ret->ops)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < p->n_ops; i++)
                if (p->ops[i].type == OP_SET_MODE)
                        ret->ops[ret->n++] = i;
        if (ret->n > ELEMENTSOF(ret->small)) {
                qsort_r(ret->ops, ret->n, sizeof(size_t), op_index_cmp, (void *) p);
                return 0;
        }
        for (size_t i = 1; i < ret->n; i++) {
                size_t x = ret->ops[i], j = i;

                for (; j > 0 && op_index_cmp(&ret->ops[j - 1], &x, (void *) p) > 0; j--)
                        ret->ops[j] = ret->ops[j - 1];
                ret->ops[j] = x;
        }
        return 0;
}

static void op_index_done(OpIndex *x) {
        if (x->ops != x->small)
                free(x->ops);
}

/* Position of the OP_SET_MODE of a device in the plan, SIZE_MAX if none. */
static size_t op_index_find(const OpIndex *x, const char *name) {
        size_t lo = 0, hi = x->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(x->plan->ops[x->ops[mid]].device, name);

                if (c == 0)
                        return x->ops[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return SIZE_MAX;
}

/*
 * Record for one planned device whether the backend has the decision now. a: its read-back the plan was made from
 * (NULL: none), op: its OP_SET_MODE in the plan (SIZE_MAX: none). Devices that differed before are read back again
 * after the plan was applied (when the backend can read one device); nothing else costs I/O.
 */
static int verify_device(Reconciler *r, DeviceState *s, const DeviceState *a, size_t op, size_t n_applied,
                         int apply_error) {
        DeviceState after = {};
        int k;

        if (!a || (s->mode == MODE_OFF) != (a->mode == MODE_OFF)) {
                /* No table in the backend for it, or one the daemon cannot switch off / on. */
                set_apply_state(s, APPLY_UNSUPPORTED, 0);
                return 0;
        }
        if (op != SIZE_MAX && apply_error < 0 && op == n_applied) {
                set_apply_state(s, APPLY_FAILED, apply_error);
                return 0;
        }
        if (op != SIZE_MAX && op >= n_applied) {
                set_apply_state(s, APPLY_PENDING, 0);
                return 0;
        }
        if (op == SIZE_MAX && reconcile_device_matches(s, a)) {
                set_apply_state(s, APPLY_DONE, 0);
                return 0;
        }
        /* It changed (its own operation, or vCPU grants): look again. */
        if (!r->backend->ops->dump_device) {
                set_apply_state(s, APPLY_PENDING, 0);
                /*
                 * The kernel notifies a change of entries (ENTRY_NTF), and that event makes the next run
                 * read the device back. A change that moves no entry (a mode change of a device without
                 * IRQs) is not notified: read those back in a run of their own. Once per change: a device
                 * that needs an operation again right after its read-back stays pending, no loop on a
                 * backend that takes operations without doing them.
                 */
                if (entries_differing(s, a, NULL) == 0 && !strset_contains(&r->readback_prev, s->name) &&
                    strset_put(&r->readback, s->name) < 0)
                        return -ENOMEM;
                return 0;
        }
        k = r->backend->ops->dump_device(r->backend, s->name, &after);
        if (k == -ENODEV) {
                set_apply_state(s, APPLY_UNSUPPORTED, 0);
                return 0;
        }
        if (k < 0) {
                set_apply_state(s, APPLY_PENDING, 0);
                return k;
        }
        set_apply_state(s, reconcile_device_matches(s, &after) ? APPLY_DONE : APPLY_PENDING, 0);
        device_state_done(&after);
        return 0;
}

/* A full run: every device of the desired state. before: the read-back the plan was made from. */
static void reconciler_verify_all(Reconciler *r, const Actual *before, const Plan *plan, size_t n_applied,
                                  int apply_error) {
        DeviceTable *dt = &r->desired->devices;
        OpIndex ops;

        /* Out of memory: without the index, devices are judged by reading them back only. */
        bool have_ops = op_index_build(plan, &ops) >= 0;

        for (size_t i = 0; i < dt->n_devices; i++) {
                DeviceState *s = &dt->devices[i];

                (void) verify_device(r, s, device_table_find(&before->devices, s->name),
                                     have_ops ? op_index_find(&ops, s->name) : SIZE_MAX, n_applied, apply_error);
        }
        if (have_ops)
                op_index_done(&ops);
}

/* An event's run: the devices it planned. */
static void reconciler_verify_run(Reconciler *r, const RunDevice *run, size_t n_run, size_t n_applied,
                                  int apply_error) {
        for (size_t k = 0; k < n_run; k++)
                if (run[k].want)
                        (void) verify_device(r, run[k].want, run[k].have, run[k].op, n_applied, apply_error);
}

/* Up to this many devices, an event's run keeps its RunDevices on the stack. */
#define RUN_STACK_DEVICES 16U

static int reconciler_do(Reconciler *r, bool full, ReconcileStats *ret_stats) {
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_(actual_freep) Actual *actual = NULL;
        RunDevice run_stack[RUN_STACK_DEVICES], *run = NULL;
        _cleanup_free_ RunDevice *run_heap = NULL;
        size_t n_run = 0;
        /* Every device and VM this run reads back and plans. */
        StrSet *devices = &r->solved, *vms = &r->run_vms;
        const Policy *policy = *r->policy;
        unsigned flags = backend_has_feature(r->backend, BACKEND_FEATURE_GUEST_FILES) ? RECONCILE_GUEST_FILES : 0;
        ReconcileStats st = {};
        size_t applied = 0;
        int k;

        last_solved_reset(r, true);
        strset_clear(vms);
        if (full || !r->desired || r->dirty_all) {
                _cleanup_(desired_freep) Desired *d = NULL;

                /* Read first: which guest files vCPUs hold now is an input of the solve (incumbency). */
                k = backend_dump(r->backend, &actual);
                if (k < 0)
                        return k;
                sync_held_files(r->model, actual);
                k = sync_device_facts(r->model, NULL, actual, NULL);
                if (k < 0)
                        return k;
                k = solver_compute(r->model, policy, &d);
                if (k < 0)
                        return k;
                desired_free(r->desired);
                r->desired = TAKE_PTR(d);
                st.full = true;
                st.n_devices_resolved = r->desired->devices.n_devices;
                k = reconcile_plan(r->desired, actual, flags, &plan);
                if (k < 0)
                        return k;
        } else {
                /*
                 * All dirty VMs at once: a burst may have moved vCPUs of several VMs onto each other's harts. The
                 * dirty VMs and all their devices come back in vms and devices, changed or not: the event may
                 * have changed the VM's devices in the backend even where the decision stayed (the kernel follows
                 * vCPUs itself), so they are read back.
                 */
                k = solver_update_vms(r->model, policy, r->desired, strset_strv(&r->dirty_vms), devices, vms);
                if (k < 0)
                        return k;
                st.n_devices_resolved += (size_t) k;
                STRV_FOREACH(name, strset_strv(&r->dirty_devices)) {
                        k = solver_update_device(r->model, policy, r->desired, *name);
                        if (k < 0)
                                return k;
                        st.n_devices_resolved += (size_t) k;
                        if ((k = strset_put(devices, *name)) < 0)
                                return k;
                }
                k = read_subset(r, strset_strv(devices), strset_strv(vms), flags & RECONCILE_GUEST_FILES, &actual);
                if (k < 0)
                        return k;
                /* Solved with the facts the model had: decide again, and plan, each device whose facts the
                 * backend just corrected. */
                k = sync_device_facts(r->model, r->desired, actual, devices);
                if (k < 0)
                        return k;
                if (k > 0)
                        STRV_FOREACH(name, strset_strv(devices)) {
                                k = solver_update_device(r->model, policy, r->desired, *name);
                                if (k < 0)
                                        return k;
                        }
                /* The decisions stay where they are from here on: look each device up once. */
                n_run = strset_size(devices);
                run = run_stack;
                if (n_run > ELEMENTSOF(run_stack)) {
                        run = run_heap = new(RunDevice, n_run);
                        if (!run)
                                return -ENOMEM;
                }
                for (size_t i = 0; i < n_run; i++) {
                        const char *name = strset_strv(devices)[i];

                        run[i] = (RunDevice) {
                                .want = desired_find_device(r->desired, name),
                                .have = device_table_find(&actual->devices, name),
                                .op = SIZE_MAX,
                        };
                }
                k = plan_build(r->desired, actual, flags, NULL, strset_strv(vms), run, n_run, &plan);
                if (k < 0)
                        return k;
        }

        reconciler_clean(r);
        st.n_ops = plan->n_ops;
        st.n_revoke = plan->n_revoke;
        st.n_entries_differing = plan->n_entries_differing;
        st.n_violations = r->desired->n_violations;
        k = plan_apply(plan, r->backend, &applied);
        note_applied(r, plan, applied);
        {
                /* This run's read-backs become the previous run's; the older set is reused for this run's. */
                StrSet t = r->readback_prev;

                r->readback_prev = r->readback;
                r->readback = t;
                strset_clear(&r->readback);
        }
        if (st.full)
                reconciler_verify_all(r, actual, plan, applied, k);
        else
                reconciler_verify_run(r, run, n_run, applied, k);
        if (!st.full)
                /* Every device the solver looked at, the plan covered and verify_device() judged: r->solved. */
                r->last_solved_all = false;
        STRV_FOREACH(name, strset_strv(&r->readback))
                (void) reconciler_mark_dirty(r, DIRTY_DEVICE, *name);
        st.n_applied = applied;
        if (ret_stats)
                *ret_stats = st;
        if (k < 0) {
                /* Whatever happened half-way, the next run must look at everything again. */
                r->dirty = r->dirty_all = true;
                return k;
        }
        return 0;
}

int reconciler_run(Reconciler *r, ReconcileStats *ret_stats) {
        assert_return(r, -EINVAL);

        if (!r->dirty) {
                last_solved_reset(r, false);
                if (ret_stats)
                        *ret_stats = (ReconcileStats) {};
                return 0;
        }
        return reconciler_do(r, false, ret_stats);
}

int reconciler_resync(Reconciler *r, ReconcileStats *ret_stats) {
        assert_return(r, -EINVAL);
        return reconciler_do(r, true, ret_stats);
}

int reconciler_plan(Reconciler *r, Plan **ret) {
        _cleanup_(desired_freep) Desired *d = NULL;
        _cleanup_(actual_freep) Actual *actual = NULL;
        int k;

        assert_return(r && ret, -EINVAL);

        k = solver_compute(r->model, *r->policy, &d);
        if (k < 0)
                return k;
        k = backend_dump(r->backend, &actual);
        if (k < 0)
                return k;
        return reconcile_plan(d, actual,
                              backend_has_feature(r->backend, BACKEND_FEATURE_GUEST_FILES) ? RECONCILE_GUEST_FILES : 0,
                              ret);
}
