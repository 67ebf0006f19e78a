"""The promotion wizard in a real browser: pick, plan, review, apply, follow the log, see history."""
from conftest import api, pick_dashboards


def map_same_names(ferry_url, src, dst):
    for row in api(ferry_url, "GET", f"/api/mappings/suggestions?source={src}&target={dst}")["items"]:
        best = row["suggestions"][0]["target"]
        api(ferry_url, "PUT", "/api/mappings", {"source": src, "target": dst, "sourceDatabaseUuid": row["source"]["uuid"],
                                                "sourceDatabaseName": row["source"]["name"], "targetDatabaseUuid": best["uuid"],
                                                "targetDatabaseName": best["name"]})


def test_wizard_plans_applies_and_records_history(page, ferry_url, promo_envs):
    src, dst = promo_envs
    map_same_names(ferry_url, src, dst)
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{ferry_url}/promote")
    pick_dashboards(page, src, dst, "Order KPIs")
    page.click("[data-testid=make-plan]")
    page.wait_for_url("**/promote/plans/*")
    # The page follows the plan task and reloads when it ends.
    page.wait_for_selector("[data-testid=plan-items]", timeout=60000)
    assert "Order KPIs" in page.inner_text("[data-testid=plan-items]")
    assert page.locator("[data-testid=plan-mappings] tbody tr").count() == 2
    page.click("[data-testid=apply-plan]")
    page.wait_for_url("**/tasks/*")
    page.wait_for_selector("[data-field=status][data-status=succeeded]", timeout=90000)
    page.goto(f"{ferry_url}/promotions")
    row = page.locator("[data-testid=promotions] tbody tr").first
    assert f"{src} → {dst}" in row.inner_text()
    assert "✓" in row.inner_text() and "Order KPIs" in row.inner_text()


def test_an_invalid_plan_shows_the_reasons(page, ferry_url, promo_envs):
    src, _ = promo_envs
    page.goto(f"{ferry_url}/promote")
    pick_dashboards(page, src, src)
    page.click("[data-testid=make-plan]")
    assert page.locator("[data-testid=form-error]").is_visible()
    assert "another environment than the source" in page.content()
