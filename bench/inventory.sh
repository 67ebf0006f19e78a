#!/usr/bin/env bash
# Inventory search benchmark (issue 2). Not a timed test: run it by hand, copy the figures into
# docs/benchmarks.md with the date and this command.
#
#   bench/inventory.sh            # release build, 4 environments x 500 dashboards, 50 clients
#   DASHBOARDS=1000 bench/inventory.sh
#
# Seeds Ferry's store with 2,000 dashboards across 4 environments through the real sync path
# (each environment is a small fake Superset, bench/fake_superset.py), then loads the search API
# with wrk (50 connections) and reports p50/p95/p99, throughput and the resident memory of
# `ferry serve` idle and under load. /healthz measured in the same run is the baseline, so the
# ratio search/baseline is what compares across machines.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DASHBOARDS=${DASHBOARDS:-500}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-50}
DIR="$ROOT/var/bench"
PY=python3

command -v wrk >/dev/null || { echo "[bench] installing wrk" >&2; apt-get install -y -qq wrk >/dev/null; }
echo "[bench] building release" >&2
swift build -c release --product ferry >/dev/null
BIN="$(swift build -c release --show-bin-path)/ferry"

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

rm -rf "$DIR"; mkdir -p "$DIR"
FERRY_PORT=$(free_port)
export FERRY_ADMIN_PASSWORD="bench-admin-$(date +%s)-password"
FERRY_DATA_DIR="$DIR/store" FERRY_PORT=$FERRY_PORT FERRY_SYNC_INTERVAL=0 FERRY_LOG_LEVEL=warning "$BIN" serve >"$DIR/ferry.log" 2>&1 &
FERRY_PID=$!; pids+=("$FERRY_PID")
URL="http://127.0.0.1:$FERRY_PORT"
for _ in $(seq 1 80); do curl -fsS "$URL/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
AUTH="Authorization: Bearer $($PY tests/harness/ferry_auth.py "$URL")"

started=$(date +%s.%N)
for env in dev stage prod other; do
  port=$(free_port)
  $PY bench/fake_superset.py "$port" "$env" "$DASHBOARDS" & pids+=($!)
  sleep 0.3
  curl -fsS -X POST -H 'Content-Type: application/json' -H "$AUTH" "$URL/api/environments" \
    -d "{\"name\":\"$env\",\"url\":\"http://127.0.0.1:$port\",\"username\":\"bench\",\"password\":\"bench\",\"stage\":\"$env\"}" >/dev/null
done
expected=$((DASHBOARDS * 4))
for _ in $(seq 1 600); do
  total=$(curl -fsS -H "$AUTH" "$URL/api/dashboards?per_page=1" | $PY -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  [ "$total" = "$expected" ] && break
  sleep 0.2
done
[ "$total" = "$expected" ] || { echo "inventory has $total dashboards, expected $expected" >&2; exit 1; }
sync_s=$($PY -c "import time; print(f'{time.time() - $started:.1f}')")

rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$FERRY_PID/status"; }
sleep 2
idle=$(rss)

run_wrk() { wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -H "$AUTH" -s "$1" "$2" | grep '^p50_ms'; }
wrk -t2 -c"$CONNECTIONS" -d3s "$URL/healthz" >/dev/null  # warm-up
baseline=$(BENCH_PATHS=/healthz run_wrk bench/load.lua "$URL")
wrk -t2 -c"$CONNECTIONS" -d3s -H "$AUTH" -s bench/load.lua "$URL" >/dev/null  # warm-up
peak_file="$DIR/peak"; echo 0 >"$peak_file"
( while kill -0 "$FERRY_PID" 2>/dev/null; do r=$(rss); awk -v a="$r" -v b="$(cat "$peak_file")" 'BEGIN{exit !(a>b)}' && echo "$r" >"$peak_file"; sleep 0.2; done ) &
sampler=$!; pids+=("$sampler")
search=$(run_wrk bench/load.lua "$URL")
kill "$sampler" 2>/dev/null || true
peak=$(cat "$peak_file")

p95() { sed -E 's/.*p95_ms=([0-9.]+).*/\1/' <<<"$1"; }
ratio=$($PY -c "print(f'{$(p95 "$search") / max($(p95 "$baseline"), 0.001):.1f}')")
cat <<OUT
environments: 4, dashboards: $expected (plus $((DASHBOARDS / 2 * 4)) charts), first sync of all four: ${sync_s}s
baseline  GET /healthz          : $baseline
search    GET /api/{dashboards,charts}?... : $search
p95 ratio search / baseline     : $ratio
RSS idle (after sync)           : ${idle} MB
RSS peak under load             : ${peak} MB
OUT
