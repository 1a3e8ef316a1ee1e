/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IRQ affinity reader against a fake /sys + /proc tree: IRQ discovery
 * from msi_irqs/, effective affinity to hart through the model's CPU map,
 * and what happens with missing files, odd names and CPUs that are no hart.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"
#include "watch-irq.h"

static char root[256];

static void mkdirs(const char *rel) {
        char path[512], *p;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = 0;
                (void) mkdir(path, 0755);
                *p = '/';
        }
        (void) mkdir(path, 0755);
}

static void put(const char *rel, const char *text) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        f = fopen(path, "we");
        ASSERT_NOT_NULL(f);
        fputs(text, f);
        fclose(f);
}

static void add_irq(const char *dev, unsigned irq, const char *affinity) {
        char rel[256];

        snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/msi_irqs", dev);
        mkdirs(rel);
        snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/msi_irqs/%u", dev, irq);
        put(rel, "msi\n");
        if (affinity) {
                snprintf(rel, sizeof(rel), "proc/irq/%u", irq);
                mkdirs(rel);
                snprintf(rel, sizeof(rel), "proc/irq/%u/effective_affinity_list", irq);
                put(rel, affinity);
        }
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static Model *new_model(void) {
        Geometry g = { .nr_groups = 1, .nr_harts = 4, .nr_guest_files = 5, .nr_ids = 255 };
        Model *m = NULL;

        ASSERT_OK(model_new(&g, &m));
        /* harts 0..3 are CPUs 10..13: the reader must map, not assume */
        for (uint32_t h = 0; h < 4; h++)
                ASSERT_OK(model_set_hart_cpu(m, h, (int32_t) (10 + h)));
        return m;
}

TEST(cpulist) {
        int32_t c;

        ASSERT_OK(cpulist_first("3\n", &c));
        ASSERT_EQ(c, 3);
        ASSERT_OK(cpulist_first("0-3,8", &c));
        ASSERT_EQ(c, 0);
        ASSERT_OK(cpulist_first("12,14\n", &c));
        ASSERT_EQ(c, 12);
        ASSERT_ERROR(cpulist_first("", &c), EINVAL);
        ASSERT_ERROR(cpulist_first("\n", &c), EINVAL);
        ASSERT_ERROR(cpulist_first("x", &c), EINVAL);
        ASSERT_ERROR(cpulist_first("3x", &c), EINVAL);
        ASSERT_ERROR(cpulist_first("99999999999", &c), EINVAL);
}

TEST(read_vectors) {
        _cleanup_(model_freep) Model *m = new_model();
        _cleanup_free_ Vector *v = NULL;
        uint32_t n = 99;

        snprintf(root, sizeof(root), "%s/rvmsi-irq-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        ASSERT_NOT_NULL(mkdtemp(root));

        /* IRQs listed out of order, one on a CPU that is no hart, one
         * whose /proc entry is gone, one with a CPU range */
        add_irq("0000:00:03.0", 41, "12\n");
        add_irq("0000:00:03.0", 40, "10-11\n");
        add_irq("0000:00:03.0", 43, "7\n");
        add_irq("0000:00:03.0", 42, NULL);
        add_irq("0000:00:03.0", 44, "13\n");
        ASSERT_OK(irq_read_device_vectors(root, m, "0000:00:03.0", &v, &n));
        ASSERT_EQ(n, 5);
        ASSERT_EQ(v[0].hart, 0);        /* IRQ 40 -> CPU 10 -> hart 0 */
        ASSERT_EQ(v[1].hart, 2);        /* IRQ 41 -> CPU 12 */
        ASSERT_EQ(v[2].hart, NO_HART);  /* IRQ 42: no affinity file */
        ASSERT_EQ(v[3].hart, NO_HART);  /* IRQ 43: CPU 7 is no hart */
        ASSERT_EQ(v[4].hart, 3);
        for (uint32_t i = 0; i < n; i++)
                ASSERT_EQ(v[i].vcpu, NO_HART);
        v = mfree(v);

        /* a device without msi_irqs has no vectors */
        mkdirs("sys/bus/pci/devices/0000:00:04.0");
        n = 99;
        ASSERT_OK(irq_read_device_vectors(root, m, "0000:00:04.0", &v, &n));
        ASSERT_EQ(n, 0);
        ASSERT_TRUE(v == NULL);

        /* no such device; names that would escape the tree */
        ASSERT_ERROR(irq_read_device_vectors(root, m, "0000:00:05.0", &v, &n), ENOENT);
        ASSERT_ERROR(irq_read_device_vectors(root, m, "../../../etc", &v, &n), EINVAL);
        ASSERT_ERROR(irq_read_device_vectors(root, m, "..", &v, &n), EINVAL);

        (void) nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

DEFINE_TEST_MAIN
