/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi lib/msi: the RISC-V IOMMU MSI page table.
 *
 * Device-context fields msiptp, msi_addr_mask and msi_addr_pattern (RISC-V
 * IOMMU spec, "Device-context" and "Process to translate addresses of MSIs"),
 * the interrupt-file-number extraction, table size and alignment, and the
 * 16-byte MSI PTE in basic (M=3) and MRIF (M=1) mode (RISC-V AIA spec,
 * chapter "IOMMU Support for MSIs to Virtual Machines"). Sources and every
 * ambiguity found are listed in docs/msi-bits.md.
 *
 * Conventions: addresses are physical (or guest-physical) byte addresses in
 * a u64; "page number" means address >> 12. All values are CPU-order
 * integers; nothing here reads or writes memory. See struct rvmsi_msipte for
 * the in-memory byte order.
 */
#ifndef _RVMSI_MSI_TABLE_H
#define _RVMSI_MSI_TABLE_H

#include "msi_compat.h"

#define RVMSI_PAGE_SHIFT		12
#define RVMSI_PAGE_SIZE			BIT_ULL(RVMSI_PAGE_SHIFT)

/* Widest physical address a PPN field of the IOMMU can hold: 44 + 12 bits. */
#define RVMSI_PA_BITS			56
#define RVMSI_PPN_MAX			GENMASK_ULL(43, 0)

/* capabilities register bits relevant to MSI translation */
#define RVMSI_CAP_AMO_MRIF		BIT_ULL(21)
#define RVMSI_CAP_MSI_FLAT		BIT_ULL(22)
#define RVMSI_CAP_MSI_MRIF		BIT_ULL(23)

/* DC.msiptp */
#define RVMSI_MSIPTP_PPN		GENMASK_ULL(43, 0)
#define RVMSI_MSIPTP_RSVD		GENMASK_ULL(59, 44)
#define RVMSI_MSIPTP_MODE		GENMASK_ULL(63, 60)
#define RVMSI_MSIPTP_MODE_SHIFT		60
#define RVMSI_MSIPTP_MODE_OFF		0
#define RVMSI_MSIPTP_MODE_FLAT		1
/* 2..13 reserved (DC misconfigured, cause 259), 14..15 custom */

/* DC.msi_addr_mask and DC.msi_addr_pattern: page-number bits [51:0] */
#define RVMSI_MSI_ADDR_FIELD		GENMASK_ULL(51, 0)
#define RVMSI_MSI_ADDR_RSVD		GENMASK_ULL(63, 52)

/* MSI PTE, first doubleword */
#define RVMSI_MSIPTE_V			BIT_ULL(0)
#define RVMSI_MSIPTE_M			GENMASK_ULL(2, 1)
#define RVMSI_MSIPTE_M_SHIFT		1
#define RVMSI_MSIPTE_M_MRIF		1
#define RVMSI_MSIPTE_M_BASIC		3
#define RVMSI_MSIPTE_PPN		GENMASK_ULL(53, 10)	/* M=3 */
#define RVMSI_MSIPTE_PPN_SHIFT		10
#define RVMSI_MSIPTE_MRIF_ADDR		GENMASK_ULL(53, 7)	/* M=1: addr[55:9] */
#define RVMSI_MSIPTE_MRIF_ADDR_SHIFT	7
#define RVMSI_MSIPTE_C			BIT_ULL(63)
/* MSI PTE, second doubleword, MRIF mode only (ignored in basic mode) */
#define RVMSI_MSIPTE_NID_LO		GENMASK_ULL(9, 0)
#define RVMSI_MSIPTE_NPPN		GENMASK_ULL(53, 10)
#define RVMSI_MSIPTE_NPPN_SHIFT		10
#define RVMSI_MSIPTE_NID_HI		BIT_ULL(60)		/* NID[10] */
#define RVMSI_MSIPTE_NID_HI_SHIFT	60

#define RVMSI_MSIPTE_SIZE		16
#define RVMSI_MRIF_ALIGN		512
#define RVMSI_NID_MAX			2047

/* Reserved (must-be-zero) bits of each form, derived from the fields above. */
#define RVMSI_MSIPTE_BASIC_RSVD0	(~(RVMSI_MSIPTE_V | RVMSI_MSIPTE_M | \
					   RVMSI_MSIPTE_PPN | RVMSI_MSIPTE_C))
#define RVMSI_MSIPTE_MRIF_RSVD0		(~(RVMSI_MSIPTE_V | RVMSI_MSIPTE_M | \
					   RVMSI_MSIPTE_MRIF_ADDR | RVMSI_MSIPTE_C))
#define RVMSI_MSIPTE_MRIF_RSVD1		(~(RVMSI_MSIPTE_NID_LO | RVMSI_MSIPTE_NPPN | \
					   RVMSI_MSIPTE_NID_HI))

/* Tables of at most this many entries need only 4 KiB alignment. */
#define RVMSI_MSI_TABLE_SMALL_ENTRIES	256

/**
 * rvmsi_msiptp_encode() - build a DC.msiptp value
 * @mode: RVMSI_MSIPTP_MODE_OFF or RVMSI_MSIPTP_MODE_FLAT
 * @ppn: page number of the MSI page table (table address >> 12); must be 0
 *	 for MODE_OFF so that a disabled DC stays canonical
 * @ret: where to store the encoded value; untouched on error
 *
 * Return: 0, -EOPNOTSUPP for a reserved or custom mode, -ERANGE if @ppn does
 * not fit the 44-bit field, -EINVAL for a non-zero @ppn with MODE_OFF.
 */
int rvmsi_msiptp_encode(unsigned int mode, u64 ppn, u64 *ret);

/**
 * rvmsi_msiptp_decode() - split a DC.msiptp value
 * @msiptp: the field as read from the device context
 * @ret_mode: the MODE field (RVMSI_MSIPTP_MODE_OFF or _FLAT)
 * @ret_ppn: the PPN field (hardware ignores it when MODE is Off)
 *
 * Return: 0, -EOPNOTSUPP for a reserved (2..13) or custom (14..15) mode,
 * -EINVAL if reserved bits [59:44] are set. Outputs untouched on error.
 */
int rvmsi_msiptp_decode(u64 msiptp, unsigned int *ret_mode, u64 *ret_ppn);

/**
 * rvmsi_msi_addr_check() - validate DC.msi_addr_mask and DC.msi_addr_pattern
 * @mask: msi_addr_mask (page-number bits that select the table entry)
 * @pattern: msi_addr_pattern (page-number bits that must match elsewhere)
 *
 * Bits of @pattern under @mask are ignored by hardware; they are accepted.
 *
 * Return: 0, or -EINVAL if a reserved bit [63:52] of either is set.
 */
int rvmsi_msi_addr_check(u64 mask, u64 pattern);

/**
 * rvmsi_msi_addr_match() - does a (guest-)physical address hit the MSI table
 * @addr: the byte address of the access (bits [11:0] are irrelevant)
 * @mask: msi_addr_mask
 * @pattern: msi_addr_pattern
 *
 * Implements ((A >> 12) & ~mask) == (pattern & ~mask) exactly as the spec
 * writes it, over all 52 page-number bits of A >> 12.
 *
 * Return: true if the access is to a virtual interrupt file page.
 */
bool rvmsi_msi_addr_match(u64 addr, u64 mask, u64 pattern);

/**
 * rvmsi_extract() - the spec's bit extract: gather the bits of @x under @mask
 * @x: source value
 * @mask: selects the bits of @x to keep
 *
 * The kept bits are packed at the least significant end in their original
 * order; the rest of the result is zero. Example from the spec: x = abcdefgh,
 * mask = 10100110 gives 0000acfg.
 *
 * Return: the packed value.
 */
u64 rvmsi_extract(u64 x, u64 mask);

/**
 * rvmsi_deposit() - inverse of rvmsi_extract(): scatter bits under @mask
 * @index: packed value; bit i goes to the position of the i-th set bit of
 *	   @mask (counting from the least significant end)
 * @mask: positions to fill
 *
 * rvmsi_extract(rvmsi_deposit(i, m), m) == i for every i < 2^popcount(m), and
 * rvmsi_deposit(rvmsi_extract(x, m), m) == (x & m).
 *
 * Return: the scattered value; bits of @index beyond popcount(@mask) are
 * dropped.
 */
u64 rvmsi_deposit(u64 index, u64 mask);

/**
 * rvmsi_msi_index() - interrupt file number (table index) of an address
 * @addr: byte address of the access
 * @mask: msi_addr_mask
 * @pattern: msi_addr_pattern
 * @ret_index: extract(addr >> 12, mask); untouched on error
 *
 * Return: 0, -EINVAL for reserved bits in @mask or @pattern, -ENOENT if @addr
 * does not match (the access then goes to regular translation).
 */
int rvmsi_msi_index(u64 addr, u64 mask, u64 pattern, u64 *ret_index);

/**
 * rvmsi_msi_index_addr() - the page a table index covers (inverse of index)
 * @index: table index, < 2^popcount(@mask)
 * @mask: msi_addr_mask
 * @pattern: msi_addr_pattern
 * @ret_addr: byte address of the 4 KiB page (offset 0) whose accesses use
 *	      entry @index; untouched on error
 *
 * Return: 0, -EINVAL for reserved bits in @mask or @pattern, -ERANGE if
 * @index is outside the table.
 */
int rvmsi_msi_index_addr(u64 index, u64 mask, u64 pattern, u64 *ret_addr);

/**
 * rvmsi_msi_table_order() - log2 of the number of MSI table entries
 * @mask: msi_addr_mask
 *
 * Return: popcount(@mask) over the 52 defined bits (reserved bits are not
 * counted), so the table has 2^order entries.
 */
unsigned int rvmsi_msi_table_order(u64 mask);

/**
 * rvmsi_msi_table_size() - size in bytes of the MSI table for a mask
 * @mask: msi_addr_mask
 * @ret_bytes: 2^popcount(mask) * 16; untouched on error
 *
 * Return: 0, or -EINVAL if reserved bits of @mask are set.
 */
int rvmsi_msi_table_size(u64 mask, u64 *ret_bytes);

/**
 * rvmsi_msi_table_align() - required alignment of the MSI table
 * @mask: msi_addr_mask
 * @ret_align: 4096 for tables of up to 256 entries, else the table size
 *	       (natural alignment); untouched on error
 *
 * Return: 0, or -EINVAL if reserved bits of @mask are set.
 */
int rvmsi_msi_table_align(u64 mask, u64 *ret_align);

/**
 * rvmsi_msi_table_check_addr() - may a table for @mask live at @table_pa
 * @table_pa: physical byte address of the first entry
 * @mask: msi_addr_mask
 *
 * A misaligned table makes every entry UNSPECIFIED to the IOMMU, so it must
 * never be programmed.
 *
 * Return: 0, -EINVAL if @table_pa is misaligned or @mask has reserved bits,
 * -ERANGE if the table does not fit below 2^56 (msiptp.PPN is 44 bits).
 */
int rvmsi_msi_table_check_addr(u64 table_pa, u64 mask);

/**
 * rvmsi_msi_pte_addr() - address the IOMMU loads the MSI PTE from
 * @msiptp: DC.msiptp (must be in Flat mode)
 * @mask: msi_addr_mask
 * @pattern: msi_addr_pattern
 * @addr: byte address of the incoming access
 * @ret_pte_pa: (msiptp.PPN << 12) | (index * 16); untouched on error
 *
 * Return: 0, -ENOENT if @addr does not match, -EINVAL for reserved bits or an
 * msiptp that is not Flat, -EOPNOTSUPP for reserved/custom msiptp modes.
 */
int rvmsi_msi_pte_addr(u64 msiptp, u64 mask, u64 pattern, u64 addr, u64 *ret_pte_pa);

/**
 * struct rvmsi_msipte - one 16-byte MSI page table entry, as two values
 * @dw0: first doubleword (V, M, PPN or MRIF address, C)
 * @dw1: second doubleword (MRIF notice NPPN and NID; free for software in
 *	 basic mode)
 *
 * These are CPU-order values. In memory each doubleword has the byte order
 * of fctl.BE (RISC-V IOMMU spec, "Endianness of in-memory data structures");
 * with fctl.BE = 0, the only setting Linux uses, both are little-endian, so
 * the kernel stores cpu_to_le64() of each value. Ordering (IOMMU spec,
 * "Updating in-memory data structure entries"): a basic-mode entry can be
 * retargeted with one 64-bit store of dw0 (dw1 is ignored); an MRIF-mode
 * entry spans both doublewords, so make it invalid (dw0 = 0), invalidate
 * with IOTINVAL.GVMA + IOFENCE.C, write dw1, then write dw0 last.
 */
struct rvmsi_msipte {
	u64 dw0;
	u64 dw1;
};

/**
 * enum rvmsi_msipte_kind - what a decoded MSI PTE does
 * @RVMSI_MSIPTE_INVALID: V=0; the access faults with cause 262
 * @RVMSI_MSIPTE_MRIF: MRIF mode (M=1)
 * @RVMSI_MSIPTE_BASIC: basic translate mode (M=3)
 */
enum rvmsi_msipte_kind {
	RVMSI_MSIPTE_INVALID = 0,
	RVMSI_MSIPTE_MRIF = RVMSI_MSIPTE_M_MRIF,
	RVMSI_MSIPTE_BASIC = RVMSI_MSIPTE_M_BASIC,
};

/**
 * struct rvmsi_msipte_info - decoded fields of an MSI PTE
 * @kind: invalid, basic or MRIF
 * @ppn: basic mode: page number the access is redirected to
 * @sw: basic mode: the second doubleword (ignored by the IOMMU)
 * @mrif_pa: MRIF mode: 512-byte aligned physical address of the MRIF
 * @nppn: MRIF mode: page number the notice MSI is written to
 * @nid: MRIF mode: the 11-bit notice identity (data of the notice MSI)
 *
 * Fields that do not apply to @kind are zero.
 */
struct rvmsi_msipte_info {
	enum rvmsi_msipte_kind kind;
	u64 ppn;
	u64 sw;
	u64 mrif_pa;
	u64 nppn;
	u32 nid;
};

/**
 * rvmsi_msipte_basic() - encode a valid basic-mode (M=3) MSI PTE
 * @ppn: target page number (target byte address >> 12)
 * @sw: value for the second doubleword, free for software use
 * @ret: the entry; untouched on error
 *
 * Return: 0, or -ERANGE if @ppn does not fit 44 bits.
 */
int rvmsi_msipte_basic(u64 ppn, u64 sw, struct rvmsi_msipte *ret);

/**
 * rvmsi_msipte_mrif() - encode a valid MRIF-mode (M=1) MSI PTE
 * @mrif_pa: physical byte address of the 512-byte MRIF
 * @nppn: page number of the notice MSI target (any page is legal)
 * @nid: notice identity, 0..2047
 * @ret: the entry; untouched on error
 *
 * Return: 0, -EINVAL if @mrif_pa is not 512-byte aligned, -ERANGE if
 * @mrif_pa >= 2^56, @nppn does not fit 44 bits or @nid > 2047.
 */
int rvmsi_msipte_mrif(u64 mrif_pa, u64 nppn, u32 nid, struct rvmsi_msipte *ret);

/**
 * rvmsi_msipte_invalid() - an invalid (V=0) entry with all bits zero
 * @ret: the entry
 */
void rvmsi_msipte_invalid(struct rvmsi_msipte *ret);

/**
 * rvmsi_msipte_decode() - decode an MSI PTE the way the IOMMU interprets it
 * @pte: the entry
 * @ret: decoded fields; untouched on error
 *
 * Return: 0 (including for V=0, reported as RVMSI_MSIPTE_INVALID), -EINVAL
 * for M=0 or M=2 or any reserved bit set (the IOMMU reports cause 263),
 * -EOPNOTSUPP for V=1 with the custom bit C=1 (implementation-defined).
 */
int rvmsi_msipte_decode(const struct rvmsi_msipte *pte, struct rvmsi_msipte_info *ret);

/**
 * rvmsi_msipte_fault_cause() - fault the IOMMU reports for an entry, if any
 * @pte: the entry
 * @have_mrif: capabilities.MSI_MRIF of the IOMMU
 *
 * Follows the spec's MSI translation process after the PTE load: V=0 gives
 * 262, M=0/2, reserved bits, or MRIF mode without MSI_MRIF give 263. Entries
 * with C=1 are implementation-defined; rvmsi never writes them and treats
 * them as misconfigured (263).
 *
 * Return: 0 if the entry translates, else the fault CAUSE code.
 */
unsigned int rvmsi_msipte_fault_cause(const struct rvmsi_msipte *pte, bool have_mrif);

/**
 * rvmsi_msipte_translate() - address a basic-mode entry sends an access to
 * @pte: the entry
 * @addr: byte address of the incoming access
 * @ret_pa: (PPN << 12) | addr[11:0]; untouched on error
 *
 * Return: 0, -EINVAL if @pte is not a valid basic-mode entry.
 */
int rvmsi_msipte_translate(const struct rvmsi_msipte *pte, u64 addr, u64 *ret_pa);

#endif /* _RVMSI_MSI_TABLE_H */
