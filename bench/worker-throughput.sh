#!/usr/bin/env bash
# Workers on one PostgreSQL: batches claimed and submitted per second by 1,
# 2 and 4 workers (the planning `send` counts as one; the others are
# `wxmass worker`s started before it), against the emulator with WeChat's
# pace lifted, so that what is measured is the claim path, not WeChat.
# A throwaway cluster (initdb + pg_ctl of PostgreSQL 15, as the postgres
# user when root) on a free port, removed at the end.
#   bench/worker-throughput.sh              # 2,000 batches
#   BATCHES=500 bench/worker-throughput.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BATCHES="${BATCHES:-${QUICK:+300}}"
BATCHES="${BATCHES:-2000}"
cargo build --quiet --release --locked -p wxmass-emulator -p wxmass
WXMASS="$TARGET_DIR/release/wxmass"
start_postgres

followers=$(( BATCHES * 5 ))
for n in 1 2 4; do
  url=$(postgres_database "bench$n")
  home="$(mktemp -d)"
  start_emulator --followers "$followers" --no-quotas --mass-sends-per-minute 1000000 --job-delay-ms 50
  export WXMASS_HOME="$home" WXMASS_APPID=$APPID WXMASS_SECRET=$SECRET WXMASS_API_BASE="$EMULATOR_URL"
  "$WXMASS" followers --out "$home/list.txt" > /dev/null 2>&1
  pids=()
  for _ in $(seq 2 "$n"); do
    "$WXMASS" --database "$url" worker --once --campaign throughput --sends-per-minute 1000000 > /dev/null 2>&1 &
    pids+=($!)
  done
  start_ns=$(date +%s%N)
  "$WXMASS" --database "$url" send --text bench --openids "$home/list.txt" --batch-size 5 \
    --campaign throughput --yes --no-wait --sends-per-minute 1000000 > /dev/null 2>&1
  ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
  for p in "${pids[@]}"; do wait "$p" || true; done
  plan_ns=$(date +%s%N)
  "$WXMASS" --database "$url" send --text bench2 --openids "$home/list.txt" --batch-size 5 \
    --campaign plan-only --yes --dry-run > /dev/null 2>&1
  plan_ms=$(( ($(date +%s%N) - plan_ns) / 1000000 ))
  sent=$("$WXMASS" --database "$url" status throughput --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["submitted"])')
  jobs=$(curl -s "$EMULATOR_URL/_emulator/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["jobs"], s["duplicate_deliveries"])')
  unset WXMASS_HOME WXMASS_APPID WXMASS_SECRET WXMASS_API_BASE
  stop_emulator
  rm -rf "$home"
  python3 - "$n" "$BATCHES" "$sent" "$ms" "$plan_ms" $jobs <<'PY'
import json, sys
n, batches, sent, ms, plan_ms, jobs, dups = map(int, sys.argv[1:])
assert sent == batches and jobs == batches and dups == 0, (sent, jobs, dups)
per_s = batches / (ms / 1000)
print(f"{n} worker(s): {batches:,} batches in {ms / 1000:.2f} s = {per_s:,.0f} batches/s "
      f"(the plan alone, as a dry run: {plan_ms / 1000:.2f} s); {jobs:,} jobs, {dups} delivered twice")
print("RESULT " + json.dumps({"bench": "workers", "workers": n, "batches": batches, "seconds": ms / 1000,
                              "batches_per_sec": per_s, "plan_seconds": plan_ms / 1000}))
PY
done
