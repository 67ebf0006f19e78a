"""Prints two API tokens for the schemathesis run, one per line: the first administrator's, and
a viewer's (the user `fuzz-viewer` is made for it). Usage: python fuzz_tokens.py BASE_URL"""
import json
import secrets
import sys
import urllib.request

from ferry_auth import sign_in

base = sys.argv[1].rstrip("/")
_, admin = sign_in(base, "fuzz-admin")
password = "fuzz-" + secrets.token_hex(12)
req = urllib.request.Request(base + "/api/users", method="POST",
                             data=json.dumps({"username": "fuzz-viewer", "password": password, "roles": ["viewer"]}).encode(),
                             headers={"Content-Type": "application/json", "Authorization": "Bearer " + admin})
urllib.request.urlopen(req).read()
_, viewer = sign_in(base, "fuzz-viewer", username="fuzz-viewer", password=password)
print(admin)
print(viewer)
