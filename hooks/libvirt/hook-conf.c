/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hook-conf.h"
#include "macro.h"

static int parse_bool(const char *v, bool *ret) {
        if (streq(v, "yes") || streq(v, "true") || streq(v, "1") || streq(v, "on"))
                *ret = true;
        else if (streq(v, "no") || streq(v, "false") || streq(v, "0") || streq(v, "off"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

static int set_key(HookConfig *c, const char *key, const char *value) {
        if (streq(key, "strict"))
                return parse_bool(value, &c->strict);
        if (streq(key, "journal"))
                return parse_bool(value, &c->journal);
        if (streq(key, "verbose"))
                return parse_bool(value, &c->verbose);
        if (streq(key, "timeout")) {
                char *end;
                double d;

                errno = 0;
                d = strtod(value, &end);
                /* Below a millisecond the value would round to 0 µs, which
                 * sd-bus reads as "use the default" (25 s): refuse it. */
                if (errno != 0 || end == value || *end || !(d >= 0.001) || d > 60)
                        return -EINVAL;
                c->timeout_usec = (uint64_t) (d * 1e6);
                return 0;
        }
        if (streq(key, "bus")) {
                if (isempty(value) || strlen(value) >= sizeof(c->bus))
                        return -EINVAL;
                snprintf(c->bus, sizeof(c->bus), "%s", value);
                return 0;
        }
        return -ENOENT;
}

static char *strip(char *s) {
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
                e--;
        *e = 0;
        return s;
}

static int config_load(HookConfig *c, char *errbuf, size_t errlen) {
        _cleanup_fclose_ FILE *f = NULL;
        const char *path = getenv("RVMSI_HOOK_CONF") ?: RVMSI_CONFDIR "/hook.conf";
        _cleanup_free_ char *line = NULL;
        const char *env;
        size_t size = 0;
        unsigned n = 0;
        int r;

        *c = (HookConfig) {
                .timeout_usec = 5 * 1000000ULL,
                .bus = "system",
                .journal = true,
        };

        f = fopen(path, "re");
        if (!f && errno != ENOENT) {
                snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
                return -EINVAL;
        }
        /* getline(): a long comment is one line, not several */
        while (f && getline(&line, &size, f) >= 0) {
                char *s, *eq, *hash;

                n++;
                hash = strchr(line, '#');
                if (hash)
                        *hash = 0;
                s = strip(line);
                if (!*s)
                        continue;
                eq = strchr(s, '=');
                if (!eq) {
                        snprintf(errbuf, errlen, "%s:%u: expected key=value, got '%s'", path, n, s);
                        return -EINVAL;
                }
                *eq = 0;
                r = set_key(c, strip(s), strip(eq + 1));
                if (r == -ENOENT) {
                        snprintf(errbuf, errlen, "%s:%u: unknown key '%s'", path, n, strip(s));
                        return -EINVAL;
                }
                if (r < 0) {
                        snprintf(errbuf, errlen, "%s:%u: invalid value '%s' for '%s'", path, n, strip(eq + 1),
                                 strip(s));
                        return -EINVAL;
                }
        }

        env = getenv("RVMSI_HOOK_STRICT");
        if (env && parse_bool(env, &c->strict) < 0) {
                snprintf(errbuf, errlen, "RVMSI_HOOK_STRICT: invalid value '%s'", env);
                return -EINVAL;
        }
        env = getenv("RVMSI_HOOK_BUS");
        if (env && set_key(c, "bus", env) < 0) {
                snprintf(errbuf, errlen, "RVMSI_HOOK_BUS: invalid value '%s'", env);
                return -EINVAL;
        }
        return 0;
}

int hook_config_load(HookConfig *c, char *errbuf, size_t errlen) {
        HookConfig tmp;
        int r;

        r = config_load(&tmp, errbuf, errlen);
        if (r < 0) {
                /* all or nothing: a half-read file is not a configuration */
                *c = (HookConfig) {
                        .timeout_usec = 5 * 1000000ULL,
                        .bus = "system",
                        .journal = true,
                };
                return r;
        }
        *c = tmp;
        return 0;
}
