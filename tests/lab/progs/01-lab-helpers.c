/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The helpers of lab.h do what they say on the real kernel, so that a test built on them
 * fails for the kernel's reasons and not the helper's: interrupt counts move, kernel log
 * marks are found, and edu goes to vfio-pci and back the way an administrator does it.
 */
#include <time.h>

#include "kselftest_harness.h"
#include "lab.h"

TEST(irq_count_moves)
{
        unsigned long long a = 0, b = 0, cpu0 = 0;
        struct timespec ts = { .tv_nsec = 200 * 1000 * 1000 };

        /* The per-hart timer interrupt always exists and always ticks. */
        ASSERT_EQ(0, lab_irq_count(-1, "riscv-timer", -1, &a));
        nanosleep(&ts, NULL);
        ASSERT_EQ(0, lab_irq_count(-1, "riscv-timer", -1, &b));
        EXPECT_GT(b, a) TH_LOG("riscv-timer count did not move: %llu -> %llu", a, b);
        ASSERT_EQ(0, lab_irq_count(-1, "riscv-timer", 0, &cpu0));
        EXPECT_LE(cpu0, b);
        EXPECT_EQ(-ENOENT, lab_irq_count(-1, "no-such-interrupt-name", -1, &a));
        EXPECT_EQ(-ENOENT, lab_irq_count(999999, NULL, -1, &a));
}

TEST(kernel_log_marks)
{
        char mark[64], *after;

        snprintf(mark, sizeof(mark), "lab-helpers mark %ld", (long)getpid());
        ASSERT_EQ(0, lab_kmsg("%s\n", mark));
        ASSERT_EQ(0, lab_kmsg("lab-helpers after the mark\n"));
        EXPECT_EQ(1, lab_dmesg_count(NULL, mark));
        EXPECT_EQ(1, lab_dmesg_count(mark, "lab-helpers after the mark"));
        /* Only what follows the mark: the boot banner is not in it. */
        EXPECT_EQ(0, lab_dmesg_count(mark, "Linux version"));
        EXPECT_GE(lab_dmesg_count(NULL, "Linux version"), 1);
        after = lab_dmesg(mark);
        ASSERT_NE(NULL, after);
        EXPECT_EQ(NULL, strstr(after, mark));
        free(after);
}

TEST(sysfs_files)
{
        char bdf[32], p[PATH_MAX], buf[64];
        unsigned long v;

        ASSERT_EQ(0, lab_edu_bdf(bdf, sizeof(bdf)));
        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", bdf);
        ASSERT_EQ(0, lab_read_ulong(p, &v));
        EXPECT_EQ((unsigned long)LAB_EDU_VENDOR, v);
        EXPECT_EQ(6, lab_read_file(p, buf, sizeof(buf)));
        EXPECT_STREQ("0x1234", buf);
        EXPECT_EQ(-ENOENT, lab_read_file("/sys/no/such/file", buf, sizeof(buf)));
        EXPECT_EQ(-ENOENT, lab_write_file("/sys/no/such/file", "1"));
        EXPECT_EQ(-ENOBUFS, lab_edu_bdf(bdf, 4));
}

/* edu to vfio-pci and back; needs the kernel part (Linux 7.3 alone refuses the bind). */
TEST(edu_vfio_pci_bind_unbind)
{
        char bdf[32], drv[64], cdev[64], p[PATH_MAX], ovr[64];
        struct stat st;

        ASSERT_EQ(0, lab_edu_bdf(bdf, sizeof(bdf)));
        ASSERT_EQ(0, lab_bind_vfio_pci(bdf)) TH_LOG("binding %s to vfio-pci failed", bdf);
        ASSERT_EQ(0, lab_pci_driver(bdf, drv, sizeof(drv)));
        EXPECT_STREQ("vfio-pci", drv);
        ASSERT_EQ(0, lab_vfio_cdev(bdf, cdev, sizeof(cdev)));
        ASSERT_EQ(0, stat(cdev, &st)) TH_LOG("%s: %s", cdev, strerror(errno));
        EXPECT_TRUE(S_ISCHR(st.st_mode));
        TH_LOG("%s bound to vfio-pci, cdev %s", bdf, cdev);
        /* Binding again is a no-op, not an error. */
        EXPECT_EQ(0, lab_bind_vfio_pci(bdf));

        ASSERT_EQ(0, lab_unbind_vfio_pci(bdf));
        EXPECT_EQ(-ENOENT, lab_pci_driver(bdf, drv, sizeof(drv)));
        EXPECT_EQ(-ENOENT, lab_vfio_cdev(bdf, cdev, sizeof(cdev)));
        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", bdf);
        ASSERT_GE(lab_read_file(p, ovr, sizeof(ovr)), 0);
        EXPECT_STREQ("(null)", ovr);
}

TEST_HARNESS_MAIN
