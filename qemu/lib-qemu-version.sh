#!/usr/bin/env bash
# qemu/lib-qemu-version.sh: sourced by qemu/setup.sh, qemu/bench.sh and
# qemu/profile.sh, which each need the version of a QEMU binary.
#
# qemu_version BIN: the version `BIN --version` reports ("10.0.2" of "QEMU
# emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)"), or nothing. Its
# status is that of the pipeline (under pipefail, BIN's failure). BIN's
# stderr is left alone: a caller that wants it quiet adds 2>/dev/null.
qemu_version() { "$1" --version | sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p'; }
