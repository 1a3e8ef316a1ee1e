/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test stub of <linux/bitops.h>: only what lib/msi may use from the real kernel
 * header, so the kernel-mode compile test fails on anything else.
 */
#ifndef _STUB_LINUX_BITOPS_H
#define _STUB_LINUX_BITOPS_H
#include <linux/bits.h>
#endif
