// SPDX-License-Identifier: GPL-2.0-only
/*
 * rvmsi lib/msi: memory-resident interrupt files. See msi_mrif.h.
 */
#include "msi_mrif.h"

/* Doubleword index of the pending (even) and enable (odd) word of @id. */
static inline unsigned int mrif_pending_dw(u32 id)
{
	return (id / 64) * 2;
}

static inline unsigned int mrif_enable_dw(u32 id)
{
	return (id / 64) * 2 + 1;
}

static inline u32 mrif_swab32(u32 x)
{
	return ((x & 0x000000ffU) << 24) | ((x & 0x0000ff00U) << 8) |
	       ((x & 0x00ff0000U) >> 8) | ((x & 0xff000000U) >> 24);
}

int rvmsi_mrif_pending_offset(u32 id, u32 *ret_off)
{
	if (id > RVMSI_MRIF_ID_MAX)
		return -ERANGE;
	*ret_off = mrif_pending_dw(id) * 8;
	return 0;
}

int rvmsi_mrif_enable_offset(u32 id, u32 *ret_off)
{
	if (id > RVMSI_MRIF_ID_MAX)
		return -ERANGE;
	*ret_off = mrif_enable_dw(id) * 8;
	return 0;
}

u64 rvmsi_mrif_bit(u32 id)
{
	return 1ULL << (id % 64);
}

enum rvmsi_mrif_verdict rvmsi_mrif_classify_write(u64 addr, u32 size, u32 data_le,
						  bool be_supported, u32 *ret_id)
{
	u32 off = (u32)(addr & 0xfff);
	bool be;
	u32 d;

	/*
	 * Only naturally aligned 32-bit accesses are MSIs; a 4-byte aligned
	 * 4-byte access cannot straddle the page, so that needs no own check.
	 */
	if (size != 4 || (off & 3))
		return RVMSI_MRIF_ABORT;

	be = off & 4;
	d = be ? mrif_swab32(data_le) : data_le;

	/* A[11:3] != 0: not seteipnum_le/_be. D[31:11] != 0: no such id. */
	if ((off >> 3) || (d >> 11))
		return RVMSI_MRIF_DISCARD;
	if (be && !be_supported)
		return RVMSI_MRIF_DISCARD;

	*ret_id = d;
	return RVMSI_MRIF_RECORD;
}

int rvmsi_mrif_set_pending(u64 *mrif, u32 id)
{
	if (id > RVMSI_MRIF_ID_MAX)
		return -ERANGE;
	mrif[mrif_pending_dw(id)] |= rvmsi_mrif_bit(id);
	return 0;
}

int rvmsi_mrif_set_enable(u64 *mrif, u32 id, bool enable)
{
	if (id > RVMSI_MRIF_ID_MAX)
		return -ERANGE;
	if (enable)
		mrif[mrif_enable_dw(id)] |= rvmsi_mrif_bit(id);
	else
		mrif[mrif_enable_dw(id)] &= ~rvmsi_mrif_bit(id);
	return 0;
}

int rvmsi_mrif_test(const u64 *mrif, u32 id, bool *ret_pending, bool *ret_enabled)
{
	if (id > RVMSI_MRIF_ID_MAX)
		return -ERANGE;
	if (ret_pending)
		*ret_pending = mrif[mrif_pending_dw(id)] & rvmsi_mrif_bit(id);
	if (ret_enabled)
		*ret_enabled = mrif[mrif_enable_dw(id)] & rvmsi_mrif_bit(id);
	return 0;
}

enum rvmsi_mrif_verdict rvmsi_mrif_apply_write(u64 *mrif, u64 addr, u32 size, u32 data_le,
					       bool be_supported, u32 *ret_id)
{
	enum rvmsi_mrif_verdict v;
	u32 id;

	v = rvmsi_mrif_classify_write(addr, size, data_le, be_supported, &id);
	if (v != RVMSI_MRIF_RECORD)
		return v;

	/* id <= 2047 by construction, so this cannot fail. */
	mrif[mrif_pending_dw(id)] |= rvmsi_mrif_bit(id);
	if (ret_id)
		*ret_id = id;
	return RVMSI_MRIF_RECORD;
}

/*
 * The word of qualifying bits for identities 64k..64k+63, with identities
 * below @from masked off.
 */
static u64 mrif_candidates(const u64 *mrif, unsigned int k, u32 from, bool need_enabled)
{
	u64 bits = mrif[2 * k];

	if (need_enabled)
		bits &= mrif[2 * k + 1];
	if (from > k * 64)
		bits &= ~0ULL << (from - k * 64);
	return bits;
}

int rvmsi_mrif_next_pending(const u64 *mrif, u32 from, bool need_enabled)
{
	unsigned int k;

	if (from < 1)
		from = 1;
	if (from > RVMSI_MRIF_ID_MAX)
		return -ENOENT;

	for (k = from / 64; k < RVMSI_MRIF_DWORDS / 2; k++) {
		u64 bits = mrif_candidates(mrif, k, from, need_enabled);

		if (bits)
			return (int)(k * 64 + rvmsi_ctz64(bits));
	}
	return -ENOENT;
}

int rvmsi_mrif_take_pending(u64 *mrif, u32 from)
{
	int id;

	mrif[0] &= ~1ULL;

	id = rvmsi_mrif_next_pending(mrif, from, true);
	if (id < 0)
		return id;
	mrif[mrif_pending_dw((u32)id)] &= ~rvmsi_mrif_bit((u32)id);
	return id;
}

unsigned int rvmsi_mrif_count_pending(const u64 *mrif, bool need_enabled)
{
	unsigned int k, n = 0;

	for (k = 0; k < RVMSI_MRIF_DWORDS / 2; k++)
		n += rvmsi_hweight64(mrif_candidates(mrif, k, 1, need_enabled));
	return n;
}
