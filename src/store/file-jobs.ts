/**
 * The firmware update and the diagnostics / log upload under way, one row each, so that a job cut by a
 * reset, a crash or a power cut is reported after the next boot instead of forgotten (issue 10 #6).
 * Written when the job's status changes (a handful of times per job, so a FULL commit each is fine);
 * deleted once its final status reached the CSMS.
 */
import { migrate, type Db, type MigrationSet } from './db.js';

export type FileJobKind = 'firmware' | 'diagnostics';

export interface FileJobRow {
  kind: FileJobKind;
  /** Neutral step name (FirmwareStep / UploadStep / 'DownloadScheduled'). */
  status: string;
  /** 2.0.1 requestId; absent for 1.6. */
  requestId?: number;
  updatedAt: number;
}

export const fileJobMigrations: MigrationSet = {
  module: 'file-jobs',
  steps: [
    `CREATE TABLE file_jobs (
      kind TEXT PRIMARY KEY,
      status TEXT NOT NULL,
      request_id INTEGER,
      updated_at INTEGER NOT NULL
    )`,
  ],
};

export function migrateFileJobs(db: Db): number {
  return migrate(db, fileJobMigrations);
}

export function fileJobPut(db: Db, row: FileJobRow): void {
  db.prepare(
    `INSERT INTO file_jobs (kind, status, request_id, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(kind) DO UPDATE SET status = excluded.status, request_id = excluded.request_id, updated_at = excluded.updated_at`,
  ).run(row.kind, row.status, row.requestId ?? null, row.updatedAt);
}

export function fileJobGet(db: Db, kind: FileJobKind): FileJobRow | undefined {
  const r = db.prepare('SELECT kind, status, request_id, updated_at FROM file_jobs WHERE kind = ?').get(kind) as
    | { kind: FileJobKind; status: string; request_id: number | null; updated_at: number }
    | undefined;
  if (!r) return undefined;
  return { kind: r.kind, status: r.status, ...(r.request_id !== null ? { requestId: r.request_id } : {}), updatedAt: r.updated_at };
}

export function fileJobDelete(db: Db, kind: FileJobKind): void {
  db.prepare('DELETE FROM file_jobs WHERE kind = ?').run(kind);
}
