#!/usr/bin/env bash
# Remove ocpp-station. Keeps /etc/ocpp-station (config) and /var/lib/ocpp-station (database, message
# log, certificates) unless --purge, which also removes them and the service user.
#
#   scripts/uninstall.sh [--purge] [--root DIR]
set -euo pipefail

ROOT=""
PURGE=0
NAME=ocpp-station

die() { echo "uninstall.sh: $*" >&2; exit 1; }
say() { echo "uninstall.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done

if [ -z "$ROOT" ]; then
  [ "$(id -u)" -eq 0 ] || die "needs root (or use --root DIR)"
  if command -v systemctl >/dev/null; then
    systemctl disable --now "$NAME.service" 2>/dev/null || true
  fi
fi

rm -f "$ROOT/etc/systemd/system/$NAME.service"
rm -rf "$ROOT/opt/$NAME"
say "removed the unit and /opt/$NAME"

if [ "$PURGE" -eq 1 ]; then
  rm -rf "$ROOT/etc/$NAME" "$ROOT/var/lib/$NAME"
  say "purged /etc/$NAME and /var/lib/$NAME"
  if [ -z "$ROOT" ] && id -u "$NAME" >/dev/null 2>&1; then
    userdel "$NAME" || true
    if getent group "$NAME" >/dev/null; then groupdel "$NAME" || true; fi
  fi
else
  say "kept /etc/$NAME and /var/lib/$NAME (use --purge to remove them)"
fi

if [ -z "$ROOT" ] && command -v systemctl >/dev/null; then
  systemctl daemon-reload || true
fi
