"""What a person with few grants sees: every action they may not take is absent, not merely
refused after a click. The role reads everything and may check dev's dashboards, nothing more."""
import re

from playwright.sync_api import expect

from conftest import api, ferry_auth


def test_a_viewer_sees_no_action_they_may_not_take(browser, ferry_url, promo_envs):
    src, dst = promo_envs
    try:
        api(ferry_url, "POST", "/api/roles", {"name": "dev-checker", "grants": ["inventory:read", "tasks:read", f"health:run@name:{src}"]})
        api(ferry_url, "POST", "/api/users", {"username": "vera", "password": "vera-reads-dashboards-1", "roles": ["dev-checker"]})
    except Exception as e:  # a rerun on the same store keeps the role and the user
        assert "409" in str(e), e
    session, _ = ferry_auth.sign_in(ferry_url, "viewer", username="vera", password="vera-reads-dashboards-1")
    context = browser.new_context(locale="en-US")
    context.add_cookies([{"name": "ferry_session", "value": session, "url": ferry_url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        for _ in range(60):  # both inventories may still be syncing
            page.goto(f"{ferry_url}/dashboards?search=Order+KPIs")
            if page.locator(f"[data-testid=dashboards] tbody tr").count() >= 1 and \
                    page.locator("[data-testid=dashboards] tbody td", has_text=dst).count() >= 1:
                break
            page.wait_for_timeout(1000)
        hub = page.get_by_test_id("dashboards")
        expect(hub.get_by_test_id("row-open").first).to_be_visible()
        expect(hub.get_by_test_id("row-promote")).to_have_count(0)
        # The navigation offers no administration.
        for path in ["/admin/users", "/admin/roles", "/admin/audit", "/environments/new"]:
            expect(page.locator(f"a[href='{path}']")).to_have_count(0)

        # dev: the bulk bar, with Check and without Promote.
        page.goto(f"{ferry_url}/dashboards?environment={src}&search=Order")
        expect(page.get_by_test_id("bulk-check")).to_be_visible()
        expect(page.get_by_test_id("bulk-promote")).to_have_count(0)
        # prod: nothing to do with several at once.
        page.goto(f"{ferry_url}/dashboards?environment={dst}&search=Order")
        expect(page.get_by_test_id("bulk-bar")).to_have_count(0)

        # The dashboard's page: check now in dev alone; open in Superset everywhere.
        page.goto(f"{ferry_url}/dashboards?environment={src}&search=Order+KPIs")
        page.get_by_test_id("dashboards").locator("[data-testid=dashboard-link]", has_text="Order KPIs").first.click()
        page.wait_for_url(re.compile(r"/dashboards/[0-9a-f-]{36}$"))
        presences = page.get_by_test_id("dashboard-presences")
        expect(presences.locator(f"tr[data-environment={src}] [data-testid=action-check]")).to_have_count(1)
        expect(presences.locator(f"tr[data-environment={src}] [data-testid=action-open]")).to_have_count(1)
        for action in ["action-promote", "action-backup", "action-restore", "action-deploy"]:
            expect(page.get_by_test_id(action)).to_have_count(0)
        if presences.locator(f"tr[data-environment={dst}]").count():
            expect(presences.locator(f"tr[data-environment={dst}] [data-testid=action-check]")).to_have_count(0)

        # Typing the address of what isn't offered is refused with a reason.
        response = page.goto(f"{ferry_url}/promote")
        assert response.status == 403, response.status
        expect(page.locator("main")).to_contain_text("promote:plan")
    finally:
        context.close()
