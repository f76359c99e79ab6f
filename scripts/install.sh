#!/usr/bin/env bash
# Install ocpp-station as a systemd service. Idempotent: running it again updates the program files
# and the unit, and never overwrites an existing /etc/ocpp-station/station.json.
#
#   scripts/install.sh                 real install (root): user, groups, files, npm ci, enable the unit
#   scripts/install.sh --root DIR      dry run: lay the same files out under DIR, touch nothing else
#
# Options:
#   --root DIR     install under DIR instead of / (no users, no npm, no systemctl)
#   --dist DIR     compiled output to install (default: <repo>/dist; run `npm run build` first)
#   --no-enable    do not enable the unit (real mode)
#   --node-modules DIR
#                  copy DIR as the runtime node_modules instead of running `npm ci` (offline installs;
#                  DIR must have been built by the same Node major version on the same architecture)
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=""
DIST="$SRC/dist"
ENABLE=1
MODULES=""
# The oldest Node the daemon runs on (package.json "engines").
NODE_MIN=20
NAME=ocpp-station
PREFIX=/opt/$NAME
ETC=/etc/$NAME
STATE=/var/lib/$NAME
UNITDIR=/etc/systemd/system

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --dist) DIST=${2:?--dist needs a directory}; shift 2 ;;
    --no-enable) ENABLE=0; shift ;;
    --node-modules) MODULES=${2:?--node-modules needs a directory}; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done

[ -f "$DIST/src/cli.js" ] || die "$DIST/src/cli.js not found: run 'npm run build' first (or pass --dist)"
if [ -z "$ROOT" ]; then
  # Checked first: a wrong Node is the commonest failure on a fresh target, and this one names the fix.
  where="Debian 13: apt-get install nodejs npm; Debian 12 / Raspberry Pi OS: NodeSource's node_22.x apt repository (README, Install as a service)"
  command -v node >/dev/null || die "node is not installed: ocpp-station needs Node $NODE_MIN or newer ($where)"
  v=$(node -v 2>/dev/null || true)
  major=${v#v}; major=${major%%.*}
  case "$major" in ''|*[!0-9]*) die "cannot tell the Node version ('node -v' said '$v'): ocpp-station needs Node $NODE_MIN or newer ($where)" ;; esac
  [ "$major" -ge "$NODE_MIN" ] || die "Node $v is too old: ocpp-station needs Node $NODE_MIN or newer ($where)"
  [ "$(id -u)" -eq 0 ] || die "a real install needs root (or use --root DIR for a dry run)"
  if [ -n "$MODULES" ]; then
    [ -d "$MODULES" ] || die "--node-modules $MODULES: not a directory"
  else
    command -v npm >/dev/null || die "npm is not installed (it comes with NodeSource's nodejs; Debian 13: apt-get install npm)"
  fi
else
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
fi

# --- user and groups (real mode only) ---
if [ -z "$ROOT" ]; then
  for g in gpio dialout i2c "$NAME"; do
    getent group "$g" >/dev/null || { groupadd --system "$g"; say "created group $g"; }
  done
  if ! id -u "$NAME" >/dev/null 2>&1; then
    useradd --system --gid "$NAME" --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin "$NAME"
    say "created user $NAME"
  fi
  usermod --append --groups gpio,dialout,i2c "$NAME"
fi

# --- program files: replaced whole, so files removed upstream do not linger ---
P="$ROOT$PREFIX"
mkdir -p "$P"
rm -rf "$P/dist" "$P/config" "$P/systemd" "$P/scripts"
mkdir -p "$P/dist"
cp -R "$DIST/src" "$P/dist/src"
# base/ and hal/ beside src/ (the daemon imports them); never devtools/ (the dev CSMS and the demo
# are for a source checkout only).
for part in base hal; do if [ -d "$DIST/$part" ]; then cp -R "$DIST/$part" "$P/dist/$part"; fi; done
cp "$SRC/package.json" "$P/"
if [ -f "$SRC/package-lock.json" ]; then cp "$SRC/package-lock.json" "$P/"; fi
cp -R "$SRC/config" "$P/config"
rm -f "$P/config/station.json" # a developer's own config stays in the checkout
cp -R "$SRC/systemd" "$P/systemd"
cp -R "$SRC/scripts" "$P/scripts"
for f in README.md LICENSE; do if [ -f "$SRC/$f" ]; then cp "$SRC/$f" "$P/"; fi; done
say "installed program files in $P"

# --- config: created once, then the operator's ---
E="$ROOT$ETC"
mkdir -p "$E"
chmod 0750 "$E"
if [ -e "$E/station.json" ]; then
  say "kept existing $E/station.json"
else
  cp "$SRC/config/station.example.json" "$E/station.json"
  # The schema reference of the example is relative to the package's config/.
  sed -i "s#\"\\./station.schema.json\"#\"$PREFIX/config/station.schema.json\"#" "$E/station.json"
  say "created $E/station.json from the example: set station.identity and ocpp.csmsUrl"
fi
chmod 0640 "$E/station.json" # it holds the CSMS password

# --- state ---
S="$ROOT$STATE"
mkdir -p "$S"
chmod 0750 "$S"

# --- unit ---
U="$ROOT$UNITDIR"
mkdir -p "$U"
install -m 0644 "$SRC/systemd/$NAME.service" "$U/$NAME.service"
say "installed $U/$NAME.service"

if [ -n "$ROOT" ]; then
  say "dry run under $ROOT: no user, no npm ci, no systemctl"
  exit 0
fi

chown -R root:root "$P"
chown root:"$NAME" "$E" "$E/station.json"
chown "$NAME":"$NAME" "$S"

if [ -n "$MODULES" ]; then
  rm -rf "$P/node_modules"
  cp -R "$MODULES" "$P/node_modules"
  chown -R root:root "$P/node_modules"
  say "copied runtime dependencies from $MODULES"
else
  rm -rf "$P/node_modules" # npm ci would do the same; an old tree from a previous Node must not linger
  say "installing runtime dependencies (npm ci --omit=dev; native modules are compiled when no prebuilt binary fits)"
  (cd "$P" && npm ci --omit=dev --no-audit --no-fund)
fi

systemctl daemon-reload
if [ "$ENABLE" -eq 1 ]; then
  systemctl enable "$NAME.service"
  # Pick up the new program files if it was running; a first install waits for the operator's config.
  systemctl try-restart "$NAME.service"
  say "enabled; start with: systemctl start $NAME (logs: journalctl -u $NAME -f)"
fi
