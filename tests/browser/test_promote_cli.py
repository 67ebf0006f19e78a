"""`ferry promote` as a CI pipeline runs it: against the running Ferry, real dev and prod Supersets.

Dry runs only, so prod is left as the Swift suite left it.
"""
import os
import subprocess


def promote(ferry_url, *args):
    env = dict(os.environ, FERRY_URL=ferry_url)
    return subprocess.run([os.environ["FERRY_BIN"], "promote", *args], capture_output=True, text=True, env=env, timeout=180)


def test_dry_run_prints_the_plan_and_exits_zero(ferry_url, promo_envs):
    src, dst = promo_envs
    r = promote(ferry_url, "--from", src, "--to", dst, "--dashboard", "regional-orders", "--map", "Sales=Sales,Warehouse=Warehouse", "--dry-run")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Mapped Warehouse -> Warehouse." in r.stdout
    assert "ACTION" in r.stdout and "Regional orders" in r.stdout
    assert "Dry run: nothing was written." in r.stdout


def test_conflicts_exit_two_before_anything_is_written(ferry_url, promo_envs):
    src, dst = promo_envs
    r = promote(ferry_url, "--from", src, "--to", dst, "--dashboard", "executive-summary", "--map", "Sales=Sales")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "slug 'executive-summary'" in r.stdout
    assert "same table" in r.stdout
    assert "nothing was written" in r.stdout + r.stderr


def test_bad_usage_and_unknown_dashboards_are_clear(ferry_url, promo_envs):
    src, dst = promo_envs
    assert promote(ferry_url, "--from", src).returncode == 64
    r = promote(ferry_url, "--from", src, "--to", dst, "--dashboard", "no-such-dashboard", "--dry-run")
    assert r.returncode == 1
    assert "No dashboard 'no-such-dashboard'" in r.stdout + r.stderr


def test_an_unmapped_database_exits_four_and_cancels_its_plan(ferry_url, dev_superset):
    import os as _os
    from conftest import api
    prod = _os.environ["FERRY_TEST_SUPERSET_PROD_URL"].rstrip("/")
    for name, url in [("cli4-dev", dev_superset), ("cli4-prod", prod)]:
        try:
            api(ferry_url, "POST", "/api/environments", {"name": name, "url": url, "authProvider": "db", "username": "admin",
                                                         "password": "admin", "verifyTLS": True, "stage": "dev"})
        except Exception:
            pass
    for m in api(ferry_url, "GET", "/api/mappings?source=cli4-dev&target=cli4-prod")["items"]:
        api(ferry_url, "DELETE", f"/api/mappings/{m['id']}")
    r = promote(ferry_url, "--from", "cli4-dev", "--to", "cli4-prod", "--dashboard", "order-kpis", "--dry-run")
    assert r.returncode == 4, r.stdout + r.stderr
    assert "Map source database" in r.stdout + r.stderr
    import time
    for _ in range(50):  # the waiting plan is cancelled, freeing both environments' task slots
        plans = api(ferry_url, "GET", "/api/tasks?plugin=promote.plan&environment=cli4-prod")["items"]
        if plans and plans[0]["status"] == "cancelled":
            break
        time.sleep(0.2)
    assert plans[0]["status"] == "cancelled", plans[0]
