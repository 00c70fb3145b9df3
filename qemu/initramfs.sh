#!/usr/bin/env bash
# Build (or reuse) the guest initramfs of one kernel flavour:
#   qemu/initramfs.sh release|debug
#
# Contents: busybox-static (+ applet symlinks), /init (qemu/init), the
# module built for that flavour at /lib/modules/prockill.ko, the tests' helper
# modules (tests/modules, built by qemu/helper-modules.sh) at
# /lib/modules/<name>.ko, trinity with its shared libraries and the dynamic
# loader (for qemu/trinity-guest.sh; skipped if trinity is not installed),
# the static guest
# binaries listed in qemu/guest-bins (installed with the mode given there,
# owner root, e.g. pk-setuid-helper 4755), /etc/passwd and /etc/group with
# root and `user` (1000:1000).
#
# PROCKILL_KO=/path/prockill.ko puts that module (built elsewhere for this
# flavour's kernel, e.g. from a modified copy of module/) in the image
# instead of this checkout's; its images are cached apart
# (<flavour>-<checkout>-ko-<hash>.cpio) and leave the usual one in place.
#
# Written with the kernel's gen_init_cpio (explicit modes and owners, no root
# needed). Cached as $PROCKILL_CACHE/initramfs/<flavour>-<checkout>-<hash>.cpio,
# keyed by the list and the content of every input; prints the path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
flavour=${1:?usage: initramfs.sh release|debug}
CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
die() { echo "initramfs: $*" >&2; exit 1; }

kdir=$(bash "$here/kernel.sh" --dir "$flavour") || exit 1
checkout=$(echo "$repo" | sha256sum | cut -c1-8)
ko=$CACHE/modbuild/$(basename "$kdir")-$checkout/module/prockill.ko
tag=$checkout
if [ -n "${PROCKILL_KO:-}" ]; then
    ko=$PROCKILL_KO tag=$checkout-ko
    [ -f "$ko" ] || die "PROCKILL_KO=$ko: no such file"
fi
[ -f "$ko" ] || die "no module for the $flavour kernel ($ko): run 'make module'"
helpers=$(bash "$here/helper-modules.sh" "$flavour" | tail -1) || die "helper modules (tests/modules) failed to build"
bindir=${CARGO_TARGET_DIR:-$repo/target}/x86_64-unknown-linux-gnu/release
busybox=/bin/busybox   # busybox-static: statically linked
[ -x "$busybox" ] || die "$busybox missing: 'apt-get install busybox-static'"

# gen_init_cpio from the kernel source, compiled once.
gen=$CACHE/tools/bin/gen_init_cpio
src=$(cat "$CACHE/kernel-src.path")
if ! [ -x "$gen" ] || [ "$src/usr/gen_init_cpio.c" -nt "$gen" ]; then
    mkdir -p "$(dirname "$gen")"
    gcc -O2 -o "$gen" "$src/usr/gen_init_cpio.c" || die "cannot compile $src/usr/gen_init_cpio.c"
fi

work=$CACHE/initramfs
mkdir -p "$work"
etc=$work/etc-files
mkdir -p "$etc"
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/home/user:/bin/sh' >"$etc/passwd"
printf '%s\n' 'root:x:0:' 'user:x:1000:' >"$etc/group"
printf '%s\n' 'export PS1="\u@prockill-vm:\w\$ "' 'alias ll="ls -l"' >"$etc/profile"

list=$(mktemp)
trap 'rm -f "$list"' EXIT
{
    for d in /bin /sbin /usr /usr/bin /usr/sbin /usr/local /usr/local/bin /lib /lib/modules \
             /etc /proc /sys /dev /tmp /run /mnt /root /home /var; do
        echo "dir $d 0755 0 0"
    done
    echo "dir /home/user 0755 1000 1000"
    echo "nod /dev/console 0600 0 0 c 5 1"
    echo "nod /dev/null 0666 0 0 c 1 3"
    echo "file /bin/busybox $busybox 0755 0 0"
    "$busybox" --list-full | sort | while read -r a; do
        [ "$a" = bin/busybox ] || echo "slink /$a /bin/busybox 0777 0 0"
    done
    echo "file /init $here/init 0755 0 0"
    echo "file /lib/modules/prockill.ko $ko 0644 0 0"
    for h in "$helpers"/*.ko; do echo "file /lib/modules/$(basename "$h") $h 0644 0 0"; done
    # trinity (dynamically linked): the binary, its libraries and the loader,
    # at the paths ldd names (the loader's directories are created first).
    if [ -x /usr/bin/trinity ]; then
        echo "file /usr/bin/trinity /usr/bin/trinity 0755 0 0"
        ldd /usr/bin/trinity | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u \
            | while read -r lib; do
                d=$(dirname "$lib")
                while [ "$d" != / ]; do echo "$d"; d=$(dirname "$d"); done
            done | sort -u | grep -vxE '/(usr|lib|usr/lib|usr/bin|bin|sbin|usr/sbin)' \
            | while read -r d; do echo "dir $d 0755 0 0"; done
        ldd /usr/bin/trinity | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u \
            | while read -r lib; do echo "file $lib $(readlink -f "$lib") 0755 0 0"; done
    fi
    for f in passwd group profile; do echo "file /etc/$f $etc/$f 0644 0 0"; done
    while read -r pkg bin mode; do
        case $pkg in ''|'#'*) continue ;; esac
        [ -x "$bindir/$bin" ] || die "guest binary $bindir/$bin missing: run 'make vm-tests'"
        echo "file /usr/bin/$bin $bindir/$bin $mode 0 0"
    done <"$here/guest-bins"
} >"$list"

key=$( { cat "$list"; awk '$1 == "file" { print $3 }' "$list" | xargs sha256sum; } | sha256sum | cut -c1-16)
out=$work/$flavour-$tag-$key.cpio
if ! [ -f "$out" ]; then
    "$gen" "$list" >"$out.tmp.$$" || die "gen_init_cpio failed"
    mv "$out.tmp.$$" "$out"
    # Keep only the newest image per flavour and checkout (other checkouts'
    # images may be in use), and per PROCKILL_KO or not.
    find "$work" -maxdepth 1 -name "$flavour-$tag-????????????????.cpio" ! -name "$(basename "$out")" -delete
fi
touch "$out"
echo "$out"
