/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test stub of <linux/types.h>: only what lib/msi may use from the real kernel
 * header, so the kernel-mode compile test fails on anything else.
 */
#ifndef _STUB_LINUX_TYPES_H
#define _STUB_LINUX_TYPES_H
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed int s32;
typedef signed long long s64;
typedef _Bool bool;
typedef __SIZE_TYPE__ size_t;
#endif
