/**
 * Every module's migration set, run by openDatabase() once when the database is opened: the
 * repositories and the adapters that use the tables never migrate themselves. A new module adds
 * its set here. A function, not a constant: the modules import db.ts, which imports this file, and
 * the list is read only once they are all loaded.
 */
import type { MigrationSet } from './db.js';
import { authCacheMigrations } from './auth-cache.js';
import { chargingProfileMigrations } from './charging-profiles.js';
import { displayMessageMigrations } from './display-messages.js';
import { fileJobMigrations } from './file-jobs.js';
import { kvMigrations } from './kv.js';
import { localListMigrations } from './local-list.js';
import { outboxMigrations } from './outbox.js';
import { reservationMigrations } from './reservations.js';
import { sessionMigrations } from './sessions.js';
import { v16ConfigMigrations } from './v16-config.js';
import { v16TransactionMigrations } from './v16-transactions.js';
import { v201DeviceModelMigrations } from './v201-device-model.js';
import { v201TransactionMigrations } from './v201-transactions.js';

export function stationMigrations(): MigrationSet[] {
  return [
    outboxMigrations,
    kvMigrations,
    sessionMigrations,
    authCacheMigrations,
    localListMigrations,
    reservationMigrations,
    chargingProfileMigrations,
    displayMessageMigrations,
    fileJobMigrations,
    v16ConfigMigrations,
    v16TransactionMigrations,
    v201DeviceModelMigrations,
    v201TransactionMigrations,
  ];
}
