#!/usr/bin/env bash
# Issue 17's page figures: with 2,000 dashboards in the inventory, every console page is rendered
# by the server with p95 under 50 ms at 10 concurrent users, against /healthz in the same run, and
# weighs under 100 KB over the wire with its script, style sheet and icon.
#
# Starts `ferry serve` (release build) on a fresh store, adds two environments, each a fake
# Superset (bench/fake_superset.py, `shared` uuids: every dashboard exists in both, as if promoted)
# of DASHBOARDS dashboards, waits for the inventory sync, signs in as the administrator (a session
# cookie, as a browser) and then, page by page, loads it with wrk: 10 connections (the 10 users)
# on one thread (the other core is the server's),
# DURATION seconds, after a short warm-up. /healthz is timed the same way first, as the baseline.
# Weighs each page (body and headers, as curl downloads it: Ferry sends no compression) and adds
# the assets every page loads (/css/ferry.css, /js/ferry.js, /favicon.svg; a browser fetches them
# once, so counting them per page is the worst case).
# Prints a markdown table and writes var/bench-pages/result.json.
#
#   bench/pages.sh                               # 2 x 1,000 dashboards, 8 s per page
#   DASHBOARDS=500 DURATION=3 bench/pages.sh
#   FERRY_BIN=/tmp/fresh/.build/release/ferry bench/pages.sh   # a release binary built elsewhere
#   ONLY='^/git|^/dashboards/' bench/pages.sh     # /healthz and the pages matching an extended regex
#   PERF_DIR=/tmp/perf ONLY=^/git bench/pages.sh  # and a perf profile of the server per page
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DASHBOARDS=${DASHBOARDS:-1000}
DURATION=${DURATION:-8}
USERS=${USERS:-10}
OUT=$ROOT/var/bench-pages
PY=python3
log() { printf '[pages bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v wrk >/dev/null || { log "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
if [ -z "${FERRY_BIN:-}" ]; then
  log "building release"
  swift build -c release --product ferry >&2
  FERRY_BIN="$(swift build -c release --show-bin-path)/ferry"
fi

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$OUT"; mkdir -p "$OUT"
PORT=$(free_port)
export FERRY_ADMIN_PASSWORD="bench-admin-$(date +%s)-password"
FERRY_DATA_DIR="$OUT/store" FERRY_PORT=$PORT FERRY_SYNC_INTERVAL=0 FERRY_LOG_LEVEL=warning \
  "$FERRY_BIN" serve >"$OUT/ferry.log" 2>&1 &
FERRY_PID=$!; pids+=("$FERRY_PID")
URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do curl -fsS "$URL/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
curl -fsS "$URL/readyz" >/dev/null

read -r SESSION TOKEN < <($PY - "$URL" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "tests", "harness"))
import ferry_auth
session, token = ferry_auth.sign_in(sys.argv[1], "bench")
print(session, token)
PY
)
AUTH="Authorization: Bearer $TOKEN"

log "two environments of $DASHBOARDS dashboards each"
for env in dev prod; do
  port=$(free_port)
  $PY bench/fake_superset.py "$port" "$env" "$DASHBOARDS" shared >"$OUT/superset-$env.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 40); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS -X POST -H 'Content-Type: application/json' -H "$AUTH" "$URL/api/environments" \
    -d "{\"name\":\"$env\",\"url\":\"http://127.0.0.1:$port\",\"username\":\"bench\",\"password\":\"bench\",\"stage\":\"$env\"}" >/dev/null
done
expected=$((DASHBOARDS * 2))
total=0
for _ in $(seq 1 600); do
  total=$(curl -fsS -H "$AUTH" "$URL/api/dashboards?per_page=1" | $PY -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  [ "$total" = "$expected" ] && break
  sleep 0.2
done
[ "$total" = "$expected" ] || { echo "inventory has $total dashboards, expected $expected" >&2; exit 1; }

ENVS=$(curl -fsS -H "$AUTH" "$URL/api/environments")
env_id() { $PY -c 'import json,sys; print(next(e["id"] for e in json.loads(sys.argv[1])["items"] if e["name"] == sys.argv[2]))' "$ENVS" "$1"; }
DEV=$(env_id dev); PROD=$(env_id prod)
DASH=00000001-0000-4000-8000-000000000042
PICKED="dashboards=42&dashboards=43&dashboards=44"

# The pages, as a person reaches them (the hub and the wizard at their heaviest: 50 rows).
PAGES=(
  "/healthz"
  "/dashboards"
  "/dashboards?environment=$DEV"
  "/dashboards?search=sales&page=3"
  "/dashboards?owner=Owner7&health=unchecked"
  "/dashboards/$DASH"
  "/promote"
  "/promote?source=$DEV&target=$PROD&q=dashboard"
  "/promote?source=$DEV&target=$PROD&$PICKED"
  "/environments"
  "/tasks"
  "/activity"
  "/schedules"
  "/promotions"
  "/backups"
  "/git"
  "/health"
  "/reports"
  "/admin/roles"
  "/admin/users"
  "/admin/audit"
  "/profile"
)
ASSETS=(/css/ferry.css /js/ferry.js /favicon.svg)

asset_bytes=0
for a in "${ASSETS[@]}"; do
  n=$(curl -fsS -o /dev/null -w '%{size_header} %{size_download}' "$URL$a" | awk '{print $1 + $2}')
  asset_bytes=$((asset_bytes + n))
done

rows="$OUT/rows.tsv"; : >"$rows"
n=0
for path in "${PAGES[@]}"; do
  n=$((n + 1))
  if [ -n "${ONLY:-}" ] && [ "$path" != /healthz ] && ! grep -Eq -- "$ONLY" <<<"$path"; then continue; fi
  code=$(curl -sS -o "$OUT/page.html" -w '%{http_code} %{size_header} %{size_download}' \
    -H "Cookie: ferry_session=$SESSION" -H 'Accept: text/html' "$URL$path")
  read -r status headers body <<<"$code"
  [ "$status" = 200 ] || { echo "$path answered $status" >&2; head -c 400 "$OUT/page.html" >&2; exit 1; }
  weight=$((headers + body))
  [ "$path" = /healthz ] || weight=$((weight + asset_bytes))
  BENCH_PATHS="$path" wrk -t1 -c"$USERS" -d2s -H "Cookie: ferry_session=$SESSION" -H 'Accept: text/html' \
    -s bench/load.lua "$URL" >/dev/null
  if [ -n "${PERF_DIR:-}" ]; then
    mkdir -p "$PERF_DIR"
    perf record -F 499 -g -p "$FERRY_PID" -o "$PERF_DIR/page-$n.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  line=$(BENCH_PATHS="$path" wrk -t1 -c"$USERS" -d"${DURATION}s" -H "Cookie: ferry_session=$SESSION" \
    -H 'Accept: text/html' -s bench/load.lua "$URL" | grep '^p50_ms')
  [ -z "${PERF_DIR:-}" ] || wait "$perf_pid" || true
  printf '%s\t%s\t%s\n' "$path" "$weight" "$line" >>"$rows"
  log "$path: $line, $weight bytes"
done

$PY - "$rows" "$OUT" "$expected" "$USERS" "$DURATION" "$asset_bytes" "$DEV" "$PROD" <<'PY'
import json, re, sys
rows_file, out, dashboards, users, duration, assets, dev, prod = sys.argv[1:9]
rows = []
for line in open(rows_file):
    path, weight, stats = line.rstrip("\n").split("\t")
    r = {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", stats)}
    r.update(path=path, weight=int(weight))
    rows.append(r)
base = rows[0]["p95_ms"]
short = lambda p: p.replace(dev, "<dev>").replace(prod, "<prod>")
print(f"{dashboards} dashboards in the inventory (2 environments), {users} concurrent users (wrk connections), "
      f"{duration} s per page; weight = headers + body, plus {assets} B of script, style sheet and icon\n")
print("| page | p50 ms | p95 ms | p99 ms | p95 / /healthz p95 | requests/s | errors | weight KB |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| `{short(r['path'])}` | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['p99_ms']:.2f} | "
          f"{r['p95_ms'] / max(base, 0.001):.1f} | {r['rps']:.0f} | {int(r['errors'])} | {r['weight'] / 1024:.1f} |")
pages = rows[1:]
worst = max(pages, key=lambda r: r["p95_ms"])
heaviest = max(pages, key=lambda r: r["weight"])
errors = sum(int(r["errors"]) for r in rows)
print(f"\nworst p95: {worst['p95_ms']:.2f} ms ({short(worst['path'])}; {'under' if worst['p95_ms'] < 50 else 'OVER'} the 50 ms goal); "
      f"heaviest: {heaviest['weight'] / 1024:.1f} KB ({short(heaviest['path'])}; {'under' if heaviest['weight'] < 100 * 1024 else 'OVER'} the 100 KB goal); "
      f"errors: {errors}")
json.dump({"dashboards": int(dashboards), "users": int(users), "duration": int(duration), "assetBytes": int(assets),
           "rows": [{**r, "path": short(r["path"])} for r in rows]}, open(f"{out}/result.json", "w"), indent=2)
PY
