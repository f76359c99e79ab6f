/**
 * Charging sessions, written on every change so that a power cut (or SIGKILL) loses nothing:
 * the next start finds the sessions still open and ends them with the right reason.
 * The row keeps the whole session as JSON plus the columns the queries need.
 */
import { migrate, type Db, type MigrationSet } from './db.js';

/** The stored shape; the station's Session type satisfies it (the store stays below src/station). */
export interface StoredSession {
  id: string;
  evseId: number;
  startedAt: number;
  endedAt?: number;
}

export const sessionMigrations: MigrationSet = {
  module: 'sessions',
  steps: [
    `CREATE TABLE sessions (
      id TEXT PRIMARY KEY,
      evse_id INTEGER NOT NULL,
      started_at INTEGER NOT NULL,
      ended_at INTEGER,
      end_reported INTEGER NOT NULL DEFAULT 0,
      data TEXT NOT NULL
    );
    CREATE INDEX sessions_open ON sessions (ended_at, end_reported)`,
  ],
};

export function migrateSessions(db: Db): number {
  return migrate(db, sessionMigrations);
}

export function saveSession(db: Db, s: StoredSession): void {
  db.prepare(
    `INSERT INTO sessions (id, evse_id, started_at, ended_at, data) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET ended_at = excluded.ended_at, data = excluded.data`,
  ).run(s.id, s.evseId, s.startedAt, s.endedAt ?? null, JSON.stringify(s));
}

/** The 'ended' event of this session was handed to the listeners (the adapters' outboxes). */
export function markEndReported(db: Db, id: string): void {
  db.prepare('UPDATE sessions SET end_reported = 1 WHERE id = ?').run(id);
}

function parse<T>(rows: { data: string }[]): T[] {
  return rows.map((r) => JSON.parse(r.data) as T);
}

/** Sessions not ended, oldest first. */
export function openSessions<T extends StoredSession>(db: Db): T[] {
  return parse<T>(db.prepare('SELECT data FROM sessions WHERE ended_at IS NULL ORDER BY started_at').all() as { data: string }[]);
}

/** Sessions ended but whose end was never reported (the process died in between), oldest first. */
export function unreportedEnds<T extends StoredSession>(db: Db): T[] {
  return parse<T>(
    db.prepare('SELECT data FROM sessions WHERE ended_at IS NOT NULL AND end_reported = 0 ORDER BY ended_at').all() as {
      data: string;
    }[],
  );
}

export function loadSession<T extends StoredSession>(db: Db, id: string): T | undefined {
  const row = db.prepare('SELECT data FROM sessions WHERE id = ?').get(id) as { data: string } | undefined;
  return row ? (JSON.parse(row.data) as T) : undefined;
}

/** Forget ended sessions older than the cutoff (epoch ms). */
export function pruneSessions(db: Db, endedBefore: number): number {
  return db.prepare('DELETE FROM sessions WHERE ended_at IS NOT NULL AND end_reported = 1 AND ended_at < ?').run(endedBefore)
    .changes;
}
