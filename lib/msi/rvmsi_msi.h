/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rvmsi lib/msi: everything at once. The one place in rvmsi that knows the
 * RISC-V IOMMU MSI table, MRIF, IMSIC geometry and command bits.
 */
#ifndef _RVMSI_MSI_H
#define _RVMSI_MSI_H

#include "msi_compat.h"
#include "msi_table.h"
#include "msi_mrif.h"
#include "imsic_geom.h"
#include "iommu_cmd.h"
#include "dc.h"

#endif /* _RVMSI_MSI_H */
