#!/usr/bin/env bash
# The Supersets of the cross-version tests (VersionLiveTests): 5.0.0 ("v50"), 4.1.4 ("v41") and a
# third 6.1.0 ("v61", which no other test writes to). v61 is seeded like dev (the promotion
# dashboards, the source of the downgrades), v50 and v41 like prod (same-named connections over
# their own data, no promotion dashboards); each has its own PostgreSQL database
# warehouse_<name>. The fields each release's importers accept are written to
# $FERRY_TEST_DIR/import-fields-<version>.json for the test that checks SupersetKit's table.
# Sourced by scripts/test after scripts/lib/superset.sh and postgres.sh; needs free_port and
# the dev/prod metadata template (v61 copies it).

VERSION_PEERS=(
  "v61 6.1.0 $FERRY_ROOT/.tools/venv dev"
  "v50 5.0.0 $FERRY_ROOT/.tools/venv-5.0.0 prod"
  "v41 4.1.4 $FERRY_ROOT/.tools/venv-4.1.4 prod"
)

versions_start() { # pg-server-url (postgresql://ferry:PASSWORD@127.0.0.1:PORT) pg-port
  local pg=$1 pg_port=$2 pids=() peer
  for peer in "${VERSION_PEERS[@]}"; do
    read -r name version venv seed_as <<<"$peer"
    (
      set -e
      "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U ferry -d postgres -qAt -c "DROP DATABASE IF EXISTS warehouse_$name" -c "CREATE DATABASE warehouse_$name" >/dev/null
      template="$FERRY_TEST_DIR/superset-template"
      [ "$version" = 6.1.0 ] || template="$FERRY_TEST_DIR/superset-template-$version"
      SUPERSET_VENV=$venv superset_template "$template"
      port=$(free_port)
      SUPERSET_VENV=$venv superset_start "$name" "$port" "$template"
      echo "$port" >"$FERRY_TEST_DIR/superset-$name/port"
      "$FERRY_ROOT/.tools/venv/bin/python" tests/harness/seed_superset.py --url "http://127.0.0.1:$port" --env "$seed_as" \
        --data-dir "$FERRY_TEST_DIR/superset-$name" --manifest "$FERRY_TEST_DIR/$name.json" \
        --pg-url "$pg/warehouse_$name" --pg-password warehouse-secret $([ "$seed_as" = dev ] && echo --promo-source)
      "$venv/bin/python" scripts/lib/import_fields.py "$FERRY_TEST_DIR/import-fields-$version.json" 2>&1 | tail -5 \
        || { echo "import_fields.py failed for Superset $version" >&2; exit 1; }
      [ -s "$FERRY_TEST_DIR/import-fields-$version.json" ] || { echo "import_fields.py wrote nothing for Superset $version" >&2; exit 1; }
      echo "$name: Superset $version on $port, seeded"
    ) &
    pids+=($!)
  done
  local rc=0 pid
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  return $rc
}

versions_export() {
  local peer name
  for peer in "${VERSION_PEERS[@]}"; do
    read -r name _ _ _ <<<"$peer"
    export "FERRY_TEST_SUPERSET_${name^^}_URL=http://127.0.0.1:$(cat "$FERRY_TEST_DIR/superset-$name/port")"
    export "FERRY_TEST_${name^^}_MANIFEST=$FERRY_TEST_DIR/$name.json"
  done
  export FERRY_TEST_IMPORT_FIELDS_DIR="$FERRY_TEST_DIR"
}

versions_stop() {
  local peer name
  for peer in "${VERSION_PEERS[@]}"; do
    read -r name _ _ _ <<<"$peer"
    superset_stop "$name"
  done
}
