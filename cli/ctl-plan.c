/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsictl plan SCENARIO: run a what-if scenario on rvmsid's private
 * simulator (Plan()) and summarize the decision: guest-file use per hart,
 * which VMs' vCPUs fell back (MRIF or otherwise), which isolation
 * requirements could not be met. --json passes Plan()'s document through.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rvmsictl.h"

static const char *vm_label(json_object *names, const char *uuid) {
        for (size_t i = 0; names && i < json_object_array_length(names); i++) {
                json_object *o = json_object_array_get_idx(names, i);

                if (streq_ptr(ctl_json_str(o, "uuid"), uuid) && ctl_json_str(o, "name"))
                        return ctl_json_str(o, "name");
        }
        return uuid;
}

void plan_print_desired(json_object *desired, json_object *vm_names) {
        json_object *vms = ctl_json_array(desired, "vms"), *devs = ctl_json_array(desired, "devices");
        int64_t max_hart = -1;
        unsigned n;

        /* Guest files per hart: which vCPU holds which file. */
        for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
                json_object *vcpus = ctl_json_array(json_object_array_get_idx(vms, i), "vcpus");

                for (size_t v = 0; vcpus && v < json_object_array_length(vcpus); v++)
                        max_hart = MAX(max_hart, ctl_json_int(json_object_array_get_idx(vcpus, v), "hart", -1));
        }
        printf("Guest files in use, per hart:\n");
        n = 0;
        for (int64_t h = 0; h <= max_hart; h++) {
                unsigned used = 0;

                for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
                        json_object *vm = json_object_array_get_idx(vms, i);
                        json_object *vcpus = ctl_json_array(vm, "vcpus");

                        for (size_t v = 0; vcpus && v < json_object_array_length(vcpus); v++) {
                                json_object *vc = json_object_array_get_idx(vcpus, v);

                                if (ctl_json_int(vc, "hart", -1) != h || ctl_json_int(vc, "guest_file", 0) <= 0)
                                        continue;
                                if (used == 0)
                                        printf("  hart %" PRIi64 ":", h);
                                printf("%s %s vcpu %zu (file %" PRIi64 ")", used ? "," : "",
                                       vm_label(vm_names, ctl_json_str(vm, "uuid")), v,
                                       ctl_json_int(vc, "guest_file", 0));
                                used++;
                                n++;
                        }
                }
                if (used)
                        putchar('\n');
        }
        if (n == 0)
                printf("  none\n");

        printf("\nvCPUs without a guest file (their devices' targets use the fallback):\n");
        n = 0;
        for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
                json_object *vm = json_object_array_get_idx(vms, i);
                json_object *vcpus = ctl_json_array(vm, "vcpus");

                for (size_t v = 0; vcpus && v < json_object_array_length(vcpus); v++) {
                        json_object *vc = json_object_array_get_idx(vcpus, v);
                        const char *reason = ctl_json_str(vc, "reason");

                        if (ctl_json_int(vc, "guest_file", 0) > 0)
                                continue;
                        printf("  %s vcpu %zu: %s\n", vm_label(vm_names, ctl_json_str(vm, "uuid")), v,
                               strempty(reason));
                        n++;
                }
        }
        if (n == 0)
                printf("  none\n");

        printf("\nDevices on MRIF:\n");
        n = 0;
        for (size_t i = 0; devs && i < json_object_array_length(devs); i++) {
                json_object *dev = json_object_array_get_idx(devs, i);
                json_object *entries = ctl_json_array(dev, "entries");
                unsigned k = 0;

                for (size_t e = 0; entries && e < json_object_array_length(entries); e++)
                        if (streq_ptr(ctl_json_str(json_object_array_get_idx(entries, e), "kind"), "mrif"))
                                k++;
                if (k == 0)
                        continue;
                printf("  %s: %u of %zu targets\n", strempty(ctl_json_str(dev, "name")), k,
                       json_object_array_length(entries));
                n++;
        }
        if (n == 0)
                printf("  none\n");

        printf("\nIsolation requirements that cannot be met:\n");
        n = 0;
        for (size_t i = 0; devs && i < json_object_array_length(devs); i++) {
                json_object *dev = json_object_array_get_idx(devs, i);

                if (!ctl_json_bool(dev, "violation"))
                        continue;
                printf("  %s: %s\n", strempty(ctl_json_str(dev, "name")), strempty(ctl_json_str(dev, "reason")));
                n++;
        }
        if (n == 0)
                printf("  none\n");
}

int verb_plan(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *result = NULL, *scenario = NULL;
        _cleanup_free_ char *doc = NULL;
        json_object *report, *errors, *desired;
        const char *text;
        int r;

        r = ctl_read_input(argv[0], &doc);
        if (r != 0)
                return r;
        r = ctl_call(c, "Plan", &reply, "s", doc);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return ctl_report_bus_error(NULL, r, "parsing the Plan() reply");
        if (c->json) {
                fputs(text, stdout);
                if (!*text || text[strlen(text) - 1] != '\n')
                        putchar('\n');
                return CTL_EXIT_OK;
        }

        r = ctl_parse_json("Plan()", text, &result);
        if (r != 0)
                return r;
        /* rvmsid accepted the scenario, so it is JSON; its "vms" give the names. */
        (void) ctl_parse_json("scenario", doc, &scenario);

        if (!json_object_object_get_ex(result, "report", &report))
                report = NULL;
        printf("Scenario '%s': %" PRIi64 " step%s, %" PRIi64 " backend operation%s, %" PRIi64 " failed, "
               "%" PRIi64 " invariant violation%s\n", argv[0],
               ctl_json_int(report, "steps", 0), ctl_json_int(report, "steps", 0) == 1 ? "" : "s",
               ctl_json_int(report, "operations", 0), ctl_json_int(report, "operations", 0) == 1 ? "" : "s",
               ctl_json_int(report, "failed_steps", 0),
               ctl_json_int(report, "invariant_violations", 0),
               ctl_json_int(report, "invariant_violations", 0) == 1 ? "" : "s");
        printf("MSIs in the simulation: %" PRIi64 " delivered, %" PRIi64 " MRIF notices, %" PRIi64 " blocked (faults)\n",
               ctl_json_int(report, "delivered", 0), ctl_json_int(report, "notices", 0),
               ctl_json_int(report, "faults", 0));
        errors = ctl_json_array(result, "errors");
        for (size_t i = 0; errors && i < json_object_array_length(errors); i++)
                printf("  step failed: %s\n", json_object_get_string(json_object_array_get_idx(errors, i)));
        putchar('\n');
        if (json_object_object_get_ex(result, "desired", &desired))
                plan_print_desired(desired, ctl_json_array(scenario, "vms"));

        /* A scenario whose expectations failed, or that broke an invariant of
         * the simulated hardware, is a failed plan: say so in the status too. */
        if (!json_object_object_get_ex(result, "report", &report))
                report = NULL;
        if (ctl_json_int(report, "failed_steps", 0) > 0 || ctl_json_int(report, "invariant_violations", 0) > 0) {
                fprintf(stderr, "rvmsictl: the scenario has failed steps or invariant violations (above)\n");
                return CTL_EXIT_DAEMON_ERROR;
        }
        return CTL_EXIT_OK;
}
