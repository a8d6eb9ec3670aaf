#!/usr/bin/env bash
# Every comparison, built in release, one after another, then one table.
#   bench/all.sh            # the full run (about 10 minutes on 2 cores)
#   QUICK=1 bench/all.sh    # a smoke run: checks that every benchmark still
#                           # runs (CI does this), not what it measures
set -euo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if [ -n "${QUICK:-}" ]; then
  export SIZES="${SIZES:-10000}" FOLLOWERS="${FOLLOWERS:-10000}" CALLS="${CALLS:-200}" WECHATPY_FOLLOWERS="${WECHATPY_FOLLOWERS:-2000}"
fi
for bench in callback-vs-wechatpy serve-ingest client-vs-peers token-storm campaign-scale fanout worker-throughput server-api platform emulator-scale; do
  echo "== $bench" >&2
  "bench/$bench.sh" | tee -a "$log" | grep -v '^RESULT ' >&2
done
python3 bench/table.py < "$log"
