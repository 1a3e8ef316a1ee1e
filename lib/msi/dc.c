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

enum rvmsi_dc_problem rvmsi_dc_check(const struct rvmsi_dc_view *dc, u64 caps)
{
	unsigned int gmode = iohgatp_mode(dc->iohgatp), mmode;
	bool bare = gmode == RVMSI_IOHGATP_MODE_BARE;

	/* V = 0: every other bit is the software's to use. */
	if (!(dc->tc & RVMSI_DC_TC_V))
		return RVMSI_DC_INVALID;

	/*
	 * The second stage first: whether the MSI fields are legal at all
	 * depends on its mode.
	 */
	if (!iohgatp_mode_defined(gmode))
		return RVMSI_DC_IOHGATP_MODE_RESERVED;
	if (!iohgatp_mode_supported(gmode, caps))
		return RVMSI_DC_IOHGATP_MODE_UNSUPPORTED;
	if (!bare && !iohgatp_root_aligned(dc->iohgatp))
		return RVMSI_DC_IOHGATP_ROOT_MISALIGNED;
	/* Returning a GPA for ATS means nothing without a second stage. */
	if (bare && (dc->tc & RVMSI_DC_TC_T2GPA))
		return RVMSI_DC_T2GPA_UNDER_BARE;

	/* A base-format DC (no MSI_FLAT) has no MSI fields to check. */
	if (caps & RVMSI_CAP_MSI_FLAT) {
		mmode = (unsigned int)(dc->msiptp >> RVMSI_MSIPTP_MODE_SHIFT);
		if (dc->msiptp & RVMSI_MSIPTP_RSVD)
			return RVMSI_DC_MSIPTP_RSVD_BITS;
		/* The custom modes 14..15 too: the spec's check names Off and Flat only. */
		if (mmode != RVMSI_MSIPTP_MODE_OFF && mmode != RVMSI_MSIPTP_MODE_FLAT)
			return RVMSI_DC_MSIPTP_MODE_RESERVED;
		/* Reserved even while msiptp is Off: the spec's first check. */
		if (rvmsi_msi_addr_check_caps(dc->msi_addr_mask, dc->msi_addr_pattern, caps))
			return RVMSI_DC_MSI_ADDR_RSVD;
		if (bare && mmode != RVMSI_MSIPTP_MODE_OFF)
			return RVMSI_DC_MSIPTP_UNDER_BARE;
		/*
		 * Not an IOMMU check: the AIA spec makes every entry of a
		 * misaligned table UNSPECIFIED. The mask is valid by now and
		 * the PPN is 44 bits, so only misalignment can fail here.
		 */
		if (mmode == RVMSI_MSIPTP_MODE_FLAT &&
		    rvmsi_msi_table_check_addr((dc->msiptp & RVMSI_MSIPTP_PPN) << RVMSI_PAGE_SHIFT,
					       dc->msi_addr_mask))
			return RVMSI_DC_MSI_TABLE_MISALIGNED;
	}

	/* rvmsi's canonical Bare; the IOMMU ignores these fields. */
	if (bare && (dc->iohgatp & (RVMSI_IOHGATP_GSCID | RVMSI_IOHGATP_PPN)))
		return RVMSI_DC_IOHGATP_BARE_FIELDS;
	return RVMSI_DC_OK;
}

/* Indexed by enum rvmsi_dc_problem; the names are an interface, never renamed. */
static const char * const dc_problem_names[] = {
	[RVMSI_DC_OK] = "ok",
	[RVMSI_DC_INVALID] = "invalid",
	[RVMSI_DC_MSIPTP_UNDER_BARE] = "msiptp-under-bare",
	[RVMSI_DC_MSIPTP_MODE_RESERVED] = "msiptp-mode-reserved",
	[RVMSI_DC_MSIPTP_RSVD_BITS] = "msiptp-rsvd-bits",
	[RVMSI_DC_MSI_ADDR_RSVD] = "msi-addr-rsvd",
	[RVMSI_DC_MSI_TABLE_MISALIGNED] = "msi-table-misaligned",
	[RVMSI_DC_IOHGATP_MODE_UNSUPPORTED] = "iohgatp-mode-unsupported",
	[RVMSI_DC_IOHGATP_ROOT_MISALIGNED] = "iohgatp-root-misaligned",
	[RVMSI_DC_IOHGATP_BARE_FIELDS] = "iohgatp-bare-fields",
	[RVMSI_DC_IOHGATP_MODE_RESERVED] = "iohgatp-mode-reserved",
	[RVMSI_DC_T2GPA_UNDER_BARE] = "t2gpa-under-bare",
};

const char *rvmsi_dc_problem_name(enum rvmsi_dc_problem p)
{
	if ((unsigned int)p < ARRAY_SIZE(dc_problem_names) && dc_problem_names[p])
		return dc_problem_names[p];
	return "unknown";
}

unsigned int rvmsi_dc_problem_fault_cause(enum rvmsi_dc_problem p)
{
	switch (p) {
	case RVMSI_DC_INVALID:
		return RVMSI_CAUSE_DDT_INVALID;
	case RVMSI_DC_MSIPTP_UNDER_BARE:
	case RVMSI_DC_MSIPTP_MODE_RESERVED:
	case RVMSI_DC_MSIPTP_RSVD_BITS:
	case RVMSI_DC_MSI_ADDR_RSVD:
	case RVMSI_DC_IOHGATP_MODE_UNSUPPORTED:
	case RVMSI_DC_IOHGATP_ROOT_MISALIGNED:
	case RVMSI_DC_IOHGATP_MODE_RESERVED:
	case RVMSI_DC_T2GPA_UNDER_BARE:
		return RVMSI_CAUSE_DDT_MISCONFIGURED;
	default:
		/* OK, and rvmsi's own rules, which no IOMMU checks. */
		return 0;
	}
}
