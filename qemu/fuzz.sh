#!/usr/bin/env bash
# qemu/fuzz.sh: `make fuzz`, the adversarial race engine in the guest.
#
#   qemu/fuzz.sh                       (FLAVOUR=debug|release|kcsan|debian, default debug)
#
# Builds what the guest needs (qemu/pk image FLAVOUR), boots it with the
# module loaded and runs pk-fuzz (tests/vm/src/bin/pk-fuzz.rs) for
# PROCKILL_FUZZ_SECS seconds (default 1800) with the seed PROCKILL_FUZZ_SEED
# (default: random, printed: `PROCKILL_FUZZ_SEED=N make fuzz` replays the
# same choices) and PROCKILL_FUZZ_PROCS worker processes (default 6). Then,
# if qemu/trinity-guest.sh exists, it runs in the same guest for
# PROCKILL_TRINITY_SECS seconds (default 300; 0: none). PROCKILL_FUZZ_ARGS adds
# pk-fuzz options, e.g. '--weights forkstorm=0,chain=60' (the episode mix).
#
# Fails on any kernel splat (qemu/run checks the console), any VIOLATION
# line, a guest that hangs or dies. Prints the ops/s figure. PROCKILL_SMP=1
# runs the guest with one vCPU (qemu/run). The console is kept in
# $PROCKILL_CACHE/logs/fuzz-console.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PROCKILL_CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
CACHE=$PROCKILL_CACHE
die() { echo "fuzz: $*" >&2; exit 1; }

flavour=${FLAVOUR:-debug}
case $flavour in release|debug|kcsan|debian) ;; *) die "FLAVOUR must be release, debug, kcsan or debian" ;; esac
secs=${PROCKILL_FUZZ_SECS:-1800}
seed=${PROCKILL_FUZZ_SEED:-$(( (RANDOM << 15 | RANDOM) % 1000000000 ))}
procs=${PROCKILL_FUZZ_PROCS:-6}
extra=${PROCKILL_FUZZ_ARGS:-}
[[ $extra =~ ^[-a-z0-9=,\ ]*$ ]] || die "PROCKILL_FUZZ_ARGS: unexpected characters"
trinity_secs=${PROCKILL_TRINITY_SECS:-300}
for v in "$secs" "$seed" "$procs" "$trinity_secs"; do
    [[ $v =~ ^[0-9]+$ ]] || die "PROCKILL_FUZZ_SECS, _SEED, _PROCS and PROCKILL_TRINITY_SECS must be numbers"
done
echo "fuzz: $flavour kernel, seed $seed, ${secs}s, $procs workers${extra:+, $extra} (replay: PROCKILL_FUZZ_SEED=$seed PROCKILL_FUZZ_SECS=$secs FLAVOUR=$flavour make fuzz)" >&2

"$here/pk" image "$flavour" >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/prockill-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The guest side: pk-fuzz, then the trinity phase if there is one. Its
# output also goes to /dev/ttyS1 (no kernel messages there) for parsing.
cat >"$work/fuzz-guest.sh" <<GUEST
#!/bin/sh
set -o pipefail
rc=0
pk-fuzz --seed $seed --secs $secs --procs $procs $extra 2>&1 | tee /dev/ttyS1 || rc=\$?
echo "PK-FUZZ-STATUS \$rc" >/dev/ttyS1
# ---- trinity hook (qemu/trinity-guest.sh, added by the trinity phase) ----
if [ -f /host/trinity-guest.sh ]; then
    echo "fuzz: trinity phase, ${trinity_secs}s"
    PROCKILL_TRINITY_SECS=$trinity_secs sh /host/trinity-guest.sh || { t=\$?; echo "PK-TRINITY-STATUS \$t" >/dev/ttyS1; [ \$rc != 0 ] || rc=\$t; }
fi
# ---- end of trinity hook ----
exit \$rc
GUEST
# PROCKILL_TRINITY_SECS=0: no trinity phase.
if [ -f "$here/trinity-guest.sh" ] && [ "$trinity_secs" -gt 0 ]; then
    cp "$here/trinity-guest.sh" "$work/trinity-guest.sh"
fi

# The guest's clock runs slower than the host's under a loaded TCG (a 300s
# debug-kernel run took 540s of wall time here): the time limit allows 3x.
results=$work/results
console=$CACHE/logs/fuzz-console.log
mkdir -p "$CACHE/logs"
rc=0
"$here/run" --no-build --flavour "$flavour" --dir "$work" --results "$results" --log "$console" \
    --timeout $(((secs + trinity_secs) * 3 + 600)) -- sh /host/fuzz-guest.sh || rc=$?

tr -d '\r' <"$results" >"$results.clean" 2>/dev/null || : >"$results.clean"
summary=$(grep -E '^pk-fuzz: [0-9]+ ops, [0-9]+ violations$' "$results.clean" | tail -1 || true)
rate=$(grep -E '^pk-fuzz: [0-9]+ ops/s' "$results.clean" | tail -1 || true)
viol=$(grep -c '^VIOLATION' "$results.clean" || true)
splat=$("$here/splat-check" "$console" || true)
echo "fuzz: seed $seed, $flavour kernel" >&2
if [ -n "$splat" ]; then
    # The last progress line before the splat tells how far the run got.
    line=${splat%%:*}
    upto=$(head -n "$line" "$console" | grep -E '^pk-fuzz: t=[0-9]+s' | tail -1 | sed 's/ ops=.*//' || true)
    echo "fuzz: KERNEL SPLAT at console line $line (${upto:-before the first progress line}): ${splat#*:}" >&2
fi
grep '^VIOLATION' "$results.clean" | head -20 >&2 || true
[ -z "$rate" ] || echo "fuzz: $rate" >&2
if [ -n "$summary" ]; then
    echo "fuzz: $summary" >&2
else
    echo "fuzz: pk-fuzz did not finish (qemu/run status $rc; console: $console)" >&2
fi
if [ -n "$splat" ] || ((rc != 0)) || ((viol > 0)) || [ -z "$summary" ]; then
    echo "fuzz: FAILED (qemu/run status $rc, $viol violation lines${splat:+, kernel splat}; console: $console)" >&2
    exit 1
fi
echo "fuzz: PASSED" >&2
