/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A KVM guest in the lab (issue 12, first step): the lab kernel runs as a
 * RISC-V hypervisor under QEMU (H extension, AIA with 5 guest files per
 * hart), and this program is a minimal VMM: one VM, 2 MiB of RAM at
 * 0x80000000, one vCPU whose code counts in a register and stores each
 * value to an unbacked address, so that every store is an MMIO exit to
 * this program. It checks that the guest runs and that every exit carries
 * the next value, and reports the exits per second (the speed the lab's
 * guest-file tests will have to live with under QEMU's TCG).
 *
 * The second variant gives the VM KVM's AIA irqchip in hardware-accelerated
 * mode: the vCPU must then hold one of its hart's guest interrupt files to
 * run at all (KVM refuses the entry otherwise), and the guest's first store
 * goes to its own IMSIC page, which KVM maps onto that file: the identity
 * it writes must be pending in the file afterwards, read back through the
 * AIA device, with no exit for the store.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kselftest_harness.h"

#define GUEST_RAM	0x80000000UL
#define GUEST_RAM_SIZE	0x200000UL
#define GUEST_MMIO	0x10000000UL
#define GUEST_IMSIC	0x28000000UL	/* the vCPU's interrupt-file page */
#define GUEST_APLIC	0x0c000000UL
#define GUEST_ID	5		/* the identity the guest raises */
#define EXITS		2000
#define ISEL_EIP0	0x80

/*
 *  0: lui  t1, 0x10000        t1 = GUEST_MMIO
 *  4: addi t0, zero, 0
 *  8: addi t0, t0, 1          loop:
 * 12: sw   t0, 0(t1)          an MMIO exit with t0
 * 16: jal  zero, -8           j loop
 */
static const uint32_t guest_code[] = {
	0x10000337, 0x00000293, 0x00128293, 0x00532023, 0xff9ff06f,
};

/*
 * The same loop after one store of GUEST_ID to the guest's IMSIC page
 * (seteipnum_le, offset 0):
 *  0: lui  t2, 0x28000        t2 = GUEST_IMSIC
 *  4: addi t3, zero, 5
 *  8: sw   t3, 0(t2)
 * 12: the loop above
 */
static const uint32_t guest_code_imsic[] = {
	0x280003b7, 0x00500e13, 0x01c3a023,
	0x10000337, 0x00000293, 0x00128293, 0x00532023, 0xff9ff06f,
};

/* One attribute of the AIA device; @val is a u32 or a u64 as the attribute wants. */
static int aia_attr(int dev, unsigned long req, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uintptr_t)val };

	return ioctl(dev, req, &a) ? -errno : 0;
}

/*
 * KVM's AIA irqchip for one vCPU: an IMSIC at GUEST_IMSIC (63 identities,
 * one hart, no guest index bits), an APLIC with no sources.
 */
static int aia_create(int vm, uint32_t mode)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_RISCV_AIA };
	uint64_t imsic = GUEST_IMSIC, aplic = GUEST_APLIC;
	uint32_t ids = KVM_DEV_RISCV_AIA_IDS_MIN;
	int r;

	if (ioctl(vm, KVM_CREATE_DEVICE, &cd))
		return -errno;
	r = aia_attr(cd.fd, KVM_SET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_CONFIG,
		     KVM_DEV_RISCV_AIA_CONFIG_MODE, &mode);
	if (!r)
		r = aia_attr(cd.fd, KVM_SET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_CONFIG,
			     KVM_DEV_RISCV_AIA_CONFIG_IDS, &ids);
	if (!r)
		r = aia_attr(cd.fd, KVM_SET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_ADDR,
			     KVM_DEV_RISCV_AIA_ADDR_APLIC, &aplic);
	if (!r)
		r = aia_attr(cd.fd, KVM_SET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_ADDR,
			     KVM_DEV_RISCV_AIA_ADDR_IMSIC(0), &imsic);
	if (!r)
		r = aia_attr(cd.fd, KVM_SET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_CTRL,
			     KVM_DEV_RISCV_AIA_CTRL_INIT, NULL);
	if (r) {
		close(cd.fd);
		return r;
	}
	return cd.fd;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(kvm) {
	int kvm, vm, vcpu, aia;
	void *ram;
	struct kvm_run *run;
	size_t run_size;
};

FIXTURE_VARIANT(kvm) {
	bool aia;
};

/* No irqchip: the loop alone. */
FIXTURE_VARIANT_ADD(kvm, plain) {
	.aia = false,
};

/* KVM's AIA in hardware-accelerated mode: the vCPU runs on a guest file. */
FIXTURE_VARIANT_ADD(kvm, aia_guest_file) {
	.aia = true,
};

FIXTURE_SETUP(kvm)
{
	struct kvm_userspace_memory_region mr = {
		.slot = 0, .guest_phys_addr = GUEST_RAM, .memory_size = GUEST_RAM_SIZE,
	};
	uint64_t pc = GUEST_RAM;
	struct kvm_one_reg reg = {
		.id = KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE |
		      KVM_REG_RISCV_CORE_REG(regs.pc),
		.addr = (uintptr_t)&pc,
	};
	int n;

	self->vm = self->vcpu = self->aia = -1;
	self->ram = MAP_FAILED;
	self->run = MAP_FAILED;
	self->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->kvm) TH_LOG("/dev/kvm: %s", strerror(errno));
	ASSERT_EQ(KVM_API_VERSION, ioctl(self->kvm, KVM_GET_API_VERSION, 0));
	self->vm = ioctl(self->kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, self->vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));

	self->ram = mmap(NULL, GUEST_RAM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ram);
	if (variant->aia)
		memcpy(self->ram, guest_code_imsic, sizeof(guest_code_imsic));
	else
		memcpy(self->ram, guest_code, sizeof(guest_code));
	mr.userspace_addr = (uintptr_t)self->ram;
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &mr))
		TH_LOG("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));

	self->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, self->vcpu) TH_LOG("KVM_CREATE_VCPU: %s", strerror(errno));
	n = ioctl(self->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, n);
	self->run_size = n;
	self->run = mmap(NULL, self->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, self->vcpu, 0);
	ASSERT_NE(MAP_FAILED, self->run);
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_ONE_REG, &reg))
		TH_LOG("KVM_SET_ONE_REG(pc): %s", strerror(errno));
	if (variant->aia) {
		self->aia = aia_create(self->vm, KVM_DEV_RISCV_AIA_MODE_HWACCEL);
		ASSERT_LE(0, self->aia) TH_LOG("the AIA device: %s", strerror(-self->aia));
	}
}

FIXTURE_TEARDOWN(kvm)
{
	if (self->run != MAP_FAILED)
		munmap(self->run, self->run_size);
	if (self->ram != MAP_FAILED)
		munmap(self->ram, GUEST_RAM_SIZE);
	if (self->aia >= 0)
		close(self->aia);
	if (self->vcpu >= 0)
		close(self->vcpu);
	if (self->vm >= 0)
		close(self->vm);
	if (self->kvm >= 0)
		close(self->kvm);
}

/* Every store of the guest's loop reaches this VMM, in order. */
TEST_F(kvm, guest_counts_through_mmio)
{
	uint32_t want, got;
	double t0, t;
	int i;

	t0 = now();
	for (i = 0; i < EXITS; i++) {
		ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, 0)) TH_LOG("KVM_RUN: %s", strerror(errno));
		ASSERT_EQ((__u32)KVM_EXIT_MMIO, self->run->exit_reason)
			TH_LOG("exit %d: reason %u", i, self->run->exit_reason);
		ASSERT_EQ(GUEST_MMIO, self->run->mmio.phys_addr);
		ASSERT_EQ(1, self->run->mmio.is_write);
		ASSERT_EQ(4U, self->run->mmio.len);
		memcpy(&got, self->run->mmio.data, sizeof(got));
		want = i + 1;
		ASSERT_EQ(want, got);
	}
	t = now() - t0;
	TH_LOG("%d MMIO exits in %.3f s: %.0f exits/s", EXITS, t, EXITS / t);

	if (variant->aia) {
		uint64_t eip0 = 0;
		int r;

		/* The store went to the guest file, not to this VMM. */
		r = aia_attr(self->aia, KVM_GET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_IMSIC,
			     KVM_DEV_RISCV_AIA_IMSIC_MKATTR(0, ISEL_EIP0), &eip0);
		ASSERT_EQ(0, r) TH_LOG("reading eip0: %s", strerror(-r));
		TH_LOG("the vCPU's interrupt file: eip0 %#llx", (unsigned long long)eip0);
		ASSERT_EQ(1ULL << GUEST_ID, eip0);
	}
}

TEST_HARNESS_MAIN
