/** The local authorization list sent by the CSMS (1.6 SendLocalList, 2.0.1 D01), with its version. */
import { migrate, type Db, type MigrationSet } from './db.js';
import { authFromRow, type AuthRow, type CachedAuth } from './auth-cache.js';

export type LocalEntry = CachedAuth;

export const localListMigrations: MigrationSet = {
  module: 'local-list',
  steps: [
    `CREATE TABLE local_list (
      id_token TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      status TEXT NOT NULL,
      group_id TEXT,
      expires_at INTEGER
    );
    CREATE TABLE local_list_version (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
    INSERT INTO local_list_version (one, version) VALUES (1, 0)`,
  ],
};

export function migrateLocalList(db: Db): number {
  return migrate(db, localListMigrations);
}

export function localGet(db: Db, idToken: string): LocalEntry | undefined {
  const r = db.prepare('SELECT * FROM local_list WHERE id_token = ?').get(idToken) as AuthRow | undefined;
  return r ? authFromRow(r) : undefined;
}

export function localVersion(db: Db): number {
  return (db.prepare('SELECT version FROM local_list_version WHERE one = 1').get() as { version: number }).version;
}

export function localCount(db: Db): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM local_list').get() as { n: number }).n;
}

/**
 * Apply an update in one transaction: a full update replaces the list; a differential one upserts
 * entries with a status and removes entries without one.
 */
export function localApply(db: Db, version: number, full: boolean, entries: { idToken: string; type: string; entry?: LocalEntry }[]): void {
  const upsert = db.prepare(
    `INSERT INTO local_list (id_token, type, status, group_id, expires_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(id_token) DO UPDATE SET type = excluded.type, status = excluded.status, group_id = excluded.group_id,
       expires_at = excluded.expires_at`,
  );
  const remove = db.prepare('DELETE FROM local_list WHERE id_token = ?');
  db.transaction(() => {
    if (full) db.prepare('DELETE FROM local_list').run();
    for (const e of entries) {
      if (e.entry) upsert.run(e.idToken, e.type, e.entry.status, e.entry.groupId ?? null, e.entry.expiresAt ?? null);
      else remove.run(e.idToken);
    }
    db.prepare('UPDATE local_list_version SET version = ? WHERE one = 1').run(version);
  })();
}
