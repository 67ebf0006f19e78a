"""Browser tests: Debian's chromium driven by playwright (no downloaded browser).

scripts/test starts `ferry serve` on a fresh store and passes FERRY_URL, CHROMIUM_PATH and the
real Superset instances' URLs. Later capabilities add their own flows beside test_shell.py.
"""
import http.cookiejar
import json
import os
import re
import urllib.error
import urllib.parse
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


_credentials = {}


def credentials(base):
    """Signs in to the Ferry at `base` as the administrator scripts/test made through
    FERRY_ADMIN_PASSWORD, the way a browser does (sign-in form with its CSRF token), and makes an
    API token from that session. Returns (session cookie, token); cached per server."""
    if base in _credentials:
        return _credentials[base]
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/login").read()
    login_csrf = next(c.value for c in jar if c.name == "ferry_login_csrf")
    form = urllib.parse.urlencode({"username": os.environ.get("FERRY_ADMIN_USERNAME", "admin"),
                                   "password": os.environ["FERRY_ADMIN_PASSWORD"], "_csrf": login_csrf, "next": "/"}).encode()
    opener.open(urllib.request.Request(base + "/login", data=form, method="POST")).read()
    session = next(c.value for c in jar if c.name == "ferry_session")
    profile = opener.open(urllib.request.Request(base + "/profile", headers={"Accept": "text/html"})).read().decode()
    csrf = re.search(r'name="_csrf" value="([^"]+)"', profile).group(1)
    req = urllib.request.Request(base + "/api/tokens", method="POST", data=json.dumps({"name": "browser-tests"}).encode(),
                                 headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
    token = json.loads(opener.open(req).read())["token"]
    _credentials[base] = (session, token)
    return session, token


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
