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
