#!/usr/bin/env bash
# Build (or reuse) the throwaway helper modules of the VM tests
# (tests/modules/: pk_ipmodify_holder.ko) for one kernel flavour:
#   qemu/helper-modules.sh release|debug|kcsan|debian
#
# Built out of tree like the prockill module (qemu/pk do_module), into their
# own directory per kernel build and checkout:
# $PROCKILL_CACHE/modbuild/<kernel build>-<checkout>-helpers. Prints the
# directory holding the .ko files on stdout (last line); build output goes to
# stderr only on failure. qemu/initramfs.sh calls it and ships the modules at
# /lib/modules/<name>.ko.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
flavour=${1:?usage: helper-modules.sh release|debug}
CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
die() { echo "helper-modules: $*" >&2; exit 1; }

kdir=$(bash "$here/kernel.sh" --dir "$flavour") || exit 1
checkout=$(echo "$repo" | sha256sum | cut -c1-8)
mo=$CACHE/modbuild/$(basename "$kdir")-$checkout-helpers
src=$repo/tests/modules
mkdir -p "$mo"
# Skip make (about a second) when every .ko is newer than every source and
# than the kernel build.
up_to_date() {
    local f ko
    for f in "$src"/*.c; do
        ko=$mo/$(basename "${f%.c}").ko
        [ -f "$ko" ] && [ "$ko" -nt "$f" ] && [ "$ko" -nt "$src/Kbuild" ] \
            && [ "$ko" -nt "$kdir/.prockill-built" ] && [ "$ko" -nt "$0" ] || return 1
    done
}
# Debian's kernel: built in its trixie build root, with Debian's gcc.
build() {
    if [ "$flavour" = debian ]; then
        bash "$here/debian-kernel.sh" module "$src" "$mo" "$log"
    else
        make -C "$kdir" M="$src" MO="$mo" LLVM=-19 RUSTC=/usr/bin/rustc -j"$(nproc)" modules >"$log" 2>&1
    fi
}
if ! up_to_date; then
    log=$mo.log
    if ! build; then
        grep -E -A8 'error|warning' "$log" | head -60 >&2 || tail -30 "$log" >&2
        die "building tests/modules for the $flavour kernel failed (full log: $log)"
    fi
    if grep -qiE '(^|[^a-z_])warning' "$log"; then
        grep -iE -A8 '(^|[^a-z_])warning' "$log" | head -40 >&2
        die "tests/modules for the $flavour kernel has warnings (full log: $log)"
    fi
    for f in "$src"/*.c; do
        [ -f "$mo/$(basename "${f%.c}").ko" ] || die "$mo/$(basename "${f%.c}").ko missing after the build (log: $log)"
        touch "$mo/$(basename "${f%.c}").ko"
    done
fi
echo "$mo"
