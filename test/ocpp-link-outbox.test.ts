/**
 * The durable outbox of transaction-related messages: 1.6 §4.10 / §3.16 (transaction messages are
 * queued while offline and delivered in order, TransactionMessageAttempts / RetryInterval) and 2.0.1
 * E13 (E13.FR.02 retry while failing, E13.FR.03 interval × preceding transmissions, E13.FR.04 after the
 * final attempt continue with the next message — we keep the failed one in a dead-letter table).
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createRPCError } from 'ocpp-rpc';
import { SystemClock, VirtualClock, type Clock } from '../base/clock.js';
import type { OcppConfig } from '../src/config/types.js';
import type { OutboxMessage } from '../src/ocpp/link.js';
import { createLink, type RpcLink } from '../src/ocpp/rpc-link.js';
import { openDatabase, type Db } from '../src/store/db.js';
import { startCsms, type Csms } from './support/csms.js';
import { capturingLogger, closedPort, ocppConfig, tempDir, waitUntil, type CapturingLogger } from './support/ocpp-link.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Rig {
  link: RpcLink;
  db: Db;
  dbPath: string;
  log: CapturingLogger;
}

function rig(cfg: Partial<OcppConfig>, clock: Clock = new SystemClock(), dir = tempDir()): Rig {
  const dbPath = join(dir.path, 'station.db');
  const db = openDatabase(dbPath);
  const log = capturingLogger();
  const link = createLink({ ocpp: ocppConfig(cfg), identity: 'CP1', stateDir: dir.path }, { db, clock, log });
  cleanups.push(async () => {
    await link.stop();
    db.close();
    dir.remove();
  });
  return { link, db, dbPath, log };
}

async function csmsAt(port = 0): Promise<Csms> {
  const c = await startCsms({ port });
  cleanups.push(() => c.close());
  return c;
}

const data = (n: number | string) => ({ vendorId: 'ocpp-station', messageId: 'seq', data: String(n) });

/** data fields of the DataTransfer calls the CSMS received, in order. */
function received(csms: Csms): string[] {
  return csms.log
    .filter((e) => e.direction === 'in' && e.type === 'call' && e.action === 'DataTransfer')
    .map((e) => (e.payload as { data: string }).data);
}

describe('outbox delivery', () => {
  it('issue 14: after a drained backlog of 1,200 the file gives its pages back and the WAL is truncated; messages queued meanwhile stay', async () => {
    const csms = await csmsAt();
    const { link, db, dbPath } = rig({ csmsUrl: csms.url });
    const big = 'x'.repeat(1500);
    db.transaction(() => {
      for (let i = 0; i < 1200; i++) link.enqueue('DataTransfer', { vendorId: 'ocpp-station', messageId: 'seq', data: big + i });
    })();
    link.setReady(true);
    await link.start();
    await waitUntil(() => link.pendingCount() === 0, 60_000, 'drained');
    const free = (): number => db.pragma('freelist_count', { simple: true }) as number;
    await waitUntil(() => free() === 0 && statSync(`${dbPath}-wal`).size === 0, 10_000, 'compacted');
    assert.equal(received(csms).length, 1200, 'every message delivered once');
    link.enqueue('DataTransfer', data('after'));
    await waitUntil(() => received(csms).includes('after'), 5000, 'sent after the compaction');
  });

  it('CSMS down: 50 messages are committed, then delivered once each, in order, when it comes up', async () => {
    const port = await closedPort();
    const { link, dbPath } = rig({ csmsUrl: `ws://127.0.0.1:${port}/ocpp` });
    link.setReady(true);
    await link.start();
    for (let i = 0; i < 50; i++) link.enqueue('DataTransfer', data(i));
    assert.equal(link.pendingCount(), 50);
    // Durable: another connection to the file sees all 50 rows.
    const other = openDatabase(dbPath);
    assert.equal((other.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n, 50);
    other.close();

    const csms = await csmsAt(port);
    // New messages while the queue drains go behind it.
    await waitUntil(() => received(csms).length >= 5, 5000, 'drain started');
    for (let i = 50; i < 60; i++) link.enqueue('DataTransfer', data(i));
    await waitUntil(() => link.pendingCount() === 0, 10000, 'outbox empty');
    assert.deepEqual(
      received(csms),
      Array.from({ length: 60 }, (_, i) => String(i)),
    );
  });

  it('nothing queued is sent before setReady(true); direct calls are', async () => {
    const csms = await csmsAt();
    const { link } = rig({ csmsUrl: csms.url });
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    link.enqueue('DataTransfer', data('queued'));
    await link.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
    await link.call('Heartbeat', {});
    assert.deepEqual(csms.actions(), ['BootNotification', 'Heartbeat']);
    link.setReady(true);
    await csms.waitFor('DataTransfer');
    await waitUntil(() => link.pendingCount() === 0, 5000, 'drained');
  });

  it('after a reconnect the oldest queued message leaves before what the adapter sends on open', async () => {
    const csms = await csmsAt();
    const { link } = rig({ csmsUrl: csms.url });
    link.setReady(true);
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    csms.setAccepting(false);
    await csms.disconnect('CP1', { force: true });
    await waitUntil(() => !link.connected, 5000, 'offline');
    for (let i = 0; i < 3; i++) link.enqueue('DataTransfer', data(i));
    link.on('open', () => void link.call('Heartbeat', {}).catch(() => undefined));
    const from = csms.log.length;
    csms.setAccepting(true);
    await waitUntil(() => link.pendingCount() === 0, 5000, 'drained');
    await csms.waitFor('Heartbeat');
    const after = csms.log.slice(from).filter((e) => e.direction === 'in' && e.type === 'call');
    assert.equal(after[0]!.action, 'DataTransfer');
    assert.deepEqual((after[0]!.payload as { data: string }).data, '0');
    assert.deepEqual(received(csms), ['0', '1', '2']);
  });

  it('direct calls are refused while offline (they are not queued)', async () => {
    const port = await closedPort();
    const { link } = rig({ csmsUrl: `ws://127.0.0.1:${port}/ocpp` });
    await link.start();
    await assert.rejects(link.call('Heartbeat', {}), /not connected/);
    assert.equal(link.pendingCount(), 0);
  });

  it('a connection lost before the answer is not a failed attempt: the message is sent again after reconnect', async () => {
    const csms = await csmsAt();
    let first = true;
    csms.setHandler('DataTransfer', async (_params, identity) => {
      if (first) {
        first = false;
        await csms.disconnect(identity, { force: true });
        return new Promise(() => undefined);
      }
      return { status: 'Accepted' };
    });
    const { link, db } = rig({ csmsUrl: csms.url, outbox: { retryAttempts: 1, retryIntervalS: 60 } });
    link.setReady(true);
    await link.start();
    link.enqueue('DataTransfer', data('x'));
    link.enqueue('DataTransfer', data('y'));
    await waitUntil(() => link.pendingCount() === 0, 5000, 'drained');
    assert.deepEqual(received(csms), ['x', 'x', 'y']);
    assert.deepEqual(link.deadLetters(), []);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM outbox_dead').get() as { n: number }).n, 0);
  });

  it('messages queued before a restart are delivered by the next process, and their result handler runs', async () => {
    const dir = tempDir();
    const port = await closedPort();
    const dbPath = join(dir.path, 'station.db');
    {
      const db = openDatabase(dbPath);
      const link = createLink(
        { ocpp: ocppConfig({ csmsUrl: `ws://127.0.0.1:${port}/ocpp` }), identity: 'CP1' },
        { db, clock: new SystemClock(), log: capturingLogger() },
      );
      await link.start();
      link.enqueue('StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 10, timestamp: new Date().toISOString() }, { txKey: 's1' });
      await link.stop();
      db.close();
    }
    const csms = await csmsAt(port);
    const { link } = rig({ csmsUrl: csms.url }, new SystemClock(), dir);
    const results: [OutboxMessage, unknown][] = [];
    link.onQueuedResult('StartTransaction', (m, r) => results.push([m, r]));
    link.setReady(true);
    await link.start();
    await waitUntil(() => results.length === 1, 5000, 'result');
    assert.equal(results[0]![0].txKey, 's1');
    assert.equal(results[0]![0].action, 'StartTransaction');
    assert.deepEqual(results[0]![1], { transactionId: 1, idTagInfo: { status: 'Accepted' } });
    assert.equal(link.pendingCount(), 0);
  });
});

describe('1.6 transactionId substitution', () => {
  it('the preparer puts the transactionId the CSMS assigned into StopTransaction and MeterValues queued offline', async () => {
    const port = await closedPort();
    const { link, db } = rig({ csmsUrl: `ws://127.0.0.1:${port}/ocpp` });
    db.exec('CREATE TABLE test_tx (tx_key TEXT PRIMARY KEY, transaction_id INTEGER NOT NULL)');
    link.onQueuedResult('StartTransaction', (m, r) => {
      db.prepare('INSERT INTO test_tx VALUES (?, ?)').run(m.txKey, (r as { transactionId: number }).transactionId);
    });
    const realId = (m: OutboxMessage) => {
      const row = db.prepare('SELECT transaction_id AS id FROM test_tx WHERE tx_key = ?').get(m.txKey) as { id: number } | undefined;
      if (!row) throw new Error(`no transaction id for ${m.txKey} yet`);
      return { ...m.payload, transactionId: row.id };
    };
    link.setQueuedPreparer('StopTransaction', realId);
    link.setQueuedPreparer('MeterValues', realId);
    link.setReady(true);
    await link.start();
    const ts = new Date().toISOString();
    for (const key of ['a', 'b']) {
      link.enqueue('StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: ts }, { txKey: key });
      link.enqueue(
        'MeterValues',
        { connectorId: 1, transactionId: -1, meterValue: [{ timestamp: ts, sampledValue: [{ value: '5' }] }] },
        { txKey: key },
      );
      link.enqueue('StopTransaction', { transactionId: -1, meterStop: 5, timestamp: ts }, { txKey: key });
    }
    const csms = await csmsAt(port);
    let next = 7000;
    csms.setHandler('StartTransaction', () => ({ transactionId: ++next, idTagInfo: { status: 'Accepted' } }));
    await waitUntil(() => link.pendingCount() === 0, 5000, 'drained');
    const calls = csms.log.filter((e) => e.direction === 'in' && e.type === 'call');
    assert.deepEqual(
      calls.map((e) => `${e.action} ${String((e.payload as { transactionId?: number }).transactionId ?? '')}`),
      ['StartTransaction ', 'MeterValues 7001', 'StopTransaction 7001', 'StartTransaction ', 'MeterValues 7002', 'StopTransaction 7002'],
    );
    // The handler's write committed together with the delete.
    assert.deepEqual(db.prepare('SELECT * FROM test_tx ORDER BY tx_key').all(), [
      { tx_key: 'a', transaction_id: 7001 },
      { tx_key: 'b', transaction_id: 7002 },
    ]);
  });

  it('a result handler that throws has its writes rolled back; the answered message is still removed (logged)', async () => {
    const csms = await csmsAt();
    const { link, db, log } = rig({ csmsUrl: csms.url });
    db.exec('CREATE TABLE test_side (v TEXT)');
    link.onQueuedResult('DataTransfer', () => {
      db.prepare('INSERT INTO test_side VALUES (?)').run('half-done');
      throw new Error('handler bug');
    });
    link.setReady(true);
    await link.start();
    link.enqueue('DataTransfer', data(1));
    link.enqueue('DataTransfer', data(2));
    await waitUntil(() => link.pendingCount() === 0, 5000, 'drained');
    assert.deepEqual(received(csms), ['1', '2']);
    assert.deepEqual(db.prepare('SELECT * FROM test_side').all(), []);
    assert.equal(log.lines('error').filter((l) => /result handler failed/.test(l)).length, 2);
  });
});

describe('retries and dead letters (E13.FR.02-04)', () => {
  it('a CALLERROR is retried after interval × preceding transmissions, then dead-lettered; the next message goes', async () => {
    const csms = await csmsAt();
    csms.setHandler('DataTransfer', (params) => {
      if ((params as { data: string }).data === 'bad') throw createRPCError('InternalError', 'cannot process');
      return { status: 'Accepted' };
    });
    const clock = new VirtualClock();
    const { link, db, log } = rig({ csmsUrl: csms.url, outbox: { retryAttempts: 3, retryIntervalS: 10 } }, clock);
    const dead: [OutboxMessage, string][] = [];
    link.on('message-dead', (m, e) => dead.push([m, e]));
    link.setReady(true);
    await link.start();
    await clock.advance(0);
    await waitUntil(() => link.connected, 5000, 'connected');
    link.enqueue('DataTransfer', data('bad'));
    link.enqueue('DataTransfer', data('good'));

    const attempts = () => (db.prepare('SELECT attempts FROM outbox ORDER BY id LIMIT 1').get() as { attempts: number }).attempts;
    await waitUntil(() => received(csms).length === 1 && attempts() === 1, 5000, 'first failure recorded');
    // Not before 10 s (1 × 10 s) …
    await clock.advance(9_900);
    await link.call('Heartbeat', {});
    assert.deepEqual(received(csms), ['bad']);
    await clock.advance(100);
    await waitUntil(() => received(csms).length === 2 && attempts() === 2, 5000, 'second failure');
    // … then 2 × 10 s before the third and last transmission.
    await clock.advance(19_900);
    await link.call('Heartbeat', {});
    assert.deepEqual(received(csms), ['bad', 'bad']);
    await clock.advance(100);
    await waitUntil(() => received(csms).length === 4, 5000, 'third attempt and the next message');
    assert.deepEqual(received(csms), ['bad', 'bad', 'bad', 'good']);

    await waitUntil(() => link.pendingCount() === 0, 5000, 'drained');
    assert.equal(dead.length, 1);
    assert.deepEqual(dead[0]![0].payload, data('bad'));
    assert.equal(dead[0]![0].attempts, 3);
    assert.match(dead[0]![1], /InternalError/);
    const rows = link.deadLetters();
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]!.payload, data('bad'));
    assert.equal(rows[0]!.attempts, 3);
    assert.match(rows[0]!.error, /CALLERROR InternalError: cannot process/);
    assert.ok(log.lines('error').some((l) => /dead-letter/.test(l)));
  });

  it('a queued payload that fails our own schema check is dead-lettered at once, never sent, and does not block', async () => {
    const csms = await csmsAt();
    const { link } = rig({ csmsUrl: csms.url, outbox: { retryAttempts: 5, retryIntervalS: 3600 } });
    const dead: string[] = [];
    link.on('message-dead', (m, e) => dead.push(`${m.action} ${m.attempts} ${e}`));
    link.setReady(true);
    await link.start();
    // A 2.0.1 message queued before the CSMS turned out to speak 1.6: not valid in 1.6.
    link.enqueue('TransactionEvent', { eventType: 'Started', seqNo: 0 });
    link.enqueue('DataTransfer', data('after'));
    await waitUntil(() => link.pendingCount() === 0, 5000, 'drained');
    assert.deepEqual(received(csms), ['after']);
    assert.deepEqual(csms.actions(), ['DataTransfer']);
    assert.equal(dead.length, 1);
    assert.match(dead[0]!, /^TransactionEvent 1 not sent, fails the ocpp1\.6 schema/);
    assert.equal(link.deadLetters()[0]!.action, 'TransactionEvent');
  });

  it('setRetryPolicy changes attempts at run time (TransactionMessageAttempts)', async () => {
    const csms = await csmsAt();
    csms.setHandler('DataTransfer', () => {
      throw createRPCError('GenericError', 'no');
    });
    const { link } = rig({ csmsUrl: csms.url, outbox: { retryAttempts: 5, retryIntervalS: 1 } });
    link.setRetryPolicy({ attempts: 1, intervalS: 1 });
    link.setReady(true);
    await link.start();
    link.enqueue('DataTransfer', data('once'));
    await waitUntil(() => link.deadLetters().length === 1, 5000, 'dead at once');
    assert.deepEqual(received(csms), ['once']);
  });
});
