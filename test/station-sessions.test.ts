/** Session lifecycle, persistence and power-loss recovery (2.0.1 E01-E07, E11; 1.6 §3.x, §4.8, §4.10). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../base/clock.js';
import { openDatabase } from '../src/store/db.js';
import { kvSet } from '../src/store/kv.js';
import { loadSession } from '../src/store/sessions.js';
import type { Session } from '../src/station/api.js';
import { charging, makeStation, tok } from './support/station-fixture.js';

function withTmp(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'station-sess-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('E02 cable first: started(CablePluggedIn) → authorized → power path → ended once, in order', async () => {
  const f = await makeStation();
  f.hal.evse(1).meter.energyWh = 1000;
  await f.clock.advance(0);
  await charging(f);
  f.hal.evse(1).meter.energyWh = 1750;
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(0);
  assert.deepEqual(
    f.ev.session.map((e) => `${e.type}:${e.trigger}:${e.session.chargingState}`),
    [
      'started:CablePluggedIn:EVConnected',
      'authorized:Authorized:EVConnected',
      'charging-state:ChargingStateChanged:SuspendedEV',
      'charging-state:ChargingStateChanged:Charging',
      'power-path-closed:ChargingStateChanged:Charging',
      'ended:StopAuthorized:EVConnected',
    ],
  );
  assert.deepEqual(
    f.ev.status.map((s) => s.status),
    ['Available', 'Preparing', 'SuspendedEV', 'Charging', 'Finishing'],
  );
  const s = f.sessionEvents('ended')[0]!.session;
  assert.equal(s.stoppedReason, 'Local');
  assert.equal(s.meterStartWh, 1000);
  assert.equal(s.meterStopWh, 1750);
  assert.equal(s.powerPathClosed, false);
  assert.ok(s.evConnectedAt !== undefined && s.authorizedAt !== undefined && s.endedAt !== undefined);
  await f.stop();
});

test('E03 IdToken first: started(Authorized) carries the token; ev-connected follows', async () => {
  const f = await makeStation();
  f.csms.answers.set('AA11', { status: 'Accepted', groupId: 'G' });
  await f.station.presentToken(tok('AA11'), 1);
  assert.equal(f.lastStatus()?.status, 'Preparing');
  f.hal.evse(1).pilot.setState('B');
  const types = f.ev.session.map((e) => e.type);
  assert.deepEqual(types.slice(0, 2), ['started', 'ev-connected']);
  assert.equal(f.ev.session[0]?.trigger, 'Authorized');
  assert.equal(f.ev.session[0]?.session.idToken?.idToken, 'AA11');
  assert.equal(f.ev.session[0]?.session.auth?.groupId, 'G');
  await f.stop();
});

test('every change is in SQLite before it is reported', async () => {
  const f = await makeStation();
  const seen: (Session | undefined)[] = [];
  f.station.on('session', (e) => seen.push(loadSession<Session>(f.db, e.session.id)));
  await charging(f);
  for (let i = 0; i < f.ev.session.length; i++) {
    assert.deepEqual(seen[i], f.ev.session[i]!.session, `event ${i} (${f.ev.session[i]!.type}) was persisted first`);
  }
  await f.stop();
});

test(
  'power cut (SIGKILL): a new Station on the same DB ends the open session with PowerLoss and emits it once',
  withTmp(async (dir) => {
    const path = join(dir, 'station.db');
    const clock = new VirtualClock();
    const first = await makeStation({ dbPath: path, clock });
    first.hal.evse(1).meter.energyWh = 5000;
    await first.clock.advance(0);
    await charging(first);
    const id = first.station.session(1)!.id;
    // No stop(): the process is gone. A second process opens the same file.
    await clock.advance(3_600_000);
    const second = await makeStation({ dbPath: path, clock, start: false });
    second.hal.evse(1).meter.energyWh = 5400;
    await second.station.start();
    const ended = second.sessionEvents('ended');
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.session.id, id);
    assert.equal(ended[0]!.session.stoppedReason, 'PowerLoss');
    assert.equal(ended[0]!.session.meterStartWh, 5000);
    assert.equal(ended[0]!.session.meterStopWh, 5400);
    assert.equal(ended[0]!.session.idToken?.idToken, 'AA11');
    assert.equal(loadSession<Session>(second.db, id)?.stoppedReason, 'PowerLoss');
    assert.equal(second.station.session(1), undefined);
    await second.stop();
    const third = await makeStation({ dbPath: path, clock });
    assert.equal(third.sessionEvents('ended').length, 0, 'reported once only');
    await third.stop();
    first.db.close();
  }),
);

test(
  'a reset recorded before the restart gives the reason of the sessions left open (HardReset / SoftReset)',
  withTmp(async (dir) => {
    const path = join(dir, 'station.db');
    const clock = new VirtualClock();
    const first = await makeStation({ dbPath: path, clock });
    await charging(first);
    kvSet(first.db, 'pending-reset', 'Soft');
    const second = await makeStation({ dbPath: path, clock });
    assert.equal(second.sessionEvents('ended')[0]?.session.stoppedReason, 'SoftReset');
    assert.equal(second.sessionEvents('ended')[0]?.trigger, 'ResetCommand');
    assert.equal(second.station.lastReset(), 'Soft');
    await second.stop();
    const third = await makeStation({ dbPath: path, clock });
    assert.equal(third.station.lastReset(), undefined, 'the record is consumed');
    await third.stop();
    first.db.close();
  }),
);

test(
  'an end that was written but never reported (killed in between) is reported at the next start',
  withTmp(async (dir) => {
    const path = join(dir, 'station.db');
    const clock = new VirtualClock();
    const first = await makeStation({ dbPath: path, clock });
    await charging(first);
    const id = first.station.session(1)!.id;
    const db = openDatabase(path);
    db.prepare('UPDATE sessions SET end_reported = 0, ended_at = 1').run();
    const row = loadSession<Session>(db, id)!;
    db.prepare('UPDATE sessions SET data = ? WHERE id = ?').run(JSON.stringify({ ...row, endedAt: 1, stoppedReason: 'Local' }), id);
    db.close();
    const second = await makeStation({ dbPath: path, clock });
    const ended = second.sessionEvents('ended');
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.session.stoppedReason, 'Local');
    await second.stop();
    first.db.close();
  }),
);

test('StopTxOnEVSideDisconnect=false: unplug keeps the session (SuspendedEV, still locked), a tap stops it', async () => {
  const f = await makeStation({ lock: true, auth: { stopTxOnEVSideDisconnect: false, unlockConnectorOnEVSideDisconnect: false } });
  await charging(f);
  const e = f.hal.evse(1);
  e.pilot.setState('A');
  assert.equal(e.contactor.commanded, false);
  await f.clock.advance(0);
  assert.ok(f.station.session(1), 'session continues');
  assert.equal(f.sessionEvents('ev-disconnected').length, 1);
  assert.equal(f.lastStatus()?.status, 'SuspendedEV');
  assert.equal(e.lock!.locked, true, 'UnlockConnectorOnEVSideDisconnect=false keeps the cable locked');
  e.pilot.setState('B');
  e.pilot.setState('C');
  assert.equal(e.contactor.commanded, true, 'EV back: charging resumes');
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(0);
  assert.equal(f.sessionEvents('ended')[0]?.session.stoppedReason, 'Local');
  await f.stop();
});

test('E09.FR.03 StopTxOnEVSideDisconnect=true, UnlockOnEVSideDisconnect=false: ended, cable stays locked until its owner taps', async () => {
  const f = await makeStation({ lock: true, auth: { stopTxOnEVSideDisconnect: true, unlockConnectorOnEVSideDisconnect: false } });
  await charging(f);
  const e = f.hal.evse(1);
  e.pilot.setState('A');
  assert.equal(e.contactor.commanded, false);
  await f.clock.advance(0);
  assert.equal(f.sessionEvents('ended')[0]?.session.stoppedReason, 'EVDisconnected');
  assert.equal(e.lock!.locked, true);
  f.csms.answers.set('THIEF', { status: 'Accepted' });
  await f.station.presentToken(tok('THIEF'), 1);
  assert.equal(e.lock!.locked, true, 'someone else does not get the cable');
  await f.station.presentToken(tok('THIEF'));
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(0);
  assert.equal(e.lock!.locked, false);
  await f.stop();
});

test('E09.FR.02 StopTxOnEVSideDisconnect=true, UnlockOnEVSideDisconnect=true: ended and unlocked', async () => {
  const f = await makeStation({ lock: true, auth: { stopTxOnEVSideDisconnect: true, unlockConnectorOnEVSideDisconnect: true } });
  await charging(f);
  f.hal.evse(1).pilot.setState('A');
  await f.clock.advance(0);
  assert.equal(f.hal.evse(1).lock!.locked, false);
  await f.stop();
});

test('UnlockConnectorOnEVSideDisconnect=true with StopTxOnEVSideDisconnect=false: unplug unlocks', async () => {
  const f = await makeStation({ lock: true, auth: { stopTxOnEVSideDisconnect: false, unlockConnectorOnEVSideDisconnect: true } });
  await charging(f);
  f.hal.evse(1).pilot.setState('A');
  await f.clock.advance(0);
  assert.equal(f.hal.evse(1).lock!.locked, false);
  assert.ok(f.station.session(1));
  await f.stop();
});

test('E03.FR.05 EVConnectionTimeOut: authorized without cable ends with Timeout / EVConnectTimeout after connectionTimeOutS', async () => {
  const f = await makeStation({ auth: { connectionTimeOutS: 60 } });
  f.csms.answers.set('AA11', { status: 'Accepted' });
  await f.station.presentToken(tok('AA11'), 1);
  await f.clock.advance(59_000);
  assert.ok(f.station.session(1), 'still waiting at 59 s');
  await f.clock.advance(1_000);
  assert.equal(f.station.session(1), undefined);
  const ended = f.sessionEvents('ended')[0]!;
  assert.equal(ended.session.stoppedReason, 'Timeout');
  assert.equal(ended.trigger, 'EVConnectTimeout');
  assert.equal(f.lastStatus()?.status, 'Available');
  await f.stop();
});

test('ConnectionTimeOut: cable without authorization times out too; a cable in time does not', async () => {
  const f = await makeStation({ evses: 2, auth: { connectionTimeOutS: 30 } });
  f.hal.evse(1).pilot.setState('B');
  f.csms.answers.set('AA11', { status: 'Accepted' });
  await f.station.presentToken(tok('AA11'), 2);
  await f.clock.advance(10_000);
  f.hal.evse(2).pilot.setState('B');
  await f.clock.advance(25_000);
  assert.equal(f.station.session(1), undefined, 'cable alone timed out');
  assert.equal(f.sessionEvents('ended')[0]?.session.stoppedReason, 'Timeout');
  assert.ok(f.station.session(2), 'authorized and plugged in time: no timeout');
  await f.clock.advance(600_000);
  assert.ok(f.station.session(2));
  await f.stop();
});

test('E07.FR.01 second tap of the same token stops the session: Local / StopAuthorized, with stopIdToken', async () => {
  const f = await makeStation();
  await charging(f);
  const info = await f.station.presentToken(tok('AA11'));
  assert.equal(info.status, 'Accepted');
  await f.clock.advance(0);
  const s = f.sessionEvents('ended')[0]!;
  assert.equal(s.trigger, 'StopAuthorized');
  assert.equal(s.session.stoppedReason, 'Local');
  assert.equal(s.session.stopIdToken?.idToken, 'AA11');
  assert.deepEqual(f.csms.calls, ['AA11'], 'the same token stops without asking the CSMS again');
  assert.equal(f.lastStatus()?.status, 'Finishing');
  await f.stop();
});

test('C09.FR.03 a token of the same group stops the session (asked to the CSMS when not known locally, C09.FR.05)', async () => {
  const f = await makeStation();
  f.csms.answers.set('AA11', { status: 'Accepted', groupId: 'FAMILY' });
  f.csms.answers.set('BB22', { status: 'Accepted', groupId: 'FAMILY' });
  f.hal.evse(1).pilot.setState('B');
  await f.station.presentToken(tok('AA11'), 1);
  await f.station.presentToken(tok('BB22'));
  await f.clock.advance(0);
  const s = f.sessionEvents('ended')[0]!.session;
  assert.equal(s.stoppedReason, 'Local');
  assert.equal(s.stopIdToken?.idToken, 'BB22');
  await f.stop();
});

test('C16.FR.02/03 master pass stops every session and starts none', async () => {
  const f = await makeStation({ evses: 2, auth: { masterPassGroupId: 'MASTER' } });
  await charging(f, 1, 'AA11');
  await charging(f, 2, 'BB22');
  f.csms.answers.set('BOSS', { status: 'Accepted', groupId: 'MASTER' });
  await f.station.presentToken(tok('BOSS'));
  await f.clock.advance(0);
  assert.deepEqual(
    f.sessionEvents('ended').map((e) => [e.session.stoppedReason, e.session.stopIdToken?.idToken]),
    [
      ['MasterPass', 'BOSS'],
      ['MasterPass', 'BOSS'],
    ],
  );
  assert.equal(f.station.sessions().length, 0);
  await f.stop();
});

test('C09.FR.07 a group mate known to the local list stops without asking the CSMS; a Blocked one does not (C09.FR.11)', async () => {
  const f = await makeStation();
  f.station.updateLocalList(1, true, [
    { idToken: tok('AA11'), auth: { status: 'Accepted', groupId: 'FAMILY' } },
    { idToken: tok('KID'), auth: { status: 'Accepted', groupId: 'FAMILY' } },
    { idToken: tok('OLD'), auth: { status: 'Blocked', groupId: 'FAMILY' } },
  ]);
  f.csms.answers.set('AA11', { status: 'Accepted', groupId: 'FAMILY' });
  f.csms.answers.set('OLD', { status: 'Blocked', groupId: 'FAMILY' });
  f.hal.evse(1).pilot.setState('B');
  await f.station.presentToken(tok('AA11'));
  assert.equal(f.station.session(1)?.auth?.groupId, 'FAMILY');
  f.csms.calls.length = 0;
  await f.station.presentToken(tok('OLD'));
  assert.ok(f.station.session(1), 'a Blocked group mate does not stop it');
  await f.station.presentToken(tok('KID'));
  await f.clock.advance(0);
  assert.equal(f.sessionEvents('ended')[0]?.session.stopIdToken?.idToken, 'KID');
  assert.deepEqual(f.csms.calls, ['OLD'], 'KID stopped it from the local list alone');
  await f.stop();
});

test('C16.FR.03 a master pass with nothing to stop starts nothing', async () => {
  const f = await makeStation({ auth: { masterPassGroupId: 'MASTER' } });
  f.csms.answers.set('BOSS', { status: 'Accepted', groupId: 'MASTER' });
  f.hal.evse(1).pilot.setState('B');
  assert.equal((await f.station.presentToken(tok('BOSS'))).status, 'Accepted');
  assert.equal(f.station.session(1)?.authorizedAt, undefined);
  await f.stop();
});

test('findSession finds a running session and, from the store, an ended one', async () => {
  const f = await makeStation();
  await charging(f);
  const id = f.station.session(1)!.id;
  assert.equal(f.station.findSession(id)?.id, id);
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(0);
  assert.equal(f.station.findSession(id)?.stoppedReason, 'Local');
  assert.equal(f.station.findSession('nope'), undefined);
  await f.stop();
});
