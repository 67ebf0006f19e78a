"""Signs in to a Ferry as its first administrator (made through FERRY_ADMIN_PASSWORD; username
FERRY_ADMIN_USERNAME, default admin) the way a browser does, and makes an API token from that
session. Used by the browser tests and the benchmarks; run as a script it prints a token:

    python tests/harness/ferry_auth.py http://127.0.0.1:8080
"""
import http.cookiejar
import json
import os
import re
import sys
import urllib.parse
import urllib.request


def sign_in(base, token_name="tests", username=None, password=None):
    """Returns (session cookie, API token) for the Ferry at `base` (as the first administrator
    unless `username` and `password` are given)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/login").read()
    login_csrf = next(c.value for c in jar if c.name == "ferry_login_csrf")
    form = urllib.parse.urlencode({"username": username or os.environ.get("FERRY_ADMIN_USERNAME", "admin"),
                                   "password": password or os.environ["FERRY_ADMIN_PASSWORD"], "_csrf": login_csrf, "next": "/"}).encode()
    opener.open(urllib.request.Request(base + "/login", data=form, method="POST")).read()
    session = next(c.value for c in jar if c.name == "ferry_session")
    profile = opener.open(urllib.request.Request(base + "/profile", headers={"Accept": "text/html"})).read().decode()
    csrf = re.search(r'name="_csrf" value="([^"]+)"', profile).group(1)
    req = urllib.request.Request(base + "/api/tokens", method="POST", data=json.dumps({"name": token_name}).encode(),
                                 headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
    return session, json.loads(opener.open(req).read())["token"]


if __name__ == "__main__":
    print(sign_in(sys.argv[1].rstrip("/"), "bench")[1])
