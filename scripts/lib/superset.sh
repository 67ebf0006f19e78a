#!/usr/bin/env bash
# Superset instances for the test suite: create, start, stop. Sourced by scripts/test.
# Each instance lives in $FERRY_TEST_DIR/superset-<name>/ with its own config, SQLite metadata,
# secret key, session cookie name and gunicorn control socket.
# With SUPERSET_METADATA_PG set to a PostgreSQL server URL whose user may create databases
# (postgresql://USER@HOST:PORT, with scripts/lib/postgres.sh sourced for psql), each instance's
# metadata is a database superset_<name> there instead, copied from an initialised
# superset_template database: Superset's metadata store in production, and the one that lets
# several gunicorn workers write at once (benchmarks).

SUPERSET_VENV=${SUPERSET_VENV:-$FERRY_ROOT/.tools/venv}

superset_metadata_uri() { # dir name
  if [ -n "${SUPERSET_METADATA_PG:-}" ]; then echo "$SUPERSET_METADATA_PG/superset_$2"
  else echo "sqlite:///$1/superset.db?check_same_thread=false"; fi
}

# Runs SQL on the metadata server's postgres database (psql from scripts/lib/postgres.sh's PG_BIN).
superset_pg() { "$PG_BIN/psql" "$SUPERSET_METADATA_PG/postgres" -qAt -v ON_ERROR_STOP=1 -c "$1"; }

superset_write_config() { # dir name
  local dir=$1 name=$2
  mkdir -p "$dir"
  cat > "$dir/superset_config.py" <<PY
SECRET_KEY = "ferry-test-${name}-secret-key-0123456789abcdef"
SQLALCHEMY_DATABASE_URI = "$(superset_metadata_uri "$dir" "$name")"
WTF_CSRF_ENABLED = True
PREVENT_UNSAFE_DB_CONNECTIONS = False
SESSION_COOKIE_NAME = "superset_session_${name}"
RATELIMIT_ENABLED = False
AUTH_RATE_LIMITED = False
FEATURE_FLAGS = {"DASHBOARD_NATIVE_FILTERS": True}
THUMBNAILS = False
PY
}

superset_cli() { # dir args...
  local dir=$1; shift
  SUPERSET_CONFIG_PATH="$dir/superset_config.py" FLASK_APP=superset "$SUPERSET_VENV/bin/superset" "$@"
}

# Builds an initialised metadata DB once per run (db upgrade + admin + init), then copies it for
# each instance: the slow part runs once.
superset_template() { # template-dir
  local t=$1
  if [ -n "${SUPERSET_METADATA_PG:-}" ]; then
    superset_pg "DROP DATABASE IF EXISTS superset_template" && superset_pg "CREATE DATABASE superset_template" || return 1
  elif [ -f "$t/superset.db" ] && [ -f "$t/.ready" ]; then return 0; fi
  superset_write_config "$t" template
  superset_cli "$t" db upgrade >"$t/init.log" 2>&1 || { cat "$t/init.log" >&2; return 1; }
  superset_cli "$t" fab create-admin --username admin --firstname Ada --lastname Admin \
    --email admin@example.com --password admin >>"$t/init.log" 2>&1 || { cat "$t/init.log" >&2; return 1; }
  superset_cli "$t" init >>"$t/init.log" 2>&1 || { cat "$t/init.log" >&2; return 1; }
  touch "$t/.ready"
}

superset_start() { # name port template-dir
  local name=$1 port=$2 t=$3 dir="$FERRY_TEST_DIR/superset-$1"
  rm -rf "$dir"; superset_write_config "$dir" "$name"
  if [ -n "${SUPERSET_METADATA_PG:-}" ]; then
    superset_pg "DROP DATABASE IF EXISTS superset_$name" && superset_pg "CREATE DATABASE superset_$name TEMPLATE superset_template" || return 1
  else
    cp "$t/superset.db" "$dir/superset.db"
  fi
  ( cd "$dir" && SUPERSET_CONFIG_PATH="$dir/superset_config.py" exec "$SUPERSET_VENV/bin/gunicorn" \
      --bind "127.0.0.1:$port" --worker-class gthread --workers "${SUPERSET_WORKERS:-1}" --threads 4 --timeout 120 \
      --control-socket "$dir/gunicorn.ctl" --pid "$dir/gunicorn.pid" --access-logfile "$dir/access.log" \
      "superset.app:create_app()" >"$dir/server.log" 2>&1 ) &
  echo $! > "$dir/launcher.pid"
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "Superset $name did not become healthy on port $port; log:" >&2
  tail -40 "$dir/server.log" >&2
  return 1
}

superset_stop() { # name
  # gunicorn's master stops its workers on TERM; killing the master outright orphans them (they
  # kept running and skewed later benchmarks), so wait for it, then kill whatever is left.
  local dir="$FERRY_TEST_DIR/superset-$1" master="" pids=()
  [ -f "$dir/gunicorn.pid" ] && master=$(cat "$dir/gunicorn.pid")
  if [ -n "$master" ]; then pids=("$master" $(pgrep -P "$master" 2>/dev/null || true)); fi
  [ -f "$dir/launcher.pid" ] && pids+=("$(cat "$dir/launcher.pid")")
  [ ${#pids[@]} -eq 0 ] && return 0
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "${pids[@]}" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
  return 0
}
