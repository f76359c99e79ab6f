#!/usr/bin/env bash
# Runs inside the test container (systemd is PID 1), started by test/systemd/run.sh as a oneshot unit
# Writes PASS or FAIL to /results/verdict; its output is /results/log.
# /results/env (written by run.sh): SRC (the checkout, built), INSTALL_ARGS (for install.sh),
# CSMS_PORT (the dev CSMS's port; station.json is pointed at it when not the example's 9000).
set -uo pipefail
exec 2>&1
# shellcheck disable=SC1091
. /results/env

UNIT=ocpp-station
STATE=/var/lib/ocpp-station
CLI=(node /opt/ocpp-station/dist/src/cli.js)
T0=$(date +%s)
echo FAIL >/results/verdict # until the end says otherwise

step() { echo "[$(( $(date +%s) - T0 ))s] == $*"; }
fail() {
  echo "FAIL: $*"
  systemctl status --no-pager "$UNIT" || true
  journalctl --no-pager -u "$UNIT" | tail -60
  exit 1
}
prop() { systemctl show -P "$1" "$UNIT"; }
sim() { "${CLI[@]}" sim "$@" --state-dir "$STATE"; }
# wait_until SECONDS WHAT COMMAND…: polls COMMAND every half second.
wait_until() {
  local limit=$1 what=$2 end
  shift 2
  end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || fail "not within ${limit} s: $what"
    sleep 0.5
  done
}
contactor_is() { # closed|open, EVSE 1, as the simulated board's relay reports it over the control socket
  sim status --json | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const evse = JSON.parse(s).status.evses.find((e) => e.id === 1);
      process.exit(evse && (evse.contactorClosed ? "closed" : "open") === process.argv[1] ? 0 : 1);
    });' "$1"
}
restarted_since() { # old MainPID: a new main process, and active again
  local pid
  pid=$(prop MainPID)
  [ "$pid" != 0 ] && [ "$pid" != "$1" ] && [ "$(systemctl is-active "$UNIT")" = active ]
}
# A car charging on EVSE 1: plugged, authorized by the dev CSMS, asking for energy; the contactor closes.
charge() {
  sim plug >/dev/null || fail "sim plug"
  sim tap 04A1B2C3D4 >/dev/null || fail "sim tap"
  sim ev-ready >/dev/null || fail "sim ev-ready"
  wait_until 30 "contactor closed for a charging car" contactor_is closed
  sim status
}

step "node $(node -v), $(systemctl --version | head -1)"

step "install as the README says: $SRC/scripts/install.sh $INSTALL_ARGS"
# shellcheck disable=SC2086
"$SRC/scripts/install.sh" $INSTALL_ARGS || fail "install.sh exited $?"
[ "$(systemctl is-enabled "$UNIT")" = enabled ] || fail "unit not enabled"
if [ "$CSMS_PORT" != 9000 ]; then
  sed -i "s#ws://127.0.0.1:9000/ocpp#ws://127.0.0.1:$CSMS_PORT/ocpp#" /etc/ocpp-station/station.json
  grep -q "127.0.0.1:$CSMS_PORT" /etc/ocpp-station/station.json || fail "could not set ocpp.csmsUrl"
fi

step "the dev CSMS the config points at (ws://127.0.0.1:$CSMS_PORT/ocpp)"
# From the checkout: the installed package does not ship the dev CSMS (dist/devtools).
systemd-run --unit=dev-csms --property=Type=exec node "$SRC/dist/devtools/csms-cli.js" --port "$CSMS_PORT" ||
  fail "could not start the dev CSMS"
wait_until 30 "dev CSMS listening on $CSMS_PORT" bash -c "exec 3<>/dev/tcp/127.0.0.1/$CSMS_PORT"

step "systemctl start: Type=notify, active only after READY=1"
systemctl start "$UNIT" || fail "systemctl start exited $?"
[ "$(systemctl is-active "$UNIT")" = active ] || fail "not active after start"
[ "$(prop Type)" = notify ] || fail "Type is $(prop Type)"
[ "$(prop StatusText)" != "" ] || fail "no STATUS= from the daemon"
echo "status: $(prop StatusText)"
inv=$(prop InvocationID)
wait_until 30 "BootNotification accepted by the dev CSMS" \
  bash -c "journalctl -o cat _SYSTEMD_INVOCATION_ID=$inv | grep -q 'BootNotification answered status=Accepted'"
pid=$(prop MainPID)

step "a charging session closes the contactor"
charge

step "SIGKILL: systemd starts it again (Restart=always)"
systemctl kill -s KILL "$UNIT"
wait_until 60 "a new main process after SIGKILL" restarted_since "$pid"
[ "$(prop NRestarts)" -ge 1 ] || fail "NRestarts $(prop NRestarts)"
echo "MainPID $pid -> $(prop MainPID), NRestarts $(prop NRestarts)"
pid=$(prop MainPID)

step "hung daemon (SIGSTOP): no WATCHDOG=1 for WatchdogSec=$(prop WatchdogUSec), systemd kills and restarts it"
systemctl kill -s STOP --kill-who=main "$UNIT"
wait_until 150 "a new main process after the watchdog expired" restarted_since "$pid"
journalctl --no-pager -u "$UNIT" | grep -q 'Watchdog timeout' || fail "no 'Watchdog timeout' in the journal"
echo "MainPID $pid -> $(prop MainPID), NRestarts $(prop NRestarts)"
journalctl --no-pager -u "$UNIT" | grep -E 'Watchdog timeout|Killing process|Scheduled restart' | tail -4

step "systemctl stop while charging: exit 0, contactors open"
wait_until 30 "the control socket after the restart" sim status
charge
inv=$(prop InvocationID)
systemctl stop "$UNIT" || fail "systemctl stop exited $?"
[ "$(systemctl is-active "$UNIT")" = inactive ] || fail "$(systemctl is-active "$UNIT") after stop"
[ "$(prop Result)" = success ] || fail "Result=$(prop Result)"
[ "$(prop ExecMainStatus)" = 0 ] || fail "exit status $(prop ExecMainStatus)"
journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID="$inv" | tail -12
safe=$(journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID="$inv" | grep 'outputs safe contactors=') ||
  fail "no 'outputs safe' line in the journal of the stopped run"
case "$safe" in *'"commanded":"open"'*) ;; *) fail "contactor not open at exit: $safe" ;; esac
case "$safe" in *'"commanded":"closed"'*) fail "a contactor still closed at exit: $safe" ;; esac
journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID="$inv" | grep -q 'stopped exitCode=0' || fail "no 'stopped exitCode=0'"

step "uninstall.sh: the unit and /opt/ocpp-station go, config and state stay"
systemctl stop dev-csms
"$SRC/scripts/uninstall.sh" || fail "uninstall.sh exited $?"
[ ! -e /etc/systemd/system/$UNIT.service ] || fail "unit file left"
[ ! -e /opt/ocpp-station ] || fail "/opt/ocpp-station left"
[ -f /etc/ocpp-station/station.json ] || fail "station.json removed without --purge"
[ -f "$STATE/station.db" ] || fail "the database removed without --purge"
[ "$(systemctl show -P LoadState "$UNIT")" = not-found ] || fail "systemd still knows $UNIT: $(systemctl show -P LoadState "$UNIT")"

step "PASS in $(( $(date +%s) - T0 )) s"
echo PASS >/results/verdict
