"""What the release tests share: the built release (scripts/release, run once by scripts/test),
podman with a storage of the test's own, free ports, and a small HTTP client.

Environment (set by scripts/test):
  FERRY_RELEASE_DIST            the dist/ folder scripts/release built
  FERRY_TEST_SUPERSET_DEV_URL   the real dev Superset (admin/admin)
  FERRY_TEST_POSTGRES_ADMIN_URL the test PostgreSQL's maintenance database
  FERRY_TEST_UPGRADE_FIXTURE    a store made by migrations M0001-M0007 (UpgradeTests writes it)
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "harness"))
from ports import free_port  # noqa: E402,F401  (the tests import it from here)


def http(method, url, body=None, token=None, headers=None, timeout=30):
    """(status, parsed JSON or text, headers) of one request; never raises for an HTTP status."""
    data = json.dumps(body).encode() if body is not None else None
    h = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw, status, rh = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        raw, status, rh = e.read(), e.code, e.headers
    try:
        return status, json.loads(raw), rh
    except ValueError:
        return status, raw.decode("utf-8", "replace"), rh


def wait_ready(base, seconds=30, proc=None):
    """Seconds until `base`/readyz answered 200; fails the test after `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode("utf-8", "replace")[-3000:] if proc.stdout else ""
            pytest.fail(f"ferry exited with {proc.returncode} before /readyz answered:\n{out}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.05)
    pytest.fail(f"{base}/readyz did not answer within {seconds} s")


def wait_task(base, token, task_id, seconds=120):
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        status, task, _ = http("GET", f"{base}/api/tasks/{task_id}", token=token)
        assert status == 200, task
        if task["status"] in ("succeeded", "failed", "partial", "cancelled"):
            return task
        time.sleep(0.3)
    pytest.fail(f"task {task_id} did not finish within {seconds} s")


@pytest.fixture(scope="session")
def dist():
    path = os.environ.get("FERRY_RELEASE_DIST")
    if not path:
        pytest.fail("FERRY_RELEASE_DIST is not set: run scripts/test (it builds the release once)")
    d = pathlib.Path(path)
    release = json.loads((d / "release.json").read_text())
    return {"dir": d, "version": release["version"], "commit": release["commit"],
            "tarball": next(d.glob("ferry-*-linux-*.tar.gz")), "image": next(d.glob("ferry-*-oci.tar"))}


class Podman:
    """podman as it runs here (../shared/containers.md), on a storage of its own."""

    def __init__(self, home):
        self.home = pathlib.Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        conf = self.home / "containers.conf"
        conf.write_text("[containers]\ndefault_ulimits = []\n")
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}
        self.started = []

    def __call__(self, *args, check=True, timeout=300):
        cmd = ["podman", "--root", str(self.home / "root"), "--runroot", str(self.home / "runroot"),
               "--runtime", "runc", "--cgroup-manager", "cgroupfs", *args]
        r = subprocess.run(cmd, env=self.env, text=True, capture_output=True, timeout=timeout)
        if check and r.returncode != 0:
            pytest.fail(f"podman {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def run(self, *args):
        cid = self("run", "-d", *args).stdout.strip().splitlines()[-1]
        self.started.append(cid)
        return cid

    def ready(self, cid, base, seconds=30):
        """wait_ready, with the container's log in the failure."""
        try:
            return wait_ready(base, seconds)
        except BaseException:
            print(self("logs", cid, check=False).stdout[-4000:], self("logs", cid, check=False).stderr[-4000:])
            raise

    def pid(self, cid):
        return int(self("inspect", "-f", "{{.State.Pid}}", cid).stdout.strip())

    def cleanup(self):
        for cid in self.started:
            self("rm", "-f", "-t", "2", cid, check=False)
        self("system", "reset", "-f", check=False)
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture(scope="session")
def podman(dist, tmp_path_factory):
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: scripts/test installs it (apt-get install podman runc)")
    p = Podman(tmp_path_factory.mktemp("podman"))
    yield p
    p.cleanup()


@pytest.fixture(scope="session")
def image(dist, podman):
    """The image, loaded from the release's archive into the fresh storage (the offline bundle)."""
    out = podman("load", "-i", str(dist["image"])).stdout
    name = f"localhost/ferry:{dist['version']}"
    assert name in out or name in podman("images", "--format", "{{.Repository}}:{{.Tag}}").stdout, out
    return name
