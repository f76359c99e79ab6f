/**
 * Migrations run once, when the database is opened (issue 12 #7): not again when a repository or an
 * adapter is constructed, not again when the database is opened a second time; a database that a
 * newer release migrated further is refused at the open, before anything is changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, StorageError, type Db } from '../src/store/db.js';
import { stationMigrations } from '../src/store/migrations.js';
import { getLinkValue, OutboxStore, setLinkValue } from '../src/store/outbox.js';
import { V16ConfigRepo } from '../src/store/v16-config.js';
import { V16TransactionRepo } from '../src/store/v16-transactions.js';
import { V201DeviceModelRepo } from '../src/store/v201-device-model.js';
import { V201TransactionRepo } from '../src/store/v201-transactions.js';

function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'store-once-'));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Counts the statements that read or write schema_migrations from now on. */
function watchMigrationQueries(db: Db): () => number {
  let n = 0;
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    if (sql.includes('schema_migrations')) n++;
    return prepare(sql);
  }) as Db['prepare'];
  return () => n;
}

test('openDatabase runs every module migration once; a second open runs none', () => {
  using t = tempDir();
  const path = join(t.dir, 'station.db');
  const first = new Map<string, number>();
  openDatabase(path, { onMigrated: (m, steps) => first.set(m, (first.get(m) ?? 0) + steps) }).close();
  assert.deepEqual(
    [...first.entries()].sort(),
    stationMigrations()
      .map((s) => [s.module, s.steps.length] as [string, number])
      .sort(),
    'each module once, with all its steps',
  );
  const second: string[] = [];
  const db = openDatabase(path, { onMigrated: (m) => second.push(m) });
  try {
    assert.deepEqual(second, []);
    const rows = db.prepare('SELECT module, COUNT(*) AS n, MAX(version) AS v FROM schema_migrations GROUP BY module').all() as { n: number; v: number }[];
    for (const r of rows) assert.equal(r.n, r.v, 'one row per step: no step recorded twice');
  } finally {
    db.close();
  }
});

test('constructing the repositories (twice) touches no migration', () => {
  const db = openDatabase(':memory:');
  try {
    const migrationQueries = watchMigrationQueries(db);
    for (let i = 0; i < 2; i++) {
      new OutboxStore(db);
      new V16ConfigRepo(db);
      new V16TransactionRepo(db);
      new V201DeviceModelRepo(db);
      new V201TransactionRepo(db);
      setLinkValue(db, 'k', String(i));
      assert.equal(getLinkValue(db, 'k'), String(i));
    }
    assert.equal(migrationQueries(), 0);
  } finally {
    db.close();
  }
});

test('a database a newer release migrated further is refused at the open, and nothing is migrated', () => {
  using t = tempDir();
  const path = join(t.dir, 'station.db');
  const db = openDatabase(path, { migrations: [] });
  db.exec('CREATE TABLE sessions (x)');
  db.prepare('INSERT INTO schema_migrations (module, version, applied_at) VALUES (?, ?, ?)').run('sessions', 9, 'later');
  db.close();
  assert.throws(
    () => openDatabase(path),
    (err: unknown) => err instanceof StorageError && err.file === path && /newer release \(schema of "sessions" is at version 9, this release knows up to \d+\)/.test(err.fault),
  );
  const after = openDatabase(path, { migrations: [] });
  try {
    const modules = after.prepare('SELECT DISTINCT module FROM schema_migrations').all() as { module: string }[];
    assert.deepEqual(modules.map((m) => m.module), ['sessions'], 'no other module was migrated by the refused open');
  } finally {
    after.close();
  }
});
