"""A plan that meets unmapped databases waits; the operator picks the connections in the activity drawer."""
import os
import re

from playwright.sync_api import expect

from conftest import api, pick_dashboards


def test_unmapped_databases_are_chosen_in_the_activity_drawer(page, ferry_url, dev_superset):
    prod = os.environ["FERRY_TEST_SUPERSET_PROD_URL"].rstrip("/")
    for name, url in [("map-dev", dev_superset), ("map-prod", prod)]:
        try:
            api(ferry_url, "POST", "/api/environments", {"name": name, "url": url, "authProvider": "db", "username": "admin",
                                                         "password": "admin", "verifyTLS": True, "stage": "dev"})
        except Exception:
            pass
    for m in api(ferry_url, "GET", "/api/mappings?source=map-dev&target=map-prod")["items"]:
        api(ferry_url, "DELETE", f"/api/mappings/{m['id']}")
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{ferry_url}/promote")
    pick_dashboards(page, "map-dev", "map-prod", "Order KPIs")
    page.click("[data-testid=make-plan]")
    page.wait_for_selector("[data-testid=needs-input]", timeout=60000)
    # The activity drawer flags the plan waiting for its answer and asks the question in place.
    page.reload()
    answered = []
    for _ in range(2):  # Sales and Warehouse, in the bundle's order, each answered in the drawer
        expect(page.get_by_test_id("activity-count")).to_have_class(re.compile(r"awaiting"), timeout=60000)
        page.get_by_test_id("activity-toggle").click()
        drawer = page.get_by_test_id("activity-drawer")
        waiting = drawer.locator("li.awaiting", has_text="Plan a promotion")
        expect(waiting).to_have_count(1, timeout=60000)
        form = waiting.get_by_test_id("activity-input-form")
        prompt = form.locator("strong").inner_text()
        assert prompt not in answered, prompt
        source = "Sales" if "'Sales'" in prompt else "Warehouse"
        select = form.locator("select[name='input.targetDatabase']")
        label = select.locator("option").first.inner_text()
        assert label.startswith(source + " (") and "100%" in label, (prompt, label)  # the same-named connection ranks first
        # Every control of the drawer's form has its label (ids apart from the task page's).
        expect(form.get_by_label("Remember this mapping")).to_be_checked()
        answered.append(prompt)
        form.get_by_test_id("activity-send-input").click()
        page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
        # The answer was taken: the task runs on, or asks the next question (which names the
        # other database as itself, and this one only among its suggestions).
        page.wait_for_function(
            "() => { const s = document.querySelector('[data-field=status]');"
            " return s && s.dataset.status !== 'awaiting_input' || document.querySelector('[data-testid=input-form] strong') &&"
            " !document.querySelector('[data-testid=input-form] strong').textContent.includes(" + repr("'" + source + "'") + "); }", timeout=60000)
    page.wait_for_selector("[data-field=status][data-status=succeeded]", timeout=60000)
    stored = api(ferry_url, "GET", "/api/mappings?source=map-dev&target=map-prod")["items"]
    assert sorted(m["sourceDatabaseName"] for m in stored) == ["Sales", "Warehouse"]
