"""`ferry backup` and `ferry restore` as an operator or a CI job runs them: against the running
Ferry and the real dev Superset. The restore is a dry run, so dev is left as it was."""
import os
import subprocess
import urllib.error

from conftest import api

ENV = "cli-bk"


def ferry(ferry_url, *args):
    env = dict(os.environ, FERRY_URL=ferry_url)
    return subprocess.run([os.environ["FERRY_BIN"], *args], capture_output=True, text=True, env=env, timeout=300)


def test_back_up_list_verify_and_dry_run_a_restore(ferry_url, dev_superset):
    try:
        env = api(ferry_url, "POST", "/api/environments", {"name": ENV, "url": dev_superset, "authProvider": "db", "username": "admin",
                                                          "password": "admin", "verifyTLS": True, "stage": "dev"})
    except urllib.error.HTTPError as e:
        assert e.code == 409, e.read()
        env = next(x for x in api(ferry_url, "GET", "/api/environments")["items"] if x["name"] == ENV)
    try:
        run = ferry(ferry_url, "backup", "run", "--env", ENV)
        assert run.returncode == 0, run.stdout + run.stderr
        line = next(l for l in run.stdout.splitlines() if l.startswith("Backup "))
        backup_id = line.split()[1]
        assert f"of {ENV}:" in line and "assets" in line, line

        listed = ferry(ferry_url, "backup", "list", "--env", ENV)
        assert listed.returncode == 0, listed.stdout + listed.stderr
        assert backup_id.lower() in listed.stdout.lower() and "ENVIRONMENT" in listed.stdout

        verified = ferry(ferry_url, "backup", "verify", backup_id)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "1 backup(s) checked: 1 verified, 0 corrupt" in verified.stdout

        overview = api(ferry_url, "GET", f"/api/backups/{backup_id}/assets?kind=dashboard&search=Sales%20overview")["items"]
        assert len(overview) == 1, overview
        restored = ferry(ferry_url, "restore", "--backup", backup_id, "--to", ENV, "--dashboard", overview[0]["uuid"], "--dry-run")
        assert restored.returncode in (0, 2), restored.stdout + restored.stderr
        assert "ACTION" in restored.stdout and "Sales overview" in restored.stdout
        assert "Dry run: nothing was written." in restored.stdout

        # Bad usage and unknown ids say what is wrong.
        assert ferry(ferry_url, "backup", "run").returncode == 64
        assert ferry(ferry_url, "restore", "--to", ENV).returncode == 64
        unknown = ferry(ferry_url, "restore", "--backup", "00000000-0000-4000-8000-000000000000", "--to", ENV, "--dry-run")
        assert unknown.returncode == 1
        assert "no backup" in (unknown.stdout + unknown.stderr).lower()
    finally:
        for b in api(ferry_url, "GET", f"/api/backups?environment={ENV}")["items"]:
            api(ferry_url, "DELETE", f"/api/backups/{b['id']}")
        api(ferry_url, "DELETE", f"/api/environments/{env['id']}")
