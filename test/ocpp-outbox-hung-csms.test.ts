/**
 * Issue 10 points 3, 4, 5 (busy): a hung CSMS never costs a transaction, a driver never waits behind
 * status traffic, a busy CSMS is asked again soon. Real link, real in-process CSMS with crafted
 * behaviour (never answers, disconnects, CALLERROR, busy); virtual time, asserted on frames and rows.
 * Spec: 1.6 §3.7.1 and 2.0.1 E13.FR.02-04 (only a failure to process counts), 2.0.1 part 2 §3.2 (after a
 * time-out drop the connection and reconnect), OCPP-J §4.1.1 (one CALL in flight), 1.6 errata 3.19.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createRPCError } from 'ocpp-rpc';
import { VirtualClock } from '../base/clock.js';
import type { OcppConfig } from '../src/config/types.js';
import { createLink, type RpcLink } from '../src/ocpp/rpc-link.js';
import { openDatabase, type Db } from '../src/store/db.js';
import { startCsms, type Csms } from './support/csms.js';
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

function rig(cfg: Partial<OcppConfig>, dir: { path: string; remove(): void } = tempDir()): Rig {
  const db = openDatabase(join(dir.path, 'station.db'));
  const log = capturingLogger();
  const clock = new VirtualClock();
  const link = createLink({ ocpp: ocppConfig(cfg), identity: 'CP1', stateDir: dir.path }, { db, clock, log, random: () => 0 });
  cleanups.push(async () => {
    await link.stop();
    db.close();
  });
  return { link, db, log, clock };
}

async function csmsAt(protocols?: string[]): Promise<Csms> {
  const c = await startCsms(protocols ? { protocols } : {});
  cleanups.push(() => c.close());
  return c;
}

async function connect(r: Rig): Promise<void> {
  r.link.setReady(true);
  await r.link.start();
  await r.clock.advance(0);
  await waitUntil(() => r.link.connected, 5000, 'connected');
}

/** Fires the reconnect timer (back-off 20 ms with random 0) until the link is up again. */
async function reconnect(r: Rig): Promise<void> {
  for (let i = 0; i < 200 && !r.link.connected; i++) {
    await r.clock.advance(50);
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.equal(r.link.connected, true, 'reconnected');
}

const calls = (csms: Csms, action: string) => csms.log.filter((e) => e.direction === 'in' && e.type === 'call' && e.action === action);
const rows = (db: Db, table: 'outbox' | 'outbox_dead') =>
  db.prepare(`SELECT id, action, attempts FROM ${table} ORDER BY id`).all() as { id: number; action: string; attempts: number }[];

const start = { connectorId: 1, idTag: '04A2B3C4', meterStart: 0, timestamp: '2026-01-01T00:00:00.000Z' };
const never = () => new Promise<never>(() => undefined);

describe('a hung CSMS never costs a transaction (1.6 §3.7.1, 2.0.1 E13, 2.0.1 part 2 §3.2)', () => {
  it('a call timeout is not an attempt: the link reconnects, the message stays queued, then is delivered', async () => {
    const csms = await csmsAt();
    let seen = 0;
    csms.setHandler('StartTransaction', () => (++seen <= 5 ? never() : { transactionId: 77, idTagInfo: { status: 'Accepted' } }));
    const r = rig({ csmsUrl: csms.url, callTimeoutS: 30, outbox: { retryAttempts: 3, retryIntervalS: 10 } });
    let closes = 0;
    r.link.on('close', () => closes++);
    await connect(r);
    r.link.enqueue('StartTransaction', start, { txKey: 'S1' });
    for (let k = 1; k <= 5; k++) {
      await waitUntil(() => calls(csms, 'StartTransaction').length === k, 5000, `transmission ${k}`);
      if (k === 1) {
        await r.clock.advance(29_999);
        assert.equal(r.link.connected, true, 'not before the call timeout');
        await r.clock.advance(1);
      } else await r.clock.advance(30_000);
      await waitUntil(() => closes === k, 5000, `connection ${k} dropped`);
      await reconnect(r);
      // (after the fifth reconnect the sixth transmission may already be answered)
      if (k < 5) assert.deepEqual(rows(r.db, 'outbox'), [{ id: 1, action: 'StartTransaction', attempts: 0 }], 'still queued, no attempt counted');
      assert.deepEqual(rows(r.db, 'outbox_dead'), []);
    }
    await waitUntil(() => r.link.pendingCount() === 0, 5000, 'delivered on the sixth transmission');
    assert.equal(calls(csms, 'StartTransaction').length, 6);
    assert.equal(closes, 5, 'one reconnect per time-out');
    assert.deepEqual(r.link.deadLetters(), []);
    assert.equal(r.log.lines('warn').filter((l) => /no answer within the call timeout; dropping the connection/.test(l)).length, 5);
  });

  it('transaction messages are never dead-lettered for time-outs and disconnects, however many', async () => {
    const csms = await csmsAt(['ocpp2.0.1']);
    let seen = 0;
    csms.setHandler('TransactionEvent', (_p, identity) => {
      if (++seen > 6) return {};
      // Odd transmissions are never answered, even ones lose the connection.
      if (seen % 2 === 0) void csms.disconnect(identity, { force: true });
      return never();
    });
    const r = rig({ csmsUrl: csms.url, version: '2.0.1', callTimeoutS: 30, outbox: { retryAttempts: 2, retryIntervalS: 10 } });
    let closes = 0;
    r.link.on('close', () => closes++);
    await connect(r);
    r.link.enqueue(
      'TransactionEvent',
      { eventType: 'Started', timestamp: '2026-01-01T00:00:00.000Z', triggerReason: 'Authorized', seqNo: 0, transactionInfo: { transactionId: 'T1' } },
      { txKey: 'S1' },
    );
    // Let the reconnects run (virtual back-off) until it is delivered; on the way it is never dead and
    // never charged an attempt.
    for (let i = 0; i < 400 && r.link.pendingCount() > 0; i++) {
      await r.clock.advance(1_000);
      await new Promise((res) => setTimeout(res, 5));
      assert.deepEqual(rows(r.db, 'outbox_dead'), []);
      assert.ok(rows(r.db, 'outbox').every((row) => row.attempts === 0));
    }
    assert.ok(closes >= 6, `${closes} disconnects`);
    await waitUntil(() => r.link.pendingCount() === 0, 5000, 'delivered');
    assert.equal(calls(csms, 'TransactionEvent').length, 7);
    assert.deepEqual(r.link.deadLetters(), []);
  });

  it('repeated CALLERRORs dead-letter a message; the next start logs the count; an accepted BootNotification sends it again', async () => {
    const csms = await csmsAt();
    let broken = true;
    csms.setHandler('DataTransfer', () => {
      if (broken) throw createRPCError('InternalError', 'cannot process');
      return { status: 'Accepted' };
    });
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const first = rig({ csmsUrl: csms.url, outbox: { retryAttempts: 2, retryIntervalS: 10 } }, dir);
    await connect(first);
    first.link.enqueue('DataTransfer', { vendorId: 'x', data: 'refused' });
    await waitUntil(() => rows(first.db, 'outbox')[0]?.attempts === 1, 5000, 'first CALLERROR counted');
    await first.clock.advance(10_000);
    await waitUntil(() => first.link.deadLetters().length === 1, 5000, 'dead after the second CALLERROR');
    assert.equal(calls(csms, 'DataTransfer').length, 2);
    await first.link.stop();
    first.db.close();

    broken = false;
    const second = rig({ csmsUrl: csms.url, outbox: { retryAttempts: 2, retryIntervalS: 10 } }, dir);
    await connect(second);
    assert.ok(
      second.log.lines('warn').some((l) => /1 dead letter\(s\)/.test(l) && /"deadLetters":1/.test(l)),
      'the start names the dead letters',
    );
    // Only after an accepted boot: a plain reconnect does not resend it.
    await second.clock.advance(60_000);
    assert.equal(calls(csms, 'DataTransfer').length, 2);
    await second.link.call('BootNotification', { chargePointVendor: 'v', chargePointModel: 'm' });
    await waitUntil(() => calls(csms, 'DataTransfer').length === 3 && second.link.pendingCount() === 0, 5000, 'replayed');
    assert.deepEqual(second.link.deadLetters(), []);
    assert.deepEqual(rows(second.db, 'outbox_dead'), []);
  });
});

describe('busy CALLERRORs are retried soon (issue 10 point 5)', () => {
  it('2.0.1 RpcFrameworkError "Call already in progress" goes again after busyRetryDelayS, not counted', async () => {
    const csms = await csmsAt(['ocpp2.0.1']);
    let seen = 0;
    csms.setHandler('DataTransfer', () => {
      if (++seen <= 2) throw createRPCError('RpcFrameworkError', 'Call already in progress');
      return { status: 'Accepted' };
    });
    const r = rig({ csmsUrl: csms.url, version: '2.0.1', outbox: { retryAttempts: 2, retryIntervalS: 60, busyRetryDelayS: 2, busyRetries: 5 } });
    await connect(r);
    r.link.enqueue('DataTransfer', { vendorId: 'x', data: 'busy' });
    await waitUntil(() => calls(csms, 'DataTransfer').length === 1 && r.clock.pending > 0, 5000, 'first busy answer');
    assert.equal(rows(r.db, 'outbox')[0]?.attempts, 0, 'busy is not an attempt');
    await r.clock.advance(1_999);
    assert.equal(calls(csms, 'DataTransfer').length, 1);
    await r.clock.advance(1);
    await waitUntil(() => calls(csms, 'DataTransfer').length === 2 && r.clock.pending > 0, 5000, 'second busy answer');
    assert.equal(rows(r.db, 'outbox')[0]?.attempts, 0);
    await r.clock.advance(2_000);
    await waitUntil(() => r.link.pendingCount() === 0, 5000, 'delivered 4 s after the first transmission, not 60 s');
    assert.equal(calls(csms, 'DataTransfer').length, 3);
  });

  it('a peer that always says busy still ends in the retry rule (busyRetries, then attempts)', async () => {
    const csms = await csmsAt();
    csms.setHandler('DataTransfer', () => {
      throw createRPCError('GenericError', 'busy, try again later');
    });
    const r = rig({ csmsUrl: csms.url, outbox: { retryAttempts: 2, retryIntervalS: 10, busyRetryDelayS: 2, busyRetries: 2 } });
    await connect(r);
    r.link.enqueue('DataTransfer', { vendorId: 'x', data: 'never' });
    for (const [n, wait] of [
      [1, 2_000],
      [2, 2_000],
      [3, 10_000],
    ] as const) {
      await waitUntil(() => calls(csms, 'DataTransfer').length === n && r.clock.pending > 0, 5000, `answer ${n}`);
      await r.clock.advance(wait);
    }
    await waitUntil(() => r.link.deadLetters().length === 1, 5000, 'dead after 2 quick busy retries and 2 counted attempts');
    assert.equal(calls(csms, 'DataTransfer').length, 4);
    assert.equal(r.link.deadLetters()[0]!.attempts, 2);
  });
});

describe('a driver never waits behind status traffic (issue 10 point 4)', () => {
  const status = (s: string) => ({ connectorId: 1, errorCode: 'NoError', status: s });

  it('Authorize overtakes the StatusNotifications queued before it; the CSMS sees it right after the one in flight', async () => {
    const csms = await csmsAt();
    let release: (() => void) | undefined;
    let statuses = 0;
    csms.setHandler('StatusNotification', () =>
      ++statuses === 1 ? new Promise((res) => (release = () => res({}))) : {},
    );
    const r = rig({ csmsUrl: csms.url, callTimeoutS: 30 });
    await connect(r);
    const sent = [r.link.call('StatusNotification', status('Preparing'))];
    await waitUntil(() => release !== undefined, 5000, 'first status in flight');
    sent.push(r.link.call('StatusNotification', status('SuspendedEV')), r.link.call('StatusNotification', status('Charging')));
    const auth = r.link.call<{ idTagInfo: { status: string } }>('Authorize', { idTag: '04A2B3C4' });
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(r.link.waitingCalls(), ['Authorize', 'StatusNotification', 'StatusNotification']);
    release!();
    assert.equal((await auth).idTagInfo.status, 'Accepted');
    await Promise.all(sent);
    const order = csms.log.filter((e) => e.direction === 'in' && e.type === 'call').map((e) => `${e.action}${e.action === 'StatusNotification' ? ` ${(e.payload as { status: string }).status}` : ''}`);
    assert.deepEqual(order, ['StatusNotification Preparing', 'Authorize', 'StatusNotification SuspendedEV', 'StatusNotification Charging']);
  });

  it('a CSMS that answers nothing: Authorize fails at most one call timeout after it was asked for', async () => {
    const csms = await csmsAt();
    let release: (() => void) | undefined;
    csms.setHandler('StatusNotification', () => new Promise((res) => (release = () => res({}))));
    csms.setHandler('Authorize', never);
    const r = rig({ csmsUrl: csms.url, callTimeoutS: 30 });
    await connect(r);
    void r.link.call('StatusNotification', status('Preparing')).catch(() => undefined);
    await waitUntil(() => release !== undefined, 5000, 'status in flight');
    void r.link.call('StatusNotification', status('Charging')).catch(() => undefined);
    await r.clock.advance(10_000);
    let outcome: string | undefined;
    const tapped = r.clock.now();
    r.link.call('Authorize', { idTag: '04A2B3C4' }).then(
      () => (outcome = 'answered'),
      (err: Error) => (outcome = `${err.name} after ${(r.clock.now() - tapped) / 1000} s`),
    );
    // The status in flight is answered late (19 s after the tap): Authorize goes next, and is not answered.
    await r.clock.advance(19_000);
    release!();
    await waitUntil(() => calls(csms, 'Authorize').length === 1, 5000, 'Authorize sent before the queued status');
    assert.equal(calls(csms, 'StatusNotification').length, 1);
    await r.clock.advance(10_999);
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(outcome, undefined);
    await r.clock.advance(1);
    await waitUntil(() => outcome !== undefined, 5000, 'Authorize given up');
    assert.equal(outcome, 'TimeoutError after 30 s');
  });
});
