/**
 * Firmware updates for both OCPP versions. The daemon never replaces itself: it downloads the file into
 * STATE/firmware/, checks its size and (when the CSMS gave one) its checksum, and hands the path to the
 * operator's install command (config maintenance.firmwareInstallCommand, run by /bin/sh with the path as
 * "$1" and in FIRMWARE_FILE). Exit code 0 is Installed, then the station restarts through its own reset
 * path once idle (Reset OnIdle: a running charge is never cut). No command configured: InstallationFailed.
 * Signature checking (2.0.1 signed firmware) is not done.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { StationConfig } from '../config/types.js';
import type { StationApi } from '../station/api.js';
import { ensurePrivateDir } from '../store/private-files.js';
import type { FileJobJournal } from './file-job-journal.js';
import { TransferError, boundRetries, download, safeUrl } from './file-transfer.js';

export type FirmwareStep = 'Downloading' | 'Downloaded' | 'DownloadFailed' | 'Installing' | 'Installed' | 'InstallationFailed';

export interface FirmwareJob {
  location: string;
  /** Station time (epoch ms) to start the download; now or past = at once. */
  retrieveAt: number;
  retries: number;
  retryIntervalS: number;
  /** Hex digest to compare with, when the CSMS gives one. */
  checksum?: { algorithm: 'sha256' | 'md5'; value: string };
  /** 2.0.1 requestId, kept with the job's state for a report after a restart. */
  requestId?: number;
}

export interface FirmwareDeps {
  clock: Clock;
  log: Logger;
  config: StationConfig;
  station: StationApi;
  /**
   * Told each step; awaited so that the notifications go out in order (and before the restart).
   * Rejects when the CSMS was not told: a final step then stays in the journal for the next boot.
   */
  report: (step: FirmwareStep) => Promise<void>;
  /** Where the job's state survives a restart (issue 10 #6); none in unit tests that do not need it. */
  journal?: FileJobJournal;
}

/** Default cap of a firmware download; maintenance.firmwareMaxBytes overrides it. */
export const FIRMWARE_MAX_BYTES = 256 * 1024 * 1024;
/** The install command may take a while (flashing), but not forever. Real time. */
const INSTALL_TIMEOUT_MS = 30 * 60_000;

export class FirmwareUpdater {
  private timer: TimerHandle | undefined;
  private running = false;
  private stopped = false;
  private last: FirmwareStep | undefined;

  constructor(private readonly d: FirmwareDeps) {}

  /** Scheduled or under way. */
  get busy(): boolean {
    return this.running || this.timer !== undefined;
  }

  /** The install command runs: a Reset now would cut it (2.0.1 B11.FR.06, 1.6 §5.19). */
  get installing(): boolean {
    return this.running && this.last === 'Installing';
  }

  /** The last step of the current update; undefined when idle (1.6 TriggerMessage answers Idle). */
  get current(): FirmwareStep | undefined {
    return this.busy ? this.last : undefined;
  }

  stop(): void {
    this.stopped = true;
    this.d.clock.clear(this.timer);
    this.timer = undefined;
  }

  /** Drop an update that waits for its retrieve time (not one under way); true when one was dropped. */
  cancelScheduled(): boolean {
    if (this.running || this.timer === undefined) return false;
    this.d.clock.clear(this.timer);
    this.timer = undefined;
    this.d.journal?.forget();
    return true;
  }

  /** Schedule an update; false when one is already scheduled or running. onDone runs when it ended. */
  start(job: FirmwareJob, onDone?: () => void): boolean {
    if (this.busy) return false;
    this.last = undefined;
    this.d.journal?.begin('DownloadScheduled', job.requestId);
    const go = (): void => {
      this.timer = undefined;
      this.running = true;
      void this.work(job)
        .catch((err: unknown) => this.d.log.error('firmware update failed', { error: String(err) }))
        .finally(() => {
          this.running = false;
          onDone?.();
        });
    };
    // Always through the clock, even when due now: the CSMS gets its answer before the first notification.
    this.timer = this.d.clock.setTimeout(go, Math.max(0, job.retrieveAt - this.d.clock.now()));
    return true;
  }

  private async step(s: FirmwareStep): Promise<void> {
    this.last = s;
    this.d.journal?.step(s);
    try {
      await this.d.report(s);
      this.d.journal?.delivered(s);
    } catch (err) {
      this.d.log.warn('firmware status not delivered', { status: s, error: String(err) });
    }
  }

  private async work(job: FirmwareJob): Promise<void> {
    const { clock, log, config, station } = this.d;
    await this.step('Downloading');
    let file;
    let path = '';
    try {
      const dir = join(config.stateDir, 'firmware');
      path = join(dir, fileNameOf(job.location));
      ensurePrivateDir(dir);
      file = await download(job.location, path, config.maintenance?.firmwareMaxBytes ?? FIRMWARE_MAX_BYTES, {
        clock,
        log,
        ...boundRetries(job, config.maintenance, log),
        cancelled: () => this.stopped,
      });
      if (file.bytes === 0) throw new Error('empty file');
      if (job.checksum) {
        const got = job.checksum.algorithm === 'sha256' ? file.sha256 : file.md5;
        if (got !== job.checksum.value.toLowerCase()) {
          rmSync(path, { force: true });
          throw new Error(`${job.checksum.algorithm} mismatch: expected ${job.checksum.value}, got ${got}`);
        }
      }
    } catch (err) {
      log.error(err instanceof TransferError ? `firmware download impossible: ${err.message}` : 'firmware download failed', {
        location: safeUrl(job.location),
        error: String(err),
      });
      if (path) rmSync(`${path}.part`, { force: true });
      await this.step('DownloadFailed');
      return;
    }
    log.info('firmware downloaded', { path: file.path, bytes: file.bytes, sha256: file.sha256 });
    await this.step('Downloaded');
    if (this.stopped) return;
    const command = config.maintenance?.firmwareInstallCommand;
    await this.step('Installing');
    if (!command) {
      log.error('firmware not installed: no install command configured (maintenance.firmwareInstallCommand)', { path: file.path });
      await this.step('InstallationFailed');
      return;
    }
    const code = await runInstall(command, file.path, log);
    if (code !== 0) {
      log.error('firmware install command failed', { command, exitCode: code, path: file.path });
      await this.step('InstallationFailed');
      return;
    }
    log.info('firmware installed; restarting once idle', { path: file.path });
    await this.step('Installed');
    if (this.stopped) return;
    // OnIdle: the restart waits for running sessions to end (and never cuts one).
    station.reset('OnIdle');
  }
}

/** A safe local name for the file at location (its last path segment). */
function fileNameOf(location: string): string {
  let last = '';
  try {
    last = decodeURIComponent(new URL(location).pathname.split('/').pop() ?? '');
  } catch {
    // Not a URL or bad escapes: download() reports the URL itself.
  }
  const safe = last.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return safe || 'firmware.bin';
}

/** Exit code of the install command (-1 when it could not run or timed out). */
function runInstall(command: string, path: string, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', `${command} "$1"`, 'firmware-install', path], {
      env: { ...process.env, FIRMWARE_FILE: path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (b: Buffer): void => {
      output = (output + b.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      log.error('firmware install command did not start', { error: String(err) });
      resolve(-1);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (output) log.info('firmware install command output', { output });
      resolve(code ?? -1);
    });
  });
}
