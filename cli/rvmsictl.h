/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsictl: shared declarations of the verbs (ctl-*.c) and the helpers in
 * ctl-util.c. Every verb returns an exit status (enum below, documented in
 * rvmsictl(1)), never a negative errno: the verb is where a failure is turned
 * into words for the operator, once.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "macro.h"

/* Exit statuses, stable: scripts test them. Keep in sync with rvmsictl(1). */
enum {
        CTL_EXIT_OK = 0,
        CTL_EXIT_DAEMON_ERROR = 1,      /* rvmsid refused or failed the request */
        CTL_EXIT_USAGE = 2,             /* bad command line or unreadable input file */
        CTL_EXIT_UNREACHABLE = 3,       /* no bus, or rvmsid is not running / not answering */
        CTL_EXIT_PERMISSION = 4,        /* the request needs root (NotPermitted, AccessDenied) */
};

typedef struct Ctl {
        const char *bus_arg;            /* system, user or an address */
        sd_bus *bus;                    /* opened lazily by ctl_bus() */
        bool json;
        bool legend;
        bool follow;
        uint64_t timeout_usec;
} Ctl;

typedef struct Verb {
        const char *name;
        unsigned min_args, max_args;    /* after the verb itself */
        int (*run)(Ctl *c, int argc, char **argv);
        const char *usage;              /* arguments, for --help */
        const char *help;               /* one line */
} Verb;

/* ctl-util.c */
int ctl_bus(Ctl *c, sd_bus **ret);
int ctl_call(Ctl *c, const char *member, sd_bus_message **ret_reply, const char *types, ...);
int ctl_report_bus_error(const sd_bus_error *error, int r, const char *what);
int ctl_usage_error(const char *fmt, ...) _printf_(1, 2);
/*
 * The Describe() document, or only the named sections of it (NULL: all), read
 * with DescribeSelected() in pages so that a host of any size can be read
 * (Describe() itself with an rvmsid that has no DescribeSelected()).
 * ret_text: the document as rvmsid writes it.
 */
int ctl_describe(Ctl *c, char *const *sections, json_object **ret, char **ret_text);
/* One device (kind "devices", PCI address) or VM ("vms", UUID or name): *ret is its object, or NULL if
 * rvmsid has none by that name. Other failures are reported, and returned as an exit status. */
int ctl_describe_one(Ctl *c, const char *kind, const char *name, json_object **ret);
int ctl_read_input(const char *path, char **ret);
int ctl_parse_json(const char *what, const char *text, json_object **ret);
void ctl_print_json(json_object *o);
const char *ctl_json_str(json_object *o, const char *key);
int64_t ctl_json_int(json_object *o, const char *key, int64_t def);
bool ctl_json_bool(json_object *o, const char *key);
json_object *ctl_json_array(json_object *o, const char *key);
const char *ctl_vm_name(json_object *describe, const char *uuid);
bool ctl_is_pci_address(const char *s);
char *ctl_format_time(uint64_t usec, char *buf, size_t n);

/* A tiny column table: header row, then rows of strings; widths computed at print. */
typedef struct Table Table;
Table *table_new(unsigned n_columns, ...);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);
int table_add_row(Table *t, ...);
int table_add_rowv(Table *t, const char *const *cells);
void table_print(const Table *t, bool legend);

/* verbs */
int verb_status(Ctl *c, int argc, char **argv);
int verb_devices(Ctl *c, int argc, char **argv);
int verb_vms(Ctl *c, int argc, char **argv);
int verb_show(Ctl *c, int argc, char **argv);
int verb_explain(Ctl *c, int argc, char **argv);
int verb_policy(Ctl *c, int argc, char **argv);
int verb_reload(Ctl *c, int argc, char **argv);
int verb_plan(Ctl *c, int argc, char **argv);
int verb_faults(Ctl *c, int argc, char **argv);
int verb_resync(Ctl *c, int argc, char **argv);
int verb_vm(Ctl *c, int argc, char **argv);
int verb_attach(Ctl *c, int argc, char **argv);
int verb_detach(Ctl *c, int argc, char **argv);

/* ctl-plan.c: the human summary of a Desired JSON (CheckPolicy, Plan); vm_names: an
 * array of objects with "uuid" and "name" (Describe's or the scenario's "vms"), or NULL */
void plan_print_desired(json_object *desired, json_object *vm_names);

/* rvmsictl.c: the options of 'vm register', as "name=value" strings */
extern char **arg_vm_opts;
extern size_t arg_n_vm_opts;
