/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The end of a device's table: after edu has been used through VFIO (MSI
 * enabled, MRIF mode, back to identity), removing it from the PCI bus
 * releases its table and remap domain and sends ENTRY_NTF with reason
 * "device gone"; a rescan probes it again with a fresh table in identity
 * mode, and its MSIs work again. A second test removes edu while VFIO still
 * holds it with its MSI enabled: the kernel asks the user to let go, the
 * IRQ is freed under the pending removal, the table goes, and the rescanned
 * device works. Runs last: it takes edu away for a while.
 */
#include <linux/rvmsi.h>
#include <pthread.h>

#include "genl-lab.h"
#include "imsic-lab.h"
#include "rvmsi-ioctl-lab.h"
#include "kselftest_harness.h"

/* An event about @name (a struct rvmsi_nl_find) with reason DEV_GONE. */
static int gone_cb(struct nlmsghdr *nlh, void *arg)
{
	struct rvmsi_nl_find *g = arg;
	struct rvmsi_nl_dev d;

	rvmsi_nl_parse_dev(nlh, &d);
	if (strcmp(d.name, g->name) || d.reason != RVMSI_REASON_DEV_GONE)
		return 0;
	g->dev = d;
	g->found = true;
	return 1;
}

static bool in_dump(int sock, uint16_t fam, const char *name)
{
	struct rvmsi_nl_find f;

	return !rvmsi_nl_dev_get(sock, fam, name, true, &f) && f.found;
}

/* After a removal: DEV_GONE for @bdf arrives, and it leaves the dump. */
static void assert_gone(struct __test_metadata *_metadata, int ev, int sock, uint16_t fam,
			const char *bdf)
{
	struct rvmsi_nl_find gone = { .name = bdf };
	int r;

	r = genl_wait_events(ev, 3000, gone_cb, &gone);
	ASSERT_LE(0, r) TH_LOG("events: %s", strerror(-r));
	ASSERT_TRUE(gone.found) TH_LOG("no ENTRY_NTF with reason DEV_GONE for %s", bdf);
	ASSERT_FALSE(in_dump(sock, fam, bdf));
}

/*
 * Rescan: @e->bdf comes back with a fresh table (identity, no lock, no entry
 * until an IRQ comes), and its MSI is delivered again.
 */
static void assert_rescan_works(struct __test_metadata *_metadata, int sock, uint16_t fam,
				struct edu *e)
{
	struct rvmsi_nl_find fresh;
	const char *step = "";
	int r, left;

	ASSERT_EQ(0, edu_write_file("/sys/bus/pci/rescan", "1"));
	for (left = 50; left > 0 && !in_dump(sock, fam, e->bdf); left--)
		usleep(100000);
	ASSERT_TRUE(in_dump(sock, fam, e->bdf));
	ASSERT_EQ(0, rvmsi_nl_dev_get(sock, fam, e->bdf, false, &fresh));
	EXPECT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, fresh.dev.mode);
	EXPECT_EQ(0, fresh.dev.locked);
	EXPECT_EQ(0, fresh.dev.nents);
	r = edu_open_msi(e, NULL, &step);
	ASSERT_EQ(0, r) TH_LOG("after rescan: %s: %s", step, strerror(-r));
	edu_w32(e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(e, 2000));
	edu_close(e);
}

TEST(remove_and_rescan)
{
	struct genl_family_info fi;
	const char *step = "";
	char path[128];
	struct edu e;
	int sock, ev, r;

	r = rvmsi_nl_open(&sock, &ev, &fi);
	ASSERT_EQ(0, r) TH_LOG("rvmsi netlink sockets: %s", strerror(-r));

	/* Use it: MSI on, a trip through MRIF mode, then close. */
	r = edu_open_msi(&e, NULL, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
	ASSERT_EQ(0, rvmsi_set_mode(&e, IOMMU_RVMSI_MODE_MRIF));
	edu_w32(&e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&e, 2000));
	ASSERT_EQ(0, rvmsi_set_mode(&e, IOMMU_RVMSI_MODE_IDENTITY));
	edu_close(&e);
	ASSERT_TRUE(in_dump(sock, fi.id, e.bdf));

	/* Remove: DEV_GONE, and it leaves the dump; rescan: it works again. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", e.bdf);
	ASSERT_EQ(0, edu_write_file(path, "1"));
	assert_gone(_metadata, ev, sock, fi.id, e.bdf);
	assert_rescan_works(_metadata, sock, fi.id, &e);
	TH_LOG("%s removed (DEV_GONE received), rescanned, MSI delivered again", e.bdf);
	close(ev);
	close(sock);
}

struct remover {
	char path[128];
	int ret;
};

static void *remove_thread(void *arg)
{
	struct remover *rm = arg;

	rm->ret = edu_write_file(rm->path, "1");
	return NULL;
}

/*
 * Remove edu while VFIO holds it with its MSI enabled. vfio-pci's remove
 * waits for its user; the user closes, which frees the IRQ while the
 * removal is pending; then the table goes (DEV_GONE) and the device can be
 * rescanned and used again. The lab's check fails the run on any kernel
 * report this provokes.
 */
TEST(remove_with_live_msi)
{
	struct genl_family_info fi;
	struct remover rm = { 0 };
	const char *step = "";
	struct rvmsi_nl_find f;
	pthread_t t;
	struct edu e;
	int sock, ev, r, irq;

	r = rvmsi_nl_open(&sock, &ev, &fi);
	ASSERT_EQ(0, r) TH_LOG("rvmsi netlink sockets: %s", strerror(-r));
	r = edu_open_msi(&e, &irq, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
	edu_w32(&e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&e, 2000));
	ASSERT_EQ(0, rvmsi_nl_dev_get(sock, fi.id, e.bdf, false, &f));
	ASSERT_EQ(1U, f.dev.nr_irqs) TH_LOG("edu's MSI is not live before the removal");

	snprintf(rm.path, sizeof(rm.path), "/sys/bus/pci/devices/%s/remove", e.bdf);
	ASSERT_EQ(0, pthread_create(&t, NULL, remove_thread, &rm));
	usleep(300000);
	/* Still there: the removal waits for the user. */
	ASSERT_TRUE(in_dump(sock, fi.id, e.bdf));
	edu_close(&e);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, rm.ret) TH_LOG("remove: %s", strerror(-rm.ret));
	assert_gone(_metadata, ev, sock, fi.id, e.bdf);
	assert_rescan_works(_metadata, sock, fi.id, &e);
	TH_LOG("%s removed while VFIO held it with MSI on; DEV_GONE; rescanned, MSI delivered",
	       e.bdf);
	close(ev);
	close(sock);
}

TEST_HARNESS_MAIN
