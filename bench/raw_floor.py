"""The raw-API floor for the promotion benchmark: what a plain script does to copy dashboards,
with no checks at all. Exports the source's dashboards in batches of 50 and posts each batch's ZIP
to the target's dashboard import once. Prints JSON timings.
"""
import argparse, json, sys, time

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/tests/harness")
from seed_superset import Superset  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--search", default="bench-")
    ap.add_argument("--batch", type=int, default=50)
    a = ap.parse_args()
    src, dst = Superset(a.source), Superset(a.target)
    ids, page = [], 0
    while True:
        q = f"(filters:!((col:slug,opr:ct,value:'{a.search}')),columns:!(id),page:{page},page_size:100)"
        rows = src.s.get(f"{src.base}/api/v1/dashboard/", params={"q": q}).json()["result"]
        if not rows:
            break
        ids += [r["id"] for r in rows]
        page += 1
    t0 = time.time()
    exported, t_export, t_import = [], 0.0, 0.0
    for i in range(0, len(ids), a.batch):
        t = time.time()
        r = src.s.get(f"{src.base}/api/v1/dashboard/export/", params={"q": "!(%s)" % ",".join(map(str, ids[i:i + a.batch]))})
        r.raise_for_status()
        t_export += time.time() - t
        t = time.time()
        r = dst.s.post(f"{dst.base}/api/v1/dashboard/import/", files={"formData": ("bundle.zip", r.content, "application/zip")},
                       data={"overwrite": "true"})
        if r.status_code >= 400:
            sys.exit(f"import failed: {r.status_code} {r.text[:500]}")
        t_import += time.time() - t
    print(json.dumps({"dashboards": len(ids), "export_s": round(t_export, 2), "import_s": round(t_import, 2),
                      "total_s": round(time.time() - t0, 2)}))


if __name__ == "__main__":
    main()
