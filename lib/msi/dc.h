/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi lib/msi: the device-context (DC) fields around the MSI page table.
 *
 * DC.iohgatp (the second stage, whose GSCID tags cached MSI PTEs), the
 * capabilities bits that decide which second-stage modes exist and how wide
 * msi_addr_mask/msi_addr_pattern may be (MGPAW), the one check-and-encode
 * step before msiptp is written.
 * RISC-V IOMMU spec, src/iommu_data_structures.adoc: "IO hypervisor guest
 * address translation and protection (iohgatp)", "MSI page table pointer",
 * "MSI address mask and pattern" and "Device-context configuration checks".
 * Sources, commit dates and every choice made here: docs/msi-bits.md.
 *
 * Everything here assumes fctl.GXL = 0, the only setting of an RV64 host
 * with Linux: iohgatp.MODE 8/9/10 are Sv39x4/Sv48x4/Sv57x4 (with GXL = 1,
 * 8 would be Sv32x4 and 9..15 reserved). All values are CPU-order integers.
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
 * @mode; rvmsi_msi_dc_encode() does, against the capabilities register.
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
 * does not use them) and also when the root is misaligned.
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
 * refuses. It also refuses a reserved or unsupported iohgatp mode, a
 * misaligned root, reserved mask/pattern bits for @caps, and a misaligned
 * table or one that does not fit below 2^56.
 *
 * Return: 0; -EOPNOTSUPP if @caps lacks MSI_FLAT (the DC has no MSI fields);
 * -EINVAL for a Bare, reserved or unsupported iohgatp mode, a misaligned
 * iohgatp root, reserved bits in @mask/@pattern or a misaligned table;
 * -ERANGE if the table is not below 2^56.
 */
int rvmsi_msi_dc_encode(u64 iohgatp, u64 table_pa, u64 mask, u64 pattern, u64 caps,
			u64 *ret_msiptp);

#endif /* _RVMSI_DC_H */
