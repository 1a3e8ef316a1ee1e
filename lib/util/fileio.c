/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"

static int fsync_directory_of(const char *path) {
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *dir;

        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        dir = dirname(copy);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int fd, r;

        assert_return(!isempty(path), -EINVAL);
        assert_return(data || size == 0, -EINVAL);

        /* Same directory, so that rename() is atomic (same file system). */
        if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                tmp = mfree(tmp);
                return -errno;
        }
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                (void) close(fd);
                goto fail;
        }
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                goto fail;
        }
        if (size > 0 && fwrite(data, 1, size, f) != size) {
                r = errno > 0 ? -errno : -EIO;
                goto fail;
        }
        if (fflush(f) != 0) {
                r = errno > 0 ? -errno : -EIO;
                goto fail;
        }
        if (fsync(fileno(f)) < 0) {
                r = -errno;
                goto fail;
        }
        r = fclose(TAKE_PTR(f));
        if (r != 0) {
                r = errno > 0 ? -errno : -EIO;
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        tmp = mfree(tmp);
        /*
         * The rename is only durable once the directory entry is: without this
         * a crash could bring back the old file (or none) after we reported
         * success.
         */
        return fsync_directory_of(path);

fail:
        (void) unlink(tmp);
        return r;
}

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;
        struct stat st;

        assert_return(path && ret, -EINVAL);

        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (fstat(fileno(f), &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max_size)
                return -EFBIG;

        for (;;) {
                size_t k;

                if (!GREEDY_REALLOC(buf, allocated, n + 4096 + 1))
                        return -ENOMEM;
                k = fread(buf + n, 1, allocated - n - 1, f);
                n += k;
                if (n > max_size)
                        return -EFBIG;
                if (k == 0) {
                        if (ferror(f))
                                return errno > 0 ? -errno : -EIO;
                        break;
                }
        }
        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        }
        buf[n] = '\0';
        if (ret_size)
                *ret_size = n;
        *ret = TAKE_PTR(buf);
        return 0;
}
