#!/usr/bin/env bash
# mass/get through wxmass-api, bare reqwest and wechatpy 1.8.18, against one
# emulator (release build), in one run. Prints requests/s and the ratios.
#   bench/client-vs-peers.sh          # 10 s per client
#   QUICK=1 bench/client-vs-peers.sh  # 2 s per client
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${QUICK:+2}"
SECONDS_EACH="${SECONDS_EACH:-10}"
. bench/lib.sh
bench_venv
cargo build --quiet --release --locked -p wxmass-emulator && cargo build --quiet --release --locked -p wxmass-api --example client_bench
# The emulator on one core, each client in turn on the other, so that the
# clients are compared on equal, stable terms.
EMULATOR_CORE=1 start_emulator --followers 1000 --tags 2
trap stop_emulator EXIT
base=$EMULATOR_URL
msg_id=$(emulator_send_text)
rust=$(WXMASS_BENCH_URL="$base" WXMASS_BENCH_MSG_ID="$msg_id" WXMASS_BENCH_SECONDS="$SECONDS_EACH" pin 0 "$TARGET_DIR/release/examples/client_bench")
py=$(pin 0 "$VENV/bin/python" bench/wechatpy_client.py "$base" "$APPID" "$SECRET" "$msg_id" "$SECONDS_EACH" 8)
python3 - "$rust" "$py" <<'PY'
import json, sys
r, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"mass/get requests/s   wxmass-api: {r['wxmass_api']:>9,.0f}  ({r['concurrency']} tasks)")
print(f"                      bare reqwest: {r['reqwest']:>9,.0f}  ({r['concurrency']} tasks)")
print(f"                      wechatpy 1.8.18: {p['wechatpy']:>9,.0f}  ({p['threads']} threads)")
print(f"ratios: wxmass-api / reqwest = {r['wxmass_api'] / r['reqwest']:.2f} (goal >= 0.9); wxmass-api / wechatpy = {r['wxmass_api'] / p['wechatpy']:.1f}x (goal >= 10x)")
print("RESULT " + json.dumps({"bench": "client", "ours": r["wxmass_api"], "reqwest": r["reqwest"], "wechatpy": p["wechatpy"]}))
PY
