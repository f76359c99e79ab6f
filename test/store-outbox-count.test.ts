/**
 * Issue 14 goal 7: the outbox depth is a counter kept in the database (triggers on insert and delete),
 * not a COUNT(*) over the backlog, and it stays equal to the rows queued through enqueue, delete after
 * an answer, dead-lettering, revival, another connection's writes (the outbox CLI) and a restart.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase, type Db } from '../src/store/db.js';
import { OutboxStore } from '../src/store/outbox.js';
import { tempDir } from './support/ocpp-link.js';

const scanned = (db: Db): number => (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
const kept = (db: Db): number => (db.prepare('SELECT n FROM outbox_count WHERE id = 1').get() as { n: number }).n;

describe('outbox depth counter', () => {
  it('stays equal to the queued rows across enqueue, delete, dead letter, revive, another writer and a restart', () => {
    const dir = tempDir();
    const path = join(dir.path, 'station.db');
    let db = openDatabase(path);
    let store = new OutboxStore(db);
    const check = (what: string): void => {
      assert.equal(kept(db), scanned(db), `counter after ${what}`);
      assert.equal(store.count(), scanned(db), `count() after ${what}`);
    };
    check('open');
    const ids = Array.from({ length: 5 }, (_, i) => store.add('MeterValues', { connectorId: 1, meterValue: [], n: i }, 'tx1', 1000 + i));
    check('5 enqueues');
    assert.equal(store.count(), 5);
    store.remove(ids[0]!);
    check('a delete after an answer');
    store.kill(ids[1]!, 'CALLERROR GenericError', 2000);
    check('a dead letter');
    assert.equal(store.count(), 3);
    // A transaction that rolls back leaves the counter as it was.
    assert.throws(() =>
      db.transaction(() => {
        store.remove(ids[2]!);
        throw new Error('handler failed');
      })(),
    );
    check('a rolled-back delete');
    assert.equal(store.count(), 3);
    store.revive([ids[1]!]);
    check('a revived dead letter');
    assert.equal(store.count(), 4);
    // The outbox CLI writes from its own connection.
    const other = openDatabase(path);
    new OutboxStore(other).add('StatusNotification', { connectorId: 1 }, undefined, 3000);
    other.close();
    check('a write from another connection');
    assert.equal(store.count(), 5);
    db.close();
    db = openDatabase(path);
    store = new OutboxStore(db);
    check('a restart');
    assert.equal(store.count(), 5);
    for (const row of store.all()) store.remove(row.id);
    check('the drain');
    assert.equal(store.count(), 0);
    db.close();
    dir.remove();
  });
});

describe('outbox compaction after a drained backlog (issue 14 goal 6)', () => {
  it('gives pages back and truncates the WAL, keeping every queued row as it was', () => {
    const dir = tempDir();
    const path = join(dir.path, 'station.db');
    const db = openDatabase(path);
    const store = new OutboxStore(db);
    const big = 'x'.repeat(2000);
    const ids = db.transaction(() => Array.from({ length: 3000 }, (_, i) => store.add('DataTransfer', { vendorId: 'v', data: big + i }, i % 2 ? 'tx' : undefined, i)))();
    for (const id of ids.slice(0, 2990)) store.remove(id);
    const before = store.all();
    const pages = (): number => db.pragma('page_count', { simple: true }) as number;
    const free = (): number => db.pragma('freelist_count', { simple: true }) as number;
    const pagesBefore = pages();
    assert.ok(free() > 1000, 'the drained rows left free pages');
    store.compact(100_000);
    assert.ok(pages() < pagesBefore / 2, `file shrank: ${pagesBefore} → ${pages()} pages`);
    assert.equal(free(), 0);
    assert.equal(statSync(`${path}-wal`).size, 0, 'WAL truncated');
    assert.deepEqual(store.all(), before, 'every queued row kept');
    assert.equal(store.count(), 10);
    db.close();
    dir.remove();
  });
});
