"""A dashboard check's chromium never outlives Ferry: `kill -9` of the Ferry process in the middle
of a rendering check, and every chromium process it started exits on its own (its DevTools
pipe closed). A Ferry of its own, on a fresh store, against the real dev Superset."""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import ferry_auth  # noqa: E402
from ports import free_port  # noqa: E402
from conftest import api  # noqa: E402


def chromium_pids(marker):
    """Pids of the processes whose command line names `marker` (the Ferry's profile folder)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmd and state not in ("Z", "X"):
            out.append(int(pid))
    return out


def test_chromium_exits_when_ferry_is_killed(dev_superset):
    data = tempfile.mkdtemp(prefix="ferry-kill-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    password = "kill-test-admin-password"
    env = dict(os.environ, FERRY_DATA_DIR=data, FERRY_PORT=str(port), FERRY_SYNC_INTERVAL="0", FERRY_ADMIN_PASSWORD=password)
    env.pop("DATABASE_URL", None)
    with open(os.path.join(data, "ferry.log"), "w") as log:
        ferry = subprocess.Popen([os.environ["FERRY_BIN"], "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    marker = os.path.join(data, "chromium")
    try:
        for _ in range(120):
            try:
                api(base, "GET", "/readyz")
                break
            except Exception:
                time.sleep(0.25)
        os.environ["FERRY_ADMIN_PASSWORD"], saved = password, os.environ.get("FERRY_ADMIN_PASSWORD")
        try:
            _, token = ferry_auth.sign_in(base, "kill-test")
        finally:
            if saved is not None:
                os.environ["FERRY_ADMIN_PASSWORD"] = saved

        def call(method, path, body=None):
            import json
            import urllib.request
            req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"null")

        call("POST", "/api/environments", {"name": "dev", "url": dev_superset, "authProvider": "db", "username": "admin",
                                           "password": "admin", "verifyTLS": True, "stage": "dev"})
        # Every dashboard, rendered: long enough to be killed in the middle.
        queued = call("POST", "/api/health/checks", {"environment": "dev"})
        assert queued["taskId"]
        deadline = time.time() + 60
        while time.time() < deadline and not chromium_pids(marker):
            time.sleep(0.2)
        started = chromium_pids(marker)
        assert started, "the check started chromium"
        ferry.send_signal(signal.SIGKILL)
        ferry.wait(timeout=10)
        deadline = time.time() + 15
        while time.time() < deadline and chromium_pids(marker):
            time.sleep(0.2)
        left = chromium_pids(marker)
        assert not left, f"chromium outlived Ferry: {left}"
    finally:
        if ferry.poll() is None:
            ferry.kill()
        for pid in chromium_pids(marker):
            os.kill(pid, signal.SIGKILL)
