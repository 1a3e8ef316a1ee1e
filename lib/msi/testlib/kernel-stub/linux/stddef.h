/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test stub of <linux/stddef.h>: only what lib/msi may use from the real kernel
 * header, so the kernel-mode compile test fails on anything else.
 */
#ifndef _STUB_LINUX_STDDEF_H
#define _STUB_LINUX_STDDEF_H
#undef NULL
#define NULL ((void *)0)
enum {
	false = 0,
	true = 1
};
#define offsetof(TYPE, MEMBER) __builtin_offsetof(TYPE, MEMBER)
#endif
