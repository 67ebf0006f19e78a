"""Browser tests: Debian's chromium driven by playwright (no downloaded browser).

scripts/test starts `ferry serve` on a fresh store and passes FERRY_URL, CHROMIUM_PATH and the
real Superset instances' URLs. Later capabilities add their own flows beside test_shell.py.
"""
import json
import os
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import sync_playwright


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


@pytest.fixture()
def page(browser):
    context = browser.new_context(locale="en-US")
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


def api(ferry_url, method, path, body=None):
    req = urllib.request.Request(ferry_url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
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
