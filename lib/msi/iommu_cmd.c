// SPDX-License-Identifier: GPL-2.0-only
/*
 * rvmsi lib/msi: RISC-V IOMMU commands and fault records. See iommu_cmd.h.
 */
#include "iommu_cmd.h"

#define CMD_OP_FUNC(op, func)	((u64)(op) | ((u64)(func) << RVMSI_CMD_FUNC_SHIFT))

/*
 * Bits of each command that the spec leaves reserved (must be zero), or that
 * make the command illegal.
 *
 * IOTINVAL.GVMA: PSCV = 1 is illegal, but the PSCID field is not reserved:
 * while PSCV is 0 the IOMMU ignores whatever it holds, so it is left out.
 * Bit 34 (NL) and dword1 bit 9 (S) belong to the non-leaf and address-range
 * invalidation extensions; without capabilities.NL/S they stay reserved, and
 * rvmsi assumes an IOMMU without them.
 */
#define GVMA_RSVD0	(GENMASK_ULL(11, 11) | GENMASK_ULL(43, 34) | GENMASK_ULL(63, 60) | \
			 RVMSI_CMD_IOTINVAL_PSCV)
#define GVMA_RSVD1	(GENMASK_ULL(9, 0) | GENMASK_ULL(63, 62))
#define IOFENCE_RSVD0	GENMASK_ULL(31, 14)
#define IOFENCE_RSVD1	GENMASK_ULL(63, 62)
#define INVAL_DDT_RSVD0	(GENMASK_ULL(11, 10) | RVMSI_CMD_IODIR_PID | BIT_ULL(32) | \
			 GENMASK_ULL(39, 34))

int rvmsi_cmd_iotinval_gvma(u32 flags, u32 gscid, u64 gpa, struct rvmsi_iommu_cmd *ret)
{
	bool gv = flags & RVMSI_GVMA_GV, av = flags & RVMSI_GVMA_AV;
	u64 dw0;

	if (flags & ~(RVMSI_GVMA_GV | RVMSI_GVMA_AV))
		return -EINVAL;
	/* With GV = 0 the spec ignores AV; asking for it is a caller bug. */
	if (av && !gv)
		return -EINVAL;
	if (gscid > RVMSI_GSCID_MAX)
		return -ERANGE;
	if ((!gv && gscid) || (!av && gpa))
		return -EINVAL;
	if (gpa & 0xfffULL)
		return -EINVAL;

	dw0 = CMD_OP_FUNC(RVMSI_CMD_IOTINVAL_OPCODE, RVMSI_CMD_IOTINVAL_FUNC_GVMA);
	if (gv)
		dw0 |= RVMSI_CMD_IOTINVAL_GV | ((u64)gscid << RVMSI_CMD_IOTINVAL_GSCID_SHIFT);
	if (av)
		dw0 |= RVMSI_CMD_IOTINVAL_AV;

	ret->dw0 = dw0;
	/* ADDR[63:12] in bits [61:10]: the page number, shifted by 10. */
	ret->dw1 = (gpa >> 12) << RVMSI_CMD_IOTINVAL_ADDR_SHIFT;
	return 0;
}

int rvmsi_cmd_iodir_inval_ddt(bool dv, u32 did, struct rvmsi_iommu_cmd *ret)
{
	u64 dw0;

	if (did > RVMSI_DID_MAX)
		return -ERANGE;
	if (!dv && did)
		return -EINVAL;

	dw0 = CMD_OP_FUNC(RVMSI_CMD_IODIR_OPCODE, RVMSI_CMD_IODIR_FUNC_INVAL_DDT);
	if (dv)
		dw0 |= RVMSI_CMD_IODIR_DV | ((u64)did << RVMSI_CMD_IODIR_DID_SHIFT);

	ret->dw0 = dw0;
	ret->dw1 = 0;
	return 0;
}

int rvmsi_cmd_iofence_c(u32 flags, u64 addr, u32 data, struct rvmsi_iommu_cmd *ret)
{
	u64 dw0;

	if (flags & ~(RVMSI_IOFENCE_AV | RVMSI_IOFENCE_WSI | RVMSI_IOFENCE_PR |
		      RVMSI_IOFENCE_PW))
		return -EINVAL;
	if (!(flags & RVMSI_IOFENCE_AV) && (addr || data))
		return -EINVAL;
	if (addr & 3)
		return -EINVAL;

	dw0 = CMD_OP_FUNC(RVMSI_CMD_IOFENCE_OPCODE, RVMSI_CMD_IOFENCE_FUNC_C) |
	      ((u64)data << RVMSI_CMD_IOFENCE_DATA_SHIFT);
	if (flags & RVMSI_IOFENCE_AV)
		dw0 |= RVMSI_CMD_IOFENCE_AV;
	if (flags & RVMSI_IOFENCE_WSI)
		dw0 |= RVMSI_CMD_IOFENCE_WSI;
	if (flags & RVMSI_IOFENCE_PR)
		dw0 |= RVMSI_CMD_IOFENCE_PR;
	if (flags & RVMSI_IOFENCE_PW)
		dw0 |= RVMSI_CMD_IOFENCE_PW;

	ret->dw0 = dw0;
	/* ADDR[63:2] in bits [61:0]. */
	ret->dw1 = addr >> 2;
	return 0;
}

int rvmsi_cmd_decode(const struct rvmsi_iommu_cmd *cmd, struct rvmsi_cmd_info *ret)
{
	struct rvmsi_cmd_info info = { 0 };
	u64 dw0 = cmd->dw0, dw1 = cmd->dw1;
	u64 op_func = dw0 & (RVMSI_CMD_OPCODE | RVMSI_CMD_FUNC);

	if (op_func == CMD_OP_FUNC(RVMSI_CMD_IOTINVAL_OPCODE, RVMSI_CMD_IOTINVAL_FUNC_GVMA)) {
		if ((dw0 & GVMA_RSVD0) || (dw1 & GVMA_RSVD1))
			return -EINVAL;
		info.kind = RVMSI_CMD_IOTINVAL_GVMA;
		if (dw0 & RVMSI_CMD_IOTINVAL_GV)
			info.flags |= RVMSI_GVMA_GV;
		if (dw0 & RVMSI_CMD_IOTINVAL_AV)
			info.flags |= RVMSI_GVMA_AV;
		info.id = (u32)((dw0 & RVMSI_CMD_IOTINVAL_GSCID) >> RVMSI_CMD_IOTINVAL_GSCID_SHIFT);
		info.addr = (dw1 >> RVMSI_CMD_IOTINVAL_ADDR_SHIFT) << 12;
	} else if (op_func == CMD_OP_FUNC(RVMSI_CMD_IOFENCE_OPCODE, RVMSI_CMD_IOFENCE_FUNC_C)) {
		if ((dw0 & IOFENCE_RSVD0) || (dw1 & IOFENCE_RSVD1))
			return -EINVAL;
		info.kind = RVMSI_CMD_IOFENCE_C;
		if (dw0 & RVMSI_CMD_IOFENCE_AV)
			info.flags |= RVMSI_IOFENCE_AV;
		if (dw0 & RVMSI_CMD_IOFENCE_WSI)
			info.flags |= RVMSI_IOFENCE_WSI;
		if (dw0 & RVMSI_CMD_IOFENCE_PR)
			info.flags |= RVMSI_IOFENCE_PR;
		if (dw0 & RVMSI_CMD_IOFENCE_PW)
			info.flags |= RVMSI_IOFENCE_PW;
		info.data = (u32)(dw0 >> RVMSI_CMD_IOFENCE_DATA_SHIFT);
		info.addr = (dw1 & RVMSI_CMD_IOFENCE_ADDR) << 2;
	} else if (op_func == CMD_OP_FUNC(RVMSI_CMD_IODIR_OPCODE, RVMSI_CMD_IODIR_FUNC_INVAL_DDT)) {
		/* The PID operand is reserved for INVAL_DDT; dword1 is reserved. */
		if ((dw0 & INVAL_DDT_RSVD0) || dw1)
			return -EINVAL;
		info.kind = RVMSI_CMD_IODIR_INVAL_DDT;
		if (dw0 & RVMSI_CMD_IODIR_DV)
			info.flags |= 1;
		info.id = (u32)(dw0 >> RVMSI_CMD_IODIR_DID_SHIFT);
	} else {
		return -EOPNOTSUPP;
	}

	*ret = info;
	return 0;
}

void rvmsi_fault_decode(const struct rvmsi_fault_record *rec, struct rvmsi_fault_info *ret)
{
	u64 hdr = rec->hdr;

	ret->cause = (u32)(hdr & RVMSI_FQ_CAUSE);
	ret->pid = (u32)((hdr & RVMSI_FQ_PID) >> RVMSI_FQ_PID_SHIFT);
	ret->pv = hdr & RVMSI_FQ_PV;
	ret->priv = hdr & RVMSI_FQ_PRIV;
	ret->ttyp = (u32)((hdr & RVMSI_FQ_TTYP) >> RVMSI_FQ_TTYP_SHIFT);
	ret->did = (u32)(hdr >> RVMSI_FQ_DID_SHIFT);
	ret->iotval = rec->iotval;
	ret->iotval2 = rec->iotval2;
}

int rvmsi_fault_encode(const struct rvmsi_fault_info *info, struct rvmsi_fault_record *ret)
{
	if (info->cause > 0xfff || info->pid > 0xfffff || info->ttyp > 0x3f ||
	    info->did > RVMSI_DID_MAX)
		return -ERANGE;

	ret->hdr = (u64)info->cause |
		   ((u64)info->pid << RVMSI_FQ_PID_SHIFT) |
		   (info->pv ? RVMSI_FQ_PV : 0) |
		   (info->priv ? RVMSI_FQ_PRIV : 0) |
		   ((u64)info->ttyp << RVMSI_FQ_TTYP_SHIFT) |
		   ((u64)info->did << RVMSI_FQ_DID_SHIFT);
	ret->custom = 0;
	ret->iotval = info->iotval;
	ret->iotval2 = info->iotval2;
	return 0;
}

struct cause_name {
	u16 cause;
	bool dtf_reported;
	const char *name;
};

/* The FAULT_CAUSE table of the RISC-V IOMMU spec, with its DTF column. */
static const struct cause_name cause_names[] = {
	{ 1, false, "instruction access fault" },
	{ 4, false, "read address misaligned" },
	{ 5, false, "read access fault" },
	{ 6, false, "write/AMO address misaligned" },
	{ 7, false, "write/AMO access fault" },
	{ 12, false, "instruction page fault" },
	{ 13, false, "read page fault" },
	{ 15, false, "write/AMO page fault" },
	{ 20, false, "instruction guest page fault" },
	{ 21, false, "read guest-page fault" },
	{ 23, false, "write/AMO guest-page fault" },
	{ 256, true, "all inbound transactions disallowed" },
	{ 257, true, "DDT entry load access fault" },
	{ 258, true, "DDT entry not valid" },
	{ 259, true, "DDT entry misconfigured" },
	{ 260, false, "transaction type disallowed" },
	{ 261, false, "MSI PTE load access fault" },
	{ 262, false, "MSI PTE not valid" },
	{ 263, false, "MSI PTE misconfigured" },
	{ 264, false, "MRIF access fault" },
	{ 265, false, "PDT entry load access fault" },
	{ 266, false, "PDT entry not valid" },
	{ 267, false, "PDT entry misconfigured" },
	{ 268, true, "DDT data corruption" },
	{ 269, false, "PDT data corruption" },
	{ 270, false, "MSI PT data corruption" },
	{ 271, false, "MSI MRIF data corruption" },
	{ 272, true, "internal data path error" },
	{ 273, true, "IOMMU MSI write access fault" },
	{ 274, false, "first/second-stage PT data corruption" },
};

static const struct cause_name *cause_lookup(u32 cause)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cause_names); i++)
		if (cause_names[i].cause == cause)
			return &cause_names[i];
	return NULL;
}

const char *rvmsi_fault_cause_name(u32 cause)
{
	const struct cause_name *c = cause_lookup(cause);

	if (c)
		return c->name;
	if (cause >= 2048 && cause <= 4095)
		return "custom";
	return "reserved";
}

bool rvmsi_fault_cause_is_msi(u32 cause)
{
	switch (cause) {
	case RVMSI_CAUSE_MSI_LOAD_FAULT:
	case RVMSI_CAUSE_MSI_INVALID:
	case RVMSI_CAUSE_MSI_MISCONFIGURED:
	case RVMSI_CAUSE_MRIF_FAULT:
	case RVMSI_CAUSE_MSI_PT_CORRUPTED:
	case RVMSI_CAUSE_MRIF_CORRUPTED:
		return true;
	default:
		/*
		 * 273 is left out on purpose: it is the IOMMU's own MSI
		 * write, with no device in the record.
		 */
		return false;
	}
}

bool rvmsi_fault_cause_is_iommu_msi_write(u32 cause)
{
	return cause == RVMSI_CAUSE_MSI_WR_FAULT;
}

bool rvmsi_fault_cause_reported_with_dtf(u32 cause)
{
	const struct cause_name *c = cause_lookup(cause);

	return c && c->dtf_reported;
}

const char *rvmsi_fault_ttyp_name(u32 ttyp)
{
	static const char * const names[] = {
		"none",
		"untranslated read-for-execute",
		"untranslated read",
		"untranslated write/AMO",
		"reserved",
		"translated read-for-execute",
		"translated read",
		"translated write/AMO",
		"PCIe ATS translation request",
		"PCIe message request",
	};

	if (ttyp < ARRAY_SIZE(names))
		return names[ttyp];
	/* The spec's table says "31 - 63" custom after "10 - 31" reserved. */
	if (ttyp >= 32 && ttyp <= 63)
		return "custom";
	return "reserved";
}
