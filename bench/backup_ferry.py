"""Ferry's side of the backup benchmark (bench/backup.sh runs it against a running `ferry serve`).
In order, timed from each POST to the end of its task:

  1. adds the environments dev, restore and promote, and waits for their first inventory syncs;
  2. the first full backup of dev, sampling Ferry's RSS every 0.2 s;
  3. a second backup with nothing changed;
  4. restore of the first RESTORE dashboards (by slug) from the first backup into "restore",
     against promoting the same dashboards from dev into "promote" (both fresh Supersets with
     only the "Sales" connection, mapped first); plan + apply (which verifies), each;
  5. DAYS daily backups, each after renaming CHANGE% of dev's dashboards through Superset's API;
     every FULL_EVERY-th one is asked full, as FERRY_BACKUP_FULL_EVERY_DAYS would make it over
     real days (the bench's days are minutes apart). Then the storage's size.

dev's retention is set to keep every backup the run makes (the default would delete most of
them: they are minutes apart). Prints one JSON object on stdout; progress on stderr.
"""
import argparse, json, os, subprocess, sys, threading, time, urllib.error, urllib.request

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/tests/harness")
from seed_superset import Superset  # noqa: E402

ENDED = ("succeeded", "failed", "partial", "cancelled", "interrupted", "awaiting_input")


def log(msg):
    print(f"[backup bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Ferry:
    def __init__(self, base, token):
        self.base, self.token = base.rstrip("/"), token

    def call(self, method, path, body=None, allow=()):
        req = urllib.request.Request(self.base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", "Accept": "application/json",
                                              "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            if e.code in allow:
                return None
            sys.exit(f"{method} {path}: HTTP {e.code}: {e.read()[:800].decode(errors='replace')}")

    def wait(self, task, limit=4 * 3600):
        deadline = time.time() + limit
        while time.time() < deadline:
            t = self.call("GET", f"/api/tasks/{task}")
            if t["status"] in ENDED:
                return t
            time.sleep(0.1)
        sys.exit(f"task {task} still running after {limit} s")


def summary(task):
    """The task's outcome summary (the task API's `result`)."""
    return task.get("result") or task.get("summary") or {}


def ended_ok(task, what):
    if task["status"] != "succeeded":
        sys.exit(f"{what}: task {task['id']} ended {task['status']}: {task.get('error')} / {task.get('nextAction')} / {task.get('inputRequest')}")
    return task


def rss_kb(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    if field != "VmRSS":
        return None
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return int(out) if out else None


class RSSSampler(threading.Thread):
    """Ferry's RSS every `every` seconds, kept with the time, for peaks over any window."""

    def __init__(self, pid, every=0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples, self.stop = pid, every, [], threading.Event()

    def sample(self):
        kb = rss_kb(self.pid)
        if kb is not None:
            self.samples.append((time.time(), kb))

    def run(self):
        while True:
            self.sample()
            if self.stop.wait(self.every):
                return

    def peak_mb(self, t0, t1):
        inside = [kb for t, kb in list(self.samples) if t0 - 0.05 <= t <= t1 + 0.05]
        return round(max(inside) / 1024, 1) if inside else None, len(inside)


def du(path, allocated=False):
    """`du -sb` (apparent bytes, as the issue's measure) or `du -sk` x 1024 (disk blocks)."""
    if not os.path.exists(path):
        return 0
    out = subprocess.run(["du", "-sk" if allocated else "-sb", path], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) * (1024 if allocated else 1)


def file_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def storage_size(root):
    """blobs + manifests of the storage folder (the whole folder if that layout isn't there)."""
    parts = [os.path.join(root, p) for p in ("blobs", "manifests")]
    if not all(os.path.isdir(p) for p in parts):
        parts = [root]
    return {"du_sb": sum(du(p) for p in parts), "du_allocated": sum(du(p, allocated=True) for p in parts),
            "file_bytes": sum(file_bytes(p) for p in parts), "files": sum(len(fs) for p in parts for _, _, fs in os.walk(p)),
            "measured": [os.path.relpath(p, root) for p in parts]}


def dashboards(sup):
    """dev's dashboards as (id, uuid, slug, title), by slug."""
    rows, page = [], 0
    while True:
        q = f"(columns:!(id,uuid,slug,dashboard_title),page:{page},page_size:100)"
        r = sup.s.get(f"{sup.base}/api/v1/dashboard/", params={"q": q})
        r.raise_for_status()
        got = r.json()["result"]
        if not got:
            break
        rows += got
        page += 1
    rows = list({r["id"]: r for r in rows}.values())
    return sorted(rows, key=lambda r: (r.get("slug") or "", r["id"]))


def map_databases(f, source, target):
    """Maps each source database to the target's same-named one (else its first suggestion)."""
    for row in f.call("GET", f"/api/mappings/suggestions?source={source}&target={target}")["items"]:
        options = row.get("suggestions") or []
        pick = next((s for s in options if s["target"].get("name") == row["source"].get("name")), options[0] if options else None)
        if pick is None:
            sys.exit(f"no database on {target} to map {row['source'].get('name')} to")
        f.call("PUT", "/api/mappings", {"source": source, "target": target,
                                        "sourceDatabaseUuid": row["source"]["uuid"], "sourceDatabaseName": row["source"].get("name"),
                                        "targetDatabaseUuid": pick["target"]["uuid"], "targetDatabaseName": pick["target"].get("name")})


def backup(f, sampler, full=False, what="backup"):
    body = {"environment": "dev"}
    if full:
        body["full"] = True
    sampler.sample()  # a backup shorter than the sampling period still gets its ends sampled
    t0 = time.time()
    q = f.call("POST", "/api/backups", body)
    t = ended_ok(f.wait(q["taskId"]), what)
    t1 = time.time()
    sampler.sample()
    s = summary(t)
    peak, samples = sampler.peak_mb(t0, t1)
    return {"s": round(t1 - t0, 2), "backup": s.get("backup"), "full": s.get("full"), "assets": s.get("assets"), "newAssets": s.get("newAssets"),
            "exported": s.get("exported"), "totalBytes": s.get("totalBytes"), "newBytes": s.get("newBytes"),
            "retentionDeleted": s.get("retentionDeleted", 0), "peak_rss_mb": peak, "rss_samples": samples}


def plan_apply(f, queue, what):
    """queue() posts a plan and returns {"id", "taskId"}; waits, applies, waits. Times both halves."""
    t0 = time.time()
    q = queue()
    ended_ok(f.wait(q["taskId"]), f"{what} plan")
    t1 = time.time()
    plan = f.call("GET", f"/api/promotions/plans/{q['id']}")
    t2 = time.time()
    a = f.call("POST", f"/api/promotions/{q['id']}/apply", {"acceptShared": True})
    done = f.wait(a["taskId"])
    t3 = time.time()
    report = (f.call("GET", f"/api/promotions/{a['id']}") or {}).get("report") or {}
    dashboards = report.get("dashboards") or []
    return {"status": done["status"], "plan_s": round(t1 - t0, 2), "apply_s": round(t3 - t2, 2), "total_s": round((t1 - t0) + (t3 - t2), 2),
            "plan": plan.get("summary"), "dashboards": len(dashboards), "dashboards_passed": sum(1 for d in dashboards if d.get("pass")),
            "charts_checked": report.get("chartsChecked"), "charts_failed": report.get("chartsFailed")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--pid", type=int, required=True, help="ferry serve's process id, for its RSS")
    ap.add_argument("--storage", required=True, help="FERRY_STORAGE")
    ap.add_argument("--dev", required=True)
    ap.add_argument("--restore-target", required=True)
    ap.add_argument("--promote-target", required=True)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--change-percent", type=float, default=1.0)
    ap.add_argument("--full-every", type=int, default=7, help="ask every Nth daily backup full (0: never)")
    ap.add_argument("--restore-dashboards", type=int, default=100)
    a = ap.parse_args()
    f = Ferry(a.ferry, a.token)
    sampler = RSSSampler(a.pid)
    sampler.start()
    out = {"rss": {"start_mb": round((rss_kb(a.pid) or 0) / 1024, 1)}}

    log("adding environments dev, restore, promote")
    for name, url, stage in [("dev", a.dev, "dev"), ("restore", a.restore_target, "stage"), ("promote", a.promote_target, "prod")]:
        f.call("POST", "/api/environments", {"name": name, "url": url, "authProvider": "db", "username": "admin", "password": "admin",
                                             "stage": stage, "parallelRequests": a.parallel})
    # Adding an environment starts its inventory sync, which lists every asset of its Superset:
    # let them finish so they don't compete with the timed steps for the Supersets' CPU.
    for _ in range(3000):
        envs = f.call("GET", "/api/environments")["items"]
        if all((e.get("sync") or {}).get("status") in ("succeeded", "failed") for e in envs):
            break
        time.sleep(0.2)
    out["rss"]["idle_mb"] = round((rss_kb(a.pid) or 0) / 1024, 1)
    # The default retention (last 7, then one a day, week and month) would delete most of the
    # run's backups, which are minutes apart: keep them all, so the storage holds every one.
    keep = min(1000, a.days + 10)
    f.call("PUT", "/api/backups/policy", {"environment": "dev", "retention": {"keepLast": keep, "daily": 0, "weekly": 0, "monthly": 0}})

    log("first full backup")
    first = backup(f, sampler, full=True, what="first full backup")
    out["full"] = first
    out["rss"]["full_peak_mb"] = first["peak_rss_mb"]
    hwm = rss_kb(a.pid, "VmHWM")
    out["rss"]["hwm_after_full_mb"] = round(hwm / 1024, 1) if hwm else None
    out["storage_after_full"] = storage_size(a.storage)
    log(f"  {first['s']} s, {first['assets']} assets, {first['totalBytes']} bytes, peak RSS {first['peak_rss_mb']} MB")

    log("second backup, nothing changed")
    out["second"] = backup(f, sampler, what="second backup")
    log(f"  {out['second']['s']} s, {out['second']['newBytes']} new bytes")

    sup = Superset(a.dev)
    rows = dashboards(sup)
    chosen = rows[:min(a.restore_dashboards, len(rows))]
    uuids = [r["uuid"] for r in chosen]
    for target in ("restore", "promote"):
        map_databases(f, "dev", target)
    log(f"restore of {len(uuids)} dashboards from the first backup")
    out["restore"] = plan_apply(f, lambda: f.call("POST", "/api/restores", {"backup": first["backup"], "target": "restore", "dashboards": uuids}),
                                "restore")
    log(f"  {out['restore']['total_s']} s ({out['restore']['status']})")
    log(f"promotion of the same {len(uuids)} dashboards")
    out["promote"] = plan_apply(f, lambda: f.call("POST", "/api/promotions/plan", {"source": "dev", "target": "promote", "dashboards": uuids}),
                                "promotion")
    log(f"  {out['promote']['total_s']} s ({out['promote']['status']})")

    per_day = max(1, round(len(rows) * a.change_percent / 100))
    log(f"{a.days} daily backups, {per_day} dashboard(s) renamed a day")
    days = []
    for day in range(1, a.days + 1):
        sup = Superset(a.dev)  # a fresh sign-in: Superset's access tokens last 15 minutes
        start = ((day - 1) * per_day) % len(rows)
        for j in range(per_day):
            d = rows[(start + j) % len(rows)]
            sup.call("PUT", f"/api/v1/dashboard/{d['id']}", json={"dashboard_title": f"{d['dashboard_title']} day {day}"})
        full = a.full_every > 0 and day % a.full_every == 0
        r = backup(f, sampler, full=full, what=f"day {day} backup")
        r["day"], r["changed"], r["asked_full"] = day, per_day, full
        days.append(r)
        log(f"  day {day}: {r['s']} s, {r['exported']} exported, {r['newBytes']} new bytes{' (full)' if full else ''}")
    out["days"] = days
    out["changed_per_day"] = per_day
    out["storage"] = storage_size(a.storage)
    kept = f.call("GET", "/api/backups?environment=dev&per_page=200", allow=(404,))
    out["backups_kept"] = len(kept["items"]) if kept else None
    out["backups_made"] = 2 + a.days
    out["retention_deleted"] = sum((d.get("retentionDeleted") or 0) for d in [first, out["second"]] + days)
    hwm = rss_kb(a.pid, "VmHWM")
    out["rss"]["hwm_end_mb"] = round(hwm / 1024, 1) if hwm else None
    out["rss"]["run_peak_mb"] = sampler.peak_mb(0, time.time())[0]
    sampler.stop.set()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
