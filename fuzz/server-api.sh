#!/usr/bin/env bash
# openapi-spec-validator checking, then Schemathesis fuzzing, `wxmass server --demo` from its own OpenAPI
# document (/api/v1/openapi.json) with an admin token: every operation, its
# examples, the boundary cases, random inputs and sequences of calls (the
# stateful phase), with every check: a 5xx, a status, header or Content-Type
# the document does not list, a body that breaks its schema, a schema-valid
# request refused or an invalid one taken, auth ignored, a deleted thing
# still there. The few refusals no schema can foresee are listed, with why,
# in fuzz/schemathesis.toml.
#   fuzz/server-api.sh                 (MAX_TIME=60 seconds of fuzzing)
#   MAX_TIME=600 fuzz/server-api.sh    (longer)
#   SEED=12345 fuzz/server-api.sh      (another seed: the default one is fixed so that CI repeats
#                                       itself)
# One worker thread on Python before 3.11.8: there, two threads inside ast.parse at
# once (Hypothesis parses its lambdas to name them) share one recursion counter and
# fail with "SystemError: AST constructor recursion depth mismatch" (CPython
# gh-106905), an error of the tool that CI once took for a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${SCHEMATHESIS_VENV:-fuzz/.venv}"
if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/python" -c 'import openapi_spec_validator' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==4.32.5" "openapi-spec-validator==0.9.0"
fi
# WXMASS_BIN: a wxmass binary built already (CI passes the one the tests
# just built, saving a build with other features).
if [ -z "${WXMASS_BIN:-}" ]; then
  cargo build --quiet --locked -p wxmass
  WXMASS_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/wxmass"
fi
work="$(mktemp -d)"
"$WXMASS_BIN" server --demo --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 300); do
  grep -q 'admin token' "$work/err" 2>/dev/null && grep -q 'listening on' "$work/out" && break
  sleep 0.1
done
url="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" | head -n 1)"
token="$(grep -o 'wxm_[0-9a-f]*' "$work/err" | head -n 1)"
[ -n "$url" ] && [ -n "$token" ] || { echo "the demo server did not start:"; cat "$work/err"; exit 1; }
# The document is valid OpenAPI 3.1 (by openapi-spec-validator), then fuzzed.
"$VENV/bin/python" - "$url/api/v1/openapi.json" <<'PY'
import json, sys, urllib.request
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
doc = json.load(urllib.request.urlopen(sys.argv[1]))
assert doc["openapi"].startswith("3.1"), doc["openapi"]
validate(doc, cls=OpenAPIV31SpecValidator)
print(f"the document is valid OpenAPI {doc['openapi']}: {sum(len(v) for v in doc['paths'].values())} operations")
PY
workers=2
"$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11, 8))' || workers=1
echo "fuzzing $url for ${MAX_TIME:-60} s with $workers worker thread(s)"
"$VENV/bin/st" --config-file fuzz/schemathesis.toml run "$url/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks "${CHECKS:-all}" \
  --phases "${PHASES:-examples,coverage,fuzzing,stateful}" \
  --max-time "${MAX_TIME:-60}" \
  --seed "${SEED:-221697830526808266955516355483732769796}" \
  --workers "$workers" \
  --warnings off
# The server survived it and still answers.
curl -fsS "$url/api/v1/health" >/dev/null
