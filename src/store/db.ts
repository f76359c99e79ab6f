/**
 * The one SQLite database of the station. better-sqlite3 (see docs/ARCHITECTURE.md for why not the
 * archived sqlite3 package) stays behind this module and the small repositories beside it, so that
 * node:sqlite can replace it later.
 *
 * Migrations are numbered per module ("outbox", "sessions", "v16-config", ...): each repository
 * declares its own list, and src/store/migrations.ts names every list. openDatabase() runs them all,
 * once, when it opens the database (nobody else does: a repository or adapter constructed twice runs
 * nothing). A step runs once, in a transaction, and is recorded in schema_migrations.
 */
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { storageHealth } from './health.js';
import { stationMigrations } from './migrations.js';
import { createPrivateFile, ensurePrivateDir, makePrivate } from './private-files.js';

export type Db = Database.Database;

export interface MigrationSet {
  /** Unique module name. */
  module: string;
  /** SQL of each step, in order; step N is version N+1. Never edit a released step: append. */
  steps: string[];
}

/**
 * The layout version of the database as a whole (PRAGMA user_version), raised when a release changes
 * something no module migration describes. A database written by a newer release is refused.
 */
export const STORE_FORMAT = 1;

/**
 * The database cannot be used: it cannot be opened, read or written, it is damaged, or a newer
 * release wrote it. The daemon stops with this message (and exit code 3) rather than charge without
 * records.
 */
export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    readonly file: string,
    /** What is wrong, for the operator: "SQLITE_NOTADB: file is not a database", … */
    readonly fault: string,
  ) {
    super(`${file}: ${fault}`);
  }
}

function describeFault(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  return typeof e?.code === 'string' && !msg.startsWith(e.code) ? `${e.code}: ${msg}` : msg;
}

export interface OpenOptions {
  /** The migration sets to run at open; default every module's (src/store/migrations.ts). */
  migrations?: MigrationSet[];
  /** Told how many steps of each module ran (only modules where some did). */
  onMigrated?: (module: string, steps: number) => void;
}

/**
 * Open (and create) the database with the settings the station relies on, check it and bring its
 * schema up to date: the file and its directory are private (private-files.ts), the file is a
 * database in good order (PRAGMA quick_check), no newer release wrote it (its format or any module's
 * schema), every module's migrations ran, and a write works. Any failure is a StorageError naming the
 * file and the fault. Writes that fail later for a storage reason are reported to storageHealth(db).
 */
export function openDatabase(path: string, opts: OpenOptions = {}): Db {
  const memory = path === ':memory:';
  let db: Db | undefined;
  try {
    if (!memory) {
      ensurePrivateDir(dirname(path));
      // SQLite creates a new file with the umask's mode; created here first it is private, and the
      // -wal / -shm files take the database file's mode.
      createPrivateFile(path);
    }
    db = new Database(path);
    // Takes effect only in a database that has no table yet (one this release creates): its freed pages
    // can then be given back by the nightly maintenance (src/store/maintenance.ts) without a full VACUUM.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before we act on it (send the message, close the contactor).
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    checkDatabase(db);
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      module TEXT NOT NULL,
      version INTEGER NOT NULL,
      applied_at TEXT NOT NULL,
      PRIMARY KEY (module, version)
    )`);
    db.exec('CREATE TABLE IF NOT EXISTS storage_probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)');
    if ((db.pragma('user_version', { simple: true }) as number) < STORE_FORMAT) db.pragma(`user_version = ${STORE_FORMAT}`);
    const sets = opts.migrations ?? stationMigrations();
    // Refuse before changing anything: a newer module schema stops the open with the file as it was.
    for (const set of sets) refuseNewer(db, set);
    for (const set of sets) {
      const ran = migrate(db, set);
      if (ran > 0) opts.onMigrated?.(set.module, ran);
    }
    probe(db);
    if (!memory) for (const extra of ['-wal', '-shm']) makePrivate(`${path}${extra}`);
  } catch (err) {
    try {
      db?.close();
    } catch {
      // closing a database that failed to open: nothing more to say than the first error
    }
    if (err instanceof StorageError) throw err;
    throw new StorageError(path, describeFault(err));
  }
  instrument(db);
  return db;
}

/**
 * Integrity and version. quick_check reads every page once (O(size), without the index cross-checks
 * of integrity_check): measured 0.5 s for a 113 MB database in the page cache (integrity_check 1 s);
 * from an SD card the read speed decides. Sessions are pruned after 90 days, so a station's database
 * stays at a few MB and the cost at start small.
 */
function checkDatabase(db: Db): void {
  const file = db.name;
  const rows = db.pragma('quick_check') as { quick_check: string }[];
  const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
  if (problems.length > 0) throw new StorageError(file, `damaged (quick_check: ${problems.slice(0, 3).join('; ')})`);
  const format = db.pragma('user_version', { simple: true }) as number;
  if (format > STORE_FORMAT) {
    throw new StorageError(file, `written by a newer release (database format ${format}, this release knows up to ${STORE_FORMAT})`);
  }
}

/** One durable write (synchronous=FULL, fsync) to see whether the storage takes writes. Throws when not. */
function probe(db: Db): void {
  db.prepare('INSERT OR REPLACE INTO storage_probe (id, at) VALUES (1, ?)').run(Date.now());
}

/**
 * Try a durable write; tell storageHealth(db) how it went. True when it worked. The station calls it
 * on its clock while a storage fault lasts.
 */
export function probeWrite(db: Db): boolean {
  const health = storageHealth(db);
  try {
    probe(db);
  } catch (err) {
    health.failed(err);
    return false;
  }
  health.succeeded();
  return true;
}

/** Faults injected per database (tests: a disk that fills up or fails under a running station). */
const injected = new WeakMap<Db, string>();

/**
 * Test seam: from now on every write statement and exec on this database fails with an SQLite error
 * of this code (SQLITE_FULL, SQLITE_IOERR_WRITE, …) before it reaches SQLite, as a full or failing
 * disk would make it; undefined lets writes through again. Reads are unaffected.
 */
export function injectWriteFault(db: Db, code: string | undefined): void {
  if (code === undefined) injected.delete(db);
  else injected.set(db, code);
}

function throwInjected(db: Db): void {
  const code = injected.get(db);
  if (code !== undefined) throw new Database.SqliteError(`injected storage fault (${code})`, code);
}

/**
 * Every statement, exec and transaction of this database reports a storage failure to its tracker
 * (and passes the error on unchanged): a read that fails with an I/O error or a damaged page is as
 * much a storage fault as a write. The injected faults hit writes only.
 */
function instrument(db: Db): void {
  const health = storageHealth(db);
  const watch = <A extends unknown[], R>(fn: (...args: A) => R) =>
    function watched(this: unknown, ...args: A): R {
      try {
        throwInjected(db);
        return fn.apply(this, args);
      } catch (err) {
        health.failed(err);
        throw err;
      }
    };
  const report = <A extends unknown[], R>(fn: (...args: A) => R) =>
    function reported(this: unknown, ...args: A): R {
      try {
        return fn.apply(this, args);
      } catch (err) {
        health.failed(err);
        throw err;
      }
    };
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    if (!stmt.reader) stmt.run = watch(stmt.run.bind(stmt));
    else {
      stmt.get = report(stmt.get.bind(stmt));
      stmt.all = report(stmt.all.bind(stmt));
    }
    return stmt;
  }) as Db['prepare'];
  db.exec = watch(db.exec.bind(db));
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    // A failed COMMIT (the fsync) surfaces here, outside any statement.
    const t = transaction(fn);
    const guarded = (...args: unknown[]): unknown => {
      try {
        return t(...args);
      } catch (err) {
        health.failed(err);
        throw err;
      }
    };
    return Object.assign(guarded, { default: guarded, deferred: t.deferred, immediate: t.immediate, exclusive: t.exclusive, database: db });
  }) as Db['transaction'];
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

function refuseNewer(db: Db, set: MigrationSet): number {
  const v = schemaVersion(db, set.module);
  if (v > set.steps.length) {
    throw new StorageError(
      db.name,
      `written by a newer release (schema of "${set.module}" is at version ${v}, this release knows up to ${set.steps.length})`,
    );
  }
  return v;
}

/**
 * Apply the steps of a migration set that have not run yet. Returns how many ran. openDatabase()
 * calls it for every module; tests and tools may call it for a set of their own.
 */
export function migrate(db: Db, set: MigrationSet): number {
  const from = refuseNewer(db, set);
  let ran = 0;
  for (let i = from; i < set.steps.length; i++) {
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
