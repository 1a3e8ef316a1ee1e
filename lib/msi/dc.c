// SPDX-License-Identifier: GPL-2.0-only
/*
 * rvmsi lib/msi: device-context fields around the MSI page table. See dc.h.
 */
#include "dc.h"

static bool iohgatp_mode_defined(unsigned int mode)
{
	/* fctl.GXL = 0: Bare, Sv39x4, Sv48x4, Sv57x4; everything else reserved. */
	return mode == RVMSI_IOHGATP_MODE_BARE ||
	       (mode >= RVMSI_IOHGATP_MODE_SV39X4 && mode <= RVMSI_IOHGATP_MODE_SV57X4);
}

static bool iohgatp_mode_supported(unsigned int mode, u64 caps)
{
	switch (mode) {
	case RVMSI_IOHGATP_MODE_BARE:
		/* Bare needs no capability. */
		return true;
	case RVMSI_IOHGATP_MODE_SV39X4:
		return caps & RVMSI_CAP_SV39X4;
	case RVMSI_IOHGATP_MODE_SV48X4:
		return caps & RVMSI_CAP_SV48X4;
	case RVMSI_IOHGATP_MODE_SV57X4:
		return caps & RVMSI_CAP_SV57X4;
	default:
		return false;
	}
}

static unsigned int iohgatp_mode(u64 iohgatp)
{
	return (unsigned int)(iohgatp >> RVMSI_IOHGATP_MODE_SHIFT);
}

static bool iohgatp_root_aligned(u64 iohgatp)
{
	/* 16 KiB = four pages: the two low PPN bits must be clear. */
	return !((iohgatp & RVMSI_IOHGATP_PPN) &
		 ((RVMSI_IOHGATP_ROOT_ALIGN >> RVMSI_PAGE_SHIFT) - 1));
}

int rvmsi_iohgatp_encode(unsigned int mode, u32 gscid, u64 root_pa, u64 *ret)
{
	if (!iohgatp_mode_defined(mode))
		return -EOPNOTSUPP;
	if (mode == RVMSI_IOHGATP_MODE_BARE) {
		/* Canonical Bare: the IOMMU spec leaves other values unsaid. */
		if (gscid || root_pa)
			return -EINVAL;
		*ret = 0;
		return 0;
	}
	if (gscid > RVMSI_GSCID_MAX)
		return -ERANGE;
	if (root_pa & (RVMSI_IOHGATP_ROOT_ALIGN - 1))
		return -EINVAL;
	if (root_pa >> RVMSI_PA_BITS)
		return -ERANGE;

	*ret = ((u64)mode << RVMSI_IOHGATP_MODE_SHIFT) |
	       ((u64)gscid << RVMSI_IOHGATP_GSCID_SHIFT) |
	       (root_pa >> RVMSI_PAGE_SHIFT);
	return 0;
}

int rvmsi_iohgatp_decode(u64 iohgatp, unsigned int *ret_mode, u32 *ret_gscid, u64 *ret_root_pa)
{
	unsigned int mode = iohgatp_mode(iohgatp);

	if (!iohgatp_mode_defined(mode))
		return -EOPNOTSUPP;

	*ret_mode = mode;
	*ret_gscid = (u32)((iohgatp & RVMSI_IOHGATP_GSCID) >> RVMSI_IOHGATP_GSCID_SHIFT);
	*ret_root_pa = (iohgatp & RVMSI_IOHGATP_PPN) << RVMSI_PAGE_SHIFT;
	return 0;
}

unsigned int rvmsi_mgpaw(u64 caps)
{
	/* The spec's list, first match wins: the widest x4 mode, else PAS. */
	if (caps & RVMSI_CAP_SV57X4)
		return 59;
	if (caps & RVMSI_CAP_SV48X4)
		return 50;
	if (caps & RVMSI_CAP_SV39X4)
		return 41;
	if (caps & RVMSI_CAP_SV32X4)
		return 34;
	return (unsigned int)((caps & RVMSI_CAP_PAS) >> RVMSI_CAP_PAS_SHIFT);
}

/* Bits of msi_addr_mask/pattern that must be zero on an IOMMU with @caps. */
static u64 msi_addr_rsvd(u64 caps)
{
	unsigned int mgpaw = rvmsi_mgpaw(caps), low;

	/*
	 * Bits [51 : MGPAW - 12] are reserved when MGPAW < 64, which
	 * rvmsi_mgpaw() always is (at most 59, or a 6-bit PAS). They are page
	 * numbers of guest addresses wider than MGPAW, which cannot occur. An
	 * MGPAW of 12 or less leaves no page-number bit at all.
	 */
	low = mgpaw > RVMSI_PAGE_SHIFT ? mgpaw - RVMSI_PAGE_SHIFT : 0;
	if (low > 51)
		return RVMSI_MSI_ADDR_RSVD;
	return RVMSI_MSI_ADDR_RSVD | GENMASK_ULL(51, low);
}

int rvmsi_msi_addr_check_caps(u64 mask, u64 pattern, u64 caps)
{
	int r;

	r = rvmsi_msi_addr_check(mask, pattern);
	if (r < 0)
		return r;
	if ((mask | pattern) & msi_addr_rsvd(caps))
		return -EINVAL;
	return 0;
}

int rvmsi_msi_dc_encode(u64 iohgatp, u64 table_pa, u64 mask, u64 pattern, u64 caps,
			u64 *ret_msiptp)
{
	unsigned int mode = iohgatp_mode(iohgatp);
	int r;

	/* Without MSI_FLAT the DC is the base format: there is no msiptp. */
	if (!(caps & RVMSI_CAP_MSI_FLAT))
		return -EOPNOTSUPP;
	/*
	 * An MSI table needs a second stage: under Bare there is no GSCID to
	 * tag its cached PTEs with, and msiptp must be Off. A reserved or
	 * unsupported mode or a misaligned root makes the whole DC
	 * misconfigured (cause 259), the table with it.
	 */
	if (mode == RVMSI_IOHGATP_MODE_BARE || !iohgatp_mode_defined(mode) ||
	    !iohgatp_mode_supported(mode, caps) || !iohgatp_root_aligned(iohgatp))
		return -EINVAL;
	r = rvmsi_msi_addr_check_caps(mask, pattern, caps);
	if (r < 0)
		return r;
	r = rvmsi_msi_table_check_addr(table_pa, mask);
	if (r < 0)
		return r;

	/* Aligned to at least 4 KiB and below 2^56: the PPN fits 44 bits. */
	return rvmsi_msiptp_encode(RVMSI_MSIPTP_MODE_FLAT, table_pa >> RVMSI_PAGE_SHIFT,
				   ret_msiptp);
}
