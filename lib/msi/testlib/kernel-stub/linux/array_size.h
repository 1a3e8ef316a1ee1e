/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test stub of <linux/array_size.h>: only what lib/msi may use from the real kernel
 * header, so the kernel-mode compile test fails on anything else.
 */
#ifndef _STUB_LINUX_ARRAY_SIZE_H
#define _STUB_LINUX_ARRAY_SIZE_H
#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))
#endif
