/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsictl: the operator's command-line client of rvmsid (org.rvmsi.Manager1).
 * Global options, the verb table, dispatch. Each verb lives in ctl-<verb>.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rvmsictl.h"

static const Verb verbs[] = {
        { "status",   0, 0, verb_status,   "",
          "Show the daemon, backend, host geometry and counts" },
        { "devices",  0, 0, verb_devices,  "",
          "List devices with owner, mode and isolation" },
        { "vms",      0, 0, verb_vms,      "",
          "List registered VMs with state, class and guest-file use" },
        { "show",     1, 1, verb_show,     "DEVICE|VM",
          "Show one device (PCI address) or VM (UUID or name) in detail" },
        { "explain",  1, 2, verb_explain,  "DEVICE [TARGET]",
          "Explain, in words, why each target of a device has its mode" },
        { "policy",   1, 2, verb_policy,   "get | set FILE | check FILE",
          "Show, replace or dry-run the policy (FILE may be '-')" },
        { "reload",   0, 0, verb_reload,   "",
          "Re-read the configuration directory (like SIGHUP)" },
        { "plan",     1, 1, verb_plan,     "SCENARIO",
          "What-if: run a scenario file on a private simulator" },
        { "faults",   0, 0, verb_faults,   "[--follow]",
          "Show the audit of blocked MSIs; --follow waits for new ones" },
        { "resync",   0, 0, verb_resync,   "",
          "Dump the backend and converge it to the decision" },
        { "vm",       1, 64, verb_vm,      "register|unregister|event ...",
          "Register a VM started without libvirt, send lifecycle events" },
        { "attach",   2, 3, verb_attach,   "DEVICE OWNER [VM]",
          "Give a device to an owner (host, vm, userspace, none)" },
        { "detach",   1, 1, verb_detach,   "DEVICE",
          "Take a device away from its owner (all entries blocked)" },
};

static void help(void) {
        printf("rvmsictl [OPTIONS...] VERB [ARGS...]\n\n"
               "Query and control rvmsid, the rvmsi MSI isolation and routing daemon.\n\n"
               "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char left[64];

                snprintf(left, sizeof(left), "%s %s", verbs[i].name, verbs[i].usage);
                printf("  %-34s %s\n", left, verbs[i].help);
        }
        printf("\nOptions:\n"
               "  -h --help               Show this help, or VERB --help for one verb\n"
               "     --version            Show the version\n"
               "     --bus=system|user|ADDRESS\n"
               "                          The bus rvmsid is on (default: system)\n"
               "     --json               Machine-readable output (stable; see rvmsictl(1))\n"
               "     --no-legend          Tables without the header line\n"
               "     --timeout=SECONDS    How long to wait for rvmsid (default: 25)\n"
               "  -f --follow             faults: keep printing new faults\n"
               "\nExit status: 0 ok, 1 rvmsid refused or failed, 2 usage, 3 rvmsid not reachable,\n"
               "4 permission denied. See rvmsictl(1).\n");
}

static void verb_help(const Verb *v) {
        printf("rvmsictl [OPTIONS...] %s %s\n\n%s.\n", v->name, v->usage, v->help);
        if (streq(v->name, "vm"))
                printf("\n"
                       "  vm register NAME UUID --vcpus=N [--pin=VCPU:CPULIST]... [--class=CLASS]\n"
                       "              [--priority=N] [--device=DEVICE]... [--start]\n"
                       "      Register (or update) a VM; --device attaches devices to it, --start\n"
                       "      sends the 'start' event afterwards. CPULIST: 1,3-5\n"
                       "  vm unregister UUID|NAME\n"
                       "      Forget the VM; its devices get owner 'none'\n"
                       "  vm event UUID|NAME EVENT\n"
                       "      prepare, start, started, stopped, release, migrate-out-begin,\n"
                       "      migrate-in-prepare, migrate-done, reconnect\n");
        else if (streq(v->name, "policy"))
                printf("\n"
                       "  policy get           The policy in force, normalized (JSON)\n"
                       "  policy set FILE      Replace the policy in force (until the next reload)\n"
                       "  policy check FILE    Validate and show what the policy would decide\n");
        printf("\nSee rvmsictl(1).\n");
}

enum {
        ARG_VERSION = 0x100,
        ARG_BUS,
        ARG_JSON,
        ARG_NO_LEGEND,
        ARG_TIMEOUT,
        /* vm register options, parsed here so they may appear anywhere */
        ARG_VCPUS,
        ARG_PIN,
        ARG_CLASS,
        ARG_PRIORITY,
        ARG_DEVICE,
        ARG_START,
};

/* vm register's options, collected by main() and handed to ctl-vm.c */
char **arg_vm_opts = NULL;
size_t arg_n_vm_opts = 0;

static int push_vm_opt(const char *name, const char *value) {
        char **l, *s;

        if (asprintf(&s, "%s=%s", name, value ?: "") < 0)
                return -ENOMEM;
        l = realloc(arg_vm_opts, (arg_n_vm_opts + 2) * sizeof(char *));
        if (!l) {
                free(s);
                return -ENOMEM;
        }
        arg_vm_opts = l;
        arg_vm_opts[arg_n_vm_opts++] = s;
        arg_vm_opts[arg_n_vm_opts] = NULL;
        return 0;
}

static void free_vm_opts(void) {
        for (size_t i = 0; i < arg_n_vm_opts; i++)
                free(arg_vm_opts[i]);
        arg_vm_opts = mfree(arg_vm_opts);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help",      no_argument,       NULL, 'h'           },
                { "version",   no_argument,       NULL, ARG_VERSION   },
                { "bus",       required_argument, NULL, ARG_BUS       },
                { "json",      no_argument,       NULL, ARG_JSON      },
                { "no-legend", no_argument,       NULL, ARG_NO_LEGEND },
                { "timeout",   required_argument, NULL, ARG_TIMEOUT   },
                { "follow",    no_argument,       NULL, 'f'           },
                { "vcpus",     required_argument, NULL, ARG_VCPUS     },
                { "pin",       required_argument, NULL, ARG_PIN       },
                { "class",     required_argument, NULL, ARG_CLASS     },
                { "priority",  required_argument, NULL, ARG_PRIORITY  },
                { "device",    required_argument, NULL, ARG_DEVICE    },
                { "start",     no_argument,       NULL, ARG_START     },
                {}
        };
        Ctl c = {
                .bus_arg = "system",
                .legend = true,
                .timeout_usec = 25 * 1000000ULL,
        };
        const Verb *verb = NULL;
        bool want_help = false;
        int o, r, n_args;

        /* Options may follow the verb ("rvmsictl faults --follow"). "+" is not
         * used on purpose; "--" ends the options for arguments starting with '-'. */
        opterr = 0;
        while ((o = getopt_long(argc, argv, "hf", options, NULL)) >= 0)
                switch (o) {
                case 'h':
                        want_help = true;
                        break;
                case ARG_VERSION:
                        printf("rvmsictl %s\n", PACKAGE_VERSION);
                        return CTL_EXIT_OK;
                case ARG_BUS:
                        if (isempty(optarg))
                                return ctl_usage_error("--bus= needs a value: system, user or a D-Bus address");
                        c.bus_arg = optarg;
                        break;
                case ARG_JSON:
                        c.json = true;
                        break;
                case ARG_NO_LEGEND:
                        c.legend = false;
                        break;
                case ARG_TIMEOUT: {
                        char *end;
                        double d;

                        errno = 0;
                        d = strtod(optarg, &end);
                        if (errno != 0 || end == optarg || *end || !(d > 0) || d > 3600)
                                return ctl_usage_error("invalid --timeout '%s' (seconds, 0 < t <= 3600)", optarg);
                        c.timeout_usec = (uint64_t) (d * 1e6);
                        break;
                }
                case 'f':
                        c.follow = true;
                        break;
                case ARG_VCPUS:
                case ARG_PIN:
                case ARG_CLASS:
                case ARG_PRIORITY:
                case ARG_DEVICE:
                case ARG_START: {
                        static const char *const names[] = {
                                [ARG_VCPUS - ARG_VCPUS] = "vcpus",
                                [ARG_PIN - ARG_VCPUS] = "pin",
                                [ARG_CLASS - ARG_VCPUS] = "class",
                                [ARG_PRIORITY - ARG_VCPUS] = "priority",
                                [ARG_DEVICE - ARG_VCPUS] = "device",
                                [ARG_START - ARG_VCPUS] = "start",
                        };

                        if (push_vm_opt(names[o - ARG_VCPUS], optarg) < 0)
                                return ctl_usage_error("out of memory");
                        break;
                }
                case '?':
                        if (optopt)
                                return ctl_usage_error("unknown option '-%c'", optopt);
                        return ctl_usage_error("unknown option '%s'", argv[optind - 1]);
                default:
                        return ctl_usage_error("cannot parse the options");
                }

        if (optind >= argc) {
                if (want_help) {
                        help();
                        return CTL_EXIT_OK;
                }
                return ctl_usage_error("no verb given");
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name))
                        verb = &verbs[i];
        if (!verb)
                return ctl_usage_error("unknown verb '%s'", argv[optind]);
        if (want_help) {
                verb_help(verb);
                free_vm_opts();
                return CTL_EXIT_OK;
        }

        n_args = argc - optind - 1;
        if ((unsigned) n_args < verb->min_args || (unsigned) n_args > verb->max_args) {
                free_vm_opts();
                return ctl_usage_error("'%s' takes %s%s", verb->name,
                                       isempty(verb->usage) ? "no arguments" : "arguments: ", verb->usage);
        }
        if (c.follow && !streq(verb->name, "faults")) {
                free_vm_opts();
                return ctl_usage_error("--follow is only for 'faults'");
        }
        if (arg_n_vm_opts > 0 && !(streq(verb->name, "vm") && n_args >= 1 && streq(argv[optind + 1], "register"))) {
                free_vm_opts();
                return ctl_usage_error("--vcpus, --pin, --class, --priority, --device and --start are for "
                                       "'vm register' only");
        }

        r = verb->run(&c, n_args, argv + optind + 1);
        c.bus = sd_bus_flush_close_unref(c.bus);
        free_vm_opts();
        return r;
}
