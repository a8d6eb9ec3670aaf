#!/usr/bin/env bash
# A campaign at scale, end to end: `wxmass followers --out` then `wxmass send
# --openids` in 100 batches, through to every MASSSENDJOBFINISH recorded by
# `wxmass serve`; wall time, peak RSS of each wxmass process, journal size.
# Run twice, on the SQLite journal and on PostgreSQL (a throwaway cluster),
# then the same audience with a wechatpy 1.8.18 script doing the equivalent
# calls. The emulator's per-minute send limit is lifted (both sides would
# otherwise measure WeChat's 60 a minute, not themselves; on PostgreSQL, where
# senders count the pace between them, `send` is told it); its jobs finish
# 200 ms after they are submitted, on both sides.
#   bench/campaign-scale.sh                      # 10k, 100k and 1M followers
#   SIZES="10000" bench/campaign-scale.sh
#
# Wall time is the two commands' own times plus the wait, from send's exit,
# for the last report (send waits for them itself when serve records them
# first, so the first look usually finds them all); the script's is taken
# inside Python after its start-up, alike.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZES="${SIZES:-${QUICK:+10000}}"
SIZES="${SIZES:-10000 100000 1000000}"
KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
bench_venv
cargo build --quiet --release --locked -p wxmass-emulator -p wxmass
WXMASS="$TARGET_DIR/release/wxmass"
start_postgres

# One campaign of $1 followers with the journal on $2 (sqlite or postgres);
# prints its figures as JSON.
ours() {
  local n=$1 backend=$2 batch=$(( ($1 + 99) / 100 ))
  local home db=() pace=() dbname
  home="$(mktemp -d)"
  if [ "$backend" = postgres ]; then
    dbname="scale_$n"
    db=(--database "$(postgres_database "$dbname")")
    # Senders on a shared database count WeChat's pace between them (60 a
    # minute unless told): told the emulator's lifted one.
    pace=(--sends-per-minute 1000)
  fi
  local measures="$home/measures.jsonl" serve_log="$home/serve.log"
  WXMASS_HOME="$home" WXMASS_APPID=$APPID WXMASS_SECRET=$SECRET \
    "$WXMASS" "${db[@]}" serve --listen 127.0.0.1:0 --token bench --aes-key "$KEY" > "$serve_log" 2>/dev/null &
  local serve_pid=$!
  until [ -s "$serve_log" ]; do sleep 0.01; done
  local serve_url
  serve_url=$(head -n 1 "$serve_log" | awk '{print $5}')
  start_emulator --followers "$n" --tags 1 --job-delay-ms 200 --mass-sends-per-minute 1000 \
    --callback-url "$serve_url" --callback-token bench --callback-aes-key "$KEY" --callback-mode safe
  export WXMASS_HOME="$home" WXMASS_APPID=$APPID WXMASS_SECRET=$SECRET WXMASS_API_BASE="$EMULATOR_URL"
  MEASURE_OUT="$measures" python3 bench/measure.py followers "$WXMASS" followers --out "$home/audience.txt" > /dev/null 2>&1
  MEASURE_OUT="$measures" python3 bench/measure.py send "$WXMASS" "${db[@]}" send --text bench \
    --openids "$home/audience.txt" --batch-size "$batch" --yes --campaign scale "${pace[@]}" > /dev/null 2>&1
  local sent_ns looked_ns
  sent_ns=$(date +%s%N)
  while looked_ns=$(date +%s%N); ! "$WXMASS" "${db[@]}" status scale --json | python3 -c '
import json, sys
batches = json.load(sys.stdin)["batches"]
sys.exit(0 if all(b["report"] for b in batches) else 1)'; do sleep 0.02; done
  local wait_ms=$(( (looked_ns - sent_ns) / 1000000 ))
  local serve_rss journal_bytes
  serve_rss=$(awk '/VmHWM/ {print $2}' /proc/$serve_pid/status)
  if [ "$backend" = postgres ]; then
    journal_bytes=$(postgres_bytes "$dbname")
  else
    journal_bytes=$(cat "$home"/journal.db* | wc -c)
  fi
  unset WXMASS_HOME WXMASS_APPID WXMASS_SECRET WXMASS_API_BASE
  kill $serve_pid; wait $serve_pid 2>/dev/null || true
  stop_emulator
  python3 - "$wait_ms" "$serve_rss" "$journal_bytes" "$measures" <<'PY'
import json, sys
wait_ms, serve_kb, journal, measures = sys.argv[1:]
m = {j["label"]: j for j in map(json.loads, open(measures))}
assert all(j["exit"] == 0 for j in m.values()), m
wall = m["followers"]["seconds"] + m["send"]["seconds"] + int(wait_ms) / 1000
print(json.dumps({"wall_seconds": wall, "report_wait_seconds": int(wait_ms) / 1000,
                  "followers_seconds": m["followers"]["seconds"], "send_seconds": m["send"]["seconds"],
                  "followers_rss_mb": m["followers"]["peak_rss_mb"], "send_rss_mb": m["send"]["peak_rss_mb"],
                  "serve_rss_mb": int(serve_kb) / 1024, "journal_mb": int(journal) / 1e6}))
PY
  rm -rf "$home"
}

for n in $SIZES; do
  sqlite=$(ours "$n" sqlite)
  postgres=$(ours "$n" postgres)
  # wechatpy, on a fresh emulator of the same size.
  start_emulator --followers "$n" --tags 1 --job-delay-ms 200 --mass-sends-per-minute 1000
  py=$("$VENV/bin/python" bench/wechatpy_campaign.py "$EMULATOR_URL" "$APPID" "$SECRET" $(( (n + 99) / 100 )))
  stop_emulator
  python3 - "$n" "$sqlite" "$postgres" "$py" <<'PY'
import json, sys
n, sqlite, postgres, py = int(sys.argv[1]), *map(json.loads, sys.argv[2:])
print(f"{n:,} followers in 100 batches")
for name, o in (("sqlite", sqlite), ("postgres", postgres)):
    print(f"  wxmass ({name}): {o['wall_seconds']:5.2f} s = {py['wall_seconds'] / o['wall_seconds']:.2f}x the script"
          f" (followers {o['followers_seconds']:.2f} s, send {o['send_seconds']:.2f} s, then {o['report_wait_seconds']:.2f} s);"
          f" peak RSS followers {o['followers_rss_mb']:.1f} MB, send {o['send_rss_mb']:.1f} MB, serve {o['serve_rss_mb']:.1f} MB;"
          f" journal {o['journal_mb']:.1f} MB")
print(f"  wechatpy:        {py['wall_seconds']:5.2f} s to every job final (paging {py['page_seconds']:.2f} s,"
      f" sends {py['send_seconds']:.2f} s); peak RSS {py['peak_rss_mb']:.1f} MB")
print("RESULT " + json.dumps({"bench": "campaign", "followers": n, "ours": sqlite, "ours_postgres": postgres,
                              "wechatpy": py}))
PY
done
