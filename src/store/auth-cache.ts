/** The authorization cache: the last CSMS answer per token (1.6 Authorization Cache, 2.0.1 C10). */
import { migrate, type Db, type MigrationSet } from './db.js';

export interface CachedAuth {
  idToken: string;
  type: string;
  status: string;
  groupId?: string;
  /** Epoch ms after which the entry is not valid. */
  expiresAt?: number;
}

export const authCacheMigrations: MigrationSet = {
  module: 'auth-cache',
  steps: [
    `CREATE TABLE auth_cache (
      id_token TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      status TEXT NOT NULL,
      group_id TEXT,
      expires_at INTEGER,
      updated_at INTEGER NOT NULL
    )`,
  ],
};

export function migrateAuthCache(db: Db): number {
  return migrate(db, authCacheMigrations);
}

/** A row of auth_cache or local_list: both tables hold the same columns for a token. */
export interface AuthRow {
  id_token: string;
  type: string;
  status: string;
  group_id: string | null;
  expires_at: number | null;
}

export function authFromRow(r: AuthRow): CachedAuth {
  return {
    idToken: r.id_token,
    type: r.type,
    status: r.status,
    ...(r.group_id !== null ? { groupId: r.group_id } : {}),
    ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
  };
}

export function cacheGet(db: Db, idToken: string): CachedAuth | undefined {
  const r = db.prepare('SELECT * FROM auth_cache WHERE id_token = ?').get(idToken) as AuthRow | undefined;
  return r ? authFromRow(r) : undefined;
}

export function cachePut(db: Db, e: CachedAuth, now: number): void {
  db.prepare(
    `INSERT INTO auth_cache (id_token, type, status, group_id, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(id_token) DO UPDATE SET type = excluded.type, status = excluded.status, group_id = excluded.group_id,
       expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
  ).run(e.idToken, e.type, e.status, e.groupId ?? null, e.expiresAt ?? null, now);
}

export function cacheClear(db: Db): void {
  db.prepare('DELETE FROM auth_cache').run();
}

export function cacheSize(db: Db): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM auth_cache').get() as { n: number }).n;
}

/**
 * Keep the cache within max entries (C10.FR.07): entries that are not Accepted go first, then the
 * least recently updated. Returns how many were removed.
 */
export function cacheTrim(db: Db, max: number): number {
  const over = cacheSize(db) - max;
  if (over <= 0) return 0;
  return db
    .prepare(
      `DELETE FROM auth_cache WHERE id_token IN (
         SELECT id_token FROM auth_cache ORDER BY (status = 'Accepted'), updated_at LIMIT ?)`,
    )
    .run(over).changes;
}
