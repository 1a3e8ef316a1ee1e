// SPDX-License-Identifier: GPL-2.0-only
/*
 * rvmsi lib/msi: the RISC-V IOMMU MSI page table. See msi_table.h.
 */
#include "msi_table.h"
#include "iommu_cmd.h"

int rvmsi_msiptp_encode(unsigned int mode, u64 ppn, u64 *ret)
{
	if (mode != RVMSI_MSIPTP_MODE_OFF && mode != RVMSI_MSIPTP_MODE_FLAT)
		return -EOPNOTSUPP;
	if (ppn & ~RVMSI_MSIPTP_PPN)
		return -ERANGE;
	if (mode == RVMSI_MSIPTP_MODE_OFF && ppn)
		return -EINVAL;

	*ret = ((u64)mode << RVMSI_MSIPTP_MODE_SHIFT) | ppn;
	return 0;
}

int rvmsi_msiptp_decode(u64 msiptp, unsigned int *ret_mode, u64 *ret_ppn)
{
	unsigned int mode = (unsigned int)(msiptp >> RVMSI_MSIPTP_MODE_SHIFT);

	if (mode != RVMSI_MSIPTP_MODE_OFF && mode != RVMSI_MSIPTP_MODE_FLAT)
		return -EOPNOTSUPP;
	if (msiptp & RVMSI_MSIPTP_RSVD)
		return -EINVAL;

	*ret_mode = mode;
	*ret_ppn = msiptp & RVMSI_MSIPTP_PPN;
	return 0;
}

int rvmsi_msi_addr_check(u64 mask, u64 pattern)
{
	if ((mask | pattern) & RVMSI_MSI_ADDR_RSVD)
		return -EINVAL;
	return 0;
}

bool rvmsi_msi_addr_match(u64 addr, u64 mask, u64 pattern)
{
	/*
	 * The fields are 52 bits wide; A >> 12 also has 52 significant bits,
	 * so the comparison covers exactly the defined bits. Reserved bits of
	 * mask/pattern are not looked at (callers validate them first).
	 */
	u64 page = addr >> RVMSI_PAGE_SHIFT;
	u64 care = ~mask & RVMSI_MSI_ADDR_FIELD;

	return (page & care) == (pattern & care);
}

u64 rvmsi_extract(u64 x, u64 mask)
{
	u64 out = 0;
	unsigned int n = 0;

	/* Walk the set bits of mask from the bottom, one per iteration. */
	while (mask) {
		u64 low = mask & (~mask + 1);

		if (x & low)
			out |= 1ULL << n;
		n++;
		mask &= mask - 1;
	}
	return out;
}

u64 rvmsi_deposit(u64 index, u64 mask)
{
	u64 out = 0;
	unsigned int n = 0;

	/* mask has at most 64 set bits, so n stays below 64 in the loop */
	while (mask) {
		u64 low = mask & (~mask + 1);

		if ((index >> n) & 1)
			out |= low;
		n++;
		mask &= mask - 1;
	}
	return out;
}

int rvmsi_msi_index(u64 addr, u64 mask, u64 pattern, u64 *ret_index)
{
	int r;

	r = rvmsi_msi_addr_check(mask, pattern);
	if (r < 0)
		return r;
	if (!rvmsi_msi_addr_match(addr, mask, pattern))
		return -ENOENT;

	*ret_index = rvmsi_extract(addr >> RVMSI_PAGE_SHIFT, mask);
	return 0;
}

int rvmsi_msi_index_addr(u64 index, u64 mask, u64 pattern, u64 *ret_addr)
{
	unsigned int order;
	u64 page;
	int r;

	r = rvmsi_msi_addr_check(mask, pattern);
	if (r < 0)
		return r;
	/* order <= 52: the shift is always defined */
	order = rvmsi_msi_table_order(mask);
	if (index >> order)
		return -ERANGE;

	page = (pattern & ~mask) | rvmsi_deposit(index, mask);
	*ret_addr = page << RVMSI_PAGE_SHIFT;
	return 0;
}

unsigned int rvmsi_msi_table_order(u64 mask)
{
	return rvmsi_hweight64(mask & RVMSI_MSI_ADDR_FIELD);
}

int rvmsi_msi_table_size(u64 mask, u64 *ret_bytes)
{
	if (mask & RVMSI_MSI_ADDR_RSVD)
		return -EINVAL;

	/* At most 2^52 entries of 16 bytes: 2^56, fits a u64. */
	*ret_bytes = (u64)RVMSI_MSIPTE_SIZE << rvmsi_msi_table_order(mask);
	return 0;
}

int rvmsi_msi_table_align(u64 mask, u64 *ret_align)
{
	u64 size;
	int r;

	r = rvmsi_msi_table_size(mask, &size);
	if (r < 0)
		return r;

	if (size <= RVMSI_MSI_TABLE_SMALL_ENTRIES * RVMSI_MSIPTE_SIZE)
		*ret_align = RVMSI_PAGE_SIZE;
	else
		*ret_align = size;
	return 0;
}

int rvmsi_msi_table_check_addr(u64 table_pa, u64 mask)
{
	u64 size, align;
	int r;

	r = rvmsi_msi_table_align(mask, &align);
	if (r < 0)
		return r;
	/* Cannot fail once the alignment was computed for the same mask. */
	(void)rvmsi_msi_table_size(mask, &size);

	if (table_pa & (align - 1))
		return -EINVAL;
	/* Both are powers of two <= 2^56 here, so the subtraction is safe. */
	if (table_pa >= (1ULL << RVMSI_PA_BITS) ||
	    size > (1ULL << RVMSI_PA_BITS) - table_pa)
		return -ERANGE;
	return 0;
}

int rvmsi_msi_pte_addr(u64 msiptp, u64 mask, u64 pattern, u64 addr, u64 *ret_pte_pa)
{
	unsigned int mode;
	u64 ppn, index;
	int r;

	r = rvmsi_msiptp_decode(msiptp, &mode, &ppn);
	if (r < 0)
		return r;
	if (mode != RVMSI_MSIPTP_MODE_FLAT)
		return -EINVAL;
	r = rvmsi_msi_index(addr, mask, pattern, &index);
	if (r < 0)
		return r;

	/* The spec ORs, which equals adding for a correctly aligned table. */
	*ret_pte_pa = (ppn << RVMSI_PAGE_SHIFT) | (index * RVMSI_MSIPTE_SIZE);
	return 0;
}

int rvmsi_msipte_basic(u64 ppn, u64 sw, struct rvmsi_msipte *ret)
{
	if (ppn > RVMSI_PPN_MAX)
		return -ERANGE;

	ret->dw0 = RVMSI_MSIPTE_V |
		   ((u64)RVMSI_MSIPTE_M_BASIC << RVMSI_MSIPTE_M_SHIFT) |
		   (ppn << RVMSI_MSIPTE_PPN_SHIFT);
	ret->dw1 = sw;
	return 0;
}

int rvmsi_msipte_mrif(u64 mrif_pa, u64 nppn, u32 nid, struct rvmsi_msipte *ret)
{
	if (mrif_pa & (RVMSI_MRIF_ALIGN - 1))
		return -EINVAL;
	if (mrif_pa >= (1ULL << RVMSI_PA_BITS) || nppn > RVMSI_PPN_MAX ||
	    nid > RVMSI_NID_MAX)
		return -ERANGE;

	/* MRIF address bits [55:9] go to PTE bits [53:7]. */
	ret->dw0 = RVMSI_MSIPTE_V |
		   ((u64)RVMSI_MSIPTE_M_MRIF << RVMSI_MSIPTE_M_SHIFT) |
		   ((mrif_pa >> 9) << RVMSI_MSIPTE_MRIF_ADDR_SHIFT);
	ret->dw1 = ((u64)(nid & RVMSI_MSIPTE_NID_LO)) |
		   (nppn << RVMSI_MSIPTE_NPPN_SHIFT) |
		   ((u64)(nid >> 10) << RVMSI_MSIPTE_NID_HI_SHIFT);
	return 0;
}

void rvmsi_msipte_invalid(struct rvmsi_msipte *ret)
{
	ret->dw0 = 0;
	ret->dw1 = 0;
}

int rvmsi_msipte_decode(const struct rvmsi_msipte *pte, struct rvmsi_msipte_info *ret)
{
	struct rvmsi_msipte_info info = { .kind = RVMSI_MSIPTE_INVALID };
	u64 dw0 = pte->dw0, dw1 = pte->dw1;
	unsigned int m;

	if (!(dw0 & RVMSI_MSIPTE_V)) {
		/* Every other bit is ignored by the IOMMU and free for software. */
		*ret = info;
		return 0;
	}
	if (dw0 & RVMSI_MSIPTE_C)
		return -EOPNOTSUPP;

	m = (unsigned int)((dw0 & RVMSI_MSIPTE_M) >> RVMSI_MSIPTE_M_SHIFT);
	switch (m) {
	case RVMSI_MSIPTE_M_BASIC:
		if (dw0 & RVMSI_MSIPTE_BASIC_RSVD0)
			return -EINVAL;
		info.kind = RVMSI_MSIPTE_BASIC;
		info.ppn = (dw0 & RVMSI_MSIPTE_PPN) >> RVMSI_MSIPTE_PPN_SHIFT;
		info.sw = dw1;
		break;
	case RVMSI_MSIPTE_M_MRIF:
		if ((dw0 & RVMSI_MSIPTE_MRIF_RSVD0) || (dw1 & RVMSI_MSIPTE_MRIF_RSVD1))
			return -EINVAL;
		info.kind = RVMSI_MSIPTE_MRIF;
		info.mrif_pa = ((dw0 & RVMSI_MSIPTE_MRIF_ADDR) >>
				RVMSI_MSIPTE_MRIF_ADDR_SHIFT) << 9;
		info.nppn = (dw1 & RVMSI_MSIPTE_NPPN) >> RVMSI_MSIPTE_NPPN_SHIFT;
		info.nid = (u32)(dw1 & RVMSI_MSIPTE_NID_LO) |
			   ((u32)((dw1 & RVMSI_MSIPTE_NID_HI) >> RVMSI_MSIPTE_NID_HI_SHIFT) << 10);
		break;
	default:
		/* M = 0 and M = 2 are reserved: "MSI PTE misconfigured". */
		return -EINVAL;
	}

	*ret = info;
	return 0;
}

unsigned int rvmsi_msipte_fault_cause(const struct rvmsi_msipte *pte, bool have_mrif)
{
	struct rvmsi_msipte_info info;
	int r;

	r = rvmsi_msipte_decode(pte, &info);
	if (r < 0)
		return RVMSI_CAUSE_MSI_MISCONFIGURED;
	if (info.kind == RVMSI_MSIPTE_INVALID)
		return RVMSI_CAUSE_MSI_INVALID;
	if (info.kind == RVMSI_MSIPTE_MRIF && !have_mrif)
		return RVMSI_CAUSE_MSI_MISCONFIGURED;
	return 0;
}

int rvmsi_msipte_translate(const struct rvmsi_msipte *pte, u64 addr, u64 *ret_pa)
{
	struct rvmsi_msipte_info info;
	int r;

	r = rvmsi_msipte_decode(pte, &info);
	if (r < 0 || info.kind != RVMSI_MSIPTE_BASIC)
		return -EINVAL;

	*ret_pa = (info.ppn << RVMSI_PAGE_SHIFT) | (addr & (RVMSI_PAGE_SIZE - 1));
	return 0;
}
