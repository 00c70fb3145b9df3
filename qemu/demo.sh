#!/bin/sh
# prockill demo, run inside the guest by `make demo` (release kernel, module
# loaded). A short look at the node, then pk-demo (tests/vm/src/bin/pk-demo.rs)
# runs the three scenarios; its exit status is the demo's.
# In `make shell`: `pk-demo`, or `pk-demo reuse|exec|setuid`.
say() { printf '\n### %s\n' "$*"; }

say "prockill: a writable /proc/<pid>/kill"
echo "Kernel $(uname -r); module: $(grep '^prockill ' /proc/modules | cut -d' ' -f1-3),"\
 "exec policy revoke=$(cat /sys/module/prockill/parameters/revoke)."
echo "Every process now has a kill node:"
echo "  \$ ls /proc/self/ | head -3"
ls /proc/self/ | head -3 | sed 's/^/  /'
echo "Reading one shows what a handle is bound to:"
echo "  \$ cat /proc/\$\$/kill"
cat /proc/$$/kill | sed 's/^/  /'
echo "Next: kill(2), pidfd_send_signal(2) and /proc/<pid>/kill, side by side, in three"
echo "situations where the process you meant is no longer the one you reach."
sleep "${PK_DEMO_PACE:-1}"

exec pk-demo --pace "${PK_DEMO_PACE:-1}"
