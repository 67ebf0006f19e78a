"""Seeds a Superset for the promotion benchmark through its REST API: a SQLite connection "Sales",
TABLES tables each with a dataset, and DASHBOARDS dashboards of CHARTS charts each (with a
native filter and cross-filters, like real ones). --connection-only makes just the connection
(a fresh target).
"""
import argparse, json, sqlite3, sys, time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/tests/harness")
from seed_superset import Superset, query_context  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--env", default="dev")
    ap.add_argument("--dashboards", type=int, default=100)
    ap.add_argument("--charts", type=int, default=6)
    ap.add_argument("--tables", type=int, default=10)
    ap.add_argument("--connection-only", action="store_true")
    a = ap.parse_args()
    con = sqlite3.connect(a.data)
    factor = 1 if a.env == "dev" else 1000
    for t in range(a.tables):
        con.execute(f"DROP TABLE IF EXISTS bench_{t}")
        con.execute(f"CREATE TABLE bench_{t} (region TEXT, amount INTEGER)")
        con.executemany(f"INSERT INTO bench_{t} VALUES (?, ?)", [(r, (i + 1) * factor) for i, r in enumerate(["n", "s", "e", "w"])])
    con.commit()
    sup = Superset(a.url)
    db = sup.call("POST", "/api/v1/database/", json={"database_name": "Sales", "sqlalchemy_uri": f"sqlite:///{a.data}"})["id"]
    if a.connection_only:
        return
    datasets = [sup.call("POST", "/api/v1/dataset/", json={"database": db, "table_name": f"bench_{t}", "schema": "main"})["id"]
                for t in range(a.tables)]

    def dashboard(i):
        s = Superset(a.url)
        ds = datasets[i % len(datasets)]
        charts = []
        for c in range(a.charts):
            params, qc = query_context(ds, ["region"] if c % 2 else [], "table" if c % 2 else "big_number_total")
            # A distinct query per chart, so no result cache can make the checks look cheaper.
            limit = f'"row_limit": {1000 + i * a.charts + c}'
            params, qc = params.replace('"row_limit": 100', limit), qc.replace('"row_limit": 100', limit)
            cid = s.call("POST", "/api/v1/chart/", json={"slice_name": f"bench {i:03d} chart {c}", "viz_type": "table" if c % 2 else "big_number_total",
                                                          "datasource_id": ds, "datasource_type": "table", "params": params, "query_context": qc})["id"]
            charts.append((cid, s.call("GET", f"/api/v1/chart/{cid}")["result"]["uuid"]))
        pos = {"DASHBOARD_VERSION_KEY": "v2", "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
               "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": ["ROW-1"], "parents": ["ROOT_ID"]},
               "ROW-1": {"type": "ROW", "id": "ROW-1", "children": [f"CHART-{k}" for k in range(len(charts))], "parents": ["ROOT_ID", "GRID_ID"],
                         "meta": {"background": "BACKGROUND_TRANSPARENT"}}}
        for k, (cid, uuid) in enumerate(charts):
            pos[f"CHART-{k}"] = {"type": "CHART", "id": f"CHART-{k}", "children": [], "parents": ["ROOT_ID", "GRID_ID", "ROW-1"],
                                 "meta": {"chartId": cid, "uuid": uuid, "width": 2, "height": 50, "sliceName": f"chart {k}"}}
        ids = [c for c, _ in charts]
        meta = {"native_filter_configuration": [{"id": f"NATIVE_FILTER-{i}", "name": "Region", "filterType": "filter_select", "type": "NATIVE_FILTER",
                                                 "targets": [{"datasetId": ds, "column": {"name": "region"}}], "controlValues": {},
                                                 "defaultDataMask": {"filterState": {}}, "cascadeParentIds": [],
                                                 "scope": {"rootPath": ["ROOT_ID"], "excluded": []}, "chartsInScope": ids}],
                "chart_configuration": {str(ids[0]): {"id": ids[0], "crossFilters": {"scope": "global", "chartsInScope": ids[1:]}}},
                "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []}, "chartsInScope": ids}}
        d = s.call("POST", "/api/v1/dashboard/", json={"dashboard_title": f"Bench {i:03d}", "slug": f"bench-{i:03d}", "published": True,
                                                        "position_json": json.dumps(pos), "json_metadata": json.dumps(meta)})["id"]
        for cid in ids:
            s.call("PUT", f"/api/v1/chart/{cid}", json={"dashboards": [d]})

    start = time.time()
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(dashboard, range(a.dashboards)))
    print(f"seeded {a.dashboards} dashboards, {a.dashboards * a.charts} charts in {time.time() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
