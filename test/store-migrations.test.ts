/** Every repository of the station core migrates once; running the migrations again changes nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, schemaVersion } from '../src/store/db.js';
import { kvGet, kvSet, migrateKv } from '../src/store/kv.js';
import { migrateSessions, openSessions, saveSession } from '../src/store/sessions.js';
import { cacheGet, cachePut, cacheSize, cacheTrim, migrateAuthCache } from '../src/store/auth-cache.js';
import { localApply, localGet, localVersion, migrateLocalList } from '../src/store/local-list.js';
import { migrateReservations, reservationPut, reservationsAll } from '../src/store/reservations.js';

const all = [migrateKv, migrateSessions, migrateAuthCache, migrateLocalList, migrateReservations];

test('running the station migrations twice is harmless and keeps the data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'store-mig-'));
  try {
    const path = join(dir, 'station.db');
    const ran = new Map<string, number>();
    let db = openDatabase(path, { onMigrated: (module, steps) => ran.set(module, steps) });
    // openDatabase ran every module's migrations once; these modules have one step each.
    assert.deepEqual(['station-kv', 'sessions', 'auth-cache', 'local-list', 'reservations'].map((m) => ran.get(m)), [1, 1, 1, 1, 1]);
    assert.deepEqual(all.map((m) => m(db)), [0, 0, 0, 0, 0], 'running them again right after the open');
    kvSet(db, 'k', { a: 1 });
    saveSession(db, { id: 's1', evseId: 1, startedAt: 5 });
    cachePut(db, { idToken: 'T', type: 'ISO14443', status: 'Accepted' }, 1);
    localApply(db, 3, true, [{ idToken: 'L', type: 'ISO14443', entry: { idToken: 'L', type: 'ISO14443', status: 'Accepted' } }]);
    reservationPut(db, { id: 7, evseId: 1, idToken: { idToken: 'R', type: 'ISO14443' }, expiresAt: 9, boundEvseId: 1 });
    assert.deepEqual(all.map((m) => m(db)), [0, 0, 0, 0, 0], 'second run in the same process');
    db.close();
    db = openDatabase(path);
    assert.deepEqual(all.map((m) => m(db)), [0, 0, 0, 0, 0], 'second run after a restart');
    assert.equal(schemaVersion(db, 'sessions'), 1);
    assert.deepEqual(kvGet(db, 'k'), { a: 1 });
    assert.equal(openSessions(db).length, 1);
    assert.equal(cacheGet(db, 'T')?.status, 'Accepted');
    assert.equal(localGet(db, 'L')?.status, 'Accepted');
    assert.equal(localVersion(db), 3);
    assert.equal(reservationsAll(db)[0]?.id, 7);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('local list: a differential update upserts and removes; a full one replaces', () => {
  const db = openDatabase(':memory:');
  migrateLocalList(db);
  const e = (id: string, status = 'Accepted') => ({ idToken: id, type: 'ISO14443', entry: { idToken: id, type: 'ISO14443', status } });
  localApply(db, 1, true, [e('A'), e('B')]);
  localApply(db, 2, false, [e('B', 'Blocked'), { idToken: 'A', type: 'ISO14443' }, e('C')]);
  assert.equal(localGet(db, 'A'), undefined);
  assert.equal(localGet(db, 'B')?.status, 'Blocked');
  assert.equal(localGet(db, 'C')?.status, 'Accepted');
  localApply(db, 5, true, [e('D')]);
  assert.equal(localGet(db, 'B'), undefined);
  assert.equal(localGet(db, 'D')?.status, 'Accepted');
  assert.equal(localVersion(db), 5);
  db.close();
});

test('C10.FR.07 a full authorization cache makes room: non-Accepted entries first, then the oldest', () => {
  const db = openDatabase(':memory:');
  migrateAuthCache(db);
  cachePut(db, { idToken: 'OLD_OK', type: 'ISO14443', status: 'Accepted' }, 1);
  cachePut(db, { idToken: 'NEW_BLOCKED', type: 'ISO14443', status: 'Blocked' }, 5);
  cachePut(db, { idToken: 'MID_OK', type: 'ISO14443', status: 'Accepted' }, 3);
  cachePut(db, { idToken: 'NEW_OK', type: 'ISO14443', status: 'Accepted' }, 6);
  assert.equal(cacheTrim(db, 2), 2);
  assert.equal(cacheSize(db), 2);
  assert.equal(cacheGet(db, 'NEW_BLOCKED'), undefined);
  assert.equal(cacheGet(db, 'OLD_OK'), undefined);
  assert.ok(cacheGet(db, 'MID_OK') && cacheGet(db, 'NEW_OK'));
  assert.equal(cacheTrim(db, 2), 0);
  db.close();
});
