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
PROCKILL_SMP=1 PROCKILL_QEMU_ARGS="-plugin $plugin,out=$out/counts" \
    "$here/run" --flavour release --no-module --timeout 1200 --results "$out/results" \
    --log "$out/console.log" -- 'pk-bench --count --results /dev/ttyS1' >&2
/usr/bin/python3 "$here/profile/symbolize.py" "$out/counts" "$out/results" "$@" | tee "$out/profile.txt"
