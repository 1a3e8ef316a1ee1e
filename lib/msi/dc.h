/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi lib/msi: the device-context (DC) fields around the MSI page table.
 *
 * DC.iohgatp (the second stage, whose GSCID tags cached MSI PTEs), the
 * capabilities bits that decide which second-stage modes exist and how wide
 * msi_addr_mask/msi_addr_pattern may be (MGPAW), the one check-and-encode
 * step before msiptp is written, and a checker of a whole DC for an audit.
 * RISC-V IOMMU spec, src/iommu_data_structures.adoc: "IO hypervisor guest
 * address translation and protection (iohgatp)", "MSI page table pointer",
 * "MSI address mask and pattern" and "Device-context configuration checks".
 * Sources, commit dates and every choice made here: docs/msi-bits.md.
 *
 * Everything here assumes fctl.GXL = 0, the setting under which the RV64
 * second-stage modes exist: iohgatp.MODE 8/9/10 are Sv39x4/Sv48x4/Sv57x4
 * (with GXL = 1, 8 would be Sv32x4 and 9..15 reserved; rvmsi does not
 * support that). All values are CPU-order integers.
 */
#ifndef _RVMSI_DC_H
#define _RVMSI_DC_H

#include "msi_compat.h"
#include "msi_table.h"
#include "iommu_cmd.h"	/* RVMSI_GSCID_MAX (shared with IOTINVAL.GVMA), causes */

/* DC.iohgatp: PPN [43:0], GSCID [59:44], MODE [63:60] */
#define RVMSI_IOHGATP_PPN		GENMASK_ULL(43, 0)
#define RVMSI_IOHGATP_GSCID		GENMASK_ULL(59, 44)
#define RVMSI_IOHGATP_GSCID_SHIFT	44
#define RVMSI_IOHGATP_MODE		GENMASK_ULL(63, 60)
#define RVMSI_IOHGATP_MODE_SHIFT	60
/* MODE encodings with fctl.GXL = 0; 1..7 and 11..15 are reserved */
#define RVMSI_IOHGATP_MODE_BARE		0
#define RVMSI_IOHGATP_MODE_SV39X4	8
#define RVMSI_IOHGATP_MODE_SV48X4	9
#define RVMSI_IOHGATP_MODE_SV57X4	10
/* The root second-stage table is 16 KiB and must be 16 KiB aligned. */
#define RVMSI_IOHGATP_ROOT_ALIGN	16384

/* capabilities register: second-stage modes and physical address size */
#define RVMSI_CAP_SV32X4		BIT_ULL(16)
#define RVMSI_CAP_SV39X4		BIT_ULL(17)
#define RVMSI_CAP_SV48X4		BIT_ULL(18)
#define RVMSI_CAP_SV57X4		BIT_ULL(19)
#define RVMSI_CAP_PAS			GENMASK_ULL(37, 32)
#define RVMSI_CAP_PAS_SHIFT		32

/* DC.tc bits the checker looks at */
#define RVMSI_DC_TC_V			BIT_ULL(0)
#define RVMSI_DC_TC_T2GPA		BIT_ULL(3)

/**
 * rvmsi_iohgatp_encode() - build a DC.iohgatp value
 * @mode: RVMSI_IOHGATP_MODE_BARE, _SV39X4, _SV48X4 or _SV57X4
 * @gscid: guest soft-context ID, 0..RVMSI_GSCID_MAX; 0 for Bare
 * @root_pa: physical byte address of the 16 KiB root second-stage table;
 *	     0 for Bare
 * @ret: where to store the encoded value; untouched on error
 *
 * Bare takes no GSCID and no root: the IOMMU spec does not say what it
 * makes of them (the privileged spec's hgatp wants zeros), so rvmsi only
 * writes canonical zeros. This does not check that the IOMMU supports
 * @mode; rvmsi_msi_dc_encode() and rvmsi_dc_check() do, against the
 * capabilities register.
 *
 * Return: 0, -EOPNOTSUPP for a reserved @mode, -EINVAL for Bare with a
 * non-zero @gscid or @root_pa, or a @root_pa not 16 KiB aligned, -ERANGE for
 * @gscid > RVMSI_GSCID_MAX or @root_pa >= 2^56.
 */
int rvmsi_iohgatp_encode(unsigned int mode, u32 gscid, u64 root_pa, u64 *ret);

/**
 * rvmsi_iohgatp_decode() - split a DC.iohgatp value
 * @iohgatp: the field as read from the device context
 * @ret_mode: the MODE field
 * @ret_gscid: the GSCID field
 * @ret_root_pa: PPN << 12, the byte address of the root table
 *
 * The fields are returned as they are, also under Bare (where the IOMMU
 * does not use them) and also when the root is misaligned; rvmsi_dc_check()
 * judges those.
 *
 * Return: 0, or -EOPNOTSUPP for a reserved MODE (1..7, 11..15). Outputs
 * untouched on error.
 */
int rvmsi_iohgatp_decode(u64 iohgatp, unsigned int *ret_mode, u32 *ret_gscid, u64 *ret_root_pa);

/**
 * rvmsi_mgpaw() - the spec's MGPAW: widest guest physical address, in bits
 * @caps: the IOMMU's capabilities register
 *
 * The spec's rule, in its order: 59 if Sv57x4 is supported, else 50 with
 * Sv48x4, 41 with Sv39x4, 34 with Sv32x4, else capabilities.PAS. The rule
 * itself reads only capabilities (not fctl.GXL); with the GXL = 0 assumed
 * everywhere here, Sv32x4 only matters for an IOMMU that has no other
 * second-stage mode.
 *
 * Return: MGPAW, 0..63.
 */
unsigned int rvmsi_mgpaw(u64 caps);

/**
 * rvmsi_msi_addr_check_caps() - validate msi_addr_mask/pattern for an IOMMU
 * @mask: msi_addr_mask
 * @pattern: msi_addr_pattern
 * @caps: the IOMMU's capabilities register
 *
 * rvmsi_msi_addr_check(), plus the rule added to the spec on 2025-07-25:
 * when MGPAW < 64, bits [51 : MGPAW - 12] of both fields are reserved and
 * must be zero (page-number bits above the widest guest physical address).
 * With MGPAW <= 12 that is every bit.
 *
 * Return: 0, or -EINVAL if a reserved bit of either field is set.
 */
int rvmsi_msi_addr_check_caps(u64 mask, u64 pattern, u64 caps);

/**
 * rvmsi_msi_dc_encode() - the msiptp value for a table, after every check
 * @iohgatp: the DC.iohgatp the table goes with (must not be Bare)
 * @table_pa: physical byte address of the MSI page table
 * @mask: msi_addr_mask the table is sized for
 * @pattern: msi_addr_pattern
 * @caps: the IOMMU's capabilities register
 * @ret_msiptp: Flat-mode msiptp pointing at @table_pa; untouched on error
 *
 * The one call the kernel part needs before writing the MSI fields of a DC
 * (msiptp, msi_addr_mask, msi_addr_pattern) next to @iohgatp. Under a Bare
 * iohgatp msiptp must be Off (spec, 2025-10-01: there is no GSCID to tag
 * the cached MSI PTEs with, and IOMMUs are recommended to report "DDT entry
 * misconfigured", cause 259), so there is no msiptp to encode and this
 * refuses. It also refuses everything rvmsi_dc_check() would find in the
 * resulting DC: a reserved or unsupported iohgatp mode, a misaligned root,
 * reserved mask/pattern bits for @caps, and a misaligned table or one that
 * does not fit below 2^56.
 *
 * Return: 0; -EOPNOTSUPP if @caps lacks MSI_FLAT (the DC has no MSI fields);
 * -EINVAL for a Bare, reserved or unsupported iohgatp mode, a misaligned
 * iohgatp root, reserved bits in @mask/@pattern or a misaligned table;
 * -ERANGE if the table is not below 2^56.
 */
int rvmsi_msi_dc_encode(u64 iohgatp, u64 table_pa, u64 mask, u64 pattern, u64 caps,
			u64 *ret_msiptp);

/**
 * struct rvmsi_dc_view - the fields of one extended device context
 * @tc: translation control (bit 0 is V)
 * @iohgatp: second-stage root, GSCID and mode
 * @ta: translation attributes (not checked here)
 * @fsc: first-stage context (not checked here)
 * @msiptp: MSI page table pointer
 * @msi_addr_mask: MSI address mask
 * @msi_addr_pattern: MSI address pattern
 *
 * CPU-order values, as read from memory with the byte order of fctl.BE.
 */
struct rvmsi_dc_view {
	u64 tc, iohgatp, ta, fsc, msiptp, msi_addr_mask, msi_addr_pattern;
};

/**
 * enum rvmsi_dc_problem - what rvmsi_dc_check() found
 * @RVMSI_DC_OK: nothing wrong with the fields checked
 * @RVMSI_DC_INVALID: tc.V = 0; nothing else is checked (the IOMMU reports
 *	cause 258 for a transaction that uses the DC)
 * @RVMSI_DC_MSIPTP_UNDER_BARE: msiptp not Off while iohgatp is Bare
 * @RVMSI_DC_MSIPTP_MODE_RESERVED: msiptp.MODE neither Off nor Flat (the
 *	custom modes 14..15 included)
 * @RVMSI_DC_MSIPTP_RSVD_BITS: msiptp bits [59:44] set
 * @RVMSI_DC_MSI_ADDR_RSVD: a reserved bit of msi_addr_mask/pattern set:
 *	[63:52], or [51 : MGPAW - 12] for this IOMMU
 * @RVMSI_DC_MSI_TABLE_MISALIGNED: Flat msiptp whose table is not aligned as
 *	the AIA spec requires for its size (see rvmsi_msi_table_check_addr())
 * @RVMSI_DC_IOHGATP_MODE_UNSUPPORTED: a second-stage mode the capabilities
 *	do not report
 * @RVMSI_DC_IOHGATP_ROOT_MISALIGNED: non-Bare iohgatp whose root is not
 *	16 KiB aligned
 * @RVMSI_DC_IOHGATP_BARE_FIELDS: Bare iohgatp with a non-zero GSCID or PPN
 * @RVMSI_DC_IOHGATP_MODE_RESERVED: iohgatp.MODE is a reserved encoding
 * @RVMSI_DC_T2GPA_UNDER_BARE: tc.T2GPA = 1 while iohgatp is Bare
 *
 * The values are stable (new ones are added at the end); the order of the
 * checks is documented at rvmsi_dc_check().
 */
enum rvmsi_dc_problem {
	RVMSI_DC_OK = 0,
	RVMSI_DC_INVALID,
	RVMSI_DC_MSIPTP_UNDER_BARE,
	RVMSI_DC_MSIPTP_MODE_RESERVED,
	RVMSI_DC_MSIPTP_RSVD_BITS,
	RVMSI_DC_MSI_ADDR_RSVD,
	RVMSI_DC_MSI_TABLE_MISALIGNED,
	RVMSI_DC_IOHGATP_MODE_UNSUPPORTED,
	RVMSI_DC_IOHGATP_ROOT_MISALIGNED,
	RVMSI_DC_IOHGATP_BARE_FIELDS,
	RVMSI_DC_IOHGATP_MODE_RESERVED,
	RVMSI_DC_T2GPA_UNDER_BARE,
};

/**
 * rvmsi_dc_check() - check the iohgatp and MSI fields of a device context
 * @dc: the device context
 * @caps: the IOMMU's capabilities register
 *
 * Applies, for fctl.GXL = 0, the spec's device-context configuration checks
 * that concern iohgatp and the MSI fields, then two rules of rvmsi's own.
 * The MSI fields exist only in the extended DC, used when caps.MSI_FLAT is
 * 1; without MSI_FLAT they are not looked at. In this order, the first
 * problem found is returned:
 *
 *  1. tc.V = 0: RVMSI_DC_INVALID.
 *  2. iohgatp.MODE reserved: RVMSI_DC_IOHGATP_MODE_RESERVED.
 *  3. iohgatp.MODE not reported by @caps: RVMSI_DC_IOHGATP_MODE_UNSUPPORTED.
 *  4. iohgatp not Bare, root not 16 KiB aligned:
 *     RVMSI_DC_IOHGATP_ROOT_MISALIGNED.
 *  5. tc.T2GPA = 1 under a Bare iohgatp: RVMSI_DC_T2GPA_UNDER_BARE.
 *  6. (MSI_FLAT) msiptp reserved bits: RVMSI_DC_MSIPTP_RSVD_BITS.
 *  7. (MSI_FLAT) msiptp.MODE not Off/Flat: RVMSI_DC_MSIPTP_MODE_RESERVED.
 *  8. (MSI_FLAT) reserved mask/pattern bits, MGPAW included:
 *     RVMSI_DC_MSI_ADDR_RSVD.
 *  9. (MSI_FLAT) msiptp not Off under a Bare iohgatp:
 *     RVMSI_DC_MSIPTP_UNDER_BARE.
 * 10. (MSI_FLAT) Flat table misaligned for its size:
 *     RVMSI_DC_MSI_TABLE_MISALIGNED.
 * 11. Bare iohgatp with a GSCID or PPN: RVMSI_DC_IOHGATP_BARE_FIELDS.
 *
 * 2-9 are conditions the spec has the IOMMU report as "DDT entry
 * misconfigured" (9 only as a recommendation); 10 and 11 are not checked by
 * an IOMMU (10 makes every MSI PTE UNSPECIFIED, 11 is ignored) and come
 * last, so that rvmsi_dc_problem_fault_cause() of the result says whether
 * the IOMMU would refuse the DC at all. Other DC fields (ta, fsc, the rest
 * of tc) are not checked.
 *
 * Return: the first problem found, or RVMSI_DC_OK.
 */
enum rvmsi_dc_problem rvmsi_dc_check(const struct rvmsi_dc_view *dc, u64 caps);

/**
 * rvmsi_dc_problem_name() - short stable name of a checker result
 * @p: the result
 *
 * Return: a kebab-case name ("ok", "msiptp-under-bare", ...) that does not
 * change between releases, "unknown" for a value outside the enum. Never
 * NULL.
 */
const char *rvmsi_dc_problem_name(enum rvmsi_dc_problem p);

/**
 * rvmsi_dc_problem_fault_cause() - what an IOMMU makes of a checker result
 * @p: the result
 *
 * Return: 259 ("DDT entry misconfigured") for the problems the spec's
 * configuration checks name (RVMSI_DC_MSIPTP_UNDER_BARE included, where the
 * check is recommended rather than required), 258 ("DDT entry not valid")
 * for RVMSI_DC_INVALID, 0 for RVMSI_DC_OK and for rvmsi's own rules, which
 * no IOMMU reports.
 */
unsigned int rvmsi_dc_problem_fault_cause(enum rvmsi_dc_problem p);

#endif /* _RVMSI_DC_H */
