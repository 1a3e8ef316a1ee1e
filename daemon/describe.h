/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Describe() document for a selection of the host: DescribeSelected()
 * (docs/org.rvmsi.Manager1.md). Same shape as Describe()'s, for a subset of
 * its sections, of the devices and of the VMs, one page at a time, so that a
 * client can read a host of any size in replies of bounded size.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "manager.h"

/* The top-level members of the document, in the order it has them. */
typedef enum DescribeSection {
        DESCRIBE_SECTION_DAEMON,
        DESCRIBE_SECTION_HOST,
        DESCRIBE_SECTION_POLICY,
        DESCRIBE_SECTION_VMS,
        DESCRIBE_SECTION_DEVICES,
        DESCRIBE_SECTION_UNSATISFIED,
        DESCRIBE_SECTION_FAULTS,
        _DESCRIBE_SECTION_MAX,
        _DESCRIBE_SECTION_INVALID = -EINVAL,
} DescribeSection;

const char *describe_section_to_string(DescribeSection s) _const_;
DescribeSection describe_section_from_string(const char *s) _pure_;

/*
 * What DescribeSelected() was asked for, as the bus layer read it from the
 * options; manager_describe_selected() validates the values. Nothing here is
 * owned: the strings belong to the message.
 */
typedef struct DescribeSelection {
        bool sections_set;              /* false: every section */
        char **sections;                /* section names (strv, may be empty: only "version" and "page") */
        bool devices_set;               /* false: every device */
        char **devices;                 /* PCI addresses (strv, may be empty: no device) */
        bool vms_set;                   /* false: every VM */
        char **vms;                     /* UUIDs or names */
        uint32_t device_offset, vm_offset;
        bool device_limit_set, vm_limit_set;    /* false: to the end */
        uint32_t device_limit, vm_limit;
} DescribeSelection;

/* A zeroed DescribeSelection selects everything without paging, like empty options. */

/*
 * Validate sel (InvalidArgument for a bad value, NoSuchDevice/NoSuchVM for a
 * name the model does not have), then write the document for it: the
 * selected sections, then "page" with the totals and offsets a pager needs.
 * Reads only; *ret is heap-allocated. Checks no size: the bus layer does.
 */
int manager_describe_selected(Manager *m, const DescribeSelection *sel, char **ret, ManagerError *e);

/* Every VM in the order Describe() and ListVMs() list them: by name. *ret is NULL without VMs; free() it. */
int manager_vms_by_name(Manager *m, Vm ***ret);
