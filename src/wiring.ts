/**
 * Builds the whole station from a validated config, in dependency order, and takes it down in the
 * reverse order. The process lifecycle (signals, sd_notify, exit codes) is src/main.ts; this file is
 * also what the integration tests use (test/support/harness.ts), with a VirtualClock.
 */
import { join } from 'node:path';
import type { Clock } from '../base/clock.js';
import { createHal, loadBoardProfile, type BoardProfile } from '../hal/index.js';
import type { Hal } from '../hal/types.js';
import type { Logger } from '../base/logger.js';
import type { SiteConfig, StationConfig } from './config/types.js';
import { packageConfigDir, packageVersion } from './config/paths.js';
import { redactConfig } from './config/redact.js';
import { CONTROL_SOCKET_NAME } from './control/protocol.js';
import { runScenario, type ScenarioHandle } from './control/scenario.js';
import { startControlServer, type ControlServer } from './control/server.js';
import type { HttpServer } from './http/index.js';
import { startOcpp, type OcppHandle } from './ocpp/index.js';
import { createV16Adapter } from './ocpp/v16/index.js';
import { errorFieldsOf } from './ocpp/v16/error-codes.js';
import { createV201Adapter } from './ocpp/v201/index.js';
import type { StopReason } from './station/api.js';
import { Station } from './station/station.js';
import type { SiteLimitSettings } from './station/site-limit.js';
import { openDatabase, StorageError, type Db } from './store/db.js';
import { ensurePrivateDir } from './store/private-files.js';
import { scheduleDatabaseMaintenance } from './store/maintenance.js';

export interface BuildOptions {
  clock: Clock;
  log: Logger;
  /** The board to build instead of the one config.hal names (tests, benches). */
  profile?: BoardProfile;
  /** Longest wait for queued transaction messages to reach the CSMS on stop; default 3000 ms. */
  flushMs?: number;
  /** Serve the control socket STATE/control.sock; default true. */
  control?: boolean;
  /** The CSMS is the daemon's own development CSMS (--dev-csms): the status page says so. */
  devCsms?: boolean;
}

export interface BuiltStation {
  config: StationConfig;
  db: Db;
  hal: Hal;
  station: Station;
  ocpp: OcppHandle;
  control?: ControlServer;
  /** The status page / API / metrics server (config http.enabled). */
  http?: HttpServer;
  /** The scenario named by config.runScenario, while it runs. */
  scenario?: ScenarioHandle;
  /**
   * Graceful shutdown: the control socket and scenario stop first (nothing new comes in), sessions ended and persisted with `reason` (default Local), contactors open,
   * a short moment for the outbox to flush, the OCPP link closed, outputs safe, the database closed.
   * Every step runs even when an earlier one fails; then it rejects naming the failed steps. Idempotent.
   */
  stop(reason?: StopReason): Promise<void>;
}

/** Each step of the shutdown, run in order; a failing step is logged and the rest still run. */
type Step = [what: string, run: () => unknown];

/** Resolves with the names of the steps that failed. */
async function runSteps(steps: Step[], log: Logger): Promise<string[]> {
  const failed: string[] = [];
  for (const [what, run] of steps) {
    try {
      await run();
    } catch (err) {
      failed.push(what);
      log.error(`shutdown: ${what} failed`, { err: err as Error });
    }
  }
  return failed;
}

/** Wait (in real time: the CSMS answers in real time) until the outbox is empty, the link drops or time is up. */
async function flushOutbox(ocpp: OcppHandle, ms: number, log: Logger): Promise<void> {
  const deadline = Date.now() + ms;
  while (ocpp.link.connected && ocpp.link.pendingCount() > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
  }
  const left = ocpp.link.pendingCount();
  if (left > 0) log.info('shutdown: transaction messages stay queued for the next start', { pending: left });
}

/** The external limit the control socket sets (`ocpp-station sim external-limit`). */
const EXTERNAL_KEY = 'external';

function siteSettings(c: SiteConfig): SiteLimitSettings {
  const { gridLimitA, intervalS, increaseDelayS, meterFaultAvailableA, minCurrentA, evseMinCurrentA } = c;
  return { gridLimitA, intervalS, increaseDelayS, meterFaultAvailableA, minCurrentA, evseMinCurrentA };
}

export async function buildStation(config: StationConfig, opts: BuildOptions): Promise<BuiltStation> {
  const { clock, log } = opts;
  // The shutdown is the start in reverse: each part, once up, adds its own undo step. A failure half-way
  // runs the steps of what was built; stop() runs them all.
  const undo: Step[] = [];
  const takeDown = (): Promise<string[]> => runSteps(undo.slice().reverse(), log);
  const fail = async (err: unknown): Promise<never> => {
    await takeDown();
    throw err;
  };
  let stopReason: StopReason = 'Local';

  // The board profile is read before anything is made on disk: a config naming an unknown board
  // leaves no state directory behind.
  const profile = opts.profile ?? loadBoardProfile(config.hal.board, packageConfigDir(), config.hal.overrides);
  const unknownEvse = Object.keys(config.site?.evseMinCurrentA ?? {}).find((id) => !profile.evses.some((e) => String(e.id) === id));
  if (unknownEvse !== undefined) throw new Error(`config error: /site/evseMinCurrentA/${unknownEvse}: board "${profile.name}" has no EVSE ${unknownEvse}`);
  try {
    ensurePrivateDir(config.stateDir, { narrowExisting: true });
  } catch (err) {
    throw new StorageError(config.stateDir, `state directory: ${(err as Error).message}`);
  }
  const migrated: Record<string, number> = {};
  const db = openDatabase(join(config.stateDir, 'station.db'), { onMigrated: (module, steps) => (migrated[module] = steps) });
  if (Object.keys(migrated).length > 0) log.info('database schema migrated (steps per module)', { migrated });
  undo.push(['close the database', () => db.close()]);
  // node-cron on the wall clock; nothing under a VirtualClock (tests call the job themselves).
  const maintenance = config.database ? scheduleDatabaseMaintenance(db, clock, log, config.database) : undefined;
  if (maintenance) undo.push(['stop the database maintenance', () => maintenance.stop()]);

  let hal: Hal;
  try {
    hal = await createHal(profile, { clock, log }, config.site?.otherLoadMeter ? { siteMeter: config.site.otherLoadMeter } : {});
  } catch (err) {
    return fail(err);
  }
  undo.push([
    'make the outputs safe',
    async () => {
      await hal.close();
      // The journal's last word on the relays: what an operator (and the systemd test) checks after a stop.
      log.info('outputs safe', {
        contactors: hal.evses.map((e) => ({ evse: e.id, commanded: e.contactor.commanded ? 'closed' : 'open', feedback: e.contactor.feedback })),
      });
    },
  ]);

  const station = new Station({ hal, db, clock, log, ...(config.site ? { site: siteSettings(config.site) } : {}) });
  let ocpp: OcppHandle;
  let control: ControlServer | undefined;
  let http: (HttpServer & { listen(): Promise<void> }) | undefined;
  let scenario: ScenarioHandle | undefined;
  try {
    // The adapters subscribe to the station's events before it starts, so they see its first statuses
    // and the sessions a power cut left open.
    ocpp = await startOcpp({
      config,
      station,
      db,
      clock,
      log,
      stateDir: config.stateDir,
      adapters: { '1.6': createV16Adapter, '2.0.1': createV201Adapter },
      connect: false,
    });
    undo.push(['stop the OCPP link', () => ocpp.stop()]);
    // Taken down before the link: the station's last messages (StopTransaction …) get a moment to leave.
    undo.push(['flush the outbox', () => flushOutbox(ocpp, opts.flushMs ?? 3000, log)]);
    if (config.http?.enabled) {
      // Made before the station starts, so it sees the first statuses and the faults raised at start.
      // Loaded only when enabled: with http.enabled false, fastify and prom-client cost no memory.
      const { createHttpServer } = await import('./http/index.js');
      const server = createHttpServer({
        config: config.http,
        station,
        hal,
        link: ocpp.link,
        clock,
        log,
        identity: config.station,
        csmsUrl: redactConfig(config).ocpp.csmsUrl,
        ocppVersion: config.ocpp.version,
        version: packageVersion(),
        devCsms: opts.devCsms === true,
        errorCodeOf: (c) => errorFieldsOf(c).errorCode,
      });
      http = server;
      undo.push(['close the status page', () => server.close()]);
    }
    await station.start();
    undo.push(['stop the station', () => station.stop(stopReason)]);
    // Connect only now: the first BootNotification then carries the reset reason the station's start
    // read from the store, and the sessions a power cut left open are already ended and queued.
    await ocpp.connect();
    await http?.listen();

    if (opts.control ?? true) {
      const server = await startControlServer({
        socketPath: join(config.stateDir, CONTROL_SOCKET_NAME),
        hal,
        log,
        // The operator's tools speak the 1.6 error codes (the status page and CLI show them).
        stationStatus: () =>
          station.evseIds.map((id) => {
            const { fault: _fault, ...c } = station.connector(id);
            return { ...c, ...errorFieldsOf(c) };
          }),
        site: {
          status: () => station.siteLimit.status(),
          // The control socket stands for an external control system (K11–K13): one limit, key "external".
          external: (req) => {
            if (req.cmd === 'clear-external-limit') {
              if (!station.externalLimits.clear(EXTERNAL_KEY)) throw new Error('no external limit is set');
              return;
            }
            station.externalLimits.set(EXTERNAL_KEY, { source: req.source ?? 'Other', isGridCritical: req.gridCritical ?? false, evseId: req.evse ?? 0, limitA: req.amps ?? 0 });
          },
        },
        outboxKick: () => ocpp.link.kickOutbox(),
      });
      control = server;
      undo.push(['close the control socket', () => server.close()]);
    }
    if (config.runScenario !== undefined) {
      if (!hal.sim) throw new Error(`runScenario "${config.runScenario}" needs the simulated board, not "${hal.board}"`);
      const running = runScenario(config.scenarios[config.runScenario]!, hal.sim, clock, log);
      scenario = running;
      undo.push(['cancel the scenario', () => running.cancel()]);
      log.info('scenario running', { scenario: config.runScenario });
    }
  } catch (err) {
    return fail(err);
  }

  let stopping: Promise<void> | undefined;
  const stop = (reason: StopReason = 'Local'): Promise<void> => {
    if (stopping) return stopping;
    stopReason = reason;
    stopping = takeDown().then((failed) => {
      if (failed.length) throw new Error(`shutdown incomplete: ${failed.join(', ')} failed`);
    });
    return stopping;
  };

  return { config, db, hal, station, ocpp, control, http, scenario, stop };
}
