/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two devices that share a requester ID: the two edus behind the lab's
 * PCIe-to-PCI bridge (pcie-pci-bridge, slots 1 and 2 of its secondary bus;
 * see the QEMU line in tests/lab/rvmsi-lab). Each has its own requester ID
 * and the bridge's alias (secondary bus, devfn 0); the bridge tags the
 * transactions of both with the alias, so the IOMMU looks their MSIs up in
 * the one device context of the alias. The kernel gives the two one MSI
 * table, one GSCID and one mode (docs/kernel.md, "Requester-ID aliases").
 *
 * What is checked, with the device contexts read from memory (dc-audit.h)
 * and the MSIs counted at the eventfds:
 *  - the three contexts (both own IDs and the alias) hold one table under
 *    one GSCID, on the host and in an iommufd IOAS;
 *  - the MSIs of both devices arrive, also while one device's IRQ moves
 *    from CPU to CPU, and the table counts the IRQs of both;
 *  - the mode is the set's: set through one device, seen and used by both;
 *  - removing one device leaves the other's MSIs working, and the device
 *    found again by a rescan joins the same table.
 * Before the sets (one table and GSCID per device, the last device to
 * attach owning the alias's context) the first check fails, and the MSIs
 * of one of the two fault with cause 262.
 *
 * QEMU 10.0 computes a bridged device's DMA requester ID once, at machine
 * start, before the guest numbers the bridge's secondary bus (bus 0, so
 * devid 0x0, the host bridge's context); the MSI's requester ID it takes
 * at send time, which is the alias. So the lab can check MSIs here, not
 * the DMA of these two devices.
 */
#include <linux/rvmsi.h>

#include "dc-audit.h"
#include "genl-lab.h"
#include "rvmsi-ioctl-lab.h"
#include "kselftest_harness.h"

#define IRQ_TIMEOUT_MS	2000
#define RAISES		3
#define DEBUGFS_DIR	"/sys/kernel/debug/iommu/riscv-msi"

FIXTURE(alias) {
	struct edu e[2];
	uint32_t rid[2];
	uint32_t alias;
	int irq[2];
	int iommufd;
	uint32_t ioas_id;
	struct dca_audit *a;
};

/* The Linux IRQ of @e's vfio-msi vector, from its MSI-IRQ directory. */
static int edu_msi_irq(struct edu *e)
{
	char path[300];
	struct dirent *de;
	DIR *dir;
	int irq = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs", e->bdf);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			irq = atoi(de->d_name);
	closedir(dir);
	return irq;
}

/*
 * The number of devices in @bdf's IOMMU group, its name in @group; -errno
 * without a group.
 */
static int group_size(const char *bdf, char *group, size_t len)
{
	char path[300], link[300];
	struct dirent *de;
	ssize_t n;
	DIR *dir;
	int count = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	snprintf(group, len, "%s", strrchr(link, '/') + 1);
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/devices", group);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		count += de->d_name[0] != '.';
	closedir(dir);
	return count;
}

/* Raise edu's interrupt RAISES times; how many reached the eventfd. */
static uint64_t raise_count(struct edu *e)
{
	uint64_t got = 0;
	int i;

	for (i = 0; i < RAISES; i++) {
		edu_w32(e, EDU_REG_IRQ_RAISE, 0x1 << i);
		got += edu_wait_irq(e, IRQ_TIMEOUT_MS);
	}
	return got;
}

/* Read every device context from memory and print them and the findings. */
static int audit(struct dca_audit *a, const char *moment)
{
	int r;

	memset(a, 0, sizeof(*a));
	r = dca_run(a);
	if (r < 0)
		return r;
	dca_print_dcs(a, moment);
	dca_print_findings(a, moment, -1);
	return 0;
}

/*
 * The device contexts of both devices and of the alias, from memory: all
 * valid, one MSI table, one GSCID, one second stage. Returns 0 or a
 * description of the first difference in @why.
 */
static int check_contexts(FIXTURE_DATA(alias) *self, const char *moment, char *why,
			  size_t len)
{
	uint32_t did[3] = { self->rid[0], self->rid[1], self->alias };
	const struct dca_dc *dc[3];
	int i, r;

	r = audit(self->a, moment);
	if (r < 0) {
		snprintf(why, len, "the audit could not run: %s", strerror(-r));
		return r;
	}
	for (i = 0; i < 3; i++) {
		dc[i] = dca_find_dc(self->a, did[i]);
		if (!dc[i] || !(dc[i]->v.tc & 1)) {
			snprintf(why, len, "dc 0x%x not valid", did[i]);
			return -ENOENT;
		}
		if (!DCA_MODE(dc[i]->v.msiptp)) {
			snprintf(why, len, "dc 0x%x has no MSI table", did[i]);
			return -ENOENT;
		}
	}
	for (i = 1; i < 3; i++) {
		if (dc[i]->v.msiptp != dc[0]->v.msiptp ||
		    dc[i]->v.iohgatp != dc[0]->v.iohgatp) {
			snprintf(why, len,
				 "dc 0x%x (msiptp %#llx iohgatp %#llx) differs from dc 0x%x (msiptp %#llx iohgatp %#llx)",
				 did[i], (unsigned long long)dc[i]->v.msiptp,
				 (unsigned long long)dc[i]->v.iohgatp, did[0],
				 (unsigned long long)dc[0]->v.msiptp,
				 (unsigned long long)dc[0]->v.iohgatp);
			return -EINVAL;
		}
	}
	if (self->a->nr_findings[DCA_CHECK_SPEC] || self->a->nr_findings[DCA_CHECK_GSCID]) {
		snprintf(why, len, "%u spec and %u GSCID finding(s)",
			 self->a->nr_findings[DCA_CHECK_SPEC],
			 self->a->nr_findings[DCA_CHECK_GSCID]);
		return -EINVAL;
	}
	return 0;
}

/* Sum of the refcounts of @e's valid entries, or -errno. */
static long entry_refs(struct edu *e)
{
	struct iommu_rvmsi_entry ents[64];
	uint32_t n = 64, i;
	long sum = 0;
	int r;

	r = rvmsi_get_entries(e, ents, &n);
	if (r)
		return r;
	for (i = 0; i < n; i++)
		sum += ents[i].refcount;
	return sum;
}

FIXTURE_SETUP(alias)
{
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };
	char bdf[2][32];
	const char *step = "";
	int i, r;

	self->iommufd = -1;
	for (i = 0; i < 2; i++) {
		memset(&self->e[i], 0, sizeof(self->e[i]));
		self->e[i].iommufd = self->e[i].devfd = self->e[i].efd = -1;
	}
	self->a = calloc(1, sizeof(*self->a));
	ASSERT_NE(NULL, self->a);
	ASSERT_EQ(0, edu_find_bridged(bdf)) TH_LOG("not two edus behind a bridge");
	for (i = 0; i < 2; i++) {
		snprintf(self->e[i].bdf, sizeof(self->e[i].bdf), "%.31s", bdf[i]);
		ASSERT_EQ(0, lab_pci_rid(bdf[i], &self->rid[i]));
	}
	/* A PCIe-to-PCI bridge's alias: its secondary bus, devfn 0. */
	self->alias = self->rid[0] & 0xff00;
	ASSERT_EQ(self->alias, self->rid[1] & 0xff00);
	ASSERT_EQ(0, edu_set_unsafe_interrupts(1));

	/* One IOMMU group: one iommufd and one IOAS for both. */
	self->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->iommufd);
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_ALLOC, &ia));
	self->ioas_id = ia.out_ioas_id;
	for (i = 0; i < 2; i++) {
		r = edu_attach(&self->e[i], self->iommufd, self->ioas_id, &step);
		ASSERT_EQ(0, r) TH_LOG("%s: %s: %s", self->e[i].bdf, step, strerror(-r));
		self->e[i].iommufd = self->iommufd;
		r = edu_enable_msi(&self->e[i]);
		ASSERT_EQ(0, r) TH_LOG("%s: MSI: %s", self->e[i].bdf, strerror(-r));
		self->irq[i] = edu_msi_irq(&self->e[i]);
		ASSERT_LT(0, self->irq[i]);
	}
	TH_LOG("%s (rid 0x%x, IRQ %d) and %s (rid 0x%x, IRQ %d), alias 0x%x",
	       self->e[0].bdf, self->rid[0], self->irq[0], self->e[1].bdf, self->rid[1],
	       self->irq[1], self->alias);
}

FIXTURE_TEARDOWN(alias)
{
	int i;

	for (i = 0; i < 2; i++) {
		/* The iommufd is the fixture's, closed once below. */
		self->e[i].iommufd = -1;
		edu_close(&self->e[i]);
	}
	if (self->iommufd >= 0)
		close(self->iommufd);
	free(self->a);
}

/* Both devices behind the bridge are in one group with it. */
TEST_F(alias, one_group)
{
	char g0[16], g1[16];

	ASSERT_EQ(3, group_size(self->e[0].bdf, g0, sizeof(g0)))
		TH_LOG("group %s: the bridge and both edus", g0);
	ASSERT_EQ(3, group_size(self->e[1].bdf, g1, sizeof(g1)));
	ASSERT_STREQ(g0, g1);
}

/*
 * The three contexts agree in the IOAS; debugfs names both devices as the
 * table's; netlink lists both with the same table and two users of it.
 */
TEST_F(alias, one_table_one_gscid)
{
	char why[300], path[300], line[256], last[256] = "";
	struct genl_family_info fi;
	struct rvmsi_nl_find nl[2];
	int sock, ev, i, r;
	FILE *f;

	ASSERT_EQ(0, check_contexts(self, "ioas", why, sizeof(why))) TH_LOG("%s", why);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), DEBUGFS_DIR "/%s", self->e[i].bdf);
		f = fopen(path, "re");
		ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
		while (fgets(line, sizeof(line), f))
			snprintf(last, sizeof(last), "%s", line);
		fclose(f);
		last[strcspn(last, "\n")] = 0;
		TH_LOG("%s: %s", self->e[i].bdf, last);
		ASSERT_NE(NULL, strstr(last, self->e[0].bdf));
		ASSERT_NE(NULL, strstr(last, self->e[1].bdf));
	}

	r = rvmsi_nl_open(&sock, &ev, &fi);
	ASSERT_EQ(0, r) TH_LOG("the rvmsi family: %s", strerror(-r));
	for (i = 0; i < 2; i++) {
		r = rvmsi_nl_dev_get(sock, fi.id, self->e[i].bdf, false, &nl[i]);
		ASSERT_EQ(0, r) TH_LOG("DEV_GET %s: %s", self->e[i].bdf, strerror(-r));
		ASSERT_TRUE(nl[i].found);
		TH_LOG("%s: rid 0x%x mode %u nr-valid %u table-users %u", nl[i].dev.name,
		       nl[i].dev.rid, nl[i].dev.mode, nl[i].dev.nr_valid, nl[i].dev.table_users);
		EXPECT_EQ(2U, nl[i].dev.table_users);
		EXPECT_EQ(self->rid[i], nl[i].dev.rid);
	}
	EXPECT_EQ(nl[0].dev.mode, nl[1].dev.mode);
	EXPECT_EQ(nl[0].dev.nr_valid, nl[1].dev.nr_valid);
	EXPECT_LE(1U, nl[0].dev.nr_valid) TH_LOG("the entries of the two IRQs");
	close(sock);
	close(ev);
}

/* Both devices' MSIs arrive, and the table counts both IRQs. */
TEST_F(alias, both_deliver)
{
	int i;

	/* Braces: the harness's EXPECT and its TH_LOG are two statements. */
	for (i = 0; i < 2; i++) {
		EXPECT_EQ((uint64_t)RAISES, raise_count(&self->e[i]))
			TH_LOG("%s's MSIs", self->e[i].bdf);
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(2, entry_refs(&self->e[i]))
			TH_LOG("%s: the entries should count both devices' IRQs", self->e[i].bdf);
	}
}

/* One device's IRQ moves over every CPU; the other's MSIs keep arriving. */
TEST_F(alias, moves_keep_both)
{
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), cpu, got;

	for (cpu = 0; cpu < ncpu; cpu++) {
		got = edu_move_irq(&self->e[0], self->irq[0], cpu);
		ASSERT_EQ(cpu, got) TH_LOG("move of IRQ %d to CPU %d", self->irq[0], cpu);
		EXPECT_EQ((uint64_t)RAISES, raise_count(&self->e[0]));
		EXPECT_EQ((uint64_t)RAISES, raise_count(&self->e[1]));
		ASSERT_EQ(2, entry_refs(&self->e[1]));
	}
}

/* The mode set through one device is the other's too, and both work in it. */
TEST_F(alias, mode_is_the_sets)
{
	struct iommu_rvmsi_info info;
	int i;

	ASSERT_EQ(0, rvmsi_set_mode(&self->e[0], IOMMU_RVMSI_MODE_MRIF));
	ASSERT_EQ(0, rvmsi_get_info(&self->e[1], &info));
	EXPECT_EQ((__u32)IOMMU_RVMSI_MODE_MRIF, info.out_mode);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ((uint64_t)RAISES, raise_count(&self->e[i]))
			TH_LOG("%s's MSIs in MRIF mode", self->e[i].bdf);
	}
	ASSERT_EQ(0, rvmsi_set_mode(&self->e[1], IOMMU_RVMSI_MODE_IDENTITY));
	ASSERT_EQ(0, rvmsi_get_info(&self->e[0], &info));
	EXPECT_EQ((__u32)IOMMU_RVMSI_MODE_IDENTITY, info.out_mode);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ((uint64_t)RAISES, raise_count(&self->e[i]))
			TH_LOG("%s's MSIs in identity mode", self->e[i].bdf);
	}
}

/*
 * The first device goes (closed, unbound, removed): the second keeps its
 * MSIs through the alias. A rescan finds the first again, in the same set.
 */
TEST_F(alias, remove_one_keeps_the_other)
{
	uint32_t did[2] = { self->alias, self->rid[1] };
	char why[300], path[300], bdf0[32];
	struct stat st;
	int i;

	snprintf(bdf0, sizeof(bdf0), "%s", self->e[0].bdf);
	self->e[0].iommufd = -1;
	edu_close(&self->e[0]);
	memset(&self->e[0], 0, sizeof(self->e[0]));
	self->e[0].iommufd = self->e[0].devfd = self->e[0].efd = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", bdf0);
	ASSERT_EQ(0, edu_write_file(path, "1"));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf0);
	ASSERT_NE(0, stat(path, &st)) TH_LOG("%s still there", bdf0);

	EXPECT_EQ((uint64_t)RAISES, raise_count(&self->e[1]))
		TH_LOG("%s's MSIs after %s went", self->e[1].bdf, bdf0);
	ASSERT_LE(0, audit(self->a, "removed"));
	for (i = 0; i < 2; i++) {
		const struct dca_dc *dc = dca_find_dc(self->a, did[i]);

		ASSERT_NE(NULL, dc) TH_LOG("no dc 0x%x", did[i]);
		EXPECT_EQ(1ULL, dc->v.tc & 1) TH_LOG("dc 0x%x invalid after %s went", did[i], bdf0);
	}

	ASSERT_EQ(0, edu_write_file("/sys/bus/pci/rescan", "1"));
	ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s not found again", bdf0);
	EXPECT_EQ((uint64_t)RAISES, raise_count(&self->e[1]))
		TH_LOG("%s's MSIs after %s came back", self->e[1].bdf, bdf0);
	ASSERT_EQ(0, check_contexts(self, "rescanned", why, sizeof(why))) TH_LOG("%s", why);
}

TEST_HARNESS_MAIN
