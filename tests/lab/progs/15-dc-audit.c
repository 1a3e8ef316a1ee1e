/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The device contexts as the IOMMU reads them, checked against the spec
 * (dc-audit.h): the registers through the PCI BAR, the directory and the
 * page tables through /dev/mem, nothing through the driver.
 *
 * At four moments, one fixture variant each:
 *  host_default  the host's default domains, edu not opened by anyone. In
 *                the lab these are identity domains: Linux 7.3 has no
 *                CONFIG_IOMMU_DMA on RISC-V, so the IOMMU core makes every
 *                default domain IDENTITY, whatever the boot log's "Default
 *                domain type: Translated" says; the groups' sysfs type says
 *                "identity". rvmsi gives them a 1:1 second-stage table so
 *                that their MSI tables stay usable (docs/kernel.md §3); a DC
 *                with both stages Bare is reported as reaching every
 *                interrupt file unless a table the spec lets the IOMMU use
 *                intercepts them;
 *  vfio_ioas     edu bound to vfio-pci, attached to an iommufd IOAS, its MSI
 *                routed to an eventfd and one MSI delivered (so its MSI table
 *                entry is live);
 *  detached      the same, after VFIO_DEVICE_DETACH_IOMMUFD_PT;
 *  released      after the VFIO device and iommufd are closed and vfio-pci
 *                is unbound (back to the default domain).
 * Each moment has four subtests: summary (the stable "dc <did>: ..." line and
 * the fields of every valid DC; fails only if the audit could not read what
 * it needed), spec_rules (rvmsi_dc_check()), one_table_per_gscid and
 * no_unremapped_file. Every finding is printed as "# [<moment>] finding
 * (<check>): ...".
 */
#include "dc-audit.h"
#include "kselftest_harness.h"

#define IRQ_TIMEOUT_MS	2000
#define UNSAFE_PARAM	"/sys/module/iommufd/parameters/allow_unsafe_interrupts"

enum moment { HOST_DEFAULT, VFIO_IOAS, DETACHED, RELEASED };

FIXTURE(dc_audit) {
	struct dca_audit *a;
	struct edu e;
	bool opened;
	char unsafe[8];		/* allow_unsafe_interrupts before the test */
	char edu_bdf[32];
	uint32_t edu_rid;
};

FIXTURE_VARIANT(dc_audit) {
	enum moment moment;
	const char *tag;
};

FIXTURE_VARIANT_ADD(dc_audit, host_default) {
	.moment = HOST_DEFAULT,
	.tag = "host-default",
};

FIXTURE_VARIANT_ADD(dc_audit, vfio_ioas) {
	.moment = VFIO_IOAS,
	.tag = "vfio-ioas",
};

FIXTURE_VARIANT_ADD(dc_audit, detached) {
	.moment = DETACHED,
	.tag = "detached",
};

FIXTURE_VARIANT_ADD(dc_audit, released) {
	.moment = RELEASED,
	.tag = "released",
};

static int unbind_vfio(const char *bdf)
{
	char path[300];
	int r;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	r = edu_write_file(path, bdf);
	if (r && r != -ENOENT)
		return r;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	return edu_write_file(path, "\n");
}

FIXTURE_SETUP(dc_audit)
{
	const char *step = "";
	int r;

	memset(&self->e, 0, sizeof(self->e));
	self->e.iommufd = self->e.devfd = self->e.efd = -1;
	self->a = calloc(1, sizeof(*self->a));
	ASSERT_NE(NULL, self->a);
	if (edu_read_file(UNSAFE_PARAM, self->unsafe, sizeof(self->unsafe)))
		self->unsafe[0] = 0;
	ASSERT_EQ(0, edu_find(self->edu_bdf, sizeof(self->edu_bdf))) TH_LOG("no edu device");
	ASSERT_EQ(0, lab_pci_rid(self->edu_bdf, &self->edu_rid));

	if (variant->moment != HOST_DEFAULT) {
		self->opened = true;
		r = edu_open_msi(&self->e, NULL, &step);
		ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
		/* one MSI end to end: whatever the device needs for it is in place */
		edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
		ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&self->e, IRQ_TIMEOUT_MS))
			TH_LOG("edu's MSI did not arrive");
	}
	if (variant->moment == DETACHED) {
		struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

		ASSERT_EQ(0, ioctl(self->e.devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d))
			TH_LOG("VFIO_DEVICE_DETACH_IOMMUFD_PT: %s", strerror(errno));
	}
	if (variant->moment == RELEASED) {
		edu_close(&self->e);
		self->opened = false;
		r = unbind_vfio(self->edu_bdf);
		ASSERT_EQ(0, r) TH_LOG("unbinding vfio-pci: %s", strerror(-r));
	}

	r = dca_run(self->a);
	ASSERT_EQ(0, r) TH_LOG("cannot audit (CONFIG_DEVMEM without STRICT_DEVMEM? the IOMMU's BAR?): %s",
			       strerror(-r));
}

FIXTURE_TEARDOWN(dc_audit)
{
	if (self->opened)
		edu_close(&self->e);
	if (self->unsafe[0])
		edu_write_file(UNSAFE_PARAM, self->unsafe);
	free(self->a);
}

/* The domain type each IOMMU group claims (the driver's word, for context only). */
static void log_group_types(const char *tag)
{
	char path[300], type[64];
	struct dirent *de;
	DIR *d;

	d = opendir("/sys/kernel/iommu_groups");
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/type", de->d_name);
		if (edu_read_file(path, type, sizeof(type)) == 0)
			dca_out("# [%s] iommu group %s: %s domain (sysfs)", tag, de->d_name, type);
	}
	closedir(d);
}

/*
 * Every valid DC, one stable line each and then its fields. Fails only when
 * the audit itself could not read a table, or found nothing to audit.
 */
TEST_F(dc_audit, summary)
{
	const struct dca_dc *edu = dca_find_dc(self->a, self->edu_rid);

	dca_print_dcs(self->a, variant->tag);
	log_group_types(variant->tag);
	dca_out("# [%s] edu %s (dc 0x%x): %s; %u finding(s) in all", variant->tag, self->edu_bdf,
		self->edu_rid, edu ? "valid DC" : "no valid DC", dca_total_findings(self->a));
	dca_print_findings(self->a, variant->tag, DCA_CHECK_WALK);
	EXPECT_EQ(0U, self->a->nr_findings[DCA_CHECK_WALK]) TH_LOG("the walk was incomplete");
	ASSERT_LT(0U, self->a->nr_dc) TH_LOG("no valid device context at all");
	/* edu's MSI just arrived through the IOMMU: its DC must have been valid */
	if (variant->moment == VFIO_IOAS)
		ASSERT_NE(NULL, edu) TH_LOG("edu has no valid DC while its MSIs work");
}

/* Check 1: every valid DC passes lib/msi's rvmsi_dc_check() for these capabilities. */
TEST_F(dc_audit, spec_rules)
{
	dca_print_findings(self->a, variant->tag, DCA_CHECK_SPEC);
	EXPECT_EQ(0U, self->a->nr_findings[DCA_CHECK_SPEC])
		TH_LOG("%u device context(s) break the spec's configuration rules",
		       self->a->nr_findings[DCA_CHECK_SPEC]);
}

/* Check 2: one live MSI table per GSCID, one GSCID per table, aliases alike. */
TEST_F(dc_audit, one_table_per_gscid)
{
	dca_print_findings(self->a, variant->tag, DCA_CHECK_GSCID);
	EXPECT_EQ(0U, self->a->nr_findings[DCA_CHECK_GSCID])
		TH_LOG("%u GSCID or alias conflict(s)", self->a->nr_findings[DCA_CHECK_GSCID]);
}

/* Check 3: no interrupt file is writable through a DC without its MSI table in the way. */
TEST_F(dc_audit, no_unremapped_file)
{
	dca_print_findings(self->a, variant->tag, DCA_CHECK_REACH);
	EXPECT_EQ(0U, self->a->nr_findings[DCA_CHECK_REACH])
		TH_LOG("%u device context(s) reach interrupt files unremapped",
		       self->a->nr_findings[DCA_CHECK_REACH]);
}

TEST_HARNESS_MAIN
