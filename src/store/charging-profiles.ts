/** Installed charging profiles (smart charging), kept across restarts; the station owns their meaning. */
import { migrate, type Db, type MigrationSet } from './db.js';

export const chargingProfileMigrations: MigrationSet = {
  module: 'charging-profiles',
  steps: [
    `CREATE TABLE charging_profiles (
      id INTEGER PRIMARY KEY,
      evse_id INTEGER NOT NULL,
      purpose TEXT NOT NULL,
      stack_level INTEGER NOT NULL,
      session_id TEXT,
      data TEXT NOT NULL
    )`,
  ],
};

export function migrateChargingProfiles(db: Db): number {
  return migrate(db, chargingProfileMigrations);
}

export interface StoredProfileKey {
  id: number;
  evseId: number;
  purpose: string;
  stackLevel: number;
  sessionId?: string;
}

export function profilesAll<T>(db: Db): T[] {
  return (db.prepare('SELECT data FROM charging_profiles ORDER BY id').all() as { data: string }[]).map((r) => JSON.parse(r.data) as T);
}

export function profilePut(db: Db, p: StoredProfileKey): void {
  db.prepare(
    `INSERT INTO charging_profiles (id, evse_id, purpose, stack_level, session_id, data) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET evse_id = excluded.evse_id, purpose = excluded.purpose,
       stack_level = excluded.stack_level, session_id = excluded.session_id, data = excluded.data`,
  ).run(p.id, p.evseId, p.purpose, p.stackLevel, p.sessionId ?? null, JSON.stringify(p));
}

export function profileDelete(db: Db, id: number): void {
  db.prepare('DELETE FROM charging_profiles WHERE id = ?').run(id);
}

/** TxProfiles belong to one session: delete those of a session that ended. */
export function profilesDeleteForSession(db: Db, sessionId: string): number {
  return db.prepare('DELETE FROM charging_profiles WHERE session_id = ?').run(sessionId).changes;
}
