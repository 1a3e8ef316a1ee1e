// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/rvmsi.yaml */
/* YNL-GEN kernel source */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "rvmsi-nl-gen.h"

#include <uapi/linux/rvmsi.h>
#include <linux/rvmsi.h>

/* RVMSI_CMD_DEV_GET - do */
static const struct nla_policy rvmsi_dev_get_nl_policy[RVMSI_A_DEV_NAME + 1] = {
	[RVMSI_A_DEV_NAME] = { .type = NLA_NUL_STRING, },
};

/* RVMSI_CMD_DEV_SET - do */
static const struct nla_policy rvmsi_dev_set_nl_policy[RVMSI_A_DEV_LOCKED + 1] = {
	[RVMSI_A_DEV_NAME] = { .type = NLA_NUL_STRING, },
	[RVMSI_A_DEV_MODE] = { .type = NLA_U32, },
	[RVMSI_A_DEV_LOCKED] = { .type = NLA_U8, },
};

/* Ops table for rvmsi */
static const struct genl_split_ops rvmsi_nl_ops[] = {
	{
		.cmd	= RVMSI_CMD_HOST_GET,
		.doit	= rvmsi_nl_host_get_doit,
		.flags	= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= RVMSI_CMD_DEV_GET,
		.doit		= rvmsi_nl_dev_get_doit,
		.policy		= rvmsi_dev_get_nl_policy,
		.maxattr	= RVMSI_A_DEV_NAME,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd	= RVMSI_CMD_DEV_GET,
		.dumpit	= rvmsi_nl_dev_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= RVMSI_CMD_DEV_SET,
		.doit		= rvmsi_nl_dev_set_doit,
		.policy		= rvmsi_dev_set_nl_policy,
		.maxattr	= RVMSI_A_DEV_LOCKED,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

static const struct genl_multicast_group rvmsi_nl_mcgrps[] = {
	[RVMSI_NLGRP_EVENTS] = { "events", },
};

struct genl_family rvmsi_nl_family __ro_after_init = {
	.name		= RVMSI_FAMILY_NAME,
	.version	= RVMSI_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= rvmsi_nl_ops,
	.n_split_ops	= ARRAY_SIZE(rvmsi_nl_ops),
	.mcgrps		= rvmsi_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(rvmsi_nl_mcgrps),
};
