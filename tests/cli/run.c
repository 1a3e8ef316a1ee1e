/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"
#include "tests.h"

/*
 * A failed assertion abort()s before the harness can stop the dbus-daemon
 * and rvmsid it forked; they would keep the test's output pipes open and
 * make meson wait for the timeout. Take the whole process group down with
 * the test (meson runs each test in its own session).
 */
static void on_abort(int sig) {
        (void) signal(SIGTERM, SIG_IGN);
        (void) kill(0, SIGTERM);
}

__attribute__((constructor)) static void install_abort_handler(void) {
        (void) signal(SIGABRT, on_abort);
}

void run_result_done(RunResult *r) {
        free(r->out);
        free(r->err);
        r->out = r->err = NULL;
}

static char *slurp(int fd) {
        char *buf = NULL;
        size_t n = 0, size = 0;

        (void) lseek(fd, 0, SEEK_SET);
        for (;;) {
                ssize_t k;

                if (n + 4096 + 1 > size) {
                        size = size ? size * 2 : 8192;
                        buf = realloc(buf, size);
                        ASSERT_NOT_NULL(buf);
                }
                k = read(fd, buf + n, size - n - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        TEST_FAIL("read: %m");
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        buf = buf ?: malloc(1);
        ASSERT_NOT_NULL(buf);
        buf[n] = 0;
        return buf;
}

void run_program(const char *const *argv, const char *stdin_path, int uid, const char *const *env, const char *cwd,
                 RunResult *ret) {
        char out_tmpl[] = "/tmp/rvmsi-run-out-XXXXXX", err_tmpl[] = "/tmp/rvmsi-run-err-XXXXXX";
        int out_fd, err_fd, status;
        pid_t pid;

        out_fd = mkstemp(out_tmpl);
        err_fd = mkstemp(err_tmpl);
        if (out_fd < 0 || err_fd < 0)
                TEST_FAIL("mkstemp: %m");
        (void) unlink(out_tmpl);
        (void) unlink(err_tmpl);

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                TEST_FAIL("fork: %m");
        if (pid == 0) {
                int in = open(stdin_path ?: "/dev/null", O_RDONLY | O_CLOEXEC);

                if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
                        _exit(126);
                for (size_t i = 0; env && env[i]; i++)
                        (void) putenv((char *) env[i]);
                /* not under journald or systemd when the test runs from a unit */
                unsetenv("JOURNAL_STREAM");
                unsetenv("NOTIFY_SOCKET");
                if (cwd && chdir(cwd) < 0)
                        _exit(126);
                if (uid >= 0 && (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
                                 setresuid(uid, uid, uid) < 0))
                        _exit(126);
                execv(argv[0], (char **) argv);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        TEST_FAIL("waitpid: %m");
        if (WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127))
                TEST_FAIL("could not run %s (status %d)", argv[0], WEXITSTATUS(status));
        ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        ret->out = slurp(out_fd);
        ret->err = slurp(err_fd);
        close(out_fd);
        close(err_fd);
}
