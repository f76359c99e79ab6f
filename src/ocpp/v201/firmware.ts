/**
 * L01 UpdateFirmware and N01 GetLog on the version-neutral machinery of ../firmware.ts and
 * ../diagnostics.ts, with their status notifications (each carries the request's requestId, L01.FR.10 /
 * N01.FR.07) and the state TriggerMessage reports (L01.FR.25/26, N01.FR.13).
 *
 * Not done: firmware signature and signing-certificate checks (L01.FR.04/12/21/22: the file is only
 * checked for size, the operator's install command must verify it), installDateTime (installed right
 * after the download), AllowNewSessionsPendingFirmwareUpdate (L01.FR.07), cancelling a running download
 * or log upload (L01.FR.24 only for an update still waiting for its retrieveDateTime; N01.FR.12 answers
 * Rejected), SecurityLog (answered Rejected).
 */
import { DiagnosticsUploader, diagnosticsFileName, type UploadStep } from '../diagnostics.js';
import { FileJobJournal } from '../file-job-journal.js';
import { FirmwareUpdater, type FirmwareStep } from '../firmware.js';
import type {
  FirmwareStatusEnumType,
  FirmwareStatusNotificationRequest,
  GetLogRequest,
  GetLogResponse,
  LogStatusNotificationRequest,
  UpdateFirmwareRequest,
  UpdateFirmwareResponse,
  UploadLogStatusEnumType,
} from '../messages/v201.js';
import type { V201Context } from './context.js';

const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_INTERVAL_S = 30;

const LOG_STATUS: Record<UploadStep, UploadLogStatusEnumType> = { Uploading: 'Uploading', Uploaded: 'Uploaded', UploadFailed: 'UploadFailure' };
/** The steps the shared file-job journal records, as the 2.0.1 statuses they are (it stores plain strings). */
const FIRMWARE_STATUSES: readonly FirmwareStatusEnumType[] = ['Downloading', 'Downloaded', 'DownloadFailed', 'DownloadScheduled', 'DownloadPaused', 'Installing', 'Installed', 'InstallationFailed'];
const firmwareStatusOf = (s: string): FirmwareStatusEnumType => FIRMWARE_STATUSES.find((x) => x === s) ?? 'InstallationFailed';
const logStatusOf = (s: string): UploadLogStatusEnumType => (s === 'Uploaded' || s === 'Uploading' || s === 'UploadFailed' ? LOG_STATUS[s] : 'UploadFailure');

export class V201Firmware {
  private readonly uploader: DiagnosticsUploader;
  private readonly updater: FirmwareUpdater;
  /** requestId of the update / upload the next notification belongs to. */
  private firmwareRequestId = 0;
  private logRequestId = 0;
  /** Last FirmwareStatusNotification status sent (L01.FR.25/26). */
  private lastFirmwareStatus: FirmwareStatusEnumType | undefined;

  private readonly logJournal: FileJobJournal;
  private readonly firmwareJournal: FileJobJournal;

  constructor(private readonly ctx: V201Context) {
    const { clock, log, config, station, db } = ctx.deps;
    this.logJournal = new FileJobJournal(db, clock, log, 'diagnostics');
    this.firmwareJournal = new FileJobJournal(db, clock, log, 'firmware');
    this.uploader = new DiagnosticsUploader({
      clock,
      log,
      config,
      station,
      report: (step) => this.logStatus(LOG_STATUS[step]),
      journal: this.logJournal,
    });
    this.updater = new FirmwareUpdater({ clock, log, config, station, report: (step) => this.firmwareStatus(step), journal: this.firmwareJournal });
  }

  /** B11.FR.06: an installation under way is not cut by a Reset. */
  get installing(): boolean {
    return this.updater.installing;
  }

  /**
   * At start: an update or log upload the last run left unfinished (reset, crash, power cut) is reported
   * failed with its requestId (L01.FR.10, N01.FR.07), and a final status that never reached the CSMS
   * is sent now. Queued: it goes out after the next accepted boot (B01.FR.08) and survives a restart.
   */
  private recoverInterrupted(): void {
    const fw = this.firmwareJournal.interrupted();
    if (fw) {
      this.ctx.log.warn(`v201: FirmwareStatusNotification ${fw.status} for an update the last run left in ${fw.leftIn}`);
      this.ctx.link.enqueue('FirmwareStatusNotification', { status: firmwareStatusOf(fw.status), requestId: fw.requestId ?? 0 });
      this.firmwareJournal.forget();
    }
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
    this.ctx.handle('UpdateFirmware', (p) => this.updateFirmware(p));
    this.ctx.handle('GetLog', (p) => this.getLog(p));
  }

  stop(): void {
    this.uploader.stop();
    this.updater.stop();
  }

  /** F06.FR.16 / L01.FR.25 / L01.FR.26: the last status sent, Idle after Installed or when none. */
  triggerFirmwareStatus(): Promise<void> {
    const last = this.lastFirmwareStatus;
    const payload: FirmwareStatusNotificationRequest = last === undefined || last === 'Installed' ? { status: 'Idle' } : { status: last, requestId: this.firmwareRequestId };
    return this.ctx.send('FirmwareStatusNotification', payload, { triggered: true }).then(() => undefined);
  }

  /** F06.FR.15 / N01.FR.13: Uploading with its requestId while an upload runs, else Idle. */
  triggerLogStatus(): Promise<void> {
    const payload: LogStatusNotificationRequest = this.uploader.uploading ? { status: 'Uploading', requestId: this.logRequestId } : { status: 'Idle' };
    return this.ctx.send('LogStatusNotification', payload, { triggered: true }).then(() => undefined);
  }

  private updateFirmware(req: UpdateFirmwareRequest): UpdateFirmwareResponse {
    const { clock, log } = this.ctx;
    let status: UpdateFirmwareResponse['status'] = 'Accepted';
    if (this.updater.busy) {
      // L01.FR.24: an update still waiting is replaced; one under way cannot be stopped (L01.FR.27).
      if (!this.updater.cancelScheduled()) return { status: 'Rejected' };
      status = 'AcceptedCanceled';
    }
    if (req.firmware.signature !== undefined || req.firmware.signingCertificate !== undefined) {
      log.warn('v201 UpdateFirmware: the firmware signature is NOT verified by this station (install command must do it)');
    }
    const retrieveAt = Date.parse(req.firmware.retrieveDateTime);
    this.firmwareRequestId = req.requestId;
    this.lastFirmwareStatus = undefined;
    this.updater.start({
      requestId: req.requestId,
      location: req.firmware.location,
      retrieveAt,
      retries: req.retries ?? DEFAULT_RETRIES,
      retryIntervalS: req.retryInterval ?? DEFAULT_RETRY_INTERVAL_S,
    });
    // L01.FR.13: not downloading yet because retrieveDateTime is in the future.
    if (retrieveAt > clock.now()) {
      this.ctx.afterResponse(() => this.firmwareStatus('DownloadScheduled').catch((err: unknown) => log.warn('v201: firmware status not delivered', { error: String(err) })));
    }
    return { status };
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
        ...(oldestTimestamp !== undefined ? { from: Date.parse(oldestTimestamp) } : {}),
        ...(latestTimestamp !== undefined ? { to: Date.parse(latestTimestamp) } : {}),
      });
    });
    return { status: 'Accepted', filename: fileName };
  }

  private async firmwareStatus(status: FirmwareStep | 'DownloadScheduled'): Promise<void> {
    this.lastFirmwareStatus = status;
    const sent = await this.ctx.send('FirmwareStatusNotification', { status, requestId: this.firmwareRequestId });
    // L01.FR.31
    if (status === 'Installed') this.ctx.link.enqueue('SecurityEventNotification', { type: 'FirmwareUpdated', timestamp: this.ctx.iso() });
    if (sent === undefined) throw new Error(`FirmwareStatusNotification ${status} not delivered`);
  }

  private async logStatus(status: UploadLogStatusEnumType): Promise<void> {
    const sent = await this.ctx.send('LogStatusNotification', { status, requestId: this.logRequestId });
    if (sent === undefined) throw new Error(`LogStatusNotification ${status} not delivered`);
  }
}
