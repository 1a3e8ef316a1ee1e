/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers shared by the lab test programs (static riscv64 binaries run by the lab's
 * /init inside QEMU). Everything returns a negative errno on failure, like the rest of the
 * userspace; nothing here hides an error or turns it into a pass.
 *
 * The VM: qemu-system-riscv64 -M virt,aia=aplic-imsic,aia-guests=5 -smp 4, riscv-iommu-pci
 * and edu (PCI 1234:11e8, dma_mask all ones). /proc, /sys, /dev, /sys/kernel/debug and /tmp
 * are mounted; data files shipped from tests/lab/progs/data/ are in $LAB_DATA (/tests/data).
 */
#ifndef RVMSI_LAB_H
#define RVMSI_LAB_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define LAB_EDU_VENDOR 0x1234
#define LAB_EDU_DEVICE 0x11e8
/* QEMU is started with aia-guests=5: KVM must see 5 guest interrupt files per hart. */
#define LAB_AIA_GUESTS 5
#define LAB_NR_CPUS 4

/* Read a whole (small) file into buf, NUL-terminated, trailing newline removed. */
static inline int lab_read_file(const char *path, char *buf, size_t size)
{
        ssize_t n;
        int fd;

        if (size == 0)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        close(fd);
        buf[n] = '\0';
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        return (int)n;
}

/* Write a string to a sysfs/procfs file in one write(), as sysfs expects. */
static inline int lab_write_file(const char *path, const char *s)
{
        size_t len = strlen(s);
        ssize_t n;
        int fd;

        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = write(fd, s, len);
        if (n < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        close(fd);
        return (size_t)n == len ? 0 : -EIO;
}

static inline int lab_read_ulong(const char *path, unsigned long *ret)
{
        char buf[64], *end;
        unsigned long v;
        int r;

        r = lab_read_file(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        errno = 0;
        v = strtoul(buf, &end, 0);
        if (errno != 0 || end == buf)
                return -EINVAL;
        *ret = v;
        return 0;
}

/*
 * Find the PCI function with this vendor:device and the lowest address (the
 * directory's order is not the addresses'): the lab's edu on the root bus,
 * not the two behind the bridge. Its BDF ("0000:00:03.0") in bdf.
 */
static inline int lab_find_pci(unsigned int vendor, unsigned int device, char *bdf, size_t size)
{
        char best[NAME_MAX + 1] = "";
        DIR *d;
        struct dirent *de;

        d = opendir("/sys/bus/pci/devices");
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char p[PATH_MAX];
                unsigned long v, dev;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", de->d_name);
                if (lab_read_ulong(p, &v) < 0 || v != vendor)
                        continue;
                snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", de->d_name);
                if (lab_read_ulong(p, &dev) < 0 || dev != device)
                        continue;
                if (!best[0] || strcmp(de->d_name, best) < 0)
                        snprintf(best, sizeof(best), "%s", de->d_name);
        }
        closedir(d);
        if (!best[0])
                return -ENOENT;
        if (strlen(best) >= size)
                return -ENOBUFS;
        strcpy(bdf, best);
        return 0;
}

static inline int lab_edu_bdf(char *bdf, size_t size)
{
        return lab_find_pci(LAB_EDU_VENDOR, LAB_EDU_DEVICE, bdf, size);
}

/* The IOMMU group number of a PCI device, or -ENOENT if it has none. */
static inline int lab_iommu_group(const char *bdf)
{
        char p[PATH_MAX], link[PATH_MAX], *base;
        ssize_t n;

        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", bdf);
        n = readlink(p, link, sizeof(link) - 1);
        if (n < 0)
                return -errno;
        link[n] = '\0';
        base = strrchr(link, '/');
        return base ? atoi(base + 1) : -EINVAL;
}

/* Number of devices in an IOMMU group. */
static inline int lab_iommu_group_size(int group)
{
        char p[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int n = 0;

        snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%d/devices", group);
        d = opendir(p);
        if (!d)
                return -errno;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

/* The name of the driver bound to a PCI device in drv, or -ENOENT if none is bound. */
static inline int lab_pci_driver(const char *bdf, char *drv, size_t size)
{
        char p[PATH_MAX], link[PATH_MAX], *base;
        ssize_t n;

        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf);
        n = readlink(p, link, sizeof(link) - 1);
        if (n < 0)
                return -errno;
        link[n] = '\0';
        base = strrchr(link, '/');
        base = base ? base + 1 : link;
        if (strlen(base) >= size)
                return -ENOBUFS;
        strcpy(drv, base);
        return 0;
}

/*
 * Bind a PCI device to vfio-pci the way an administrator would: driver_override, unbind
 * from the current driver if any, then drivers_probe. Returns the kernel's error (e.g.
 * -EINVAL when the IOMMU cannot offer what VFIO needs).
 */
static inline int lab_bind_vfio_pci(const char *bdf)
{
        char p[PATH_MAX], drv[64];
        int r;

        if (lab_pci_driver(bdf, drv, sizeof(drv)) == 0) {
                if (strcmp(drv, "vfio-pci") == 0)
                        return 0;
                snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
                r = lab_write_file(p, bdf);
                if (r < 0)
                        return r;
        }
        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", bdf);
        r = lab_write_file(p, "vfio-pci");
        if (r < 0)
                return r;
        r = lab_write_file("/sys/bus/pci/drivers_probe", bdf);
        if (r < 0)
                return r;
        if (lab_pci_driver(bdf, drv, sizeof(drv)) < 0 || strcmp(drv, "vfio-pci") != 0)
                return -ENODEV;
        return 0;
}

/* Undo lab_bind_vfio_pci(): unbind and clear driver_override. */
static inline int lab_unbind_vfio_pci(const char *bdf)
{
        char p[PATH_MAX], drv[64];
        int r;

        if (lab_pci_driver(bdf, drv, sizeof(drv)) == 0) {
                snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
                r = lab_write_file(p, bdf);
                if (r < 0)
                        return r;
        }
        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", bdf);
        return lab_write_file(p, "\n");
}

/* The VFIO cdev of a device bound to vfio-pci: "/dev/vfio/devices/vfioN". */
static inline int lab_vfio_cdev(const char *bdf, char *path, size_t size)
{
        char p[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int r = -ENOENT;

        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
        d = opendir(p);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, "vfio", 4) != 0)
                        continue;
                if ((size_t)snprintf(path, size, "/dev/vfio/devices/%s", de->d_name) >= size)
                        r = -ENOBUFS;
                else
                        r = 0;
                break;
        }
        closedir(d);
        return r;
}

/* iommufd.allow_unsafe_interrupts, at run time (the parameter is writable by root). */
static inline int lab_set_unsafe_interrupts(bool on)
{
        return lab_write_file("/sys/module/iommufd/parameters/allow_unsafe_interrupts", on ? "1" : "0");
}

/*
 * Interrupt counts from /proc/interrupts. The line is found by its first column (the
 * Linux IRQ number, e.g. "23") or, if irq < 0, by a substring of the line (e.g. the
 * action name "vfio-msi[0](0000:00:03.0)"). cpu < 0 sums all CPUs.
 */
static inline int lab_irq_count(int irq, const char *match, int cpu, unsigned long long *ret)
{
        char line[4096];
        FILE *f;
        int ncpu = 0, r = -ENOENT;

        f = fopen("/proc/interrupts", "re");
        if (!f)
                return -errno;
        if (fgets(line, sizeof(line), f))
                for (char *s = line; (s = strstr(s, "CPU")); s += 3)
                        ncpu++;
        while (fgets(line, sizeof(line), f)) {
                char *s = line, *end;
                unsigned long long sum = 0;

                while (isspace((unsigned char)*s))
                        s++;
                if (irq >= 0) {
                        if (strtol(s, &end, 10) != irq || end == s || *end != ':')
                                continue;
                } else if (!match || !strstr(line, match))
                        continue;
                s = strchr(s, ':');
                if (!s)
                        continue;
                s++;
                for (int c = 0; c < ncpu; c++) {
                        unsigned long long v = strtoull(s, &end, 10);

                        if (end == s)
                                break;
                        if (cpu < 0 || cpu == c)
                                sum += v;
                        s = end;
                }
                *ret = sum;
                r = 0;
                break;
        }
        fclose(f);
        return r;
}

/* Write a line into the kernel log (shows up in dmesg and on the console). */
static inline int lab_kmsg(const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        return lab_write_file("/dev/kmsg", buf);
}

/*
 * The kernel log as one malloc'ed string (free() it). With since != NULL only the part
 * after the last line containing since is returned: write a unique mark with lab_kmsg()
 * first, then look at what the kernel said after it.
 */
static inline char *lab_dmesg(const char *since)
{
        char *buf, *p;
        int size, n;

        size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
        if (size <= 0)
                return NULL;
        buf = malloc((size_t)size + 1);
        if (!buf)
                return NULL;
        n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
        if (n < 0) {
                free(buf);
                return NULL;
        }
        buf[n] = '\0';
        if (since) {
                char *last = NULL;

                for (p = buf; (p = strstr(p, since)); p++)
                        last = p;
                if (last) {
                        p = strchr(last, '\n');
                        p = p ? p + 1 : last + strlen(last);
                        memmove(buf, p, strlen(p) + 1);
                }
        }
        return buf;
}

/* How often needle occurs in the kernel log (after the mark since, if given). */
static inline int lab_dmesg_count(const char *since, const char *needle)
{
        char *log = lab_dmesg(since), *p;
        int n = 0;

        if (!log)
                return -errno ? -errno : -EIO;
        for (p = log; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        free(log);
        return n;
}

#endif
