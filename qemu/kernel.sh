#!/usr/bin/env bash
# Build (or reuse) a prockill guest kernel: qemu/kernel.sh release|debug
#   qemu/kernel.sh --dir release|debug: only print the build directory for the
#   current inputs (exit 1 if that kernel is not built); never builds.
#
# The build lives in $PROCKILL_CACHE/build/<flavour>-<key>, where key hashes
# the kernel source version, the config fragments, this script, and the
# rustc/bindgen/clang versions. A second call with the same inputs is a no-op.
# Prints the build directory on stdout (last line).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
only_dir=0
[ "${1:-}" = --dir ] && { only_dir=1; shift; }
flavour=${1:?usage: kernel.sh [--dir] release|debug|debian}
# debian: Debian's own kernel (not built here), prepared by qemu/debian-kernel.sh.
if [ "$flavour" = debian ]; then
    if ((only_dir)); then exec bash "$here/debian-kernel.sh" --dir; fi
    exec bash "$here/debian-kernel.sh" build
fi
CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
[ -f "$CACHE/kernel-src.path" ] || { echo "kernel.sh: no kernel source yet: run 'make setup' (qemu/setup.sh) first" >&2; exit 1; }
SRC=$(cat "$CACHE/kernel-src.path")
export PATH=$CACHE/tools/bin:$PATH LIBCLANG_PATH=/usr/lib/llvm-19/lib
MAKEFLAGS_K=(LLVM=-19 RUSTC=/usr/bin/rustc BINDGEN="$CACHE/tools/bin/bindgen")

case $flavour in
    release) frags=("$here/config.fragment") ;;
    debug) frags=("$here/config.fragment" "$here/debug.fragment") ;;
    kcsan) frags=("$here/config.fragment" "$here/kcsan.fragment") ;;
    *) echo "kernel.sh: unknown flavour '$flavour' (release|debug|kcsan)" >&2; exit 2 ;;
esac

# Bump RECIPE when the way the kernel is built below changes (the key hashes
# this instead of the whole script, so comments/messages don't force rebuilds).
RECIPE="1: allnoconfig + merge_config fragments + olddefconfig; bzImage modules_prepare; ${MAKEFLAGS_K[*]}"
key=$( { echo "$SRC"; make -s -C "$SRC" kernelversion; cat "${frags[@]}"; echo "$RECIPE"; /usr/bin/rustc --version;
         "$CACHE/tools/bin/bindgen" --version; clang-19 --version | head -1; } | sha256sum | cut -c1-16)
out=$CACHE/build/$flavour-$key
if ((only_dir)); then
    [ -f "$out/.prockill-built" ] || { echo "kernel.sh: the $flavour kernel for these inputs is not built: run 'make kernel-$flavour'" >&2; exit 1; }
    echo "$out"; exit 0
fi
# A finished build needs no lock (another flavour may be building).
if [ -f "$out/.prockill-built" ] && [ -f "$out/Module.symvers" ]; then
    ln -sfn "$out" "$CACHE/build/$flavour"
    echo "$out"; exit 0
fi
# One kernel build at a time, whatever the flavour: 2 cores (make test and a
# user's make demo, or two checkouts, may race).
mkdir -p "$CACHE/build"
exec 9>"$CACHE/build/.lock"
if ! flock -n 9; then
    echo "kernel: waiting for another kernel build to finish (lock $CACHE/build/.lock)" >&2
    flock 9
fi
# Out-of-tree modules need Module.symvers, which only `make modules` writes
# (there are no in-tree modules, so this takes seconds on a built tree).
ensure_symvers() {
    [ -f "$out/Module.symvers" ] && return 0
    make -C "$SRC" O="$out" "${MAKEFLAGS_K[@]}" -j"$(nproc)" modules >>"$out/build.log" 2>&1 \
        || { echo "kernel: make modules failed, last lines of $out/build.log:" >&2; tail -25 "$out/build.log" >&2; exit 1; }
}
if [ -f "$out/.prockill-built" ]; then
    ensure_symvers
    ln -sfn "$out" "$CACHE/build/$flavour"
    echo "$out"; exit 0
fi
mkdir -p "$out"
log=$out/build.log
echo "kernel: building $flavour kernel in $out (log: $log)" >&2
t0=$(date +%s)
{
    make -C "$SRC" O="$out" "${MAKEFLAGS_K[@]}" allnoconfig
    "$SRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}"
    make -C "$SRC" O="$out" "${MAKEFLAGS_K[@]}" olddefconfig
} >"$log" 2>&1 || { echo "kernel: configuring failed, see $log" >&2; exit 1; }
# Every option of the fragments must have survived olddefconfig.
lost=()
while IFS= read -r line; do
    case $line in CONFIG_*=*) ;; *) continue ;; esac
    opt=${line%%=*} val=${line#*=}
    if [ "$val" = n ]; then
        grep -qx "# $opt is not set" "$out/.config" || grep -qx "$opt=n" "$out/.config" || lost+=("$line")
    else
        grep -qx "$line" "$out/.config" || lost+=("$line")
    fi
done < <(cat "${frags[@]}")
if ((${#lost[@]})); then
    echo "kernel: options dropped by olddefconfig (missing dependencies?): ${lost[*]}" >&2
    exit 1
fi
make -C "$SRC" O="$out" "${MAKEFLAGS_K[@]}" -j"$(nproc)" bzImage modules_prepare >>"$log" 2>&1 \
    || { echo "kernel: build failed, last lines of $log:" >&2; tail -25 "$log" >&2; exit 1; }
ensure_symvers
touch "$out/.prockill-built"
ln -sfn "$out" "$CACHE/build/$flavour"
echo "kernel: $flavour built in $(( $(date +%s) - t0 ))s" >&2
echo "$out"
