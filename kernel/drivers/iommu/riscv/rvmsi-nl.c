// SPDX-License-Identifier: GPL-2.0-only
/*
 * rvmsi: the generic netlink family "rvmsi" for the host administrator.
 *
 * Specified in Documentation/netlink/specs/rvmsi.yaml, which user space
 * generates its library from. The policies, ops and family below are
 * written by hand after it, because the spec's two rules about access
 * cannot be generated (YNL, Linux 7.3): the family is not
 * namespace-aware, as the tables are the host's, and its "events" group
 * needs CAP_NET_ADMIN, because IRQ moves and MSI faults describe the
 * host's devices as they run. Reads (HOST_GET, DEV_GET do/dump) reveal only
 * geometry, modes and counts and are open to everyone in the initial
 * network namespace; DEV_SET needs CAP_NET_ADMIN. Events: ENTRY_NTF when a
 * device's entries change (with the reason) and FAULT_NTF for MSI fault
 * records.
 *
 * Size: a message carries at most RVMSI_NL_MAX_ENTRIES entries, and the
 * largest such message fits NLMSG_GOODSIZE (checked at build time). A
 * device with more valid entries is dumped as several messages, each a
 * snapshot of the next entries, and a dump that changes is flagged
 * NLM_F_DUMP_INTR; the do form refuses it with EMSGSIZE, and its ENTRY_NTF
 * says RVMSI_A_DEV_ENTRIES_OMITTED. No allocation depends on the size of
 * the table.
 *
 * Every event carries the family's event sequence number. The number is
 * taken before the message is built, so an event the kernel could not send
 * (no memory, too large, or dropped on purpose by the fail_rvmsi_event
 * fault injection) leaves a gap that a listener sees at the next event,
 * just as it sees ENOBUFS when its own socket overflowed. Either way it has
 * lost state and must dump again.
 */

#include <linux/fault-inject.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "rvmsi-nl.h"

enum {
	RVMSI_NLGRP_EVENTS,
};

static struct genl_family rvmsi_nl_family __ro_after_init;

/*
 * The largest attribute payload of an entry, of a device message: every
 * attribute of the "dev" set, whether a message has it or not. The u32s
 * of an entry: index, kind, group, hart, guest, cpu, refcount; of a
 * device: rid, mode, isolation, nr-entries, nr-irqs, nr-valid, reason,
 * event-seq.
 */
#define RVMSI_NL_ENTRY_SIZE						\
	(nla_total_size(0) +			/* the nest */		\
	 7 * nla_total_size(sizeof(u32)) +				\
	 nla_total_size_64bit(sizeof(u64)))	/* notices */
#define RVMSI_NL_DEV_SIZE(nr_ents)					\
	(2 * nla_total_size(64) +		/* name, iommu */	\
	 9 * nla_total_size(sizeof(u32)) +				\
	 nla_total_size_64bit(sizeof(u64)) +	/* caps */		\
	 2 * nla_total_size(sizeof(u8)) +				\
	 nla_total_size(0) +			/* entries-omitted */	\
	 (nr_ents) * RVMSI_NL_ENTRY_SIZE)

/* Events before the family is registered (early IRQ setup) are dropped. */
static bool rvmsi_nl_registered;

/*
 * The number of the last event the kernel meant to send. Events are built
 * on several CPUs at once (one work item per device, the fault queue's
 * thread); the lock keeps taking a number and sending its message together,
 * so that numbers reach the listeners in order and only a real loss looks
 * like a gap.
 */
static DEFINE_MUTEX(rvmsi_nl_event_lock);
static u32 rvmsi_nl_event_seq;

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static DECLARE_FAULT_ATTR(rvmsi_nl_fail_event);

static bool rvmsi_nl_drop_event(void)
{
	return should_fail(&rvmsi_nl_fail_event, 1);
}

static int __init rvmsi_nl_fail_event_init(void)
{
	return PTR_ERR_OR_ZERO(fault_create_debugfs_attr("fail_rvmsi_event",
							 NULL, &rvmsi_nl_fail_event));
}
late_initcall(rvmsi_nl_fail_event_init);
#else
static bool rvmsi_nl_drop_event(void)
{
	return false;
}
#endif

static int rvmsi_nl_put_entry(struct sk_buff *skb, const struct iommu_rvmsi_entry *e)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, RVMSI_A_DEV_ENTRY);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, RVMSI_A_ENTRY_INDEX, e->index) ||
	    nla_put_u32(skb, RVMSI_A_ENTRY_KIND, e->kind) ||
	    nla_put_u32(skb, RVMSI_A_ENTRY_GROUP, e->group) ||
	    nla_put_u32(skb, RVMSI_A_ENTRY_HART, e->hart) ||
	    nla_put_u32(skb, RVMSI_A_ENTRY_GUEST, e->guest) ||
	    nla_put_s32(skb, RVMSI_A_ENTRY_CPU, e->cpu) ||
	    nla_put_u32(skb, RVMSI_A_ENTRY_REFCOUNT, e->refcount) ||
	    nla_put_u64_64bit(skb, RVMSI_A_ENTRY_NOTICES, e->notices, 0)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * The "dev" set: everything for DEV_GET, the event subset with the reason
 * for ENTRY_NTF (@reason != 0). An event whose entries do not all fit
 * carries none of them (ENTRIES_OMITTED).
 */
static int rvmsi_nl_fill_dev(struct sk_buff *skb, const struct rvmsi_snapshot *s,
			     u32 reason)
{
	bool omit = reason && s->more;
	u32 i;

	BUILD_BUG_ON(nlmsg_total_size(GENL_HDRLEN +
				      RVMSI_NL_DEV_SIZE(RVMSI_NL_MAX_ENTRIES)) >
		     NLMSG_GOODSIZE);
	BUILD_BUG_ON(ARRAY_SIZE(s->ents) != RVMSI_NL_MAX_ENTRIES);

	if (nla_put_string(skb, RVMSI_A_DEV_NAME, s->name) ||
	    nla_put_u32(skb, RVMSI_A_DEV_RID, s->rid) ||
	    nla_put_u32(skb, RVMSI_A_DEV_MODE, s->mode) ||
	    nla_put_u32(skb, RVMSI_A_DEV_ISOLATION, s->isolation) ||
	    nla_put_u32(skb, RVMSI_A_DEV_NR_VALID, s->nr_valid))
		return -EMSGSIZE;
	if (reason) {
		if (nla_put_u32(skb, RVMSI_A_DEV_REASON, reason) ||
		    (omit && nla_put_flag(skb, RVMSI_A_DEV_ENTRIES_OMITTED)))
			return -EMSGSIZE;
	} else if (nla_put_string(skb, RVMSI_A_DEV_IOMMU, s->iommu) ||
		   nla_put_u64_64bit(skb, RVMSI_A_DEV_CAPS, s->caps, 0) ||
		   nla_put_u8(skb, RVMSI_A_DEV_LOCKED, s->locked) ||
		   nla_put_u8(skb, RVMSI_A_DEV_USER_BOUND, s->user_bound) ||
		   nla_put_u32(skb, RVMSI_A_DEV_NR_ENTRIES, s->nr_entries) ||
		   nla_put_u32(skb, RVMSI_A_DEV_NR_IRQS, s->nr_irqs) ||
		   nla_put_u32(skb, RVMSI_A_DEV_TABLE_USERS, s->table_users)) {
		return -EMSGSIZE;
	}
	for (i = 0; i < s->nr_ents && !omit; i++)
		if (rvmsi_nl_put_entry(skb, &s->ents[i]))
			return -EMSGSIZE;
	return 0;
}

static int rvmsi_nl_host_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct rvmsi_host host;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	ret = rvmsi_host_get(&host);
	if (ret) {
		NL_SET_ERR_MSG(info->extack, "no IMSIC geometry usable for MSI page tables");
		return ret;
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_iput(msg, info);
	if (!hdr ||
	    nla_put_u32(msg, RVMSI_A_HOST_NR_GROUPS, host.nr_groups) ||
	    nla_put_u32(msg, RVMSI_A_HOST_NR_HARTS, host.nr_harts) ||
	    nla_put_u32(msg, RVMSI_A_HOST_NR_GUEST_FILES, host.nr_guest_files) ||
	    nla_put_u32(msg, RVMSI_A_HOST_NR_IDS, host.nr_ids) ||
	    nla_put_u32(msg, RVMSI_A_HOST_NR_DEVICES, host.nr_devices)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int rvmsi_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct rvmsi_snapshot *snap;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, RVMSI_A_DEV_NAME))
		return -EINVAL;
	snap = rvmsi_snapshot_get(nla_data(info->attrs[RVMSI_A_DEV_NAME]), 0, 0);
	if (IS_ERR(snap)) {
		if (PTR_ERR(snap) == -ENODEV)
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RVMSI_A_DEV_NAME],
					    "no such device with an MSI page table");
		return PTR_ERR(snap);
	}
	if (snap->more) {
		kfree(snap);
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RVMSI_A_DEV_NAME],
				    "more valid entries than one message holds: dump the device by name");
		return -EMSGSIZE;
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		kfree(snap);
		return -ENOMEM;
	}
	hdr = genlmsg_iput(msg, info);
	ret = hdr ? rvmsi_nl_fill_dev(msg, snap, 0) : -EMSGSIZE;
	kfree(snap);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* Where a DEV_GET dump stands between two calls, in cb->ctx. */
struct rvmsi_nl_dump_ctx {
	unsigned long pos;	/* position of the device in the list */
	u64 first;		/* the device's next entry index */
	bool done;		/* the one device asked for by name is sent */
};

/*
 * Every device, or the one named, as messages of at most
 * RVMSI_NL_MAX_ENTRIES entries each: a device with more continues in the
 * next message from the index after its last entry. The generation of the
 * entries is the dump's sequence, so a change between two calls marks the
 * messages NLM_F_DUMP_INTR.
 */
static int rvmsi_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct rvmsi_nl_dump_ctx *ctx = (void *)cb->ctx;
	const struct nlattr *name_attr = genl_info_dump(cb)->attrs[RVMSI_A_DEV_NAME];
	const char *name = name_attr ? nla_data(name_attr) : NULL;
	struct rvmsi_snapshot *snap;
	void *hdr;
	int ret = 0;

	NL_ASSERT_CTX_FITS(struct rvmsi_nl_dump_ctx);
	cb->seq = rvmsi_generation();
	while (!ctx->done) {
		snap = rvmsi_snapshot_get(name, ctx->pos, ctx->first);
		/* Past the last device, or the named one left in mid-dump: done. */
		if (PTR_ERR_OR_ZERO(snap) == -ENODEV && (!name || ctx->first))
			break;
		if (IS_ERR(snap)) {
			ret = PTR_ERR(snap);
			if (ret == -ENODEV)
				NL_SET_ERR_MSG_ATTR(cb->extack, name_attr,
						    "no such device with an MSI page table");
			break;
		}
		/* NLM_F_MULTI: the reader keeps reading up to NLMSG_DONE */
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &rvmsi_nl_family, NLM_F_MULTI, RVMSI_CMD_DEV_GET);
		if (!hdr) {
			kfree(snap);
			ret = -EMSGSIZE;
			break;
		}
		nl_dump_check_consistent(cb, genlmsg_nlhdr(hdr));
		ret = rvmsi_nl_fill_dev(skb, snap, 0);
		if (ret) {
			genlmsg_cancel(skb, hdr);
			kfree(snap);
			break;
		}
		genlmsg_end(skb, hdr);
		if (snap->more) {
			ctx->first = snap->ents[snap->nr_ents - 1].index + 1;
		} else {
			ctx->first = 0;
			ctx->pos++;
			ctx->done = !!name;
		}
		kfree(snap);
	}
	/* A full skb ends this call; anything else with nothing sent is an error. */
	if (ret && !skb->len)
		return ret;
	return skb->len;
}

static int rvmsi_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *mode_attr = info->attrs[RVMSI_A_DEV_MODE];
	struct nlattr *lock_attr = info->attrs[RVMSI_A_DEV_LOCKED];
	u32 mode;
	u8 lock;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, RVMSI_A_DEV_NAME))
		return -EINVAL;
	if (!mode_attr && !lock_attr) {
		NL_SET_ERR_MSG(info->extack, "nothing to set: need mode and/or locked");
		return -EINVAL;
	}
	if (mode_attr) {
		mode = nla_get_u32(mode_attr);
		if (mode > IOMMU_RVMSI_MODE_GUEST_FILE) {
			NL_SET_ERR_MSG_ATTR(info->extack, mode_attr, "unknown mode");
			return -EINVAL;
		}
	}
	if (lock_attr) {
		lock = nla_get_u8(lock_attr);
		if (lock > 1) {
			NL_SET_ERR_MSG_ATTR(info->extack, lock_attr, "locked is 0 or 1");
			return -EINVAL;
		}
	}

	ret = rvmsi_dev_set(nla_data(info->attrs[RVMSI_A_DEV_NAME]),
			    mode_attr ? &mode : NULL, lock_attr ? &lock : NULL);
	switch (ret) {
	case 0:
		break;
	case -ENODEV:
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RVMSI_A_DEV_NAME],
				    "no such device with an MSI page table");
		break;
	case -EINVAL:
	case -EOPNOTSUPP:
		NL_SET_ERR_MSG_ATTR(info->extack, mode_attr, "mode not supported");
		break;
	case -EPERM:
		NL_SET_ERR_MSG_ATTR(info->extack, mode_attr,
				    "identity delivery on a device with an isolation lock");
		break;
	case -EBUSY:
		NL_SET_ERR_MSG_ATTR(info->extack, lock_attr,
				    "isolation lock cannot change while the device is bound to a user");
		break;
	}
	return ret;
}

static void rvmsi_nl_multicast(struct sk_buff *msg)
{
	genlmsg_multicast(&rvmsi_nl_family, msg, 0, RVMSI_NLGRP_EVENTS, GFP_KERNEL);
}

static bool rvmsi_nl_listening(void)
{
	return READ_ONCE(rvmsi_nl_registered) &&
	       genl_has_listeners(&rvmsi_nl_family, &init_net, RVMSI_NLGRP_EVENTS);
}

/*
 * Start an event, under rvmsi_nl_event_lock until it is sent: take its
 * number, then its message. Returns NULL, with the number taken, if the
 * event cannot be sent: the next event's number tells the listeners one is
 * missing.
 */
static struct sk_buff *rvmsi_nl_event_new(u8 cmd, u32 *seq, void **hdr)
{
	struct sk_buff *msg;

	lockdep_assert_held(&rvmsi_nl_event_lock);
	*seq = ++rvmsi_nl_event_seq;
	if (rvmsi_nl_drop_event())
		return NULL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return NULL;
	*hdr = genlmsg_put(msg, 0, 0, &rvmsi_nl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/**
 * rvmsi_nl_event_lost() - an event could not even be started
 *
 * Takes a sequence number, so that the listeners learn of the loss.
 */
void rvmsi_nl_event_lost(void)
{
	if (!rvmsi_nl_listening())
		return;
	guard(mutex)(&rvmsi_nl_event_lock);
	rvmsi_nl_event_seq++;
}

/**
 * rvmsi_nl_notify_entries() - ENTRY_NTF: a device's entries changed
 * @snap: the device's state after the change
 * @reason: enum rvmsi_change_reason
 */
void rvmsi_nl_notify_entries(const struct rvmsi_snapshot *snap, u32 reason)
{
	struct sk_buff *msg;
	void *hdr;
	u32 seq;

	if (!rvmsi_nl_listening())
		return;
	guard(mutex)(&rvmsi_nl_event_lock);
	msg = rvmsi_nl_event_new(RVMSI_CMD_ENTRY_NTF, &seq, &hdr);
	if (!msg)
		return;
	if (nla_put_u32(msg, RVMSI_A_DEV_EVENT_SEQ, seq) ||
	    rvmsi_nl_fill_dev(msg, snap, reason)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	rvmsi_nl_multicast(msg);
}

/**
 * rvmsi_nl_notify_gone() - ENTRY_NTF with DEV_GONE: no entries any more
 * @name: the device's name
 * @rid: its requester ID
 */
void rvmsi_nl_notify_gone(const char *name, u32 rid)
{
	struct sk_buff *msg;
	void *hdr;
	u32 seq;

	if (!rvmsi_nl_listening())
		return;
	guard(mutex)(&rvmsi_nl_event_lock);
	msg = rvmsi_nl_event_new(RVMSI_CMD_ENTRY_NTF, &seq, &hdr);
	if (!msg)
		return;
	if (nla_put_u32(msg, RVMSI_A_DEV_EVENT_SEQ, seq) ||
	    nla_put_string(msg, RVMSI_A_DEV_NAME, name) ||
	    nla_put_u32(msg, RVMSI_A_DEV_RID, rid) ||
	    nla_put_u32(msg, RVMSI_A_DEV_MODE, IOMMU_RVMSI_MODE_OFF) ||
	    nla_put_u32(msg, RVMSI_A_DEV_ISOLATION, IOMMU_RVMSI_ISOLATION_NONE) ||
	    nla_put_u32(msg, RVMSI_A_DEV_REASON, RVMSI_REASON_DEV_GONE)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	rvmsi_nl_multicast(msg);
}

/**
 * rvmsi_nl_notify_fault() - FAULT_NTF: an MSI fault record
 * @f: the decoded record
 */
void rvmsi_nl_notify_fault(const struct rvmsi_fault *f)
{
	struct sk_buff *msg;
	void *hdr;
	u32 seq;

	if (!rvmsi_nl_listening())
		return;
	guard(mutex)(&rvmsi_nl_event_lock);
	msg = rvmsi_nl_event_new(RVMSI_CMD_FAULT_NTF, &seq, &hdr);
	if (!msg)
		return;
	if (nla_put_u32(msg, RVMSI_A_FAULT_EVENT_SEQ, seq) ||
	    nla_put_string(msg, RVMSI_A_FAULT_DEV_NAME, f->dev_name) ||
	    nla_put_u32(msg, RVMSI_A_FAULT_RID, f->rid) ||
	    nla_put_u32(msg, RVMSI_A_FAULT_CAUSE, f->cause) ||
	    nla_put_u32(msg, RVMSI_A_FAULT_TTYP, f->ttyp) ||
	    nla_put_u64_64bit(msg, RVMSI_A_FAULT_ADDR, f->addr, 0) ||
	    (f->has_file &&
	     (nla_put_u32(msg, RVMSI_A_FAULT_GROUP, f->group) ||
	      nla_put_u32(msg, RVMSI_A_FAULT_HART, f->hart) ||
	      nla_put_u32(msg, RVMSI_A_FAULT_GUEST, f->guest))) ||
	    nla_put_u32(msg, RVMSI_A_FAULT_SUPPRESSED, f->suppressed)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	rvmsi_nl_multicast(msg);
}

static const struct nla_policy rvmsi_nl_dev_name_policy[RVMSI_A_DEV_NAME + 1] = {
	[RVMSI_A_DEV_NAME] = { .type = NLA_NUL_STRING, },
};

static const struct nla_policy rvmsi_nl_dev_set_policy[RVMSI_A_DEV_LOCKED + 1] = {
	[RVMSI_A_DEV_NAME] = { .type = NLA_NUL_STRING, },
	[RVMSI_A_DEV_MODE] = { .type = NLA_U32, },
	[RVMSI_A_DEV_LOCKED] = { .type = NLA_U8, },
};

static const struct genl_split_ops rvmsi_nl_ops[] = {
	{
		.cmd	= RVMSI_CMD_HOST_GET,
		.doit	= rvmsi_nl_host_get_doit,
		.flags	= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= RVMSI_CMD_DEV_GET,
		.doit		= rvmsi_nl_dev_get_doit,
		.policy		= rvmsi_nl_dev_name_policy,
		.maxattr	= RVMSI_A_DEV_NAME,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= RVMSI_CMD_DEV_GET,
		.dumpit		= rvmsi_nl_dev_get_dumpit,
		.policy		= rvmsi_nl_dev_name_policy,
		.maxattr	= RVMSI_A_DEV_NAME,
		.flags		= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= RVMSI_CMD_DEV_SET,
		.doit		= rvmsi_nl_dev_set_doit,
		.policy		= rvmsi_nl_dev_set_policy,
		.maxattr	= RVMSI_A_DEV_LOCKED,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

static const struct genl_multicast_group rvmsi_nl_mcgrps[] = {
	[RVMSI_NLGRP_EVENTS] = {
		.name	= RVMSI_MCGRP_EVENTS,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family rvmsi_nl_family __ro_after_init = {
	.name		= RVMSI_FAMILY_NAME,
	.version	= RVMSI_FAMILY_VERSION,
	.netnsok	= false,	/* the initial network namespace only */
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= rvmsi_nl_ops,
	.n_split_ops	= ARRAY_SIZE(rvmsi_nl_ops),
	.mcgrps		= rvmsi_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(rvmsi_nl_mcgrps),
};

static int __init rvmsi_nl_init(void)
{
	int ret;

	ret = genl_register_family(&rvmsi_nl_family);
	if (ret) {
		pr_err("rvmsi: cannot register the generic netlink family: %d\n", ret);
		return ret;
	}
	WRITE_ONCE(rvmsi_nl_registered, true);
	return 0;
}
subsys_initcall(rvmsi_nl_init);
