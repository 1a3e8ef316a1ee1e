/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulated backend. See backend-sim.h for what it models. MSI tables are
 * kept sparse (only valid PTEs, each with its table index): a full table for
 * a 4096-hart host is 4 MiB per device, and every index not present holds
 * the all-zero invalid PTE of rvmsi_msipte_invalid().
 */

#include <inttypes.h>
#include <stdarg.h>
#include <linux/rvmsi.h>

#include "backend-sim.h"
#include "rvmsi_msi.h"

/* Where the sim puts things in its imaginary physical address space. */
#define SIM_HOST_IMSIC_BASE     (UINT64_C(1) << 44)
#define SIM_GUEST_IMSIC_BASE    UINT64_C(0x28000000)    /* QEMU virt's IMSIC S-level base, guest-physical */
#define SIM_MRIF_BASE           UINT64_C(0x80000000)
#define SIM_NOTICE_NID          2047U

typedef struct SimEntry {
        uint32_t target;
        uint8_t kind;           /* EntryKind */
        uint8_t guest;
        uint32_t hart;
        uint32_t refcount;
        uint64_t index;         /* MSI table index of the target's page */
        struct rvmsi_msipte pte;
        uint64_t mrif_pa;       /* MRIF entries */
        u64 *mrif;              /* MRIF entries: the 64-doubleword image (allocated only for them) */
        uint64_t notices;
        size_t window;          /* open window, SIZE_MAX if none */
} SimEntry;

typedef struct SimDevice {
        char name[DEVICE_NAME_MAX];
        DeliveryMode mode;
        EntryKind fallback;
        SimEntry *entries;      /* sorted by target */
        uint32_t n_entries;
} SimDevice;

struct Sim {
        Backend *backend;
        Model *world;
        struct rvmsi_imsic_geom host_geom;
        u64 host_mask, host_pattern;
        SimDevice **devices;    /* sorted by name */
        size_t n_devices, n_devices_allocated;
        VcpuRef *holders;       /* [nr_harts * (geilen + 1)]: who holds each guest file */
        uint32_t *file_refs;    /* same index: valid GUEST_FILE entries pointing at each file */
        bool record_windows;
        SimWindow *windows;
        size_t n_windows, n_windows_allocated;
        uint64_t clock;
        uint64_t next_mrif;
        size_t n_violations;
        char first_violation[512];
        SimCounters counters;
};

const char *sim_msi_outcome_to_string(SimMsiOutcome o) {
        static const char *const table[_SIM_MSI_OUTCOME_MAX] = {
                [SIM_MSI_DELIVERED] = "delivered",
                [SIM_MSI_MRIF] = "mrif",
                [SIM_MSI_DISCARDED] = "discarded",
                [SIM_MSI_FAULT] = "fault",
                [SIM_MSI_NOT_MSI] = "not-msi",
        };
        if ((int) o < 0 || o >= _SIM_MSI_OUTCOME_MAX)
                return NULL;
        return table[o];
}

static uint32_t order_bits(uint64_t n) {
        return rvmsi_order_base_2(n);
}

static int geom_from_geometry(const Geometry *g, struct rvmsi_imsic_geom *ret) {
        uint32_t hpg = geometry_harts_per_group(g);
        uint32_t ids = g->nr_ids;
        struct rvmsi_imsic_geom x = {
                .base = SIM_HOST_IMSIC_BASE,
                .guest_index_bits = order_bits((uint64_t) g->nr_guest_files + 1),
                .hart_index_bits = order_bits(hpg),
                .group_index_bits = order_bits(g->nr_groups),
                .nr_groups = g->nr_groups,
                .nr_harts = hpg,
                .geilen = g->nr_guest_files,
        };

        /* IMSIC files implement 64k - 1 identities; round a model value down to that form. */
        ids = ((ids + 1) / 64) * 64 - 1;
        x.nr_ids = MAX(ids, 63U);
        x.nr_guest_ids = g->nr_guest_files ? x.nr_ids : 0;
        x.group_index_shift = MAX(24U, 12 + x.guest_index_bits + x.hart_index_bits);
        if (rvmsi_imsic_geom_validate(&x) < 0)
                return -EINVAL;
        *ret = x;
        return 0;
}

/* A VM's guest-physical IMSIC: one S-level file per vCPU. */
static int geom_for_vm(uint32_t nr_vcpus, struct rvmsi_imsic_geom *ret) {
        struct rvmsi_imsic_geom x = {
                .base = SIM_GUEST_IMSIC_BASE,
                .hart_index_bits = order_bits(nr_vcpus),
                .group_index_shift = 24,
                .nr_groups = 1,
                .nr_harts = nr_vcpus,
                .nr_ids = 255,
        };

        x.group_index_shift = MAX(24U, 12 + x.hart_index_bits);
        if (rvmsi_imsic_geom_validate(&x) < 0)
                return -EINVAL;
        *ret = x;
        return 0;
}

/* ---- lookups ---- */

static size_t sim_devices_lower_bound(const Sim *s, const char *name) {
        size_t lo = 0, hi = s->n_devices;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(s->devices[mid]->name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static SimDevice *sim_find_device(const Sim *s, const char *name) {
        size_t i = sim_devices_lower_bound(s, name);

        if (i < s->n_devices && streq(s->devices[i]->name, name))
                return s->devices[i];
        return NULL;
}

static size_t file_slot(const Sim *s, uint32_t hart, uint8_t guest) {
        return (size_t) hart * (s->world->geometry.nr_guest_files + 1) + guest;
}

static VcpuRef *holder(const Sim *s, uint32_t hart, uint8_t guest) {
        return &s->holders[file_slot(s, hart, guest)];
}

static void file_ref(Sim *s, const SimEntry *e, int delta) {
        if (e->kind == ENTRY_GUEST_FILE)
                s->file_refs[file_slot(s, e->hart, e->guest)] += (uint32_t) delta;
}

/* The device's address space: host IMSIC, or its owner VM's guest IMSIC. */
static int device_space(const Sim *s, const Device *d, struct rvmsi_imsic_geom *ret) {
        if (device_targets_vcpus(d)) {
                if (!d->vm)
                        return -ENOENT;
                return geom_for_vm(d->vm->nr_vcpus, ret);
        }
        *ret = s->host_geom;
        return 0;
}

static int target_location(const Sim *s, const Device *d, uint32_t target, u32 *group, u32 *hart) {
        uint32_t hpg = geometry_harts_per_group(&s->world->geometry);

        if (TARGET_IS_VCPU(target)) {
                if (!device_targets_vcpus(d) || !d->vm || TARGET_INDEX(target) >= d->vm->nr_vcpus)
                        return -ENOENT;
                *group = 0;
                *hart = TARGET_INDEX(target);
                return 0;
        }
        if (device_targets_vcpus(d) || TARGET_INDEX(target) >= s->world->geometry.nr_harts)
                return -ENOENT;
        *group = TARGET_INDEX(target) / hpg;
        *hart = TARGET_INDEX(target) % hpg;
        return 0;
}

int sim_target_addr(const Sim *s, const char *device, uint32_t target, uint64_t *ret_addr) {
        const Device *d;
        u32 group, hart;
        int r;

        assert_return(s && device && ret_addr, -EINVAL);
        d = model_find_device(s->world, device);
        if (!d)
                return -ENODEV;
        r = target_location(s, d, target, &group, &hart);
        if (r < 0)
                return r;
        /* The S-level file's page: a target is named by its hart. */
        return sim_file_addr(s, device, group, hart, 0, ret_addr);
}

int sim_file_addr(const Sim *s, const char *device, uint32_t group, uint32_t hart, uint32_t guest, uint64_t *ret_addr) {
        struct rvmsi_imsic_geom g;
        const Device *d;
        u64 pa;
        int r;

        assert_return(s && device && ret_addr, -EINVAL);
        d = model_find_device(s->world, device);
        if (!d)
                return -ENODEV;
        r = device_space(s, d, &g);
        if (r < 0)
                return r;
        r = rvmsi_imsic_file_addr(&g, group, hart, guest, &pa);
        if (r < 0)
                return r;
        *ret_addr = pa;
        return 0;
}

/* ---- windows and invariants ---- */

static void violation(Sim *s, const char *fmt, ...) _printf_(2, 3);
static void violation(Sim *s, const char *fmt, ...) {
        va_list ap;

        if (s->n_violations++ == 0) {
                va_start(ap, fmt);
                (void) vsnprintf(s->first_violation, sizeof(s->first_violation), fmt, ap);
                va_end(ap);
        }
}

/* May device d reach this destination right now? */
static bool reach_allowed(const Sim *s, const Device *d, const SimDevice *sd, const SimEntry *e) {
        switch (e->kind) {
        case ENTRY_MRIF:
                return true;    /* its own MRIF */
        case ENTRY_HOST_FILE:
                if (d->locked)
                        return false;
                /* Only the S-level files its own IRQs are affined to. */
                for (uint32_t i = 0; i < d->nr_vectors; i++)
                        if (d->vectors[i].hart == e->hart)
                                return true;
                return false;
        case ENTRY_GUEST_FILE: {
                const VcpuRef *h = holder(s, e->hart, e->guest);

                return d->owner == OWNER_VM && h->vm && d->vm == h->vm;
        }
        default:
                (void) sd;
                return false;
        }
}

static int window_open(Sim *s, const Device *d, const SimDevice *sd, SimEntry *e) {
        SimWindow *w;

        if (e->kind == ENTRY_BLOCKED) {
                e->window = SIZE_MAX;
                return 0;
        }
        if (!reach_allowed(s, d, sd, e))
                violation(s, "t=%" PRIu64 ": device %s maps %s hart %u guest %u, which its owner does not own",
                          s->clock, sd->name, entry_kind_to_string(e->kind), e->hart, e->guest);
        if (!s->record_windows) {
                e->window = SIZE_MAX;
                return 0;
        }
        if (!GREEDY_REALLOC(s->windows, s->n_windows_allocated, s->n_windows + 1))
                return -ENOMEM;
        w = &s->windows[s->n_windows];
        *w = (SimWindow) {
                .target = e->target,
                .kind = e->kind,
                .hart = e->hart,
                .guest = e->guest,
                .from = s->clock,
                .to = UINT64_MAX,
        };
        strcpy(w->device, sd->name);
        e->window = s->n_windows++;
        return 0;
}

static void window_close(Sim *s, SimEntry *e) {
        if (e->window != SIZE_MAX) {
                s->windows[e->window].to = s->clock;
                e->window = SIZE_MAX;
        }
}

/* ---- entry computation: the kernel's rules ---- */

static int encode_pte(Sim *s, SimEntry *e) {
        u64 pa;
        int r;

        switch (e->kind) {
        case ENTRY_HOST_FILE:
        case ENTRY_GUEST_FILE: {
                uint32_t hpg = geometry_harts_per_group(&s->world->geometry);

                r = rvmsi_imsic_file_addr(&s->host_geom, e->hart / hpg, e->hart % hpg, e->guest, &pa);
                if (r < 0)
                        return r;
                return rvmsi_msipte_basic(pa >> RVMSI_PAGE_SHIFT, 0, &e->pte);
        }
        case ENTRY_MRIF: {
                u64 notice;

                if (e->mrif_pa == 0)
                        e->mrif_pa = SIM_MRIF_BASE + (s->next_mrif++) * RVMSI_MRIF_SIZE;
                /* The notice goes to a host interrupt the kernel owns: hart 0's S-level file. */
                r = rvmsi_imsic_file_addr(&s->host_geom, 0, 0, 0, &notice);
                if (r < 0)
                        return r;
                return rvmsi_msipte_mrif(e->mrif_pa, notice >> RVMSI_PAGE_SHIFT, SIM_NOTICE_NID, &e->pte);
        }
        default:
                rvmsi_msipte_invalid(&e->pte);
                return 0;
        }
}

typedef struct Want {
        uint32_t target;
        uint8_t kind;
        uint8_t guest;
        uint32_t hart;
        uint32_t refcount;
} Want;

static int compute_entries(const Sim *s, const Device *d, DeliveryMode mode, EntryKind fallback,
                           Want **ret, uint32_t *ret_n) {
        _cleanup_free_ uint32_t *targets = NULL, *counts = NULL, *hart_of = NULL;
        _cleanup_free_ Want *w = NULL;
        uint32_t n, k = 0;
        int r;

        r = device_targets(d, &targets, &counts, &hart_of, &n);
        if (r < 0)
                return r;
        w = new0(Want, n);
        if (!w)
                return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
                EntryKind kind = ENTRY_BLOCKED;
                uint32_t hart = NO_HART;
                uint8_t guest = 0;

                switch (mode) {
                case MODE_IDENTITY:
                        kind = ENTRY_HOST_FILE;
                        break;
                case MODE_MRIF:
                        kind = ENTRY_MRIF;
                        break;
                case MODE_GUEST_FILE: {
                        const Vm *vm = d->vm;
                        uint32_t v = TARGET_INDEX(targets[i]);

                        if (vm && v < vm->nr_vcpus && vm->vcpus[v].guest_file != 0 && vm->vcpus[v].hart != NO_HART) {
                                kind = ENTRY_GUEST_FILE;
                                hart = vm->vcpus[v].hart;
                                guest = vm->vcpus[v].guest_file;
                        } else
                                kind = fallback;
                        break;
                }
                default:
                        break;
                }
                if (kind == ENTRY_HOST_FILE) {
                        hart = TARGET_IS_VCPU(targets[i]) ? hart_of[i] : TARGET_INDEX(targets[i]);
                        if (hart == NO_HART)
                                kind = ENTRY_BLOCKED;
                }
                if (kind == ENTRY_BLOCKED)
                        continue;
                w[k++] = (Want) { .target = targets[i], .kind = (uint8_t) kind, .hart = hart, .guest = guest,
                                  .refcount = counts[i] };
        }
        *ret_n = k;
        *ret = TAKE_PTR(w);
        return 0;
}

static const Want *find_want(const Want *w, uint32_t n, uint32_t target) {
        for (uint32_t i = 0; i < n; i++)
                if (w[i].target == target)
                        return &w[i];
        return NULL;
}

static int entry_index(const Sim *s, const Device *d, uint32_t target, uint64_t *ret) {
        struct rvmsi_imsic_geom g;
        u32 group, hart;
        u64 idx;
        int r;

        r = device_space(s, d, &g);
        if (r < 0)
                return r;
        r = target_location(s, d, target, &group, &hart);
        if (r < 0)
                return r;
        r = rvmsi_imsic_file_index(&g, group, hart, 0, &idx);
        if (r < 0)
                return r;
        *ret = idx;
        return 0;
}

static int entry_write(Sim *s, const Device *d, SimDevice *sd, SimEntry *e, const Want *w) {
        bool keep_mrif = w && e->kind == ENTRY_MRIF && w->kind == ENTRY_MRIF;
        _cleanup_free_ u64 *image = NULL;
        int r;

        /* Allocate before touching anything, so that -ENOMEM leaves the entry as it was. */
        if (w && w->kind == ENTRY_MRIF && !keep_mrif) {
                image = new0(u64, RVMSI_MRIF_DWORDS);
                if (!image)
                        return -ENOMEM;
        }

        /* One PTE write: the old destination stops and the new one starts at the same instant. */
        s->clock++;
        s->counters.pte_writes++;
        window_close(s, e);
        file_ref(s, e, -1);
        if (!keep_mrif) {
                e->mrif_pa = 0;
                e->mrif = mfree(e->mrif);
                e->mrif = TAKE_PTR(image);
        }
        if (w) {
                e->kind = w->kind;
                e->hart = w->hart;
                e->guest = w->guest;
                e->refcount = w->refcount;
        } else
                e->kind = ENTRY_BLOCKED;
        file_ref(s, e, +1);
        r = encode_pte(s, e);
        if (r < 0)
                return r;
        return window_open(s, d, sd, e);
}

/*
 * Bring a device's entries to what its mode computes. Revoke before grant,
 * except for affinity moves, where the kernel maps the new file before it
 * unmaps the old one (both belong to the same IRQ at that moment).
 */
static int sync_device(Sim *s, SimDevice *sd, bool affinity_move, bool *ret_changed) {
        _cleanup_free_ Want *want = NULL;
        const Device *d = model_find_device(s->world, sd->name);
        uint32_t n_want = 0;
        bool changed = false;
        int r;

        if (!d)
                return -ENODEV;
        if (sd->mode != MODE_OFF && sd->mode != MODE_BLOCKED) {
                r = compute_entries(s, d, sd->mode, sd->fallback, &want, &n_want);
                if (r < 0)
                        return r;
        }

        for (int phase = 0; phase < 3; phase++) {
                /*
                 * phase 0: entries that lose file reachability (removed, or to MRIF)
                 * phase 1: entries that change in place to another file
                 * phase 2: new entries
                 * For affinity moves phase 2 runs first.
                 */
                int ph = affinity_move ? (phase + 2) % 3 : phase;

                if (ph == 2) {
                        for (uint32_t i = 0; i < n_want; i++) {
                                SimEntry *e = NULL;

                                for (uint32_t k = 0; k < sd->n_entries; k++)
                                        if (sd->entries[k].target == want[i].target)
                                                e = &sd->entries[k];
                                if (e)
                                        continue;
                                {
                                        SimEntry *n = realloc(sd->entries, (sd->n_entries + 1) * sizeof(SimEntry));
                                        uint32_t pos = sd->n_entries;

                                        if (!n)
                                                return -ENOMEM;
                                        sd->entries = n;
                                        while (pos > 0 && sd->entries[pos - 1].target > want[i].target) {
                                                sd->entries[pos] = sd->entries[pos - 1];
                                                pos--;
                                        }
                                        e = &sd->entries[pos];
                                        *e = (SimEntry) { .target = want[i].target, .kind = ENTRY_BLOCKED,
                                                          .hart = NO_HART, .window = SIZE_MAX };
                                        sd->n_entries++;
                                        r = entry_index(s, d, want[i].target, &e->index);
                                        if (r < 0) {
                                                memmove(e, e + 1, (sd->entries + sd->n_entries - e - 1) * sizeof(SimEntry));
                                                sd->n_entries--;
                                                return r;
                                        }
                                        /* Windows are stored by index into s->windows, so moving entries is fine. */
                                }
                                r = entry_write(s, d, sd, e, &want[i]);
                                if (r < 0)
                                        return r;
                                changed = true;
                        }
                        continue;
                }

                for (uint32_t k = 0; k < sd->n_entries; k++) {
                        SimEntry *e = &sd->entries[k];
                        const Want *w = find_want(want, n_want, e->target);
                        bool to_file;

                        if (w && w->kind == e->kind && w->hart == e->hart && w->guest == e->guest) {
                                e->refcount = w->refcount;
                                continue;
                        }
                        to_file = w && (w->kind == ENTRY_HOST_FILE || w->kind == ENTRY_GUEST_FILE);
                        if ((ph == 0) == to_file)
                                continue;
                        r = entry_write(s, d, sd, e, w);
                        if (r < 0)
                                return r;
                        changed = true;
                }
                /* Drop entries that are now invalid: the table holds only valid PTEs. */
                if (ph == 0) {
                        uint32_t j = 0;

                        for (uint32_t k = 0; k < sd->n_entries; k++)
                                if (sd->entries[k].kind != ENTRY_BLOCKED)
                                        sd->entries[j++] = sd->entries[k];
                        sd->n_entries = j;
                }
        }
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

static void emit_entry_changed(Sim *s, const char *name, uint32_t reason) {
        BackendEvent ev = { .type = BACKEND_EVENT_ENTRY_CHANGED, .reason = reason };

        strcpy(ev.device, name);
        backend_emit(s->backend, &ev);
}

static int sync_and_notify(Sim *s, SimDevice *sd, bool affinity_move, uint32_t reason) {
        bool changed = false;
        int r;

        r = sync_device(s, sd, affinity_move, &changed);
        if (r < 0)
                return r;
        if (changed)
                emit_entry_changed(s, sd->name, reason);
        return 0;
}

/*
 * An IRQ of the device was set up, torn down or moved: the kernel notifies
 * that whether or not an entry changed (a blocked device has none to
 * change), and the daemon learns the device's IRQs from it.
 */
static int sync_and_notify_irqs(Sim *s, SimDevice *sd, bool affinity_move, uint32_t reason) {
        int r;

        r = sync_device(s, sd, affinity_move, NULL);
        if (r < 0)
                return r;
        emit_entry_changed(s, sd->name, reason);
        return 0;
}

/* Re-sync every device of a VM that is in guest-file mode (its vCPUs' files changed). */
static int sync_vm_devices(Sim *s, const Vm *vm) {
        for (size_t i = 0; i < vm->n_devices; i++) {
                SimDevice *sd = sim_find_device(s, vm->devices[i]->name);
                int r;

                if (!sd || sd->mode != MODE_GUEST_FILE)
                        continue;
                r = sync_and_notify(s, sd, false, RVMSI_REASON_AFFINITY);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void emit_vcpu(Sim *s, const Vm *vm, uint32_t vcpu) {
        BackendEvent ev = {
                .type = BACKEND_EVENT_VCPU_CHANGED,
                .vcpu = vcpu,
                .hart = vm->vcpus[vcpu].hart,
                .guest = vm->vcpus[vcpu].guest_file,
        };

        memcpy(ev.vm, vm->uuid, sizeof(ev.vm));
        backend_emit(s->backend, &ev);
}

/* KVM side: the vCPU gives up its guest file; entries pointing there fall back first. */
static int vcpu_release(Sim *s, Vm *vm, uint32_t vcpu) {
        Vcpu *c = &vm->vcpus[vcpu];
        uint8_t g = c->guest_file;
        int r;

        if (g == 0)
                return 0;
        c->guest_file = 0;
        /* Entries follow first (to the fallback), while the file is still this VM's. */
        r = sync_vm_devices(s, vm);
        if (r < 0)
                return r;
        *holder(s, c->hart, g) = (VcpuRef) {};
        s->clock++;
        emit_vcpu(s, vm, vcpu);
        return 0;
}

static bool file_has_open_windows(const Sim *s, uint32_t hart, uint8_t guest) {
        return s->file_refs[file_slot(s, hart, guest)] > 0;
}

static int vcpu_assign(Sim *s, Vm *vm, uint32_t vcpu, uint8_t guest) {
        Vcpu *c = &vm->vcpus[vcpu];
        VcpuRef *h;
        int r;

        if (c->hart == NO_HART)
                return -EINVAL;
        if (guest == 0 || guest > s->world->geometry.nr_guest_files)
                return -ERANGE;
        if (s->world->harts[c->hart].reserved_files & (UINT64_C(1) << guest))
                return -EBUSY;
        h = holder(s, c->hart, guest);
        if (h->vm && !(h->vm == vm && h->vcpu == vcpu))
                return -EBUSY;
        if (c->guest_file == guest)
                return 0;
        r = vcpu_release(s, vm, vcpu);
        if (r < 0)
                return r;
        /* The file changes hands now: nobody else may still reach it. */
        if (file_has_open_windows(s, c->hart, guest))
                violation(s, "t=%" PRIu64 ": guest file %u of hart %u given to %s vCPU %u while still mapped",
                          s->clock, guest, c->hart, vm->uuid, vcpu);
        s->clock++;
        *h = (VcpuRef) { .vm = vm, .vcpu = vcpu };
        c->guest_file = guest;
        r = sync_vm_devices(s, vm);
        if (r < 0)
                return r;
        emit_vcpu(s, vm, vcpu);
        return 0;
}

/* KVM picks the lowest free guest file on the vCPU's hart, if any. */
static int vcpu_take_free(Sim *s, Vm *vm, uint32_t vcpu) {
        Vcpu *c = &vm->vcpus[vcpu];

        if (c->hart == NO_HART || c->guest_file != 0)
                return 0;
        for (uint32_t g = 1; g <= s->world->geometry.nr_guest_files; g++)
                if (!(s->world->harts[c->hart].reserved_files & (UINT64_C(1) << g)) && !holder(s, c->hart, (uint8_t) g)->vm)
                        return vcpu_assign(s, vm, vcpu, (uint8_t) g);
        return 0;
}

/* ---- world changes ---- */

static SimDevice *sim_device_free(SimDevice *sd) {
        if (!sd)
                return NULL;
        for (uint32_t k = 0; k < sd->n_entries; k++)
                free(sd->entries[k].mrif);
        free(sd->entries);
        return mfree(sd);
}

int sim_add_device(Sim *s, const char *name, uint64_t caps) {
        _cleanup_free_ SimDevice *sd = NULL;
        size_t i;
        int r;

        assert_return(s, -EINVAL);
        sd = new0(SimDevice, 1);
        if (!sd)
                return -ENOMEM;
        if (!GREEDY_REALLOC(s->devices, s->n_devices_allocated, s->n_devices + 1))
                return -ENOMEM;
        r = model_add_device(s->world, name, caps, NULL);
        if (r < 0)
                return r;
        strcpy(sd->name, name);
        /* A new device starts with every entry invalid, or without a table at all. */
        sd->mode = (caps & CAP_MSI_FLAT) ? MODE_BLOCKED : MODE_OFF;
        sd->fallback = ENTRY_BLOCKED;
        i = sim_devices_lower_bound(s, name);
        memmove(s->devices + i + 1, s->devices + i, (s->n_devices - i) * sizeof(SimDevice *));
        s->devices[i] = TAKE_PTR(sd);
        s->n_devices++;
        emit_entry_changed(s, name, RVMSI_REASON_IRQ_ALLOC);
        return 0;
}

int sim_remove_device(Sim *s, const char *name) {
        SimDevice *sd;
        size_t i;

        assert_return(s && name, -EINVAL);
        sd = sim_find_device(s, name);
        if (!sd)
                return -ENODEV;
        s->clock++;
        for (uint32_t k = 0; k < sd->n_entries; k++) {
                window_close(s, &sd->entries[k]);
                file_ref(s, &sd->entries[k], -1);
        }
        i = sim_devices_lower_bound(s, name);
        memmove(s->devices + i, s->devices + i + 1, (s->n_devices - i - 1) * sizeof(SimDevice *));
        s->n_devices--;
        sim_device_free(sd);
        (void) model_remove_device(s->world, name);
        emit_entry_changed(s, name, RVMSI_REASON_DEV_GONE);
        return 0;
}

int sim_device_set_owner(Sim *s, const char *name, OwnerKind owner, const char *key) {
        SimDevice *sd;
        Device *d;
        int r;

        assert_return(s && name, -EINVAL);
        sd = sim_find_device(s, name);
        d = model_find_device(s->world, name);
        if (!sd || !d)
                return -ENODEV;
        /* Rebinding tears the IRQs down: the table is emptied before the owner changes. */
        if (sd->mode != MODE_OFF) {
                sd->mode = MODE_BLOCKED;
                r = sync_device(s, sd, false, NULL);
                if (r < 0)
                        return r;
        }
        r = model_device_set_owner(s->world, d, owner, key);
        if (r < 0)
                return r;
        emit_entry_changed(s, name, RVMSI_REASON_IRQ_FREE);
        return 0;
}

int sim_device_set_locked(Sim *s, const char *name, bool locked) {
        SimDevice *sd;
        Device *d;
        int r;

        assert_return(s && name, -EINVAL);
        sd = sim_find_device(s, name);
        d = model_find_device(s->world, name);
        if (!sd || !d)
                return -ENODEV;
        r = model_device_set_locked(s->world, d, locked);
        if (r < 0)
                return r;
        if (locked && (sd->mode == MODE_IDENTITY || (sd->mode == MODE_GUEST_FILE && sd->fallback == ENTRY_HOST_FILE))) {
                sd->mode = MODE_BLOCKED;
                return sync_and_notify(s, sd, false, RVMSI_REASON_MODE);
        }
        return 0;
}

int sim_device_set_vectors(Sim *s, const char *name, uint32_t n, const Vector *vectors) {
        SimDevice *sd;
        Device *d;
        int r;

        assert_return(s && name, -EINVAL);
        sd = sim_find_device(s, name);
        d = model_find_device(s->world, name);
        if (!sd || !d)
                return -ENODEV;
        r = model_device_set_vectors(s->world, d, n, vectors);
        if (r < 0)
                return r;
        return sync_and_notify_irqs(s, sd, false, n > 0 ? RVMSI_REASON_IRQ_ALLOC : RVMSI_REASON_IRQ_FREE);
}

int sim_set_affinity(Sim *s, const char *name, uint32_t vector, uint32_t hart) {
        SimDevice *sd;
        Device *d;
        int r;

        assert_return(s && name, -EINVAL);
        sd = sim_find_device(s, name);
        d = model_find_device(s->world, name);
        if (!sd || !d)
                return -ENODEV;
        r = model_device_set_affinity(s->world, d, vector, hart);
        if (r < 0)
                return r;
        return sync_and_notify_irqs(s, sd, true, RVMSI_REASON_AFFINITY);
}

int sim_add_vm(Sim *s, const char *uuid, const char *name, uint32_t nr_vcpus) {
        Vm *vm;
        int r;

        assert_return(s, -EINVAL);
        r = model_add_vm(s->world, uuid, name, nr_vcpus, &vm);
        if (r < 0)
                return r;
        /* Devices already assigned to this UUID now have a guest address space. */
        for (size_t i = 0; i < vm->n_devices; i++) {
                SimDevice *sd = sim_find_device(s, vm->devices[i]->name);

                if (sd) {
                        r = sync_and_notify(s, sd, false, RVMSI_REASON_IRQ_ALLOC);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int vm_release_all(Sim *s, Vm *vm) {
        for (uint32_t v = 0; v < vm->nr_vcpus; v++) {
                int r = vcpu_release(s, vm, v);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sim_remove_vm(Sim *s, const char *uuid) {
        Vm *vm;
        int r;

        assert_return(s, -EINVAL);
        vm = model_find_vm(s->world, uuid);
        if (!vm)
                return -ENOENT;
        r = vm_release_all(s, vm);
        if (r < 0)
                return r;
        /* Its devices lose their address space: block them. */
        for (size_t i = 0; i < vm->n_devices; i++) {
                SimDevice *sd = sim_find_device(s, vm->devices[i]->name);

                if (sd && sd->mode != MODE_OFF) {
                        sd->mode = MODE_BLOCKED;
                        r = sync_and_notify(s, sd, false, RVMSI_REASON_IRQ_FREE);
                        if (r < 0)
                                return r;
                }
        }
        return model_remove_vm(s->world, uuid);
}

int sim_vm_set_state(Sim *s, const char *uuid, VmState state) {
        Vm *vm;
        int r;

        assert_return(s, -EINVAL);
        vm = model_find_vm(s->world, uuid);
        if (!vm)
                return -ENOENT;
        r = model_vm_set_state(s->world, vm, state);
        if (r < 0)
                return r;
        if (state == VM_RUNNING || state == VM_MIGRATING_OUT) {
                /* vCPUs load again: KVM takes free guest files where it can. */
                for (uint32_t v = 0; v < vm->nr_vcpus; v++) {
                        r = vcpu_take_free(s, vm, v);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        /* vCPUs that do not run hold no guest file; MSIs meanwhile go to the fallback. */
        return vm_release_all(s, vm);
}

int sim_vcpu_move(Sim *s, const char *uuid, uint32_t vcpu, uint32_t hart) {
        Vm *vm;
        int r;

        assert_return(s, -EINVAL);
        vm = model_find_vm(s->world, uuid);
        if (!vm)
                return -ENOENT;
        if (vcpu >= vm->nr_vcpus)
                return -ERANGE;
        if (hart != NO_HART && hart >= s->world->geometry.nr_harts)
                return -ERANGE;
        r = vcpu_release(s, vm, vcpu);
        if (r < 0)
                return r;
        r = model_vcpu_place(s->world, vm, vcpu, hart);
        if (r < 0)
                return r;
        emit_vcpu(s, vm, vcpu);
        if (vm->state == VM_RUNNING || vm->state == VM_MIGRATING_OUT)
                return vcpu_take_free(s, vm, vcpu);
        return 0;
}

int sim_set_hart_reserved(Sim *s, uint32_t hart, uint64_t reserved_files) {
        assert_return(s, -EINVAL);
        if (hart >= s->world->geometry.nr_harts)
                return -ERANGE;
        for (uint32_t g = 1; g <= s->world->geometry.nr_guest_files; g++)
                if ((reserved_files & (UINT64_C(1) << g)) && holder(s, hart, (uint8_t) g)->vm)
                        return -EBUSY;
        return model_set_hart_reserved(s->world, hart, reserved_files);
}

int sim_inject_entry(Sim *s, const char *device, uint32_t target, EntryKind kind, uint32_t hart, uint8_t guest) {
        const Device *d;
        SimDevice *sd;
        SimEntry *e = NULL, *n;
        Want w = { .target = target, .kind = (uint8_t) kind, .hart = hart, .guest = guest, .refcount = 1 };
        uint32_t pos;
        int r;

        assert_return(s && device, -EINVAL);
        assert_return(kind > ENTRY_BLOCKED && kind < _ENTRY_KIND_MAX, -EINVAL);
        d = model_find_device(s->world, device);
        sd = sim_find_device(s, device);
        if (!d || !sd)
                return -ENODEV;
        if ((kind == ENTRY_HOST_FILE || kind == ENTRY_GUEST_FILE) && hart >= s->world->geometry.nr_harts)
                return -ERANGE;
        if (kind == ENTRY_GUEST_FILE && (guest == 0 || guest > s->world->geometry.nr_guest_files))
                return -ERANGE;
        for (uint32_t k = 0; k < sd->n_entries; k++)
                if (sd->entries[k].target == target)
                        e = &sd->entries[k];
        if (!e) {
                n = realloc(sd->entries, (sd->n_entries + 1) * sizeof(SimEntry));
                if (!n)
                        return -ENOMEM;
                sd->entries = n;
                pos = sd->n_entries;
                while (pos > 0 && sd->entries[pos - 1].target > target) {
                        sd->entries[pos] = sd->entries[pos - 1];
                        pos--;
                }
                e = &sd->entries[pos];
                *e = (SimEntry) { .target = target, .kind = ENTRY_BLOCKED, .hart = NO_HART, .window = SIZE_MAX };
                sd->n_entries++;
                r = entry_index(s, d, target, &e->index);
                if (r < 0) {
                        memmove(e, e + 1, (size_t) (sd->entries + sd->n_entries - e - 1) * sizeof(SimEntry));
                        sd->n_entries--;
                        return r;
                }
        }
        return entry_write(s, d, sd, e, &w);
}

/* ---- MSI writes ---- */

int sim_msi_write(Sim *s, const char *device, uint64_t addr, uint32_t data, SimMsiResult *ret) {
        struct rvmsi_imsic_geom g;
        struct rvmsi_msipte_info info;
        const struct rvmsi_msipte *pte = NULL;
        struct rvmsi_msipte invalid;
        SimMsiResult res = {};
        SimEntry *e = NULL;
        const Device *d;
        SimDevice *sd;
        u64 mask, pattern, idx;
        unsigned cause;
        int r;

        assert_return(s && device && ret, -EINVAL);
        d = model_find_device(s->world, device);
        sd = sim_find_device(s, device);
        if (!d || !sd)
                return -ENODEV;
        if (sd->mode == MODE_OFF) {
                /* No MSI table: the write goes wherever DMA translation sends it. */
                *ret = (SimMsiResult) { .outcome = SIM_MSI_NOT_MSI };
                return 0;
        }
        r = device_space(s, d, &g);
        if (r < 0)
                return r;
        r = rvmsi_imsic_msi_mask_pattern(&g, &mask, &pattern);
        if (r < 0)
                return r;
        r = rvmsi_msi_index(addr, mask, pattern, &idx);
        if (r == -ENOENT) {
                *ret = (SimMsiResult) { .outcome = SIM_MSI_NOT_MSI };
                return 0;
        }
        if (r < 0)
                return r;
        for (uint32_t k = 0; k < sd->n_entries; k++)
                if (sd->entries[k].index == idx)
                        e = &sd->entries[k];
        if (e)
                pte = &e->pte;
        else {
                rvmsi_msipte_invalid(&invalid);
                pte = &invalid;
        }

        cause = rvmsi_msipte_fault_cause(pte, d->caps & CAP_MSI_MRIF);
        if (cause != 0) {
                BackendEvent ev = {
                        .type = BACKEND_EVENT_FAULT,
                        .cause = cause,
                        .addr = addr,
                };
                u32 fg, fh, fgu;

                if (rvmsi_imsic_file_locate(&g, addr, &fg, &fh, &fgu) >= 0) {
                        ev.has_file = true;
                        ev.group = fg;
                        ev.file_hart = fh;
                        ev.file_guest = fgu;
                }
                strcpy(ev.device, device);
                s->counters.faults++;
                backend_emit(s->backend, &ev);
                *ret = (SimMsiResult) { .outcome = SIM_MSI_FAULT, .cause = cause };
                return 0;
        }
        r = rvmsi_msipte_decode(pte, &info);
        if (r < 0)
                return r;
        if (info.kind == RVMSI_MSIPTE_BASIC) {
                u64 pa;
                u32 fg, fh, fgu;
                uint32_t hpg = geometry_harts_per_group(&s->world->geometry);

                r = rvmsi_msipte_translate(pte, addr, &pa);
                if (r < 0)
                        return r;
                r = rvmsi_imsic_file_locate(&s->host_geom, pa, &fg, &fh, &fgu);
                if (r < 0)
                        return r;
                res = (SimMsiResult) { .outcome = SIM_MSI_DELIVERED, .hart = fg * hpg + fh, .guest = (uint8_t) fgu,
                                       .id = data };
                {
                        SimEntry probe = { .kind = fgu ? ENTRY_GUEST_FILE : ENTRY_HOST_FILE, .hart = res.hart,
                                           .guest = (uint8_t) fgu };

                        if (!reach_allowed(s, d, sd, &probe))
                                violation(s, "t=%" PRIu64 ": device %s delivered an MSI to hart %u guest %u it may not reach",
                                          s->clock, device, res.hart, fgu);
                }
                s->counters.delivered++;
        } else {
                u32 id;

                switch (rvmsi_mrif_apply_write(e->mrif, addr, 4, data, false, &id)) {
                case RVMSI_MRIF_RECORD:
                        /* The notice MSI goes to the kernel's host interrupt, which forwards the identity. */
                        e->notices++;
                        s->counters.notices++;
                        res = (SimMsiResult) { .outcome = SIM_MSI_MRIF, .id = id };
                        break;
                default:
                        res = (SimMsiResult) { .outcome = SIM_MSI_DISCARDED };
                }
        }
        *ret = res;
        return 0;
}

/* ---- backend ops ---- */

static Sim *sim_of(Backend *b) {
        return b->data;
}

static Isolation sim_isolation(const SimDevice *sd, const Device *d) {
        if (sd->mode == MODE_OFF)
                return ISOLATION_NONE;
        for (uint32_t k = 0; k < sd->n_entries; k++)
                if (sd->entries[k].kind == ENTRY_HOST_FILE)
                        return ISOLATION_SHARED;
        if (sd->mode == MODE_GUEST_FILE && sd->fallback == ENTRY_HOST_FILE)
                return ISOLATION_SHARED;
        return d && d->locked ? ISOLATION_LOCKED : ISOLATION_ISOLATED;
}

static int sim_fill_state(const Sim *s, const SimDevice *sd, DeviceState *ret) {
        const Device *d = model_find_device(s->world, sd->name);
        DeviceState st = {
                .mode = sd->mode,
                .fallback = sd->mode == MODE_GUEST_FILE ? sd->fallback : ENTRY_BLOCKED,
                .caps = d ? d->caps : 0,
                .locked = d ? d->locked : false,
                .user_bound = d && (d->owner == OWNER_VM || d->owner == OWNER_USERSPACE),
                .isolation = sim_isolation(sd, d),
        };

        strcpy(st.name, sd->name);
        if (sd->n_entries > 0) {
                st.entries = new0(Entry, sd->n_entries);
                if (!st.entries)
                        return -ENOMEM;
        }
        for (uint32_t k = 0; k < sd->n_entries; k++) {
                const SimEntry *e = &sd->entries[k];

                st.entries[st.n_entries++] = (Entry) {
                        .target = e->target,
                        .kind = e->kind,
                        .hart = e->hart,
                        .guest = e->guest,
                        .refcount = e->refcount,
                        .notices = e->notices,
                };
        }
        *ret = st;
        return 0;
}

static int sim_fill_vm(const Vm *vm, VmGrants *ret) {
        VmGrants g = { .nr_vcpus = vm->nr_vcpus };

        memcpy(g.uuid, vm->uuid, sizeof(g.uuid));
        g.vcpus = new0(VcpuGrant, vm->nr_vcpus);
        if (!g.vcpus)
                return -ENOMEM;
        for (uint32_t v = 0; v < vm->nr_vcpus; v++)
                g.vcpus[v] = (VcpuGrant) { .hart = vm->vcpus[v].hart, .guest = vm->vcpus[v].guest_file };
        *ret = g;
        return 0;
}

static int parse_args(const char *args, Geometry *g) {
        *g = (Geometry) { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 5, .nr_ids = 255 };
        if (isempty(args))
                return 0;
        for (const char *p = args; *p;) {
                const char *eq = strchr(p, '='), *end = strchr(p, ',');
                char key[16];
                char *num_end;
                unsigned long v;

                if (!end)
                        end = p + strlen(p);
                if (!eq || eq > end || (size_t) (eq - p) >= sizeof(key))
                        return -EINVAL;
                memcpy(key, p, (size_t) (eq - p));
                key[eq - p] = '\0';
                errno = 0;
                v = strtoul(eq + 1, &num_end, 10);
                if (errno != 0 || num_end != end || eq + 1 == end || v > UINT32_MAX)
                        return -EINVAL;
                if (streq(key, "groups"))
                        g->nr_groups = (uint32_t) v;
                else if (streq(key, "harts"))
                        g->nr_harts = (uint32_t) v;
                else if (streq(key, "guests"))
                        g->nr_guest_files = (uint32_t) v;
                else if (streq(key, "ids"))
                        g->nr_ids = (uint32_t) v;
                else
                        return -EINVAL;
                p = *end ? end + 1 : end;
        }
        return geometry_validate(g);
}

static int sim_open(Backend *b, const char *args) {
        _cleanup_free_ Sim *s = NULL;
        Geometry geometry;
        const Geometry *g = &geometry;
        int r;

        r = parse_args(args, &geometry);
        if (r < 0)
                return r;

        s = new0(Sim, 1);
        if (!s)
                return -ENOMEM;
        r = geom_from_geometry(g, &s->host_geom);
        if (r < 0)
                return r;
        r = rvmsi_imsic_msi_mask_pattern(&s->host_geom, &s->host_mask, &s->host_pattern);
        if (r < 0)
                return r;
        r = model_new(g, &s->world);
        if (r < 0)
                return r;
        s->holders = new0(VcpuRef, (size_t) g->nr_harts * (g->nr_guest_files + 1));
        s->file_refs = new0(uint32_t, (size_t) g->nr_harts * (g->nr_guest_files + 1));
        if (!s->holders || !s->file_refs) {
                free(s->holders);
                free(s->file_refs);
                model_free(s->world);
                return -ENOMEM;
        }
        s->record_windows = true;
        s->backend = b;
        b->data = TAKE_PTR(s);
        return 0;
}

static void sim_close(Backend *b) {
        Sim *s = sim_of(b);

        if (!s)
                return;
        for (size_t i = 0; i < s->n_devices; i++)
                sim_device_free(s->devices[i]);
        free(s->devices);
        free(s->holders);
        free(s->file_refs);
        free(s->windows);
        model_free(s->world);
        free(s);
        b->data = NULL;
}

static int sim_get_geometry(Backend *b, Geometry *ret) {
        *ret = sim_of(b)->world->geometry;
        return 0;
}

static int sim_dump(Backend *b, Actual **ret) {
        _cleanup_(actual_freep) Actual *a = NULL;
        Sim *s = sim_of(b);
        int r;

        r = actual_new(&a);
        if (r < 0)
                return r;
        a->geometry = s->world->geometry;
        for (size_t i = 0; i < s->n_devices; i++) {
                DeviceState st;

                r = sim_fill_state(s, s->devices[i], &st);
                if (r < 0)
                        return r;
                r = device_table_put(&a->devices, &st);
                device_state_done(&st);
                if (r < 0)
                        return r;
        }
        if (s->world->n_vms > 0) {
                a->vms = new0(VmGrants, s->world->n_vms);
                if (!a->vms)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < s->world->n_vms; i++) {
                r = sim_fill_vm(s->world->vms[i], &a->vms[i]);
                if (r < 0)
                        return r;
                a->n_vms++;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

static int sim_dump_device(Backend *b, const char *name, DeviceState *ret) {
        Sim *s = sim_of(b);
        SimDevice *sd = sim_find_device(s, name);

        if (!sd)
                return -ENODEV;
        return sim_fill_state(s, sd, ret);
}

static int sim_dump_vm(Backend *b, const char *uuid, VmGrants *ret) {
        Vm *vm = model_find_vm(sim_of(b)->world, uuid);

        if (!vm)
                return -ENOENT;
        return sim_fill_vm(vm, ret);
}

static int sim_set_mode(Sim *s, const Op *op) {
        SimDevice *sd = sim_find_device(s, op->device);
        const Device *d = model_find_device(s->world, op->device);
        EntryKind fb = op->mode == MODE_GUEST_FILE ? op->fallback : ENTRY_BLOCKED;

        if (!sd || !d)
                return -ENODEV;
        /* The kernel's checks, in the kernel's order (include/uapi/linux/rvmsi.h). */
        if (op->mode <= MODE_OFF || op->mode >= _MODE_MAX)
                return -EINVAL;
        if (sd->mode == MODE_OFF || !(d->caps & CAP_MSI_FLAT))
                return -ENODEV;
        if (fb != ENTRY_BLOCKED && fb != ENTRY_MRIF && fb != ENTRY_HOST_FILE)
                return -EINVAL;
        if (d->locked && (op->mode == MODE_IDENTITY || fb == ENTRY_HOST_FILE))
                return -EPERM;
        if ((op->mode == MODE_MRIF || fb == ENTRY_MRIF) && !(d->caps & CAP_MSI_MRIF))
                return -EOPNOTSUPP;
        if (op->mode == MODE_GUEST_FILE && (!(d->caps & CAP_GUEST_FILE) || d->owner != OWNER_VM))
                return -EOPNOTSUPP;
        if (d->owner == OWNER_VM && !d->vm && op->mode != MODE_BLOCKED)
                return -ENOENT;

        sd->mode = op->mode;
        sd->fallback = fb;
        s->counters.ops_applied++;
        return sync_and_notify(s, sd, false, RVMSI_REASON_MODE);
}

static int sim_apply(Backend *b, const Op *op) {
        Sim *s = sim_of(b);
        Vm *vm;
        int r;

        if (op->type == OP_SET_MODE)
                return sim_set_mode(s, op);

        vm = model_find_vm(s->world, op->vm);
        if (!vm)
                return -ENOENT;
        if (op->vcpu >= vm->nr_vcpus)
                return -ERANGE;
        switch (op->type) {
        case OP_VCPU_RELEASE:
                r = vcpu_release(s, vm, op->vcpu);
                break;
        case OP_VCPU_ASSIGN:
                if (vm->vcpus[op->vcpu].hart != op->hart)
                        return -EINVAL;
                r = vcpu_assign(s, vm, op->vcpu, op->guest);
                break;
        default:
                return -EINVAL;
        }
        if (r >= 0)
                s->counters.ops_applied++;
        return r;
}

const BackendOps backend_sim_ops = {
        .name = "sim",
        .features = BACKEND_FEATURE_GUEST_FILES,
        .open = sim_open,
        .close = sim_close,
        .get_geometry = sim_get_geometry,
        .dump = sim_dump,
        .dump_device = sim_dump_device,
        .apply = sim_apply,
        .dump_vm = sim_dump_vm,
};

int backend_sim_new(const Geometry *g, Backend **ret) {
        char args[128];
        int r;

        assert_return(ret, -EINVAL);
        if (!g)
                return backend_new(&backend_sim_ops, NULL, ret);
        r = geometry_validate(g);
        if (r < 0)
                return r;
        (void) snprintf(args, sizeof(args), "groups=%u,harts=%u,guests=%u,ids=%u", g->nr_groups, g->nr_harts,
                        g->nr_guest_files, g->nr_ids);
        return backend_new(&backend_sim_ops, args, ret);
}

Sim *backend_sim(Backend *b) {
        if (!b || !b->ops || !streq(b->ops->name, "sim"))
                return NULL;
        return b->data;
}

const Model *sim_world(const Sim *s) {
        return s ? s->world : NULL;
}

uint64_t sim_now(const Sim *s) {
        return s ? s->clock : 0;
}

void sim_set_record_windows(Sim *s, bool record) {
        if (s)
                s->record_windows = record;
}

size_t sim_n_windows(const Sim *s) {
        return s ? s->n_windows : 0;
}

const SimWindow *sim_window(const Sim *s, size_t i) {
        if (!s || i >= s->n_windows)
                return NULL;
        return &s->windows[i];
}

size_t sim_n_violations(const Sim *s, const char **ret_first) {
        if (ret_first)
                *ret_first = s && s->n_violations ? s->first_violation : NULL;
        return s ? s->n_violations : 0;
}

void sim_get_counters(const Sim *s, SimCounters *ret) {
        if (s && ret)
                *ret = s->counters;
}
