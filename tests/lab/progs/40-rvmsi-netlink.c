/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * P3 of the rvmsi kernel part: the "rvmsi" generic netlink family, with a
 * hand-rolled raw netlink client. HOST_GET reports the lab's geometry; a
 * DEV_GET dump lists edu with its one identity entry; moving edu's IRQ
 * sends ENTRY_NTF (reason affinity) to the "events" group; a blocked MSI
 * sends FAULT_NTF with edu's name, requester ID and cause 262; DEV_SET from
 * an unprivileged process (uid/gid nobody, no CAP_NET_ADMIN) gets EPERM and
 * changes nothing, and so does its attempt to join the "events" group. A
 * dump can ask for one device by name and answers what the do request
 * answers, with the count of valid entries; another network namespace has
 * no rvmsi family at all.
 *
 * The isolation lock (docs/isolation.md): a device locked before it is
 * bound only ever holds blocked (later also MRIF) entries, so iommufd binds
 * it without allow_unsafe_interrupts; identity is refused while locked,
 * the lock cannot change while the device is bound, and once unlocked the
 * device needs the override again.
 */
#include <sched.h>
#include <sys/wait.h>

#include <linux/rvmsi.h>

#include "genl-lab.h"
#include "imsic-lab.h"
#include "rvmsi-ioctl-lab.h"
#include "kselftest_harness.h"

#define EVENT_MS	3000

/* Wait for child @pid: its exit status, or -1 if it did not exit normally. */
static int child_exit_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

struct event_wait {
	uint8_t cmd;
	const char *name;
	uint32_t reason;
	struct rvmsi_nl_dev *d;
	struct rvmsi_nl_fault *f;
};

static int wait_event_cb(struct nlmsghdr *nlh, void *arg)
{
	struct event_wait *w = arg;

	if (genl_msg_cmd(nlh) != w->cmd)
		return 0;
	if (w->cmd == RVMSI_CMD_ENTRY_NTF) {
		rvmsi_nl_parse_dev(nlh, w->d);
		return !strcmp(w->d->name, w->name) && (!w->reason || w->d->reason == w->reason);
	}
	rvmsi_nl_parse_fault(nlh, w->f);
	return !strcmp(w->f->dev_name, w->name);
}

/* Wait for an event of @cmd about @name; fills @d or @f. */
static int wait_event(int ev, uint8_t cmd, const char *name, uint32_t reason,
		      struct rvmsi_nl_dev *d, struct rvmsi_nl_fault *f)
{
	struct event_wait w = { .cmd = cmd, .name = name, .reason = reason, .d = d, .f = f };
	int r;

	r = genl_wait_events(ev, EVENT_MS, wait_event_cb, &w);
	if (r < 0)
		return r;
	return r ? 0 : -ETIMEDOUT;
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

	r = edu_open_msi(&self->e, &self->irq, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
	r = rvmsi_nl_open(&self->sock, &self->ev, &self->fi);
	ASSERT_EQ(0, r) TH_LOG("rvmsi netlink sockets: %s", strerror(-r));
}

FIXTURE_TEARDOWN(nl)
{
	close(self->ev);
	close(self->sock);
	edu_close(&self->e);
}

TEST_F(nl, host_get)
{
	uint32_t v[RVMSI_A_HOST_MAX + 1] = { 0 };
	struct genl_req r;

	genl_req_init(&r, self->fi.id, RVMSI_CMD_HOST_GET, 0);
	ASSERT_EQ(0, genl_talk(self->sock, &r, rvmsi_nl_host_cb, v));
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
	struct rvmsi_nl_find f;

	ASSERT_EQ(0, rvmsi_nl_dev_get(self->sock, self->fi.id, self->e.bdf, true, &f));
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
	ASSERT_EQ(0, rvmsi_nl_dev_get(self->sock, self->fi.id, self->e.bdf, false, &f));
	ASSERT_TRUE(f.found);
	ASSERT_EQ(1, f.dev.nents);
	ASSERT_EQ(-ENODEV, rvmsi_nl_dev_get(self->sock, self->fi.id, "0000:00:1f.7", false, &f));
	ASSERT_EQ(-EINVAL, rvmsi_nl_dev_get(self->sock, self->fi.id, NULL, false, &f));
}

TEST_F(nl, dump_of_one_device)
{
	struct rvmsi_nl_find f, g;

	ASSERT_EQ(0, rvmsi_nl_dev_dump_one(self->sock, self->fi.id, self->e.bdf, &f));
	TH_LOG("dump of %s: %d device(s) in %d message(s), %d entries, nr-valid %u",
	       self->e.bdf, f.count, f.msgs, f.dev.nents, f.dev.nr_valid);
	ASSERT_EQ(1, f.count);
	ASSERT_TRUE(f.found);
	ASSERT_TRUE(f.dev.has_nr_valid);
	ASSERT_EQ(1U, f.dev.nr_valid);
	ASSERT_EQ((int)f.dev.nr_valid, f.dev.nents);
	ASSERT_EQ(lab_irq_effective_cpu(self->irq), f.dev.ents[0].cpu);
	ASSERT_EQ(1U, f.dev.table_users) TH_LOG("edu on the root bus shares its table with nobody");

	ASSERT_EQ(0, rvmsi_nl_dev_get(self->sock, self->fi.id, self->e.bdf, false, &g));
	ASSERT_EQ(f.dev.nr_valid, g.dev.nr_valid);
	ASSERT_EQ(f.dev.nents, g.dev.nents);
	ASSERT_EQ(f.dev.mode, g.dev.mode);
	ASSERT_EQ(f.dev.ents[0].cpu, g.dev.ents[0].cpu);

	/* An unknown name: the dump fails with ENODEV and sends no device. */
	ASSERT_EQ(-ENODEV, rvmsi_nl_dev_dump_one(self->sock, self->fi.id, "0000:00:1f.7", &f));
	ASSERT_EQ(0, f.count);
}

/*
 * The events describe the host's IRQ moves and MSI faults as they happen:
 * only CAP_NET_ADMIN may listen. Reads stay open.
 */
TEST_F(nl, unprivileged_cannot_join_events)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint32_t v[RVMSI_A_HOST_MAX + 1] = { 0 };
		struct genl_req r;
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		fd = genl_open();
		if (fd < 0)
			_exit(11);
		if (genl_join(fd, self->fi.group_id) != -EPERM)
			_exit(12);
		genl_req_init(&r, self->fi.id, RVMSI_CMD_HOST_GET, 0);
		if (genl_talk(fd, &r, rvmsi_nl_host_cb, v) || !v[RVMSI_A_HOST_NR_HARTS])
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(0, child_exit_status(pid))
		TH_LOG("child as nobody: 12 = joined the events group, 13 = HOST_GET refused");
	/* Root (this process) did join it: the fixture's event socket. */
	ASSERT_EQ(0, genl_join(self->ev, self->fi.group_id));
}

/* The tables are the host's: a new network namespace has no rvmsi family. */
TEST(other_netns_has_no_family)
{
	struct genl_family_info here = { 0 };
	pid_t pid;
	int fd;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct genl_family_info fi = { 0 };

		if (unshare(CLONE_NEWNET))
			_exit(10);
		fd = genl_open();
		if (fd < 0)
			_exit(11);
		if (genl_resolve(fd, "nlctrl", &fi))
			_exit(12);
		memset(&fi, 0, sizeof(fi));
		if (genl_resolve(fd, RVMSI_FAMILY_NAME, &fi) != -ENOENT)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(0, child_exit_status(pid))
		TH_LOG("child: 10 = no new netns, 12 = no nlctrl there, 13 = rvmsi resolved there");
	/* The initial namespace has it. */
	fd = genl_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, genl_resolve(fd, RVMSI_FAMILY_NAME, &here));
	close(fd);
}

TEST_F(nl, affinity_move_sends_entry_event)
{
	struct rvmsi_nl_dev d;
	int cpu;

	cpu = (lab_irq_effective_cpu(self->irq) + 1) % sysconf(_SC_NPROCESSORS_ONLN);
	ASSERT_EQ(cpu, edu_move_irq(&self->e, self->irq, cpu));
	ASSERT_EQ(0, wait_event(self->ev, RVMSI_CMD_ENTRY_NTF, self->e.bdf,
				RVMSI_REASON_AFFINITY, &d, NULL));
	TH_LOG("ENTRY_NTF %s reason %u: %d entry, cpu %d", d.name, d.reason, d.nents,
	       d.nents ? d.ents[0].cpu : -1);
	ASSERT_EQ(1, d.nents);
	ASSERT_EQ(cpu, d.ents[0].cpu);
	ASSERT_TRUE(d.has_nr_valid);
	ASSERT_EQ(1U, d.nr_valid);
	ASSERT_FALSE(d.entries_omitted);
}

TEST_F(nl, blocked_msi_sends_fault_event)
{
	struct rvmsi_nl_fault f;
	struct rvmsi_nl_dev d;
	uint32_t rid;

	ASSERT_EQ(0, lab_pci_rid(self->e.bdf, &rid));
	ASSERT_EQ(0, rvmsi_nl_dev_set(self->sock, self->fi.id, self->e.bdf,
				      IOMMU_RVMSI_MODE_BLOCKED, -1));
	ASSERT_EQ(0, wait_event(self->ev, RVMSI_CMD_ENTRY_NTF, self->e.bdf,
				RVMSI_REASON_MODE, &d, NULL));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_BLOCKED, d.mode);
	ASSERT_EQ(0, d.nents);

	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(0ULL, (unsigned long long)edu_wait_irq(&self->e, 300));
	ASSERT_EQ(0, wait_event(self->ev, RVMSI_CMD_FAULT_NTF, self->e.bdf, 0, NULL, &f));
	TH_LOG("FAULT_NTF %s rid %#x cause %u", f.dev_name, f.rid, f.cause);
	ASSERT_EQ(rid, f.rid);
	ASSERT_EQ((uint32_t)RVMSI_FAULT_MSI_PTE_INVALID, f.cause);

	ASSERT_EQ(0, rvmsi_nl_dev_set(self->sock, self->fi.id, self->e.bdf,
				      IOMMU_RVMSI_MODE_IDENTITY, -1));
	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&self->e, 2000));
}

TEST_F(nl, unprivileged_dev_set_is_refused)
{
	struct rvmsi_nl_find f;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int r;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		r = rvmsi_nl_dev_set(self->sock, self->fi.id, self->e.bdf,
				     IOMMU_RVMSI_MODE_BLOCKED, -1);
		_exit(r == -EPERM ? 0 : 11);
	}
	ASSERT_EQ(0, child_exit_status(pid)) TH_LOG("child: DEV_SET as nobody was not refused with EPERM");

	/* Nothing changed. */
	ASSERT_EQ(0, rvmsi_nl_dev_get(self->sock, self->fi.id, self->e.bdf, false, &f));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, f.dev.mode);
	ASSERT_EQ(1, f.dev.nents);

	/* Reads stay open to everyone. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct rvmsi_nl_find g;
		int r;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		r = rvmsi_nl_dev_get(self->sock, self->fi.id, self->e.bdf, false, &g);
		_exit(r || !g.found ? 12 : 0);
	}
	ASSERT_EQ(0, child_exit_status(pid));

	/* Bad requests as root: a mode out of range, nothing to set. */
	ASSERT_EQ(-EINVAL, rvmsi_nl_dev_set(self->sock, self->fi.id, self->e.bdf, 9, -1));
	ASSERT_EQ(-EINVAL, rvmsi_nl_dev_set(self->sock, self->fi.id, self->e.bdf,
					    IOMMU_RVMSI_MODE_OFF, -1));
	ASSERT_EQ(-EOPNOTSUPP, rvmsi_nl_dev_set(self->sock, self->fi.id, self->e.bdf,
						IOMMU_RVMSI_MODE_GUEST_FILE, -1));
	ASSERT_EQ(-EINVAL, rvmsi_nl_dev_set(self->sock, self->fi.id, self->e.bdf, -1, -1));
	ASSERT_EQ(-ENODEV, rvmsi_nl_dev_set(self->sock, self->fi.id, "nosuchdev",
					    IOMMU_RVMSI_MODE_BLOCKED, -1));
	ASSERT_EQ(0, rvmsi_nl_dev_get(self->sock, self->fi.id, self->e.bdf, false, &f));
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
	rvmsi_nl_dev_set(self->sock, self->fi.id, self->bdf, IOMMU_RVMSI_MODE_IDENTITY, 0);
	edu_set_unsafe_interrupts(1);
	close(self->sock);
}

TEST_F(lock, isolation_lock)
{
	struct genl_family_info fi = self->fi;
	int sock = self->sock;
	const char *step = "";
	char *bdf = self->bdf;
	struct rvmsi_nl_find f;
	struct edu e;
	int r;

	/* Lock while unbound: MRIF (the IOMMU has MSI_MRIF), reported as locked. */
	ASSERT_EQ(0, rvmsi_nl_dev_set(sock, fi.id, bdf, -1, 1));
	ASSERT_EQ(0, rvmsi_nl_dev_get(sock, fi.id, bdf, false, &f));
	ASSERT_EQ(1, f.dev.locked);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_ISOLATION_LOCKED, f.dev.isolation);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_MRIF, f.dev.mode);
	ASSERT_EQ(-EPERM, rvmsi_nl_dev_set(sock, fi.id, bdf, IOMMU_RVMSI_MODE_IDENTITY, -1));

	/* Bound without the override, and its MSI arrives. */
	ASSERT_EQ(0, edu_set_unsafe_interrupts(0));
	r = edu_open(&e, &step);
	ASSERT_EQ(0, r) TH_LOG("locked device, allow_unsafe_interrupts=0: %s: %s",
			       step, strerror(-r));
	ASSERT_EQ(0, edu_enable_msi(&e));
	edu_w32(&e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&e, 2000));
	ASSERT_EQ(0, rvmsi_nl_dev_get(sock, fi.id, bdf, false, &f));
	TH_LOG("locked %s bound without allow_unsafe_interrupts; MSI delivered; %d entry, kind %u",
	       bdf, f.dev.nents, f.dev.nents ? f.dev.ents[0].kind : 0);
	ASSERT_EQ(1, f.dev.nents);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_ENTRY_MRIF, f.dev.ents[0].kind);
	ASSERT_EQ(1, f.dev.user_bound);

	/* While bound: no identity (ioctl or netlink), no unlocking. */
	ASSERT_EQ(-EPERM, rvmsi_set_mode(&e, IOMMU_RVMSI_MODE_IDENTITY));
	ASSERT_EQ(-EPERM, rvmsi_nl_dev_set(sock, fi.id, bdf, IOMMU_RVMSI_MODE_IDENTITY, -1));
	ASSERT_EQ(-EBUSY, rvmsi_nl_dev_set(sock, fi.id, bdf, -1, 0));
	ASSERT_EQ(0, rvmsi_nl_dev_get(sock, fi.id, bdf, false, &f));
	ASSERT_EQ(1, f.dev.locked);
	edu_close(&e);

	/* Unlocked, the device needs the override again. */
	ASSERT_EQ(0, rvmsi_nl_dev_set(sock, fi.id, bdf, IOMMU_RVMSI_MODE_IDENTITY, 0));
	r = edu_open(&e, &step);
	edu_close(&e);
	ASSERT_EQ(-EPERM, r) TH_LOG("unlocked device bound without the override: %s", step);
	ASSERT_EQ(0, edu_set_unsafe_interrupts(1));
	ASSERT_EQ(0, rvmsi_nl_dev_get(sock, fi.id, bdf, false, &f));
	ASSERT_EQ(0, f.dev.locked);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, f.dev.mode);
}

TEST_HARNESS_MAIN
