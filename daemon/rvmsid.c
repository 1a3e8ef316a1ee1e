/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsid: the rvmsi policy daemon. Arguments, then Manager (manager.c) does
 * everything: open the backend, build the model, load policy and state,
 * converge, take the bus name, notify readiness, run until SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "config.h"

#include "backend-sim.h"
#include "log.h"
#include "manager.h"
#include "policy-json.h"

static void help(void) {
        printf("rvmsid [OPTIONS...]\n\n"
               "The rvmsi policy daemon: MSI isolation and routing for RISC-V virtualization hosts.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --backend=kernel|sim\n"
               "                         Where MSI tables live (default: kernel). 'sim' is the\n"
               "                         in-process simulator; rvmsid never falls back to it\n"
               "     --scenario=FILE     sim only: set up the simulated host from a scenario file\n"
               "     --sim-geometry=ARGS sim only, without --scenario: \"groups=G,harts=H,guests=N,ids=I\"\n"
               "     --sim-persist=FILE  sim only: keep the simulated host in FILE across restarts\n"
               "                         (test feature, docs/crash.md)\n"
               "     --config=DIR        Configuration directory (default: %s)\n"
               "     --state=DIR         State directory (default: %s); \"\" keeps no state\n"
               "     --bus=system|user|ADDRESS\n"
               "                         Bus to serve org.rvmsi.Manager1 on (default: system)\n"
               "     --affinity=auto|events|poll\n"
               "                         kernel only: follow IRQ affinity through kernel events\n"
               "                         or by polling /proc/irq (default: auto = events)\n"
               "\nSee rvmsid(8) and docs/org.rvmsi.Manager1.md.\n",
               RVMSI_CONFDIR, RVMSI_STATEDIR);
}

enum {
        ARG_VERSION = 0x100,
        ARG_BACKEND,
        ARG_SCENARIO,
        ARG_SIM_GEOMETRY,
        ARG_CONFIG,
        ARG_STATE,
        ARG_BUS,
        ARG_AFFINITY,
        ARG_SIM_PERSIST,
        ARG_DESCRIBE_MAX,
};

static const char *arg_sim_persist;

static int parse_argv(int argc, char *argv[], ManagerConfig *c) {
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h'              },
                { "version",      no_argument,       NULL, ARG_VERSION      },
                { "backend",      required_argument, NULL, ARG_BACKEND      },
                { "scenario",     required_argument, NULL, ARG_SCENARIO     },
                { "sim-geometry", required_argument, NULL, ARG_SIM_GEOMETRY },
                { "config",       required_argument, NULL, ARG_CONFIG       },
                { "state",        required_argument, NULL, ARG_STATE        },
                { "bus",          required_argument, NULL, ARG_BUS          },
                { "affinity",     required_argument, NULL, ARG_AFFINITY     },
                { "sim-persist",  required_argument, NULL, ARG_SIM_PERSIST  },
                /* a testing knob, not in --help: rvmsid(8) */
                { "describe-max", required_argument, NULL, ARG_DESCRIBE_MAX },
                {}
        };
        int o;

        while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (o) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("rvmsid %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_BACKEND:
                        if (streq(optarg, "kernel"))
                                c->backend = BACKEND_KIND_KERNEL;
                        else if (streq(optarg, "sim"))
                                c->backend = BACKEND_KIND_SIM;
                        else
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "Unknown backend '%s' (kernel or sim).", optarg);
                        break;
                case ARG_SCENARIO:
                        c->scenario = optarg;
                        break;
                case ARG_SIM_GEOMETRY:
                        c->sim_geometry = optarg;
                        break;
                case ARG_CONFIG:
                        c->config_dir = optarg;
                        break;
                case ARG_STATE:
                        c->state_dir = optarg;
                        break;
                case ARG_BUS:
                        if (isempty(optarg))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--bus= needs a value.");
                        c->bus = optarg;
                        break;
                case ARG_AFFINITY:
                        if (streq(optarg, "auto"))
                                c->affinity = _AFFINITY_SOURCE_INVALID;
                        else if (streq(optarg, "events"))
                                c->affinity = AFFINITY_SOURCE_KERNEL_EVENTS;
                        else if (streq(optarg, "poll"))
                                c->affinity = AFFINITY_SOURCE_PROC_POLL;
                        else
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "Unknown affinity source '%s' (auto, events or poll).", optarg);
                        break;
                case ARG_SIM_PERSIST:
                        if (isempty(optarg))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--sim-persist= needs a file.");
                        arg_sim_persist = optarg;
                        break;
                case ARG_DESCRIBE_MAX: {
                        unsigned long long v;
                        char *end;

                        /* A lower reply limit, so that tests reach it with a small host. Never a higher one:
                         * MANAGER_DESCRIBE_MAX is what keeps rvmsid on the bus. */
                        errno = 0;
                        v = strtoull(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' || v < 1024 ||
                            v > MANAGER_DESCRIBE_MAX)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "--describe-max= takes a byte count from 1024 to %u.",
                                                       MANAGER_DESCRIBE_MAX);
                        c->describe_max = (size_t) v;
                        break;
                }
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }

        if (optind < argc)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "This program takes no positional arguments.");
        if (c->backend != BACKEND_KIND_SIM && (c->scenario || c->sim_geometry || arg_sim_persist))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "--scenario, --sim-geometry and --sim-persist need --backend=sim.");
        if (c->scenario && c->sim_geometry)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "--sim-geometry cannot be combined with --scenario (the scenario has one).");
        return 1;
}

/*
 * Test hooks of the sim (docs/crash.md): --sim-persist keeps the simulated
 * host in a file, as the kernel keeps its tables when rvmsid dies, and
 * RVMSI_TEST_CRASH_AFTER_OPS=N kills rvmsid with SIGKILL right after its N-th
 * applied operation. Both go to the sim rvmsid opens first; neither exists
 * for the kernel backend.
 */
static int setup_sim_test_hooks(ManagerConfig *c) {
        const char *e = getenv("RVMSI_TEST_CRASH_AFTER_OPS");
        unsigned long long n = 0;

        if (e) {
                char *end;

                if (c->backend != BACKEND_KIND_SIM) {
                        log_warning("Ignoring RVMSI_TEST_CRASH_AFTER_OPS: it is a test hook of the sim backend.");
                        e = NULL;
                } else {
                        errno = 0;
                        n = strtoull(e, &end, 10);
                        if (errno != 0 || end == e || *end != '\0' || n == 0 || *e == '-')
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "RVMSI_TEST_CRASH_AFTER_OPS='%s' is not a positive number.", e);
                        log_warning("RVMSI_TEST_CRASH_AFTER_OPS=%llu: rvmsid kills itself after that many operations.",
                                    n);
                }
        }
        if (c->backend != BACKEND_KIND_SIM)
                return 0;
        if (arg_sim_persist && access(arg_sim_persist, F_OK) >= 0) {
                /* The host exists: the scenario or geometry that made it has done its part. */
                if (c->scenario || c->sim_geometry)
                        log_info("Restoring the simulated host from '%s'; %s is not used again.", arg_sim_persist,
                                 c->scenario ? "--scenario" : "--sim-geometry");
                else
                        log_info("Restoring the simulated host from '%s'.", arg_sim_persist);
                c->scenario = NULL;
                c->sim_geometry = NULL;
        }
        backend_sim_set_next(arg_sim_persist, n);
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        ManagerConfig config = {
                .backend = BACKEND_KIND_KERNEL,
                .config_dir = RVMSI_CONFDIR,
                .state_dir = RVMSI_STATEDIR,
                .bus = "system",
                .affinity = _AFFINITY_SOURCE_INVALID,
        };
        sigset_t ss;
        int r;

        log_setup();
        r = parse_argv(argc, argv, &config);
        if (r <= 0)
                return r;
        r = setup_sim_test_hooks(&config);
        if (r < 0)
                return r;

        /* sd-event needs the signals blocked to deliver them through signalfd. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(-errno, "Failed to block signals: %m");

        r = manager_new(&config, &m);
        if (r < 0)
                return log_error_errno(r, "Failed to create the manager: %m");
        r = manager_startup(m);
        if (r < 0)
                return r;
        r = manager_connect_bus(m);
        if (r < 0)
                return r;
        log_info("rvmsid %s running on the %s backend.", PACKAGE_VERSION, backend_name(m->backend));
        r = manager_run(m);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        if (r > 0)      /* sd-bus ends the loop with a positive code when the bus goes away */
                return log_error_errno(SYNTHETIC_ERRNO(ECONNRESET), "Lost the connection to the bus, exiting.");
        return 0;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);

        if (r < 0) {
                (void) sd_notifyf(false, "ERRNO=%i", -r);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
