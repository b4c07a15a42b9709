#!/usr/bin/env bash
# The one benchmark command (`npm run bench`): set up, then run every bench/*.bench.ts in turn
# with tsx (a devDependency, so nothing global is needed). Each bench prints a table and writes
# JSON to bench/out/. Pass names to run a subset: `npm run bench -- solver`.
# BENCH_SKIP_SETUP=1 skips scripts/setup.sh (for re-runs on a machine already set up).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${BENCH_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh

shopt -s nullglob
benches=()
if (($#)); then
  for n in "$@"; do benches+=("bench/${n%.bench.ts}.bench.ts"); done
else
  benches=(bench/*.bench.ts)
fi
((${#benches[@]})) || { echo "bench: no bench/*.bench.ts found" >&2; exit 1; }

# Every temp dir of the run (sysroot copies, installroots, fixture repos) goes under one
# directory, removed at the end whatever happens, as the tests' run-tmp.ts does.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/layer-bench-run-XXXXXX")
chmod 1777 "$run_tmp"
trap 'rm -rf "$run_tmp" 2>/dev/null || { chattr -R -i "$run_tmp"; rm -rf "$run_tmp"; }' EXIT

status=0
for b in "${benches[@]}"; do
  [ -f "$b" ] || { echo "bench: no such bench: $b" >&2; status=1; continue; }
  echo "== $b"
  TMPDIR="$run_tmp" node --import tsx "$b" || { echo "bench: $b failed" >&2; status=1; }
done
exit $status
