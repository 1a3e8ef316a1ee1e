/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * P3 of the rvmsi kernel part: the "rvmsi" generic netlink family, with a
 * hand-rolled raw netlink client. HOST_GET reports the lab's geometry; a
 * DEV_GET dump lists edu with its one identity entry; moving edu's IRQ
 * sends ENTRY_NTF (reason affinity) to the "events" group; a blocked MSI
 * sends FAULT_NTF with edu's name, requester ID and cause 262; DEV_SET from
 * an unprivileged process (uid/gid nobody, no CAP_NET_ADMIN) gets EPERM and
 * changes nothing.
 *
 * The isolation lock (docs/isolation.md): a device locked before it is
 * bound only ever holds blocked (later also MRIF) entries, so iommufd binds
 * it without allow_unsafe_interrupts; identity is refused while locked,
 * the lock cannot change while the device is bound, and once unlocked the
 * device needs the override again.
 */
#include <sys/wait.h>

#include <linux/rvmsi.h>

#include "genl-lab.h"
#include "imsic-lab.h"
#include "kselftest_harness.h"

#define EVENT_MS	3000
#define MAX_ENTS	16

struct nl_dev {
	char name[64];
	uint32_t rid, mode, isolation, nr_entries, nr_irqs, reason;
	uint8_t locked, user_bound;
	int nents;
	struct {
		uint32_t kind, guest, refcount;
		int32_t cpu;
	} ents[MAX_ENTS];
};

struct nl_fault {
	char dev_name[64];
	uint32_t rid, cause;
	bool has_cause;
};

static void parse_dev(struct nlmsghdr *nlh, struct nl_dev *d)
{
	struct nlattr *a, *e;
	int len;

	memset(d, 0, sizeof(*d));
	genl_for_each_attr(a, genl_msg_attrs(nlh, &len), len) {
		switch (genl_attr_type(a)) {
		case RVMSI_A_DEV_NAME:
			snprintf(d->name, sizeof(d->name), "%s", (char *)genl_attr_data(a));
			break;
		case RVMSI_A_DEV_RID:
			d->rid = genl_attr_u32(a);
			break;
		case RVMSI_A_DEV_MODE:
			d->mode = genl_attr_u32(a);
			break;
		case RVMSI_A_DEV_ISOLATION:
			d->isolation = genl_attr_u32(a);
			break;
		case RVMSI_A_DEV_NR_ENTRIES:
			d->nr_entries = genl_attr_u32(a);
			break;
		case RVMSI_A_DEV_NR_IRQS:
			d->nr_irqs = genl_attr_u32(a);
			break;
		case RVMSI_A_DEV_REASON:
			d->reason = genl_attr_u32(a);
			break;
		case RVMSI_A_DEV_LOCKED:
			d->locked = *(uint8_t *)genl_attr_data(a);
			break;
		case RVMSI_A_DEV_USER_BOUND:
			d->user_bound = *(uint8_t *)genl_attr_data(a);
			break;
		case RVMSI_A_DEV_ENTRY:
			if (d->nents >= MAX_ENTS)
				break;
			genl_for_each_attr(e, genl_attr_data(a), a->nla_len - NLA_HDRLEN) {
				switch (genl_attr_type(e)) {
				case RVMSI_A_ENTRY_KIND:
					d->ents[d->nents].kind = genl_attr_u32(e);
					break;
				case RVMSI_A_ENTRY_GUEST:
					d->ents[d->nents].guest = genl_attr_u32(e);
					break;
				case RVMSI_A_ENTRY_CPU:
					d->ents[d->nents].cpu = (int32_t)genl_attr_u32(e);
					break;
				case RVMSI_A_ENTRY_REFCOUNT:
					d->ents[d->nents].refcount = genl_attr_u32(e);
					break;
				}
			}
			d->nents++;
			break;
		}
	}
}

static void parse_fault(struct nlmsghdr *nlh, struct nl_fault *f)
{
	struct nlattr *a;
	int len;

	memset(f, 0, sizeof(*f));
	genl_for_each_attr(a, genl_msg_attrs(nlh, &len), len) {
		switch (genl_attr_type(a)) {
		case RVMSI_A_FAULT_DEV_NAME:
			snprintf(f->dev_name, sizeof(f->dev_name), "%s", (char *)genl_attr_data(a));
			break;
		case RVMSI_A_FAULT_RID:
			f->rid = genl_attr_u32(a);
			break;
		case RVMSI_A_FAULT_CAUSE:
			f->cause = genl_attr_u32(a);
			f->has_cause = true;
			break;
		}
	}
}

struct find_dev {
	const char *name;
	struct nl_dev dev;
	bool found;
	int count;
};

static int find_dev_cb(struct nlmsghdr *nlh, void *arg)
{
	struct find_dev *fd = arg;
	struct nl_dev d;

	parse_dev(nlh, &d);
	fd->count++;
	if (!strcmp(d.name, fd->name)) {
		fd->dev = d;
		fd->found = true;
	}
	return 0;
}

static int dev_get(int sock, uint16_t fam, const char *name, bool dump, struct find_dev *out)
{
	struct genl_req r;

	memset(out, 0, sizeof(*out));
	out->name = name;
	genl_req_init(&r, fam, RVMSI_CMD_DEV_GET, dump ? NLM_F_DUMP : 0);
	if (!dump && name)
		genl_req_put_str(&r, RVMSI_A_DEV_NAME, name);
	return genl_talk(sock, &r, find_dev_cb, out);
}

static int dev_set(int sock, uint16_t fam, const char *name, int64_t mode, int lock)
{
	struct genl_req r;
	uint32_t m = (uint32_t)mode;
	uint8_t l = (uint8_t)lock;

	genl_req_init(&r, fam, RVMSI_CMD_DEV_SET, 0);
	genl_req_put_str(&r, RVMSI_A_DEV_NAME, name);
	if (mode >= 0)
		genl_req_put(&r, RVMSI_A_DEV_MODE, &m, sizeof(m));
	if (lock >= 0)
		genl_req_put(&r, RVMSI_A_DEV_LOCKED, &l, sizeof(l));
	return genl_talk(sock, &r, NULL, NULL);
}

/* Wait for an event of @cmd about @name; fills @d or @f. */
static int wait_event(int ev, uint8_t cmd, const char *name, uint32_t reason,
		      struct nl_dev *d, struct nl_fault *f)
{
	char buf[GENL_BUF];
	struct nlmsghdr *nlh;
	int n, left = EVENT_MS;
	unsigned int len;

	while (left > 0) {
		n = genl_recv_event(ev, buf, sizeof(buf), 100);
		left -= 100;
		if (n == -ETIMEDOUT)
			continue;
		if (n < 0)
			return n;
		len = (unsigned int)n;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			struct genlmsghdr *g = NLMSG_DATA(nlh);

			if (g->cmd != cmd)
				continue;
			if (cmd == RVMSI_CMD_ENTRY_NTF) {
				parse_dev(nlh, d);
				if (!strcmp(d->name, name) && (!reason || d->reason == reason))
					return 0;
			} else {
				parse_fault(nlh, f);
				if (!strcmp(f->dev_name, name))
					return 0;
			}
		}
	}
	return -ETIMEDOUT;
}

FIXTURE(nl) {
	struct edu e;
	int irq;
	int sock;		/* requests */
	int ev;			/* events */
	struct genl_family_info fi;
};

FIXTURE_SETUP(nl)
{
	const char *step = "";
	int r;

	ASSERT_EQ(0, edu_set_unsafe_interrupts(1));
	r = edu_open(&self->e, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
	ASSERT_EQ(0, edu_enable_msi(&self->e));
	self->irq = -1;
	ASSERT_LE(0, proc_irq_count("vfio-msi", &self->irq));

	self->sock = genl_open();
	ASSERT_LE(0, self->sock);
	self->fi.group = RVMSI_MCGRP_EVENTS;
	ASSERT_EQ(0, genl_resolve(self->sock, RVMSI_FAMILY_NAME, &self->fi));
	ASSERT_NE(0U, self->fi.group_id);
	self->ev = genl_open();
	ASSERT_LE(0, self->ev);
	ASSERT_EQ(0, setsockopt(self->ev, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&self->fi.group_id, sizeof(self->fi.group_id)));
}

FIXTURE_TEARDOWN(nl)
{
	close(self->ev);
	close(self->sock);
	edu_close(&self->e);
}

static int host_cb(struct nlmsghdr *nlh, void *arg)
{
	uint32_t *v = arg;
	struct nlattr *a;
	int len;

	genl_for_each_attr(a, genl_msg_attrs(nlh, &len), len)
		if (genl_attr_type(a) <= RVMSI_A_HOST_MAX)
			v[genl_attr_type(a)] = genl_attr_u32(a);
	return 0;
}

TEST_F(nl, host_get)
{
	uint32_t v[RVMSI_A_HOST_MAX + 1] = { 0 };
	struct genl_req r;

	genl_req_init(&r, self->fi.id, RVMSI_CMD_HOST_GET, 0);
	ASSERT_EQ(0, genl_talk(self->sock, &r, host_cb, v));
	TH_LOG("groups %u harts %u guest files %u ids %u devices %u",
	       v[RVMSI_A_HOST_NR_GROUPS], v[RVMSI_A_HOST_NR_HARTS],
	       v[RVMSI_A_HOST_NR_GUEST_FILES], v[RVMSI_A_HOST_NR_IDS],
	       v[RVMSI_A_HOST_NR_DEVICES]);
	ASSERT_EQ(1U, v[RVMSI_A_HOST_NR_GROUPS]);
	ASSERT_EQ((uint32_t)sysconf(_SC_NPROCESSORS_CONF), v[RVMSI_A_HOST_NR_HARTS]);
	ASSERT_LE(5U, v[RVMSI_A_HOST_NR_GUEST_FILES]);
	ASSERT_EQ(255U, v[RVMSI_A_HOST_NR_IDS]);
	ASSERT_LE(1U, v[RVMSI_A_HOST_NR_DEVICES]);
}

TEST_F(nl, dump_lists_edu_with_its_entry)
{
	struct find_dev f;

	ASSERT_EQ(0, dev_get(self->sock, self->fi.id, self->e.bdf, true, &f));
	ASSERT_TRUE(f.found) TH_LOG("%s not in a dump of %d devices", self->e.bdf, f.count);
	TH_LOG("dump: %d device(s); %s rid %#x mode %u isolation %u locked %u bound %u entries %u irqs %u valid %d",
	       f.count, f.dev.name, f.dev.rid, f.dev.mode, f.dev.isolation, f.dev.locked,
	       f.dev.user_bound, f.dev.nr_entries, f.dev.nr_irqs, f.dev.nents);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, f.dev.mode);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_ISOLATION_SHARED, f.dev.isolation);
	ASSERT_EQ(0, f.dev.locked);
	ASSERT_EQ(1, f.dev.user_bound);
	ASSERT_EQ(1U, f.dev.nr_irqs);
	ASSERT_EQ(1, f.dev.nents);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_ENTRY_HOST_FILE, f.dev.ents[0].kind);
	ASSERT_EQ(lab_irq_effective_cpu(self->irq), f.dev.ents[0].cpu);
	ASSERT_EQ(1U, f.dev.ents[0].refcount);

	/* The same through a do request; errors for bad names. */
	ASSERT_EQ(0, dev_get(self->sock, self->fi.id, self->e.bdf, false, &f));
	ASSERT_TRUE(f.found);
	ASSERT_EQ(1, f.dev.nents);
	ASSERT_EQ(-ENODEV, dev_get(self->sock, self->fi.id, "0000:00:1f.7", false, &f));
	ASSERT_EQ(-EINVAL, dev_get(self->sock, self->fi.id, NULL, false, &f));
}

TEST_F(nl, affinity_move_sends_entry_event)
{
	struct nl_dev d;
	int cpu;

	cpu = (lab_irq_effective_cpu(self->irq) + 1) % sysconf(_SC_NPROCESSORS_ONLN);
	ASSERT_EQ(cpu, edu_move_irq(&self->e, self->irq, cpu));
	ASSERT_EQ(0, wait_event(self->ev, RVMSI_CMD_ENTRY_NTF, self->e.bdf,
				RVMSI_REASON_AFFINITY, &d, NULL));
	TH_LOG("ENTRY_NTF %s reason %u: %d entry, cpu %d", d.name, d.reason, d.nents,
	       d.nents ? d.ents[0].cpu : -1);
	ASSERT_EQ(1, d.nents);
	ASSERT_EQ(cpu, d.ents[0].cpu);
}

TEST_F(nl, blocked_msi_sends_fault_event)
{
	unsigned int dom, bus, dev, fn;
	struct nl_fault f;
	struct nl_dev d;

	ASSERT_EQ(4, sscanf(self->e.bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn));
	ASSERT_EQ(0, dev_set(self->sock, self->fi.id, self->e.bdf, IOMMU_RVMSI_MODE_BLOCKED, -1));
	ASSERT_EQ(0, wait_event(self->ev, RVMSI_CMD_ENTRY_NTF, self->e.bdf,
				RVMSI_REASON_MODE, &d, NULL));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_BLOCKED, d.mode);
	ASSERT_EQ(0, d.nents);

	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(0ULL, (unsigned long long)edu_wait_irq(&self->e, 300));
	ASSERT_EQ(0, wait_event(self->ev, RVMSI_CMD_FAULT_NTF, self->e.bdf, 0, NULL, &f));
	TH_LOG("FAULT_NTF %s rid %#x cause %u", f.dev_name, f.rid, f.cause);
	ASSERT_EQ((bus << 8) | (dev << 3) | fn, f.rid);
	ASSERT_EQ((uint32_t)RVMSI_FAULT_MSI_PTE_INVALID, f.cause);

	ASSERT_EQ(0, dev_set(self->sock, self->fi.id, self->e.bdf, IOMMU_RVMSI_MODE_IDENTITY, -1));
	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&self->e, 2000));
}

TEST_F(nl, unprivileged_dev_set_is_refused)
{
	struct find_dev f;
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int r;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		r = dev_set(self->sock, self->fi.id, self->e.bdf, IOMMU_RVMSI_MODE_BLOCKED, -1);
		_exit(r == -EPERM ? 0 : 11);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child: DEV_SET as nobody was not refused with EPERM");

	/* Nothing changed. */
	ASSERT_EQ(0, dev_get(self->sock, self->fi.id, self->e.bdf, false, &f));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, f.dev.mode);
	ASSERT_EQ(1, f.dev.nents);

	/* Reads stay open to everyone. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct find_dev g;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		_exit(dev_get(self->sock, self->fi.id, self->e.bdf, false, &g) || !g.found ? 12 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* Bad requests as root: a mode out of range, nothing to set. */
	ASSERT_EQ(-EINVAL, dev_set(self->sock, self->fi.id, self->e.bdf, 9, -1));
	ASSERT_EQ(-EINVAL, dev_set(self->sock, self->fi.id, self->e.bdf, IOMMU_RVMSI_MODE_OFF, -1));
	ASSERT_EQ(-EOPNOTSUPP, dev_set(self->sock, self->fi.id, self->e.bdf,
				       IOMMU_RVMSI_MODE_GUEST_FILE, -1));
	ASSERT_EQ(-EINVAL, dev_set(self->sock, self->fi.id, self->e.bdf, -1, -1));
	ASSERT_EQ(-ENODEV, dev_set(self->sock, self->fi.id, "nosuchdev", IOMMU_RVMSI_MODE_BLOCKED, -1));
	ASSERT_EQ(0, dev_get(self->sock, self->fi.id, self->e.bdf, false, &f));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, f.dev.mode);
}

/*
 * The isolation lock, set before the device is bound: the table holds only
 * MRIF (or blocked) entries, iommufd binds the device without
 * allow_unsafe_interrupts, and its MSIs still arrive through the MRIF
 * notice. edu must start unbound: this fixture does not open it.
 */
FIXTURE(lock) {
	char bdf[32];
	int sock;
	struct genl_family_info fi;
};

FIXTURE_SETUP(lock)
{
	ASSERT_EQ(0, edu_find(self->bdf, sizeof(self->bdf)));
	ASSERT_EQ(0, edu_bind_vfio(self->bdf));
	self->sock = genl_open();
	ASSERT_LE(0, self->sock);
	ASSERT_EQ(0, genl_resolve(self->sock, RVMSI_FAMILY_NAME, &self->fi));
}

/* Whatever happened, leave edu unlocked, in identity mode, for the rest. */
FIXTURE_TEARDOWN(lock)
{
	dev_set(self->sock, self->fi.id, self->bdf, IOMMU_RVMSI_MODE_IDENTITY, 0);
	edu_set_unsafe_interrupts(1);
	close(self->sock);
}

TEST_F(lock, isolation_lock)
{
	struct iommu_rvmsi_set_mode sm = { .size = sizeof(sm) };
	struct genl_family_info fi = self->fi;
	int sock = self->sock;
	const char *step = "";
	char *bdf = self->bdf;
	struct find_dev f;
	struct edu e;
	int r;

	/* Lock while unbound: MRIF (the IOMMU has MSI_MRIF), reported as locked. */
	ASSERT_EQ(0, dev_set(sock, fi.id, bdf, -1, 1));
	ASSERT_EQ(0, dev_get(sock, fi.id, bdf, false, &f));
	ASSERT_EQ(1, f.dev.locked);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_ISOLATION_LOCKED, f.dev.isolation);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_MRIF, f.dev.mode);
	ASSERT_EQ(-EPERM, dev_set(sock, fi.id, bdf, IOMMU_RVMSI_MODE_IDENTITY, -1));

	/* Bound without the override, and its MSI arrives. */
	ASSERT_EQ(0, edu_set_unsafe_interrupts(0));
	r = edu_open(&e, &step);
	ASSERT_EQ(0, r) TH_LOG("locked device, allow_unsafe_interrupts=0: %s: %s",
			       step, strerror(-r));
	ASSERT_EQ(0, edu_enable_msi(&e));
	edu_w32(&e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&e, 2000));
	ASSERT_EQ(0, dev_get(sock, fi.id, bdf, false, &f));
	TH_LOG("locked %s bound without allow_unsafe_interrupts; MSI delivered; %d entry, kind %u",
	       bdf, f.dev.nents, f.dev.nents ? f.dev.ents[0].kind : 0);
	ASSERT_EQ(1, f.dev.nents);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_ENTRY_MRIF, f.dev.ents[0].kind);
	ASSERT_EQ(1, f.dev.user_bound);

	/* While bound: no identity (ioctl or netlink), no unlocking. */
	sm.dev_id = e.dev_id;
	sm.mode = IOMMU_RVMSI_MODE_IDENTITY;
	ASSERT_NE(0, ioctl(e.iommufd, IOMMU_RVMSI_SET_MODE, &sm));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(-EPERM, dev_set(sock, fi.id, bdf, IOMMU_RVMSI_MODE_IDENTITY, -1));
	ASSERT_EQ(-EBUSY, dev_set(sock, fi.id, bdf, -1, 0));
	ASSERT_EQ(0, dev_get(sock, fi.id, bdf, false, &f));
	ASSERT_EQ(1, f.dev.locked);
	edu_close(&e);

	/* Unlocked, the device needs the override again. */
	ASSERT_EQ(0, dev_set(sock, fi.id, bdf, IOMMU_RVMSI_MODE_IDENTITY, 0));
	r = edu_open(&e, &step);
	edu_close(&e);
	ASSERT_EQ(-EPERM, r) TH_LOG("unlocked device bound without the override: %s", step);
	ASSERT_EQ(0, edu_set_unsafe_interrupts(1));
	ASSERT_EQ(0, dev_get(sock, fi.id, bdf, false, &f));
	ASSERT_EQ(0, f.dev.locked);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, f.dev.mode);
}

TEST_HARNESS_MAIN
