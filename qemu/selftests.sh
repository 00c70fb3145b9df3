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
# and the script exits 1. Cases failing or skipped without the module are the
# baseline (listed, not counted). With --counts FILE, "P F" goes to FILE: P
# cases passed in both runs, F regressions plus infrastructure failures
# (build failed, a run did not finish, a kernel splat with the module).
#
# Unless --no-build, the debug kernel, module and image are built first when
# needed (qemu/pk image debug). --only REGEX keeps the list lines matching it.
# PROCKILL_SELFTESTS=0 skips everything (counts "0 0"). --compare NOMOD MOD
# only compares two --results files of earlier runs.
# Logs: $PROCKILL_CACHE/logs/selftests-{nomod,mod}.{results,console}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PROCKILL_CACHE:-$HOME/.cache/prockill}
build=1 counts= only= compare=()
while (($#)); do
    case $1 in
        --no-build) build=0; shift ;;
        --compare) compare=("${2:?}" "${3:?}"); shift 3 ;;
        --counts) counts=${2:?}; shift 2 ;;
        --only) only=${2:?}; shift 2 ;;
        *) sed -n '2,30s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done
if [ "${PROCKILL_SELFTESTS:-1}" = 0 ]; then
    echo "selftests: skipped (PROCKILL_SELFTESTS=0)" >&2
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
declare -A runrc=([nomod]=0 [mod]=0)
if ((${#compare[@]})); then
    # Only compare two earlier runs' --results files (no build, no boot).
    cp "${compare[0]}" "$stage/nomod.results"
    cp "${compare[1]}" "$stage/mod.results"
    cons=("${compare[0]%.results}.console" "${compare[1]%.results}.console")
else
cons=("$CACHE/logs/selftests-nomod.console" "$CACHE/logs/selftests-mod.console")
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
    exec 8>"$CACHE/selftests/.lock"
    flock 8
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
grep -vE '^[[:space:]]*(#|$)' "$here/selftests/list" | { if [ -n "$only" ]; then grep -E -- "$only" || true; else cat; fi; } >"$stage/list"
[ -s "$stage/list" ] || die "no selftest selected (--only '$only')"
while read -r t _; do [ -x "$stage/$t" ] || die "qemu/selftests/list: $t was not built"; done <"$stage/list"
# The guest's time limit: every binary's timeout, plus 5 s each, plus boot.
vmtimeout=$(awk '{ s += $2 + 5 } END { print s + 180 }' "$stage/list")

if ((build)); then "$here/pk" image debug >&2 || die "building the debug image failed"; fi

# ---- two boots --------------------------------------------------------------
# PK_TIMINGS is unset so that these boots do not add to the caller's
# boot/run timings (the caller times this whole script as one phase).
for mode in nomod mod; do
    flag=()
    [ "$mode" = mod ] || flag=(--no-module)
    echo "== selftests on the debug kernel, module $([ "$mode" = mod ] && echo loaded || echo not loaded): $(wc -l <"$stage/list") binaries" >&2
    rc=0
    PK_TIMINGS= "$here/run" --no-build --flavour debug "${flag[@]}" --dir "$stage" \
        --results "$CACHE/logs/selftests-$mode.results" --log "$CACHE/logs/selftests-$mode.console" \
        --timeout "$vmtimeout" -- sh /host/guest.sh >"$CACHE/logs/selftests-$mode.out" 2>&1 || rc=$?
    runrc[$mode]=$rc
    tr -d '\r' <"$CACHE/logs/selftests-$mode.results" >"$stage/$mode.results" 2>/dev/null || : >"$stage/$mode.results"
    grep -a '^selftest ' "$CACHE/logs/selftests-$mode.console" | sed 's/^/  /' >&2 || true
done
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
        /^PKST-BEGIN / { cur = $2; next }
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

pass=0 fail=0
fails=()
while IFS=$'\t' read -r name without with detail; do
    if [ "$without" = pass ]; then
        if [ "$with" = pass ]; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            fails+=("$name: passes without the module, $with with it${detail:+ ($detail)}")
        fi
    fi
done <"$stage/joined"
cp "$stage/joined" "$CACHE/logs/selftests.cases"
base_fail=$(awk -F'\t' '$2 == "fail"' "$stage/joined")
base_skip=$(awk -F'\t' '$2 == "skip"' "$stage/joined")
fixed=$(awk -F'\t' '$2 != "pass" && $2 != "missing" && $3 == "pass"' "$stage/joined")
new=$(awk -F'\t' '$2 == "missing"' "$stage/joined")

infra=()
for mode in nomod mod; do
    grep -q '^PKST-DONE' "$stage/$mode.results" \
        || infra+=("the run $( [ $mode = mod ] && echo with || echo without ) the module did not finish (qemu/run status ${runrc[$mode]}; console: $CACHE/logs/selftests-$mode.console)")
done
if splat=$("$here/splat-check" "${cons[1]}" 2>/dev/null); then
    if bsplat=$("$here/splat-check" "${cons[0]}" 2>/dev/null); then
        echo "selftests: kernel splat without the module too (baseline): ${bsplat#*:}" >&2
    fi
    infra+=("kernel splat with the module: console line ${splat%%:*}: ${splat#*:}")
fi

{
    echo "selftests: $(wc -l <"$stage/joined") cases; without the module: $(awk -F'\t' '$2 == "pass"' "$stage/joined" | wc -l) pass, $(printf '%s' "$base_fail" | grep -c . || true) fail, $(printf '%s' "$base_skip" | grep -c . || true) skip; with it: $(awk -F'\t' '{ print $1 }' "$stage/mod.cases" | sort | uniq -c | awk '{ printf "%s%s %s", n++ ? ", " : "", $1, $2 }')"
    [ -z "$base_fail" ] || { echo "selftests baseline, failing without the module:"; printf '%s\n' "$base_fail" | awk -F'\t' '{ print "  " $1 " (with the module: " $3 ")" }'; }
    [ -z "$base_skip" ] || { echo "selftests baseline, skipped without the module:"; printf '%s\n' "$base_skip" | awk -F'\t' '{ print "  " $1 " (with the module: " $3 ")" }'; }
    [ -z "$fixed" ] || { echo "selftests: failing without the module but passing with it (flaky?):"; printf '%s\n' "$fixed" | awk -F'\t' '{ print "  " $1 }'; }
    [ -z "$new" ] || { echo "selftests: cases seen only with the module:"; printf '%s\n' "$new" | awk -F'\t' '{ print "  " $1 " (" $3 ")" }'; }
} >&2
for x in "${fails[@]}"; do echo "FAIL selftest $x"; done
for x in "${infra[@]}"; do echo "FAIL selftests: $x"; done
fail=$((fail + ${#infra[@]}))
echo "selftests: $pass passed, $fail failed (cases passing without the module; logs: $CACHE/logs/selftests-*)" >&2
[ -z "$counts" ] || echo "$pass $fail" >"$counts"
((fail == 0))
