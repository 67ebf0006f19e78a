"""The raw-API floor for the backup benchmark: what a plain script does to back a Superset's
dashboards up, with no bookkeeping at all. Lists every dashboard id, exports them in batches of
50 (GET /api/v1/dashboard/export/?q=!(ids)), and writes each batch's ZIP to a folder. Prints JSON
timings on stdout.

    python bench/backup_floor.py --url http://127.0.0.1:8088 --out var/bench-backup/floor [--warm]

--warm first exports one dashboard, untimed: a fresh gunicorn worker loads the export code
lazily on its first call, and the contender measured after this one must not be the only one to
find it loaded. --fsync syncs each ZIP before the next batch (Ferry syncs every file it stores);
off by default, as a plain script wouldn't.
"""
import argparse, json, os, shutil, sys, time

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/tests/harness")
from seed_superset import Superset  # noqa: E402


def dashboard_ids(sup):
    """Every dashboard id, 100 a page (Superset's largest page)."""
    ids, page = [], 0
    while True:
        q = f"(columns:!(id),page:{page},page_size:100)"
        r = sup.s.get(f"{sup.base}/api/v1/dashboard/", params={"q": q})
        r.raise_for_status()
        rows = r.json()["result"]
        if not rows:
            break
        ids += [row["id"] for row in rows]
        page += 1
    return sorted(set(ids))


def export(sup, ids):
    r = sup.s.get(f"{sup.base}/api/v1/dashboard/export/", params={"q": "!(%s)" % ",".join(map(str, ids))})
    if r.status_code >= 400:
        sys.exit(f"export failed: {r.status_code} {r.text[:500]}")
    return r.content


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True, help="folder for the ZIPs (emptied first)")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--warm", action="store_true")
    ap.add_argument("--fsync", action="store_true")
    a = ap.parse_args()
    sup = Superset(a.url)
    if a.warm:
        first = dashboard_ids(sup)[:1]
        if first:
            export(sup, first)
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)

    t0 = time.time()
    ids = dashboard_ids(sup)
    t_list = time.time() - t0
    t_export = t_write = 0.0
    written = 0
    for n, i in enumerate(range(0, len(ids), a.batch)):
        t = time.time()
        body = export(sup, ids[i:i + a.batch])
        t_export += time.time() - t
        t = time.time()
        with open(os.path.join(a.out, f"dashboards-{n:04d}.zip"), "wb") as f:
            f.write(body)
            if a.fsync:
                f.flush()
                os.fsync(f.fileno())
        written += len(body)
        t_write += time.time() - t
    total = time.time() - t0
    print(json.dumps({"dashboards": len(ids), "batches": (len(ids) + a.batch - 1) // a.batch, "zip_bytes": written, "fsync": a.fsync,
                      "list_s": round(t_list, 2), "export_s": round(t_export, 2), "write_s": round(t_write, 3), "total_s": round(total, 2)}))


if __name__ == "__main__":
    main()
