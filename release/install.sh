#!/bin/sh
# Installs Ferry from this unpacked release (run as root):
#
#   sudo ./install.sh                 # /opt/ferry, /etc/ferry, /var/lib/ferry, a systemd unit
#   sudo ./install.sh --root /mnt/img # the same under another root (an image, a test)
#
# Files are owned by root and not writable by the service user `ferry`, which owns only its data
# folder /var/lib/ferry (mode 0700). An existing /etc/ferry/ferry.env is kept. Upgrading is
# installing the new release over the old one: read UPGRADE.md first.
set -eu

ROOT=""
SERVICE_USER=ferry
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2:?--root needs a folder}; shift 2 ;;
    --user) SERVICE_USER=${2:?--user needs a name}; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "install.sh: run it as root (it creates a user and root-owned files)" >&2; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)
# Under --root nothing this script writes as root may be a symbolic link: a link in that tree
# could point at the host's own files (say ferry.env -> /etc/shadow), which chown and chmod would
# then change. (On the host itself a linked /opt or /var/lib/ferry is the administrator's choice.)
no_link() {
  for p in "$@"; do
    if [ -L "$p" ]; then echo "install.sh: $p is a symbolic link; refusing to write through it" >&2; exit 73; fi
  done
}
[ -z "$ROOT" ] || no_link "$ROOT/opt" "$ROOT/opt/ferry" "$ROOT/opt/ferry.new" "$ROOT/etc" "$ROOT/etc/ferry" "$ROOT/etc/ferry/ferry.env" \
  "$ROOT/var" "$ROOT/var/lib" "$ROOT/var/lib/ferry" "$ROOT/etc/systemd" "$ROOT/etc/systemd/system" \
  "$ROOT/etc/systemd/system/ferry.service"
[ -x "$HERE/bin/ferry" ] || { echo "install.sh: $HERE/bin/ferry is missing: run it from the unpacked release" >&2; exit 66; }

# The service user: a system account with no shell and no login.
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT/etc"
  touch "$ROOT/etc/passwd" "$ROOT/etc/group"
  grep -q "^$SERVICE_USER:" "$ROOT/etc/passwd" || useradd --root "$ROOT" --system --user-group --no-create-home \
    --home-dir /var/lib/ferry --shell /usr/sbin/nologin "$SERVICE_USER"
else
  id "$SERVICE_USER" >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
    --home-dir /var/lib/ferry --shell /usr/sbin/nologin "$SERVICE_USER"
fi

# The program: root-owned, read-only to everyone else.
OPT="$ROOT/opt/ferry"
rm -rf "$OPT.new"
mkdir -p "$OPT.new"
cp -R "$HERE/bin" "$OPT.new/"
cp "$HERE/UPGRADE.md" "$OPT.new/"
chown -R 0:0 "$OPT.new"
chmod -R u=rwX,go=rX "$OPT.new"
chmod 0755 "$OPT.new/bin/ferry"
if [ -d "$OPT" ]; then rm -rf "$OPT.old"; mv "$OPT" "$OPT.old"; fi
mv "$OPT.new" "$OPT"
rm -rf "$OPT.old"

# Settings: kept when present, readable by root and the service group only.
mkdir -p "$ROOT/etc/ferry"
chmod 0755 "$ROOT/etc/ferry"
if [ ! -e "$ROOT/etc/ferry/ferry.env" ]; then
  cp "$HERE/ferry.env.example" "$ROOT/etc/ferry/ferry.env"
fi
if [ -n "$ROOT" ]; then
  GROUP_ID=$(grep "^$SERVICE_USER:" "$ROOT/etc/group" | cut -d: -f3)
  USER_ID=$(grep "^$SERVICE_USER:" "$ROOT/etc/passwd" | cut -d: -f3)
else
  GROUP_ID=$(id -g "$SERVICE_USER")  # also when the user comes from LDAP or another NSS source
  USER_ID=$(id -u "$SERVICE_USER")
fi
[ -n "$USER_ID" ] && [ -n "$GROUP_ID" ] || { echo "install.sh: can't find the ids of user $SERVICE_USER" >&2; exit 67; }
chown "0:$GROUP_ID" "$ROOT/etc/ferry/ferry.env"
chmod 0640 "$ROOT/etc/ferry/ferry.env"

# The data folder: the service user's alone.
mkdir -p "$ROOT/var/lib/ferry"
chown "$USER_ID:$GROUP_ID" "$ROOT/var/lib/ferry"
chmod 0700 "$ROOT/var/lib/ferry"

# The unit.
mkdir -p "$ROOT/etc/systemd/system"
rm -f "$ROOT/etc/systemd/system/ferry.service"
sed "s/^User=ferry$/User=$SERVICE_USER/; s/^Group=ferry$/Group=$SERVICE_USER/" "$HERE/ferry.service" > "$ROOT/etc/systemd/system/ferry.service"
chmod 0644 "$ROOT/etc/systemd/system/ferry.service"

echo "Ferry $("$OPT/bin/ferry" --version | sed 's/^ferry //') installed in $OPT."
if [ -z "$ROOT" ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || true
  echo "Set FERRY_ADMIN_PASSWORD_FILE (or FERRY_ADMIN_PASSWORD) in /etc/ferry/ferry.env for the first sign-in, then:"
  echo "  systemctl enable --now ferry"
fi
