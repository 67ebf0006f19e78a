"""The console's main flow, as a person clicks it: the dashboards hub narrowed to one environment,
"select all shown", the bulk Promote, the wizard (one more dashboard searched and ticked), the plan,
the apply, and the promotion in the history."""
import re

from playwright.sync_api import expect

from conftest import api, contrast_failures, screenshot
from test_promote import map_same_names


def test_hub_select_bulk_promote_plan_apply(page, ferry_url, promo_envs):
    src, dst = promo_envs
    map_same_names(ferry_url, src, dst)
    page.on("dialog", lambda d: d.accept())
    # The hub narrowed to the source and to the dashboards about orders.
    for _ in range(60):  # the source's inventory may still be syncing
        page.goto(f"{ferry_url}/dashboards?environment={src}&search=order")
        if page.get_by_test_id("select-row").count() >= 2:
            break
        page.wait_for_timeout(1000)
    rows = page.get_by_test_id("dashboards").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("bulk-bar")).to_be_visible()
    page.get_by_test_id("select-all-shown").check()
    expect(page.locator("[data-bulk-count=dashboards]")).to_have_text("2")
    screenshot(page, "hub")
    page.get_by_test_id("bulk-promote").click()

    # The wizard: the source and both dashboards picked; one more searched for and ticked.
    picked = page.get_by_test_id("picked")
    expect(picked.locator("tbody tr")).to_have_count(2)
    expect(picked).to_contain_text("Order KPIs")
    expect(picked).to_contain_text("Regional orders")
    with page.expect_navigation():  # the target lists the two environments' schemas, picks kept
        page.select_option("#f-target", dst)
    expect(page.get_by_test_id("picked").locator("tbody tr")).to_have_count(2)
    page.fill("[data-testid=dashboard-search]", "filler 001")
    page.get_by_test_id("search-dashboards").click()
    expect(page.get_by_test_id("picked").locator("tbody tr")).to_have_count(2)
    page.get_by_test_id("results").locator("tbody tr", has=page.locator("label", has_text="filler 001")).first \
        .locator("input[type=checkbox]").check()
    screenshot(page, "wizard")
    page.get_by_test_id("make-plan").click()

    # The plan: all three, then the apply and its task.
    page.wait_for_url(re.compile(r"/promote/plans/[0-9a-f-]{36}$"))
    items = page.get_by_test_id("plan-items")
    expect(items).to_be_visible(timeout=90000)
    for title in ["Order KPIs", "Regional orders", "filler 001"]:
        expect(items).to_contain_text(title)
    # The mapping: the target's connections to pick from, the one used with its match.
    mappings = page.get_by_test_id("plan-mappings")
    expect(page.get_by_test_id("remap-form")).to_be_visible()
    expect(mappings.locator("select option[selected]").first).to_contain_text("%")
    expect(mappings.locator("[data-confidence]").first).to_be_visible()
    screenshot(page, "plan")
    shared = page.locator("#f-acceptShared")
    if shared.count():
        shared.check()
    apply = page.get_by_test_id("apply-plan")
    assert apply.count() == 1, page.inner_text("main")
    apply.click()
    page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
    expect(page.locator("[data-field=status][data-status=succeeded]")).to_be_visible(timeout=120000)
    # The task page reads as tables: the plugin by name, the result's counts.
    expect(page.locator("h1")).to_contain_text("Apply a promotion")
    expect(page.get_by_test_id("task-result")).to_be_visible()

    page.goto(f"{ferry_url}/promotions")
    row = page.locator("[data-testid=promotions] tbody tr").first
    expect(row).to_contain_text(f"{src} → {dst}")
    for title in ["Order KPIs", "Regional orders", "filler 001"]:
        expect(row).to_contain_text(title)
    promotions = api(ferry_url, "GET", "/api/promotions")["items"]
    assert promotions and promotions[0]["status"] == "succeeded", promotions[0]

    # The dashboard's own page: in both environments now, with the promotion, linked from the hub.
    page.goto(f"{ferry_url}/dashboards?environment={src}&search=Order+KPIs")
    page.get_by_test_id("dashboards").locator("[data-testid=dashboard-link]", has_text="Order KPIs").first.click()
    page.wait_for_url(re.compile(r"/dashboards/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("dashboard-title")).to_have_text("Order KPIs")
    presences = page.get_by_test_id("dashboard-presences")
    for _ in range(30):  # the apply queued a sync of the target's inventory; it may still run
        if presences.locator(f"tr[data-environment={dst}]").count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(presences.locator(f"tr[data-environment={src}]")).to_have_count(1)
    expect(presences.locator(f"tr[data-environment={dst}]")).to_have_count(1)
    expect(page.get_by_test_id("dashboard-promotions")).to_contain_text(f"{src} → {dst}")
    expect(presences.locator(f"tr[data-environment={dst}] [data-testid=action-check]")).to_be_visible()
    screenshot(page, "dashboard")

    # The layout holds at 1024 px: nothing wider than the window on the console's busiest pages.
    dashboard_url = page.url
    page.set_viewport_size({"width": 1024, "height": 768})
    for path in [dashboard_url, f"{ferry_url}/dashboards?environment={src}", f"{ferry_url}/admin/roles", f"{ferry_url}/promote?source={src}"]:
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow} px wider than 1024"

    # Contrast passes WCAG AA on the same pages, in both languages.
    page.set_viewport_size({"width": 1280, "height": 900})
    for path in [dashboard_url, f"{ferry_url}/dashboards?environment={src}", f"{ferry_url}/charts", f"{ferry_url}/admin/roles",
                 f"{ferry_url}/promote?source={src}", f"{ferry_url}/tasks", f"{ferry_url}/health", f"{ferry_url}/promotions",
                 f"{ferry_url}/reports", f"{ferry_url}/backups", f"{ferry_url}/dashboards?lang=ru"]:
        page.goto(path)
        failures = contrast_failures(page)
        assert not failures, f"{path}: {failures[:8]}"
