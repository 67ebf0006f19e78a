#!/usr/bin/env bash
# Log pipeline benchmark (issue 3): one task writes 100,000 log lines (100 per ms) while a
# WebSocket client follows it. Reports the p50/p95/p99 latency from the log call (the line's
# own timestamp) to the client receiving it, the API p95 meanwhile (wrk, 4 connections, on /api/tasks, with the
# same endpoint idle as the baseline) and the RSS of `ferry serve` before, at peak and after.
#
#   bench/logstream.sh            # release build, SQLite
#   LINES=20000 bench/logstream.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LINES=${LINES:-100000}
DIR="$ROOT/var/bench-logs"
VENV="$ROOT/.tools/venv"
[ -x "$VENV/bin/python" ] || bash scripts/lib/install.sh
"$VENV/bin/python" -c 'import websockets' 2>/dev/null || "$VENV/bin/pip" install -q websockets
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
swift build -c release --product ferry >/dev/null 2>&1
BIN="$(swift build -c release --show-bin-path)/ferry"
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf "$DIR"; mkdir -p "$DIR"
export FERRY_ADMIN_PASSWORD="bench-admin-$(date +%s)-password"
FERRY_DATA_DIR="$DIR/store" FERRY_PORT=$PORT FERRY_SYNC_INTERVAL=0 FERRY_LOG_LEVEL=warning "$BIN" serve >"$DIR/ferry.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 80); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.25; done
TOKEN=$("$VENV/bin/python" tests/harness/ferry_auth.py "http://127.0.0.1:$PORT")
AUTH="Authorization: Bearer $TOKEN"
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }
# API latency with 4 concurrent clients (an operator's browser tabs and a CI job or two), by
# bench/load.lua (p50/p95/p99): idle first, then during the stream.
api_load() { BENCH_PATHS="/api/tasks?per_page=20" wrk -t1 -c"${API_CONNECTIONS:-4}" -d"$1" -H "$AUTH" -s bench/load.lua "http://127.0.0.1:$PORT" | grep '^p50_ms'; }
baseline=$(api_load 5s)
echo "RSS before: $(rss) MB"
# The stream lasts about a second: the load runs from just before the task starts to just after.
( api_load 1s > "$DIR/wrk-during.txt" ) &
WRK=$!
sleep 0.1
peak=0
( while kill -0 $PID 2>/dev/null; do r=$(rss); awk -v a="$r" -v b="$(cat "$DIR/peak" 2>/dev/null || echo 0)" 'BEGIN{exit !(a>b)}' && echo "$r" > "$DIR/peak"; sleep 0.2; done ) &
SAMPLER=$!
"$VENV/bin/python" - "$PORT" "$LINES" "$TOKEN" <<'PY'
import asyncio, json, sys, time, urllib.request
from datetime import datetime
import websockets
port, n, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
auth = {"Authorization": f"Bearer {token}"}
base = f"http://127.0.0.1:{port}"
req = urllib.request.Request(base + "/api/tasks", method="POST", headers={"Content-Type": "application/json", **auth},
                             data=json.dumps({"plugin": "diagnostics.sleep", "params": {"seconds": 0, "logLines": n}}).encode())
task = json.load(urllib.request.urlopen(req))
async def follow():
    # Record each frame with its arrival time and parse after the stream ends, so the client's
    # own parsing (on the same two cores) doesn't hold back the next receive.
    frames = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/tasks/{task['id']}?from=0", max_size=None, additional_headers=auth) as ws:
        received = 0
        while True:
            raw = await ws.recv()
            frames.append((time.time(), raw))
            if raw.startswith('{"kind":"status"') or '"kind":"status"' in raw[:40]:
                e = json.loads(raw)
                if e.get("status") in ("succeeded", "failed"):
                    break
    lat, last = [], -1
    for now, raw in frames:
        e = json.loads(raw)
        for line in e.get("lines") or []:
            assert line["seq"] == last + 1, f"gap or duplicate at {line['seq']} after {last}"
            last = line["seq"]
            if line["message"].startswith("line "):
                at = datetime.fromisoformat(line["at"].replace("Z", "+00:00")).timestamp()
                lat.append((now - at) * 1000)
    assert len(lat) == n, f"{len(lat)} of {n} lines"
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
    print(f"lines received {len(lat)} in order, no gaps, in {len(frames)} frames; latency log call -> client: p50 {q(.5):.1f} ms, p95 {q(.95):.1f} ms, p99 {q(.99):.1f} ms, max {lat[-1]:.1f} ms")
asyncio.run(follow())
PY
wait $WRK
kill $SAMPLER 2>/dev/null || true
echo "API /api/tasks idle (baseline): $baseline"
echo "API /api/tasks during the stream: $(cat "$DIR/wrk-during.txt")"
echo "RSS peak: $(cat "$DIR/peak") MB, after: $(rss) MB"
