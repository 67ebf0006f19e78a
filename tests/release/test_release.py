"""The release as it ships: the tarball installed and started as systemd would, the image loaded
from its archive and run (SQLite on a volume, and PostgreSQL with the secret key from a file, as
compose.yaml runs it), a store of the previous release migrated forward by the new binary, and the
release gate, which passes on the build and fails on a planted violation of each kind.

Every test reads the one release scripts/test built (FERRY_RELEASE_DIST).
"""
import json
import os
import pathlib
import pwd
import re
import shutil
import subprocess
import tarfile
import time
import urllib.parse
import uuid

import pytest

from conftest import ROOT, free_port, http, wait_ready, wait_task
from ferry_auth import sign_in

GATE = [os.environ.get("PYTHON", "python3"), str(ROOT / "scripts" / "lib" / "release.py"), "gate"]
ADMIN_PASSWORD = "release-tests-" + uuid.uuid4().hex[:12]


def gate(dist_dir):
    r = subprocess.run([*GATE, str(dist_dir)], text=True, capture_output=True)
    return r.returncode, r.stdout + r.stderr


# --- the gate ---------------------------------------------------------------------------------------

def test_the_gate_passes_on_the_build_and_its_report_is_kept_read_only(dist):
    report = dist["dir"] / "GATE-REPORT.txt"
    assert report.exists(), "scripts/release writes its gate report into dist/"
    assert report.stat().st_mode & 0o222 == 0, "the report is read-only"
    assert "RESULT: PASS" in report.read_text()
    rc, out = gate(dist["dir"])
    assert rc == 0, out
    counts = re.search(r"scanned: (\d+) files, (\d+) urls, (\d+) swift packages, (\d+) debian packages", out)
    assert counts, out
    files, urls, swift, debs = map(int, counts.groups())
    assert files > 100 and swift >= 20 and debs >= 20, out  # it looked inside the tarball and the image
    # `--check` is the same gate.
    r = subprocess.run([str(ROOT / "scripts" / "release"), "--check", str(dist["dir"])], text=True, capture_output=True)
    assert r.returncode == 0 and "RESULT: PASS" in r.stdout, r.stdout + r.stderr
    # The report can't be written twice.
    r = subprocess.run([*GATE, str(dist["dir"]), "--report", str(report)], text=True, capture_output=True)
    assert r.returncode != 0 and "RESULT: PASS" in report.read_text()


def copy_of(dist, tmp_path):
    """A copy of the release to spoil: the big archives linked, the rest copied."""
    d = tmp_path / "dist"
    d.mkdir()
    for f in dist["dir"].iterdir():
        if f.name.startswith("GATE-REPORT"):
            continue
        if f.suffix == ".tar" or f.name.endswith(".tar.gz"):
            os.symlink(f, d / f.name)
        else:
            shutil.copy(f, d / f.name)
    return d


def remanifest(d, dist):
    subprocess.run([os.environ.get("PYTHON", "python3"), str(ROOT / "scripts" / "lib" / "release.py"), "manifest", str(d),
                    dist["version"], dist["commit"], "0"], check=True)


def replant_tarball(d, dist, name, data):
    """The tarball again, with one more file in Ferry's resources; sums and manifest made anew, so
    only the planted file is wrong."""
    tarball = d / dist["tarball"].name
    os.unlink(tarball)
    with tarfile.open(dist["tarball"]) as src, tarfile.open(tarball, "w:gz") as out:
        for m in src:
            out.addfile(m, src.extractfile(m) if m.isfile() else None)
        top = src.getnames()[0].split("/")[0]
        path = f"{top}/bin/ferry_FerryApp.resources/Resources/{name}"
        info = tarfile.TarInfo(path)
        info.size = len(data)
        import io
        out.addfile(info, io.BytesIO(data))
    remanifest(d, dist)
    return path


def a_test_key():
    key = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519"], check=True, capture_output=True).stdout
    return b"# a test key left behind\n" + key


def a_beacon():
    return b"// analytics\nconst endpoint =\n  'https://telemetry.acme-analytics.io/v1/collect';\n"


@pytest.mark.parametrize("planted, contents, finding, failing, passing", [
    ("Public/test-fixture.pem", a_test_key, "line 2: a private key", "data purity", "manifest"),
    ("Public/js/beacon.js", a_beacon,
     "line 3: https://telemetry.acme-analytics.io/v1/collect is not on release/allowed-urls.txt", "external endpoints", "data purity"),
], ids=["private key", "external url"])
def test_the_gate_fails_on_a_planted_file(dist, tmp_path, planted, contents, finding, failing, passing):
    d = copy_of(dist, tmp_path)
    path = replant_tarball(d, dist, planted, contents())
    rc, out = gate(d)
    assert rc == 1, out
    assert f"{dist['tarball'].name}!{path}:{finding}" in out, out
    assert f"FAIL {failing}" in out and f"PASS {passing}" in out, out


def test_the_gate_fails_on_a_manifest_that_lies(dist, tmp_path):
    d = copy_of(dist, tmp_path)
    lines = (d / "release.json").read_text().splitlines()
    n = next(i for i, l in enumerate(lines) if '"compose.yaml"' in l)
    lines[n] = re.sub(r'"size": \d+', '"size": 1', lines[n])
    (d / "release.json").write_text("\n".join(lines) + "\n")
    rc, out = gate(d)
    assert rc == 1, out
    assert f"release.json:{n + 1}: compose.yaml is " in out and "not 1" in out, out
    # A file nobody listed.
    (d / "notes.txt").write_text("added after the build\n")
    rc, out = gate(d)
    assert "SHA256SUMS: notes.txt is not listed" in out and "release.json: notes.txt is not listed" in out, out


def test_the_gate_fails_on_a_package_from_elsewhere(dist, tmp_path):
    d = copy_of(dist, tmp_path)
    sbom = next(d.glob("*.cdx.json"))
    text = sbom.read_text().replace("https://github.com/vapor/vapor.git", "https://github.com/someone/vapor-fork.git", 1)
    sbom.write_text(text)
    remanifest(d, dist)
    rc, out = gate(d)
    assert rc == 1 and "someone/vapor-fork.git" in out and "FAIL internal sources" in out, out


# --- the tarball, installed ---------------------------------------------------------------------

def unit_settings(unit_text):
    s = {"Environment": {}}
    for line in unit_text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            if k == "Environment":
                ek, ev = v.split("=", 1)
                s["Environment"][ek] = ev
            else:
                s[k] = v
    return s


def start_installed(root, settings, port, extra_env, uid, gid):
    """The unit's command line, run as systemd would (its user, its environment), under `root`."""
    env = {"PATH": "/usr/bin:/bin", "FERRY_PORT": str(port), "FERRY_SYNC_INTERVAL": "0", **extra_env}
    for k, v in settings["Environment"].items():
        env[k] = str(root) + v if v.startswith("/") else v
    exe, *args = settings["ExecStart"].split()
    cwd = str(root) + settings["WorkingDirectory"]
    return subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", str(root) + exe, *args],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def open_tmp():
    """A temporary folder every user can reach (pytest's is under a 0700 folder of root's)."""
    import tempfile
    d = pathlib.Path(tempfile.mkdtemp(prefix="ferry-release-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def unpack_with_root(dist, tmp):
    """The tarball unpacked under `tmp`, and an empty root beside it holding the host's users."""
    with tarfile.open(dist["tarball"]) as tar:
        tar.extractall(tmp / "unpacked")
    root = tmp / "root"
    (root / "etc/ferry").mkdir(parents=True)
    shutil.copy("/etc/passwd", root / "etc/passwd")
    shutil.copy("/etc/group", root / "etc/group")
    return next((tmp / "unpacked").iterdir()), root


def test_install_refuses_to_write_through_a_link_under_another_root(dist, open_tmp):
    unpacked, root = unpack_with_root(dist, open_tmp)
    victim = open_tmp / "host-file"
    victim.write_text("the host's own file\n")
    victim.chmod(0o600)
    os.symlink(victim, root / "etc/ferry/ferry.env")
    r = subprocess.run([str(unpacked / "install.sh"), "--root", str(root)], text=True, capture_output=True)
    assert r.returncode == 73 and "symbolic link" in r.stderr, r.stdout + r.stderr
    st = victim.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, 0, 0o600) and victim.read_text() == "the host's own file\n"
    assert not (root / "opt/ferry").exists(), "nothing installed"


def test_the_tarball_installs_runs_as_systemd_would_and_migrates_an_old_store(dist, open_tmp):
    tmp_path = open_tmp
    with tarfile.open(dist["tarball"]) as tar:
        members = tar.getmembers()
        assert all(m.uid == 0 and m.gid == 0 for m in members), "every file is owned by root"
        names = {m.name.split("/", 1)[1] for m in members if "/" in m.name}
        for expected in ["bin/ferry", "install.sh", "ferry.service", "ferry.env.example", "UPGRADE.md",
                         "bin/ferry_FerryApp.resources/Resources/build.json"]:
            assert expected in names, f"{expected} is in the tarball"
        assert not [m for m in members if m.mode & 0o022], "nothing is writable by group or others"
    unpacked, root = unpack_with_root(dist, tmp_path)
    r = subprocess.run([str(unpacked / "install.sh"), "--root", str(root)], text=True, capture_output=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"Ferry {dist['version']} (commit {dist['commit']}) installed" in r.stdout, r.stdout

    user = next(l.split(":") for l in (root / "etc/passwd").read_text().splitlines() if l.startswith("ferry:"))
    uid, gid = int(user[2]), int(user[3])
    binary = root / "opt/ferry/bin/ferry"
    st = binary.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, 0, 0o755)
    data = (root / "var/lib/ferry").stat()
    assert (data.st_uid, data.st_mode & 0o777) == (uid, 0o700)
    env_file = (root / "etc/ferry/ferry.env").stat()
    assert (env_file.st_uid, env_file.st_gid, env_file.st_mode & 0o777) == (0, gid, 0o640)
    # The service user can't change the program.
    probe = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "test", "-w", str(binary)])
    assert probe.returncode != 0, "the binary is not writable by the service user"

    settings = unit_settings((root / "etc/systemd/system/ferry.service").read_text())
    assert settings["User"] == "ferry" and settings["ExecStart"] == "/opt/ferry/bin/ferry serve"
    version = subprocess.run([str(binary), "--version"], text=True, capture_output=True).stdout.strip()
    assert version == f"ferry {dist['version']} (commit {dist['commit']})"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_installed(root, settings, port, {"FERRY_ADMIN_PASSWORD": ADMIN_PASSWORD}, uid, gid)
    try:
        wait_ready(base, proc=proc)
        status, body, _ = http("GET", base + "/api/version")
        assert status == 200 and body == {"version": dist["version"], "commit": dist["commit"], "built": body.get("built")}, body
        assert (root / "var/lib/ferry/ferry.sqlite").stat().st_uid == uid
        assert (root / "var/lib/ferry/secret.key").stat().st_mode & 0o777 == 0o600
    finally:
        stop(proc)

    # Upgrades: the store a previous release made (migrations M0001-M0007), under the new binary.
    fixture = os.environ.get("FERRY_TEST_UPGRADE_FIXTURE")
    assert fixture and pathlib.Path(fixture).exists(), "UpgradeTests writes the old store: run scripts/test"
    old = json.loads(pathlib.Path(fixture + ".json").read_text())
    for f in (root / "var/lib/ferry").iterdir():
        if f.name.startswith("ferry.sqlite") or f.name == "secret.key":
            f.unlink()
    for suffix in ["", "-wal"]:
        if pathlib.Path(fixture + suffix).exists():
            shutil.copy(fixture + suffix, root / f"var/lib/ferry/ferry.sqlite{suffix}")
            os.chown(root / f"var/lib/ferry/ferry.sqlite{suffix}", uid, gid)
    proc = start_installed(root, settings, port, {"FERRY_SECRET_KEY": old["secretKey"]}, uid, gid)
    try:
        wait_ready(base, proc=proc)
        status, tasks, _ = http("GET", base + "/api/tasks", token=old["token"])
        assert status == 200, tasks
        assert [t["environments"] for t in tasks["items"]] == [["dev"]], tasks
        session, token = sign_in(base, username=old["username"], password=old["password"])
        status, envs, _ = http("GET", base + "/api/environments", token=token)
        assert status == 200 and [e["name"] for e in envs["items"]] == ["dev"], envs
        dev = next(e for e in old["environments"] if e["name"] == "dev")
        assert envs["items"][0]["id"].lower() == dev["id"].lower(), envs
    finally:
        stop(proc)
        out = proc.stdout.read().decode()
    assert "M0008_EnvironmentIdentity" in out or "migrat" in out.lower(), out[-2000:]


# --- the image -------------------------------------------------------------------------------------

def superset_from_container():
    """The dev Superset's address as a container on slirp4netns sees the host's loopback."""
    url = urllib.parse.urlparse(os.environ["FERRY_TEST_SUPERSET_DEV_URL"])
    return f"http://10.0.2.2:{url.port}"


NETWORK = "slirp4netns:allow_host_loopback=true"


def container_rss_kb(podman, cid):
    status = pathlib.Path(f"/proc/{podman.pid(cid)}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


def test_the_image_runs_signs_in_syncs_and_keeps_its_store_and_key_on_the_volume(dist, podman, image):
    inspected = json.loads(podman("inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "10001:10001", "the image runs as a non-root user"
    assert "/var/lib/ferry" in config["Volumes"], config
    assert inspected["Healthcheck"]["Test"] == ["CMD", "/opt/ferry/bin/ferry", "healthcheck"], inspected.get("Healthcheck")
    assert inspected["Size"] < 150_000_000, f"the image is {inspected['Size']} bytes"
    podman("volume", "create", "ferry-sqlite")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    cid = podman.run("--network", NETWORK, "-p", f"127.0.0.1:{port}:8080", "-v", "ferry-sqlite:/var/lib/ferry",
                     "-e", f"FERRY_ADMIN_PASSWORD={ADMIN_PASSWORD}", "-e", "FERRY_SYNC_INTERVAL=0", image)
    podman.ready(cid, base)
    print(f"podman run -> /readyz: {time.monotonic() - started:.2f} s")
    status = pathlib.Path(f"/proc/{podman.pid(cid)}/status").read_text()
    assert re.search(r"^Uid:\s+10001\s", status, re.M), "Ferry runs as uid 10001 in the container"
    assert podman("healthcheck", "run", cid, check=False).returncode == 0, "the HEALTHCHECK passes"
    status, version, headers = http("GET", base + "/api/version")
    assert version["version"] == dist["version"] and version["commit"] == dist["commit"]
    csp = http("GET", base + "/login", headers={"Accept": "text/html"})[2]["Content-Security-Policy"]
    assert "http" not in csp and "default-src 'self'" in csp, csp

    _, token = sign_in(base, username="admin", password=ADMIN_PASSWORD)
    status, env, _ = http("POST", base + "/api/environments", token=token, body={
        "name": "dev", "url": superset_from_container(), "authProvider": "db", "username": "admin", "password": "admin",
        "verifyTLS": True, "stage": "dev"})
    assert status == 201, env
    status, sync, _ = http("POST", f"{base}/api/environments/{env['id']}/sync", token=token)
    assert status == 202, sync
    task = wait_task(base, token, sync["taskId"])
    assert task["status"] == "succeeded", task
    status, dashboards, _ = http("GET", base + "/api/dashboards?environment=dev", token=token)
    assert status == 200 and len(dashboards["items"]) > 0, dashboards
    print(f"idle RSS: {container_rss_kb(podman, cid) / 1024:.1f} MiB")

    # Stop it, and start a new container on the same volume: store and key survived.
    podman("stop", "-t", "10", cid)
    cid2 = podman.run("--network", NETWORK, "-p", f"127.0.0.1:{port}:8080", "-v", "ferry-sqlite:/var/lib/ferry",
                      "-e", "FERRY_SYNC_INTERVAL=0", image)
    podman.ready(cid2, base)
    status, envs, _ = http("GET", base + "/api/environments", token=token)
    assert status == 200 and [e["name"] for e in envs["items"]] == ["dev"], envs
    # The stored Superset password still opens: the key on the volume is the one it was sealed with.
    status, tested, _ = http("POST", f"{base}/api/environments/{env['id']}/test", token=token, timeout=60)
    assert status == 200 and tested.get("ok") is True, tested
    podman("rm", "-f", "-t", "5", cid2)


def test_the_image_runs_with_postgresql_and_the_secret_key_from_a_file_as_compose_does(dist, podman, image, tmp_path):
    import yaml
    compose = yaml.safe_load((dist["dir"] / "compose.yaml").read_text())
    service = compose["services"]["ferry"]
    assert service["image"] == image
    assert compose["services"]["ferry"]["depends_on"]["postgres"]["condition"] == "service_healthy"

    admin = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_ADMIN_URL"])
    db = "ferry_release_" + uuid.uuid4().hex[:8]

    def psql(database, sql, check=True):
        return subprocess.run(["psql", "-h", admin.hostname, "-p", str(admin.port), "-U", admin.username, "-d", database, "-qAtc", sql],
                              capture_output=True, text=True, check=check)
    psql("postgres", f"CREATE DATABASE {db}")
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    (secrets / "ferry_secret_key").write_text(subprocess.run(["openssl", "rand", "-base64", "32"], capture_output=True, text=True).stdout)
    (secrets / "postgres_password").write_text("warehouse-secret\n")
    (secrets / "admin_password").write_text(ADMIN_PASSWORD + "\n")
    for f in secrets.iterdir():
        f.chmod(0o444)
    # compose.yaml's Ferry service, with the host's PostgreSQL in place of its postgres service.
    # Interpolated as compose does (${NAME:-default}).
    env = {k: re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1]) or m[2], str(v)) for k, v in service["environment"].items()}
    assert env["FERRY_PUBLIC_URL"] == "http://localhost:8080", env
    env["DATABASE_URL"] = env["DATABASE_URL"].replace("postgres:5432/ferry", f"10.0.2.2:{admin.port}/{db}")
    assert env["DATABASE_URL"].startswith("postgres://ferry@10.0.2.2:"), env
    mounts = [f"{secrets / name}:/run/secrets/{name}:ro" for name in service["secrets"]]
    volume = service["volumes"][0].replace("ferry-data", "ferry-pg")
    args = ["--network", NETWORK]
    for k, v in env.items():
        args += ["-e", f"{k}={v}"]
    for m in mounts:
        args += ["-v", m]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args += ["-v", volume, "-p", f"127.0.0.1:{port}:8080", "-e", "FERRY_SYNC_INTERVAL=0"]
    try:
        cid = podman.run(*args, image)
        podman.ready(cid, base)
        _, token = sign_in(base, username="admin", password=ADMIN_PASSWORD)
        status, env_dto, _ = http("POST", base + "/api/environments", token=token, body={
            "name": "dev", "url": superset_from_container(), "authProvider": "db", "username": "admin", "password": "admin",
            "verifyTLS": True, "stage": "dev"})
        assert status == 201, env_dto
        podman("rm", "-f", "-t", "5", cid)
        # The store is PostgreSQL: the users and environments are there, not in the volume.
        tables = psql(db, "SELECT name FROM environments", check=False)
        assert tables.stdout.split() == ["dev"], tables.stdout + tables.stderr
        mountpoint = podman("volume", "inspect", "ferry-pg", "-f", "{{.Mountpoint}}").stdout.strip()
        assert not pathlib.Path(mountpoint, "secret.key").exists(), "the key came from the secret file"
        assert not pathlib.Path(mountpoint, "ferry.sqlite").exists()
        cid = podman.run(*args, image)
        podman.ready(cid, base)
        status, tested, _ = http("POST", f"{base}/api/environments/{env_dto['id']}/test", token=token, timeout=60)
        assert status == 200 and tested.get("ok") is True, tested
        podman("rm", "-f", "-t", "5", cid)
    finally:
        psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", check=False)
