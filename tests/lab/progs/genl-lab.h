/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal generic netlink client for the lab tests, on raw sockets: no
 * libnl or libmnl in the static riscv64 initramfs. Builds requests with
 * attributes, resolves a family and its multicast groups through nlctrl,
 * runs do and dump requests, reads events, and walks attributes. At the
 * end, what the programs need of the "rvmsi" family: the DEV_GET/DEV_SET
 * requests and the parsers of its device and fault messages.
 */
#ifndef RVMSI_LAB_GENL_LAB_H
#define RVMSI_LAB_GENL_LAB_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/rvmsi.h>

#define GENL_BUF	16384

struct genl_req {
	union {
		struct nlmsghdr nlh;
		char buf[1024];
	};
};

static inline struct nlattr *genl_attr_next(struct nlattr *a)
{
	return (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
}

static inline void *genl_attr_data(const struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

static inline int genl_attr_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

#define genl_for_each_attr(a, start, len)					\
	for (a = (struct nlattr *)(start);					\
	     (char *)a + NLA_HDRLEN <= (char *)(start) + (len) &&		\
	     a->nla_len >= NLA_HDRLEN &&					\
	     (char *)a + a->nla_len <= (char *)(start) + (len);		\
	     a = genl_attr_next(a))

static inline uint32_t genl_attr_u32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, genl_attr_data(a), sizeof(v));
	return v;
}

static inline void genl_req_init(struct genl_req *r, uint16_t family, uint8_t cmd,
				 uint16_t flags)
{
	struct genlmsghdr *g;

	memset(r, 0, sizeof(*r));
	r->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->nlh.nlmsg_type = family;
	r->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	g = NLMSG_DATA(&r->nlh);
	g->cmd = cmd;
	g->version = 1;
}

static inline void genl_req_put(struct genl_req *r, uint16_t type, const void *data,
				uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)&r->nlh + NLMSG_ALIGN(r->nlh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy(genl_attr_data(a), data, len);
	r->nlh.nlmsg_len = NLMSG_ALIGN(r->nlh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static inline void genl_req_put_str(struct genl_req *r, uint16_t type, const char *s)
{
	genl_req_put(r, type, s, strlen(s) + 1);
}

static inline int genl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, one = 1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * Send @r and collect the answer: every message of the reply (or dump)
 * goes to @cb. Returns 0, or the negative errno of the kernel's ack.
 */
static inline int genl_talk(int fd, struct genl_req *r,
			    int (*cb)(struct nlmsghdr *nlh, void *arg), void *arg)
{
	static uint32_t seq = 1;
	char buf[GENL_BUF];
	struct nlmsghdr *nlh;
	bool dump = r->nlh.nlmsg_flags & NLM_F_DUMP;
	unsigned int len;
	ssize_t n;

	r->nlh.nlmsg_seq = ++seq;
	r->nlh.nlmsg_flags |= NLM_F_ACK;
	if (send(fd, &r->nlh, r->nlh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		len = (unsigned int)n;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				/* A dump that failed puts its errno in DONE. */
				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(err)))
					memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
				if (dump)
					return err < 0 ? err : 0;
				continue;
			}
			if (cb) {
				int ret = cb(nlh, arg);

				if (ret)
					return ret;
			}
		}
	}
}

/* Attributes of a generic netlink message. */
static inline struct nlattr *genl_msg_attrs(struct nlmsghdr *nlh, int *len)
{
	*len = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	return (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
}

struct genl_family_info {
	uint16_t id;
	const char *group;
	uint32_t group_id;
};

static inline int genl_family_cb(struct nlmsghdr *nlh, void *arg)
{
	struct genl_family_info *fi = arg;
	struct nlattr *a, *g, *ga;
	int len;

	genl_for_each_attr(a, genl_msg_attrs(nlh, &len), len) {
		if (genl_attr_type(a) == CTRL_ATTR_FAMILY_ID)
			memcpy(&fi->id, genl_attr_data(a), sizeof(fi->id));
		if (genl_attr_type(a) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		genl_for_each_attr(g, genl_attr_data(a), a->nla_len - NLA_HDRLEN) {
			const char *name = NULL;
			uint32_t id = 0;

			genl_for_each_attr(ga, genl_attr_data(g), g->nla_len - NLA_HDRLEN) {
				if (genl_attr_type(ga) == CTRL_ATTR_MCAST_GRP_NAME)
					name = genl_attr_data(ga);
				if (genl_attr_type(ga) == CTRL_ATTR_MCAST_GRP_ID)
					id = genl_attr_u32(ga);
			}
			if (name && fi->group && !strcmp(name, fi->group))
				fi->group_id = id;
		}
	}
	return 0;
}

/* Family ID of @name and the ID of its multicast group @group (may be NULL). */
static inline int genl_resolve(int fd, const char *name, struct genl_family_info *fi)
{
	struct genl_req r;
	int ret;

	genl_req_init(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	genl_req_put_str(&r, CTRL_ATTR_FAMILY_NAME, name);
	ret = genl_talk(fd, &r, genl_family_cb, fi);
	if (ret)
		return ret;
	return fi->id ? 0 : -ENOENT;
}

/* Wait up to @ms for one message on an event socket; returns its length or -errno. */
static inline int genl_recv_event(int fd, char *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	n = recv(fd, buf, len, 0);
	return n < 0 ? -errno : (int)n;
}

/* Join multicast group @group (e.g. from genl_resolve()) on @fd. */
static inline int genl_join(int fd, uint32_t group)
{
	if (!group)
		return -ENOENT;
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return -errno;
	return 0;
}

/*
 * Read events from @fd for up to @ms (polled in 100 ms steps) and hand every
 * message to @cb. Stops as soon as @cb returns non-zero and returns that
 * value; 0 when the time ran out, or the negative errno of a failed receive.
 */
static inline int genl_wait_events(int fd, int ms,
				   int (*cb)(struct nlmsghdr *nlh, void *arg), void *arg)
{
	char buf[GENL_BUF];
	struct nlmsghdr *nlh;
	unsigned int len;
	int n, left, ret;

	for (left = ms; left > 0; left -= 100) {
		n = genl_recv_event(fd, buf, sizeof(buf), 100);
		if (n == -ETIMEDOUT)
			continue;
		if (n < 0)
			return n;
		len = (unsigned int)n;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			ret = cb(nlh, arg);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* The generic netlink command of @nlh. */
static inline uint8_t genl_msg_cmd(struct nlmsghdr *nlh)
{
	return ((struct genlmsghdr *)NLMSG_DATA(nlh))->cmd;
}

/* ---- the "rvmsi" family ---- */

/*
 * A request socket with the family resolved (@fi->id, @fi->group_id of the
 * "events" group) and an event socket that joined that group.
 */
static inline int rvmsi_nl_open(int *sock, int *ev, struct genl_family_info *fi)
{
	int ret;

	*sock = *ev = -1;
	memset(fi, 0, sizeof(*fi));
	fi->group = RVMSI_MCGRP_EVENTS;
	*sock = genl_open();
	if (*sock < 0)
		return *sock;
	ret = genl_resolve(*sock, RVMSI_FAMILY_NAME, fi);
	if (ret)
		return ret;
	*ev = genl_open();
	if (*ev < 0)
		return *ev;
	return genl_join(*ev, fi->group_id);
}

#define RVMSI_NL_MAX_ENTS	16

/* A "dev" message: DEV_GET's answer or an ENTRY_NTF event. */
struct rvmsi_nl_dev {
	char name[64];
	uint32_t rid, mode, isolation, nr_entries, nr_irqs, reason;
	uint32_t seq;			/* events: the event number, if has_seq */
	bool has_seq;
	uint32_t nr_valid;		/* valid entries in the table, if has_nr_valid */
	bool has_nr_valid;
	bool entries_omitted;		/* an event without its entries */
	uint32_t table_users;		/* DEV_GET: devices sharing the table */
	uint8_t locked, user_bound;
	int nents;
	struct {
		uint32_t kind, guest, refcount;
		int32_t cpu;
	} ents[RVMSI_NL_MAX_ENTS];
};

static inline void rvmsi_nl_parse_dev(struct nlmsghdr *nlh, struct rvmsi_nl_dev *d)
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
		case RVMSI_A_DEV_EVENT_SEQ:
			d->seq = genl_attr_u32(a);
			d->has_seq = true;
			break;
		case RVMSI_A_DEV_NR_VALID:
			d->nr_valid = genl_attr_u32(a);
			d->has_nr_valid = true;
			break;
		case RVMSI_A_DEV_ENTRIES_OMITTED:
			d->entries_omitted = true;
			break;
		case RVMSI_A_DEV_TABLE_USERS:
			d->table_users = genl_attr_u32(a);
			break;
		case RVMSI_A_DEV_LOCKED:
			d->locked = *(uint8_t *)genl_attr_data(a);
			break;
		case RVMSI_A_DEV_USER_BOUND:
			d->user_bound = *(uint8_t *)genl_attr_data(a);
			break;
		case RVMSI_A_DEV_ENTRY:
			if (d->nents >= RVMSI_NL_MAX_ENTS)
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

/* A FAULT_NTF event; the has_* flags say which optional attributes came. */
struct rvmsi_nl_fault {
	char dev_name[64];
	uint32_t rid, cause;
	uint64_t addr;
	uint32_t group, hart, guest;	/* the interrupt file, if has_file */
	uint32_t seq;			/* the event number, if has_seq */
	bool has_cause, has_addr, has_file, has_seq;
};

static inline void rvmsi_nl_parse_fault(struct nlmsghdr *nlh, struct rvmsi_nl_fault *f)
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
		case RVMSI_A_FAULT_ADDR:
			memcpy(&f->addr, genl_attr_data(a), sizeof(f->addr));
			f->has_addr = true;
			break;
		case RVMSI_A_FAULT_GROUP:
			f->group = genl_attr_u32(a);
			f->has_file = true;
			break;
		case RVMSI_A_FAULT_HART:
			f->hart = genl_attr_u32(a);
			break;
		case RVMSI_A_FAULT_GUEST:
			f->guest = genl_attr_u32(a);
			break;
		case RVMSI_A_FAULT_EVENT_SEQ:
			f->seq = genl_attr_u32(a);
			f->has_seq = true;
			break;
		}
	}
}

/*
 * DEV_GET, looking for device @name; @count is every device answered,
 * @msgs every message (a device with many entries takes several, which
 * are put together here).
 */
struct rvmsi_nl_find {
	const char *name;
	struct rvmsi_nl_dev dev;
	bool found;
	int count, msgs;
	char last[64];
};

static inline int rvmsi_nl_find_cb(struct nlmsghdr *nlh, void *arg)
{
	struct rvmsi_nl_find *fd = arg;
	struct rvmsi_nl_dev d;
	int i;

	rvmsi_nl_parse_dev(nlh, &d);
	fd->msgs++;
	if (fd->count && !strcmp(d.name, fd->last)) {
		/* The device continues: its next entries. */
		if (fd->found && !strcmp(d.name, fd->dev.name))
			for (i = 0; i < d.nents && fd->dev.nents < RVMSI_NL_MAX_ENTS; i++)
				fd->dev.ents[fd->dev.nents++] = d.ents[i];
		return 0;
	}
	fd->count++;
	snprintf(fd->last, sizeof(fd->last), "%s", d.name);
	if (fd->name && !strcmp(d.name, fd->name)) {
		fd->dev = d;
		fd->found = true;
	}
	return 0;
}

/*
 * DEV_GET of @name (@dump: a dump of every device, searched for @name).
 * A do request with @name NULL sends no name, for the error case. See
 * rvmsi_nl_dev_dump_one() for the dump of one device.
 */
static inline int rvmsi_nl_dev_get(int sock, uint16_t fam, const char *name, bool dump,
				   struct rvmsi_nl_find *out)
{
	struct genl_req r;

	memset(out, 0, sizeof(*out));
	out->name = name;
	genl_req_init(&r, fam, RVMSI_CMD_DEV_GET, dump ? NLM_F_DUMP : 0);
	if (!dump && name)
		genl_req_put_str(&r, RVMSI_A_DEV_NAME, name);
	return genl_talk(sock, &r, rvmsi_nl_find_cb, out);
}

/* A DEV_GET dump of the one device @name. */
static inline int rvmsi_nl_dev_dump_one(int sock, uint16_t fam, const char *name,
					struct rvmsi_nl_find *out)
{
	struct genl_req r;

	memset(out, 0, sizeof(*out));
	out->name = name;
	genl_req_init(&r, fam, RVMSI_CMD_DEV_GET, NLM_F_DUMP);
	genl_req_put_str(&r, RVMSI_A_DEV_NAME, name);
	return genl_talk(sock, &r, rvmsi_nl_find_cb, out);
}

/* HOST_GET's answer: attribute t's u32 into v[t] (a uint32_t[RVMSI_A_HOST_MAX + 1]). */
static inline int rvmsi_nl_host_cb(struct nlmsghdr *nlh, void *arg)
{
	uint32_t *v = arg;
	struct nlattr *a;
	int len;

	genl_for_each_attr(a, genl_msg_attrs(nlh, &len), len)
		if (genl_attr_type(a) <= RVMSI_A_HOST_MAX)
			v[genl_attr_type(a)] = genl_attr_u32(a);
	return 0;
}

/* DEV_SET of @name: @mode and @lock each only when >= 0. */
static inline int rvmsi_nl_dev_set(int sock, uint16_t fam, const char *name, int64_t mode,
				   int lock)
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

#endif /* RVMSI_LAB_GENL_LAB_H */
