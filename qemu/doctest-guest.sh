#!/bin/sh
# qemu/doctest-guest.sh: runs in the guest (busybox sh, root, module loaded)
# under qemu/doctest.sh, with /host/labs/NNN.sh (one lab each: its commands,
# each preceded by a printf of "# COMMAND") and NNN.timeout.
#
# Each lab is read on standard input by a fresh `setsid sh` in /root, as a
# shell reads what a student types (errors print as "sh: ...", no line
# numbers). Its transcript goes to /dev/ttyS1 (no kernel messages there)
# between "=== LAB NNN rc=S" and "=== END NNN". Then whatever the lab left
# running is killed and the module is put back as /init loaded it.
cd /root || exit 1
for lab in /host/labs/*.sh; do
    id=${lab##*/}
    id=${id%.sh}
    t=$(cat "/host/labs/$id.timeout" 2>/dev/null || echo 60)
    setsid sh <"$lab" >/tmp/doctest.out 2>&1 &
    pid=$!
    (
        sleep "$t"
        echo "doctest: lab killed after ${t}s" >>/tmp/doctest.out
        kill -KILL -- "-$pid"
    ) 2>/dev/null &
    wd=$!
    wait "$pid"
    rc=$?
    kill "$wd" 2>/dev/null
    kill -KILL -- "-$pid" 2>/dev/null
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
done
exit 0
