/** Availability (1.6 ChangeAvailability, 2.0.1 G03/G04), reset (B11/B12), limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kvGet } from '../src/store/kv.js';
import { charging, makeStation, tok } from './support/station-fixture.js';

test('G03 EVSE inoperative when idle: Accepted, Unavailable, tokens start nothing; persisted across restart', async () => {
  const f = await makeStation({ evses: 2 });
  assert.equal(f.station.setAvailability(1, false), 'Accepted');
  assert.equal(f.lastStatus(1)?.status, 'Unavailable');
  assert.equal(f.lastStatus(2)?.status, 'Available');
  f.csms.answers.set('AA11', { status: 'Accepted' });
  await f.station.presentToken(tok('AA11'), 1);
  assert.equal(f.station.session(1), undefined);
  f.hal.evse(1).pilot.setState('B');
  assert.equal(f.station.session(1), undefined, 'plugging in opens no session either');
  await f.station.stop();
  const g = await makeStation({ evses: 2, db: f.db, clock: f.clock });
  assert.equal(g.lastStatus(1)?.status, 'Unavailable');
  g.hal.evse(1).pilot.setState('B');
  assert.equal(g.station.session(1), undefined);
  assert.equal(g.station.setAvailability(1, true), 'Accepted');
  assert.equal(g.lastStatus(1)?.status, 'Preparing', 'back in service with the cable in: the session opens');
  await g.stop();
  f.db.close();
});

test('G03.FR.02 inoperative while charging: Scheduled, charging goes on, applied when the session ends', async () => {
  const f = await makeStation();
  await charging(f);
  assert.equal(f.station.setAvailability(1, false), 'Scheduled');
  assert.equal(f.hal.evse(1).contactor.commanded, true);
  assert.equal(f.lastStatus()?.status, 'Charging');
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(0);
  assert.equal(f.lastStatus()?.status, 'Unavailable');
  await f.stop();
});

test('G04 station inoperative (evseId 0): idle EVSEs at once, busy ones when their session ends', async () => {
  const f = await makeStation({ evses: 2 });
  await charging(f, 1);
  assert.equal(f.station.setAvailability(0, false), 'Scheduled');
  assert.equal(f.lastStatus(2)?.status, 'Unavailable');
  assert.equal(f.lastStatus(1)?.status, 'Charging');
  assert.deepEqual(kvGet(f.db, 'availability'), { station: false, evses: {} });
  f.station.requestStop(f.station.session(1)!.id, 'Remote', 'RemoteStop');
  await f.clock.advance(0);
  assert.equal(f.lastStatus(1)?.status, 'Unavailable');
  assert.equal(f.station.setAvailability(0, true), 'Accepted');
  assert.equal(f.lastStatus(2)?.status, 'Available');
  assert.equal(f.station.setAvailability(7, true), 'Rejected');
  await f.stop();
});

test('B11 soft reset: sessions end SoftReset / ResetCommand, the reset is recorded, then restart is requested', async () => {
  const f = await makeStation();
  await charging(f);
  assert.equal(f.station.reset('Soft'), 'Accepted');
  assert.equal(f.hal.evse(1).contactor.commanded, false);
  await f.clock.advance(0);
  const ended = f.sessionEvents('ended')[0]!;
  assert.equal(ended.session.stoppedReason, 'SoftReset');
  assert.equal(ended.trigger, 'ResetCommand');
  assert.deepEqual(f.ev.restarts, ['SoftReset']);
  assert.equal(kvGet(f.db, 'pending-reset'), 'Soft');
  await f.station.stop();
  const g = await makeStation({ db: f.db, clock: f.clock });
  assert.equal(g.station.lastReset(), 'Soft');
  await g.stop();
  f.db.close();
});

test('hard and immediate resets carry their reasons', async () => {
  for (const [kind, reason, restart] of [
    ['Hard', 'HardReset', 'HardReset'],
    ['Immediate', 'ImmediateReset', 'Immediate'],
  ] as const) {
    const f = await makeStation();
    await charging(f);
    f.station.reset(kind);
    await f.clock.advance(0);
    assert.equal(f.sessionEvents('ended')[0]?.session.stoppedReason, reason);
    assert.deepEqual(f.ev.restarts, [restart]);
    await f.stop();
  }
});

test('B12 OnIdle reset waits for the last session to end', async () => {
  const f = await makeStation();
  await charging(f);
  assert.equal(f.station.reset('OnIdle'), 'Scheduled');
  await f.clock.advance(60_000);
  assert.deepEqual(f.ev.restarts, []);
  assert.ok(f.station.session(1));
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(0);
  assert.deepEqual(f.ev.restarts, ['SoftReset']);
  await f.stop();
});

test('EVSE reset ends only that EVSE\'s session', async () => {
  const f = await makeStation({ evses: 2 });
  await charging(f, 1, 'AA11');
  await charging(f, 2, 'BB22');
  assert.equal(f.station.reset('Immediate', 2), 'Accepted');
  await f.clock.advance(0);
  assert.ok(f.station.session(1));
  assert.equal(f.station.session(2), undefined);
  assert.deepEqual(f.ev.restarts, []);
  await f.stop();
});

test('unlock: refused during an authorized session, works after; NotSupported without a lock', async () => {
  const f = await makeStation({ lock: true });
  await charging(f);
  assert.equal(await f.station.unlock(1), 'OngoingAuthorizedTransaction');
  assert.equal(f.hal.evse(1).lock!.locked, true);
  f.station.requestStop(f.station.session(1)!.id, 'UnlockCommand', 'UnlockCommand');
  assert.equal(await f.station.unlock(1), 'Unlocked');
  assert.equal(await f.station.unlock(3), 'UnknownConnector');
  await f.stop();
  const g = await makeStation();
  assert.equal(await g.station.unlock(1), 'NotSupported');
  await g.stop();
});
