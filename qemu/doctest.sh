#!/usr/bin/env bash
# qemu/doctest.sh: `make doctest`. Runs every lab of README.md and docs/*.md
# (fenced blocks with the info string `lab FLAVOUR`) in the VM, one boot per
# flavour, and compares the output; ends with "N passed, N failed".
#
#   qemu/doctest.sh [--no-build] [--counts FILE] [--only REGEX] [--list] [--keep DIR]
#
# The format and notation are in docs/README.md ("How the labs work") and in
# qemu/doctest.py. PROCKILL_DOCTEST=0 skips it (counts "0 0"), as does a
# non-empty PROCKILL_TESTS (a subset of the VM suite) unless PROCKILL_DOCTEST=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
counts=
args=("$@")
while (($#)); do
    case $1 in --counts) counts=${2:?}; shift 2 ;; *) shift ;; esac
done
if [ "${PROCKILL_DOCTEST:-}" = 0 ] || { [ -n "${PROCKILL_TESTS:-}" ] && [ "${PROCKILL_DOCTEST:-}" != 1 ]; }; then
    echo "doctest: skipped (PROCKILL_DOCTEST=${PROCKILL_DOCTEST:-}, PROCKILL_TESTS=${PROCKILL_TESTS:-})" >&2
    [ -z "$counts" ] || echo "0 0" >"$counts"
    exit 0
fi
command -v python3 >/dev/null || { echo "doctest: python3 is missing (qemu/setup.sh installs it)" >&2; [ -z "$counts" ] || echo "0 1" >"$counts"; exit 1; }
exec python3 "$here/doctest.py" "${args[@]}"
