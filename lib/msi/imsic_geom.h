/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi lib/msi: IMSIC interrupt-file geometry.
 *
 * RISC-V AIA spec, "Arrangement of the memory regions of multiple interrupt
 * files": the supervisor-level file of hart h in group g sits at
 * g * 2^E | B | h * 2^D, and the hart's guest files follow it contiguously
 * (S, G1, G2, ...). Linux describes the same layout with
 * struct imsic_global_config (include/linux/irqchip/riscv-imsic.h):
 *
 *   |xxx|Group Index|xxx|HART Index|Guest Index| 0 (12 bits) |
 *
 * with D = 12 + guest_index_bits and E = group_index_shift. This module maps
 * (group, hart, guest file) to the file's page and back, and derives the
 * msi_addr_mask / msi_addr_pattern pair covering every file.
 */
#ifndef _RVMSI_IMSIC_GEOM_H
#define _RVMSI_IMSIC_GEOM_H

#include "msi_compat.h"

/* Limits; the source of each is in docs/msi-bits.md. */
#define RVMSI_IMSIC_MAX_GUEST_BITS	8	/* KVM_DEV_RISCV_AIA guest bits */
#define RVMSI_IMSIC_MAX_HART_BITS	16	/* KVM_DEV_RISCV_AIA hart bits */
#define RVMSI_IMSIC_MAX_GROUP_BITS	8	/* KVM_DEV_RISCV_AIA group bits */
#define RVMSI_IMSIC_MIN_GROUP_SHIFT	24	/* Linux: 2 * IMSIC_MMIO_PAGE_SHIFT */
#define RVMSI_IMSIC_MAX_GROUP_SHIFT	56	/* KVM_DEV_RISCV_AIA group shift */
#define RVMSI_IMSIC_MAX_GEILEN		63	/* RV64 GEILEN limit */
#define RVMSI_IMSIC_MIN_IDS		63
#define RVMSI_IMSIC_MAX_IDS		2047

/**
 * struct rvmsi_imsic_geom - where the S-level and guest interrupt files are
 * @base: address of the S-level file of hart 0 in group 0 (B); must have the
 *	guest, hart and group index fields zero
 * @guest_index_bits: width of the guest index (D - 12); 2^bits >= geilen + 1
 * @hart_index_bits: width of the hart index
 * @group_index_bits: width of the group index (0: one group)
 * @group_index_shift: lowest bit of the group index (E), 24..56; when
 *	@group_index_bits is not 0 it must lie above the hart index field and
 *	the group field must end below bit 56
 * @nr_groups: groups present, 1..2^group_index_bits
 * @nr_harts: harts present in each group, 1..2^hart_index_bits
 * @geilen: guest interrupt files per hart, 0..63 (GEILEN)
 * @nr_ids: identities of an S-level file: 63..2047, of the form 64k - 1
 * @nr_guest_ids: identities of a guest file, same rule (0 if @geilen is 0)
 *
 * Hart and group numbers here are IMSIC positions, not hart IDs: Linux
 * assigns them from the order of the IMSIC node's interrupts-extended list.
 *
 * Filling it from Linux's struct imsic_global_config: base = base_addr
 * (Linux already clears the index fields), the four *_index_* fields as they
 * are, nr_ids/nr_guest_ids as they are, geilen = nr_guest_files where the
 * kernel has it, else the GEILEN KVM detected; nr_groups and nr_harts = one
 * more than the largest group/hart index found in the per-CPU msi_pa values
 * (or 2^bits, which is always valid but gives a larger table).
 *
 * The same struct describes a VM's virtual IMSICs in guest-physical space
 * (from the KVM AIA device attributes: base of vCPU 0's file, group/hart/
 * guest bits and group shift, nr_harts = vCPUs per group), which is what a
 * guest-file or MRIF table is matched against; geilen is then 0, so only the
 * S-level file of each vCPU is covered.
 */
struct rvmsi_imsic_geom {
	u64 base;
	u32 guest_index_bits;
	u32 hart_index_bits;
	u32 group_index_bits;
	u32 group_index_shift;
	u32 nr_groups;
	u32 nr_harts;
	u32 geilen;
	u32 nr_ids;
	u32 nr_guest_ids;
};

/**
 * rvmsi_imsic_geom_validate() - check a geometry for consistency
 * @g: the geometry
 *
 * Checks every field against its limit, that GEILEN + 1 files fit the guest
 * index, that the index fields do not overlap, that @g->base is aligned and
 * has no index bit set, and that every file lies below 2^56.
 *
 * Return: 0, or -EINVAL naming no field (see docs/msi-bits.md for the rules).
 */
int rvmsi_imsic_geom_validate(const struct rvmsi_imsic_geom *g);

/**
 * rvmsi_imsic_file_addr() - address of an interrupt file
 * @g: a valid geometry
 * @group: group index, < nr_groups
 * @hart: hart index within the group, < nr_harts
 * @guest: 0 for the S-level file, 1..geilen for guest file N
 * @ret_pa: the page address; untouched on error
 *
 * Return: 0, -EINVAL for an invalid geometry, -ERANGE for an index out of
 * range.
 */
int rvmsi_imsic_file_addr(const struct rvmsi_imsic_geom *g, u32 group, u32 hart, u32 guest,
			  u64 *ret_pa);

/**
 * rvmsi_imsic_file_locate() - which interrupt file an address belongs to
 * @g: a valid geometry
 * @pa: any byte address (the offset within the page is ignored)
 * @ret_group: group index (may be NULL)
 * @ret_hart: hart index (may be NULL)
 * @ret_guest: 0 for the S-level file, else the guest file number (may be NULL)
 *
 * Return: 0, or -EINVAL if the geometry is invalid or @pa is not in the page
 * of an existing S-level or guest file (outputs untouched).
 */
int rvmsi_imsic_file_locate(const struct rvmsi_imsic_geom *g, u64 pa, u32 *ret_group,
			    u32 *ret_hart, u32 *ret_guest);

/**
 * rvmsi_imsic_msi_mask_pattern() - DC mask and pattern covering all files
 * @g: a valid geometry
 * @ret_mask: msi_addr_mask (page-number bits)
 * @ret_pattern: msi_addr_pattern (the base page number, 0 under the mask)
 *
 * The mask holds, in each index field, only the low bits needed for the
 * files that exist: ceil(log2(geilen + 1)) guest bits, ceil(log2(nr_harts))
 * hart bits and ceil(log2(nr_groups)) group bits. That is the smallest
 * mask/pattern pair that matches every S-level and guest file; the only other
 * pages it matches are holes inside the IMSIC region (guest numbers above
 * GEILEN or harts/groups beyond the count, rounded up to a power of two).
 *
 * Return: 0, or -EINVAL for an invalid geometry (outputs untouched).
 */
int rvmsi_imsic_msi_mask_pattern(const struct rvmsi_imsic_geom *g, u64 *ret_mask,
				 u64 *ret_pattern);

/**
 * rvmsi_imsic_table_entries() - number of MSI table entries for the mask
 *	of rvmsi_imsic_msi_mask_pattern()
 * @g: a valid geometry
 * @ret_entries: 2^popcount(mask); untouched on error
 *
 * Return: 0, or -EINVAL for an invalid geometry.
 */
int rvmsi_imsic_table_entries(const struct rvmsi_imsic_geom *g, u64 *ret_entries);

/**
 * rvmsi_imsic_file_index() - MSI table index of an interrupt file
 * @g: a valid geometry
 * @group: group index
 * @hart: hart index within the group
 * @guest: 0 for the S-level file, else the guest file number
 * @ret_index: extract(file page number, mask); untouched on error
 *
 * Return: 0, -EINVAL for an invalid geometry, -ERANGE for an index out of
 * range.
 */
int rvmsi_imsic_file_index(const struct rvmsi_imsic_geom *g, u32 group, u32 hart, u32 guest,
			   u64 *ret_index);

/**
 * rvmsi_imsic_index_file() - interrupt file behind an MSI table index
 * @g: a valid geometry
 * @index: table index
 * @ret_group: group index (may be NULL)
 * @ret_hart: hart index (may be NULL)
 * @ret_guest: guest file number, 0 for S-level (may be NULL)
 *
 * Return: 0, -EINVAL for an invalid geometry, -ERANGE if @index is beyond the
 * table, -ENOENT if @index covers a hole (no such file).
 */
int rvmsi_imsic_index_file(const struct rvmsi_imsic_geom *g, u64 index, u32 *ret_group,
			   u32 *ret_hart, u32 *ret_guest);

#endif /* _RVMSI_IMSIC_GEOM_H */
