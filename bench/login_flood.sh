#!/usr/bin/env bash
# Sign-in flood benchmark (issue 12). Not a timed test: run it by hand, copy the figures into
# docs/benchmarks.md with the date and this command.
#
#   bench/login_flood.sh                       # release build, 50 flooding clients, 20 s per phase
#   CLIENTS=50 SECONDS_PER_PHASE=30 bench/login_flood.sh
#   SCENARIOS=limited bench/login_flood.sh     # only the default limits
#
# What it answers: does a flood of sign-ins slow down everyone else? Starts `ferry serve` on a
# fresh store with one fake Superset (bench/fake_superset.py, DASHBOARDS dashboards) synced into
# the inventory, signs in through tests/harness/ferry_auth.py, and runs bench/login_flood.py:
# the p95 of GET /api/dashboards for that signed-in user alone (baseline), then while CLIENTS
# clients hammer POST /login on loopback with wrong passwords (unknown usernames and one real
# account), in the same run. Three scenarios, each on its own Ferry:
#   control    the same clients, GET /login then GET /healthz: no password is checked, so this
#              is what 50 busy clients cost a 2-core machine whatever they ask;
#   limited    the default limits (FERRY_LOGIN_RATE_*: most of the flood is answered 429);
#   unlimited  the rate limits raised out of the way, so every attempt reaches bcrypt and only
#              its bounded pool (FERRY_BCRYPT_THREADS, FERRY_BCRYPT_QUEUE, 503 beyond) protects.
# Bounded: every phase stops after SECONDS_PER_PHASE or a number of requests, whichever first.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CLIENTS=${CLIENTS:-50}
SECONDS_PER_PHASE=${SECONDS_PER_PHASE:-20}
DASHBOARDS=${DASHBOARDS:-500}
SCENARIOS=${SCENARIOS:-"control limited unlimited"}
DIR="$ROOT/var/bench-login"
PY=python3

echo "[bench] building release" >&2
swift build -c release --product ferry >/dev/null
BIN="$(swift build -c release --show-bin-path)/ferry"

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

rm -rf "$DIR"; mkdir -p "$DIR"
SUPERSET_PORT=$(free_port)
$PY bench/fake_superset.py "$SUPERSET_PORT" dev "$DASHBOARDS" >"$DIR/superset.log" 2>&1 & pids+=($!)
export FERRY_ADMIN_PASSWORD="bench-admin-$(date +%s)-password"

run_scenario() {
  local name=$1; shift
  local port; port=$(free_port)
  local store="$DIR/$name"
  # The scenario's variables go to this Ferry only.
  env "$@" FERRY_DATA_DIR="$store" FERRY_PORT="$port" FERRY_SYNC_INTERVAL=0 FERRY_LOG_LEVEL=error "$BIN" serve >"$DIR/ferry-$name.log" 2>&1 &
  local ferry_pid=$!; pids+=("$ferry_pid")
  local url="http://127.0.0.1:$port"
  for _ in $(seq 1 80); do curl -fsS "$url/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
  local token; token=$($PY tests/harness/ferry_auth.py "$url")
  local auth="Authorization: Bearer $token"
  curl -fsS -X POST -H 'Content-Type: application/json' -H "$auth" "$url/api/environments" \
    -d "{\"name\":\"dev\",\"url\":\"http://127.0.0.1:$SUPERSET_PORT\",\"username\":\"bench\",\"password\":\"bench\",\"stage\":\"dev\"}" >/dev/null
  # A real account for the flood to aim at (it gets locked; the measuring user has a token).
  curl -fsS -X POST -H 'Content-Type: application/json' -H "$auth" "$url/api/users" \
    -d '{"username":"flood-victim","password":"victim-long-password","roles":["viewer"]}' >/dev/null
  local total=0
  for _ in $(seq 1 600); do
    total=$(curl -fsS -H "$auth" "$url/api/dashboards?per_page=1" | $PY -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    [ "$total" = "$DASHBOARDS" ] && break
    sleep 0.2
  done
  [ "$total" = "$DASHBOARDS" ] || { echo "inventory has $total dashboards, expected $DASHBOARDS" >&2; exit 1; }
  echo "== scenario: $name ($*)"
  $PY bench/login_flood.py "$url" "$token" --clients "$CLIENTS" --seconds "$SECONDS_PER_PHASE" --mode "${FLOOD_MODE:-sign-in}"
  echo "ferry_rss_mb=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$ferry_pid/status")"
  kill "$ferry_pid" 2>/dev/null || true
  wait "$ferry_pid" 2>/dev/null || true
}

echo "machine: $(nproc) cores; clients: $CLIENTS; phase: ${SECONDS_PER_PHASE}s; dashboards: $DASHBOARDS"
for scenario in $SCENARIOS; do
  case "$scenario" in
    control) FLOOD_MODE=control run_scenario control FERRY_BENCH=1 ;;
    limited) run_scenario limited FERRY_BENCH=1 ;;
    unlimited) run_scenario unlimited FERRY_LOGIN_RATE_PER_ADDRESS=100000 FERRY_LOGIN_RATE_GLOBAL=1000000 ;;
    *) echo "unknown scenario '$scenario' (control, limited, unlimited)" >&2; exit 64 ;;
  esac
done
