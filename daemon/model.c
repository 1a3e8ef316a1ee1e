/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <assert.h>
#include <ctype.h>
#include <linux/rvmsi.h>

#include "json-util.h"
#include "model.h"

/* The model's enums are the uAPI's, value for value: the kernel backend only casts. */
_Static_assert((int) MODE_OFF == (int) IOMMU_RVMSI_MODE_OFF, "mode");
_Static_assert((int) MODE_BLOCKED == (int) IOMMU_RVMSI_MODE_BLOCKED, "mode");
_Static_assert((int) MODE_IDENTITY == (int) IOMMU_RVMSI_MODE_IDENTITY, "mode");
_Static_assert((int) MODE_MRIF == (int) IOMMU_RVMSI_MODE_MRIF, "mode");
_Static_assert((int) MODE_GUEST_FILE == (int) IOMMU_RVMSI_MODE_GUEST_FILE, "mode");
_Static_assert((int) ENTRY_BLOCKED == (int) IOMMU_RVMSI_ENTRY_BLOCKED, "entry");
_Static_assert((int) ENTRY_HOST_FILE == (int) IOMMU_RVMSI_ENTRY_HOST_FILE, "entry");
_Static_assert((int) ENTRY_GUEST_FILE == (int) IOMMU_RVMSI_ENTRY_GUEST_FILE, "entry");
_Static_assert((int) ENTRY_MRIF == (int) IOMMU_RVMSI_ENTRY_MRIF, "entry");
_Static_assert((int) ISOLATION_NONE == (int) IOMMU_RVMSI_ISOLATION_NONE, "isolation");
_Static_assert((int) ISOLATION_SHARED == (int) IOMMU_RVMSI_ISOLATION_SHARED, "isolation");
_Static_assert((int) ISOLATION_ISOLATED == (int) IOMMU_RVMSI_ISOLATION_ISOLATED, "isolation");
_Static_assert((int) ISOLATION_LOCKED == (int) IOMMU_RVMSI_ISOLATION_LOCKED, "isolation");
_Static_assert((int) CAP_MSI_FLAT == (int) IOMMU_RVMSI_CAP_MSI_FLAT, "cap");
_Static_assert((int) CAP_MSI_MRIF == (int) IOMMU_RVMSI_CAP_MSI_MRIF, "cap");
_Static_assert((int) CAP_AMO_MRIF == (int) IOMMU_RVMSI_CAP_AMO_MRIF, "cap");
_Static_assert((int) CAP_GUEST_FILE == (int) IOMMU_RVMSI_CAP_GUEST_FILE, "cap");

static int table_lookup(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

#define DEFINE_STRING_TABLE(name, type, max, ...)                                       \
        static const char *const name##_table[max] = { __VA_ARGS__ };                   \
        const char *name##_to_string(type v) {                                          \
                if ((int) v < 0 || (int) v >= (int) (max))                              \
                        return NULL;                                                    \
                return name##_table[v];                                                 \
        }                                                                               \
        type name##_from_string(const char *s) {                                        \
                return (type) table_lookup(name##_table, (max), s);                     \
        }

DEFINE_STRING_TABLE(mode, DeliveryMode, _MODE_MAX,
                    [MODE_OFF] = "off",
                    [MODE_BLOCKED] = "blocked",
                    [MODE_IDENTITY] = "identity",
                    [MODE_MRIF] = "mrif",
                    [MODE_GUEST_FILE] = "guest-file");

DEFINE_STRING_TABLE(entry_kind, EntryKind, _ENTRY_KIND_MAX,
                    [ENTRY_BLOCKED] = "blocked",
                    [ENTRY_HOST_FILE] = "host-file",
                    [ENTRY_GUEST_FILE] = "guest-file",
                    [ENTRY_MRIF] = "mrif");

DEFINE_STRING_TABLE(isolation, Isolation, _ISOLATION_MAX,
                    [ISOLATION_NONE] = "none",
                    [ISOLATION_SHARED] = "shared",
                    [ISOLATION_ISOLATED] = "isolated",
                    [ISOLATION_LOCKED] = "locked");

DEFINE_STRING_TABLE(owner_kind, OwnerKind, _OWNER_KIND_MAX,
                    [OWNER_NONE] = "none",
                    [OWNER_HOST] = "host",
                    [OWNER_VM] = "vm",
                    [OWNER_USERSPACE] = "userspace");

DEFINE_STRING_TABLE(isolation_class, IsolationClass, _CLASS_MAX,
                    [CLASS_STRICT] = "strict",
                    [CLASS_BALANCED] = "balanced",
                    [CLASS_PERFORMANCE] = "performance");

DEFINE_STRING_TABLE(vm_state, VmState, _VM_STATE_MAX,
                    [VM_DEFINED] = "defined",
                    [VM_RUNNING] = "running",
                    [VM_PAUSED] = "paused",
                    [VM_MIGRATING_OUT] = "migrating-out",
                    [VM_MIGRATING_IN] = "migrating-in",
                    [VM_STOPPED] = "stopped");

bool vm_state_is_active(VmState s) {
        /* Paused and migrating VMs keep their devices: their MSIs must still land somewhere safe. */
        return s == VM_RUNNING || s == VM_PAUSED || s == VM_MIGRATING_OUT || s == VM_MIGRATING_IN;
}

int geometry_validate(const Geometry *g) {
        assert_return(g, -EINVAL);

        if (g->nr_groups == 0 || g->nr_harts == 0 || g->nr_harts > GEOMETRY_MAX_HARTS)
                return -EINVAL;
        if (g->nr_harts % g->nr_groups != 0)
                return -EINVAL;
        if (g->nr_guest_files > GEOMETRY_MAX_GUEST_FILES)
                return -EINVAL;
        if (g->nr_ids < 63 || g->nr_ids > 2047)
                return -EINVAL;
        return 0;
}

static void hart_done(Hart *h) {
        h->residents = mfree(h->residents);
        h->n_residents = h->n_residents_allocated = 0;
}

static Vm *vm_free(Vm *vm) {
        if (!vm)
                return NULL;
        free(vm->name);
        for (uint32_t v = 0; vm->vcpus && v < vm->nr_vcpus; v++)
                free(vm->vcpus[v].pin_cpus);
        free(vm->vcpus);
        free(vm->devices);
        return mfree(vm);
}

static Device *device_free(Device *d) {
        if (!d)
                return NULL;
        free(d->owner_label);
        free(d->vectors);
        return mfree(d);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(Vm *, vm_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(Device *, device_free);

int model_new(const Geometry *g, Model **ret) {
        _cleanup_(model_freep) Model *m = NULL;
        uint32_t hpg;
        int r;

        assert_return(g && ret, -EINVAL);
        r = geometry_validate(g);
        if (r < 0)
                return r;

        m = new0(Model, 1);
        if (!m)
                return -ENOMEM;
        m->geometry = *g;
        m->harts = new0(Hart, g->nr_harts);
        if (!m->harts)
                return -ENOMEM;
        hpg = geometry_harts_per_group(g);
        for (uint32_t i = 0; i < g->nr_harts; i++)
                m->harts[i] = (Hart) {
                        .index = i,
                        .group = i / hpg,
                        .hart = i % hpg,
                        /* Until told otherwise, assume the common CPU n = hart n numbering. */
                        .cpu = (int32_t) i,
                };
        *ret = TAKE_PTR(m);
        return 0;
}

Model *model_free(Model *m) {
        if (!m)
                return NULL;
        if (m->harts)
                for (uint32_t i = 0; i < m->geometry.nr_harts; i++)
                        hart_done(&m->harts[i]);
        free(m->harts);
        for (size_t i = 0; i < m->n_vms; i++)
                vm_free(m->vms[i]);
        free(m->vms);
        for (size_t i = 0; i < m->n_devices; i++)
                device_free(m->devices[i]);
        free(m->devices);
        pos_hint_done(&m->device_hint);
        pos_hint_done(&m->vm_hint);
        return mfree(m);
}

/* ---- harts ---- */

int model_set_hart_cpu(Model *m, uint32_t hart, int32_t cpu) {
        assert_return(m, -EINVAL);
        assert_return(hart < m->geometry.nr_harts, -ERANGE);
        assert_return(cpu >= -1, -EINVAL);

        /*
         * A CPU owns one hart. The CPU n = hart n guess of model_new() is often wrong: Linux numbers the hart it
         * booted on CPU 0, and the firmware boots whichever hart wins its lottery. A hart that still has the CPU
         * by that guess loses it (to -1, unknown), or model_hart_by_cpu() would find it first and name the wrong
         * hart for every IRQ on that CPU.
         */
        if (cpu >= 0)
                for (uint32_t i = 0; i < m->geometry.nr_harts; i++)
                        if (i != hart && m->harts[i].cpu == cpu)
                                m->harts[i].cpu = -1;
        m->harts[hart].cpu = cpu;
        m->generation++;
        return 0;
}

int model_hart_by_cpu(const Model *m, int32_t cpu, uint32_t *ret_hart) {
        assert_return(m && ret_hart, -EINVAL);

        if (cpu < 0)
                return -ENOENT;
        /* Fast path for the usual identity numbering. */
        if ((uint32_t) cpu < m->geometry.nr_harts && m->harts[cpu].cpu == cpu) {
                *ret_hart = (uint32_t) cpu;
                return 0;
        }
        for (uint32_t i = 0; i < m->geometry.nr_harts; i++)
                if (m->harts[i].cpu == cpu) {
                        *ret_hart = i;
                        return 0;
                }
        return -ENOENT;
}

int model_set_hart_reserved(Model *m, uint32_t hart, uint64_t reserved_files) {
        assert_return(m, -EINVAL);
        assert_return(hart < m->geometry.nr_harts, -ERANGE);

        /* Bit 0 is the S-level file, which is never a guest file; bits above GEILEN do not exist. */
        if (reserved_files & 1)
                return -EINVAL;
        if (m->geometry.nr_guest_files < 63 && (reserved_files >> (m->geometry.nr_guest_files + 1)) != 0)
                return -EINVAL;
        m->harts[hart].reserved_files = reserved_files;
        m->generation++;
        return 0;
}

static int hart_add_resident(Hart *h, Vm *vm, uint32_t vcpu) {
        if (!GREEDY_REALLOC(h->residents, h->n_residents_allocated, h->n_residents + 1))
                return -ENOMEM;
        h->residents[h->n_residents++] = (VcpuRef) { .vm = vm, .vcpu = vcpu };
        return 0;
}

static void hart_remove_resident(Hart *h, const Vm *vm, uint32_t vcpu) {
        for (uint32_t i = 0; i < h->n_residents; i++)
                if (h->residents[i].vm == vm && h->residents[i].vcpu == vcpu) {
                        /* Order does not matter: the solver sorts candidates itself. */
                        h->residents[i] = h->residents[--h->n_residents];
                        return;
                }
}

/* ---- names ---- */

int device_name_validate(const char *name) {
        size_t n;

        if (!name)
                return -EINVAL;
        n = strlen(name);
        if (n == 0 || n >= DEVICE_NAME_MAX)
                return -EINVAL;
        /* Kernel device names: no slashes, no whitespace, no control characters. */
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) name[i];

                if (c <= ' ' || c >= 0x7f || c == '/' || c == '\\' || c == '"' || c == '\'')
                        return -EINVAL;
        }
        if (streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        return 0;
}

int vm_name_validate(const char *name) {
        size_t n;

        if (!name)
                return -EINVAL;
        n = strlen(name);
        if (n == 0 || n > 255)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) name[i];

                if (c < ' ' || c == 0x7f)
                        return -EINVAL;
        }
        return 0;
}

/* ---- sorted arrays ---- */

static size_t vms_lower_bound(const Model *m, const char *uuid) {
        size_t lo = 0, hi = m->n_vms;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(m->vms[mid]->uuid, uuid) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static size_t devices_lower_bound(const Model *m, const char *name) {
        size_t lo = 0, hi = m->n_devices;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(m->devices[mid]->name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

Vm *model_find_vm(const Model *m, const char *uuid) {
        char u[UUID_STRING_MAX];
        size_t i;

        uint64_t key;

        if (!m || uuid_normalize(uuid, u) < 0)
                return NULL;
        /* As for devices: an event looks a few VMs up among thousands, several times each. */
        key = pos_hint_key_string(u);
        i = pos_hint_get(&m->vm_hint, key);
        if (i < m->n_vms && streq(m->vms[i]->uuid, u))
                return m->vms[i];
        i = vms_lower_bound(m, u);
        if (i < m->n_vms && streq(m->vms[i]->uuid, u)) {
                pos_hint_set((PosHint *) &m->vm_hint, key, i, m->n_vms);
                return m->vms[i];
        }
        return NULL;
}

Vm *model_find_vm_by_name(const Model *m, const char *name) {
        if (!m || !name)
                return NULL;
        for (size_t i = 0; i < m->n_vms; i++)
                if (streq_ptr(m->vms[i]->name, name))
                        return m->vms[i];
        return NULL;
}

Device *model_find_device(const Model *m, const char *name) {
        uint64_t key;
        size_t i;

        if (!m || !name)
                return NULL;
        /* An event looks a few devices up among all of them: try where each was found last time first. */
        key = pos_hint_key_string(name);
        i = pos_hint_get(&m->device_hint, key);
        if (i < m->n_devices && streq(m->devices[i]->name, name))
                return m->devices[i];
        i = devices_lower_bound(m, name);
        if (i < m->n_devices && streq(m->devices[i]->name, name)) {
                pos_hint_set((PosHint *) &m->device_hint, key, i, m->n_devices);
                return m->devices[i];
        }
        return NULL;
}

/* Kept sorted by name, like the model's devices: consumers list them in the canonical order without sorting. */
static int vm_link_device(Vm *vm, Device *d) {
        size_t i;

        if (!GREEDY_REALLOC(vm->devices, vm->n_devices_allocated, vm->n_devices + 1))
                return -ENOMEM;
        for (i = vm->n_devices; i > 0 && strcmp(vm->devices[i - 1]->name, d->name) > 0; i--)
                vm->devices[i] = vm->devices[i - 1];
        vm->devices[i] = d;
        vm->n_devices++;
        d->vm = vm;
        return 0;
}

static void vm_unlink_device(Vm *vm, Device *d) {
        for (size_t i = 0; i < vm->n_devices; i++)
                if (vm->devices[i] == d) {
                        memmove(vm->devices + i, vm->devices + i + 1, (vm->n_devices - i - 1) * sizeof(Device *));
                        vm->n_devices--;
                        break;
                }
        d->vm = NULL;
}

/* ---- VMs ---- */

/* A new VM, defined, with no vCPU placed. uuid must be normalized. */
uint64_t vm_uuid_hash(const char *uuid) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (const char *c = uuid; *c; c++) {
                h ^= (unsigned char) *c;
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

static int vm_new(const char *uuid, const char *name, uint32_t nr_vcpus, Vm **ret) {
        _cleanup_(vm_freep) Vm *vm = NULL;

        vm = new0(Vm, 1);
        if (!vm)
                return -ENOMEM;
        memcpy(vm->uuid, uuid, UUID_STRING_MAX);
        vm->uuid_hash = vm_uuid_hash(vm->uuid);
        if (name) {
                vm->name = strdup(name);
                if (!vm->name)
                        return -ENOMEM;
        }
        vm->state = VM_DEFINED;
        vm->klass = _CLASS_INVALID;
        vm->nr_vcpus = nr_vcpus;
        vm->vcpus = new0(Vcpu, nr_vcpus);
        if (!vm->vcpus)
                return -ENOMEM;
        for (uint32_t v = 0; v < nr_vcpus; v++)
                vm->vcpus[v] = (Vcpu) { .hart = NO_HART, .pinned_hart = NO_HART };
        *ret = TAKE_PTR(vm);
        return 0;
}

int model_add_vm(Model *m, const char *uuid, const char *name, uint32_t nr_vcpus, Vm **ret) {
        _cleanup_(vm_freep) Vm *vm = NULL;
        char u[UUID_STRING_MAX];
        size_t i;
        int r;

        assert_return(m, -EINVAL);
        r = uuid_normalize(uuid, u);
        if (r < 0)
                return r;
        if (name && vm_name_validate(name) < 0)
                return -EINVAL;
        if (nr_vcpus == 0 || nr_vcpus > VM_MAX_VCPUS)
                return -EINVAL;
        i = vms_lower_bound(m, u);
        if (i < m->n_vms && streq(m->vms[i]->uuid, u))
                return -EEXIST;
        if (name && model_find_vm_by_name(m, name))
                return -EEXIST;

        r = vm_new(u, name, nr_vcpus, &vm);
        if (r < 0)
                return r;

        if (!GREEDY_REALLOC(m->vms, m->n_vms_allocated, m->n_vms + 1))
                return -ENOMEM;

        /* Devices attached to this UUID before it was registered now resolve to it. */
        for (size_t k = 0; k < m->n_devices; k++) {
                Device *d = m->devices[k];

                if (d->owner == OWNER_VM && streq(d->owner_vm, u)) {
                        r = vm_link_device(vm, d);
                        if (r < 0) {
                                for (size_t j = 0; j < m->n_devices; j++)
                                        if (m->devices[j]->vm == vm)
                                                m->devices[j]->vm = NULL;
                                return r;
                        }
                }
        }

        memmove(m->vms + i + 1, m->vms + i, (m->n_vms - i) * sizeof(Vm *));
        m->vms[i] = vm;
        m->n_vms++;
        m->generation++;
        if (ret)
                *ret = vm;
        TAKE_PTR(vm);
        return 0;
}

int model_remove_vm(Model *m, const char *uuid) {
        Vm *vm;
        size_t i;

        assert_return(m, -EINVAL);
        vm = model_find_vm(m, uuid);
        if (!vm)
                return -ENOENT;

        for (uint32_t v = 0; v < vm->nr_vcpus; v++)
                if (vm->vcpus[v].hart != NO_HART)
                        hart_remove_resident(&m->harts[vm->vcpus[v].hart], vm, v);
        for (size_t k = 0; k < vm->n_devices; k++)
                vm->devices[k]->vm = NULL;

        i = vms_lower_bound(m, vm->uuid);
        memmove(m->vms + i, m->vms + i + 1, (m->n_vms - i - 1) * sizeof(Vm *));
        m->n_vms--;
        vm_free(vm);
        m->generation++;
        return 0;
}

int model_vm_set_state(Model *m, Vm *vm, VmState state) {
        assert_return(m && vm, -EINVAL);
        assert_return(state >= 0 && state < _VM_STATE_MAX, -EINVAL);

        vm->state = state;
        m->generation++;
        return 0;
}

int model_vm_set_class(Model *m, Vm *vm, IsolationClass klass) {
        assert_return(m && vm, -EINVAL);
        assert_return(klass == _CLASS_INVALID || (klass >= 0 && klass < _CLASS_MAX), -EINVAL);

        vm->klass = klass;
        m->generation++;
        return 0;
}

int model_vm_set_priority(Model *m, Vm *vm, bool set, int32_t priority) {
        assert_return(m && vm, -EINVAL);
        assert_return(priority >= -1000 && priority <= 1000, -ERANGE);

        vm->priority_set = set;
        vm->priority = set ? priority : 0;
        m->generation++;
        return 0;
}

int model_vcpu_place(Model *m, Vm *vm, uint32_t vcpu, uint32_t hart) {
        Vcpu *c;
        int r;

        assert_return(m && vm, -EINVAL);
        assert_return(vcpu < vm->nr_vcpus, -ERANGE);
        assert_return(hart == NO_HART || hart < m->geometry.nr_harts, -ERANGE);

        c = &vm->vcpus[vcpu];
        if (c->hart == hart)
                return 0;
        if (hart != NO_HART) {
                r = hart_add_resident(&m->harts[hart], vm, vcpu);
                if (r < 0)
                        return r;
        }
        if (c->hart != NO_HART)
                hart_remove_resident(&m->harts[c->hart], vm, vcpu);
        c->hart = hart;
        /* A guest file belongs to a hart: moving away always gives it up. */
        c->guest_file = 0;
        m->generation++;
        return 0;
}

int model_vcpu_pin(Model *m, Vm *vm, uint32_t vcpu, uint32_t hart) {
        int32_t cpu;

        assert_return(m && vm, -EINVAL);
        assert_return(vcpu < vm->nr_vcpus, -ERANGE);
        assert_return(hart == NO_HART || hart < m->geometry.nr_harts, -ERANGE);

        if (hart == NO_HART)
                return model_vcpu_set_pin_cpus(m, vm, vcpu, NULL, 0);
        cpu = m->harts[hart].cpu;
        if (cpu >= 0)
                return model_vcpu_set_pin_cpus(m, vm, vcpu, (uint32_t[]) { (uint32_t) cpu }, 1);
        /* No CPU known for the hart: the hart alone. */
        vm->vcpus[vcpu].pin_cpus = mfree(vm->vcpus[vcpu].pin_cpus);
        vm->vcpus[vcpu].n_pin_cpus = 0;
        vm->vcpus[vcpu].pinned_hart = hart;
        m->generation++;
        return 0;
}

static uint32_t *u32_dup(const uint32_t *p, uint32_t n) {
        uint32_t *c = new(uint32_t, n);

        if (c)
                memcpy(c, p, n * sizeof(uint32_t));
        return c;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return CMP(x, y);
}

int model_vcpu_set_pin_cpus(Model *m, Vm *vm, uint32_t vcpu, const uint32_t *cpus, uint32_t n) {
        _cleanup_free_ uint32_t *copy = NULL;
        uint32_t one = NO_HART;
        Vcpu *c;

        assert_return(m && vm, -EINVAL);
        assert_return(vcpu < vm->nr_vcpus, -ERANGE);
        assert_return(n == 0 || cpus, -EINVAL);

        /* Check everything before changing anything. */
        for (uint32_t i = 0; i < n; i++) {
                uint32_t h;

                if (cpus[i] > INT32_MAX || model_hart_by_cpu(m, (int32_t) cpus[i], &h) < 0)
                        return -EINVAL;
                if (i == 0)
                        one = h;
                else if (one != h)
                        one = NO_HART;
        }
        if (n > 0) {
                copy = u32_dup(cpus, n);
                if (!copy)
                        return -ENOMEM;
                qsort(copy, n, sizeof(uint32_t), cmp_u32);
                for (uint32_t i = 1; i < n; i++)
                        if (copy[i] == copy[i - 1])
                                return -EINVAL;
        }
        c = &vm->vcpus[vcpu];
        free(c->pin_cpus);
        c->pin_cpus = TAKE_PTR(copy);
        c->n_pin_cpus = n;
        c->pinned_hart = one;
        m->generation++;
        return 0;
}

uint32_t model_vcpu_pin_plan_hart(const Model *m, const Vm *vm, uint32_t vcpu) {
        const Vcpu *c;
        uint32_t first = NO_HART;

        if (!m || !vm || vcpu >= vm->nr_vcpus)
                return NO_HART;
        c = &vm->vcpus[vcpu];
        if (c->pinned_hart != NO_HART)
                return c->pinned_hart;
        for (uint32_t i = 0; i < c->n_pin_cpus; i++) {
                uint32_t h;

                if (model_hart_by_cpu(m, (int32_t) c->pin_cpus[i], &h) < 0)
                        continue;
                if (h == c->hart)
                        return h;
                if (first == NO_HART)
                        first = h;
        }
        return first;
}

int model_vcpu_set_guest_file(Model *m, Vm *vm, uint32_t vcpu, uint8_t guest_file) {
        assert_return(m && vm, -EINVAL);
        assert_return(vcpu < vm->nr_vcpus, -ERANGE);
        assert_return(guest_file <= m->geometry.nr_guest_files, -ERANGE);
        assert_return(guest_file == 0 || vm->vcpus[vcpu].hart != NO_HART, -EINVAL);

        vm->vcpus[vcpu].guest_file = guest_file;
        m->generation++;
        return 0;
}

/* ---- devices ---- */

int model_add_device(Model *m, const char *name, uint64_t caps, Device **ret) {
        _cleanup_(device_freep) Device *d = NULL;
        size_t i;

        assert_return(m, -EINVAL);
        if (device_name_validate(name) < 0)
                return -EINVAL;
        i = devices_lower_bound(m, name);
        if (i < m->n_devices && streq(m->devices[i]->name, name))
                return -EEXIST;

        d = new0(Device, 1);
        if (!d)
                return -ENOMEM;
        strcpy(d->name, name);
        d->name_key = pos_hint_key_string(name);
        d->owner = OWNER_NONE;
        d->caps = caps;

        if (!GREEDY_REALLOC(m->devices, m->n_devices_allocated, m->n_devices + 1))
                return -ENOMEM;
        memmove(m->devices + i + 1, m->devices + i, (m->n_devices - i) * sizeof(Device *));
        m->devices[i] = d;
        m->n_devices++;
        m->generation++;
        if (ret)
                *ret = d;
        TAKE_PTR(d);
        return 0;
}

int model_remove_device(Model *m, const char *name) {
        Device *d;
        size_t i;

        assert_return(m, -EINVAL);
        d = model_find_device(m, name);
        if (!d)
                return -ENOENT;
        if (d->vm)
                vm_unlink_device(d->vm, d);
        i = devices_lower_bound(m, name);
        memmove(m->devices + i, m->devices + i + 1, (m->n_devices - i - 1) * sizeof(Device *));
        m->n_devices--;
        device_free(d);
        m->generation++;
        return 0;
}

static int vectors_check(const Model *m, const Device *d, OwnerKind owner, const Vm *vm,
                         uint32_t n, const Vector *v) {
        for (uint32_t i = 0; i < n; i++) {
                if (v[i].hart != NO_HART && v[i].hart >= m->geometry.nr_harts)
                        return -ERANGE;
                if (v[i].vcpu != NO_HART) {
                        if (owner != OWNER_VM)
                                return -EINVAL;
                        /* Unknown until the VM registers: accept any index below the limit. */
                        if (v[i].vcpu >= (vm ? vm->nr_vcpus : VM_MAX_VCPUS))
                                return -ERANGE;
                }
        }
        (void) d;
        return 0;
}

int model_device_set_owner(Model *m, Device *d, OwnerKind owner, const char *owner_key) {
        _cleanup_free_ char *label = NULL;
        char u[UUID_STRING_MAX] = "";
        Vm *vm = NULL;
        int r;

        assert_return(m && d, -EINVAL);
        assert_return(owner >= 0 && owner < _OWNER_KIND_MAX, -EINVAL);

        if (owner == OWNER_VM) {
                r = uuid_normalize(owner_key, u);
                if (r < 0)
                        return r;
                vm = model_find_vm(m, u);
        } else if (owner == OWNER_USERSPACE && owner_key) {
                if (vm_name_validate(owner_key) < 0)
                        return -EINVAL;
                label = strdup(owner_key);
                if (!label)
                        return -ENOMEM;
        } else if (owner_key && owner != OWNER_USERSPACE)
                return -EINVAL;

        /* vCPU routes belong to the old owner; they must not survive a change of owner. */
        if (owner != OWNER_VM || !streq(u, d->owner_vm))
                for (uint32_t i = 0; i < d->nr_vectors; i++)
                        d->vectors[i].vcpu = NO_HART;
        else {
                r = vectors_check(m, d, owner, vm, d->nr_vectors, d->vectors);
                if (r < 0)
                        return r;
        }

        if (d->vm && d->vm != vm)
                vm_unlink_device(d->vm, d);
        if (vm && d->vm != vm) {
                r = vm_link_device(vm, d);
                if (r < 0)
                        return r;
        }
        d->owner = owner;
        memcpy(d->owner_vm, u, sizeof(u));
        free(d->owner_label);
        d->owner_label = TAKE_PTR(label);
        m->generation++;
        return 0;
}

int model_device_set_locked(Model *m, Device *d, bool locked) {
        assert_return(m && d, -EINVAL);
        d->locked = locked;
        m->generation++;
        return 0;
}

int model_device_set_caps(Model *m, Device *d, uint64_t caps) {
        assert_return(m && d, -EINVAL);
        d->caps = caps;
        m->generation++;
        return 0;
}

int model_device_set_vectors(Model *m, Device *d, uint32_t n, const Vector *vectors) {
        _cleanup_free_ Vector *copy = NULL;
        int r;

        assert_return(m && d, -EINVAL);
        assert_return(n == 0 || vectors, -EINVAL);
        if (n > DEVICE_MAX_VECTORS)
                return -E2BIG;
        r = vectors_check(m, d, d->owner, d->vm, n, vectors);
        if (r < 0)
                return r;
        if (n > 0) {
                copy = new(Vector, n);
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, vectors, n * sizeof(Vector));
        }
        free(d->vectors);
        d->vectors = TAKE_PTR(copy);
        d->nr_vectors = n;
        m->generation++;
        return 0;
}

int model_device_set_affinity(Model *m, Device *d, uint32_t vector, uint32_t hart) {
        assert_return(m && d, -EINVAL);
        assert_return(vector < d->nr_vectors, -ERANGE);
        assert_return(hart == NO_HART || hart < m->geometry.nr_harts, -ERANGE);

        d->vectors[vector].hart = hart;
        m->generation++;
        return 0;
}

uint32_t device_targets_fill(const Device *d, DeviceTarget *buf) {
        bool vm_owned;
        uint32_t k = 0;

        assert(d && (d->nr_vectors == 0 || buf));

        /*
         * Collect the distinct targets in order as the vectors are read, lowest
         * vector index first, so the first vector to name a target is its
         * lowest one. A device has few vectors and fewer targets, mostly met in
         * order (routed round-robin, or spread with a stride): look at the one
         * after the target met last, then at the last one, else binary search,
         * and make room by moving the greater ones up. This replaced a qsort()
         * of (target, vector) pairs that was most of a full solve's
         * instructions (test-model: targets_match_reference).
         */
        vm_owned = device_targets_vcpus(d);
        for (uint32_t i = 0, next = 0; i < d->nr_vectors; i++) {
                uint32_t t, lo, hi;

                if (vm_owned) {
                        if (d->vectors[i].vcpu == NO_HART)
                                continue;
                        t = TARGET_VCPU(d->vectors[i].vcpu);
                } else {
                        if (d->vectors[i].hart == NO_HART)
                                continue;
                        t = TARGET_HART(d->vectors[i].hart);
                }

                /* Round-robin routing meets the targets in the same order again: try the next one. */
                if (next >= k)
                        next = 0;
                if (k > 0 && buf[next].target == t) {
                        buf[next++].count++;
                        continue;
                }
                if (k == 0 || buf[k - 1].target < t) {
                        buf[k++] = (DeviceTarget) { .target = t, .count = 1, .hart = d->vectors[i].hart };
                        next = k;
                        continue;
                }
                if (buf[k - 1].target == t) {
                        buf[k - 1].count++;
                        next = k;
                        continue;
                }
                /* t < buf[k - 1].target: the first position in [0, k - 1] whose target is >= t. */
                lo = 0;
                hi = k - 1;
                while (lo < hi) {
                        uint32_t mid = lo + (hi - lo) / 2;

                        if (buf[mid].target < t)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                if (buf[lo].target != t) {
                        memmove(buf + lo + 1, buf + lo, (k - lo) * sizeof(DeviceTarget));
                        buf[lo] = (DeviceTarget) { .target = t, .count = 0, .hart = d->vectors[i].hart };
                        k++;
                }
                buf[lo].count++;
                next = lo + 1;
        }
        return k;
}

int device_targets(const Device *d, uint32_t **ret_targets, uint32_t **ret_counts,
                   uint32_t **ret_hart_of_target, uint32_t *ret_n) {
        _cleanup_free_ DeviceTarget *buf = NULL;
        _cleanup_free_ uint32_t *targets = NULL, *counts = NULL, *harts = NULL;
        uint32_t k;

        assert_return(d && ret_n, -EINVAL);

        buf = new(DeviceTarget, d->nr_vectors);
        targets = new(uint32_t, d->nr_vectors);
        counts = new(uint32_t, d->nr_vectors);
        harts = new(uint32_t, d->nr_vectors);
        if (d->nr_vectors > 0 && (!buf || !targets || !counts || !harts))
                return -ENOMEM;
        k = device_targets_fill(d, buf);
        for (uint32_t i = 0; i < k; i++) {
                targets[i] = buf[i].target;
                counts[i] = buf[i].count;
                harts[i] = buf[i].hart;
        }

        *ret_n = k;
        if (ret_targets)
                *ret_targets = TAKE_PTR(targets);
        if (ret_counts)
                *ret_counts = TAKE_PTR(counts);
        if (ret_hart_of_target)
                *ret_hart_of_target = TAKE_PTR(harts);
        return 0;
}

/* ---- copy ---- */

void vm_copy_attributes(Vm *dst, const Vm *src) {
        dst->state = src->state;
        dst->klass = src->klass;
        dst->priority = src->priority;
        dst->priority_set = src->priority_set;
}

int model_copy(const Model *m, Model **ret) {
        _cleanup_(model_freep) Model *c = NULL;
        int r;

        assert_return(m && ret, -EINVAL);

        r = model_new(&m->geometry, &c);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < m->geometry.nr_harts; i++) {
                c->harts[i].cpu = m->harts[i].cpu;
                c->harts[i].reserved_files = m->harts[i].reserved_files;
        }
        /*
         * The source's VMs are valid, unique and sorted already: append them in order. model_add_vm() would check
         * each name against every VM added before it (quadratic in the number of VMs: a copy of the bench's
         * largest host spent most of its time there) and look for devices that have none to find yet.
         */
        c->vms = new(Vm *, m->n_vms);
        if (m->n_vms > 0 && !c->vms)
                return -ENOMEM;
        c->n_vms_allocated = m->n_vms;
        for (size_t i = 0; i < m->n_vms; i++) {
                const Vm *src = m->vms[i];
                Vm *vm;

                r = vm_new(src->uuid, src->name, src->nr_vcpus, &vm);
                if (r < 0)
                        return r;
                c->vms[c->n_vms++] = vm;
                vm_copy_attributes(vm, src);
                for (uint32_t v = 0; v < src->nr_vcpus; v++) {
                        r = model_vcpu_place(c, vm, v, src->vcpus[v].hart);
                        if (r < 0)
                                return r;
                        vm->vcpus[v].pinned_hart = src->vcpus[v].pinned_hart;
                        vm->vcpus[v].guest_file = src->vcpus[v].guest_file;
                        if (src->vcpus[v].n_pin_cpus > 0) {
                                vm->vcpus[v].pin_cpus = u32_dup(src->vcpus[v].pin_cpus, src->vcpus[v].n_pin_cpus);
                                if (!vm->vcpus[v].pin_cpus)
                                        return -ENOMEM;
                                vm->vcpus[v].n_pin_cpus = src->vcpus[v].n_pin_cpus;
                        }
                }
        }
        for (size_t i = 0; i < m->n_devices; i++) {
                const Device *src = m->devices[i];
                Device *d;

                r = model_add_device(c, src->name, src->caps, &d);
                if (r < 0)
                        return r;
                r = model_device_set_owner(c, d, src->owner,
                                           src->owner == OWNER_VM ? src->owner_vm : src->owner_label);
                if (r < 0)
                        return r;
                d->locked = src->locked;
                r = model_device_set_vectors(c, d, src->nr_vectors, src->vectors);
                if (r < 0)
                        return r;
        }
        c->generation = m->generation;
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- JSON ---- */

static json_object *json_hart_or_null(uint32_t h) {
        return h == NO_HART ? NULL : json_object_new_int64(h);
}

int model_to_json(const Model *m, json_object **ret) {
        _cleanup_json_ json_object *root = NULL;
        json_object *geo, *vms, *devs, *harts;
        int r = 0;

        assert_return(m && ret, -EINVAL);

        root = json_object_new_object();
        geo = json_object_new_object();
        vms = json_object_new_array();
        devs = json_object_new_array();
        harts = json_object_new_array();
        if (!root || !geo || !vms || !devs || !harts) {
                json_object_put(geo);
                json_object_put(vms);
                json_object_put(devs);
                json_object_put(harts);
                return -ENOMEM;
        }
        RET_GATHER(r, json_add_take(root, "geometry", geo));
        RET_GATHER(r, json_add_take(root, "harts", harts));
        RET_GATHER(r, json_add_take(root, "vms", vms));
        RET_GATHER(r, json_add_take(root, "devices", devs));
        if (r < 0)
                return r;

        RET_GATHER(r, json_add_take(geo, "groups", json_object_new_int64(m->geometry.nr_groups)));
        RET_GATHER(r, json_add_take(geo, "harts", json_object_new_int64(m->geometry.nr_harts)));
        RET_GATHER(r, json_add_take(geo, "guest_files", json_object_new_int64(m->geometry.nr_guest_files)));
        RET_GATHER(r, json_add_take(geo, "ids", json_object_new_int64(m->geometry.nr_ids)));

        for (uint32_t i = 0; i < m->geometry.nr_harts && r >= 0; i++) {
                json_object *h = json_object_new_object();

                if (!h || json_object_array_add(harts, h) < 0) {
                        json_object_put(h);
                        return -ENOMEM;
                }
                RET_GATHER(r, json_add_take(h, "index", json_object_new_int64(i)));
                RET_GATHER(r, json_add_take(h, "group", json_object_new_int64(m->harts[i].group)));
                RET_GATHER(r, json_add_take(h, "hart", json_object_new_int64(m->harts[i].hart)));
                RET_GATHER(r, json_add_take(h, "cpu", json_object_new_int64(m->harts[i].cpu)));
                RET_GATHER(r, json_add_take(h, "reserved_files", json_object_new_uint64(m->harts[i].reserved_files)));
        }

        for (size_t i = 0; i < m->n_vms && r >= 0; i++) {
                const Vm *vm = m->vms[i];
                json_object *o = json_object_new_object(), *vc = json_object_new_array();

                if (!o || !vc || json_object_array_add(vms, o) < 0) {
                        json_object_put(o);
                        json_object_put(vc);
                        return -ENOMEM;
                }
                RET_GATHER(r, json_add_take(o, "uuid", json_object_new_string(vm->uuid)));
                if (vm->name)
                        RET_GATHER(r, json_add_take(o, "name", json_object_new_string(vm->name)));
                RET_GATHER(r, json_add_take(o, "state", json_object_new_string(vm_state_to_string(vm->state))));
                if (vm->klass >= 0)
                        RET_GATHER(r, json_add_take(o, "class", json_object_new_string(isolation_class_to_string(vm->klass))));
                if (vm->priority_set)
                        RET_GATHER(r, json_add_take(o, "priority", json_object_new_int64(vm->priority)));
                RET_GATHER(r, json_add_take(o, "vcpus", vc));
                for (uint32_t v = 0; v < vm->nr_vcpus && r >= 0; v++) {
                        json_object *c = json_object_new_object();

                        if (!c || json_object_array_add(vc, c) < 0) {
                                json_object_put(c);
                                return -ENOMEM;
                        }
                        if (vm->vcpus[v].hart != NO_HART)
                                RET_GATHER(r, json_add_take(c, "hart", json_hart_or_null(vm->vcpus[v].hart)));
                        if (vm->vcpus[v].pinned_hart != NO_HART)
                                RET_GATHER(r, json_add_take(c, "pinned", json_hart_or_null(vm->vcpus[v].pinned_hart)));
                        if (vm->vcpus[v].n_pin_cpus > 0) {
                                json_object *cpus = json_object_new_array();

                                for (uint32_t k = 0; cpus && k < vm->vcpus[v].n_pin_cpus; k++)
                                        if (json_object_array_add(cpus, json_object_new_int64(vm->vcpus[v].pin_cpus[k])) < 0)
                                                r = -ENOMEM;
                                RET_GATHER(r, json_add_take(c, "pin_cpus", cpus));
                        }
                        RET_GATHER(r, json_add_take(c, "guest_file", json_object_new_int64(vm->vcpus[v].guest_file)));
                }
        }

        for (size_t i = 0; i < m->n_devices && r >= 0; i++) {
                const Device *d = m->devices[i];
                json_object *o = json_object_new_object(), *vv = json_object_new_array();

                if (!o || !vv || json_object_array_add(devs, o) < 0) {
                        json_object_put(o);
                        json_object_put(vv);
                        return -ENOMEM;
                }
                RET_GATHER(r, json_add_take(o, "name", json_object_new_string(d->name)));
                RET_GATHER(r, json_add_take(o, "owner", json_object_new_string(owner_kind_to_string(d->owner))));
                if (d->owner == OWNER_VM)
                        RET_GATHER(r, json_add_take(o, "vm", json_object_new_string(d->owner_vm)));
                if (d->owner_label)
                        RET_GATHER(r, json_add_take(o, "label", json_object_new_string(d->owner_label)));
                RET_GATHER(r, json_add_take(o, "caps", json_object_new_uint64(d->caps)));
                RET_GATHER(r, json_add_take(o, "locked", json_object_new_boolean(d->locked)));
                RET_GATHER(r, json_add_take(o, "vectors", vv));
                for (uint32_t v = 0; v < d->nr_vectors && r >= 0; v++) {
                        json_object *c = json_object_new_object();

                        if (!c || json_object_array_add(vv, c) < 0) {
                                json_object_put(c);
                                return -ENOMEM;
                        }
                        if (d->vectors[v].hart != NO_HART)
                                RET_GATHER(r, json_add_take(c, "hart", json_hart_or_null(d->vectors[v].hart)));
                        if (d->vectors[v].vcpu != NO_HART)
                                RET_GATHER(r, json_add_take(c, "vcpu", json_hart_or_null(d->vectors[v].vcpu)));
                }
        }
        if (r < 0)
                return r;

        *ret = TAKE_PTR(root);
        return 0;
}
