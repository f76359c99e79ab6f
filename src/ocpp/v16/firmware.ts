/**
 * Firmware Management profile, firmware part (spec 4.5, 5.19): UpdateFirmware with
 * FirmwareStatusNotification, on the version-neutral machinery of ../firmware.ts. HTTP(S) only; an
 * ftp:// location ends DownloadFailed. The firmware is handed to the operator's install command,
 * never installed by the daemon. Diagnostics (4.4, 5.9) are in diagnostics.ts.
 */
import { FileJobJournal } from '../file-job-journal.js';
import { FirmwareUpdater } from '../firmware.js';
import type { FirmwareStatusNotificationRequest } from '../messages/v16.js';
import type { V16Block, V16Context } from './context.js';

/** Retries when the Central System leaves them to the charge point (also for GetDiagnostics). */
export const DEFAULT_RETRIES = 2;
export const DEFAULT_RETRY_INTERVAL_S = 30;

type FirmwareStatus = FirmwareStatusNotificationRequest['status'];
const FIRMWARE_STATUSES: ReadonlySet<string> = new Set<FirmwareStatus>([
  'Downloaded',
  'DownloadFailed',
  'Downloading',
  'Idle',
  'InstallationFailed',
  'Installing',
  'Installed',
]);
const isFirmwareStatus = (s: string): s is FirmwareStatus => FIRMWARE_STATUSES.has(s);

export class V16Firmware {
  private readonly updater: FirmwareUpdater;
  private readonly journal: FileJobJournal;

  constructor(private readonly ctx: V16Context) {
    const { clock, log, config, station, db } = ctx;
    this.journal = new FileJobJournal(db, clock, log, 'firmware');
    this.updater = new FirmwareUpdater({
      clock,
      log,
      config,
      station,
      // Rejects when not delivered (logged by the updater), so that a final status is kept for the next boot.
      report: async (status) => void (await ctx.link.call('FirmwareStatusNotification', { status })),
      journal: this.journal,
    });
  }

  /**
   * At start: an update the last run left unfinished (reset, crash, power cut) is reported as failed,
   * and a final status that never reached the Central System is sent now. Queued, so it goes out after
   * the next accepted BootNotification and survives another restart.
   */
  recoverInterrupted(): void {
    const job = this.journal.interrupted();
    if (!job) return;
    this.ctx.log.warn(`1.6: FirmwareStatusNotification ${job.status} for a job the last run left in ${job.leftIn}`);
    if (isFirmwareStatus(job.status)) this.ctx.link.enqueue('FirmwareStatusNotification', { status: job.status });
    this.journal.forget();
  }

  /** An install command runs: a Reset is Rejected until it ends (§5.19, the update is not cut). */
  get installing(): boolean {
    return this.updater.installing;
  }

  stop(): void {
    this.updater.stop();
  }

  /** 4.5: the last status of an update under way, else Idle. */
  get status(): FirmwareStatus {
    return this.updater.current ?? 'Idle';
  }

  /** TriggerMessage(FirmwareStatusNotification): the present status; not delivered is only logged. */
  sendStatus(): void {
    this.ctx.link
      .call('FirmwareStatusNotification', { status: this.status })
      .catch((err: unknown) => this.ctx.log.debug('FirmwareStatusNotification not delivered', { error: String(err) }));
  }

  /** UpdateFirmware (5.19). */
  update(location: string, retrieveDate: string, retries: number | undefined, retryInterval: number | undefined): void {
    // UpdateFirmware.conf has no status: a second request while one runs can only be logged.
    const started = this.updater.start({
      location,
      retrieveAt: this.ctx.fromIso(retrieveDate),
      retries: retries ?? DEFAULT_RETRIES,
      retryIntervalS: retryInterval ?? DEFAULT_RETRY_INTERVAL_S,
    });
    if (!started) this.ctx.log.warn('1.6 UpdateFirmware ignored: an update is already scheduled or under way');
  }
}

export const firmwareBlock: V16Block = {
  name: 'firmware',
  register(ctx) {
    const { firmware } = ctx.parts;
    firmware.recoverInterrupted();
    ctx.subs.add(() => firmware.stop());
    ctx.handle('UpdateFirmware', ({ location, retrieveDate, retries, retryInterval }) => {
      firmware.update(location, retrieveDate, retries, retryInterval);
      return {};
    });
  },
};
