#!/usr/bin/env bash
# Unmodified wechatpy 1.8.18 against the wxmass-emulator binary.
#   compat/wechatpy/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${WECHATPY_VENV:-compat/wechatpy/.venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import wechatpy, pytest' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "wechatpy[cryptography]==1.8.18" "pytest==8.3.4"
fi
cargo build --quiet --locked -p wxmass-emulator
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
WXMASS_EMULATOR="$TARGET_DIR/debug/wxmass-emulator" "$VENV/bin/python" -m pytest -q -p no:cacheprovider compat/wechatpy/test_wechatpy.py
