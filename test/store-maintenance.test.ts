/**
 * The nightly database maintenance (node-cron, issue 12 #7): the job prunes ended and reported sessions
 * past their retention and nothing else, gives the freed pages back and leaves an empty WAL; it is
 * scheduled on the wall clock only, at the configured time, and a bad schedule is a config error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SystemClock, VirtualClock } from '../base/clock.js';
import { silentLogger } from '../base/logger.js';
import { ConfigError, configFromObject } from '../src/config/load.js';
import { formatProblem } from '../src/config/validate.js';
import { openDatabase, type Db } from '../src/store/db.js';
import { maintainDatabase, scheduleDatabaseMaintenance } from '../src/store/maintenance.js';
import { markEndReported, saveSession, sessionMigrations } from '../src/store/sessions.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const padding = 'x'.repeat(2000);

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-maint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** 300 old ended+reported sessions, and the ones the job must keep. */
function fill(db: Db): void {
  const put = (id: string, endedAt: number | undefined, reported: boolean): void => {
    saveSession(db, { id, evseId: 1, startedAt: (endedAt ?? NOW) - 3_600_000, ...(endedAt !== undefined ? { endedAt } : {}), padding } as never);
    if (reported) markEndReported(db, id);
  };
  for (let i = 0; i < 300; i++) put(`old-${i}`, NOW - 100 * DAY - i, true);
  put('recent', NOW - 10 * DAY, true);
  put('old-but-unreported', NOW - 200 * DAY, false);
  put('open', undefined, false);
}

const ids = (db: Db): string[] => (db.prepare('SELECT id FROM sessions ORDER BY id').all() as { id: string }[]).map((r) => r.id);

test('the maintenance job prunes ended, reported sessions past the retention, gives the pages back and empties the WAL', (t) => {
  const path = join(tempDir(t), 'station.db');
  const db = openDatabase(path);
  try {
    fill(db);
    const r = maintainDatabase(db, NOW, { sessionRetentionDays: 90 });
    assert.equal(r.prunedSessions, 300);
    assert.deepEqual(ids(db), ['old-but-unreported', 'open', 'recent'], 'an end not yet reported, an open session and a recent one stay');
    assert.equal(r.incrementalVacuum, true, 'a database this release creates can give pages back');
    assert.ok(r.freedPages > 100, `freed ${r.freedPages} pages`);
    assert.equal(db.pragma('freelist_count', { simple: true }), 0);
    assert.ok(r.pagesAfter < r.pagesBefore - 100, `${r.pagesBefore} → ${r.pagesAfter} pages`);
    assert.equal(statSync(`${path}-wal`).size, 0, 'the WAL was checkpointed and truncated');
    assert.equal(statSync(path).size, r.pagesAfter * (db.pragma('page_size', { simple: true }) as number), 'the file shrank to its pages');
    assert.equal(maintainDatabase(db, NOW, { sessionRetentionDays: 90 }).prunedSessions, 0, 'a second run finds nothing');
    assert.equal(maintainDatabase(db, NOW, { sessionRetentionDays: 5 }).prunedSessions, 1, 'a shorter retention prunes the recent one too');
  } finally {
    db.close();
  }
});

test('a database from before incremental auto-vacuum is still pruned and checkpointed; its pages are reused, not given back', (t) => {
  const path = join(tempDir(t), 'station.db');
  const old = new Database(path);
  old.pragma('journal_mode = WAL');
  old.exec('CREATE TABLE schema_migrations (module TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (module, version))');
  old.exec(sessionMigrations.steps[0]!);
  old.prepare('INSERT INTO schema_migrations VALUES (?, 1, ?)').run('sessions', 'earlier');
  old.close();
  const db = openDatabase(path);
  try {
    fill(db);
    const r = maintainDatabase(db, NOW, { sessionRetentionDays: 90 });
    assert.equal(r.prunedSessions, 300);
    assert.equal(r.incrementalVacuum, false);
    assert.equal(r.freedPages, 0);
    assert.equal(statSync(`${path}-wal`).size, 0);
  } finally {
    db.close();
  }
});

test('the job is scheduled with node-cron on the real clock only, at the configured local time, and stops with the station', async (t) => {
  const db = openDatabase(join(tempDir(t), 'station.db'));
  try {
    const settings = { maintenanceSchedule: '17 3 * * *', sessionRetentionDays: 90 };
    assert.equal(scheduleDatabaseMaintenance(db, new VirtualClock(), silentLogger, settings), undefined, 'virtual time: nothing scheduled');
    assert.equal(scheduleDatabaseMaintenance(db, new SystemClock(), silentLogger, { ...settings, maintenanceSchedule: '' }), undefined, '"" turns it off');
    const job = scheduleDatabaseMaintenance(db, new SystemClock(), silentLogger, settings);
    assert.ok(job);
    assert.equal(job.task.getPattern(), '17 3 * * *');
    const next = job.task.getNextRun();
    assert.ok(next && next.getHours() === 3 && next.getMinutes() === 17 && next.getTime() > Date.now());
    saveSession(db, { id: 'ancient', evseId: 1, startedAt: 0, endedAt: 1 });
    markEndReported(db, 'ancient');
    assert.equal(job.runNow()?.prunedSessions, 1, 'what the schedule runs is the job above');
    await job.stop();
    assert.equal(job.task.getStatus(), 'destroyed');
  } finally {
    db.close();
  }
});

test('config database: defaults, and a bad schedule or retention named by its pointer', () => {
  const minimal = { station: { identity: 'CP1' }, ocpp: { csmsUrl: 'ws://127.0.0.1:9000/ocpp' } };
  assert.deepEqual(configFromObject(minimal).database, { maintenanceSchedule: '17 3 * * *', sessionRetentionDays: 90 });
  assert.equal(configFromObject({ ...minimal, database: { maintenanceSchedule: '' } }).database?.maintenanceSchedule, '');
  const problems = (database: unknown): string[] => {
    try {
      configFromObject({ ...minimal, database });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems.map(formatProblem);
    }
    assert.fail('accepted');
  };
  assert.match(problems({ maintenanceSchedule: 'every night' })[0]!, /^config error: \/database\/maintenanceSchedule: not a cron expression/);
  assert.match(problems({ maintenanceSchedule: '61 3 * * *' })[0]!, /^config error: \/database\/maintenanceSchedule: not a cron expression/);
  assert.deepEqual(problems({ sessionRetentionDays: 365 }), ['config error: /database/sessionRetentionDays: must be <= 90']);
});
