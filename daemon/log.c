/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool use_journal;

/* JOURNAL_STREAM is "dev:ino" of the stream journald gave us; only trust it
 * if it is really our stderr (a child of a journald-run process inherits the
 * variable with another stderr). */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(void) {
        const char *e = getenv("RVMSI_LOG_LEVEL");

        use_journal = stderr_is_journal();
        if (e) {
                if (streq(e, "debug"))
                        max_level = LOG_DEBUG;
                else if (streq(e, "info"))
                        max_level = LOG_INFO;
                else if (streq(e, "notice"))
                        max_level = LOG_NOTICE;
                else if (streq(e, "warning"))
                        max_level = LOG_WARNING;
                else if (streq(e, "err"))
                        max_level = LOG_ERR;
        }
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_use_journal(bool b) {
        use_journal = b;
}

int log_internal(int level, int error, const LogFields *fields, const char *file, int line,
                 const char *fmt, ...) {
        char msg[2048];
        va_list ap;

        if (level > max_level)
                return error < 0 ? error : -error;

        if (error != 0)
                errno = error < 0 ? -error : error;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (use_journal) {
                const LogFields f = fields ? *fields : (LogFields) {};
                char pri[16], code_line[16], errno_field[32];

                (void) snprintf(pri, sizeof(pri), "PRIORITY=%i", level);
                (void) snprintf(code_line, sizeof(code_line), "CODE_LINE=%i", line);
                (void) snprintf(errno_field, sizeof(errno_field), "ERRNO=%i", error < 0 ? -error : error);

                /* Fields are always sent (empty when not given): the argument
                 * list of sd_journal_send() ends at the first NULL, so it
                 * cannot carry optional entries. */
                if (sd_journal_send("MESSAGE=%s", msg,
                                    "%s", pri,
                                    "CODE_FILE=%s", file,
                                    "%s", code_line,
                                    "%s", error != 0 ? errno_field : "RVMSI_ERRNO=0",
                                    "RVMSI_DEVICE=%s", strempty(f.device),
                                    "RVMSI_VM=%s", strempty(f.vm),
                                    "RVMSI_MODE=%s", strempty(f.mode),
                                    "RVMSI_REASON=%s", strempty(f.reason),
                                    NULL) >= 0)
                        return error < 0 ? error : -error;
                /* journald went away: say it on stderr rather than not at all */
        }
        {
                char extra[512] = "";

                if (fields) {
                        size_t n = 0;

                        if (fields->device)
                                n += snprintf(extra + n, sizeof(extra) - n, " device=%s", fields->device);
                        if (fields->vm && n < sizeof(extra))
                                n += snprintf(extra + n, sizeof(extra) - n, " vm=%s", fields->vm);
                        if (fields->mode && n < sizeof(extra))
                                n += snprintf(extra + n, sizeof(extra) - n, " mode=%s", fields->mode);
                        if (fields->reason && n < sizeof(extra))
                                (void) snprintf(extra + n, sizeof(extra) - n, " reason=%s", fields->reason);
                }
                (void) fprintf(stderr, "rvmsid: %s%s%s%s\n", msg, *extra ? " [" : "", *extra ? extra + 1 : "",
                               *extra ? "]" : "");
        }

        return error < 0 ? error : -error;
}
