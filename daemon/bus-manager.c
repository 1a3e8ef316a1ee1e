/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "bus-manager.h"
#include "bus-names.h"
#include "describe.h"
#include "log.h"
#include "policy.h"
#include "strv.h"

static const char *const error_names[_MERR_MAX] = {
        [MERR_NO_SUCH_DEVICE] = RVMSI_BUS_ERROR_NO_SUCH_DEVICE,
        [MERR_NO_SUCH_VM] = RVMSI_BUS_ERROR_NO_SUCH_VM,
        [MERR_NO_SUCH_TARGET] = RVMSI_BUS_ERROR_NO_SUCH_TARGET,
        [MERR_INVALID_ARGUMENT] = RVMSI_BUS_ERROR_INVALID_ARGUMENT,
        [MERR_EXISTS] = RVMSI_BUS_ERROR_EXISTS,
        [MERR_BUSY] = RVMSI_BUS_ERROR_BUSY,
        [MERR_INVALID_TRANSITION] = RVMSI_BUS_ERROR_INVALID_TRANSITION,
        [MERR_ISOLATION_UNSATISFIABLE] = RVMSI_BUS_ERROR_ISOLATION_UNSATISFIABLE,
        [MERR_POLICY_INVALID] = RVMSI_BUS_ERROR_POLICY_INVALID,
        [MERR_SCENARIO_INVALID] = RVMSI_BUS_ERROR_SCENARIO_INVALID,
        [MERR_NOT_PERMITTED] = RVMSI_BUS_ERROR_NOT_PERMITTED,
        [MERR_BACKEND_UNAVAILABLE] = RVMSI_BUS_ERROR_BACKEND_UNAVAILABLE,
        [MERR_BACKEND_FAILED] = RVMSI_BUS_ERROR_BACKEND_FAILED,
        [MERR_NOT_SUPPORTED] = RVMSI_BUS_ERROR_NOT_SUPPORTED,
};

int bus_error_from_manager(sd_bus_error *error, const ManagerError *e, int r) {
        if (e->code > MERR_NONE && e->code < _MERR_MAX && error_names[e->code])
                return sd_bus_error_set(error, error_names[e->code], e->message);
        return r;       /* plain errno: sd-bus maps it to a generic error */
}

int bus_verify_root(sd_bus_message *message, sd_bus_error *error) {
        sd_bus_creds *creds = NULL;
        uid_t uid = (uid_t) -1, euid = (uid_t) -1;
        bool have_uid, have_euid;
        int r;

        /*
         * From dbus-daemon, sd-bus gets the peer's UnixUserID, which the
         * bus took with SO_PEERCRED when the peer connected (its effective
         * UID then); the EUID may come from /proc as well. Every one we get
         * must be 0, and we need at least one.
         */
        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine the caller's credentials: %s", strerror(-r));
        have_uid = sd_bus_creds_get_uid(creds, &uid) >= 0;
        have_euid = sd_bus_creds_get_euid(creds, &euid) >= 0;
        sd_bus_creds_unref(creds);

        if ((!have_uid && !have_euid) || (have_uid && uid != 0) || (have_euid && euid != 0)) {
                log_notice("Refused %s() from %s (uid %d): not root.", sd_bus_message_get_member(message),
                           strempty(sd_bus_message_get_sender(message)),
                           have_euid ? (int) euid : have_uid ? (int) uid : -1);
                sd_bus_error_setf(error, RVMSI_BUS_ERROR_NOT_PERMITTED,
                                  "%s() changes the MSI policy and is for root only",
                                  sd_bus_message_get_member(message));
                return -EPERM;
        }
        return 1;
}

int bus_device_path(const char *name, char **ret) {
        return sd_bus_path_encode(RVMSI_BUS_DEVICE_PREFIX, name, ret);
}

int bus_vm_path(const char *uuid, char **ret) {
        return sd_bus_path_encode(RVMSI_BUS_VM_PREFIX, uuid, ret);
}

/* ---- properties ------------------------------------------------------------------------ */

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_backend(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s", backend_name(m->backend));
}

static int property_get_geometry(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const Geometry *g = &m->model->geometry;

        /* identities per guest file: the model keeps one count for both */
        return sd_bus_message_append(reply, "(uuuuu)", g->nr_groups, g->nr_harts, g->nr_guest_files, g->nr_ids,
                                     g->nr_guest_files > 0 ? g->nr_ids : 0);
}

static int property_get_counts(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const Geometry *g = &m->model->geometry;
        uint32_t v;

        if (streq(property, "NVMs"))
                v = (uint32_t) m->model->n_vms;
        else if (streq(property, "NDevices"))
                v = (uint32_t) m->model->n_devices;
        else if (streq(property, "NGuestFiles"))
                v = g->nr_harts * g->nr_guest_files;
        else if (streq(property, "NGuestFilesFree"))
                v = manager_guest_files_free(m);
        else if (streq(property, "NUnsatisfied"))
                v = (uint32_t) manager_n_unsatisfied(m);
        else if (streq(property, "PolicyVersion"))
                v = POLICY_VERSION;
        else
                return -EINVAL;
        return sd_bus_message_append(reply, "u", v);
}

static int property_get_policy_source(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s", strempty(m->policy_source));
}

static int property_get_u64(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint64_t v;

        if (streq(property, "PolicyGeneration"))
                v = m->policy_generation;
        else if (streq(property, "LastResync"))
                v = m->last_resync;
        else if (streq(property, "FaultCount"))
                v = m->fault_count;
        else
                return -EINVAL;
        return sd_bus_message_append(reply, "t", v);
}

static int property_get_degraded(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "b", m->degraded || m->reload_failed || m->backend_failed ||
                                                 manager_n_unsatisfied(m) > 0);
}

static int property_get_status(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *s = manager_status(m);

        if (!s)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", s);
}

static int property_get_affinity_source(sd_bus *bus, const char *path, const char *interface,
                                        const char *property, sd_bus_message *reply, void *userdata,
                                        sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "s", strempty(affinity_source_to_string(m->affinity)));
}

/* ---- methods --------------------------------------------------------------------------- */

static int method_list_devices(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sso)");
        for (size_t i = 0; r >= 0 && i < m->model->n_devices; i++) {
                const Device *d = m->model->devices[i];
                _cleanup_free_ char *path = NULL;

                r = bus_device_path(d->name, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(sso)", d->name, owner_kind_to_string(d->owner), path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

static int method_list_vms(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ Vm **sorted = NULL;
        sd_bus_message *reply = NULL;
        int r;

        r = manager_vms_by_name(m, &sorted);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sso)");
        for (size_t i = 0; r >= 0 && i < m->model->n_vms; i++) {
                _cleanup_free_ char *path = NULL;

                r = bus_vm_path(sorted[i]->uuid, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(sso)", sorted[i]->uuid, strempty(sorted[i]->name), path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

#define MAX_PINS 1024

static void pins_free(PinSpec *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(p[i].cpus);
        free(p);
}

static int read_pinning(sd_bus_message *message, PinSpec **ret, size_t *ret_n, sd_bus_error *error) {
        PinSpec *pins = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(message, 'a', "(uau)");
        if (r < 0)
                return r;
        for (;;) {
                const uint32_t *cpus;
                size_t size;
                uint32_t vcpu;

                r = sd_bus_message_enter_container(message, 'r', "uau");
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;
                if (n >= MAX_PINS) {
                        r = sd_bus_error_setf(error, RVMSI_BUS_ERROR_INVALID_ARGUMENT,
                                              "pinning: more than %d entries", MAX_PINS);
                        goto fail;
                }
                r = sd_bus_message_read(message, "u", &vcpu);
                if (r < 0)
                        goto fail;
                r = sd_bus_message_read_array(message, 'u', (const void **) &cpus, &size);
                if (r < 0)
                        goto fail;
                if (size / sizeof(uint32_t) > 65536) {
                        r = sd_bus_error_setf(error, RVMSI_BUS_ERROR_INVALID_ARGUMENT,
                                              "pinning: too many CPUs for vCPU %u", vcpu);
                        goto fail;
                }
                r = sd_bus_message_exit_container(message);
                if (r < 0)
                        goto fail;
                {
                        PinSpec *np = realloc(pins, (n + 1) * sizeof(PinSpec));

                        if (!np) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        pins = np;
                }
                pins[n] = (PinSpec) { .vcpu = vcpu, .n_cpus = size / sizeof(uint32_t) };
                if (pins[n].n_cpus > 0) {
                        pins[n].cpus = malloc(size);
                        if (!pins[n].cpus) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        memcpy(pins[n].cpus, cpus, size);
                }
                n++;
        }
        r = sd_bus_message_exit_container(message);
        if (r < 0)
                goto fail;
        *ret = pins;
        *ret_n = n;
        return 0;
fail:
        pins_free(pins, n);
        return r;
}

static int method_register_vm(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name, *uuid, *klass;
        _cleanup_free_ char *path = NULL;
        char canon[UUID_STRING_MAX];
        PinSpec *pins = NULL;
        ManagerError e = {};
        uint32_t vcpus;
        int32_t priority;
        size_t n_pins = 0;
        int r;

        r = sd_bus_message_read(message, "ssu", &name, &uuid, &vcpus);
        if (r < 0)
                return r;
        r = read_pinning(message, &pins, &n_pins, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "si", &klass, &priority);
        if (r < 0)
                goto finish;

        r = manager_register_vm(m, false, name, uuid, vcpus, pins, n_pins, klass, priority, &e);
        if (r < 0) {
                r = bus_error_from_manager(error, &e, r);
                goto finish;
        }
        r = bus_verify_root(message, error);
        if (r < 0)
                goto finish;
        r = manager_register_vm(m, true, name, uuid, vcpus, pins, n_pins, klass, priority, &e);
        if (r < 0) {
                r = bus_error_from_manager(error, &e, r);
                goto finish;
        }
        (void) uuid_normalize(uuid, canon);
        r = bus_vm_path(canon, &path);
        if (r >= 0)
                r = sd_bus_reply_method_return(message, "o", path);
finish:
        pins_free(pins, n_pins);
        return r;
}

/* The common shape of the simple mutating methods: validate, check the
 * caller, apply, reply. */
#define MUTATING_METHOD(call)                                                       \
        do {                                                                            \
                ManagerError e = {};                                                    \
                bool apply = false;                                                     \
                int _r;                                                                 \
                for (int pass = 0; pass < 2; pass++, apply = true) {                    \
                        _r = (call);                                                    \
                        if (_r < 0)                                                     \
                                return bus_error_from_manager(error, &e, _r);           \
                        if (pass == 0) {                                                \
                                _r = bus_verify_root(message, error);                   \
                                if (_r < 0)                                             \
                                        return _r;                                      \
                        }                                                               \
                }                                                                       \
                return sd_bus_reply_method_return(message, NULL);                       \
        } while (0)

static int method_unregister_vm(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *uuid;
        int r;

        r = sd_bus_message_read(message, "s", &uuid);
        if (r < 0)
                return r;
        MUTATING_METHOD(manager_unregister_vm(m, apply, uuid, &e));
}

static int method_vm_event(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *uuid, *event;
        int r;

        r = sd_bus_message_read(message, "ss", &uuid, &event);
        if (r < 0)
                return r;
        MUTATING_METHOD(manager_vm_event(m, apply, uuid, event, &e));
}

static int method_attach_device(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *pci, *owner, *vm;
        int r;

        r = sd_bus_message_read(message, "sss", &pci, &owner, &vm);
        if (r < 0)
                return r;
        MUTATING_METHOD(manager_attach_device(m, apply, pci, owner, vm, &e));
}

static int method_detach_device(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *pci;
        int r;

        r = sd_bus_message_read(message, "s", &pci);
        if (r < 0)
                return r;
        MUTATING_METHOD(manager_detach_device(m, apply, pci, &e));
}

static int method_simulate_msi(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *pci, *outcome = NULL;
        uint32_t group, hart, guest, identity, cause = 0;
        ManagerError e = {};
        int r;

        r = sd_bus_message_read(message, "suuuu", &pci, &group, &hart, &guest, &identity);
        if (r < 0)
                return r;
        /* Validate, authorize, act: like the mutating methods, with a reply. */
        r = manager_simulate_msi(m, false, pci, group, hart, guest, identity, &outcome, &cause, &e);
        if (r < 0)
                return bus_error_from_manager(error, &e, r);
        r = bus_verify_root(message, error);
        if (r < 0)
                return r;
        r = manager_simulate_msi(m, true, pci, group, hart, guest, identity, &outcome, &cause, &e);
        if (r < 0)
                return bus_error_from_manager(error, &e, r);
        return sd_bus_reply_method_return(message, "su", outcome, cause);
}

static int method_set_policy(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *json;
        int r;

        r = sd_bus_message_read(message, "s", &json);
        if (r < 0)
                return r;
        MUTATING_METHOD(manager_set_policy(m, apply, json, &e));
}

static int method_reload(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ManagerError e = {};
        int r;

        /* No arguments to validate; the file is read only once. */
        r = bus_verify_root(message, error);
        if (r < 0)
                return r;
        r = manager_reload(m, &e);
        if (r < 0)
                return bus_error_from_manager(error, &e, r);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_resync(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ManagerError e = {};
        int r;

        r = bus_verify_root(message, error);
        if (r < 0)
                return r;
        r = manager_resync(m, &e);
        if (r < 0)
                return bus_error_from_manager(error, &e, r);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_get_policy(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *json = NULL;
        int r;

        r = manager_get_policy(m, &json);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "s", json);
}

static int method_check_policy(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *out = NULL;
        ManagerError e = {};
        const char *json;
        int r;

        r = sd_bus_message_read(message, "s", &json);
        if (r < 0)
                return r;
        r = manager_check_policy(m, json, &out, &e);
        if (r < 0)
                return bus_error_from_manager(error, &e, r);
        return sd_bus_reply_method_return(message, "s", out);
}

static int method_plan(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *out = NULL;
        ManagerError e = {};
        const char *json;
        int r;

        r = sd_bus_message_read(message, "s", &json);
        if (r < 0)
                return r;
        r = manager_plan(m, json, &out, &e);
        if (r < 0)
                return bus_error_from_manager(error, &e, r);
        return sd_bus_reply_method_return(message, "s", out);
}

static size_t describe_max(const Manager *m) {
        return m->config.describe_max > 0 ? m->config.describe_max : MANAGER_DESCRIBE_MAX;
}

static int method_describe(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *json = NULL;
        size_t max = describe_max(m), n;
        int r;

        r = manager_describe(m, &json);
        if (r < 0)
                return r;
        n = strlen(json);
        if (n > max)
                return sd_bus_error_setf(error, RVMSI_BUS_ERROR_REPLY_TOO_LARGE,
                                         "The description of this host is %zu bytes, more than the %zu a reply "
                                         "may carry; read it in pages with DescribeSelected() (device_limit, "
                                         "vm_limit), or per object (ListDevices, ListVMs, their properties and "
                                         "Explain).", n, max);
        return sd_bus_reply_method_return(message, "s", json);
}

static void describe_selection_done(DescribeSelection *sel) {
        strv_free(sel->sections);
        strv_free(sel->devices);
        strv_free(sel->vms);
}

/* The options of DescribeSelected(): key, the one variant type it takes. */
static const struct {
        const char *key;
        const char *type;
} describe_options[] = {
        { "sections",      "as" },
        { "devices",       "as" },
        { "vms",           "as" },
        { "device_offset", "u"  },
        { "device_limit",  "u"  },
        { "vm_offset",     "u"  },
        { "vm_limit",      "u"  },
};

/*
 * Read a{sv} into sel. Every key must be known, given once, with its type:
 * an option this daemon does not know is refused rather than ignored, so a
 * client never takes a page it did not ask for for the one it meant.
 */
static int read_describe_options(sd_bus_message *message, DescribeSelection *sel, sd_bus_error *error) {
        bool seen[ELEMENTSOF(describe_options)] = {};
        int r;

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const char *key, *contents;
                size_t k;
                char type;

                r = sd_bus_message_enter_container(message, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(message, "s", &key);
                if (r < 0)
                        return r;
                for (k = 0; k < ELEMENTSOF(describe_options); k++)
                        if (streq(key, describe_options[k].key))
                                break;
                if (k >= ELEMENTSOF(describe_options))
                        return sd_bus_error_setf(error, RVMSI_BUS_ERROR_INVALID_ARGUMENT,
                                                 "unknown option '%s' (sections, devices, vms, device_offset, "
                                                 "device_limit, vm_offset, vm_limit)", key);
                if (seen[k])
                        return sd_bus_error_setf(error, RVMSI_BUS_ERROR_INVALID_ARGUMENT,
                                                 "option '%s' given more than once", key);
                seen[k] = true;
                r = sd_bus_message_peek_type(message, &type, &contents);
                if (r < 0)
                        return r;
                if (type != 'v' || !streq_ptr(contents, describe_options[k].type))
                        return sd_bus_error_setf(error, RVMSI_BUS_ERROR_INVALID_ARGUMENT,
                                                 "option '%s' must be of type '%s', not '%s'", key,
                                                 describe_options[k].type, strempty(contents));
                r = sd_bus_message_enter_container(message, 'v', describe_options[k].type);
                if (r < 0)
                        return r;
                if (streq(key, "sections")) {
                        r = sd_bus_message_read_strv(message, &sel->sections);
                        sel->sections_set = true;
                } else if (streq(key, "devices")) {
                        r = sd_bus_message_read_strv(message, &sel->devices);
                        sel->devices_set = true;
                } else if (streq(key, "vms")) {
                        r = sd_bus_message_read_strv(message, &sel->vms);
                        sel->vms_set = true;
                } else if (streq(key, "device_offset"))
                        r = sd_bus_message_read(message, "u", &sel->device_offset);
                else if (streq(key, "device_limit")) {
                        r = sd_bus_message_read(message, "u", &sel->device_limit);
                        sel->device_limit_set = true;
                } else if (streq(key, "vm_offset"))
                        r = sd_bus_message_read(message, "u", &sel->vm_offset);
                else {
                        r = sd_bus_message_read(message, "u", &sel->vm_limit);
                        sel->vm_limit_set = true;
                }
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(message);     /* v */
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(message);     /* e */
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(message);
}

static int method_describe_selected(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(describe_selection_done) DescribeSelection sel = {};
        _cleanup_free_ char *json = NULL;
        size_t max = describe_max(m), n;
        ManagerError e = {};
        int r;

        r = read_describe_options(message, &sel, error);
        if (r < 0)
                return r;
        r = manager_describe_selected(m, &sel, &json, &e);
        if (r < 0)
                return bus_error_from_manager(error, &e, r);
        n = strlen(json);
        if (n > max)
                return sd_bus_error_setf(error, RVMSI_BUS_ERROR_REPLY_TOO_LARGE,
                                         "This selection of the description is %zu bytes, more than the %zu a "
                                         "reply may carry; ask for fewer objects per call (a lower "
                                         "'device_limit' or 'vm_limit').", n, max);
        return sd_bus_reply_method_return(message, "s", json);
}

static int method_explain(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        sd_bus_message *reply = NULL;
        const char *pci, *target;
        Explanation *x = NULL;
        ManagerError e = {};
        size_t n = 0;
        int r;

        r = sd_bus_message_read(message, "ss", &pci, &target);
        if (r < 0)
                return r;
        r = manager_explain(m, pci, target, &x, &n, &e);
        if (r < 0)
                return bus_error_from_manager(error, &e, r);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssss)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(ssss)", x[i].target, strempty(x[i].mode), strempty(x[i].code),
                                          strempty(x[i].text));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        explanations_free(x, n);
        return r;
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Backend", "s", property_get_backend, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Geometry", "(uuuuu)", property_get_geometry, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NVMs", "u", property_get_counts, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NDevices", "u", property_get_counts, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NGuestFiles", "u", property_get_counts, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NGuestFilesFree", "u", property_get_counts, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NUnsatisfied", "u", property_get_counts, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PolicyVersion", "u", property_get_counts, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PolicySource", "s", property_get_policy_source, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PolicyGeneration", "t", property_get_u64, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Degraded", "b", property_get_degraded, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Status", "s", property_get_status, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AffinitySource", "s", property_get_affinity_source, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LastResync", "t", property_get_u64, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("FaultCount", "t", property_get_u64, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),

        SD_BUS_METHOD_WITH_ARGS("ListDevices", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sso)", devices),
                                method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListVMs", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sso)", vms),
                                method_list_vms, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RegisterVM",
                                SD_BUS_ARGS("s", name, "s", uuid, "u", vcpus, "a(uau)", pinning, "s", class,
                                            "i", priority),
                                SD_BUS_RESULT("o", vm), method_register_vm, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UnregisterVM", SD_BUS_ARGS("s", uuid), SD_BUS_NO_RESULT, method_unregister_vm,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("VMEvent", SD_BUS_ARGS("s", uuid, "s", event), SD_BUS_NO_RESULT, method_vm_event,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AttachDevice", SD_BUS_ARGS("s", pci, "s", owner, "s", vm_uuid), SD_BUS_NO_RESULT,
                                method_attach_device, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachDevice", SD_BUS_ARGS("s", pci), SD_BUS_NO_RESULT, method_detach_device,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetPolicy", SD_BUS_ARGS("s", policy_json), SD_BUS_NO_RESULT, method_set_policy,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetPolicy", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", policy_json), method_get_policy,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckPolicy", SD_BUS_ARGS("s", policy_json), SD_BUS_RESULT("s", plan_json),
                                method_check_policy, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Plan", SD_BUS_ARGS("s", scenario_json), SD_BUS_RESULT("s", result_json),
                                method_plan, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Resync", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_resync,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SimulateMSI",
                                SD_BUS_ARGS("s", pci, "u", group, "u", hart, "u", guest, "u", identity),
                                SD_BUS_RESULT("s", outcome, "u", cause), method_simulate_msi,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Describe", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", json), method_describe,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DescribeSelected", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("s", json),
                                method_describe_selected, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Explain", SD_BUS_ARGS("s", pci, "s", target), SD_BUS_RESULT("a(ssss)", decisions),
                                method_explain, SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_SIGNAL_WITH_ARGS("Changed", SD_BUS_ARGS("s", kind, "s", id, "s", what), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Fault",
                                SD_BUS_ARGS("s", pci, "u", cause, "t", address, "s", target, "t", time), 0),
        SD_BUS_VTABLE_END,
};

int bus_manager_add_objects(Manager *m) {
        int r;

        r = sd_bus_add_object_vtable(m->bus, NULL, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the manager object: %m");
        r = sd_bus_add_fallback_vtable(m->bus, NULL, RVMSI_BUS_DEVICE_PREFIX, RVMSI_BUS_IFACE_DEVICE,
                                       bus_device_vtable, bus_device_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the device objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, RVMSI_BUS_DEVICE_PREFIX, bus_device_enumerate, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the device enumerator: %m");
        r = sd_bus_add_fallback_vtable(m->bus, NULL, RVMSI_BUS_VM_PREFIX, RVMSI_BUS_IFACE_VM, bus_vm_vtable,
                                       bus_vm_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the VM objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, RVMSI_BUS_VM_PREFIX, bus_vm_enumerate, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the VM enumerator: %m");
        return 0;
}

/* ---- signals --------------------------------------------------------------------------- */

void bus_emit_manager_changed(Manager *m) {
        if (!m->bus)
                return;
        (void) sd_bus_emit_properties_changed(m->bus, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Geometry", "NVMs",
                                              "NDevices", "NGuestFilesFree", "NUnsatisfied", "PolicySource",
                                              "PolicyGeneration", "Degraded", "Status", "LastResync", "FaultCount",
                                              NULL);
}

void bus_emit_changed(Manager *m, const char *kind, const char *id, const char *what) {
        if (!m->bus)
                return;
        (void) sd_bus_emit_signal(m->bus, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Changed", "sss", kind, id, what);
}

void bus_emit_device_changed(Manager *m, const char *name, const char *what) {
        _cleanup_free_ char *path = NULL;

        if (!m->bus)
                return;
        (void) sd_bus_emit_signal(m->bus, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Changed", "sss", "device", name,
                                  what);
        if (!streq(what, "removed") && bus_device_path(name, &path) >= 0)
                (void) sd_bus_emit_properties_changed(m->bus, path, RVMSI_BUS_IFACE_DEVICE, "Owner", "VM", "Mode",
                                                      "Reason", "Targets", "Applied", "ApplyState", "ApplyError",
                                                      "Isolation", "Vectors", "Faults", NULL);
}

void bus_emit_device_apply_changed(Manager *m, const char *name) {
        _cleanup_free_ char *path = NULL;

        if (!m->bus || bus_device_path(name, &path) < 0)
                return;
        (void) sd_bus_emit_properties_changed(m->bus, path, RVMSI_BUS_IFACE_DEVICE, "Applied", "ApplyState",
                                              "ApplyError", NULL);
}

void bus_emit_vm_changed(Manager *m, const char *uuid, const char *what) {
        _cleanup_free_ char *path = NULL;

        if (!m->bus)
                return;
        (void) sd_bus_emit_signal(m->bus, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Changed", "sss", "vm", uuid,
                                  what);
        if (!streq(what, "removed") && bus_vm_path(uuid, &path) >= 0)
                (void) sd_bus_emit_properties_changed(m->bus, path, RVMSI_BUS_IFACE_VM, "Name", "VCPUs", "Pinning",
                                                      "Class", "Priority", "State", "Devices", "GuestFiles",
                                                      "MRIFTargets", "Unsatisfied", NULL);
}

void bus_emit_fault(Manager *m, const FaultRecord *f) {
        if (!m->bus)
                return;
        (void) sd_bus_emit_signal(m->bus, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, "Fault", "sutst", f->device,
                                  f->cause, f->addr, f->target, f->time);
}
