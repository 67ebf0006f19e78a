"""Signing in through the page: a wrong password is refused with a message, the right one lands
on the page asked for, and the profile makes an API token that works once and is shown once."""
import json
import re
import urllib.error
import urllib.request

from playwright.sync_api import expect

from conftest import api, credentials


def user_page(browser, ferry_url, username, role):
    """A browser context of its own, not signed in, for a user made once (password: NAME-long-password)."""
    if not any(u["username"] == username for u in api(ferry_url, "GET", "/api/users")["items"]):
        api(ferry_url, "POST", "/api/users", {"username": username, "password": f"{username}-long-password", "roles": [role]})
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def test_sign_in_page_and_a_token_from_the_profile(browser, ferry_url):
    # Its own user: signing out ends every session of the user, and the other tests share the admin's.
    context, page = user_page(browser, ferry_url, "olga", "operator")
    page.goto(f"{ferry_url}/environments")
    expect(page).to_have_url(f"{ferry_url}/login?next=/environments")
    page.fill("#f-username", "olga")
    page.fill("#f-password", "not the password")
    page.get_by_test_id("login-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    page.fill("#f-password", "olga-long-password")
    page.get_by_test_id("login-form").locator("button[type=submit]").click()
    expect(page).to_have_url(f"{ferry_url}/environments")
    page.get_by_test_id("profile-link").click()
    page.fill("#f-name", "from-the-browser")
    page.get_by_test_id("token-form").locator("button[type=submit]").click()
    token = page.get_by_test_id("new-token").inner_text()
    assert token.startswith("fry_")
    req = urllib.request.Request(f"{ferry_url}/api/me", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as r:
        assert json.loads(r.read())["via"] == "token"
    page.reload()
    expect(page.get_by_test_id("tokens")).to_contain_text("from-the-browser")
    assert token not in page.content()
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(f"{ferry_url}/login")
    try:
        urllib.request.urlopen(urllib.request.Request(f"{ferry_url}/api/me"))
        raise AssertionError("an anonymous call must be refused")
    except urllib.error.HTTPError as e:
        assert e.code == 401
    context.close()


def test_only_my_dashboards_follows_the_profiles_superset_username(browser, ferry_url, dev_superset):
    """The profile's Superset username drives "Only my dashboards" on the Dashboards page: every
    seeded dashboard is owned by Superset's `admin`, so that name finds them all and another
    finds none. Its own environment, removed at the end (other flows start from an empty store)."""
    import time
    env = api(ferry_url, "POST", "/api/environments", {"name": "owned", "url": dev_superset, "authProvider": "db",
                                                        "username": "admin", "password": "admin", "stage": "dev"})
    try:
        for _ in range(300):
            shown = api(ferry_url, "GET", f"/api/environments/{env['id']}")
            if (shown.get("sync") or {}).get("status") in ("succeeded", "failed"):
                break
            time.sleep(0.1)
        assert shown["sync"]["status"] == "succeeded", shown
        all_count = api(ferry_url, "GET", "/api/dashboards?environment=owned&per_page=1")["total"]
        assert all_count > 100
        context, page = user_page(browser, ferry_url, "sue", "analyst")
        page.goto(f"{ferry_url}/login?next=/dashboards")
        page.fill("#f-username", "sue")
        page.fill("#f-password", "sue-long-password")
        page.get_by_test_id("login-form").locator("button[type=submit]").click()
        expect(page).to_have_url(f"{ferry_url}/dashboards")
        expect(page.get_by_test_id("mine-unavailable")).to_be_visible()

        for username, expected in (("admin", all_count), ("someone-else", 0)):
            page.goto(f"{ferry_url}/profile")
            page.fill("#f-supersetUsername", username)
            page.get_by_test_id("profile-form").locator("button[type=submit]").click()
            page.goto(f"{ferry_url}/dashboards?environment=owned")
            mine = page.get_by_test_id("mine")
            expect(mine).not_to_be_checked()
            mine.check()  # ferry.js submits the form
            expect(page).to_have_url(re.compile(r"mine=true"))
            expect(page.get_by_test_id("mine")).to_be_checked()
            expect(page.get_by_test_id("result-count")).to_have_text(re.compile(rf"(^|\D){expected}(\D|$)"))
        context.close()
    finally:
        req = urllib.request.Request(f"{ferry_url}/api/environments/{env['id']}", method="DELETE",
                                     headers={"Authorization": "Bearer " + credentials(ferry_url)[1]})
        urllib.request.urlopen(req).read()


def test_a_role_ticked_in_the_matrix_is_the_role_the_text_form_makes(page, ferry_url):
    page.goto(f"{ferry_url}/admin/roles")
    page.fill("#f-name", "matrix-ops")
    page.get_by_test_id("grant-environments:read").check()
    page.get_by_test_id("grant-promote:plan").check()
    page.get_by_test_id("stage-promote:plan-stage").check()
    page.get_by_test_id("stage-promote:plan-prod").check()
    page.get_by_test_id("grant-audit:read").check()
    # Keyboard: the save button is reachable and shows where the focus is.
    page.get_by_test_id("save-matrix").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("flash")).to_be_visible()
    api(ferry_url, "POST", "/api/roles", {"name": "text-ops", "grants": ["environments:read", "promote:plan@stage:stage,stage:prod", "audit:read"]})
    roles = {r["name"]: sorted(r["grants"]) for r in api(ferry_url, "GET", "/api/roles")["items"]}
    assert roles["matrix-ops"] == roles["text-ops"], roles
    # Editing it again shows it ticked; unticking a stage saves the narrower grant.
    page.locator("[data-role=matrix-ops] a.button").click()
    expect(page.get_by_test_id("stage-promote:plan-prod")).to_be_checked()
    page.get_by_test_id("stage-promote:plan-prod").uncheck()
    page.get_by_test_id("save-matrix").click()
    roles = {r["name"]: r["grants"] for r in api(ferry_url, "GET", "/api/roles")["items"]}
    assert "promote:plan@stage:stage" in roles["matrix-ops"], roles["matrix-ops"]
