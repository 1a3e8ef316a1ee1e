#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Writes crash-ops-host.json, the host crash-ops.sh kills rvmsid on: 8 harts
# with 2 guest files each (so that VMs compete for them and every VM start or
# stop moves guest files), devices already given to VMs that register later
# over D-Bus (with vCPU routes: guest-file entries), VM devices without the
# guest-file capability (host-path entries: MRIF or identity), host and
# userspace devices, and free devices to attach. No VMs and no timeline: the
# workload registers the VMs. Deterministic (fixed seed).
#     tests/crash/make-crash-ops-host.py > tests/crash/crash-ops-host.json
import json
import random

rnd = random.Random(4)
HARTS, GUEST_FILES, N_VMS = 8, 2, 12
devices = []


def uuid(i):
    return f"cccccccc-0000-4000-8000-{i:012x}"


for i in range(N_VMS):
    n = 2 + i % 3
    for f in range(3):
        devices.append({"name": f"0000:3{f}:{i:02x}.0", "caps": ["msi-flat", "msi-mrif", "guest-file"],
                        "owner": "vm", "vm": uuid(i),
                        "vectors": [{"hart": rnd.randrange(HARTS), "vcpu": (v + f) % n} for v in range(4)]})
    devices.append({"name": f"0000:38:{i:02x}.0", "caps": ["msi-flat", "msi-mrif"], "owner": "vm",
                    "vm": uuid(i), "vectors": [{"hart": rnd.randrange(HARTS)} for _ in range(2)]})
for i in range(4):
    devices.append({"name": f"0000:40:{i:02x}.0", "owner": "host",
                    "vectors": [{"hart": rnd.randrange(HARTS)} for _ in range(3)]})
for i in range(2):
    devices.append({"name": f"0000:41:{i:02x}.0", "owner": "userspace", "label": f"dpdk{i}",
                    "vectors": [{"hart": rnd.randrange(HARTS)} for _ in range(2)]})
for i in range(6):
    devices.append({"name": f"0000:50:{i:02x}.0", "caps": ["msi-flat", "msi-mrif"], "owner": "none",
                    "vectors": [{"hart": rnd.randrange(HARTS)} for _ in range(2)]})

print(json.dumps({"version": 1,
                  "name": "crash-ops host: 12 VMs to register, their devices already assigned, host, "
                          "userspace and free devices",
                  "geometry": {"groups": 1, "harts": HARTS, "guest_files": GUEST_FILES, "ids": 255},
                  "devices": devices}, indent=1))
