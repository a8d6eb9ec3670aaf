# Shared by the bench scripts (sourced, not run): paths, the wechatpy venv,
# an emulator on a free port, core pinning, and result lines for bench/all.sh.

TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
VENV="bench/.venv"
APPID=wx5e1f0c2a9b84d37e
SECRET=9f8e7d6c5b4a39281706f5e4d3c2b1a0

# The throwaway venv with wechatpy 1.8.18, and uvicorn with uvloop and
# httptools for the Python push receiver (created once).
bench_venv() {
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import wechatpy, uvicorn, uvloop, httptools' 2>/dev/null; then
    echo "setting up a throwaway venv with wechatpy 1.8.18 and uvicorn in $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "wechatpy[cryptography]==1.8.18" "uvicorn==0.55.0" "uvloop==0.23.0" "httptools==0.9.0"
  fi
}

# Runs a command on core $1 when taskset is there.
pin() { if command -v taskset >/dev/null; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi; }

# Starts the release emulator with the given flags on a free port; sets
# EMULATOR_URL and EMULATOR_PID. EMULATOR_CORE pins it.
start_emulator() {
  EMULATOR_LOG="$(mktemp)"
  local run=()
  [ -n "${EMULATOR_CORE:-}" ] && command -v taskset >/dev/null && run=(taskset -c "$EMULATOR_CORE")
  "${run[@]}" "$TARGET_DIR/release/wxmass-emulator" --listen 127.0.0.1:0 "$@" > "$EMULATOR_LOG" &
  EMULATOR_PID=$!
  until [ -s "$EMULATOR_LOG" ]; do
    # An emulator that refused its flags ends: say so rather than wait.
    kill -0 "$EMULATOR_PID" 2>/dev/null || { echo "the emulator did not start (flags: $*)" >&2; exit 1; }
    sleep 0.01
  done
  EMULATOR_URL=$(head -n 1 "$EMULATOR_LOG" | awk '{print $4}')
}

stop_emulator() {
  kill "$EMULATOR_PID" 2>/dev/null || true
  wait "$EMULATOR_PID" 2>/dev/null || true
  rm -f "$EMULATOR_LOG"
}

# A token from the emulator.
emulator_token() {
  curl -s "$EMULATOR_URL/cgi-bin/token?grant_type=client_credential&appid=$APPID&secret=$SECRET" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# Sends a text to every follower; prints the job's msg_id.
emulator_send_text() {
  curl -s -X POST "$EMULATOR_URL/cgi-bin/message/mass/sendall?access_token=$(emulator_token)" \
    -d '{"filter":{"is_to_all":true},"text":{"content":"bench"},"msgtype":"text"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["msg_id"])'
}

# A throwaway PostgreSQL 15 cluster (initdb + pg_ctl, as the postgres user
# when root) on a free port, stopped and removed when the script exits.
# Sets PG_BIN, PG_PORT and PG_RUN (the prefix that runs its tools).
start_postgres() {
  PG_BIN="${WXMASS_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}"
  PG_DIR="$(mktemp -d)"
  PG_RUN=()
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR"; PG_RUN=(runuser -u postgres --); fi
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-sync > /dev/null
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" \
    -w -l "$PG_DIR/log" start > /dev/null
  trap stop_postgres EXIT
}

stop_postgres() {
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop > /dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}

# A new database in the cluster; prints its URL.
postgres_database() {
  "${PG_RUN[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$1"
  echo "postgres://postgres@127.0.0.1:$PG_PORT/$1"
}

# Bytes the wxmass tables of database $1 take, indexes and TOAST included.
postgres_bytes() {
  "${PG_RUN[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$1" -tAq -c \
    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE 'wxmass_%'"
}
