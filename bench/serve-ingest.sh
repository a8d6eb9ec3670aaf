#!/usr/bin/env bash
# Durable ingest: distinct valid safe-mode MASSSENDJOBFINISH pushes (made
# ahead of time by the push_load example) posted at 64 keep-alive
# connections into `wxmass serve` with its SQLite journal, each answered
# only once recorded; then the same load into the receiver a wechatpy user
# would write (bench/python_receiver.py: wechatpy's crypto, sqlite3 with a
# commit per push, uvicorn with uvloop and httptools). Both journals are
# counted afterwards: every push answered `success` must be in them.
#
#   bench/serve-ingest.sh            # 200,000 pushes into serve, 20,000 into Python
#   QUICK=1 bench/serve-ingest.sh    # a smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_venv
if [ -n "${QUICK:-}" ]; then OURS_PUSHES=5000 PY_PUSHES=1000; else OURS_PUSHES=200000 PY_PUSHES=20000; fi
CONNECTIONS="${CONNECTIONS:-64}"
# Two builds: with --example, cargo would build only the example.
cargo build --quiet --release --locked -p wxmass --bin wxmass
cargo build --quiet --release --locked -p wxmass-callback --example push_load
TOKEN=wxmassBench KEY=kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR APP=wx4f2a7c91d3e8b605
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "nothing listens on $1; the receiver said:" >&2
  cat "$work"/*.log >&2 2>/dev/null || true
  return 1
}
load() { "$TARGET_DIR/release/examples/push_load" "http://127.0.0.1:$1/" "$TOKEN" "$KEY" "$APP" "$2" "$CONNECTIONS"; }
# Rows of table $2 in the SQLite file $1 (ours is wxmass_pushes, the Python receiver's pushes).
count() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(f"SELECT COUNT(*) FROM {sys.argv[2]}").fetchone()[0])' "$1" "$2"; }

# wxmass serve, safe mode, journal on this disk (synchronous=FULL).
port=$(free_port)
WXMASS_HOME="$work/serve" WXMASS_APPID=$APP WXMASS_CALLBACK_TOKEN=$TOKEN WXMASS_CALLBACK_AES_KEY=$KEY \
  "$TARGET_DIR/release/wxmass" serve --listen "127.0.0.1:$port" > /dev/null 2> "$work/serve.log" &
pids+=($!)
wait_port "$port"
ours="$(load "$port" "$OURS_PUSHES")"
ours_recorded=$(count "$work/serve/journal.db" wxmass_pushes)

# The Python receiver: one uvicorn worker (two measured the same: each
# commit's fsync is the bound).
port=$(free_port)
RECEIVER_DB="$work/python.db" RECEIVER_TOKEN=$TOKEN RECEIVER_AES_KEY=$KEY RECEIVER_APPID=$APP \
  "$VENV/bin/uvicorn" --app-dir bench python_receiver:app --host 127.0.0.1 --port "$port" \
  --loop uvloop --http httptools --no-access-log --log-level warning 2> "$work/python.log" &
pids+=($!)
wait_port "$port"
theirs="$(load "$port" "$PY_PUSHES")"
theirs_recorded=$(count "$work/python.db" pushes)

python3 - "$ours" "$ours_recorded" "$theirs" "$theirs_recorded" <<'PY'
import json, sys
ours, ours_n, theirs, theirs_n = json.loads(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
for name, r, n in (("wxmass serve", ours, ours_n), ("python receiver", theirs, theirs_n)):
    assert r["failed"] == 0 and n == r["pushes"], f"{name}: {r} answered, {n} recorded"
ratio = ours["pushes_per_sec"] / theirs["pushes_per_sec"]
print(f"durable ingest, {ours['connections']} connections  wxmass serve: {ours['pushes_per_sec']:>8,.0f} pushes/s ({ours['pushes']:,} pushes, all in the journal)")
print(f"                               wechatpy + sqlite3 + uvicorn: {theirs['pushes_per_sec']:>8,.0f} pushes/s ({theirs['pushes']:,} pushes)")
print(f"                               ratio: {ratio:.1f}x (goal >= 20,000/s and >= 10x)")
print("RESULT " + json.dumps({"bench": "serve_ingest", "ours": ours["pushes_per_sec"], "python": theirs["pushes_per_sec"], "connections": ours["connections"]}))
PY
