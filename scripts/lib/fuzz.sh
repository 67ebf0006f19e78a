#!/usr/bin/env bash
# API fuzzing: schemathesis (from .tools/st-venv) over a running Ferry's /api/openapi.json,
# signed in as an administrator and as a viewer. Checks: no server error (500 or 503; 502/504
# name a Superset's failure, see tests/fuzz/schemathesis.toml), the documented content type,
# status codes and response schemas. Bounded: --max-examples per operation and a
# time budget per role.
#
#   scripts/lib/fuzz.sh http://127.0.0.1:PORT REPORT_DIR
set -euo pipefail
FERRY_ROOT=${FERRY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
base=${1:?Ferry URL}; out=${2:?report folder}
mkdir -p "$out"
ST="$FERRY_ROOT/.tools/st-venv/bin/schemathesis"
PY="$FERRY_ROOT/.tools/venv/bin/python"
mapfile -t tokens < <(cd "$FERRY_ROOT/tests/harness" && "$PY" fuzz_tokens.py "$base")
rc=0
for role in viewer admin; do
  token=${tokens[0]}; [ "$role" = viewer ] && token=${tokens[1]}
  printf '[fuzz] schemathesis as %s\n' "$role" >&2
  # Revoking tokens or changing users (item routes) would end the fuzzer's own credentials.
  "$ST" --config-file "$FERRY_ROOT/tests/fuzz/schemathesis.toml" run "$base/api/openapi.json" -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing --max-examples "${FUZZ_MAX_EXAMPLES:-25}" --max-time "${FUZZ_MAX_TIME:-150}" \
    --exclude-path-regex '^/api/(tokens|users)/' --workers 1 \
    --request-timeout 20 --continue-on-failure --no-color >"$out/$role.txt" 2>&1 || { rc=1; tail -80 "$out/$role.txt" >&2; }
  tail -5 "$out/$role.txt" >&2
done
exit $rc
