#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# One bounded fuzz run, as CI does it: replay the committed corpus of
# TARGET (seeds and regression inputs: any crash fails), then fuzz for
# VMP_FUZZ_SECONDS (default 45) on a scratch copy of it, so the committed
# corpus only changes by hand (docs/testing.md: adding a crash).
#
# usage: fuzz_run.sh TARGET_EXE SRCDIR [libFuzzer args...]
set -euo pipefail
exe=$1
src=$2
shift 2
name=$(basename "$exe")
corpus=$src/corpus/$name
dict=$src/$name.dict
secs=${VMP_FUZZ_SECONDS:-45}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
# libFuzzer exits 77 on a crash by default, which meson reads as a skip
args=(-print_final_stats=1 -timeout=60 -rss_limit_mb=3072 -error_exitcode=1
	-timeout_exitcode=1
	-artifact_prefix="$work/")
[ -f "$dict" ] && args+=(-dict="$dict")
# detect_leaks=0: EAL and rte_vhost keep allocations to exit
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== $name: replay $(ls "$corpus" | wc -l) inputs of $corpus"
"$exe" "${args[@]}" -runs=0 "$corpus"
echo "== $name: fuzz ${secs}s"
cp "$corpus"/* "$work/corpus/"
if ! "$exe" "${args[@]}" -max_total_time="$secs" "$@" "$work/corpus"; then
	for a in "$work"/crash-* "$work"/timeout-* "$work"/oom-* \
		"$work"/leak-*; do
		[ -f "$a" ] || continue
		echo "== $name: input that failed ($a), base64:"
		base64 -w0 "$a"
		echo
	done
	exit 1
fi
