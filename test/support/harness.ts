/**
 * The whole station in-process, built exactly as the daemon builds it (src/wiring.ts buildStation), on
 * the simulated board, with a VirtualClock for station time. For integration tests against the
 * in-process CSMS (test/support/csms.ts):
 *
 *   const csms = await startCsms({ protocols: ['ocpp1.6'] });
 *   const clock = new VirtualClock();
 *   const st = await startTestStation({ ocppVersion: '1.6', csmsUrl: csms.url, clock, evses: 2 });
 *   await csms.waitFor('BootNotification');
 *   st.sim.plug(1); st.sim.tap('04A1B2C3'); await clock.advance(1000);
 *   ...
 *   await st.stop(); await csms.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VirtualClock } from '../../base/clock.js';
import { loadBoardProfile, type BoardProfile, type EvseProfile } from '../../hal/index.js';
import type { SimControl } from '../../hal/types.js';
import { silentLogger, type Logger } from '../../base/logger.js';
import { mergeDeep } from '../../src/config/defaults.js';
import { configFromObject } from '../../src/config/load.js';
import { packageConfigDir } from '../../src/config/paths.js';
import type { LogLevel, OcppVersionChoice, StationConfig } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import type { StopReason } from '../../src/station/api.js';
import { buildStation, type BuiltStation } from '../../src/wiring.js';

export interface TestStationOptions {
  ocppVersion: OcppVersionChoice;
  /** Without the identity (e.g. csms.url); the identity is appended by the link. */
  csmsUrl: string;
  clock: VirtualClock;
  /** Number of simulated EVSEs, ids 1..n, each a copy of EVSE 1 of config/boards/sim.json. Default 1. */
  evses?: number;
  /** Default: a fresh temporary directory, removed by stop(). Pass one to test restarts (kept). */
  stateDir?: string;
  /** Merged deeply over the test config before validation (e.g. { ocpp: { securityProfile: 1, password: '…' } }). */
  configPatch?: Record<string, unknown>;
  /** Default a silent logger; set TEST_LOG=debug (or info…) in the environment to see the station's log. */
  log?: Logger;
  /** Longest wait for the outbox on stop(); default 1000 ms. */
  flushMs?: number;
  /** Serve the control socket STATE/control.sock (for tests of the sim CLI); default false. */
  control?: boolean;
}

export interface TestStation extends BuiltStation {
  /** Controls of the simulated board (plug, tap, evReady, fault …, status()). */
  sim: SimControl;
  clock: VirtualClock;
  stateDir: string;
  /** Graceful stop as on SIGTERM (reason default Local); removes the state directory if the harness made it. */
  stop(reason?: StopReason): Promise<void>;
}

const silent: Logger = silentLogger;

/** The sim board with n copies of its first EVSE. */
export function simProfile(evses: number, overrides?: Record<string, unknown>): BoardProfile {
  const base = loadBoardProfile('sim', packageConfigDir(), overrides);
  const first = base.evses[0]!;
  const copy = (id: number): EvseProfile => ({ ...(JSON.parse(JSON.stringify(first)) as EvseProfile), id });
  return { ...base, evses: Array.from({ length: evses }, (_, i) => copy(i + 1)) };
}

/** The config a test station runs with: valid, fast timings, the state dir given. */
export function testConfig(o: Pick<TestStationOptions, 'ocppVersion' | 'csmsUrl' | 'configPatch'>, stateDir: string): StationConfig {
  const base = {
    station: { identity: 'CP001', vendor: 'ocpp-station', model: 'test', serialNumber: 'TEST-0001' },
    ocpp: { version: o.ocppVersion, csmsUrl: o.csmsUrl, securityProfile: 0, messageLog: { enabled: false } },
    hal: { board: 'sim' },
    stateDir,
    log: { level: 'debug' },
    // Tests run in parallel: a test that wants the status page asks for it (port 0).
    http: { enabled: false },
  };
  return configFromObject(mergeDeep(base, o.configPatch ?? {}));
}

export async function startTestStation(o: TestStationOptions): Promise<TestStation> {
  const ownDir = o.stateDir === undefined;
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), 'station-'));
  const envLevel = process.env.TEST_LOG as LogLevel | undefined;
  const log = o.log ?? (envLevel ? createLogger({ level: envLevel, journald: false }) : silent);
  try {
    const config = testConfig(o, stateDir);
    const built = await buildStation(config, {
      clock: o.clock,
      log,
      profile: simProfile(o.evses ?? 1, config.hal.overrides),
      flushMs: o.flushMs ?? 1000,
      control: o.control ?? false,
    });
    const sim = built.hal.sim;
    if (!sim) throw new Error('the sim board offers no SimControl');
    return {
      ...built,
      sim,
      clock: o.clock,
      stateDir,
      async stop(reason?: StopReason) {
        try {
          await built.stop(reason);
        } finally {
          if (ownDir) rmSync(stateDir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    if (ownDir) rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
}

/** Advance station time in 50 ms steps, giving the sockets real time between them, until fn holds. */
export async function until(st: TestStation, what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (fn()) return;
    await st.clock.advance(50);
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}
