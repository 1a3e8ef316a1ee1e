/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/*
 * Replace path atomically: write a temporary file in the same directory,
 * fflush and fsync it, rename it over path and fsync the directory. On any
 * error the temporary file is removed and path is left as it was.
 * Returns 0 or negative errno.
 */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);

/*
 * Read a whole regular file into a NUL-terminated heap buffer. Files larger
 * than max_size give -EFBIG. ret_size may be NULL.
 */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);
