#!/usr/bin/env bash
# Token storm: the access token is invalidated on the emulator, then 1,000
# calls start at once, through wxmass-api (tasks) and through wechatpy 1.8.18
# (threads), five rounds each. Prints the token fetches each caused (goal for
# wxmass: 1 in every round).
#   bench/token-storm.sh              # 1,000 concurrent calls
#   CALLS=200 bench/token-storm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
CALLS="${CALLS:-1000}"
ROUNDS="${ROUNDS:-${QUICK:+2}}"
ROUNDS="${ROUNDS:-5}"
bench_venv
cargo build --quiet --release --locked -p wxmass-emulator
cargo build --quiet --release --locked -p wxmass-api --example token_storm
run_one() { # $1: label; the rest: the command (given URL and MSG_ID)
  local label=$1; shift
  start_emulator --followers 100 --tags 1
  local msg_id
  msg_id=$(emulator_send_text)
  "$@" "$EMULATOR_URL" "$msg_id"
  stop_emulator
}
rust() { WXMASS_BENCH_URL="$1" WXMASS_BENCH_MSG_ID="$2" WXMASS_BENCH_CALLS="$CALLS" WXMASS_BENCH_ROUNDS="$ROUNDS" "$TARGET_DIR/release/examples/token_storm"; }
python() { "$VENV/bin/python" bench/wechatpy_token_storm.py "$1" "$APPID" "$SECRET" "$2" "$CALLS" "$ROUNDS"; }
ours=$(run_one wxmass rust)
theirs=$(run_one wechatpy python)
python3 - "$ours" "$theirs" <<'PY'
import json, sys
o, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def fetches(r):
    f = sorted(r["token_fetches"])
    return f"{f[len(f) // 2]:>4} token fetches (median of {r['rounds']} rounds; {f[0]} to {f[-1]})"
print(f"token storm, {o['calls']:,} concurrent calls after the token was invalidated")
print(f"  wxmass-api:      {fetches(o)}, every call succeeded: {o['succeeded'] == o['calls']}, {o['seconds']:.2f} s a round")
print(f"  wechatpy 1.8.18: {fetches(t)}, every call succeeded: {t['succeeded'] == t['calls']}, {t['seconds']:.2f} s a round")
print("RESULT " + json.dumps({"bench": "token_storm", "ours": o, "wechatpy": t}))
PY
