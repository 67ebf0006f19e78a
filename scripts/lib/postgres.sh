#!/usr/bin/env bash
# A private PostgreSQL server for the test suite, on a port of its own, stopped by PID.
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

pg_start() { # dir port
  local dir=$1 port=$2
  rm -rf "$dir"; mkdir -p "$dir"
  local runas=()
  if [ "$(id -u)" -eq 0 ]; then
    id ferrypg >/dev/null 2>&1 || useradd --system --no-create-home ferrypg
    chown -R ferrypg "$dir"; runas=(runuser -u ferrypg --)
  fi
  "${runas[@]}" "$PG_BIN/initdb" -D "$dir/data" -U ferry --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  "${runas[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500" \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  PG_DIR=$dir
}

pg_stop() { # dir
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  local pid; pid=$(head -1 "$dir/data/postmaster.pid")
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
}
