#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `meson install` into a scratch DESTDIR, then check that what points at
# something points at something installed: the unit's ExecStart=, the
# libvirt hook symlink, and that the D-Bus files, the completion and the man
# pages are where docs/operations.md says.
#
# usage: test-install.sh BUILD_DIR MESON
set -eu

build=$1
meson=$2
dest=$(mktemp -d "${TMPDIR:-/tmp}/rvmsi-install-XXXXXX")
trap 'rm -rf "$dest"' EXIT

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$dest" >/dev/null
fail=0

unit=$(find "$dest" -name rvmsid.service -path '*/system/*' | head -n 1)
[ -n "$unit" ] || { echo "FAIL: rvmsid.service not installed"; exit 1; }
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
if [ -x "$dest$exec_start" ]; then
        echo "ok: ExecStart=$exec_start is installed"
else
        echo "FAIL: ExecStart=$exec_start does not exist in the install"
        fail=1
fi

hook=$(find "$dest" -path '*/libvirt/hooks/qemu.d/rvmsi' | head -n 1)
if [ -z "$hook" ]; then
        echo "FAIL: no libvirt/hooks/qemu.d/rvmsi"
        fail=1
else
        target=$(readlink "$hook")
        case "$target" in
        /*) [ -x "$dest$target" ] && echo "ok: qemu.d/rvmsi -> $target" ||
                { echo "FAIL: qemu.d/rvmsi -> $target, not installed"; fail=1; } ;;
        *) echo "FAIL: qemu.d/rvmsi -> $target is not absolute"; fail=1 ;;
        esac
fi

for f in dbus-1/system.d/org.rvmsi.Manager1.conf dbus-1/system-services/org.rvmsi.Manager1.service \
         bash-completion/completions/rvmsictl man/man1/rvmsictl.1 man/man8/rvmsid.8; do
        if find "$dest" -path "*/$f" | grep -q .; then
                echo "ok: $f"
        else
                echo "FAIL: $f not installed"
                fail=1
        fi
done
exit $fail
