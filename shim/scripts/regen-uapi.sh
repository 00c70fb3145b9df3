#!/bin/sh
# Regenerates shim/src/unstable/uapi.rs from module/include/uapi/linux/prockill.h.
#
# It runs the bindings test in bless mode, so the file is byte for byte what
# the test compares against (the `bindgen` crate, a dev-dependency). Needs
# libclang >= 17: LIBCLANG_PATH defaults to /usr/lib/llvm-19/lib.
#
# The equivalent bindgen CLI command (bindgen-cli 0.73) is:
#   bindgen module/include/uapi/linux/prockill.h --use-core \
#       --allowlist-type 'prockill_.*' --allowlist-var 'PROCKILL_.*' \
#       --with-derive-default -o shim/src/unstable/uapi.rs
set -eu
cd "$(dirname "$0")/../.."
: "${LIBCLANG_PATH:=/usr/lib/llvm-19/lib}"
export LIBCLANG_PATH
PROCKILL_BLESS=1 cargo test -p prockill --test uapi -- checked_in_bindings_match_header "$@"
git diff --stat -- shim/src/unstable/uapi.rs || true
