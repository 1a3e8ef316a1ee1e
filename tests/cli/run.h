/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Run a program the way libvirtd or a shell would, for the CLI and hook
 * tests: argv, standard input from a file (or /dev/null), an optional uid to
 * drop to, extra environment, and both output streams captured.
 */
#pragma once

#include <sys/types.h>

typedef struct RunResult {
        int status;             /* exit status, or 128+signal */
        char *out;              /* standard output (NUL-terminated) */
        char *err;              /* standard error */
} RunResult;

void run_result_done(RunResult *r);

/* uid < 0: stay root. env: NULL-terminated "NAME=value" list added to the
 * environment, or NULL. cwd: NULL for the current directory. Aborts the test
 * if the program cannot be started at all. */
void run_program(const char *const *argv, const char *stdin_path, int uid, const char *const *env, const char *cwd,
                 RunResult *ret);
