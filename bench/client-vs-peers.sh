#!/usr/bin/env bash
# mass/get through wxmass-api, bare reqwest and wechatpy 1.8.18, against one
# emulator (release build), in one run. Prints requests/s and the ratios.
#   bench/client-vs-peers.sh          # 10 s per client
#   QUICK=1 bench/client-vs-peers.sh  # 2 s per client
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${QUICK:+2}"
SECONDS_EACH="${SECONDS_EACH:-10}"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
VENV="bench/.venv"
APPID=wx5e1f0c2a9b84d37e
SECRET=9f8e7d6c5b4a39281706f5e4d3c2b1a0
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import wechatpy' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "wechatpy[cryptography]==1.8.18"
fi
cargo build --quiet --release --locked -p wxmass-emulator && cargo build --quiet --release --locked -p wxmass-api --example client_bench
out="$(mktemp)"
# The emulator on one core, each client in turn on the other, so that the
# clients are compared on equal, stable terms.
pin() { if command -v taskset >/dev/null; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi; }
EMULATOR_PIN=(); command -v taskset >/dev/null && EMULATOR_PIN=(taskset -c 1)
"${EMULATOR_PIN[@]}" "$TARGET_DIR/release/wxmass-emulator" --listen 127.0.0.1:0 --followers 1000 --tags 2 > "$out" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
until [ -s "$out" ]; do sleep 0.01; done
base=$(head -n 1 "$out" | awk '{print $4}')
token=$(curl -s "$base/cgi-bin/token?grant_type=client_credential&appid=$APPID&secret=$SECRET" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
msg_id=$(curl -s -X POST "$base/cgi-bin/message/mass/sendall?access_token=$token" \
  -d '{"filter":{"is_to_all":true},"text":{"content":"bench"},"msgtype":"text"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["msg_id"])')
rust=$(WXMASS_BENCH_URL="$base" WXMASS_BENCH_MSG_ID="$msg_id" WXMASS_BENCH_SECONDS="$SECONDS_EACH" pin 0 "$TARGET_DIR/release/examples/client_bench")
py=$(pin 0 "$VENV/bin/python" bench/wechatpy_client.py "$base" "$APPID" "$SECRET" "$msg_id" "$SECONDS_EACH" 8)
python3 - "$rust" "$py" <<'PY'
import json, sys
r, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"mass/get requests/s   wxmass-api: {r['wxmass_api']:>9,.0f}  ({r['concurrency']} tasks)")
print(f"                      bare reqwest: {r['reqwest']:>9,.0f}  ({r['concurrency']} tasks)")
print(f"                      wechatpy 1.8.18: {p['wechatpy']:>9,.0f}  ({p['threads']} threads)")
print(f"ratios: wxmass-api / reqwest = {r['wxmass_api'] / r['reqwest']:.2f} (goal >= 0.9); wxmass-api / wechatpy = {r['wxmass_api'] / p['wechatpy']:.1f}x (goal >= 10x)")
PY
