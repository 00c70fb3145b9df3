#!/bin/sh
# qemu/trinity-guest.sh: Debian's trinity syscall fuzzer against the kill
# nodes, in the guest (busybox sh, started as root with the module loaded):
#
#   PROCKILL_TRINITY_SECS=60 sh /host/trinity-guest.sh
#
# qemu/fuzz.sh copies it to /host; alone:
#   qemu/run --flavour debug --dir DIR-WITH-THIS-SCRIPT -- sh /host/trinity-guest.sh
#
# Starts two long-lived targets (pk-threads, 3 threads each, uid 1000, all
# catchable signals ignored so that writes to their nodes do not end them)
# and one trinity instance per victim node: /proc/A/kill, /proc/B/kill,
# /proc/A/task/<a non-leader tid>/kill and /proc/B/task/B/kill (trinity takes
# one -V path, and its walk of a -V directory skips symlinks to another
# filesystem, so one node per instance). Trinity runs as uid 1000 (it
# refuses root), in its own directory under /tmp, restricted with -c to the
# syscalls a node sees, 64-bit only (no IA32 emulation in these kernels),
# with only its pseudo-file (the victims) and epoll fds. This script opens
# nothing itself. After PROCKILL_TRINITY_SECS seconds (default 60) each
# instance gets SIGINT (trinity stops its children and prints its totals);
# whatever of uid 1000 still runs 30 s later is killed.
#
# Optional: PROCKILL_TRINITY_SEED (instance i uses SEED+i; otherwise
# trinity picks and prints its own), PROCKILL_TRINITY_CHILDREN (per
# instance, default 1), PROCKILL_TRINITY_STATS=1 (trinity --stats: print
# each instance's per-syscall errno distribution).
#
# Prints "trinity-guest: ..." lines (seeds, per-instance counts, targets
# left) and, last, one line
#   trinity: <ops> syscalls in <secs>s
# Exit status: 0 if trinity ran (some syscalls counted); 1 if it could not run.
# Kernel splats are the caller's to find (qemu/run fails on them).

secs=${PROCKILL_TRINITY_SECS:-60}
children=${PROCKILL_TRINITY_CHILDREN:-1}
seed=${PROCKILL_TRINITY_SEED:-}
stats=''
[ "${PROCKILL_TRINITY_STATS:-0}" = 0 ] || stats=--stats
die() { echo "trinity-guest: $*"; exit 1; }
case $secs in '' | *[!0-9]*) die "PROCKILL_TRINITY_SECS=$secs is not a number of seconds" ;; esac
case $children in '' | *[!0-9]*) die "PROCKILL_TRINITY_CHILDREN=$children is not a number" ;; esac
case $seed in *[!0-9]*) die "PROCKILL_TRINITY_SEED=$seed is not a number" ;; esac
[ "$(id -u)" = 0 ] || die "run me as root (I start trinity as uid 1000)"
command -v trinity >/dev/null || die "trinity is not in the guest image (qemu/initramfs.sh ships it if the host has it)"
command -v pk-threads >/dev/null || die "pk-threads is not in the guest image (qemu/guest-bins)"
grep -q '^prockill ' /proc/modules || die "the prockill module is not loaded"

work=$(mktemp -d /tmp/trinity.XXXXXX) || die "mktemp failed"
chown 1000:1000 "$work"
chmod 0755 "$work"
targets=''
tpids=''
# Everything of uid 1000 (trinity, its children, the targets), then the
# work directory.
cleanup() {
    # shellcheck disable=SC2086
    kill -9 $tpids $targets 2>/dev/null
    su -s /bin/sh user -c 'kill -9 -1' 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nthreads() {
    set -- "/proc/$1/task/"*
    [ -e "$1" ] && echo $# || echo 0
}

# ---- targets ---------------------------------------------------------------
for _ in 1 2; do
    # su execs the shell, which execs pk-threads: $! is the target.
    su -s /bin/sh user -c 'exec pk-threads 3' </dev/null >/dev/null 2>&1 &
    targets="$targets $!"
done
for p in $targets; do
    n=0
    while [ "$(nthreads "$p")" -lt 3 ] || [ "$(cat "/proc/$p/comm" 2>/dev/null)" != pk-threads ]; do
        n=$((n + 1))
        [ "$n" -le 300 ] || die "target $p did not start (comm $(cat "/proc/$p/comm" 2>/dev/null), $(nthreads "$p") threads)"
        sleep 0.1
    done
done
# shellcheck disable=SC2086
set -- $targets
a=$1 b=$2
ta=''
for t in "/proc/$a/task/"*; do
    [ "${t##*/}" = "$a" ] || { ta=${t##*/}; break; }
done
victims="/proc/$a/kill /proc/$b/kill /proc/$a/task/$ta/kill /proc/$b/task/$b/kill"
for v in $victims; do
    [ -e "$v" ] || die "victim $v does not exist"
done
echo "trinity-guest: targets $a and $b (uid $(stat -c %u "/proc/$a"), 3 threads each); victims: $victims"

# ---- trinity -----------------------------------------------------------------
# The syscalls a kill node sees (trinity's names, 64-bit).
calls='open openat openat2 read write pread64 pwrite64 readv writev preadv pwritev preadv2 pwritev2
       ioctl poll ppoll select pselect6 epoll_create1 epoll_ctl epoll_wait epoll_pwait epoll_pwait2
       close dup dup2 dup3 lseek mmap newfstat newstat fstatat64 statx fstatfs fcntl flock fsync fdatasync
       splice sendfile readahead fadvise64'
cargs=''
for c in $calls; do cargs="$cargs -c $c"; done
tainted0=$(cat /proc/sys/kernel/tainted)
t0=$(cut -d' ' -f1 /proc/uptime)
i=0
for v in $victims; do
    i=$((i + 1))
    d=$work/$i
    mkdir "$d" && chown 1000:1000 "$d"
    s=''
    [ -z "$seed" ] || s="-s $((seed + i))"
    # su execs the shell, which execs trinity: $! is trinity's main process.
    su -s /bin/sh user -c "cd $d && exec trinity -l off -a 64 -C $children -V $v \
        --disable-fds=sockets,pipes,perf,eventfd,timerfd,testfile,memfd,drm $stats $s $cargs" \
        </dev/null >"$work/out.$i" 2>&1 &
    tpids="$tpids $!"
done
sleep "$secs"
# shellcheck disable=SC2086
kill -INT $tpids 2>/dev/null
n=0
for p in $tpids; do
    while kill -0 "$p" 2>/dev/null; do
        n=$((n + 1))
        if [ "$n" -gt 300 ]; then
            echo "trinity-guest: trinity $p did not stop within 30 s of SIGINT: killed"
            kill -9 "$p" 2>/dev/null
            break
        fi
        sleep 0.1
    done
    wait "$p" 2>/dev/null
done
t1=$(cut -d' ' -f1 /proc/uptime)
el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')

# ---- report --------------------------------------------------------------------
total=0
i=0
for v in $victims; do
    i=$((i + 1))
    out=$work/out.$i
    # "Ran N syscalls. Successes: S  Failures: F" at the end; otherwise the
    # last progress line "N iterations".
    ops=$(sed -n 's/.*Ran \([0-9][0-9]*\) syscalls.*/\1/p' "$out" | tail -1)
    [ -n "$ops" ] || ops=$(sed -n 's/.*[^0-9]\([0-9][0-9]*\) iterations.*/\1/p' "$out" | tail -1)
    [ -n "$ops" ] || ops=0
    sd=$(sed -n 's/.*Initial random seed: \([0-9][0-9]*\).*/\1/p' "$out" | head -1)
    echo "trinity-guest: $v: $ops syscalls, seed ${sd:-?}"
    if [ "$ops" = 0 ]; then
        echo "trinity-guest: no syscall count from trinity for $v; its output ends:"
        tail -n 15 "$out" | sed 's/^/  | /'
    fi
    grep -iE 'taint|oops|BUG|panic' "$out" | grep -v 'tainted on startup' | head -5 | sed 's/^/  | /'
    [ -z "$stats" ] || sed -n '/Ran [0-9]* syscalls/,$p' "$out" | sed 's/^/  | /'
    total=$((total + ops))
done
alive=0
for p in $targets; do [ -d "/proc/$p" ] && alive=$((alive + 1)); done
echo "trinity-guest: targets alive at the end: $alive of 2"
tainted1=$(cat /proc/sys/kernel/tainted)
[ "$tainted1" = "$tainted0" ] || echo "trinity-guest: the kernel became tainted during the run ($tainted0 -> $tainted1)"
echo "trinity: $total syscalls in ${el}s"
[ "$total" -gt 0 ]
