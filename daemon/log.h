/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's one logging helper. Under journald (JOURNAL_STREAM names our
 * stderr) messages go through sd_journal_send() with structured fields
 * (RVMSI_DEVICE=, RVMSI_VM=, RVMSI_MODE=, RVMSI_REASON=, ERRNO=), so that
 * `journalctl RVMSI_DEVICE=0000:00:03.0` finds everything about a device;
 * elsewhere (tests, a terminal) they go to stderr as one line with the
 * fields appended. Only the daemon's top layer logs; lib/ and the pure
 * modules return errors.
 *
 * Like systemd's log_*_errno(), the _errno variants set errno from the
 * (negative) error so that "%m" prints it, and return the error.
 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

typedef struct LogFields {
        const char *device;
        const char *vm;
        const char *mode;
        const char *reason;
} LogFields;

void log_setup(void);
void log_set_max_level(int level);
int log_get_max_level(void);
/* Force the stderr output even under journald (tests), or back. */
void log_set_use_journal(bool b);

int log_internal(int level, int error, const LogFields *fields, const char *file, int line,
                 const char *fmt, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...)    log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, (error), __VA_ARGS__)

/* With structured fields: log_fields(LOG_INFO, 0, &(LogFields) { .device = d }, "…"). */
#define log_fields(level, error, fields, ...) \
        log_internal((level), (error), (fields), __FILE__, __LINE__, __VA_ARGS__)

/* For errors made up on the spot: log_error_errno(SYNTHETIC_ERRNO(EINVAL), …) */
#define SYNTHETIC_ERRNO(e) (-(e))
