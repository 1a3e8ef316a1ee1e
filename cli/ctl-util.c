/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsictl helpers: the bus connection, calls with error reporting, the
 * Describe() document, JSON accessors and a column table.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-describe.h"
#include "bus-names.h"
#include "fileio.h"
#include "strv.h"
#include "rvmsictl.h"

int ctl_bus(Ctl *c, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *what;
        int r;

        if (c->bus) {
                *ret = c->bus;
                return 0;
        }

        if (streq(c->bus_arg, "system")) {
                what = "the system bus";
                r = sd_bus_open_system(&bus);
        } else if (streq(c->bus_arg, "user")) {
                what = "the user bus";
                r = sd_bus_open_user(&bus);
        } else {
                what = c->bus_arg;
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, c->bus_arg);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        }
        if (r < 0) {
                fprintf(stderr, "rvmsictl: cannot connect to %s: %s\n", what, strerror(-r));
                fprintf(stderr, "Hint: is the D-Bus daemon running? --bus= selects another bus.\n");
                return r == -EINVAL ? CTL_EXIT_USAGE : CTL_EXIT_UNREACHABLE;
        }
        r = sd_bus_set_method_call_timeout(bus, c->timeout_usec);
        if (r < 0)
                return ctl_report_bus_error(NULL, r, "setting the call timeout");

        c->bus = TAKE_PTR(bus);
        *ret = c->bus;
        return 0;
}

static const struct {
        const char *name;
        int status;
        const char *hint;
} error_table[] = {
        { RVMSI_BUS_ERROR_NO_SUCH_DEVICE, CTL_EXIT_DAEMON_ERROR,
          "'rvmsictl devices' lists the devices rvmsid knows." },
        { RVMSI_BUS_ERROR_NO_SUCH_VM, CTL_EXIT_DAEMON_ERROR,
          "'rvmsictl vms' lists the registered VMs." },
        { RVMSI_BUS_ERROR_NO_SUCH_TARGET, CTL_EXIT_DAEMON_ERROR,
          "'rvmsictl explain DEVICE' lists the targets of a device." },
        { RVMSI_BUS_ERROR_INVALID_ARGUMENT, CTL_EXIT_DAEMON_ERROR,
          "rvmsid refused an argument; rvmsictl(1) describes the accepted forms." },
        { RVMSI_BUS_ERROR_EXISTS, CTL_EXIT_DAEMON_ERROR,
          "the name or device is taken; 'rvmsictl vms' and 'rvmsictl devices' show by whom." },
        { RVMSI_BUS_ERROR_BUSY, CTL_EXIT_DAEMON_ERROR,
          "the VM using it is active; stop the VM first." },
        { RVMSI_BUS_ERROR_INVALID_TRANSITION, CTL_EXIT_DAEMON_ERROR,
          "'rvmsictl show VM' shows the state the VM is in." },
        { RVMSI_BUS_ERROR_ISOLATION_UNSATISFIABLE, CTL_EXIT_DAEMON_ERROR,
          "'rvmsictl explain DEVICE' and 'rvmsictl plan' show which requirement cannot be met." },
        { RVMSI_BUS_ERROR_POLICY_INVALID, CTL_EXIT_DAEMON_ERROR,
          "'rvmsictl policy check FILE' validates a policy without applying it." },
        { RVMSI_BUS_ERROR_SCENARIO_INVALID, CTL_EXIT_DAEMON_ERROR,
          "the scenario format is described in docs/scenario.md." },
        { RVMSI_BUS_ERROR_NOT_PERMITTED, CTL_EXIT_PERMISSION,
          "this request changes rvmsid's state and needs root." },
        { "org.freedesktop.DBus.Error.AccessDenied", CTL_EXIT_PERMISSION,
          "the bus policy (org.rvmsi.Manager1.conf) allows this request to root only." },
        { RVMSI_BUS_ERROR_BACKEND_UNAVAILABLE, CTL_EXIT_DAEMON_ERROR,
          "is the rvmsi kernel part loaded? 'journalctl -u rvmsid' has rvmsid's view." },
        { RVMSI_BUS_ERROR_BACKEND_FAILED, CTL_EXIT_DAEMON_ERROR,
          "'journalctl -u rvmsid' shows the kernel's answer." },
        { RVMSI_BUS_ERROR_REPLY_TOO_LARGE, CTL_EXIT_DAEMON_ERROR,
          "even the smallest page is more than a D-Bus reply may carry; 'rvmsictl explain DEVICE' reads one device's decisions alone." },
        /* Nobody owns the name, or the owner does not answer. */
        { "org.freedesktop.DBus.Error.ServiceUnknown", CTL_EXIT_UNREACHABLE,
          "is rvmsid running? 'systemctl status rvmsid'." },
        { "org.freedesktop.DBus.Error.NameHasNoOwner", CTL_EXIT_UNREACHABLE,
          "is rvmsid running? 'systemctl status rvmsid'." },
        { "org.freedesktop.DBus.Error.NoReply", CTL_EXIT_UNREACHABLE,
          "rvmsid did not answer in time (--timeout=); 'systemctl status rvmsid'." },
        { "org.freedesktop.DBus.Error.Timeout", CTL_EXIT_UNREACHABLE,
          "rvmsid did not answer in time (--timeout=); 'systemctl status rvmsid'." },
        { "org.freedesktop.DBus.Error.TimedOut", CTL_EXIT_UNREACHABLE,
          "rvmsid did not answer in time (--timeout=); 'systemctl status rvmsid'." },
        { "org.freedesktop.DBus.Error.Disconnected", CTL_EXIT_UNREACHABLE,
          "the bus connection was lost." },
        { "org.freedesktop.DBus.Error.UnknownMethod", CTL_EXIT_DAEMON_ERROR,
          "rvmsid is older than this rvmsictl; compare 'rvmsictl --version' and 'rvmsictl status'." },
};

static int errno_status(int error);

int ctl_report_bus_error(const sd_bus_error *error, int r, const char *what) {
        if (error && sd_bus_error_is_set(error)) {
                int status = CTL_EXIT_DAEMON_ERROR;
                const char *hint = NULL;

                for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
                        if (streq(error->name, error_table[i].name)) {
                                status = error_table[i].status;
                                hint = error_table[i].hint;
                                break;
                        }
                if (!hint && strneq(error->name, "org.freedesktop.DBus.Error.Spawn.", 33)) {
                        status = CTL_EXIT_UNREACHABLE;
                        hint = "the bus could not start rvmsid; 'systemctl status rvmsid'.";
                }
                if (!hint && !strneq(error->name, RVMSI_BUS_ERROR_PREFIX, strlen(RVMSI_BUS_ERROR_PREFIX))) {
                        /* sd-bus's name for a local errno (System.Error.ENOTCONN,
                         * …Error.FileNotFound for ENOENT): classify by the errno */
                        fprintf(stderr, "rvmsictl: %s: %s: %s\n", what, error->name, strempty(error->message));
                        return errno_status(sd_bus_error_get_errno(error));
                }
                fprintf(stderr, "rvmsictl: %s: %s: %s\n", what, error->name, strempty(error->message));
                if (hint)
                        fprintf(stderr, "Hint: %s\n", hint);
                return status;
        }

        fprintf(stderr, "rvmsictl: %s: %s\n", what, strerror(r < 0 ? -r : EIO));
        return errno_status(r < 0 ? -r : EIO);
}

static int errno_status(int error) {
        switch (error) {
        case ENOENT:
        case ECONNREFUSED:
        case ECONNRESET:
        case ENOTCONN:
        case ETIMEDOUT:
        case EHOSTDOWN:
                fprintf(stderr, "Hint: is rvmsid running? 'systemctl status rvmsid'.\n");
                return CTL_EXIT_UNREACHABLE;
        case EACCES:
        case EPERM:
                fprintf(stderr, "Hint: this request needs root.\n");
                return CTL_EXIT_PERMISSION;
        default:
                return CTL_EXIT_DAEMON_ERROR;
        }
}

int ctl_usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("rvmsictl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nHint: 'rvmsictl --help' lists the verbs and their arguments.\n", stderr);
        return CTL_EXIT_USAGE;
}

int ctl_call(Ctl *c, const char *member, sd_bus_message **ret_reply, const char *types, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus *bus;
        va_list ap;
        int r;

        r = ctl_bus(c, &bus);
        if (r != 0)
                return r;
        va_start(ap, types);
        r = sd_bus_call_methodv(bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, RVMSI_BUS_IFACE_MANAGER, member, &error,
                                &reply, types, ap);
        va_end(ap);
        if (r < 0)
                return ctl_report_bus_error(&error, r, member);
        if (ret_reply)
                *ret_reply = reply;
        else
                sd_bus_message_unref(reply);
        return 0;
}

/* Describe(): the whole document in one reply, for an rvmsid without DescribeSelected(). */
static int describe_whole(Ctl *c, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        json_tokener *tok;
        json_object *o;
        const char *text;
        int r;

        r = ctl_call(c, "Describe", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return ctl_report_bus_error(NULL, r, "reading the Describe() reply");

        tok = json_tokener_new();
        if (!tok)
                return ctl_report_bus_error(NULL, -ENOMEM, "Describe");
        o = json_tokener_parse_ex(tok, text, (int) strlen(text));
        if (!o || json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object)) {
                json_tokener_free(tok);
                json_object_put(o);
                fprintf(stderr, "rvmsictl: Describe() returned something that is not a JSON object\n");
                return CTL_EXIT_DAEMON_ERROR;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}

/*
 * One DescribeSelected() call. Returns 0 and the document; or a negative
 * errno with the bus error in *error, for the caller to handle or report.
 */
static int describe_page(sd_bus *bus, const DescribeSelection *p, sd_bus_error *error, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *text;
        json_object *o;
        int r;

        r = describe_selected_message(bus, p, &m);
        if (r < 0)
                return r;

        r = sd_bus_call(bus, m, 0, error, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return r;
        o = json_tokener_parse(text);
        if (!o)
                return -EBADMSG;
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

/*
 * rvmsid has no DescribeSelected() (older than rvmsictl), or the bus policy
 * installed does not let us call it (an older org.rvmsi.Manager1.conf):
 * Describe() still works for any host small enough for it.
 */
static bool describe_selected_missing(const sd_bus_error *error) {
        return sd_bus_error_has_name(error, "org.freedesktop.DBus.Error.UnknownMethod") ||
               sd_bus_error_has_name(error, "org.freedesktop.DBus.Error.AccessDenied");
}

/* A member of "page": the "devices" or "vms" object. */
static json_object *page_of(json_object *doc, const char *kind) {
        json_object *page, *o;

        if (!json_object_object_get_ex(doc, "page", &page) || !json_object_object_get_ex(page, kind, &o))
                return NULL;
        return o;
}

/* Where the next page of kind starts; false when this page was the last. */
static bool page_next(json_object *doc, const char *kind, uint32_t *ret) {
        int64_t next = ctl_json_int(page_of(doc, kind), "next_offset", -1);

        if (next < 0 || next > UINT32_MAX)
                return false;
        *ret = (uint32_t) next;
        return true;
}

/* Append the elements of doc's array key to into's (both must have it, or neither). */
static int append_items(json_object *into, json_object *doc, const char *key) {
        json_object *from = ctl_json_array(doc, key), *to = ctl_json_array(into, key);

        if (!from && !to)
                return 0;
        if (!from || !to)
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(from); i++)
                if (json_object_array_add(to, json_object_get(json_object_array_get_idx(from, i))) < 0)
                        return -ENOMEM;
        return 0;
}

/* Pages of this many devices and VMs at first (about 2.5 MB on the largest benchmark host); halved while
 * rvmsid answers ReplyTooLarge. */
#define CTL_DESCRIBE_PAGE 256U
/* Read the pages again once if the host changed while they were read; then take what was read. */
#define CTL_DESCRIBE_TRIES 2

/*
 * The document read in pages: the first page carries every section asked
 * for; the following ones only the arrays that still have more ("vms";
 * "devices" with "unsatisfied", which follows the devices of the page), and
 * their elements are appended to the first page's arrays. The result has
 * Describe()'s shape and, for the same state, Describe()'s content.
 * Returns 0, 1 if rvmsid has no DescribeSelected() (nothing reported), or an
 * exit status after reporting.
 */
static int describe_paged(Ctl *c, char *const *sections, json_object **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        uint32_t device_limit = CTL_DESCRIBE_PAGE, vm_limit = CTL_DESCRIBE_PAGE;
        json_object *root = NULL;
        sd_bus *bus;
        int r;

        r = ctl_bus(c, &bus);
        if (r != 0)
                return r;
        for (unsigned attempt = 1;; attempt++) {
                bool vms_more = false, devices_more = false, restart = false;
                uint32_t device_offset = 0, vm_offset = 0;
                int64_t generation = -1;

                json_object_put(root);
                root = NULL;
                for (;;) {
                        char *later[4] = {};
                        size_t n = 0;
                        DescribeSelection p = {
                                .sections = sections,
                                .device_offset = device_offset,
                                .device_limit = device_limit,
                                .vm_offset = vm_offset,
                                .vm_limit = vm_limit,
                        };
                        json_object *doc = NULL;
                        int64_t g;

                        if (root) {
                                if (vms_more)
                                        later[n++] = (char *) "vms";
                                if (devices_more && ctl_json_array(root, "devices"))
                                        later[n++] = (char *) "devices";
                                if (devices_more && ctl_json_array(root, "unsatisfied"))
                                        later[n++] = (char *) "unsatisfied";
                                p.sections = later;
                        }
                        sd_bus_error_free(&error);
                        r = describe_page(bus, &p, &error, &doc);
                        if (r < 0 && !root && describe_selected_missing(&error)) {
                                json_object_put(root);
                                return 1;
                        }
                        if (r < 0 && sd_bus_error_has_name(&error, RVMSI_BUS_ERROR_REPLY_TOO_LARGE) &&
                            (device_limit > 1 || vm_limit > 1)) {
                                /* smaller pages, from where we are */
                                device_limit = MAX(device_limit / 2, 1U);
                                vm_limit = MAX(vm_limit / 2, 1U);
                                continue;
                        }
                        if (r < 0) {
                                json_object_put(root);
                                if (r == -EBADMSG && !sd_bus_error_is_set(&error)) {
                                        fprintf(stderr, "rvmsictl: DescribeSelected() returned something that is "
                                                "not a JSON object\n");
                                        return CTL_EXIT_DAEMON_ERROR;
                                }
                                return ctl_report_bus_error(&error, r, "DescribeSelected");
                        }

                        g = ctl_json_int(json_object_object_get(doc, "page"), "generation", -1);
                        if (generation >= 0 && g != generation && attempt < CTL_DESCRIBE_TRIES) {
                                json_object_put(doc);
                                restart = true;
                                break;
                        }
                        generation = g;

                        if (!root) {
                                root = doc;
                                vms_more = page_next(doc, "vms", &vm_offset) && ctl_json_array(doc, "vms");
                                devices_more = page_next(doc, "devices", &device_offset) &&
                                               (ctl_json_array(doc, "devices") || ctl_json_array(doc, "unsatisfied"));
                        } else {
                                if (vms_more) {
                                        r = append_items(root, doc, "vms");
                                        vms_more = r >= 0 && page_next(doc, "vms", &vm_offset);
                                }
                                if (r >= 0 && devices_more) {
                                        r = append_items(root, doc, "devices");
                                        if (r >= 0)
                                                r = append_items(root, doc, "unsatisfied");
                                        devices_more = r >= 0 && page_next(doc, "devices", &device_offset);
                                }
                                json_object_put(doc);
                                if (r < 0) {
                                        json_object_put(root);
                                        fprintf(stderr, "rvmsictl: DescribeSelected() returned pages that do not "
                                                "fit together\n");
                                        return CTL_EXIT_DAEMON_ERROR;
                                }
                        }
                        if (!vms_more && !devices_more)
                                break;
                }
                if (!restart)
                        break;
        }

        json_object_object_del(root, "page");
        *ret = root;
        return 0;
}

int ctl_describe(Ctl *c, char *const *sections, json_object **ret, char **ret_text) {
        json_object *o = NULL;
        int r;

        r = describe_paged(c, sections, &o);
        if (r == 1)     /* an rvmsid older than DescribeSelected() */
                r = describe_whole(c, &o);
        if (r != 0)
                return r;
        if (ret_text) {
                /* What rvmsid writes for Describe(): the same flags, and a newline. */
                const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                                  JSON_C_TO_STRING_SPACED |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);

                if (!s || asprintf(ret_text, "%s\n", s) < 0) {
                        json_object_put(o);
                        return ctl_report_bus_error(NULL, -ENOMEM, "Describe");
                }
        }
        *ret = o;
        return 0;
}

int ctl_describe_one(Ctl *c, const char *kind, const char *name, json_object **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *doc = NULL;
        bool device = streq(kind, "devices");
        char *sections[] = { (char *) kind, NULL };
        DescribeSelection p = {
                .sections = sections,
                .device = device ? name : NULL,
                .vm = device ? NULL : name,
        };
        json_object *list;
        sd_bus *bus;
        int r;

        r = ctl_bus(c, &bus);
        if (r != 0)
                return r;
        r = describe_page(bus, &p, &error, &doc);
        if (r < 0 && describe_selected_missing(&error)) {
                char uuid[UUID_STRING_MAX];
                bool by_uuid = !device && uuid_normalize(name, uuid) >= 0;

                /* An older rvmsid: look for it in the whole document. */
                r = describe_whole(c, &doc);
                if (r != 0)
                        return r;
                list = ctl_json_array(doc, kind);
                for (size_t i = 0; list && i < json_object_array_length(list); i++) {
                        json_object *o = json_object_array_get_idx(list, i);

                        if (device ? strcasecmp(strempty(ctl_json_str(o, "pci")), name) == 0 :
                            by_uuid ? streq_ptr(ctl_json_str(o, "uuid"), uuid) :
                            streq_ptr(ctl_json_str(o, "name"), name)) {
                                *ret = json_object_get(o);
                                return 0;
                        }
                }
                *ret = NULL;
                return 0;
        }
        /* No such object, or a name no object can have: either way there is none. */
        if (r < 0 && (sd_bus_error_has_name(&error, device ? RVMSI_BUS_ERROR_NO_SUCH_DEVICE : RVMSI_BUS_ERROR_NO_SUCH_VM) ||
                      sd_bus_error_has_name(&error, RVMSI_BUS_ERROR_INVALID_ARGUMENT))) {
                *ret = NULL;
                return 0;
        }
        if (r < 0) {
                if (r == -EBADMSG && !sd_bus_error_is_set(&error)) {
                        fprintf(stderr, "rvmsictl: DescribeSelected() returned something that is not a JSON object\n");
                        return CTL_EXIT_DAEMON_ERROR;
                }
                return ctl_report_bus_error(&error, r, "DescribeSelected");
        }
        list = ctl_json_array(doc, kind);
        if (!list || json_object_array_length(list) != 1) {
                fprintf(stderr, "rvmsictl: DescribeSelected() did not return the one object asked for\n");
                return CTL_EXIT_DAEMON_ERROR;
        }
        *ret = json_object_get(json_object_array_get_idx(list, 0));
        return 0;
}

int ctl_read_input(const char *path, char **ret) {
        int r;

        if (streq(path, "-")) {
                _cleanup_free_ char *buf = NULL;
                size_t size = 0, n = 0;

                for (;;) {
                        size_t k;

                        if (n + 4096 + 1 > size) {
                                char *b;

                                size = size ? size * 2 : 8192;
                                if (size > 16 * 1024 * 1024)
                                        return ctl_usage_error("standard input is larger than 16 MiB");
                                b = realloc(buf, size);
                                if (!b)
                                        return ctl_usage_error("out of memory");
                                buf = b;
                        }
                        k = fread(buf + n, 1, size - n - 1, stdin);
                        n += k;
                        if (k == 0) {
                                if (ferror(stdin))
                                        return ctl_usage_error("cannot read standard input: %m");
                                break;
                        }
                }
                buf[n] = 0;
                *ret = TAKE_PTR(buf);
                return 0;
        }

        r = read_full_file(path, 16 * 1024 * 1024, ret, NULL);
        if (r < 0)
                return ctl_usage_error("cannot read '%s': %s", path, strerror(-r));
        return 0;
}

void ctl_print_json(json_object *o) {
        /* The same flags rvmsid uses, so passed-through and extracted JSON look alike. */
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
}

const char *ctl_json_str(json_object *o, const char *key) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int64_t ctl_json_int(json_object *o, const char *key, int64_t def) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return def;
        return json_object_get_int64(v);
}

bool ctl_json_bool(json_object *o, const char *key) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
                return false;
        return json_object_get_boolean(v);
}

json_object *ctl_json_array(json_object *o, const char *key) {
        json_object *v;

        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}

const char *ctl_vm_name(json_object *describe, const char *uuid) {
        json_object *vms = ctl_json_array(describe, "vms");

        if (isempty(uuid))
                return NULL;
        for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
                json_object *vm = json_object_array_get_idx(vms, i);

                if (streq_ptr(ctl_json_str(vm, "uuid"), uuid))
                        return ctl_json_str(vm, "name");
        }
        return NULL;
}

bool ctl_is_pci_address(const char *s) {
        /* DDDD:BB:DD.F, the only form rvmsid accepts */
        static const char pattern[] = "xxxx:xx:xx.x";

        if (strlen(s) != sizeof(pattern) - 1)
                return false;
        for (size_t i = 0; pattern[i]; i++)
                if (pattern[i] == 'x' ? !strchr("0123456789abcdefABCDEF", s[i]) : s[i] != pattern[i])
                        return false;
        return true;
}

char *ctl_format_time(uint64_t usec, char *buf, size_t n) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (usec == 0) {
                snprintf(buf, n, "never");
                return buf;
        }
        if (!gmtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                snprintf(buf, n, "%" PRIu64 " µs", usec);
        return buf;
}

/* ---- table ---- */

struct Table {
        unsigned n_columns;
        char **cells;           /* row-major, row 0 is the header */
        size_t n_rows;
};

Table *table_new(unsigned n_columns, ...) {
        _cleanup_(table_freep) Table *t = NULL;
        va_list ap;
        int r = 0;

        t = new0(Table, 1);
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        {
                const char *cells[n_columns];

                va_start(ap, n_columns);
                for (unsigned i = 0; i < n_columns; i++)
                        cells[i] = va_arg(ap, const char *);
                va_end(ap);
                r = table_add_rowv(t, cells);
        }
        if (r < 0)
                return NULL;
        return TAKE_PTR(t);
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->cells);
        return mfree(t);
}

int table_add_rowv(Table *t, const char *const *cells) {
        char **c;

        c = realloc(t->cells, (t->n_rows + 1) * t->n_columns * sizeof(char *));
        if (!c)
                return -ENOMEM;
        t->cells = c;
        for (unsigned i = 0; i < t->n_columns; i++) {
                c[t->n_rows * t->n_columns + i] = strdup(isempty(cells[i]) ? "-" : cells[i]);
                if (!c[t->n_rows * t->n_columns + i]) {
                        for (unsigned j = 0; j < i; j++)
                                free(c[t->n_rows * t->n_columns + j]);
                        return -ENOMEM;
                }
        }
        t->n_rows++;
        return 0;
}

int table_add_row(Table *t, ...) {
        const char *cells[t->n_columns];
        va_list ap;

        va_start(ap, t);
        for (unsigned i = 0; i < t->n_columns; i++)
                cells[i] = va_arg(ap, const char *);
        va_end(ap);
        return table_add_rowv(t, cells);
}

void table_print(const Table *t, bool legend) {
        size_t width[t->n_columns];

        for (unsigned j = 0; j < t->n_columns; j++) {
                width[j] = 0;
                for (size_t i = legend ? 0 : 1; i < t->n_rows; i++)
                        width[j] = MAX(width[j], strlen(t->cells[i * t->n_columns + j]));
        }
        for (size_t i = legend ? 0 : 1; i < t->n_rows; i++) {
                for (unsigned j = 0; j < t->n_columns; j++) {
                        const char *s = t->cells[i * t->n_columns + j];

                        if (j + 1 == t->n_columns)
                                fputs(s, stdout);
                        else
                                printf("%-*s  ", (int) width[j], s);
                }
                putchar('\n');
        }
}

int ctl_parse_json(const char *what, const char *text, json_object **ret) {
        json_tokener *tok = json_tokener_new();
        json_object *o;

        if (!tok)
                return ctl_report_bus_error(NULL, -ENOMEM, what);
        o = json_tokener_parse_ex(tok, text, (int) strlen(text));
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                json_tokener_free(tok);
                json_object_put(o);
                fprintf(stderr, "rvmsictl: %s: not valid JSON\n", what);
                return CTL_EXIT_DAEMON_ERROR;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}
