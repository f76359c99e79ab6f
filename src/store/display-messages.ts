/**
 * Display messages set by the CSMS (2.0.1 O01/O02/O06), kept across restarts (O01.FR.10, O02.FR.10).
 * A row holds the protocol's MessageInfo as JSON: the adapter that set it reads it back.
 */
import { migrate, type Db, type MigrationSet } from './db.js';

export const displayMessageMigrations: MigrationSet = {
  module: 'display-messages',
  steps: [`CREATE TABLE display_messages (id INTEGER PRIMARY KEY, data TEXT NOT NULL)`],
};

export function migrateDisplayMessages(db: Db): number {
  return migrate(db, displayMessageMigrations);
}

export function displayMessagesAll<T>(db: Db): T[] {
  return (db.prepare('SELECT data FROM display_messages ORDER BY id').all() as { data: string }[]).map((r) => JSON.parse(r.data) as T);
}

export function displayMessagePut(db: Db, id: number, message: object): void {
  db.prepare('INSERT INTO display_messages (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data').run(id, JSON.stringify(message));
}

/** True when a message with that id was there. */
export function displayMessageDelete(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM display_messages WHERE id = ?').run(id).changes > 0;
}
