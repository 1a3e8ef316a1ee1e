/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The end of a device's table: after edu has been used through VFIO (MSI
 * enabled, MRIF mode, back to identity), removing it from the PCI bus
 * releases its table and remap domain and sends ENTRY_NTF with reason
 * "device gone"; a rescan probes it again with a fresh table in identity
 * mode, and its MSIs work again. Runs last: it takes edu away for a while.
 */
#include <linux/rvmsi.h>

#include "genl-lab.h"
#include "imsic-lab.h"
#include "kselftest_harness.h"

static int gone_cb_name(struct nlmsghdr *nlh, const char *name, uint32_t *reason)
{
	struct nlattr *a;
	bool match = false;
	int len;

	*reason = 0;
	genl_for_each_attr(a, genl_msg_attrs(nlh, &len), len) {
		if (genl_attr_type(a) == RVMSI_A_DEV_NAME &&
		    !strcmp(genl_attr_data(a), name))
			match = true;
		if (genl_attr_type(a) == RVMSI_A_DEV_REASON)
			*reason = genl_attr_u32(a);
	}
	return match;
}

static int dump_cb(struct nlmsghdr *nlh, void *arg)
{
	const char *name = *(const char **)arg;
	struct nlattr *a;
	int len;

	genl_for_each_attr(a, genl_msg_attrs(nlh, &len), len)
		if (genl_attr_type(a) == RVMSI_A_DEV_NAME && !strcmp(genl_attr_data(a), name))
			*(const char **)arg = NULL;	/* found */
	return 0;
}

static bool in_dump(int sock, uint16_t fam, const char *name)
{
	const char *arg = name;
	struct genl_req r;

	genl_req_init(&r, fam, RVMSI_CMD_DEV_GET, NLM_F_DUMP);
	if (genl_talk(sock, &r, dump_cb, &arg))
		return false;
	return arg == NULL;
}

TEST(remove_and_rescan)
{
	struct genl_family_info fi = { .group = RVMSI_MCGRP_EVENTS };
	struct iommu_rvmsi_set_mode sm = { .size = sizeof(sm) };
	char path[128], buf[GENL_BUF];
	const char *step = "";
	bool gone = false;
	struct edu e;
	int sock, ev, r, n, left;
	unsigned int len;

	sock = genl_open();
	ev = genl_open();
	ASSERT_LE(0, sock);
	ASSERT_LE(0, ev);
	ASSERT_EQ(0, genl_resolve(sock, RVMSI_FAMILY_NAME, &fi));
	ASSERT_EQ(0, setsockopt(ev, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &fi.group_id,
				sizeof(fi.group_id)));

	/* Use it: MSI on, a trip through MRIF mode, then close. */
	ASSERT_EQ(0, edu_set_unsafe_interrupts(1));
	r = edu_open(&e, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
	ASSERT_EQ(0, edu_enable_msi(&e));
	sm.dev_id = e.dev_id;
	sm.mode = IOMMU_RVMSI_MODE_MRIF;
	ASSERT_EQ(0, ioctl(e.iommufd, IOMMU_RVMSI_SET_MODE, &sm));
	edu_w32(&e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&e, 2000));
	sm.mode = IOMMU_RVMSI_MODE_IDENTITY;
	ASSERT_EQ(0, ioctl(e.iommufd, IOMMU_RVMSI_SET_MODE, &sm));
	edu_close(&e);
	ASSERT_TRUE(in_dump(sock, fi.id, e.bdf));

	/* Remove: DEV_GONE, and it leaves the dump. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", e.bdf);
	ASSERT_EQ(0, edu_write_file(path, "1"));
	for (left = 3000; left > 0 && !gone; left -= 100) {
		struct nlmsghdr *nlh;
		uint32_t reason;

		n = genl_recv_event(ev, buf, sizeof(buf), 100);
		if (n <= 0)
			continue;
		len = (unsigned int)n;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len))
			if (gone_cb_name(nlh, e.bdf, &reason) && reason == RVMSI_REASON_DEV_GONE)
				gone = true;
	}
	ASSERT_TRUE(gone) TH_LOG("no ENTRY_NTF with reason DEV_GONE for %s", e.bdf);
	ASSERT_FALSE(in_dump(sock, fi.id, e.bdf));

	/* Rescan: a fresh table, and the device works again. */
	ASSERT_EQ(0, edu_write_file("/sys/bus/pci/rescan", "1"));
	for (left = 50; left > 0 && !in_dump(sock, fi.id, e.bdf); left--)
		usleep(100000);
	ASSERT_TRUE(in_dump(sock, fi.id, e.bdf));
	r = edu_open(&e, &step);
	ASSERT_EQ(0, r) TH_LOG("after rescan: %s: %s", step, strerror(-r));
	ASSERT_EQ(0, edu_enable_msi(&e));
	edu_w32(&e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&e, 2000));
	TH_LOG("%s removed (DEV_GONE received), rescanned, MSI delivered again", e.bdf);
	edu_close(&e);
	close(ev);
	close(sock);
}

TEST_HARNESS_MAIN
