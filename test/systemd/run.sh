#!/usr/bin/env bash
# The installed unit under a real systemd (PID 1 of a systemd-nspawn container on a debootstrap root):
# install.sh as the README documents it, then Type=notify reaches active, SIGKILL and a hung daemon
# (SIGSTOP, WatchdogSec expires) are restarted, `systemctl stop` exits 0 with the contactors open.
# The checks themselves run inside the container: test/systemd/in-container.sh.
#
#   sudo test/systemd/run.sh [--fresh]      (npm run test:systemd; run `npm run build` first)
#   sudo test/systemd/run.sh --from-source [--suite trixie] [--fresh]   (npm run test:target-install)
#
# Needs root, debootstrap and systemd-nspawn (apt-get install debootstrap systemd-container).
# Default: the checkout's node (>= 20), whose binary and node_modules (native add-ons built for it) go
# into the container; the container's Debian release is the host's, so that both fit its glibc.
# --from-source: the README's path on a target, from nothing: Debian's nodejs, npm and build tools
# from apt, the checkout's sources only, `npm ci && npm run build`, then install.sh with its own
# `npm ci --omit=dev` (native add-ons compiled in the container). Needs the npm registry; slower
# (the suite's packages and two native builds); not in CI.
# The debootstrap roots are cached in $OCPP_SYSTEMD_TEST_CACHE (default /var/cache/ocpp-station-test);
# --fresh builds them again. Each run works on a copy, so the cached root stays clean.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${OCPP_SYSTEMD_TEST_CACHE:-/var/cache/ocpp-station-test}
FRESH=0
FROM_SOURCE=0
SUITE=""
# The whole container run (boot, install, the restarts, shutdown) must end within this.
LIMIT_S=${OCPP_SYSTEMD_TEST_LIMIT_S:-600}

die() { echo "test-systemd: $*" >&2; exit 1; }
say() { echo "test-systemd: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --fresh) FRESH=1; shift ;;
    --from-source) FROM_SOURCE=1; shift ;;
    --suite) SUITE=${2:?--suite needs a Debian release name}; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, systemd-nspawn)"
command -v debootstrap >/dev/null || die "debootstrap missing: apt-get install -y debootstrap systemd-container"
command -v systemd-nspawn >/dev/null || die "systemd-nspawn missing: apt-get install -y debootstrap systemd-container"
if [ "$FROM_SOURCE" -eq 0 ]; then
  [ -z "$SUITE" ] || die "--suite needs --from-source (the host's node runs only on the host's release)"
  [ -f "$REPO/dist/src/cli.js" ] || die "$REPO/dist/src/cli.js missing: run 'npm run build' first"
  [ -d "$REPO/node_modules/better-sqlite3" ] || die "$REPO/node_modules incomplete: run 'npm ci' first"
  NODE=$(readlink -f "$(command -v node)") || die "node not found"
  # Same release as the host: the host's node binary and native add-ons need the container's glibc >= the host's.
  # shellcheck disable=SC1091
  SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$SUITE" ] || SUITE=bookworm
fi
SUITE=${SUITE:-trixie}
# Same mirror as the host's apt (a "…/debian" URI in its sources), unless told otherwise.
host_mirror() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^https?:\/\/[^ ]+\/debian\/?$/) { print $i; exit } }' || true
}
MIRROR=${OCPP_SYSTEMD_TEST_MIRROR:-$(host_mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

BASE="$CACHE/rootfs-$SUITE"
t0=$(date +%s)
mkdir -p "$CACHE"
if [ "$FRESH" -eq 1 ] || [ ! -f "$BASE/.ocpp-station-test-complete" ]; then
  rm -rf "$BASE" "$BASE.tmp"
  say "debootstrap $SUITE from $MIRROR into $BASE (cached for the next runs)"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libstdc++6,ca-certificates \
    "$SUITE" "$BASE.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -30 "$CACHE/debootstrap.log"; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  rm -rf "$BASE.tmp"/var/cache/apt/archives/*.deb
  touch "$BASE.tmp/.ocpp-station-test-complete"
  mv "$BASE.tmp" "$BASE"
  say "root file system ready after $(( $(date +%s) - t0 )) s"
fi

# A copy per run; the last one is kept until the next run for a look after a failure.
RUN="$CACHE/run-$SUITE"
rm -rf "$RUN"
cp -a --reflink=auto "$BASE" "$RUN"
OUT="$RUN/results"
mkdir -p "$OUT"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
nspawn=(systemd-nspawn --quiet --register=no --keep-unit --machine=ocpp-station-test -D "$RUN")
if [ "$FROM_SOURCE" -eq 0 ]; then
  # Node as an operator would have it: a node binary on the PATH (the unit runs `/usr/bin/env node`).
  install -m 0755 "$NODE" "$RUN/usr/local/bin/node"
  # The dev CSMS listens on the example config's port; --private-network keeps it away from the host's.
  printf 'SRC=/src\nINSTALL_ARGS="--node-modules /src/node_modules"\nCSMS_PORT=9000\n' >"$OUT/env"
  boot_net=(--private-network --bind-ro="$REPO:/src")
else
  # The checkout's files (tracked and new, not ignored: no node_modules, no dist) as a clone would have them.
  mkdir -p "$RUN/root/ocpp-station"
  git -C "$REPO" ls-files -z --cached --others --exclude-standard |
    (cd "$REPO" && xargs -0 tar -cf - --ignore-failed-read 2>/dev/null) | tar -xf - -C "$RUN/root/ocpp-station"
  # Networks with a TLS-inspecting proxy: the host's local CA certificates are trusted inside too.
  mkdir -p "$RUN/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$RUN/usr/local/share/ca-certificates/" 2>/dev/null || true
  say "$SUITE: apt-get install nodejs npm python3 make g++, then npm ci && npm run build (as the README says)"
  t1=$(date +%s)
  # The host's network (apt mirror, npm registry); not booted: these are the operator's shell commands.
  "${nspawn[@]}" --console=pipe --setenv=DEBIAN_FRONTEND=noninteractive --setenv=NODE_EXTRA_CA_CERTS="$CA_BUNDLE" \
    --chdir=/root/ocpp-station /bin/bash -euc '
    echo "deb '"$MIRROR"' '"$SUITE"' main" >/etc/apt/sources.list
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm python3 make g++ >/dev/null
    update-ca-certificates >/dev/null
    echo "node $(node -v), npm $(npm -v)"
    t=$(date +%s); npm ci --no-audit --no-fund; echo "npm ci: $(( $(date +%s) - t )) s"
    t=$(date +%s); npm run build >/dev/null; echo "npm run build: $(( $(date +%s) - t )) s"
  ' </dev/null 2>&1 | tee "$OUT/build.log" || die "building from source on $SUITE failed (log: $OUT/build.log)"
  say "$SUITE: built from source in $(( $(date +%s) - t1 )) s"
  # install.sh runs its own npm ci (registry): the host's network, so the dev CSMS takes a free-looking
  # port instead of 9000, set in station.json as an operator would set ocpp.csmsUrl.
  printf 'SRC=/root/ocpp-station\nINSTALL_ARGS=""\nCSMS_PORT=%s\n' $(( 20000 + RANDOM % 10000 )) >"$OUT/env"
  boot_net=()
fi
install -m 0755 "$REPO/test/systemd/in-container.sh" "$RUN/usr/local/sbin/ocpp-station-systemd-test"
cat >"$RUN/etc/systemd/system/ocpp-station-systemd-test.service" <<'EOF'
[Unit]
Description=ocpp-station systemd test (test/systemd/in-container.sh)
After=basic.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/ocpp-station-systemd-test
# The result goes to the host through /results, then the container powers off (success or not).
ExecStopPost=/bin/systemctl --no-block poweroff
StandardOutput=file:/results/log
StandardError=inherit
TimeoutStartSec=infinity
EOF
if [ "$FROM_SOURCE" -eq 1 ]; then
  # install.sh's npm ci runs in this unit: the same trust as the build above.
  sed -i "/^\[Service\]/a Environment=NODE_EXTRA_CA_CERTS=$CA_BUNDLE" "$RUN/etc/systemd/system/ocpp-station-systemd-test.service"
fi
mkdir -p "$RUN/etc/systemd/system/multi-user.target.wants"
ln -sf ../ocpp-station-systemd-test.service "$RUN/etc/systemd/system/multi-user.target.wants/"
# Nothing else to do in this container: no login prompt, no apt timers.
for u in console-getty.service getty.target apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer; do
  ln -sf /dev/null "$RUN/etc/systemd/system/$u"
done

say "booting $SUITE under systemd-nspawn"
t1=$(date +%s)
# --register=no --keep-unit: no systemd/machined needed on the host (CI machines and containers may have none).
rc=0
timeout --kill-after=30 "$LIMIT_S" "${nspawn[@]}" "${boot_net[@]}" --boot </dev/null >"$OUT/console.log" 2>&1 || rc=$?
t2=$(date +%s)
cat "$OUT/log" 2>/dev/null || true
if [ "$rc" -ne 0 ] && [ "$rc" -ne 133 ]; then
  # 133: systemd-nspawn's "container powered off" on some versions; anything else is worth the console.
  tail -40 "$OUT/console.log"
  [ "$rc" -eq 124 ] && die "the container did not finish within ${LIMIT_S} s"
fi
verdict=$(cat "$OUT/verdict" 2>/dev/null || echo "none")
say "container run $(( t2 - t1 )) s, total $(( t2 - t0 )) s; verdict: $verdict"
[ "$verdict" = PASS ] || die "failed (console: $OUT/console.log, container root: $RUN)"
