/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Baseline of the lab VM, before any rvmsi test runs: the platform the other tests rely on
 * is really there. The RISC-V IOMMU probed and translates the edu device, KVM works and
 * sees the AIA guest interrupt files QEMU was asked for, and edu is alone in its IOMMU
 * group (so it can be handed to VFIO without dragging anything else along).
 */
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "lab.h"

TEST(iommu_registered)
{
        struct dirent *de;
        DIR *d;
        int n = 0;

        d = opendir("/sys/class/iommu");
        ASSERT_NE(NULL, d) TH_LOG("no /sys/class/iommu: %s", strerror(errno));
        while ((de = readdir(d)))
                if (de->d_name[0] != '.') {
                        TH_LOG("iommu: %s", de->d_name);
                        n++;
                }
        closedir(d);
        ASSERT_GT(n, 0) TH_LOG("no IOMMU registered");
}

/* The edu device is behind the IOMMU: it appears under one of /sys/class/iommu/<x>/devices. */
TEST(edu_behind_iommu)
{
        char bdf[32], p[PATH_MAX];
        struct dirent *de;
        struct stat st;
        bool found = false;
        DIR *d;

        ASSERT_EQ(0, lab_edu_bdf(bdf, sizeof(bdf))) TH_LOG("no PCI device %04x:%04x (edu)",
                                                           LAB_EDU_VENDOR, LAB_EDU_DEVICE);
        d = opendir("/sys/class/iommu");
        ASSERT_NE(NULL, d);
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof(p), "/sys/class/iommu/%s/devices/%s", de->d_name, bdf);
                if (stat(p, &st) == 0) {
                        TH_LOG("%s is translated by %s", bdf, de->d_name);
                        found = true;
                }
        }
        closedir(d);
        ASSERT_TRUE(found) TH_LOG("%s is not linked to any IOMMU", bdf);
}

TEST(edu_alone_in_iommu_group)
{
        char bdf[32], p[PATH_MAX];
        unsigned char cfg[64];
        int group, n, fd;
        ssize_t len;

        ASSERT_EQ(0, lab_edu_bdf(bdf, sizeof(bdf)));
        group = lab_iommu_group(bdf);
        ASSERT_GE(group, 0) TH_LOG("%s has no IOMMU group: %s", bdf, strerror(-group));
        n = lab_iommu_group_size(group);
        ASSERT_EQ(1, n) TH_LOG("IOMMU group %d holds %d devices", group, n);
        TH_LOG("edu %s alone in IOMMU group %d", bdf, group);

        /* And it really is edu: config space reads back the IDs the sysfs scan matched. */
        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/config", bdf);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        len = read(fd, cfg, sizeof(cfg));
        close(fd);
        ASSERT_EQ((ssize_t)sizeof(cfg), len);
        ASSERT_EQ(LAB_EDU_VENDOR, cfg[0] | (cfg[1] << 8));
        ASSERT_EQ(LAB_EDU_DEVICE, cfg[2] | (cfg[3] << 8));
}

/* The edu device has an MSI capability (the tests assign it and use its MSI). */
TEST(edu_has_msi)
{
        char bdf[32], p[PATH_MAX];
        unsigned char cfg[256];
        unsigned int pos;
        bool msi = false;
        int fd, hops = 0;

        ASSERT_EQ(0, lab_edu_bdf(bdf, sizeof(bdf)));
        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/config", bdf);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        ASSERT_EQ((ssize_t)sizeof(cfg), read(fd, cfg, sizeof(cfg)))
                TH_LOG("config space shorter than 256 bytes (not root?)");
        close(fd);
        ASSERT_TRUE(cfg[6] & 0x10) TH_LOG("no capability list");
        for (pos = cfg[0x34] & 0xfc; pos && hops < 48; pos = cfg[pos + 1] & 0xfc, hops++)
                if (cfg[pos] == 0x05)
                        msi = true;
        ASSERT_TRUE(msi) TH_LOG("edu has no MSI capability");
}

TEST(kvm_with_aia_guest_files)
{
        char want[64];
        int fd, vm, n;

        fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        ASSERT_GE(fd, 0) TH_LOG("/dev/kvm: %s", strerror(errno));
        ASSERT_EQ(KVM_API_VERSION, ioctl(fd, KVM_GET_API_VERSION, 0));
        vm = ioctl(fd, KVM_CREATE_VM, 0);
        ASSERT_GE(vm, 0) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
        /* An in-kernel AIA irqchip is what gives a guest its own IMSIC guest files. */
        ASSERT_EQ(0, ioctl(vm, KVM_CREATE_DEVICE, &(struct kvm_create_device) {
                .type = KVM_DEV_TYPE_RISCV_AIA,
                .flags = KVM_CREATE_DEVICE_TEST,
        })) TH_LOG("KVM cannot create an AIA irqchip: %s", strerror(errno));
        close(vm);
        close(fd);

        snprintf(want, sizeof(want), "AIA available with %d guest external interrupts", LAB_AIA_GUESTS);
        n = lab_dmesg_count(NULL, want);
        ASSERT_EQ(1, n) TH_LOG("kernel log does not say \"%s\"", want);
}

/* Every hart is online: the MSI tests move interrupts between harts. */
TEST(all_harts_online)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        ASSERT_EQ(LAB_NR_CPUS, n);
}

/*
 * The lab fails a run on any lockdep, KASAN or UBSAN report; that only means something if
 * the booted kernel has them and they are live.
 */
TEST(debug_checkers_active)
{
        static const char *const want[] = {
                "CONFIG_PROVE_LOCKING=y", "CONFIG_KASAN=y", "CONFIG_KASAN_GENERIC=y",
                "CONFIG_UBSAN=y", "CONFIG_DEBUG_ATOMIC_SLEEP=y",
        };
        bool found[sizeof(want) / sizeof(want[0])] = {};
        char line[256], *p;
        FILE *f;
        int locks = -1;

        f = popen("zcat /proc/config.gz", "r");
        ASSERT_NE(NULL, f);
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                        if (strcmp(line, want[i]) == 0)
                                found[i] = true;
        }
        ASSERT_EQ(0, pclose(f));
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                /* braces: the harness macros end in a for() that TH_LOG is the body of */
                EXPECT_TRUE(found[i]) TH_LOG("booted kernel lacks %s", want[i]);
        }

        /* lockdep is on and has not switched itself off */
        f = fopen("/proc/lockdep_stats", "re");
        ASSERT_NE(NULL, f) TH_LOG("/proc/lockdep_stats: %s", strerror(errno));
        while (fgets(line, sizeof(line), f))
                if ((p = strstr(line, "debug_locks:")))
                        locks = atoi(p + strlen("debug_locks:"));
        fclose(f);
        EXPECT_EQ(1, locks);

        EXPECT_EQ(1, lab_dmesg_count(NULL, "KernelAddressSanitizer initialized (generic)"));
}

TEST_HARNESS_MAIN
