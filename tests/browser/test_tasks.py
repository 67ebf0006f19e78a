"""Tasks end to end: a health check of the real dev Superset started from the tasks page and
followed live; and a `kill -9` of a server in the middle of a task, then a restart."""
import json
import os
import re
import signal
import subprocess
import time
import urllib.request

from playwright.sync_api import expect

from conftest import api
from ports import free_port  # tests/harness, on the path through conftest.py


def test_health_check_from_the_tasks_page(page, ferry_url, dev_superset):
    envs = api(ferry_url, "GET", "/api/environments")["items"]
    if not any(e["name"] == "dev-tasks" for e in envs):
        api(ferry_url, "POST", "/api/environments", {"name": "dev-tasks", "url": dev_superset, "username": "admin",
                                                      "password": "admin", "stage": "dev"})
    page.goto(f"{ferry_url}/tasks")
    page.select_option("#hc-env", "dev-tasks")
    page.get_by_test_id("start-health-check").click()
    expect(page).to_have_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
    # The page follows the task over the WebSocket and reloads when it ends.
    expect(page.get_by_test_id("task-status")).to_contain_text("succeeded", timeout=60000)
    # The result reads as a table of named values; the JSON itself is one click away.
    result = page.get_by_test_id("task-result")
    expect(result.locator("th", has_text="Version")).to_be_visible()
    expect(result).to_contain_text("6.1.0")
    raw = page.locator("section.task-result details.raw-json")
    expect(raw.locator("pre")).not_to_be_visible()
    raw.locator("summary").click()
    expect(raw.locator("pre")).to_contain_text('"version":"6.1.0"')
    expect(page.get_by_test_id("task-log")).to_contain_text("counting dashboards")
    page.goto(f"{ferry_url}/tasks?status=succeeded")
    expect(page.get_by_test_id("tasks")).to_contain_text("Environment health check")


def start_ferry(data_dir, port):
    env = dict(os.environ, FERRY_DATA_DIR=data_dir, FERRY_PORT=str(port), FERRY_SYNC_INTERVAL="0")
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


def wait(base, task_id, predicate, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        t = api(base, "GET", f"/api/tasks/{task_id}")
        if predicate(t):
            return t
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} never satisfied the condition: {t}")


def test_kill_9_during_a_task_then_restart(tmp_path):
    data_dir, port = str(tmp_path / "store"), free_port()
    proc, base = start_ferry(data_dir, port)
    try:
        done = api(base, "POST", "/api/tasks", {"plugin": "diagnostics.sleep", "params": {"seconds": 0}})
        wait(base, done["id"], lambda t: t["status"] == "succeeded")
        victim = api(base, "POST", "/api/tasks", {"plugin": "diagnostics.sleep", "params": {"seconds": 60}})
        before = wait(base, victim["id"], lambda t: t["status"] == "running" and t["logLines"] >= 4)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    proc, base = start_ferry(data_dir, port)
    try:
        after = api(base, "GET", f"/api/tasks/{victim['id']}")
        assert after["status"] == "interrupted", after
        assert "stopped while the task was running" in after["error"]
        assert after["nextAction"]
        logs = api(base, "GET", f"/api/tasks/{victim['id']}/logs?limit=5000")["items"]
        seqs = [line["seq"] for line in logs]
        assert seqs == list(range(len(seqs))), "the log is intact: no gaps"
        assert len(seqs) >= before["logLines"], "every flushed batch survived"
        assert not any("finished" in line["message"] for line in logs)
        unchanged = api(base, "GET", f"/api/tasks/{done['id']}")
        assert unchanged["status"] == "succeeded" and unchanged["finishedAt"] == api(base, "GET", f"/api/tasks/{done['id']}")["finishedAt"]
        assert api(base, "GET", "/api/tasks?status=running")["total"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_activity_drawer_follows_a_running_task(page, ferry_url):
    task = api(ferry_url, "POST", "/api/tasks", {"plugin": "diagnostics.sleep", "params": {"seconds": 4}})
    page.goto(f"{ferry_url}/dashboards")
    count = page.get_by_test_id("activity-count")
    expect(count).to_be_visible()
    assert int(count.inner_text()) >= 1
    page.get_by_test_id("activity-toggle").click()
    drawer = page.get_by_test_id("activity-drawer")
    expect(drawer).to_be_visible()
    expect(page.get_by_test_id("activity-toggle")).to_have_attribute("aria-expanded", "true")
    row = drawer.locator(f'[data-activity-task="{task["id"].lower()}"]')
    expect(row).to_contain_text("Canary (sleep)")
    # Live over /ws/tasks: the step moves on, and when the task ends it leaves the drawer.
    expect(row.locator("[data-field=progress]")).not_to_have_attribute("value", "0", timeout=10000)
    expect(row).to_have_count(0, timeout=30000)
    # Escape closes it and gives the focus back.
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(page.get_by_test_id("activity-toggle")).to_be_focused()
