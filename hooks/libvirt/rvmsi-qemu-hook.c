/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rvmsi libvirt qemu hook, installed as /etc/libvirt/hooks/qemu.d/rvmsi.
 * libvirtd runs it as "rvmsi GUEST OP SUBOP EXTRA" with the domain XML on
 * standard input, synchronously, and waits: so it never calls back into
 * libvirt (that deadlocks), makes a handful of D-Bus calls with a short
 * timeout, and exits.
 *
 * What each operation does (docs/operations.md has the full table):
 *   prepare, start      register the VM (vCPUs, pinning, class, priority from
 *                       <metadata>) and its PCI hostdevs, then VMEvent
 *                       prepare/start: MSI tables are decided and applied
 *                       before QEMU runs. The only failure that stops the VM
 *                       is IsolationUnsatisfiable (or anything, with strict=yes).
 *   migrate             (destination host, before the incoming QEMU starts)
 *                       register and VMEvent migrate-in-prepare: everything is
 *                       in place before the guest runs here; prints no XML.
 *   started             VMEvent started; on the destination of a migration it
 *                       completes it (migrate-done). Repairs a missing
 *                       registration with reconnect. Never fails.
 *   reconnect, attach   libvirtd restarted, or attached to a running QEMU:
 *                       register again and VMEvent reconnect. Never fails:
 *                       libvirt kills the guest when this hook fails.
 *   stopped             VMEvent stopped: guest files released, devices blocked.
 *                       (On a migration source this is where the VM leaves.)
 *   release             VMEvent release (or UnregisterVM when the VM is still
 *                       active): the VM is forgotten, its devices get owner none.
 *   restore             the XML is checked only; prepare and start follow.
 *   anything else       nothing, exit 0: libvirt adds operations over time.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-journal.h>

#include "bus-names.h"
#include "domain-xml.h"
#include "hook-conf.h"
#include "macro.h"

#define MAX_XML (16u * 1024 * 1024)

typedef enum Op {
        OP_PREPARE,
        OP_START,
        OP_STARTED,
        OP_STOPPED,
        OP_RELEASE,
        OP_MIGRATE,
        OP_RESTORE,
        OP_RECONNECT,
        OP_ATTACH,
        _OP_MAX,
} Op;

static const struct {
        const char *name;
        /* Does a non-zero exit stop something that has not started yet? Only
         * then may the hook fail; elsewhere libvirt either ignores the status
         * (stopped, release) or kills a running guest (started, reconnect, attach). */
        bool can_fail;
} op_table[_OP_MAX] = {
        [OP_PREPARE]   = { "prepare",   true  },
        [OP_START]     = { "start",     true  },
        [OP_STARTED]   = { "started",   false },
        [OP_STOPPED]   = { "stopped",   false },
        [OP_RELEASE]   = { "release",   false },
        [OP_MIGRATE]   = { "migrate",   true  },
        [OP_RESTORE]   = { "restore",   true  },
        [OP_RECONNECT] = { "reconnect", false },
        [OP_ATTACH]    = { "attach",    false },
};

typedef enum ErrKind {
        ERR_UNREACHABLE,        /* no bus, nobody owns the name, no answer */
        ERR_UNSATISFIABLE,      /* the VM's isolation class cannot be met */
        ERR_NO_SUCH_VM,
        ERR_INVALID_TRANSITION,
        ERR_EXISTS,
        ERR_OTHER,
} ErrKind;

typedef struct Hook {
        HookConfig conf;
        const char *guest;
        Op op;
        sd_bus *bus;
        DomainInfo *dom;
} Hook;

_printf_(4, 0)
static void hook_logv(Hook *h, int priority, bool to_stderr, const char *fmt, va_list ap) {
        char msg[2048];

        vsnprintf(msg, sizeof(msg), fmt, ap);
        if (to_stderr)
                fprintf(stderr, "rvmsi: %s\n", msg);
        if (h->conf.journal)
                (void) sd_journal_send("MESSAGE=rvmsi hook: %s", msg,
                                       "PRIORITY=%i", priority,
                                       "SYSLOG_IDENTIFIER=rvmsi-qemu-hook",
                                       "RVMSI_VM=%s", strempty(h->guest),
                                       "RVMSI_VM_UUID=%s", h->dom ? h->dom->uuid : "",
                                       "RVMSI_HOOK_OP=%s", h->op < _OP_MAX ? op_table[h->op].name : "",
                                       NULL);
}

_printf_(2, 3)
static void hook_warn(Hook *h, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        hook_logv(h, LOG_WARNING, h->conf.verbose, fmt, ap);
        va_end(ap);
}

_printf_(2, 3)
static void hook_info(Hook *h, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        hook_logv(h, LOG_INFO, h->conf.verbose, fmt, ap);
        va_end(ap);
}

/* The one line libvirt shows the user, then the exit status that fails the operation. */
_printf_(2, 3)
static int hook_fail(Hook *h, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        hook_logv(h, LOG_ERR, true, fmt, ap);
        va_end(ap);
        return EXIT_FAILURE;
}

static ErrKind classify(const sd_bus_error *e, int r) {
        if (sd_bus_error_has_name(e, RVMSI_BUS_ERROR_ISOLATION_UNSATISFIABLE))
                return ERR_UNSATISFIABLE;
        if (sd_bus_error_has_name(e, RVMSI_BUS_ERROR_NO_SUCH_VM))
                return ERR_NO_SUCH_VM;
        if (sd_bus_error_has_name(e, RVMSI_BUS_ERROR_INVALID_TRANSITION))
                return ERR_INVALID_TRANSITION;
        if (sd_bus_error_has_name(e, RVMSI_BUS_ERROR_EXISTS))
                return ERR_EXISTS;
        if (sd_bus_error_is_set(e) && strneq(e->name, RVMSI_BUS_ERROR_PREFIX, strlen(RVMSI_BUS_ERROR_PREFIX)))
                return ERR_OTHER;
        if (sd_bus_error_has_names(e, "org.freedesktop.DBus.Error.ServiceUnknown",
                                   "org.freedesktop.DBus.Error.NameHasNoOwner",
                                   "org.freedesktop.DBus.Error.NoReply",
                                   "org.freedesktop.DBus.Error.Timeout",
                                   "org.freedesktop.DBus.Error.TimedOut",
                                   "org.freedesktop.DBus.Error.Disconnected",
                                   "org.freedesktop.DBus.Error.NoServer"))
                return ERR_UNREACHABLE;
        if (sd_bus_error_is_set(e) && (strneq(e->name, "org.freedesktop.DBus.Error.Spawn.", 33) ||
                                       strneq(e->name, "org.freedesktop.systemd1.", 25)))
                return ERR_UNREACHABLE;     /* activation of rvmsid.service failed */
        /* Anything else: a local errno (no socket, refused, timed out) that
         * sd-bus turned into an error name, e.g. FileNotFound for ENOENT. */
        {
                int err = sd_bus_error_is_set(e) ? sd_bus_error_get_errno(e) : -r;

                switch (err) {
                case ENOENT:            /* no socket: no bus */
                case ECONNREFUSED:
                case ECONNRESET:
                case ENOTCONN:
                case ETIMEDOUT:
                case EHOSTDOWN:
                        return ERR_UNREACHABLE;
                default:
                        break;
                }
        }
        return ERR_OTHER;
}

static const char *err_text(const sd_bus_error *e, int r, char *buf, size_t n) {
        if (sd_bus_error_is_set(e))
                snprintf(buf, n, "%s: %s", e->name, strempty(e->message));
        else
                snprintf(buf, n, "%s", strerror(-r));
        return buf;
}

static int hook_connect(Hook *h, sd_bus_error *error) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (h->bus)
                return 0;
        if (streq(h->conf.bus, "system"))
                r = sd_bus_open_system(&bus);
        else {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, h->conf.bus);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        }
        if (r >= 0)
                r = sd_bus_set_method_call_timeout(bus, h->conf.timeout_usec);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        h->bus = TAKE_PTR(bus);
        return 0;
}

static int call(Hook *h, const char *member, sd_bus_error *error, sd_bus_message **reply, const char *types, ...) {
        va_list ap;
        int r;

        r = hook_connect(h, error);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = sd_bus_call_methodv(h->bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, member, error,
                                reply, types, ap);
        va_end(ap);
        return r;
}

/* Is the VM registered, and where is its object? */
static int vm_lookup(Hook *h, sd_bus_error *error, bool *ret_exists, char **ret_path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *uuid, *name, *path;
        int r;

        r = call(h, "ListVMs", error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sso)");
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        while ((r = sd_bus_message_read(reply, "(sso)", &uuid, &name, &path)) > 0)
                if (streq(uuid, h->dom->uuid)) {
                        *ret_exists = true;
                        if (ret_path) {
                                *ret_path = strdup(path);
                                if (!*ret_path)
                                        return sd_bus_error_set_errno(error, -ENOMEM);
                        }
                        return 0;
                }
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        *ret_exists = false;
        return 0;
}

static int vm_state(Hook *h, const char *path, sd_bus_error *error, char **ret) {
        return sd_bus_get_property_string(h->bus, RVMSI_BUS_NAME, path, RVMSI_BUS_IFACE_VM, "State", error, ret);
}

/*
 * RegisterVM, then AttachDevice for each PCI hostdev. A device that rvmsid
 * thinks belongs to another VM (Exists) is a stale model, not a reason to
 * stop this VM: warn and go on. Returns the path of the VM object.
 */
static int vm_register(Hook *h, sd_bus_error *error, char **ret_path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const DomainInfo *d = h->dom;
        const char *path;
        int r;

        r = hook_connect(h, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(h->bus, &m, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER,
                                           "RegisterVM");
        if (r >= 0)
                r = sd_bus_message_append(m, "ssu", d->name, d->uuid, d->vcpus);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(uau)");
        for (size_t i = 0; r >= 0 && i < d->n_pins; i++) {
                r = sd_bus_message_open_container(m, 'r', "uau");
                if (r >= 0)
                        r = sd_bus_message_append(m, "u", d->pins[i].vcpu);
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'u', d->pins[i].cpus, d->pins[i].n_cpus * sizeof(uint32_t));
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "si", d->klass, d->priority);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        r = sd_bus_call(h->bus, m, 0, error, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        if (ret_path) {
                *ret_path = strdup(path);
                if (!*ret_path)
                        return sd_bus_error_set_errno(error, -ENOMEM);
        }

        for (size_t i = 0; i < d->n_hostdevs; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                char buf[512];

                r = call(h, "AttachDevice", &e, NULL, "sss", d->hostdevs[i].pci, RVMSI_OWNER_VM, d->uuid);
                if (r >= 0)
                        continue;
                if (classify(&e, r) == ERR_EXISTS) {
                        hook_warn(h, "device %s: %s; continuing", d->hostdevs[i].pci, err_text(&e, r, buf, sizeof(buf)));
                        continue;
                }
                sd_bus_error_move(error, &e);
                return r;
        }
        return 0;
}

/* Undo a registration this run made, so a refused start leaves rvmsid as it was. */
static void vm_rollback(Hook *h, bool existed) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        char buf[512];
        int r;

        if (existed)
                return;
        r = call(h, "UnregisterVM", &e, NULL, "s", h->dom->uuid);
        if (r < 0)
                hook_warn(h, "could not undo the registration: %s", err_text(&e, r, buf, sizeof(buf)));
}

/* An error on an operation that may fail: decide, say it once, return the exit status. */
static int failed(Hook *h, const char *what, const sd_bus_error *e, int r, bool registered_here) {
        ErrKind k = classify(e, r);
        char buf[1024];

        if (k == ERR_UNSATISFIABLE) {
                vm_rollback(h, !registered_here);
                return hook_fail(h, "VM '%s' not started: its isolation class '%s' cannot be met: %s", h->dom->name,
                                 isempty(h->dom->klass) ? "(policy default)" : h->dom->klass,
                                 strempty(e->message));
        }
        if (op_table[h->op].can_fail && h->conf.strict) {
                vm_rollback(h, !registered_here);
                return hook_fail(h, "VM '%s' not started: %s failed (%s) and hook.conf has strict=yes", h->dom->name,
                                 what, err_text(e, r, buf, sizeof(buf)));
        }
        if (k == ERR_UNREACHABLE)
                hook_warn(h, "rvmsid is not reachable (%s): VM '%s' %s without MSI isolation management",
                          err_text(e, r, buf, sizeof(buf)), h->dom->name,
                          op_table[h->op].can_fail ? "starts" : "continues");
        else
                hook_warn(h, "%s for VM '%s' failed: %s", what, h->dom->name, err_text(e, r, buf, sizeof(buf)));
        return EXIT_SUCCESS;
}

/* prepare, start, migrate: everything decided and applied before the guest runs. */
static int op_activate(Hook *h, const char *event) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *state = NULL;
        bool existed = false;
        int r;

        r = vm_lookup(h, &e, &existed, NULL);
        if (r < 0)
                return failed(h, "ListVMs", &e, r, false);
        r = vm_register(h, &e, &path);
        if (r < 0)
                return failed(h, "registering", &e, r, !existed);

        /* On a migration destination, prepare and start follow migrate: the VM is
         * already migrating-in with everything applied; started completes it. */
        if (!streq(event, RVMSI_VM_EVENT_MIGRATE_IN_PREPARE)) {
                r = vm_state(h, path, &e, &state);
                if (r < 0)
                        return failed(h, "reading the VM state", &e, r, !existed);
                if (streq(state, RVMSI_VM_STATE_MIGRATING_IN)) {
                        hook_info(h, "VM '%s' is migrating in; '%s' has nothing to add", h->dom->name, event);
                        return EXIT_SUCCESS;
                }
        }

        r = call(h, "VMEvent", &e, NULL, "ss", h->dom->uuid, event);
        if (r < 0)
                return failed(h, event, &e, r, !existed);
        hook_info(h, "VM '%s': registered with %zu PCI device(s), '%s' applied", h->dom->name, h->dom->n_hostdevs,
                  event);
        return EXIT_SUCCESS;
}

/* reconnect and attach (and started, when rvmsid lost the VM): the guest runs. */
static int op_reconnect(Hook *h) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = vm_register(h, &e, NULL);
        if (r >= 0)
                r = call(h, "VMEvent", &e, NULL, "ss", h->dom->uuid, RVMSI_VM_EVENT_RECONNECT);
        if (r < 0) {
                if (classify(&e, r) != ERR_UNSATISFIABLE)
                        return failed(h, "reconnect", &e, r, false);
                /* The guest already runs; killing it would not help anyone. */
                hook_warn(h, "VM '%s' runs, but its isolation class cannot be met: %s", h->dom->name,
                          strempty(e.message));
                return EXIT_SUCCESS;
        }
        hook_info(h, "VM '%s': registration renewed after %s", h->dom->name, op_table[h->op].name);
        return EXIT_SUCCESS;
}

static int op_started(Hook *h) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *state = NULL;
        bool exists;
        int r;

        r = call(h, "VMEvent", &e, NULL, "ss", h->dom->uuid, RVMSI_VM_EVENT_STARTED);
        if (r >= 0)
                return EXIT_SUCCESS;
        switch (classify(&e, r)) {
        case ERR_NO_SUCH_VM:
                break;
        case ERR_INVALID_TRANSITION:
                sd_bus_error_free(&e);
                r = vm_lookup(h, &e, &exists, &path);
                if (r >= 0 && exists)
                        r = vm_state(h, path, &e, &state);
                if (r < 0)
                        return failed(h, "reading the VM state", &e, r, false);
                if (exists && streq(state, RVMSI_VM_STATE_MIGRATING_IN)) {
                        r = call(h, "VMEvent", &e, NULL, "ss", h->dom->uuid, RVMSI_VM_EVENT_MIGRATE_DONE);
                        if (r < 0)
                                return failed(h, RVMSI_VM_EVENT_MIGRATE_DONE, &e, r, false);
                        hook_info(h, "VM '%s': incoming migration complete", h->dom->name);
                        return EXIT_SUCCESS;
                }
                break;
        default:
                return failed(h, RVMSI_VM_EVENT_STARTED, &e, r, false);
        }
        /* rvmsid did not see this VM start (restarted in between, or the hook
         * was installed while it ran): register it as a running VM. */
        hook_warn(h, "rvmsid did not know VM '%s' as starting; registering it as running", h->dom->name);
        return op_reconnect(h);
}

static int op_stopped(Hook *h) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = call(h, "VMEvent", &e, NULL, "ss", h->dom->uuid, RVMSI_VM_EVENT_STOPPED);
        if (r < 0) {
                ErrKind k = classify(&e, r);

                /* Not registered, or not active: nothing of it is left to release. */
                if (k == ERR_NO_SUCH_VM || k == ERR_INVALID_TRANSITION)
                        return EXIT_SUCCESS;
                return failed(h, RVMSI_VM_EVENT_STOPPED, &e, r, false);
        }
        return EXIT_SUCCESS;
}

static int op_release(Hook *h) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = call(h, "VMEvent", &e, NULL, "ss", h->dom->uuid, RVMSI_VM_EVENT_RELEASE);
        if (r >= 0)
                return EXIT_SUCCESS;
        switch (classify(&e, r)) {
        case ERR_NO_SUCH_VM:
                return EXIT_SUCCESS;
        case ERR_INVALID_TRANSITION:
                /* Still active in rvmsid's eyes (the stopped hook was missed):
                 * libvirt has released everything, so forget the VM anyway. */
                sd_bus_error_free(&e);
                r = call(h, "UnregisterVM", &e, NULL, "s", h->dom->uuid);
                if (r < 0 && classify(&e, r) != ERR_NO_SUCH_VM)
                        return failed(h, "UnregisterVM", &e, r, false);
                return EXIT_SUCCESS;
        default:
                return failed(h, RVMSI_VM_EVENT_RELEASE, &e, r, false);
        }
}

static void hook_done(Hook *h) {
        h->bus = sd_bus_flush_close_unref(h->bus);
        h->dom = domain_info_free(h->dom);
}

static int read_stdin(char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, size = 0;

        for (;;) {
                ssize_t k;

                if (n + 1 >= size) {
                        char *b;

                        if (size >= MAX_XML + 1)
                                return -EFBIG;
                        size = size ? MIN(size * 2, (size_t) MAX_XML + 1) : 65536;
                        b = realloc(buf, size);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                }
                k = read(STDIN_FILENO, buf + n, size - n - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *xml = NULL;
        char errbuf[1024];
        _cleanup_(hook_done) Hook h = { .op = _OP_MAX };
        size_t len = 0;
        int r, ret;

        if (argc < 3) {
                fprintf(stderr, "usage: %s GUEST OPERATION [SUBOPERATION [EXTRA]] < DOMAIN-XML\n"
                        "The rvmsi libvirt qemu hook; libvirtd runs it. See docs/operations.md.\n",
                        program_invocation_short_name);
                return 2;
        }
        h.guest = argv[1];
        for (Op o = 0; o < _OP_MAX; o++)
                if (streq(argv[2], op_table[o].name))
                        h.op = o;

        /* Read all of stdin whatever the operation, so libvirtd never writes into
         * a closed pipe. */
        r = read_stdin(&xml, &len);
        if (h.op == _OP_MAX)
                return EXIT_SUCCESS;    /* an operation this hook does not know: not ours */

        if (hook_config_load(&h.conf, errbuf, sizeof(errbuf)) < 0) {
                /* hook_config_load() left the defaults in place */
                if (op_table[h.op].can_fail)
                        return hook_fail(&h, "invalid hook configuration: %s", errbuf);
                hook_warn(&h, "invalid hook configuration, using the defaults: %s", errbuf);
        }

        if (r < 0)
                return op_table[h.op].can_fail || h.op == OP_STOPPED || h.op == OP_RELEASE ?
                        hook_fail(&h, "domain '%s': cannot read the domain XML: %s", h.guest, strerror(-r)) :
                        EXIT_SUCCESS;
        r = domain_parse(xml, len, &h.dom, errbuf, sizeof(errbuf));
        if (r == -ENOMEM)
                return hook_fail(&h, "out of memory");
        if (r < 0) {
                /* Nothing was sent to rvmsid. Where failing would kill a running
                 * guest (started, reconnect, attach) the error is logged and the
                 * status stays 0; libvirt ignores it for stopped and release. */
                ret = hook_fail(&h, "domain '%s': cannot use the domain XML: %s", h.guest, errbuf);
                if (op_table[h.op].can_fail || h.op == OP_STOPPED || h.op == OP_RELEASE)
                        return ret;
                return EXIT_SUCCESS;
        }
        if (!streq(h.dom->name, h.guest)) {
                ret = hook_fail(&h, "domain XML is for '%s', but the hook was called for '%s'", h.dom->name,
                                h.guest);
                /* same rule as for bad XML: never kill a running guest over it */
                if (op_table[h.op].can_fail || h.op == OP_STOPPED || h.op == OP_RELEASE)
                        return ret;
                return EXIT_SUCCESS;
        }

        switch (h.op) {
        case OP_PREPARE:
                ret = op_activate(&h, RVMSI_VM_EVENT_PREPARE);
                break;
        case OP_START:
                ret = op_activate(&h, RVMSI_VM_EVENT_START);
                break;
        case OP_MIGRATE:
                ret = op_activate(&h, RVMSI_VM_EVENT_MIGRATE_IN_PREPARE);
                break;
        case OP_STARTED:
                ret = op_started(&h);
                break;
        case OP_RECONNECT:
        case OP_ATTACH:
                ret = op_reconnect(&h);
                break;
        case OP_STOPPED:
                ret = op_stopped(&h);
                break;
        case OP_RELEASE:
                ret = op_release(&h);
                break;
        case OP_RESTORE:
        default:
                ret = EXIT_SUCCESS;
                break;
        }

        return ret;
}
