#!/usr/bin/env bash
# Issue 16's reports figure: GET /api/reports answers in under 100 ms at p95 with 10,000 reports.
#
# Fills a fresh Ferry store with REPORTS reports over five environments and every kind
# (bench/FerryBench/ReportsBench.swift, through ReportService as the engine writes them), starts
# `ferry serve` (release build) on it, and times over HTTP, one keep-alive connection,
# sequentially, REQUESTS requests per scenario after a warm-up:
#   - the baselines: GET /api/version (no store read, no credential check) and GET /api/me (the
#     token checked, the principal read), in the same run;
#   - GET /api/reports as the administrator: no filter, each filter alone (kind, status, outcome,
#     environment, a 30-day window, title words), two together, a deep page (offset 5000);
#   - the same list as a viewer limited to the dev-staged environments (tasks:read and inventory:read @stage:dev),
#     alone and with an environment filter: the access rule in SQL;
#   - GET /api/reports/{id} (one report with its details).
# Prints a table (p50, p95, max in ms, and p95 less the /api/me baseline) and writes
# var/bench-reports/result.json. With DATABASE_URL set, the store is that PostgreSQL database
# (it must be empty).
#
#   bench/reports.sh                     # 10,000 reports, 500 requests per scenario
#   REPORTS=2000 REQUESTS=200 bench/reports.sh
#   FERRY_BENCH_DEBUG=1 bench/reports.sh # a debug build (quicker to build, slower to run)
#   FERRY_BENCH_DEBUG=1 FERRY_BIN=.build/release/ferry bench/reports.sh  # debug seeding, the release server
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
REPORTS=${REPORTS:-10000}
REQUESTS=${REQUESTS:-500}
OUT=$ROOT/var/bench-reports
log() { printf '[reports bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The bench and the server from one build (the same flags, so neither rebuilds the other's).
if [ "${FERRY_BENCH_DEBUG:-0}" = 1 ]; then
  # The debug build the tests use (testable already): nothing rebuilt after scripts/test.
  swift build --product FerryBench >&2
  [ -n "${FERRY_BIN:-}" ] || swift build --product ferry >&2
  BIN_DIR=$(swift build --show-bin-path)
else
  FLAGS=(-c release -Xswiftc -enable-testing)
  swift build "${FLAGS[@]}" --product FerryBench >&2
  swift build "${FLAGS[@]}" --product ferry >&2
  BIN_DIR=$(swift build -c release --show-bin-path)
fi
BIN=${FERRY_BIN:-$BIN_DIR/ferry}

rm -rf "$OUT"; mkdir -p "$OUT"
DATA=$OUT/ferry
# Set before seeding: the seed's start of Ferry creates the first administrator with it.
export FERRY_ADMIN_PASSWORD="bench-admin-$(date +%s)-password"
log "storing $REPORTS reports"
SEEDED=$("$BIN_DIR/FerryBench" reports-seed "$DATA" "$REPORTS" | tail -n 1)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
FERRY_DATA_DIR="$DATA" FERRY_PORT=$PORT FERRY_SYNC_INTERVAL=0 FERRY_LOG_LEVEL=warning \
  "$BIN" serve >"$OUT/ferry.log" 2>&1 &
FERRY_PID=$!
cleanup() { kill "$FERRY_PID" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 120); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null

log "timing $REQUESTS requests per scenario"
python3 - "http://127.0.0.1:$PORT" "$SEEDED" "$OUT" "$REQUESTS" "$REPORTS" <<'PY'
import http.client, json, os, sys, time, urllib.error, urllib.parse, urllib.request
sys.path.insert(0, os.path.join(os.getcwd(), "tests", "harness"))
import ferry_auth

base, seeded, out, requests, reports = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
_, admin = ferry_auth.sign_in(base, "bench")

def call(method, path, token, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{method} {path}: HTTP {e.code} {e.read()[:500]!r}")

# A viewer of the dev-staged environments only (dev and qa).
viewer_password = "bench viewer password 1"
call("POST", "/api/roles", admin, {"name": "bench-dev-viewer", "grants": ["tasks:read@stage:dev", "inventory:read@stage:dev"]})
call("POST", "/api/users", admin, {"username": "benchdev", "password": viewer_password, "roles": ["bench-dev-viewer"]})
_, viewer = ferry_auth.sign_in(base, "bench", username="benchdev", password=viewer_password)

host = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)

def once(path, token):
    headers = {"Authorization": "Bearer " + token} if token else {}
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    res = conn.getresponse()
    body = res.read()
    elapsed = (time.perf_counter() - start) * 1000
    if res.status != 200:
        raise SystemExit(f"{path}: HTTP {res.status} {body[:300]!r}")
    return elapsed, body

def measure(path, token):
    for _ in range(max(20, requests // 10)):
        once(path, token)
    times = sorted(once(path, token)[0] for _ in range(requests))
    pct = lambda p: times[min(len(times) - 1, int(len(times) * p + 0.999999) - 1)]
    return {"p50": round(pct(0.50), 2), "p95": round(pct(0.95), 2), "max": round(times[-1], 2)}

day = 86400
window_to = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 120 * day))
window_from = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 150 * day))
dev, prod = seeded["dev"], seeded["prod"]
scenarios = [
    ("GET /api/version (baseline, open)", "/api/version", None),
    ("GET /api/me (baseline, token checked)", "/api/me", admin),
    ("reports, no filter", "/api/reports", admin),
    ("reports, kind=backup", "/api/reports?kind=backup", admin),
    ("reports, status=failed", "/api/reports?status=failed", admin),
    ("reports, outcome=fail", "/api/reports?outcome=fail", admin),
    ("reports, environment=prod", f"/api/reports?environment={prod}", admin),
    ("reports, 30-day window", f"/api/reports?from={window_from}&to={window_to}", admin),
    ("reports, q=sales", "/api/reports?q=sales", admin),
    ("reports, kind=dashboard_check&environment=dev", f"/api/reports?kind=dashboard_check&environment={dev}", admin),
    ("reports, limit=200", "/api/reports?limit=200", admin),
    ("reports, offset=5000", "/api/reports?offset=5000", admin),
    ("reports as a dev viewer", "/api/reports", viewer),
    ("reports as a dev viewer, environment=dev", f"/api/reports?environment={dev}", viewer),
    ("one report with details", f"/api/reports/{seeded['report']}", admin),
]
# Every list answers what it should before it is timed.
assert len(json.loads(once("/api/reports", admin)[1])["items"]) == min(50, reports)
results = []
for name, path, token in scenarios:
    r = measure(path, token)
    r.update({"scenario": name, "path": path})
    results.append(r)
    print(f"  {name}: p50 {r['p50']} ms, p95 {r['p95']} ms", file=sys.stderr)
me = next(r for r in results if r["path"] == "/api/me")["p95"]
print(f"GET /api/reports at {reports} reports, {requests} sequential requests per scenario over one keep-alive connection (ms)\n")
print("| scenario | p50 | p95 | max | p95 − /api/me p95 |")
print("|---|---|---|---|---|")
for r in results:
    print(f"| {r['scenario']} | {r['p50']} | {r['p95']} | {r['max']} | {round(r['p95'] - me, 2)} |")
worst = max(r["p95"] for r in results if r["path"].startswith("/api/reports"))
print(f"\nworst p95 of the reports scenarios: {worst} ms ({'under' if worst < 100 else 'OVER'} the 100 ms goal)")
json.dump({"reports": reports, "requests": requests, "results": results, "worstReportsP95": worst},
          open(os.path.join(out, "result.json"), "w"), indent=2)
PY
