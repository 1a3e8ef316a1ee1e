/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The replay runner: links with a harness instead of libFuzzer, so that every
 * build (gcc, ASan/UBSan, valgrind) feeds the committed seed corpus and any
 * crash reproducer to the same LLVMFuzzerTestOneInput(). Arguments are files
 * or directories (read non-recursively, in sorted order). It fails if no
 * input was found: an empty corpus must not read as a pass.
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path) {
        uint8_t *buf = NULL;
        FILE *f;
        long n;
        int r = 0;

        f = fopen(path, "re");
        if (!f) {
                r = -errno;
                fprintf(stderr, "Cannot open '%s': %s\n", path, strerror(-r));
                return r;
        }
        /* An exact-size allocation, so that ASan catches a parser reading one byte past the input. */
        if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
            !(buf = malloc(n > 0 ? (size_t) n : 1)) || (n > 0 && fread(buf, 1, (size_t) n, f) != (size_t) n)) {
                fprintf(stderr, "Cannot read '%s'\n", path);
                r = -EIO;
        } else
                (void) LLVMFuzzerTestOneInput(buf, (size_t) n);
        free(buf);
        fclose(f);
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int run_dir(const char *path, unsigned *count) {
        DIR *d = opendir(path);
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, cap = 0;
        int r = 0;

        if (!d) {
                r = -errno;
                fprintf(stderr, "Cannot open '%s': %s\n", path, strerror(-r));
                return r;
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        char **x = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(char *));

                        if (!x) {
                                r = -ENOMEM;
                                break;
                        }
                        names = x;
                }
                if (asprintf(&names[n], "%s/%s", path, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                struct stat st;

                if (r >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
                        r = run_file(names[i]);
                        if (r >= 0)
                                (*count)++;
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char *argv[]) {
        unsigned count = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                int r;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "Cannot stat '%s': %m\n", argv[i]);
                        return EXIT_FAILURE;
                }
                if (S_ISDIR(st.st_mode))
                        r = run_dir(argv[i], &count);
                else {
                        r = run_file(argv[i]);
                        if (r >= 0)
                                count++;
                }
                if (r < 0)
                        return EXIT_FAILURE;
        }
        if (count == 0) {
                fprintf(stderr, "No input found: nothing was tested\n");
                return EXIT_FAILURE;
        }
        fprintf(stderr, "%u inputs replayed\n", count);
        return EXIT_SUCCESS;
}
