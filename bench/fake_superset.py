"""A minimal Superset imitation for the inventory benchmark: login, CSRF and paged lists.

Serves N dashboards (plus a few charts, datasets, databases) so that `ferry` syncs a large
inventory through its real client and sync path. Not used by the test suite (that runs real
Superset); this only makes the benchmark's inventory size independent of how long seeding a
real Superset with thousands of dashboards would take.
"""
import json
import re
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = ["sales", "revenue", "churn", "marketing", "finance", "ops", "growth", "support", "retention", "pipeline"]


KINDS = ["dashboard", "chart", "dataset", "database"]


def make_rows(env, kind, n, shared=False):
    """`shared`: the same uuid for the same row in every environment (as if promoted), valid
    UUIDs; otherwise each environment's assets are its own."""
    rows = []
    for i in range(1, n + 1):
        owner = [{"first_name": f"Owner{i % 25}", "last_name": env.capitalize()}]
        uuid = (f"{KINDS.index(kind) + 1:08x}-0000-4000-8000-{i:012d}" if shared
                else f"{abs(hash((env, kind, i))) % 10**12:012d}-0000-4000-8000-{i:012d}")
        common = {"id": i, "uuid": uuid,
                  "owners": owner, "changed_on_utc": "2026-11-01T10:00:00.000000+0000"}
        w = WORDS[i % len(WORDS)]
        if kind == "dashboard":
            rows.append({**common, "dashboard_title": f"{w.capitalize()} dashboard {i}", "slug": f"{env}-{w}-{i}"})
        elif kind == "chart":
            rows.append({**common, "slice_name": f"{w} chart {i}", "viz_type": "table", "datasource_name_text": f"main.{w}"})
        elif kind == "dataset":
            rows.append({**common, "table_name": f"{w}_{i}", "schema": "main", "database": {"database_name": "Warehouse"}})
        else:
            rows.append({**common, "database_name": f"db{i}", "backend": "postgresql"})
    return rows


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, obj, status=200):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path.startswith("/api/v1/security/login"):
            return self.send_json({"access_token": "bench", "refresh_token": "bench"})
        self.send_json({"message": "not found"}, 404)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/health":
            body = b"OK"
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            return self.wfile.write(body)
        if path == "/version":
            return self.send_json({"version_string": "6.1.0-bench"})
        if path.startswith("/api/v1/security/csrf_token"):
            return self.send_json({"result": "bench"})
        m = re.match(r"^/api/v1/(dashboard|chart|dataset|database)/$", path)
        if not m:
            return self.send_json({"message": "not found"}, 404)
        q = urllib.parse.unquote(query)
        page = int(re.search(r"page:(\d+)", q).group(1)) if "page:" in q else 0
        size = int(re.search(r"page_size:(\d+)", q).group(1)) if "page_size:" in q else 100
        rows = self.server.rows[m.group(1)]
        self.send_json({"count": len(rows), "result": rows[page * size:(page + 1) * size]})


def main():
    port, env, dashboards = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    shared = len(sys.argv) > 4 and sys.argv[4] == "shared"
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.rows = {kind: make_rows(env, kind, n, shared)
                   for kind, n in [("dashboard", dashboards), ("chart", dashboards // 2), ("dataset", 50), ("database", 3)]}
    server.serve_forever()


if __name__ == "__main__":
    main()
