"""A plan that meets unmapped databases waits; the operator picks the connections on the task page."""
import os
import re

from playwright.sync_api import expect

from conftest import api, pick_dashboards


def test_unmapped_databases_are_chosen_on_the_task_page(page, ferry_url, dev_superset):
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
    # The activity drawer flags the plan waiting for its answer and leads to the question.
    page.reload()
    expect(page.get_by_test_id("activity-count")).to_have_class(re.compile(r"awaiting"))
    page.get_by_test_id("activity-toggle").click()
    waiting = page.get_by_test_id("activity-drawer").locator("li.awaiting", has_text="Plan a promotion")
    expect(waiting).to_have_count(1)
    waiting.get_by_test_id("activity-answer").click()
    page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]{36}#input$"))
    answered = []
    for _ in range(2):  # Sales and Warehouse, in the bundle's order
        page.wait_for_function(
            "seen => { const f = document.querySelector('[data-testid=input-form] strong');"
            " return f && !seen.includes(f.textContent); }", arg=answered, timeout=60000)
        prompt = page.inner_text("[data-testid=input-form] strong")
        source = "Sales" if "'Sales'" in prompt else "Warehouse"
        select = page.locator("select[name='input.targetDatabase']")
        label = select.locator("option").first.inner_text()
        assert label.startswith(source + " (") and "100%" in label, (prompt, label)  # the same-named connection ranks first
        assert page.locator("input[name='input.remember']").is_checked()
        answered.append(prompt)
        page.click("[data-testid=send-input]")
        page.wait_for_load_state()
    page.wait_for_selector("[data-field=status][data-status=succeeded]", timeout=60000)
    stored = api(ferry_url, "GET", "/api/mappings?source=map-dev&target=map-prod")["items"]
    assert sorted(m["sourceDatabaseName"] for m in stored) == ["Sales", "Warehouse"]
