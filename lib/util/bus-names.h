/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every name of the rvmsid D-Bus API, in one place: the daemon, the CLI, the
 * libvirt hook helpers and the tests include this file instead of spelling
 * strings themselves. The API is documented in docs/org.rvmsi.Manager1.md;
 * change both together. Version 1: incompatible changes get a new bus name
 * (org.rvmsi.Manager2), additions do not.
 */
#ifndef RVMSI_BUS_NAMES_H
#define RVMSI_BUS_NAMES_H

#define RVMSI_BUS_NAME                  "org.rvmsi.Manager1"
#define RVMSI_BUS_PATH                  "/org/rvmsi/Manager1"
#define RVMSI_BUS_DEVICE_PREFIX         "/org/rvmsi/Manager1/device"
#define RVMSI_BUS_VM_PREFIX             "/org/rvmsi/Manager1/vm"

#define RVMSI_BUS_IFACE_MANAGER         "org.rvmsi.Manager1.Manager"
#define RVMSI_BUS_IFACE_DEVICE          "org.rvmsi.Manager1.Device"
#define RVMSI_BUS_IFACE_VM              "org.rvmsi.Manager1.VM"

/* Named errors (org.rvmsi.Manager1.Error.*) */
#define RVMSI_BUS_ERROR_PREFIX                   "org.rvmsi.Manager1.Error."
#define RVMSI_BUS_ERROR_NO_SUCH_DEVICE           "org.rvmsi.Manager1.Error.NoSuchDevice"
#define RVMSI_BUS_ERROR_NO_SUCH_VM               "org.rvmsi.Manager1.Error.NoSuchVM"
#define RVMSI_BUS_ERROR_NO_SUCH_TARGET           "org.rvmsi.Manager1.Error.NoSuchTarget"
#define RVMSI_BUS_ERROR_INVALID_ARGUMENT         "org.rvmsi.Manager1.Error.InvalidArgument"
#define RVMSI_BUS_ERROR_EXISTS                   "org.rvmsi.Manager1.Error.Exists"
#define RVMSI_BUS_ERROR_BUSY                     "org.rvmsi.Manager1.Error.Busy"
#define RVMSI_BUS_ERROR_INVALID_TRANSITION       "org.rvmsi.Manager1.Error.InvalidTransition"
#define RVMSI_BUS_ERROR_ISOLATION_UNSATISFIABLE  "org.rvmsi.Manager1.Error.IsolationUnsatisfiable"
#define RVMSI_BUS_ERROR_POLICY_INVALID           "org.rvmsi.Manager1.Error.PolicyInvalid"
#define RVMSI_BUS_ERROR_SCENARIO_INVALID         "org.rvmsi.Manager1.Error.ScenarioInvalid"
#define RVMSI_BUS_ERROR_NOT_PERMITTED            "org.rvmsi.Manager1.Error.NotPermitted"
#define RVMSI_BUS_ERROR_BACKEND_UNAVAILABLE      "org.rvmsi.Manager1.Error.BackendUnavailable"
#define RVMSI_BUS_ERROR_BACKEND_FAILED           "org.rvmsi.Manager1.Error.BackendFailed"
#define RVMSI_BUS_ERROR_NOT_SUPPORTED            "org.rvmsi.Manager1.Error.NotSupported"
#define RVMSI_BUS_ERROR_REPLY_TOO_LARGE          "org.rvmsi.Manager1.Error.ReplyTooLarge"

/* Values of the string enums used in arguments and properties */
#define RVMSI_OWNER_HOST                "host"
#define RVMSI_OWNER_VM                  "vm"
#define RVMSI_OWNER_USERSPACE           "userspace"
#define RVMSI_OWNER_NONE                "none"

#define RVMSI_CLASS_STRICT              "strict"
#define RVMSI_CLASS_BALANCED            "balanced"
#define RVMSI_CLASS_PERFORMANCE         "performance"

#define RVMSI_MODE_GUEST_FILE           "guest-file"
#define RVMSI_MODE_MRIF                 "mrif"
#define RVMSI_MODE_IDENTITY             "identity"
#define RVMSI_MODE_BLOCKED              "blocked"

/* VMEvent() event names, in lifecycle order */
#define RVMSI_VM_EVENT_PREPARE                  "prepare"
#define RVMSI_VM_EVENT_START                    "start"
#define RVMSI_VM_EVENT_STARTED                  "started"
#define RVMSI_VM_EVENT_STOPPED                  "stopped"
#define RVMSI_VM_EVENT_RELEASE                  "release"
#define RVMSI_VM_EVENT_MIGRATE_OUT_BEGIN        "migrate-out-begin"
#define RVMSI_VM_EVENT_MIGRATE_IN_PREPARE       "migrate-in-prepare"
#define RVMSI_VM_EVENT_MIGRATE_DONE             "migrate-done"
#define RVMSI_VM_EVENT_RECONNECT                "reconnect"

/* VM State property values */
#define RVMSI_VM_STATE_DEFINED          "defined"
#define RVMSI_VM_STATE_RUNNING          "running"
#define RVMSI_VM_STATE_PAUSED           "paused"
#define RVMSI_VM_STATE_STOPPED          "stopped"
#define RVMSI_VM_STATE_MIGRATING_OUT    "migrating-out"
#define RVMSI_VM_STATE_MIGRATING_IN     "migrating-in"

#endif
