/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU hot-unplug: taking the CPU edu's IRQ is affine to offline migrates
 * the IRQ through the MSI remap domain's set_affinity (forced, on the dying
 * CPU). The table must follow: one identity entry, on the CPU the IRQ now
 * targets, and the MSI still arrives. Bringing the CPU back and moving the
 * IRQ there works as before.
 */
#include "imsic-lab.h"
#include "rvmsi-ioctl-lab.h"
#include "kselftest_harness.h"

static int cpu_online(int cpu, int on)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	return edu_write_file(path, on ? "1" : "0");
}

FIXTURE(hp) {
	struct edu e;
	int irq;
	int cpu;
};

FIXTURE_SETUP(hp)
{
	const char *step = "";
	int r;

	self->cpu = (int)sysconf(_SC_NPROCESSORS_CONF) - 1;
	ASSERT_LE(1, self->cpu);
	r = edu_open_msi(&self->e, &self->irq, &step);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", step, strerror(-r));
}

FIXTURE_TEARDOWN(hp)
{
	cpu_online(self->cpu, 1);
	edu_close(&self->e);
}

TEST_F(hp, offline_cpu_moves_the_entry)
{
	struct iommu_rvmsi_entry ent[4];
	uint32_t n = 4;
	int now;

	ASSERT_EQ(self->cpu, edu_move_irq(&self->e, self->irq, self->cpu));
	ASSERT_EQ(0, rvmsi_get_entries(&self->e, ent, &n));
	ASSERT_EQ(1U, n);
	ASSERT_EQ(self->cpu, ent[0].cpu);

	ASSERT_EQ(0, cpu_online(self->cpu, 0)) TH_LOG("cannot take CPU %d offline", self->cpu);
	usleep(200000);
	now = lab_irq_effective_cpu(self->irq);
	ASSERT_LE(0, now);
	ASSERT_NE(self->cpu, now);
	n = 4;
	ASSERT_EQ(0, rvmsi_get_entries(&self->e, ent, &n));
	TH_LOG("CPU %d offline: IRQ %d now on CPU %d; %u entry, on CPU %d", self->cpu,
	       self->irq, now, n, n ? ent[0].cpu : -1);
	ASSERT_EQ(1U, n);
	ASSERT_EQ(now, ent[0].cpu);
	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&self->e, 2000));

	/* Back online, and back to it. */
	ASSERT_EQ(0, cpu_online(self->cpu, 1));
	ASSERT_EQ(self->cpu, edu_move_irq(&self->e, self->irq, self->cpu));
	n = 4;
	ASSERT_EQ(0, rvmsi_get_entries(&self->e, ent, &n));
	ASSERT_EQ(1U, n);
	ASSERT_EQ(self->cpu, ent[0].cpu);
	edu_w32(&self->e, EDU_REG_IRQ_RAISE, 0x1);
	ASSERT_EQ(1ULL, (unsigned long long)edu_wait_irq(&self->e, 2000));
}

TEST_HARNESS_MAIN
