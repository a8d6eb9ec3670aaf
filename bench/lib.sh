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
  until [ -s "$EMULATOR_LOG" ]; do sleep 0.01; done
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
