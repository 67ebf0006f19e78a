"""The reports center as an operator uses it: a sync of the real dev Superset and a canary task
end, /reports lists their reports, the type filter (picked from the list) narrows to the sync,
its page shows the summary and the sync's counts, and links to the task, whose page links back."""
import re
import time
import urllib.error

from playwright.sync_api import expect

from conftest import api

ENV = "reports-dev"
FINISHED = ("succeeded", "partial", "failed", "cancelled", "interrupted")


def wait_task(base, task_id, seconds=240):
    deadline = time.time() + seconds
    while time.time() < deadline:
        t = api(base, "GET", f"/api/tasks/{task_id}")
        if t["status"] in FINISHED:
            return t
        time.sleep(0.5)
    raise AssertionError(f"task {task_id} did not finish")


def wait_report(base, task_id, seconds=30):
    """The engine writes a report right after the task's final status."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            return api(base, "GET", f"/api/reports/{task_id}")
        except urllib.error.HTTPError as e:
            assert e.code == 404, e.read()
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} left no report")


def test_reports_of_a_sync_and_a_canary(page, ferry_url, dev_superset):
    try:
        env = api(ferry_url, "POST", "/api/environments", {"name": ENV, "url": dev_superset, "authProvider": "db", "username": "admin",
                                                          "password": "admin", "verifyTLS": True, "stage": "dev"})
    except urllib.error.HTTPError as e:
        assert e.code == 409, e.read()
        env = next(x for x in api(ferry_url, "GET", "/api/environments")["items"] if x["name"] == ENV)
    try:
        # The sync queued when the environment was added (or a new one), to its end.
        sync = api(ferry_url, "POST", f"/api/environments/{env['id']}/sync")
        assert wait_task(ferry_url, sync["taskId"])["status"] == "succeeded"
        # The first sync may still have been running: wait for the one this test follows, then any other.
        for t in api(ferry_url, "GET", f"/api/tasks?plugin=inventory.sync&environment={env['id']}")["items"]:
            wait_task(ferry_url, t["id"])
        report = wait_report(ferry_url, sync["taskId"])
        assert report["kind"] == "sync" and report["status"] == "succeeded", report
        assert report["environments"] == [ENV]
        canary = api(ferry_url, "POST", "/api/tasks", {"plugin": "diagnostics.sleep", "params": {"seconds": 0}})
        assert wait_task(ferry_url, canary["id"])["status"] == "succeeded"
        assert wait_report(ferry_url, canary["id"])["kind"] == "other"

        # Both are listed, newest first.
        page.goto(f"{ferry_url}/reports")
        expect(page.locator("h1")).to_have_text(re.compile("Reports"))
        expect(page.locator(f"[data-testid=report-row][data-report='{canary['id'].lower()}']")).to_be_visible()
        expect(page.locator(f"[data-testid=report-row][data-report='{sync['taskId'].lower()}']")).to_be_visible()

        # The type and the environment, picked from the lists: only syncs of reports-dev.
        page.select_option("[data-testid=filter-kind]", "sync")
        page.select_option("[data-testid=filter-environment]", label=ENV)
        page.click("[data-testid=apply-filters]")
        expect(page).to_have_url(re.compile(r"kind=sync"))
        rows = page.locator("[data-testid=report-row]")
        expect(rows.first).to_be_visible()
        for kind in rows.evaluate_all("rs => rs.map(r => r.dataset.kind)"):
            assert kind == "sync"
        expect(page.locator(f"[data-testid=report-row][data-report='{canary['id'].lower()}']")).to_have_count(0)
        row = page.locator(f"[data-testid=report-row][data-report='{sync['taskId'].lower()}']")
        expect(row.locator("[data-testid=report-summary]")).to_contain_text("dashboards")

        # Its page: the summary, the sync's counts, and the task.
        row.locator("[data-testid=report-link]").click()
        expect(page).to_have_url(re.compile(rf"/reports/{sync['taskId'].lower()}$"))
        expect(page.locator("[data-testid=report-summary]")).to_have_text(report["summary"])
        expect(page.locator("[data-testid=report-sync-counts] tbody tr")).to_have_count(1)
        expect(page.locator("[data-testid=report-cause]")).to_have_count(0)
        page.locator("[data-testid=report-task]").click()
        expect(page).to_have_url(re.compile(rf"/tasks/{sync['taskId'].lower()}$"))
        expect(page.get_by_test_id("task-report")).to_have_attribute("href", f"/reports/{sync['taskId'].lower()}")
    finally:
        api(ferry_url, "DELETE", f"/api/environments/{env['id']}")
