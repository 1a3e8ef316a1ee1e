#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Writes crash-world.json, the scenario the crash-convergence test kills the
# daemon through: few guest files per hart for many vCPUs (so every event
# moves guest files between VMs), VMs of every class, host, userspace and
# VM devices, and a timeline of vCPU moves, affinity moves, VM stops and
# starts and priority changes. Deterministic (fixed seed).
#     tests/crash/make-crash-world.py > tests/crash/crash-world.json
import json
import random

rnd = random.Random(6)
HARTS, GUEST_FILES = 8, 2
classes = ["strict", "balanced", "performance"]
vms, devices, timeline = [], [], []

for i in range(8):
    n = 2 + i % 3
    vms.append({"uuid": f"{0xc0de0000 + i:08x}-0000-4000-8000-{i:012x}", "name": f"vm{i}", "vcpus": n,
                "placement": [rnd.randrange(HARTS) for _ in range(n)], "class": classes[i % 3],
                "priority": rnd.randrange(-3, 4)})
for i, vm in enumerate(vms):
    devices.append({"name": f"0000:01:{i:02x}.0", "caps": ["msi-flat", "msi-mrif", "guest-file"], "owner": "vm",
                    "vm": vm["uuid"], "vectors": [{"hart": rnd.randrange(HARTS), "vcpu": v % vm["vcpus"]}
                                                  for v in range(6)]})
for i in range(6):
    devices.append({"name": f"0000:02:{i:02x}.0", "owner": "host",
                    "vectors": [{"hart": rnd.randrange(HARTS)} for _ in range(4)]})
for i in range(2):
    devices.append({"name": f"0000:03:{i:02x}.0", "owner": "userspace", "label": f"dpdk{i}",
                    "locked": i == 1, "vectors": [{"hart": rnd.randrange(HARTS)} for _ in range(3)]})

running = {vm["uuid"]: True for vm in vms}
for step in range(320):
    k = rnd.randrange(10)
    vm = rnd.choice(vms)
    if k < 4:
        timeline.append({"event": "vcpu_move", "vm": vm["uuid"], "vcpu": rnd.randrange(vm["vcpus"]),
                         "hart": rnd.randrange(HARTS)})
    elif k < 6:
        d = rnd.choice(devices[8:])
        timeline.append({"event": "affinity", "device": d["name"], "vector": rnd.randrange(len(d["vectors"])),
                         "hart": rnd.randrange(HARTS)})
    elif k < 8:
        timeline.append({"event": "vm_stop" if running[vm["uuid"]] else "vm_start", "vm": vm["uuid"]})
        running[vm["uuid"]] = not running[vm["uuid"]]
    else:
        timeline.append({"event": "set_priority", "vm": vm["uuid"], "priority": rnd.randrange(-5, 6)})
timeline.append({"event": "expect", "violations": 0})

print(json.dumps({"version": 1, "name": "crash-world",
                  "geometry": {"groups": 1, "harts": HARTS, "guest_files": GUEST_FILES, "ids": 255},
                  "vms": vms, "devices": devices, "timeline": timeline}, indent=1))
