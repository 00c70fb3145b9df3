#!/usr/bin/env bash
# qemu/profile.sh: `make profile`: what each operation costs in guest code.
#
#   qemu/profile.sh [--top N] [--md FILE]
#
# Boots the release kernel (one vCPU) with the TCG plugin
# qemu/profile/pk-count.c, runs `pk-bench --count` in the guest, and prints,
# per operation (sends, handle opens, /proc lookups, ps, fork+exec, with and
# without the module), the guest instructions and blocks it executes per
# iteration and the functions they are spent in. These counts do not move
# with the host's load, unlike the times of `make bench`; they are the
# profile behind docs/handle-life.md's "What a write costs". Output is kept
# in $PROCKILL_CACHE/profile/; --md FILE writes the tables that make bench
# puts in docs/benchmarks.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PROCKILL_CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
out=$PROCKILL_CACHE/profile
mkdir -p "$out"
plugin=$out/pk-count.so
if [ ! -f "$plugin" ] || [ "$here/profile/pk-count.c" -nt "$plugin" ]; then
    gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -o "$plugin" "$here/profile/pk-count.c" -lpthread
fi
rm -f "$out/counts" "$out/results"
# The plugin speaks QEMU's plugin API version 1, which QEMU 7.2 (bookworm's
# qemu-system-x86) loads and 10.0 no longer does: the profile runs on the
# system QEMU. Its one vCPU keeps it clear of 7.2's multi-threaded TCG bug
# (docs/procfs-glue.md §4), which needs a second vCPU running the code the
# guest rewrites; the profile loads the module once, before measuring.
PROCKILL_QEMU=${PROCKILL_PROFILE_QEMU:-/usr/bin/qemu-system-x86_64} \
PROCKILL_SMP=1 PROCKILL_QEMU_ARGS="-plugin $plugin,out=$out/counts" \
    "$here/run" --flavour release --no-module --timeout 1200 --results "$out/results" \
    --log "$out/console.log" -- 'pk-bench --count --results /dev/ttyS1' >&2
/usr/bin/python3 "$here/profile/symbolize.py" "$out/counts" "$out/results" "$@" | tee "$out/profile.txt"
