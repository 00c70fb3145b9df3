#!/usr/bin/env bash
# qemu/bench.sh: `make bench`.
#
#   qemu/bench.sh [--quick] [--no-docs] [--only GROUPS]
#
# Builds what the release guest needs (qemu/pk image release), boots it once
# *without* the module (pk-bench loads and unloads it itself), runs pk-bench
# (bench/) in the guest, and from its machine-readable output (the guest's
# ttyS1, qemu/run --results) writes docs/benchmarks.md and the chart
# docs/bench-scaling.png (gnuplot). --quick: fewer rounds, shorter batches
# (a smoke test; with --no-docs nothing in docs/ is touched, the report goes
# to $PROCKILL_CACHE/bench/). --only send,handle,scaling,others,revoke,memory runs
# a subset (implies --no-docs). Without --only, qemu/profile.sh also runs and
# its instruction counts and its cache lines written by two CPUs go into the
# report.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export PROCKILL_CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
CACHE=$PROCKILL_CACHE
die() { echo "bench: $*" >&2; exit 1; }

quick='' docs=1 only=''
while (($#)); do
    case $1 in
        --quick) quick=--quick; shift ;;
        --no-docs) docs=0; shift ;;
        --only) only=${2:?}; docs=0; shift 2 ;;
        *) sed -n '2,15s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done
t0=$EPOCHREALTIME
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# gnuplot for the chart: Debian's gnuplot-nox, installed once (as qemu/setup.sh does).
if ! command -v gnuplot >/dev/null; then
    [ "$(id -u)" = 0 ] || die "gnuplot missing: run 'sudo apt-get install gnuplot-nox' (or make bench as root)"
    echo "bench: installing gnuplot-nox (Debian package, for the chart)" >&2
    mkdir -p "$CACHE"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade gnuplot-nox \
        >"$CACHE/apt-install-gnuplot.log" 2>&1 \
        || die "apt-get install gnuplot-nox failed; see $CACHE/apt-install-gnuplot.log"
fi

# What the release guest needs (qemu/pk image release). When the release
# kernel is already built, its step is skipped: it would wait for the kernel
# build lock, which a debug kernel build may be holding for minutes.
if bash "$here/kernel.sh" --dir release >/dev/null 2>&1; then
    "$here/pk" setup
    "$here/pk" module release
    "$here/pk" vm-tests
    "$here/pk" initramfs release
else
    "$here/pk" image release
fi

out=$CACHE/bench
mkdir -p "$out"
results=$out/results.txt
console=$out/console.log
rm -f "$results"
args="${quick:+ $quick}${only:+ --only $only}"
cmd="pk-bench$args --results /dev/ttyS1"
echo "== bench: booting the release kernel: $cmd" >&2
rc=0
"$here/run" --no-build --flavour release --no-module --results "$results" --log "$console" --timeout 1200 -- "$cmd" || rc=$?
tr -d '\r' <"$results" >"$results.tmp" && mv "$results.tmp" "$results"
grep -q '^PK-BENCH-END$' "$results" || die "pk-bench produced no results (qemu/run status $rc; console: $console)"
err=$(sed -n 's/^META error //p' "$results")
[ -z "$err" ] || die "pk-bench failed in the guest: $err (console: $console)"
((rc == 0)) || die "the guest run failed (qemu/run status $rc; console: $console)"

# The deterministic companion (qemu/profile.sh): guest instructions per
# operation, counted by a TCG plugin in a second, one-vCPU boot. Not for --only.
prof=
if [ -z "$only" ]; then
    echo "== bench: counting guest instructions (qemu/profile.sh)" >&2
    if bash "$here/profile.sh" --md "$out/profile.md" >"$out/profile.log" 2>&1; then
        prof=$out/profile.md
    else
        die "qemu/profile.sh failed (log: $out/profile.log)"
    fi
fi

meta() { sed -n "s/^META $1 //p" "$results"; }
if ((docs)); then
    md=$repo/docs/benchmarks.md png=$repo/docs/bench-scaling.png
else
    md=$out/benchmarks.md png=$out/bench-scaling.png
fi

# ---- chart: exec time against handles (log x); n = 0 as a horizontal line.
dat=$out/scaling.dat
awk '$1 == "DAT" { k = $3; n[k] = 1; v[$2, k] = $4 " " $5 " " $6 }
     END { print "# n own(med p25 p75) others(med p25 p75) pidfd-control(med p25 p75) others-pidfd-control(med p25 p75), µs"
           for (k in n) print k, v["own", k], v["others", k], v["pidfd", k], v["otherspidfd", k] }' "$results" | sort -n >"$dat"
own0=$(awk '$1 == 0 { print $2 }' "$dat")
if [ -n "$own0" ]; then
    gnuplot <<EOF || die "gnuplot failed"
set terminal pngcairo size 1000,620 font "DejaVu Sans,11"
set output "$png"
set title "Exec cost against open handles (revoke=exec; median over rounds, bars p25 - p75)"
set logscale x 10
set xrange [0.7:45000]
set xtics ("1" 1, "10" 10, "100" 100, "1000" 1000, "3000" 3000, "10000" 10000, "30000" 30000)
set xlabel "handles open (n); n = 0 is the dashed line"
set ylabel "exec /bin/true: release -> reaped (ms)"
set yrange [0:*]
set grid
set key top left box opaque
plot "$dat" using 1:(\$2/1000):(\$3/1000):(\$4/1000) with yerrorlines lw 2 pt 7 lc rgb "#c0392b" title "n kill handles on the exec'ing process (all revoked)", \
     "$dat" using 1:(\$8/1000):(\$9/1000):(\$10/1000) with yerrorlines lw 2 pt 9 lc rgb "#7f8c8d" title "control: n pidfds on the exec'ing process (no module work)", \
     "$dat" using 1:(\$5/1000):(\$6/1000):(\$7/1000) with yerrorlines lw 2 pt 5 lc rgb "#2471a3" title "n kill handles on other processes", \
     "$dat" using 1:(\$11/1000):(\$12/1000):(\$13/1000) with yerrorlines lw 1 dt 3 pt 4 lc rgb "#5dade2" title "control: n pidfds on other processes", \
     $own0/1000 with lines dt 2 lc rgb "#000000" title "n = 0 (own series)"
EOF
fi

# ---- docs/benchmarks.md
kernel=$(meta kernel)
elapsed=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
load=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
accel=${PROCKILL_ACCEL:-tcg}
{
    echo "# Benchmarks"
    echo
    echo "Generated by \`make bench\` (\`qemu/bench.sh${quick:+ $quick}\`): one boot of the release kernel, in which \`pk-bench\`"
    echo "(\`bench/src/main.rs\`) loads and unloads the module itself and measures every comparison in the same run."
    echo "Absolute times under emulation mean little; read the **ratios**. Each ratio is the median (p25 – p75) of"
    echo "per-round ratios: in every round each variant runs a few batches (the fastest counts: the host preempting QEMU only"
    echo "adds time), in an order that rotates from round to round. The guest has no usable clocksource under TCG (no HPET"
    echo "or ACPI timer; \`CLOCK_MONOTONIC\` ticks in 4 ms jiffies), so intervals are timed with \`rdtsc\`, which QEMU derives"
    echo "from the host's TSC, at a rate calibrated against \`CLOCK_MONOTONIC\` ($(meta tsc_mhz_calibrated) MHz over 1 s; $(meta tsc_mhz_whole_run) MHz over the whole run)."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
    echo "| command | \`make bench\` → guest: \`$cmd\` |"
    echo "| kernel | $kernel (release flavour, \`qemu/config.fragment\`) |"
    # The QEMU qemu/run used; times differ between versions.
    qbin=$("$here/run" --print-qemu)
    # shellcheck source=SCRIPTDIR/lib-qemu-version.sh disable=SC1091 # followed when linted together (make lint) or with -x
    . "$here/lib-qemu-version.sh"
    qver=$(qemu_version "$qbin" 2>/dev/null)
    echo "| machine | host: $(nproc) CPUs ($cpu), load average $load0 at the start, $load at the end; guest: QEMU $qver ${accel^^}, $(meta guest_cpus) vCPUs, ${PROCKILL_MEM:-1G} |"
    echo "| duration | \`make bench\` ${elapsed}s in all, of which pk-bench $(meta time_total)s in the guest |"
    echo
    echo "## Targets"
    echo
    sed -n 's/^SUM //p' "$results" | sed 's/^/- /; s/: PASS$/: **PASS**/; s/: MISS$/: **MISS**/'
    if [ -n "$prof" ] && [ -f "$prof.targets" ]; then
        sed 's/^/- /; s/: PASS$/: **PASS**/; s/: MISS$/: **MISS**/' "$prof.targets"
    fi
    if [ -n "$prof" ] && [ -f "$prof.share.targets" ]; then
        sed 's/^/- /; s/: PASS$/: **PASS**/; s/; MISS: /; **MISS**: /' "$prof.share.targets"
    fi
    # Busy: judged on the load before the benchmark's own VM started (at the
    # end, that VM itself accounts for about 1).
    busy=$(awk -v a="${load0%% *}" -v n="$(nproc)" 'BEGIN { print (a > n / 2) ? 1 : 0 }')
    if ((busy)); then
        echo
        echo "**The host was busy during this run** (1-minute load average ${load0%% *} before it started and ${load%% *} at the end, on $(nproc) CPUs;"
        echo "other builds and VMs were running): expect wider spreads than on a quiet machine, and read the ratios with their p25 – p75."
    fi
    if [ -n "${BENCH_NOTE:-}" ]; then
        echo
        echo "$BENCH_NOTE"
    fi
    echo
    # The cache lines two CPUs both write (qemu/profile.sh's second boot)
    # go beside the two-thread time row, before the costs to others.
    sed -n 's/^MD //p; s/^MD$//p' "$results" | if [ -n "$prof" ] && [ -f "$prof.share" ]; then
        awk -v f="$prof.share" '/^## What the module costs everyone else/ && !done { while ((getline l < f) > 0) print l; done = 1 } { print }'
    else
        cat
    fi
    if [ -n "$prof" ]; then
        echo "## Guest code per operation (\`make profile\`)"
        echo
        echo "The times above move with the host's load; the guest code an operation runs does not. \`qemu/profile.sh\` boots"
        echo "the same kernel on one vCPU with the VMs' QEMU and a TCG plugin (\`qemu/profile/pk-count.c\`) that counts every translated"
        echo "block the guest executes between two marker instructions \`pk-bench --count\` places around each operation"
        echo "(2000 iterations of a send, 100 of a fork + exec). *Blocks* end at a jump, call or return, TCG's unit of"
        echo "dispatch; under TCG, time follows blocks and instructions, calls and atomics costing more than the rest."
        echo "Differences of a few thousand instructions in a fork + exec are interrupts, the timer and the page allocator's"
        echo "batching, not code: what the module costs others is measured in three rounds, the module unloaded and then"
        echo "loaded in each, and each ratio is the median of the three per-round ratios."
        echo "\`make profile\` prints the per-function profiles these tables sum up."
        echo
        cat "$prof"
    fi
    echo "## Reproducing"
    echo
    echo "\`make bench\` (about $(( (elapsed + 59) / 60 )) minutes here). The raw results and the guest console of the last run are in"
    echo "\`\$PROCKILL_CACHE/bench/\` (\`results.txt\`, \`console.log\`, \`scaling.dat\`). \`qemu/bench.sh --quick --no-docs\`"
    echo "is a short smoke run that leaves \`docs/\` alone."
} >"$md"
echo "bench: wrote $md${own0:+ and $png} (${elapsed}s)" >&2
sed -n 's/^SUM //p' "$results"
if [ -n "$prof" ] && [ -f "$prof.targets" ]; then cat "$prof.targets"; fi
if [ -n "$prof" ] && [ -f "$prof.share.targets" ]; then cat "$prof.share.targets"; fi
