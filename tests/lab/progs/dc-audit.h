/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A device-context audit that does not trust the driver: it reads the RISC-V
 * IOMMU's registers through the PCI BAR (read-only), walks the device
 * directory table and every page table it needs in physical memory through
 * /dev/mem (read-only, the way the IOMMU reads them), and checks each valid
 * device context (DC) against the IOMMU spec's rules:
 *
 *  DCA_CHECK_SPEC   every valid DC passes rvmsi_dc_check() from lib/msi (the
 *                   configuration checks, msiptp Off under a Bare iohgatp
 *                   among them), and the extended DC's reserved doubleword
 *                   is zero;
 *  DCA_CHECK_GSCID  one live MSI table per GSCID: DCs that carry an MSI
 *                   table or a second stage and share a GSCID value have the
 *                   same table and the same second-stage root; DCs that
 *                   share a table share the GSCID; and the DC of every
 *                   requester-ID alias of a PCI function (derived from the
 *                   topology as Linux's pci_for_each_dma_alias() does) is
 *                   valid and holds the function's own table, GSCID and
 *                   second stage, since a bridge may tag the function's
 *                   transactions with either;
 *  DCA_CHECK_REACH  no interrupt file (S-level or guest file of any hart) is
 *                   writable through a DC's translation without an MSI table
 *                   the spec lets the IOMMU use intercepting the write;
 *  DCA_CHECK_WALK   the audit itself could read everything it needed.
 *
 * Only DCA_CHECK_SPEC uses lib/msi (the rule set the kernel part shares);
 * the field layouts, the directory walk and the page-table walks here are
 * written from the spec on their own, so that a bug in the shared decoding
 * cannot hide itself. Everything is static inline, like imsic-lab.h, so any
 * lab program can run the audit at a moment of its choosing:
 *
 *	struct dca_audit *a = calloc(1, sizeof(*a));
 *	r = dca_run(a);			// < 0: could not audit at all
 *	dca_print_dcs(a, "my-moment");	// the "dc <did>: ..." lines
 *	dca_print_findings(a, "my-moment", -1);
 *	a->nr_findings[DCA_CHECK_SPEC] ...
 *
 * The kernel needs CONFIG_DEVMEM=y without CONFIG_STRICT_DEVMEM (the
 * tables are in RAM) and the BAR must not be exclusive (no IO_STRICT_DEVMEM).
 *
 * Layouts used (RISC-V IOMMU spec, src/iommu_registers.adoc and
 * src/iommu_data_structures.adoc):
 *  - registers: capabilities at 0x00 (MSI_FLAT bit 22), fctl at 0x08 (BE bit
 *    0, GXL bit 2), ddtp at 0x10 (iommu_mode bits 3:0 with 2/3/4 = 1/2/3
 *    levels, busy bit 4, PPN bits 53:10);
 *  - DC: 64 bytes (tc, iohgatp, ta, fsc, msiptp, msi_addr_mask,
 *    msi_addr_pattern, reserved) when capabilities.MSI_FLAT is 1, else the
 *    first 32; doublewords in the byte order fctl.BE selects;
 *  - device_id: DDI[0] is bits 5:0 (extended DC) or 6:0 (base), DDI[1] the
 *    next 9 bits, DDI[2] the next 9 (extended) or 8 (base); a leaf page holds
 *    64 or 128 DCs, a non-leaf entry has V in bit 0 and the PPN in 53:10
 *    (bits 9:1 and 63:54 reserved);
 *  - iohgatp, fsc (iosatp) and msiptp: PPN 43:0, MODE 63:60; iohgatp's
 *    GSCID 59:44; tc.V 0, tc.PDTV 5, tc.DPE 9, tc.SBE 10, tc.SXL 11;
 *  - second stage Sv39x4/48x4/57x4 (iohgatp.MODE 8/9/10 with fctl.GXL 0):
 *    a 16 KiB root indexed by 11 bits, then 4 KiB tables of 9 bits; first
 *    stage Sv39/48/57 (iosatp.MODE 8/9/10 with tc.SXL 0): 9 bits per level;
 *    a PTE is a leaf when V and any of R/W/X are set; Svnapot 64 KiB leaves
 *    (N bit 63, PPN[3:0] = 1000) are followed. First-stage table addresses
 *    are guest-physical when the second stage is on, and go through it;
 *  - MSI interception: the GPA the first stage produces is looked up in the
 *    MSI table when msiptp.MODE is not Off and (GPA >> 12) matches
 *    msi_addr_pattern in every bit msi_addr_mask leaves clear; anything else
 *    goes on to the second stage.
 */
#ifndef RVMSI_LAB_DC_AUDIT_H
#define RVMSI_LAB_DC_AUDIT_H

#include <endian.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "imsic-lab.h"
#include "dc.h"

/* Registers (byte offsets in the register BAR) */
#define DCA_REG_CAPS		0x00
#define DCA_REG_FCTL		0x08
#define DCA_REG_DDTP		0x10
#define DCA_CAP_MSI_FLAT	(1ULL << 22)
#define DCA_FCTL_BE		(1U << 0)
#define DCA_FCTL_GXL		(1U << 2)
#define DCA_DDTP_BUSY		(1ULL << 4)

/* Field helpers */
#define DCA_PPN44(v)		((v) & ((1ULL << 44) - 1))	/* PPN in 43:0 */
#define DCA_MODE(v)		((unsigned int)((v) >> 60))	/* MODE in 63:60 */
#define DCA_GSCID(v)		((unsigned int)(((v) >> 44) & 0xffff))
#define DCA_PTE_PPN(v)		(((v) >> 10) & ((1ULL << 44) - 1))	/* 53:10 */
#define DCA_DDTE_RSVD		(0x3feULL | (0x3ffULL << 54))	/* 9:1, 63:54 */
#define DCA_TC_V		(1ULL << 0)
#define DCA_TC_PDTV		(1ULL << 5)
#define DCA_TC_DPE		(1ULL << 9)
#define DCA_TC_SBE		(1ULL << 10)
#define DCA_TC_SXL		(1ULL << 11)
#define DCA_MSI_MASK52		((1ULL << 52) - 1)

/* PTE bits (first and second stage) */
#define DCA_PTE_V		(1ULL << 0)
#define DCA_PTE_R		(1ULL << 1)
#define DCA_PTE_W		(1ULL << 2)
#define DCA_PTE_X		(1ULL << 3)
#define DCA_PTE_U		(1ULL << 4)
#define DCA_PTE_N		(1ULL << 63)

/* Bounds: the lab has a handful of devices and small page tables. */
#define DCA_MAX_DCS		256
#define DCA_MAX_FINDINGS	128
#define DCA_FINDING_LEN		320
#define DCA_MAX_FILES		(LAB_MAX_HARTS * 8)
#define DCA_MAX_CAND		1024
#define DCA_MAX_TABLE_PAGES	32768	/* per audit */
#define DCA_REACH_SHOWN		4	/* pages named per DC in a finding */

enum dca_check {
	DCA_CHECK_WALK,
	DCA_CHECK_SPEC,
	DCA_CHECK_GSCID,
	DCA_CHECK_REACH,
	DCA_NR_CHECKS
};

/* What checks 2 and 3 (and the walk) found about one DC: its problem names. */
enum {
	DCA_P_RESERVED	= 1 << 0,	/* extended DC: reserved doubleword set */
	DCA_P_GSCID	= 1 << 1,	/* shares its GSCID with another table or root */
	DCA_P_TABLE	= 1 << 2,	/* shares its table across GSCIDs */
	DCA_P_REACH	= 1 << 3,	/* an interrupt file is writable, not remapped */
	DCA_P_IDENTITY	= 1 << 4,	/* both stages Bare, no table: reaches every file */
	DCA_P_UNAUDITED	= 1 << 5,	/* a translation setting the audit cannot walk */
	DCA_P_WALK	= 1 << 6,	/* a table could not be read */
	DCA_P_ALIAS	= 1 << 7,	/* an alias's DC translates differently */
};

static const char *const dca_flag_names[] = {
	"dc-reserved", "gscid-shared", "table-shared", "reaches-file", "identity",
	"unaudited", "walk-error", "alias-differs",
};

static const char *const dca_check_names[DCA_NR_CHECKS] = {
	"walk", "spec", "gscid", "reach",
};

struct dca_dc {
	uint32_t did;
	uint64_t pa;			/* where the DC is */
	struct rvmsi_dc_view v;
	uint64_t reserved;		/* extended DC: doubleword 7 */
	enum rvmsi_dc_problem problem;	/* rvmsi_dc_check() */
	unsigned int flags;		/* DCA_P_* */
	char bdf[16];			/* the PCI function with this requester ID, if any */
};

struct dca_file {
	uint64_t pa;
	uint32_t hartid;
	unsigned int guest;		/* 0: S-level file */
};

struct dca_audit {
	char bdf[32];			/* the IOMMU's PCI function */
	uint64_t caps;
	uint32_t fctl;
	uint64_t ddtp;
	unsigned int levels;		/* 1..3 */
	unsigned int dc_size;		/* 32 or 64 */
	int memfd;
	unsigned long pages_read;
	struct imsic_dt im;
	unsigned int nr_files;
	struct dca_file files[DCA_MAX_FILES];
	unsigned int nr_dc;
	struct dca_dc dc[DCA_MAX_DCS];
	unsigned int nr_findings[DCA_NR_CHECKS];
	unsigned int nr_lines;
	struct {
		enum dca_check check;
		char text[DCA_FINDING_LEN];
	} lines[DCA_MAX_FINDINGS];
};

static inline void dca_finding(struct dca_audit *a, enum dca_check check, struct dca_dc *dc,
			       unsigned int flag, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static inline void dca_finding(struct dca_audit *a, enum dca_check check, struct dca_dc *dc,
			       unsigned int flag, const char *fmt, ...)
{
	va_list ap;

	a->nr_findings[check]++;
	if (dc)
		dc->flags |= flag;
	if (a->nr_lines >= DCA_MAX_FINDINGS)
		return;		/* still counted: the check fails either way */
	a->lines[a->nr_lines].check = check;
	va_start(ap, fmt);
	vsnprintf(a->lines[a->nr_lines].text, DCA_FINDING_LEN, fmt, ap);
	va_end(ap);
	a->nr_lines++;
}

/* One line on stdout in a single write(), so that kernel messages on the same
 * console do not split it. */
static inline void dca_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void dca_out(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, n) < 0)
		return;
}

static inline uint64_t dca_get64(const void *p, bool be)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be ? be64toh(v) : le64toh(v);
}

/* Read @len bytes of physical memory at @pa. */
static inline int dca_read(struct dca_audit *a, uint64_t pa, void *buf, size_t len)
{
	ssize_t n;

	if (pa > (uint64_t)INT64_MAX - len)
		return -ERANGE;
	n = pread(a->memfd, buf, len, (off_t)pa);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Read a table page (or the 16 KiB second-stage root), counting against the bound. */
static inline int dca_read_table(struct dca_audit *a, uint64_t pa, void *buf, size_t len)
{
	if (++a->pages_read > DCA_MAX_TABLE_PAGES)
		return -E2BIG;
	return dca_read(a, pa, buf, len);
}

/* ------------------------------------------------------------ the IOMMU */

static inline bool dca_is_iommu(const char *bdf, void *arg)
{
	(void)arg;
	return (lab_pci_attr(bdf, "class") >> 8) == 0x0806;
}

/* The first PCI function of class 0x0806 (IOMMU). */
static inline int dca_find_iommu(char *bdf, size_t len)
{
	return lab_pci_find(dca_is_iommu, NULL, bdf, len);
}

/* capabilities, fctl and ddtp from the register BAR, mapped read-only. */
static inline int dca_read_regs(struct dca_audit *a)
{
	char path[300];
	volatile uint8_t *bar;
	struct stat st;
	size_t size;
	int fd, i, r = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", a->bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size < 0x18) {
		close(fd);
		return -EIO;
	}
	size = st.st_size < 4096 ? (size_t)st.st_size : 4096;
	bar = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (bar == MAP_FAILED)
		return -errno;
	a->caps = *(volatile uint64_t *)(bar + DCA_REG_CAPS);
	a->fctl = *(volatile uint32_t *)(bar + DCA_REG_FCTL);
	/* busy: a mode change is still under way; wait a little for it */
	for (i = 0; i < 100; i++) {
		a->ddtp = *(volatile uint64_t *)(bar + DCA_REG_DDTP);
		if (!(a->ddtp & DCA_DDTP_BUSY))
			break;
		usleep(1000);
	}
	if (a->ddtp & DCA_DDTP_BUSY)
		r = -EBUSY;
	munmap((void *)bar, size);
	return r;
}

/* ------------------------------------------------------------ the directory */

static inline void dca_add_dc(struct dca_audit *a, uint32_t did, uint64_t pa, const uint8_t *p)
{
	bool be = a->fctl & DCA_FCTL_BE;
	struct dca_dc *dc;

	if (a->nr_dc >= DCA_MAX_DCS) {
		dca_finding(a, DCA_CHECK_WALK, NULL, 0,
			    "more than %d valid DCs: dc 0x%x and later not audited",
			    DCA_MAX_DCS, did);
		return;
	}
	dc = &a->dc[a->nr_dc++];
	memset(dc, 0, sizeof(*dc));
	dc->did = did;
	dc->pa = pa;
	dc->v.tc = dca_get64(p + 0, be);
	dc->v.iohgatp = dca_get64(p + 8, be);
	dc->v.ta = dca_get64(p + 16, be);
	dc->v.fsc = dca_get64(p + 24, be);
	if (a->dc_size == 64) {
		dc->v.msiptp = dca_get64(p + 32, be);
		dc->v.msi_addr_mask = dca_get64(p + 40, be);
		dc->v.msi_addr_pattern = dca_get64(p + 48, be);
		dc->reserved = dca_get64(p + 56, be);
	}
}

/*
 * One directory table at @pa, @level levels above the leaves; @did holds the
 * device-ID bits chosen above it.
 */
static inline int dca_walk_ddt(struct dca_audit *a, uint64_t pa, unsigned int level, uint32_t did)
{
	bool ext = a->dc_size == 64, be = a->fctl & DCA_FCTL_BE;
	unsigned int ddi0 = ext ? 6 : 7, n, i;
	uint8_t page[4096];
	int r;

	r = dca_read_table(a, pa, page, sizeof(page));
	if (r) {
		dca_finding(a, DCA_CHECK_WALK, NULL, 0, "cannot read DDT page at 0x%llx: %s",
			    (unsigned long long)pa, strerror(-r));
		return r;
	}
	if (level == 0) {
		n = 4096 / a->dc_size;
		for (i = 0; i < n; i++) {
			const uint8_t *p = page + i * a->dc_size;

			if (dca_get64(p, be) & DCA_TC_V)
				dca_add_dc(a, did | i, pa + i * a->dc_size, p);
		}
		return 0;
	}
	/* DDI[2] is one bit narrower with base-format DCs */
	n = (level == 2 && !ext) ? 256 : 512;
	for (i = 0; i < n; i++) {
		uint64_t e = dca_get64(page + i * 8, be);
		uint32_t sub = did | (i << (ddi0 + 9 * (level - 1)));

		if (!(e & 1))
			continue;
		if (e & DCA_DDTE_RSVD) {
			dca_finding(a, DCA_CHECK_WALK, NULL, 0,
				    "DDT entry 0x%llx at 0x%llx (device IDs 0x%x..) has reserved bits set",
				    (unsigned long long)e, (unsigned long long)(pa + i * 8), sub);
			continue;
		}
		dca_walk_ddt(a, DCA_PTE_PPN(e) << 12, level - 1, sub);
	}
	return 0;
}

/* The PCI function whose requester ID is @did (segment 0), for the report. */
static inline void dca_name_dc(struct dca_dc *dc)
{
	char bdf[300];
	uint32_t rid;
	struct dirent *de;
	DIR *dir;

	dir = opendir("/sys/bus/pci/devices");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "0000:", 5))
			continue;
		snprintf(bdf, sizeof(bdf), "%s", de->d_name);
		if (lab_pci_rid(bdf, &rid) == 0 && rid == dc->did) {
			snprintf(dc->bdf, sizeof(dc->bdf), "%.15s", de->d_name);
			break;
		}
	}
	closedir(dir);
}

/* ------------------------------------------------------------ page tables */

struct dca_pt {
	uint64_t root;			/* root table: SPA, or GPA when @outer */
	unsigned int levels;		/* 3, 4 or 5 */
	bool gstage;			/* second stage: 16 KiB root, 2 more bits */
	bool be;			/* PTE byte order */
	const struct dca_pt *outer;	/* the second stage table addresses go through */
};

static inline unsigned int dca_pt_bits(const struct dca_pt *pt, unsigned int level)
{
	return 9 + ((pt->gstage && level == pt->levels - 1) ? 2 : 0);
}

/* Width of the input address: 39/48/57 (+2 for the second stage). */
static inline unsigned int dca_pt_width(const struct dca_pt *pt)
{
	return 12 + 9 * pt->levels + (pt->gstage ? 2 : 0);
}

/*
 * Output page number of leaf @pte at @level for input page number @vpn, or
 * false if the leaf does not translate (misaligned superpage, reserved
 * Svnapot encoding): the IOMMU faults there, it maps nothing.
 */
static inline bool dca_leaf_ppn(uint64_t pte, unsigned int level, uint64_t vpn, uint64_t *ppn)
{
	uint64_t p = DCA_PTE_PPN(pte), lowmask = (1ULL << (9 * level)) - 1;

	if (pte & DCA_PTE_N) {
		if (level != 0 || (p & 0xf) != 0x8)
			return false;
		*ppn = (p & ~0xfULL) | (vpn & 0xf);
		return true;
	}
	if (p & lowmask)
		return false;
	*ppn = p | (vpn & lowmask);
	return true;
}

/* Translate @va through @pt. 0: mapped (*pa, *pte); 1: not mapped; < 0: read error. */
static inline int dca_pt_lookup(struct dca_audit *a, const struct dca_pt *pt, uint64_t va,
				uint64_t *pa, uint64_t *ret_pte)
{
	unsigned int width = dca_pt_width(pt);
	uint64_t table = pt->root, tpa, pte, ppn;
	uint8_t e[8];
	int level, r;

	if (pt->gstage ? (va >> width) != 0 :
	    ((int64_t)(va << (64 - width)) >> (64 - width)) != (int64_t)va)
		return 1;
	for (level = pt->levels - 1; level >= 0; level--) {
		uint64_t idx = (va >> (12 + 9 * level)) & ((1ULL << dca_pt_bits(pt, level)) - 1);

		tpa = table;
		if (pt->outer) {
			r = dca_pt_lookup(a, pt->outer, table, &tpa, NULL);
			if (r)
				return r;
		}
		r = dca_read(a, tpa + idx * 8, e, sizeof(e));
		if (r)
			return r;
		pte = dca_get64(e, pt->be);
		if (!(pte & DCA_PTE_V))
			return 1;
		if (pte & (DCA_PTE_R | DCA_PTE_W | DCA_PTE_X)) {
			if (!dca_leaf_ppn(pte, level, va >> 12, &ppn))
				return 1;
			*pa = (ppn << 12) | (va & 0xfff);
			if (ret_pte)
				*ret_pte = pte;
			return 0;
		}
		if (level == 0)
			return 1;
		table = DCA_PTE_PPN(pte) << 12;
	}
	return 1;
}

/* Called for every leaf: input range [va, va + size) maps onto [pa, pa + size). */
typedef void (*dca_leaf_fn)(struct dca_audit *a, void *ctx, uint64_t va, uint64_t pa,
			    uint64_t size, uint64_t pte);

static inline int dca_pt_enum_table(struct dca_audit *a, const struct dca_pt *pt, uint64_t table,
				    unsigned int level, uint64_t va_base, dca_leaf_fn fn, void *ctx)
{
	unsigned int n = 1U << dca_pt_bits(pt, level), i, width = dca_pt_width(pt);
	uint64_t tpa = table, *ents;
	int r;

	if (pt->outer) {
		r = dca_pt_lookup(a, pt->outer, table, &tpa, NULL);
		if (r)
			return r > 0 ? -EFAULT : r;
	}
	ents = malloc(n * 8);
	if (!ents)
		return -ENOMEM;
	r = dca_read_table(a, tpa, ents, n * 8);
	for (i = 0; !r && i < n; i++) {
		uint64_t pte = dca_get64(&ents[i], pt->be), va, ppn;

		if (!(pte & DCA_PTE_V))
			continue;
		va = va_base | ((uint64_t)i << (12 + 9 * level));
		if (pte & (DCA_PTE_R | DCA_PTE_W | DCA_PTE_X)) {
			uint64_t size = 1ULL << (12 + 9 * level);

			if (!dca_leaf_ppn(pte, level, va >> 12, &ppn))
				continue;
			/* first-stage input addresses are sign-extended */
			if (!pt->gstage && (va >> (width - 1)) & 1)
				va |= ~((1ULL << width) - 1);
			fn(a, ctx, va, ppn << 12, size, pte);
		} else if (level > 0) {
			r = dca_pt_enum_table(a, pt, DCA_PTE_PPN(pte) << 12, level - 1, va, fn, ctx);
		}
	}
	free(ents);
	return r;
}

static inline int dca_pt_enum(struct dca_audit *a, const struct dca_pt *pt, dca_leaf_fn fn, void *ctx)
{
	return dca_pt_enum_table(a, pt, pt->root, pt->levels - 1, 0, fn, ctx);
}

/* Levels of an iohgatp (gstage) or iosatp mode, 0 for Bare, -1 if not walkable. */
static inline int dca_mode_levels(unsigned int mode)
{
	switch (mode) {
	case 0:
		return 0;
	case 8:
		return 3;
	case 9:
		return 4;
	case 10:
		return 5;
	default:
		return -1;
	}
}

/* ------------------------------------------------------------ names */

static inline const char *dca_iohgatp_mode_name(unsigned int mode, char *buf, size_t len)
{
	static const char *const names[] = { [0] = "Bare", [8] = "Sv39x4", [9] = "Sv48x4",
					     [10] = "Sv57x4" };

	if (mode < 11 && names[mode])
		return names[mode];
	snprintf(buf, len, "rsv%u", mode);
	return buf;
}

static inline const char *dca_msiptp_mode_name(unsigned int mode, char *buf, size_t len)
{
	if (mode == 0)
		return "Off";
	if (mode == 1)
		return "Flat";
	snprintf(buf, len, "%s%u", mode >= 14 ? "custom" : "rsv", mode);
	return buf;
}

static inline const char *dca_file_name(const struct dca_file *f, char *buf, size_t len)
{
	if (f->guest)
		snprintf(buf, len, "hart %u G%u", f->hartid, f->guest);
	else
		snprintf(buf, len, "hart %u S", f->hartid);
	return buf;
}

/* ------------------------------------------------------------ check 1 */

static inline void dca_check_spec(struct dca_audit *a)
{
	unsigned int i;

	if (a->fctl & DCA_FCTL_GXL)
		dca_finding(a, DCA_CHECK_SPEC, NULL, 0,
			    "fctl.GXL=1: the checks assume GXL=0 (Sv39x4..Sv57x4)");
	for (i = 0; i < a->nr_dc; i++) {
		struct dca_dc *dc = &a->dc[i];

		dc->problem = rvmsi_dc_check(&dc->v, a->caps);
		if (dc->problem != RVMSI_DC_OK)
			dca_finding(a, DCA_CHECK_SPEC, dc, 0, "dc 0x%x: %s (iohgatp 0x%llx msiptp 0x%llx)",
				    dc->did, rvmsi_dc_problem_name(dc->problem),
				    (unsigned long long)dc->v.iohgatp,
				    (unsigned long long)dc->v.msiptp);
		if (dc->reserved)
			dca_finding(a, DCA_CHECK_SPEC, dc, DCA_P_RESERVED,
				    "dc 0x%x: reserved doubleword 7 is 0x%llx", dc->did,
				    (unsigned long long)dc->reserved);
	}
}

/* ------------------------------------------------------------ check 2 */

/* Does the DC take part in GSCID tagging: it has a second stage or an MSI table. */
static inline bool dca_gscid_user(const struct dca_dc *dc)
{
	return DCA_MODE(dc->v.iohgatp) != 0 || DCA_MODE(dc->v.msiptp) != 0;
}

/* The parts of a DC that DCs under one GSCID must agree on. */
static inline bool dca_same_space(const struct dca_dc *x, const struct dca_dc *y)
{
	return x->v.msiptp == y->v.msiptp && x->v.msi_addr_mask == y->v.msi_addr_mask &&
	       x->v.msi_addr_pattern == y->v.msi_addr_pattern &&
	       DCA_MODE(x->v.iohgatp) == DCA_MODE(y->v.iohgatp) &&
	       DCA_PPN44(x->v.iohgatp) == DCA_PPN44(y->v.iohgatp);
}

static inline void dca_describe_space(const struct dca_dc *dc, char *buf, size_t len)
{
	char m1[16], m2[16];

	snprintf(buf, len, "dc 0x%x iohgatp %s root 0x%llx msiptp %s table 0x%llx", dc->did,
		 dca_iohgatp_mode_name(DCA_MODE(dc->v.iohgatp), m1, sizeof(m1)),
		 (unsigned long long)(DCA_PPN44(dc->v.iohgatp) << 12),
		 dca_msiptp_mode_name(DCA_MODE(dc->v.msiptp), m2, sizeof(m2)),
		 (unsigned long long)(DCA_PPN44(dc->v.msiptp) << 12));
}

/*
 * Cached MSI translations are tagged with the GSCID and the guest address,
 * not with the device: two DCs under one GSCID must therefore translate
 * alike (same table, same mask and pattern, same second stage). A table
 * under a Bare iohgatp is counted under the GSCID value its iohgatp holds,
 * which is what the spec's "no valid GSCID" leaves an implementation and
 * the driver's invalidations with: two such tables collide there.
 */
static inline void dca_check_gscid(struct dca_audit *a)
{
	char d1[160], d2[160];
	unsigned int i, j;

	for (i = 0; i < a->nr_dc; i++) {
		struct dca_dc *x = &a->dc[i];

		if (!dca_gscid_user(x))
			continue;
		for (j = i + 1; j < a->nr_dc; j++) {
			struct dca_dc *y = &a->dc[j];

			if (!dca_gscid_user(y) || DCA_GSCID(x->v.iohgatp) != DCA_GSCID(y->v.iohgatp))
				continue;
			if (dca_same_space(x, y))
				continue;
			dca_describe_space(x, d1, sizeof(d1));
			dca_describe_space(y, d2, sizeof(d2));
			dca_finding(a, DCA_CHECK_GSCID, x, DCA_P_GSCID, "GSCID %u shared: %s; %s",
				    DCA_GSCID(x->v.iohgatp), d1, d2);
			y->flags |= DCA_P_GSCID;
		}
	}
	/* aliases: one table, one GSCID (and one second-stage setting) */
	for (i = 0; i < a->nr_dc; i++) {
		struct dca_dc *x = &a->dc[i];

		if (DCA_MODE(x->v.msiptp) == 0)
			continue;
		for (j = i + 1; j < a->nr_dc; j++) {
			struct dca_dc *y = &a->dc[j];

			if (DCA_MODE(y->v.msiptp) == 0 ||
			    DCA_PPN44(x->v.msiptp) != DCA_PPN44(y->v.msiptp))
				continue;
			if (DCA_GSCID(x->v.iohgatp) == DCA_GSCID(y->v.iohgatp) &&
			    DCA_MODE(x->v.iohgatp) == DCA_MODE(y->v.iohgatp))
				continue;
			dca_describe_space(x, d1, sizeof(d1));
			dca_describe_space(y, d2, sizeof(d2));
			dca_finding(a, DCA_CHECK_GSCID, x, DCA_P_TABLE,
				    "table 0x%llx under GSCIDs %u and %u: %s; %s",
				    (unsigned long long)(DCA_PPN44(x->v.msiptp) << 12),
				    DCA_GSCID(x->v.iohgatp), DCA_GSCID(y->v.iohgatp), d1, d2);
			y->flags |= DCA_P_TABLE;
		}
	}
}

/*
 * The first @len bytes of the config space of @bdf, through sysfs; 0 or -errno.
 */
static inline int dca_pci_config(const char *bdf, uint8_t *cfg, size_t len)
{
	char path[300];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, cfg, len, 0);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* The PCI Express device/port type in config space @cfg, or -1 if it has none. */
static inline int dca_pcie_type(const uint8_t *cfg)
{
	unsigned int pos = cfg[0x34], n;

	if (!(cfg[0x06] & 0x10))	/* status: no capability list */
		return -1;
	for (n = 0; pos >= 0x40 && pos < 0xff && n < 48; n++) {
		if (cfg[pos] == 0x10)		/* PCI Express capability */
			return (cfg[pos + 2] >> 4) & 0xf;
		pos = cfg[pos + 1];
	}
	return -1;
}

/*
 * The requester IDs other than its own that transactions of PCI function
 * @bdf may carry, as pci_for_each_dma_alias() derives them from the
 * topology (device-specific alias quirks left out): for each bridge above
 * it, a PCIe-to-PCI bridge adds (its secondary bus, devfn 0), PCIe root and
 * switch ports add nothing, any other bridge adds its own ID. Returns how
 * many were put in @ids.
 */
static inline unsigned int dca_pci_aliases(const char *bdf, uint32_t *ids, unsigned int max)
{
	char link[PATH_MAX], path[300], *slash, *base;
	unsigned int n = 0;
	uint8_t cfg[256];
	uint32_t rid;
	int type;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (!realpath(path, link))
		return 0;
	/* .../pci0000:00/0000:00:03.0/0000:01:01.0: the bridges are the parents */
	while ((slash = strrchr(link, '/')) && n < max) {
		*slash = 0;
		base = strrchr(link, '/');
		if (!base || lab_pci_rid(base + 1, &rid) || dca_pci_config(base + 1, cfg, sizeof(cfg)))
			break;
		type = dca_pcie_type(cfg);
		if (type == 4 || type == 5 || type == 6)	/* root, upstream, downstream port */
			continue;
		ids[n++] = type == 7 ? (uint32_t)cfg[0x19] << 8 : rid;	/* 7: PCIe-to-PCI */
	}
	return n;
}

static inline const struct dca_dc *dca_find_dc(const struct dca_audit *a, uint32_t did)
{
	unsigned int i;

	for (i = 0; i < a->nr_dc; i++)
		if (a->dc[i].did == did)
			return &a->dc[i];
	return NULL;
}

/* Do two DCs translate alike: the same table, mask, pattern, second stage and GSCID? */
static inline bool dca_same_dc(const struct dca_dc *x, const struct dca_dc *y)
{
	return x->v.iohgatp == y->v.iohgatp && x->v.msiptp == y->v.msiptp &&
	       x->v.msi_addr_mask == y->v.msi_addr_mask &&
	       x->v.msi_addr_pattern == y->v.msi_addr_pattern &&
	       x->v.fsc == y->v.fsc;
}

/* Every alias of a PCI function with a valid DC translates as its own DC does. */
static inline void dca_check_aliases(struct dca_audit *a)
{
	char d1[160], d2[160];
	unsigned int i, j, n;
	uint32_t ids[8];

	for (i = 0; i < a->nr_dc; i++) {
		struct dca_dc *x = &a->dc[i];

		if (!x->bdf[0])
			continue;
		n = dca_pci_aliases(x->bdf, ids, 8);
		for (j = 0; j < n; j++) {
			const struct dca_dc *y = dca_find_dc(a, ids[j]);

			if (ids[j] == x->did)
				continue;
			if (y && dca_same_dc(x, y))
				continue;
			dca_describe_space(x, d1, sizeof(d1));
			if (y)
				dca_describe_space(y, d2, sizeof(d2));
			else
				snprintf(d2, sizeof(d2), "dc 0x%x not valid", ids[j]);
			dca_finding(a, DCA_CHECK_GSCID, x, DCA_P_ALIAS,
				    "alias 0x%x of %s translates differently: %s; %s",
				    ids[j], x->bdf, d1, d2);
		}
	}
}

/* ------------------------------------------------------------ check 3 */

struct dca_cand {
	uint64_t gpa;			/* guest-physical page that reaches the file */
	unsigned int file;
};

struct dca_reach {
	struct dca_dc *dc;
	unsigned int nr_cand;
	struct dca_cand cand[DCA_MAX_CAND];
	bool cand_full;
	unsigned int hits, guest_hits;
	char shown[DCA_REACH_SHOWN][80];
};

/* A writable second-stage leaf: which interrupt files does it put at which GPA? */
static inline void dca_gstage_leaf(struct dca_audit *a, void *ctx, uint64_t va, uint64_t pa,
				   uint64_t size, uint64_t pte)
{
	struct dca_reach *rc = ctx;
	unsigned int f;

	if (!(pte & DCA_PTE_W))
		return;
	for (f = 0; f < a->nr_files; f++) {
		uint64_t fpa = a->files[f].pa;

		if (fpa < pa || fpa - pa >= size)
			continue;
		if (rc->nr_cand >= DCA_MAX_CAND) {
			rc->cand_full = true;
			return;
		}
		rc->cand[rc->nr_cand].gpa = va + (fpa - pa);
		rc->cand[rc->nr_cand].file = f;
		rc->nr_cand++;
	}
}

static inline void dca_reach_hit(struct dca_audit *a, struct dca_reach *rc, uint64_t iova,
				 const struct dca_cand *c, uint64_t pte)
{
	char fn[32];

	if (rc->hits < DCA_REACH_SHOWN)
		snprintf(rc->shown[rc->hits], sizeof(rc->shown[0]), "IOVA 0x%llx -> %s%s",
			 (unsigned long long)iova, dca_file_name(&a->files[c->file], fn, sizeof(fn)),
			 (pte && !(pte & DCA_PTE_R)) ? " (W without R)" : "");
	rc->hits++;
	if (a->files[c->file].guest)
		rc->guest_hits++;
}

/* A writable first-stage leaf: does its output cover a GPA that reaches a file? */
static inline void dca_fstage_leaf(struct dca_audit *a, void *ctx, uint64_t va, uint64_t pa,
				   uint64_t size, uint64_t pte)
{
	struct dca_reach *rc = ctx;
	unsigned int c;

	if (!(pte & DCA_PTE_W))
		return;
	for (c = 0; c < rc->nr_cand; c++)
		if (rc->cand[c].gpa >= pa && rc->cand[c].gpa - pa < size)
			dca_reach_hit(a, rc, va + (rc->cand[c].gpa - pa), &rc->cand[c], pte);
}

/*
 * Can the DC's MSI table be counted on for a write to guest-physical @gpa?
 * Only a Flat table next to a second stage: under a Bare iohgatp any msiptp
 * other than Off is a reserved setting (spec change of 2025-10-01), which an
 * IOMMU may refuse (cause 259) or treat any way it likes, so the spec
 * promises no remapping there; a reserved msiptp mode promises none either.
 */
static inline bool dca_table_usable(const struct dca_dc *dc)
{
	return DCA_MODE(dc->v.msiptp) == 1 && DCA_MODE(dc->v.iohgatp) != 0;
}

static inline bool dca_msi_intercepts(const struct dca_dc *dc, uint64_t gpa)
{
	uint64_t mask = dc->v.msi_addr_mask & DCA_MSI_MASK52;
	uint64_t pattern = dc->v.msi_addr_pattern & DCA_MSI_MASK52;

	if (!dca_table_usable(dc))
		return false;
	return ((gpa >> 12) & ~mask) == (pattern & ~mask);
}

static inline void dca_reach_dc(struct dca_audit *a, struct dca_dc *dc, struct dca_reach *rc)
{
	bool sbe = dc->v.tc & DCA_TC_SBE, be = a->fctl & DCA_FCTL_BE;
	int glev = dca_mode_levels(DCA_MODE(dc->v.iohgatp));
	int slev = dca_mode_levels(DCA_MODE(dc->v.fsc));
	struct dca_pt g = { 0 }, s = { 0 };
	unsigned int c, kept, f;
	bool fbare;
	int r;

	memset(rc, 0, sizeof(*rc));
	rc->dc = dc;
	/* Requests without a process_id see a Bare first stage under PDTV unless DPE. */
	if (dc->v.tc & DCA_TC_PDTV) {
		dca_finding(a, DCA_CHECK_REACH, dc, DCA_P_UNAUDITED,
			    "dc 0x%x: PDTV=1, process contexts are not walked", dc->did);
		if (dc->v.tc & DCA_TC_DPE)
			return;
		slev = 0;
	}
	if ((dc->v.tc & DCA_TC_SXL) || (a->fctl & DCA_FCTL_GXL) || glev < 0 || slev < 0) {
		dca_finding(a, DCA_CHECK_REACH, dc, DCA_P_UNAUDITED,
			    "dc 0x%x: translation not walkable (SXL %d GXL %d iohgatp.MODE %u fsc.MODE %u)",
			    dc->did, !!(dc->v.tc & DCA_TC_SXL), !!(a->fctl & DCA_FCTL_GXL),
			    DCA_MODE(dc->v.iohgatp), DCA_MODE(dc->v.fsc));
		return;
	}
	fbare = slev == 0;

	/* Which guest-physical pages end on an interrupt file, writable? */
	if (glev == 0) {
		for (f = 0; f < a->nr_files; f++) {
			rc->cand[rc->nr_cand].gpa = a->files[f].pa;
			rc->cand[rc->nr_cand].file = f;
			rc->nr_cand++;
		}
	} else {
		g.root = DCA_PPN44(dc->v.iohgatp) << 12;
		g.levels = glev;
		g.gstage = true;
		g.be = be;
		r = dca_pt_enum(a, &g, dca_gstage_leaf, rc);
		if (r) {
			dca_finding(a, DCA_CHECK_WALK, dc, DCA_P_WALK,
				    "dc 0x%x: second stage at 0x%llx: %s", dc->did,
				    (unsigned long long)g.root, strerror(-r));
			return;
		}
		if (rc->cand_full)
			dca_finding(a, DCA_CHECK_WALK, dc, DCA_P_WALK,
				    "dc 0x%x: more than %d interrupt-file aliases in the second stage",
				    dc->did, DCA_MAX_CAND);
	}
	/* The MSI table sees the GPA first; what it intercepts, it decides. */
	for (c = kept = 0; c < rc->nr_cand; c++)
		if (!dca_msi_intercepts(dc, rc->cand[c].gpa))
			rc->cand[kept++] = rc->cand[c];
	rc->nr_cand = kept;

	if (fbare && glev == 0 && !dca_table_usable(dc)) {
		dca_finding(a, DCA_CHECK_REACH, dc, DCA_P_IDENTITY,
			    "dc 0x%x: identity: reaches every interrupt file (iohgatp and fsc Bare, msiptp %s)",
			    dc->did, DCA_MODE(dc->v.msiptp) ? "reserved under Bare" : "Off");
		return;
	}
	if (fbare) {
		for (c = 0; c < rc->nr_cand; c++)
			dca_reach_hit(a, rc, rc->cand[c].gpa, &rc->cand[c], 0);
	} else if (rc->nr_cand) {
		s.root = DCA_PPN44(dc->v.fsc) << 12;
		s.levels = slev;
		s.be = sbe;
		s.outer = glev ? &g : NULL;
		r = dca_pt_enum(a, &s, dca_fstage_leaf, rc);
		if (r) {
			dca_finding(a, DCA_CHECK_WALK, dc, DCA_P_WALK,
				    "dc 0x%x: first stage at 0x%llx: %s", dc->did,
				    (unsigned long long)s.root, strerror(-r));
			return;
		}
	}
	if (rc->hits) {
		char list[DCA_REACH_SHOWN * 80 + 32] = "";
		unsigned int k;

		for (k = 0; k < rc->hits && k < DCA_REACH_SHOWN; k++) {
			strcat(list, k ? ", " : "");
			strcat(list, rc->shown[k]);
		}
		if (rc->hits > DCA_REACH_SHOWN)
			strcat(list, ", ...");
		dca_finding(a, DCA_CHECK_REACH, dc, DCA_P_REACH,
			    "dc 0x%x: %u writable mapping(s) onto interrupt files (%u onto guest files) no MSI table intercepts%s: %s",
			    dc->did, rc->hits, rc->guest_hits,
			    DCA_MODE(dc->v.msiptp) && !dca_table_usable(dc) ?
			    " (its msiptp is a reserved setting, not counted)" : "", list);
	}
}

static inline void dca_check_reach(struct dca_audit *a)
{
	struct dca_reach *rc;
	unsigned int i;

	/* Without MSI_FLAT there is no table to have: nothing to hold against a DC. */
	if (!(a->caps & DCA_CAP_MSI_FLAT))
		return;
	rc = malloc(sizeof(*rc));
	if (!rc) {
		dca_finding(a, DCA_CHECK_WALK, NULL, 0, "out of memory");
		return;
	}
	for (i = 0; i < a->nr_dc; i++)
		dca_reach_dc(a, &a->dc[i], rc);
	free(rc);
}

/* ------------------------------------------------------------ the audit */

/* Every interrupt-file page: S-level and guest slots of every hart in the DT. */
static inline int dca_files(struct dca_audit *a)
{
	unsigned int h, g, per;
	int r;

	r = imsic_dt_read(&a->im);
	if (r)
		return r;
	per = 1U << a->im.guest_bits;
	if (a->im.nr * per > DCA_MAX_FILES)
		return -E2BIG;
	a->nr_files = 0;
	for (h = 0; h < a->im.nr; h++)
		for (g = 0; g < per; g++) {
			struct dca_file *f = &a->files[a->nr_files++];

			f->pa = a->im.base + ((uint64_t)h << (a->im.guest_bits + 12)) +
				(uint64_t)g * 4096;
			f->hartid = a->im.hartid[h];
			f->guest = g;
		}
	return 0;
}

/*
 * Run the whole audit into @a (zeroed by the caller or not: it is reset).
 * Returns < 0 only when there is nothing to audit at all (no IOMMU, no
 * /dev/mem, the IOMMU not translating); everything else is a finding.
 */
static inline int dca_run(struct dca_audit *a)
{
	unsigned int mode, i;
	int r;

	memset(a, 0, sizeof(*a));
	a->memfd = -1;
	r = dca_find_iommu(a->bdf, sizeof(a->bdf));
	if (r)
		return r;
	r = dca_read_regs(a);
	if (r)
		return r;
	r = dca_files(a);
	if (r)
		return r;
	mode = a->ddtp & 0xf;
	if (mode < 2 || mode > 4)
		return -ENOTSUP;	/* Off, Bare or reserved: no directory to read */
	a->levels = mode - 1;
	a->dc_size = (a->caps & DCA_CAP_MSI_FLAT) ? 64 : 32;
	a->memfd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	if (a->memfd < 0)
		return -errno;
	dca_walk_ddt(a, DCA_PTE_PPN(a->ddtp) << 12, a->levels - 1, 0);
	for (i = 0; i < a->nr_dc; i++)
		dca_name_dc(&a->dc[i]);
	dca_check_spec(a);
	dca_check_gscid(a);
	dca_check_aliases(a);
	dca_check_reach(a);
	close(a->memfd);
	a->memfd = -1;
	return 0;
}

static inline unsigned int dca_total_findings(const struct dca_audit *a)
{
	unsigned int c, n = 0;

	for (c = 0; c < DCA_NR_CHECKS; c++)
		n += a->nr_findings[c];
	return n;
}

/* The problems of one DC, comma-separated, or "none". */
static inline void dca_problems(const struct dca_dc *dc, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int b;

	buf[0] = 0;
	if (dc->problem != RVMSI_DC_OK)
		n += snprintf(buf + n, len - n, "%s", rvmsi_dc_problem_name(dc->problem));
	for (b = 0; b < sizeof(dca_flag_names) / sizeof(dca_flag_names[0]) && n < len; b++)
		if (dc->flags & (1U << b))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "", dca_flag_names[b]);
	if (!buf[0])
		snprintf(buf, len, "none");
}

/*
 * The stable one-line summary of each valid DC (@tag names the moment), the
 * fields in full, then the findings of @check (all of them if @check < 0).
 */
static inline void dca_print_dcs(const struct dca_audit *a, const char *tag)
{
	char m1[16], m2[16], table[24], probs[200];
	unsigned int i;

	dca_out("# [%s] IOMMU %s: capabilities 0x%llx fctl 0x%x ddtp 0x%llx (%u-level DDT, %u-byte DCs), %u valid DC(s), %u interrupt-file pages",
		tag, a->bdf, (unsigned long long)a->caps, a->fctl, (unsigned long long)a->ddtp,
		a->levels, a->dc_size, a->nr_dc, a->nr_files);
	for (i = 0; i < a->nr_dc; i++) {
		const struct dca_dc *dc = &a->dc[i];

		if (DCA_MODE(dc->v.msiptp))
			snprintf(table, sizeof(table), "0x%llx",
				 (unsigned long long)(DCA_PPN44(dc->v.msiptp) << 12));
		else
			snprintf(table, sizeof(table), "-");
		dca_problems(dc, probs, sizeof(probs));
		dca_out("# [%s] dc 0x%x: iohgatp=%s/%u msiptp=%s table=%s problems=%s", tag, dc->did,
			dca_iohgatp_mode_name(DCA_MODE(dc->v.iohgatp), m1, sizeof(m1)),
			DCA_GSCID(dc->v.iohgatp),
			dca_msiptp_mode_name(DCA_MODE(dc->v.msiptp), m2, sizeof(m2)), table, probs);
	}
	for (i = 0; i < a->nr_dc; i++) {
		const struct dca_dc *dc = &a->dc[i];

		dca_out("# [%s]   dc 0x%x (%s) at 0x%llx: tc 0x%llx iohgatp 0x%llx ta 0x%llx fsc 0x%llx msiptp 0x%llx msi_addr_mask 0x%llx msi_addr_pattern 0x%llx",
			tag, dc->did, dc->bdf[0] ? dc->bdf : "no PCI function",
			(unsigned long long)dc->pa, (unsigned long long)dc->v.tc,
			(unsigned long long)dc->v.iohgatp, (unsigned long long)dc->v.ta,
			(unsigned long long)dc->v.fsc, (unsigned long long)dc->v.msiptp,
			(unsigned long long)dc->v.msi_addr_mask,
			(unsigned long long)dc->v.msi_addr_pattern);
	}
}

static inline void dca_print_findings(const struct dca_audit *a, const char *tag, int check)
{
	unsigned int i;

	for (i = 0; i < a->nr_lines; i++)
		if (check < 0 || (int)a->lines[i].check == check)
			dca_out("# [%s] finding (%s): %s", tag, dca_check_names[a->lines[i].check],
				a->lines[i].text);
	if (check >= 0 && a->nr_findings[check] > 0 && a->nr_lines >= DCA_MAX_FINDINGS)
		dca_out("# [%s] (finding lines cut at %d)", tag, DCA_MAX_FINDINGS);
}

#endif /* RVMSI_LAB_DC_AUDIT_H */
