#!/usr/bin/env bash
# The full push path (verify + decrypt + parse a ~1.1 KB safe-mode
# MASSSENDJOBFINISH, then a TEMPLATESENDJOBFINISH) through wxmass-callback
# and through wechatpy 1.8.18, on the same core, in the same run. Prints
# both figures and their ratio for each.
#
#   bench/callback-vs-wechatpy.sh            # full run (about a minute)
#   QUICK=1 bench/callback-vs-wechatpy.sh    # smoke run (seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
CORE="${BENCH_CORE:-0}"
. bench/lib.sh
bench_venv

fixture="$(mktemp)"
trap 'rm -f "$fixture"' EXIT

if [ -n "${QUICK:-}" ]; then
  crit_args=(--warm-up-time 1 --measurement-time 2)
  py_seconds=1
else
  crit_args=(--warm-up-time 3 --measurement-time 10)
  py_seconds=15
fi
for push in masssendjobfinish templatesendjobfinish; do
  kind=""
  [ "$push" = templatesendjobfinish ] && kind=template
  cargo run --quiet --release -p wxmass-callback --example bench_fixture -- $kind > "$fixture"
  pin "$CORE" cargo bench --quiet -p wxmass-callback --bench push_path -- "safe_mode_$push" "${crit_args[@]}" >&2
  ours_ns="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"]["point_estimate"])' \
    "$TARGET_DIR/criterion/push_path/safe_mode_$push/new/estimates.json")"
  theirs="$(pin "$CORE" "$VENV/bin/python" bench/wechatpy_callback.py "$py_seconds" < "$fixture")"
  python3 - "$push" "$ours_ns" "$theirs" <<'PY'
import json, sys
push, ours = sys.argv[1], 1e9 / float(sys.argv[2])
theirs = json.loads(sys.argv[3])
ratio = ours / theirs["pushes_per_sec"]
print(f"{push.upper()}, one core  wxmass-callback: {ours:>10,.0f} pushes/s  ({float(sys.argv[2]) / 1000:.2f} µs each)")
print(f"                     wechatpy {theirs['wechatpy']}: {theirs['pushes_per_sec']:>10,.0f} pushes/s")
print(f"                     ratio: {ratio:.1f}x (goal >= 40x)")
name = "callback" if push == "masssendjobfinish" else "callback_template"
print("RESULT " + json.dumps({"bench": name, "ours": ours, "wechatpy": theirs["pushes_per_sec"]}))
PY
done
