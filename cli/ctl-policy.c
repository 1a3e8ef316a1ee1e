/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rvmsictl policy get|set|check: the policy in force, as JSON (docs/policy.md). */
#include <stdio.h>
#include <string.h>

#include "rvmsictl.h"

static void print_text(const char *s) {
        fputs(s, stdout);
        if (!*s || s[strlen(s) - 1] != '\n')
                putchar('\n');
}

int verb_policy(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *doc = NULL;
        const char *sub = argv[0], *text;
        int r;

        if (streq(sub, "get")) {
                if (argc != 1)
                        return ctl_usage_error("'policy get' takes no more arguments");
                r = ctl_call(c, "GetPolicy", &reply, NULL);
                if (r != 0)
                        return r;
                r = sd_bus_message_read(reply, "s", &text);
                if (r < 0)
                        return ctl_report_bus_error(NULL, r, "parsing the GetPolicy() reply");
                /* JSON is the policy's only form: --json or not, pass it through. */
                print_text(text);
                return CTL_EXIT_OK;
        }

        if (!streq(sub, "set") && !streq(sub, "check"))
                return ctl_usage_error("unknown 'policy' command '%s' (get, set FILE or check FILE)", sub);
        if (argc != 2)
                return ctl_usage_error("'policy %s' needs a FILE ('-' for standard input)", sub);
        r = ctl_read_input(argv[1], &doc);
        if (r != 0)
                return r;

        if (streq(sub, "set")) {
                r = ctl_call(c, "SetPolicy", NULL, "s", doc);
                if (r != 0)
                        return r;
                if (!c->json)
                        printf("The policy from '%s' is in force (until the next reload).\n", argv[1]);
                return CTL_EXIT_OK;
        }

        r = ctl_call(c, "CheckPolicy", &reply, "s", doc);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return ctl_report_bus_error(NULL, r, "parsing the CheckPolicy() reply");
        if (c->json)
                print_text(text);
        else {
                _cleanup_json_ json_object *desired = NULL, *d = NULL;

                r = ctl_parse_json("CheckPolicy()", text, &desired);
                if (r != 0)
                        return r;
                /* VM names make the summary readable; without them it still is correct. */
                (void) ctl_describe(c, (char *const[]) { (char *) "vms", NULL }, &d, NULL);
                printf("The policy in '%s' is valid. Under it, rvmsid would decide:\n\n", argv[1]);
                plan_print_desired(desired, ctl_json_array(d, "vms"));
        }
        return CTL_EXIT_OK;
}
