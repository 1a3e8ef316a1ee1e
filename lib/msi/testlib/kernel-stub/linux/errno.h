/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test stub of <linux/errno.h>: only what lib/msi may use from the real kernel
 * header, so the kernel-mode compile test fails on anything else.
 */
#ifndef _STUB_LINUX_ERRNO_H
#define _STUB_LINUX_ERRNO_H
#define ENOENT		2
#define EINVAL		22
#define ERANGE		34
#define EOPNOTSUPP	95
#endif
