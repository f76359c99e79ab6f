/**
 * The one SQLite database of the station. better-sqlite3 (see docs/ARCHITECTURE.md for why not the
 * archived sqlite3 package) stays behind this module and the small repositories beside it, so that
 * node:sqlite can replace it later.
 *
 * Migrations are numbered per module ("outbox", "sessions", "v16-config", ...): each repository
 * declares its own list, so modules do not edit one shared file. A step runs once, in a transaction,
 * and is recorded in schema_migrations; running them again is harmless.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

export interface MigrationSet {
  /** Unique module name. */
  module: string;
  /** SQL of each step, in order; step N is version N+1. Never edit a released step: append. */
  steps: string[];
}

/** Open (and create) the database with the settings the station relies on. */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before we act on it (send the message, close the contactor).
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    module TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (module, version)
  )`);
  return db;
}

/**
 * Run fn in one transaction committed with synchronous=NORMAL instead of FULL: no fsync, so the
 * event loop (which on a GPIO relay board is the safety path) is not blocked for the disk. In WAL
 * mode the commit is still atomic and survives a crash of the process; only a power cut (or kernel
 * crash) before the next FULL commit may lose it, since that commit's fsync of the WAL makes every
 * earlier frame durable too. Use it only for changes that recovery after a power cut does not
 * need, and say why at each use (docs/ARCHITECTURE.md, "Durable writes and the event loop").
 * Inside a transaction already open, fn simply joins it: the outer commit decides.
 */
export function commitLazy<T>(db: Db, fn: () => T): T {
  if (db.inTransaction) return fn();
  db.pragma('synchronous = NORMAL');
  try {
    return db.transaction(fn)();
  } finally {
    db.pragma('synchronous = FULL');
  }
}

/** Apply the steps of a migration set that have not run yet. Returns how many ran. */
export function migrate(db: Db, set: MigrationSet): number {
  const row = db
    .prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE module = ?')
    .get(set.module) as { v: number };
  let ran = 0;
  for (let i = row.v; i < set.steps.length; i++) {
    const step = set.steps[i]!;
    db.transaction(() => {
      db.exec(step);
      db.prepare('INSERT INTO schema_migrations (module, version, applied_at) VALUES (?, ?, ?)').run(
        set.module,
        i + 1,
        new Date().toISOString(),
      );
    })();
    ran++;
  }
  return ran;
}

export function schemaVersion(db: Db, module: string): number {
  const row = db
    .prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE module = ?')
    .get(module) as { v: number };
  return row.v;
}
