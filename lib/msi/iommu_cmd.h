/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi lib/msi: the RISC-V IOMMU commands and fault records MSI handling
 * needs (RISC-V IOMMU spec, "In-memory queue interface").
 *
 * Commands are two doublewords and fault records four; both are CPU-order
 * values here. In memory their byte order is that of fctl.BE (little-endian
 * when fctl.BE = 0, the only setting Linux uses).
 */
#ifndef _RVMSI_IOMMU_CMD_H
#define _RVMSI_IOMMU_CMD_H

#include "msi_compat.h"

/* Fields common to every command (dword0) */
#define RVMSI_CMD_OPCODE		GENMASK_ULL(6, 0)
#define RVMSI_CMD_FUNC			GENMASK_ULL(9, 7)
#define RVMSI_CMD_FUNC_SHIFT		7

/* IOTINVAL (opcode 1) */
#define RVMSI_CMD_IOTINVAL_OPCODE	1
#define RVMSI_CMD_IOTINVAL_FUNC_VMA	0
#define RVMSI_CMD_IOTINVAL_FUNC_GVMA	1
#define RVMSI_CMD_IOTINVAL_AV		BIT_ULL(10)
#define RVMSI_CMD_IOTINVAL_PSCID	GENMASK_ULL(31, 12)
#define RVMSI_CMD_IOTINVAL_PSCV		BIT_ULL(32)
#define RVMSI_CMD_IOTINVAL_GV		BIT_ULL(33)
#define RVMSI_CMD_IOTINVAL_GSCID	GENMASK_ULL(59, 44)
#define RVMSI_CMD_IOTINVAL_GSCID_SHIFT	44
#define RVMSI_CMD_IOTINVAL_ADDR		GENMASK_ULL(61, 10)	/* dword1: ADDR[63:12] */
#define RVMSI_CMD_IOTINVAL_ADDR_SHIFT	10

/* IOFENCE (opcode 2) */
#define RVMSI_CMD_IOFENCE_OPCODE	2
#define RVMSI_CMD_IOFENCE_FUNC_C	0
#define RVMSI_CMD_IOFENCE_AV		BIT_ULL(10)
#define RVMSI_CMD_IOFENCE_WSI		BIT_ULL(11)
#define RVMSI_CMD_IOFENCE_PR		BIT_ULL(12)
#define RVMSI_CMD_IOFENCE_PW		BIT_ULL(13)
#define RVMSI_CMD_IOFENCE_DATA		GENMASK_ULL(63, 32)
#define RVMSI_CMD_IOFENCE_DATA_SHIFT	32
#define RVMSI_CMD_IOFENCE_ADDR		GENMASK_ULL(61, 0)	/* dword1: ADDR[63:2] */

/* IODIR (opcode 3) */
#define RVMSI_CMD_IODIR_OPCODE		3
#define RVMSI_CMD_IODIR_FUNC_INVAL_DDT	0
#define RVMSI_CMD_IODIR_FUNC_INVAL_PDT	1
#define RVMSI_CMD_IODIR_PID		GENMASK_ULL(31, 12)
#define RVMSI_CMD_IODIR_DV		BIT_ULL(33)
#define RVMSI_CMD_IODIR_DID		GENMASK_ULL(63, 40)
#define RVMSI_CMD_IODIR_DID_SHIFT	40

#define RVMSI_GSCID_MAX			0xffffU
#define RVMSI_DID_MAX			0xffffffU

/**
 * struct rvmsi_iommu_cmd - one command-queue entry
 * @dw0: doubleword 0 (opcode, func3, operands)
 * @dw1: doubleword 1 (address operand)
 */
struct rvmsi_iommu_cmd {
	u64 dw0;
	u64 dw1;
};

/* Flags for rvmsi_cmd_iotinval_gvma() */
#define RVMSI_GVMA_GV			BIT(0)	/* only the VM named by gscid */
#define RVMSI_GVMA_AV			BIT(1)	/* only leaf entries for gpa */

/**
 * rvmsi_cmd_iotinval_gvma() - build IOTINVAL.GVMA
 * @flags: 0 (all VMs), RVMSI_GVMA_GV (one GSCID) or RVMSI_GVMA_GV |
 *	   RVMSI_GVMA_AV (one GSCID, one guest-physical page)
 * @gscid: guest soft-context ID, 16 bits; must be 0 without GV
 * @gpa: guest-physical address of the page, 4 KiB aligned; must be 0 without
 *	 AV
 * @ret: the command; untouched on error
 *
 * This is the command that invalidates cached MSI PTEs (tagged by GSCID and
 * GPA). PSCV and the (then ignored) PSCID field are always 0; PSCV = 1 is
 * illegal for GVMA.
 *
 * Return: 0, -EINVAL for unknown flags, AV without GV, an unaligned @gpa or
 * an operand given that its valid bit does not enable, -ERANGE for @gscid
 * wider than 16 bits.
 */
int rvmsi_cmd_iotinval_gvma(u32 flags, u32 gscid, u64 gpa, struct rvmsi_iommu_cmd *ret);

/**
 * rvmsi_cmd_iodir_inval_ddt() - build IODIR.INVAL_DDT
 * @dv: the DID operand is valid (one device); false invalidates all devices
 * @did: device ID, 24 bits; must be 0 when !@dv
 * @ret: the command; untouched on error
 *
 * Return: 0, -EINVAL for a DID without DV, -ERANGE for @did wider than 24
 * bits.
 */
int rvmsi_cmd_iodir_inval_ddt(bool dv, u32 did, struct rvmsi_iommu_cmd *ret);

/* Flags for rvmsi_cmd_iofence_c() */
#define RVMSI_IOFENCE_AV		BIT(0)	/* write @data to @addr on completion */
#define RVMSI_IOFENCE_WSI		BIT(1)	/* raise the wired CQ interrupt */
#define RVMSI_IOFENCE_PR		BIT(2)	/* order previous device reads */
#define RVMSI_IOFENCE_PW		BIT(3)	/* order previous device writes */

/**
 * rvmsi_cmd_iofence_c() - build IOFENCE.C
 * @flags: RVMSI_IOFENCE_* bits
 * @addr: with AV: 4-byte aligned address the IOMMU writes @data to
 * @data: with AV: the 32-bit value written
 * @ret: the command; untouched on error
 *
 * Return: 0, -EINVAL for unknown flags, an unaligned @addr, or @addr/@data
 * given without AV.
 */
int rvmsi_cmd_iofence_c(u32 flags, u64 addr, u32 data, struct rvmsi_iommu_cmd *ret);

/**
 * enum rvmsi_cmd_kind - the commands rvmsi_cmd_decode() understands
 * @RVMSI_CMD_IOTINVAL_GVMA: IOTINVAL.GVMA
 * @RVMSI_CMD_IOFENCE_C: IOFENCE.C
 * @RVMSI_CMD_IODIR_INVAL_DDT: IODIR.INVAL_DDT
 */
enum rvmsi_cmd_kind {
	RVMSI_CMD_IOTINVAL_GVMA = 1,
	RVMSI_CMD_IOFENCE_C,
	RVMSI_CMD_IODIR_INVAL_DDT,
};

/**
 * struct rvmsi_cmd_info - decoded operands of a command
 * @kind: which command
 * @flags: RVMSI_GVMA_* for GVMA, RVMSI_IOFENCE_* for IOFENCE.C, and for
 *	   INVAL_DDT bit 0 = DV
 * @id: GSCID (GVMA) or DID (INVAL_DDT), else 0
 * @addr: GPA (GVMA, with AV) or fence write address (IOFENCE.C, with AV)
 * @data: IOFENCE.C write data
 */
struct rvmsi_cmd_info {
	enum rvmsi_cmd_kind kind;
	u32 flags;
	u32 id;
	u64 addr;
	u32 data;
};

/**
 * rvmsi_cmd_decode() - decode one of the three commands above
 * @cmd: the command
 * @ret: decoded operands; untouched on error
 *
 * Operands that the valid bits say the IOMMU ignores are still reported,
 * except the PSCID of IOTINVAL.GVMA: struct rvmsi_cmd_info has no field for
 * it, and with PSCV = 0 (the only legal value for GVMA) the IOMMU ignores it,
 * so any PSCID decodes like PSCID = 0. The NL and S bits of the invalidation
 * extensions are treated as reserved (an IOMMU without capabilities.NL/S).
 *
 * Return: 0, -EOPNOTSUPP for any other opcode/function, -EINVAL if a
 * reserved bit is set or GVMA has PSCV = 1 (the IOMMU would flag the command
 * illegal).
 */
int rvmsi_cmd_decode(const struct rvmsi_iommu_cmd *cmd, struct rvmsi_cmd_info *ret);

/* Fault record header (dword0) */
#define RVMSI_FQ_CAUSE			GENMASK_ULL(11, 0)
#define RVMSI_FQ_PID			GENMASK_ULL(31, 12)
#define RVMSI_FQ_PID_SHIFT		12
#define RVMSI_FQ_PV			BIT_ULL(32)
#define RVMSI_FQ_PRIV			BIT_ULL(33)
#define RVMSI_FQ_TTYP			GENMASK_ULL(39, 34)
#define RVMSI_FQ_TTYP_SHIFT		34
#define RVMSI_FQ_DID			GENMASK_ULL(63, 40)
#define RVMSI_FQ_DID_SHIFT		40

/* Device-context faults (what a DC that fails rvmsi_dc_check() gives) */
#define RVMSI_CAUSE_DDT_INVALID		258
#define RVMSI_CAUSE_DDT_MISCONFIGURED	259

/* Fault causes of the MSI translation process */
#define RVMSI_CAUSE_INST_ACCESS		1	/* execute access to an MSI page */
#define RVMSI_CAUSE_MSI_LOAD_FAULT	261
#define RVMSI_CAUSE_MSI_INVALID		262
#define RVMSI_CAUSE_MSI_MISCONFIGURED	263
#define RVMSI_CAUSE_MRIF_FAULT		264
#define RVMSI_CAUSE_MSI_PT_CORRUPTED	270
#define RVMSI_CAUSE_MRIF_CORRUPTED	271
/*
 * Not a device's MSI: the IOMMU's own MSI write (its interrupt, through
 * msi_addr_x) got an access fault. TTYP 0, DID 0, iotval = msi_addr_x.
 */
#define RVMSI_CAUSE_MSI_WR_FAULT	273

/* Transaction types */
#define RVMSI_TTYP_NONE			0
#define RVMSI_TTYP_UADDR_RD		2
#define RVMSI_TTYP_UADDR_WR		3
#define RVMSI_TTYP_TADDR_WR		7

/**
 * struct rvmsi_fault_record - one 32-byte fault-queue record
 * @hdr: CAUSE, PID, PV, PRIV, TTYP, DID
 * @custom: low 32 bits for custom use, high 32 bits reserved
 * @iotval: transaction-type/cause specific (the IOVA for MSI faults)
 * @iotval2: cause specific
 */
struct rvmsi_fault_record {
	u64 hdr;
	u64 custom;
	u64 iotval;
	u64 iotval2;
};

/**
 * struct rvmsi_fault_info - decoded fault record
 * @cause: CAUSE, 12 bits
 * @pid: process ID, valid if @pv
 * @pv: the PID field is valid
 * @priv: the transaction requested supervisor privilege
 * @ttyp: transaction type, 6 bits
 * @did: device ID, 24 bits
 * @iotval: as in the record
 * @iotval2: as in the record
 */
struct rvmsi_fault_info {
	u32 cause;
	u32 pid;
	bool pv;
	bool priv;
	u32 ttyp;
	u32 did;
	u64 iotval;
	u64 iotval2;
};

/**
 * rvmsi_fault_decode() - split a fault record into its fields
 * @rec: the record
 * @ret: the fields
 */
void rvmsi_fault_decode(const struct rvmsi_fault_record *rec, struct rvmsi_fault_info *ret);

/**
 * rvmsi_fault_encode() - build a fault record (what the IOMMU would write)
 * @info: the fields
 * @ret: the record, custom dword zero; untouched on error
 *
 * Return: 0, or -ERANGE if a field does not fit its width.
 */
int rvmsi_fault_encode(const struct rvmsi_fault_info *info, struct rvmsi_fault_record *ret);

/**
 * rvmsi_fault_cause_name() - short human-readable name of a CAUSE code
 * @cause: the code
 *
 * Return: a static string for every cause the spec defines, "reserved" or
 * "custom" otherwise. Never NULL.
 */
const char *rvmsi_fault_cause_name(u32 cause);

/**
 * rvmsi_fault_cause_is_msi() - does the cause come from a device's MSI
 *	translation
 * @cause: the code
 *
 * These are the faults of the MSI address translation of an inbound device
 * write: the record's DID names the device and iotval the address it wrote.
 * Cause 273 is not one of them (see rvmsi_fault_cause_is_iommu_msi_write()).
 *
 * Return: true for 261, 262, 263, 264, 270 and 271.
 */
bool rvmsi_fault_cause_is_msi(u32 cause);

/**
 * rvmsi_fault_cause_is_iommu_msi_write() - is this the IOMMU's own MSI
 *	write failing
 * @cause: the code
 *
 * Cause 273, "IOMMU MSI write access fault": the IOMMU got an access fault
 * writing one of its own interrupts as an MSI to msi_addr_x of its MSI
 * configuration table. The record has TTYP 0, so DID, PV, PID and PRIV are 0
 * and name no device, and iotval holds the msi_addr_x that failed. The
 * IOMMU's interrupts (queues, faults, HPM) are then being lost; no device
 * MSI was blocked.
 *
 * Return: true for 273 only.
 */
bool rvmsi_fault_cause_is_iommu_msi_write(u32 cause);

/**
 * rvmsi_fault_cause_reported_with_dtf() - is the cause reported when the
 *	device context has DTF = 1
 * @cause: the code
 *
 * Return: true for the causes the spec's table marks as always reported
 * (256-259, 268, 272, 273); false for the rest, including unknown codes.
 */
bool rvmsi_fault_cause_reported_with_dtf(u32 cause);

/**
 * rvmsi_fault_ttyp_name() - short name of a TTYP value
 * @ttyp: the transaction type
 *
 * Return: a static string, never NULL.
 */
const char *rvmsi_fault_ttyp_name(u32 ttyp);

#endif /* _RVMSI_IOMMU_CMD_H */
