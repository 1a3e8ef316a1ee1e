/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulated backend. See backend-sim.h for what it models. MSI tables are
 * kept sparse (only valid PTEs, each with its table index): a full table for
 * a 4096-hart host is 4 MiB per device, and every index not present holds
 * the all-zero invalid PTE of rvmsi_msipte_invalid().
 */

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/rvmsi.h>

#include "backend-sim.h"
#include "fileio.h"
#include "json-util.h"
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

        /* Persistence (sim_persist_*(), docs/crash.md). */
        char *persist_path;             /* NULL: nothing is written */
        FILE *window_log;               /* persist_path + ".windows", appended to */
        uint64_t window_log_lines;      /* lines of it that belong to the state in persist_path */
        bool announce_pending;          /* restored: tell the first dump's reader about every device and vCPU */
        /*
         * The test options this sim took from backend_sim_set_next(). Claimed at open, used from the first
         * backend operation on (a sim that never serves one, like the throwaway sim scenario_load_file()
         * validates a file with, hands them back when it closes).
         */
        bool claimed, active;
        char *pending_persist_path;
        /* RVMSI_TEST_CRASH_AFTER_OPS: SIGKILL after this many applied operations of this process (0: never). */
        uint64_t crash_after_ops;
        uint64_t ops_this_process;
};

/* Claimed by the next sim opened in this process (backend_sim_set_next()). */
static char *next_persist_path;
static uint64_t next_crash_after_ops;

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
        if (s->window_log) {
                /* The owner VM at the instant it opens, for checks of the log without the sim. */
                (void) fprintf(s->window_log, "open %zu %s %" PRIu32 " %s %" PRIu32 " %u %s %" PRIu64 "\n", e->window,
                               w->device, w->target, entry_kind_to_string(w->kind), w->hart, w->guest,
                               d->owner == OWNER_VM ? d->owner_vm : "-", w->from);
                s->window_log_lines++;
        }
        return 0;
}

static void window_close(Sim *s, SimEntry *e) {
        if (e->window != SIZE_MAX) {
                s->windows[e->window].to = s->clock;
                if (s->window_log) {
                        (void) fprintf(s->window_log, "close %zu %" PRIu64 "\n", e->window, s->clock);
                        s->window_log_lines++;
                }
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

static int do_add_device(Sim *s, const char *name, uint64_t caps) {
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

static int do_remove_device(Sim *s, const char *name) {
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

static int do_device_set_owner(Sim *s, const char *name, OwnerKind owner, const char *key) {
        SimDevice *sd;
        Device *d;
        int r;

        assert_return(s && name, -EINVAL);
        sd = sim_find_device(s, name);
        d = model_find_device(s->world, name);
        if (!sd || !d)
                return -ENODEV;
        /*
         * Bound to that owner already (a restarted rvmsid telling a persisted world what it knew): no rebind,
         * nothing torn down. The notification still goes out.
         */
        if (d->owner == owner &&
            (owner == OWNER_VM ? key && strcasecmp(d->owner_vm, key) == 0 :
             owner == OWNER_USERSPACE ? streq(strempty(d->owner_label), strempty(key)) : !key)) {
                emit_entry_changed(s, name, RVMSI_REASON_IRQ_FREE);
                return 0;
        }
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

static int do_device_set_locked(Sim *s, const char *name, bool locked) {
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

static int do_device_set_vectors(Sim *s, const char *name, uint32_t n, const Vector *vectors) {
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

static int do_set_affinity(Sim *s, const char *name, uint32_t vector, uint32_t hart) {
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

static int do_add_vm(Sim *s, const char *uuid, const char *name, uint32_t nr_vcpus) {
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

static int do_remove_vm(Sim *s, const char *uuid) {
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

static int do_vm_set_state(Sim *s, const char *uuid, VmState state) {
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

static int do_vcpu_move(Sim *s, const char *uuid, uint32_t vcpu, uint32_t hart) {
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
        /*
         * Already there, holding a guest file: KVM has nothing to do (a
         * restarted rvmsid telling the world where vCPUs run must not make
         * them drop and re-take their files).
         */
        if (hart != NO_HART && vm->vcpus[vcpu].hart == hart && vm->vcpus[vcpu].guest_file != 0)
                return 0;
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

static int do_set_hart_reserved(Sim *s, uint32_t hart, uint64_t reserved_files) {
        assert_return(s, -EINVAL);
        if (hart >= s->world->geometry.nr_harts)
                return -ERANGE;
        for (uint32_t g = 1; g <= s->world->geometry.nr_guest_files; g++)
                if ((reserved_files & (UINT64_C(1) << g)) && holder(s, hart, (uint8_t) g)->vm)
                        return -EBUSY;
        return model_set_hart_reserved(s->world, hart, reserved_files);
}

static int do_inject_entry(Sim *s, const char *device, uint32_t target, EntryKind kind, uint32_t hart, uint8_t guest) {
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

static int do_msi_write(Sim *s, const char *device, uint64_t addr, uint32_t data, SimMsiResult *ret) {
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

static void sim_close(Backend *b);

static int sim_new(Backend *b, const Geometry *g) {
        _cleanup_free_ Sim *s = NULL;
        int r;

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

static int sim_persist_read(const char *path, json_object **ret, Geometry *ret_geometry);
static int sim_restore(Sim *s, json_object *root, const char *path);
static int sim_window_log_open(Sim *s, bool restored);
static int sim_save(Sim *s);

static int sim_open(Backend *b, const char *args) {
        _cleanup_free_ char *persist = NULL;
        _cleanup_json_ json_object *saved = NULL;
        uint64_t crash_after = 0;
        bool claimed = false;
        Geometry geometry;
        Sim *s;
        int r;

        r = parse_args(args, &geometry);
        if (r < 0)
                return r;
        if (next_persist_path || next_crash_after_ops > 0) {
                persist = TAKE_PTR(next_persist_path);
                crash_after = next_crash_after_ops;
                next_crash_after_ops = 0;
                claimed = true;
        }
        if (persist && access(persist, F_OK) >= 0) {
                Geometry g;

                /* A host that exists: its geometry is the saved one; args may only repeat it. */
                r = sim_persist_read(persist, &saved, &g);
                if (r < 0)
                        goto unclaim;
                if (!isempty(args) && memcmp(&g, &geometry, sizeof(g)) != 0) {
                        r = -EINVAL;
                        goto unclaim;
                }
                geometry = g;
        }
        r = sim_new(b, &geometry);
        if (r < 0)
                goto unclaim;
        s = b->data;
        s->claimed = claimed;
        s->crash_after_ops = crash_after;
        if (saved) {
                /* Restored sims are in use at once: the host was. */
                r = sim_restore(s, saved, persist);
                if (r < 0)
                        goto fail;
                s->persist_path = TAKE_PTR(persist);
                r = sim_window_log_open(s, true);
                if (r < 0)
                        goto fail;
                s->active = true;
                r = sim_save(s);
                if (r < 0)
                        goto fail;
        } else
                s->pending_persist_path = TAKE_PTR(persist);
        return 0;
fail:
        s->active = true;       /* a broken file is not handed on to the next sim */
        sim_close(b);
        return r;
unclaim:
        if (claimed && !next_persist_path && next_crash_after_ops == 0) {
                next_persist_path = TAKE_PTR(persist);
                next_crash_after_ops = crash_after;
        }
        return r;
}

/* The first backend operation: a claimed sim starts persisting (a new host: everything set up so far). */
static int sim_activate(Sim *s) {
        int r;

        if (s->active)
                return 0;
        s->active = true;
        if (!s->pending_persist_path)
                return 0;
        s->persist_path = TAKE_PTR(s->pending_persist_path);
        r = sim_window_log_open(s, false);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_windows; i++) {
                const SimWindow *w = &s->windows[i];

                (void) fprintf(s->window_log, "open %zu %s %" PRIu32 " %s %" PRIu32 " %u - %" PRIu64 "\n", i,
                               w->device, w->target, entry_kind_to_string(w->kind), w->hart, w->guest, w->from);
                s->window_log_lines++;
        }
        for (size_t i = 0; i < s->n_windows; i++)
                if (s->windows[i].to != UINT64_MAX) {
                        (void) fprintf(s->window_log, "close %zu %" PRIu64 "\n", i, s->windows[i].to);
                        s->window_log_lines++;
                }
        return sim_save(s);
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
        if (s->window_log)
                (void) fclose(s->window_log);
        free(s->persist_path);
        if (s->claimed && !s->active && !next_persist_path && next_crash_after_ops == 0) {
                /* Never used: the options go to the next sim. */
                next_persist_path = TAKE_PTR(s->pending_persist_path);
                next_crash_after_ops = s->crash_after_ops;
        }
        free(s->pending_persist_path);
        free(s);
        b->data = NULL;
}

static int sim_get_geometry(Backend *b, Geometry *ret) {
        int r = sim_activate(sim_of(b));

        if (r < 0)
                return r;
        *ret = sim_of(b)->world->geometry;
        return 0;
}

/*
 * A sim restored from its file is a host whose tables outlived the daemon. A
 * new daemon learns such a host from its first full read: every device's
 * IRQs (the kernel backend reads /proc/irq at start) and where every vCPU
 * runs. The sim tells it with the events of a device and a vCPU that just
 * appeared, once, before that first dump.
 */
static void announce_restored(Sim *s) {
        s->announce_pending = false;
        for (size_t i = 0; i < s->n_devices; i++)
                emit_entry_changed(s, s->devices[i]->name, RVMSI_REASON_IRQ_ALLOC);
        for (size_t i = 0; i < s->world->n_vms; i++)
                for (uint32_t v = 0; v < s->world->vms[i]->nr_vcpus; v++)
                        emit_vcpu(s, s->world->vms[i], v);
}

static int sim_dump(Backend *b, Actual **ret) {
        _cleanup_(actual_freep) Actual *a = NULL;
        Sim *s = sim_of(b);
        int r;

        r = sim_activate(s);
        if (r < 0)
                return r;
        if (s->announce_pending)
                announce_restored(s);
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
        int r = sim_activate(s);

        if (r < 0)
                return r;
        if (!sd)
                return -ENODEV;
        return sim_fill_state(s, sd, ret);
}

static int sim_dump_vm(Backend *b, const char *uuid, VmGrants *ret) {
        Vm *vm = model_find_vm(sim_of(b)->world, uuid);
        int r = sim_activate(sim_of(b));

        if (r < 0)
                return r;
        if (!vm)
                return -ENOENT;
        return sim_fill_vm(vm, ret);
}

static int sim_dump_subset(Backend *b, char *const *devices, char *const *vms, Actual *ret) {
        Sim *s = sim_of(b);
        int r;

        r = sim_activate(s);
        if (r < 0)
                return r;
        STRV_FOREACH(name, devices) {
                SimDevice *sd = sim_find_device(s, *name);
                DeviceState st;

                if (!sd)
                        continue;
                r = sim_fill_state(s, sd, &st);
                if (r < 0)
                        return r;
                r = device_table_put(&ret->devices, &st);
                device_state_done(&st);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(uuid, vms) {
                Vm *vm = model_find_vm(s->world, *uuid);
                VmGrants g;

                if (!vm)
                        continue;
                r = sim_fill_vm(vm, &g);
                if (r < 0)
                        return r;
                r = actual_put_vm(ret, &g);
                if (r < 0)
                        return r;
        }
        return 0;
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

static int sim_apply_op(Sim *s, const Op *op) {
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

/* After every operation and world change: the persisted state follows (if any). */
static int sim_changed(Sim *s, int r) {
        int k;

        if (!s || !s->persist_path)
                return r;
        k = sim_save(s);
        return r < 0 ? r : k;
}

static int sim_apply(Backend *b, const Op *op) {
        Sim *s = sim_of(b);
        int r;

        r = sim_activate(s);
        if (r < 0)
                return r;
        r = sim_changed(s, sim_apply_op(s, op));
        if (r < 0)
                return r;
        s->ops_this_process++;
        if (s->crash_after_ops > 0 && s->ops_this_process == s->crash_after_ops)
                /* RVMSI_TEST_CRASH_AFTER_OPS: die as rvmsid does under SIGKILL, this operation done and saved. */
                (void) raise(SIGKILL);
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
        .dump_subset = sim_dump_subset,
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

/* ---- world changes, persisted ---- */

int sim_add_device(Sim *s, const char *name, uint64_t caps) {
        return sim_changed(s, do_add_device(s, name, caps));
}

int sim_remove_device(Sim *s, const char *name) {
        return sim_changed(s, do_remove_device(s, name));
}

int sim_device_set_owner(Sim *s, const char *name, OwnerKind owner, const char *key) {
        return sim_changed(s, do_device_set_owner(s, name, owner, key));
}

int sim_device_set_locked(Sim *s, const char *name, bool locked) {
        return sim_changed(s, do_device_set_locked(s, name, locked));
}

int sim_device_set_vectors(Sim *s, const char *name, uint32_t n, const Vector *vectors) {
        return sim_changed(s, do_device_set_vectors(s, name, n, vectors));
}

int sim_set_affinity(Sim *s, const char *name, uint32_t vector, uint32_t hart) {
        return sim_changed(s, do_set_affinity(s, name, vector, hart));
}

int sim_add_vm(Sim *s, const char *uuid, const char *name, uint32_t nr_vcpus) {
        return sim_changed(s, do_add_vm(s, uuid, name, nr_vcpus));
}

int sim_remove_vm(Sim *s, const char *uuid) {
        return sim_changed(s, do_remove_vm(s, uuid));
}

int sim_vm_set_state(Sim *s, const char *uuid, VmState state) {
        return sim_changed(s, do_vm_set_state(s, uuid, state));
}

int sim_vcpu_move(Sim *s, const char *uuid, uint32_t vcpu, uint32_t hart) {
        return sim_changed(s, do_vcpu_move(s, uuid, vcpu, hart));
}

int sim_set_hart_reserved(Sim *s, uint32_t hart, uint64_t reserved_files) {
        return sim_changed(s, do_set_hart_reserved(s, hart, reserved_files));
}

int sim_inject_entry(Sim *s, const char *device, uint32_t target, EntryKind kind, uint32_t hart, uint8_t guest) {
        return sim_changed(s, do_inject_entry(s, device, target, kind, hart, guest));
}

/* An MSI changes MRIF images, notice and fault counters: hardware state too. */
int sim_msi_write(Sim *s, const char *device, uint64_t addr, uint32_t data, SimMsiResult *ret) {
        return sim_changed(s, do_msi_write(s, device, addr, data, ret));
}

/* ---- persistence ---- */

void backend_sim_set_next(const char *persist_path, uint64_t crash_after_ops) {
        next_persist_path = mfree(next_persist_path);
        if (persist_path)
                next_persist_path = strdup(persist_path);
        next_crash_after_ops = crash_after_ops;
}

const char *sim_persist_path(const Sim *s) {
        return s ? s->persist_path : NULL;
}

uint64_t sim_ops_this_process(const Sim *s) {
        return s ? s->ops_this_process : 0;
}

#define SIM_PERSIST_VERSION 1
#define SIM_WINDOW_LOG_SUFFIX ".windows"
#define SIM_PERSIST_MAX (UINT64_C(1) << 30)

static json_object *json_hart(uint32_t h) {
        return json_object_new_int64(h == NO_HART ? -1 : (int64_t) h);
}

static int json_to_hart(json_object *v, uint32_t limit, uint32_t *ret) {
        int64_t x;

        if (!v || !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        x = json_object_get_int64(v);
        if (x == -1) {
                *ret = NO_HART;
                return 0;
        }
        if (x < 0 || x >= limit)
                return -EBADMSG;
        *ret = (uint32_t) x;
        return 0;
}

static int json_uint64(json_object *o, const char *key, uint64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        /* json-c keeps uint64 values above INT64_MAX apart; negative numbers are not ours. */
        if (json_object_get_int64(v) < 0 && json_object_get_uint64(v) <= (uint64_t) INT64_MAX)
                return -EBADMSG;
        *ret = json_object_get_uint64(v);
        return 0;
}

static int json_u32(json_object *o, const char *key, uint32_t max, uint32_t *ret) {
        uint64_t v;
        int r;

        r = json_uint64(o, key, &v);
        if (r < 0)
                return r;
        if (v > max)
                return -EBADMSG;
        *ret = (uint32_t) v;
        return 0;
}

static const char *json_str(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static json_object *json_array_of(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}

static int entry_to_json(const SimEntry *e, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int r = 0;

        if (!o)
                return -ENOMEM;
        RET_GATHER(r, json_add_take(o, "target", json_object_new_uint64(e->target)));
        RET_GATHER(r, json_add_take(o, "kind", json_object_new_string(entry_kind_to_string(e->kind))));
        RET_GATHER(r, json_add_take(o, "hart", json_hart(e->hart)));
        RET_GATHER(r, json_add_take(o, "guest", json_object_new_uint64(e->guest)));
        RET_GATHER(r, json_add_take(o, "refcount", json_object_new_uint64(e->refcount)));
        RET_GATHER(r, json_add_take(o, "index", json_object_new_uint64(e->index)));
        RET_GATHER(r, json_add_take(o, "notices", json_object_new_uint64(e->notices)));
        RET_GATHER(r, json_add_take(o, "window", json_object_new_int64(e->window == SIZE_MAX ? -1 : (int64_t) e->window)));
        if (e->kind == ENTRY_MRIF) {
                json_object *img = json_object_new_array();

                RET_GATHER(r, json_add_take(o, "mrif_pa", json_object_new_uint64(e->mrif_pa)));
                /* The image is mostly zero: only the doublewords that are not. */
                for (uint32_t i = 0; img && e->mrif && i < RVMSI_MRIF_DWORDS; i++)
                        if (e->mrif[i]) {
                                json_object *pair = json_object_new_array();

                                RET_GATHER(r, json_append_take(pair, json_object_new_uint64(i)));
                                RET_GATHER(r, json_append_take(pair, json_object_new_uint64(e->mrif[i])));
                                RET_GATHER(r, json_append_take(img, pair));
                        }
                RET_GATHER(r, json_add_take(o, "mrif", img));
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int device_to_json(const Sim *s, const Device *d, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        const SimDevice *sd = sim_find_device(s, d->name);
        json_object *vec, *ent;
        int r = 0;

        if (!o)
                return -ENOMEM;
        if (!sd)
                return -EUCLEAN;
        RET_GATHER(r, json_add_take(o, "name", json_object_new_string(d->name)));
        RET_GATHER(r, json_add_take(o, "caps", json_object_new_uint64(d->caps)));
        RET_GATHER(r, json_add_take(o, "owner", json_object_new_string(owner_kind_to_string(d->owner))));
        if (d->owner == OWNER_VM)
                RET_GATHER(r, json_add_take(o, "key", json_object_new_string(d->owner_vm)));
        else if (d->owner_label)
                RET_GATHER(r, json_add_take(o, "key", json_object_new_string(d->owner_label)));
        RET_GATHER(r, json_add_take(o, "locked", json_object_new_boolean(d->locked)));
        RET_GATHER(r, json_add_take(o, "vectors", vec = json_object_new_array()));
        for (uint32_t i = 0; r >= 0 && i < d->nr_vectors; i++) {
                json_object *pair = json_object_new_array();

                RET_GATHER(r, json_append_take(pair, json_hart(d->vectors[i].hart)));
                RET_GATHER(r, json_append_take(pair, json_hart(d->vectors[i].vcpu)));
                RET_GATHER(r, json_append_take(vec, pair));
        }
        RET_GATHER(r, json_add_take(o, "mode", json_object_new_string(mode_to_string(sd->mode))));
        RET_GATHER(r, json_add_take(o, "fallback", json_object_new_string(entry_kind_to_string(sd->fallback))));
        RET_GATHER(r, json_add_take(o, "entries", ent = json_object_new_array()));
        for (uint32_t k = 0; r >= 0 && k < sd->n_entries; k++) {
                json_object *e;

                r = entry_to_json(&sd->entries[k], &e);
                if (r >= 0)
                        r = json_append_take(ent, e);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int sim_to_json(const Sim *s, json_object **ret) {
        _cleanup_json_ json_object *root = json_object_new_object();
        const Model *w = s->world;
        json_object *geo, *cnt, *harts, *vms, *devs;
        int r = 0;

        if (!root)
                return -ENOMEM;
        RET_GATHER(r, json_add_take(root, "version", json_object_new_int(SIM_PERSIST_VERSION)));
        RET_GATHER(r, json_add_take(root, "comment", json_object_new_string(
                "rvmsid --sim-persist: the simulated host's hardware and world. Test data, see docs/crash.md.")));
        RET_GATHER(r, json_add_take(root, "geometry", geo = json_object_new_object()));
        RET_GATHER(r, json_add_take(geo, "groups", json_object_new_uint64(w->geometry.nr_groups)));
        RET_GATHER(r, json_add_take(geo, "harts", json_object_new_uint64(w->geometry.nr_harts)));
        RET_GATHER(r, json_add_take(geo, "guest_files", json_object_new_uint64(w->geometry.nr_guest_files)));
        RET_GATHER(r, json_add_take(geo, "ids", json_object_new_uint64(w->geometry.nr_ids)));
        RET_GATHER(r, json_add_take(root, "clock", json_object_new_uint64(s->clock)));
        RET_GATHER(r, json_add_take(root, "next_mrif", json_object_new_uint64(s->next_mrif)));
        RET_GATHER(r, json_add_take(root, "record_windows", json_object_new_boolean(s->record_windows)));
        RET_GATHER(r, json_add_take(root, "windows", json_object_new_uint64(s->n_windows)));
        RET_GATHER(r, json_add_take(root, "window_log_lines", json_object_new_uint64(s->window_log_lines)));
        RET_GATHER(r, json_add_take(root, "violations", json_object_new_uint64(s->n_violations)));
        if (s->n_violations > 0)
                RET_GATHER(r, json_add_take(root, "first_violation", json_object_new_string(s->first_violation)));
        RET_GATHER(r, json_add_take(root, "counters", cnt = json_object_new_object()));
        RET_GATHER(r, json_add_take(cnt, "pte_writes", json_object_new_uint64(s->counters.pte_writes)));
        RET_GATHER(r, json_add_take(cnt, "faults", json_object_new_uint64(s->counters.faults)));
        RET_GATHER(r, json_add_take(cnt, "notices", json_object_new_uint64(s->counters.notices)));
        RET_GATHER(r, json_add_take(cnt, "delivered", json_object_new_uint64(s->counters.delivered)));
        RET_GATHER(r, json_add_take(cnt, "ops_applied", json_object_new_uint64(s->counters.ops_applied)));
        /* [cpu, reserved guest files] per hart */
        RET_GATHER(r, json_add_take(root, "harts", harts = json_object_new_array()));
        for (uint32_t h = 0; r >= 0 && h < w->geometry.nr_harts; h++) {
                json_object *pair = json_object_new_array();

                RET_GATHER(r, json_append_take(pair, json_object_new_int64(w->harts[h].cpu)));
                RET_GATHER(r, json_append_take(pair, json_object_new_uint64(w->harts[h].reserved_files)));
                RET_GATHER(r, json_append_take(harts, pair));
        }
        RET_GATHER(r, json_add_take(root, "vms", vms = json_object_new_array()));
        for (size_t i = 0; r >= 0 && i < w->n_vms; i++) {
                const Vm *vm = w->vms[i];
                json_object *o = json_object_new_object(), *vc;

                RET_GATHER(r, json_append_take(vms, o));
                if (r < 0)
                        break;
                RET_GATHER(r, json_add_take(o, "uuid", json_object_new_string(vm->uuid)));
                if (vm->name)
                        RET_GATHER(r, json_add_take(o, "name", json_object_new_string(vm->name)));
                RET_GATHER(r, json_add_take(o, "state", json_object_new_string(vm_state_to_string(vm->state))));
                /* [hart, guest file] per vCPU: where KVM runs it and the file it holds */
                RET_GATHER(r, json_add_take(o, "vcpus", vc = json_object_new_array()));
                for (uint32_t v = 0; r >= 0 && v < vm->nr_vcpus; v++) {
                        json_object *pair = json_object_new_array();

                        RET_GATHER(r, json_append_take(pair, json_hart(vm->vcpus[v].hart)));
                        RET_GATHER(r, json_append_take(pair, json_object_new_uint64(vm->vcpus[v].guest_file)));
                        RET_GATHER(r, json_append_take(vc, pair));
                }
        }
        RET_GATHER(r, json_add_take(root, "devices", devs = json_object_new_array()));
        for (size_t i = 0; r >= 0 && i < w->n_devices; i++) {
                json_object *o;

                r = device_to_json(s, w->devices[i], &o);
                if (r >= 0)
                        r = json_append_take(devs, o);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(root);
        return 0;
}

/*
 * Replace path with text such that a process killed at any instant leaves
 * either the old or the new file: a temporary file renamed over it. No
 * fsync: this models a crash of rvmsid, not of the host (whose kernel tables
 * would be gone too), and runs after every operation.
 */
static int replace_file(const char *path, const char *text) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(text), done = 0;

        if (asprintf(&tmp, "%s.tmp", path) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while (done < n) {
                ssize_t k = write(fd, text + done, n - done);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        k = -errno;
                        (void) unlink(tmp);
                        return (int) k;
                }
                done += (size_t) k;
        }
        if (rename(tmp, path) < 0) {
                int k = -errno;

                (void) unlink(tmp);
                return k;
        }
        return 0;
}

static int sim_save(Sim *s) {
        _cleanup_json_ json_object *root = NULL;
        int r;

        /* The log first: the state names how many of its lines are valid, never more than are written. */
        if (s->window_log && fflush(s->window_log) != 0)
                return errno > 0 ? -errno : -EIO;
        r = sim_to_json(s, &root);
        if (r < 0)
                return r;
        return replace_file(s->persist_path, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
}

static int sim_persist_read(const char *path, json_object **ret, Geometry *ret_geometry) {
        _cleanup_json_ json_object *root = NULL;
        json_object *geo, *v;
        Geometry g;
        int r;

        r = json_parse_file(path, &root, NULL);
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object) ||
            !json_object_object_get_ex(root, "version", &v) || json_object_get_int64(v) != SIM_PERSIST_VERSION ||
            !json_object_object_get_ex(root, "geometry", &geo))
                return -EBADMSG;
        if (json_u32(geo, "groups", UINT32_MAX, &g.nr_groups) < 0 ||
            json_u32(geo, "harts", UINT32_MAX, &g.nr_harts) < 0 ||
            json_u32(geo, "guest_files", UINT32_MAX, &g.nr_guest_files) < 0 ||
            json_u32(geo, "ids", UINT32_MAX, &g.nr_ids) < 0 || geometry_validate(&g) < 0)
                return -EBADMSG;
        *ret = TAKE_PTR(root);
        *ret_geometry = g;
        return 0;
}

static int restore_entry(Sim *s, const Device *d, SimDevice *sd, json_object *o) {
        SimEntry *e = &sd->entries[sd->n_entries];
        const char *kind = json_str(o, "kind");
        uint32_t guest;
        int64_t win;
        json_object *v, *img;
        int r;

        *e = (SimEntry) { .window = SIZE_MAX };
        if (!kind || entry_kind_from_string(kind) <= ENTRY_BLOCKED)
                return -EBADMSG;
        e->kind = (uint8_t) entry_kind_from_string(kind);
        if (json_u32(o, "target", UINT32_MAX, &e->target) < 0 ||
            !json_object_object_get_ex(o, "hart", &v) || json_to_hart(v, s->world->geometry.nr_harts, &e->hart) < 0 ||
            json_u32(o, "guest", s->world->geometry.nr_guest_files, &guest) < 0 ||
            json_u32(o, "refcount", UINT32_MAX, &e->refcount) < 0 ||
            json_uint64(o, "index", &e->index) < 0 || json_uint64(o, "notices", &e->notices) < 0 ||
            !json_object_object_get_ex(o, "window", &v))
                return -EBADMSG;
        e->guest = (uint8_t) guest;
        if ((e->kind == ENTRY_GUEST_FILE) != (guest != 0) ||
            ((e->kind == ENTRY_HOST_FILE || e->kind == ENTRY_GUEST_FILE) && e->hart == NO_HART) ||
            (sd->n_entries > 0 && sd->entries[sd->n_entries - 1].target >= e->target))
                return -EBADMSG;
        win = json_object_get_int64(v);
        if (win >= 0) {
                /* Still open, in the log replayed just before. */
                if ((uint64_t) win >= s->n_windows || s->windows[win].to != UINT64_MAX ||
                    !streq(s->windows[win].device, sd->name) || s->windows[win].target != e->target)
                        return -EBADMSG;
                e->window = (size_t) win;
        } else if (win != -1)
                return -EBADMSG;
        if (e->kind == ENTRY_MRIF) {
                if (json_uint64(o, "mrif_pa", &e->mrif_pa) < 0 || !(img = json_array_of(o, "mrif")))
                        return -EBADMSG;
                e->mrif = new0(u64, RVMSI_MRIF_DWORDS);
                if (!e->mrif)
                        return -ENOMEM;
                sd->n_entries++;        /* owns the image from here on */
                for (size_t i = 0; i < json_object_array_length(img); i++) {
                        json_object *pair = json_object_array_get_idx(img, i);
                        int64_t idx;

                        if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2)
                                return -EBADMSG;
                        idx = json_object_get_int64(json_object_array_get_idx(pair, 0));
                        if (idx < 0 || idx >= RVMSI_MRIF_DWORDS)
                                return -EBADMSG;
                        e->mrif[idx] = json_object_get_uint64(json_object_array_get_idx(pair, 1));
                }
        } else
                sd->n_entries++;
        r = encode_pte(s, e);
        if (r < 0)
                return r;
        file_ref(s, e, +1);
        (void) d;
        return 0;
}

static int restore_device(Sim *s, json_object *o) {
        _cleanup_free_ Vector *vectors = NULL;
        const char *name = json_str(o, "name"), *owner = json_str(o, "owner"), *key = json_str(o, "key");
        const char *mode = json_str(o, "mode"), *fallback = json_str(o, "fallback");
        json_object *vec = json_array_of(o, "vectors"), *ent = json_array_of(o, "entries"), *v;
        SimDevice *sd;
        Device *d;
        uint64_t caps;
        size_t n, i;
        int r;

        if (!name || !owner || owner_kind_from_string(owner) < 0 || !vec || !ent || !mode || !fallback ||
            mode_from_string(mode) < 0 || entry_kind_from_string(fallback) < 0 ||
            json_uint64(o, "caps", &caps) < 0 || !json_object_object_get_ex(o, "locked", &v) ||
            json_object_array_length(vec) > DEVICE_MAX_VECTORS)
                return -EBADMSG;
        if (s->n_devices > 0 && strcmp(s->devices[s->n_devices - 1]->name, name) >= 0)
                return -EBADMSG;        /* sorted, no duplicates */
        r = model_add_device(s->world, name, caps, &d);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        r = model_device_set_owner(s->world, d, owner_kind_from_string(owner), key);
        if (r < 0)
                return -EBADMSG;
        (void) model_device_set_locked(s->world, d, json_object_get_boolean(v));
        n = json_object_array_length(vec);
        if (n > 0 && !(vectors = new(Vector, n)))
                return -ENOMEM;
        for (i = 0; i < n; i++) {
                json_object *pair = json_object_array_get_idx(vec, i);

                if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2 ||
                    json_to_hart(json_object_array_get_idx(pair, 0), s->world->geometry.nr_harts, &vectors[i].hart) < 0 ||
                    json_to_hart(json_object_array_get_idx(pair, 1), VM_MAX_VCPUS, &vectors[i].vcpu) < 0)
                        return -EBADMSG;
        }
        r = model_device_set_vectors(s->world, d, (uint32_t) n, vectors);
        if (r < 0)
                return -EBADMSG;

        if (!GREEDY_REALLOC(s->devices, s->n_devices_allocated, s->n_devices + 1))
                return -ENOMEM;
        sd = new0(SimDevice, 1);
        if (!sd)
                return -ENOMEM;
        s->devices[s->n_devices++] = sd;        /* freed with the sim from here on */
        strcpy(sd->name, name);
        sd->mode = mode_from_string(mode);
        sd->fallback = entry_kind_from_string(fallback);
        n = json_object_array_length(ent);
        if (n > 0 && !(sd->entries = new0(SimEntry, n)))
                return -ENOMEM;
        for (i = 0; i < n; i++) {
                r = restore_entry(s, d, sd, json_object_array_get_idx(ent, i));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int restore_vm(Sim *s, json_object *o) {
        const char *uuid = json_str(o, "uuid"), *state = json_str(o, "state");
        json_object *vc = json_array_of(o, "vcpus");
        size_t n;
        Vm *vm;
        int r;

        if (!uuid || !state || vm_state_from_string(state) < 0 || !vc)
                return -EBADMSG;
        n = json_object_array_length(vc);
        if (n == 0 || n > VM_MAX_VCPUS)
                return -EBADMSG;
        r = model_add_vm(s->world, uuid, json_str(o, "name"), (uint32_t) n, &vm);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        (void) model_vm_set_state(s->world, vm, vm_state_from_string(state));
        for (uint32_t v = 0; v < n; v++) {
                json_object *pair = json_object_array_get_idx(vc, v);
                uint32_t hart;
                int64_t g;

                if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2 ||
                    json_to_hart(json_object_array_get_idx(pair, 0), s->world->geometry.nr_harts, &hart) < 0)
                        return -EBADMSG;
                g = json_object_get_int64(json_object_array_get_idx(pair, 1));
                if (g < 0 || g > s->world->geometry.nr_guest_files || (g > 0 && hart == NO_HART))
                        return -EBADMSG;
                if (hart != NO_HART && model_vcpu_place(s->world, vm, v, hart) < 0)
                        return -EBADMSG;
                if (g > 0) {
                        VcpuRef *h = holder(s, hart, (uint8_t) g);

                        /* One holder per guest file, and never a file reserved for someone else. */
                        if (h->vm || (s->world->harts[hart].reserved_files & (UINT64_C(1) << g)))
                                return -EBADMSG;
                        *h = (VcpuRef) { .vm = vm, .vcpu = v };
                        (void) model_vcpu_set_guest_file(s->world, vm, v, (uint8_t) g);
                }
        }
        return 0;
}

/* Windows from the log's first s->window_log_lines lines (the rest, if any, is cut off by the caller). */
static int replay_window_log(Sim *s, const char *text, uint64_t lines, size_t *ret_len) {
        const char *p = text;

        for (uint64_t l = 0; l < lines; l++) {
                const char *nl = strchr(p, '\n');
                char line[512], dev[DEVICE_NAME_MAX], kind[32], owner[UUID_STRING_MAX];
                unsigned long long i, from;
                unsigned target, hart, guest;

                if (!nl || (size_t) (nl - p) >= sizeof(line))
                        return -EBADMSG;
                memcpy(line, p, (size_t) (nl - p));
                line[nl - p] = '\0';
                p = nl + 1;
                if (sscanf(line, "open %llu %63s %u %31s %u %u %36s %llu", &i, dev, &target, kind, &hart, &guest,
                           owner, &from) == 8) {
                        SimWindow *w;

                        if (i != s->n_windows || entry_kind_from_string(kind) <= ENTRY_BLOCKED)
                                return -EBADMSG;
                        if (!GREEDY_REALLOC(s->windows, s->n_windows_allocated, s->n_windows + 1))
                                return -ENOMEM;
                        w = &s->windows[s->n_windows++];
                        *w = (SimWindow) { .target = target, .kind = (uint8_t) entry_kind_from_string(kind),
                                           .hart = hart, .guest = (uint8_t) guest, .from = from, .to = UINT64_MAX };
                        strcpy(w->device, dev);
                } else if (sscanf(line, "close %llu %llu", &i, &from) == 2) {
                        if (i >= s->n_windows || s->windows[i].to != UINT64_MAX)
                                return -EBADMSG;
                        s->windows[i].to = from;
                } else
                        return -EBADMSG;
        }
        *ret_len = (size_t) (p - text);
        return 0;
}

static char *window_log_path(const char *persist_path) {
        char *p;

        if (asprintf(&p, "%s%s", persist_path, SIM_WINDOW_LOG_SUFFIX) < 0)
                return NULL;
        return p;
}

static int sim_restore(Sim *s, json_object *root, const char *path) {
        _cleanup_free_ char *log_path = NULL, *log = NULL;
        json_object *harts = json_array_of(root, "harts"), *vms = json_array_of(root, "vms");
        json_object *devs = json_array_of(root, "devices"), *cnt, *v;
        const char *first;
        uint64_t n_windows, violations;

        if (!harts || !vms || !devs || json_object_array_length(harts) != s->world->geometry.nr_harts ||
            !json_object_object_get_ex(root, "counters", &cnt) ||
            json_uint64(root, "clock", &s->clock) < 0 || json_uint64(root, "next_mrif", &s->next_mrif) < 0 ||
            json_uint64(root, "windows", &n_windows) < 0 ||
            json_uint64(root, "window_log_lines", &s->window_log_lines) < 0 ||
            json_uint64(root, "violations", &violations) < 0 ||
            json_uint64(cnt, "pte_writes", &s->counters.pte_writes) < 0 ||
            json_uint64(cnt, "faults", &s->counters.faults) < 0 ||
            json_uint64(cnt, "notices", &s->counters.notices) < 0 ||
            json_uint64(cnt, "delivered", &s->counters.delivered) < 0 ||
            json_uint64(cnt, "ops_applied", &s->counters.ops_applied) < 0 ||
            !json_object_object_get_ex(root, "record_windows", &v))
                return -EBADMSG;
        s->record_windows = json_object_get_boolean(v);
        s->n_violations = violations;
        first = json_str(root, "first_violation");
        if (first)
                (void) snprintf(s->first_violation, sizeof(s->first_violation), "%s", first);

        for (uint32_t h = 0; h < s->world->geometry.nr_harts; h++) {
                json_object *pair = json_object_array_get_idx(harts, h);
                int64_t cpu;

                if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2)
                        return -EBADMSG;
                cpu = json_object_get_int64(json_object_array_get_idx(pair, 0));
                if (cpu < -1 || cpu > INT32_MAX ||
                    model_set_hart_cpu(s->world, h, (int32_t) cpu) < 0 ||
                    model_set_hart_reserved(s->world, h, json_object_get_uint64(json_object_array_get_idx(pair, 1))) < 0)
                        return -EBADMSG;
        }
        for (size_t i = 0; i < json_object_array_length(vms); i++) {
                int r = restore_vm(s, json_object_array_get_idx(vms, i));
                if (r < 0)
                        return r;
        }

        /*
         * The windows: the log's lines up to the count the state names.
         * Lines after them were written by an operation whose state never
         * made it to the file; they go.
         */
        log_path = window_log_path(path);
        if (!log_path)
                return -ENOMEM;
        if (s->window_log_lines > 0) {
                size_t len;
                int r;

                r = read_full_file(log_path, SIM_PERSIST_MAX, &log, NULL);
                if (r < 0)
                        return r == -ENOENT ? -EBADMSG : r;
                r = replay_window_log(s, log, s->window_log_lines, &len);
                if (r < 0)
                        return r;
                if (truncate(log_path, (off_t) len) < 0)
                        return -errno;
        } else if (truncate(log_path, 0) < 0 && errno != ENOENT)
                return -errno;
        if (s->n_windows != n_windows)
                return -EBADMSG;

        for (size_t i = 0; i < json_object_array_length(devs); i++) {
                int r = restore_device(s, json_object_array_get_idx(devs, i));
                if (r < 0)
                        return r;
        }
        /* Every window the log leaves open belongs to a valid entry. */
        {
                size_t open_windows = 0, open_entries = 0;

                for (size_t i = 0; i < s->n_windows; i++)
                        open_windows += s->windows[i].to == UINT64_MAX;
                for (size_t i = 0; i < s->n_devices; i++)
                        for (uint32_t k = 0; k < s->devices[i]->n_entries; k++)
                                open_entries += s->devices[i]->entries[k].window != SIZE_MAX;
                if (open_windows != open_entries)
                        return -EBADMSG;
        }
        s->announce_pending = true;
        return 0;
}

/* Appending from here on; a new host starts a new log. */
static int sim_window_log_open(Sim *s, bool restored) {
        _cleanup_free_ char *log_path = window_log_path(s->persist_path);

        if (!log_path)
                return -ENOMEM;
        s->window_log = fopen(log_path, restored ? "ae" : "we");
        if (!s->window_log)
                return -errno;
        if (!restored)
                s->window_log_lines = 0;
        return 0;
}
