/**
 * The database is checked when it opens (issue 10, point 10): a file that is not a database, a
 * damaged one, one written by a newer release, one that cannot be written, each stops the start with
 * a StorageError naming the file and the fault; the daemon exits 3 with one line saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDatabase, StorageError, STORE_FORMAT } from '../src/store/db.js';
import { migrateSessions, saveSession } from '../src/store/sessions.js';
import { buildRoot } from './support/paths.js';

const cli = join(buildRoot(), 'src', 'cli.js');
const env = { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '', INVOCATION_ID: '' };
/** Root ignores file modes: the read-only cases run the daemon as nobody then. */
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-open-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function refused(path: string, fault: RegExp): void {
  assert.throws(
    () => openDatabase(path).close(),
    (err: unknown) => err instanceof StorageError && err.file === path && fault.test(err.fault) && err.message.startsWith(`${path}: `),
  );
}

/** A database with a few hundred sessions: several pages, so a cut file is damaged inside. */
function populated(path: string): void {
  const db = openDatabase(path);
  migrateSessions(db);
  for (let i = 0; i < 400; i++) saveSession(db, { id: `s-${i}-${'x'.repeat(200)}`, evseId: 1, startedAt: i });
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

test('a file that is not a database is refused with its path and SQLITE_NOTADB', (t) => {
  const path = join(tempDir(t), 'station.db');
  writeFileSync(path, 'this is not a database, just some text that fills more than the header. '.repeat(100));
  refused(path, /SQLITE_NOTADB/);
});

test('a truncated database is refused as damaged', (t) => {
  const path = join(tempDir(t), 'station.db');
  populated(path);
  truncateSync(path, Math.floor(statSync(path).size / 2));
  refused(path, /damaged|SQLITE_CORRUPT/);
});

test('a database from a newer release is refused: its format (user_version) or a module schema beyond the known migrations', (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'a.db');
  let db = openDatabase(a);
  db.pragma(`user_version = ${STORE_FORMAT + 1}`);
  db.close();
  refused(a, /newer release \(database format 2, this release knows up to 1\)/);

  const b = join(dir, 'b.db');
  db = openDatabase(b);
  migrateSessions(db);
  db.prepare('INSERT INTO schema_migrations (module, version, applied_at) VALUES (?, ?, ?)').run('sessions', 7, 'later');
  db.close();
  // Refused when the database is opened (every module's migrations run there), not later.
  refused(b, /schema of "sessions" is at version 7, this release knows up to 1/);
  db = openDatabase(b, { migrations: [] });
  try {
    assert.throws(
      () => migrateSessions(db),
      (err: unknown) => err instanceof StorageError && err.file === b && /schema of "sessions" is at version 7, this release knows up to 1/.test(err.fault),
    );
    // A module at or below its known version migrates as before.
    assert.equal(migrate(db, { module: 'other', steps: ['CREATE TABLE other (x)'] }), 1);
  } finally {
    db.close();
  }
});

function config(dir: string, stateDir: string): string {
  const file = join(dir, 'station.json');
  writeFileSync(
    file,
    JSON.stringify({ station: { identity: 'CP-DB' }, ocpp: { version: '1.6', csmsUrl: 'ws://127.0.0.1:9/ocpp' }, hal: { board: 'sim' }, stateDir }),
  );
  chmodSync(file, 0o644);
  return file;
}

function runDaemon(file: string, opts: { nobody?: boolean } = {}): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [cli, 'run', '--config', file], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
    ...(opts.nobody ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('the daemon on a garbage database: exit 3, one line naming the file and the fault, no stack trace', (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  const db = join(stateDir, 'station.db');
  writeFileSync(db, 'garbage '.repeat(1000));
  const r = runDaemon(config(dir, stateDir));
  assert.equal(r.status, 3, r.out);
  const line = r.out.split('\n').find((l) => l.includes('storage error'));
  assert.ok(line, r.out);
  assert.ok(line.includes(`${db}: SQLITE_NOTADB`), line);
  assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
  assert.equal(readFileSync(db, 'utf8').startsWith('garbage'), true, 'the file is left as it was for the operator');
});

/** Run the daemon as a user the modes apply to (nobody when the tests run as root). */
function prepareForUser(dir: string, stateDir: string): void {
  if (!asRoot) return;
  for (const p of [dir, stateDir]) chownSync(p, NOBODY, NOBODY);
  chmodSync(dir, 0o755);
}

test('the daemon on a read-only database file or a read-only state directory: exit 3 naming the file', (t) => {
  const dir = tempDir(t);
  // A database the daemon made before, now read-only.
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  const db = join(stateDir, 'station.db');
  populated(db);
  prepareForUser(dir, stateDir);
  if (asRoot) chownSync(db, NOBODY, NOBODY);
  chmodSync(db, 0o400);
  let r = runDaemon(config(dir, stateDir), { nobody: asRoot });
  assert.equal(r.status, 3, r.out);
  assert.match(r.out, new RegExp(`storage error: ${db}: .*(EACCES|SQLITE_READONLY|SQLITE_CANTOPEN)`));

  // A state directory the daemon may not write (no database yet).
  const dir2 = tempDir(t);
  const stateDir2 = join(dir2, 'state');
  mkdirSync(stateDir2, { mode: 0o700 });
  prepareForUser(dir2, stateDir2);
  chmodSync(stateDir2, 0o500);
  r = runDaemon(config(dir2, stateDir2), { nobody: asRoot });
  assert.equal(r.status, 3, r.out);
  assert.match(r.out, new RegExp(`storage error: ${join(stateDir2, 'station.db')}: .*EACCES`));
});
