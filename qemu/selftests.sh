#!/usr/bin/env bash
# qemu/selftests.sh: the kernel's own pidfd and proc selftests, without and
# with the module, on the debug kernel.
#
#   qemu/selftests.sh [--no-build] [--counts FILE] [--only REGEX]
#
# Builds tools/testing/selftests/{pidfd,proc} of the kernel source the guest
# kernels come from, statically linked, on the host (cached in
# $PROCKILL_CACHE/selftests/<kernel version>-<key>), boots the debug kernel
# twice (--no-module, then with the module), runs every binary listed in
# qemu/selftests/list under its own timeout (qemu/selftests/guest.sh), and
# compares the two runs per test case: every kselftest TAP line
# ("ok N name", "not ok N name", "# SKIP") is a case, and so is each
# binary's exit status (0 pass, 4 skip, anything else, timeouts included,
# fail).
#
# A case that passes without the module and does not pass with it (fails,
# skips, goes missing) is a regression: it is printed as "FAIL selftest ..."
# and the script exits 1, once 3 more runs of its binary in each mode (two
# more boots) confirm it: it must pass in none of them with the module and in
# one at least without. Cases failing or skipped without the module are the
# baseline, and the list's known-flaky cases are reported, never counted. With --counts FILE, "P F" goes to FILE: P
# cases passed in both runs, F regressions plus infrastructure failures
# (build failed, a run did not finish, a kernel splat with the module).
#
# Unless --no-build, the debug kernel, module and image are built first when
# needed (qemu/pk image debug). --only REGEX keeps the list lines matching it.
# PROCKILL_SELFTESTS=0 skips everything (counts "0 0"), as does a non-empty
# PROCKILL_TESTS (make test's VM test filter) unless PROCKILL_SELFTESTS=1.
# --compare NOMOD MOD only compares two --results files of earlier runs. PROCKILL_SELFTESTS_LIST
# replaces qemu/selftests/list (to test this script with a fake binary).
# The first two boots run side by side when the host has 2 CPUs or more
# (PROCKILL_SELFTESTS_SERIAL=1: one after the other).
# Logs (one directory per run; concurrent runs never share one):
# $PROCKILL_CACHE/logs/selftests (the latest) ->
# selftests.<time>.<pid>/{nomod,mod,nomod2,mod2}.{results,console,out}, and
# cases (case, result without, result with, detail).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
build=1 counts='' only='' compare=()
# The list of binaries and known-flaky cases (another one: for testing this script).
listfile=${PROCKILL_SELFTESTS_LIST:-$here/selftests/list}
while (($#)); do
    case $1 in
        --no-build) build=0; shift ;;
        --compare) compare=("${2:?}" "${3:?}"); shift 3 ;;
        --counts) counts=${2:?}; shift 2 ;;
        --only) only=${2:?}; shift 2 ;;
        *) sed -n '2,38s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done
# make test with a PROCKILL_TESTS filter is a quick run: no selftests unless
# PROCKILL_SELFTESTS=1.
if [ "${PROCKILL_SELFTESTS:-$([ -n "${PROCKILL_TESTS:-}" ] && echo 0 || echo 1)}" = 0 ]; then
    echo "selftests: skipped (PROCKILL_SELFTESTS=0, or PROCKILL_TESTS set)" >&2
    [ -z "$counts" ] || echo "0 0" >"$counts"
    exit 0
fi
die() {
    echo "selftests: $*" >&2
    echo "FAIL selftests: $*"
    [ -z "$counts" ] || echo "0 1" >"$counts"
    exit 1
}

stage=$(mktemp -d "${TMPDIR:-/tmp}/prockill-selftests.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$CACHE/logs"
logs=$stage/logs
declare -A runrc=([nomod]=0 [mod]=0 [nomod2]=0 [mod2]=0)
if ((${#compare[@]})); then
    # Only compare two earlier runs' --results files (no build, no boot).
    tr -d '\r' <"${compare[0]}" >"$stage/nomod.results"
    tr -d '\r' <"${compare[1]}" >"$stage/mod.results"
    cp "$stage/nomod.results" "$stage/list.all"
    cons=("${compare[0]%.results}.console" "${compare[1]%.results}.console")
else
logs=$CACHE/logs/selftests.$(date +%Y%m%d-%H%M%S).$$
mkdir -p "$logs"
ln -sfn "$(basename "$logs")" "$CACHE/logs/selftests"
# Keep the 5 latest runs' logs.
find "$CACHE/logs" -mindepth 1 -maxdepth 1 -name 'selftests.*.*' 2>/dev/null | sort | head -n -5 | xargs -r rm -rf
cons=("$logs/nomod.console" "$logs/mod.console")
# ---- build (host, static, cached per kernel version and compiler) ----------
[ -f "$CACHE/kernel-src.path" ] || die "no kernel source: run 'make setup'"
SRC=$(cat "$CACHE/kernel-src.path")
SUITES=(pidfd proc)
# Bump RECIPE when the way the binaries are built changes.
RECIPE="1: make headers; per-suite make, gcc, LDFLAGS=-static, stripped"
kver=$(make -s -C "$SRC" kernelversion)
key=$( { echo "$SRC"; echo "$kver"; echo "$RECIPE"; gcc --version | head -1; dpkg-query -W libc6-dev 2>/dev/null || true
         for s in "${SUITES[@]}"; do find "$SRC/tools/testing/selftests/$s" -type f -printf '%P %s %T@\n' | sort; done; } \
       | sha256sum | cut -c1-16)
bdir=$CACHE/selftests/$kver-$key
mkdir -p "$CACHE/selftests"
build_selftests() {
    [ -f "$bdir/.built" ] && return 0
    # One build at a time; held only while building (not during the boots).
    (flock 8 && build_locked) 8>"$CACHE/selftests/.lock"
}
build_locked() {
    [ -f "$bdir/.built" ] && return 0
    rm -rf "$bdir"
    mkdir -p "$bdir"
    local log=$bdir/build.log s
    # The UAPI headers of this source (make headers: no .config needed).
    make -C "$SRC" O="$bdir/hdr" headers >"$log" 2>&1 \
        || { tail -20 "$log" >&2; return 1; }
    for s in "${SUITES[@]}"; do
        mkdir -p "$bdir/$s"
        make -C "$SRC/tools/testing/selftests/$s" OUTPUT="$bdir/$s" CC=gcc \
            KHDR_INCLUDES="-isystem $bdir/hdr/usr/include" LDFLAGS=-static -j"$(nproc)" >>"$log" 2>&1 \
            || { grep -E -B2 -A6 'error' "$log" | head -40 >&2; return 1; }
        find "$bdir/$s" -maxdepth 1 -type f -perm -u+x -exec strip {} +
    done
    touch "$bdir/.built"
}
t0=$EPOCHREALTIME
build_selftests || die "building the selftests failed (log: $bdir/build.log)"
echo "selftests: binaries in $bdir ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s)" >&2

# ---- the guest's directory --------------------------------------------------
for s in "${SUITES[@]}"; do cp -a "$bdir/$s" "$stage/$s"; done
cp "$here/selftests/guest.sh" "$stage/guest.sh"
grep -vE '^[[:space:]]*(#|$|flaky )' "$listfile" | { if [ -n "$only" ]; then grep -E -- "$only" || true; else cat; fi; } >"$stage/list"
[ -s "$stage/list" ] || die "no selftest selected (--only '$only')"
while read -r t _; do [ -x "$stage/$t" ] || die "qemu/selftests/list: $t was not built"; done <"$stage/list"

if ((build)); then "$here/pk" image debug >&2 || die "building the debug image failed"; fi

# ---- two boots --------------------------------------------------------------
# boot RUN LIST: boot the debug kernel (RUN nomod*: without the module), run
# LIST's binaries; the clean results end up in $stage/RUN.results.
# PK_TIMINGS is unset so that these boots do not add to the caller's
# boot/run timings (the caller times this whole script as one phase).
boot() {
    local run=$1 list=$2 flag=() rc=0 vmtimeout
    [[ $run == nomod* ]] && flag=(--no-module)
    [ "$list" = "$stage/list" ] || cp "$list" "$stage/list"
    # The guest's time limit: every binary's, plus 5 s each, plus the boot.
    vmtimeout=$(awk '{ s += $2 + 5 } END { print s + 180 }' "$stage/list")
    echo "== selftests on the debug kernel, module $([ ${#flag[@]} = 0 ] && echo loaded || echo not loaded): $(wc -l <"$stage/list") binaries" >&2
    PK_TIMINGS='' "$here/run" --no-build --flavour debug "${flag[@]}" --dir "$stage" \
        --results "$logs/$run.results" --log "$logs/$run.console" \
        --timeout "$vmtimeout" -- sh /host/guest.sh >"$logs/$run.out" 2>&1 || rc=$?
    echo "$rc" >"$stage/$run.rc"
    runrc[$run]=$rc
    tr -d '\r' <"$logs/$run.results" >"$stage/$run.results" 2>/dev/null || : >"$stage/$run.results"
    grep -a '^selftest ' "$logs/$run.console" | sed "s/^/  [$run] /" >&2 || true
}
cp "$stage/list" "$stage/list.all"
# The two first runs boot side by side (one VM per host CPU, a few minutes
# saved); a regression is confirmed by reruns one at a time, below.
if (($(nproc) >= 2)) && [ "${PROCKILL_SELFTESTS_SERIAL:-0}" = 0 ]; then
    boot nomod "$stage/list" &
    p1=$!
    boot mod "$stage/list" &
    p2=$!
    wait "$p1" "$p2" || true
    runrc[nomod]=$(cat "$stage/nomod.rc" 2>/dev/null || echo 125)
    runrc[mod]=$(cat "$stage/mod.rc" 2>/dev/null || echo 125)
else
    boot nomod "$stage/list"
    boot mod "$stage/list"
fi
fi

# ---- per-case comparison ----------------------------------------------------
# cases FILE: "status<TAB>case<TAB>detail" lines, status pass|fail|skip.
cases() {
    awk '
        function emit(st, name, detail) {
            n = ++seen[cur SUBSEP name]
            if (n > 1) name = name " [#" n "]"
            printf "%s\t%s: %s\t%s\n", st, cur, name, detail
        }
        /^PKST-BEGIN / { cur = $2; split("", seen); next }
        /^PKST-END / {
            if ($2 != cur) next
            rc = $3; st = rc == 0 ? "pass" : rc == 4 ? "skip" : "fail"
            if ($5 == "cut") st = "skip"
            emit(st, "exit status", "exit " rc " after " $4 "s" ($5 == "cut" ? " (stopped at its expected time limit)" : rc >= 128 ? " (signal " rc - 128 ": its time limit?)" : ""))
            cur = ""; next
        }
        cur != "" && /^(not )?ok [0-9]+/ {
            st = /^not / ? "fail" : "pass"
            line = $0; sub(/^(not )?ok [0-9]+ ?-? ?/, "", line)
            dir = ""
            if (match(line, / # *[A-Za-z]+/)) { dir = toupper(substr(line, RSTART)); line = substr(line, 1, RSTART - 1) }
            if (dir ~ /^ # *SKIP/) st = "skip"
            else if (dir ~ /^ # *XFAIL/) st = "pass"
            sub(/[ \t]+$/, "", line)
            emit(st, line == "" ? "(unnamed)" : line, dir)
        }' "$1"
}
cases "$stage/nomod.results" >"$stage/nomod.cases"
cases "$stage/mod.results" >"$stage/mod.cases"
# joined: case, status without, status with (missing: not reported), detail with.
awk -F'\t' -v OFS='\t' '
    FILENAME == ARGV[1] { without[$2] = $1; order[n++] = $2; next }
    { with[$2] = $1; detail[$2] = $3; if (!($2 in without)) extra[$2] = 1 }
    END {
        for (i = 0; i < n; i++) { c = order[i]; print c, without[c], (c in with) ? with[c] : "missing", detail[c] }
        for (c in extra) print c, "missing", with[c], detail[c]
    }' "$stage/nomod.cases" "$stage/mod.cases" >"$stage/joined"

# Known-flaky cases (qemu/selftests/list "flaky ERE" lines) are reported but
# never counted.
sed -n 's/^flaky[[:space:]]\{1,\}//p' "$listfile" >"$stage/flaky.re"
known_flaky=$(awk -F'\t' 'NR == FNR { re[n++] = $0; next } { for (i = 0; i < n; i++) if ($1 ~ re[i]) { print; next } }' \
    "$stage/flaky.re" "$stage/joined")
pass=0 fail=0
fails=() regressed=()
while IFS=$'\t' read -r name without with detail; do
    if printf '%s\n' "$known_flaky" | cut -f1 | grep -qxF -- "$name"; then
        continue
    elif [ "$without" = pass ]; then
        if [ "$with" = pass ]; then
            pass=$((pass + 1))
        else
            regressed+=("$name")
            fails+=("$name: passes without the module, $with with it${detail:+ ($detail)}")
        fi
    fi
done <"$stage/joined"

# ---- confirming regressions -------------------------------------------------
# Some cases are flaky under TCG (pidfd_autoreap_test's PIDFD_INFO_EXIT checks
# race the reaping of the child). The binaries with a regression (at most 6)
# run RERUNS more times in each mode, in two more boots: a regression counts
# only if its case passes in none of the reruns with the module and in at
# least one without it; otherwise it is reported as flaky and not counted.
RERUNS=3
flaky=()
if ((${#regressed[@]})) && ((${#compare[@]} == 0)); then
    printf '%s\n' "${regressed[@]}" | sed 's/: .*//' | sort -u >"$stage/rerun.bins"
    if (($(wc -l <"$stage/rerun.bins") <= 6)); then
        awk 'FILENAME == ARGV[1] { b[$1] = 1; next } $1 in b' "$stage/rerun.bins" "$stage/list.all" >"$stage/rerun.one"
        : >"$stage/rerun.list"
        for ((i = 0; i < RERUNS; i++)); do cat "$stage/rerun.one" >>"$stage/rerun.list"; done
        echo "selftests: ${#regressed[@]} case(s) pass without the module only; running $(paste -sd' ' "$stage/rerun.bins") $RERUNS more times in each mode" >&2
        boot nomod2 "$stage/rerun.list"
        boot mod2 "$stage/rerun.list"
        cases "$stage/nomod2.results" >"$stage/nomod2.cases"
        cases "$stage/mod2.results" >"$stage/mod2.cases"
        keep=() keepmsg=()
        for i in "${!regressed[@]}"; do
            name=${regressed[$i]}
            pw=$(awk -F'\t' -v c="$name" '$2 == c && $1 == "pass"' "$stage/nomod2.cases" | wc -l)
            pm=$(awk -F'\t' -v c="$name" '$2 == c && $1 == "pass"' "$stage/mod2.cases" | wc -l)
            if ((pm == 0 && pw > 0)); then
                keep+=("$name") keepmsg+=("${fails[$i]}; reruns: passed $pw/$RERUNS without, 0/$RERUNS with")
            else
                flaky+=("$name (reruns: passed $pw/$RERUNS without the module, $pm/$RERUNS with it)")
            fi
        done
        regressed=("${keep[@]}") fails=("${keepmsg[@]}")
    fi
fi
fail=${#regressed[@]}
mkdir -p "$logs"
cp "$stage/joined" "$logs/cases"
notflaky() { awk -F'\t' 'NR == FNR { f[$1] = 1; next } !($1 in f)' <(printf '%s\n' "$known_flaky") "$stage/joined"; }
base_fail=$(notflaky | awk -F'\t' '$2 == "fail"')
base_skip=$(notflaky | awk -F'\t' '$2 == "skip"')
fixed=$(notflaky | awk -F'\t' '$2 != "pass" && $2 != "missing" && $3 == "pass"')
new=$(awk -F'\t' '$2 == "missing"' "$stage/joined")

infra=()
for mode in nomod mod; do
    grep -q '^PKST-DONE' "$stage/$mode.results" \
        || infra+=("the run $( [ $mode = mod ] && echo with || echo without ) the module did not finish (qemu/run status ${runrc[$mode]}; console: $logs/$mode.console)")
done
# Kernel splats: those with the module count, unless every splat line of
# those runs (timestamps, CPU/PID numbers and offsets aside) shows without it
# too.
splats() {
    local f
    for f; do [ ! -f "$f" ] || grep -a -F -f "$here/splat-patterns" "$f" || true; done | { grep -v -e 'cut here' -e 'Call Trace:' || true; } \
        | sed -E 's/^\[ *[0-9.]+\] *//; s/(CPU|PID): *[0-9]+/\1: N/g; s/\+0x[0-9a-f]+\/0x[0-9a-f]+//g; s/ +$//' | sort -u
}
modsplats=$(splats "${cons[1]}" "${cons[1]%mod.console}mod2.console")
nomodsplats=$(splats "${cons[0]}" "${cons[0]%nomod.console}nomod2.console")
newsplat=$(comm -23 <(printf '%s\n' "$modsplats" | sed '/^$/d') <(printf '%s\n' "$nomodsplats" | sed '/^$/d') | head -1)
if [ -n "$newsplat" ]; then
    infra+=("kernel splat with the module, not seen without it: $newsplat (console: ${cons[1]})")
elif [ -n "$modsplats$nomodsplats" ]; then
    echo "selftests: kernel splat(s) seen without the module (baseline, not counted): $(printf '%s\n' "$nomodsplats" | head -1)" >&2
fi

{
    echo "selftests: $(wc -l <"$stage/joined") cases, $(printf '%s' "$known_flaky" | grep -c . || true) of them known flaky; the others without the module: $(notflaky | awk -F'\t' '$2 == "pass"' | wc -l) pass, $(printf '%s' "$base_fail" | grep -c . || true) fail, $(printf '%s' "$base_skip" | grep -c . || true) skip; with it: $(notflaky | awk -F'\t' '{ print $3 }' | sort | uniq -c | awk '{ printf "%s%s %s", n++ ? ", " : "", $1, $2 }')"
    [ -z "$base_fail" ] || { echo "selftests baseline, failing without the module:"; printf '%s\n' "$base_fail" | awk -F'\t' '{ print "  " $1 " (with the module: " $3 ")" }'; }
    [ -z "$base_skip" ] || { echo "selftests baseline, skipped without the module:"; printf '%s\n' "$base_skip" | awk -F'\t' '{ print "  " $1 " (with the module: " $3 ")" }'; }
    [ -z "$fixed" ] || { echo "selftests: failing without the module but passing with it (flaky?):"; printf '%s\n' "$fixed" | awk -F'\t' '{ print "  " $1 }'; }
    [ -z "$new" ] || { echo "selftests: cases seen only with the module:"; printf '%s\n' "$new" | awk -F'\t' '{ print "  " $1 " (" $3 ")" }'; }
    [ -z "$known_flaky" ] || { echo "selftests: known flaky (qemu/selftests/list), not counted:"; printf '%s\n' "$known_flaky" | awk -F'\t' '{ print "  " $1 ": without the module " $2 ", with it " $3 }'; }
    ((${#flaky[@]} == 0)) || { echo "selftests: flaky, not counted (passed without the module, not with it, then passed in a rerun with it or failed in all reruns without it):"; printf '  %s\n' "${flaky[@]}"; }
} >&2
for x in "${fails[@]}"; do echo "FAIL selftest $x"; done
for x in "${infra[@]}"; do echo "FAIL selftests: $x"; done
fail=$((fail + ${#infra[@]}))
echo "selftests: $pass passed, $fail failed (cases passing without the module; logs: $logs)" >&2
[ -z "$counts" ] || echo "$pass $fail" >"$counts"
((fail == 0))
