/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The solver. See docs/solver.md for the rules; the comments here say how
 * they are implemented.
 */

#include "hash.h"
#include "json-util.h"
#include "solver.h"
#include "strset.h"
#include "strv.h"

static const char *const reason_table[_REASON_MAX] = {
        [REASON_NONE] = "none",
        [REASON_OWNER_DEFAULT] = "owner-default",
        [REASON_NO_OWNER] = "no-owner",
        [REASON_VM_UNKNOWN] = "vm-unknown",
        [REASON_VM_NOT_ACTIVE] = "vm-not-active",
        [REASON_GUEST_FILE] = "guest-file",
        [REASON_FALLBACK_NO_GUEST_FILE] = "fallback-no-guest-file",
        [REASON_FALLBACK_VCPU_NOT_RESIDENT] = "fallback-vcpu-not-resident",
        [REASON_FALLBACK_VM_LIMIT] = "fallback-vm-limit",
        [REASON_FALLBACK_NO_GUEST_CAP] = "fallback-no-guest-cap",
        [REASON_FALLBACK_NO_GEILEN] = "fallback-no-geilen",
        [REASON_REQUIREMENT_UNMET] = "requirement-unmet",
        [REASON_LOCKED] = "locked",
        [REASON_NO_MRIF_CAP] = "no-mrif-cap",
        [REASON_NO_TARGET] = "no-target",
        [REASON_NO_MSI_TABLE] = "no-msi-table",
        [REASON_MRIF_NOT_ALLOWED] = "mrif-not-allowed",
        [REASON_TABLE_SHARED] = "table-shared",
};

static const char *const reason_text[_REASON_MAX] = {
        [REASON_NONE] = "no decision recorded",
        [REASON_OWNER_DEFAULT] = "the policy's default mode for this kind of owner",
        [REASON_NO_OWNER] = "no driver owns the device, so nothing may receive its interrupts",
        [REASON_VM_UNKNOWN] = "the device is assigned to a VM that is not registered",
        [REASON_VM_NOT_ACTIVE] = "the owning VM is not running, paused or migrating",
        [REASON_GUEST_FILE] = "the vCPU holds a guest interrupt file on its hart: direct injection",
        [REASON_FALLBACK_NO_GUEST_FILE] =
                ("every guest interrupt file of the vCPU's hart went to a vCPU ranked higher "
                 "(priority, class, round-robin between VMs)"),
        [REASON_FALLBACK_VCPU_NOT_RESIDENT] = "the vCPU is not running on any hart",
        [REASON_FALLBACK_VM_LIMIT] = "the VM's max_guest_files limit does not cover this vCPU",
        [REASON_FALLBACK_NO_GUEST_CAP] = "the IOMMU cannot deliver into guest interrupt files",
        [REASON_FALLBACK_NO_GEILEN] = "the host has no guest interrupt files",
        [REASON_REQUIREMENT_UNMET] =
                ("nothing the isolation class allows is possible here: blocked, and reported as a violation"),
        [REASON_LOCKED] = "the device is isolation-locked: only MRIF or blocked entries",
        [REASON_NO_MRIF_CAP] = "MRIF wanted but the IOMMU has no MRIF support: blocked",
        [REASON_NO_TARGET] = "no vector of the device is routed anywhere",
        [REASON_NO_MSI_TABLE] = "the IOMMU has no MSI page table for this device: not manageable",
        [REASON_MRIF_NOT_ALLOWED] = "the policy does not allow MRIF fallback",
        [REASON_TABLE_SHARED] =
                ("the device shares its MSI table and mode with the devices it shares a requester ID with: "
                 "not managed, the kernel's mode stays"),
};

const char *reason_to_string(ReasonCode r) {
        if ((int) r < 0 || r >= _REASON_MAX)
                return NULL;
        return reason_table[r];
}

const char *reason_describe(ReasonCode r) {
        if ((int) r < 0 || r >= _REASON_MAX)
                return NULL;
        return reason_text[r];
}

static const char *const apply_state_table[_APPLY_STATE_MAX] = {
        [APPLY_PENDING] = "pending",
        [APPLY_DONE] = "applied",
        [APPLY_FAILED] = "failed",
        [APPLY_UNSUPPORTED] = "unsupported",
};

const char *apply_state_to_string(ApplyState s) {
        if ((int) s < 0 || s >= _APPLY_STATE_MAX)
                return NULL;
        return apply_state_table[s];
}

/* ---- DeviceTable ---- */

void device_state_done(DeviceState *s) {
        if (!s)
                return;
        s->entries = mfree(s->entries);
        s->n_entries = 0;
}

DeviceTable *device_table_free(DeviceTable *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_devices; i++)
                device_state_done(&t->devices[i]);
        free(t->devices);
        return mfree(t);
}

static void device_table_done(DeviceTable *t) {
        for (size_t i = 0; i < t->n_devices; i++)
                device_state_done(&t->devices[i]);
        t->devices = mfree(t->devices);
        t->n_devices = t->n_allocated = 0;
}

int device_table_new(DeviceTable **ret) {
        assert_return(ret, -EINVAL);
        *ret = new0(DeviceTable, 1);
        return *ret ? 0 : -ENOMEM;
}

static size_t table_lower_bound(const DeviceTable *t, const char *name) {
        size_t lo = 0, hi = t->n_devices;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(t->devices[mid].name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int device_table_put(DeviceTable *t, DeviceState *s) {
        size_t i;

        assert_return(t && s, -EINVAL);

        i = table_lower_bound(t, s->name);
        if (i < t->n_devices && streq(t->devices[i].name, s->name)) {
                device_state_done(&t->devices[i]);
                t->devices[i] = *s;
                s->entries = NULL;
                s->n_entries = 0;
                return 0;
        }
        /* Appending in order is the common case (solver, dumps): no memmove then. */
        if (!GREEDY_REALLOC(t->devices, t->n_allocated, t->n_devices + 1))
                return -ENOMEM;
        memmove(t->devices + i + 1, t->devices + i, (t->n_devices - i) * sizeof(DeviceState));
        t->devices[i] = *s;
        t->n_devices++;
        s->entries = NULL;
        s->n_entries = 0;
        return 0;
}

int device_table_remove(DeviceTable *t, const char *name) {
        size_t i;

        assert_return(t && name, -EINVAL);
        i = table_lower_bound(t, name);
        if (i >= t->n_devices || !streq(t->devices[i].name, name))
                return -ENOENT;
        device_state_done(&t->devices[i]);
        memmove(t->devices + i, t->devices + i + 1, (t->n_devices - i - 1) * sizeof(DeviceState));
        t->n_devices--;
        return 0;
}

DeviceState *device_table_find(const DeviceTable *t, const char *name) {
        size_t i;

        if (!t || !name)
                return NULL;
        i = table_lower_bound(t, name);
        if (i < t->n_devices && streq(t->devices[i].name, name))
                return &t->devices[i];
        return NULL;
}

/* A heap copy of n entries (n > 0). */
static Entry *entries_dup(const Entry *e, uint32_t n) {
        Entry *c = new(Entry, n);

        if (c)
                memcpy(c, e, n * sizeof(Entry));
        return c;
}

static int device_state_copy(const DeviceState *s, DeviceState *ret) {
        *ret = *s;
        ret->entries = NULL;
        if (s->n_entries > 0) {
                ret->entries = entries_dup(s->entries, s->n_entries);
                if (!ret->entries)
                        return -ENOMEM;
        }
        return 0;
}

int device_table_copy(const DeviceTable *t, DeviceTable **ret) {
        _cleanup_(device_table_freep) DeviceTable *c = NULL;
        int r;

        assert_return(t && ret, -EINVAL);
        r = device_table_new(&c);
        if (r < 0)
                return r;
        if (!GREEDY_REALLOC(c->devices, c->n_allocated, t->n_devices))
                return -ENOMEM;
        for (size_t i = 0; i < t->n_devices; i++) {
                r = device_state_copy(&t->devices[i], &c->devices[i]);
                if (r < 0)
                        return r;
                c->n_devices++;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- Desired ---- */

static void vm_grants_done(VmGrants *g) {
        g->vcpus = mfree(g->vcpus);
}

static SolverScratch *scratch_free(SolverScratch *sc);

Desired *desired_free(Desired *d) {
        if (!d)
                return NULL;
        device_table_done(&d->devices);
        for (size_t i = 0; i < d->n_vms; i++)
                vm_grants_done(&d->vms[i]);
        free(d->vms);
        free(d->harts);
        scratch_free(d->scratch);
        pos_hint_done(&d->vm_hint);
        pos_hint_done(&d->uuid_hint);
        pos_hint_done(&d->device_hint);
        return mfree(d);
}

static size_t grants_lower_bound(const Desired *d, const char *uuid) {
        size_t lo = 0, hi = d->n_vms;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(d->vms[mid].uuid, uuid) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

const VmGrants *desired_find_vm(const Desired *d, const char *uuid) {
        Desired *w = (Desired *) d;     /* the hint is a cache */
        char u[UUID_STRING_MAX];
        uint64_t key;
        size_t i;

        if (!d || uuid_normalize(uuid, u) < 0)
                return NULL;
        /* The reconciler plans an event's VMs by UUID: a binary search over 2,048 was a few cold misses each. */
        key = pos_hint_key_string(u);
        i = pos_hint_get(&d->uuid_hint, key);
        if (i < d->n_vms && streq(d->vms[i].uuid, u))
                return &d->vms[i];
        i = grants_lower_bound(d, u);
        if (i < d->n_vms && streq(d->vms[i].uuid, u)) {
                pos_hint_set(&w->uuid_hint, key, i, d->n_vms);
                return &d->vms[i];
        }
        return NULL;
}

/* For UUIDs taken from the model, which are canonical already: no normalization on the hot path. */
static VmGrants *desired_find_vm_mut(Desired *d, const char *uuid) {
        size_t i = grants_lower_bound(d, uuid);

        if (i < d->n_vms && streq(d->vms[i].uuid, uuid))
                return &d->vms[i];
        return NULL;
}

/*
 * The grants of a model VM. Solving looks them up for every vCPU on a hart and for every VM-owned device, and a
 * binary search over the UUIDs (a dozen strcmp() at 2,048 VMs) was a tenth of an incremental update. The hint
 * maps the VM's address to its position in d->vms, confirmed by the UUID (positions move when VMs come and go,
 * addresses are reused).
 */
static VmGrants *grants_of(Desired *d, const Vm *vm) {
        size_t i = pos_hint_get(&d->vm_hint, (uint64_t) (uintptr_t) vm);
        VmGrants *g;

        if (i < d->n_vms && streq(d->vms[i].uuid, vm->uuid))
                return &d->vms[i];
        g = desired_find_vm_mut(d, vm->uuid);
        if (g)
                pos_hint_set(&d->vm_hint, (uint64_t) (uintptr_t) vm, (size_t) (g - d->vms), d->n_vms);
        return g;
}

/* key: pos_hint_key_string(name). */
static DeviceState *desired_find_device_key(const Desired *d, const char *name, uint64_t key) {
        Desired *w = (Desired *) d;     /* the hint is a cache */
        const DeviceTable *t = &d->devices;
        size_t i;

        i = pos_hint_get(&d->device_hint, key);
        if (i < t->n_devices && streq(t->devices[i].name, name))
                return &t->devices[i];
        i = table_lower_bound(t, name);
        if (i >= t->n_devices || !streq(t->devices[i].name, name))
                return NULL;
        pos_hint_set(&w->device_hint, key, i, t->n_devices);
        return &t->devices[i];
}

DeviceState *desired_find_device(const Desired *d, const char *name) {
        if (!d || !name)
                return NULL;
        return desired_find_device_key(d, name, pos_hint_key_string(name));
}

/* ---- guest-file allocation, one hart at a time ---- */

static int class_rank(IsolationClass c) {
        /*
         * At equal priority the class that loses most without a guest file
         * goes first: performance falls back to the shared host path,
         * balanced to MRIF (a notice interrupt per MSI), strict to MRIF or,
         * without MRIF, to blocked — but strict never trades isolation for
         * latency, so it is also the class that asked least for speed.
         */
        switch (c) {
        case CLASS_PERFORMANCE:
                return 2;
        case CLASS_BALANCED:
                return 1;
        default:
                return 0;
        }
}

static uint64_t tiebreak_hash(const Vm *vm, uint32_t hart) {
        /*
         * A per-hart pseudo-random but fixed order of VMs: FNV-1a over the UUID
         * (computed once, when the model learns the VM: vm->uuid_hash), then the
         * hart mixed in through splitmix64's finalizer. FNV alone is not
         * enough: UUIDs that differ in one character gave one VM 112 of 128
         * contested harts (test-solver fairness_across_harts).
         */
        return hash_mix64(vm->uuid_hash ^ (uint64_t) hart * UINT64_C(0x9e3779b97f4a7c15));
}

typedef struct Candidate {
        const Vm *vm;
        uint32_t vcpu;
        VcpuGrant *grant;       /* where the result goes (NULL: a VM the Desired does not know) */
        int32_t priority;
        int rank;
        uint32_t rr;            /* this vCPU's position among its VM's candidates on the hart */
        bool incumbent;         /* holds a valid guest file here already */
        uint64_t hash;
} Candidate;

static int candidate_cmp_vm(const void *a, const void *b) {
        const Candidate *x = a, *y = b;
        int c = strcmp(x->vm->uuid, y->vm->uuid);

        return c != 0 ? c : CMP(x->vcpu, y->vcpu);
}

static int candidate_cmp(const void *a, const void *b) {
        const Candidate *x = a, *y = b;
        int c;

        if (x->priority != y->priority)
                return x->priority > y->priority ? -1 : 1;
        if (x->rank != y->rank)
                return x->rank > y->rank ? -1 : 1;
        if (x->rr != y->rr)
                return x->rr < y->rr ? -1 : 1;
        if (x->incumbent != y->incumbent)
                return x->incumbent ? -1 : 1;
        if (x->hash != y->hash)
                return x->hash < y->hash ? -1 : 1;
        c = strcmp(x->vm->uuid, y->vm->uuid);
        if (c != 0)
                return c;
        return CMP(x->vcpu, y->vcpu);
}

static bool vm_runs_vcpus(const Vm *vm) {
        /* Only a VM whose vCPUs execute holds guest files (KVM loads them on vCPU entry). */
        return vm->state == VM_RUNNING || vm->state == VM_MIGRATING_OUT;
}

static VcpuGrant *vcpu_grant(Desired *d, const Vm *vm, uint32_t vcpu) {
        VmGrants *g = grants_of(d, vm);

        return g && vcpu < g->nr_vcpus ? &g->vcpus[vcpu] : NULL;
}

/* Set the grant of one vCPU (may be NULL: a VM the Desired does not know); returns true if it changed. */
static bool grant_set(VcpuGrant *c, uint32_t hart, uint8_t guest, uint8_t reason) {
        if (!c || (c->hart == hart && c->guest == guest && c->reason == reason))
                return false;
        c->hart = hart;
        c->guest = guest;
        c->reason = reason;
        return true;
}

/*
 * What solving a hart reads of one resident vCPU besides its identity (UUID, index) and the hart's own state:
 * why it cannot compete (0 if it can), its priority and class rank. Its held guest file is the fourth input.
 */
static uint8_t vcpu_inputs(const Model *m, const Policy *p, const Vm *vm, uint32_t v, int32_t *ret_priority,
                           uint8_t *ret_rank) {
        *ret_priority = policy_vm_priority(p, vm);
        *ret_rank = (uint8_t) class_rank(policy_vm_class(p, vm));
        if (!vm_runs_vcpus(vm))
                return REASON_FALLBACK_VCPU_NOT_RESIDENT;
        if (m->geometry.nr_guest_files == 0)
                return REASON_FALLBACK_NO_GEILEN;
        if (v >= policy_vm_max_guest_files(p, vm))
                /* The limit keeps the lowest-numbered vCPUs: a rule that needs no global view. */
                return REASON_FALLBACK_VM_LIMIT;
        return 0;
}

typedef struct ChangedVms {
        const Vm **vms;
        size_t n, allocated;
} ChangedVms;

static int changed_add(ChangedVms *c, const Vm *vm) {
        if (!c)
                return 0;
        for (size_t i = 0; i < c->n; i++)
                if (c->vms[i] == vm)
                        return 0;
        if (!GREEDY_REALLOC(c->vms, c->allocated, c->n + 1))
                return -ENOMEM;
        c->vms[c->n++] = vm;
        return 0;
}

/* Up to this many competing residents, solve_hart() orders them without qsort(). */
#define SOLVE_SMALL_HART 16U

static int solve_hart(const Model *m, const Policy *p, Desired *d, uint32_t hart, ChangedVms *changed) {
        const Hart *h = &m->harts[hart];
        uint32_t nfiles = m->geometry.nr_guest_files;
        Candidate stack[SOLVE_SMALL_HART];
        _cleanup_free_ Candidate *heap = NULL;
        Candidate *cand = stack;
        uint64_t used, files;
        uint32_t n = 0, free_slots, winners;
        int r;

        if (h->n_residents > ELEMENTSOF(stack)) {
                cand = heap = new(Candidate, h->n_residents);
                if (!cand)
                        return -ENOMEM;
        }

        /*
         * Each resident's VM, vCPU and grant lie somewhere else in memory, and an event finds them cold. Ask for
         * all of them first, in short loops whose loads do not depend on each other, so that their cache misses
         * overlap instead of coming one after the other in the loop below.
         */
        for (uint32_t i = 0; i < h->n_residents; i++) {
                __builtin_prefetch(h->residents[i].vm);
                __builtin_prefetch(pos_hint_slot(&d->vm_hint, (uint64_t) (uintptr_t) h->residents[i].vm));
        }
        for (uint32_t i = 0; i < h->n_residents; i++) {
                const Vm *vm = h->residents[i].vm;
                size_t pos = pos_hint_get(&d->vm_hint, (uint64_t) (uintptr_t) vm);

                __builtin_prefetch(&vm->vcpus[h->residents[i].vcpu]);
                if (pos < d->n_vms)
                        __builtin_prefetch(&d->vms[pos]);
        }
        for (uint32_t i = 0; i < h->n_residents; i++) {
                size_t pos = pos_hint_get(&d->vm_hint, (uint64_t) (uintptr_t) h->residents[i].vm);

                if (pos < d->n_vms && h->residents[i].vcpu < d->vms[pos].nr_vcpus)
                        __builtin_prefetch(&d->vms[pos].vcpus[h->residents[i].vcpu], 1);
        }

        for (uint32_t i = 0; i < h->n_residents; i++) {
                const Vm *vm = h->residents[i].vm;
                uint32_t v = h->residents[i].vcpu;
                VcpuGrant *gr = vcpu_grant(d, vm, v);
                int32_t priority;
                uint8_t rank, reason;

                reason = vcpu_inputs(m, p, vm, v, &priority, &rank);
                if (gr) {
                        /* What this grant is decided from: solver_update_vms() re-solves the hart if it changes. */
                        gr->seen_reason = reason;
                        gr->seen_held = vm->vcpus[v].guest_file;
                        gr->seen_rank = rank;
                        gr->seen_priority = priority;
                }
                if (reason != 0) {
                        if (grant_set(gr, hart, 0, reason)) {
                                r = changed_add(changed, vm);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                cand[n++] = (Candidate) {
                        .vm = vm,
                        .vcpu = v,
                        .grant = gr,
                        .priority = priority,
                        .rank = rank,
                        .incumbent = vm->vcpus[v].guest_file != 0 && vm->vcpus[v].guest_file <= nfiles &&
                                     !(h->reserved_files & (UINT64_C(1) << vm->vcpus[v].guest_file)),
                        .hash = tiebreak_hash(vm, hart),
                };
        }

        /*
         * Round-robin position of each vCPU within its VM (by vCPU index), then the order of the contest.
         * candidate_cmp() is a total order, so how the candidates are arranged before it does not matter.
         * A hart has a handful of residents: count and insert in place, without qsort() and its comparator
         * calls; a crowded hart sorts the usual way.
         */
        if (n <= SOLVE_SMALL_HART) {
                for (uint32_t i = 0; i < n; i++) {
                        cand[i].rr = 0;
                        for (uint32_t j = 0; j < n; j++)
                                if (cand[j].vm == cand[i].vm && cand[j].vcpu < cand[i].vcpu)
                                        cand[i].rr++;
                }
                for (uint32_t i = 1; i < n; i++) {
                        Candidate x = cand[i];
                        uint32_t j = i;

                        for (; j > 0 && candidate_cmp(&cand[j - 1], &x) > 0; j--)
                                cand[j] = cand[j - 1];
                        cand[j] = x;
                }
        } else {
                qsort(cand, n, sizeof(Candidate), candidate_cmp_vm);
                for (uint32_t i = 0; i < n; i++)
                        cand[i].rr = (i > 0 && cand[i - 1].vm == cand[i].vm) ? cand[i - 1].rr + 1 : 0;
                qsort(cand, n, sizeof(Candidate), candidate_cmp);
        }

        /* Guest files 1..nfiles (at most 63): bit g of a mask is file g. */
        files = nfiles >= 63 ? ~UINT64_C(1) : ((UINT64_C(1) << (nfiles + 1)) - 1) & ~UINT64_C(1);
        free_slots = (uint32_t) __builtin_popcountll(files & ~h->reserved_files);
        winners = MIN(n, free_slots);

        /* Winners that already hold a free, valid file keep it: no churn for them. */
        used = h->reserved_files | 1;
        for (uint32_t i = 0; i < winners; i++)
                if (cand[i].incumbent) {
                        uint8_t g = cand[i].vm->vcpus[cand[i].vcpu].guest_file;

                        if (used & (UINT64_C(1) << g))
                                cand[i].incumbent = false;      /* two claim one file: the later one moves */
                        else
                                used |= UINT64_C(1) << g;
                }

        for (uint32_t i = 0; i < n; i++) {
                const Vm *vm = cand[i].vm;
                uint8_t guest = 0, reason = REASON_FALLBACK_NO_GUEST_FILE;

                if (i < winners) {
                        if (cand[i].incumbent)
                                guest = vm->vcpus[cand[i].vcpu].guest_file;
                        else {
                                uint64_t avail = files & ~used;

                                /* The lowest free file. */
                                guest = avail ? (uint8_t) __builtin_ctzll(avail) : 0;
                                used |= UINT64_C(1) << guest;
                        }
                        reason = REASON_GUEST_FILE;
                }
                if (grant_set(cand[i].grant, hart, guest, reason)) {
                        r = changed_add(changed, vm);
                        if (r < 0)
                                return r;
                }
        }

        if (d->harts) {
                HartSummary *s = &d->harts[hart];
                uint32_t open = n - winners;

                for (uint32_t i = 0; i < winners; i++)
                        open += !cand[i].incumbent;
                s->granted = used & ~(h->reserved_files | 1);
                s->n_candidates = (uint16_t) MIN(n, (uint32_t) HART_UNSETTLED);
                s->n_open = n < HART_UNSETTLED ? (uint16_t) open : HART_UNSETTLED;
        }
        return 0;
}

/* Grants of vCPUs that are on no hart. */
static bool reset_unplaced(const Vm *vm, Desired *d) {
        bool changed = false;

        for (uint32_t v = 0; v < vm->nr_vcpus; v++)
                if (vm->vcpus[v].hart == NO_HART)
                        changed |= grant_set(vcpu_grant(d, vm, v), NO_HART, 0, REASON_FALLBACK_VCPU_NOT_RESIDENT);
        return changed;
}

/* ---- device decisions ---- */

static Isolation isolation_of(const DeviceState *s) {
        if (s->mode == MODE_OFF)
                return ISOLATION_NONE;
        for (uint32_t i = 0; i < s->n_entries; i++)
                if (s->entries[i].kind == ENTRY_HOST_FILE)
                        return ISOLATION_SHARED;
        /* A fallback to a host file may appear at any time without the daemon: count it. */
        if (s->mode == MODE_GUEST_FILE && s->fallback == ENTRY_HOST_FILE)
                return ISOLATION_SHARED;
        return s->locked ? ISOLATION_LOCKED : ISOLATION_ISOLATED;
}

static void entry_set(Entry *e, EntryKind kind, uint32_t hart, uint8_t guest, ReasonCode reason) {
        e->kind = (uint8_t) kind;
        e->hart = (kind == ENTRY_HOST_FILE || kind == ENTRY_GUEST_FILE) ? hart : NO_HART;
        e->guest = kind == ENTRY_GUEST_FILE ? guest : 0;
        e->reason = (uint8_t) reason;
}

/* Devices not owned by a VM: one mode for every entry. */
static void decide_plain(const Policy *p, const Device *dev, DeviceState *s) {
        DeliveryMode want = policy_owner_mode(p, dev->owner);
        ReasonCode reason = dev->owner == OWNER_NONE ? REASON_NO_OWNER : REASON_OWNER_DEFAULT;

        if (want == MODE_IDENTITY && dev->locked) {
                want = MODE_MRIF;
                reason = REASON_LOCKED;
        }
        if (want == MODE_MRIF && !(dev->caps & CAP_MSI_MRIF)) {
                /* Never weaken silently: without MRIF the isolated choice is blocked. */
                want = MODE_BLOCKED;
                reason = REASON_NO_MRIF_CAP;
        }
        s->mode = want;
        s->fallback = ENTRY_BLOCKED;
        s->reason = (uint8_t) reason;
        for (uint32_t i = 0; i < s->n_entries; i++) {
                Entry *e = &s->entries[i];

                switch (want) {
                case MODE_IDENTITY:
                        entry_set(e, ENTRY_HOST_FILE, TARGET_INDEX(e->target), 0, reason);
                        break;
                case MODE_MRIF:
                        entry_set(e, ENTRY_MRIF, NO_HART, 0, reason);
                        break;
                default:
                        entry_set(e, ENTRY_BLOCKED, NO_HART, 0, reason);
                }
        }
}

static void decide_vm(const Policy *p, const Desired *d, const Device *dev, DeviceState *s,
                      const DeviceTarget *t) {
        const Vm *vm = dev->vm;
        const VmGrants *g;
        IsolationClass cls;
        EntryKind order[3];
        size_t n_order = 0;
        bool has_guest = dev->caps & CAP_GUEST_FILE, has_mrif = dev->caps & CAP_MSI_MRIF;
        bool mrif_allowed;
        ReasonCode dev_reason;

        if (!vm || !vm_state_is_active(vm->state)) {
                ReasonCode r = vm ? REASON_VM_NOT_ACTIVE : REASON_VM_UNKNOWN;

                s->mode = MODE_BLOCKED;
                s->fallback = ENTRY_BLOCKED;
                s->reason = (uint8_t) r;
                for (uint32_t i = 0; i < s->n_entries; i++)
                        entry_set(&s->entries[i], ENTRY_BLOCKED, NO_HART, 0, r);
                return;
        }

        cls = policy_vm_class(p, vm);
        /* An isolation lock is the administrator's explicit choice of MRIF: it overrides mrif_fallback. */
        mrif_allowed = p->mrif_fallback || dev->locked;
        if (dev->locked)
                order[n_order++] = ENTRY_MRIF;
        else
                switch (cls) {
                case CLASS_STRICT:
                        order[n_order++] = ENTRY_GUEST_FILE;
                        order[n_order++] = ENTRY_MRIF;
                        break;
                case CLASS_PERFORMANCE:
                        order[n_order++] = ENTRY_GUEST_FILE;
                        order[n_order++] = ENTRY_HOST_FILE;
                        order[n_order++] = ENTRY_MRIF;
                        break;
                default:
                        order[n_order++] = ENTRY_GUEST_FILE;
                        order[n_order++] = ENTRY_MRIF;
                        order[n_order++] = ENTRY_HOST_FILE;
                }

        /* The device-level fallback: first kind after the guest file that is possible at all. */
        s->fallback = ENTRY_BLOCKED;
        dev_reason = REASON_REQUIREMENT_UNMET;
        for (size_t k = 0; k < n_order; k++) {
                if (order[k] == ENTRY_GUEST_FILE)
                        continue;
                if (order[k] == ENTRY_MRIF && (!has_mrif || !mrif_allowed))
                        continue;
                s->fallback = order[k];
                break;
        }
        if (has_guest && order[0] == ENTRY_GUEST_FILE) {
                s->mode = MODE_GUEST_FILE;
                dev_reason = REASON_GUEST_FILE;
        } else if (s->fallback == ENTRY_MRIF) {
                s->mode = MODE_MRIF;
                dev_reason = dev->locked ? REASON_LOCKED : REASON_FALLBACK_NO_GUEST_CAP;
        } else if (s->fallback == ENTRY_HOST_FILE) {
                s->mode = MODE_IDENTITY;
                dev_reason = REASON_FALLBACK_NO_GUEST_CAP;
        } else {
                s->mode = MODE_BLOCKED;
                s->violation = true;
        }
        if (s->mode != MODE_GUEST_FILE)
                s->fallback = ENTRY_BLOCKED;
        s->reason = (uint8_t) dev_reason;

        g = grants_of((Desired *) d, vm);
        for (uint32_t i = 0; i < s->n_entries; i++) {
                Entry *e = &s->entries[i];
                uint32_t v = TARGET_INDEX(e->target);
                const VcpuGrant *vg = g && TARGET_IS_VCPU(e->target) && v < g->nr_vcpus ? &g->vcpus[v] : NULL;
                EntryKind kind;
                ReasonCode why;

                if (s->mode == MODE_GUEST_FILE && vg && vg->guest) {
                        entry_set(e, ENTRY_GUEST_FILE, vg->hart, vg->guest, REASON_GUEST_FILE);
                        continue;
                }

                /* Why the first choice (a guest file) is not possible here. */
                if (dev->locked)
                        why = REASON_LOCKED;
                else if (!has_guest)
                        why = REASON_FALLBACK_NO_GUEST_CAP;
                else if (!vg)
                        why = REASON_FALLBACK_VCPU_NOT_RESIDENT;
                else
                        why = vg->reason;

                /*
                 * The kernel applies one mode per device, and in guest-file mode
                 * one fallback to every target without a file: the prediction
                 * must do exactly the same, or actual and desired never meet.
                 */
                switch (s->mode) {
                case MODE_GUEST_FILE:
                        kind = s->fallback;
                        break;
                case MODE_MRIF:
                        kind = ENTRY_MRIF;
                        break;
                case MODE_IDENTITY:
                        kind = ENTRY_HOST_FILE;
                        break;
                default:
                        kind = ENTRY_BLOCKED;
                }
                if (kind == ENTRY_HOST_FILE && t[i].hart == NO_HART)
                        /* No affinity known for the host path: nothing to map, and nothing shared. */
                        entry_set(e, ENTRY_BLOCKED, NO_HART, 0, REASON_NO_TARGET);
                else if (kind == ENTRY_BLOCKED) {
                        entry_set(e, ENTRY_BLOCKED, NO_HART, 0, REASON_REQUIREMENT_UNMET);
                        e->flags |= ENTRY_FLAG_VIOLATION;
                        s->violation = true;
                } else
                        entry_set(e, kind, t[i].hart, 0, why);
        }
}

/* Devices rvmsid does not manage: mode off, every entry blocked for @why. */
static void decide_unmanaged(DeviceState *s, ReasonCode why) {
        s->mode = MODE_OFF;
        s->fallback = ENTRY_BLOCKED;
        s->reason = (uint8_t) why;
        for (uint32_t i = 0; i < s->n_entries; i++)
                entry_set(&s->entries[i], ENTRY_BLOCKED, NO_HART, 0, why);
}

/* Owned by a running strict VM, which needs isolation. */
static bool strict_vm_device(const Policy *p, const Device *dev) {
        return dev->owner == OWNER_VM && dev->vm && vm_state_is_active(dev->vm->state) &&
               policy_vm_class(p, dev->vm) == CLASS_STRICT;
}

#define DECIDE_STACK_TARGETS 256U

/*
 * Decide one device. The entries go into buf when they fit in n_buf (the caller's, ret->entries == buf then), else
 * into an array of their own.
 */
static int decide_device(const Model *m, const Policy *p, const Desired *d, const Device *dev, Entry *buf,
                         uint32_t n_buf, DeviceState *ret) {
        /* Room for the targets of a usual device on the stack: no allocation per decision. */
        DeviceTarget stack[DECIDE_STACK_TARGETS];
        _cleanup_free_ DeviceTarget *heap = NULL;
        DeviceTarget *t = stack;
        DeviceState s = {
                .caps = dev->caps,
                .locked = dev->locked,
        };
        uint32_t n;

        (void) m;
        strcpy(s.name, dev->name);
        if (dev->nr_vectors > ELEMENTSOF(stack)) {
                t = heap = new(DeviceTarget, dev->nr_vectors);
                if (!heap)
                        return -ENOMEM;
        }
        n = device_targets_fill(dev, t);
        if (n > 0 && n <= n_buf)
                s.entries = buf;        /* every field of every entry is written below */
        else if (n > 0) {
                s.entries = new0(Entry, n);
                if (!s.entries)
                        return -ENOMEM;
        }
        s.n_entries = n;
        for (uint32_t i = 0; i < n; i++)
                s.entries[i] = (Entry) { .target = t[i].target, .hart = NO_HART, .refcount = t[i].count };

        if (!(dev->caps & CAP_MSI_FLAT)) {
                decide_unmanaged(&s, REASON_NO_MSI_TABLE);
                /* Nothing can be done; but a strict VM that needed isolation must hear about it. */
                if (strict_vm_device(p, dev)) {
                        s.violation = true;
                        s.reason = REASON_REQUIREMENT_UNMET;
                }
        } else if (dev->caps & CAP_TABLE_SHARED) {
                /*
                 * One table and one mode for several devices, decided here one device at a time: two devices
                 * given different modes would take the table from each other at every event. Left to the
                 * kernel's mode, reported, and a violation where a strict VM needed better.
                 */
                decide_unmanaged(&s, REASON_TABLE_SHARED);
                s.violation = strict_vm_device(p, dev);
        } else if (dev->owner == OWNER_VM)
                decide_vm(p, d, dev, &s, t);
        else
                decide_plain(p, dev, &s);

        if (n == 0 && s.reason != REASON_REQUIREMENT_UNMET && s.reason != REASON_TABLE_SHARED)
                s.reason = REASON_NO_TARGET;
        s.isolation = isolation_of(&s);
        *ret = s;
        return 0;
}

static size_t device_violations(const DeviceState *s) {
        size_t n = 0;

        for (uint32_t i = 0; i < s->n_entries; i++)
                if (s->entries[i].flags & ENTRY_FLAG_VIOLATION)
                        n++;
        /* A device-level violation without entries (no table, or no targets) counts once. */
        if (n == 0 && s->violation)
                n = 1;
        return n;
}

static int grants_init_vm(VmGrants *g, const Vm *vm) {
        memcpy(g->uuid, vm->uuid, sizeof(g->uuid));
        g->nr_vcpus = vm->nr_vcpus;
        g->vcpus = new(VcpuGrant, vm->nr_vcpus);
        if (!g->vcpus)
                return -ENOMEM;
        for (uint32_t v = 0; v < vm->nr_vcpus; v++)
                g->vcpus[v] = (VcpuGrant) { .hart = NO_HART, .reason = REASON_FALLBACK_VCPU_NOT_RESIDENT };
        return 0;
}

int solver_compute(const Model *m, const Policy *p, Desired **ret) {
        _cleanup_(desired_freep) Desired *d = NULL;
        int r;

        assert_return(m && p && ret, -EINVAL);

        d = new0(Desired, 1);
        if (!d)
                return -ENOMEM;
        d->geometry = m->geometry;

        if (m->geometry.nr_harts > 0) {
                d->harts = new0(HartSummary, m->geometry.nr_harts);
                if (!d->harts)
                        return -ENOMEM;
        }
        if (m->n_vms > 0) {
                d->vms = new0(VmGrants, m->n_vms);
                if (!d->vms)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < m->n_vms; i++) {
                r = grants_init_vm(&d->vms[i], m->vms[i]);
                if (r < 0)
                        return r;
                d->n_vms++;
                /*
                 * Where each VM's grants are, for the reconciler, which plans an event's VMs by UUID
                 * (desired_find_vm()): learnt one lookup at a time, two events in three at the largest host
                 * met a VM not looked up since the last full solve, and paid a binary search over 2,048 UUIDs.
                 */
                pos_hint_set(&d->uuid_hint, pos_hint_key_string(m->vms[i]->uuid), i, m->n_vms);
        }

        for (uint32_t h = 0; h < m->geometry.nr_harts; h++) {
                r = solve_hart(m, p, d, h, NULL);
                if (r < 0)
                        return r;
        }

        if (!GREEDY_REALLOC(d->devices.devices, d->devices.n_allocated, m->n_devices))
                return -ENOMEM;
        for (size_t i = 0; i < m->n_devices; i++) {
                DeviceState s;

                r = decide_device(m, p, d, m->devices[i], NULL, 0, &s);
                if (r < 0)
                        return r;
                d->n_violations += device_violations(&s);
                /* The model is sorted by name already: append. */
                d->devices.devices[d->devices.n_devices++] = s;
                /*
                 * Where each decision is, for the events that follow: they look devices up one at a time, and
                 * a binary search over 16,384 cold names was the largest part of deciding a device again.
                 */
                pos_hint_set(&d->device_hint, m->devices[i]->name_key, i, m->n_devices);
        }

        *ret = TAKE_PTR(d);
        return 0;
}

static bool device_state_equal(const DeviceState *a, const DeviceState *b) {
        if (a->mode != b->mode || a->fallback != b->fallback || a->isolation != b->isolation ||
            a->reason != b->reason || a->violation != b->violation || a->caps != b->caps ||
            a->locked != b->locked || a->n_entries != b->n_entries)
                return false;
        for (uint32_t i = 0; i < a->n_entries; i++) {
                const Entry *x = &a->entries[i], *y = &b->entries[i];

                if (!entry_same_destination(x, y) || x->reason != y->reason || x->flags != y->flags ||
                    x->refcount != y->refcount)
                        return false;
        }
        return true;
}

/* Recompute one device; returns 1 if its decision changed, 0 if not. */
static int redecide(const Model *m, const Policy *p, Desired *d, const Device *dev) {
        /* Decided into the stack: most decisions stay as they were, and a changed one mostly keeps its size. */
        Entry buf[DECIDE_STACK_TARGETS];
        DeviceState s, *old;
        size_t violations;
        int r;

        r = decide_device(m, p, d, dev, buf, ELEMENTSOF(buf), &s);
        if (r < 0)
                return r;
        old = desired_find_device_key(d, dev->name, dev->name_key);
        if (old && device_state_equal(old, &s)) {
                if (s.entries != buf)
                        device_state_done(&s);
                return 0;
        }
        violations = old ? device_violations(old) : 0;
        if (s.entries == buf) {
                if (old && old->n_entries == s.n_entries) {
                        memcpy(old->entries, buf, s.n_entries * sizeof(Entry));
                        s.entries = TAKE_PTR(old->entries);
                } else {
                        s.entries = entries_dup(buf, s.n_entries);
                        if (!s.entries)
                                return -ENOMEM;
                }
        }
        if (old) {
                /* Replace in place: no second search of the table. */
                d->n_violations = d->n_violations - violations + device_violations(&s);
                device_state_done(old);
                *old = s;
                return 1;
        }
        r = device_table_put(&d->devices, &s);
        if (r < 0) {
                device_state_done(&s);
                return r;
        }
        d->n_violations += device_violations(&s);
        return 1;
}

/*
 * Does solving the hart of a vCPU need to run again? The grant says what it was decided from (solve_hart()): the
 * hart, the vCPU's inputs, the file it held. A change of any of them can change the hart's allocation, with one
 * exception: the vCPU now holds exactly what it was granted (the reconciler applied the grant and recorded it, or
 * a release left a loser with nothing). That only makes a winner an incumbent of its own file, which keeps every
 * winner and every file where they are; a loser had no file to keep.
 */
static bool vcpu_needs_solve(const Vcpu *c, const VcpuGrant *g, uint8_t reason, int32_t priority, uint8_t rank) {
        if (c->hart != g->hart)
                return true;
        if (c->hart == NO_HART)
                return false;
        if (reason != g->seen_reason || priority != g->seen_priority || rank != g->seen_rank)
                return true;
        return c->guest_file != g->seen_held && c->guest_file != g->guest;
}

/* Why an update looks at a hart: a vCPU of the batch was there, or is there now. */
typedef struct HartTouch {
        uint32_t hart;
        const Vm *vm;           /* NULL: the VM came, went or changed size; solve the hart in full */
        uint32_t vcpu;
        VcpuGrant *grant;       /* its grant (the VM's grant array stays where it is during the update) */
        bool was_candidate;     /* it competed here at the hart's last solve... */
        uint8_t old_guest;      /* ...and was granted this file */
        uint8_t reason, rank;   /* its inputs now (vcpu_inputs()) */
        int32_t priority;
} HartTouch;

/* The hart's record and summary are read next, for every touch: start their misses now. */
static void touch_add(const Model *m, const Desired *d, HartTouch *touches, size_t *n, HartTouch t) {
        __builtin_prefetch(&m->harts[t.hart]);
        if (d->harts)
                __builtin_prefetch(&d->harts[t.hart]);
        touches[(*n)++] = t;
}

static int touch_cmp(const void *a, const void *b) {
        return CMP(((const HartTouch *) a)->hart, ((const HartTouch *) b)->hart);
}

/* By hart. An event touches a few harts per vCPU of one VM: insert in place there, no qsort() and its calls. */
#define TOUCHES_SMALL 32U

static void touches_sort(HartTouch *t, size_t n) {
        if (n > TOUCHES_SMALL) {
                qsort(t, n, sizeof(HartTouch), touch_cmp);
                return;
        }
        for (size_t i = 1; i < n; i++) {
                HartTouch x = t[i];
                size_t j = i;

                for (; j > 0 && t[j - 1].hart > x.hart; j--)
                        t[j] = t[j - 1];
                t[j] = x;
        }
}

/*
 * The harts of a batch are brought up to date one after the other, and solve_hart() overlaps the misses of one
 * hart's residents only. The records of the harts and their summaries were asked for when the touches were
 * collected; ask now for the residents of every hart that will run its contest, then for their VMs (at most 64
 * harts), so that those harts' misses overlap too. A settled hart reads none of them.
 */
#define PREFETCH_HARTS_MAX 64U

static void prefetch_contested_harts(const Model *m, const Desired *d, const HartTouch *t, size_t n) {
        uint32_t harts[PREFETCH_HARTS_MAX];
        size_t k = 0;

        for (size_t i = 0; i < n && k < PREFETCH_HARTS_MAX; i++)
                if (!d->harts || d->harts[t[i].hart].n_open != 0 || !t[i].vm)
                        harts[k++] = t[i].hart;
        for (size_t i = 0; i < k; i++)
                __builtin_prefetch(m->harts[harts[i]].residents);
        for (size_t i = 0; i < k; i++) {
                const Hart *h = &m->harts[harts[i]];

                for (uint32_t r = 0; r < h->n_residents && r < 8; r++)
                        __builtin_prefetch(h->residents[r].vm);
        }
}

static bool vcpu_holds_valid_file(const Model *m, const Vcpu *c, const Hart *h) {
        return c->guest_file != 0 && c->guest_file <= m->geometry.nr_guest_files &&
               !(h->reserved_files & (UINT64_C(1) << c->guest_file));
}

static void grant_seen(VcpuGrant *g, uint8_t reason, uint8_t held, uint8_t rank, int32_t priority) {
        g->seen_reason = reason;
        g->seen_held = held;
        g->seen_rank = rank;
        g->seen_priority = priority;
}

/*
 * Bring one hart up to date after the changes of a batch (touches: the batch's vCPUs that were or are on it).
 * On a settled hart (every candidate won and holds its file) the contest needs no rerun when vCPUs only stop or
 * start competing: the others stay winners and incumbents, so a full solve would leave each of them where it is;
 * a vCPU that starts to compete keeps a free file it holds, or takes the lowest free one when it is the only
 * newcomer without a file. On a hart that is not settled, losers (candidates without a file) may stop competing:
 * the winners are the same without them, with the same files. Anything else (an input of a competing vCPU
 * changed, a file claimed twice, more candidates than files, a winner leaving or anyone joining a hart that is not
 * settled) runs the contest. Touches of a hart skipped here never read the other residents, which at a large host
 * are cold.
 */
static int update_hart(const Model *m, const Policy *p, Desired *d, const HartTouch *t, size_t n,
                       ChangedVms *changed) {
        uint32_t hart = t[0].hart;
        const Hart *h = &m->harts[hart];
        HartSummary *s = d->harts ? &d->harts[hart] : NULL;
        uint32_t nfiles = m->geometry.nr_guest_files;
        uint64_t files, granted;
        uint32_t n_cand, n_open;
        uint8_t newcomer_file = 0;
        bool newcomer = false, joined = false;
        int r;

        if (!s || s->n_open == HART_UNSETTLED)
                return solve_hart(m, p, d, hart, changed);

        /* First, who leaves and who joins, and whether that is all; nothing is written yet. */
        granted = s->granted;
        n_cand = s->n_candidates;
        n_open = s->n_open;
        for (size_t i = 0; i < n; i++) {
                const Vm *vm = t[i].vm;
                bool now;

                if (!vm)
                        return solve_hart(m, p, d, hart, changed);
                now = vm->vcpus[t[i].vcpu].hart == hart && t[i].reason == 0;
                if (t[i].was_candidate && now)
                        return solve_hart(m, p, d, hart, changed);
                if (!t[i].was_candidate)
                        continue;
                if (t[i].old_guest == 0) {
                        /* A loser leaves (only a hart that is not settled has any). */
                        if (n_open == 0)
                                return solve_hart(m, p, d, hart, changed);      /* the summary missed it */
                        n_open--;
                } else if (s->n_open != 0)
                        /* A winner leaves a hart that is not settled: a loser may take its file, or a later
                         * newcomer a lower one. */
                        return solve_hart(m, p, d, hart, changed);
                granted &= ~(UINT64_C(1) << t[i].old_guest);
                n_cand--;
        }
        for (size_t i = 0; i < n; i++) {
                const Vcpu *c = &t[i].vm->vcpus[t[i].vcpu];

                if (t[i].was_candidate || c->hart != hart || t[i].reason != 0)
                        continue;
                if (s->n_open != 0)
                        return solve_hart(m, p, d, hart, changed);      /* it may beat a loser or a newcomer */
                joined = true;
                n_cand++;
                if (vcpu_holds_valid_file(m, c, h)) {
                        if (granted & (UINT64_C(1) << c->guest_file))
                                return solve_hart(m, p, d, hart, changed);      /* claimed twice */
                        granted |= UINT64_C(1) << c->guest_file;
                } else if (newcomer)
                        return solve_hart(m, p, d, hart, changed);      /* their order decides */
                else
                        newcomer = true;
        }
        files = nfiles >= 63 ? ~UINT64_C(1) : ((UINT64_C(1) << (nfiles + 1)) - 1) & ~UINT64_C(1);
        if (joined && n_cand > (uint32_t) __builtin_popcountll(files & ~h->reserved_files))
                return solve_hart(m, p, d, hart, changed);
        if (newcomer) {
                uint64_t avail = files & ~h->reserved_files & ~granted;

                newcomer_file = (uint8_t) __builtin_ctzll(avail);       /* n_cand fits: not empty */
                granted |= UINT64_C(1) << newcomer_file;
        }

        /* Then the touched vCPUs' grants; everyone else on the hart keeps theirs. */
        for (size_t i = 0; i < n; i++) {
                const Vcpu *c = &t[i].vm->vcpus[t[i].vcpu];
                uint8_t reason = t[i].reason, guest = 0;

                if (c->hart != hart)
                        continue;       /* it left: its new hart, or reset_unplaced(), sets its grant */
                grant_seen(t[i].grant, reason, c->guest_file, t[i].rank, t[i].priority);
                if (reason == 0) {
                        guest = vcpu_holds_valid_file(m, c, h) ? c->guest_file : newcomer_file;
                        reason = REASON_GUEST_FILE;
                }
                if (grant_set(t[i].grant, hart, guest, reason)) {
                        r = changed_add(changed, t[i].vm);
                        if (r < 0)
                                return r;
                }
        }
        s->granted = granted;
        s->n_candidates = (uint16_t) n_cand;
        s->n_open = (uint16_t) (n_open + newcomer);
        d->n_harts_settled++;
        return 0;
}

void solver_note_held(Desired *d, const Vm *vm, uint32_t vcpu) {
        HartSummary *s;
        VcpuGrant *g;
        uint8_t held;

        if (!d || !d->harts || !vm || vcpu >= vm->nr_vcpus)
                return;
        g = vcpu_grant(d, vm, vcpu);
        held = vm->vcpus[vcpu].guest_file;
        /* Only a winner's file counts in its hart's contest, and only one on the hart it was granted on. */
        if (!g || g->hart == NO_HART || g->hart != vm->vcpus[vcpu].hart || g->seen_reason != 0 || g->guest == 0 ||
            held == g->seen_held)
                return;
        s = &d->harts[g->hart];
        if (held != g->guest) {
                /* It holds something else than it was granted: only the contest can say what follows. */
                s->n_open = HART_UNSETTLED;
                return;
        }
        if (s->n_open != HART_UNSETTLED && s->n_open > 0)
                s->n_open--;
        /* From now on it is the incumbent of its file, as a solve would see it (vcpu_needs_solve() agrees). */
        g->seen_held = held;
}

/*
 * The devices of the VMs whose grants moved are decided again next, and an event finds them cold: the
 * Device, its vectors, the slot of its name in the Desired's hint and its decision lie in different
 * places, each one a chain of misses behind the one before when decide_device() and
 * desired_find_device() meet them. Ask for them level by level first, so that the misses of all devices
 * overlap.
 */
#define PREFETCH_DEVICES_MAX 64U

static void prefetch_devices(const Desired *d, const ChangedVms *c) {
        size_t n = 0;

        for (size_t i = 0; i < c->n && n < PREFETCH_DEVICES_MAX; i++)
                for (size_t k = 0; k < c->vms[i]->n_devices && n < PREFETCH_DEVICES_MAX; k++, n++)
                        prefetch_bytes(c->vms[i]->devices[k], sizeof(Device));
        n = 0;
        for (size_t i = 0; i < c->n && n < PREFETCH_DEVICES_MAX; i++)
                for (size_t k = 0; k < c->vms[i]->n_devices && n < PREFETCH_DEVICES_MAX; k++, n++) {
                        const Device *dev = c->vms[i]->devices[k];

                        prefetch_bytes(dev->vectors, dev->nr_vectors * sizeof(Vector));
                        __builtin_prefetch(pos_hint_slot(&d->device_hint, dev->name_key));
                }
        n = 0;
        for (size_t i = 0; i < c->n && n < PREFETCH_DEVICES_MAX; i++)
                for (size_t k = 0; k < c->vms[i]->n_devices && n < PREFETCH_DEVICES_MAX; k++, n++) {
                        size_t pos = pos_hint_get(&d->device_hint, c->vms[i]->devices[k]->name_key);

                        if (pos < d->devices.n_devices)
                                __builtin_prefetch(&d->devices.devices[pos]);
                }
        /* Then the old decisions' entries, which redecide() compares the new ones with. */
        n = 0;
        for (size_t i = 0; i < c->n && n < PREFETCH_DEVICES_MAX; i++)
                for (size_t k = 0; k < c->vms[i]->n_devices && n < PREFETCH_DEVICES_MAX; k++, n++) {
                        size_t pos = pos_hint_get(&d->device_hint, c->vms[i]->devices[k]->name_key);
                        const DeviceState *old = pos < d->devices.n_devices ? &d->devices.devices[pos] : NULL;

                        if (old)
                                prefetch_bytes(old->entries, old->n_entries * sizeof(Entry));
                }
}

/*
 * An update's working memory, kept with the Desired between updates: every event needs the same few small arrays,
 * and allocating them each time was a good part of the allocations of an event.
 */
struct SolverScratch {
        StrSet batch;                   /* the canonical UUIDs of the batch */
        const Vm **vmv;
        size_t n_vmv_allocated;
        HartTouch *touches;
        size_t n_touches_allocated;
        ChangedVms changed;
};

/* Above this many entries, scratch_end() lets an array go: a burst's need not stay for the events after it. */
#define SCRATCH_KEEP_MAX 256U

static int scratch_begin(Desired *d, SolverScratch **ret) {
        if (!d->scratch) {
                d->scratch = new0(SolverScratch, 1);
                if (!d->scratch)
                        return -ENOMEM;
        }
        strset_clear(&d->scratch->batch);
        d->scratch->changed.n = 0;
        *ret = d->scratch;
        return 0;
}

static void scratch_end(SolverScratch *sc) {
        if (sc->n_vmv_allocated > SCRATCH_KEEP_MAX) {
                sc->vmv = mfree(sc->vmv);
                sc->n_vmv_allocated = 0;
        }
        if (sc->n_touches_allocated > SCRATCH_KEEP_MAX) {
                sc->touches = mfree(sc->touches);
                sc->n_touches_allocated = 0;
        }
        if (sc->changed.allocated > SCRATCH_KEEP_MAX) {
                sc->changed.vms = mfree(sc->changed.vms);
                sc->changed.allocated = 0;
        }
        sc->changed.n = 0;
        strset_clear(&sc->batch);
}

static SolverScratch *scratch_free(SolverScratch *sc) {
        if (!sc)
                return NULL;
        strset_done(&sc->batch);
        free(sc->vmv);
        free(sc->touches);
        free(sc->changed.vms);
        return mfree(sc);
}

int solver_update_vm(const Model *m, const Policy *p, Desired *d, const char *uuid) {
        char *const uuids[] = { (char *) uuid, NULL };

        assert_return(uuid, -EINVAL);
        return solver_update_vms(m, p, d, uuids, NULL, NULL);
}

int solver_update_vms(const Model *m, const Policy *p, Desired *d, char *const *uuids, StrSet *changed_devices,
                      StrSet *changed_vms) {
        SolverScratch *sc;
        StrSet *batch;
        const Vm **vmv;         /* the model's VM of each batch member, NULL if gone */
        HartTouch *touches;
        ChangedVms *changed;
        size_t n_touches = 0, cap = 0;
        bool any_gone = false;
        int r, n_changed = 0;

        assert_return(m && p && d, -EINVAL);

        r = scratch_begin(d, &sc);
        if (r < 0)
                return r;
        batch = &sc->batch;
        changed = &sc->changed;

        STRV_FOREACH(u, uuids) {
                char canonical[UUID_STRING_MAX];

                r = uuid_normalize(*u, canonical);
                if (r < 0)
                        goto finish;
                r = strset_put(batch, canonical);
                if (r < 0)
                        goto finish;
        }

        /*
         * First, for every VM of the batch, the harts whose allocation can change: where a vCPU was and where it
         * is now, for each vCPU whose inputs changed (every vCPU when the VM came, went or changed size). All of
         * them before any hart is solved: solving one hart rewrites the grants of every vCPU on it, including
         * those of other VMs of the batch that moved there, and their old harts would be lost.
         */
        if (!GREEDY_REALLOC(sc->vmv, sc->n_vmv_allocated, strset_size(batch) + 1)) {
                r = -ENOMEM;
                goto finish;
        }
        vmv = sc->vmv;
        for (size_t k = 0; k < strset_size(batch); k++) {
                const char *u = strset_strv(batch)[k];
                const VmGrants *g;

                vmv[k] = model_find_vm(m, u);
                /* Its devices are decided again at the end, and their misses are a chain: start it now. */
                if (vmv[k] && vmv[k]->devices)
                        __builtin_prefetch(vmv[k]->devices);
                g = vmv[k] ? grants_of(d, vmv[k]) : desired_find_vm_mut(d, u);
                cap += (g ? g->nr_vcpus : 0) + (vmv[k] ? vmv[k]->nr_vcpus : 0);
        }
        if (!GREEDY_REALLOC(sc->touches, sc->n_touches_allocated, MAX(cap, (size_t) 1))) {
                r = -ENOMEM;
                goto finish;
        }
        touches = sc->touches;
        for (size_t k = 0; k < strset_size(batch); k++) {
                const Vm *vm = vmv[k];
                VmGrants *g = vm ? grants_of(d, vm) : desired_find_vm_mut(d, strset_strv(batch)[k]);
                bool all = !vm || !g || g->nr_vcpus != vm->nr_vcpus;

                for (uint32_t v = 0; g && v < g->nr_vcpus; v++) {
                        VcpuGrant *gr = &g->vcpus[v];
                        HartTouch t = {};

                        if (!all) {
                                t = (HartTouch) { .vm = vm, .vcpu = v, .grant = gr };
                                if (vm->vcpus[v].hart != NO_HART)
                                        t.reason = vcpu_inputs(m, p, vm, v, &t.priority, &t.rank);
                                if (!vcpu_needs_solve(&vm->vcpus[v], gr, t.reason, t.priority, t.rank))
                                        continue;
                        }
                        /* Where it was, as it was: solving another hart of the batch may rewrite the grant. */
                        if (gr->hart != NO_HART) {
                                t.hart = gr->hart;
                                t.was_candidate = gr->seen_reason == 0;
                                t.old_guest = gr->guest;
                                touch_add(m, d, touches, &n_touches, t);
                        }
                        if (!all && vm->vcpus[v].hart != NO_HART && vm->vcpus[v].hart != gr->hart) {
                                t.hart = vm->vcpus[v].hart;
                                t.was_candidate = false;
                                t.old_guest = 0;
                                touch_add(m, d, touches, &n_touches, t);
                        }
                }
                if (all)
                        for (uint32_t v = 0; vm && v < vm->nr_vcpus; v++)
                                if (vm->vcpus[v].hart != NO_HART)
                                        touch_add(m, d, touches, &n_touches,
                                                  (HartTouch) { .hart = vm->vcpus[v].hart });
        }
        touches_sort(touches, n_touches);
        prefetch_contested_harts(m, d, touches, n_touches);
        for (size_t k = 0; k < strset_size(batch); k++)
                for (size_t i = 0; vmv[k] && i < vmv[k]->n_devices && i < PREFETCH_DEVICES_MAX; i++)
                        __builtin_prefetch(vmv[k]->devices[i]);

        /* The grants follow the VMs: gone, new, or another number of vCPUs. */
        for (size_t k = 0; k < strset_size(batch); k++) {
                const Vm *vm = vmv[k];
                VmGrants *g = vm ? grants_of(d, vm) : desired_find_vm_mut(d, strset_strv(batch)[k]);

                if (!vm && g) {
                        size_t i = grants_lower_bound(d, g->uuid);

                        vm_grants_done(g);
                        memmove(d->vms + i, d->vms + i + 1, (d->n_vms - i - 1) * sizeof(VmGrants));
                        d->n_vms--;
                } else if (vm && (!g || g->nr_vcpus != vm->nr_vcpus)) {
                        VmGrants fresh = {};

                        r = grants_init_vm(&fresh, vm);
                        if (r < 0)
                                goto finish;
                        if (g) {
                                vm_grants_done(g);
                                *g = fresh;
                        } else {
                                VmGrants *n = realloc(d->vms, (d->n_vms + 1) * sizeof(VmGrants));
                                size_t i;

                                if (!n) {
                                        vm_grants_done(&fresh);
                                        r = -ENOMEM;
                                        goto finish;
                                }
                                d->vms = n;
                                i = grants_lower_bound(d, vm->uuid);
                                memmove(d->vms + i + 1, d->vms + i, (d->n_vms - i) * sizeof(VmGrants));
                                d->vms[i] = fresh;
                                d->n_vms++;
                        }
                }
                if (vm)
                        (void) reset_unplaced(vm, d);
        }

        for (size_t i = 0, j; i < n_touches; i = j) {
                for (j = i + 1; j < n_touches && touches[j].hart == touches[i].hart; j++)
                        ;
                r = update_hart(m, p, d, touches + i, j - i, changed);
                if (r < 0)
                        goto finish;
        }

        /* The batch's own devices (a VM's state or class may have changed), then every VM whose grants moved. */
        for (size_t k = 0; k < strset_size(batch); k++) {
                if (vmv[k])
                        r = changed_add(changed, vmv[k]);
                else {
                        any_gone = true;
                        r = changed_vms ? strset_put(changed_vms, strset_strv(batch)[k]) : 0;
                }
                if (r < 0)
                        goto finish;
        }
        prefetch_devices(d, changed);
        /*
         * The batch's devices are read back and planned whether their decision changes or not (the kernel may
         * have moved their entries itself): the caller gets them all, and need not look the VMs up again.
         */
        for (size_t k = 0; changed_devices && k < strset_size(batch); k++)
                for (size_t i = 0; vmv[k] && i < vmv[k]->n_devices; i++) {
                        r = strset_put(changed_devices, vmv[k]->devices[i]->name);
                        if (r < 0)
                                goto finish;
                }
        for (size_t i = 0; i < changed->n; i++) {
                if (changed_vms) {
                        r = strset_put(changed_vms, changed->vms[i]->uuid);
                        if (r < 0)
                                goto finish;
                }
                for (size_t k = 0; k < changed->vms[i]->n_devices; k++) {
                        r = redecide(m, p, d, changed->vms[i]->devices[k]);
                        if (r < 0)
                                goto finish;
                        if (r > 0) {
                                n_changed++;
                                r = changed_devices ?
                                        strset_put(changed_devices, changed->vms[i]->devices[k]->name) : 0;
                                if (r < 0)
                                        goto finish;
                        }
                }
        }
        /* Devices of a VM that is gone are now owned by an unknown VM. */
        for (size_t i = 0; any_gone && i < m->n_devices; i++) {
                const Device *dev = m->devices[i];

                if (dev->owner != OWNER_VM || dev->vm || !strset_contains(batch, dev->owner_vm))
                        continue;
                r = redecide(m, p, d, dev);
                if (r < 0)
                        goto finish;
                if (r > 0) {
                        n_changed++;
                        r = changed_devices ? strset_put(changed_devices, dev->name) : 0;
                        if (r < 0)
                                goto finish;
                }
        }
        r = n_changed;
finish:
        scratch_end(sc);
        return r;
}

int solver_update_device(const Model *m, const Policy *p, Desired *d, const char *name) {
        const Device *dev;
        DeviceState *old;

        assert_return(m && p && d && name, -EINVAL);

        dev = model_find_device(m, name);
        if (!dev) {
                old = device_table_find(&d->devices, name);
                if (!old)
                        return 0;
                d->n_violations -= device_violations(old);
                (void) device_table_remove(&d->devices, name);
                return 1;
        }
        /* Devices do not take part in guest-file allocation, so nothing else can change. */
        return redecide(m, p, d, dev);
}

/* ---- explain and JSON ---- */

static void target_to_string(uint32_t t, char buf[static 32]) {
        (void) snprintf(buf, 32, "%s %u", TARGET_IS_VCPU(t) ? "vCPU" : "hart", TARGET_INDEX(t));
}

int solver_explain(const Model *m, const Policy *p, const DeviceState *s, const Entry *e, char **ret) {
        _cleanup_free_ char *text = NULL;
        const Device *dev;
        int r;

        assert_return(m && p && s && ret, -EINVAL);

        dev = model_find_device(m, s->name);
        r = strextendf(&text, "device %s", s->name);
        if (r >= 0 && dev) {
                r = strextendf(&text, " (owner %s", owner_kind_to_string(dev->owner));
                if (r >= 0 && dev->owner == OWNER_VM) {
                        if (dev->vm)
                                r = strextendf(&text, " '%s' %s, class %s, priority %d", strempty(dev->vm->name),
                                               dev->vm->uuid, isolation_class_to_string(policy_vm_class(p, dev->vm)),
                                               policy_vm_priority(p, dev->vm));
                        else
                                r = strextendf(&text, " %s, not registered", dev->owner_vm);
                }
                if (r >= 0)
                        r = strextendf(&text, "%s)", dev->locked ? ", isolation-locked" : "");
        }
        if (r < 0)
                return r;

        if (!e) {
                r = strextendf(&text, ": mode %s", mode_to_string(s->mode));
                if (r >= 0 && s->mode == MODE_GUEST_FILE)
                        r = strextendf(&text, ", fallback %s", entry_kind_to_string(s->fallback));
                if (r >= 0)
                        r = strextendf(&text, ", isolation %s: %s [%s]%s", isolation_to_string(s->isolation),
                                       reason_describe(s->reason), reason_to_string(s->reason),
                                       s->violation ? "; VIOLATION: some requirement of the class is unmet" : "");
        } else {
                char t[32];

                target_to_string(e->target, t);
                r = strextendf(&text, ": %s -> %s", t, entry_kind_to_string(e->kind));
                if (r >= 0 && e->kind == ENTRY_HOST_FILE)
                        r = strextendf(&text, " (S-level file of hart %u)", e->hart);
                else if (r >= 0 && e->kind == ENTRY_GUEST_FILE)
                        r = strextendf(&text, " (guest file %u of hart %u)", e->guest, e->hart);
                if (r >= 0)
                        r = strextendf(&text, ", %u vector%s: %s [%s]%s", e->refcount, e->refcount == 1 ? "" : "s",
                                       reason_describe(e->reason), reason_to_string(e->reason),
                                       (e->flags & ENTRY_FLAG_VIOLATION) ? "; VIOLATION" : "");
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(text);
        return 0;
}

int device_state_to_json(const DeviceState *s, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        json_object *entries;
        int r = 0;

        assert_return(s && ret, -EINVAL);

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        RET_GATHER(r, json_add_take(o, "name", json_object_new_string(s->name)));
        RET_GATHER(r, json_add_take(o, "mode", json_object_new_string(mode_to_string(s->mode) ?: "invalid")));
        RET_GATHER(r, json_add_take(o, "fallback", json_object_new_string(entry_kind_to_string(s->fallback) ?: "invalid")));
        RET_GATHER(r, json_add_take(o, "isolation", json_object_new_string(isolation_to_string(s->isolation) ?: "invalid")));
        RET_GATHER(r, json_add_take(o, "reason", json_object_new_string(reason_to_string(s->reason) ?: "invalid")));
        RET_GATHER(r, json_add_take(o, "violation", json_object_new_boolean(s->violation)));
        RET_GATHER(r, json_add_take(o, "caps", json_object_new_uint64(s->caps)));
        RET_GATHER(r, json_add_take(o, "locked", json_object_new_boolean(s->locked)));
        entries = json_object_new_array();
        RET_GATHER(r, json_add_take(o, "entries", entries));
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < s->n_entries; i++) {
                const Entry *e = &s->entries[i];
                json_object *eo = json_object_new_object();

                r = json_append_take(entries, eo);
                if (r < 0)
                        return r;
                RET_GATHER(r, json_add_take(eo, TARGET_IS_VCPU(e->target) ? "vcpu" : "hart",
                                   json_object_new_int64(TARGET_INDEX(e->target))));
                RET_GATHER(r, json_add_take(eo, "kind", json_object_new_string(entry_kind_to_string(e->kind) ?: "invalid")));
                if (e->kind == ENTRY_HOST_FILE || e->kind == ENTRY_GUEST_FILE)
                        RET_GATHER(r, json_add_take(eo, "file_hart", json_object_new_int64(e->hart)));
                if (e->kind == ENTRY_GUEST_FILE)
                        RET_GATHER(r, json_add_take(eo, "file_guest", json_object_new_int64(e->guest)));
                RET_GATHER(r, json_add_take(eo, "vectors", json_object_new_int64(e->refcount)));
                if (e->reason)
                        RET_GATHER(r, json_add_take(eo, "reason", json_object_new_string(reason_to_string(e->reason) ?: "invalid")));
                if (e->flags & ENTRY_FLAG_VIOLATION)
                        RET_GATHER(r, json_add_take(eo, "violation", json_object_new_boolean(true)));
                if (e->notices)
                        RET_GATHER(r, json_add_take(eo, "notices", json_object_new_uint64(e->notices)));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

int desired_to_json(const Desired *d, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        json_object *devs, *vms;
        int r = 0;

        assert_return(d && ret, -EINVAL);

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        devs = json_object_new_array();
        RET_GATHER(r, json_add_take(o, "devices", devs));
        vms = json_object_new_array();
        RET_GATHER(r, json_add_take(o, "vms", vms));
        RET_GATHER(r, json_add_take(o, "violations", json_object_new_int64((int64_t) d->n_violations)));
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->devices.n_devices; i++) {
                json_object *v;

                r = device_state_to_json(&d->devices.devices[i], &v);
                if (r < 0)
                        return r;
                r = json_append_take(devs, v);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < d->n_vms; i++) {
                const VmGrants *g = &d->vms[i];
                json_object *vo = json_object_new_object(), *vc;

                r = json_append_take(vms, vo);
                if (r < 0)
                        return r;
                RET_GATHER(r, json_add_take(vo, "uuid", json_object_new_string(g->uuid)));
                vc = json_object_new_array();
                RET_GATHER(r, json_add_take(vo, "vcpus", vc));
                if (r < 0)
                        return r;
                for (uint32_t v = 0; v < g->nr_vcpus; v++) {
                        json_object *c = json_object_new_object();

                        r = json_append_take(vc, c);
                        if (r < 0)
                                return r;
                        if (g->vcpus[v].hart != NO_HART)
                                RET_GATHER(r, json_add_take(c, "hart", json_object_new_int64(g->vcpus[v].hart)));
                        RET_GATHER(r, json_add_take(c, "guest_file", json_object_new_int64(g->vcpus[v].guest)));
                        RET_GATHER(r, json_add_take(c, "reason",
                                           json_object_new_string(reason_to_string(g->vcpus[v].reason) ?: "invalid")));
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(o);
        return 0;
}
