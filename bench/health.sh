#!/usr/bin/env bash
# Dashboard check benchmark (issue 16). Seeds a dev Superset with DASHBOARDS dashboards of CHARTS
# charts (bench/seed_bulk.py), starts Ferry (release build, SQLite) and measures in the same run:
#   a) the baseline: dashboard.check of every dashboard without rendering (queries and
#      structure only), PARALLEL at once;
#   b) the same check with rendering in Debian's chromium, PARALLEL at once;
# reporting the time per dashboard of each, b/a, and the peak memory of Ferry (VmHWM) and of
# chromium (the largest sum of the RSS of its processes, sampled every 0.2 s).
# Prints a table and writes var/bench-health/result.json.
#
#   bench/health.sh                    # 100 dashboards x 6 charts, 2 at once
#   DASHBOARDS=10 bench/health.sh      # quick
#   FERRY_BIN=.build/release/ferry bench/health.sh   # the release scripts/release built
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DASHBOARDS=${DASHBOARDS:-100}
CHARTS=${CHARTS:-6}
PARALLEL=${PARALLEL:-2}
export SUPERSET_WORKERS=${SUPERSET_WORKERS:-2}
export SUPERSET_METADATA=sqlite
export FERRY_ROOT=$ROOT FERRY_TEST_DIR=$ROOT/var/bench-health
export DASHBOARDS CHARTS PARALLEL
# shellcheck source=../scripts/lib/superset.sh
source scripts/lib/superset.sh
PY=$SUPERSET_VENV/bin/python
# FERRY_BIN: a release binary already built (scripts/release leaves one in .build/release).
if [ -z "${FERRY_BIN:-}" ]; then swift build -c release --product ferry >/dev/null; fi
BIN=${FERRY_BIN:-"$(swift build -c release --show-bin-path)/ferry"}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
log() { printf '[health bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
pids=()
cleanup() {
  superset_stop dev
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$FERRY_TEST_DIR"; mkdir -p "$FERRY_TEST_DIR"
superset_template "$ROOT/var/test/superset-template"
DEV=$(free_port)
log "starting and seeding dev ($DASHBOARDS dashboards x $CHARTS charts)"
superset_start dev "$DEV" "$ROOT/var/test/superset-template" >&2
"$PY" bench/seed_bulk.py --url "http://127.0.0.1:$DEV" --data "$FERRY_TEST_DIR/dev.db" --dashboards "$DASHBOARDS" --charts "$CHARTS"

FPORT=$(free_port)
export FERRY_ADMIN_PASSWORD="bench-admin-$(date +%s)-password"
FERRY_DATA_DIR="$FERRY_TEST_DIR/ferry" FERRY_PORT=$FPORT FERRY_SYNC_INTERVAL=0 FERRY_LOG_LEVEL=warning \
  "$BIN" serve >"$FERRY_TEST_DIR/ferry.log" 2>&1 &
FERRY_PID=$!
pids+=("$FERRY_PID")
for _ in $(seq 1 80); do curl -fsS "http://127.0.0.1:$FPORT/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
FERRY_TOKEN=$("$PY" tests/harness/ferry_auth.py "http://127.0.0.1:$FPORT")

"$PY" - "http://127.0.0.1:$FPORT" "$FERRY_TOKEN" "$FERRY_PID" "http://127.0.0.1:$DEV" "$FERRY_TEST_DIR" <<'PY'
import json, os, sys, threading, time, urllib.request
base, token, pid, dev, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
n, parallel = int(os.environ["DASHBOARDS"]), int(os.environ["PARALLEL"])
marker = os.path.join(out, "ferry", "chromium")

def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")

def rss_kb(p):
    try:
        with open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

def chromium_kb():
    total = 0
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        total += rss_kb(p)
            except OSError:
                pass
    return total

def hwm_kb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

call("POST", "/api/environments", {"name": "dev", "url": dev, "authProvider": "db", "username": "admin", "password": "admin",
                                   "verifyTLS": True, "stage": "dev", "parallelRequests": parallel})

def run(render):
    peak = [0]
    done = threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], chromium_kb())
            time.sleep(0.2)
    t = threading.Thread(target=sample); t.start()
    start = time.time()
    task = call("POST", "/api/tasks", {"plugin": "dashboard.check", "params": {"environment": "dev", "render": render, "parallel": parallel}})
    while True:
        s = call("GET", f"/api/tasks/{task['id']}")
        if s["status"] in ("succeeded", "failed", "partial", "cancelled"):
            break
        time.sleep(0.5)
    wall = time.time() - start
    done.set(); t.join()
    assert s["status"] == "succeeded", s
    checks = call("GET", f"/api/health/checks?task={task['id']}&per_page=200")
    statuses = {}
    for c in checks["items"]:
        statuses[c["status"]] = statuses.get(c["status"], 0) + 1
    return {"seconds": round(wall, 1), "perDashboard": round(wall / max(1, checks["total"]), 2), "dashboards": checks["total"],
            "statuses": statuses, "chromiumPeakMiB": round(peak[0] / 1024, 1)}

baseline = run(False)
rendered = run(True)
result = {"dashboards": n, "charts": n * int(os.environ["CHARTS"]), "parallel": parallel, "queriesOnly": baseline, "rendered": rendered,
          "ratio": round(rendered["seconds"] / baseline["seconds"], 2), "ferryPeakMiB": round(hwm_kb() / 1024, 1)}
json.dump(result, open(os.path.join(out, "result.json"), "w"), indent=2)
print(f"{'check':<22}{'seconds':>9}{'s/dashboard':>13}{'chromium peak MiB':>19}  statuses")
for name, r in (("queries only (base)", baseline), ("with rendering", rendered)):
    print(f"{name:<22}{r['seconds']:>9}{r['perDashboard']:>13}{r['chromiumPeakMiB']:>19}  {r['statuses']}")
print(f"rendering / baseline: {result['ratio']}x; Ferry peak RSS {result['ferryPeakMiB']} MiB")
PY
