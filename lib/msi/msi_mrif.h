/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi lib/msi: memory-resident interrupt files (MRIFs).
 *
 * RISC-V AIA spec, "Memory-resident interrupt files": an MRIF is 512 bytes,
 * 512-byte aligned, 32 pairs of little-endian doublewords. Pair k (offsets
 * k*16 and k*16+8) holds the pending and enable bits of identities
 * 64k..64k+63; bit 0 of doubleword 0 is a faux pending bit for identity 0.
 * The IOMMU records an MSI by setting the pending bit and then always sends
 * the notice MSI, whether or not the identity is enabled.
 *
 * The helpers below work on an "image": a caller-provided array of 64 u64
 * doubleword values in CPU order (index 2k = pending, 2k+1 = enable). On a
 * little-endian host an image is byte-identical to the MRIF in memory. They
 * are plain read-modify-write; code that shares a live MRIF with an IOMMU
 * must use atomic AMOOR/AMOAND on the real memory instead.
 */
#ifndef _RVMSI_MSI_MRIF_H
#define _RVMSI_MSI_MRIF_H

#include "msi_compat.h"

#define RVMSI_MRIF_SIZE			512
#define RVMSI_MRIF_DWORDS		64
#define RVMSI_MRIF_NR_IDS		2048	/* identities 0..2047 (0 is faux) */
#define RVMSI_MRIF_ID_MAX		2047

/* The page offsets of an interrupt file's two MSI registers (IMSIC spec). */
#define RVMSI_SETEIPNUM_LE		0x000
#define RVMSI_SETEIPNUM_BE		0x004

/**
 * rvmsi_mrif_pending_offset() - byte offset of the pending doubleword
 * @id: interrupt identity 0..2047
 * @ret_off: (id / 64) * 16; untouched on error
 *
 * Return: 0, or -ERANGE if @id > 2047.
 */
int rvmsi_mrif_pending_offset(u32 id, u32 *ret_off);

/**
 * rvmsi_mrif_enable_offset() - byte offset of the enable doubleword
 * @id: interrupt identity 0..2047
 * @ret_off: (id / 64) * 16 + 8; untouched on error
 *
 * Return: 0, or -ERANGE if @id > 2047.
 */
int rvmsi_mrif_enable_offset(u32 id, u32 *ret_off);

/**
 * rvmsi_mrif_bit() - the bit of @id inside its pending/enable doubleword
 * @id: interrupt identity (any value; only id % 64 is used)
 *
 * Return: BIT_ULL(id % 64).
 */
u64 rvmsi_mrif_bit(u32 id);

/**
 * enum rvmsi_mrif_verdict - what the IOMMU does with a device access to a
 *	page mapped by an MRIF-mode MSI PTE
 * @RVMSI_MRIF_RECORD: a valid MSI: the pending bit is set, a notice follows
 * @RVMSI_MRIF_DISCARD: a naturally aligned 32-bit write that is accepted but
 *	silently dropped (A[11:3] != 0, D[31:11] != 0, or big-endian when the
 *	system has no seteipnum_be)
 * @RVMSI_MRIF_ABORT: not a naturally aligned 32-bit write; the spec says the
 *	access "should be aborted as unsupported"
 */
enum rvmsi_mrif_verdict {
	RVMSI_MRIF_RECORD = 0,
	RVMSI_MRIF_DISCARD = 1,
	RVMSI_MRIF_ABORT = 2,
};

/**
 * rvmsi_mrif_classify_write() - apply the spec's MRIF write rules
 * @addr: byte address of the write (only bits [11:0] matter)
 * @size: access size in bytes
 * @data_le: the written bytes read as a little-endian 32-bit value
 *	     (byte at @addr is bits 7:0)
 * @be_supported: the system's IMSICs implement seteipnum_be
 * @ret_id: the identity D for RECORD; untouched otherwise
 *
 * Bit 2 of @addr selects the byte order of the data: 0 = little-endian,
 * 1 = big-endian, in which case D is @data_le byte-swapped.
 *
 * Return: the verdict.
 */
enum rvmsi_mrif_verdict rvmsi_mrif_classify_write(u64 addr, u32 size, u32 data_le,
						  bool be_supported, u32 *ret_id);

/**
 * rvmsi_mrif_set_pending() - set the pending bit of @id in an image
 * @mrif: MRIF image, 64 doublewords
 * @id: interrupt identity 0..2047 (0 sets the faux bit, as the IOMMU does)
 *
 * Return: 0, or -ERANGE if @id > 2047 (image unchanged).
 */
int rvmsi_mrif_set_pending(u64 *mrif, u32 id);

/**
 * rvmsi_mrif_set_enable() - set or clear the enable bit of @id in an image
 * @mrif: MRIF image, 64 doublewords
 * @id: interrupt identity 0..2047
 * @enable: new value of the bit
 *
 * Return: 0, or -ERANGE if @id > 2047 (image unchanged).
 */
int rvmsi_mrif_set_enable(u64 *mrif, u32 id, bool enable);

/**
 * rvmsi_mrif_test() - read the pending and enable bits of @id
 * @mrif: MRIF image, 64 doublewords
 * @id: interrupt identity 0..2047
 * @ret_pending: the pending bit (may be NULL)
 * @ret_enabled: the enable bit (may be NULL)
 *
 * Return: 0, or -ERANGE if @id > 2047.
 */
int rvmsi_mrif_test(const u64 *mrif, u32 id, bool *ret_pending, bool *ret_enabled);

/**
 * rvmsi_mrif_apply_write() - what the IOMMU does to an MRIF on a device write
 * @mrif: MRIF image, 64 doublewords
 * @addr: byte address of the write
 * @size: access size in bytes
 * @data_le: written bytes as a little-endian 32-bit value
 * @be_supported: the system's IMSICs implement seteipnum_be
 * @ret_id: identity recorded, for RECORD (may be NULL)
 *
 * On RECORD the pending bit of D is set (also for D = 0, and regardless of
 * the enable bit); the caller then owes the notice MSI, which the spec
 * requires even when the identity is not enabled. Otherwise the image is
 * unchanged.
 *
 * Return: the verdict, as rvmsi_mrif_classify_write().
 */
enum rvmsi_mrif_verdict rvmsi_mrif_apply_write(u64 *mrif, u64 addr, u32 size, u32 data_le,
					       bool be_supported, u32 *ret_id);

/**
 * rvmsi_mrif_next_pending() - find the next pending (and enabled) identity
 * @mrif: MRIF image, 64 doublewords
 * @from: first identity to look at; 0 is treated as 1 (identity 0 is never
 *	  a real interrupt)
 * @need_enabled: only report identities whose enable bit is also set
 *
 * Return: the lowest identity >= max(@from, 1) that qualifies, or -ENOENT.
 */
int rvmsi_mrif_next_pending(const u64 *mrif, u32 from, bool need_enabled);

/**
 * rvmsi_mrif_take_pending() - find, clear and return the next pending and
 *	enabled identity
 * @mrif: MRIF image, 64 doublewords
 * @from: first identity to look at (0 is treated as 1)
 *
 * Pending-but-disabled identities are left pending, as an IMSIC would keep
 * them. The faux pending bit of identity 0 is cleared on every call, because
 * software must ignore it and a stale one would otherwise survive forever.
 * Loop ``while ((id = rvmsi_mrif_take_pending(m, id)) >= 0)`` to drain.
 *
 * Return: the identity whose pending bit was cleared, or -ENOENT.
 */
int rvmsi_mrif_take_pending(u64 *mrif, u32 from);

/**
 * rvmsi_mrif_count_pending() - number of pending identities 1..2047
 * @mrif: MRIF image, 64 doublewords
 * @need_enabled: count only identities that are also enabled
 *
 * Return: the count, 0..2047 (the faux identity 0 is never counted).
 */
unsigned int rvmsi_mrif_count_pending(const u64 *mrif, bool need_enabled);

#endif /* _RVMSI_MSI_MRIF_H */
