/**
 * Keeps the state of the firmware update / diagnostics upload under way in SQLite (src/store/file-jobs.ts)
 * so that a job a reset, crash or power cut cut short is reported after the next accepted boot
 * (1.6 §5.19 / §4.4-4.5 DownloadFailed, InstallationFailed, UploadFailed; 2.0.1 L01 / N01 with the
 * requestId), and a final status that did not reach the CSMS before the restart is sent then.
 */
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { Db } from '../store/db.js';
import { fileJobDelete, fileJobGet, fileJobPut, type FileJobKind } from '../store/file-jobs.js';

/** What a job left in a given state means once the process that ran it is gone. */
const AFTER_RESTART: Record<FileJobKind, Record<string, string>> = {
  firmware: {
    DownloadScheduled: 'DownloadFailed',
    Downloading: 'DownloadFailed',
    DownloadPaused: 'DownloadFailed',
    DownloadFailed: 'DownloadFailed',
    // Downloaded but never installed (or cut while installing): the new firmware is not in place.
    Downloaded: 'InstallationFailed',
    Installing: 'InstallationFailed',
    InstallationFailed: 'InstallationFailed',
    Installed: 'Installed',
  },
  diagnostics: { Uploading: 'UploadFailed', UploadFailed: 'UploadFailed', Uploaded: 'Uploaded' },
};

const FINAL = new Set(['DownloadFailed', 'InstallationFailed', 'Installed', 'UploadFailed', 'Uploaded']);

export interface InterruptedJob {
  /** Neutral step to report: DownloadFailed, InstallationFailed, Installed, UploadFailed or Uploaded. */
  status: string;
  requestId?: number;
  /** The status the job was left in. */
  leftIn: string;
}

export class FileJobJournal {
  private requestId: number | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly kind: FileJobKind,
  ) {}

  /** A new job (its requestId, when the version has one). */
  begin(status: string, requestId?: number): void {
    this.requestId = requestId;
    this.write(status);
  }

  /** The job reached status; written before the CSMS is told, so a cut during the report leaves it. */
  step(status: string): void {
    this.write(status);
  }

  /** The CSMS was told status; a final one ends the job's record. */
  delivered(status: string): void {
    if (FINAL.has(status)) this.forget();
  }

  /** The job was dropped (a scheduled update replaced or cancelled). */
  forget(): void {
    try {
      fileJobDelete(this.db, this.kind);
    } catch (err) {
      this.log.warn('file job state not written', { kind: this.kind, error: String(err) });
    }
  }

  /**
   * At start, before any new job: the job a restart cut (or whose final status was not delivered),
   * mapped to the status the CSMS must now be told; the record is dropped once the caller queued it.
   */
  interrupted(): InterruptedJob | undefined {
    const row = fileJobGet(this.db, this.kind);
    if (!row) return undefined;
    const status = AFTER_RESTART[this.kind][row.status] ?? (this.kind === 'firmware' ? 'InstallationFailed' : 'UploadFailed');
    return { status, leftIn: row.status, ...(row.requestId !== undefined ? { requestId: row.requestId } : {}) };
  }

  private write(status: string): void {
    try {
      fileJobPut(this.db, { kind: this.kind, status, updatedAt: this.clock.now(), ...(this.requestId !== undefined ? { requestId: this.requestId } : {}) });
    } catch (err) {
      // The job goes on; only its report after a restart is at risk.
      this.log.warn('file job state not written', { kind: this.kind, status, error: String(err) });
    }
  }
}
