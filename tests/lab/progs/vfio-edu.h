/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the rvmsi kernel lab tests: find QEMU's edu device,
 * hand it to vfio-pci, open it through the VFIO cdev + iommufd path and drive
 * its MSI and DMA engine.
 *
 * edu (QEMU hw/misc/edu.c), BAR0 registers used here:
 *   0x00 identification, 0x24 interrupt status, 0x60 raise interrupt,
 *   0x64 acknowledge interrupt, 0x80/0x88/0x90/0x98 DMA source, destination,
 *   count, command (bit 0 start, bit 1 edu -> RAM, bit 2 raise an interrupt
 *   when done). The DMA engine's own buffer sits at device address 0x40000.
 * The lab starts edu with dma_mask=0xffffffffffffffff so it can write any bus
 * address, the IMSIC pages at 0x28000000 included.
 */
#ifndef RVMSI_LAB_VFIO_EDU_H
#define RVMSI_LAB_VFIO_EDU_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_ID		0x00
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_START		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_DMA_IRQ		0x4
#define EDU_DMA_BUF		0x40000ULL

#define EDU_IOVA		0x100000ULL
#define EDU_BUF_SIZE		4096

struct edu {
	char bdf[32];
	int iommufd;
	int devfd;
	int efd;
	uint32_t dev_id;
	uint32_t ioas_id;
	uint32_t hwpt_id;
	volatile uint8_t *bar;
	size_t bar_size;
	uint8_t *buf;
};

static inline int edu_write_file(const char *path, const char *val)
{
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static inline int edu_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

/* A PCI function's sysfs attribute @attr, read as a hex number; 0 if unreadable. */
static inline unsigned long lab_pci_attr(const char *bdf, const char *attr)
{
	char path[300], v[32];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return edu_read_file(path, v, sizeof(v)) ? 0 : strtoul(v, NULL, 16);
}

/*
 * The PCI function with the lowest address for which @match(bdf, @arg) says
 * yes (the directory's order is not the addresses'); fills @bdf. The lab's
 * edu on the root bus comes before the two behind the bridge. Returns
 * -ENODEV if there is none.
 */
static inline int lab_pci_find(bool (*match)(const char *bdf, void *arg), void *arg,
			       char *bdf, size_t len)
{
	struct dirent *de;
	bool found = false;
	DIR *dir;

	dir = opendir("/sys/bus/pci/devices");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || !match(de->d_name, arg))
			continue;
		if (found && strcmp(de->d_name, bdf) >= 0)
			continue;
		snprintf(bdf, len, "%.*s", (int)len - 1, de->d_name);
		found = true;
	}
	closedir(dir);
	return found ? 0 : -ENODEV;
}

static inline bool edu_match(const char *bdf, void *arg)
{
	(void)arg;
	return lab_pci_attr(bdf, "vendor") == EDU_VENDOR &&
	       lab_pci_attr(bdf, "device") == EDU_DEVICE;
}

/* Find the edu device; fills @bdf. */
static inline int edu_find(char *bdf, size_t len)
{
	return lab_pci_find(edu_match, NULL, bdf, len);
}

/* An edu off the root bus, with an address after @arg (a BDF) if given. */
static inline bool edu_behind_bridge(const char *bdf, void *arg)
{
	unsigned int dom, bus, dev, fn;
	const char *after = arg;

	return edu_match(bdf, NULL) && sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4 &&
	       bus != 0 && (!after || strcmp(bdf, after) > 0);
}

/*
 * The lab's two edus behind its PCIe-to-PCI bridge (off the root bus), in
 * address order; -ENODEV unless there are exactly two.
 */
static inline int edu_find_bridged(char bdf[2][32])
{
	char third[32];
	int r;

	r = lab_pci_find(edu_behind_bridge, NULL, bdf[0], 32);
	if (!r)
		r = lab_pci_find(edu_behind_bridge, bdf[0], bdf[1], 32);
	if (!r && !lab_pci_find(edu_behind_bridge, bdf[1], third, sizeof(third)))
		r = -ENODEV;
	return r;
}

/* Make sure @bdf is driven by vfio-pci. */
static inline int edu_bind_vfio(const char *bdf)
{
	char path[300], link[300];
	ssize_t n;
	int r;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		if (strstr(link, "/vfio-pci"))
			return 0;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		r = edu_write_file(path, bdf);
		if (r)
			return r;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	r = edu_write_file(path, "vfio-pci");
	if (r)
		return r;
	r = edu_write_file("/sys/bus/pci/drivers_probe", bdf);
	if (r)
		return r;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -ENXIO;
	link[n] = 0;
	return strstr(link, "/vfio-pci") ? 0 : -ENXIO;
}

/* /dev/vfio/devices/vfioN of @bdf. */
static inline int edu_cdev_path(const char *bdf, char *out, size_t len)
{
	char path[300];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(out, len, "/dev/vfio/devices/%s", de->d_name);
			closedir(dir);
			return 0;
		}
	}
	closedir(dir);
	return -ENOENT;
}

static inline int edu_set_unsafe_interrupts(int on)
{
	return edu_write_file("/sys/module/iommufd/parameters/allow_unsafe_interrupts",
			      on ? "1" : "0");
}

static inline uint32_t edu_r32(struct edu *e, unsigned int off)
{
	return *(volatile uint32_t *)(e->bar + off);
}

static inline void edu_w32(struct edu *e, unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(e->bar + off) = v;
}

static inline void edu_w64(struct edu *e, unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(e->bar + off) = v;
}

/*
 * Bind edu @e->bdf to vfio-pci, open its VFIO cdev, bind it to @iommufd and
 * attach it to IOAS @ioas_id; BAR0 mapped, memory space and bus mastering
 * on. Devices of one IOMMU group must share the iommufd and the IOAS.
 * Fills @e->devfd, dev_id, hwpt_id, bar; @e->iommufd is the caller's.
 */
static inline int edu_attach(struct edu *e, int iommufd, uint32_t ioas_id, const char **step)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	char cdev[300];
	uint16_t cmd;
	int r;

	*step = "bind vfio-pci";
	r = edu_bind_vfio(e->bdf);
	if (r)
		return r;
	*step = "find the VFIO cdev";
	r = edu_cdev_path(e->bdf, cdev, sizeof(cdev));
	if (r)
		return r;
	*step = "open the VFIO cdev";
	e->devfd = open(cdev, O_RDWR | O_CLOEXEC);
	if (e->devfd < 0)
		return -errno;
	*step = "VFIO_DEVICE_BIND_IOMMUFD";
	bind.iommufd = iommufd;
	if (ioctl(e->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -errno;
	e->dev_id = bind.out_devid;
	*step = "VFIO_DEVICE_ATTACH_IOMMUFD_PT";
	at.pt_id = ioas_id;
	if (ioctl(e->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		return -errno;
	e->hwpt_id = at.pt_id;

	*step = "VFIO_DEVICE_GET_REGION_INFO(BAR0)";
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(e->devfd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -errno;
	*step = "mmap BAR0";
	e->bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      e->devfd, ri.offset);
	if (e->bar == MAP_FAILED) {
		e->bar = NULL;
		return -errno;
	}
	e->bar_size = ri.size;

	*step = "enable memory space and bus mastering";
	ri.argsz = sizeof(ri);
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(e->devfd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -errno;
	if (pread(e->devfd, &cmd, 2, ri.offset + 4) != 2)
		return -EIO;
	cmd |= 0x6;
	if (pwrite(e->devfd, &cmd, 2, ri.offset + 4) != 2)
		return -EIO;
	*step = "edu identification register";
	if ((edu_r32(e, EDU_REG_ID) & 0xff) != 0xed)	/* 0x010000ed */
		return -EIO;
	return 0;
}

/*
 * Open edu through VFIO cdev + iommufd, attach it to a fresh IOAS, map one
 * page of memory at EDU_IOVA, map BAR0 and enable memory + bus mastering.
 * Returns 0 or a negative errno; @step names the step that failed.
 */
static inline int edu_open(struct edu *e, const char **step)
{
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };
	struct iommu_ioas_map m = { .size = sizeof(m) };
	int r;

	memset(e, 0, sizeof(*e));
	e->iommufd = e->devfd = e->efd = -1;

	*step = "find edu";
	r = edu_find(e->bdf, sizeof(e->bdf));
	if (r)
		return r;
	*step = "open /dev/iommu";
	e->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (e->iommufd < 0)
		return -errno;
	*step = "IOMMU_IOAS_ALLOC";
	if (ioctl(e->iommufd, IOMMU_IOAS_ALLOC, &ia))
		return -errno;
	e->ioas_id = ia.out_ioas_id;
	r = edu_attach(e, e->iommufd, e->ioas_id, step);
	if (r)
		return r;

	*step = "mmap a DMA buffer";
	e->buf = mmap(NULL, EDU_BUF_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (e->buf == MAP_FAILED) {
		e->buf = NULL;
		return -errno;
	}
	memset(e->buf, 0, EDU_BUF_SIZE);
	*step = "IOMMU_IOAS_MAP";
	m.ioas_id = e->ioas_id;
	m.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
		  IOMMU_IOAS_MAP_WRITEABLE;
	m.user_va = (uintptr_t)e->buf;
	m.length = EDU_BUF_SIZE;
	m.iova = EDU_IOVA;
	if (ioctl(e->iommufd, IOMMU_IOAS_MAP, &m))
		return -errno;
	return 0;
}

/* Route edu's single MSI vector to a new eventfd. */
static inline int edu_enable_msi(struct edu *e)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *is = (struct vfio_irq_set *)buf;

	e->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->efd < 0)
		return -errno;
	is->argsz = sizeof(buf);
	is->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	is->index = VFIO_PCI_MSI_IRQ_INDEX;
	is->start = 0;
	is->count = 1;
	memcpy(is->data, &e->efd, sizeof(int32_t));
	if (ioctl(e->devfd, VFIO_DEVICE_SET_IRQS, is))
		return -errno;
	return 0;
}

/*
 * Wait up to @ms for the eventfd; returns the count read (0 on timeout) and
 * acknowledges whatever edu has pending.
 */
static inline uint64_t edu_wait_irq(struct edu *e, int ms)
{
	struct pollfd p = { .fd = e->efd, .events = POLLIN };
	uint64_t cnt = 0;

	if (poll(&p, 1, ms) == 1 && read(e->efd, &cnt, sizeof(cnt)) != sizeof(cnt))
		cnt = 0;
	edu_w32(e, EDU_REG_IRQ_ACK, edu_r32(e, EDU_REG_IRQ_STATUS));
	return cnt;
}

/* Run one DMA transfer and wait for the engine to go idle (no interrupt). */
static inline int edu_dma(struct edu *e, uint64_t src, uint64_t dst, uint32_t len,
			  uint32_t cmd)
{
	int i;

	edu_w64(e, EDU_REG_DMA_SRC, src);
	edu_w64(e, EDU_REG_DMA_DST, dst);
	edu_w64(e, EDU_REG_DMA_CNT, len);
	edu_w64(e, EDU_REG_DMA_CMD, cmd | EDU_DMA_START);
	for (i = 0; i < 1000; i++) {
		if (!(edu_r32(e, EDU_REG_DMA_CMD) & EDU_DMA_START))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/*
 * Sum over all CPUs of the /proc/interrupts line whose name contains @name
 * (e.g. "vfio-msi"); -1 if there is no such line. @irq gets the IRQ number.
 */
static inline long long proc_irq_count(const char *name, int *irq)
{
	char line[1024], *p, *end;
	long long sum = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, name))
			continue;
		p = line;
		if (irq)
			*irq = (int)strtol(p, &p, 10);
		else
			strtol(p, &p, 10);
		if (*p == ':')
			p++;
		sum = 0;
		for (;;) {
			long long v = strtoll(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		break;
	}
	fclose(f);
	return sum;
}

static inline void edu_close(struct edu *e)
{
	if (e->bar)
		munmap((void *)e->bar, e->bar_size);
	if (e->buf)
		munmap(e->buf, EDU_BUF_SIZE);
	if (e->efd >= 0)
		close(e->efd);
	if (e->devfd >= 0)
		close(e->devfd);
	if (e->iommufd >= 0)
		close(e->iommufd);
}

/*
 * What most fixtures start with: allow_unsafe_interrupts on, edu open
 * (edu_open()), its MSI routed to the eventfd, and @irq (may be NULL) set to
 * the Linux IRQ of that MSI. Returns 0 or a negative errno; @step names the
 * step that failed.
 */
static inline int edu_open_msi(struct edu *e, int *irq, const char **step)
{
	int r;

	*step = "iommufd.allow_unsafe_interrupts=1";
	r = edu_set_unsafe_interrupts(1);
	if (r)
		return r;
	r = edu_open(e, step);
	if (r)
		return r;
	*step = "VFIO_DEVICE_SET_IRQS(MSI)";
	r = edu_enable_msi(e);
	if (r)
		return r;
	*step = "the vfio-msi line of /proc/interrupts";
	if (irq)
		*irq = -1;
	if (proc_irq_count("vfio-msi", irq) < 0)
		return -ENOENT;
	return 0;
}

#endif /* RVMSI_LAB_VFIO_EDU_H */
