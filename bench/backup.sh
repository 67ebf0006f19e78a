#!/usr/bin/env bash
# Backup benchmark (issue 13). Seeds a dev Superset with DASHBOARDS dashboards of CHARTS charts
# through the API, then measures in the same run:
#   a) the raw-API floor (bench/backup_floor.py): list the dashboards, export them in batches of
#      50, write each ZIP to a folder;
#   b) Ferry's first full backup of dev (release build, SQLite store), with Ferry's peak RSS;
#   c) a second backup with nothing changed (time and new bytes);
#   e) restoring RESTORE dashboards from the first backup into a fresh Superset, against
#      promoting the same dashboards from dev into another fresh one (plan + apply + verify);
#   d) DAYS daily backups, CHANGE_PERCENT of the dashboards renamed before each; then the
#      storage's size (du -sb of blobs + manifests) against the first full backup's bytes.
# (e runs before d.) dev's retention is set to keep every backup the run makes.
# Ferry's side is bench/backup_ferry.py. Prints a table and writes var/bench-backup/result.json.
#
#   bench/backup.sh                      # 1000 dashboards x 6 charts, 30 days, restore 100
#   DASHBOARDS=20 bench/backup.sh        # quick: 20 dashboards, restore all 20
#   SUPERSET_WORKERS=2 PARALLEL_REQUESTS=4 bench/backup.sh
#   SUPERSET_METADATA=postgres SUPERSET_WORKERS=2 PARALLEL_REQUESTS=4 bench/backup.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DASHBOARDS=${DASHBOARDS:-1000}
CHARTS=${CHARTS:-6}
DAYS=${DAYS:-30}
CHANGE_PERCENT=${CHANGE_PERCENT:-1}
RESTORE=${RESTORE:-100}
# Every FULL_EVERY-th daily backup is asked full, as FERRY_BACKUP_FULL_EVERY_DAYS (default 7)
# would make it over real days; the bench's days are minutes apart. 0: never.
FULL_EVERY=${FULL_EVERY:-7}
# As bench/promote.sh: gunicorn workers per Superset, Superset's metadata store (sqlite or
# postgres), and the environments' "parallel requests" in Ferry (1 is its default).
export SUPERSET_WORKERS=${SUPERSET_WORKERS:-1}
export SUPERSET_METADATA=${SUPERSET_METADATA:-sqlite}
export PARALLEL_REQUESTS=${PARALLEL_REQUESTS:-1}
export FERRY_ROOT=$ROOT FERRY_TEST_DIR=$ROOT/var/bench-backup
export DASHBOARDS CHARTS DAYS CHANGE_PERCENT RESTORE FULL_EVERY
# shellcheck source=../scripts/lib/superset.sh
source scripts/lib/superset.sh
PY=$SUPERSET_VENV/bin/python
swift build -c release --product ferry >/dev/null
BIN="$(swift build -c release --show-bin-path)/ferry"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
log() { printf '[backup bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
pids=()
# start() runs in a command substitution (a subshell), so the Supersets are stopped by name.
cleanup() {
  for n in dev restoretarget promotetarget; do superset_stop "$n"; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "$SUPERSET_METADATA" = postgres ]; then pg_stop "$FERRY_TEST_DIR/pg"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
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
log "starting and seeding dev ($DASHBOARDS dashboards x $CHARTS charts)"
DEV=$(start dev)
"$PY" bench/seed_bulk.py --url "http://127.0.0.1:$DEV" --data "$FERRY_TEST_DIR/dev.db" --dashboards "$DASHBOARDS" --charts "$CHARTS"
target() { # name -> port, with a fresh "Sales" connection over its own data, warmed up
  local port; port=$(start "$1")
  "$PY" bench/seed_bulk.py --url "http://127.0.0.1:$port" --data "$FERRY_TEST_DIR/$1.db" --env prod --connection-only
  # A fresh gunicorn worker loads much of Superset lazily on its first API calls; warm both
  # targets the same way so neither contender pays that inside its timing.
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
# Both targets start now, so no Superset boots during a timed step.
log "starting the restore and promote targets"
RESTORE_PORT=$(target restoretarget)
PROMOTE_PORT=$(target promotetarget)

log "raw floor"
FLOOR=$("$PY" bench/backup_floor.py --url "http://127.0.0.1:$DEV" --out "$FERRY_TEST_DIR/floor" --warm)

log "ferry"
FPORT=$(free_port)
export FERRY_ADMIN_PASSWORD="bench-admin-$(date +%s)-password"
STORAGE=$FERRY_TEST_DIR/ferry/storage
FERRY_DATA_DIR="$FERRY_TEST_DIR/ferry" FERRY_STORAGE="$STORAGE" FERRY_PORT=$FPORT FERRY_SYNC_INTERVAL=0 FERRY_LOG_LEVEL=warning \
  "$BIN" serve >"$FERRY_TEST_DIR/ferry.log" 2>&1 &
FERRY_PID=$!
pids+=("$FERRY_PID")
for _ in $(seq 1 80); do curl -fsS "http://127.0.0.1:$FPORT/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
curl -fsS "http://127.0.0.1:$FPORT/readyz" >/dev/null 2>&1 || { echo "ferry did not become ready; log:" >&2; tail -40 "$FERRY_TEST_DIR/ferry.log" >&2; exit 1; }
FERRY_TOKEN=$("$PY" tests/harness/ferry_auth.py "http://127.0.0.1:$FPORT")
FERRY=$("$PY" bench/backup_ferry.py --ferry "http://127.0.0.1:$FPORT" --token "$FERRY_TOKEN" --pid "$FERRY_PID" --storage "$STORAGE" \
  --dev "http://127.0.0.1:$DEV" --restore-target "http://127.0.0.1:$RESTORE_PORT" --promote-target "http://127.0.0.1:$PROMOTE_PORT" \
  --parallel "$PARALLEL_REQUESTS" --days "$DAYS" --change-percent "$CHANGE_PERCENT" --full-every "$FULL_EVERY" --restore-dashboards "$RESTORE")

python3 - "$FLOOR" "$FERRY" "$FERRY_TEST_DIR/result.json" <<'PY'
import json, os, sys
floor, ferry = json.loads(sys.argv[1]), json.loads(sys.argv[2])
out = sys.argv[3]
n, c = int(os.environ["DASHBOARDS"]), int(os.environ["CHARTS"])
full, second, days, st = ferry["full"], ferry["second"], ferry["days"], ferry["storage"]
restore, promote = ferry["restore"], ferry["promote"]
def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None
ratios = {
    "full_over_floor": ratio(full["s"], floor["total_s"]),
    "second_over_floor": ratio(second["s"], floor["total_s"]),
    "storage_over_full": ratio(st["du_sb"], full["totalBytes"]),
    "storage_files_over_full": ratio(st["file_bytes"], full["totalBytes"]),
    "storage_allocated_over_full": ratio(st["du_allocated"], full["totalBytes"]),
    "restore_over_promote": ratio(restore["total_s"], promote["total_s"]),
}
peak = ferry["rss"]["full_peak_mb"]
result = {"dashboards": n, "charts": n * c, "days": len(days), "changed_per_day": ferry["changed_per_day"],
          "superset_workers": int(os.environ["SUPERSET_WORKERS"]), "superset_metadata": os.environ["SUPERSET_METADATA"],
          "ferry_parallel_requests": int(os.environ["PARALLEL_REQUESTS"]), "full_every": int(os.environ["FULL_EVERY"]),
          "floor": floor, "ferry": ferry, "ratios": ratios}
json.dump(result, open(out, "w"), indent=2)

def met(ok):
    return "met" if ok else "MISSED"
mb = lambda b: f"{b / 1e6:.1f} MB"
daily = [d["s"] for d in days]
print(f"{n} dashboards, {n * c} charts; Supersets: {result['superset_workers']} worker(s), {result['superset_metadata']} metadata; "
      f"Ferry parallel requests: {result['ferry_parallel_requests']}")
print(f"{'raw floor (list, export, write ZIPs):':<36}{floor['total_s']:7.1f} s  ({floor['batches']} batches of 50; "
      f"list {floor['list_s']}, export {floor['export_s']}, write {floor['write_s']}; {mb(floor['zip_bytes'])} of ZIPs)")
print(f"{'ferry first full backup:':<36}{full['s']:7.1f} s  ({full['assets']} assets, {mb(full['totalBytes'])})")
print(f"{'ferry second backup, no change:':<36}{second['s']:7.1f} s  ({second['exported']} exported, {second['newBytes']} new bytes)")
if daily:
    print(f"ferry {len(days)} daily backups ({ferry['changed_per_day']} dashboard(s) changed a day): "
          f"median {sorted(daily)[len(daily) // 2]:.1f} s, max {max(daily):.1f} s, {sum(d['newBytes'] or 0 for d in days)} new bytes in all")
print(f"storage after them (du -sb blobs+manifests): {mb(st['du_sb'])}  (files {mb(st['file_bytes'])}, on disk {mb(st['du_allocated'])}, {st['files']} files)")
kept = ferry.get("backups_kept")
print(f"backups made {ferry['backups_made']}, kept {kept if kept is not None else '?'}, deleted by retention {ferry['retention_deleted']}")
print(f"{'restore of %d dashboards:' % restore['dashboards']:<36}{restore['total_s']:7.1f} s  (plan {restore['plan_s']}, apply+verify {restore['apply_s']}; {restore['status']}, "
      f"{restore['dashboards_passed']}/{restore['dashboards']} passed)")
print(f"{'promotion of the same:':<36}{promote['total_s']:7.1f} s  (plan {promote['plan_s']}, apply+verify {promote['apply_s']}; {promote['status']}, "
      f"{promote['dashboards_passed']}/{promote['dashboards']} passed)")
print(f"ratio full backup / floor:          {ratios['full_over_floor']}  (target <= 1.2: {met((ratios['full_over_floor'] or 99) <= 1.2)})")
print(f"ratio second backup / floor:        {ratios['second_over_floor']}  (target < 0.10 and 0 new bytes: "
      f"{met((ratios['second_over_floor'] or 99) < 0.10 and second['newBytes'] == 0)})")
print(f"ratio storage / full backup:        {ratios['storage_over_full']}  (target < 1.5: {met((ratios['storage_over_full'] or 99) < 1.5)}; "
      f"file bytes {ratios['storage_files_over_full']}, disk blocks {ratios['storage_allocated_over_full']})")
print(f"peak RSS during the full backup:    {peak} MB  (target < 200: {met(peak is not None and peak < 200)}; "
      f"idle {ferry['rss']['idle_mb']} MB, whole run {ferry['rss']['run_peak_mb']} MB)")
print(f"ratio restore / promotion:          {ratios['restore_over_promote']}  (target <= 1: {met((ratios['restore_over_promote'] or 99) <= 1.0)})")
if kept is not None and kept < ferry["backups_made"]:
    print("NOTE: retention deleted backups during the run, so the storage figure covers fewer than all of them.")
PY
