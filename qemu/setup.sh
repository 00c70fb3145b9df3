#!/usr/bin/env bash
# prockill setup: idempotent; every top-level make target calls it.
#
#  1. Debian packages from the machine's own suites (never touches apt sources,
#     never upgrades an installed package).
#  2. bindgen-cli (pinned) through cargo, into the cache.
#  3. A QEMU whose multi-threaded TCG does not run stale guest code: the
#     system's if it is 10.0 or newer, otherwise qemu-system-x86 and
#     qemu-system-data from bookworm-backports through a private apt
#     configuration, unpacked into the cache (QEMU 7.2, bookworm's, ran an
#     int3 the guest kernel had already rewritten; docs/procfs-glue.md §4).
#     PROCKILL_QEMU=/path/to/qemu-system-x86_64 skips this for one command.
#  4. Debian's linux-source-7.3 from trixie-backports through a *private* apt
#     configuration (own sources file, lists and cache), unpacked into the cache.
#     KERNEL_SRC=/path/to/tree skips this and uses the user's tree.
#
# Prints one line per phase. On a missing prerequisite it ends with one line
# saying what is missing and how to fix it.
set -euo pipefail

CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
BINDGEN_VERSION=0.73.2
PKGS=(bc bison flex libelf-dev libssl-dev cpio kmod make gcc libc6-dev
      rustc-web rust-web-src rust-web-clippy libclang-19-dev clang-19 lld-19 llvm-19
      qemu-system-x86 busybox-static python3 trinity shellcheck)

die() { echo "setup: $*" >&2; exit 1; }
log() { echo "setup: $*"; }

mkdir -p "$CACHE" || die "cannot create cache directory $CACHE (set PROCKILL_CACHE)"

# ---- 1. packages ---------------------------------------------------------
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}: run 'sudo apt-get install ${missing[*]}' or run make as root"
    log "installing Debian packages: ${missing[*]}"
    # Lists may be stale or absent on a fresh machine.
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade \
        "${missing[@]}" >"$CACHE/apt-install.log" 2>&1 \
        || die "apt-get install ${missing[*]} failed; see $CACHE/apt-install.log"
fi
[ -x /usr/bin/rustc ] || die "/usr/bin/rustc missing: 'apt-get install rustc-web rust-web-src' (bookworm-security)"
[ -x /usr/bin/clippy-driver ] || die "clippy-driver for /usr/bin/rustc missing: 'apt-get install rust-web-clippy'"
[ -d /usr/lib/rustlib/src/rust/library ] || die "rust-src missing for /usr/bin/rustc: 'apt-get install rust-web-src'"
[ -e /usr/lib/llvm-19/lib/libclang.so ] || [ -e /usr/lib/llvm-19/lib/libclang-19.so.1 ] \
    || die "libclang 19 missing: 'apt-get install libclang-19-dev'"

# ---- 2. bindgen ----------------------------------------------------------
BINDGEN=$CACHE/tools/bin/bindgen
if ! [ -x "$BINDGEN" ] || ! "$BINDGEN" --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
    command -v cargo >/dev/null || die "cargo not on PATH: install Rust with rustup"
    log "installing bindgen-cli $BINDGEN_VERSION (cargo install, about a minute)"
    cargo install -q bindgen-cli --version "$BINDGEN_VERSION" --locked --root "$CACHE/tools" \
        >"$CACHE/bindgen-install.log" 2>&1 \
        || die "cargo install bindgen-cli $BINDGEN_VERSION failed; see $CACHE/bindgen-install.log"
fi

# ---- 3. QEMU -------------------------------------------------------------
# qemu/run reads the binary from $CACHE/qemu.path.
QEMU_MIN_MAJOR=10
QEMU_SUITE=bookworm-backports
# shellcheck source=SCRIPTDIR/lib-qemu-version.sh disable=SC1091 # followed when linted together (make lint) or with -x
. "$(dirname "${BASH_SOURCE[0]}")/lib-qemu-version.sh"
qemu_major() { qemu_version "$1" 2>/dev/null | sed -n 's/\..*//p'; }
qemu_ok() { [ -x "$1" ] && [ "$(qemu_major "$1")" -ge "$QEMU_MIN_MAJOR" ] 2>/dev/null; }
sysq=$(command -v qemu-system-x86_64 || true)
if [ -n "${PROCKILL_QEMU:-}" ]; then
    # A choice for this command only (make profile's system QEMU, a test
    # against another version): qemu/run reads it; the cache keeps its own.
    [ -x "$PROCKILL_QEMU" ] || die "PROCKILL_QEMU=$PROCKILL_QEMU is not an executable"
elif [ -n "$sysq" ] && qemu_ok "$sysq"; then
    echo "$sysq" >"$CACHE/qemu.path"
elif ! { [ -f "$CACHE/qemu.path" ] && qemu_ok "$(cat "$CACHE/qemu.path")"; }; then
    # shellcheck source=/dev/null
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ "$codename" = bookworm ] || die "QEMU $(qemu_major "${sysq:-/bin/false}") is older than $QEMU_MIN_MAJOR.0 and this is not bookworm: install qemu-system-x86 >= $QEMU_MIN_MAJOR.0, or set PROCKILL_QEMU (docs/procfs-glue.md §4 says why)"
    QAPT=$CACHE/apt-qemu
    mkdir -p "$QAPT/lists/partial" "$QAPT/cache/archives/partial" "$QAPT/debs"
    cat >"$QAPT/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $QEMU_SUITE main
SRC
    qaptopts=(-o Dir::Etc::SourceList="$QAPT/sources.list" -o Dir::Etc::SourceParts=/nonexistent
              -o Dir::State::Lists="$QAPT/lists" -o Dir::Cache="$QAPT/cache"
              -o Debug::NoLocking=1 -o APT::Get::List-Cleanup=0)
    log "fetching qemu-system-x86 and qemu-system-data from $QEMU_SUITE (system QEMU is $(qemu_major "${sysq:-/bin/false}"); ~12 MB)"
    apt-get -qq "${qaptopts[@]}" update >"$QAPT/update.log" 2>&1 \
        || die "private apt-get update for $QEMU_SUITE failed; see $QAPT/update.log"
    rm -f "$QAPT"/debs/*.deb
    (cd "$QAPT/debs" && apt-get -qq "${qaptopts[@]}" download qemu-system-x86 qemu-system-data >"$QAPT/download.log" 2>&1) \
        || die "apt-get download qemu-system-x86 qemu-system-data ($QEMU_SUITE) failed; see $QAPT/download.log"
    qver=$(dpkg-deb -f "$QAPT"/debs/qemu-system-x86_*.deb Version)
    qroot=$CACHE/qemu/${qver//[:~+]/_}
    rm -rf "$qroot"; mkdir -p "$qroot"
    for d in "$QAPT"/debs/*.deb; do dpkg-deb -x "$d" "$qroot"; done
    qemu_ok "$qroot/usr/bin/qemu-system-x86_64" \
        || die "the unpacked $qroot/usr/bin/qemu-system-x86_64 does not run (missing libraries? ldd it)"
    echo "$qroot/usr/bin/qemu-system-x86_64" >"$CACHE/qemu.path"
    log "QEMU $qver ready: $qroot"
fi

# ---- 4. kernel source ----------------------------------------------------
if [ -n "${KERNEL_SRC:-}" ]; then
    { [ -f "$KERNEL_SRC/Makefile" ] && [ -d "$KERNEL_SRC/rust/kernel" ]; } \
        || die "KERNEL_SRC=$KERNEL_SRC is not a kernel tree with Rust support"
    echo "$KERNEL_SRC" >"$CACHE/kernel-src.path"
    exit 0
fi
if [ -f "$CACHE/kernel-src.path" ] && [ -f "$(cat "$CACHE/kernel-src.path")/Makefile" ] \
    && grep -q "^$CACHE/src/" "$CACHE/kernel-src.path"; then
    exit 0
fi
APT=$CACHE/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/debs"
cat >"$APT/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main
SRC
aptopts=(-o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts=/nonexistent
         -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache"
         -o Debug::NoLocking=1 -o APT::Get::List-Cleanup=0)
log "fetching linux-source-7.3 from trixie-backports (private apt config in $APT, ~170 MB)"
apt-get -qq "${aptopts[@]}" update >"$APT/update.log" 2>&1 \
    || die "private apt-get update for trixie-backports failed; see $APT/update.log"
(cd "$APT/debs" && apt-get -qq "${aptopts[@]}" download linux-source-7.3 >"$APT/download.log" 2>&1) \
    || die "apt-get download linux-source-7.3 failed; see $APT/download.log"
# The newest by mtime (earlier downloads may remain): ls -t is the tool for that,
# and Debian package file names have no blanks or newlines to trip it.
# shellcheck disable=SC2012
deb=$(ls -t "$APT"/debs/linux-source-7.3_*.deb | head -1)
ver=$(dpkg-deb -f "$deb" Version)
log "unpacking $(basename "$deb")"
tmp=$(mktemp -d "$CACHE/unpack.XXXXXX")
dpkg-deb -x "$deb" "$tmp"
mkdir -p "$CACHE/src"
tar -C "$tmp" -xJf "$tmp"/usr/src/linux-source-7.3.tar.xz
rm -rf "$CACHE/src/linux-$ver"
mv "$tmp/linux-source-7.3" "$CACHE/src/linux-$ver"
rm -rf "$tmp"
echo "$CACHE/src/linux-$ver" >"$CACHE/kernel-src.path"
log "kernel source ready: $CACHE/src/linux-$ver"
