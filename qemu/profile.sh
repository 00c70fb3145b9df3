#!/usr/bin/env bash
# qemu/profile.sh: `make profile`: what each operation costs in guest code.
#
#   qemu/profile.sh [--top N] [--md FILE] [--no-share | --share-only]
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
#
# Then a second boot, with two vCPUs and the plugin qemu/profile/pk-share.c:
# `pk-bench --share` runs each operation on two threads at once (one per
# vCPU, each on its own target process), and qemu/profile/share.py lists
# the kernel cache lines both vCPUs wrote, by writer function, for the
# node's open + close, send and exec paths and for the kernel's own
# (pidfd_open, pidfd_send_signal, exec without the module), with a verdict
# per path on issue 13's "no global lock or globally written cache line".
# --md FILE also writes FILE.share (and FILE.share.targets). --no-share skips
# that run, --share-only runs only it. PROCKILL_KO=/path/prockill.ko boots
# both with another build of the module (qemu/run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib-qemu-version.sh disable=SC1091 # followed when linted together (make lint) or with -x
. "$here/lib-qemu-version.sh"
export PROCKILL_CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
out=$PROCKILL_CACHE/profile
mkdir -p "$out"
count=1 share=1 md='' args=()
while (($#)); do
    case $1 in
        --no-share) share=0; shift ;;
        --share-only) count=0; shift ;;
        --md) md=${2:?}; args+=("$1" "$2"); shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
# The QEMU the VMs use (qemu/run --print-qemu; PROCKILL_PROFILE_QEMU
# overrides it), and the plugin API it speaks: 1 up to QEMU 8, 4 for 9.2 to
# 10.0 (qemu/profile/pk-count.c). One vCPU: the counts are per operation,
# and a second vCPU would only add its idle loop.
qbin=${PROCKILL_PROFILE_QEMU:-$("$here/run" --print-qemu)}
qver=$(qemu_version "$qbin")
[[ $qver == *.* ]] || qver=0.0
IFS=. read -r qmaj qmin _ <<<"$qver"
if ((qmaj <= 8)); then
    api=1
elif ((qmaj == 10 && qmin == 0)) || ((qmaj == 9 && qmin == 2)); then
    api=4
else
    echo "profile: $qbin is QEMU $qmaj.$qmin, whose plugin API qemu/profile/pk-count.c does not speak (1: QEMU <= 8; 4: 9.2 and 10.0); set PROCKILL_PROFILE_QEMU" >&2
    exit 1
fi
# Rebuilt when the plugin's source or the shared declarations
# (qemu/profile/pk-plugin.h) are newer than the build.
for p in count share; do
    so=$out/pk-$p-api$api.so
    if [ ! -f "$so" ] || [ "$here/profile/pk-$p.c" -nt "$so" ] || [ "$here/profile/pk-plugin.h" -nt "$so" ]; then
        gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -DPK_QEMU_PLUGIN_API=$api -o "$so" \
            "$here/profile/pk-$p.c" -lpthread
    fi
done
echo "profile: QEMU $qmaj.$qmin ($qbin), plugin API $api" >&2
if ((count)); then
    rm -f "$out/counts" "$out/results"
    PROCKILL_QEMU=$qbin PROCKILL_SMP=1 PROCKILL_QEMU_ARGS="-plugin $out/pk-count-api$api.so,out=$out/counts" \
        "$here/run" --flavour release --no-module --timeout 1200 --results "$out/results" \
        --log "$out/console.log" -- 'pk-bench --count --results /dev/ttyS1' >&2
    /usr/bin/python3 "$here/profile/symbolize.py" "$out/counts" "$out/results" "${args[@]}" | tee "$out/profile.txt"
fi
# Two vCPUs: each thread of pk-bench --share on its own.
if ((share)); then
    rm -f "$out/share-lines" "$out/share-results"
    PROCKILL_QEMU=$qbin PROCKILL_SMP=2 PROCKILL_QEMU_ARGS="-plugin $out/pk-share-api$api.so,out=$out/share-lines" \
        "$here/run" --flavour release --no-module --timeout 1200 --results "$out/share-results" \
        --log "$out/share-console.log" -- 'pk-bench --share --results /dev/ttyS1' >&2
    /usr/bin/python3 "$here/profile/share.py" "$out/share-lines" "$out/share-results" \
        ${md:+--md "$md.share"} | tee "$out/share.txt"
fi
