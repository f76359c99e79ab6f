/**
 * OCPP 1.6 configuration key values. Only values live here: which keys exist, their types and
 * defaults belong to src/ocpp/v16/config-keys.ts. A row exists once a key was seeded or changed,
 * so a config-file value seeds a key the first time only.
 */
import type { Db, MigrationSet } from './db.js';

export const v16ConfigMigrations: MigrationSet = {
  module: 'v16-config',
  steps: [`CREATE TABLE v16_config (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)`],
};

export class V16ConfigRepo {
  constructor(private readonly db: Db) {
  }

  all(): Map<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM v16_config').all() as { key: string; value: string }[];
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  get(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM v16_config WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  set(key: string, value: string, at: number): void {
    this.db
      .prepare(
        `INSERT INTO v16_config (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      )
      .run(key, value, at);
  }

  /** Insert only when absent: the first-time seed from the config file. */
  seed(key: string, value: string, at: number): boolean {
    const r = this.db.prepare('INSERT OR IGNORE INTO v16_config (key, value, updated_at) VALUES (?, ?, ?)').run(key, value, at);
    return r.changes > 0;
  }
}
