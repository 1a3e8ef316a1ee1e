/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's model of the host: IMSIC geometry and harts, VMs and their
 * vCPUs, devices and their MSI vectors. Plain data plus lookups; no I/O, no
 * logging. The enums map 1:1 onto include/uapi/linux/rvmsi.h (checked by
 * static asserts in model.c), so that the kernel backend is a translation
 * and nothing else.
 *
 * Sizes this is built for: 4096 harts x 63 guest files, 2048 VMs, 16384
 * devices x 64 vectors. VMs and devices are kept in arrays sorted by UUID and
 * by name (binary search for lookups), which also gives every consumer the
 * same canonical order for free: solver output, reconciler plans and JSON
 * dumps are deterministic without extra sorting.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "macro.h"
#include "poshint.h"
#include "strv.h"

/* Same values as enum iommu_rvmsi_mode. */
typedef enum DeliveryMode {
        MODE_OFF = 0,
        MODE_BLOCKED = 1,
        MODE_IDENTITY = 2,
        MODE_MRIF = 3,
        MODE_GUEST_FILE = 4,
        _MODE_MAX,
        _MODE_INVALID = -EINVAL,
} DeliveryMode;

/* Same values as enum iommu_rvmsi_entry_kind. */
typedef enum EntryKind {
        ENTRY_BLOCKED = 0,
        ENTRY_HOST_FILE = 1,
        ENTRY_GUEST_FILE = 2,
        ENTRY_MRIF = 3,
        _ENTRY_KIND_MAX,
        _ENTRY_KIND_INVALID = -EINVAL,
} EntryKind;

/* Same values as enum iommu_rvmsi_isolation. */
typedef enum Isolation {
        ISOLATION_NONE = 0,
        ISOLATION_SHARED = 1,
        ISOLATION_ISOLATED = 2,
        ISOLATION_LOCKED = 3,
        _ISOLATION_MAX,
        _ISOLATION_INVALID = -EINVAL,
} Isolation;

/* Same bits as enum iommu_rvmsi_cap. */
#define CAP_MSI_FLAT   (UINT64_C(1) << 0)
#define CAP_MSI_MRIF   (UINT64_C(1) << 1)
#define CAP_AMO_MRIF   (UINT64_C(1) << 2)
#define CAP_GUEST_FILE (UINT64_C(1) << 3)
/*
 * The daemon's own bit, no kernel capability: the kernel shares the device's MSI table (and so its mode) with
 * other devices, those it shares a requester ID with (a DMA alias). rvmsid decides per device and does not
 * manage such devices (docs/solver.md, "Devices that share an MSI table").
 */
#define CAP_TABLE_SHARED (UINT64_C(1) << 32)

typedef enum OwnerKind {
        OWNER_NONE,             /* bound to no driver, or to one we know nothing about */
        OWNER_HOST,             /* a host kernel driver */
        OWNER_VM,               /* assigned to a VM (vfio-pci / iommufd), by VM UUID */
        OWNER_USERSPACE,        /* a userspace driver that is not a VM (DPDK, SPDK, ...) */
        _OWNER_KIND_MAX,
        _OWNER_KIND_INVALID = -EINVAL,
} OwnerKind;

/* Isolation classes; see docs/policy.md and docs/solver.md for exact semantics. */
typedef enum IsolationClass {
        CLASS_STRICT,           /* guest file, MRIF or blocked; never a shared host file */
        CLASS_BALANCED,         /* guest file, then MRIF, then the host path (identity) */
        CLASS_PERFORMANCE,      /* guest file, then the host path, then MRIF */
        _CLASS_MAX,
        _CLASS_INVALID = -EINVAL,
} IsolationClass;

typedef enum VmState {
        VM_DEFINED,
        VM_RUNNING,
        VM_PAUSED,
        VM_MIGRATING_OUT,
        VM_MIGRATING_IN,
        VM_STOPPED,
        _VM_STATE_MAX,
        _VM_STATE_INVALID = -EINVAL,
} VmState;

const char *mode_to_string(DeliveryMode m) _const_;
DeliveryMode mode_from_string(const char *s) _pure_;
const char *entry_kind_to_string(EntryKind k) _const_;
EntryKind entry_kind_from_string(const char *s) _pure_;
const char *isolation_to_string(Isolation i) _const_;
Isolation isolation_from_string(const char *s) _pure_;
const char *owner_kind_to_string(OwnerKind k) _const_;
OwnerKind owner_kind_from_string(const char *s) _pure_;
const char *isolation_class_to_string(IsolationClass c) _const_;
IsolationClass isolation_class_from_string(const char *s) _pure_;
const char *vm_state_to_string(VmState s) _const_;
VmState vm_state_from_string(const char *s) _pure_;
/* VM states in which vCPUs may run and devices may interrupt. */
bool vm_state_is_active(VmState s) _const_;

/*
 * IMSIC geometry as the kernel reports it (RVMSI_A_HOST_*): counts only, no
 * addresses. nr_harts counts all groups together and must be a multiple of
 * nr_groups; hart h is (group h / harts_per_group, hart h % harts_per_group).
 */
typedef struct Geometry {
        uint32_t nr_groups;
        uint32_t nr_harts;
        uint32_t nr_guest_files;        /* GEILEN, 0..63 */
        uint32_t nr_ids;
} Geometry;

#define GEOMETRY_MAX_HARTS 65536U
#define GEOMETRY_MAX_GUEST_FILES 63U

int geometry_validate(const Geometry *g);
static inline uint32_t geometry_harts_per_group(const Geometry *g) {
        return g->nr_groups ? g->nr_harts / g->nr_groups : 0;
}

/*
 * A target is the interrupt file a device's vector aims at, in the device's
 * own address space: for a VM-owned device behind an IOMMU that can deliver
 * into guest files (CAP_GUEST_FILE, i.e. irqbypass), the virtual interrupt
 * file of one of the VM's vCPUs; for every other device (VM-owned ones
 * included, whose MSIs then take the host path programmed by VFIO) the
 * S-level file of a host hart, from the IRQ's effective affinity. One MSI
 * table entry serves every vector aimed at the same target, so decisions are
 * per (device, target). Encoded in 32 bits: bit 31 set = vCPU.
 */
#define TARGET_VCPU_FLAG UINT32_C(0x80000000)
#define TARGET_HART(h) ((uint32_t) (h))
#define TARGET_VCPU(v) ((uint32_t) (v) | TARGET_VCPU_FLAG)
#define TARGET_IS_VCPU(t) (((t) & TARGET_VCPU_FLAG) != 0)
#define TARGET_INDEX(t) ((t) & ~TARGET_VCPU_FLAG)
#define NO_HART UINT32_MAX

/*
 * One MSI table entry as desired by the solver or as read back from a
 * backend. 24 bytes; this is the per-(device, file) cost of the daemon.
 */
typedef struct Entry {
        uint32_t target;        /* TARGET_HART() or TARGET_VCPU() */
        uint32_t hart;          /* HOST_FILE / GUEST_FILE: hart of the file written to; else NO_HART */
        uint8_t kind;           /* EntryKind */
        uint8_t guest;          /* GUEST_FILE: guest file 1..63; else 0 */
        uint8_t reason;         /* ReasonCode (solver.h), desired entries only */
        uint8_t flags;          /* ENTRY_FLAG_* */
        uint32_t refcount;      /* vectors aimed at this target */
        uint64_t notices;       /* MRIF notices (actual entries only) */
} Entry;

#define ENTRY_FLAG_VIOLATION 0x01       /* the class's requirement could not be met: see reason */

/*
 * Same destination (kind, hart, guest)? refcount/reason/notices are not compared. Inline: the reconciler and the
 * solver compare every entry of every device an event touches.
 */
static inline bool entry_same_destination(const Entry *a, const Entry *b) {
        return a->target == b->target && a->kind == b->kind && a->hart == b->hart && a->guest == b->guest;
}

typedef struct Hart {
        uint32_t index;         /* global index, group-major */
        uint32_t group;
        uint32_t hart;          /* index within the group */
        int32_t cpu;            /* Linux CPU owning the hart, -1 if none online */
        uint64_t reserved_files;/* bit g set: guest file g is held by someone rvmsid does not manage */
        /* vCPUs currently placed here (maintained by model_vcpu_place()) */
        struct VcpuRef *residents;
        uint32_t n_residents;
        size_t n_residents_allocated;
} Hart;

typedef struct VcpuRef {
        struct Vm *vm;
        uint32_t vcpu;
} VcpuRef;

typedef struct Vcpu {
        uint32_t hart;          /* hart it runs on / is placed on, NO_HART if none */
        uint32_t pinned_hart;   /* the one hart its pinning allows, NO_HART if none or several */
        uint8_t guest_file;     /* guest file it holds on .hart right now (actual), 0 = none */
        /* The host CPUs it may run on, as registered (vcpupin cpuset), sorted; none: floats everywhere. */
        uint32_t *pin_cpus;
        uint32_t n_pin_cpus;
} Vcpu;

typedef struct Device Device;

typedef struct Vm {
        char uuid[UUID_STRING_MAX];     /* canonical, lowercase */
        uint64_t uuid_hash;             /* vm_uuid_hash(uuid): the solver's tiebreak starts from it */
        char *name;
        VmState state;
        IsolationClass klass;   /* requested at registration, _CLASS_INVALID = policy default */
        int32_t priority;       /* guest-file priority, higher first */
        bool priority_set;      /* false: policy default */
        uint32_t nr_vcpus;
        Vcpu *vcpus;
        /* devices whose owner is this VM, sorted by name (maintained by the model) */
        Device **devices;
        size_t n_devices, n_devices_allocated;
} Vm;

#define DEVICE_NAME_MAX 64      /* same as the kernel backend's KMSG_NAME_MAX */
#define VM_MAX_VCPUS 4096U
#define DEVICE_MAX_VECTORS 2048U

typedef struct Vector {
        uint32_t hart;          /* effective affinity (one hart on IMSIC), NO_HART if none */
        uint32_t vcpu;          /* VM-owned devices: vCPU the vector is bypassed to, NO_HART if not routed */
} Vector;

struct Device {
        char name[DEVICE_NAME_MAX];     /* kernel device name, e.g. "0000:00:03.0" */
        uint64_t name_key;              /* pos_hint_key_string(name): the hint lookups of an event need it */
        OwnerKind owner;
        char owner_vm[UUID_STRING_MAX]; /* OWNER_VM: the VM's UUID, else "" */
        char *owner_label;              /* OWNER_USERSPACE: free-form label (may be NULL) */
        Vm *vm;                         /* resolved OWNER_VM owner, NULL if not registered */
        uint64_t caps;                  /* CAP_* of the IOMMU in front of it */
        bool locked;                    /* isolation lock: only MRIF and blocked entries */
        uint32_t nr_vectors;
        Vector *vectors;
};

typedef struct Model {
        Geometry geometry;
        Hart *harts;            /* [geometry.nr_harts] */
        Vm **vms;               /* sorted by uuid */
        size_t n_vms, n_vms_allocated;
        Device **devices;       /* sorted by name */
        size_t n_devices, n_devices_allocated;
        uint64_t generation;    /* bumped on every change */
        PosHint device_hint;    /* where model_find_device() last found each name (a cache) */
        PosHint vm_hint;        /* where model_find_vm() last found each UUID (a cache) */
} Model;

/* FNV-1a over a VM's UUID string, kept in Vm.uuid_hash. */
uint64_t vm_uuid_hash(const char *uuid);

int model_new(const Geometry *g, Model **ret);
Model *model_free(Model *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Model *, model_free);
/* Deep copy (for what-if planning). */
int model_copy(const Model *m, Model **ret);

/* The CPU that owns a hart (-1: none online); another hart that had this CPU loses it (to -1). */
int model_set_hart_cpu(Model *m, uint32_t hart, int32_t cpu);
/* -ENOENT if no hart has that CPU. */
int model_hart_by_cpu(const Model *m, int32_t cpu, uint32_t *ret_hart);
int model_set_hart_reserved(Model *m, uint32_t hart, uint64_t reserved_files);

/* Validation of names used as keys; return 0 or -EINVAL. */
int device_name_validate(const char *name);
int vm_name_validate(const char *name);

/* VMs. uuid is normalized; -EEXIST if registered, -EINVAL on a bad argument. */
int model_add_vm(Model *m, const char *uuid, const char *name, uint32_t nr_vcpus, Vm **ret);
/* Copy what the solver and the policy read of a VM besides its vCPUs (state, class, priority) from src. */
void vm_copy_attributes(Vm *dst, const Vm *src);
int model_remove_vm(Model *m, const char *uuid);        /* owned devices keep their owner, unresolved */
Vm *model_find_vm(const Model *m, const char *uuid);    /* accepts any case */
Vm *model_find_vm_by_name(const Model *m, const char *name);
int model_vm_set_state(Model *m, Vm *vm, VmState state);
int model_vm_set_class(Model *m, Vm *vm, IsolationClass klass);        /* _CLASS_INVALID: default */
int model_vm_set_priority(Model *m, Vm *vm, bool set, int32_t priority);
/* Place vCPU on hart (NO_HART: not resident). Drops the guest file it held unless hart is unchanged. */
int model_vcpu_place(Model *m, Vm *vm, uint32_t vcpu, uint32_t hart);
/* Pin a vCPU to one hart (NO_HART: unpin): the set of that hart's CPU. */
int model_vcpu_pin(Model *m, Vm *vm, uint32_t vcpu, uint32_t hart);
/*
 * Pin a vCPU to a set of host CPUs (n = 0: not pinned). Every CPU must be the
 * CPU of a hart (-EINVAL otherwise, nothing changed); duplicates are refused.
 * Keeps the set sorted; pinned_hart becomes the hart when the set allows
 * exactly one, else NO_HART.
 */
int model_vcpu_set_pin_cpus(Model *m, Vm *vm, uint32_t vcpu, const uint32_t *cpus, uint32_t n);
/*
 * Where to plan a pinned vCPU (docs/solver.md, "Pinning"): its current hart if
 * the pinning allows it, else the hart of the lowest CPU of the set. NO_HART
 * for a vCPU that is not pinned.
 */
uint32_t model_vcpu_pin_plan_hart(const Model *m, const Vm *vm, uint32_t vcpu);
/* Record the guest file the vCPU holds (0: none), as the backend reports it. */
int model_vcpu_set_guest_file(Model *m, Vm *vm, uint32_t vcpu, uint8_t guest_file);

/* Devices. */
int model_add_device(Model *m, const char *name, uint64_t caps, Device **ret);
int model_remove_device(Model *m, const char *name);
Device *model_find_device(const Model *m, const char *name);
/* owner_key: VM UUID for OWNER_VM, optional label for OWNER_USERSPACE, NULL otherwise. */
int model_device_set_owner(Model *m, Device *d, OwnerKind owner, const char *owner_key);
int model_device_set_locked(Model *m, Device *d, bool locked);
int model_device_set_caps(Model *m, Device *d, uint64_t caps);
/* Replace all vectors; harts and vCPUs are checked against the geometry / owner VM. */
int model_device_set_vectors(Model *m, Device *d, uint32_t n, const Vector *vectors);
/* Move one vector's effective affinity. */
int model_device_set_affinity(Model *m, Device *d, uint32_t vector, uint32_t hart);

/*
 * The distinct targets of a device's vectors, sorted, with the number of
 * vectors per target: VM-owned devices with CAP_GUEST_FILE target vCPUs
 * (unrouted vectors are skipped), all others target the hart of each vector's
 * affinity (see device_targets_vcpus()). *ret is
 * allocated (may be NULL with 0 targets). ret_hart_of_target[i] (optional) is
 * the affinity hart of the lowest-numbered vector of target i, i.e. where the
 * host path of that target goes.
 */
static inline bool device_targets_vcpus(const Device *d) {
        return d->owner == OWNER_VM && (d->caps & CAP_GUEST_FILE);
}
int device_targets(const Device *d, uint32_t **ret_targets, uint32_t **ret_counts,
                   uint32_t **ret_hart_of_target, uint32_t *ret_n);

/*
 * The same without allocating: fills buf (room for d->nr_vectors) in target
 * order and returns the number of targets. hart: as ret_hart_of_target above.
 */
typedef struct DeviceTarget {
        uint32_t target;
        uint32_t count;
        uint32_t hart;
} DeviceTarget;
uint32_t device_targets_fill(const Device *d, DeviceTarget *buf);

/* {"geometry":..., "harts":[...], "vms":[...], "devices":[...]} */
int model_to_json(const Model *m, json_object **ret);
