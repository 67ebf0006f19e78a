#!/usr/bin/env bash
# Installs what the test suite needs when it is missing. Idempotent; safe to run on every test run.
# - Debian packages: chromium (browser tests), PostgreSQL server, SQLite headers, git (its
#   http-backend serves the git remote tests' repository), podman + runc + slirp4netns +
#   podman-compose (the release image's tests), binutils and openssl (the release and its gate).
# - A Python venv under .tools/venv with Apache Superset 6.1.0 (+ the pins it needs), playwright
#   (driving Debian's chromium, no browser download), oidc-provider-mock and aiosmtpd;
# - schemathesis in .tools/st-venv (API fuzzing);
# - Apache Superset 5.0.0 and 4.1.4, each in a venv of its own (.tools/venv-5.0.0, .tools/venv-4.1.4),
#   for the cross-version promotion tests, with the pins each needs (../shared/superset-notes.md).
set -euo pipefail

FERRY_ROOT=${FERRY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VENV="$FERRY_ROOT/.tools/venv"
SUPERSET_VERSION=6.1.0

log() { printf '[install] %s\n' "$*" >&2; }

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || need_apt+=(postgresql)
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need_apt+=(libsqlite3-dev)
[ -x "$(git --exec-path 2>/dev/null)/git-http-backend" ] || need_apt+=(git)
python3 -c 'import venv' 2>/dev/null || need_apt+=(python3-venv)
for tool in podman runc slirp4netns podman-compose readelf:binutils openssl setpriv:util-linux psql:postgresql-client; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool##*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

stamp="$VENV/.ferry-installed-$SUPERSET_VERSION-v1"
if [ ! -f "$stamp" ]; then
  log "creating venv with apache-superset==$SUPERSET_VERSION at $VENV"
  mkdir -p "$FERRY_ROOT/.tools"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$VENV/bin/pip" install -q \
    "apache-superset==$SUPERSET_VERSION" \
    "flask-caching==2.3.1" rich "cachetools==6.2.1" psycopg2-binary \
    playwright pytest oidc-provider-mock requests
  touch "$stamp"
fi
# aiosmtpd: the real SMTP server the notification tests send to (added after the venv's stamp).
if ! "$VENV/bin/python" -c "import aiosmtpd" 2>/dev/null; then
  log "installing aiosmtpd into $VENV"
  "$VENV/bin/pip" install -q "aiosmtpd==1.4.6"
fi
# schemathesis in a venv of its own (its pins would fight Superset's).
ST_VENV="$FERRY_ROOT/.tools/st-venv"
if [ ! -f "$ST_VENV/.ferry-installed-schemathesis-4.32.5" ]; then
  log "creating venv with schemathesis at $ST_VENV"
  python3 -m venv "$ST_VENV"
  "$ST_VENV/bin/pip" install -q "schemathesis==4.32.5"
  touch "$ST_VENV/.ferry-installed-schemathesis-4.32.5"
fi
# Older Supersets for the cross-version tests: each with the pins measured for it.
old_superset() { # version pins...
  local version=$1; shift
  local venv="$FERRY_ROOT/.tools/venv-$version"
  [ -f "$venv/.ferry-installed-$version-v2" ] && return 0
  log "creating venv with apache-superset==$version at $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >/dev/null
  "$venv/bin/pip" install -q "apache-superset==$version" "$@"
  touch "$venv/.ferry-installed-$version-v2"
}
old_superset 5.0.0 "marshmallow==3.26.2" "marshmallow-sqlalchemy<1.5" rich "flask-caching==2.3.1" "cachetools==6.2.1" psycopg2-binary &
old50=$!
old_superset 4.1.4 "setuptools<81" rich "flask-caching==2.3.1" "cachetools==6.2.1" psycopg2-binary &
old41=$!
rc50=0; rc41=0
wait $old50 || rc50=$?
wait $old41 || rc41=$?
[ "$rc50" = 0 ] || { log "installing Superset 5.0.0 failed"; exit 1; }
[ "$rc41" = 0 ] || { log "installing Superset 4.1.4 failed"; exit 1; }
log "toolchain ready"
