#!/usr/bin/env bash
# Task engine throughput (issue 3): queue N no-op tasks (diagnostics.sleep, 0 s), then measure
# how fast `ferry serve` drains them, on SQLite and, when PG_BIN is found, on a private
# PostgreSQL. Baseline in the same run: the rate of `POST /api/tasks` itself (queueing only,
# engine off), so the ratio compares across machines. Release build.
#
#   bench/tasks.sh            # 1,000 tasks, 2 workers
#   TASKS=5000 WORKERS=4 bench/tasks.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TASKS=${TASKS:-1000}
WORKERS=${WORKERS:-2}
DIR="$ROOT/var/bench-tasks"
PY=python3
swift build -c release --product ferry >/dev/null 2>&1
BIN="$(swift build -c release --show-bin-path)/ferry"
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${PG_DIR:-}" ] && pg_stop "$PG_DIR"; true; }
trap cleanup EXIT
rm -rf "$DIR"; mkdir -p "$DIR"

run() { # label database_url
  local label=$1 url=$2 port; port=$(free_port)
  export FERRY_ADMIN_PASSWORD="bench-admin-$(date +%s)-password"
  FERRY_DATA_DIR="$DIR/$label" FERRY_PORT=$port FERRY_SYNC_INTERVAL=0 FERRY_LOG_LEVEL=warning FERRY_TASK_WORKERS=$WORKERS \
    DATABASE_URL=$url "$BIN" serve >"$DIR/$label.log" 2>&1 &
  local pid=$!; pids+=("$pid")
  for _ in $(seq 1 80); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
  local token; token=$($PY tests/harness/ferry_auth.py "http://127.0.0.1:$port")
  $PY - "$port" "$TASKS" "$label" "$token" <<'PY'
import json, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor
port, n, label, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
auth = {"Authorization": f"Bearer {token}"}
base = f"http://127.0.0.1:{port}"
def post(_):
    req = urllib.request.Request(base + "/api/tasks", data=json.dumps({"plugin": "diagnostics.sleep", "params": {"seconds": 0}}).encode(),
                                 headers={"Content-Type": "application/json", **auth}, method="POST")
    urllib.request.urlopen(req).read()
start = time.time()
with ThreadPoolExecutor(8) as ex:
    list(ex.map(post, range(n)))
queued = time.time() - start
def count(status):
    return json.load(urllib.request.urlopen(urllib.request.Request(f"{base}/api/tasks?status={status}&per_page=1", headers=auth)))["total"]
# The drain proper: what was still queued or running when the last submit returned, over the
# time the engine took to finish it with nobody submitting.
left = n - count("succeeded")
drain_start = time.time()
while count("succeeded") < n:
    time.sleep(0.02)
done = time.time()
total = done - start
drain = done - drain_start
print(f"{label:10s} submit {n}: {queued:.2f}s ({n/queued:.0f}/s)   end to end {total:.2f}s: {n/total:.0f} tasks/s   "
      f"drain of the {left} left after the last submit: {drain:.2f}s: {left/max(drain, 1e-9):.0f} tasks/s")
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

run sqlite ""
if PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1) && [ -n "$PG_BIN" ]; then
  source scripts/lib/postgres.sh
  PG_PORT=$(free_port); pg_start "$DIR/pg" "$PG_PORT"; PG_DIR="$DIR/pg"
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U ferry -d postgres -qAt -c "CREATE DATABASE bench" >/dev/null
  run postgres "postgres://ferry@127.0.0.1:$PG_PORT/bench"
fi
