/** Reservations, kept so that a restart does not forget them (they end by expiry or use). */
import { migrate, type Db, type MigrationSet } from './db.js';

export interface StoredReservation {
  id: number;
  evseId: number;
  idToken: { idToken: string; type: string };
  groupId?: string;
  expiresAt: number;
  /** The EVSE held for a reservation made for "any EVSE" (evseId 0). */
  boundEvseId: number;
}

export const reservationMigrations: MigrationSet = {
  module: 'reservations',
  steps: [`CREATE TABLE reservations (id INTEGER PRIMARY KEY, data TEXT NOT NULL)`],
};

export function migrateReservations(db: Db): number {
  return migrate(db, reservationMigrations);
}

export function reservationsAll(db: Db): StoredReservation[] {
  return (db.prepare('SELECT data FROM reservations ORDER BY id').all() as { data: string }[]).map(
    (r) => JSON.parse(r.data) as StoredReservation,
  );
}

export function reservationPut(db: Db, r: StoredReservation): void {
  db.prepare('INSERT INTO reservations (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data').run(
    r.id,
    JSON.stringify(r),
  );
}

export function reservationDelete(db: Db, id: number): void {
  db.prepare('DELETE FROM reservations WHERE id = ?').run(id);
}
