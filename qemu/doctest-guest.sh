#!/bin/sh
# qemu/doctest-guest.sh: runs in the guest (busybox sh, root, module loaded)
# under qemu/doctest.sh, with /host/labs/NNN.sh (one lab each: its commands,
# each preceded by a printf of "# COMMAND") and NNN.timeout.
#
# Each lab is read on standard input by a fresh `sh` in /root, as a shell
# reads what a student types (errors print as "sh: ...", no line numbers).
# That shell is this script's child, as `make shell`'s shell is /init's
# grandchild through setsid and cttyhack: both are the 4th exec since boot,
# so exec generations (exec_gen) read the same in a lab and in `make shell`.
# Its transcript goes to /dev/ttyS1 (no kernel messages there) between
# "=== LAB NNN rc=S" and "=== END NNN". Then every process the lab left
# running is killed and the module is put back as /init loaded it.
cd /root || exit 1

# Kill every user process but /init, this script and its parent (kernel
# threads have parent 0 or 2). No command substitution: no extra children.
cleanup() {
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        case $p in 1|"$$"|"$PPID") continue ;; esac
        read -r _ _ _ pp _ <"$d/stat" 2>/dev/null || continue
        case $pp in 0|2) continue ;; esac
        kill -KILL "$p" 2>/dev/null
    done
}
for lab in /host/labs/*.sh; do
    id=${lab##*/}
    id=${id%.sh}
    t=$(cat "/host/labs/$id.timeout" 2>/dev/null || echo 60)
    sh <"$lab" >/tmp/doctest.out 2>&1 &
    pid=$!
    (
        sleep "$t"
        echo "doctest: lab killed after ${t}s" >>/tmp/doctest.out
        kill -KILL "$pid"
    ) 2>/dev/null &
    wd=$!
    wait "$pid"
    rc=$?
    kill "$wd" 2>/dev/null
    wait "$wd" 2>/dev/null
    cleanup
    {
        echo "=== LAB $id rc=$rc"
        cat /tmp/doctest.out
        echo "=== END $id"
    } >/dev/ttyS1
    echo "doctest: lab $id done (status $rc)"
    # Back to the state /init left: module loaded, default policy.
    sleep 0.2
    if grep -q '^prockill ' /proc/modules; then
        echo setid >/sys/module/prockill/parameters/revoke
    else
        insmod /lib/modules/prockill.ko
    fi
    echo 0 >/sys/kernel/tracing/events/prockill/revoke/enable 2>/dev/null
    echo >/sys/kernel/tracing/trace 2>/dev/null
done
exit 0
