// SPDX-License-Identifier: GPL-2.0-only
/*
 * rvmsi: the generic netlink family "rvmsi" for the host administrator.
 *
 * Specified in Documentation/netlink/specs/rvmsi.yaml; the policies, the
 * ops table and the family are generated from it (rvmsi-nl-gen.c). Reads (HOST_GET,
 * DEV_GET do/dump) reveal only geometry, modes and counts and are open to
 * everyone; DEV_SET needs CAP_NET_ADMIN (GENL_ADMIN_PERM, from the spec).
 * Events go to the "events" group: ENTRY_NTF when a device's entries
 * change (with the reason) and FAULT_NTF for MSI fault records.
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
#include "rvmsi-nl-gen.h"

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
 * for ENTRY_NTF (@reason != 0).
 */
static int rvmsi_nl_fill_dev(struct sk_buff *skb, const struct rvmsi_snapshot *s,
			     u32 reason)
{
	u32 i;

	if (nla_put_string(skb, RVMSI_A_DEV_NAME, s->name) ||
	    nla_put_u32(skb, RVMSI_A_DEV_RID, s->rid) ||
	    nla_put_u32(skb, RVMSI_A_DEV_MODE, s->mode) ||
	    nla_put_u32(skb, RVMSI_A_DEV_ISOLATION, s->isolation))
		return -EMSGSIZE;
	if (reason) {
		if (nla_put_u32(skb, RVMSI_A_DEV_REASON, reason))
			return -EMSGSIZE;
	} else if (nla_put_string(skb, RVMSI_A_DEV_IOMMU, s->iommu) ||
		   nla_put_u64_64bit(skb, RVMSI_A_DEV_CAPS, s->caps, 0) ||
		   nla_put_u8(skb, RVMSI_A_DEV_LOCKED, s->locked) ||
		   nla_put_u8(skb, RVMSI_A_DEV_USER_BOUND, s->user_bound) ||
		   nla_put_u32(skb, RVMSI_A_DEV_NR_ENTRIES, s->nr_entries) ||
		   nla_put_u32(skb, RVMSI_A_DEV_NR_IRQS, s->nr_irqs)) {
		return -EMSGSIZE;
	}
	for (i = 0; i < s->nr_ents; i++)
		if (rvmsi_nl_put_entry(skb, &s->ents[i]))
			return -EMSGSIZE;
	return 0;
}

int rvmsi_nl_host_get_doit(struct sk_buff *skb, struct genl_info *info)
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

int rvmsi_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct rvmsi_snapshot *snap;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, RVMSI_A_DEV_NAME))
		return -EINVAL;
	snap = rvmsi_snapshot_get(nla_data(info->attrs[RVMSI_A_DEV_NAME]), 0);
	if (!snap) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RVMSI_A_DEV_NAME],
				    "no such device with an MSI page table");
		return -ENODEV;
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

int rvmsi_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct rvmsi_snapshot *snap;
	unsigned long n;
	void *hdr;
	int ret = 0;

	for (n = cb->args[0];; n++) {
		snap = rvmsi_snapshot_get(NULL, n);
		if (!snap)
			break;
		/* NLM_F_MULTI: the reader keeps reading up to NLMSG_DONE */
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &rvmsi_nl_family, NLM_F_MULTI, RVMSI_CMD_DEV_GET);
		ret = hdr ? rvmsi_nl_fill_dev(skb, snap, 0) : -EMSGSIZE;
		kfree(snap);
		if (ret) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	cb->args[0] = n;
	/* One device that does not fit an empty message is an error. */
	if (ret && !skb->len)
		return ret;
	return skb->len;
}

int rvmsi_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info)
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
