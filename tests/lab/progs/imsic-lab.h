/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the rvmsi MSI-table lab tests: where the interrupt files are
 * (from the device tree, which is public: the rvmsi interfaces themselves
 * never hand out a physical address), IRQ affinity and counts, IMSIC vectors
 * from the generic IRQ debugfs, the kernel log, and forging an MSI with the
 * edu DMA engine.
 */
#ifndef RVMSI_LAB_IMSIC_LAB_H
#define RVMSI_LAB_IMSIC_LAB_H

#include <arpa/inet.h>
#include <sys/klog.h>

#include "vfio-edu.h"

#define LAB_MAX_HARTS	64

struct imsic_dt {
	uint64_t base;			/* S-level file of IMSIC position 0 */
	unsigned int guest_bits;	/* riscv,guest-index-bits */
	unsigned int nr;		/* harts in interrupts-extended */
	uint32_t hartid[LAB_MAX_HARTS];	/* hart ID at each IMSIC position */
};

static inline ssize_t lab_read_bin(const char *path, void *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len);
	close(fd);
	return n < 0 ? -errno : n;
}

/* Hart ID of the CPU node whose interrupt controller has @phandle. */
static inline int lab_hart_of_intc(uint32_t phandle, uint32_t *hartid)
{
	char path[512];
	struct dirent *de;
	uint32_t v;
	DIR *dir;

	dir = opendir("/proc/device-tree/cpus");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "cpu@", 4))
			continue;
		snprintf(path, sizeof(path),
			 "/proc/device-tree/cpus/%s/interrupt-controller/phandle", de->d_name);
		if (lab_read_bin(path, &v, 4) != 4 || ntohl(v) != phandle)
			continue;
		snprintf(path, sizeof(path), "/proc/device-tree/cpus/%s/reg", de->d_name);
		if (lab_read_bin(path, &v, 4) != 4)
			break;
		*hartid = ntohl(v);
		closedir(dir);
		return 0;
	}
	closedir(dir);
	return -ENOENT;
}

/*
 * The supervisor-level IMSIC node: compatible "riscv,imsics", interrupts-
 * extended naming each hart's S-level external interrupt (9).
 */
static inline int imsic_dt_read(struct imsic_dt *im)
{
	char path[512], compat[256];
	uint32_t cells[2 * LAB_MAX_HARTS], reg[4], v;
	struct dirent *de;
	ssize_t n;
	DIR *dir;
	int i, r;

	memset(im, 0, sizeof(*im));
	dir = opendir("/proc/device-tree/soc");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/device-tree/soc/%s/compatible", de->d_name);
		n = lab_read_bin(path, compat, sizeof(compat) - 1);
		if (n <= 0)
			continue;
		compat[n] = 0;
		if (!memmem(compat, n, "riscv,imsics", 12))
			continue;
		snprintf(path, sizeof(path), "/proc/device-tree/soc/%s/interrupts-extended",
			 de->d_name);
		n = lab_read_bin(path, cells, sizeof(cells));
		if (n < 8 || ntohl(cells[1]) != 9)
			continue;
		snprintf(path, sizeof(path), "/proc/device-tree/soc/%s/reg", de->d_name);
		if (lab_read_bin(path, reg, sizeof(reg)) < 16)
			continue;
		im->base = ((uint64_t)ntohl(reg[0]) << 32) | ntohl(reg[1]);
		snprintf(path, sizeof(path), "/proc/device-tree/soc/%s/riscv,guest-index-bits",
			 de->d_name);
		if (lab_read_bin(path, &v, 4) == 4)
			im->guest_bits = ntohl(v);
		im->nr = n / 8;
		for (i = 0; i < (int)im->nr; i++) {
			r = lab_hart_of_intc(ntohl(cells[2 * i]), &im->hartid[i]);
			if (r) {
				closedir(dir);
				return r;
			}
		}
		closedir(dir);
		return 0;
	}
	closedir(dir);
	return -ENOENT;
}

/* Hart ID of Linux CPU @cpu, from /proc/cpuinfo. */
static inline int lab_cpu_hartid(int cpu, uint32_t *hartid)
{
	char line[256];
	int cur = -1;
	FILE *f;

	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "processor : %d", &cur) == 1)
			continue;
		if (cur == cpu && sscanf(line, "hart : %u", hartid) == 1) {
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

/*
 * The hart number of @cpu as the kernel part and rvmsid count harts: the
 * index of its interrupt file in the IMSIC. Linux numbers CPUs from the hart
 * it booted on, and the firmware boots whichever hart wins its lottery, so
 * CPU n is hart n only in most boots.
 */
static inline int imsic_cpu_hart(const struct imsic_dt *im, int cpu)
{
	uint32_t hartid;
	unsigned int i;
	int r;

	r = lab_cpu_hartid(cpu, &hartid);
	if (r)
		return r;
	for (i = 0; i < im->nr; i++)
		if (im->hartid[i] == hartid)
			return (int)i;
	return -ENOENT;
}

/* Address of interrupt file @guest (0: S-level) of the hart of @cpu. */
static inline int imsic_file_addr(const struct imsic_dt *im, int cpu, unsigned int guest,
				  uint64_t *addr)
{
	int hart = imsic_cpu_hart(im, cpu);

	if (hart < 0)
		return hart;
	*addr = im->base + ((uint64_t)hart << (im->guest_bits + 12)) + (uint64_t)guest * 4096;
	return 0;
}

/* Count of IRQ @irq on one CPU (@cpu >= 0) or on all (@cpu < 0). */
static inline long long lab_irq_count(int irq, int cpu)
{
	char line[1024], *p, *end;
	long long v, sum = -1;
	int n, i;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		n = (int)strtol(line, &p, 10);
		if (p == line || *p != ':' || n != irq)
			continue;
		p++;
		sum = 0;
		for (i = 0;; i++) {
			v = strtoll(p, &end, 10);
			if (end == p)
				break;
			if (cpu < 0 || cpu == i)
				sum += v;
			p = end;
		}
		break;
	}
	fclose(f);
	return sum;
}

/* IRQ numbers of the /proc/interrupts lines ending in @name, in order. */
static inline int lab_irqs_named(const char *name, int *irqs, int max)
{
	char line[1024];
	size_t ln = strlen(name), l;
	int n = 0, irq;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < max) {
		l = strlen(line);
		while (l && (line[l - 1] == '\n' || line[l - 1] == ' '))
			line[--l] = 0;
		if (l < ln || strcmp(line + l - ln, name))
			continue;
		if (sscanf(line, " %d:", &irq) == 1)
			irqs[n++] = irq;
	}
	fclose(f);
	return n;
}

/* IMSIC target CPU and identity of @irq, from /sys/kernel/debug/irq/irqs. */
static inline int lab_irq_imsic_vector(int irq, int *cpu, int *id)
{
	char path[128], line[256];
	FILE *f;

	*cpu = *id = -1;
	snprintf(path, sizeof(path), "/sys/kernel/debug/irq/irqs/%d", irq);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, " target_cpu : %d", cpu);
		sscanf(line, " target_local_id : %d", id);
	}
	fclose(f);
	return (*cpu >= 0 && *id >= 0) ? 0 : -ENOENT;
}

static inline int lab_irq_set_affinity(int irq, int cpu)
{
	char path[128], v[16];

	snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", irq);
	snprintf(v, sizeof(v), "%d", cpu);
	return edu_write_file(path, v);
}

static inline int lab_irq_effective_cpu(int irq)
{
	char path[128], v[64];

	snprintf(path, sizeof(path), "/proc/irq/%d/effective_affinity_list", irq);
	if (edu_read_file(path, v, sizeof(v)))
		return -1;
	return atoi(v);
}

/*
 * Move edu's IRQ to @cpu. PCI MSI moves are deferred to the next interrupt,
 * so raise one to carry it out. Returns the CPU it ends up on, or -errno.
 */
static inline int edu_move_irq(struct edu *e, int irq, int cpu)
{
	int r;

	r = lab_irq_set_affinity(irq, cpu);
	if (r)
		return r;
	edu_w32(e, EDU_REG_IRQ_RAISE, 0x1);
	if (edu_wait_irq(e, 2000) != 1)
		return -ETIMEDOUT;
	return lab_irq_effective_cpu(irq);
}

/*
 * Forge an MSI: edu's DMA engine writes the 32-bit @data to bus address
 * @addr, exactly what an MSI is. Uses the mapped page at EDU_IOVA.
 */
static inline int edu_forge_msi(struct edu *e, uint64_t addr, uint32_t data)
{
	int r;

	memcpy(e->buf + 3072, &data, sizeof(data));
	r = edu_dma(e, EDU_IOVA + 3072, EDU_DMA_BUF + 3072, 4, 0);
	if (r)
		return r;
	return edu_dma(e, EDU_DMA_BUF + 3072, addr, 4, EDU_DMA_TO_RAM);
}

/* Occurrences of @needle (and @needle2, if not NULL, on the same line) in the kernel log. */
static inline int lab_klog_count(const char *needle, const char *needle2)
{
	int size, n, count = 0;
	char *buf, *line, *save = NULL;

	size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	if (size <= 0)
		return -EIO;
	buf = calloc(1, size + 1);
	if (!buf)
		return -ENOMEM;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (n < 0) {
		free(buf);
		return -errno;
	}
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strstr(line, needle) && (!needle2 || strstr(line, needle2)))
			count++;
	free(buf);
	return count;
}

/* The IOMMU's fault line for an MSI blocked at @addr (cause 262). */
static inline int lab_msi_fault_count(uint64_t addr)
{
	char iotval[64];

	snprintf(iotval, sizeof(iotval), "iotval: %llx ", (unsigned long long)addr);
	return lab_klog_count("Fault 262 ", iotval);
}

/* The requester ID of PCI device @bdf ("dddd:bb:dd.f"), as the IOMMU reports it. */
static inline int lab_pci_rid(const char *bdf, uint32_t *rid)
{
	unsigned int dom, bus, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	*rid = (bus << 8) | (dev << 3) | fn;
	return 0;
}

/* The IOMMU's fault lines for MSIs of requester @rid blocked with cause 262. */
static inline int lab_rid_fault_count(uint32_t rid)
{
	char devid[32];

	snprintf(devid, sizeof(devid), "devid: 0x%x ", rid);
	return lab_klog_count("Fault 262 ", devid);
}

/*
 * The RISC-V IOMMU's command-queue IRQ: its IRQs are named after its PCI
 * device (@name gets it), the first one is the CQ's.
 */
static inline int lab_iommu_cq_irq(char *name, size_t len, int *irq)
{
	struct dirent *de;
	int irqs[8], n;
	DIR *d;

	name[0] = 0;
	d = opendir("/sys/class/iommu");
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "riscv-iommu@", 12))
			snprintf(name, len, "%.50s", de->d_name + 12);
	closedir(d);
	if (!name[0])
		return -ENODEV;
	n = lab_irqs_named(name, irqs, 8);
	if (n < 0)
		return n;
	if (n < 1)
		return -ENOENT;
	*irq = irqs[0];
	return 0;
}

#endif /* RVMSI_LAB_IMSIC_LAB_H */
