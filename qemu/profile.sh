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
# The QEMU the VMs use (qemu/run --print-qemu; PROCKILL_PROFILE_QEMU
# overrides it), and the plugin API it speaks: 1 up to QEMU 8, 4 for 9.2 to
# 10.0 (qemu/profile/pk-count.c). One vCPU: the counts are per operation,
# and a second vCPU would only add its idle loop.
qbin=${PROCKILL_PROFILE_QEMU:-$("$here/run" --print-qemu)}
qver=$("$qbin" --version | sed -n 's/^QEMU emulator version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
read -r qmaj qmin <<<"${qver:-0 0}"
if ((qmaj <= 8)); then
    api=1
elif ((qmaj == 10 && qmin == 0)) || ((qmaj == 9 && qmin == 2)); then
    api=4
else
    echo "profile: $qbin is QEMU $qmaj.$qmin, whose plugin API qemu/profile/pk-count.c does not speak (1: QEMU <= 8; 4: 9.2 and 10.0); set PROCKILL_PROFILE_QEMU" >&2
    exit 1
fi
plugin=$out/pk-count-api$api.so
if [ ! -f "$plugin" ] || [ "$here/profile/pk-count.c" -nt "$plugin" ]; then
    gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -DPK_QEMU_PLUGIN_API=$api -o "$plugin" \
        "$here/profile/pk-count.c" -lpthread
fi
rm -f "$out/counts" "$out/results"
echo "profile: QEMU $qmaj.$qmin ($qbin), plugin API $api" >&2
PROCKILL_QEMU=$qbin PROCKILL_SMP=1 PROCKILL_QEMU_ARGS="-plugin $plugin,out=$out/counts" \
    "$here/run" --flavour release --no-module --timeout 1200 --results "$out/results" \
    --log "$out/console.log" -- 'pk-bench --count --results /dev/ttyS1' >&2
/usr/bin/python3 "$here/profile/symbolize.py" "$out/counts" "$out/results" "$@" | tee "$out/profile.txt"
