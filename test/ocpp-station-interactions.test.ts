/**
 * Issue 10 points 4 and 5 on whole stations (real Station, adapter, link, outbox and simulated board,
 * in-process strict CSMS, virtual time): a CSMS call in the middle of an outbox drain, and a slow CSMS
 * handler while a driver taps a card. Asserted on the frames the CSMS saw, outbox rows and the contactor.
 * Spec: 1.6 §5.17 (TriggerMessage: first the response), 2.0.1 F06.FR.04, OCPP-J §4.1.1.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Csms, CsmsLogEntry } from './support/csms.js';
import { IDENTITY as V16_ID, startV16Station, type V16Station } from './support/v16-station.js';
import { bootedV201Station, IDENTITY as V201_ID } from './support/v201-station.js';
import type { WiredStation } from './support/wired-station.js';
import type { OcppAdapter } from '../src/ocpp/adapter.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function wire(csms: Csms, identity: string): string[] {
  return csms.log
    .filter((e) => e.identity === identity)
    .flatMap((e: CsmsLogEntry) => {
      if (e.direction === 'out') return e.type === 'call' ? [`>${e.action ?? '?'}`] : [];
      if (e.type !== 'call') return [`<${e.action ?? '?'}`];
      const p = e.payload as { data?: string };
      return [`${e.action ?? '?'}${e.action === 'DataTransfer' && p.data ? `:${p.data}` : ''}`];
    });
}

async function v16(config: Record<string, string> = {}): Promise<V16Station> {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0', ...config } });
  cleanups.push(() => s.close());
  await s.until('boot and statuses', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  return s;
}

/** A backlog of four DataTransfers; while the second is in flight the CSMS makes `call` and answers it only after. */
async function drainWithCsmsCall<A extends OcppAdapter>(s: WiredStation<A>, identity: string, action: string, params: unknown): Promise<string[]> {
  let seen = 0;
  let answer: unknown;
  s.csms.setHandler('DataTransfer', async () => {
    if (++seen === 2) answer = await s.csms.call(identity, action, params);
    return { status: 'Accepted' };
  });
  const before = wire(s.csms, identity).length;
  for (let i = 1; i <= 4; i++) s.link.enqueue('DataTransfer', { vendorId: 'e2e', data: `m${i}` });
  await s.until('drained', () => s.link.pendingCount() === 0 && answer !== undefined);
  await s.run(2_000);
  assert.equal(s.link.pendingCount(), 0);
  return wire(s.csms, identity).slice(before);
}

const dataOrder = (frames: string[]) => frames.filter((f) => f.startsWith('DataTransfer'));

describe('issue 10 point 5: a CSMS call arriving while the outbox drains a backlog', () => {
  it('1.6 §5.17 TriggerMessage: the StatusNotification goes after the CALLRESULT; the drain continues, nothing lost or twice', async () => {
    const s = await v16();
    const frames = await drainWithCsmsCall(s, V16_ID, 'TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 });
    assert.deepEqual(dataOrder(frames), ['DataTransfer:m1', 'DataTransfer:m2', 'DataTransfer:m3', 'DataTransfer:m4']);
    const result = frames.indexOf('<TriggerMessage');
    assert.ok(result > frames.indexOf('>TriggerMessage') && result >= 0, frames.join(', '));
    const statuses = frames.flatMap((f, i) => (f === 'StatusNotification' ? [i] : []));
    assert.equal(statuses.length, 1, `one triggered status: ${frames.join(', ')}`);
    assert.ok(statuses[0]! > result, `status after the CALLRESULT: ${frames.join(', ')}`);
  });

  it('1.6 §5.11 RemoteStartTransaction with the EV plugged: StartTransaction after the CALLRESULT, the backlog keeps its order', async () => {
    const s = await v16();
    s.sim.plug(1);
    await s.until('Preparing', () => s.calls('StatusNotification').length === 3);
    const frames = await drainWithCsmsCall(s, V16_ID, 'RemoteStartTransaction', { connectorId: 1, idTag: 'APP1' });
    await s.until('Start', () => s.calls('StartTransaction').length === 1);
    const all = wire(s.csms, V16_ID);
    assert.deepEqual(dataOrder(frames), ['DataTransfer:m1', 'DataTransfer:m2', 'DataTransfer:m3', 'DataTransfer:m4']);
    assert.ok(all.indexOf('StartTransaction') > all.indexOf('<RemoteStartTransaction'), all.join(', '));
    assert.equal(s.calls('StartTransaction').length, 1, 'not twice');
    assert.equal((s.db.prepare('SELECT COUNT(*) AS n FROM outbox_dead').get() as { n: number }).n, 0);
  });

  it('2.0.1 F06.FR.04 TriggerMessage: the StatusNotification goes after the CALLRESULT; the drain continues, nothing lost or twice', async () => {
    const s = await bootedV201Station();
    cleanups.push(() => s.close());
    const frames = await drainWithCsmsCall(s, V201_ID, 'TriggerMessage', { requestedMessage: 'StatusNotification', evse: { id: 1, connectorId: 1 } });
    assert.deepEqual(dataOrder(frames), ['DataTransfer:m1', 'DataTransfer:m2', 'DataTransfer:m3', 'DataTransfer:m4']);
    const result = frames.indexOf('<TriggerMessage');
    assert.ok(result > frames.indexOf('>TriggerMessage') && result >= 0, frames.join(', '));
    const statuses = frames.flatMap((f, i) => (f === 'StatusNotification' ? [i] : []));
    assert.equal(statuses.length, 1, `one triggered status: ${frames.join(', ')}`);
    assert.ok(statuses[0]! > result, `status after the CALLRESULT: ${frames.join(', ')}`);
  });
  it('2.0.1 F01/F02 RequestStartTransaction with the EV plugged: TransactionEvent Started after the CALLRESULT, the backlog keeps its order', async () => {
    const s = await bootedV201Station();
    cleanups.push(() => s.close());
    s.sim.plug(1);
    await s.run(1_000);
    const frames = await drainWithCsmsCall(s, V201_ID, 'RequestStartTransaction', { idToken: { idToken: 'APP1', type: 'Central' }, remoteStartId: 7, evseId: 1 });
    await s.until('Started', () => s.calls<{ eventType: string }>('TransactionEvent').some((t) => t.eventType === 'Started'));
    const all = wire(s.csms, V201_ID);
    assert.deepEqual(dataOrder(frames), ['DataTransfer:m1', 'DataTransfer:m2', 'DataTransfer:m3', 'DataTransfer:m4']);
    assert.ok(all.indexOf('TransactionEvent') > all.indexOf('<RequestStartTransaction'), all.join(', '));
    assert.equal(s.calls<{ eventType: string }>('TransactionEvent').filter((t) => t.eventType === 'Started').length, 1, 'not twice');
    assert.equal((s.db.prepare('SELECT COUNT(*) AS n FROM outbox_dead').get() as { n: number }).n, 0);
  });
});

describe('issue 10 point 4: a slow CSMS handler on the station while the driver taps a card', () => {
  it('1.6: Authorize waits for the slow DataTransfer answer, then goes first; the contactor closes on the answer', async () => {
    const s = await v16();
    s.sim.plug(1);
    await s.until('Preparing', () => s.calls('StatusNotification').length === 3);
    let release: (() => void) | undefined;
    // A vendor DataTransfer handler that takes a while (the adapter's own is replaced for this test).
    s.link.handle('DataTransfer', () => new Promise((res) => (release = () => res({ status: 'Accepted' }))));
    const answered = s.csms.call(V16_ID, 'DataTransfer', { vendorId: 'slow' });
    await s.until('handler running', () => release !== undefined);
    s.sim.tap('04A2B3C4');
    s.sim.evReady(1);
    await s.run(3_000); // less than the call timeout (5 s here), after which the scope lets go by itself
    assert.equal(s.calls('Authorize').length, 0, 'held while the CSMS call is handled');
    assert.equal(s.sim.status().evses[0]!.contactorClosed, false);
    release!();
    await answered;
    await s.until('contactor closed', () => s.sim.status().evses[0]!.contactorClosed);
    const frames = wire(s.csms, V16_ID);
    const from = frames.indexOf('<DataTransfer');
    assert.equal(frames[from + 1], 'Authorize', `Authorize right after the CALLRESULT: ${frames.join(', ')}`);
    assert.equal(s.calls('StartTransaction').length, 1);
  });

  it('1.6: the CSMS never answers the Authorize that the scope held: offline rules one call timeout after the release, not before', async () => {
    const s = await v16({ AllowOfflineTxForUnknownId: 'true', LocalAuthorizeOffline: 'true' });
    s.sim.plug(1);
    await s.until('Preparing', () => s.calls('StatusNotification').length === 3);
    s.csms.setHandler('Authorize', () => new Promise(() => undefined));
    let release: (() => void) | undefined;
    s.link.handle('DataTransfer', () => new Promise((res) => (release = () => res({ status: 'Accepted' }))));
    void s.csms.call(V16_ID, 'DataTransfer', { vendorId: 'slow' });
    await s.until('handler running', () => release !== undefined);
    s.sim.tap('04A2B3C4');
    s.sim.evReady(1);
    await s.run(3_000);
    assert.equal(s.calls('Authorize').length, 0, 'held while the CSMS call is handled');
    release!();
    await s.until('Authorize sent', () => s.calls('Authorize').length === 1);
    const timeoutMs = s.link.settings.callTimeoutS * 1000;
    await s.run(timeoutMs - 2_000);
    assert.equal(s.sim.status().evses[0]!.contactorClosed, false, 'no offline decision before the time-out');
    await s.run(4_000);
    await s.until('offline rules close the contactor', () => s.sim.status().evses[0]!.contactorClosed);
    await s.until('Start delivered after the reconnect', () => s.calls('StartTransaction').length === 1 && s.link.pendingCount() === 0);
    assert.equal(s.calls('Authorize').length, 1);
    assert.equal((s.db.prepare('SELECT COUNT(*) AS n FROM outbox_dead').get() as { n: number }).n, 0);
  });
});
