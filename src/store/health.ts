/**
 * The health of the station's durable storage: one tracker per database, fed by every write that
 * fails for a storage reason (disk full, I/O error, read-only file, locked or corrupt database).
 * openDatabase() reports the failures of every write statement and transaction into it (db.ts), and
 * the station listens: a fault stops new sessions, ends the running ones and reports the EVSEs
 * Faulted; probeWrite() on the station clock finds out when writes work again.
 *
 * Events are emitted on a microtask, never inside the failing write: a listener that writes (ends a
 * session) must not run inside the transaction that is being rolled back.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { Db } from './db.js';

export interface StorageFault {
  /** The database file. */
  file: string;
  /** SQLite's error code, e.g. SQLITE_FULL, SQLITE_IOERR_FSYNC, SQLITE_READONLY. */
  code: string;
  message: string;
}

export interface StorageHealthEvents {
  fault: [StorageFault];
  recovered: [];
}

/** Error codes that say the storage (not the statement) failed: the write did not happen. */
const STORAGE_CODES = [
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_PROTOCOL',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_PERM',
  'SQLITE_NOLFS',
];

/** True for an error that says the storage failed (as opposed to a bug: a constraint, a syntax error). */
export function isStorageError(err: unknown): err is Error & { code: string } {
  if (err === null || typeof err !== 'object') return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && STORAGE_CODES.some((c) => code === c || code.startsWith(`${c}_`));
}

export class StorageHealth extends TypedEmitter<StorageHealthEvents> {
  private current: StorageFault | undefined;

  constructor(readonly file: string) {
    super();
  }

  /** The fault while writes fail, undefined while they work. */
  get fault(): StorageFault | undefined {
    return this.current;
  }

  /** A write failed. Returns true when the error was a storage fault (and so was recorded). */
  failed(err: unknown): boolean {
    if (!isStorageError(err)) return false;
    if (this.current) return true;
    const fault = { file: this.file, code: err.code, message: err.message };
    this.current = fault;
    queueMicrotask(() => {
      if (this.current === fault) this.emit('fault', fault);
    });
    return true;
  }

  /** A write worked again (the probe). */
  succeeded(): void {
    if (!this.current) return;
    this.current = undefined;
    queueMicrotask(() => {
      if (!this.current) this.emit('recovered');
    });
  }
}

const trackers = new WeakMap<Db, StorageHealth>();

/** The tracker of a database (made on first use; openDatabase() feeds it). */
export function storageHealth(db: Db): StorageHealth {
  let h = trackers.get(db);
  if (!h) {
    h = new StorageHealth(db.name);
    trackers.set(db, h);
  }
  return h;
}
