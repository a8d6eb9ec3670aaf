#!/usr/bin/env bash
# The emulator at scale: seed N followers (default 1,000,000), page through
# all of them with user/get, then load message/mass/get, and sendall (each
# request a new job), with wrk at 64 keep-alive connections. Prints times,
# the emulator's peak RSS, and wrk's requests/s: the ceiling every client
# figure is measured under.
#
#   bench/emulator-scale.sh                 # 1,000,000 followers
#   FOLLOWERS=10000 QUICK=1 bench/emulator-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FOLLOWERS="${FOLLOWERS:-1000000}"
DURATION="${QUICK:+3s}"
DURATION="${DURATION:-15s}"
. bench/lib.sh
cargo build --quiet --release --locked -p wxmass-emulator

start_ns=$(date +%s%N)
start_emulator --followers "$FOLLOWERS" --tags 10 --job-delay-ms 10
seed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
pid=$EMULATOR_PID
base=$EMULATOR_URL
trap 'stop_emulator; rm -f "${lua:-}" /tmp/wxmass-bench-token' EXIT

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
if ! command -v wrk >/dev/null; then
  echo "wrk not installed (apt-get install wrk): skipping the throughput runs"
  python3 -c 'import json; print("RESULT " + json.dumps({"bench": "emulator", "followers": '"$FOLLOWERS"', "peak_rss_mb": '"$rss_kb"' / 1024}))'
  exit 0
fi
rate() { awk '/Requests\/sec/ {print $2}'; }
lua="$(mktemp --suffix .lua)"
cat > "$lua" <<LUA
wrk.method = "POST"
wrk.body = '{"msg_id": $job}'
LUA
echo "message/mass/get, 64 keep-alive connections, $DURATION:"
get_out=$(wrk -t2 -c64 -d"$DURATION" -s "$lua" "$base/cgi-bin/message/mass/get?access_token=$token")
echo "$get_out" | grep -E "Requests/sec|Latency|requests in"
get_rate=$(echo "$get_out" | rate)
stop_emulator

# sendall on a fresh emulator with the quotas lifted (else 45011 after 60)
# and jobs that do not finish during the run; each request a new clientmsgid.
start_emulator --followers 1000 --tags 1 --no-quotas --job-delay-ms 3600000
base=$EMULATOR_URL
token=$(emulator_token)
cat > "$lua" <<'LUA'
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"filter":{"is_to_all":false,"tag_id":100},"text":{"content":"load"},"msgtype":"text","clientmsgid":"t' .. id .. '-' .. counter .. '"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
LUA
SENDALL_DURATION="${QUICK:+2s}"
SENDALL_DURATION="${SENDALL_DURATION:-5s}"
echo "message/mass/sendall (each a new job), 64 keep-alive connections, $SENDALL_DURATION:"
send_out=$(wrk -t2 -c64 -d"$SENDALL_DURATION" -s "$lua" "$base/cgi-bin/message/mass/sendall?access_token=$token")
echo "$send_out" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
send_rate=$(echo "$send_out" | rate)
jobs=$(curl -s "$base/_emulator/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"])')
echo "jobs created: $jobs"
python3 -c 'import json,sys; print("RESULT " + json.dumps({"bench": "emulator", "followers": int(sys.argv[1]), "peak_rss_mb": int(sys.argv[2]) / 1024, "mass_get": float(sys.argv[3]), "sendall": float(sys.argv[4]), "sendall_jobs": int(sys.argv[5])}))' \
  "$FOLLOWERS" "$rss_kb" "$get_rate" "$send_rate" "$jobs"
