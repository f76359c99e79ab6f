/**
 * L01 UpdateFirmware on the version-neutral machinery of ../firmware.ts, with FirmwareStatusNotification
 * (each carries the request's requestId, L01.FR.10) and the state TriggerMessage reports (L01.FR.25/26).
 * N01 GetLog (log upload) is in diagnostics.ts.
 *
 * Not done: firmware signature and signing-certificate checks (L01.FR.04/12/21/22: the file is only
 * checked for size, the operator's install command must verify it), installDateTime (installed right
 * after the download), AllowNewSessionsPendingFirmwareUpdate (L01.FR.07), cancelling a running download
 * (L01.FR.24 only for an update still waiting for its retrieveDateTime).
 */
import { FileJobJournal } from '../file-job-journal.js';
import { FirmwareUpdater, type FirmwareStep } from '../firmware.js';
import type {
  FirmwareStatusEnumType,
  FirmwareStatusNotificationRequest,
  UpdateFirmwareRequest,
  UpdateFirmwareResponse,
} from '../messages/v201.js';
import type { V201Context } from './context.js';

const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_INTERVAL_S = 30;

/** The steps the shared file-job journal records, as the 2.0.1 statuses they are (it stores plain strings). */
const FIRMWARE_STATUSES: readonly FirmwareStatusEnumType[] = ['Downloading', 'Downloaded', 'DownloadFailed', 'DownloadScheduled', 'DownloadPaused', 'Installing', 'Installed', 'InstallationFailed'];
const firmwareStatusOf = (s: string): FirmwareStatusEnumType => FIRMWARE_STATUSES.find((x) => x === s) ?? 'InstallationFailed';

export class V201Firmware {
  private readonly updater: FirmwareUpdater;
  /** requestId of the update the next notification belongs to. */
  private firmwareRequestId = 0;
  /** Last FirmwareStatusNotification status sent (L01.FR.25/26). */
  private lastFirmwareStatus: FirmwareStatusEnumType | undefined;

  private readonly firmwareJournal: FileJobJournal;

  constructor(private readonly ctx: V201Context) {
    const { clock, log, config, station, db } = ctx.deps;
    this.firmwareJournal = new FileJobJournal(db, clock, log, 'firmware');
    this.updater = new FirmwareUpdater({ clock, log, config, station, report: (step) => this.firmwareStatus(step), journal: this.firmwareJournal });
  }

  /** B11.FR.06: an installation under way is not cut by a Reset. */
  get installing(): boolean {
    return this.updater.installing;
  }

  /**
   * At start: an update the last run left unfinished (reset, crash, power cut) is reported
   * failed with its requestId (L01.FR.10), and a final status that never reached the CSMS
   * is sent now. Queued: it goes out after the next accepted boot (B01.FR.08) and survives a restart.
   */
  private recoverInterrupted(): void {
    const fw = this.firmwareJournal.interrupted();
    if (fw) {
      this.ctx.log.warn(`v201: FirmwareStatusNotification ${fw.status} for an update the last run left in ${fw.leftIn}`);
      this.ctx.link.enqueue('FirmwareStatusNotification', { status: firmwareStatusOf(fw.status), requestId: fw.requestId ?? 0 });
      this.firmwareJournal.forget();
    }
  }

  register(): void {
    this.recoverInterrupted();
    this.ctx.handle('UpdateFirmware', (p) => this.updateFirmware(p));
  }

  stop(): void {
    this.updater.stop();
  }

  /** F06.FR.16 / L01.FR.25 / L01.FR.26: the last status sent, Idle after Installed or when none. */
  triggerFirmwareStatus(): Promise<void> {
    const last = this.lastFirmwareStatus;
    const payload: FirmwareStatusNotificationRequest = last === undefined || last === 'Installed' ? { status: 'Idle' } : { status: last, requestId: this.firmwareRequestId };
    return this.ctx.send('FirmwareStatusNotification', payload, { triggered: true }).then(() => undefined);
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
    const retrieveAt = this.ctx.fromIso(req.firmware.retrieveDateTime);
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

  private async firmwareStatus(status: FirmwareStep | 'DownloadScheduled'): Promise<void> {
    this.lastFirmwareStatus = status;
    const sent = await this.ctx.send('FirmwareStatusNotification', { status, requestId: this.firmwareRequestId });
    // L01.FR.31
    if (status === 'Installed') this.ctx.link.enqueue('SecurityEventNotification', { type: 'FirmwareUpdated', timestamp: this.ctx.iso() });
    if (sent === undefined) throw new Error(`FirmwareStatusNotification ${status} not delivered`);
  }
}
