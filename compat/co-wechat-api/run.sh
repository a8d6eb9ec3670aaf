#!/usr/bin/env bash
# Unmodified co-wechat-api 3.11.0 (npm) against the wxmass-emulator binary.
#   compat/co-wechat-api/run.sh
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/co-wechat-api ]; then
  npm install --silent --no-audit --no-fund --no-package-lock
fi
cd ../..
cargo build --quiet --locked -p wxmass-emulator
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
WXMASS_EMULATOR="$TARGET_DIR/debug/wxmass-emulator" node compat/co-wechat-api/test.js
