"""The git history end to end, against the real dev Superset: a private probe dashboard (one chart
on the seeded `sales` dataset) is committed by a snapshot; its chart's description is changed in
Superset; the drift check shows it "changed" on the dashboards hub and on the Git history page;
its history opens by clicking through; "Snapshot now" commits the change and the task page
follows it; the two revisions compared side by side name the field with its old and new value;
the hub then shows it in sync, in English and in Russian. The probe and the environment go at
the end (other flows start from an empty store)."""
import http.cookiejar
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from playwright.sync_api import expect

from conftest import api

ENV = "git-dev"
FINISHED = ("succeeded", "partial", "failed", "cancelled", "interrupted")
TASK_SECONDS = 120
# The environment's first snapshot is a full backup of dev (every dashboard exported), as in
# test_backups.py, which allows a full backup five minutes.
FIRST_SNAPSHOT_SECONDS = 300


class Superset:
    """The dev Superset's REST API as its admin, as tests/harness/seed_superset.py calls it: a bearer
    token, and a CSRF token with the session cookie it belongs to."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.headers = {"Content-Type": "application/json", "Referer": base + "/"}
        login = self.call("POST", "/api/v1/security/login", {"username": "admin", "password": "admin", "provider": "db", "refresh": True})
        self.headers["Authorization"] = "Bearer " + login["access_token"]
        self.headers["X-CSRFToken"] = self.call("GET", "/api/v1/security/csrf_token/")["result"]

    def call(self, method, path, body=None):
        for attempt in range(5):
            req = urllib.request.Request(self.base + path, method=method, headers=self.headers,
                                         data=json.dumps(body).encode() if body is not None else None)
            try:
                with self.opener.open(req, timeout=30) as r:
                    return json.loads(r.read() or b"null")
            except urllib.error.HTTPError as e:
                if e.code != 429:
                    raise AssertionError(f"{method} {path} -> {e.code}: {e.read()[:800]!r}")
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError(f"{method} {path}: rate limited")


def sales_dataset(sup):
    """The seeded `sales` dataset of dev (from scripts/test's manifest, else looked up)."""
    manifest = os.environ.get("FERRY_TEST_DEV_MANIFEST")
    if manifest and os.path.exists(manifest):
        with open(manifest) as f:
            return json.load(f)["datasets"]["sales"]["id"]
    q = urllib.parse.quote("(filters:!((col:table_name,opr:eq,value:sales)))")
    return sup.call("GET", f"/api/v1/dataset/?q={q}")["result"][0]["id"]


def make_probe(sup, suffix, description, probe):
    """A private dashboard no other flow touches, with one chart (the dashboard_slices relation and
    a layout naming it, as the seeded dashboards have). Filled into `probe` as it is made, so a
    failure half-way still leaves remove_probe what to delete."""
    ds = sales_dataset(sup)
    chart_name = f"Git probe chart {suffix}"
    params = {"datasource": f"{ds}__table", "viz_type": "big_number_total",
              "metric": {"expressionType": "SIMPLE", "column": {"column_name": "amount"}, "aggregate": "SUM", "label": "total"}}
    chart = sup.call("POST", "/api/v1/chart/", {"slice_name": chart_name, "description": description, "viz_type": "big_number_total",
                                                 "datasource_id": ds, "datasource_type": "table", "params": json.dumps(params)})["id"]
    probe.update(chart=chart, chart_name=chart_name)
    chart_uuid = sup.call("GET", f"/api/v1/chart/{chart}")["result"]["uuid"]
    title = f"Git probe {suffix}"
    position = {"DASHBOARD_VERSION_KEY": "v2", "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
                "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": ["ROW-g"], "parents": ["ROOT_ID"]},
                "ROW-g": {"type": "ROW", "id": "ROW-g", "children": ["CHART-g"], "parents": ["ROOT_ID", "GRID_ID"],
                          "meta": {"background": "BACKGROUND_TRANSPARENT"}},
                "CHART-g": {"type": "CHART", "id": "CHART-g", "children": [], "parents": ["ROOT_ID", "GRID_ID", "ROW-g"],
                            "meta": {"chartId": chart, "uuid": chart_uuid, "width": 4, "height": 50, "sliceName": chart_name}},
                "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": title}}}
    probe["dashboard"] = sup.call("POST", "/api/v1/dashboard/", {
        "dashboard_title": title, "slug": f"git-probe-{suffix}", "published": True,
        "position_json": json.dumps(position), "json_metadata": json.dumps({"native_filter_configuration": []})})["id"]
    sup.call("PUT", f"/api/v1/chart/{chart}", {"dashboards": [probe["dashboard"]]})
    probe["title"] = title
    probe["uuid"] = sup.call("GET", f"/api/v1/dashboard/{probe['dashboard']}")["result"]["uuid"].lower()


def remove_probe(sup, probe):
    for kind in ("dashboard", "chart"):
        if probe.get(kind) is not None:
            try:
                sup.call("DELETE", f"/api/v1/{kind}/{probe[kind]}")
            except AssertionError:
                pass


def create_environment(base, dev_superset, name):
    """The environment `name` on the dev Superset (kept if an earlier run made it)."""
    try:
        return api(base, "POST", "/api/environments", {"name": name, "url": dev_superset, "authProvider": "db", "username": "admin",
                                                       "password": "admin", "verifyTLS": True, "stage": "dev"})
    except urllib.error.HTTPError as e:
        assert e.code == 409, e.read()
        return next(env for env in api(base, "GET", "/api/environments")["items"] if env["name"] == name)


def wait_for_sync(base, env_id, seconds=60):
    """Its inventory sync (started when it was added) has ended."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        shown = api(base, "GET", f"/api/environments/{env_id}")
        if (shown.get("sync") or {}).get("status") not in ("pending", "running"):
            return
        time.sleep(0.2)


def wait_for_task(base, task_id, seconds=TASK_SECONDS):
    deadline, task = time.time() + seconds, None
    while time.time() < deadline:
        task = api(base, "GET", f"/api/tasks/{task_id}")
        if task["status"] in FINISHED:
            return task
        time.sleep(0.25)
    raise AssertionError(f"task {task_id} did not end within {seconds} s: {task}")


def sync_inventory(base, env_id):
    """An inventory sync that started after the probe was made (the hub answers from the inventory)."""
    for _ in range(5):
        queued = api(base, "POST", f"/api/environments/{env_id}/sync")
        if queued.get("taskId"):
            task = wait_for_task(base, queued["taskId"])
            if queued["started"]:
                assert task["status"] == "succeeded", task
                return
        else:
            time.sleep(0.5)
    raise AssertionError("no inventory sync of the environment could be started")


def queue(base, path, seconds=TASK_SECONDS):
    """POSTs a git task for the environment and waits for it: it must succeed."""
    queued = api(base, "POST", path, {"environment": ENV})
    task = wait_for_task(base, queued["taskId"], seconds)
    assert task["status"] == "succeeded", task
    return task


def history(base, dashboard):
    return api(base, "GET", f"/api/git/history?environment={ENV}&dashboard={dashboard}")


def git_dashboards(base, drift, title):
    q = urllib.parse.urlencode({"environment": ENV, "drift": drift, "search": title})
    return {d["uuid"].lower() for d in api(base, "GET", f"/api/git/dashboards?{q}")["items"]}


def hub_row(page, ferry_url, title, uuid_, git):
    """The dashboards hub, searched for the probe in the environment and filtered by git state."""
    page.goto(f"{ferry_url}/dashboards")
    page.get_by_test_id("search").fill(title)
    page.select_option("[data-testid=environment-switcher]", ENV)  # submits itself, with the search
    expect(page).to_have_url(re.compile(rf"environment={ENV}"))
    page.select_option("[data-testid=git-filter]", git)
    expect(page).to_have_url(re.compile(rf"git={git}"))
    expect(page.get_by_test_id("result-count")).to_have_text("Dashboards found: 1")
    row = page.locator(f'[data-testid=dashboards] tr[data-uuid="{uuid_}" i]')
    expect(row).to_have_count(1)
    return row


def test_drift_history_snapshot_and_compare(page, ferry_url, dev_superset):
    suffix = uuid.uuid4().hex[:8]
    original, changed = f"Counted by the git browser test {suffix}", f"Edited in Superset for the git browser test {suffix}"
    sup = Superset(dev_superset)
    probe = {}
    env = None
    try:
        make_probe(sup, suffix, original, probe)
        title, dashboard = probe["title"], probe["uuid"]
        env = create_environment(ferry_url, dev_superset, ENV)
        env_id = env["id"]
        wait_for_sync(ferry_url, env_id)
        sync_inventory(ferry_url, env_id)

        # 1. A snapshot commits dev, the probe with it: one revision, in sync.
        queue(ferry_url, "/api/git/snapshot", FIRST_SNAPSHOT_SECONDS)
        first = history(ferry_url, dashboard)
        assert first["dashboard"]["drift"] == "in_sync", first["dashboard"]
        assert len(first["revisions"]) >= 1, first
        sha_a = first["revisions"][0]["sha"]

        # 2. Its chart changed in Superset; the drift check finds the dashboard changed.
        sup.call("PUT", f"/api/v1/chart/{probe['chart']}", {"description": changed})
        drift = queue(ferry_url, "/api/git/drift")
        assert ((drift.get("result") or {}).get("changed") or 0) >= 1, drift
        assert dashboard in git_dashboards(ferry_url, "changed", title)

        # The hub, filtered by git = changed: the probe with the "changed" badge.
        row = hub_row(page, ferry_url, title, dashboard, "changed")
        badge = row.get_by_test_id("git-drift-badge")
        expect(badge).to_have_attribute("data-drift", "changed")
        expect(badge).to_have_text("Changed")

        # Git history: the environment, with at least one changed dashboard; its dashboards
        # filtered to the changed ones; the probe's history by clicking through.
        page.goto(f"{ferry_url}/git")
        env_row = page.locator(f'[data-testid=git-environment-row][data-environment="{ENV}"]')
        expect(env_row).to_be_visible()
        expect(env_row.get_by_test_id("git-count-changed")).not_to_have_text("0")
        env_row.get_by_test_id("git-environment-link").click()
        expect(page).to_have_url(re.compile(rf"/git\?environment={env_id}$", re.I))
        page.get_by_test_id("git-search").fill(title)
        page.select_option("[data-testid=git-drift-filter]", "changed")  # submits itself, with the search
        expect(page).to_have_url(re.compile(r"drift=changed"))
        dash_row = page.locator(f'[data-testid=git-dashboard-row][data-uuid="{dashboard}" i]')
        expect(dash_row.get_by_test_id("git-drift-badge")).to_have_attribute("data-drift", "changed")
        dash_row.get_by_test_id("git-history-link").click()
        expect(page).to_have_url(re.compile(r"/git/history\?"))
        history_url = page.url
        expect(page.locator("h1")).to_contain_text(title)
        expect(page.locator("h1").get_by_test_id("git-drift-badge")).to_have_attribute("data-drift", "changed")
        expect(page.get_by_test_id("git-revision-row").first).to_be_visible()
        expect(page.locator(f'[data-testid=git-revision-row][data-sha="{sha_a}"]')).to_have_count(1)

        # 3. Snapshot now, from the Git history page: the task page follows it to its end.
        page.get_by_test_id("git-back").click()
        expect(page).to_have_url(re.compile(rf"/git\?environment={env_id}$", re.I))
        page.locator(f'[data-testid=git-environment-row][data-environment="{ENV}"]').get_by_test_id("git-action-snapshot").click()
        expect(page).to_have_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
        task_id = page.url.rsplit("/", 1)[1]
        status = page.locator("[data-testid=task-status] [data-field=status]")
        expect(status).to_have_attribute("data-status", re.compile(r"^(succeeded|partial|failed|cancelled|interrupted)$"),
                                         timeout=TASK_SECONDS * 1000)
        assert status.get_attribute("data-status") == "succeeded", page.inner_text("main")
        second = history(ferry_url, dashboard)
        sha_b = second["revisions"][0]["sha"]
        assert sha_b != sha_a and sha_a in [r["sha"] for r in second["revisions"]], second["revisions"]
        assert (second["revisions"][0].get("taskId") or "").lower() == task_id.lower(), second["revisions"][0]

        # The history again: two revisions, the newest first; compare the older with the newer.
        page.goto(history_url)
        revisions = page.get_by_test_id("git-revision-row")
        expect(revisions.first).to_have_attribute("data-sha", sha_b)
        assert revisions.count() >= 2
        expect(page.locator(f'[data-testid=git-revision-row][data-sha="{sha_a}"]')).to_have_count(1)
        expect(page.locator("h1").get_by_test_id("git-drift-badge")).to_have_attribute("data-drift", "in_sync")
        page.get_by_test_id(f"git-from-{sha_a[:12]}").check()
        page.get_by_test_id(f"git-to-{sha_b[:12]}").check()
        page.get_by_test_id("git-compare").click()
        expect(page).to_have_url(re.compile(r"/git/diff\?"))
        expect(page).to_have_url(re.compile(rf"from={sha_a}"))
        expect(page).to_have_url(re.compile(rf"to={sha_b}"))
        expect(page.get_by_test_id("git-diff-heading")).to_contain_text(sha_a[:12])
        expect(page.get_by_test_id("git-diff-heading")).to_contain_text(sha_b[:12])
        expect(page.get_by_test_id("git-diff-summary")).to_be_visible()

        # Side by side: the chart's file, its description field, the old value left, the new right.
        chart_file = page.locator("[data-testid=git-diff-file][data-kind=chart][data-status=changed]", has_text=probe["chart_name"])
        expect(chart_file).to_have_count(1)
        field = chart_file.locator("[data-testid=git-diff-field][data-field=description]")
        expect(field).to_have_count(1)
        cells = field.locator("td")
        expect(cells.nth(0)).to_have_text("description")
        expect(cells.nth(1)).to_contain_text(original)
        expect(cells.nth(2)).to_contain_text(changed)
        expect(cells.nth(2)).not_to_contain_text(original)
        unified = page.get_by_test_id("git-unified")
        expect(unified).to_have_count(1)
        expect(unified).to_contain_text(re.compile(r"-description: [\'\"]?" + re.escape(original)))
        expect(unified).to_contain_text(re.compile(r"\+description: [\'\"]?" + re.escape(changed)))

        # 4. The hub, filtered by git = in sync: the probe again, in sync; the same in Russian.
        assert dashboard in git_dashboards(ferry_url, "in_sync", title)
        row = hub_row(page, ferry_url, title, dashboard, "in_sync")
        badge = row.get_by_test_id("git-drift-badge")
        expect(badge).to_have_attribute("data-drift", "in_sync")
        expect(badge).to_have_text("In sync")
        page.locator("a[data-lang=ru]").click()
        expect(page.locator("h1")).to_have_text("Дашборды")
        expect(page).to_have_url(re.compile(r"git=in_sync"))
        badge = page.locator(f'[data-testid=dashboards] tr[data-uuid="{dashboard}" i]').get_by_test_id("git-drift-badge")
        expect(badge).to_have_text("Совпадает")
        page.locator("a[data-lang=en]").click()
        expect(page.locator("h1")).to_have_text("Dashboards")
    finally:
        # 5. Superset as it was: the probe goes. Other flows start from an empty store: the
        #    environment and its backups go too.
        remove_probe(sup, probe)
        if env is not None:
            wait_for_sync(ferry_url, env["id"])
            for b in api(ferry_url, "GET", f"/api/backups?environment={ENV}")["items"]:
                api(ferry_url, "DELETE", f"/api/backups/{b['id']}")
            api(ferry_url, "DELETE", f"/api/environments/{env['id']}")
