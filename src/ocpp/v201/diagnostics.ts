/**
 * N01 GetLog on the version-neutral upload machinery of ../diagnostics.ts, with LogStatusNotification
 * (each carries the request's requestId, N01.FR.07) and the state TriggerMessage reports (N01.FR.13).
 *
 * Not done: cancelling a running upload (N01.FR.12 answers Rejected), SecurityLog (answered Rejected).
 */
import { DiagnosticsUploader, diagnosticsFileName, type UploadStep } from '../diagnostics.js';
import { FileJobJournal } from '../file-job-journal.js';
import type { GetLogRequest, GetLogResponse, LogStatusNotificationRequest, UploadLogStatusEnumType } from '../messages/v201.js';
import type { V201Context } from './context.js';

const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_INTERVAL_S = 30;

const LOG_STATUS: Record<UploadStep, UploadLogStatusEnumType> = { Uploading: 'Uploading', Uploaded: 'Uploaded', UploadFailed: 'UploadFailure' };
/** A step the shared file-job journal recorded (it stores plain strings), as its 2.0.1 status. */
const logStatusOf = (s: string): UploadLogStatusEnumType => (s === 'Uploaded' || s === 'Uploading' || s === 'UploadFailed' ? LOG_STATUS[s] : 'UploadFailure');

export class V201Diagnostics {
  private readonly uploader: DiagnosticsUploader;
  /** requestId of the upload the next notification belongs to. */
  private logRequestId = 0;
  private readonly logJournal: FileJobJournal;

  constructor(private readonly ctx: V201Context) {
    const { clock, log, config, station, db } = ctx.deps;
    this.logJournal = new FileJobJournal(db, clock, log, 'diagnostics');
    this.uploader = new DiagnosticsUploader({
      clock,
      log,
      config,
      station,
      report: (step) => this.logStatus(LOG_STATUS[step]),
      journal: this.logJournal,
    });
  }

  /**
   * At start: an upload the last run left unfinished (reset, crash, power cut) is reported failed with its
   * requestId (N01.FR.07), and a final status that never reached the CSMS is sent now. Queued: it goes
   * out after the next accepted boot (B01.FR.08) and survives a restart.
   */
  private recoverInterrupted(): void {
    const up = this.logJournal.interrupted();
    if (up) {
      const status = logStatusOf(up.status);
      this.ctx.log.warn(`v201: LogStatusNotification ${status} for an upload the last run left in ${up.leftIn}`);
      this.ctx.link.enqueue('LogStatusNotification', { status, requestId: up.requestId ?? 0 });
      this.logJournal.forget();
    }
  }

  register(): void {
    this.recoverInterrupted();
    this.ctx.handle('GetLog', (p) => this.getLog(p));
  }

  stop(): void {
    this.uploader.stop();
  }

  /** F06.FR.15 / N01.FR.13: Uploading with its requestId while an upload runs, else Idle. */
  triggerLogStatus(): Promise<void> {
    const payload: LogStatusNotificationRequest = this.uploader.uploading ? { status: 'Uploading', requestId: this.logRequestId } : { status: 'Idle' };
    return this.ctx.send('LogStatusNotification', payload, { triggered: true }).then(() => undefined);
  }

  private getLog(req: GetLogRequest): GetLogResponse {
    // N01.FR.05: only the diagnostics log is kept (no separate security log).
    if (req.logType !== 'DiagnosticsLog') return { status: 'Rejected' };
    if (this.uploader.busy) return { status: 'Rejected' };
    const fileName = diagnosticsFileName(this.ctx.deps.config.station.identity, this.ctx.clock.now());
    this.logRequestId = req.requestId;
    const { oldestTimestamp, latestTimestamp } = req.log;
    // N01.FR.02: the upload starts after the answer went out.
    this.ctx.afterResponse(async () => {
      await this.uploader.run({
        requestId: req.requestId,
        location: req.log.remoteLocation,
        fileName,
        retries: req.retries ?? DEFAULT_RETRIES,
        retryIntervalS: req.retryInterval ?? DEFAULT_RETRY_INTERVAL_S,
        // CSMS times: station time through the CSMS's clock offset.
        ...(oldestTimestamp !== undefined ? { from: this.ctx.fromIso(oldestTimestamp) } : {}),
        ...(latestTimestamp !== undefined ? { to: this.ctx.fromIso(latestTimestamp) } : {}),
      });
    });
    return { status: 'Accepted', filename: fileName };
  }

  private async logStatus(status: UploadLogStatusEnumType): Promise<void> {
    const sent = await this.ctx.send('LogStatusNotification', { status, requestId: this.logRequestId });
    if (sent === undefined) throw new Error(`LogStatusNotification ${status} not delivered`);
  }
}
