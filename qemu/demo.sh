#!/bin/sh
# prockill demo, run inside the guest by `make demo` (release kernel, module loaded).
# Each step prints what it is about to show, then shows it.
say() { printf '\n### %s\n' "$*"; }

say "The guest kernel"
uname -a

say "The prockill module is loaded (qemu/run did insmod /lib/modules/prockill.ko)"
grep '^prockill ' /proc/modules
ls /sys/module/prockill

say "What it said when it loaded"
dmesg | grep -i prockill | tail -5

say "Unloading and loading it again"
rmmod prockill && ! grep -q '^prockill ' /proc/modules && echo "unloaded: gone from /proc/modules"
insmod /lib/modules/prockill.ko && grep '^prockill ' /proc/modules

say "Demo done"
