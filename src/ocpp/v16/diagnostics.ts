/**
 * Firmware Management profile, diagnostics part (spec 4.4, 5.9): GetDiagnostics with
 * DiagnosticsStatusNotification, on the version-neutral uploader of ../diagnostics.ts. HTTP(S) only;
 * an ftp:// location ends UploadFailed.
 */
import { DiagnosticsUploader, diagnosticsFileName } from '../diagnostics.js';
import { FileJobJournal } from '../file-job-journal.js';
import type { DiagnosticsStatusNotificationRequest, GetDiagnosticsRequest } from '../messages/v16.js';
import type { V16Block, V16Context } from './context.js';
import { DEFAULT_RETRIES, DEFAULT_RETRY_INTERVAL_S } from './firmware.js';

type DiagnosticsStatus = DiagnosticsStatusNotificationRequest['status'];
const isDiagnosticsStatus = (s: string): s is DiagnosticsStatus => ['Idle', 'Uploaded', 'UploadFailed', 'Uploading'].includes(s);

export class V16Diagnostics {
  private readonly uploader: DiagnosticsUploader;
  private readonly journal: FileJobJournal;

  constructor(private readonly ctx: V16Context) {
    const { clock, log, config, station, db } = ctx;
    this.journal = new FileJobJournal(db, clock, log, 'diagnostics');
    this.uploader = new DiagnosticsUploader({
      clock,
      log,
      config,
      station,
      // Rejects when not delivered (logged by the uploader), so that a final status is kept for the next boot.
      report: async (status) => void (await ctx.link.call('DiagnosticsStatusNotification', { status })),
      journal: this.journal,
    });
  }

  /** At start: an upload the last run left unfinished is reported (queued) as its journal says. */
  recoverInterrupted(): void {
    const job = this.journal.interrupted();
    if (!job) return;
    this.ctx.log.warn(`1.6: DiagnosticsStatusNotification ${job.status} for a job the last run left in ${job.leftIn}`);
    if (isDiagnosticsStatus(job.status)) this.ctx.link.enqueue('DiagnosticsStatusNotification', { status: job.status });
    this.journal.forget();
  }

  stop(): void {
    this.uploader.stop();
  }

  /** 4.4: Idle when no upload is under way. */
  get status(): DiagnosticsStatus {
    return this.uploader.uploading ? 'Uploading' : 'Idle';
  }

  /** TriggerMessage(DiagnosticsStatusNotification): the present status; not delivered is only logged. */
  sendStatus(): void {
    this.ctx.link
      .call('DiagnosticsStatusNotification', { status: this.status })
      .catch((err: unknown) => this.ctx.log.debug('DiagnosticsStatusNotification not delivered', { error: String(err) }));
  }

  /** GetDiagnostics (5.9): the file name now, the upload after the answer went out; undefined when busy. */
  request(req: GetDiagnosticsRequest, defer: (fn: () => Promise<void>) => void): string | undefined {
    const fileName = diagnosticsFileName(this.ctx.config.station.identity, this.ctx.clock.now());
    if (this.uploader.busy) {
      this.ctx.log.warn('1.6 GetDiagnostics while an upload is under way: no file');
      return undefined;
    }
    const { location, retries, retryInterval, startTime, stopTime } = req;
    defer(async () => {
      await this.uploader.run({
        location,
        fileName,
        retries: retries ?? DEFAULT_RETRIES,
        retryIntervalS: retryInterval ?? DEFAULT_RETRY_INTERVAL_S,
        ...(startTime !== undefined ? { from: this.ctx.fromIso(startTime) } : {}),
        ...(stopTime !== undefined ? { to: this.ctx.fromIso(stopTime) } : {}),
      });
    });
    return fileName;
  }
}

export const diagnosticsBlock: V16Block = {
  name: 'diagnostics',
  register(ctx) {
    const { diagnostics } = ctx.parts;
    diagnostics.recoverInterrupted();
    ctx.subs.add(() => diagnostics.stop());
    ctx.handle('GetDiagnostics', (req) => {
      const fileName = diagnostics.request(req, (fn) => ctx.defer(fn, 'diagnostics upload'));
      return fileName === undefined ? {} : { fileName };
    });
  },
};
