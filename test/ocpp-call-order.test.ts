/**
 * Issue 10 point 5: messages in the order a CSMS expects. A message that a CSMS call causes goes
 * after that call's CALLRESULT (1.6 §5.17 "first send the TriggerMessage response", 2.0.1 F06.FR.04,
 * and what CitrineOS enforces with `RpcFrameworkError "Call already in progress"`), in both versions;
 * 1.6 StartTransaction goes before the Charging of its connector, with no transient SuspendedEVSE.
 * Every assertion is on the frames the in-process strict CSMS saw, in wire order.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { SystemClock, VirtualClock } from '../base/clock.js';
import { createLink } from '../src/ocpp/rpc-link.js';
import { createV16AdapterWithExtras } from '../src/ocpp/v16/index.js';
import { openDatabase } from '../src/store/db.js';
import { startCsms, type Csms, type CsmsLogEntry } from './support/csms.js';
import { capturingLogger, ocppConfig, tempDir, waitUntil } from './support/ocpp-link.js';
import { startV16Station, IDENTITY as V16_ID, type V16Station } from './support/v16-station.js';
import { FakeLink, FakeStation, quietLog, session, testConfig } from './support/v16-fakes.js';
import { bootedV201Station, type V201Station } from './support/v201-station.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/**
 * The frames of one station from the CSMS's CALL `action` on: `>X` the CSMS calls X, `<X` the station
 * answers X (`!X` with a CALLERROR), and the station's own CALLs by name (StatusNotification with connector and status,
 * TransactionEvent with its eventType). The CSMS's answers to the station are left out.
 */
function framesFrom(csms: Csms, identity: string, action: string, nth = 1): string[] {
  const mine = csms.log.filter((e) => e.identity === identity);
  let start = -1;
  for (let i = 0, seen = 0; i < mine.length; i++) {
    const e = mine[i]!;
    if (e.direction === 'out' && e.type === 'call' && e.action === action && ++seen === nth) {
      start = i;
      break;
    }
  }
  assert.ok(start >= 0, `the CSMS never called ${action}`);
  return mine.slice(start).flatMap((e) => (e.direction === 'out' && e.type !== 'call' ? [] : [show(e)]));
}

function show(e: CsmsLogEntry): string {
  if (e.direction === 'out') return `>${e.action ?? '?'}`;
  if (e.type === 'error') return `!${e.action ?? '?'}`;
  if (e.type !== 'call') return `<${e.action ?? '?'}`;
  const p = e.payload as { connectorId?: number; evseId?: number; connectorStatus?: string; status?: string; eventType?: string };
  if (e.action === 'StatusNotification') return `StatusNotification:${p.connectorId ?? '?'}:${p.status ?? p.connectorStatus ?? '?'}`;
  if (e.action === 'TransactionEvent') return `TransactionEvent:${p.eventType ?? '?'}`;
  return e.action ?? '?';
}

async function v16(config: Record<string, string> = {}): Promise<V16Station> {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0', ...config } });
  cleanups.push(() => s.close());
  await s.until('boot and statuses', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  return s;
}

async function v201(variables: Record<string, string> = {}): Promise<V201Station> {
  const s = await bootedV201Station({ variables });
  cleanups.push(() => s.close());
  return s;
}

/** A CSMS → station CALL while the station's virtual time moves a little (its answer may wait on it). */
async function csmsCall<T = Record<string, unknown>>(s: V16Station, action: string, params: unknown): Promise<T> {
  const p = s.csms.call<T>(V16_ID, action, params);
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 200 && !done; i++) await s.step(0);
  return p;
}

const noTransientSuspended = (frames: string[]): void =>
  assert.ok(!frames.some((f) => /Suspended/.test(f)), `no transient Suspended* status: ${frames.join(', ')}`);

describe('1.6: what a Central System call causes goes after its CALLRESULT', () => {
  it('5.13 ReserveNow: ReserveNow.conf, then StatusNotification Reserved', async () => {
    const s = await v16();
    const r = await csmsCall(s, 'ReserveNow', { connectorId: 1, expiryDate: '2031-01-01T00:00:00Z', idTag: 'AA11', reservationId: 1 });
    assert.deepEqual(r, { status: 'Accepted' });
    await s.until('Reserved', () => s.calls('StatusNotification').length === 3);
    assert.deepEqual(framesFrom(s.csms, V16_ID, 'ReserveNow'), ['>ReserveNow', '<ReserveNow', 'StatusNotification:1:Reserved']);
  });

  it('5.1 CancelReservation: CancelReservation.conf, then StatusNotification Available', async () => {
    const s = await v16();
    await csmsCall(s, 'ReserveNow', { connectorId: 1, expiryDate: '2031-01-01T00:00:00Z', idTag: 'AA11', reservationId: 2 });
    await s.until('Reserved', () => s.calls('StatusNotification').length === 3);
    assert.deepEqual(await csmsCall(s, 'CancelReservation', { reservationId: 2 }), { status: 'Accepted' });
    await s.until('Available', () => s.calls('StatusNotification').length === 4);
    assert.deepEqual(framesFrom(s.csms, V16_ID, 'CancelReservation'), ['>CancelReservation', '<CancelReservation', 'StatusNotification:1:Available']);
  });

  it('5.11 RemoteStartTransaction, no EV yet: the answer, then Preparing; the plug then gives StartTransaction, then Charging', async () => {
    const s = await v16();
    assert.deepEqual(await csmsCall(s, 'RemoteStartTransaction', { connectorId: 1, idTag: 'APP1' }), { status: 'Accepted' });
    await s.until('Preparing', () => s.calls('StatusNotification').length === 3);
    s.sim.plug(1);
    await s.until('Charging', () => s.calls<{ status: string }>('StatusNotification').some((x) => x.status === 'Charging'));
    await s.run(1000);
    const frames = framesFrom(s.csms, V16_ID, 'RemoteStartTransaction');
    assert.deepEqual(frames, ['>RemoteStartTransaction', '<RemoteStartTransaction', 'StatusNotification:1:Preparing', 'StartTransaction', 'StatusNotification:1:Charging']);
  });

  it('5.11 RemoteStartTransaction with the EV plugged: the answer, then StartTransaction, then Charging (no SuspendedEVSE)', async () => {
    const s = await v16();
    s.sim.plug(1);
    await s.until('Preparing', () => s.calls('StatusNotification').length === 3);
    assert.deepEqual(await csmsCall(s, 'RemoteStartTransaction', { connectorId: 1, idTag: 'APP2' }), { status: 'Accepted' });
    await s.until('Charging', () => s.calls<{ status: string }>('StatusNotification').some((x) => x.status === 'Charging'));
    await s.run(1000);
    const frames = framesFrom(s.csms, V16_ID, 'RemoteStartTransaction');
    assert.deepEqual(frames, ['>RemoteStartTransaction', '<RemoteStartTransaction', 'StartTransaction', 'StatusNotification:1:Charging']);
  });

  it('5.11 AuthorizeRemoteTxRequests=true: the answer first, then Authorize, StartTransaction, Charging', async () => {
    const s = await v16({ AuthorizeRemoteTxRequests: 'true' });
    s.sim.plug(1);
    await s.until('Preparing', () => s.calls('StatusNotification').length === 3);
    assert.deepEqual(await csmsCall(s, 'RemoteStartTransaction', { connectorId: 1, idTag: 'APP3' }), { status: 'Accepted' });
    await s.until('Charging', () => s.calls<{ status: string }>('StatusNotification').some((x) => x.status === 'Charging'));
    await s.run(1000);
    assert.deepEqual(framesFrom(s.csms, V16_ID, 'RemoteStartTransaction'), [
      '>RemoteStartTransaction',
      '<RemoteStartTransaction',
      'Authorize',
      'StartTransaction',
      'StatusNotification:1:Charging',
    ]);
  });

  it('5.11 AuthorizeRemoteTxRequests=true and the Central System refuses the idTag: Accepted, Authorize, and no transaction', async () => {
    const s = await v16({ AuthorizeRemoteTxRequests: 'true' });
    s.csms.setHandler('Authorize', () => ({ idTagInfo: { status: 'Blocked' } }));
    s.sim.plug(1);
    await s.until('Preparing', () => s.calls('StatusNotification').length === 3);
    assert.deepEqual(await csmsCall(s, 'RemoteStartTransaction', { connectorId: 1, idTag: 'APP4' }), { status: 'Accepted' });
    await s.until('Authorize', () => s.calls('Authorize').length === 1);
    await s.run(5000);
    assert.deepEqual(framesFrom(s.csms, V16_ID, 'RemoteStartTransaction'), ['>RemoteStartTransaction', '<RemoteStartTransaction', 'Authorize']);
    assert.equal(s.station.session(1)?.authorizedAt, undefined);
  });

  it('5.17 TriggerMessage StatusNotification, Heartbeat, MeterValues: each after the TriggerMessage.conf', async () => {
    const s = await v16();
    for (const [requestedMessage, caused] of [
      ['StatusNotification', 'StatusNotification:1:Available'],
      ['Heartbeat', 'Heartbeat'],
      ['MeterValues', 'MeterValues'],
    ] as const) {
      const n = s.actions().length;
      assert.deepEqual(await csmsCall(s, 'TriggerMessage', { requestedMessage, connectorId: 1 }), { status: 'Accepted' });
      await s.until(requestedMessage, () => s.actions().length > n);
      const nth = s.csms.log.filter((e) => e.identity === V16_ID && e.direction === 'out' && e.type === 'call' && e.action === 'TriggerMessage').length;
      assert.deepEqual(framesFrom(s.csms, V16_ID, 'TriggerMessage', nth), ['>TriggerMessage', '<TriggerMessage', caused]);
    }
  });

  it('5.2 ChangeAvailability Inoperative: ChangeAvailability.conf, then StatusNotification Unavailable', async () => {
    const s = await v16();
    assert.deepEqual(await csmsCall(s, 'ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Accepted' });
    await s.until('Unavailable', () => s.calls<{ status: string }>('StatusNotification').some((x) => x.status === 'Unavailable'));
    await s.run(1000);
    const frames = framesFrom(s.csms, V16_ID, 'ChangeAvailability');
    assert.deepEqual(frames.slice(0, 3), ['>ChangeAvailability', '<ChangeAvailability', 'StatusNotification:1:Unavailable']);
  });

  it('5.18 UnlockConnector during a transaction: UnlockConnector.conf, then StopTransaction(UnlockCommand) and the statuses', async () => {
    const s = await v16();
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    await s.until('Charging', () => s.calls<{ status: string }>('StatusNotification').some((x) => x.status === 'Charging'));
    assert.deepEqual(await csmsCall(s, 'UnlockConnector', { connectorId: 1 }), { status: 'Unlocked' });
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    await s.run(1000);
    const frames = framesFrom(s.csms, V16_ID, 'UnlockConnector');
    assert.deepEqual(frames.slice(0, 3), ['>UnlockConnector', '<UnlockConnector', 'StopTransaction']);
    assert.equal(s.calls('StopTransaction')[0]!.reason, 'UnlockCommand');
  });
});

describe('1.6 §4.9: one physical change, one status; StartTransaction before Charging', () => {
  it('plug, tap, EV ready: Preparing → Authorize → StartTransaction → Charging, no SuspendedEVSE in between', async () => {
    const s = await startV16Station({ v16: { MeterValueSampleInterval: '0' }, ev: { readyOnPlug: false } });
    cleanups.push(() => s.close());
    await s.until('boot and statuses', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
    const from = s.actions().length;
    s.sim.plug(1);
    await s.until('Preparing', () => s.calls('StatusNotification').length === 3);
    s.sim.tap('04A1B2C3');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.run(1000);
    // Authorized with the EV in B: the transaction runs and the EV does not ask yet (SuspendedEV is a real state).
    s.sim.evReady(1);
    await s.until('Charging', () => s.calls<{ status: string }>('StatusNotification').some((x) => x.status === 'Charging'));
    await s.run(1000);
    const story = s.csms.log
      .filter((e) => e.identity === V16_ID && e.direction === 'in' && e.type === 'call')
      .slice(from)
      .map(show);
    assert.deepEqual(story, ['StatusNotification:1:Preparing', 'Authorize', 'StartTransaction', 'StatusNotification:1:SuspendedEV', 'StatusNotification:1:Charging']);
  });

  it('plug, tap with the EV ready at once: Preparing → Authorize → StartTransaction → Charging', async () => {
    const s = await v16();
    const from = s.actions().length;
    s.sim.plug(1);
    await s.until('Preparing', () => s.calls('StatusNotification').length === 3);
    s.sim.tap('04A1B2C3');
    await s.until('Charging', () => s.calls<{ status: string }>('StatusNotification').some((x) => x.status === 'Charging'));
    await s.run(1000);
    const story = s.csms.log
      .filter((e) => e.identity === V16_ID && e.direction === 'in' && e.type === 'call')
      .slice(from)
      .map(show);
    assert.deepEqual(story, ['StatusNotification:1:Preparing', 'Authorize', 'StartTransaction', 'StatusNotification:1:Charging']);
    noTransientSuspended(story);
  });

  it('a StartTransaction the Central System answers late: Charging waits for its answer', async () => {
    const s = await v16();
    let release: (() => void) | undefined;
    s.csms.setHandler('StartTransaction', () => new Promise((resolve) => (release = () => resolve({ transactionId: 5, idTagInfo: { status: 'Accepted' } }))));
    s.sim.plug(1);
    await s.until('Preparing', () => s.calls('StatusNotification').length === 3);
    s.sim.tap('04A1B2C3');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.run(2000);
    assert.deepEqual(
      s.calls<{ status: string }>('StatusNotification').map((x) => x.status),
      ['Available', 'Available', 'Preparing'],
      'no Charging before StartTransaction.conf',
    );
    release!();
    await s.until('Charging', () => s.calls<{ status: string }>('StatusNotification').some((x) => x.status === 'Charging'));
    assert.equal(s.calls<{ status: string }>('StatusNotification').filter((x) => /Suspended/.test(x.status)).length, 0);
  });
});

describe('1.6 status held for an unanswered StartTransaction (adapter on a fake link)', () => {
  async function rig() {
    const clock = new VirtualClock();
    const link = new FakeLink();
    const station = new FakeStation(1, () => clock.now());
    const db = openDatabase(':memory:');
    const adapter = createV16AdapterWithExtras({ link, station, db, clock, log: quietLog, config: testConfig({ v16: {} }) });
    await adapter.start();
    link.open();
    await clock.advance(0);
    cleanups.push(async () => {
      await adapter.stop();
      db.close();
    });
    // The outbox does not send for now: the StartTransaction stays unanswered.
    link.setReady(false);
    link.sent.length = 0;
    const t = clock.now();
    station.sessionEvent('authorized', session({ evConnectedAt: t, authorizedAt: t, idToken: { idToken: 'AA', type: 'ISO14443' } }));
    await clock.advance(0);
    return { clock, link, station };
  }
  const statuses = (link: FakeLink): string[] => link.ofAction('StatusNotification').map((p) => `${String(p.connectorId)}:${String(p.status)}`);

  it('Charging waits for the StartTransaction answer and goes right after it', async () => {
    const { clock, link, station } = await rig();
    station.setStatus(1, 'Charging');
    await clock.advance(0);
    assert.deepEqual(link.actions(), [], 'nothing before StartTransaction');
    link.setReady(true);
    await clock.advance(0);
    assert.deepEqual(link.actions(), ['StartTransaction', 'StatusNotification']);
    assert.deepEqual(statuses(link), ['1:Charging']);
  });

  it('a Faulted connector is reported at once, even with its StartTransaction unanswered', async () => {
    const { clock, link, station } = await rig();
    station.setStatus(1, 'Charging');
    await clock.advance(0);
    station.setStatus(1, 'Faulted', true, { fault: { kind: 'ground-failure', severity: 'high' }, info: 'RCD tripped' });
    await clock.advance(0);
    assert.deepEqual(statuses(link), ['1:Faulted']);
    link.setReady(true);
    await clock.advance(0);
    assert.deepEqual(link.actions(), ['StatusNotification', 'StartTransaction'], 'Faulted is not sent twice');
  });

  it('a triggered StatusNotification of a connector in Charging is sent after the StartTransaction answer', async () => {
    const { clock, link, station } = await rig();
    station.setStatus(1, 'Charging');
    await clock.advance(0);
    assert.deepEqual(await link.csmsCall('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 }), { status: 'Accepted' });
    await clock.advance(0);
    assert.deepEqual(link.actions(), []);
    link.setReady(true);
    await clock.advance(0);
    assert.deepEqual(link.actions(), ['StartTransaction', 'StatusNotification']);
  });
});

describe('2.0.1: what a CSMS call causes goes after its response', () => {
  it('F01/F02 RequestStartTransaction with the EV plugged: the response, then TransactionEvent', async () => {
    const s = await v201();
    s.sim.plug(1);
    await s.run(1000);
    const r = await s.call<{ status: string }>('RequestStartTransaction', { evseId: 1, remoteStartId: 7, idToken: { idToken: 'APP1', type: 'Central' } });
    assert.equal(r.status, 'Accepted');
    await s.until('RemoteStart event', () => s.calls<{ triggerReason: string }>('TransactionEvent').some((t) => t.triggerReason === 'RemoteStart'));
    await s.run(1000);
    const frames = framesFrom(s.csms, 'CP-V201', 'RequestStartTransaction');
    assert.deepEqual(frames.slice(0, 2), ['>RequestStartTransaction', '<RequestStartTransaction'], frames.join(', '));
    assert.match(frames[2] ?? '', /^TransactionEvent/, frames.join(', '));
  });

  it('F01.FR.01 AuthorizeRemoteStart=true: the response, then Authorize', async () => {
    const s = await v201({ 'AuthCtrlr.AuthorizeRemoteStart': 'true' });
    s.sim.plug(1);
    await s.run(1000);
    await s.call('RequestStartTransaction', { evseId: 1, remoteStartId: 8, idToken: { idToken: 'APP2', type: 'Central' } });
    await s.until('Authorize', () => s.calls('Authorize').length === 1);
    await s.run(1000);
    const frames = framesFrom(s.csms, 'CP-V201', 'RequestStartTransaction');
    assert.deepEqual(frames.slice(0, 3), ['>RequestStartTransaction', '<RequestStartTransaction', 'Authorize']);
  });

  it('F06.FR.04 TriggerMessage StatusNotification and Heartbeat: each after the TriggerMessageResponse', async () => {
    const s = await v201();
    for (const [requestedMessage, caused] of [
      ['StatusNotification', 'StatusNotification:1:Available'],
      ['Heartbeat', 'Heartbeat'],
    ] as const) {
      const n = s.actions().length;
      assert.deepEqual(await s.call('TriggerMessage', { requestedMessage, evse: { id: 1, connectorId: 1 } }), { status: 'Accepted' });
      await s.until(requestedMessage, () => s.actions().length > n);
      const nth = s.csms.log.filter((e) => e.direction === 'out' && e.type === 'call' && e.action === 'TriggerMessage').length;
      assert.deepEqual(framesFrom(s.csms, 'CP-V201', 'TriggerMessage', nth), ['>TriggerMessage', '<TriggerMessage', caused]);
    }
  });

  it('G03 ChangeAvailability Inoperative: the response, then StatusNotification Unavailable', async () => {
    const s = await v201();
    assert.deepEqual(await s.call('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 1 } }), { status: 'Accepted' });
    await s.until('Unavailable', () => s.calls<{ connectorStatus: string }>('StatusNotification').some((x) => x.connectorStatus === 'Unavailable'));
    assert.deepEqual(framesFrom(s.csms, 'CP-V201', 'ChangeAvailability').slice(0, 3), [
      '>ChangeAvailability',
      '<ChangeAvailability',
      'StatusNotification:1:Unavailable',
    ]);
  });

  it('H01 ReserveNow: the response, then StatusNotification Reserved', async () => {
    const s = await v201();
    const r = await s.call<{ status: string }>('ReserveNow', {
      id: 3,
      expiryDateTime: '2031-01-01T00:00:00Z',
      idToken: { idToken: 'R1', type: 'ISO14443' },
      evseId: 1,
    });
    assert.equal(r.status, 'Accepted');
    await s.until('Reserved', () => s.calls<{ connectorStatus: string }>('StatusNotification').some((x) => x.connectorStatus === 'Reserved'));
    assert.deepEqual(framesFrom(s.csms, 'CP-V201', 'ReserveNow').slice(0, 3), ['>ReserveNow', '<ReserveNow', 'StatusNotification:1:Reserved']);
  });
});

describe('the link holds sends while it answers a CSMS call', () => {
  async function linkRig(clock = new SystemClock() as SystemClock | VirtualClock) {
    const csms = await startCsms({ protocols: ['ocpp1.6'] });
    const dir = tempDir();
    const db = openDatabase(join(dir.path, 'station.db'));
    const log = capturingLogger();
    const link = createLink({ ocpp: ocppConfig({ csmsUrl: csms.url, callTimeoutS: 30 }), identity: 'CP1' }, { db, clock, log });
    cleanups.push(async () => {
      await link.stop();
      db.close();
      dir.remove();
      await csms.close();
    });
    link.setReady(true);
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    return { csms, db, link, log };
  }

  it('a direct CALL and a queued one made inside a handler reach the CSMS after the CALLRESULT; the queued one is in SQLite before it', async () => {
    const { csms, db, link } = await linkRig();
    let rowsInHandler = -1;
    link.handle('GetConfiguration', async () => {
      void link.call('Heartbeat', {}).catch(() => undefined);
      link.enqueue('DataTransfer', { vendorId: 'ocpp-station', data: 'queued' });
      rowsInHandler = (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
      await new Promise((r) => setTimeout(r, 20)); // the handler takes a while: nothing leaves meanwhile
      return { configurationKey: [] };
    });
    assert.deepEqual(await csms.call('CP1', 'GetConfiguration', {}), { configurationKey: [] });
    await waitUntil(() => csms.actions('CP1').length === 2, 5000, 'both calls');
    assert.equal(rowsInHandler, 1, 'durable when enqueued, before the answer');
    // Both after the CALLRESULT; between them the send queue's classes decide (README "Outbox and
    // message order"): the DataTransfer (normal) before the Heartbeat (status), though made later.
    assert.deepEqual(framesFrom(csms, 'CP1', 'GetConfiguration'), ['>GetConfiguration', '<GetConfiguration', 'DataTransfer', 'Heartbeat']);
  });

  it('a CALLERROR answer releases the held sends too', async () => {
    const { csms, link } = await linkRig();
    link.handle('Reset', () => {
      void link.call('Heartbeat', {}).catch(() => undefined);
      throw new Error('refused');
    });
    await assert.rejects(csms.call('CP1', 'Reset', { type: 'Soft' }));
    await waitUntil(() => csms.actions('CP1').length === 1, 5000, 'Heartbeat');
    const frames = framesFrom(csms, 'CP1', 'Reset');
    assert.deepEqual(frames, ['>Reset', '!Reset', 'Heartbeat']);
  });

  it('a second CALL with the message id of one being answered gets its CALLERROR, and the held sends still wait for the real answer', async () => {
    const { csms, link } = await linkRig();
    link.handle('GetConfiguration', async () => {
      void link.call('Heartbeat', {}).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      return { configurationKey: [] };
    });
    csms.sendRaw('CP1', '[2,"dup-1","GetConfiguration",{}]');
    csms.sendRaw('CP1', '[2,"dup-1","GetConfiguration",{}]');
    await waitUntil(() => csms.actions('CP1').length === 1, 5000, 'Heartbeat');
    // '<?': the test CSMS forgot the action of the id when the CALLERROR answered it first.
    assert.deepEqual(framesFrom(csms, 'CP1', 'GetConfiguration'), ['>GetConfiguration', '>GetConfiguration', '!GetConfiguration', '<?', 'Heartbeat']);
  });

  it('a handler that never answers holds the sends for one call timeout at most (station clock), with a warning', async () => {
    const clock = new VirtualClock();
    const { csms, link, log } = await linkRig(clock);
    link.handle('Reset', () => new Promise(() => undefined));
    void csms.call('CP1', 'Reset', { type: 'Soft' }).catch(() => undefined);
    await waitUntil(() => csms.log.some((e) => e.action === 'Reset'), 5000, 'Reset sent');
    await new Promise((r) => setTimeout(r, 20));
    const hb = link.call('Heartbeat', {});
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(csms.actions('CP1'), [], 'held while the handler runs');
    await clock.advance(30_000);
    await hb;
    assert.deepEqual(csms.actions('CP1'), ['Heartbeat']);
    assert.ok(log.lines('warn').some((l) => /answer to a CSMS call is late/.test(l)));
  });
});
