#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Writes the seed corpus of fuzz-netlink (corpus/netlink/): well-formed
# messages of the "rvmsi" genl family as the kernel part sends them
# (include/uapi/linux/rvmsi.h), plus a few classic malformations. The
# fuzzer mutates from these. Run it again when the family changes:
#     tests/fuzz/make-netlink-seeds.py tests/fuzz/corpus/netlink
import os
import struct
import sys

NLA_F_NESTED = 0x8000
HOST_GET, DEV_GET, DEV_SET, ENTRY_NTF, FAULT_NTF = 1, 2, 3, 4, 5
FAMILY_ID = 0x1c  # any dynamic id: the parsers leave the type to the caller


def attr(t, payload):
    a = struct.pack("=HH", 4 + len(payload), t) + payload
    return a + b"\0" * ((4 - len(a) % 4) % 4)


def u8(t, v):
    return attr(t, struct.pack("=B", v))


def u32(t, v):
    return attr(t, struct.pack("=I", v & 0xffffffff))


def u64(t, v):
    return attr(t, struct.pack("=Q", v))


def string(t, s):
    return attr(t, s.encode() + b"\0")


def nest(t, *attrs):
    return attr(t | NLA_F_NESTED, b"".join(attrs))


def msg(cmd, *attrs, length=None):
    body = struct.pack("=BBH", cmd, 1, 0) + b"".join(attrs)
    n = 16 + len(body) if length is None else length
    return struct.pack("=IHHII", n, FAMILY_ID, 0, 1, 0) + body


def entry(index, kind, group=0, hart=0, guest=0, cpu=0, refcount=1, notices=None):
    a = [u32(1, index), u32(2, kind), u32(3, group), u32(4, hart), u32(5, guest), u32(6, cpu), u32(7, refcount)]
    if notices is not None:
        a.append(u64(8, notices))
    return nest(11, *a)


def dev(cmd, name, mode, entries=(), reason=None, locked=0):
    a = [string(1, name), u32(2, 0x18), string(3, "riscv-iommu.0"), u64(4, 0xb), u32(5, mode), u32(6, 2),
         u8(7, locked), u8(8, 1), u32(9, 8), u32(10, len(entries))]
    a += list(entries)
    if reason is not None:
        a.append(u32(12, reason))
    return msg(cmd, *a)


seeds = {
    "host": msg(HOST_GET, u32(1, 1), u32(2, 4), u32(3, 5), u32(4, 255), u32(5, 2)),
    "host-missing-ids": msg(HOST_GET, u32(1, 1), u32(2, 4), u32(3, 5)),
    "dev-identity": dev(DEV_GET, "0000:00:03.0", 2, [entry(0, 1, hart=0), entry(1, 1, hart=1, cpu=1, refcount=3)]),
    "dev-guest-file": dev(DEV_GET, "0000:00:04.0", 4, [entry(2, 2, hart=1, guest=3, cpu=1), entry(0, 3, cpu=-1, notices=17)]),
    "dev-blocked-empty": dev(DEV_GET, "0000:00:05.0", 1),
    "entry-ntf-affinity": dev(ENTRY_NTF, "0000:00:03.0", 2, [entry(0, 1, hart=2, cpu=2)], reason=3),
    "entry-ntf-gone": dev(ENTRY_NTF, "0000:00:03.0", 1, [], reason=5),
    "entry-ntf-no-reason": dev(ENTRY_NTF, "0000:00:03.0", 2, [entry(0, 1)]),
    "dev-duplicate-index": dev(DEV_GET, "0000:00:03.0", 2, [entry(1, 1), entry(1, 1, hart=1)]),
    "dev-bad-name": dev(DEV_GET, "../evil", 2),
    "fault-file": msg(FAULT_NTF, string(1, "0000:00:03.0"), u32(2, 0x18), u32(3, 262), u32(4, 2),
                      u64(5, 0x28001000), u32(6, 0), u32(7, 1), u32(8, 0), u32(9, 0)),
    "fault-no-device": msg(FAULT_NTF, string(1, ""), u32(2, 0x99), u32(3, 261), u32(4, 2), u64(5, 0xdead0000)),
    "fault-partial-file": msg(FAULT_NTF, string(1, "0000:00:03.0"), u32(3, 273), u64(5, 0x1000), u32(6, 0)),
    "truncated-attr": msg(HOST_GET, u32(1, 1))[:-2],
    "wrong-command": msg(DEV_SET, string(1, "0000:00:03.0"), u32(5, 2)),
    "attr-overruns-nest": msg(DEV_GET, string(1, "0000:00:03.0"), u32(5, 2),
                              struct.pack("=HH", 40, 11 | NLA_F_NESTED) + u32(1, 0)),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "netlink")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name + ".bin"), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds written to {out}")
