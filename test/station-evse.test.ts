/**
 * The EVSE state machine: one test per pilot transition and one per opening path. Every opening
 * test checks relay.commanded right after the triggering call, before any await: the contactor
 * must open in the same tick as the event (docs/ARCHITECTURE.md, safety split).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { COMM_RETRY_MS, Evse, FEEDBACK_SETTLE_MS } from '../src/station/evse.js';
import { SessionFacts } from '../src/station/evse-status.js';
import { Station } from '../src/station/station.js';
import { FakeHal, MemoryLog } from './support/fake-hal.js';
import { charging, makeStation, tok } from './support/station-fixture.js';
import { errorFieldsOf } from '../src/ocpp/v16/error-codes.js';

// ---- pilot transitions ------------------------------------------------------------------------

test('pilot A→B: cable plugged, no authorization: contactor stays open, Preparing, no PWM', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  e.pilot.setState('B');
  assert.equal(e.contactor.commanded, false);
  assert.deepEqual(e.contactor.commands, []);
  assert.equal(e.pilot.maxCurrent, 0);
  assert.equal(f.lastStatus()?.status, 'Preparing');
  assert.equal(f.sessionEvents('started')[0]?.trigger, 'CablePluggedIn');
  await f.stop();
});

test('pilot B→C without authorization: contactor stays open (E02: no energy before authorization)', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  e.pilot.setState('B');
  e.pilot.setState('C');
  assert.equal(e.contactor.commanded, false);
  assert.equal(f.lastStatus()?.status, 'Preparing');
  await f.stop();
});

test('pilot B→C when authorized: contactor closes, Charging, PWM offered', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  f.csms.answers.set('AA11', { status: 'Accepted' });
  e.pilot.setState('B');
  await f.station.presentToken(tok('AA11'), 1);
  assert.equal(e.contactor.commanded, false, 'EV still in B');
  assert.equal(f.lastStatus()?.status, 'SuspendedEV');
  assert.equal(e.pilot.maxCurrent, 32, 'PWM appears with the authorization');
  e.pilot.setState('C');
  assert.equal(e.contactor.commanded, true);
  assert.equal(f.lastStatus()?.status, 'Charging');
  assert.equal(f.sessionEvents('power-path-closed').length, 1);
  await f.stop();
});

test('pilot C→B: contactor opens in the same tick, SuspendedEV', async () => {
  const f = await makeStation();
  await charging(f);
  const e = f.hal.evse(1);
  e.pilot.setState('B');
  assert.equal(e.contactor.commanded, false);
  assert.equal(f.lastStatus()?.status, 'SuspendedEV');
  assert.equal(f.station.session(1)?.chargingState, 'SuspendedEV');
  e.pilot.setState('C');
  assert.equal(e.contactor.commanded, true, 'closes again when the EV asks again');
  await f.stop();
});

test('pilot C→A: contactor opens in the same tick; session ends EVDisconnected; Available', async () => {
  const f = await makeStation();
  await charging(f);
  const e = f.hal.evse(1);
  e.pilot.setState('A');
  assert.equal(e.contactor.commanded, false);
  await f.clock.advance(0);
  assert.equal(f.lastStatus()?.status, 'Available');
  const ended = f.sessionEvents('ended');
  assert.equal(ended.length, 1);
  assert.equal(ended[0]?.session.stoppedReason, 'EVDisconnected');
  assert.equal(ended[0]?.trigger, 'EVDeparted');
  await f.stop();
});

test('pilot B→A: unplug before charging ends the session, Available, no contactor command ever', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  e.pilot.setState('B');
  e.pilot.setState('A');
  await f.clock.advance(0);
  assert.deepEqual(e.contactor.commands, []);
  assert.equal(f.lastStatus()?.status, 'Available');
  assert.equal(f.sessionEvents('ended')[0]?.session.stoppedReason, 'EVDisconnected');
  await f.stop();
});

for (const bad of ['E', 'F'] as const) {
  test(`pilot any→${bad}: contactor opens in the same tick, Faulted EVCommunicationError, PWM off`, async () => {
    const f = await makeStation();
    await charging(f);
    const e = f.hal.evse(1);
    e.pilot.setState(bad);
    assert.equal(e.contactor.commanded, false);
    assert.equal(e.pilot.maxCurrent, 0);
    assert.equal(f.lastStatus()?.status, 'Faulted');
    assert.equal(errorFieldsOf(f.lastStatus()!).errorCode, 'EVCommunicationError');
    e.pilot.setState('C');
    assert.equal(e.contactor.commanded, true, 'back to C: charging resumes');
    await f.stop();
  });
}

test('pilot C→D (ventilation): contactor stays closed, Charging', async () => {
  const f = await makeStation();
  await charging(f);
  const e = f.hal.evse(1);
  e.pilot.setState('D');
  assert.equal(e.contactor.commanded, true);
  assert.deepEqual(e.contactor.commands, [true]);
  assert.equal(f.lastStatus()?.status, 'Charging');
  await f.stop();
});

// ---- opening paths (each: relay.set(false) in the same tick) ------------------------------------

test('opens on fault of high severity: same tick, Faulted, session ended with its reason', async () => {
  const f = await makeStation();
  await charging(f);
  const e = f.hal.evse(1);
  e.meter.raise({ kind: 'overcurrent', severity: 'high', detail: '40 A' });
  assert.equal(e.contactor.commanded, false);
  await f.clock.advance(0);
  assert.equal(f.lastStatus()?.status, 'Faulted');
  assert.equal(errorFieldsOf(f.lastStatus()!).errorCode, 'OverCurrentFailure');
  assert.equal(f.sessionEvents('ended')[0]?.session.stoppedReason, 'OvercurrentFault');
  assert.deepEqual(f.ev.faults.map(([id, x]) => [id, x.kind]), [[1, 'overcurrent']]);
  assert.equal(await f.station.requestStart(1, tok('AA11'), { preAuthorized: true }), 'Rejected', 'no new session while faulted');
  await f.stop();
});

test('opens on fault of low severity: same tick, SuspendedEVSE with the error code, resumes when cleared', async () => {
  const f = await makeStation();
  await charging(f);
  const e = f.hal.evse(1);
  e.pilot.raise({ kind: 'high-temperature', severity: 'low' });
  assert.equal(e.contactor.commanded, false);
  assert.equal(f.lastStatus()?.status, 'SuspendedEVSE');
  assert.equal(errorFieldsOf(f.lastStatus()!).errorCode, 'HighTemperature');
  assert.ok(f.station.session(1), 'a low fault does not end the session');
  e.pilot.clear('high-temperature');
  assert.equal(e.contactor.commanded, true);
  assert.equal(f.lastStatus()?.status, 'Charging');
  assert.equal(errorFieldsOf(f.lastStatus()!).errorCode, 'NoError');
  await f.stop();
});

test('opens on deauthorization by the CSMS: same tick', async () => {
  const f = await makeStation();
  await charging(f);
  const e = f.hal.evse(1);
  const id = f.station.session(1)!.id;
  f.station.deauthorize(id, { status: 'Blocked' });
  assert.equal(e.contactor.commanded, false);
  await f.clock.advance(0);
  assert.equal(f.sessionEvents('deauthorized').length, 1);
  assert.equal(f.sessionEvents('ended')[0]?.session.stoppedReason, 'DeAuthorized');
  await f.stop();
});

test('opens on a zero limit: same tick, SuspendedEVSE, PWM off; closes again when the limit returns', async () => {
  const f = await makeStation();
  await charging(f);
  const e = f.hal.evse(1);
  f.station.setLimit(1, 0);
  assert.equal(e.contactor.commanded, false);
  assert.equal(e.pilot.maxCurrent, 0);
  assert.equal(f.lastStatus()?.status, 'SuspendedEVSE');
  f.station.setLimit(1, 10);
  assert.equal(e.contactor.commanded, true);
  assert.equal(e.pilot.maxCurrent, 10);
  await f.stop();
});

test('opens when the EVSE becomes unavailable: same tick, Unavailable', () => {
  const clock = new VirtualClock();
  const hal = new FakeHal({ now: () => clock.now() });
  const h = hal.evse(1);
  // The pilot/contactor layer alone, with a session view the test writes (Sessions do in the station).
  const session = new SessionFacts();
  const evse = new Evse({ hal: h, clock, log: new MemoryLog(), session, keepLockedOnEvUnplug: () => false });
  Object.assign(session, { active: true, authorized: true });
  evse.update();
  h.pilot.setState('C');
  assert.equal(h.contactor.commanded, true);
  evse.setOperative(false);
  assert.equal(h.contactor.commanded, false);
  assert.equal(evse.connector().status, 'Unavailable');
  evse.setOperative(true);
  evse.setStationOperative(false);
  assert.equal(h.contactor.commanded, false, 'station-wide unavailability too');
});

test('opens on remote stop: same tick', async () => {
  const f = await makeStation();
  await charging(f);
  const e = f.hal.evse(1);
  assert.equal(f.station.requestStop(f.station.session(1)!.id, 'Remote', 'RemoteStop'), true);
  assert.equal(e.contactor.commanded, false);
  await f.clock.advance(0);
  assert.equal(f.lastStatus()?.status, 'Finishing', 'cable still in');
  const ended = f.sessionEvents('ended');
  assert.equal(ended[0]?.session.stoppedReason, 'Remote');
  assert.equal(ended[0]?.trigger, 'RemoteStop');
  f.hal.evse(1).pilot.setState('A');
  assert.equal(f.lastStatus()?.status, 'Available');
  await f.stop();
});

test('opens on station stop: same tick, session ended with the stop reason', async () => {
  const f = await makeStation({ evses: 2 });
  await charging(f, 1, 'AA11');
  await charging(f, 2, 'BB22');
  const done = f.station.stop('Reboot');
  assert.equal(f.hal.evse(1).contactor.commanded, false);
  assert.equal(f.hal.evse(2).contactor.commanded, false);
  await done;
  assert.deepEqual(
    f.sessionEvents('ended').map((e) => e.session.stoppedReason),
    ['Reboot', 'Reboot'],
  );
  assert.equal(f.clock.pending, 0, 'no timer left behind');
  f.db.close();
});

test('opens at once on stop by the same token (second tap)', async () => {
  const f = await makeStation();
  await charging(f);
  const e = f.hal.evse(1);
  void f.station.presentToken(tok('AA11'));
  assert.equal(e.contactor.commanded, false);
  await f.stop();
});

// ---- PWM, lock, relay feedback ----------------------------------------------------------------

test('PWM follows min(hardware, limit, cable rating) while authorized, 0 otherwise', async () => {
  const f = await makeStation({ maxCurrentA: 32 });
  const e = f.hal.evse(1);
  e.pilot.setPp(20);
  e.pilot.setState('B');
  assert.equal(e.pilot.maxCurrent, 0, 'no PWM before authorization');
  f.csms.answers.set('AA11', { status: 'Accepted' });
  await f.station.presentToken(tok('AA11'), 1);
  assert.equal(e.pilot.maxCurrent, 20, 'cable rating');
  f.station.setLimit(1, 16);
  assert.equal(e.pilot.maxCurrent, 16, 'smart-charging limit');
  f.station.setLimit(1, 4);
  assert.equal(e.pilot.maxCurrent, 0, 'below 6 A there is no valid PWM');
  f.station.setLimit(1, undefined);
  assert.equal(e.pilot.maxCurrent, 20);
  await f.station.presentToken(tok('AA11'));
  assert.equal(e.pilot.maxCurrent, 0, 'session stopped: PWM off');
  await f.stop();
});

test('lock: locked before the contactor closes; unlocked after the session ends', async () => {
  const f = await makeStation({ lock: true });
  const e = f.hal.evse(1);
  f.csms.answers.set('AA11', { status: 'Accepted' });
  e.pilot.setState('B');
  assert.equal(e.lock!.locked, false, 'not locked before authorization');
  await f.station.presentToken(tok('AA11'), 1);
  assert.equal(e.lock!.locked, true);
  e.pilot.setState('C');
  assert.equal(e.contactor.commanded, true);
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(0);
  assert.equal(e.contactor.commanded, false);
  assert.equal(e.lock!.locked, false, 'released for the driver to take the cable');
  await f.stop();
});

test('lock failure: fault ConnectorLockFailure, no charge', async () => {
  const f = await makeStation({ lock: true });
  const e = f.hal.evse(1);
  e.lock!.works = false;
  f.csms.answers.set('AA11', { status: 'Accepted' });
  e.pilot.setState('B');
  await f.station.presentToken(tok('AA11'), 1);
  e.pilot.setState('C');
  await f.clock.advance(0);
  assert.equal(e.contactor.commanded, false);
  assert.deepEqual(e.contactor.commands, []);
  assert.equal(errorFieldsOf(f.lastStatus()!).errorCode, 'ConnectorLockFailure');
  assert.equal(f.lastStatus()?.status, 'SuspendedEVSE');
  await f.stop();
});

test('relay welded (feedback closed while commanded open): PowerSwitchFailure, Faulted, no new sessions', async () => {
  const f = await makeStation({ feedback: true });
  const e = f.hal.evse(1);
  e.contactor.setFeedback(true);
  await f.clock.advance(FEEDBACK_SETTLE_MS);
  assert.equal(f.lastStatus()?.status, 'Faulted');
  assert.equal(errorFieldsOf(f.lastStatus()!).errorCode, 'PowerSwitchFailure');
  assert.equal(await f.station.requestStart(1, tok('AA11'), { preAuthorized: true }), 'Rejected');
  e.contactor.setFeedback(false);
  await f.clock.advance(FEEDBACK_SETTLE_MS);
  assert.equal(f.lastStatus()?.status, 'Available', 'cleared when the contact opens');
  await f.stop();
});

test('relay stuck open (feedback open while commanded closed): PowerSwitchFailure, contactor released', async () => {
  const f = await makeStation({ feedback: true });
  const e = f.hal.evse(1);
  e.contactor.followFeedback = false;
  await charging(f);
  await f.clock.advance(FEEDBACK_SETTLE_MS);
  assert.equal(e.contactor.commanded, false);
  assert.equal(errorFieldsOf(f.lastStatus()!).errorCode, 'PowerSwitchFailure');
  assert.equal(f.lastStatus()?.status, 'SuspendedEVSE');
  await f.clock.advance(10 * FEEDBACK_SETTLE_MS);
  assert.deepEqual(e.contactor.commands, [true, false], 'no chattering retries within the session');
  await f.stop();
});

test('issue 10 #11: an open command that cannot be delivered is comm-failure (OtherError), not a welded contactor; retried until delivered, then Available without restart', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  await charging(f);
  e.contactor.unreachable = true;
  await f.station.presentToken(tok('AA11'), 1); // same token: stop → open command
  await f.clock.advance(0);
  assert.deepEqual(f.ev.faults.map(([, x]) => x.kind), ['comm-failure']);
  assert.equal(f.lastStatus()?.status, 'Faulted');
  assert.equal(errorFieldsOf(f.lastStatus()!).errorCode, 'OtherError');
  assert.equal(errorFieldsOf(f.lastStatus()!).vendorErrorCode, 'ContactorCommandUndelivered');
  assert.match(f.lastStatus()?.info ?? '', /^comm-failure/);
  assert.equal(e.contactor.commanded, false, 'commanded open');
  assert.equal(await f.station.requestStart(1, tok('BB22'), { preAuthorized: true }), 'Rejected', 'no session while unreachable');
  await f.clock.advance(5 * COMM_RETRY_MS);
  assert.equal(f.lastStatus()?.status, 'Faulted', 'still unreachable');
  e.contactor.unreachable = false;
  await f.clock.advance(COMM_RETRY_MS);
  assert.equal(f.lastStatus()?.status, 'Finishing', 'the open command went through: fault cleared (cable still in)');
  assert.deepEqual(e.contactor.commands.at(-1), false);
  e.pilot.setState('A');
  assert.equal(f.lastStatus()?.status, 'Available');
  await f.stop();
});

test('EV in C that takes no energy with the contactor closed: SuspendedEV (after a grace), Charging again when it draws', async () => {
  const f = await makeStation();
  f.station.setSampleInterval(5);
  await charging(f);
  const e = f.hal.evse(1);
  e.meter.powerW = 0;
  await f.clock.advance(5_000);
  assert.equal(f.lastStatus()?.status, 'Charging', 'within the grace after closing');
  await f.clock.advance(10_000);
  assert.equal(f.lastStatus()?.status, 'SuspendedEV');
  assert.equal(f.station.session(1)?.chargingState, 'SuspendedEV');
  assert.equal(e.contactor.commanded, true, 'the offer stays');
  e.meter.powerW = 7000;
  await f.clock.advance(5_000);
  assert.equal(f.lastStatus()?.status, 'Charging');
  await f.stop();
});

test('status is emitted only on change', async () => {
  const f = await makeStation();
  const before = f.ev.status.length;
  f.station.setLimit(1, 16);
  f.station.setLimit(1, 20);
  assert.equal(f.ev.status.length, before);
  await f.stop();
});

test('emergency stop input: every EVSE Faulted OtherError with vendorErrorCode, sessions end EmergencyStop', async () => {
  const f = await makeStation({ evses: 2, emergencyStop: true });
  await charging(f, 1);
  f.hal.emergencyStop!.set(true);
  assert.equal(f.hal.evse(1).contactor.commanded, false);
  await f.clock.advance(0);
  for (const id of [1, 2]) {
    const st = f.lastStatus(id)!;
    assert.equal(st.status, 'Faulted');
    assert.equal(errorFieldsOf(st).errorCode, 'OtherError');
    assert.equal(errorFieldsOf(st).vendorErrorCode, 'EmergencyStop');
  }
  assert.equal(f.sessionEvents('ended')[0]?.session.stoppedReason, 'EmergencyStop');
  f.hal.emergencyStop!.set(false);
  assert.equal(f.lastStatus(2)?.status, 'Available');
  await f.stop();
});

test('a listener that throws (adapter bug) does not break the station: the session still ends and is reported', async () => {
  const f = await makeStation();
  await charging(f);
  f.station.on('status', () => {
    throw new Error('adapter bug');
  });
  f.hal.evse(1).pilot.setState('A');
  assert.equal(f.hal.evse(1).contactor.commanded, false);
  await f.clock.advance(0);
  assert.equal(f.sessionEvents('ended').length, 1);
  assert.ok(f.log.lines.some((l) => l.level === 'error' && /listener failed/.test(l.msg)));
  await f.stop();
});

test('a new Station drives the outputs to the safe state, and start() reports each connector once', async () => {
  const f = await makeStation({ evses: 2, start: false });
  assert.equal(f.ev.status.length, 0, 'nothing reported before start');
  const h = f.hal.evse(2);
  await h.contactor.set(true);
  await h.pilot.setMaxCurrent(16);
  new Station({ hal: f.hal, db: f.db, clock: f.clock, log: f.log });
  assert.equal(h.contactor.commanded, false);
  assert.equal(h.pilot.maxCurrent, 0);
  await f.station.start();
  assert.deepEqual(
    f.ev.status.map((s) => [s.evseId, s.status]),
    [
      [1, 'Available'],
      [2, 'Available'],
    ],
  );
  await f.stop();
});
