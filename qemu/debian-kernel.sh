#!/usr/bin/env bash
# The `debian` flavour: Debian's own Rust-enabled kernel as a test target.
#
#   qemu/debian-kernel.sh [build]     fetch + build root + Rust metadata; prints the build dir
#   qemu/debian-kernel.sh --dir       print the build dir if it is ready (never builds)
#   qemu/debian-kernel.sh vmlinuz     print the path of Debian's vmlinuz (after build)
#   qemu/debian-kernel.sh module REPO MO LOG
#                                     build the module (M=REPO MO=MO) in the build root
#   qemu/debian-kernel.sh info        release, package versions, paths
#
# PROCKILL_DEBIAN_KERNEL (default 7.3.4+deb13-amd64) names the kernel release,
# e.g. 7.2.12+deb13-amd64: any linux-image-<release> in trixie-backports.
#
# 1. Through a private apt configuration in $PROCKILL_CACHE/debian/apt (its own
#    sources file, lists and cache: the machine's apt sources are never
#    touched) it downloads linux-binary-<release> (the vmlinuz),
#    linux-headers-<release> (+ its -common), and linux-source-X.Y of the
#    same Debian version.
# 2. A trixie build root made with debootstrap from deb.debian.org holds the
#    toolchain Debian built the kernel with (rustc, rust-src, bindgen,
#    libclang-19, gcc-14, pahole). rustc and gcc must print exactly the
#    kernel's CONFIG_RUSTC_VERSION_TEXT / CONFIG_CC_VERSION_TEXT.
# 3. In that root (a private mount namespace, the source bind-mounted read-only)
#    Debian's .config is copied to the build dir, `olddefconfig` must leave it
#    unchanged (a silent difference shifts struct layouts), `modules_prepare`
#    regenerates the Rust metadata the headers package lacks, and Debian's
#    Module.symvers is copied in.
# Cached under $PROCKILL_CACHE/debian/<release>-<key>, key = package versions
# + toolchain versions + recipe. Prints one line per phase on stderr.
set -euo pipefail
CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
REL=${PROCKILL_DEBIAN_KERNEL:-7.3.4+deb13-amd64}
DEB=$CACHE/debian
MIRROR=${PROCKILL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The build root's packages. Bump ROOT_RECIPE when this list changes.
# openssl: Kconfig asks `openssl list -key-managers` (OPENSSL_SUPPORTS_ML_DSA);
# without it olddefconfig drops that option and the MODULE_SIG_KEY_TYPE_MLDSA_* lines.
ROOT_PKGS=rustc,rust-src,rust-clippy,bindgen,libclang-19-dev,gcc-14,libc6-dev,make,bc,flex,bison,libelf-dev,libssl-dev,openssl,dwarves,kmod,cpio,python3,perl
ROOT_RECIPE="1: debootstrap --variant=minbase trixie $ROOT_PKGS"
# Bump RECIPE when the way the build dir is made changes.
RECIPE="1: debian .config; olddefconfig must not change it; modules_prepare; Module.symvers from headers"
KVARS=(CC=x86_64-linux-gnu-gcc-14 HOSTCC=x86_64-linux-gnu-gcc-14 "KERNELRELEASE=$REL")

die() { echo "debian-kernel: $*" >&2; exit 1; }
say() { echo "debian-kernel: $*" >&2; }
now() { date +%s; }

case $REL in *[!A-Za-z0-9.+~-]*|'') die "PROCKILL_DEBIAN_KERNEL='$REL' is not a kernel release name" ;; esac
series=$(echo "$REL" | sed -n 's/^\([0-9]*\.[0-9]*\)\..*/\1/p')
[ -n "$series" ] || die "cannot tell the X.Y series of PROCKILL_DEBIAN_KERNEL=$REL"

APT=$DEB/apt
aptopts=(-o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts=/nonexistent
         -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" -o Dir::State::status=/dev/null
         -o Debug::NoLocking=1 -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)

apt_setup() {
    mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$DEB/debs"
    cat >"$APT/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie-backports main
SRC
}
apt_update() {
    say "apt-get update (private configuration, trixie-backports)"
    apt-get -qq "${aptopts[@]}" update >"$APT/update.log" 2>&1 \
        || { say "private apt-get update failed; see $APT/update.log"; return 1; }
}
# pkg_field PKG FIELD: from the private lists (newest version).
pkg_field() { apt-cache "${aptopts[@]}" show "$1" 2>/dev/null | awk -v f="$2:" '$1 == f { sub(/^[^:]*: */, ""); print; exit }'; }

# Resolve the package names and versions; cached in $DEB/<rel>.versions so
# --dir and vmlinuz need neither network nor apt.
VERS=$DEB/$REL.versions
resolve() {
    apt_setup
    # Refreshed daily, so a new Debian revision of the same release is seen.
    if [ -z "$(pkg_field "linux-image-$REL" Version)" ]; then
        apt_update
    elif [ -z "$(find "$APT/lists" -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null)" ]; then
        apt_update || say "apt-get update failed (offline?): using the lists from before"
    fi
    local iv bin hv common srcpkg
    iv=$(pkg_field "linux-image-$REL" Version)
    [ -n "$iv" ] || die "no package linux-image-$REL in trixie-backports (PROCKILL_DEBIAN_KERNEL=$REL); see 'apt-cache search linux-image-' with $APT/sources.list"
    # The image is a meta package on 7.x: the vmlinuz is in linux-binary-<rel>.
    bin=$(pkg_field "linux-image-$REL" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-binary-[^ ]*\).*/\1/p' | head -1)
    bin=${bin:-linux-image-$REL}
    hv=$(pkg_field "linux-headers-$REL" Version)
    [ "$hv" = "$iv" ] || die "linux-headers-$REL is at '$hv', linux-image-$REL at $iv: they must match"
    common=$(pkg_field "linux-headers-$REL" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-headers-[^ ]*-common\).*/\1/p' | head -1)
    srcpkg=linux-source-$series
    apt-cache "${aptopts[@]}" show "$srcpkg=$iv" >/dev/null 2>&1 \
        || die "$srcpkg=$iv (the source of linux-image-$REL) is not in trixie-backports"
    {
        echo "image=linux-image-$REL $iv"
        echo "binary=$bin $iv"
        echo "headers=linux-headers-$REL $iv"
        echo "common=${common:-none} $iv"
        echo "source=$srcpkg $iv"
    } >"$VERS.tmp"
    mv "$VERS.tmp" "$VERS"
}
ver() { awk -F'[= ]' -v k="$1" '$1 == k { print $3 }' "$VERS"; }
pkgname() { awk -F'[= ]' -v k="$1" '$1 == k { print $2 }' "$VERS"; }

rootkey() { echo "$ROOT_RECIPE $MIRROR" | sha256sum | cut -c1-12; }
ROOT=$DEB/root-$(rootkey)
key() { { cat "$VERS"; echo "$RECIPE"; cat "$ROOT/.prockill-toolchain" 2>/dev/null; } | sha256sum | cut -c1-16; }
outdir() { echo "$DEB/$REL-$(key)"; }

# ---- --dir / vmlinuz: no building --------------------------------------
if [ "${1:-}" = --dir ] || [ "${1:-}" = vmlinuz ]; then
    { [ -f "$VERS" ] && [ -f "$ROOT/.prockill-root" ]; } || die "the debian kernel $REL is not set up: run 'qemu/pk kernel debian'"
    out=$(outdir)
    [ -f "$out/.prockill-built" ] || die "the debian kernel $REL is not prepared for these inputs: run 'qemu/pk kernel debian'"
    if [ "$1" = vmlinuz ]; then echo "$out/vmlinuz"; else echo "$out"; fi
    exit 0
fi

# in_root [-m HOSTDIR:ROOTDIR[:ro]]... -- CMD...: run CMD in the build root,
# in a private mount namespace (the bind mounts vanish with it).
in_root() {
    local mounts=() m
    while [ "${1:-}" = -m ]; do mounts+=("$2"); shift 2; done
    [ "${1:-}" = -- ] && shift
    # shellcheck disable=SC2016 # expanded by the inner sh
    local script='set -e; r=$1; shift; mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev"; '
    for m in "${mounts[@]}"; do
        IFS=: read -r h g ro <<<"$m"
        mkdir -p "$ROOT$g"
        script+="mount --bind '$h' \"\$r$g\"; "
        [ "${ro:-}" != ro ] || script+="mount -o remount,bind,ro \"\$r$g\"; "
    done
    # shellcheck disable=SC2016
    script+='exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"'
    unshare -m --propagation private sh -c "$script" sh "$ROOT" "$@"
}

# ---- the build root -------------------------------------------------------
make_root() {
    [ -f "$ROOT/.prockill-root" ] && return 0
    [ "$(id -u)" = 0 ] || die "creating the trixie build root needs root (debootstrap, chroot)"
    # One debootstrap at a time (two checkouts or make targets may race).
    mkdir -p "$DEB"
    exec 8>"$DEB/.root.lock"
    flock 8
    [ -f "$ROOT/.prockill-root" ] && return 0
    if ! command -v debootstrap >/dev/null; then
        say "installing debootstrap (bookworm)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade debootstrap \
            >"$DEB/debootstrap-install.log" 2>&1 || die "apt-get install debootstrap failed; see $DEB/debootstrap-install.log"
    fi
    [ -f /usr/share/debootstrap/scripts/trixie ] || die "this debootstrap does not know trixie: install a newer debootstrap (bookworm's 1.0.128+nmu2+deb12u2 does)"
    local t0 tmp=$ROOT.tmp
    t0=$(now)
    rm -rf "$tmp"
    say "creating the trixie build root $ROOT (debootstrap, a few minutes; log $DEB/debootstrap.log)"
    debootstrap --variant=minbase --include="$ROOT_PKGS" trixie "$tmp" "$MIRROR" >"$DEB/debootstrap.log" 2>&1 \
        || { tail -15 "$DEB/debootstrap.log" >&2; die "debootstrap trixie failed; see $DEB/debootstrap.log"; }
    rm -rf "$tmp/var/cache/apt/archives/"*.deb
    mv "$tmp" "$ROOT"
    touch "$ROOT/.prockill-root"
    say "build root ready in $(( $(now) - t0 ))s"
}
# The toolchain's versions, as the kernel's .config would spell them.
root_toolchain() {
    # shellcheck disable=SC2016 # expanded in the root
    in_root -- sh -c 'echo "rustc=$(rustc --version)"; echo "cc=$(x86_64-linux-gnu-gcc-14 --version | head -1)";
        echo "bindgen=$(bindgen --version 2>/dev/null | head -1)"; echo "pahole=$(pahole --version)";
        echo "clippy=$(clippy-driver --version 2>/dev/null | head -1)"' >"$ROOT/.prockill-toolchain"
}

fetch() {
    local k p v
    for k in binary headers common source; do
        p=$(pkgname "$k") v=$(ver "$k")
        [ "$p" = none ] && continue
        # The source is only needed unpacked; setup's tree may be that version.
        if [ "$k" = source ] && { [ -f "$CACHE/src/linux-$v/Makefile" ] || [ -f "$DEB/src/linux-$v/Makefile" ]; }; then continue; fi
        ls "$DEB/debs/${p}_${v//:/%3a}_"*.deb >/dev/null 2>&1 && continue
        say "downloading $p $v"
        (cd "$DEB/debs" && apt-get -qq "${aptopts[@]}" download "$p=$v" >>"$APT/download.log" 2>&1) \
            || die "apt-get download $p=$v failed; see $APT/download.log"
    done
}
debfile() { find "$DEB/debs" -maxdepth 1 -name "$(pkgname "$1")_$(ver "$1" | sed 's/:/%3a/')_*.deb" | head -1; }
# unpacked DIR-KEY: dpkg-deb -x once.
unpack() {
    local k=$1 d
    d=$DEB/pkgs/$(pkgname "$k")_$(ver "$k")
    if ! [ -d "$d" ]; then
        rm -rf "$d.tmp"; mkdir -p "$d.tmp"
        dpkg-deb -x "$(debfile "$k")" "$d.tmp"
        mv "$d.tmp" "$d"
    fi
    echo "$d"
}
# The kernel source of the same Debian version: setup's tree when it is that
# version, else unpacked here.
source_tree() {
    local v d deb tmp
    v=$(ver source)
    for d in "$CACHE/src/linux-$v" "$DEB/src/linux-$v"; do
        [ -f "$d/Makefile" ] && { echo "$d"; return; }
    done
    deb=$(debfile source)
    say "unpacking $(basename "$deb")"
    tmp=$(mktemp -d "$DEB/unpack.XXXXXX")
    dpkg-deb -x "$deb" "$tmp"
    tar -C "$tmp" -xJf "$tmp/usr/src/linux-source-$series.tar.xz"
    mkdir -p "$DEB/src"
    mv "$tmp/linux-source-$series" "$DEB/src/linux-$v"
    rm -rf "$tmp"
    # The .deb is 170 MB; the tree is what we keep.
    rm -f "$deb"
    echo "$DEB/src/linux-$v"
}

cfgval() { sed -n "s/^$1=\"\{0,1\}\(.*\)\"\{0,1\}\$/\1/p" "$2" | sed 's/"$//'; }
check_toolchain() {
    local cfg=$1 want have
    want=$(cfgval CONFIG_RUSTC_VERSION_TEXT "$cfg")
    have=$(sed -n 's/^rustc=//p' "$ROOT/.prockill-toolchain")
    [ "$want" = "$have" ] || die "toolchain mismatch: the kernel says CONFIG_RUSTC_VERSION_TEXT=\"$want\", the trixie root has \"$have\""
    want=$(cfgval CONFIG_CC_VERSION_TEXT "$cfg")
    have=$(sed -n 's/^cc=//p' "$ROOT/.prockill-toolchain")
    [ "$want" = "$have" ] || die "toolchain mismatch: the kernel says CONFIG_CC_VERSION_TEXT=\"$want\", the trixie root has \"$have\""
    want=$(cfgval CONFIG_PAHOLE_VERSION "$cfg")
    have=$(sed -n 's/^pahole=v\{0,1\}//p' "$ROOT/.prockill-toolchain" | tr -d .)
    [ -z "$want" ] || [ "$want" = "$have" ] || die "toolchain mismatch: CONFIG_PAHOLE_VERSION=$want, the root's pahole is $have"
}

# Differences between two .configs, as option names.
config_diff() {
    local a=$1 b=$2
    norm() { grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set)' "$1" | sed 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set/\1=n/' | sort; }
    { diff <(norm "$a") <(norm "$b") || true; } | sed -n 's/^[<>] \(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p' | sort -u | tr '\n' ' '
}

build() {
    local t0 out src hdr cfg d
    t0=$(now)
    resolve
    make_root
    [ -f "$ROOT/.prockill-toolchain" ] || root_toolchain
    out=$(outdir)
    if [ -f "$out/.prockill-built" ]; then echo "$out"; return 0; fi
    fetch
    hdr=$(unpack headers)/usr/src/linux-headers-$REL
    { [ -f "$hdr/.config" ] && [ -f "$hdr/Module.symvers" ]; } || die "$(pkgname headers) has no .config / Module.symvers under usr/src/linux-headers-$REL"
    cfg=$hdr/.config
    grep -qx CONFIG_RUST=y "$cfg" || die "Debian's $REL kernel is built without CONFIG_RUST: prockill cannot run on it"
    check_toolchain "$cfg"
    [ "$(pkgname common)" = none ] || unpack common >/dev/null
    d=$(unpack binary)
    [ -f "$d/usr/lib/modules/$REL/vmlinuz" ] || [ -f "$d/boot/vmlinuz-$REL" ] || die "no vmlinuz in $(pkgname binary)"
    src=$(source_tree)
    mkdir -p "$CACHE/build"
    # Serialise with the other kernel builds (2 cores).
    exec 9>"$CACHE/build/.lock"
    if ! flock -n 9; then say "waiting for another kernel build (lock $CACHE/build/.lock)"; flock 9; fi
    local t1
    t1=$(now)
    rm -rf "$out"; mkdir -p "$out"
    cp "$cfg" "$out/.config"
    say "olddefconfig + modules_prepare for $REL in $out (log $out/build.log)"
    in_root -m "$src:/src:ro" -m "$out:/build" -- \
        make -C /src O=/build "${KVARS[@]}" olddefconfig >"$out/build.log" 2>&1 \
        || { tail -20 "$out/build.log" >&2; die "olddefconfig failed; see $out/build.log"; }
    local changed
    changed=$(config_diff "$cfg" "$out/.config")
    [ -z "$changed" ] || die "olddefconfig changed Debian's .config (toolchain differs from Debian's?): $changed"
    in_root -m "$src:/src:ro" -m "$out:/build" -- \
        make -C /src O=/build "${KVARS[@]}" -j"$(nproc)" modules_prepare >>"$out/build.log" 2>&1 \
        || { tail -25 "$out/build.log" >&2; die "modules_prepare failed; see $out/build.log"; }
    changed=$(config_diff "$cfg" "$out/.config")
    [ -z "$changed" ] || die "modules_prepare changed Debian's .config: $changed"
    ls "$out"/rust/*.rmeta >/dev/null 2>&1 \
        || die "modules_prepare produced no Rust metadata (rust/*.rmeta) in $out"
    cp "$hdr/Module.symvers" "$out/Module.symvers"
    if [ -f "$d/usr/lib/modules/$REL/vmlinuz" ]; then cp "$d/usr/lib/modules/$REL/vmlinuz" "$out/vmlinuz"; else cp "$d/boot/vmlinuz-$REL" "$out/vmlinuz"; fi
    echo "$src" >"$out/.prockill-src"
    touch "$out/.prockill-built"
    # Keep only the newest build per release.
    find "$DEB" -maxdepth 1 -type d -name "$REL-*" ! -name "$(basename "$out")" -exec rm -rf {} +
    say "$REL prepared in $(( $(now) - t0 ))s (olddefconfig + modules_prepare $(( $(now) - t1 ))s)"
    echo "$out"
}

module() {
    local repo=$1 mo=$2 log=$3 out src clippy=()
    out=$(bash "$0" --dir) || exit 1
    src=$(cat "$out/.prockill-src")
    mkdir -p "$mo"
    # clippy-driver of the same rustc (rust-clippy 1.85.1 in the root).
    grep -q '^clippy=clippy' "$ROOT/.prockill-toolchain" && clippy=(CLIPPY=1)
    in_root -m "$src:/src:ro" -m "$out:/build:ro" -m "$repo:/repo:ro" -m "$mo:/mo" -- \
        make -C /build M=/repo MO=/mo "${KVARS[@]}" "${clippy[@]}" -j"$(nproc)" modules >"$log" 2>&1
}

case ${1:-build} in
    build) build ;;
    module) shift; [ $# = 3 ] || die "usage: debian-kernel.sh module REPO MO LOG"; module "$@" ;;
    info) resolve; cat "$VERS"; echo "root=$ROOT"; cat "$ROOT/.prockill-toolchain" 2>/dev/null; echo "out=$(outdir)" ;;
    *) sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
