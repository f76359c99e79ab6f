/**
 * Firmware Management profile (spec 4.4, 4.5, 5.9, 5.19): GetDiagnostics with DiagnosticsStatusNotification
 * and UpdateFirmware with FirmwareStatusNotification, on the version-neutral machinery of
 * ../diagnostics.ts and ../firmware.ts. HTTP(S) only; an ftp:// location ends UploadFailed /
 * DownloadFailed. The firmware is handed to the operator's install command, never installed by the daemon.
 */
import type { CallHandler } from '../link.js';
import { DiagnosticsUploader, diagnosticsFileName } from '../diagnostics.js';
import { FirmwareUpdater } from '../firmware.js';
import type { V16Context } from './context.js';

/** Retries when the Central System leaves them to the charge point. */
const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_INTERVAL_S = 30;

export class V16Firmware {
  private readonly uploader: DiagnosticsUploader;
  private readonly updater: FirmwareUpdater;

  constructor(private readonly ctx: V16Context) {
    const { clock, log, config, station } = ctx;
    this.uploader = new DiagnosticsUploader({
      clock,
      log,
      config,
      station,
      report: (step) => this.notify('DiagnosticsStatusNotification', step),
    });
    this.updater = new FirmwareUpdater({
      clock,
      log,
      config,
      station,
      report: (step) => this.notify('FirmwareStatusNotification', step),
    });
  }

  stop(): void {
    this.uploader.stop();
    this.updater.stop();
  }

  /** 4.4: Idle when no upload is under way. */
  get diagnosticsStatus(): string {
    return this.uploader.busy ? 'Uploading' : 'Idle';
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

  private async notify(action: string, status: string): Promise<void> {
    try {
      await this.ctx.link.call(action, { status });
    } catch (err) {
      this.ctx.log.warn(`${action} not delivered`, { status, error: String(err) });
    }
  }
}
