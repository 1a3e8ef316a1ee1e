/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsi-bench-daemon: the cost of one event in the whole daemon, not only in
 * the solver and reconciler (rvmsi-bench): rvmsid's Manager on the sim
 * backend, in this process, on a generated host. Each event goes in the way
 * it does in rvmsid and is timed until the event loop has nothing left to do:
 *   - affinity-move: the sim moves one vector of a host device to a hart
 *     none of its vectors targets (the kernel would send ENTRY_NTF);
 *   - vcpu-move: the sim moves a vCPU (KVM), VCPU_CHANGED reaches the daemon;
 *   - vm-stop / vm-start: manager_vm_event() exactly as the D-Bus layer
 *     calls it (a validation pass, then the real one), which reconciles and
 *     saves the state before it returns.
 * So the time includes the sim's own work for that one device or vCPU, the
 * reconciler, the Manager's change detection and signals, and the state
 * file (written to --state-dir, default a temporary directory; "" for none).
 * Per event it also reports the reconciler runs the event caused (1 unless
 * an echo or a read-back needed another), and at the end what one save of
 * the state file costs, step by step (capture, text, write and fsync).
 *
 *   rvmsi-bench-daemon [--size=K] [--samples=N] [--state-dir=DIR] [--json=PATH]
 */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "backend-sim.h"
#include "fileio.h"
#include "host-gen.h"
#include "log.h"
#include "manager.h"
#include "state.h"

static double now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* Run the loop until nothing is pending and the reconciler is clean. */
static int settle(Manager *m) {
        for (int i = 0; i < 100000; i++) {
                int r = sd_event_run(m->event, 0);

                if (r < 0)
                        return r;
                if (r == 0 && !reconciler_is_dirty(m->reconciler))
                        return 0;
        }
        return -ETIME;
}

enum { EV_AFFINITY, EV_VCPU, EV_STOP, EV_START, _EV_MAX };
static const char *const names[_EV_MAX] = { "affinity-move", "vcpu-move", "vm-stop", "vm-start" };

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "size", required_argument, NULL, 'k' },
                { "samples", required_argument, NULL, 'n' },
                { "state-dir", required_argument, NULL, 's' },
                { "json", required_argument, NULL, 'j' },
                {}
        };
        _cleanup_(model_freep) Model *gen = NULL;
        _cleanup_json_ json_object *scenario = NULL, *out = json_object_new_object();
        _cleanup_(manager_freep) Manager *m = NULL;
        char dir[] = "/tmp/rvmsi-bench-daemon-XXXXXX", path[512], state[512], config[512];
        const char *state_dir = NULL, *json_path = NULL;
        unsigned k = 256, samples = 20;
        double *t[_EV_MAX], t0, startup, solve;
        uint64_t runs[_EV_MAX] = {}, runs0;
        uint64_t rng = 99;
        ManagerConfig cfg = { .backend = BACKEND_KIND_SIM, .affinity = _AFFINITY_SOURCE_INVALID };
        HostParams hp;
        sigset_t ss;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'k':
                        k = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'n':
                        samples = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 's':
                        state_dir = optarg;
                        break;
                case 'j':
                        json_path = optarg;
                        break;
                default:
                        return EXIT_FAILURE;
                }
        if (k < 1 || k > 256 || samples < 1 || samples > 10000 || !out) {
                fprintf(stderr, "Usage: rvmsi-bench-daemon [--size=1..256] [--samples=N] [--state-dir=DIR] [--json=PATH]\n");
                return EXIT_FAILURE;
        }

        if (!mkdtemp(dir))
                return EXIT_FAILURE;
        snprintf(path, sizeof(path), "%s/host.json", dir);
        snprintf(config, sizeof(config), "%s/config", dir);
        snprintf(state, sizeof(state), "%s/state", dir);
        if (mkdir(config, 0700) < 0 || (!state_dir && mkdir(state, 0700) < 0))
                return EXIT_FAILURE;

        hp = host_params(k, 1);
        r = host_generate(&hp, &gen);
        if (r >= 0)
                r = host_to_scenario(gen, "bench-daemon", k >= 64, &scenario);
        if (r < 0 || json_object_to_file_ext(path, scenario, JSON_C_TO_STRING_PLAIN) < 0) {
                fprintf(stderr, "Cannot write the host: %s\n", strerror(r < 0 ? -r : EIO));
                return EXIT_FAILURE;
        }
        json_object_put(TAKE_PTR(scenario));

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        (void) sigprocmask(SIG_BLOCK, &ss, NULL);
        /* One info line per device at startup would drown the results. */
        (void) setenv("RVMSI_LOG_LEVEL", "warning", 0);
        log_setup();

        cfg.scenario = path;
        cfg.config_dir = config;
        cfg.state_dir = state_dir ?: state;
        t0 = now_usec();
        r = manager_new(&cfg, &m);
        if (r >= 0)
                r = manager_startup(m);
        if (r >= 0)
                r = settle(m);
        if (r < 0) {
                fprintf(stderr, "Cannot start the manager: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        startup = now_usec() - t0;
        {
                _cleanup_(desired_freep) Desired *d = NULL;

                t0 = now_usec();
                r = solver_compute(m->model, m->policy, &d);
                solve = now_usec() - t0;
                if (r < 0)
                        return EXIT_FAILURE;
        }

        for (int e = 0; e < _EV_MAX; e++) {
                t[e] = calloc(samples, sizeof(double));
                if (!t[e])
                        return EXIT_FAILURE;
        }

        for (unsigned s = 0; s < samples; s++) {
                Sim *sim = backend_sim(m->backend);
                const Model *w = sim_world(sim);
                size_t first_host = w->n_devices / 2, n_host = w->n_devices * 3 / 8;
                const Device *d = w->devices[first_host + host_rand_below(&rng, (uint32_t) n_host)];
                uint32_t vec = host_rand_below(&rng, d->nr_vectors), hart;
                Vm *vm = NULL;
                ManagerError me = {};
                bool used;

                /* A hart none of the device's vectors targets: the entries must change. */
                do {
                        hart = host_rand_below(&rng, w->geometry.nr_harts);
                        used = false;
                        for (uint32_t v = 0; v < d->nr_vectors; v++)
                                used |= d->vectors[v].hart == hart;
                } while (used && d->nr_vectors < w->geometry.nr_harts);
                runs0 = m->n_runs;
                t0 = now_usec();
                r = sim_set_affinity(sim, d->name, vec, hart);
                if (r >= 0)
                        r = settle(m);
                t[EV_AFFINITY][s] = now_usec() - t0;
                runs[EV_AFFINITY] += m->n_runs - runs0;
                if (r < 0)
                        goto fail;

                while (!vm || vm->state != VM_RUNNING)
                        vm = m->model->vms[host_rand_below(&rng, (uint32_t) m->model->n_vms)];
                runs0 = m->n_runs;
                t0 = now_usec();
                r = sim_vcpu_move(sim, vm->uuid, host_rand_below(&rng, vm->nr_vcpus),
                                  host_rand_below(&rng, w->geometry.nr_harts));
                if (r >= 0)
                        r = settle(m);
                t[EV_VCPU][s] = now_usec() - t0;
                runs[EV_VCPU] += m->n_runs - runs0;
                if (r < 0)
                        goto fail;

                runs0 = m->n_runs;
                t0 = now_usec();
                r = manager_vm_event(m, false, vm->uuid, "stopped", &me);
                if (r >= 0)
                        r = manager_vm_event(m, true, vm->uuid, "stopped", &me);
                if (r >= 0)
                        r = settle(m);
                t[EV_STOP][s] = now_usec() - t0;
                runs[EV_STOP] += m->n_runs - runs0;
                if (r < 0)
                        goto fail;

                runs0 = m->n_runs;
                t0 = now_usec();
                r = manager_vm_event(m, false, vm->uuid, "start", &me);
                if (r >= 0)
                        r = manager_vm_event(m, true, vm->uuid, "start", &me);
                if (r >= 0)
                        r = settle(m);
                t[EV_START][s] = now_usec() - t0;
                runs[EV_START] += m->n_runs - runs0;
                if (r < 0) {
                        fprintf(stderr, "%s\n", me.message);
                        goto fail;
                }
        }

        printf("size %u: %u harts, %zu VMs, %zu devices; startup (parse, world, resync) %.2f s; full solve %.1f ms;"
               " state %s\n", k, m->model->geometry.nr_harts, m->model->n_vms, m->model->n_devices, startup / 1e6,
               solve / 1e3, isempty(cfg.state_dir) ? "not saved" : cfg.state_dir);
        printf("%-14s %12s %12s %12s %12s %12s\n", "event", "median ms", "p90 ms", "max ms", "solve/event",
               "runs/event");
        json_object_object_add(out, "size_factor", json_object_new_int64(k));
        json_object_object_add(out, "startup_usec", json_object_new_double(startup));
        json_object_object_add(out, "full_solve_usec", json_object_new_double(solve));
        for (int e = 0; e < _EV_MAX; e++) {
                json_object *o = json_object_new_object();
                double med, p90, max;

                qsort(t[e], samples, sizeof(double), cmp_double);
                med = t[e][samples / 2];
                p90 = t[e][(samples * 9) / 10 < samples ? (samples * 9) / 10 : samples - 1];
                max = t[e][samples - 1];
                printf("%-14s %12.3f %12.3f %12.3f %12.1f %12.2f\n", names[e], med / 1e3, p90 / 1e3, max / 1e3,
                       solve / med, (double) runs[e] / samples);
                json_object_object_add(o, "median_usec", json_object_new_double(med));
                json_object_object_add(o, "p90_usec", json_object_new_double(p90));
                json_object_object_add(o, "max_usec", json_object_new_double(max));
                json_object_object_add(o, "full_solve_over_event", json_object_new_double(solve / med));
                /* Reconciler runs the event caused: 1 unless something (an echo, a read-back) needed another. */
                json_object_object_add(o, "runs_per_event", json_object_new_double((double) runs[e] / samples));
                json_object_object_add(out, names[e], o);
                free(t[e]);
        }
        {
                /* What one save costs, step by step: what every mutating D-Bus call pays before it replies. */
                _cleanup_(state_freep) State *st = NULL;
                _cleanup_json_ json_object *tree = NULL;
                _cleanup_free_ char *text = NULL, *pretty = NULL;
                double capture, to_text, to_tree, write_sync = 0;
                size_t len = 0;

                t0 = now_usec();
                r = state_capture(m->model, NULL, &st);
                capture = now_usec() - t0;
                t0 = now_usec();
                if (r >= 0)
                        r = state_to_text(st, &text, &len);
                to_text = now_usec() - t0;
                /* The json-c object tree, pretty-printed and freed: how the file was written before. */
                t0 = now_usec();
                if (r >= 0)
                        r = state_to_json(st, &tree);
                if (r >= 0)
                        r = json_to_string_pretty(tree, &pretty);
                json_object_put(TAKE_PTR(tree));
                to_tree = now_usec() - t0;
                if (r >= 0 && !isempty(cfg.state_dir)) {
                        char p[600];

                        snprintf(p, sizeof(p), "%s/bench-save.json", cfg.state_dir);
                        t0 = now_usec();
                        r = write_file_atomic(p, text, len, 0600);
                        write_sync = now_usec() - t0;
                        (void) unlink(p);
                }
                if (r < 0)
                        goto fail;
                printf("state file: %zu bytes; capture %.1f ms, text %.1f ms (json-c tree %.1f ms), "
                       "write+fsync %.1f ms\n", len, capture / 1e3, to_text / 1e3, to_tree / 1e3, write_sync / 1e3);
                json_object_object_add(out, "state_bytes", json_object_new_int64((int64_t) len));
                json_object_object_add(out, "state_capture_usec", json_object_new_double(capture));
                json_object_object_add(out, "state_text_usec", json_object_new_double(to_text));
                json_object_object_add(out, "state_json_tree_usec", json_object_new_double(to_tree));
                json_object_object_add(out, "state_write_fsync_usec", json_object_new_double(write_sync));
        }
        if (json_path && json_object_to_file_ext(json_path, out, JSON_C_TO_STRING_PRETTY) < 0)
                fprintf(stderr, "Cannot write '%s'\n", json_path);
        m = manager_free(m);
        {
                char cmd[600];

                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                (void) system(cmd);
        }
        return EXIT_SUCCESS;
fail:
        fprintf(stderr, "Event failed: %s\n", strerror(-r));
        return EXIT_FAILURE;
}
