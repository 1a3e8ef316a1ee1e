/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Nothing but the header: it must bring everything it needs itself. */
#include <linux/rvmsi.h>

int main(void)
{
        struct iommu_rvmsi_get_entries ge = { sizeof(ge), 0, 0, 0, sizeof(struct iommu_rvmsi_entry), 0, 0 };

        return ge.entry_len == 40 && IOMMU_RVMSI_GET_ENTRIES != IOMMU_RVMSI_GET_INFO ? 0 : 1;
}
