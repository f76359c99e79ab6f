/**
 * The seams of the station core (issue 12 #2 / #3): the pilot/contactor layer gives one snapshot per
 * physical change; the EVSE for a token or a remote start without an EVSE is chosen once, in the core,
 * and both OCPP versions get the same choice; a session reports its milestones (started, ended = energy
 * stopped, closed) in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { Evse, type EvseSnapshot } from '../src/station/evse.js';
import { SessionFacts } from '../src/station/evse-status.js';
import { FakeHal, MemoryLog } from './support/fake-hal.js';
import { charging, makeStation, tok } from './support/station-fixture.js';
import { startV16Station, IDENTITY as V16_IDENTITY } from './support/v16-station.js';
import { bootedV201Station } from './support/v201-station.js';

function lone(): { h: ReturnType<FakeHal['evse']>; evse: Evse; session: SessionFacts; snaps: EvseSnapshot[] } {
  const clock = new VirtualClock();
  const hal = new FakeHal({ now: () => clock.now() });
  const h = hal.evse(1);
  const session = new SessionFacts();
  const evse = new Evse({ hal: h, clock, log: new MemoryLog(), session, keepLockedOnEvUnplug: () => false });
  const snaps: EvseSnapshot[] = [];
  evse.on('snapshot', (s) => snaps.push(s));
  return { h, evse, session, snaps };
}

test('one physical change, one snapshot: a pilot change that plugs, closes the contactor or unplugs gives exactly one event, taken after the contactor moved', () => {
  const { h, evse, session, snaps } = lone();
  h.pilot.setState('B');
  assert.equal(snaps.length, 1, 'plug: one event (not plugged + status + charging state + pilot)');
  assert.deepEqual(snaps[0]!.cause, { kind: 'pilot', previous: 'A', plugChanged: true });
  Object.assign(session, { active: true, authorized: true });
  evse.update();
  snaps.length = 0;
  h.pilot.setState('C');
  assert.equal(snaps.length, 1, 'EV asks: one event (not status + charging state + power path + pilot)');
  assert.equal(snaps[0]!.contactorClosed, true);
  assert.deepEqual(snaps[0]!.cause, { kind: 'pilot', previous: 'B', plugChanged: false });
  snaps.length = 0;
  h.pilot.setState('A');
  assert.equal(snaps.length, 1, 'unplug: one event');
  assert.equal(snaps[0]!.contactorClosed, false, 'the snapshot is taken after the contactor opened');
  assert.equal(snaps[0]!.plugged, false);
  assert.equal(h.contactor.commanded, false);
});

test('one physical change, one snapshot: a fault gives one event that carries it, and the contactor is open by then', () => {
  const { h, evse, session, snaps } = lone();
  Object.assign(session, { active: true, authorized: true });
  h.pilot.setState('C');
  evse.update();
  assert.equal(h.contactor.commanded, true);
  snaps.length = 0;
  h.pilot.raise({ kind: 'rcd-trip', severity: 'high' });
  assert.equal(snaps.length, 1);
  assert.deepEqual(snaps[0]!.cause, { kind: 'fault-raised', fault: { kind: 'rcd-trip', severity: 'high' } });
  assert.equal(snaps[0]!.contactorClosed, false);
});

test('EVSE choice made once in the core: a token without an EVSE goes to the EVSE whose cable waits, not to the first free one', async () => {
  const f = await makeStation({ evses: 2 });
  try {
    f.csms.answers.set('AA11', { status: 'Accepted' });
    assert.equal(f.station.evseFor(tok('AA11')), 1, 'both free, no cable: the first');
    f.hal.evse(2).pilot.setState('B');
    assert.equal(f.station.evseFor(tok('AA11')), 2, 'the cable in EVSE 2 waits for a token');
    await f.station.presentToken(tok('AA11'));
    assert.ok(f.station.session(2)?.authorizedAt !== undefined, 'presentToken took the same choice');
    assert.equal(f.station.session(1), undefined);
  } finally {
    await f.stop();
  }
});

test('EVSE choice made once: 1.6 RemoteStartTransaction without connectorId starts where the cable waits (EVSE 2), as a tapped card would', async () => {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0' }, evses: 2 });
  try {
    await s.until('boot and statuses', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 3);
    s.sim.plug(2);
    await s.run(1000);
    assert.deepEqual(await s.csms.call(V16_IDENTITY, 'RemoteStartTransaction', { idTag: 'APP-USER-1' }), { status: 'Accepted' });
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    assert.equal(s.calls<{ connectorId: number }>('StartTransaction')[0]!.connectorId, 2);
  } finally {
    await s.close();
  }
});

test('EVSE choice made once: 2.0.1 RequestStartTransaction without evseId (F01) starts where the cable waits (EVSE 2), the same choice as 1.6', async () => {
  const s = await bootedV201Station({ evses: 2 });
  try {
    s.sim.plug(2);
    await s.run(1000);
    const res = await s.call<{ status: string }>('RequestStartTransaction', { remoteStartId: 7, idToken: { idToken: 'APP-USER-1', type: 'Central' } });
    assert.equal(res.status, 'Accepted');
    await s.until('Started on EVSE 2', () =>
      s.calls<{ evse?: { id: number }; transactionInfo: { remoteStartId?: number } }>('TransactionEvent').some((t) => t.evse?.id === 2),
    );
    assert.equal(s.station.session(1), undefined, 'EVSE 1 untouched');
    assert.equal(s.station.session(2)?.remoteStartId, 7);
  } finally {
    await s.close();
  }
});

test('session milestones in order: started, ended (energy stopped, cable still in), closed when the cable leaves', async () => {
  const f = await makeStation();
  const milestones = () => f.sessionEvents().filter((e) => ['started', 'ended', 'closed'].includes(e.type)).map((e) => e.type);
  try {
    await charging(f);
    assert.deepEqual(milestones(), ['started']);
    await f.station.presentToken(tok('AA11'));
    assert.equal(f.hal.evse(1).contactor.commanded, false, 'energy stopped at the stop');
    await f.clock.advance(0);
    assert.deepEqual(milestones(), ['started', 'ended']);
    f.hal.evse(1).pilot.setState('A');
    await f.clock.advance(0);
    assert.deepEqual(milestones(), ['started', 'ended', 'closed']);
    assert.equal(f.sessionEvents('closed')[0]!.session.chargingState, 'Idle');
  } finally {
    await f.stop();
  }
});
