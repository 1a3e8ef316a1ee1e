/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi lib/msi: the few kernel types and helpers the shared MSI code needs,
 * taken from the kernel headers under __KERNEL__ and defined here otherwise.
 *
 * The lib/msi sources are compiled unchanged in two places: as a static
 * library in userspace (the daemon, its simulated backend and the unit tests)
 * and as part of the RISC-V IOMMU driver in the kernel. Nothing in the shared
 * .c files may depend on one side only; whatever differs lives here.
 */
#ifndef _RVMSI_MSI_COMPAT_H
#define _RVMSI_MSI_COMPAT_H

#ifdef __KERNEL__

#include <linux/array_size.h>
#include <linux/types.h>
#include <linux/bits.h>
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/stddef.h>

#else /* !__KERNEL__ */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * C11 allows a typedef to be repeated with the same type, so these are safe
 * even if another userspace header (e.g. a uAPI one) already provided them.
 */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#ifndef BIT
#define BIT(nr)			(1UL << (nr))
#endif
#ifndef BIT_ULL
#define BIT_ULL(nr)		(1ULL << (nr))
#endif
#ifndef GENMASK
#define GENMASK(h, l)		((~0UL << (l)) & (~0UL >> (8 * sizeof(long) - 1 - (h))))
#endif
#ifndef GENMASK_ULL
#define GENMASK_ULL(h, l)	((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#endif /* __KERNEL__ */

/*
 * Bit counting without compiler builtins: __builtin_popcountll() may become a
 * libgcc call (__popcountdi2) on RISC-V without Zbb, which the kernel does not
 * link, and the kernel's hweight64() does not exist in userspace. Both sides
 * therefore use these two small, branch-free helpers.
 */

/**
 * rvmsi_hweight64() - number of bits set in a 64-bit value
 * @x: the value
 *
 * Return: the population count of @x, 0..64.
 */
static inline unsigned int rvmsi_hweight64(u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned int)((x * 0x0101010101010101ULL) >> 56);
}

/**
 * rvmsi_ctz64() - index of the lowest set bit of a 64-bit value
 * @x: the value
 *
 * Return: the bit index 0..63 of the least significant 1 in @x, or 64 when
 * @x is zero.
 */
static inline unsigned int rvmsi_ctz64(u64 x)
{
	if (!x)
		return 64;
	/* x & -x isolates the lowest set bit; counting the ones below it. */
	return rvmsi_hweight64((x & (~x + 1)) - 1);
}

/**
 * rvmsi_order_base_2() - number of index bits needed for @n distinct values
 * @n: how many values must be representable (0 and 1 both need 0 bits)
 *
 * Return: the smallest b with 2^b >= @n, i.e. ceil(log2(@n)) for @n >= 1.
 */
static inline unsigned int rvmsi_order_base_2(u64 n)
{
	unsigned int b = 0;

	while (b < 64 && (1ULL << b) < n)
		b++;
	return b;
}

#endif /* _RVMSI_MSI_COMPAT_H */
