#!/usr/bin/env bash
# wxmass server as a third-party platform (--platform): one server acting
# for the emulator's authorised accounts (1,000; QUICK=1: 100) on its
# SQLite store.
# 1. Idle: its memory, and its CPU over 30 s of nothing, then over a day of
#    the emulator's clock (in half hours, the server's moved alike), whose
#    twelve refresh waves fetch every account's token once each.
# 2. Pushes/s of /platform/callback/{appid}, going round all the accounts
#    (the platform's key, each push pinned to its account), and of
#    /callback/{appid} for one account of its own, at 64 connections:
#    distinct valid safe-mode reports (crates/wxmass-callback/examples/
#    push_load.rs), each answered once recorded.
#   bench/platform.sh            # 1,000 accounts, 3 rounds of 50,000 pushes each way
#   QUICK=1 bench/platform.sh    # 100 accounts, 5,000 pushes
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
if [ -n "${QUICK:-}" ]; then ACCOUNTS=100 PUSHES=5000 IDLE=5 ROUNDS=1; else ACCOUNTS=1000 PUSHES=50000 IDLE=30 ROUNDS=3; fi
CONNECTIONS="${CONNECTIONS:-64}"
PLATFORM=wx3c1f0e2d9a8b7c6d
export WXMASS_PLATFORM_SECRET=0a1b2c3d4e5f60718293a4b5c6d7e8f9
export WXMASS_PLATFORM_TOKEN=wxmassplatform
export WXMASS_PLATFORM_AES_KEY=PlatformKeyOfTheWxmassEmulator0123456789abc
KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
cargo build --quiet --release --locked -p wxmass --bin wxmass
cargo build --quiet --release --locked -p wxmass-emulator
cargo build --quiet --release --locked -p wxmass-callback --example push_load
WXMASS="$TARGET_DIR/release/wxmass"
LOAD="$TARGET_DIR/release/examples/push_load"
home="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; stop_emulator; rm -rf "$home"; }
trap cleanup EXIT
start_emulator --followers 10 --platform "$ACCOUNTS" --platform-followers 1
export WXMASS_HOME="$home" WXMASS_API_BASE="$EMULATOR_URL"
token=$(WXMASS_ADMIN_PASSWORD='bench bench bench' "$WXMASS" server init-admin --name bench 2>/dev/null)
"$WXMASS" server --listen 127.0.0.1:0 --movable-clock --platform "$PLATFORM" > "$home/server.log" 2> "$home/server.err" &
pid=$!
until [ -s "$home/server.log" ]; do kill -0 "$pid" || { cat "$home/server.err" >&2; exit 1; }; sleep 0.01; done
url=$(head -n 1 "$home/server.log" | awk '{print $5}')
emu() { curl -sf -H 'content-type: application/json' ${2:+-d "$2"} "$EMULATOR_URL$1"; }
api() { curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' ${2:+-d "$2"} "$url$1"; }
emu /_emulator/platform/urls "{\"event_url\":\"$url/platform/events\",\"message_url\":\"$url/platform/callback/\$APPID\$\"}" > /dev/null
until emu /_emulator/pushes | python3 -c 'import json,sys; sys.exit(0 if any(p["event"]=="component_verify_ticket" and p["accepted"] for p in json.load(sys.stdin)["pushes"]) else 1)'; do sleep 0.05; done
emu /_emulator/platform/authorize_all "{\"count\":$ACCOUNTS}" > /dev/null
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
ticks=$(getconf CLK_TCK)
sleep 2
c0=$(cpu); sleep "$IDLE"; c1=$(cpu)
t0=$(date +%s.%N); d0=$(cpu)
for step in $(seq 1 48); do
  emu /_emulator/clock '{"advance_seconds":1800}' > /dev/null
  api /api/v1/clock '{"advance_seconds":1800}' > /dev/null
  if [ $((step % 4)) -eq 0 ]; then
    want=$((step / 4))
    until emu /_emulator/platform | python3 -c 'import json,sys; s=json.load(sys.stdin)["stats"]["authorizer_token_fetches"]; sys.exit(0 if len(s) == '"$ACCOUNTS"' and min(s.values()) >= '"$want"' else 1)'; do sleep 0.1; done
  fi
done
d1=$(cpu); t1=$(date +%s.%N)
summary=$(emu /_emulator/platform)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status"); hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
api /api/v1/accounts | python3 -c 'import json,sys; [print(a["appid"], a["authorised"]["user_name"]) for a in json.load(sys.stdin) if a.get("authorised")]' > "$home/accounts.txt"
api /api/v1/accounts "{\"appid\":\"$APPID\",\"name\":\"own\",\"account_type\":\"service\",\"secret\":\"$SECRET\",\"callback_token\":\"bench\",\"aes_key\":\"$KEY\",\"api_base\":\"$EMULATOR_URL\"}" > /dev/null
# Alternately, ROUNDS times each (the machine is shared: the median is
# what is reported).
platform="" own=""
for round in $(seq 1 "$ROUNDS"); do
  platform="$platform $("$LOAD" "$url/platform/callback/\$APPID\$" "$WXMASS_PLATFORM_TOKEN" "$WXMASS_PLATFORM_AES_KEY" "$PLATFORM" "$PUSHES" "$CONNECTIONS" "$home/accounts.txt")"
  own="$own $("$LOAD" "$url/callback/$APPID" bench "$KEY" "$APPID" "$PUSHES" "$CONNECTIONS")"
done
python3 - "$ACCOUNTS" "$summary" "$rss" "$hwm" "$c0" "$c1" "$d0" "$d1" "$ticks" "$IDLE" "$t0" "$t1" "$platform" "$own" <<'PY'
import json, sys
accounts, summary = int(sys.argv[1]), json.loads(sys.argv[2])
rss, hwm = int(sys.argv[3]) / 1024, int(sys.argv[4]) / 1024
c0, c1, d0, d1, ticks, idle = (float(x) for x in sys.argv[5:11])
t0, t1 = float(sys.argv[11]), float(sys.argv[12])
def median(runs):
    runs = [json.loads(r) for r in runs.replace("} {", "}\n{").split("\n") if r.strip()]
    assert all(r["failed"] == 0 for r in runs), runs
    return sorted(runs, key=lambda r: r["pushes_per_sec"])[len(runs) // 2], [round(r["pushes_per_sec"]) for r in runs]
(platform, platform_runs), (own, own_runs) = median(sys.argv[13]), median(sys.argv[14])
fetches = summary["stats"]["authorizer_token_fetches"]
assert len(fetches) == accounts and set(fetches.values()) == {12}, fetches
idle_cpu = (c1 - c0) / ticks / idle * 100
day_cpu = (d1 - d0) / ticks
ratio = platform["pushes_per_sec"] / own["pushes_per_sec"]
print(f"{accounts:,} authorised accounts, one server (SQLite)")
print(f"  memory: {rss:.1f} MB resident ({hwm:.1f} MB at most)")
print(f"  idle: {idle_cpu:.2f}% of a core over {idle:.0f} s")
print(f"  a day of the emulator's clock ({t1 - t0:.0f} s here): {day_cpu:.1f} CPU-seconds; each token fetched 12 times, the platform's {summary['stats']['component_token_fetches']}")
print(f"  pushes, {platform['connections']} connections: /platform/callback/{{appid}} round {accounts:,} accounts {platform['pushes_per_sec']:,.0f}/s;"
      f" /callback/{{appid}} one account {own['pushes_per_sec']:,.0f}/s; ratio {ratio:.2f} (goal >= 0.90)")
print(f"  (medians of {len(own_runs)} rounds of {own['pushes']:,} pushes each way: {platform_runs} and {own_runs})")
print("RESULT " + json.dumps({"bench": "platform", "accounts": accounts, "rss_mb": rss, "hwm_mb": hwm, "idle_cpu_pct": idle_cpu,
                              "day_cpu_s": day_cpu, "platform_pushes_per_sec": platform["pushes_per_sec"], "own_pushes_per_sec": own["pushes_per_sec"]}))
PY
