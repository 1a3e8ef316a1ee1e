/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hook's domain XML parser against the libvirt samples in
 * tests/data/libvirt/ (what libvirt 9/10 pass on stdin) and against broken
 * documents, each of which must be refused with a reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domain-xml.h"
#include "fileio.h"
#include "tests.h"

static DomainInfo *parse_file(const char *name, int want, const char *want_err) {
        _cleanup_free_ char *path = NULL, *xml = NULL;
        DomainInfo *d = NULL;
        char err[1024] = "";
        size_t len;
        int r;

        ASSERT_OK(asprintf(&path, "%s/libvirt/%s", getenv("RVMSI_TEST_DATA") ?: "tests/data", name) < 0 ? -ENOMEM : 0);
        r = read_full_file(path, 1 << 24, &xml, &len);
        if (r < 0)
                TEST_FAIL("cannot read %s: %s", path, strerror(-r));
        r = domain_parse(xml, len, &d, err, sizeof(err));
        if (r != want)
                TEST_FAIL("%s: domain_parse() = %d (%s), want %d", name, r, err, want);
        if (want_err && !strstr(err, want_err))
                TEST_FAIL("%s: error '%s' does not mention '%s'", name, err, want_err);
        if (r < 0)
                ASSERT_TRUE(d == NULL);
        return d;
}

TEST(pinned_hostdev_strict) {
        _cleanup_(domain_info_freep) DomainInfo *d = parse_file("web1.xml", 0, NULL);

        ASSERT_STREQ(d->name, "web1");
        ASSERT_STREQ(d->uuid, "6c0f7e2a-9d1e-4b55-8a57-0a2b6c1b9d01");
        ASSERT_EQ(d->vcpus, 2u);
        ASSERT_EQ(d->n_pins, 2u);
        ASSERT_EQ(d->pins[0].vcpu, 0u);
        ASSERT_EQ(d->pins[0].n_cpus, 1u);
        ASSERT_EQ(d->pins[0].cpus[0], 1u);
        ASSERT_EQ(d->pins[1].vcpu, 1u);
        ASSERT_EQ(d->pins[1].cpus[0], 2u);
        ASSERT_EQ(d->n_hostdevs, 1u);
        ASSERT_STREQ(d->hostdevs[0].pci, "0000:00:03.0");
        ASSERT_TRUE(d->hostdevs[0].iommufd);
        ASSERT_TRUE(d->has_policy);
        ASSERT_STREQ(d->klass, "strict");
        ASSERT_EQ(d->priority, 100);
}

TEST(cpuset_default_vf_interface) {
        _cleanup_(domain_info_freep) DomainInfo *d = parse_file("db1.xml", 0, NULL);

        ASSERT_STREQ(d->name, "db1");
        ASSERT_EQ(d->vcpus, 4u);                /* the maximum, not current='2' */
        /* vcpupin for vCPU 2 overrides <vcpu cpuset='0-3,^2'>; the others get the default */
        ASSERT_EQ(d->n_pins, 4u);
        ASSERT_EQ(d->pins[0].n_cpus, 3u);
        ASSERT_EQ(d->pins[0].cpus[0], 0u);
        ASSERT_EQ(d->pins[0].cpus[1], 1u);
        ASSERT_EQ(d->pins[0].cpus[2], 3u);
        ASSERT_EQ(d->pins[2].vcpu, 2u);
        ASSERT_EQ(d->pins[2].n_cpus, 1u);
        ASSERT_EQ(d->pins[2].cpus[0], 3u);
        /* hostdev without iommufd, an SR-IOV VF through <interface type='hostdev'>;
         * the USB hostdev and the mdev are not PCI functions of ours */
        ASSERT_EQ(d->n_hostdevs, 2u);
        ASSERT_STREQ(d->hostdevs[0].pci, "0000:00:04.0");
        ASSERT_FALSE(d->hostdevs[0].iommufd);
        ASSERT_FALSE(d->hostdevs[0].interface);
        ASSERT_STREQ(d->hostdevs[1].pci, "0000:01:00.1");
        ASSERT_TRUE(d->hostdevs[1].interface);
        ASSERT_STREQ(d->klass, "balanced");
        ASSERT_EQ(d->priority, 0);
}

TEST(no_devices_no_metadata) {
        _cleanup_(domain_info_freep) DomainInfo *d = parse_file("plain.xml", 0, NULL);

        ASSERT_EQ(d->vcpus, 1u);
        ASSERT_EQ(d->n_pins, 0u);
        ASSERT_EQ(d->n_hostdevs, 0u);
        ASSERT_FALSE(d->has_policy);
        ASSERT_STREQ(d->klass, "");
}

TEST(auto_placement_ignores_cpuset) {
        _cleanup_(domain_info_freep) DomainInfo *d = parse_file("numad.xml", 0, NULL);

        ASSERT_EQ(d->vcpus, 2u);
        ASSERT_EQ(d->n_pins, 0u);
}

TEST(malformed) {
        parse_file("bad-truncated.xml", -EINVAL, "not well-formed");
        parse_file("bad-not-domain.xml", -EINVAL, "not a <domain>");
        parse_file("bad-no-uuid.xml", -EINVAL, "without <uuid>");
        parse_file("bad-uuid.xml", -EINVAL, "is not a UUID");
        parse_file("bad-vcpupin.xml", -EINVAL, "has 2 vCPUs");
        parse_file("bad-pci-slot.xml", -EINVAL, "slot='0x20'");
        parse_file("bad-class.xml", -EINVAL, "class='gold'");
        parse_file("bad-priority.xml", -EINVAL, "priority='5000'");
        parse_file("bad-entity.xml", -EINVAL, NULL);
        parse_file("empty.xml", -EINVAL, "no domain XML");
}

DEFINE_TEST_MAIN
