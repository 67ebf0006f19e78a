"""Signing in through the page: a wrong password is refused with a message, the right one lands
on the page asked for, and the profile makes an API token that works once and is shown once."""
import json
import urllib.error
import urllib.request

from playwright.sync_api import expect

from conftest import api


def test_sign_in_page_and_a_token_from_the_profile(browser, ferry_url):
    # Its own user: signing out ends every session of the user, and the other tests share the admin's.
    users = api(ferry_url, "GET", "/api/users")["items"]
    if not any(u["username"] == "olga" for u in users):
        api(ferry_url, "POST", "/api/users", {"username": "olga", "password": "olga-long-password", "roles": ["operator"]})
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15000)
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
