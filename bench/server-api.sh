#!/usr/bin/env bash
# wxmass server's API under load: campaign-status reads and campaign
# creations per second, with p50/p99 latency, by 64 concurrent clients on
# loopback (crates/wxmass-server/examples/api_load.rs keeps one request per
# client in flight), on the SQLite store and on a throwaway PostgreSQL.
#   bench/server-api.sh                 # 5 s a measure
#   SECONDS_EACH=2 bench/server-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SECONDS_EACH="${SECONDS_EACH:-${QUICK:+1}}"
SECONDS_EACH="${SECONDS_EACH:-5}"
CONNECTIONS="${CONNECTIONS:-64}"
cargo build --quiet --release --locked -p wxmass
cargo build --quiet --release --locked -p wxmass-server --example api_load
cargo build --quiet --release --locked -p wxmass-emulator
WXMASS="$TARGET_DIR/release/wxmass"
LOAD="$TARGET_DIR/release/examples/api_load"
KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
start_postgres
# The account's credentials are tried when it is added: at this emulator.
start_emulator --followers 10

for backend in sqlite postgres; do
  home="$(mktemp -d)"
  db=()
  [ "$backend" = postgres ] && db=(--database "$(postgres_database api)")
  export WXMASS_HOME="$home"
  token=$(WXMASS_ADMIN_PASSWORD='bench bench bench' "$WXMASS" "${db[@]}" server init-admin --name bench 2>/dev/null)
  log="$home/server.log"
  "$WXMASS" "${db[@]}" server --listen 127.0.0.1:0 > "$log" 2>/dev/null &
  pid=$!
  until [ -s "$log" ]; do sleep 0.01; done
  url=$(head -n 1 "$log" | awk '{print $5}')
  post() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$2" "$url$1"; }
  added=$(post /api/v1/accounts "{\"appid\":\"$APPID\",\"name\":\"bench\",\"account_type\":\"service\",\"secret\":\"$SECRET\",\"callback_token\":\"bench\",\"aes_key\":\"$KEY\",\"api_base\":\"$EMULATOR_URL\"}")
  made=$(post /api/v1/campaigns "{\"id\":\"load-0\",\"appid\":\"$APPID\",\"name\":\"load\",\"content\":{\"type\":\"text\",\"text\":\"load\"},\"audience\":{\"kind\":\"all\"}}")
  [ "$added $made" = "201 201" ] || { echo "server-api: the account or the campaign was refused ($added $made)" >&2; exit 1; }
  status=$("$LOAD" status "$url" "$token" "$CONNECTIONS" "$SECONDS_EACH")
  create=$("$LOAD" create "$url" "$token" "$CONNECTIONS" "$SECONDS_EACH")
  kill $pid; wait $pid 2>/dev/null || true
  unset WXMASS_HOME
  rm -rf "$home"
  python3 - "$backend" "$status" "$create" <<'PY'
import json, sys
backend, status, create = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
for name, r in (("campaign status reads", status), ("campaign creations", create)):
    print(f"{backend:8} {name:22} {r['per_second']:9,.0f}/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms"
          f"  ({r['requests']:,} requests, {r['errors']} errors, {r['connections']} connections)")
    assert r["errors"] == 0, r
print("RESULT " + json.dumps({"bench": "server_api", "backend": backend, "status": status, "create": create}))
PY
done
stop_emulator
