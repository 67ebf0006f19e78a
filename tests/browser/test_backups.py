"""The storage browser end to end, against the real dev Superset: back up from the page and follow
the task, browse and search the backup, download one dashboard as a ZIP, upload it back as a
backup, have a file that is no ZIP refused, compare the two backups, pin then delete the upload.
And a `kill -9` of a server in the middle of a backup, then a restart: nothing half-written is
listed, and retention collects the files the killed backup left behind."""
import os
import re
import signal
import subprocess
import time
import urllib.error
import zipfile

import pytest
from playwright.sync_api import expect

from conftest import api
from ports import free_port  # tests/harness, on the path through conftest.py

ENV = "bk-dev"
FINISHED = ("succeeded", "partial", "failed", "cancelled", "interrupted")


def create_environment(base, dev_superset, name):
    """The environment `name` on the dev Superset (kept if an earlier run made it)."""
    try:
        return api(base, "POST", "/api/environments", {"name": name, "url": dev_superset, "authProvider": "db", "username": "admin",
                                                       "password": "admin", "verifyTLS": True, "stage": "dev"})
    except urllib.error.HTTPError as e:
        assert e.code == 409, e.read()
        return next(env for env in api(base, "GET", "/api/environments")["items"] if env["name"] == name)


def wait_for_sync(base, env_id, seconds=60):
    """Its first inventory sync (started when it was added) has ended."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        shown = api(base, "GET", f"/api/environments/{env_id}")
        if (shown.get("sync") or {}).get("status") not in ("pending", "running"):
            return
        time.sleep(0.2)


def backups(base, env=ENV):
    return api(base, "GET", f"/api/backups?environment={env}")["items"]


def ids(items):
    return {b["id"].lower() for b in items}


def task_result(task):
    return task.get("result") or task.get("summary") or {}


def test_back_up_browse_download_upload_compare_pin_and_delete(page, ferry_url, dev_superset, tmp_path):
    env = create_environment(ferry_url, dev_superset, ENV)
    try:
        wait_for_sync(ferry_url, env["id"])
        existing = ids(backups(ferry_url))

        # The overview lists the environment; its link opens the environment's backups.
        page.goto(f"{ferry_url}/backups")
        row = page.locator(f'[data-testid=backup-environments] tr[data-environment="{ENV}"]')
        expect(row).to_be_visible()
        row.get_by_test_id("environment-backups").click()
        expect(page).to_have_url(re.compile(r"/backups/environments/[0-9a-f-]{36}$"))
        env_url = page.url

        # Back up now (full): the task page follows the backup to its end.
        page.get_by_test_id("full").check()
        page.get_by_test_id("run-backup").click()
        expect(page).to_have_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
        task_id = page.url.rsplit("/", 1)[1]
        status = page.locator("[data-testid=task-status] [data-field=status]")
        expect(status).to_have_attribute("data-status", re.compile(r"^(succeeded|partial|failed|cancelled|interrupted)$"), timeout=300000)
        assert status.get_attribute("data-status") == "succeeded", page.inner_text("main")
        backup_id = task_result(api(ferry_url, "GET", f"/api/tasks/{task_id}"))["backup"].lower()
        assert ids(backups(ferry_url)) == existing | {backup_id}

        # The environment's list shows it (read from the environment: origin task); its page opens.
        page.goto(env_url)
        first = page.locator(f'[data-testid=backups] tr[data-backup="{backup_id}"]')
        expect(first.locator("[data-field=origin]")).to_have_attribute("data-origin", "task")
        expect(first.locator("[data-field=type]")).to_have_attribute("data-full", "true")
        first.get_by_test_id("backup-link").click()
        expect(page).to_have_url(re.compile(rf"/backups/{backup_id}$"))
        expect(page.get_by_test_id("backup-summary")).to_contain_text("6.1.0")
        expect(page.get_by_test_id("restore-form")).to_be_visible()

        # Search its contents: name and kind.
        page.get_by_test_id("search").fill("sales overview")
        page.select_option("[data-testid=kind]", "dashboard")
        page.get_by_test_id("search-contents").click()
        expect(page).to_have_url(re.compile(r"search=sales"))
        found = page.locator("[data-testid=assets] tbody tr")
        expect(found.first).to_be_visible()
        assert all(found.nth(i).get_attribute("data-kind") == "dashboard" for i in range(found.count()))
        dashboard = page.locator("[data-testid=assets] tbody tr[data-kind=dashboard]", has_text="Sales overview").first
        expect(dashboard).to_be_visible()

        # One dashboard as a ZIP Superset's import accepts.
        with page.expect_download() as download:
            dashboard.get_by_test_id("download-dashboard").click()
        zip_path = tmp_path / "sales-overview.zip"
        download.value.save_as(zip_path)
        with zipfile.ZipFile(zip_path) as archive:
            names = archive.namelist()
        assert any(n == "metadata.yaml" or n.endswith("/metadata.yaml") for n in names), names
        assert any(n.startswith("dashboards/") or "/dashboards/" in n for n in names), names

        # Uploaded back: a second backup, origin upload.
        page.goto(env_url)
        page.get_by_test_id("upload-file").set_input_files(str(zip_path))
        page.get_by_test_id("upload").click()
        expect(page).to_have_url(re.compile(r"done=uploaded"))
        expect(page.get_by_test_id("flash")).to_be_visible()
        uploaded = page.locator("[data-testid=backups] tbody tr[data-origin=upload]")
        expect(uploaded).to_have_count(1)
        upload_id = uploaded.get_attribute("data-backup")
        after_upload = ids(backups(ferry_url))
        assert after_upload == existing | {backup_id, upload_id}

        # A file that is no ZIP: refused with a clear reason, nothing added.
        notes = tmp_path / "notes.txt"
        notes.write_text("these are notes, not a Superset export\n")
        page.get_by_test_id("upload-file").set_input_files(str(notes))
        page.get_by_test_id("upload").click()
        expect(page.get_by_test_id("upload-error")).to_contain_text("not a Superset export ZIP")
        expect(page.get_by_test_id("upload-error")).to_contain_text("nothing was stored")
        assert ids(backups(ferry_url)) == after_upload

        # Compare the full backup with the upload (one dashboard's closure): the rest was removed.
        page.goto(env_url)
        page.get_by_test_id(f"from-{backup_id}").check()
        page.get_by_test_id(f"to-{upload_id}").check()
        page.get_by_test_id("compare").click()
        expect(page).to_have_url(re.compile(r"/backups/diff\?"))
        expect(page).to_have_url(re.compile(rf"from={backup_id}"))
        expect(page.get_by_test_id("diff-summary")).to_be_visible()
        expect(page.get_by_test_id("diff-removed")).to_be_visible()
        assert "Sales overview" not in page.get_by_test_id("diff-removed").inner_text()

        # Pin the upload, then delete it: refused without the confirmation, done with it.
        page.goto(f"{ferry_url}/backups/{upload_id}")
        page.get_by_test_id("pin").click()
        expect(page).to_have_url(re.compile(r"done=pinned"))
        expect(page.locator("[data-testid=backup-summary] [data-field=pinned]")).to_be_visible()
        assert next(b for b in backups(ferry_url) if b["id"].lower() == upload_id)["pinned"] is True
        page.get_by_test_id("delete").click()
        expect(page.get_by_test_id("delete-error")).to_be_visible()
        assert upload_id in ids(backups(ferry_url)), "not deleted without the confirmation"
        page.get_by_test_id("confirm-delete").check()
        page.get_by_test_id("delete").click()
        expect(page).to_have_url(re.compile(r"done=deleted"))
        expect(page.locator(f'[data-testid=backups] tr[data-backup="{upload_id}"]')).to_have_count(0)
        expect(page.locator(f'[data-testid=backups] tr[data-backup="{backup_id}"]')).to_have_count(1)
        assert ids(backups(ferry_url)) == existing | {backup_id}
    finally:
        # Other flows start from an empty store: the environment and its backups go.
        for b in backups(ferry_url):
            api(ferry_url, "DELETE", f"/api/backups/{b['id']}")
        wait_for_sync(ferry_url, env["id"])
        api(ferry_url, "DELETE", f"/api/environments/{env['id']}")


def start_ferry(data_dir, storage, port):
    env = dict(os.environ, FERRY_DATA_DIR=data_dir, FERRY_PORT=str(port), FERRY_SYNC_INTERVAL="0", FERRY_BACKUP_COLLECT_GRACE="0",
               FERRY_STORAGE=storage)
    proc = subprocess.Popen([os.environ["FERRY_BIN"], "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if api(base, "GET", "/readyz")["status"] == "ready":
                return proc, base
        except Exception:
            time.sleep(0.25)
    proc.kill()
    raise AssertionError("ferry did not start")


def blob_files(storage):
    return [os.path.join(d, f) for d, _, files in os.walk(os.path.join(storage, "blobs")) for f in files]


def test_kill_9_during_a_backup_then_restart(tmp_path, dev_superset):
    data_dir, storage, port = str(tmp_path / "store"), str(tmp_path / "storage"), free_port()
    proc, base = start_ferry(data_dir, storage, port)
    try:
        create_environment(base, dev_superset, "bk-kill")
        task_id = api(base, "POST", "/api/backups", {"environment": "bk-kill", "full": True})["taskId"]
        # Wait for the export to be under way and to have stored something, then kill.
        deadline, task = time.time() + 120, None
        while time.time() < deadline:
            task = api(base, "GET", f"/api/tasks/{task_id}")
            if task["status"] in FINISHED or (task["step"].startswith("exporting") and blob_files(storage)):
                break
            time.sleep(0.02)
        else:
            raise AssertionError(f"the backup never started exporting: {task}")
        if task["status"] in FINISHED:
            pytest.skip(f"the backup ended ({task['status']}) before it could be killed: the dev Superset exports too fast to catch")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    left_by_the_kill = len(blob_files(storage))
    proc, base = start_ferry(data_dir, storage, port)
    try:
        after = api(base, "GET", f"/api/tasks/{task_id}")
        listed = api(base, "GET", "/api/backups")["items"]
        if after["status"] == "succeeded" or listed:
            pytest.skip(f"the backup was recorded before the kill landed ({after['status']}, {len(listed)} listed): nothing half-written to check")
        assert after["status"] == "interrupted", after
        assert listed == [], "a backup cut short is never listed"

        retention = api(base, "POST", "/api/tasks", {"plugin": "backup.retention", "params": {}})
        deadline, done = time.time() + 120, None
        while time.time() < deadline:
            done = api(base, "GET", f"/api/tasks/{retention['id']}")
            if done["status"] in FINISHED:
                break
            time.sleep(0.1)
        assert done["status"] == "succeeded", done
        assert left_by_the_kill > 0, "the killed backup had stored files (else there was nothing to collect)"
        assert blob_files(storage) == [], "retention collects every blob no listed backup needs"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
