/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rvmsi.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include "kernel-link.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* How often a dump interrupted by concurrent changes is redone before we
 * give up and let the next resync try again. */
#define DUMP_ATTEMPTS 8

struct KernelLink {
        struct nl_sock *req;
        struct nl_sock *ntf;
        int family;
        int group;
        KernelEventSeq event_seq;
        KernelLinkCallbacks cb;
        void *userdata;
};

KernelLink *kernel_link_free(KernelLink *l) {
        if (!l)
                return NULL;
        if (l->ntf)
                nl_socket_free(l->ntf);
        if (l->req)
                nl_socket_free(l->req);
        free(l);
        return NULL;
}

static void msg_freep(struct nl_msg **m) {
        if (*m)
                nlmsg_free(*m);
}
#define _cleanup_nlmsg_ _cleanup_(msg_freep)

static void events_lost(KernelLink *l) {
        if (l->cb.overflow)
                l->cb.overflow(l->userdata);
}

/* A skipped event number: the kernel could not send an event. */
static void check_event_seq(KernelLink *l, bool has_seq, uint32_t seq) {
        if (!kmsg_event_seq_next(&l->event_seq, has_seq, seq))
                events_lost(l);
}

static int on_event_valid(struct nl_msg *msg, void *arg) {
        KernelLink *l = arg;
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        uint8_t cmd;
        int r;

        if (nlh->nlmsg_type != l->family)
                return NL_SKIP;
        r = kmsg_get_cmd(nlh, &cmd);
        if (r < 0)
                goto broken;

        switch (cmd) {
        case RVMSI_CMD_ENTRY_NTF: {
                KernelDevice d;

                r = kmsg_parse_dev(nlh, &d);
                if (r < 0)
                        goto broken;
                check_event_seq(l, d.has_event_seq, d.event_seq);
                if (l->cb.entry)
                        l->cb.entry(&d, l->userdata);
                kernel_device_done(&d);
                break;
        }
        case RVMSI_CMD_FAULT_NTF: {
                KernelFault f;

                r = kmsg_parse_fault(nlh, &f);
                if (r < 0)
                        goto broken;
                check_event_seq(l, f.has_event_seq, f.event_seq);
                if (l->cb.fault)
                        l->cb.fault(&f, l->userdata);
                break;
        }
        default:
                /* a newer kernel's event: not ours to guess at */
                break;
        }
        return NL_OK;

broken:
        /* An event we cannot read is an event lost: the model may now be
         * wrong, and only a full dump puts it right. */
        events_lost(l);
        return NL_SKIP;
}

int kernel_link_get_event_fd(KernelLink *l) {
        if (!l->ntf)
                return -EOPNOTSUPP;
        return nl_socket_get_fd(l->ntf);
}

int kernel_link_process_events(KernelLink *l) {
        int r;

        if (!l->ntf)
                return -EOPNOTSUPP;
        for (;;) {
                r = nl_recvmsgs_default(l->ntf);
                if (r >= 0)
                        continue;       /* more may be queued */
                if (r == -NLE_AGAIN)
                        return 0;
                /* libnl reports ENOBUFS (the kernel dropped multicast
                 * messages for us) as NLE_NOMEM; anything else on this
                 * socket is as bad. Either way: resync. The next event's
                 * number will skip too: this loss is reported already. */
                kmsg_event_seq_reset(&l->event_seq);
                events_lost(l);
                if (r == -NLE_NOMEM || r == -NLE_INTR)
                        continue;
                return 0;
        }
}

static int connect_sock(struct nl_sock **ret) {
        struct nl_sock *s;
        int r;

        s = nl_socket_alloc();
        if (!s)
                return -ENOMEM;
        r = genl_connect(s);
        if (r < 0) {
                nl_socket_free(s);
                return kmsg_errno(r);
        }
        *ret = s;
        return 0;
}

int kernel_link_open(bool events, const KernelLinkCallbacks *cb, void *userdata, KernelLink **ret) {
        _cleanup_(kernel_link_freep) KernelLink *l = NULL;
        int r, one = 1;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        if (cb)
                l->cb = *cb;
        l->userdata = userdata;

        r = connect_sock(&l->req);
        if (r < 0)
                return r;
        /* libnl would add NLM_F_ACK to every request; then a stray ack after
         * a reply would be read by the next request as a sequence error.
         * Only DEV_SET asks for an ack. */
        nl_socket_disable_auto_ack(l->req);
        /* ask for extended acks so a refusal carries the kernel's reason */
        (void) setsockopt(nl_socket_get_fd(l->req), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));

        r = genl_ctrl_resolve(l->req, RVMSI_FAMILY_NAME);
        if (r == -NLE_OBJ_NOTFOUND)
                return -EPROTONOSUPPORT;
        if (r < 0)
                return kmsg_errno(r);
        l->family = r;

        r = genl_ctrl_resolve_grp(l->req, RVMSI_FAMILY_NAME, RVMSI_MCGRP_EVENTS);
        if (r < 0)
                return r == -NLE_OBJ_NOTFOUND ? -ENOENT : kmsg_errno(r);
        l->group = r;

        if (events) {
                r = connect_sock(&l->ntf);
                if (r < 0)
                        return r;
                /* multicast messages carry no sequence numbers of ours */
                nl_socket_disable_seq_check(l->ntf);
                r = nl_socket_modify_cb(l->ntf, NL_CB_VALID, NL_CB_CUSTOM, on_event_valid, l);
                if (r < 0)
                        return kmsg_errno(r);
                r = nl_socket_set_nonblocking(l->ntf);
                if (r < 0)
                        return kmsg_errno(r);
                /* bursts of affinity events after a CPU hotplug are large */
                (void) nl_socket_set_buffer_size(l->ntf, 4 * 1024 * 1024, 0);
                r = nl_socket_add_membership(l->ntf, l->group);
                if (r < 0)
                        return kmsg_errno(r);
        }

        *ret = TAKE_PTR(l);
        return 0;
}

typedef struct Collect {
        KernelHost *host;
        bool got_host;
        KernelDevice *devs;
        size_t n, allocated;
        int error;              /* first parse error */
        int ack_errno;          /* from the netlink error message */
        char *ack_msg;
} Collect;

static int on_host_valid(struct nl_msg *msg, void *arg) {
        Collect *c = arg;
        int r;

        r = kmsg_parse_host(nlmsg_hdr(msg), c->host);
        if (r < 0 && c->error == 0)
                c->error = r;
        if (r >= 0)
                c->got_host = true;
        return NL_OK;
}

static int on_dev_valid(struct nl_msg *msg, void *arg) {
        Collect *c = arg;
        KernelDevice d;
        int r;

        r = kmsg_parse_dev(nlmsg_hdr(msg), &d);
        if (r < 0) {
                if (c->error == 0)
                        c->error = r;
                return NL_OK;
        }
        /* A device with more entries than one message holds continues in
         * the next messages, each with its name. */
        if (c->n > 0 && streq(c->devs[c->n - 1].name, d.name)) {
                r = kmsg_dev_append(&c->devs[c->n - 1], &d);
                if (r < 0) {
                        kernel_device_done(&d);
                        if (c->error == 0)
                                c->error = r;
                }
                return NL_OK;
        }
        if (c->n == c->allocated) {
                size_t na = c->allocated ? c->allocated * 2 : 16;
                KernelDevice *nd = realloc(c->devs, na * sizeof(KernelDevice));

                if (!nd) {
                        kernel_device_done(&d);
                        c->error = -ENOMEM;
                        return NL_STOP;
                }
                c->devs = nd;
                c->allocated = na;
        }
        c->devs[c->n++] = d;
        return NL_OK;
}

/* The ack's errno is exact (libnl folds it into an NLE code otherwise); the
 * extended ack message, if any, follows the echoed request. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg) {
        Collect *c = arg;
        struct nlmsghdr *nlh = (struct nlmsghdr *) ((char *) err - NLMSG_HDRLEN);

        c->ack_errno = err->error;
        if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(*err)) {
                size_t off = sizeof(*err);
                struct nlattr *a;
                int rem;

                if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                        off += err->msg.nlmsg_len - NLMSG_HDRLEN;
                if (NLMSG_HDRLEN + off < nlh->nlmsg_len)
                        nla_for_each_attr(a, (struct nlattr *) ((char *) err + off),
                                          (int) (nlh->nlmsg_len - NLMSG_HDRLEN - off), rem)
                                if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0 &&
                                    ((char *) nla_data(a))[nla_len(a) - 1] == 0 && !c->ack_msg)
                                        c->ack_msg = strdup(nla_data(a));
        }
        return NL_STOP;
}

/* A dump that failed says so in its NLMSG_DONE: an errno after the header. */
static int on_finish(struct nl_msg *msg, void *arg) {
        Collect *c = arg;
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        int err;

        if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(err)) {
                memcpy(&err, nlmsg_data(nlh), sizeof(err));
                if (err < 0)
                        c->ack_errno = err;
        }
        return NL_STOP;
}

static int transact(KernelLink *l, struct nl_msg *msg, nl_recvmsg_msg_cb_t valid, Collect *c) {
        struct nl_cb *cb;
        int r;

        cb = nl_cb_clone(nl_socket_get_cb(l->req));
        if (!cb)
                return -ENOMEM;
        if (valid)
                nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, c);
        nl_cb_err(cb, NL_CB_CUSTOM, on_error, c);
        nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, c);

        /* One request, one answer: a reply (HOST_GET), a multi-part dump
         * ending in DONE (DEV_GET), or an ack (DEV_SET asks for one
         * explicitly); nl_recvmsgs() returns after it. A dump interrupted
         * by a change comes back as -NLE_DUMP_INTR. */
        r = nl_send_auto(l->req, msg);
        if (r >= 0)
                r = nl_recvmsgs(l->req, cb);
        nl_cb_put(cb);

        if (c->ack_errno < 0)
                return c->ack_errno;
        if (r == -NLE_DUMP_INTR)
                return -EINTR;
        if (r < 0)
                return kmsg_errno(r);
        return c->error;
}

int kernel_link_host_get(KernelLink *l, KernelHost *ret) {
        _cleanup_nlmsg_ struct nl_msg *msg = NULL;
        KernelHost h = {};
        Collect c = { .host = &h };
        int r;

        msg = nlmsg_alloc();
        if (!msg)
                return -ENOMEM;
        r = kmsg_build_host_get(msg, l->family);
        if (r < 0)
                return r;
        r = transact(l, msg, on_host_valid, &c);
        free(c.ack_msg);
        if (r < 0)
                return r;
        if (!c.got_host)
                return -ENODATA;
        *ret = h;
        return 0;
}

static void collect_done(Collect *c) {
        for (size_t i = 0; i < c->n; i++)
                kernel_device_done(&c->devs[i]);
        free(c->devs);
        free(c->ack_msg);
        *c = (Collect) {};
}

/* DEV_GET for one device (name) or all (NULL): every answer collected in c. */
static int request_devices(KernelLink *l, const char *name, Collect *c) {
        _cleanup_nlmsg_ struct nl_msg *msg = NULL;
        int r;

        msg = nlmsg_alloc();
        if (!msg)
                return -ENOMEM;
        r = kmsg_build_dev_get(msg, l->family, name);
        if (r < 0)
                return r;
        r = transact(l, msg, on_dev_valid, c);
        if (r < 0)
                return r;
        /* Entries that do not add up to the count were read across a
         * change: as good as an interrupted dump. */
        for (size_t i = 0; i < c->n; i++)
                if (!kmsg_dev_complete(&c->devs[i]))
                        return -EINTR;
        return 0;
}

/* A dump of one device (name) or all (NULL), done again while it changes
 * under us, up to DUMP_ATTEMPTS times; the next resync tries again. */
static int get_devices(KernelLink *l, const char *name, KernelDevice **ret, size_t *ret_n) {
        for (unsigned attempt = 0; attempt < DUMP_ATTEMPTS; attempt++) {
                Collect c = {};
                int r;

                r = request_devices(l, name, &c);
                if (r == -EINTR) {
                        collect_done(&c);
                        continue;
                }
                if (r < 0) {
                        collect_done(&c);
                        return r;
                }
                free(c.ack_msg);
                *ret = c.devs;
                *ret_n = c.n;
                return 0;
        }
        return -EAGAIN;
}

int kernel_link_dump(KernelLink *l, KernelDevice **ret, size_t *ret_n) {
        return get_devices(l, NULL, ret, ret_n);
}

int kernel_link_dev_get(KernelLink *l, const char *name, KernelDevice *ret) {
        KernelDevice *devs = NULL;
        size_t n = 0;
        int r;

        if (!name)
                return -EINVAL;
        r = get_devices(l, name, &devs, &n);
        if (r < 0)
                return r;
        /* The dump of one device has exactly that device; anything else is
         * a kernel we do not understand, not a device to guess at. */
        if (n != 1 || !streq(devs[0].name, name)) {
                for (size_t i = 0; i < n; i++)
                        kernel_device_done(&devs[i]);
                free(devs);
                return n == 0 ? -ENODEV : -EPROTO;
        }
        *ret = devs[0];
        free(devs);
        return 0;
}

int kernel_link_dev_set(KernelLink *l, const char *name, int mode, int locked, char **ret_msg) {
        _cleanup_nlmsg_ struct nl_msg *msg = NULL;
        Collect c = {};
        int r;

        msg = nlmsg_alloc();
        if (!msg)
                return -ENOMEM;
        r = kmsg_build_dev_set(msg, l->family, name, mode, locked);
        if (r < 0)
                return r;
        r = transact(l, msg, NULL, &c);
        if (ret_msg)
                *ret_msg = TAKE_PTR(c.ack_msg);
        free(c.ack_msg);
        return r;
}
