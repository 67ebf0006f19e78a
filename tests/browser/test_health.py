"""The health page as an operator uses it: a dashboard of the real dev Superset checked with
rendering, its row and traffic lights on /health, a second check started from the page (picked
from the list, nothing typed) that links to its live task, and the check's page with the
screenshot chromium took."""
import re
import time
import urllib.error

from playwright.sync_api import expect

from conftest import api

ENV = "health-dev"
FINISHED = ("succeeded", "partial", "failed", "cancelled", "interrupted")


def wait_task(base, task_id, seconds=240):
    deadline = time.time() + seconds
    while time.time() < deadline:
        t = api(base, "GET", f"/api/tasks/{task_id}")
        if t["status"] in FINISHED:
            return t
        time.sleep(0.5)
    raise AssertionError(f"task {task_id} did not finish")


def test_check_a_dashboard_from_the_health_page(page, ferry_url, dev_superset):
    try:
        env = api(ferry_url, "POST", "/api/environments", {"name": ENV, "url": dev_superset, "authProvider": "db", "username": "admin",
                                                          "password": "admin", "verifyTLS": True, "stage": "dev"})
    except urllib.error.HTTPError as e:
        assert e.code == 409, e.read()
        env = next(x for x in api(ferry_url, "GET", "/api/environments")["items"] if x["name"] == ENV)
    try:
        # The sales overview's Superset id, as the inventory lists it.
        api(ferry_url, "POST", f"/api/environments/{env['id']}/sync")
        overview = None
        for _ in range(120):
            items = api(ferry_url, "GET", f"/api/dashboards?environment={ENV}&search=Sales%20overview")["items"]
            overview = next((i for i in items if i["name"] == "Sales overview"), None)
            if overview:
                break
            time.sleep(0.5)
        assert overview, "the inventory lists the sales overview"
        first = api(ferry_url, "POST", "/api/health/checks", {"environment": ENV, "dashboards": [overview["id"]]})
        assert wait_task(ferry_url, first["taskId"])["status"] == "succeeded"

        page.goto(f"{ferry_url}/health?environment={env['id']}")
        row = page.locator(f"[data-testid=health-row][data-dashboard='{overview['id']}']")
        expect(row).to_be_visible()
        expect(row.locator("[data-testid=health-run]")).to_have_count(1)
        status = row.get_attribute("data-status")
        assert status in ("pass", "warn"), page.inner_text("main")

        # A second check from the page: picked from the list, then followed on its live task.
        page.click("[data-testid=health-pick] summary")
        page.check(f"[data-testid=health-pick-{overview['id']}]")
        page.click("[data-testid=health-run-submit]")
        expect(page).to_have_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
        done = page.locator("[data-testid=task-status] [data-field=status]")
        expect(done).to_have_attribute("data-status", re.compile(r"^(succeeded|partial|failed|cancelled|interrupted)$"), timeout=240000)
        assert done.get_attribute("data-status") == "succeeded", page.inner_text("main")

        page.goto(f"{ferry_url}/health?environment={env['id']}")
        row = page.locator(f"[data-testid=health-row][data-dashboard='{overview['id']}']")
        expect(row.locator("[data-testid=health-run]")).to_have_count(2)
        row.locator("[data-testid=health-check-link]").click()
        expect(page.locator("h1")).to_contain_text("Sales overview")
        expect(page.locator("[data-testid=health-charts] tbody tr")).not_to_have_count(0)
        shot = page.locator("[data-testid=health-screenshot] img").first
        shot.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=shot.element_handle(), timeout=15000)
        assert shot.evaluate("img => img.naturalWidth") == 1920
        expect(page.locator("[data-testid=health-history-row]")).to_have_count(2)
    finally:
        api(ferry_url, "DELETE", f"/api/environments/{env['id']}")
