/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsi generic netlink messages: builders and strict parsers. See
 * backend-kernel-msg.h for the contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rvmsi.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/genl/genl.h>

#include "backend-kernel-msg.h"

void kernel_device_done(KernelDevice *d) {
        if (!d)
                return;
        free(d->entries);
        *d = (KernelDevice) {};
}

int kmsg_errno(int nle) {
        if (nle >= 0)
                return nle;

        /* libnl folds many errnos into a few NLE codes; map each back to
         * the errno that describes it best. ENOBUFS from the socket comes
         * back as NLE_NOMEM, which callers of the notification socket treat
         * as overflow themselves. */
        switch (-nle) {
        case NLE_INTR:                  return -EINTR;
        case NLE_BAD_SOCK:              return -EBADF;
        case NLE_AGAIN:                 return -EAGAIN;
        case NLE_NOMEM:                 return -ENOMEM;
        case NLE_EXIST:                 return -EEXIST;
        case NLE_INVAL:                 return -EINVAL;
        case NLE_RANGE:                 return -ERANGE;
        case NLE_MSGSIZE:               return -EMSGSIZE;
        case NLE_OPNOTSUPP:             return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:          return -EAFNOSUPPORT;
        case NLE_OBJ_NOTFOUND:          return -ENOENT;
        case NLE_NOATTR:                return -ENODATA;
        case NLE_MISSING_ATTR:          return -EBADMSG;
        case NLE_AF_MISMATCH:           return -EAFNOSUPPORT;
        case NLE_SEQ_MISMATCH:          return -EILSEQ;
        case NLE_MSG_OVERFLOW:          return -EOVERFLOW;
        case NLE_MSG_TRUNC:             return -EMSGSIZE;
        case NLE_NOADDR:                return -EADDRNOTAVAIL;
        case NLE_MSG_TOOSHORT:          return -EBADMSG;
        case NLE_MSGTYPE_NOSUPPORT:     return -EOPNOTSUPP;
        case NLE_BUSY:                  return -EBUSY;
        case NLE_PROTO_MISMATCH:        return -EPROTONOSUPPORT;
        case NLE_NOACCESS:              return -EACCES;
        case NLE_PERM:                  return -EPERM;
        case NLE_PARSE_ERR:             return -EBADMSG;
        case NLE_NODEV:                 return -ENODEV;
        case NLE_IMMUTABLE:             return -EROFS;
        case NLE_DUMP_INTR:             return -EINTR;
        case NLE_ATTRSIZE:              return -EBADMSG;
        default:                        return -EIO;
        }
}

bool kmsg_dev_name_valid(const char *name) {
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n == 0 || n >= KMSG_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];

                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                      (c >= 'A' && c <= 'Z') || c == ':' || c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

static int put_header(struct nl_msg *msg, int family, int flags, uint8_t cmd) {
        if (family <= 0)
                return -EINVAL;
        if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd, RVMSI_FAMILY_VERSION))
                return -EMSGSIZE;
        return 0;
}

int kmsg_build_host_get(struct nl_msg *msg, int family) {
        return put_header(msg, family, 0, RVMSI_CMD_HOST_GET);
}

int kmsg_build_dev_get(struct nl_msg *msg, int family, const char *name) {
        int r;

        if (name && !kmsg_dev_name_valid(name))
                return -EINVAL;
        r = put_header(msg, family, NLM_F_DUMP, RVMSI_CMD_DEV_GET);
        if (r < 0)
                return r;
        if (name)
                return kmsg_errno(nla_put_string(msg, RVMSI_A_DEV_NAME, name));
        return 0;
}

int kmsg_build_dev_set(struct nl_msg *msg, int family, const char *name, int mode, int locked) {
        int r;

        if (!kmsg_dev_name_valid(name))
                return -EINVAL;
        if (mode < 0 && locked < 0)
                return -EINVAL;
        /* OFF is reported by the kernel, never set (uAPI). */
        if (mode >= 0 && (mode <= IOMMU_RVMSI_MODE_OFF || mode > IOMMU_RVMSI_MODE_GUEST_FILE))
                return -EINVAL;
        if (locked > 1)
                return -EINVAL;

        r = put_header(msg, family, NLM_F_ACK, RVMSI_CMD_DEV_SET);
        if (r < 0)
                return r;
        r = kmsg_errno(nla_put_string(msg, RVMSI_A_DEV_NAME, name));
        if (r < 0)
                return r;
        if (mode >= 0) {
                r = kmsg_errno(nla_put_u32(msg, RVMSI_A_DEV_MODE, (uint32_t) mode));
                if (r < 0)
                        return r;
        }
        if (locked >= 0) {
                r = kmsg_errno(nla_put_u8(msg, RVMSI_A_DEV_LOCKED, (uint8_t) locked));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Attribute readers that insist on the exact size: libnl's policy check
 * only enforces a minimum, and a u64 where a u32 belongs is a broken
 * message, not a u32 with padding. */
static int attr_u8(const struct nlattr *a, uint8_t *ret) {
        if (nla_len(a) != sizeof(uint8_t))
                return -EBADMSG;
        *ret = nla_get_u8((struct nlattr *) a);
        return 0;
}

static int attr_u32(const struct nlattr *a, uint32_t *ret) {
        if (nla_len(a) != sizeof(uint32_t))
                return -EBADMSG;
        *ret = nla_get_u32((struct nlattr *) a);
        return 0;
}

static int attr_s32(const struct nlattr *a, int32_t *ret) {
        uint32_t v;
        int r;

        r = attr_u32(a, &v);
        if (r < 0)
                return r;
        memcpy(ret, &v, sizeof(v));
        return 0;
}

static int attr_u64(const struct nlattr *a, uint64_t *ret) {
        if (nla_len(a) != sizeof(uint64_t))
                return -EBADMSG;
        *ret = nla_get_u64((struct nlattr *) a);
        return 0;
}

/* A string attribute: NUL-terminated inside its payload, no NUL before the
 * end, fits the buffer. allow_empty is for FAULT_DEV_NAME. */
static int attr_string(const struct nlattr *a, char *buf, size_t size, bool allow_empty) {
        const char *s = nla_data(a);
        int len = nla_len(a);

        if (len < 1 || s[len - 1] != '\0')
                return -EBADMSG;
        if (strlen(s) != (size_t) len - 1)
                return -EBADMSG;
        if ((size_t) len > size)
                return -EBADMSG;
        if (len == 1 && !allow_empty)
                return -EBADMSG;
        memcpy(buf, s, len);
        return 0;
}

int kmsg_get_cmd(const struct nlmsghdr *nlh, uint8_t *ret_cmd) {
        const struct genlmsghdr *g;

        if (!genlmsg_valid_hdr((struct nlmsghdr *) nlh, 0))
                return -EBADMSG;
        g = nlmsg_data(nlh);
        *ret_cmd = g->cmd;
        return 0;
}

/* libnl's parser stops quietly at an attribute whose length runs past the
 * end of its container and only logs the leftover bytes. For us that is a
 * truncated message: an entry silently lost would read as "blocked". */
static bool attrs_complete(const struct nlattr *head, int len) {
        const struct nlattr *a;
        int rem;

        nla_for_each_attr(a, head, len, rem)
                if (nla_type(a) == RVMSI_A_DEV_ENTRY && nla_len(a) > 0 &&
                    !attrs_complete(nla_data(a), nla_len(a)))
                        return false;
        return rem == 0;
}

static int parse_attrs(const struct nlmsghdr *nlh, uint8_t want_cmd, struct nlattr **tb, int maxtype,
                       const struct nla_policy *policy) {
        uint8_t cmd;
        int r;

        r = kmsg_get_cmd(nlh, &cmd);
        if (r < 0)
                return r;
        if (cmd != want_cmd)
                return -EPROTO;
        if (!attrs_complete(genlmsg_attrdata(nlmsg_data(nlh), 0), genlmsg_attrlen(nlmsg_data(nlh), 0)))
                return -EBADMSG;
        r = genlmsg_parse((struct nlmsghdr *) nlh, 0, tb, maxtype, (struct nla_policy *) policy);
        if (r < 0)
                return r == -NLE_NOMEM ? -ENOMEM : -EBADMSG;
        return 0;
}

static const struct nla_policy host_policy[RVMSI_A_HOST_MAX + 1] = {
        [RVMSI_A_HOST_NR_GROUPS]      = { .type = NLA_U32 },
        [RVMSI_A_HOST_NR_HARTS]       = { .type = NLA_U32 },
        [RVMSI_A_HOST_NR_GUEST_FILES] = { .type = NLA_U32 },
        [RVMSI_A_HOST_NR_IDS]         = { .type = NLA_U32 },
        [RVMSI_A_HOST_NR_DEVICES]     = { .type = NLA_U32 },
};

int kmsg_parse_host(const struct nlmsghdr *nlh, KernelHost *ret) {
        struct nlattr *tb[RVMSI_A_HOST_MAX + 1] = {};
        KernelHost h = {};
        int r;

        r = parse_attrs(nlh, RVMSI_CMD_HOST_GET, tb, RVMSI_A_HOST_MAX, host_policy);
        if (r < 0)
                return r;

        /* All geometry attributes are mandatory: a daemon guessing the
         * geometry would make wrong decisions, silently. */
        for (int i = RVMSI_A_HOST_NR_GROUPS; i <= RVMSI_A_HOST_NR_IDS; i++)
                if (!tb[i])
                        return -EBADMSG;
        if (attr_u32(tb[RVMSI_A_HOST_NR_GROUPS], &h.nr_groups) < 0 ||
            attr_u32(tb[RVMSI_A_HOST_NR_HARTS], &h.nr_harts) < 0 ||
            attr_u32(tb[RVMSI_A_HOST_NR_GUEST_FILES], &h.nr_guest_files) < 0 ||
            attr_u32(tb[RVMSI_A_HOST_NR_IDS], &h.nr_ids) < 0)
                return -EBADMSG;
        if (tb[RVMSI_A_HOST_NR_DEVICES] && attr_u32(tb[RVMSI_A_HOST_NR_DEVICES], &h.nr_devices) < 0)
                return -EBADMSG;
        if (h.nr_groups == 0 || h.nr_harts == 0)
                return -EBADMSG;

        *ret = h;
        return 0;
}

static const struct nla_policy entry_policy[RVMSI_A_ENTRY_MAX + 1] = {
        [RVMSI_A_ENTRY_INDEX]    = { .type = NLA_U32 },
        [RVMSI_A_ENTRY_KIND]     = { .type = NLA_U32 },
        [RVMSI_A_ENTRY_GROUP]    = { .type = NLA_U32 },
        [RVMSI_A_ENTRY_HART]     = { .type = NLA_U32 },
        [RVMSI_A_ENTRY_GUEST]    = { .type = NLA_U32 },
        [RVMSI_A_ENTRY_CPU]      = { .type = NLA_U32 },
        [RVMSI_A_ENTRY_REFCOUNT] = { .type = NLA_U32 },
        [RVMSI_A_ENTRY_NOTICES]  = { .type = NLA_U64 },
};

static int parse_entry(const struct nlattr *nest, KernelEntry *ret) {
        struct nlattr *tb[RVMSI_A_ENTRY_MAX + 1] = {};
        KernelEntry e = { .cpu = -1 };
        int r;

        r = nla_parse_nested(tb, RVMSI_A_ENTRY_MAX, (struct nlattr *) nest, (struct nla_policy *) entry_policy);
        if (r < 0)
                return -EBADMSG;
        if (!tb[RVMSI_A_ENTRY_INDEX] || !tb[RVMSI_A_ENTRY_KIND])
                return -EBADMSG;
        if (attr_u32(tb[RVMSI_A_ENTRY_INDEX], &e.index) < 0 ||
            attr_u32(tb[RVMSI_A_ENTRY_KIND], &e.kind) < 0)
                return -EBADMSG;
        if (e.kind > IOMMU_RVMSI_ENTRY_MRIF)
                return -EBADMSG;
        if ((tb[RVMSI_A_ENTRY_GROUP] && attr_u32(tb[RVMSI_A_ENTRY_GROUP], &e.group) < 0) ||
            (tb[RVMSI_A_ENTRY_HART] && attr_u32(tb[RVMSI_A_ENTRY_HART], &e.hart) < 0) ||
            (tb[RVMSI_A_ENTRY_GUEST] && attr_u32(tb[RVMSI_A_ENTRY_GUEST], &e.guest) < 0) ||
            (tb[RVMSI_A_ENTRY_CPU] && attr_s32(tb[RVMSI_A_ENTRY_CPU], &e.cpu) < 0) ||
            (tb[RVMSI_A_ENTRY_REFCOUNT] && attr_u32(tb[RVMSI_A_ENTRY_REFCOUNT], &e.refcount) < 0) ||
            (tb[RVMSI_A_ENTRY_NOTICES] && attr_u64(tb[RVMSI_A_ENTRY_NOTICES], &e.notices) < 0))
                return -EBADMSG;
        /* Which file an entry covers is what the daemon reasons about. */
        if (!tb[RVMSI_A_ENTRY_GROUP] || !tb[RVMSI_A_ENTRY_HART] || !tb[RVMSI_A_ENTRY_GUEST])
                return -EBADMSG;
        if (e.cpu < -1)
                return -EBADMSG;

        *ret = e;
        return 0;
}

static const struct nla_policy dev_policy[RVMSI_A_DEV_MAX + 1] = {
        [RVMSI_A_DEV_NAME]       = { .type = NLA_STRING, .maxlen = KMSG_NAME_MAX },
        [RVMSI_A_DEV_RID]        = { .type = NLA_U32 },
        [RVMSI_A_DEV_IOMMU]      = { .type = NLA_STRING, .maxlen = KMSG_NAME_MAX },
        [RVMSI_A_DEV_CAPS]       = { .type = NLA_U64 },
        [RVMSI_A_DEV_MODE]       = { .type = NLA_U32 },
        [RVMSI_A_DEV_ISOLATION]  = { .type = NLA_U32 },
        [RVMSI_A_DEV_LOCKED]     = { .type = NLA_U8 },
        [RVMSI_A_DEV_USER_BOUND] = { .type = NLA_U8 },
        [RVMSI_A_DEV_NR_ENTRIES] = { .type = NLA_U32 },
        [RVMSI_A_DEV_NR_IRQS]    = { .type = NLA_U32 },
        [RVMSI_A_DEV_ENTRY]      = { .type = NLA_NESTED },
        [RVMSI_A_DEV_REASON]     = { .type = NLA_U32 },
        [RVMSI_A_DEV_EVENT_SEQ]  = { .type = NLA_U32 },
        [RVMSI_A_DEV_NR_VALID]   = { .type = NLA_U32 },
        [RVMSI_A_DEV_ENTRIES_OMITTED] = { .type = NLA_FLAG },
        [RVMSI_A_DEV_TABLE_USERS] = { .type = NLA_U32 },
};

static int entry_cmp(const void *a, const void *b) {
        const KernelEntry *x = a, *y = b;

        return x->index < y->index ? -1 : x->index > y->index;
}

int kmsg_parse_dev(const struct nlmsghdr *nlh, KernelDevice *ret) {
        struct nlattr *tb[RVMSI_A_DEV_MAX + 1] = {};
        KernelDevice d = {};
        struct nlattr *a;
        uint8_t cmd, u8;
        size_t n = 0;
        int r, rem;

        r = kmsg_get_cmd(nlh, &cmd);
        if (r < 0)
                return r;
        if (cmd != RVMSI_CMD_DEV_GET && cmd != RVMSI_CMD_ENTRY_NTF)
                return -EPROTO;
        r = parse_attrs(nlh, cmd, tb, RVMSI_A_DEV_MAX, dev_policy);
        if (r < 0)
                return r;

        if (!tb[RVMSI_A_DEV_NAME] || !tb[RVMSI_A_DEV_MODE])
                return -EBADMSG;
        r = attr_string(tb[RVMSI_A_DEV_NAME], d.name, sizeof(d.name), false);
        if (r < 0)
                return r;
        if (!kmsg_dev_name_valid(d.name))
                return -EBADMSG;
        if (attr_u32(tb[RVMSI_A_DEV_MODE], &d.mode) < 0 || d.mode > IOMMU_RVMSI_MODE_GUEST_FILE)
                return -EBADMSG;
        if (tb[RVMSI_A_DEV_IOMMU] && attr_string(tb[RVMSI_A_DEV_IOMMU], d.iommu, sizeof(d.iommu), true) < 0)
                return -EBADMSG;
        if ((tb[RVMSI_A_DEV_RID] && attr_u32(tb[RVMSI_A_DEV_RID], &d.rid) < 0) ||
            (tb[RVMSI_A_DEV_CAPS] && attr_u64(tb[RVMSI_A_DEV_CAPS], &d.caps) < 0) ||
            (tb[RVMSI_A_DEV_NR_ENTRIES] && attr_u32(tb[RVMSI_A_DEV_NR_ENTRIES], &d.nr_entries) < 0) ||
            (tb[RVMSI_A_DEV_NR_IRQS] && attr_u32(tb[RVMSI_A_DEV_NR_IRQS], &d.nr_irqs) < 0) ||
            (tb[RVMSI_A_DEV_TABLE_USERS] && attr_u32(tb[RVMSI_A_DEV_TABLE_USERS], &d.table_users) < 0))
                return -EBADMSG;
        if (tb[RVMSI_A_DEV_ISOLATION]) {
                if (attr_u32(tb[RVMSI_A_DEV_ISOLATION], &d.isolation) < 0 ||
                    d.isolation > IOMMU_RVMSI_ISOLATION_LOCKED)
                        return -EBADMSG;
        }
        if (tb[RVMSI_A_DEV_LOCKED]) {
                if (attr_u8(tb[RVMSI_A_DEV_LOCKED], &u8) < 0 || u8 > 1)
                        return -EBADMSG;
                d.locked = u8;
        }
        if (tb[RVMSI_A_DEV_USER_BOUND]) {
                if (attr_u8(tb[RVMSI_A_DEV_USER_BOUND], &u8) < 0 || u8 > 1)
                        return -EBADMSG;
                d.user_bound = u8;
        }
        if (tb[RVMSI_A_DEV_REASON]) {
                if (attr_u32(tb[RVMSI_A_DEV_REASON], &d.reason) < 0 ||
                    d.reason < RVMSI_REASON_IRQ_ALLOC || d.reason > RVMSI_REASON_DEV_GONE)
                        return -EBADMSG;
        } else if (cmd == RVMSI_CMD_ENTRY_NTF)
                return -EBADMSG;        /* an event must say why */
        if (tb[RVMSI_A_DEV_EVENT_SEQ]) {
                if (cmd != RVMSI_CMD_ENTRY_NTF || attr_u32(tb[RVMSI_A_DEV_EVENT_SEQ], &d.event_seq) < 0)
                        return -EBADMSG;
                d.has_event_seq = true;
        }

        if (tb[RVMSI_A_DEV_NR_VALID]) {
                if (attr_u32(tb[RVMSI_A_DEV_NR_VALID], &d.nr_valid) < 0)
                        return -EBADMSG;
                d.has_nr_valid = true;
        }
        if (tb[RVMSI_A_DEV_ENTRIES_OMITTED]) {
                if (cmd != RVMSI_CMD_ENTRY_NTF)
                        return -EBADMSG;
                d.entries_omitted = true;
        }

        /* RVMSI_A_DEV_ENTRY is multi-attr: genlmsg_parse kept only the last
         * one, so walk the attribute stream for all of them. */
        nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0), genlmsg_attrlen(nlmsg_data(nlh), 0), rem)
                if (nla_type(a) == RVMSI_A_DEV_ENTRY)
                        n++;
        if (n > 0) {
                size_t i = 0;

                if ((d.nr_entries > 0 && n > d.nr_entries) || d.entries_omitted)
                        return -EBADMSG;
                d.entries = calloc(n, sizeof(KernelEntry));
                if (!d.entries)
                        return -ENOMEM;
                nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0), genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
                        if (nla_type(a) != RVMSI_A_DEV_ENTRY)
                                continue;
                        r = parse_entry(a, &d.entries[i]);
                        if (r < 0) {
                                kernel_device_done(&d);
                                return r;
                        }
                        if (d.nr_entries > 0 && d.entries[i].index >= d.nr_entries) {
                                kernel_device_done(&d);
                                return -EBADMSG;
                        }
                        i++;
                }
                d.n_entries = i;
                qsort(d.entries, d.n_entries, sizeof(KernelEntry), entry_cmp);
                for (size_t j = 1; j < d.n_entries; j++)
                        if (d.entries[j].index == d.entries[j - 1].index) {
                                kernel_device_done(&d);
                                return -EBADMSG;
                        }
        }

        *ret = d;
        return 0;
}

int kmsg_dev_append(KernelDevice *d, KernelDevice *part) {
        KernelEntry *e;

        if (strcmp(d->name, part->name) != 0)
                return -EBADMSG;
        if (part->n_entries == 0)
                goto done;
        if (d->n_entries > 0 && part->entries[0].index <= d->entries[d->n_entries - 1].index)
                return -EBADMSG;
        e = reallocarray(d->entries, d->n_entries + part->n_entries, sizeof(KernelEntry));
        if (!e)
                return -ENOMEM;
        memcpy(e + d->n_entries, part->entries, part->n_entries * sizeof(KernelEntry));
        d->entries = e;
        d->n_entries += part->n_entries;
done:
        kernel_device_done(part);
        return 0;
}

bool kmsg_dev_complete(const KernelDevice *d) {
        return !d->has_nr_valid || d->n_entries == d->nr_valid;
}

static const struct nla_policy fault_policy[RVMSI_A_FAULT_MAX + 1] = {
        [RVMSI_A_FAULT_DEV_NAME]   = { .type = NLA_STRING, .maxlen = KMSG_NAME_MAX },
        [RVMSI_A_FAULT_RID]        = { .type = NLA_U32 },
        [RVMSI_A_FAULT_CAUSE]      = { .type = NLA_U32 },
        [RVMSI_A_FAULT_TTYP]       = { .type = NLA_U32 },
        [RVMSI_A_FAULT_ADDR]       = { .type = NLA_U64 },
        [RVMSI_A_FAULT_GROUP]      = { .type = NLA_U32 },
        [RVMSI_A_FAULT_HART]       = { .type = NLA_U32 },
        [RVMSI_A_FAULT_GUEST]      = { .type = NLA_U32 },
        [RVMSI_A_FAULT_SUPPRESSED] = { .type = NLA_U32 },
        [RVMSI_A_FAULT_EVENT_SEQ]  = { .type = NLA_U32 },
};

int kmsg_parse_fault(const struct nlmsghdr *nlh, KernelFault *ret) {
        struct nlattr *tb[RVMSI_A_FAULT_MAX + 1] = {};
        KernelFault f = {};
        int r, nfile;

        r = parse_attrs(nlh, RVMSI_CMD_FAULT_NTF, tb, RVMSI_A_FAULT_MAX, fault_policy);
        if (r < 0)
                return r;

        if (!tb[RVMSI_A_FAULT_CAUSE] || !tb[RVMSI_A_FAULT_ADDR] || !tb[RVMSI_A_FAULT_RID])
                return -EBADMSG;
        if (attr_u32(tb[RVMSI_A_FAULT_CAUSE], &f.cause) < 0 ||
            attr_u64(tb[RVMSI_A_FAULT_ADDR], &f.addr) < 0 ||
            attr_u32(tb[RVMSI_A_FAULT_RID], &f.rid) < 0)
                return -EBADMSG;
        switch (f.cause) {
        case RVMSI_FAULT_MSI_PTE_LOAD_ACCESS:
        case RVMSI_FAULT_MSI_PTE_INVALID:
        case RVMSI_FAULT_MSI_PTE_MISCONFIGURED:
        case RVMSI_FAULT_MRIF_ACCESS:
        case RVMSI_FAULT_MSI_PT_CORRUPTION:
        case RVMSI_FAULT_MRIF_CORRUPTION:
        /* The uAPI lists it, so it parses; it names no device, which the manager knows (record_fault()). */
        case RVMSI_FAULT_MSI_WRITE_ACCESS:
                break;
        default:
                return -EBADMSG;
        }
        if (tb[RVMSI_A_FAULT_DEV_NAME]) {
                r = attr_string(tb[RVMSI_A_FAULT_DEV_NAME], f.dev_name, sizeof(f.dev_name), true);
                if (r < 0)
                        return r;
                if (f.dev_name[0] && !kmsg_dev_name_valid(f.dev_name))
                        return -EBADMSG;
        }
        if ((tb[RVMSI_A_FAULT_TTYP] && attr_u32(tb[RVMSI_A_FAULT_TTYP], &f.ttyp) < 0) ||
            (tb[RVMSI_A_FAULT_SUPPRESSED] && attr_u32(tb[RVMSI_A_FAULT_SUPPRESSED], &f.suppressed) < 0) ||
            (tb[RVMSI_A_FAULT_EVENT_SEQ] && attr_u32(tb[RVMSI_A_FAULT_EVENT_SEQ], &f.event_seq) < 0))
                return -EBADMSG;
        f.has_event_seq = tb[RVMSI_A_FAULT_EVENT_SEQ] != NULL;

        /* The file is reported all together or not at all. */
        nfile = !!tb[RVMSI_A_FAULT_GROUP] + !!tb[RVMSI_A_FAULT_HART] + !!tb[RVMSI_A_FAULT_GUEST];
        if (nfile != 0 && nfile != 3)
                return -EBADMSG;
        if (nfile == 3) {
                if (attr_u32(tb[RVMSI_A_FAULT_GROUP], &f.group) < 0 ||
                    attr_u32(tb[RVMSI_A_FAULT_HART], &f.hart) < 0 ||
                    attr_u32(tb[RVMSI_A_FAULT_GUEST], &f.guest) < 0)
                        return -EBADMSG;
                f.has_file = true;
        }

        *ret = f;
        return 0;
}

bool kmsg_event_seq_next(KernelEventSeq *s, bool has_seq, uint32_t seq) {
        bool continues;

        if (!has_seq)
                return true;
        /* Unsigned arithmetic: the counter wraps at 2^32. */
        continues = !s->known || seq == s->last + 1;
        s->known = true;
        s->last = seq;
        return continues;
}

void kmsg_event_seq_reset(KernelEventSeq *s) {
        s->known = false;
}
