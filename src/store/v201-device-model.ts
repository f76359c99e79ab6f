/**
 * OCPP 2.0.1 device-model values and network connection profiles. Which components and variables
 * exist belongs to src/ocpp/v201/device-model-data.ts; a row here exists once a value was seeded or
 * set, so a config-file value seeds a variable the first time only.
 */
import type { Db, MigrationSet } from './db.js';

export const v201DeviceModelMigrations: MigrationSet = {
  module: 'v201-device-model',
  steps: [
    `CREATE TABLE v201_variables (
       key TEXT NOT NULL,
       attribute TEXT NOT NULL,
       value TEXT NOT NULL,
       updated_at INTEGER NOT NULL,
       PRIMARY KEY (key, attribute)
     );
     CREATE TABLE v201_network_profiles (
       slot INTEGER PRIMARY KEY,
       data TEXT NOT NULL,
       updated_at INTEGER NOT NULL
     )`,
  ],
};

export class V201DeviceModelRepo {
  constructor(private readonly db: Db) {
  }

  get(key: string, attribute: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM v201_variables WHERE key = ? AND attribute = ?').get(key, attribute) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  set(key: string, attribute: string, value: string, at: number): void {
    this.db
      .prepare(
        `INSERT INTO v201_variables (key, attribute, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(key, attribute) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      )
      .run(key, attribute, value, at);
  }

  /** Insert only when absent: the first-time seed. Returns true when it inserted. */
  seed(key: string, attribute: string, value: string, at: number): boolean {
    const r = this.db
      .prepare('INSERT OR IGNORE INTO v201_variables (key, attribute, value, updated_at) VALUES (?, ?, ?, ?)')
      .run(key, attribute, value, at);
    return r.changes > 0;
  }

  networkProfiles(): Map<number, Record<string, unknown>> {
    const rows = this.db.prepare('SELECT slot, data FROM v201_network_profiles ORDER BY slot').all() as {
      slot: number;
      data: string;
    }[];
    return new Map(rows.map((r) => [r.slot, JSON.parse(r.data) as Record<string, unknown>]));
  }

  setNetworkProfile(slot: number, data: Record<string, unknown>, at: number): void {
    this.db
      .prepare(
        `INSERT INTO v201_network_profiles (slot, data, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(slot) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
      )
      .run(slot, JSON.stringify(data), at);
  }
}
