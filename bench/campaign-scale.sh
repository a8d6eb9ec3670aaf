#!/usr/bin/env bash
# A campaign at scale, end to end: `wxmass followers --out` then `wxmass send
# --openids` in 100 batches, through to every MASSSENDJOBFINISH recorded by
# `wxmass serve`; wall time, peak RSS of each wxmass process, journal size.
# Then the same audience with a wechatpy 1.8.18 script doing the equivalent
# calls. The emulator's per-minute send limit is lifted (both sides would
# otherwise measure WeChat's 60 a minute, not themselves).
#   bench/campaign-scale.sh                      # 10k, 100k and 1M followers
#   SIZES="10000" bench/campaign-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZES="${SIZES:-${QUICK:+10000}}"
SIZES="${SIZES:-10000 100000 1000000}"
KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
bench_venv
cargo build --quiet --release --locked -p wxmass-emulator -p wxmass
WXMASS="$TARGET_DIR/release/wxmass"

for n in $SIZES; do
  batch=$(( (n + 99) / 100 ))
  home="$(mktemp -d)"
  measures="$home/measures.jsonl"
  serve_log="$home/serve.log"
  WXMASS_HOME="$home" WXMASS_APPID=$APPID WXMASS_SECRET=$SECRET \
    "$WXMASS" serve --listen 127.0.0.1:0 --token bench --aes-key "$KEY" > "$serve_log" 2>/dev/null &
  serve_pid=$!
  until [ -s "$serve_log" ]; do sleep 0.01; done
  serve_url=$(head -n 1 "$serve_log" | awk '{print $5}')
  start_emulator --followers "$n" --tags 1 --job-delay-ms 200 --mass-sends-per-minute 1000 \
    --callback-url "$serve_url" --callback-token bench --callback-aes-key "$KEY" --callback-mode safe
  export WXMASS_HOME="$home" WXMASS_APPID=$APPID WXMASS_SECRET=$SECRET WXMASS_API_BASE="$EMULATOR_URL"
  MEASURE_OUT="$measures" python3 bench/measure.py followers "$WXMASS" followers --out "$home/audience.txt" > /dev/null 2>&1
  MEASURE_OUT="$measures" python3 bench/measure.py send "$WXMASS" send --text bench --openids "$home/audience.txt" \
    --batch-size "$batch" --yes --campaign scale > /dev/null 2>&1
  # Until every batch's report is in the journal (`send` waits for them
  # when serve records them first, so the first look usually finds them).
  # The wait counts from send's exit to the start of the look that found
  # every report; wall time is the two commands' own times plus that wait
  # (the script's is measured inside Python, after its start-up, alike).
  sent_ns=$(date +%s%N)
  while looked_ns=$(date +%s%N); ! "$WXMASS" status scale --json | python3 -c '
import json, sys
batches = json.load(sys.stdin)["batches"]
sys.exit(0 if all(b["report"] for b in batches) else 1)'; do sleep 0.02; done
  wait_ms=$(( (looked_ns - sent_ns) / 1000000 ))
  serve_rss=$(awk '/VmHWM/ {print $2}' /proc/$serve_pid/status)
  journal_bytes=$(cat "$home"/journal.db* | wc -c)
  unset WXMASS_HOME WXMASS_APPID WXMASS_SECRET WXMASS_API_BASE
  kill $serve_pid; wait $serve_pid 2>/dev/null || true
  stop_emulator
  # wechatpy, on a fresh emulator of the same size.
  start_emulator --followers "$n" --tags 1 --job-delay-ms 200 --mass-sends-per-minute 1000
  py=$("$VENV/bin/python" bench/wechatpy_campaign.py "$EMULATOR_URL" "$APPID" "$SECRET" "$batch")
  stop_emulator
  python3 - "$n" "$wait_ms" "$serve_rss" "$journal_bytes" "$measures" "$py" <<'PY'
import json, sys
n, wait_ms, serve_kb, journal, measures, py = sys.argv[1:]
m = {j["label"]: j for j in map(json.loads, open(measures))}
assert all(j["exit"] == 0 for j in m.values()), m
py = json.loads(py)
wall = m["followers"]["seconds"] + m["send"]["seconds"] + int(wait_ms) / 1000
ours = {"wall_seconds": wall, "report_wait_seconds": int(wait_ms) / 1000, "followers_seconds": m["followers"]["seconds"],
        "send_seconds": m["send"]["seconds"], "followers_rss_mb": m["followers"]["peak_rss_mb"],
        "send_rss_mb": m["send"]["peak_rss_mb"], "serve_rss_mb": int(serve_kb) / 1024,
        "journal_mb": int(journal) / 1e6}
print(f"{int(n):,} followers in 100 batches")
print(f"  wxmass:   {ours['wall_seconds']:6.2f} s to every report recorded (followers {ours['followers_seconds']:.2f} s, send {ours['send_seconds']:.2f} s);"
      f" peak RSS followers {ours['followers_rss_mb']:.1f} MB, send {ours['send_rss_mb']:.1f} MB, serve {ours['serve_rss_mb']:.1f} MB; journal {ours['journal_mb']:.1f} MB")
print(f"  wechatpy: {py['wall_seconds']:6.2f} s to every job final (paging {py['page_seconds']:.2f} s, sends {py['send_seconds']:.2f} s); peak RSS {py['peak_rss_mb']:.1f} MB")
print("RESULT " + json.dumps({"bench": "campaign", "followers": int(n), "ours": ours, "wechatpy": py}))
PY
  rm -rf "$home"
done
