#!/usr/bin/env bash
# The emulator at scale: seed N followers (default 1,000,000), page through
# all of them with user/get, then load message/mass/get with wrk at 64
# keep-alive connections. Prints times, the emulator's peak RSS, and wrk's
# requests/s.
#
#   bench/emulator-scale.sh                 # 1,000,000 followers
#   FOLLOWERS=10000 QUICK=1 bench/emulator-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FOLLOWERS="${FOLLOWERS:-1000000}"
DURATION="${QUICK:+3s}"
DURATION="${DURATION:-15s}"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --quiet --release --locked -p wxmass-emulator
BIN="$TARGET_DIR/release/wxmass-emulator"
APPID=wx5e1f0c2a9b84d37e
SECRET=9f8e7d6c5b4a39281706f5e4d3c2b1a0

out="$(mktemp)"
start_ns=$(date +%s%N)
"$BIN" --listen 127.0.0.1:0 --followers "$FOLLOWERS" --tags 10 --job-delay-ms 10 > "$out" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out" "${lua:-}"' EXIT
until [ -s "$out" ]; do sleep 0.01; done
seed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
base=$(head -n 1 "$out" | awk '{print $4}')

python3 - "$base" "$APPID" "$SECRET" "$FOLLOWERS" "$seed_ms" <<'PY'
import json, sys, time, urllib.request
base, appid, secret, expected, seed_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def get(path):
    with urllib.request.urlopen(base + path) as r:
        return json.load(r)
token = get(f"/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}")["access_token"]
start = time.perf_counter()
seen, pages, nxt = 0, 0, ""
while True:
    page = get(f"/cgi-bin/user/get?access_token={token}&next_openid={nxt}")
    if "data" not in page:
        break
    seen += page["count"]
    pages += 1
    nxt = page["next_openid"]
elapsed = time.perf_counter() - start
assert seen == expected, (seen, expected)
print(f"seed {expected:,} followers (process start to listening): {seed_ms / 1000:.2f} s")
print(f"page all {seen:,} through user/get: {pages} pages in {elapsed:.2f} s ({seen / elapsed:,.0f} openids/s)")
with open("/tmp/wxmass-bench-token", "w") as f:
    f.write(token)
PY
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "emulator peak RSS: $((rss_kb / 1024)) MiB"

token=$(cat /tmp/wxmass-bench-token)
job=$(curl -s -X POST "$base/cgi-bin/message/mass/sendall?access_token=$token" \
  -d '{"filter":{"is_to_all":false,"tag_id":100},"text":{"content":"bench"},"msgtype":"text"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["msg_id"])')
if command -v wrk >/dev/null; then
  lua="$(mktemp --suffix .lua)"
  cat > "$lua" <<LUA
wrk.method = "POST"
wrk.body = '{"msg_id": $job}'
LUA
  echo "message/mass/get, 64 keep-alive connections, $DURATION:"
  wrk -t2 -c64 -d"$DURATION" -s "$lua" "$base/cgi-bin/message/mass/get?access_token=$token" | grep -E "Requests/sec|Latency|requests in"
else
  echo "wrk not installed (apt-get install wrk): skipping the throughput run"
fi
