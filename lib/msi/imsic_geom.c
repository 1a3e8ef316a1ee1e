// SPDX-License-Identifier: GPL-2.0-only
/*
 * rvmsi lib/msi: IMSIC interrupt-file geometry. See imsic_geom.h.
 */
#include "imsic_geom.h"
#include "msi_table.h"

/* A field of @bits bits starting at bit @shift; empty for @bits == 0. */
static u64 geom_field(unsigned int shift, unsigned int bits)
{
	if (!bits)
		return 0;
	return GENMASK_ULL(shift + bits - 1, shift);
}

static unsigned int geom_hart_shift(const struct rvmsi_imsic_geom *g)
{
	return RVMSI_PAGE_SHIFT + g->guest_index_bits;
}

/* Every address bit that selects a file, plus the page offset. */
static u64 geom_index_bits(const struct rvmsi_imsic_geom *g)
{
	return geom_field(0, RVMSI_PAGE_SHIFT) |
	       geom_field(RVMSI_PAGE_SHIFT, g->guest_index_bits) |
	       geom_field(geom_hart_shift(g), g->hart_index_bits) |
	       geom_field(g->group_index_shift, g->group_index_bits);
}

static bool geom_ids_ok(u32 n)
{
	/* 63 <= N <= 2047 and N = 64k - 1 (AIA IMSIC spec; Linux checks too). */
	return n >= RVMSI_IMSIC_MIN_IDS && n <= RVMSI_IMSIC_MAX_IDS &&
	       (n & 63) == 63;
}

int rvmsi_imsic_geom_validate(const struct rvmsi_imsic_geom *g)
{
	unsigned int hart_top;

	if (g->guest_index_bits > RVMSI_IMSIC_MAX_GUEST_BITS ||
	    g->hart_index_bits > RVMSI_IMSIC_MAX_HART_BITS ||
	    g->group_index_bits > RVMSI_IMSIC_MAX_GROUP_BITS)
		return -EINVAL;
	if (g->group_index_shift < RVMSI_IMSIC_MIN_GROUP_SHIFT ||
	    g->group_index_shift > RVMSI_IMSIC_MAX_GROUP_SHIFT)
		return -EINVAL;

	if (!g->nr_groups || g->nr_groups > (1ULL << g->group_index_bits))
		return -EINVAL;
	if (!g->nr_harts || g->nr_harts > (1ULL << g->hart_index_bits))
		return -EINVAL;
	/* The S-level file and GEILEN guest files share the guest index. */
	if (g->geilen > RVMSI_IMSIC_MAX_GEILEN ||
	    (u64)g->geilen + 1 > (1ULL << g->guest_index_bits))
		return -EINVAL;

	if (!geom_ids_ok(g->nr_ids))
		return -EINVAL;
	if (g->geilen ? !geom_ids_ok(g->nr_guest_ids) :
	    (g->nr_guest_ids && !geom_ids_ok(g->nr_guest_ids)))
		return -EINVAL;

	/* At most 12 + 8 + 16 = 36 bits with the limits above: below 2^56. */
	hart_top = geom_hart_shift(g) + g->hart_index_bits;
	if (g->group_index_bits) {
		/* Fields must not overlap: E >= k + D in the spec's terms. */
		if (g->group_index_shift < hart_top)
			return -EINVAL;
		if (g->group_index_shift + g->group_index_bits > RVMSI_PA_BITS)
			return -EINVAL;
	}

	/* B is aligned to 2^(k+D) and has the group field clear. */
	if (g->base & geom_index_bits(g))
		return -EINVAL;
	/* With base and all fields below 2^56, every file address is too. */
	if (g->base >= (1ULL << RVMSI_PA_BITS))
		return -EINVAL;
	return 0;
}

int rvmsi_imsic_file_addr(const struct rvmsi_imsic_geom *g, u32 group, u32 hart, u32 guest,
			  u64 *ret_pa)
{
	int r;

	r = rvmsi_imsic_geom_validate(g);
	if (r < 0)
		return r;
	if (group >= g->nr_groups || hart >= g->nr_harts || guest > g->geilen)
		return -ERANGE;

	*ret_pa = g->base |
		  ((u64)group << g->group_index_shift) |
		  ((u64)hart << geom_hart_shift(g)) |
		  ((u64)guest << RVMSI_PAGE_SHIFT);
	return 0;
}

int rvmsi_imsic_file_locate(const struct rvmsi_imsic_geom *g, u64 pa, u32 *ret_group,
			    u32 *ret_hart, u32 *ret_guest)
{
	u64 group, hart, guest;
	int r;

	r = rvmsi_imsic_geom_validate(g);
	if (r < 0)
		return r;
	if ((pa & ~geom_index_bits(g)) != g->base)
		return -EINVAL;

	guest = (pa & geom_field(RVMSI_PAGE_SHIFT, g->guest_index_bits)) >> RVMSI_PAGE_SHIFT;
	hart = (pa & geom_field(geom_hart_shift(g), g->hart_index_bits)) >> geom_hart_shift(g);
	group = (pa & geom_field(g->group_index_shift, g->group_index_bits)) >>
		g->group_index_shift;
	if (group >= g->nr_groups || hart >= g->nr_harts || guest > g->geilen)
		return -EINVAL;

	if (ret_group)
		*ret_group = (u32)group;
	if (ret_hart)
		*ret_hart = (u32)hart;
	if (ret_guest)
		*ret_guest = (u32)guest;
	return 0;
}

/* The covering mask, in page-number units, for a valid geometry. */
static u64 geom_msi_mask(const struct rvmsi_imsic_geom *g)
{
	return geom_field(0, rvmsi_order_base_2((u64)g->geilen + 1)) |
	       geom_field(g->guest_index_bits, rvmsi_order_base_2(g->nr_harts)) |
	       geom_field(g->group_index_shift - RVMSI_PAGE_SHIFT,
			  rvmsi_order_base_2(g->nr_groups));
}

int rvmsi_imsic_msi_mask_pattern(const struct rvmsi_imsic_geom *g, u64 *ret_mask,
				 u64 *ret_pattern)
{
	int r;

	r = rvmsi_imsic_geom_validate(g);
	if (r < 0)
		return r;

	*ret_mask = geom_msi_mask(g);
	*ret_pattern = g->base >> RVMSI_PAGE_SHIFT;
	return 0;
}

int rvmsi_imsic_table_entries(const struct rvmsi_imsic_geom *g, u64 *ret_entries)
{
	int r;

	r = rvmsi_imsic_geom_validate(g);
	if (r < 0)
		return r;

	*ret_entries = 1ULL << rvmsi_hweight64(geom_msi_mask(g));
	return 0;
}

int rvmsi_imsic_file_index(const struct rvmsi_imsic_geom *g, u32 group, u32 hart, u32 guest,
			   u64 *ret_index)
{
	u64 pa;
	int r;

	r = rvmsi_imsic_file_addr(g, group, hart, guest, &pa);
	if (r < 0)
		return r;

	*ret_index = rvmsi_extract(pa >> RVMSI_PAGE_SHIFT, geom_msi_mask(g));
	return 0;
}

int rvmsi_imsic_index_file(const struct rvmsi_imsic_geom *g, u64 index, u32 *ret_group,
			   u32 *ret_hart, u32 *ret_guest)
{
	u64 mask, pattern, pa;
	int r;

	r = rvmsi_imsic_msi_mask_pattern(g, &mask, &pattern);
	if (r < 0)
		return r;
	r = rvmsi_msi_index_addr(index, mask, pattern, &pa);
	if (r < 0)
		return r;	/* -ERANGE: beyond the table */

	r = rvmsi_imsic_file_locate(g, pa, ret_group, ret_hart, ret_guest);
	if (r < 0)
		return -ENOENT;
	return 0;
}
