/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal generic netlink client for the lab tests, on raw sockets: no
 * libnl or libmnl in the static riscv64 initramfs. Builds requests with
 * attributes, resolves a family and its multicast groups through nlctrl,
 * runs do and dump requests, reads events, and walks attributes.
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
				if (dump)
					return 0;
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

#endif /* RVMSI_LAB_GENL_LAB_H */
