"""Seeds one real Superset instance through its REST API for Ferry's integration tests.

Creates, on the given instance:
  - a SQLite data file with a `sales` table whose numbers depend on --env (dev and prod differ);
  - a SQLite connection "Sales" pointing at it (same name on both instances, different data);
  - optionally a PostgreSQL connection "Warehouse" that needs a password (--pg-url);
  - a dataset, charts with saved query contexts, and dashboards (one with tabs and a native
    filter, sharing one chart with a second dashboard);
  - --extra-dashboards empty dashboards, to make listing page;
  - promotion fixtures: an `orders` table beside `sales` and a `revenue` table in PostgreSQL, both
    with env-dependent numbers; on dev (--promo-source) two dashboards built on them, "Regional
    orders" (tabs, a native filter, cross-filters) and "Order KPIs", sharing the "Order total" chart.
    Prod gets the same-named connections over its own data and none of these dashboards.
Writes a manifest (JSON) of what it created, read by the Swift tests to know what to expect.
"""
import argparse
import json
import sqlite3
import sys
import time
import uuid

import requests


class Superset:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.s = requests.Session()
        r = self.s.post(f"{self.base}/api/v1/security/login",
                        json={"username": "admin", "password": "admin", "provider": "db", "refresh": True})
        r.raise_for_status()
        self.s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        r = self.s.get(f"{self.base}/api/v1/security/csrf_token/")
        r.raise_for_status()
        self.s.headers["X-CSRFToken"] = r.json()["result"]
        self.s.headers["Referer"] = self.base + "/"

    def call(self, method, path, **kw):
        for attempt in range(5):
            r = self.s.request(method, f"{self.base}{path}", **kw)
            if r.status_code == 429:
                time.sleep(0.5 * (attempt + 1))
                continue
            if r.status_code >= 400:
                sys.exit(f"{method} {path} -> {r.status_code}: {r.text[:800]}")
            return r.json() if r.text else {}
        sys.exit(f"{method} {path}: rate limited")


def make_sqlite(path, env):
    con = sqlite3.connect(path)
    con.execute("DROP TABLE IF EXISTS sales")
    con.execute("CREATE TABLE sales (region TEXT, product TEXT, amount INTEGER, sold_at TEXT)")
    factor = 1 if env == "dev" else 1000
    rows = []
    for i, region in enumerate(["north", "south", "east", "west"]):
        for j, product in enumerate(["alpha", "beta", "gamma"]):
            rows.append((region, product, (i + 1) * (j + 1) * factor, f"2024-0{j+1}-1{i}"))
    con.executemany("INSERT INTO sales VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return sum(r[2] for r in rows)


def make_orders(path, env):
    con = sqlite3.connect(path)
    con.execute("DROP TABLE IF EXISTS orders")
    con.execute("CREATE TABLE orders (region TEXT, product TEXT, amount INTEGER)")
    factor = 3 if env == "dev" else 7000
    rows = [(r, p, (i + 2) * (j + 1) * factor) for i, r in enumerate(["north", "south", "east"])
            for j, p in enumerate(["alpha", "beta"])]
    con.executemany("INSERT INTO orders VALUES (?, ?, ?)", rows)
    con.execute("DROP TABLE IF EXISTS dev_only")
    if env == "dev":  # a table prod lacks: a chart on it can't query there
        con.execute("CREATE TABLE dev_only (amount INTEGER)")
        con.execute("INSERT INTO dev_only VALUES (1)")
    con.commit()
    con.close()
    return sum(r[2] for r in rows)


def make_revenue(pg_url, env):
    import psycopg2
    con = psycopg2.connect(pg_url.replace("postgresql://", "postgres://"))
    con.autocommit = True
    cur = con.cursor()
    cur.execute("DROP TABLE IF EXISTS public.revenue")
    cur.execute("CREATE TABLE public.revenue (month TEXT, amount INTEGER)")
    factor = 5 if env == "dev" else 9000
    rows = [(f"2024-{m:02d}", m * factor) for m in range(1, 7)]
    cur.executemany("INSERT INTO public.revenue VALUES (%s, %s)", rows)
    con.close()
    return sum(r[1] for r in rows)


def query_context(ds_id, groupby, viz, column="amount"):
    metric = {"expressionType": "SIMPLE", "column": {"column_name": column}, "aggregate": "SUM", "label": "total"}
    form_data = {"datasource": f"{ds_id}__table", "viz_type": viz, "metrics": [metric], "groupby": groupby,
                 "row_limit": 100}
    qc = {"datasource": {"id": ds_id, "type": "table"}, "force": False,
          "queries": [{"columns": groupby, "metrics": [metric], "orderby": [], "row_limit": 100,
                       "filters": [], "extras": {}}],
          "form_data": form_data, "result_format": "json", "result_type": "full"}
    return json.dumps(form_data), json.dumps(qc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--env", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--pg-url", default="")
    ap.add_argument("--pg-password", default="")
    ap.add_argument("--extra-dashboards", type=int, default=0)
    ap.add_argument("--promo-source", action="store_true", help="create the promotion dashboards")
    a = ap.parse_args()

    sup = Superset(a.url)
    data_path = f"{a.data_dir}/{a.env}_sales.db"
    total = make_sqlite(data_path, a.env)
    manifest = {"env": a.env, "url": a.url, "sales_total": total, "databases": {}, "datasets": {},
                "charts": {}, "dashboards": {}}

    manifest["orders_total"] = make_orders(data_path, a.env)
    if a.pg_url:
        manifest["revenue_total"] = make_revenue(a.pg_url.replace("PASSWORD", a.pg_password), a.env)

    db = sup.call("POST", "/api/v1/database/", json={
        "database_name": "Sales", "sqlalchemy_uri": f"sqlite:///{data_path}", "expose_in_sqllab": True})
    manifest["databases"]["Sales"] = {"id": db["id"], "uri": f"sqlite:///{data_path}"}
    if a.pg_url:
        pg = sup.call("POST", "/api/v1/database/", json={
            "database_name": "Warehouse", "sqlalchemy_uri": a.pg_url.replace("PASSWORD", a.pg_password)})
        manifest["databases"]["Warehouse"] = {"id": pg["id"], "uri": a.pg_url.replace(":PASSWORD@", ":XXXXXXXXXX@")}

    ds = sup.call("POST", "/api/v1/dataset/", json={"database": db["id"], "table_name": "sales", "schema": "main"})
    ds_id = ds["id"]
    manifest["datasets"]["sales"] = {"id": ds_id}

    charts = {}
    for name, viz, groupby in [("Sales by region", "table", ["region"]),
                               ("Sales by product", "table", ["product"]),
                               ("Total sales", "big_number_total", [])]:
        params, qc = query_context(ds_id, groupby, viz)
        c = sup.call("POST", "/api/v1/chart/", json={
            "slice_name": name, "viz_type": viz, "datasource_id": ds_id, "datasource_type": "table",
            "params": params, "query_context": qc})
        charts[name] = c["id"]
    manifest["charts"] = {k: {"id": v} for k, v in charts.items()}

    def chart_node(key, cid, name, parent):
        return {"type": "CHART", "id": key, "children": [], "parents": parent,
                "meta": {"chartId": cid, "width": 4, "height": 50, "sliceName": name}}

    # Dashboard 1: tabs, a native filter, three charts.
    p = {"DASHBOARD_VERSION_KEY": "v2",
         "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["TABS-1"]},
         "TABS-1": {"type": "TABS", "id": "TABS-1", "children": ["TAB-a", "TAB-b"], "parents": ["ROOT_ID"]},
         "TAB-a": {"type": "TAB", "id": "TAB-a", "children": ["ROW-a"], "parents": ["ROOT_ID", "TABS-1"],
                   "meta": {"text": "Overview"}},
         "TAB-b": {"type": "TAB", "id": "TAB-b", "children": ["ROW-b"], "parents": ["ROOT_ID", "TABS-1"],
                   "meta": {"text": "Detail"}},
         "ROW-a": {"type": "ROW", "id": "ROW-a", "children": ["CHART-1", "CHART-3"],
                   "parents": ["ROOT_ID", "TABS-1", "TAB-a"], "meta": {"background": "BACKGROUND_TRANSPARENT"}},
         "ROW-b": {"type": "ROW", "id": "ROW-b", "children": ["CHART-2"],
                   "parents": ["ROOT_ID", "TABS-1", "TAB-b"], "meta": {"background": "BACKGROUND_TRANSPARENT"}},
         "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
         "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": "Sales overview"}}}
    p["CHART-1"] = chart_node("CHART-1", charts["Sales by region"], "Sales by region", ["ROOT_ID", "TABS-1", "TAB-a", "ROW-a"])
    p["CHART-3"] = chart_node("CHART-3", charts["Total sales"], "Total sales", ["ROOT_ID", "TABS-1", "TAB-a", "ROW-a"])
    p["CHART-2"] = chart_node("CHART-2", charts["Sales by product"], "Sales by product", ["ROOT_ID", "TABS-1", "TAB-b", "ROW-b"])
    native_filter = {
        "id": "NATIVE_FILTER-region", "name": "Region", "filterType": "filter_select", "type": "NATIVE_FILTER",
        "targets": [{"datasetId": ds_id, "column": {"name": "region"}}],
        "controlValues": {"multiSelect": True, "enableEmptyFilter": False}, "defaultDataMask": {"filterState": {}},
        "cascadeParentIds": [], "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
        "chartsInScope": sorted(charts.values()), "tabsInScope": ["TAB-a", "TAB-b"]}
    meta = {"native_filter_configuration": [native_filter],
            "chart_configuration": {str(charts["Sales by region"]): {
                "id": charts["Sales by region"], "crossFilters": {"scope": "global", "chartsInScope": [charts["Total sales"], charts["Sales by product"]]}}},
            "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                                           "chartsInScope": sorted(charts.values())},
            "cross_filters_enabled": True, "color_scheme": "", "refresh_frequency": 0}
    d1 = sup.call("POST", "/api/v1/dashboard/", json={
        "dashboard_title": "Sales overview", "slug": "sales-overview", "published": True,
        "position_json": json.dumps(p), "json_metadata": json.dumps(meta)})

    # Dashboard 2 shares "Total sales".
    p2 = {"DASHBOARD_VERSION_KEY": "v2", "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
          "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": ["ROW-x"], "parents": ["ROOT_ID"]},
          "ROW-x": {"type": "ROW", "id": "ROW-x", "children": ["CHART-9"], "parents": ["ROOT_ID", "GRID_ID"],
                    "meta": {"background": "BACKGROUND_TRANSPARENT"}},
          "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": "Executive summary"}}}
    p2["CHART-9"] = chart_node("CHART-9", charts["Total sales"], "Total sales", ["ROOT_ID", "GRID_ID", "ROW-x"])
    d2 = sup.call("POST", "/api/v1/dashboard/", json={
        "dashboard_title": "Executive summary", "slug": "executive-summary", "published": True,
        "position_json": json.dumps(p2), "json_metadata": json.dumps({"native_filter_configuration": []})})

    # Link charts to dashboards (the dashboard_slices relation).
    sup.call("PUT", f"/api/v1/chart/{charts['Sales by region']}", json={"dashboards": [d1["id"]]})
    sup.call("PUT", f"/api/v1/chart/{charts['Sales by product']}", json={"dashboards": [d1["id"]]})
    sup.call("PUT", f"/api/v1/chart/{charts['Total sales']}", json={"dashboards": [d1["id"], d2["id"]]})
    manifest["dashboards"] = {"sales-overview": {"id": d1["id"]}, "executive-summary": {"id": d2["id"]}}

    if a.promo_source:
        seed_promotion_source(sup, manifest, db["id"], pg["id"] if a.pg_url else None)

    for i in range(a.extra_dashboards):
        sup.call("POST", "/api/v1/dashboard/", json={
            "dashboard_title": f"{a.env} filler {i:03d}", "slug": f"{a.env}-filler-{i:03d}"})
    manifest["dashboard_count"] = 2 + a.extra_dashboards

    # Record uuids as Superset assigned them.
    for kind, key in [("dashboard", "dashboards"), ("chart", "charts"), ("dataset", "datasets"), ("database", "databases")]:
        for name, entry in list(manifest[key].items()) + list(manifest.get("promo", {}).get(key, {}).items()):
            got = sup.call("GET", f"/api/v1/{kind}/{entry['id']}")
            entry["uuid"] = got["result"].get("uuid")
    with open(a.manifest, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)


def seed_promotion_source(sup, manifest, sales_db, pg_db):
    """Two dashboards to promote: "Regional orders" (tabs, a native filter on region, cross-filters)
    and "Order KPIs"; both show "Order total". A PostgreSQL chart joins when Warehouse exists."""
    promo = {"datasets": {}, "charts": {}, "dashboards": {}}
    orders = sup.call("POST", "/api/v1/dataset/", json={"database": sales_db, "table_name": "orders", "schema": "main"})["id"]
    promo["datasets"]["orders"] = {"id": orders}
    specs = [("Orders by region", "table", ["region"], orders, "amount"),
             ("Orders by product", "table", ["product"], orders, "amount"),
             ("Order total", "big_number_total", [], orders, "amount")]
    if pg_db is not None:
        revenue = sup.call("POST", "/api/v1/dataset/", json={"database": pg_db, "table_name": "revenue", "schema": "public"})["id"]
        promo["datasets"]["revenue"] = {"id": revenue}
        specs.append(("Revenue total", "big_number_total", [], revenue, "amount"))
    charts = {}
    for name, viz, groupby, ds, column in specs:
        params, qc = query_context(ds, groupby, viz, column)
        charts[name] = sup.call("POST", "/api/v1/chart/", json={
            "slice_name": name, "viz_type": viz, "datasource_id": ds, "datasource_type": "table",
            "params": params, "query_context": qc})["id"]
    promo["charts"] = {k: {"id": v} for k, v in charts.items()}
    uuids = {name: sup.call("GET", f"/api/v1/chart/{cid}")["result"]["uuid"] for name, cid in charts.items()}

    def node(key, name, parents):  # as Superset's UI saves it: chartId and uuid
        return {"type": "CHART", "id": key, "children": [], "parents": parents,
                "meta": {"chartId": charts[name], "uuid": uuids[name], "width": 4, "height": 50, "sliceName": name}}

    tab_a = ["Orders by region", "Order total"]
    tab_b = ["Orders by product"] + (["Revenue total"] if "Revenue total" in charts else [])
    p = {"DASHBOARD_VERSION_KEY": "v2",
         "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["TABS-1"]},
         "TABS-1": {"type": "TABS", "id": "TABS-1", "children": ["TAB-a", "TAB-b"], "parents": ["ROOT_ID"]},
         "TAB-a": {"type": "TAB", "id": "TAB-a", "children": ["ROW-a"], "parents": ["ROOT_ID", "TABS-1"], "meta": {"text": "Overview"}},
         "TAB-b": {"type": "TAB", "id": "TAB-b", "children": ["ROW-b"], "parents": ["ROOT_ID", "TABS-1"], "meta": {"text": "Detail"}},
         "ROW-a": {"type": "ROW", "id": "ROW-a", "children": [f"CHART-a{i}" for i in range(len(tab_a))],
                   "parents": ["ROOT_ID", "TABS-1", "TAB-a"], "meta": {"background": "BACKGROUND_TRANSPARENT"}},
         "ROW-b": {"type": "ROW", "id": "ROW-b", "children": [f"CHART-b{i}" for i in range(len(tab_b))],
                   "parents": ["ROOT_ID", "TABS-1", "TAB-b"], "meta": {"background": "BACKGROUND_TRANSPARENT"}},
         "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
         "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": "Regional orders"}}}
    for i, name in enumerate(tab_a):
        p[f"CHART-a{i}"] = node(f"CHART-a{i}", name, ["ROOT_ID", "TABS-1", "TAB-a", "ROW-a"])
    for i, name in enumerate(tab_b):
        p[f"CHART-b{i}"] = node(f"CHART-b{i}", name, ["ROOT_ID", "TABS-1", "TAB-b", "ROW-b"])
    orders_charts = sorted(charts[n] for n in ["Orders by region", "Orders by product", "Order total"])
    meta = {"native_filter_configuration": [{
                "id": "NATIVE_FILTER-orders-region", "name": "Region", "filterType": "filter_select", "type": "NATIVE_FILTER",
                "targets": [{"datasetId": orders, "column": {"name": "region"}}],
                "controlValues": {"multiSelect": True, "enableEmptyFilter": False}, "defaultDataMask": {"filterState": {}},
                "cascadeParentIds": [], "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                "chartsInScope": orders_charts, "tabsInScope": ["TAB-a", "TAB-b"]}],
            "chart_configuration": {str(charts["Orders by region"]): {
                "id": charts["Orders by region"],
                "crossFilters": {"scope": "global", "chartsInScope": [charts["Order total"], charts["Orders by product"]]}}},
            "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                                           "chartsInScope": sorted(charts.values())},
            "cross_filters_enabled": True, "color_scheme": "", "refresh_frequency": 0}
    d1 = sup.call("POST", "/api/v1/dashboard/", json={
        "dashboard_title": "Regional orders", "slug": "regional-orders", "published": True,
        "position_json": json.dumps(p), "json_metadata": json.dumps(meta)})["id"]
    kpis = ["Order total"] + (["Revenue total"] if "Revenue total" in charts else [])
    p2 = {"DASHBOARD_VERSION_KEY": "v2", "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
          "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": ["ROW-k"], "parents": ["ROOT_ID"]},
          "ROW-k": {"type": "ROW", "id": "ROW-k", "children": [f"CHART-k{i}" for i in range(len(kpis))],
                    "parents": ["ROOT_ID", "GRID_ID"], "meta": {"background": "BACKGROUND_TRANSPARENT"}},
          "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": "Order KPIs"}}}
    for i, name in enumerate(kpis):
        p2[f"CHART-k{i}"] = node(f"CHART-k{i}", name, ["ROOT_ID", "GRID_ID", "ROW-k"])
    d2 = sup.call("POST", "/api/v1/dashboard/", json={
        "dashboard_title": "Order KPIs", "slug": "order-kpis", "published": True,
        "position_json": json.dumps(p2), "json_metadata": json.dumps({"native_filter_configuration": []})})["id"]
    for name, cid in charts.items():
        dashes = ([d1] if name in tab_a + tab_b else []) + ([d2] if name in kpis else [])
        sup.call("PUT", f"/api/v1/chart/{cid}", json={"dashboards": dashes})
    # "Dev only" shows a chart on a table prod doesn't have: its promotion can't verify.
    dev_only = sup.call("POST", "/api/v1/dataset/", json={"database": sales_db, "table_name": "dev_only", "schema": "main"})["id"]
    params, qc = query_context(dev_only, [], "big_number_total")
    broken = sup.call("POST", "/api/v1/chart/", json={"slice_name": "Dev-only total", "viz_type": "big_number_total", "datasource_id": dev_only,
                                                       "datasource_type": "table", "params": params, "query_context": qc})["id"]
    broken_uuid = sup.call("GET", f"/api/v1/chart/{broken}")["result"]["uuid"]
    p3 = {"DASHBOARD_VERSION_KEY": "v2", "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
          "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": ["ROW-d"], "parents": ["ROOT_ID"]},
          "ROW-d": {"type": "ROW", "id": "ROW-d", "children": ["CHART-d0"], "parents": ["ROOT_ID", "GRID_ID"], "meta": {}},
          "CHART-d0": {"type": "CHART", "id": "CHART-d0", "children": [], "parents": ["ROOT_ID", "GRID_ID", "ROW-d"],
                       "meta": {"chartId": broken, "uuid": broken_uuid, "width": 4, "height": 50, "sliceName": "Dev-only total"}}}
    d3 = sup.call("POST", "/api/v1/dashboard/", json={"dashboard_title": "Dev only", "slug": "dev-only", "published": True,
                                                       "position_json": json.dumps(p3), "json_metadata": json.dumps({"native_filter_configuration": []})})["id"]
    sup.call("PUT", f"/api/v1/chart/{broken}", json={"dashboards": [d3]})
    promo["charts"]["Dev-only total"] = {"id": broken}
    promo["datasets"]["dev_only"] = {"id": dev_only}
    promo["dashboards"] = {"regional-orders": {"id": d1}, "order-kpis": {"id": d2}, "dev-only": {"id": d3}}
    manifest["promo"] = promo


if __name__ == "__main__":
    main()
