/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rvmsictl explain DEVICE [TARGET]: the solver's reasons, in words. */
#include <stdio.h>

#include "rvmsictl.h"

int verb_explain(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *out = NULL;
        const char *target, *mode, *code, *text;
        unsigned n = 0;
        int r;

        if (!ctl_is_pci_address(argv[0]))
                return ctl_usage_error("'%s' is not a PCI address (DDDD:BB:DD.F, e.g. 0000:00:03.0)", argv[0]);

        r = ctl_call(c, "Explain", &reply, "ss", argv[0], argc > 1 ? argv[1] : "");
        if (r != 0)
                return r;

        if (c->json) {
                out = json_object_new_array();
                if (!out)
                        return ctl_report_bus_error(NULL, -ENOMEM, "Explain");
        }
        r = sd_bus_message_enter_container(reply, 'a', "(ssss)");
        if (r < 0)
                return ctl_report_bus_error(NULL, r, "parsing the Explain() reply");
        while ((r = sd_bus_message_read(reply, "(ssss)", &target, &mode, &code, &text)) > 0) {
                if (out) {
                        json_object *e = json_object_new_object();

                        if (!e || json_object_array_add(out, e) < 0)
                                return ctl_report_bus_error(NULL, -ENOMEM, "Explain");
                        json_object_object_add(e, "target", json_object_new_string(target));
                        json_object_object_add(e, "mode", json_object_new_string(mode));
                        json_object_object_add(e, "reason", json_object_new_string(code));
                        json_object_object_add(e, "text", json_object_new_string(text));
                } else {
                        if (n == 0)
                                printf("%s\n", argv[0]);
                        printf("  %s: %s (%s)\n      %s\n", isempty(target) ? "device" : target, mode, code, text);
                }
                n++;
        }
        if (r < 0)
                return ctl_report_bus_error(NULL, r, "parsing the Explain() reply");
        if (out)
                ctl_print_json(out);
        else if (n == 0)
                printf("%s has no targets: none of its vectors is routed anywhere.\n", argv[0]);
        return CTL_EXIT_OK;
}
