/**
 * Issue 10: the pieces of the link together (call scope, call queue, outbox, inbound guard, failure
 * classification), against the real in-process CSMS on virtual time; asserted on the frames the CSMS
 * saw and on the outbox rows. Each piece has its own tests; these try to make them break each other.
 * Spec: OCPP-J §4.1.1 (one CALL in flight), 1.6 §5.17 / 2.0.1 F06.FR.04 (a caused message goes after
 * the CALLRESULT), 2.0.1 part 2 §3.2 (reconnect after a time-out), 1.6 §3.7.1 / 2.0.1 E13.FR.02-04.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createRPCError } from 'ocpp-rpc';
import { VirtualClock } from '../base/clock.js';
import type { OcppConfig } from '../src/config/types.js';
import { classifyCallFailure } from '../src/ocpp/call-failure.js';
import { createLink, type RpcLink } from '../src/ocpp/rpc-link.js';
import { openDatabase, type Db } from '../src/store/db.js';
import { startCsms, type Csms, type CsmsLogEntry } from './support/csms.js';
import { capturingLogger, ocppConfig, tempDir, waitUntil, type CapturingLogger } from './support/ocpp-link.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Rig {
  link: RpcLink;
  db: Db;
  log: CapturingLogger;
  clock: VirtualClock;
}

const ID = 'CP1';

function rig(cfg: Partial<OcppConfig>): Rig {
  const dir = tempDir();
  const db = openDatabase(join(dir.path, 'station.db'));
  const log = capturingLogger();
  const clock = new VirtualClock();
  const link = createLink({ ocpp: ocppConfig(cfg), identity: ID, stateDir: dir.path }, { db, clock, log, random: () => 0 });
  cleanups.push(async () => {
    await link.stop();
    db.close();
    dir.remove();
  });
  return { link, db, log, clock };
}

async function csmsAt(protocols: string[] = ['ocpp1.6']): Promise<Csms> {
  const c = await startCsms({ protocols });
  cleanups.push(() => c.close());
  return c;
}

async function connect(r: Rig): Promise<void> {
  r.link.setReady(true);
  await r.link.start();
  await r.clock.advance(0);
  await waitUntil(() => r.link.connected, 5000, 'connected');
}

async function reconnect(r: Rig): Promise<void> {
  for (let i = 0; i < 200 && !r.link.connected; i++) {
    await r.clock.advance(50);
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.equal(r.link.connected, true, 'reconnected');
}

const tick = (ms = 20) => new Promise((res) => setTimeout(res, ms));
const never = () => new Promise<never>(() => undefined);
const rows = (db: Db, table: 'outbox' | 'outbox_dead') =>
  db.prepare(`SELECT id, action, attempts FROM ${table} ORDER BY id`).all() as { id: number; action: string; attempts: number }[];
const calls = (csms: Csms, action: string) => csms.log.filter((e) => e.direction === 'in' && e.type === 'call' && e.action === action);

/** The wire as the CSMS saw it: station CALLs by name (with a tag), `>X` CSMS calls, `<X` station answers. */
function wire(csms: Csms): string[] {
  return csms.log.flatMap((e: CsmsLogEntry) => {
    if (e.direction === 'out') return e.type === 'call' ? [`>${e.action ?? '?'}`] : [];
    if (e.type !== 'call') return [`<${e.action ?? '?'}`];
    const p = e.payload as { data?: string; idTag?: string; status?: string };
    return [`${e.action ?? '?'}${p.data ? `:${p.data}` : p.status ? `:${p.status}` : ''}`];
  });
}

const meter = (n: number) => ({ connectorId: 1, transactionId: 5, meterValue: [{ timestamp: '2026-01-01T00:00:00.000Z', sampledValue: [{ value: String(n) }] }] });
const start = { connectorId: 1, idTag: '04A2B3C4', meterStart: 0, timestamp: '2026-01-01T00:00:00.000Z' };
const stop = { transactionId: 5, meterStop: 10, timestamp: '2026-01-01T00:10:00.000Z' };

describe('issue 10 point 3 + 5: a call timeout while a CSMS call is being handled', () => {
  it('the reconnect clears the scope and the queue; queued transaction messages go after it in order, none dead (1.6 §3.7.1, 2.0.1 part 2 §3.2)', async () => {
    const csms = await csmsAt();
    let starts = 0;
    csms.setHandler('StartTransaction', () => (++starts === 1 ? never() : { transactionId: 5, idTagInfo: { status: 'Accepted' } }));
    const r = rig({ csmsUrl: csms.url, callTimeoutS: 30, outbox: { retryAttempts: 1, retryIntervalS: 10 } });
    let handlerRelease: (() => void) | undefined;
    r.link.handle('DataTransfer', () => new Promise((res) => (handlerRelease = () => res({ status: 'Accepted' }))));
    await connect(r);
    r.link.enqueue('StartTransaction', start, { txKey: 'S1' });
    await waitUntil(() => calls(csms, 'StartTransaction').length === 1, 5000, 'Start in flight');
    // The CSMS calls us while our Start waits for its answer; our handler is slow.
    const csmsCallDone = csms.call(ID, 'DataTransfer', { vendorId: 'v', data: 'slow' }).catch((err: Error) => err);
    await waitUntil(() => handlerRelease !== undefined, 5000, 'handler running');
    r.link.enqueue('MeterValues', meter(1), { txKey: 'S1' });
    r.link.enqueue('StopTransaction', stop, { txKey: 'S1' });
    let authErr: unknown;
    const auth = r.link.call('Authorize', { idTag: 'AA' }).catch((err: unknown) => (authErr = err));
    await tick();
    await r.clock.advance(30_000);
    await auth;
    assert.equal(classifyCallFailure(authErr), 'unreachable', `held Authorize fails as unreachable: ${String(authErr)}`);
    await reconnect(r);
    handlerRelease!(); // the old handler finishes late, on a connection that is gone
    await csmsCallDone;
    await waitUntil(() => r.link.pendingCount() === 0, 5000, 'delivered after reconnect');
    assert.deepEqual(
      csms.log.filter((e) => e.direction === 'in' && e.type === 'call').map((e) => e.action),
      ['StartTransaction', 'StartTransaction', 'MeterValues', 'StopTransaction'],
    );
    assert.deepEqual(rows(r.db, 'outbox_dead'), []);
    assert.deepEqual(r.link.deadLetters(), []);
    assert.equal(calls(csms, 'Authorize').length, 0, 'the held Authorize never went onto the dead connection');
  });
});

describe('issue 10 point 4 + 5 + 12: a slow CSMS handler while the driver taps a card', () => {
  it('Authorize is held until the answer is written, then goes before queued status traffic; it fails one call timeout after the release, as unreachable', async () => {
    const csms = await csmsAt();
    csms.setHandler('Authorize', never);
    const r = rig({ csmsUrl: csms.url, callTimeoutS: 30 });
    let handlerRelease: (() => void) | undefined;
    r.link.handle('DataTransfer', () => new Promise((res) => (handlerRelease = () => res({ status: 'Accepted' }))));
    await connect(r);
    void csms.call(ID, 'DataTransfer', { vendorId: 'v', data: 'slow' });
    await waitUntil(() => handlerRelease !== undefined, 5000, 'handler running');
    void r.link.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' }).catch(() => undefined);
    let outcome: string | undefined;
    r.link.call('Authorize', { idTag: '04A2B3C4' }).then(
      () => (outcome = 'answered'),
      (err: unknown) => (outcome = classifyCallFailure(err)),
    );
    await r.clock.advance(20_000);
    await tick();
    assert.equal(calls(csms, 'Authorize').length, 0, 'held while the CSMS call is handled');
    assert.equal(calls(csms, 'StatusNotification').length, 0);
    handlerRelease!();
    const released = r.clock.now();
    await waitUntil(() => calls(csms, 'Authorize').length === 1, 5000, 'Authorize after the answer');
    assert.deepEqual(wire(csms).slice(0, 3), ['>DataTransfer', '<DataTransfer', 'Authorize'], 'after the CALLRESULT, before the status');
    await r.clock.advance(29_999 - (r.clock.now() - released));
    await tick();
    assert.equal(outcome, undefined, 'not before one call timeout after the release');
    await r.clock.advance(1);
    await waitUntil(() => outcome !== undefined, 5000, 'given up');
    assert.equal(outcome, 'unreachable', 'offline rules apply');
  });

  it('a CSMS that refuses the Authorize (CALLERROR) after the scope released is not unreachable: no offline rules', async () => {
    const csms = await csmsAt(['ocpp2.0.1']);
    csms.setHandler('Authorize', () => {
      throw createRPCError('InternalError', 'no');
    });
    const r = rig({ csmsUrl: csms.url, version: '2.0.1', callTimeoutS: 30 });
    let handlerRelease: (() => void) | undefined;
    r.link.handle('DataTransfer', () => new Promise((res) => (handlerRelease = () => res({ status: 'Accepted' }))));
    await connect(r);
    void csms.call(ID, 'DataTransfer', { vendorId: 'v', data: 'slow' });
    await waitUntil(() => handlerRelease !== undefined, 5000, 'handler running');
    const outcome = r.link.call('Authorize', { idToken: { idToken: 'AA', type: 'ISO14443' } }).then(
      () => 'answered',
      (err: unknown) => classifyCallFailure(err),
    );
    await r.clock.advance(5_000);
    handlerRelease!();
    assert.equal(await outcome, 'answered');
    assert.deepEqual(wire(csms).slice(0, 3), ['>DataTransfer', '<DataTransfer', 'Authorize']);
  });
});

describe('issue 10 point 1 + 3: hostile frames in the middle of an outbox drain and of a CALL in flight', () => {
  for (const version of ['1.6', '2.0.1'] as const) {
    it(`${version}: depth 100,000, oversize and garbage frames; the drain completes in order, the CALL in flight gets its answer`, async () => {
      const csms = await csmsAt([version === '1.6' ? 'ocpp1.6' : 'ocpp2.0.1']);
      let n = 0;
      let closes = 0;
      csms.setHandler('DataTransfer', async () => {
        if (++n === 2) {
          const deep = '['.repeat(100_000) + ']'.repeat(100_000);
          csms.sendRaw(ID, deep);
          csms.sendRaw(ID, `[2,"deep-call","DataTransfer",${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}]`);
          csms.sendRaw(ID, `[2,"big","DataTransfer",{"vendorId":"v","data":"${'x'.repeat(1_500_000)}"}]`);
          csms.sendRaw(ID, 'garbage {{{');
          csms.sendRaw(ID, '[3,"no-such-call",{}]');
          await new Promise((res) => setTimeout(res, 100));
        }
        return { status: 'Accepted' };
      });
      const r = rig({ csmsUrl: csms.url, version, callTimeoutS: 30 });
      r.link.on('close', () => closes++);
      for (let i = 1; i <= 5; i++) r.link.enqueue('DataTransfer', { vendorId: 'v', data: `m${i}` });
      await connect(r);
      await waitUntil(() => r.link.pendingCount() === 0, 10_000, 'drained');
      assert.deepEqual(
        calls(csms, 'DataTransfer').map((e) => (e.payload as { data: string }).data),
        ['m1', 'm2', 'm3', 'm4', 'm5'],
        'in order, none lost, none twice',
      );
      assert.equal(closes, 0, 'the connection stayed up');
      assert.equal(r.link.connected, true);
      assert.deepEqual(rows(r.db, 'outbox'), []);
      assert.deepEqual(rows(r.db, 'outbox_dead'), []);
      // The hostile CALLs were answered with CALLERRORs (bad frames without an id are ignored).
      const errors = csms.log.filter((e) => e.direction === 'in' && e.type === 'error');
      assert.ok(errors.length >= 2, `CALLERRORs for the hostile CALLs: ${errors.length}`);
    });
  }
});

describe('issue 10 point 4 + 5: a busy StatusNotification while a StartTransaction waits', () => {
  it('1.6: RpcFrameworkError-like "Call already in progress" to a status: the Start goes right after that answer, no busy delay, no attempt counted', async () => {
    const csms = await csmsAt();
    let answerStatus: ((busy: boolean) => void) | undefined;
    csms.setHandler(
      'StatusNotification',
      () =>
        new Promise((res, rej) => {
          answerStatus = (busy) => (busy ? rej(createRPCError('GenericError', 'Call already in progress')) : res({}));
        }),
    );
    const r = rig({ csmsUrl: csms.url, callTimeoutS: 30, outbox: { retryAttempts: 3, retryIntervalS: 60, busyRetryDelayS: 2, busyRetries: 5 } });
    await connect(r);
    const status = r.link.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' }).then(
      () => 'ok',
      (err: Error) => err.message,
    );
    await waitUntil(() => answerStatus !== undefined, 5000, 'status in flight');
    r.link.enqueue('StartTransaction', start, { txKey: 'S1' });
    void r.link.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' }).catch(() => undefined);
    await tick();
    answerStatus!(true);
    assert.match(await status, /in progress/);
    // No virtual time passes: the transaction message is not held behind the busy answer.
    await waitUntil(() => calls(csms, 'StartTransaction').length === 1, 5000, 'Start right after the busy answer');
    await waitUntil(() => r.link.pendingCount() === 0, 5000, 'Start delivered');
    await waitUntil(() => calls(csms, 'StatusNotification').length === 2, 5000, 'second status');
    assert.deepEqual(wire(csms), ['StatusNotification:Preparing', 'StartTransaction', 'StatusNotification:Charging']);
    assert.equal(rows(r.db, 'outbox').length, 0);
    assert.deepEqual(rows(r.db, 'outbox_dead'), []);
  });
});

describe('issue 10 point 5, 2.0.1: busy answers and a waiting TransactionEvent', () => {
  const te = (seqNo: number) => ({ eventType: 'Started', timestamp: '2026-01-01T00:00:00.000Z', triggerReason: 'Authorized', seqNo, transactionInfo: { transactionId: 'T1' } });

  it('RpcFrameworkError "Call already in progress" to a StatusNotification: the TransactionEvent goes right after it, no busy delay', async () => {
    const csms = await csmsAt(['ocpp2.0.1']);
    let answerStatus: (() => void) | undefined;
    csms.setHandler('StatusNotification', () => new Promise((_res, rej) => (answerStatus = () => rej(createRPCError('RpcFrameworkError', 'Call already in progress')))));
    const r = rig({ csmsUrl: csms.url, version: '2.0.1', callTimeoutS: 30, outbox: { retryAttempts: 3, retryIntervalS: 60, busyRetryDelayS: 2, busyRetries: 5 } });
    await connect(r);
    const status = r.link.call('StatusNotification', { timestamp: '2026-01-01T00:00:00.000Z', connectorStatus: 'Occupied', evseId: 1, connectorId: 1 }).catch((err: Error) => err.message);
    await waitUntil(() => answerStatus !== undefined, 5000, 'status in flight');
    r.link.enqueue('TransactionEvent', te(0), { txKey: 'S1' });
    await tick();
    answerStatus!();
    assert.match(String(await status), /in progress/);
    await waitUntil(() => r.link.pendingCount() === 0, 5000, 'TransactionEvent delivered without virtual time passing');
    assert.deepEqual(wire(csms), ['StatusNotification', 'TransactionEvent']);
    assert.deepEqual(rows(r.db, 'outbox_dead'), []);
  });

  it('a busy SecurityEventNotification at the head of the outbox holds the TransactionEvent behind it busyRetryDelayS, not retryIntervalS (E13.FR.02)', async () => {
    const csms = await csmsAt(['ocpp2.0.1']);
    let busy = 0;
    csms.setHandler('SecurityEventNotification', () => {
      if (++busy === 1) throw createRPCError('RpcFrameworkError', 'Call already in progress');
      return {};
    });
    const r = rig({ csmsUrl: csms.url, version: '2.0.1', callTimeoutS: 30, outbox: { retryAttempts: 3, retryIntervalS: 60, busyRetryDelayS: 2, busyRetries: 5 } });
    r.link.enqueue('SecurityEventNotification', { type: 'StartupOfTheDevice', timestamp: '2026-01-01T00:00:00.000Z' });
    r.link.enqueue('TransactionEvent', te(0), { txKey: 'S1' });
    await connect(r);
    await waitUntil(() => busy === 1 && r.clock.pending > 0, 5000, 'busy answer');
    await r.clock.advance(1_999);
    await tick();
    assert.equal(calls(csms, 'TransactionEvent').length, 0, 'the outbox keeps its order');
    await r.clock.advance(1);
    await waitUntil(() => r.link.pendingCount() === 0, 5000, 'both delivered 2 s later');
    assert.deepEqual(wire(csms), ['SecurityEventNotification', 'SecurityEventNotification', 'TransactionEvent']);
    assert.deepEqual(rows(r.db, 'outbox_dead'), []);
  });

  it('a call timeout while a CSMS call is handled: TransactionEvents go after the reconnect in seqNo order, none dead (E13.FR.02, part 2 §3.2)', async () => {
    const csms = await csmsAt(['ocpp2.0.1']);
    let n = 0;
    csms.setHandler('TransactionEvent', () => (++n === 1 ? never() : {}));
    const r = rig({ csmsUrl: csms.url, version: '2.0.1', callTimeoutS: 30, outbox: { retryAttempts: 1, retryIntervalS: 10 } });
    let handlerRelease: (() => void) | undefined;
    r.link.handle('GetCompositeSchedule', () => new Promise((res) => (handlerRelease = () => res({ status: 'Rejected' }))));
    await connect(r);
    r.link.enqueue('TransactionEvent', te(0), { txKey: 'S1' });
    await waitUntil(() => calls(csms, 'TransactionEvent').length === 1, 5000, 'first in flight');
    void csms.call(ID, 'GetCompositeSchedule', { duration: 60, evseId: 1 }).catch(() => undefined);
    await waitUntil(() => handlerRelease !== undefined, 5000, 'handler running');
    r.link.enqueue('TransactionEvent', { ...te(1), eventType: 'Updated', triggerReason: 'MeterValuePeriodic' }, { txKey: 'S1' });
    r.link.enqueue('TransactionEvent', { ...te(2), eventType: 'Ended', triggerReason: 'EVCommunicationLost' }, { txKey: 'S1' });
    await r.clock.advance(30_000);
    await reconnect(r);
    handlerRelease!();
    await waitUntil(() => r.link.pendingCount() === 0, 5000, 'delivered after the reconnect');
    assert.deepEqual(calls(csms, 'TransactionEvent').map((e) => (e.payload as { seqNo: number }).seqNo), [0, 0, 1, 2]);
    assert.deepEqual(rows(r.db, 'outbox_dead'), []);
  });
});

describe('issue 10 point 1: hostile answers to the CALL in flight', () => {
  it('1.6: a CALLRESULT nested 100,000 deep with the id of the CALL in flight is ignored; the real answer that follows settles it, no reconnect', async () => {
    const csms = await csmsAt();
    let n = 0;
    csms.setHandler('DataTransfer', async () => {
      if (++n === 2) {
        const id = calls(csms, 'DataTransfer').at(-1)!.messageId;
        csms.sendRaw(ID, `[3,${JSON.stringify(id)},${'['.repeat(100_000)}${']'.repeat(100_000)}]`);
        csms.sendRaw(ID, `[4,${JSON.stringify(id)},"GenericError","${'x'.repeat(1_500_000)}",{}]`);
        await new Promise((res) => setTimeout(res, 100));
      }
      return { status: 'Accepted', data: `ok${n}` };
    });
    const r = rig({ csmsUrl: csms.url, callTimeoutS: 30 });
    let closes = 0;
    r.link.on('close', () => closes++);
    const answers: unknown[] = [];
    r.link.onQueuedResult('DataTransfer', (_m, res) => answers.push(res));
    for (let i = 1; i <= 3; i++) r.link.enqueue('DataTransfer', { vendorId: 'v', data: `m${i}` });
    await connect(r);
    await waitUntil(() => r.link.pendingCount() === 0, 10_000, 'drained');
    assert.deepEqual(answers, [
      { status: 'Accepted', data: 'ok1' },
      { status: 'Accepted', data: 'ok2' },
      { status: 'Accepted', data: 'ok3' },
    ]);
    assert.equal(closes, 0);
    assert.equal(calls(csms, 'DataTransfer').length, 3, 'none sent twice');
    assert.deepEqual(rows(r.db, 'outbox_dead'), []);
  });

  it('2.0.1: a frame too big for ws to buffer (> 4 × maxFrameBytes) mid-drain: the drain completes after the reconnect, order kept, nothing dead', async () => {
    const csms = await csmsAt(['ocpp2.0.1']);
    let n = 0;
    csms.setHandler('DataTransfer', async () => {
      if (++n === 2) csms.sendRaw(ID, `[2,"huge","DataTransfer",{"vendorId":"v","data":"${'x'.repeat(300_000)}"}]`);
      return n === 2 ? new Promise(() => undefined) : { status: 'Accepted' };
    });
    const r = rig({ csmsUrl: csms.url, version: '2.0.1', callTimeoutS: 30, maxFrameBytes: 64 * 1024 });
    for (let i = 1; i <= 4; i++) r.link.enqueue('DataTransfer', { vendorId: 'v', data: `m${i}` });
    let closes = 0;
    r.link.on('close', () => closes++);
    await connect(r);
    await waitUntil(() => closes === 1, 5000, 'ws closed the connection (1009)');
    await reconnect(r);
    await waitUntil(() => r.link.pendingCount() === 0, 10_000, 'drained');
    assert.deepEqual(
      calls(csms, 'DataTransfer').map((e) => (e.payload as { data: string }).data),
      ['m1', 'm2', 'm2', 'm3', 'm4'],
      'the CALL cut by the close goes again first, then the rest in order',
    );
    assert.deepEqual(rows(r.db, 'outbox'), []);
    assert.deepEqual(rows(r.db, 'outbox_dead'), []);
  });
});

describe('issue 10 point 5 + OCPP-J §4.1.1: message ids are unique per connection only', () => {
  it('a handler of the previous connection that finishes late does not release the scope of a new CSMS call with the same message id', async () => {
    const csms = await csmsAt();
    const releases: (() => void)[] = [];
    const r = rig({ csmsUrl: csms.url, callTimeoutS: 30 });
    r.link.handle('DataTransfer', () => new Promise((res) => releases.push(() => res({ status: 'Accepted' }))));
    await connect(r);
    // A CSMS that numbers its CALLs per connection: "1" on each (allowed: unique per connection).
    csms.sendRaw(ID, '[2,"1","DataTransfer",{"vendorId":"v","data":"old"}]');
    await waitUntil(() => releases.length === 1, 5000, 'old handler running');
    await csms.disconnect(ID, { force: true });
    await waitUntil(() => !r.link.connected, 5000, 'disconnected');
    await reconnect(r);
    csms.sendRaw(ID, '[2,"1","DataTransfer",{"vendorId":"v","data":"new"}]');
    await waitUntil(() => releases.length === 2, 5000, 'new handler running');
    const hb = r.link.call('Heartbeat', {});
    await tick();
    releases[0]!(); // the old connection's handler finishes now; its answer goes nowhere
    await tick(50);
    assert.equal(calls(csms, 'Heartbeat').length, 0, 'still held: the new call "1" is not answered yet');
    releases[1]!();
    await hb;
    assert.deepEqual(wire(csms).slice(-2), ['<DataTransfer', 'Heartbeat'], 'the Heartbeat after the answer to the new call');
  });
});

describe('issue 10 point 4 + 5 + 12: a busy answer to a driver\'s Authorize', () => {
  it('2.0.1: RpcFrameworkError "Call already in progress" (a CSMS call crossed ours) is asked once more, the driver gets the real answer', async () => {
    const csms = await csmsAt(['ocpp2.0.1']);
    let n = 0;
    csms.setHandler('Authorize', () => {
      if (++n === 1) throw createRPCError('RpcFrameworkError', 'Call already in progress');
      return { idTokenInfo: { status: 'Accepted' } };
    });
    const r = rig({ csmsUrl: csms.url, version: '2.0.1', callTimeoutS: 30 });
    await connect(r);
    const res = await r.link.call<{ idTokenInfo: { status: string } }>('Authorize', { idToken: { idToken: 'AA', type: 'ISO14443' } });
    assert.equal(res.idTokenInfo.status, 'Accepted');
    assert.equal(calls(csms, 'Authorize').length, 2);
  });

  it('1.6: a CSMS that stays busy: the second busy answer is the answer (a refusal, not offline rules)', async () => {
    const csms = await csmsAt();
    csms.setHandler('Authorize', () => {
      throw createRPCError('GenericError', 'busy, try again');
    });
    const r = rig({ csmsUrl: csms.url, callTimeoutS: 30 });
    await connect(r);
    const outcome = await r.link.call('Authorize', { idTag: 'AA' }).then(
      () => 'answered',
      (err: unknown) => classifyCallFailure(err),
    );
    assert.equal(outcome, 'answered');
    assert.equal(calls(csms, 'Authorize').length, 2, 'asked twice, not more');
  });
});
