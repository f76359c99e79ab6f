/**
 * Two version-neutral station facts the adapters build on: a session's 'closed' milestone (the cable of
 * a session that ended with it in leaves, or another session takes the EVSE: 2.0.1 E06.FR.02 with
 * TxStopPoint EVConnected, 1.6 Finishing) and 'limit' (an EVSE's effective current limit changed:
 * 2.0.1 SC.02 / ChargingRateChanged).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { charging, makeStation, tok } from './support/station-fixture.js';

test('E06.FR.02 support: a session stopped by its token with the cable in ends at the stop; its closed milestone (Idle, EVDeparted) follows only when the cable leaves', async () => {
  const f = await makeStation();
  const closed = () => f.sessionEvents('closed');
  try {
    await charging(f);
    await f.station.presentToken(tok('AA11'));
    await f.clock.advance(0);
    const ended = f.sessionEvents('ended');
    assert.equal(ended.length, 1, 'the session ends at the stop, as before (1.6 StopTransaction goes there)');
    assert.equal(ended[0]!.session.chargingState, 'EVConnected');
    assert.equal(f.hal.evse(1).contactor.commanded, false);
    assert.equal(closed().length, 0, 'the cable is still in');
    await f.clock.advance(60_000);
    assert.equal(closed().length, 0);

    f.hal.evse(1).pilot.setState('A');
    await f.clock.advance(0);
    assert.equal(closed().length, 1);
    const d = closed()[0]!;
    assert.equal(d.session.id, ended[0]!.session.id);
    assert.equal(d.type, 'closed');
    assert.equal(d.trigger, 'EVDeparted');
    assert.equal(d.session.chargingState, 'Idle');
    assert.equal(d.session.stoppedReason, 'Local', 'the stop reason is kept');
    assert.equal(d.at, f.clock.now());
    assert.equal(f.sessionEvents('ended').length, 1, 'no second end');

    f.hal.evse(1).pilot.setState('B');
    f.hal.evse(1).pilot.setState('A');
    await f.clock.advance(0);
    assert.equal(closed().filter((e) => e.session.id === d.session.id).length, 1, 'told once');
  } finally {
    await f.stop();
  }
});

test('closed milestone: at once after the end when the cable left first (EV side unplug ends it); before the next started when a new session takes the cable, with that session\'s trigger', async () => {
  const f = await makeStation();
  const closed = () => f.sessionEvents('closed');
  try {
    await charging(f);
    const first = f.station.session(1)!.id;
    f.hal.evse(1).pilot.setState('A'); // StopTxOnEVSideDisconnect (default true) ends it with the cable out
    await f.clock.advance(0);
    assert.equal(f.sessionEvents('ended').length, 1);
    assert.deepEqual(closed().map((e) => [e.session.id, e.trigger]), [[first, 'EVDeparted']], 'closed right after its end');

    await charging(f, 1, 'BB22');
    const second = f.station.session(1)!.id;
    await f.station.presentToken(tok('BB22'));
    await f.clock.advance(0);
    assert.equal(f.sessionEvents('ended').length, 2);
    assert.equal(closed().length, 1, 'the second session\'s cable is still in');
    f.csms.answers.set('CC33', { status: 'Accepted' });
    await f.station.presentToken(tok('CC33'), 1); // a new session on the cable still in
    await f.clock.advance(0);
    const third = f.station.session(1)!.id;
    assert.deepEqual(closed().map((e) => [e.session.id, e.trigger]).at(-1), [second, 'Authorized'], 'the new session took the EVSE');
    const order = f.sessionEvents().filter((e) => e.session.id === second || e.session.id === third).map((e) => `${e.type}:${e.session.id === second ? 2 : 3}`);
    const at = order.indexOf('closed:2');
    assert.deepEqual(order.slice(at, at + 2), ['closed:2', 'started:3'], 'closed just before the next started');
    f.hal.evse(1).pilot.setState('A');
    await f.clock.advance(0);
    assert.equal(closed().filter((e) => e.session.id === second).length, 1, 'closed once');
  } finally {
    await f.stop();
  }
});

test('limit: told when setLimit and the profiles change the effective limit (capped by the hardware maximum), not when it stays the same', async () => {
  const f = await makeStation();
  const limits: [number, number][] = [];
  f.station.on('limit', (id, amps) => limits.push([id, amps]));
  try {
    const max = f.hal.evse(1).maxCurrentA;
    f.station.setLimit(1, 16);
    f.station.setLimit(1, 16);
    f.station.setLimit(1, max + 10);
    f.station.setLimit(1, undefined);
    const t0 = f.clock.now();
    const r = f.station.chargingProfiles.set({
      id: 7,
      evseId: 1,
      stackLevel: 0,
      purpose: 'TxDefaultProfile',
      kind: 'Absolute',
      schedule: { unit: 'A', startSchedule: t0, periods: [{ startPeriodS: 0, limit: 10 }, { startPeriodS: 60, limit: 20 }] },
    });
    assert.deepEqual(r, { status: 'Accepted' });
    await f.clock.advance(60_000);
    f.station.setLimit(1, 8);
    assert.deepEqual(limits, [
      [1, 16],
      [1, max], // above the hardware: the hardware maximum
      [1, 10], // the profile
      [1, 20], // its next period, on the profile timer
      [1, 8], // a manual limit below it
    ]);
  } finally {
    await f.stop();
  }
});
