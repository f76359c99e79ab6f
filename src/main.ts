/**
 * The daemon's process lifecycle: config → log → station parts (src/wiring.ts) → READY; signals,
 * crashes and station restarts → shutdown in reverse order; sd_notify READY / WATCHDOG / STOPPING.
 *
 * Exit codes: 0 after a graceful stop (signal, or a reset the CSMS asked for: systemd's
 * Restart=always brings the daemon back), 1 after a crash or a forced stop, 2 for a bad config
 * (nothing was started, nothing created on disk), 3 for a database that cannot be used (damaged,
 * unreadable, not writable, or from a newer release: the unit does not restart on 2 and 3, as
 * neither fixes itself).
 */
import { randomBytes } from 'node:crypto';
import { SystemClock } from '../base/clock.js';
import { loadBoardProfile, validatePart, type BoardProfile } from '../hal/index.js';
import { OptionError } from '../hal/options-schema.js';
import { ConfigError, type ConfigOverrides, defaultConfigPath, loadConfig } from './config/load.js';
import { packageConfigDir, packageVersion } from './config/paths.js';
import { redactConfig } from './config/redact.js';
import type { StationConfig } from './config/types.js';
import { formatProblem } from './config/validate.js';
import { createLogger, guardStream } from './log.js';
import { SdNotify } from './sd-notify.js';
import type { StopReason } from './station/api.js';
import { StorageError } from './store/db.js';
import { buildStation, type BuiltStation } from './wiring.js';

export interface DaemonOptions {
  configPath?: string;
  overrides?: ConfigOverrides;
  /**
   * Run the development CSMS (devtools/csms.ts) in this process on a free loopback port and connect
   * to it instead of ocpp.csmsUrl; the status page gets its controls with a fresh token (printed).
   * Command line only (--dev-csms): a config file cannot turn it on.
   */
  devCsms?: boolean;
}

/** What --dev-csms changes in the loaded config. */
export function withDevCsms(config: StationConfig, csmsUrl: string, token: string): StationConfig {
  const { password: _password, caFile: _ca, clientCertFile: _cert, clientKeyFile: _key, ...ocpp } = config.ocpp;
  const http = config.http ?? { enabled: true, host: '127.0.0.1', port: 8080, control: false };
  return {
    ...config,
    ocpp: { ...ocpp, csmsUrl, securityProfile: 0 },
    http: { ...http, control: true, token: http.token ?? token },
  };
}

type DevCsmsModule = typeof import('../devtools/csms.js');

/**
 * The dev CSMS is built to dist/devtools in a source checkout and is not part of an installed
 * package: loaded only for --dev-csms, and its absence is said in one line (undefined).
 */
export async function loadDevCsms(load: () => Promise<DevCsmsModule> = () => import('../devtools/csms.js')): Promise<DevCsmsModule | undefined> {
  try {
    return await load();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ERR_MODULE_NOT_FOUND' || !/devtools[/\\]csms\.js/.test(e.message)) throw err;
    return undefined;
  }
}

export const NO_DEV_CSMS =
  '--dev-csms: the development CSMS (dist/devtools) is not part of this installation; it comes with a source checkout (npm run build, then npm start). Set ocpp.csmsUrl to a CSMS instead.';

/** How long forcing the outputs safe may take before the process exits anyway. */
const FORCE_SAFE_MS = 2000;

const RESET_REASON: Record<'HardReset' | 'SoftReset' | 'Immediate', StopReason> = {
  HardReset: 'HardReset',
  SoftReset: 'SoftReset',
  Immediate: 'ImmediateReset',
};

/** Exit code for a database that cannot be used (StorageError). */
export const EXIT_STORAGE = 3;

/**
 * Load the config and the board profile it names, or print every problem as
 * `config error: <pointer>: <problem>`. Reads only: a refused config leaves nothing on disk.
 */
export function loadConfigOrReport(
  path: string,
  overrides: ConfigOverrides,
): (StationConfig & { profile: BoardProfile; notes: string[] }) | undefined {
  let config: StationConfig;
  const notes: string[] = [];
  try {
    config = loadConfig(path, overrides, notes);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stderr.write(`${formatProblem(p)}\n`);
    return undefined;
  }
  let profile: BoardProfile;
  try {
    // The board is part of the config: an unknown name or a bad profile (its shape, a driver, a
    // driver's options, all by the drivers' own schemas) is refused like a schema error.
    profile = loadBoardProfile(config.hal.board, packageConfigDir(), config.hal.overrides);
  } catch (err) {
    const lines =
      err instanceof OptionError && err.problems.length > 0 ? err.problems.map((p) => `${err.where}: ${p.pointer}: ${p.problem}`) : [(err as Error).message];
    for (const line of lines) {
      process.stderr.write(`${formatProblem({ pointer: '/hal/board', problem: line })}\n`);
    }
    return undefined;
  }
  // The site meter is a meter part like a board's: its driver and options are checked now, not when built.
  const siteMeter = config.site?.otherLoadMeter ? validatePart('meter', config.site.otherLoadMeter, '/site/otherLoadMeter') : [];
  for (const p of siteMeter) process.stderr.write(`${formatProblem(p)}\n`);
  if (siteMeter.length > 0) return undefined;
  return { ...config, profile, notes };
}

/** Runs the daemon until it stops; resolves with the exit code. */
export async function runDaemon(opts: DaemonOptions = {}): Promise<number> {
  const configPath = opts.configPath ?? defaultConfigPath();
  // A closed stdout/stderr (the reader of the pipe went away) must not become an uncaught EPIPE:
  // the logger stops writing to a dead stream, and every other write to it is dropped as well.
  guardStream(process.stdout);
  guardStream(process.stderr);
  const loaded = loadConfigOrReport(configPath, opts.overrides ?? {});
  if (!loaded) return 2;
  const { profile, notes: configNotes, ...loadedConfig } = loaded;
  let config: StationConfig = loadedConfig;

  // Before the log and anything else: an installed package without the dev CSMS refuses --dev-csms having started nothing.
  const devCsmsModule = opts.devCsms ? await loadDevCsms() : undefined;
  if (opts.devCsms && !devCsmsModule) {
    process.stderr.write(`ocpp-station: ${NO_DEV_CSMS}\n`);
    return 2;
  }
  const log = createLogger({ level: config.log.level });
  for (const note of configNotes) log.info(`config ${configPath}: ${note}`);
  let devCsms: { url: string; close(): Promise<void> } | undefined;
  /** Generated for this run only when the config has no http.token: then it may be shown. */
  let devToken: string | undefined;
  if (devCsmsModule) {
    const csms = await devCsmsModule.startCsms({ port: 0 });
    devCsms = csms;
    // The dev CSMS records every message; a long first run keeps only the recent ones.
    const trim = setInterval(() => void csms.log.splice(0, Math.max(0, csms.log.length - 1000)), 60_000);
    trim.unref();
    devToken = config.http?.token ? undefined : randomBytes(18).toString('base64url');
    config = withDevCsms(config, csms.url, devToken ?? '');
    log.info('development CSMS running in this process (--dev-csms): not for a real site', { url: csms.url });
  }
  const shown = redactConfig(config);
  log.info('ocpp-station starting', {
    version: packageVersion(),
    config: configPath,
    identity: config.station.identity,
    csmsUrl: shown.ocpp.csmsUrl,
    ocppVersion: config.ocpp.version,
    securityProfile: config.ocpp.securityProfile,
    board: config.hal.board,
    stateDir: config.stateDir,
  });
  log.debug('effective config', { config: shown });

  const notify = new SdNotify({ log });
  let built: BuiltStation | undefined;

  /** Last resort: outputs safe (bounded in time), then exit at once. */
  const forceSafeAndExit = async (code: number): Promise<never> => {
    notify.stopWatchdog();
    const timeout = new Promise<void>((r) => setTimeout(r, FORCE_SAFE_MS).unref());
    try {
      await Promise.race([built?.hal.close(), timeout]);
    } catch (err) {
      log.error('could not force the outputs safe', { err: err as Error });
    }
    process.exit(code);
  };
  const onCrash = (err: unknown): void => {
    log.error('uncaught error: forcing the outputs safe and exiting', { err: err instanceof Error ? err : String(err) });
    void forceSafeAndExit(1);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  // Signals are taken from the start: one that arrives while the parts come up stops them once up.
  let stopAsked = false;
  let resolveStop: (r: { why: string; reason: StopReason }) => void = () => {};
  const stopRequested = new Promise<{ why: string; reason: StopReason }>((r) => (resolveStop = r));
  const requestStop = (why: string, reason: StopReason): void => {
    if (stopAsked) return;
    stopAsked = true;
    resolveStop({ why, reason });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopAsked) return requestStop(signal, 'Local');
    log.warn('second signal: forcing the outputs safe and exiting now', { signal });
    void forceSafeAndExit(1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const detach = (): void => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  };

  void notify.status('starting');
  let parts: BuiltStation;
  try {
    parts = built = await buildStation(config, { clock: new SystemClock(), log, profile, devCsms: devCsms !== undefined });
  } catch (err) {
    detach();
    await devCsms?.close();
    if (err instanceof StorageError) {
      // The operator's next step is on this line: which file, what is wrong with it.
      log.error(`storage error: ${err.file}: ${err.fault}; not starting: the station does not charge without records`, {
        file: err.file,
        exitCode: EXIT_STORAGE,
      });
      return EXIT_STORAGE;
    }
    log.error('start failed', { err: err as Error });
    return 1;
  }
  if (parts.http?.url) {
    const page = devToken ? `${parts.http.url}#token=${devToken}` : parts.http.url;
    log.info(`status page: ${page}${devToken ? ' (this link carries the token of the page controls, for this run only)' : ''}`);
  }

  parts.ocpp.link.on('open', (protocol) => void notify.status(`online: ${protocol} to ${shown.ocpp.csmsUrl}`));
  parts.ocpp.link.on('close', () => void notify.status(`offline: reconnecting to ${shown.ocpp.csmsUrl}`));
  parts.station.on('restart-requested', (kind) => {
    log.info(
      process.env.INVOCATION_ID
        ? 'restart requested: exiting, systemd starts the daemon again'
        : 'restart requested: exiting; not under systemd, so start ocpp-station again yourself',
      { kind },
    );
    requestStop(`restart requested (${kind})`, RESET_REASON[kind]);
  });
  if (!stopAsked) {
    void notify.ready(`running: ${config.station.identity}, ${parts.hal.evses.length} EVSE(s)`);
    notify.startWatchdog();
    log.info('running', { evses: parts.hal.evses.length, board: parts.hal.board });
  }

  const { why, reason } = await stopRequested;
  log.info('stopping', { why, reason });
  let code = 0;
  try {
    await Promise.all([notify.stopping(`stopping: ${why}`), parts.stop(reason)]);
  } catch (err) {
    log.error('stop failed', { err: err as Error });
    code = 1;
  }
  await devCsms?.close().catch(() => undefined);
  log.info('stopped', { exitCode: code });
  detach();
  return code;
}
