#!/usr/bin/env bash
# Promotion benchmark (issue 4). Seeds a dev Superset with DASHBOARDS dashboards of CHARTS charts
# through the API, then copies all of them to a FRESH target Superset three times, once per
# contender, timed in the same run:
#   - the raw-API floor (bench/raw_floor.py): export in batches of 50, one import per batch;
#   - Ferry (release build, SQLite store): plan, apply (import + filter remap), verify every chart;
#   - preset-cli's superset-cli: export-assets, then sync native.
# Prints a table and writes var/bench-promote/result.json.
#
#   bench/promote.sh                    # 100 dashboards x 6 charts
#   DASHBOARDS=20 bench/promote.sh
#   SUPERSET_WORKERS=2 PARALLEL_REQUESTS=4 bench/promote.sh   # Supersets with 2 gunicorn workers
#   SUPERSET_METADATA=postgres SUPERSET_WORKERS=2 PARALLEL_REQUESTS=4 bench/promote.sh
#       # production-like: each Superset's metadata in PostgreSQL (a private server), 2 workers
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DASHBOARDS=${DASHBOARDS:-100}
CHARTS=${CHARTS:-6}
# Gunicorn workers per Superset (test peers use 1), Superset's metadata store (sqlite, as the
# test peers, or postgres), and the environments' "parallel requests" in Ferry (1 is its
# default): requests in flight per Superset for export batches, chart checks and filter writes.
export SUPERSET_WORKERS=${SUPERSET_WORKERS:-1}
export SUPERSET_METADATA=${SUPERSET_METADATA:-sqlite}
export PARALLEL_REQUESTS=${PARALLEL_REQUESTS:-1}
export FERRY_ROOT=$ROOT FERRY_TEST_DIR=$ROOT/var/bench-promote
# shellcheck source=../scripts/lib/superset.sh
source scripts/lib/superset.sh
PY=$SUPERSET_VENV/bin/python
PRESET=$ROOT/.tools/presetcli
[ -x "$PRESET/bin/superset-cli" ] || { python3 -m venv "$PRESET" && "$PRESET/bin/pip" install -q preset-cli; }
swift build -c release --product ferry >/dev/null
BIN="$(swift build -c release --show-bin-path)/ferry"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
# start() runs in a command substitution (a subshell), so the names are listed here.
cleanup() {
  for n in dev floor ferrytarget clitarget; do superset_stop "$n"; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "$SUPERSET_METADATA" = postgres ]; then pg_stop "$FERRY_TEST_DIR/pg"; fi
}
trap cleanup EXIT
rm -rf "$FERRY_TEST_DIR"; mkdir -p "$FERRY_TEST_DIR"
TEMPLATE=$ROOT/var/test/superset-template
case "$SUPERSET_METADATA" in
  sqlite) ;;
  postgres)
    # shellcheck source=../scripts/lib/postgres.sh
    source scripts/lib/postgres.sh
    PG_PORT=$(free_port)
    pg_start "$FERRY_TEST_DIR/pg" "$PG_PORT"
    export SUPERSET_METADATA_PG="postgresql://ferry@127.0.0.1:$PG_PORT"
    TEMPLATE=$FERRY_TEST_DIR/superset-template-pg ;;
  *) echo "SUPERSET_METADATA must be sqlite or postgres" >&2; exit 2 ;;
esac
superset_template "$TEMPLATE"

start() { # name -> port
  local port; port=$(free_port)
  superset_start "$1" "$port" "$TEMPLATE" >&2
  echo "$port"
}
DEV=$(start dev)
"$PY" bench/seed_bulk.py --url "http://127.0.0.1:$DEV" --data "$FERRY_TEST_DIR/dev.db" --dashboards "$DASHBOARDS" --charts "$CHARTS"
target() { # name -> port, with a fresh "Sales" connection over its own data, warmed up
  local port; port=$(start "$1")
  "$PY" bench/seed_bulk.py --url "http://127.0.0.1:$port" --data "$FERRY_TEST_DIR/$1.db" --env prod --connection-only
  # A fresh gunicorn worker loads much of Superset lazily on its first API calls; warm every
  # contender's target the same way so none pays that inside its timing.
  "$PY" - "http://127.0.0.1:$port" <<'WARM' >&2
import sys
sys.path.insert(0, "tests/harness")
from seed_superset import Superset
s = Superset(sys.argv[1])
for _ in range(3):
    for kind in ("dashboard", "chart", "dataset", "database"):
        s.call("GET", f"/api/v1/{kind}/?q=(page_size:1)")
WARM
  echo "$port"
}

echo "raw floor..." >&2
FLOOR_PORT=$(target floor)
FLOOR=$("$PY" bench/raw_floor.py --source "http://127.0.0.1:$DEV" --target "http://127.0.0.1:$FLOOR_PORT")
superset_stop floor

echo "ferry..." >&2
FERRY_TARGET=$(target ferrytarget)
FPORT=$(free_port)
export FERRY_ADMIN_PASSWORD="bench-admin-$(date +%s)-password"
FERRY_DATA_DIR="$FERRY_TEST_DIR/ferry" FERRY_PORT=$FPORT FERRY_SYNC_INTERVAL=0 FERRY_LOG_LEVEL=warning "$BIN" serve >"$FERRY_TEST_DIR/ferry.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 80); do curl -fsS "http://127.0.0.1:$FPORT/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
FERRY_TOKEN=$("$PY" tests/harness/ferry_auth.py "http://127.0.0.1:$FPORT")
FERRY=$("$PY" - "$FPORT" "$DEV" "$FERRY_TARGET" "$PARALLEL_REQUESTS" "$FERRY_TOKEN" <<'PY'
import json, sys, time, urllib.request
from datetime import datetime
port, dev, prod, parallel, token = sys.argv[1:]
base = f"http://127.0.0.1:{port}"
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")
for name, p in [("dev", dev), ("prod", prod)]:
    call("POST", "/api/environments", {"name": name, "url": f"http://127.0.0.1:{p}", "authProvider": "db", "username": "admin", "password": "admin", "stage": name,
                                   "parallelRequests": int(parallel)})
# Adding an environment starts its inventory sync, which lists every asset of that Superset;
# let both finish so they don't compete with the timed promotion for the Supersets' CPU.
for _ in range(600):
    envs = call("GET", "/api/environments")["items"]
    if all((e.get("sync") or {}).get("status") in ("succeeded", "failed") for e in envs):
        break
    time.sleep(0.2)
for row in call("GET", "/api/mappings/suggestions?source=dev&target=prod")["items"]:
    t = row["suggestions"][0]["target"]
    call("PUT", "/api/mappings", {"source": "dev", "target": "prod", "sourceDatabaseUuid": row["source"]["uuid"], "targetDatabaseUuid": t["uuid"]})
def wait(task):
    while True:
        t = call("GET", f"/api/tasks/{task}")
        if t["status"] in ("succeeded", "failed", "partial", "awaiting_input"):
            return t
        time.sleep(0.1)
import sqlite3, os
store = os.path.join(os.environ["FERRY_TEST_DIR"], "ferry", "ferry.sqlite")
def steps(task):  # from the store: the API shows whole seconds
    con = sqlite3.connect(store)
    rows = con.execute("SELECT message, at FROM task_logs WHERE task_id = ? AND source = 'engine' ORDER BY seq", (task.upper(),)).fetchall()
    if not rows:
        rows = con.execute("SELECT message, at FROM task_logs WHERE lower(task_id) = ? AND source = 'engine' ORDER BY seq", (task.lower(),)).fetchall()
    con.close()
    return {m: float(at) for m, at in rows}
t0 = time.time()
plan = call("POST", "/api/promotions/plan", {"source": "dev", "target": "prod", "search": "bench-"})
p = wait(plan["taskId"]); assert p["status"] == "succeeded", p
plan_s = time.time() - t0
ps = steps(plan["taskId"])
export_s = next(v for k, v in ps.items() if k.startswith("mapping databases")) - next(v for k, v in ps.items() if k.startswith("exporting"))
t1 = time.time()
ap = call("POST", f"/api/promotions/{plan['id']}/apply", {})
a = wait(ap["taskId"])
total_apply = time.time() - t1
s = steps(ap["taskId"])
start = next(v for k, v in s.items() if k.startswith("started on")); verify_at = next(v for k, v in s.items() if k.startswith("verifying")); record_at = next(v for k, v in s.items() if k.startswith("recording"))
promo = call("GET", f"/api/promotions/{ap['id']}")
# The plan's translation to the target's Superset release (issue 18), as the plan task logged it.
con = sqlite3.connect(store)
line = con.execute("SELECT message FROM task_logs WHERE lower(task_id) = ? AND message LIKE 'Superset % ms'", (plan["taskId"].lower(),)).fetchone()
con.close()
translate_ms = int(line[0].rsplit(" in ", 1)[1].split()[0]) if line else -1
print(json.dumps({"status": a["status"], "plan_s": round(plan_s, 2), "export_in_plan_s": round(export_s, 2),
                  "apply_s": round(verify_at - start, 2), "verify_s": round(record_at - verify_at, 2), "apply_task_s": round(total_apply, 2),
                  "charts_checked": promo["report"]["chartsChecked"], "charts_failed": promo["report"]["chartsFailed"],
                  "translate_ms": translate_ms,
                  "total_s": round(time.time() - t0, 2)}))
PY
)
superset_stop ferrytarget

echo "superset-cli..." >&2
CLI_TARGET=$(target clitarget)
rm -rf "$FERRY_TEST_DIR/cli-export"; mkdir -p "$FERRY_TEST_DIR/cli-export"
t0=$(date +%s.%N)
"$PRESET/bin/superset-cli" -u admin -p admin "http://127.0.0.1:$DEV" export-assets "$FERRY_TEST_DIR/cli-export" >"$FERRY_TEST_DIR/cli.log" 2>&1
t1=$(date +%s.%N)
"$PRESET/bin/superset-cli" -u admin -p admin "http://127.0.0.1:$CLI_TARGET" sync native "$FERRY_TEST_DIR/cli-export" --overwrite >>"$FERRY_TEST_DIR/cli.log" 2>&1
t2=$(date +%s.%N)
CLI=$(python3 -c "print('{\"export_s\": %.2f, \"sync_s\": %.2f, \"total_s\": %.2f}' % ($t1-$t0, $t2-$t1, $t2-$t0))")

python3 - "$FLOOR" "$FERRY" "$CLI" "$DASHBOARDS" "$CHARTS" "$FERRY_TEST_DIR/result.json" <<'PY'
import json, sys
floor, ferry, cli = (json.loads(x) for x in sys.argv[1:4])
n, c, out = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
ferry_apply = ferry["export_in_plan_s"] + ferry["apply_s"]
import os
result = {"dashboards": n, "charts": n * c, "superset_workers": int(os.environ.get("SUPERSET_WORKERS", "1")),
          "superset_metadata": os.environ.get("SUPERSET_METADATA", "sqlite"),
          "ferry_parallel_requests": int(os.environ["PARALLEL_REQUESTS"]), "floor": floor, "ferry": ferry, "superset_cli": cli,
          "ratios": {"ferry_export_import_remap_over_floor": round(ferry_apply / floor["total_s"], 2),
                     "ferry_plan_apply_verify_over_superset_cli": round(ferry["total_s"] / cli["total_s"], 2),
                     "translation_share_of_ferry_total": round(ferry["translate_ms"] / 1000 / ferry["total_s"], 5)}}
json.dump(result, open(out, "w"), indent=2)
print(f"{n} dashboards, {n*c} charts; Supersets: {result['superset_workers']} worker(s), {result['superset_metadata']} metadata; "
      f"Ferry parallel requests: {result['ferry_parallel_requests']}")
print(f"raw floor (export+import):           {floor['total_s']:7.1f} s  (export {floor['export_s']}, import {floor['import_s']})")
print(f"ferry plan:                          {ferry['plan_s']:7.1f} s  (of which export {ferry['export_in_plan_s']})")
print(f"ferry apply (import + remap):        {ferry['apply_s']:7.1f} s")
print(f"ferry verify ({ferry['charts_checked']} charts, {ferry['charts_failed']} failed): {ferry['verify_s']:7.1f} s")
print(f"ferry total:                         {ferry['total_s']:7.1f} s")
if ferry["translate_ms"] < 0: print("ferry translation: the plan logged no translation line (an older Ferry?)")
else: print(f"ferry translation to the target's release: {ferry['translate_ms']} ms = {100 * result['ratios']['translation_share_of_ferry_total']:.3f}% of the total  (target < 2%)")
print(f"superset-cli (export-assets + sync): {cli['total_s']:7.1f} s  (export {cli['export_s']}, sync {cli['sync_s']})")
print(f"ratio ferry export+import+remap / floor: {result['ratios']['ferry_export_import_remap_over_floor']}  (target <= 1.2)")
print(f"ratio ferry plan+apply+verify / superset-cli: {result['ratios']['ferry_plan_apply_verify_over_superset_cli']}  (target < 1)")
PY
