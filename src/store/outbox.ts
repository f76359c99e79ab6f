/**
 * The outbox of transaction messages (src/ocpp/outbox.ts drains it), its dead-letter table, and a small
 * key/value table of the OCPP link (e.g. the last negotiated subprotocol).
 *
 * Payloads are stored as JSON text. Every write is its own committed transaction unless the caller
 * wraps several in one (better-sqlite3 nests them as savepoints); with synchronous=FULL a row is on
 * disk when the call returns.
 */
import type { Db, MigrationSet } from './db.js';

export const outboxMigrations: MigrationSet = {
  module: 'outbox',
  steps: [
    `CREATE TABLE outbox (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       action TEXT NOT NULL,
       payload TEXT NOT NULL,
       tx_key TEXT,
       attempts INTEGER NOT NULL DEFAULT 0,
       created_at INTEGER NOT NULL
     );
     CREATE TABLE outbox_dead (
       id INTEGER PRIMARY KEY,
       action TEXT NOT NULL,
       payload TEXT NOT NULL,
       tx_key TEXT,
       attempts INTEGER NOT NULL,
       created_at INTEGER NOT NULL,
       died_at INTEGER NOT NULL,
       error TEXT NOT NULL
     );
     CREATE TABLE ocpp_link_kv (
       key TEXT PRIMARY KEY,
       value TEXT NOT NULL
     );`,
    // The queue depth is read on periodic paths (status, shutdown drain wait, 2.0.1 backlog): kept by
    // triggers in the same transaction as each insert and delete, so reading it costs one row, not a
    // scan of the backlog, and it stays right for every writer (the outbox CLI in another process too).
    `CREATE TABLE outbox_count (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
     INSERT INTO outbox_count (id, n) SELECT 1, COUNT(*) FROM outbox;
     CREATE TRIGGER outbox_count_insert AFTER INSERT ON outbox BEGIN UPDATE outbox_count SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER outbox_count_delete AFTER DELETE ON outbox BEGIN UPDATE outbox_count SET n = n - 1 WHERE id = 1; END;`,
  ],
};

export interface OutboxRow {
  id: number;
  action: string;
  payload: Record<string, unknown>;
  txKey?: string;
  attempts: number;
  createdAt: number;
}

export interface DeadRow extends OutboxRow {
  diedAt: number;
  error: string;
}

interface RawRow {
  id: number;
  action: string;
  payload: string;
  tx_key: string | null;
  attempts: number;
  created_at: number;
}

function fromRaw(r: RawRow): OutboxRow {
  const row: OutboxRow = {
    id: r.id,
    action: r.action,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    attempts: r.attempts,
    createdAt: r.created_at,
  };
  if (r.tx_key !== null) row.txKey = r.tx_key;
  return row;
}

export class OutboxStore {
  private readonly insertStmt;
  private readonly headStmt;
  private readonly countStmt;
  private readonly deleteStmt;
  private readonly attemptsStmt;
  private readonly getStmt;
  private readonly deadInsertStmt;

  constructor(readonly db: Db) {
    this.insertStmt = db.prepare(
      'INSERT INTO outbox (action, payload, tx_key, attempts, created_at) VALUES (?, ?, ?, 0, ?)',
    );
    this.headStmt = db.prepare('SELECT * FROM outbox ORDER BY id LIMIT 1');
    this.countStmt = db.prepare('SELECT n FROM outbox_count WHERE id = 1');
    this.deleteStmt = db.prepare('DELETE FROM outbox WHERE id = ?');
    this.attemptsStmt = db.prepare('UPDATE outbox SET attempts = ? WHERE id = ?');
    this.getStmt = db.prepare('SELECT * FROM outbox WHERE id = ?');
    this.deadInsertStmt = db.prepare(
      `INSERT INTO outbox_dead (id, action, payload, tx_key, attempts, created_at, died_at, error)
       SELECT id, action, payload, tx_key, attempts, created_at, ?, ? FROM outbox WHERE id = ?`,
    );
  }

  /** Commits the message; returns its id (ids grow, so id order is queue order). */
  add(action: string, payload: Record<string, unknown>, txKey: string | undefined, now: number): number {
    const info = this.insertStmt.run(action, JSON.stringify(payload), txKey ?? null, now);
    return Number(info.lastInsertRowid);
  }

  /** The oldest message. */
  head(): OutboxRow | undefined {
    const r = this.headStmt.get() as RawRow | undefined;
    return r ? fromRaw(r) : undefined;
  }

  get(id: number): OutboxRow | undefined {
    const r = this.getStmt.get(id) as RawRow | undefined;
    return r ? fromRaw(r) : undefined;
  }

  /** Messages queued (a counter kept by triggers: no scan of the backlog). */
  count(): number {
    return (this.countStmt.get() as { n: number } | undefined)?.n ?? 0;
  }

  remove(id: number): void {
    this.deleteStmt.run(id);
  }

  setAttempts(id: number, attempts: number): void {
    this.attemptsStmt.run(attempts, id);
  }

  /**
   * Runs `fn` in one transaction committed with synchronous=NORMAL: written to the WAL (safe from a
   * process crash) but not fsync'ed; the next synchronous=FULL commit (any enqueue) fsyncs it with
   * its own. For writes whose loss on a power cut is harmless: the delete of an answered message
   * (lost, the message is sent once more: at least once). Inside an open transaction it simply joins it.
   */
  committedLazily<T>(fn: () => T): T {
    if (this.db.inTransaction) return this.db.transaction(fn)();
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.db.transaction(fn)();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /**
   * Give back what a drained backlog left behind, bounded: at most `maxPages` free pages returned to
   * the file system (only in a database created with auto_vacuum=INCREMENTAL) and the WAL written back
   * and truncated. Queued rows are untouched. Nothing inside an open transaction.
   */
  compact(maxPages: number): void {
    if (this.db.inTransaction) return;
    if ((this.db.pragma('auto_vacuum', { simple: true }) as number) === 2) this.db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(maxPages))})`);
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Moves the message to outbox_dead in one transaction. */
  kill(id: number, error: string, now: number): void {
    this.db.transaction(() => {
      this.deadInsertStmt.run(now, error, id);
      this.deleteStmt.run(id);
    })();
  }

  all(): OutboxRow[] {
    return (this.db.prepare('SELECT * FROM outbox ORDER BY id').all() as RawRow[]).map(fromRaw);
  }

  dead(): DeadRow[] {
    const rows = this.db.prepare('SELECT * FROM outbox_dead ORDER BY id').all() as RawDeadRow[];
    return rows.map(fromRawDead);
  }

  deadCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox_dead').get() as { n: number }).n;
  }

  getDead(id: number): DeadRow | undefined {
    const r = this.db.prepare('SELECT * FROM outbox_dead WHERE id = ?').get(id) as RawDeadRow | undefined;
    return r ? fromRawDead(r) : undefined;
  }

  /**
   * Dead letters back into the queue, in one short transaction: each keeps its id, so it goes out in
   * its original place relative to the messages of its transaction still queued; attempts start
   * from zero. Returns how many moved (ids that are not dead letters are skipped).
   */
  revive(ids: readonly number[]): number {
    const insert = this.db.prepare(
      `INSERT INTO outbox (id, action, payload, tx_key, attempts, created_at)
       SELECT id, action, payload, tx_key, 0, created_at FROM outbox_dead WHERE id = ?`,
    );
    const del = this.db.prepare('DELETE FROM outbox_dead WHERE id = ?');
    return this.db.transaction(() => {
      let n = 0;
      for (const id of ids) {
        if (insert.run(id).changes === 0) continue;
        del.run(id);
        n++;
      }
      return n;
    })();
  }

  /** Deletes dead letters for good (operator's decision). Returns how many. */
  dropDead(ids: readonly number[]): number {
    const del = this.db.prepare('DELETE FROM outbox_dead WHERE id = ?');
    return this.db.transaction(() => ids.reduce((n, id) => n + del.run(id).changes, 0))();
  }
}

type RawDeadRow = RawRow & { died_at: number; error: string };

function fromRawDead(r: RawDeadRow): DeadRow {
  return { ...fromRaw(r), diedAt: r.died_at, error: r.error };
}

export function getLinkValue(db: Db, key: string): string | undefined {
  const r = db.prepare('SELECT value FROM ocpp_link_kv WHERE key = ?').get(key) as { value: string } | undefined;
  return r?.value;
}

export function setLinkValue(db: Db, key: string, value: string): void {
  db.prepare(
    'INSERT INTO ocpp_link_kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}
