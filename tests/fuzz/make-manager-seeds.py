#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Writes the seed corpus of fuzz-manager (corpus/manager/): sequences of
# Manager operations in the harness's record format (see fuzz-manager.c).
#     tests/fuzz/make-manager-seeds.py tests/fuzz/corpus/manager
import os
import struct
import sys

DICT = ["aaaa", "bbbb", "BBBB", "20:00", "20:01", "10:00", "10:01", "10:02", "99:00",
        "vm", "host", "userspace", "none",
        "prepare", "start", "started", "stopped", "release", "migrate-out-begin", "migrate-in-prepare",
        "migrate-done", "reconnect", "strict", "balanced", "performance", "",
        "web", "db", "policy1", "policy-strict-nomrif", "policy-override"]
REGISTER, UNREGISTER, EVENT, ATTACH, DETACH, SET_POLICY, CHECK_POLICY, PLAN, EXPLAIN, DESCRIBE_SELECTED = range(10)
# DescribeSelected's flags: which of sections, devices, VMs, device limit, VM limit are given
SEL_SECTIONS, SEL_DEVICES, SEL_VMS, SEL_DEVICE_LIMIT, SEL_VM_LIMIT = (1 << i for i in range(5))


def d(name):
    return bytes([DICT.index(name) + 1, 0])


def raw(s):
    return s.encode() + b"\0"


def u32(v):
    return struct.pack(">I", v & 0xffffffff)


def register(name, uuid, klass, vcpus, prio=0, pins=()):
    b = bytes([REGISTER]) + name + uuid + klass + u32(vcpus) + u32(prio) + u32(len(pins))
    for vcpu, cpus in pins:
        b += u32(vcpu) + u32(len(cpus)) + b"".join(u32(c) for c in cpus)
    return b


def op(code, *args):
    return bytes([code]) + b"".join(args)


seeds = {
    "lifecycle": register(d("web"), d("bbbb"), d("balanced"), 2, 3, [(0, [1]), (1, [2, 3])])
    + op(ATTACH, d("20:00"), d("vm"), d("bbbb")) + op(EVENT, d("bbbb"), d("prepare"))
    + op(EXPLAIN, d("20:00"), d("")) + op(EVENT, d("bbbb"), d("started")) + op(EVENT, d("bbbb"), d("stopped"))
    + op(DETACH, d("20:00")) + op(EVENT, d("bbbb"), d("release")),
    "bad-arguments": register(raw("../x"), d("bbbb"), d(""), 1) + register(d("web"), raw("1234"), d(""), 1)
    + register(d("db"), d("bbbb"), raw("fast"), 0) + op(ATTACH, raw("bad name"), d("host"), d(""))
    + op(ATTACH, d("20:01"), d("vm"), d("")) + op(EVENT, d("aaaa"), raw("explode"))
    + op(SET_POLICY, raw("{")) + op(PLAN, raw("{}")) + op(EXPLAIN, d("99:00"), d(""))
    + op(DETACH, d("10:00")) + op(UNREGISTER, raw("nope")),
    "strict-without-mrif": op(SET_POLICY, d("policy-strict-nomrif"))
    + register(d("db"), d("BBBB"), d("strict"), 4, -7) + op(ATTACH, d("20:01"), d("vm"), d("bbbb"))
    + op(EVENT, d("bbbb"), d("start")) + op(CHECK_POLICY, d("policy-override")),
    "migration": op(EVENT, d("aaaa"), d("migrate-out-begin")) + op(EVENT, d("aaaa"), d("migrate-done"))
    + register(d("web"), d("aaaa"), d("performance"), 2) + op(EVENT, d("aaaa"), d("migrate-in-prepare"))
    + op(EVENT, d("aaaa"), d("migrate-done")) + op(EVENT, d("aaaa"), d("reconnect")),
    "owners": op(ATTACH, d("20:00"), d("host"), d("")) + op(ATTACH, d("20:01"), d("userspace"), d(""))
    + op(ATTACH, d("10:01"), d("vm"), d("aaaa")) + op(EXPLAIN, d("10:01"), raw("vcpu:0"))
    + op(DETACH, d("20:00")) + op(SET_POLICY, d("policy1")),
    "describe-selected": op(DESCRIBE_SELECTED, bytes([SEL_SECTIONS | SEL_DEVICES | SEL_DEVICE_LIMIT]),
                            bytes([2]), raw("devices"), raw("unsatisfied"), bytes([1]), d("20:00"),
                            u32(0), u32(0), u32(2))
    + op(DESCRIBE_SELECTED, bytes([SEL_DEVICE_LIMIT | SEL_VM_LIMIT]), u32(1), u32(0), u32(2), u32(1))
    + op(DESCRIBE_SELECTED, bytes([SEL_VMS]), bytes([1]), d("web"), u32(0), u32(0))
    + op(DESCRIBE_SELECTED, bytes([SEL_SECTIONS]), bytes([1]), raw("bogus"), u32(0), u32(0))
    + op(DESCRIBE_SELECTED, bytes([SEL_DEVICE_LIMIT]), u32(0), u32(0), u32(0)),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "manager")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name + ".bin"), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds written to {out}")
