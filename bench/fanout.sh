#!/usr/bin/env bash
# A fan-out campaign at scale: a template message to every follower (default
# 1,000,000) with `wxmass notify`, every recipient recorded `sending` before
# its request and `sent` after, then every TEMPLATESENDJOBFINISH report
# received by `wxmass serve` and joined to its recipient (`status --refresh`).
# The reports fall due after the send (REPORTS=during: 200 ms after each
# message, as WeChat's come while a send goes on): on two cores the
# emulator standing in for WeChat would otherwise spend the send's time
# making a million encrypted pushes, which WeChat does on its own machines.
# Once notify is done the emulator's clock moves a day on, every report is
# pushed (256 at once, as WeChat does) and `serve` records them; the join is
# timed from then, apart from the send.
# On the SQLite journal and on PostgreSQL (a throwaway cluster). Beside it,
# on fresh emulators of the same size: the emulator's own ceiling for
# template/send (bare reqwest, 64 in flight, nothing recorded), and a wechatpy
# 1.8.18 script as its users write it (send_template in a ThreadPoolExecutor
# of 64 threads, nothing recorded; on the first WECHATPY_FOLLOWERS followers,
# 100,000 by default: at its pace a million would take a quarter of an hour,
# and its rate is what is compared). The emulator's per-minute template quota
# is lifted for all of them.
#   bench/fanout.sh                      # 1,000,000 followers
#   FOLLOWERS=100000 bench/fanout.sh
#   QUICK=1 bench/fanout.sh              # 10,000: a smoke run
#
# Goals (2 cores): >= 20,000 messages/s on SQLite, >= 10,000 on PostgreSQL,
# >= 10x the wechatpy script, >= 50% of the emulator's ceiling, peak RSS of
# notify < 64 MB, the store <= 64 bytes a recipient (the pages the
# recipients' and reports' tables use once the reports are joined and
# forgotten: on SQLite the pages in use; on PostgreSQL after VACUUM FULL,
# since each window's write leaves the chunk's old row version behind, whose
# space a plain VACUUM frees for reuse without shrinking the files: that
# size is printed beside it). The 50% of the ceiling is SQLite's goal; the
# PostgreSQL goal of 10,000 a second is a quarter of the ceiling.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N="${FOLLOWERS:-${QUICK:+10000}}"
N="${N:-1000000}"
REPORTS="${REPORTS:-after}"
case "$REPORTS" in
  after) DELAY_MS=86400000 ;;
  during) DELAY_MS=200 ;;
  *) echo "REPORTS=$REPORTS: after or during" >&2; exit 2 ;;
esac
KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
bench_venv
cargo build --quiet --release --locked -p wxmass-emulator -p wxmass
cargo build --quiet --release --locked -p wxmass-api --example template_ceiling
WXMASS="$TARGET_DIR/release/wxmass"
start_postgres

LIFTED='{"per_minute": 1000000000, "daily_limit": 1000000000}'

# An emulator of $N followers (extra flags appended), its quotas lifted, its
# template added; sets TEMPLATE and writes the followers to $1/audience.txt.
emulator_for() {
  local home=$1; shift
  start_emulator --followers "$N" --tags 1 --job-delay-ms "$DELAY_MS" "$@"
  curl -s -X POST "$EMULATOR_URL/_emulator/templates/settings" -d "$LIFTED" > /dev/null
  local run=(env WXMASS_HOME="$home" WXMASS_APPID=$APPID WXMASS_SECRET=$SECRET WXMASS_API_BASE="$EMULATOR_URL" "$WXMASS")
  "${run[@]}" templates industry 1 2 > /dev/null
  TEMPLATE=$("${run[@]}" templates add 47123 --keyword 商品名称 --keyword 快递公司 --keyword 快递单号 \
    --keyword 发货时间 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["template_id"])')
  "${run[@]}" followers --out "$home/audience.txt" > /dev/null 2>&1
}

# wxmass notify to every follower with the journal on $1 (sqlite or
# postgres); prints its figures as JSON.
ours() {
  local backend=$1 home db=() dbname
  home="$(mktemp -d)"
  if [ "$backend" = postgres ]; then
    dbname="fanout_$N"
    db=(--database "$(postgres_database "$dbname")")
  fi
  local measures="$home/measures.jsonl" serve_log="$home/serve.log"
  WXMASS_HOME="$home" WXMASS_APPID=$APPID WXMASS_SECRET=$SECRET \
    "$WXMASS" "${db[@]}" serve --listen 127.0.0.1:0 --token bench --aes-key "$KEY" \
    --max-connections-per-address 100000 > "$serve_log" 2>/dev/null &
  local serve_pid=$!
  until [ -s "$serve_log" ]; do
    kill -0 $serve_pid 2>/dev/null || { echo "serve did not start" >&2; exit 1; }
    sleep 0.01
  done
  local serve_url
  serve_url=$(head -n 1 "$serve_log" | awk '{print $5}')
  emulator_for "$home" --callback-url "$serve_url" --callback-token bench \
    --callback-aes-key "$KEY" --callback-mode safe
  export WXMASS_HOME="$home" WXMASS_APPID=$APPID WXMASS_SECRET=$SECRET WXMASS_API_BASE="$EMULATOR_URL"
  MEASURE_OUT="$measures" python3 bench/measure.py notify "$WXMASS" "${db[@]}" notify --template "$TEMPLATE" \
    --data thing1=钢笔 --data thing2=顺丰速运 --data character_string3=SF1234567890 \
    --data 'time4=2026-12-06 10:00' --openids "$home/audience.txt" --campaign fanout --yes > /dev/null 2>&1
  # Every report received and joined: `status --refresh` folds in what
  # serve has so far, until no template message is left without one.
  local joined_start joined_ns
  joined_start=$(date +%s%N)
  if [ "$REPORTS" = after ]; then
    curl -s -X POST "$EMULATOR_URL/_emulator/clock" -d '{"advance_seconds": 86460}' > /dev/null
  fi
  until "$WXMASS" "${db[@]}" status fanout --refresh --json 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
sys.exit(0 if v["by_state"]["sent"] == v["recipients"] and "none" not in v["reported"] else 1)'; do sleep 0.5; done
  joined_ns=$(( $(date +%s%N) - joined_start ))
  local store_bytes files_bytes=0
  if [ "$backend" = postgres ]; then
    local size="SELECT pg_total_relation_size('wxmass_recipient_chunks') + pg_total_relation_size('wxmass_notice_reports')"
    "${PG_RUN[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$dbname" -qc "VACUUM" > /dev/null
    files_bytes=$("${PG_RUN[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$dbname" -tAq -c "$size")
    "${PG_RUN[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$dbname" -qc "VACUUM FULL" > /dev/null
    store_bytes=$("${PG_RUN[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$dbname" -tAq -c "$size")
  else
    store_bytes=$(python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT sum(pgsize - unused) FROM dbstat"
                " WHERE name LIKE \"%recipient_chunks%\" OR name LIKE \"%notice_reports%\"").fetchone()[0] or 0)' \
      "$home/journal.db")
  fi
  unset WXMASS_HOME WXMASS_APPID WXMASS_SECRET WXMASS_API_BASE
  kill $serve_pid; wait $serve_pid 2>/dev/null || true
  stop_emulator
  python3 - "$N" "$joined_ns" "$store_bytes" "$measures" "$files_bytes" <<'PY'
import json, sys
n, joined_ns, store, measures = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
files = int(sys.argv[5])
m = {j["label"]: j for j in map(json.loads, open(measures))}
assert all(j["exit"] == 0 for j in m.values()), m
print(json.dumps({"seconds": m["notify"]["seconds"], "per_second": n / m["notify"]["seconds"],
                  "peak_rss_mb": m["notify"]["peak_rss_mb"], "join_seconds": joined_ns / 1e9,
                  "store_bytes_per_recipient": store / n,
                  "files_bytes_per_recipient": (files or store) / n}))
PY
  rm -rf "$home"
}

sqlite=$(ours sqlite)
postgres=$(ours postgres)
# The emulator's ceiling, and wechatpy, each on a fresh emulator.
home="$(mktemp -d)"
emulator_for "$home"
ceiling=$(WXMASS_BENCH_URL="$EMULATOR_URL" WXMASS_BENCH_TEMPLATE="$TEMPLATE" WXMASS_BENCH_OPENIDS="$home/audience.txt" \
  "$TARGET_DIR/release/examples/template_ceiling")
stop_emulator
emulator_for "$home"
head -n "${WECHATPY_FOLLOWERS:-100000}" "$home/audience.txt" > "$home/wechatpy.txt"
py=$("$VENV/bin/python" bench/wechatpy_fanout.py "$EMULATOR_URL" "$APPID" "$SECRET" "$TEMPLATE" "$home/wechatpy.txt")
stop_emulator
rm -rf "$home"
python3 - "$N" "$sqlite" "$postgres" "$ceiling" "$py" "$REPORTS" <<'PY'
import json, sys
n, sqlite, postgres, ceiling, py = int(sys.argv[1]), *map(json.loads, sys.argv[2:6])
print(f"a template message to {n:,} followers, one request each (reports {sys.argv[6]} the send)")
for name, o, goal, share in (("sqlite", sqlite, 20000, 50), ("postgres", postgres, 10000, 25)):
    print(f"  wxmass notify ({name}): {o['per_second']:>8,.0f}/s ({o['seconds']:.1f} s; goal >= {goal:,}),"
          f" {o['per_second'] / py['per_second']:.1f}x wechatpy (goal >= 10x),"
          f" {o['per_second'] / ceiling['per_second']:.0%} of the emulator's ceiling (goal >= {share}%);"
          f" peak RSS {o['peak_rss_mb']:.1f} MB (goal < 64); store {o['store_bytes_per_recipient']:.1f} B a recipient"
          f" (goal <= 64; {o['files_bytes_per_recipient']:.1f} B in the files before they are compacted);"
          f" reports joined {o['join_seconds']:.1f} s after")
print(f"  emulator ceiling (bare reqwest, 64 in flight, nothing recorded): {ceiling['per_second']:>8,.0f}/s")
print(f"  wechatpy 1.8.18 (64 threads, nothing recorded; {py['sent']:,} followers): {py['per_second']:>8,.0f}/s;"
      f" peak RSS {py['peak_rss_mb']:.1f} MB")
print("RESULT " + json.dumps({"bench": "fanout", "followers": n, "reports": sys.argv[6], "ours": sqlite, "ours_postgres": postgres,
                              "ceiling": ceiling, "wechatpy": py}))
PY
