/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsid on its kernel backend against the real kernel part (issue 4): the
 * daemon (riscv64 build of daemon/rvmsid, --backend=kernel) runs on a private
 * dbus-daemon inside the VM, and rvmsictl drives it. Every claim is checked
 * on both sides: what the daemon says (rvmsictl --json, i.e. Describe()) and
 * what the kernel has (a DEV_GET of the rvmsi netlink family, raw, not
 * through the daemon).
 *
 * - the daemon starts with Backend "kernel", affinity from kernel events, and
 *   finds edu (bound to vfio-pci, opened here through iommufd, MSI enabled);
 * - edu with no owner: the daemon blocks it, and the kernel's table is blocked;
 * - attach edu to "host": identity, the kernel has one host-file entry on the
 *   CPU edu's IRQ is on, and the daemon's target is that hart;
 * - move the IRQ (/proc/irq/N/smp_affinity): the kernel's ENTRY_NTF reaches
 *   the daemon, whose target follows to the new hart;
 * - attach to "userspace": MRIF (the policy's default for userspace), the
 *   kernel's entry is an MRIF entry, and edu's MSI still arrives;
 * - detach (owner none): blocked;
 * - assign to a running VM of class strict: MRIF (the kernel part has no
 *   guest-file delivery, and strict never takes identity), MSI delivered;
 * - the VM stops: blocked; an MSI from edu is blocked by the IOMMU and the
 *   kernel's FAULT_NTF reaches the daemon (the device's fault count, the
 *   fault list).
 *
 * shared_table_left_alone: the two edus behind the lab's bridge share one
 * MSI table; the daemon leaves them alone (reason table-shared) whatever
 * their owners, and the kernel's mode stays.
 *
 * A second test, lost_event_resyncs, makes the kernel drop the event of an
 * IRQ move (fault injection) and shows that the daemon finds the gap in the
 * event numbers at the next event and resynchronises.
 *
 * The binaries and their libraries are put into the initramfs by
 * tests/lab/daemon/build-in-chroot; see tests/lab/README.md.
 */
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/rvmsi.h>

#include "genl-lab.h"
#include "imsic-lab.h"
#include "kselftest_harness.h"

#define BUS_PATH	"/tmp/rvmsi-lab-bus"
#define BUS_ADDR	"--bus=unix:path=" BUS_PATH
#define BUS_CONF	"/etc/rvmsi-lab/bus.conf"
#define RVMSID_LOG	"/tmp/rvmsid.log"
#define DBUS_LOG	"/tmp/dbus-daemon.log"
#define CTL_OUT		"/tmp/rvmsictl.out"
#define CTL_ERR		"/tmp/rvmsictl.err"
#define DOC_MAX		65536
#define VM_UUID		"6c0f7e2a-9d1e-4b55-8a57-0a2b6c1b9d01"
/* The fault attribute that drops the rvmsi family's events on purpose. */
#define FAIL_EVENT	"/sys/kernel/debug/fail_rvmsi_event/"

extern char **environ;

static char *const child_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	/* No ld.so.cache in the initramfs: name the multiarch directory. */
	"LD_LIBRARY_PATH=/usr/lib/riscv64-linux-gnu",
	"SYSTEMD_LOG_LEVEL=info",
	NULL,
};

/* Start @argv with stdout and stderr into @log (appended). */
static pid_t spawn_logged(char *const argv[], const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	r = posix_spawn(&pid, argv[0], &fa, NULL, argv, child_env);
	posix_spawn_file_actions_destroy(&fa);
	return r ? -r : pid;
}

/* Dump a file into the test log (the daemon's log when something fails). */
static void show_file(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	fprintf(stderr, "# ---- %s ----\n", path);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "# %s", line);
	fclose(f);
}

/* While waiting for rvmsid to come up, "not there yet" is expected: keep it out of the log. */
static bool ctl_quiet;

/*
 * Run rvmsictl with @args; its stdout, whitespace removed (the checks below
 * look for "key":"value" pairs and no value they look at has blanks), goes
 * into @doc. Returns rvmsictl's exit status, or a negative errno.
 */
static int ctl(char *doc, const char *const args[])
{
	char *argv[16] = { "/usr/bin/rvmsictl", BUS_ADDR, "--timeout=20" };
	posix_spawn_file_actions_t fa;
	int n = 3, status, r, c;
	size_t len = 0;
	pid_t pid;
	FILE *f;

	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, CTL_OUT, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, CTL_ERR, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	r = posix_spawn(&pid, argv[0], &fa, NULL, argv, child_env);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return -r;
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (doc) {
		f = fopen(CTL_OUT, "re");
		if (!f)
			return -errno;
		while ((c = fgetc(f)) != EOF && len < DOC_MAX - 1)
			if (c != ' ' && c != '\n' && c != '\t')
				doc[len++] = (char)c;
		doc[len] = '\0';
		fclose(f);
	}
	if (!WIFEXITED(status))
		return -EINTR;
	if (WEXITSTATUS(status) && !ctl_quiet)
		show_file(CTL_ERR);
	return WEXITSTATUS(status);
}

/* The value of the first "key": in @doc (whitespace already removed), unquoted. */
static const char *json_get(const char *doc, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(doc, pat);
	out[0] = '\0';
	if (!p)
		return out;
	p += strlen(pat);
	if (*p == '"') {
		for (p++; *p && *p != '"' && n < size - 1; p++)
			out[n++] = *p;
	} else {
		for (; *p && *p != ',' && *p != '}' && *p != ']' && n < size - 1; p++)
			out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}

/* ---- the kernel's view, straight from the rvmsi netlink family ---- */

struct kdev {
	bool found;
	uint32_t mode;
	int nents;
	uint32_t kind[8];
	int32_t cpu[8];
};

struct kdev_req {
	const char *name;
	struct kdev *d;
};

static int kdev_cb(struct nlmsghdr *nlh, void *arg)
{
	struct kdev_req *q = arg;
	struct kdev d = { 0 };
	struct nlattr *a, *e;
	bool match = false;
	int len;

	genl_for_each_attr(a, genl_msg_attrs(nlh, &len), len) {
		switch (genl_attr_type(a)) {
		case RVMSI_A_DEV_NAME:
			match = !strcmp((char *)genl_attr_data(a), q->name);
			break;
		case RVMSI_A_DEV_MODE:
			d.mode = genl_attr_u32(a);
			break;
		case RVMSI_A_DEV_ENTRY:
			if (d.nents >= 8)
				break;
			genl_for_each_attr(e, genl_attr_data(a), a->nla_len - NLA_HDRLEN) {
				if (genl_attr_type(e) == RVMSI_A_ENTRY_KIND)
					d.kind[d.nents] = genl_attr_u32(e);
				else if (genl_attr_type(e) == RVMSI_A_ENTRY_CPU)
					d.cpu[d.nents] = (int32_t)genl_attr_u32(e);
			}
			d.nents++;
			break;
		}
	}
	if (match) {
		d.found = true;
		*q->d = d;
	}
	return 0;
}

/* DEV_GET dump (the same request the daemon's resync makes, made here on its own). */
static int kernel_dev(const char *name, struct kdev *d)
{
	struct genl_family_info fi = { 0 };
	struct kdev_req q = { .name = name, .d = d };
	struct genl_req r;
	int sock, ret;

	memset(d, 0, sizeof(*d));
	sock = genl_open();
	if (sock < 0)
		return sock;
	ret = genl_resolve(sock, RVMSI_FAMILY_NAME, &fi);
	if (!ret) {
		genl_req_init(&r, fi.id, RVMSI_CMD_DEV_GET, NLM_F_DUMP);
		ret = genl_talk(sock, &r, kdev_cb, &q);
	}
	close(sock);
	if (!ret && !d->found)
		ret = -ENODEV;
	return ret;
}

/* Leave edu as the other programs expect it: identity. */
static int kernel_set_identity(const char *name)
{
	struct genl_family_info fi = { 0 };
	uint32_t m = IOMMU_RVMSI_MODE_IDENTITY;
	struct genl_req r;
	int sock, ret;

	sock = genl_open();
	if (sock < 0)
		return sock;
	ret = genl_resolve(sock, RVMSI_FAMILY_NAME, &fi);
	if (!ret) {
		genl_req_init(&r, fi.id, RVMSI_CMD_DEV_SET, 0);
		genl_req_put_str(&r, RVMSI_A_DEV_NAME, name);
		genl_req_put(&r, RVMSI_A_DEV_MODE, &m, sizeof(m));
		ret = genl_talk(sock, &r, NULL, NULL);
	}
	close(sock);
	return ret;
}

static void msleep(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

FIXTURE(daemon) {
	struct edu e;
	struct imsic_dt im;	/* CPU -> hart: they differ when the boot hart was not hart 0 */
	int irq;
	pid_t bus, rvmsid;
	char *doc;
};

FIXTURE_SETUP(daemon)
{
	const char *step = "";
	struct stat st;
	int r, i;

	self->bus = self->rvmsid = -1;
	self->doc = calloc(1, DOC_MAX);
	ASSERT_NE(NULL, self->doc);
	ASSERT_EQ(0, imsic_dt_read(&self->im));
	ASSERT_EQ(0, edu_set_unsafe_interrupts(1));
	r = edu_open(&self->e, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
	ASSERT_EQ(0, edu_enable_msi(&self->e));
	self->irq = -1;
	ASSERT_LE(0, proc_irq_count("vfio-msi", &self->irq));

	/* Each test (and each run of the program in one boot) has logs of its own. */
	unlink(RVMSID_LOG);
	unlink(DBUS_LOG);
	/* A private bus. */
	unlink(BUS_PATH);
	self->bus = spawn_logged((char *const[]){ "/usr/bin/dbus-daemon", "--config-file=" BUS_CONF,
						  "--nofork", "--nopidfile", NULL }, DBUS_LOG);
	ASSERT_LT(0, self->bus) TH_LOG("cannot start dbus-daemon: %s", strerror(-self->bus));
	for (i = 0; i < 300 && stat(BUS_PATH, &st); i++)
		msleep(100);
	if (stat(BUS_PATH, &st))
		show_file(DBUS_LOG);
	ASSERT_EQ(0, stat(BUS_PATH, &st)) TH_LOG("dbus-daemon did not create " BUS_PATH);
}

FIXTURE_TEARDOWN(daemon)
{
	int status;

	if (self->rvmsid > 0) {
		kill(self->rvmsid, SIGTERM);
		waitpid(self->rvmsid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			TH_LOG("rvmsid ended with status %#x", status);
	}
	/* The daemon's own account of the run, whatever the verdict. */
	show_file(RVMSID_LOG);
	if (self->bus > 0) {
		kill(self->bus, SIGTERM);
		waitpid(self->bus, &status, 0);
	}
	/* Whatever failed, no event of a later test is dropped. */
	edu_write_file(FAIL_EVENT "probability", "0");
	kernel_set_identity(self->e.bdf);
	edu_close(&self->e);
	free(self->doc);
}

/* Wait until the daemon's view of edu has @key = @want; the view stays in self->doc. */
static bool wait_device(char *doc, const char *bdf, const char *key, const char *want, int ms)
{
	const char *show[] = { "--json", "show", bdf, NULL };
	char v[128];

	for (; ms > 0; ms -= 200) {
		if (!ctl(doc, show) && !strcmp(json_get(doc, key, v, sizeof(v)), want))
			return true;
		msleep(200);
	}
	return false;
}

/* Start rvmsid on the kernel backend and wait until it answers on the bus. */
static void start_rvmsid(struct __test_metadata *_metadata, FIXTURE_DATA(daemon) *self)
{
	const char *status[] = { "--json", "status", NULL };
	int i, r;

	self->rvmsid = spawn_logged((char *const[]){ "/usr/sbin/rvmsid", "--backend=kernel", BUS_ADDR,
						     "--config=/tmp/rvmsid-no-config", "--state=", NULL },
				    RVMSID_LOG);
	ASSERT_LT(0, self->rvmsid) TH_LOG("cannot start rvmsid: %s", strerror(-self->rvmsid));
	ctl_quiet = true;
	for (i = 0, r = -1; i < 60 && r; i++) {
		r = ctl(self->doc, status);
		if (r)
			msleep(1000);
	}
	ctl_quiet = false;
	if (r)
		show_file(CTL_ERR);
	ASSERT_EQ(0, r) TH_LOG("rvmsictl status never answered (rvmsid: %s)",
			       waitpid(self->rvmsid, NULL, WNOHANG) ? "exited" : "running");
}

/* Occurrences of @needle in the daemon's log. */
static int log_count(const char *needle)
{
	char line[512];
	FILE *f = fopen(RVMSID_LOG, "re");
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* The mode change the lost-event test waits for, seen on its own listener. */
struct seen_event {
	const char *bdf;
	uint32_t mode;		/* an ENTRY_NTF to this mode, reason MODE */
	uint32_t seq;
	bool has_seq;
};

static int seen_event_cb(struct nlmsghdr *nlh, void *arg)
{
	struct seen_event *w = arg;
	struct rvmsi_nl_dev d;

	if (nlh->nlmsg_type < NLMSG_MIN_TYPE || genl_msg_cmd(nlh) != RVMSI_CMD_ENTRY_NTF)
		return 0;
	rvmsi_nl_parse_dev(nlh, &d);
	if (strcmp(d.name, w->bdf) || d.reason != RVMSI_REASON_MODE || d.mode != w->mode)
		return 0;
	w->seq = d.seq;
	w->has_seq = d.has_seq;
	return 1;
}

/*
 * An event lost on purpose: the kernel drops the ENTRY_NTF of an IRQ move
 * (fault injection, as if it had had no memory for it), so rvmsid, which
 * learns affinity only from the kernel's events, cannot know of the move.
 * The next event (an administrator blocks the device behind the daemon's
 * back) carries an event number that skips the lost one: rvmsid must see
 * the gap, resynchronise, re-read IRQ affinity, restore identity and report
 * the entry where the kernel has it. Without the numbers it would restore
 * identity, find the entry on another hart than it decided, and stay
 * pending on the old hart for ever. A listener of the test's own shows that
 * exactly one event, the move's, went missing.
 */
TEST_F_TIMEOUT(daemon, lost_event_resyncs, 90)
{
	char *doc = self->doc, v[128], want[64], buf[32], *bdf = self->e.bdf;
	struct seen_event start_ev = { .bdf = bdf, .mode = IOMMU_RVMSI_MODE_BLOCKED };
	struct seen_event mode_ev = { .bdf = bdf, .mode = IOMMU_RVMSI_MODE_IDENTITY };
	struct seen_event block_ev = { .bdf = bdf, .mode = IOMMU_RVMSI_MODE_BLOCKED };
	struct genl_family_info fi;
	int sock, ev, cpu, newcpu, lost0, i;
	struct kdev k;

	ASSERT_EQ(0, rvmsi_nl_open(&sock, &ev, &fi));
	start_rvmsid(_metadata, self);
	ASSERT_EQ(0, ctl(NULL, (const char *[]){ "attach", bdf, "host", NULL }));
	ASSERT_TRUE(wait_device(doc, bdf, "apply_state", "applied", 10000)) TH_LOG("%s", doc);
	cpu = lab_irq_effective_cpu(self->irq);
	ASSERT_LE(0, cpu);
	snprintf(want, sizeof(want), "hart:%d", imsic_cpu_hart(&self->im, cpu));
	ASSERT_STREQ(want, json_get(doc, "target", v, sizeof(v))) TH_LOG("%s", doc);
	/*
	 * The attach's own event is out before anything is dropped. The daemon
	 * blocked edu when it started (no owner), so the first identity event
	 * after that blocked one is the attach's, not a late one of an earlier
	 * test's teardown.
	 */
	ASSERT_EQ(1, genl_wait_events(ev, 5000, seen_event_cb, &start_ev));
	ASSERT_EQ(1, genl_wait_events(ev, 5000, seen_event_cb, &mode_ev));
	ASSERT_TRUE(mode_ev.has_seq);
	lost0 = log_count("events were lost");

	/* Drop exactly the next event, quietly (no stack dump in the log). */
	ASSERT_EQ(0, edu_write_file(FAIL_EVENT "verbose", "0"));
	ASSERT_EQ(0, edu_write_file(FAIL_EVENT "interval", "1"));
	ASSERT_EQ(0, edu_write_file(FAIL_EVENT "times", "1"));
	ASSERT_EQ(0, edu_write_file(FAIL_EVENT "probability", "100"));

	newcpu = (cpu + 1) % (int)sysconf(_SC_NPROCESSORS_ONLN);
	ASSERT_EQ(newcpu, edu_move_irq(&self->e, self->irq, newcpu));
	ASSERT_EQ(0, kernel_dev(bdf, &k));
	ASSERT_EQ(1, k.nents);
	ASSERT_EQ(newcpu, k.cpu[0]);
	/*
	 * The move's event is built by a work item after the move, so it may
	 * not have been tried yet: wait for times to count down to 0, which is
	 * when the event is dropped (the kernel's own word that it happened).
	 */
	for (i = 0; i < 500; i++) {
		ASSERT_EQ(0, edu_read_file(FAIL_EVENT "times", buf, sizeof(buf)));
		if (!atoi(buf))
			break;
		msleep(10);
	}
	ASSERT_EQ(0, atoi(buf)) TH_LOG("fail_rvmsi_event/times: %s", buf);
	ASSERT_EQ(0, edu_write_file(FAIL_EVENT "probability", "0"));
	/* Nothing told the daemon: it still has the old hart. */
	ASSERT_EQ(0, ctl(doc, (const char *[]){ "--json", "show", bdf, NULL }));
	ASSERT_STREQ(want, json_get(doc, "target", v, sizeof(v))) TH_LOG("%s", doc);
	ASSERT_EQ(lost0, log_count("events were lost"));

	/* The next event: the administrator blocks edu behind the daemon's back. */
	ASSERT_EQ(0, rvmsi_nl_dev_set(sock, fi.id, bdf, IOMMU_RVMSI_MODE_BLOCKED, -1));
	ASSERT_EQ(1, genl_wait_events(ev, 5000, seen_event_cb, &block_ev));
	ASSERT_TRUE(block_ev.has_seq);
	/* One number in between, and no event carried it: the move's. */
	ASSERT_EQ(mode_ev.seq + 2, block_ev.seq);
	snprintf(want, sizeof(want), "hart:%d", imsic_cpu_hart(&self->im, newcpu));
	ASSERT_TRUE(wait_device(doc, bdf, "target", want, 10000))
		TH_LOG("the daemon never found the lost event: %s", doc);
	ASSERT_STREQ("applied", json_get(doc, "apply_state", v, sizeof(v))) TH_LOG("%s", doc);
	ASSERT_LT(lost0, log_count("events were lost"));
	ASSERT_EQ(0, kernel_dev(bdf, &k));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, k.mode);
	TH_LOG("events %u, (lost), %u: the daemon resynchronised and reports %s",
	       mode_ev.seq, block_ev.seq, want);
	close(ev);
	close(sock);
}

/*
 * The two edus behind the lab's bridge share one MSI table and mode in the
 * kernel (22-msi-alias). Given different owners (one attached to userspace:
 * MRIF; the other to the host: identity), deciding them one at a time would
 * make the daemon set one, the kernel change the other with it, and the
 * daemon set that one back at every event. The daemon leaves such devices alone: mode off,
 * reason table-shared, apply state unsupported, and the kernel's mode stays
 * as it was.
 */
TEST_F_TIMEOUT(daemon, shared_table_left_alone, 60)
{
	char *doc = self->doc, v[128], pair[2][32], owner[2][32];
	struct kdev before[2], k;
	int i;

	ASSERT_EQ(0, edu_find_bridged(pair)) TH_LOG("not two edus behind a bridge");
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, kernel_dev(pair[i], &before[i])) TH_LOG("%s", pair[i]);
	}
	ASSERT_EQ(before[0].mode, before[1].mode);

	start_rvmsid(_metadata, self);
	ASSERT_EQ(0, ctl(NULL, (const char *[]){ "attach", pair[0], "userspace", NULL }));
	ASSERT_EQ(0, ctl(NULL, (const char *[]){ "attach", pair[1], "host", NULL }));
	for (i = 0; i < 2; i++) {
		ASSERT_TRUE(wait_device(doc, pair[i], "reason", "table-shared", 10000))
			TH_LOG("%s: %s", pair[i], doc);
		json_get(doc, "owner", owner[i], sizeof(owner[i]));
		EXPECT_STREQ("off", json_get(doc, "mode", v, sizeof(v)));
		/* what the daemon says of a mode it cannot set */
		EXPECT_STREQ("unsupported", json_get(doc, "apply_state", v, sizeof(v)));
	}
	/* Long enough for a few rounds of a daemon and a kernel that disagree. */
	msleep(2000);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, kernel_dev(pair[i], &k));
		EXPECT_EQ(before[i].mode, k.mode) TH_LOG("%s: the kernel's mode changed", pair[i]);
	}
	TH_LOG("%s (owner %s) and %s (owner %s): table-shared, not managed; kernel mode %u kept",
	       pair[0], owner[0], pair[1], owner[1], before[0].mode);
}

TEST_F_TIMEOUT(daemon, kernel_backend, 110)
{
	char *doc = self->doc, v[128], want[64], *bdf = self->e.bdf;
	struct kdev k;
	int i, cpu, newcpu;
	unsigned long long faults0, faults1 = 0;

	/* Before the daemon: identity, one entry (as edu_open left it). */
	ASSERT_EQ(0, kernel_dev(bdf, &k));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, k.mode);

	start_rvmsid(_metadata, self);

	/* The daemon runs on the kernel backend, follows affinity by kernel events. */
	ASSERT_STREQ("kernel", json_get(doc, "backend", v, sizeof(v)));
	ASSERT_STREQ("kernel-events", json_get(doc, "affinity_source", v, sizeof(v)));
	ASSERT_STREQ("1", json_get(doc, "groups", v, sizeof(v)));
	snprintf(want, sizeof(want), "%ld", sysconf(_SC_NPROCESSORS_CONF));
	ASSERT_STREQ(want, json_get(doc, "harts", v, sizeof(v)));
	snprintf(want, sizeof(want), "\"pci\":\"%s\"", bdf);
	ASSERT_NE(NULL, strstr(doc, want)) TH_LOG("edu (%s) not in Describe(): %s", bdf, doc);
	TH_LOG("rvmsid: backend kernel, affinity from kernel events, %s in Describe()", bdf);

	/* Nobody owns edu: the daemon blocks it, in the kernel too. */
	ASSERT_TRUE(wait_device(doc, bdf, "apply_state", "applied", 10000)) TH_LOG("%s", doc);
	ASSERT_STREQ("none", json_get(doc, "owner", v, sizeof(v)));
	ASSERT_STREQ("blocked", json_get(doc, "mode", v, sizeof(v)));
	ASSERT_STREQ("isolated", json_get(doc, "isolation", v, sizeof(v)));
	ASSERT_EQ(0, kernel_dev(bdf, &k));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_BLOCKED, k.mode);
	ASSERT_EQ(0, k.nents);

	/* Owner host: identity, one host-file entry where the IRQ is. */
	ASSERT_EQ(0, ctl(NULL, (const char *[]){ "attach", bdf, "host", NULL }));
	ASSERT_TRUE(wait_device(doc, bdf, "apply_state", "applied", 10000)) TH_LOG("%s", doc);
	ASSERT_STREQ("identity", json_get(doc, "mode", v, sizeof(v)));
	ASSERT_STREQ("shared", json_get(doc, "isolation", v, sizeof(v)));
	cpu = lab_irq_effective_cpu(self->irq);
	ASSERT_LE(0, cpu);
	ASSERT_EQ(0, kernel_dev(bdf, &k));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_IDENTITY, k.mode);
	ASSERT_EQ(1, k.nents);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_ENTRY_HOST_FILE, k.kind[0]);
	ASSERT_EQ(cpu, k.cpu[0]);
	snprintf(want, sizeof(want), "hart:%d", imsic_cpu_hart(&self->im, cpu));
	ASSERT_STREQ(want, json_get(doc, "target", v, sizeof(v))) TH_LOG("%s", doc);
	TH_LOG("attach host: kernel identity, entry on CPU %d; daemon target %s", cpu, v);

	/* The kernel moves the entry with the IRQ and says so; the daemon follows. */
	newcpu = (cpu + 1) % (int)sysconf(_SC_NPROCESSORS_ONLN);
	ASSERT_EQ(newcpu, edu_move_irq(&self->e, self->irq, newcpu));
	ASSERT_EQ(0, kernel_dev(bdf, &k));
	ASSERT_EQ(1, k.nents);
	ASSERT_EQ(newcpu, k.cpu[0]);
	snprintf(want, sizeof(want), "hart:%d", imsic_cpu_hart(&self->im, newcpu));
	ASSERT_TRUE(wait_device(doc, bdf, "target", want, 10000))
		TH_LOG("IRQ %d moved to CPU %d, the daemon still says: %s", self->irq, newcpu, doc);
	ASSERT_STREQ("applied", json_get(doc, "apply_state", v, sizeof(v)));
	TH_LOG("IRQ %d moved to CPU %d: daemon target %s", self->irq, newcpu, want);

	/* Owner userspace: MRIF (the policy's default); edu's MSI still arrives. */
	ASSERT_EQ(0, ctl(NULL, (const char *[]){ "attach", bdf, "userspace", NULL }));
	/*
	 * Applied when the call returns, without waiting: the daemon reads the
	 * device back (a DEV_GET "do" request) right after its DEV_SET and
	 * before it replies, rather than leaving it pending until the device's
	 * ENTRY_NTF has come in and been handled.
	 */
	ASSERT_EQ(0, ctl(doc, (const char *[]){ "--json", "show", bdf, NULL }));
	ASSERT_STREQ("applied", json_get(doc, "apply_state", v, sizeof(v))) TH_LOG("%s", doc);
	ASSERT_STREQ("mrif", json_get(doc, "mode", v, sizeof(v)));
	ASSERT_EQ(0, kernel_dev(bdf, &k));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_MRIF, k.mode);
	ASSERT_EQ(1, k.nents);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_ENTRY_MRIF, k.kind[0]);
	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&self->e, 2000));

	/* Detached: blocked. */
	ASSERT_EQ(0, ctl(NULL, (const char *[]){ "detach", bdf, NULL }));
	ASSERT_EQ(0, ctl(doc, (const char *[]){ "--json", "show", bdf, NULL }));
	ASSERT_STREQ("applied", json_get(doc, "apply_state", v, sizeof(v))) TH_LOG("%s", doc);
	ASSERT_STREQ("blocked", json_get(doc, "mode", v, sizeof(v)));
	ASSERT_EQ(0, kernel_dev(bdf, &k));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_BLOCKED, k.mode);
	ASSERT_EQ(0, k.nents);

	/*
	 * Assigned to a running VM of class strict: never an identity entry. The
	 * kernel part has no guest-file delivery (no GUEST_FILE cap), so the
	 * solver's answer is MRIF, and the kernel has an MRIF entry.
	 */
	snprintf(want, sizeof(want), "--pin=0:%d", newcpu);
	ASSERT_EQ(0, ctl(NULL, (const char *[]){ "vm", "register", "lab-strict", VM_UUID, "--vcpus=1", want,
						 "--class=strict", "--device", bdf, "--start", NULL }));
	ASSERT_TRUE(wait_device(doc, bdf, "apply_state", "applied", 10000)) TH_LOG("%s", doc);
	ASSERT_STREQ("vm", json_get(doc, "owner", v, sizeof(v)));
	ASSERT_STREQ(VM_UUID, json_get(doc, "vm", v, sizeof(v)));
	ASSERT_STREQ("mrif", json_get(doc, "mode", v, sizeof(v))) TH_LOG("%s", doc);
	/* Without guest-file delivery the device's MSIs stay on the host file its IRQ targets. */
	snprintf(want, sizeof(want), "hart:%d", imsic_cpu_hart(&self->im, newcpu));
	ASSERT_STREQ(want, json_get(doc, "target", v, sizeof(v))) TH_LOG("%s", doc);
	ASSERT_STREQ("fallback-no-guest-cap", json_get(doc, "reason", v, sizeof(v)));
	ASSERT_EQ(0, kernel_dev(bdf, &k));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_MRIF, k.mode);
	ASSERT_EQ(1, k.nents);
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_ENTRY_MRIF, k.kind[0]);
	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&self->e, 2000));
	ASSERT_EQ(0, ctl(doc, (const char *[]){ "--json", "show", VM_UUID, NULL }));
	ASSERT_STREQ("running", json_get(doc, "state", v, sizeof(v)));
	TH_LOG("strict VM running: kernel MRIF entry, daemon reason fallback-no-guest-cap");

	/* The VM stops: its device is blocked; the blocked MSI's fault reaches the daemon. */
	faults0 = strtoull(json_get(doc, "faults", v, sizeof(v)), NULL, 10);
	ASSERT_EQ(0, ctl(NULL, (const char *[]){ "vm", "event", VM_UUID, "stopped", NULL }));
	ASSERT_TRUE(wait_device(doc, bdf, "apply_state", "applied", 10000)) TH_LOG("%s", doc);
	ASSERT_STREQ("blocked", json_get(doc, "mode", v, sizeof(v)));
	ASSERT_EQ(0, kernel_dev(bdf, &k));
	ASSERT_EQ((uint32_t)IOMMU_RVMSI_MODE_BLOCKED, k.mode);
	ASSERT_EQ(0, k.nents);
	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(0ULL, (unsigned long long)edu_wait_irq(&self->e, 300));
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, ctl(doc, (const char *[]){ "--json", "show", bdf, NULL }));
		faults1 = strtoull(json_get(doc, "faults", v, sizeof(v)), NULL, 10);
		if (faults1 > faults0)
			break;
		msleep(200);
	}
	ASSERT_LT(faults0, faults1) TH_LOG("no fault reached the daemon: %s", doc);
	ASSERT_EQ(0, ctl(doc, (const char *[]){ "--json", "faults", NULL }));
	snprintf(want, sizeof(want), "\"device\":\"%s\"", bdf);
	ASSERT_NE(NULL, strstr(doc, want)) TH_LOG("%s", doc);
	snprintf(want, sizeof(want), "\"cause\":%u", RVMSI_FAULT_MSI_PTE_INVALID);
	ASSERT_NE(NULL, strstr(doc, want)) TH_LOG("%s", doc);
	TH_LOG("blocked MSI: daemon's fault count for %s %llu -> %llu, cause %u", bdf, faults0, faults1,
	       RVMSI_FAULT_MSI_PTE_INVALID);
}

TEST_HARNESS_MAIN
