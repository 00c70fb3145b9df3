#!/bin/sh
# prockill on a real machine: make install / make uninstall (POSIX sh, so the
# checks also run in the busybox guest).
#
#   qemu/install.sh check       only the checks; one line, exit 1 on the first refusal
#   qemu/install.sh install     checks, build, install to
#                               $DESTDIR/lib/modules/$KERNELRELEASE/updates/prockill.ko, depmod,
#                               and $DESTDIR/etc/modprobe.d/prockill.conf (modprobe -r
#                               sets cache=N before unloading: docs/kill-node.md)
#   qemu/install.sh uninstall   remove both (and unload when it is loaded), depmod
#
# Settings (environment or make variables):
#   KERNELRELEASE  target kernel (default: the running one, uname -r)
#   KDIR           its build directory (default /lib/modules/$KERNELRELEASE/build)
#   DESTDIR        staging root (default: none, the real /lib/modules); depmod -b
#   RUSTC          the rustc to build with (default: rustc on PATH, /usr/bin/rustc first)
#   LOAD=1         modprobe prockill after installing (running kernel only)
# KDIR may be the build directory of the debian flavour
# ($PROCKILL_CACHE/debian/<release>-<key>, made by qemu/debian-kernel.sh): the
# module is then built in its trixie build root with Debian's own toolchain.
#
# Refuses, with one line, when: lockdown (or module.sig_enforce) forbids
# unsigned modules on the running target kernel; the kernel has no
# CONFIG_RUST; the module's requirements are missing (KALLSYMS_ALL, KPROBES,
# FTRACE, DYNAMIC_FTRACE_WITH_ARGS, MODULES, MODULE_UNLOAD); the rustc differs from
# CONFIG_RUSTC_VERSION_TEXT; the build directory has no Rust metadata.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
cmd=${1:-install}
running=$(uname -r)
REL=${KERNELRELEASE:-$running}
KDIR=${KDIR:-/lib/modules/$REL/build}
DESTDIR=${DESTDIR:-}
NEEDS="RUST MODULES MODULE_UNLOAD KALLSYMS_ALL KPROBES FTRACE FUNCTION_TRACER DYNAMIC_FTRACE DYNAMIC_FTRACE_WITH_ARGS"

refuse() { echo "prockill install: refusing: $*" >&2; exit 1; }
say() { echo "prockill install: $*" >&2; }

# The target is the kernel running here (not a staging root for another one).
live() { [ -z "$DESTDIR" ] && [ "$REL" = "$running" ]; }

# Is KDIR the debian flavour's build dir? Then the build root has the rustc.
debian_kdir() { [ -f "$KDIR/.prockill-src" ] && [ -f "$KDIR/vmlinuz" ]; }

cfg() { sed -n "s/^CONFIG_$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$KDIR/.config"; }

check_lockdown() {
    live || return 0
    lf=/sys/kernel/security/lockdown
    if [ -r "$lf" ]; then
        mode=$(sed -n 's/.*\(\[[a-z]*\]\).*/\1/p' "$lf")
        case $mode in
            '[integrity]'|'[confidentiality]')
                refuse "kernel lockdown is $mode ($lf): it forbids loading unsigned modules like prockill.ko; sign it with a key the kernel trusts (e.g. a MOK enrolled with mokutil) or boot without lockdown (Secure Boot off)" ;;
        esac
    fi
    if [ "$(cat /sys/module/module/parameters/sig_enforce 2>/dev/null)" = Y ]; then
        refuse "module.sig_enforce is on: the kernel loads only signed modules and prockill.ko is unsigned; sign it with a trusted key or boot without module.sig_enforce=1"
    fi
}

check_kernel() {
    [ -f "$KDIR/.config" ] || refuse "no kernel build directory for $REL at $KDIR (no .config): install the headers (Debian: linux-headers-$REL; Ubuntu: linux-headers-$REL; Arch: linux-headers) or pass KDIR="
    [ "$(cfg RUST)" = y ] || refuse "kernel $REL has no CONFIG_RUST: it cannot load Rust modules"
    missing=
    for o in $NEEDS; do [ "$(cfg "$o")" = y ] || missing="$missing CONFIG_$o"; done
    [ -z "$missing" ] || refuse "kernel $REL lacks what prockill needs:$missing"
}

# The rustc that will build the module, as `rustc --version` prints it.
rustc_text() {
    if debian_kdir; then
        root=$(PROCKILL_DEBIAN_KERNEL=$REL bash "$here/debian-kernel.sh" info 2>/dev/null | sed -n 's/^root=//p')
        sed -n 's/^rustc=//p' "$root/.prockill-toolchain"
    else
        "$RUSTC" --version 2>/dev/null || echo "no rustc ($RUSTC)"
    fi
}

check_rust() {
    if [ -z "${RUSTC:-}" ]; then
        if [ -x /usr/bin/rustc ]; then RUSTC=/usr/bin/rustc; else RUSTC=rustc; fi
    fi
    want=$(cfg RUSTC_VERSION_TEXT)
    have=$(rustc_text)
    [ "$want" = "$have" ] || refuse "rustc mismatch: kernel $REL was built with '$want', the build would use '$have' (RUSTC=$RUSTC); install that exact rustc (and its rust-src) and pass RUSTC=/path/to/it"
    if ! ls "$KDIR"/rust/*.rmeta >/dev/null 2>&1; then
        refuse "no Rust metadata (rust/*.rmeta) in $KDIR: Ubuntu: 'apt install linux-lib-rust-$REL'; Debian: regenerate it from linux-source with Debian's toolchain (PROCKILL_DEBIAN_KERNEL=$REL qemu/debian-kernel.sh, then KDIR=<the directory it prints>); elsewhere: the distribution's package with the kernel's rust/ directory"
    fi
}

build() {
    if debian_kdir; then
        mo=$CACHE/install/$(basename "$KDIR")
        log=$mo.log
        mkdir -p "$mo"
        PROCKILL_DEBIAN_KERNEL=$REL bash "$here/debian-kernel.sh" module "$repo" "$mo" "$log" \
            || { tail -30 "$log" >&2; refuse "the module did not build against $KDIR (log $log)"; }
    else
        mo=$CACHE/install/$REL
        log=$mo.log
        mkdir -p "$mo"
        # The compiler the kernel names (x86_64-linux-gnu-gcc-14, gcc, clang ...).
        cc=$(cfg CC_VERSION_TEXT | cut -d' ' -f1)
        set -- RUSTC="$RUSTC"
        if [ "$(cfg CC_IS_CLANG)" = y ]; then
            # LLVM=-19 when only versioned binaries exist (Debian's clang-19).
            major=$(( $(cfg CLANG_VERSION) / 10000 ))
            if command -v clang >/dev/null 2>&1; then set -- "$@" LLVM=1; else set -- "$@" LLVM=-"$major"; fi
        elif command -v "$cc" >/dev/null 2>&1; then set -- "$@" CC="$cc" HOSTCC="$cc"; fi
        make -C "$KDIR" M="$repo" MO="$mo" "$@" -j"$(nproc)" modules >"$log" 2>&1 \
            || { tail -30 "$log" >&2; refuse "the module did not build against $KDIR (log $log)"; }
    fi
    KO=$mo/module/prockill.ko
    vm=$(modinfo -F vermagic "$KO" 2>/dev/null || true)
    case $vm in "$REL "*) ;; *) refuse "$KO has vermagic '$vm', not for $REL (KERNELRELEASE)";; esac
}

do_depmod() {
    if [ -n "$DESTDIR" ]; then
        # A staging root holds only this module, not the kernel's modules.order/builtin.
        err=$(mktemp)
        depmod -b "$DESTDIR" "$REL" 2>"$err" || { cat "$err" >&2; rm -f "$err"; refuse "depmod -b $DESTDIR $REL failed"; }
        grep -v 'WARNING: could not open modules\.' "$err" >&2 || true
        rm -f "$err"
    else
        depmod "$REL"
    fi
}

case $cmd in
    check)
        check_lockdown; check_kernel; check_rust
        say "ok: prockill can be built and loaded on $REL ($KDIR)" ;;
    install)
        check_lockdown; check_kernel; check_rust
        build
        dest=$DESTDIR/lib/modules/$REL/updates
        mkdir -p "$dest"
        install -m 0644 "$KO" "$dest/prockill.ko"
        mkdir -p "$DESTDIR/etc/modprobe.d"
        cat >"$DESTDIR/etc/modprobe.d/prockill.conf" <<'CONF'
# prockill: node dentries and listings hold the module through a per-CPU
# count, which itself holds a module reference; writing cache=N ends that
# count and drops the cached dentries, so that modprobe -r can unload it.
remove prockill echo N > /sys/module/prockill/parameters/cache; /sbin/modprobe -r --ignore-remove prockill
CONF
        do_depmod
        say "installed $dest/prockill.ko$( [ -z "$DESTDIR" ] || echo " (staging root $DESTDIR)" )"
        if [ "${LOAD:-0}" = 1 ]; then
            live || refuse "LOAD=1 only for the running kernel without DESTDIR"
            modprobe prockill && say "loaded: $(grep '^prockill ' /proc/modules)"
        elif live; then
            say "load it with: modprobe prockill"
        fi
        ;;
    uninstall)
        if live && grep -q '^prockill ' /proc/modules; then
            echo N >/sys/module/prockill/parameters/cache
            rmmod prockill
            say "unloaded prockill"
        fi
        rm -f "$DESTDIR/etc/modprobe.d/prockill.conf"
        f=$DESTDIR/lib/modules/$REL/updates/prockill.ko
        if [ -f "$f" ]; then rm -f "$f"; do_depmod; say "removed $f"; else say "nothing to remove ($f)"; fi
        ;;
    *) sed -n '2,24s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
