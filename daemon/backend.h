/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One interface for the places MSI tables live: the kernel (iommufd ioctls
 * and the "rvmsi" generic netlink family, backend-kernel.c) and the in-process
 * simulation (backend-sim.c). A backend is a const ops vtable plus a small
 * base struct; implementations keep their private state in ->data.
 *
 * Semantics follow include/uapi/linux/rvmsi.h: the daemon sets a device-level
 * mode (the kernel computes every entry from the device's IRQs and their
 * affinity, revoking before granting), and reads entries back per device.
 * Guest-file operations (BACKEND_FEATURE_GUEST_FILES) stand for the KVM /
 * irqbypass side: which guest file a vCPU holds. Backends without that
 * feature never receive those operations.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "solver.h"

typedef struct Backend Backend;

typedef enum OpType {
        OP_SET_MODE,            /* device, mode, fallback */
        OP_VCPU_RELEASE,        /* vm, vcpu: drop the guest file the vCPU holds */
        OP_VCPU_ASSIGN,         /* vm, vcpu, hart, guest: give it that guest file */
        _OP_TYPE_MAX,
        _OP_TYPE_INVALID = -EINVAL,
} OpType;

const char *op_type_to_string(OpType t) _const_;

typedef struct Op {
        OpType type;
        bool revoke;                    /* in the revoke phase: removes reachability only */
        char device[DEVICE_NAME_MAX];   /* OP_SET_MODE */
        DeliveryMode mode;
        EntryKind fallback;
        char vm[UUID_STRING_MAX];       /* OP_VCPU_* */
        uint32_t vcpu;
        uint32_t hart;
        uint8_t guest;
} Op;

typedef enum BackendEventType {
        BACKEND_EVENT_ENTRY_CHANGED,    /* device's entries changed (reason: enum rvmsi_change_reason) */
        BACKEND_EVENT_VCPU_CHANGED,     /* a vCPU's guest file changed (sim / KVM side) */
        BACKEND_EVENT_FAULT,            /* an MSI fault record */
        BACKEND_EVENT_OVERFLOW,         /* events were lost: the daemon must resync in full */
        _BACKEND_EVENT_TYPE_MAX,
} BackendEventType;

typedef struct BackendEvent {
        BackendEventType type;
        char device[DEVICE_NAME_MAX];   /* ENTRY_CHANGED, FAULT ("" if no device matched) */
        uint32_t reason;                /* ENTRY_CHANGED: enum rvmsi_change_reason */
        char vm[UUID_STRING_MAX];       /* VCPU_CHANGED */
        uint32_t vcpu;
        uint32_t hart;
        uint8_t guest;
        uint32_t cause;                 /* FAULT: enum rvmsi_fault_cause */
        uint64_t addr;                  /* FAULT: address written */
        bool has_file;                  /* FAULT: group/hart/guest name a file */
        uint32_t group;
        uint32_t file_hart;
        uint32_t file_guest;
        uint32_t suppressed;
} BackendEvent;

typedef void (*backend_event_handler_t)(Backend *b, const BackendEvent *ev, void *userdata);

#define BACKEND_FEATURE_GUEST_FILES (1U << 0)   /* OP_VCPU_* supported, dump reports vCPU grants */

/* What a backend reads back. */
typedef struct Actual {
        Geometry geometry;
        DeviceTable devices;
        VmGrants *vms;                  /* sorted by uuid; only with BACKEND_FEATURE_GUEST_FILES */
        size_t n_vms;
} Actual;

Actual *actual_free(Actual *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(Actual *, actual_free);
int actual_new(Actual **ret);
/* Insert g into a->vms, keeping them sorted by uuid; replaces a VM of the same uuid. Takes g's vcpus, also on
 * failure (-ENOMEM: freed). */
int actual_put_vm(Actual *a, VmGrants *g);
int actual_to_json(const Actual *a, json_object **ret);

typedef struct BackendOps {
        const char *name;               /* "kernel", "sim" */
        unsigned features;              /* BACKEND_FEATURE_* */
        /* Set up b->data. args is backend-specific (may be NULL). */
        int (*open)(Backend *b, const char *args);
        void (*close)(Backend *b);
        int (*get_geometry)(Backend *b, Geometry *ret);
        /* Full state of every device (and vCPU grants if supported). */
        int (*dump)(Backend *b, Actual **ret);
        /* One device; -ENODEV if unknown. Optional (NULL: callers use dump). */
        int (*dump_device)(Backend *b, const char *name, DeviceState *ret);
        /* Apply one operation; a failed operation changes nothing. */
        int (*apply)(Backend *b, const Op *op);
        /*
         * Event delivery. A backend with a file descriptor (the kernel's
         * netlink socket) returns it from get_event_fd() for sd_event_add_io();
         * the loop calls process_events() when it is readable, which calls the
         * handler for each event. Backends that generate events synchronously
         * (sim) return -EOPNOTSUPP and call the handler from within apply()
         * or their own API. Both optional.
         */
        int (*get_event_fd)(Backend *b);
        int (*process_events)(Backend *b);
        /* The guest files one VM's vCPUs hold; -ENOENT if unknown. Optional (GUEST_FILES only). */
        int (*dump_vm)(Backend *b, const char *uuid, VmGrants *ret);
        /*
         * Several devices and VMs in one go: each named device into ret->devices (device_table_put()), each named
         * VM's grants into ret->vms (actual_put_vm(); vms is NULL without GUEST_FILES); unknown ones are left out.
         * Optional (NULL: callers ask dump_device() and dump_vm() one after the other). An event reads back a
         * handful of objects: a backend that looks them up together lets each lookup's waits overlap the others'.
         */
        int (*dump_subset)(Backend *b, char *const *devices, char *const *vms, Actual *ret);
} BackendOps;

struct Backend {
        const BackendOps *ops;
        void *data;
        backend_event_handler_t handler;
        void *handler_userdata;
};

/* Allocate and open. */
int backend_new(const BackendOps *ops, const char *args, Backend **ret);
Backend *backend_free(Backend *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(Backend *, backend_free);
static inline const char *backend_name(const Backend *b) {
        return b->ops->name;
}
static inline bool backend_has_feature(const Backend *b, unsigned f) {
        return (b->ops->features & f) == f;
}
void backend_set_handler(Backend *b, backend_event_handler_t handler, void *userdata);
/* For implementations: deliver an event to the handler, if any. */
void backend_emit(Backend *b, const BackendEvent *ev);

int backend_get_geometry(Backend *b, Geometry *ret);
int backend_dump(Backend *b, Actual **ret);
int backend_apply(Backend *b, const Op *op);
