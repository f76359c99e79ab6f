/**
 * Remote diagnostics for both OCPP versions (1.6 GetDiagnostics, 2.0.1 GetLog DiagnosticsLog): one plain
 * text file with the station status, the config with its secrets redacted, and the OCPP message log
 * (STATE/ocpp-messages.log and its rotations, oldest first, already redacted by message-log.ts), then
 * uploaded over HTTP(S). The adapters map the neutral steps to their own status notifications.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { ensurePrivateDir, writePrivateFile } from '../store/private-files.js';
import { join } from 'node:path';
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import { redactConfig } from '../config/redact.js';
import type { StationConfig } from '../config/types.js';
import type { StationApi } from '../station/api.js';
import type { FileJobJournal } from './file-job-journal.js';
import { TransferError, boundRetries, safeUrl, upload } from './file-transfer.js';

export interface BundleOptions {
  stateDir: string;
  config: StationConfig;
  station: StationApi;
  now: number;
  /** Only message-log lines in [from, to] (epoch ms); the whole log when absent. */
  from?: number;
  to?: number;
}

/** Message log files, oldest first. */
function messageLogFiles(stateDir: string): string[] {
  const base = join(stateDir, 'ocpp-messages.log');
  const rotated: string[] = [];
  for (let i = 1; existsSync(`${base}.${i}`); i++) rotated.push(`${base}.${i}`);
  return [...rotated.reverse(), ...(existsSync(base) ? [base] : [])];
}

function inWindow(line: string, from: number | undefined, to: number | undefined): boolean {
  if (from === undefined && to === undefined) return true;
  const m = /^\{"t":"([^"]+)"/.exec(line);
  const t = m ? Date.parse(m[1] ?? '') : NaN;
  if (Number.isNaN(t)) return true;
  return (from === undefined || t >= from) && (to === undefined || t <= to);
}

/** The diagnostics text. */
export function diagnosticsText(o: BundleOptions): string {
  const status = o.station.evseIds.map((id) => ({ connector: o.station.connector(id), session: o.station.session(id) ?? null }));
  const parts = [
    `# ocpp-station diagnostics, ${new Date(o.now).toISOString()}`,
    '## station status',
    JSON.stringify(status, null, 2),
    '## config (secrets redacted)',
    JSON.stringify(redactConfig(o.config), null, 2),
  ];
  for (const file of messageLogFiles(o.stateDir)) {
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0 && inWindow(l, o.from, o.to));
    parts.push(`## ${file.slice(o.stateDir.length + 1)}`, ...lines);
  }
  return parts.join('\n') + '\n';
}

/** Write the bundle to STATE/diagnostics/fileName; returns its path. */
export function writeDiagnostics(o: BundleOptions, fileName: string): string {
  const dir = join(o.stateDir, 'diagnostics');
  ensurePrivateDir(dir);
  const path = join(dir, fileName);
  writePrivateFile(path, diagnosticsText(o));
  return path;
}

/** A file name for a bundle made at now. */
export function diagnosticsFileName(identity: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  return `${identity.replace(/[^A-Za-z0-9_-]/g, '_')}-diagnostics-${stamp}.txt`;
}

export type UploadStep = 'Uploading' | 'Uploaded' | 'UploadFailed';

export interface UploadJob {
  location: string;
  retries: number;
  retryIntervalS: number;
  fileName: string;
  from?: number;
  to?: number;
  /** 2.0.1 requestId, kept with the job's state for a report after a restart. */
  requestId?: number;
}

export interface DiagnosticsDeps {
  clock: Clock;
  log: Logger;
  config: StationConfig;
  station: StationApi;
  /** Told each step; awaited so that the notifications go out in order. Rejects when not delivered. */
  report: (step: UploadStep) => Promise<void>;
  /** Where the upload's state survives a restart (issue 10 #6). */
  journal?: FileJobJournal;
}

/** One diagnostics upload at a time. */
export class DiagnosticsUploader {
  private running = false;
  /** The file is being made or sent; false once it ended, while its final status may still be on its way. */
  private transferring = false;
  private stopped = false;

  constructor(private readonly d: DiagnosticsDeps) {}

  /** A job runs, its final status perhaps not yet delivered: a new request must wait. */
  get busy(): boolean {
    return this.running;
  }

  /**
   * What a TriggerMessage reports (1.6 DiagnosticsStatusNotification, 2.0.1 LogStatusNotification):
   * Uploading only while the transfer itself runs; once it ended the station is Idle, even while the
   * Uploaded / UploadFailed notification still waits for its answer.
   */
  get uploading(): boolean {
    return this.transferring;
  }

  stop(): void {
    this.stopped = true;
  }

  /** Build and upload; resolves when done (never rejects). False when one is already running. */
  run(job: UploadJob): Promise<void> | false {
    if (this.running) return false;
    this.running = true;
    this.transferring = true;
    this.d.journal?.begin('Uploading', job.requestId);
    return this.work(job)
      .catch((err: unknown) => this.d.log.error('diagnostics upload failed', { error: String(err) }))
      .finally(() => {
        this.running = false;
        this.transferring = false;
      });
  }

  private async report(step: UploadStep): Promise<void> {
    this.d.journal?.step(step);
    try {
      await this.d.report(step);
      this.d.journal?.delivered(step);
    } catch (err) {
      this.d.log.warn('diagnostics status not delivered', { status: step, error: String(err) });
    }
  }

  private async work(job: UploadJob): Promise<void> {
    const { clock, log, config, station } = this.d;
    const report = (step: UploadStep): Promise<void> => this.report(step);
    await report('Uploading');
    let path: string | undefined;
    try {
      path = writeDiagnostics({ stateDir: config.stateDir, config, station, now: clock.now(), from: job.from, to: job.to }, job.fileName);
      await upload(job.location, path, job.fileName, 'POST', {
        clock,
        log,
        ...boundRetries(job, config.maintenance, log),
        cancelled: () => this.stopped,
      });
      log.info('diagnostics uploaded', { location: safeUrl(job.location), fileName: job.fileName });
      this.transferring = false;
      await report('Uploaded');
    } catch (err) {
      log.error(err instanceof TransferError ? `diagnostics upload impossible: ${err.message}` : 'diagnostics upload failed', {
        location: safeUrl(job.location),
        error: String(err),
      });
      this.transferring = false;
      await report('UploadFailed');
    } finally {
      if (path) rmSync(path, { force: true });
    }
  }
}
