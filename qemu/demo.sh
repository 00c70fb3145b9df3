#!/bin/sh
# prockill demo, run inside the guest by `make demo` (release kernel, module
# loaded). A short look at the node, then pk-demo (tests/vm/src/bin/pk-demo.rs)
# runs the three scenarios with pauses between steps; its exit status is the
# demo's. In `make shell`: `pk-demo`, or `pk-demo reuse|exec|setuid`.
# PK_DEMO_PACE=SECONDS sets the pause (default 2; 0 for none).
pace=${PK_DEMO_PACE:-2}

printf '\n### prockill: a writable /proc/<pid>/kill\n'
echo "Linux $(uname -r), module prockill loaded (revoke=$(cat /sys/module/prockill/parameters/revoke))."
echo "Every process now has a kill node; reading one shows what it is bound to:"
echo "  \$ ls -l /proc/self/kill"
# The demo shows ls -l's own output (the node's mode and owner), not a file list to parse.
# shellcheck disable=SC2012
ls -l /proc/self/kill | sed 's/^/  /'
echo "  \$ cat /proc/\$\$/kill"
head -5 /proc/$$/kill | sed 's/^/  /'
echo "  ..."
echo "Next: kill(2), pidfd_send_signal(2) and /proc/<pid>/kill side by side, in three"
echo "situations where the process you meant is no longer the one you reach."
sleep "$pace"

exec pk-demo --pace "$pace"
