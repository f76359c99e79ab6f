/** Small station settings that must survive a restart (availability, a recorded reset, ...). */
import { migrate, type Db, type MigrationSet } from './db.js';

export const kvMigrations: MigrationSet = {
  module: 'station-kv',
  steps: [`CREATE TABLE station_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)`],
};

export function migrateKv(db: Db): number {
  return migrate(db, kvMigrations);
}

export function kvGet<T>(db: Db, key: string): T | undefined {
  const row = db.prepare('SELECT value FROM station_kv WHERE key = ?').get(key) as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as T) : undefined;
}

export function kvSet(db: Db, key: string, value: unknown): void {
  db.prepare('INSERT INTO station_kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
    key,
    JSON.stringify(value),
  );
}

export function kvDelete(db: Db, key: string): void {
  db.prepare('DELETE FROM station_kv WHERE key = ?').run(key);
}
