/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "rvmsi" family through the YNL C library generated from its spec
 * (Documentation/netlink/specs/rvmsi.yaml): the initramfs step generates
 * rvmsi-user.[ch] with the kernel tree's ynl_gen_c.py and links this
 * program against them and tools/net/ynl/lib/ynl.c. Every request and
 * event here goes through that library and nothing else; the hand-written
 * client of genl-lab.h only checks the answers (the two must agree).
 *
 * HOST_GET; DEV_GET as a dump of every device, as a dump of one device by
 * name, and as a do request (edu, found with
 * edu_find() and opened with its MSI, has its one identity entry); DEV_SET
 * with a mode the kernel does not know is EINVAL with the extack message and
 * changes nothing; a socket subscribed to the "events" group receives the
 * ENTRY_NTF of edu's mode change to blocked and back to identity, parsed by
 * the library.
 */
#include <linux/rvmsi.h>

#include "rvmsi-user.h"
#include "ynl.h"

#include "genl-lab.h"
#include "imsic-lab.h"
#include "kselftest_harness.h"

#define EVENT_MS	3000
/* How long an event that must not come is waited for. */
#define QUIET_MS	500

FIXTURE(ynl) {
	struct edu e;
	int irq;
	struct ynl_sock *ys;	/* requests */
	struct ynl_sock *ev;	/* subscribed to "events" */
	int ref;		/* genl-lab.h: the reference client */
	struct genl_family_info fi;
	uint32_t mode0;		/* edu's mode at the start, restored at the end */
};

FIXTURE_SETUP(ynl)
{
	struct ynl_error yerr = { 0 };
	struct rvmsi_nl_find f;
	const char *step = "";
	int r;

	self->ref = -1;
	r = edu_open_msi(&self->e, &self->irq, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));

	self->ys = ynl_sock_create(&ynl_rvmsi_family, &yerr);
	ASSERT_NE(NULL, self->ys) TH_LOG("ynl_sock_create: %s", yerr.msg);
	self->ev = ynl_sock_create(&ynl_rvmsi_family, &yerr);
	ASSERT_NE(NULL, self->ev) TH_LOG("ynl_sock_create: %s", yerr.msg);
	ASSERT_EQ(0, ynl_subscribe(self->ev, RVMSI_MCGRP_EVENTS))
		TH_LOG("ynl_subscribe(%s): %s", RVMSI_MCGRP_EVENTS, self->ev->err.msg);

	self->ref = genl_open();
	ASSERT_LE(0, self->ref);
	ASSERT_EQ(0, genl_resolve(self->ref, RVMSI_FAMILY_NAME, &self->fi));
	ASSERT_EQ(0, rvmsi_nl_dev_get(self->ref, self->fi.id, self->e.bdf, false, &f));
	ASSERT_TRUE(f.found);
	self->mode0 = f.dev.mode;
}

FIXTURE_TEARDOWN(ynl)
{
	struct rvmsi_nl_find f;

	/* A test that stopped half way may leave edu blocked: give the next program edu as it was. */
	if (self->ref >= 0 &&
	    !rvmsi_nl_dev_get(self->ref, self->fi.id, self->e.bdf, false, &f) &&
	    f.dev.mode != self->mode0)
		rvmsi_nl_dev_set(self->ref, self->fi.id, self->e.bdf, self->mode0, -1);
	if (self->ref >= 0)
		close(self->ref);
	if (self->ev)
		ynl_sock_destroy(self->ev);
	if (self->ys)
		ynl_sock_destroy(self->ys);
	edu_close(&self->e);
}

/* The library's view of a device against genl-lab.h's, attribute by attribute. */
static bool same_entries(struct __test_metadata *_metadata, const struct rvmsi_entry *ent,
			 unsigned int n, const struct rvmsi_nl_dev *ref)
{
	unsigned int i;

	EXPECT_EQ((unsigned int)ref->nents, n);
	if ((unsigned int)ref->nents != n)
		return false;
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(ent[i]._present.kind && ent[i]._present.cpu &&
			    ent[i]._present.guest && ent[i]._present.refcount);
		EXPECT_EQ(ref->ents[i].kind, (uint32_t)ent[i].kind);
		EXPECT_EQ(ref->ents[i].guest, ent[i].guest);
		EXPECT_EQ(ref->ents[i].cpu, ent[i].cpu);
		EXPECT_EQ(ref->ents[i].refcount, ent[i].refcount);
	}
	return true;
}

static void same_dev(struct __test_metadata *_metadata, const struct rvmsi_dev_get_rsp *d,
		     const struct rvmsi_nl_dev *ref)
{
	ASSERT_NE(NULL, d->name);
	EXPECT_STREQ(ref->name, d->name);
	EXPECT_TRUE(d->_present.rid && d->_present.mode && d->_present.isolation &&
		    d->_present.locked && d->_present.user_bound &&
		    d->_present.nr_entries && d->_present.nr_irqs && d->_present.caps &&
		    d->_present.table_users);
	EXPECT_EQ(ref->rid, d->rid);
	EXPECT_EQ(ref->mode, d->mode);
	EXPECT_EQ(ref->isolation, d->isolation);
	EXPECT_EQ(ref->locked, d->locked);
	EXPECT_EQ(ref->user_bound, d->user_bound);
	EXPECT_EQ(ref->nr_entries, d->nr_entries);
	EXPECT_EQ(ref->nr_irqs, d->nr_irqs);
	EXPECT_EQ(ref->table_users, d->table_users);
	same_entries(_metadata, d->entry, d->_count.entry, ref);
}

TEST_F(ynl, host_get)
{
	uint32_t v[RVMSI_A_HOST_MAX + 1] = { 0 };
	struct rvmsi_host_get_rsp *h;
	struct genl_req r;

	h = rvmsi_host_get(self->ys);
	ASSERT_NE(NULL, h) TH_LOG("rvmsi_host_get: %s", self->ys->err.msg);
	TH_LOG("ynl: groups %u harts %u guest files %u ids %u devices %u",
	       h->nr_groups, h->nr_harts, h->nr_guest_files, h->nr_ids, h->nr_devices);
	EXPECT_TRUE(h->_present.nr_groups && h->_present.nr_harts &&
		    h->_present.nr_guest_files && h->_present.nr_ids &&
		    h->_present.nr_devices);
	EXPECT_EQ(1U, h->nr_groups);
	EXPECT_EQ((uint32_t)sysconf(_SC_NPROCESSORS_CONF), h->nr_harts);
	EXPECT_LE(1U, h->nr_devices);

	genl_req_init(&r, self->fi.id, RVMSI_CMD_HOST_GET, 0);
	ASSERT_EQ(0, genl_talk(self->ref, &r, rvmsi_nl_host_cb, v));
	EXPECT_EQ(v[RVMSI_A_HOST_NR_GROUPS], h->nr_groups);
	EXPECT_EQ(v[RVMSI_A_HOST_NR_HARTS], h->nr_harts);
	EXPECT_EQ(v[RVMSI_A_HOST_NR_GUEST_FILES], h->nr_guest_files);
	EXPECT_EQ(v[RVMSI_A_HOST_NR_IDS], h->nr_ids);
	EXPECT_EQ(v[RVMSI_A_HOST_NR_DEVICES], h->nr_devices);
	rvmsi_host_get_rsp_free(h);
}

TEST_F(ynl, dev_get_dump_and_do)
{
	struct rvmsi_dev_get_rsp *edu = NULL, *one;
	struct rvmsi_dev_get_list *list, *by_name;
	struct rvmsi_dev_get_req_dump *all;
	struct rvmsi_dev_get_req *req;
	struct rvmsi_nl_find f;
	int n = 0, m = 0;

	all = rvmsi_dev_get_req_dump_alloc();
	ASSERT_NE(NULL, all);
	list = rvmsi_dev_get_dump(self->ys, all);
	ASSERT_NE(NULL, list) TH_LOG("rvmsi_dev_get_dump: %s", self->ys->err.msg);
	ynl_dump_foreach(list, d) {
		n++;
		if (d->name && !strcmp(d->name, self->e.bdf))
			edu = d;
	}
	ASSERT_NE(NULL, edu) TH_LOG("%s not in a dump of %d devices", self->e.bdf, n);
	TH_LOG("ynl dump: %d device(s); %s rid %#x iommu %s caps %#llx mode %u isolation %u locked %u bound %u entries %u irqs %u valid %u",
	       n, edu->name, edu->rid, edu->iommu ? edu->iommu : "?",
	       (unsigned long long)edu->caps, edu->mode, edu->isolation, edu->locked,
	       edu->user_bound, edu->nr_entries, edu->nr_irqs, edu->_count.entry);

	/* What 40-rvmsi-netlink expects of edu open with its MSI, ... */
	EXPECT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, edu->mode);
	EXPECT_EQ((uint32_t)IOMMU_RVMSI_ISOLATION_SHARED, (uint32_t)edu->isolation);
	EXPECT_EQ(1, edu->user_bound);
	EXPECT_EQ(1U, edu->nr_irqs);
	EXPECT_NE(0ULL, (unsigned long long)(edu->caps & IOMMU_RVMSI_CAP_MSI_FLAT));
	EXPECT_TRUE(edu->iommu && edu->iommu[0]);
	EXPECT_TRUE(!!edu->_present.nr_valid);
	EXPECT_EQ(1U, edu->nr_valid);
	ASSERT_EQ(1U, edu->_count.entry);
	EXPECT_EQ((uint32_t)IOMMU_RVMSI_ENTRY_HOST_FILE, (uint32_t)edu->entry[0].kind);
	EXPECT_EQ(lab_irq_effective_cpu(self->irq), edu->entry[0].cpu);

	/* ... and what the hand-written client reads, the same device count included. */
	ASSERT_EQ(0, rvmsi_nl_dev_get(self->ref, self->fi.id, self->e.bdf, true, &f));
	ASSERT_TRUE(f.found);
	EXPECT_EQ(f.count, n);
	same_dev(_metadata, edu, &f.dev);

	/* The do request answers the same. */
	req = rvmsi_dev_get_req_alloc();
	ASSERT_NE(NULL, req);
	rvmsi_dev_get_req_set_name(req, self->e.bdf);
	one = rvmsi_dev_get(self->ys, req);
	ASSERT_NE(NULL, one) TH_LOG("rvmsi_dev_get: %s", self->ys->err.msg);
	same_dev(_metadata, one, &f.dev);
	rvmsi_dev_get_rsp_free(one);

	/* So does the dump of edu alone, by name. */
	rvmsi_dev_get_req_dump_set_name(all, self->e.bdf);
	by_name = rvmsi_dev_get_dump(self->ys, all);
	ASSERT_NE(NULL, by_name) TH_LOG("rvmsi_dev_get_dump(%s): %s", self->e.bdf, self->ys->err.msg);
	ynl_dump_foreach(by_name, d) {
		m++;
		EXPECT_STREQ(self->e.bdf, d->name);
		same_dev(_metadata, d, &f.dev);
	}
	EXPECT_EQ(1, m);
	rvmsi_dev_get_list_free(by_name);
	rvmsi_dev_get_req_dump_free(all);

	/* An unknown device: ENODEV, with the errno where ynl puts it. */
	rvmsi_dev_get_req_set_name(req, "0000:00:1f.7");
	one = rvmsi_dev_get(self->ys, req);
	EXPECT_EQ(NULL, one);
	EXPECT_EQ(ENODEV, (int)self->ys->err.code) TH_LOG("ynl: %s", self->ys->err.msg);
	if (one)
		rvmsi_dev_get_rsp_free(one);
	rvmsi_dev_get_req_free(req);
	rvmsi_dev_get_list_free(list);
}

/*
 * Wait up to @ms for an ENTRY_NTF about @name with @reason on @ev, through
 * ynl's notification API. Other notifications are dropped. Returns the
 * event (ynl_ntf_free() it) or NULL; *@err the negative errno of a failed
 * receive (ENOBUFS: events were lost), or -ETIMEDOUT.
 */
static struct rvmsi_entry_ntf *wait_entry_ntf(struct ynl_sock *ev, const char *name,
					      uint32_t reason, int ms, int *err)
{
	struct pollfd p = { .fd = ynl_socket_get_fd(ev), .events = POLLIN };
	struct ynl_ntf_base_type *ntf;
	struct rvmsi_entry_ntf *hit = NULL;
	int left;

	*err = -ETIMEDOUT;
	for (left = ms; left > 0 && !hit; left -= 100) {
		errno = 0;
		if (poll(&p, 1, 100) < 0) {
			*err = -errno;
			return NULL;
		}
		if (!(p.revents & POLLIN))
			continue;
		if (ynl_ntf_check(ev) < 0) {
			/* a failed recv() (ENOBUFS: events lost) or an event ynl could not parse */
			*err = errno ? -errno : -EIO;
			return NULL;
		}
		while ((ntf = ynl_ntf_dequeue(ev))) {
			struct rvmsi_entry_ntf *e = (struct rvmsi_entry_ntf *)ntf;

			if (!hit && ntf->cmd == RVMSI_CMD_ENTRY_NTF && e->obj.name &&
			    !strcmp(e->obj.name, name) && e->obj._present.reason &&
			    e->obj.reason == reason) {
				hit = e;
				continue;
			}
			ynl_ntf_free(ntf);
		}
	}
	if (hit)
		*err = 0;
	return hit;
}

static int set_mode(struct ynl_sock *ys, const char *name, uint32_t mode)
{
	struct rvmsi_dev_set_req *req;
	int r;

	req = rvmsi_dev_set_req_alloc();
	if (!req)
		return -ENOMEM;
	rvmsi_dev_set_req_set_name(req, name);
	rvmsi_dev_set_req_set_mode(req, mode);
	r = rvmsi_dev_set(ys, req);
	rvmsi_dev_set_req_free(req);
	return r;
}

TEST_F(ynl, dev_set_unknown_mode_is_einval)
{
	static const uint32_t bad[] = { IOMMU_RVMSI_MODE_GUEST_FILE + 1, UINT32_MAX };
	struct rvmsi_entry_ntf *n;
	struct rvmsi_nl_find before, after;
	unsigned int i;
	int err;

	ASSERT_EQ(0, rvmsi_nl_dev_get(self->ref, self->fi.id, self->e.bdf, false, &before));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, set_mode(self->ys, self->e.bdf, bad[i]));
		EXPECT_EQ(EINVAL, (int)self->ys->err.code);
		EXPECT_NE(NULL, strstr(self->ys->err.msg, "unknown mode"))
			TH_LOG("mode %u: ynl error '%s'", bad[i], self->ys->err.msg);
		TH_LOG("mode %u: %s", bad[i], self->ys->err.msg);
	}

	/* Nothing changed, and no mode event came. */
	n = wait_entry_ntf(self->ev, self->e.bdf, RVMSI_REASON_MODE, QUIET_MS, &err);
	EXPECT_EQ(NULL, n) TH_LOG("ENTRY_NTF (mode %u) after a refused DEV_SET", n->obj.mode);
	EXPECT_EQ(-ETIMEDOUT, err);
	if (n)
		rvmsi_entry_ntf_free(n);
	ASSERT_EQ(0, rvmsi_nl_dev_get(self->ref, self->fi.id, self->e.bdf, false, &after));
	EXPECT_EQ(before.dev.mode, after.dev.mode);
	EXPECT_EQ(before.dev.isolation, after.dev.isolation);
	ASSERT_EQ(before.dev.nents, after.dev.nents);
	for (i = 0; i < (unsigned int)after.dev.nents; i++) {
		EXPECT_EQ(before.dev.ents[i].kind, after.dev.ents[i].kind);
		EXPECT_EQ(before.dev.ents[i].cpu, after.dev.ents[i].cpu);
	}
}

TEST_F(ynl, mode_change_events)
{
	struct rvmsi_entry_ntf *n1, *n2;
	struct rvmsi_nl_find f;
	int err;

	/* Blocked: one event, no entries, and DEV_GET agrees with it. */
	ASSERT_EQ(0, set_mode(self->ys, self->e.bdf, IOMMU_RVMSI_MODE_BLOCKED))
		TH_LOG("DEV_SET blocked: %s", self->ys->err.msg);
	n1 = wait_entry_ntf(self->ev, self->e.bdf, RVMSI_REASON_MODE, EVENT_MS, &err);
	ASSERT_NE(NULL, n1) TH_LOG("no ENTRY_NTF for blocked: %s", strerror(-err));
	TH_LOG("ENTRY_NTF %s reason %s seq %u: mode %u isolation %u, %u entries",
	       n1->obj.name, rvmsi_change_reason_str(n1->obj.reason), n1->obj.event_seq,
	       n1->obj.mode, n1->obj.isolation, n1->obj._count.entry);
	EXPECT_STREQ("mode", rvmsi_change_reason_str(n1->obj.reason));
	EXPECT_TRUE(n1->obj._present.rid && n1->obj._present.mode &&
		    n1->obj._present.isolation && n1->obj._present.event_seq);
	EXPECT_EQ((uint32_t)IOMMU_RVMSI_MODE_BLOCKED, n1->obj.mode);
	EXPECT_EQ(0U, n1->obj._count.entry);
	ASSERT_EQ(0, rvmsi_nl_dev_get(self->ref, self->fi.id, self->e.bdf, false, &f));
	EXPECT_EQ(f.dev.rid, n1->obj.rid);
	EXPECT_EQ(f.dev.mode, n1->obj.mode);
	EXPECT_EQ(f.dev.isolation, (uint32_t)n1->obj.isolation);
	same_entries(_metadata, n1->obj.entry, n1->obj._count.entry, &f.dev);

	/* Back to identity: the next event, with edu's entry back. */
	ASSERT_EQ(0, set_mode(self->ys, self->e.bdf, IOMMU_RVMSI_MODE_IDENTITY))
		TH_LOG("DEV_SET identity: %s", self->ys->err.msg);
	n2 = wait_entry_ntf(self->ev, self->e.bdf, RVMSI_REASON_MODE, EVENT_MS, &err);
	ASSERT_NE(NULL, n2) TH_LOG("no ENTRY_NTF for identity: %s", strerror(-err));
	TH_LOG("ENTRY_NTF %s reason %s seq %u: mode %u isolation %u, %u entries",
	       n2->obj.name, rvmsi_change_reason_str(n2->obj.reason), n2->obj.event_seq,
	       n2->obj.mode, n2->obj.isolation, n2->obj._count.entry);
	EXPECT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, n2->obj.mode);
	EXPECT_EQ((uint32_t)IOMMU_RVMSI_ISOLATION_SHARED, (uint32_t)n2->obj.isolation);
	EXPECT_LT(0, (int32_t)(n2->obj.event_seq - n1->obj.event_seq));
	ASSERT_EQ(1U, n2->obj._count.entry);
	EXPECT_EQ((uint32_t)IOMMU_RVMSI_ENTRY_HOST_FILE, (uint32_t)n2->obj.entry[0].kind);
	EXPECT_EQ(lab_irq_effective_cpu(self->irq), n2->obj.entry[0].cpu);
	ASSERT_EQ(0, rvmsi_nl_dev_get(self->ref, self->fi.id, self->e.bdf, false, &f));
	EXPECT_EQ(f.dev.mode, n2->obj.mode);
	EXPECT_EQ(f.dev.isolation, (uint32_t)n2->obj.isolation);
	same_entries(_metadata, n2->obj.entry, n2->obj._count.entry, &f.dev);
	rvmsi_entry_ntf_free(n1);
	rvmsi_entry_ntf_free(n2);

	/* And edu's MSI arrives again. */
	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
	EXPECT_EQ(1ULL, (unsigned long long)edu_wait_irq(&self->e, 2000));
}

TEST_HARNESS_MAIN
