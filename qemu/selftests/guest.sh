#!/bin/sh
# Runs inside the guest (busybox sh), from /host: qemu/selftests.sh copies
# the static selftest binaries to /host/<suite>/ and the selected lines of
# qemu/selftests/list to /host/list ("suite/binary seconds[!] [args...]").
# Each binary runs from its own directory (pidfd_info_test execs
# ./pidfd_exec_helper) with stdin from /dev/null and is stopped after its
# seconds (SIGTERM, SIGKILL 5 s later); "!" marks a binary whose stop at the
# time limit is expected (the cases it printed before still count).
#
# Its whole output goes to /dev/ttyS1 (no kernel messages there) between
#   PKST-BEGIN suite/binary
#   PKST-END suite/binary <exit status> <seconds> [cut]
# ("cut": stopped at an expected time limit); the console gets one progress
# line per binary.
out=/dev/ttyS1
[ -w "$out" ] || out=/dev/null
mod=no
grep -q '^prockill ' /proc/modules && mod=yes
echo "PKST-MODULE $mod" >"$out"
while read -r t secs args; do
    case $t in ''|'#'*) continue ;; esac
    cut=
    case $secs in *!) secs=${secs%!} cut=cut ;; esac
    d=/host/${t%/*} b=${t##*/}
    echo "PKST-BEGIN $t" >"$out"
    read -r u0 _ </proc/uptime
    # shellcheck disable=SC2086 # args are words
    (cd "$d" && exec timeout -s TERM -k 5 "$secs" "./$b" $args </dev/null >"$out" 2>&1)
    rc=$?
    read -r u1 _ </proc/uptime
    s=$(awk -v a="$u0" -v b="$u1" 'BEGIN { printf "%.1f", b - a }')
    [ "$rc" -ge 128 ] || cut=
    echo "PKST-END $t $rc $s $cut" >"$out"
    echo "selftest $t: exit $rc in ${s}s${cut:+ (stopped at its time limit, as expected)} (module: $mod)"
done </host/list
echo "PKST-DONE" >"$out"
