/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/rvmsi.yaml */
/* YNL-GEN kernel header */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#ifndef _LINUX_RVMSI_GEN_H
#define _LINUX_RVMSI_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/rvmsi.h>
#include <linux/rvmsi.h>

int rvmsi_nl_host_get_doit(struct sk_buff *skb, struct genl_info *info);
int rvmsi_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info);
int rvmsi_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int rvmsi_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	RVMSI_NLGRP_EVENTS,
};

extern struct genl_family rvmsi_nl_family;

#endif /* _LINUX_RVMSI_GEN_H */
