"""Browser tests: Debian's chromium driven by playwright (no downloaded browser).

scripts/test starts `ferry serve` on a fresh store and passes FERRY_URL, CHROMIUM_PATH and the
real Superset instances' URLs. Later capabilities add their own flows beside test_shell.py.
"""
import json
import os
import sys
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import ferry_auth  # noqa: E402


@pytest.fixture(scope="session")
def ferry_url():
    return os.environ["FERRY_URL"].rstrip("/")


@pytest.fixture(scope="session")
def dev_superset():
    return os.environ["FERRY_TEST_SUPERSET_DEV_URL"].rstrip("/")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


_credentials = {}


def credentials(base):
    """(session cookie, API token) of the administrator scripts/test made; cached per server."""
    if base not in _credentials:
        _credentials[base] = ferry_auth.sign_in(base, "browser-tests")
    return _credentials[base]


@pytest.fixture(scope="session", autouse=True)
def signed_in(ferry_url):
    """The CLI under test reads FERRY_TOKEN, as a CI job would."""
    os.environ["FERRY_TOKEN"] = credentials(ferry_url)[1]


@pytest.fixture()
def page(browser, ferry_url):
    context = browser.new_context(locale="en-US")
    context.add_cookies([{"name": "ferry_session", "value": credentials(ferry_url)[0], "url": ferry_url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    problems = []
    # A CSP violation or a script error shows up in the console: fail the test on either.
    # A 422 is the expected answer to an invalid form, so that one resource error is allowed.
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and "status of 422" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    context.close()
    assert not problems, f"browser console errors: {problems}"


SCREENSHOTS = os.environ.get("FERRY_SCREENSHOTS_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "var", "test", "screenshots")


def screenshot(page, name):
    """Saves the whole page as it is now as <name>.png: in var/test/screenshots, or where
    FERRY_SCREENSHOTS_DIR says (the README's pictures: FERRY_SCREENSHOTS_DIR=$PWD/docs/screenshots
    scripts/test --browser -k hub)."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SCREENSHOTS, name + ".png"), full_page=True)


def api(ferry_url, method, path, body=None):
    headers = {"Content-Type": "application/json"}
    if not path.startswith("/readyz"):
        headers["Authorization"] = "Bearer " + credentials(ferry_url)[1]
    req = urllib.request.Request(ferry_url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


@pytest.fixture(scope="session")
def promo_envs(ferry_url, dev_superset):
    """Environments "cli-dev" and "cli-prod" on the real Supersets (kept if an earlier run made them)."""
    prod = os.environ["FERRY_TEST_SUPERSET_PROD_URL"].rstrip("/")
    for name, url, stage in [("cli-dev", dev_superset, "dev"), ("cli-prod", prod, "prod")]:
        try:
            api(ferry_url, "POST", "/api/environments", {"name": name, "url": url, "authProvider": "db", "username": "admin",
                                                         "password": "admin", "verifyTLS": True, "stage": stage})
        except urllib.error.HTTPError as e:
            assert e.code == 409, e.read()
    return "cli-dev", "cli-prod"


def pytest_collection_modifyitems(items):
    """Promotion flows add environments; run them after the flows that start from an empty store."""
    items.sort(key=lambda item: "promote" in item.nodeid)


def pick_dashboards(page, source, target, *titles):
    """The promotion wizard as a person uses it: the target (which lists the two environments'
    schemas), then the source (which lists its dashboards), then each dashboard searched for by
    title and ticked."""
    with page.expect_navigation():
        page.select_option("#f-target", target)
    with page.expect_navigation():
        page.select_option("#f-source", source)
    for title in titles:
        page.fill("[data-testid=dashboard-search]", title)
        with page.expect_navigation():
            page.click("[data-testid=search-dashboards]")
        row = page.locator("[data-testid=results] tbody tr", has=page.locator("label", has_text=title)).first
        for _ in range(60):  # a source added a moment ago may still be syncing its inventory
            if row.count() > 0:
                break
            page.wait_for_timeout(1000)
            with page.expect_navigation():
                page.click("[data-testid=search-dashboards]")
        row.locator("input[type=checkbox]").check()


CONTRAST_JS = open(os.path.join(os.path.dirname(__file__), "contrast.js")).read()


def contrast_failures(page):
    """Text on the page below WCAG AA contrast (tests/browser/contrast.js), as dicts."""
    return page.evaluate(CONTRAST_JS)
