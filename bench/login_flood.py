"""Sign-in flood benchmark client (issue 12). Not a timed test: bench/login_flood.sh runs it.

Measures the latency of GET /api/dashboards for a signed-in user (an API token), first alone
(the baseline) and then while FLOOD_CLIENTS clients hammer the sign-in form on loopback: each
fetches /login for its CSRF cookie and posts a wrong password, for unknown usernames and for one
real account. Every phase is bounded twice: by --seconds and by a number of requests
(--requests for the measuring loop, --attempts per flooding client).

Prints one block of key=value lines: p50/p95/p99 of both phases, their ratio, and what the flood
got back (how many 401, 429, 503, errors) and how fast.

    python3 bench/login_flood.py http://127.0.0.1:8080 fry_... --clients 50 --seconds 20
"""
import argparse
import multiprocessing
import http.client
import http.cookies
import statistics
import threading
import time
import urllib.parse
from collections import Counter

PATHS = [
    "/api/dashboards?search=sales",
    "/api/dashboards?search=revenue%20dashboard%2042",
    "/api/dashboards?owner=owner7",
    "/api/dashboards?page=3&per_page=50",
    "/api/dashboards?search=nothing-matches-this",
]


def connect(host, port):
    return http.client.HTTPConnection(host, port, timeout=30)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def exchange(conn, method, path, body=None, headers=None):
    """One request on a kept-alive connection, its body read; returns the response."""
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    res.read()
    return res


def measure(host, port, token, seconds, max_requests, stop=None):
    """Sequential requests as one signed-in user; returns latencies in ms and the status counts."""
    conn = connect(host, port)
    latencies, statuses = [], Counter()
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline and i < max_requests and not (stop and stop.is_set()):
        path = PATHS[i % len(PATHS)]
        i += 1
        started = time.perf_counter()
        try:
            res = exchange(conn, "GET", path, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
            statuses[res.status] += 1
        except (OSError, http.client.HTTPException):
            statuses["error"] += 1
            conn.close()
            conn = connect(host, port)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    conn.close()
    return latencies, statuses


def flood_client(host, port, n, deadline, max_attempts, victim, results, lock, mode="sign-in"):
    """One attacker: GET /login for the CSRF cookie, then POST a wrong password; repeat."""
    conn = connect(host, port)
    statuses = Counter()
    attempts = 0
    while time.monotonic() < deadline and attempts < max_attempts:
        attempts += 1
        username = victim if attempts % 4 == 0 else f"flood-{n}-{attempts}"
        try:
            res = exchange(conn, "GET", "/login", headers={"Accept": "text/html"})
            cookie = http.cookies.SimpleCookie()
            for header in res.headers.get_all("Set-Cookie") or []:
                cookie.load(header)
            csrf = cookie["ferry_login_csrf"].value if "ferry_login_csrf" in cookie else ""
            if mode == "control":  # as busy, but no password is checked
                statuses[exchange(conn, "GET", "/healthz").status] += 1
                continue
            body = urllib.parse.urlencode({"username": username, "password": "wrong-password-123", "_csrf": csrf, "next": "/"})
            res = exchange(conn, "POST", "/login", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html",
                "Cookie": f"ferry_login_csrf={csrf}"})
            statuses[res.status] += 1
        except (OSError, http.client.HTTPException):
            statuses["error"] += 1
            conn.close()
            conn = connect(host, port)
    conn.close()
    with lock:
        results.update(statuses)


def flood_process(host, port, clients, seconds, attempts, victim, queue, mode):
    """All flooding clients, as threads of this (separate) process; reports their statuses."""
    results, lock = Counter(), threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=flood_client, args=(host, port, n, deadline, attempts, victim, results, lock, mode), daemon=True)
               for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + 35)
    queue.put(dict(results))


def summary(name, latencies, statuses):
    s = sorted(latencies)
    return {
        f"{name}_requests": len(s),
        f"{name}_statuses": dict(statuses),
        f"{name}_p50_ms": round(percentile(s, 50), 2),
        f"{name}_p95_ms": round(percentile(s, 95), 2),
        f"{name}_p99_ms": round(percentile(s, 99), 2),
        f"{name}_mean_ms": round(statistics.fmean(s), 2) if s else float("nan"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("token")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--requests", type=int, default=20000, help="most measuring requests per phase")
    ap.add_argument("--attempts", type=int, default=5000, help="most sign-in attempts per flooding client")
    ap.add_argument("--victim", default="flood-victim", help="a real username the flood also tries")
    ap.add_argument("--mode", choices=["sign-in", "control"], default="sign-in",
                    help="control: the clients GET /login and /healthz instead of posting passwords")
    args = ap.parse_args()
    u = urllib.parse.urlsplit(args.url)
    host, port = u.hostname, u.port or 80

    measure(host, port, args.token, 2, 500)  # warm-up
    base = measure(host, port, args.token, args.seconds, args.requests)

    # The flood runs in a process of its own: its 50 threads would otherwise hold this
    # process's GIL and the measured latency would be the client's, not Ferry's.
    queue = multiprocessing.Queue()
    deadline_in = args.seconds + 1
    flood = multiprocessing.Process(target=flood_process, args=(host, port, args.clients, deadline_in, args.attempts, args.victim, queue, args.mode))
    started = time.monotonic()
    flood.start()
    time.sleep(1)  # let the flood reach full strength before measuring
    flooded = measure(host, port, args.token, args.seconds, args.requests)
    results = queue.get(timeout=deadline_in + 60)
    flood.join(timeout=10)
    elapsed = time.monotonic() - started

    out = {}
    out.update(summary("baseline", *base))
    out.update(summary("flood", *flooded))
    out["p95_ratio_flood_over_baseline"] = round(out["flood_p95_ms"] / max(out["baseline_p95_ms"], 0.001), 2)
    attempts = sum(results.values())
    out["flood_clients"] = args.clients
    out["flood_sign_in_attempts"] = attempts
    out["flood_sign_in_per_s"] = round(attempts / max(elapsed, 0.001), 1)
    out["flood_sign_in_statuses"] = dict(results)
    for k, v in out.items():
        print(f"{k}={v}")


if __name__ == "__main__":
    main()
