/**
 * Firmware Management profile (spec 4.4, 4.5, 5.9, 5.19): GetDiagnostics with DiagnosticsStatusNotification
 * and UpdateFirmware with FirmwareStatusNotification, on the version-neutral machinery of
 * ../diagnostics.ts and ../firmware.ts. HTTP(S) only; an ftp:// location ends UploadFailed /
 * DownloadFailed. The firmware is handed to the operator's install command, never installed by the daemon.
 */
import type { CallHandler } from '../link.js';
import { DiagnosticsUploader, diagnosticsFileName } from '../diagnostics.js';
import { FileJobJournal } from '../file-job-journal.js';
import { FirmwareUpdater } from '../firmware.js';
import type { V16Context } from './context.js';

/** Retries when the Central System leaves them to the charge point. */
const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_INTERVAL_S = 30;

export class V16Firmware {
  private readonly uploader: DiagnosticsUploader;
  private readonly updater: FirmwareUpdater;

  private readonly diagnosticsJournal: FileJobJournal;
  private readonly firmwareJournal: FileJobJournal;

  constructor(private readonly ctx: V16Context) {
    const { clock, log, config, station, db } = ctx;
    this.diagnosticsJournal = new FileJobJournal(db, clock, log, 'diagnostics');
    this.firmwareJournal = new FileJobJournal(db, clock, log, 'firmware');
    this.uploader = new DiagnosticsUploader({
      clock,
      log,
      config,
      station,
      report: (step) => this.notify('DiagnosticsStatusNotification', step),
      journal: this.diagnosticsJournal,
    });
    this.updater = new FirmwareUpdater({
      clock,
      log,
      config,
      station,
      report: (step) => this.notify('FirmwareStatusNotification', step),
      journal: this.firmwareJournal,
    });
  }

  /**
   * At start: an update or upload the last run left unfinished (reset, crash, power cut) is reported
   * as failed, and a final status that never reached the Central System is sent now. Queued, so it
   * goes out after the next accepted BootNotification and survives another restart.
   */
  recoverInterrupted(): void {
    for (const [journal, action] of [
      [this.firmwareJournal, 'FirmwareStatusNotification'],
      [this.diagnosticsJournal, 'DiagnosticsStatusNotification'],
    ] as const) {
      const job = journal.interrupted();
      if (!job) continue;
      this.ctx.log.warn(`1.6: ${action} ${job.status} for a job the last run left in ${job.leftIn}`);
      this.ctx.link.enqueue(action, { status: job.status });
      journal.forget();
    }
  }

  /** An install command runs: a Reset is Rejected until it ends (§5.19, the update is not cut). */
  get installing(): boolean {
    return this.updater.installing;
  }

  stop(): void {
    this.uploader.stop();
    this.updater.stop();
  }

  /** 4.4: Idle when no upload is under way. */
  get diagnosticsStatus(): string {
    return this.uploader.uploading ? 'Uploading' : 'Idle';
  }

  /** 4.5: the last status of an update under way, else Idle. */
  get firmwareStatus(): string {
    return this.updater.current ?? 'Idle';
  }

  handlers(): Record<string, CallHandler> {
    return {
      GetDiagnostics: (p) => {
        const { location, retries, retryInterval, startTime, stopTime } = p as {
          location: string;
          retries?: number;
          retryInterval?: number;
          startTime?: string;
          stopTime?: string;
        };
        const fileName = diagnosticsFileName(this.ctx.config.station.identity, this.ctx.clock.now());
        // 5.9: the answer names the file; the upload runs after it went out.
        if (this.uploader.busy) {
          this.ctx.log.warn('1.6 GetDiagnostics while an upload is under way: no file');
          return {};
        }
        setImmediate(() => {
          void this.uploader.run({
            location,
            fileName,
            retries: retries ?? DEFAULT_RETRIES,
            retryIntervalS: retryInterval ?? DEFAULT_RETRY_INTERVAL_S,
            ...(startTime !== undefined ? { from: this.ctx.fromIso(startTime) } : {}),
            ...(stopTime !== undefined ? { to: this.ctx.fromIso(stopTime) } : {}),
          });
        });
        return { fileName };
      },

      UpdateFirmware: (p) => {
        const { location, retries, retrieveDate, retryInterval } = p as {
          location: string;
          retries?: number;
          retrieveDate: string;
          retryInterval?: number;
        };
        // UpdateFirmware.conf has no status: a second request while one runs can only be logged.
        const started = this.updater.start({
          location,
          retrieveAt: this.ctx.fromIso(retrieveDate),
          retries: retries ?? DEFAULT_RETRIES,
          retryIntervalS: retryInterval ?? DEFAULT_RETRY_INTERVAL_S,
        });
        if (!started) this.ctx.log.warn('1.6 UpdateFirmware ignored: an update is already scheduled or under way');
        return {};
      },
    };
  }

  /** Rejects when not delivered (logged by the caller), so that a final status is kept for the next boot. */
  private async notify(action: string, status: string): Promise<void> {
    await this.ctx.link.call(action, { status });
  }
}
