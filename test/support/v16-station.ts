/**
 * A whole 1.6 station for integration tests: the simulated board on a VirtualClock, the real Station,
 * the real OCPP-J link and the 1.6 adapter, talking to the in-process strict CSMS. restart() cuts the
 * power (nothing is ended gracefully) and builds everything again on the same database, as the next
 * boot of a real station would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../hal/clock.js';
import { createHal } from '../../hal/index.js';
import type { SimEvOptions } from '../../hal/profile.js';
import type { Hal, SimControl } from '../../hal/types.js';
import { Station } from '../../src/station/station.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { createLink, type RpcLink } from '../../src/ocpp/rpc-link.js';
import { createV16AdapterWithExtras, type V16Adapter } from '../../src/ocpp/v16/index.js';
import { startCsms, type Csms, type CsmsLogEntry } from './csms.js';
import { ocppConfig } from './ocpp-link.js';
import { simProfile, memoryLog } from './sim-board.js';
import { testConfig } from './v16-fakes.js';

export const IDENTITY = 'CP-V16';

export interface V16StationOptions {
  evses?: number;
  /** config.ocpp.v16.configuration (seeds, first start only). */
  v16?: Record<string, string>;
  ev?: SimEvOptions;
  /** Runs on the CSMS before the station first connects (e.g. setHandler('BootNotification', ...)). */
  csmsSetup?: (csms: Csms) => void;
}

interface Parts {
  db: Db;
  hal: Hal;
  sim: SimControl;
  station: Station;
  link: RpcLink;
  adapter: V16Adapter;
}

export interface V16Station extends Parts {
  csms: Csms;
  clock: VirtualClock;
  log: ReturnType<typeof memoryLog>;
  /** CALL actions the CSMS received from this station, in order. */
  actions(): string[];
  /** Incoming CALLs of one action, params only. */
  calls<T = Record<string, unknown>>(action: string): T[];
  /** Advance virtual time in steps while the sockets work, until fn holds. */
  until(what: string, fn: () => boolean, maxSteps?: number): Promise<void>;
  /** Advance virtual time by ms in steps (default at most 1 s), letting socket I/O run between steps. */
  run(ms: number, stepMs?: number): Promise<void>;
  /** Power cut and boot again on the same database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startV16Station(opts: V16StationOptions = {}): Promise<V16Station> {
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  opts.csmsSetup?.(csms);
  let clock = new VirtualClock();
  const log = memoryLog();
  const dir = mkdtempSync(join(tmpdir(), 'v16-station-'));
  const dbPath = join(dir, 'station.db');
  const config = testConfig({ v16: opts.v16 ?? {}, csmsUrl: csms.url });

  const build = async (): Promise<Parts> => {
    const db = openDatabase(dbPath);
    const hal = await createHal(simProfile(opts.ev ?? {}, opts.evses ?? 1, 3), { clock, log });
    if (!hal.sim) throw new Error('no simulated board');
    const station = new Station({ hal, db, clock, log });
    const link = createLink({ ocpp: ocppConfig({ csmsUrl: csms.url }), identity: IDENTITY }, { db, clock, log, random: () => 0 });
    const adapter = createV16AdapterWithExtras({ link, station, db, clock, log, config });
    // The adapter listens before the station starts, so it sees the sessions a power cut left open.
    await adapter.start();
    await station.start();
    await link.start();
    return { db, hal, sim: hal.sim, station, link, adapter };
  };

  let parts = await build();
  const incoming = (): CsmsLogEntry[] => csms.log.filter((e) => e.identity === IDENTITY && e.direction === 'in' && e.type === 'call');

  const teardown = async (graceful: boolean): Promise<void> => {
    const p = parts;
    await p.adapter.stop();
    if (graceful) await p.station.stop('Other');
    await p.link.stop();
    await p.hal.close();
    p.db.close();
  };

  const step = async (ms: number): Promise<void> => {
    await clock.advance(ms);
    await new Promise((res) => setTimeout(res, 2));
  };

  const self: V16Station = {
    get db() {
      return parts.db;
    },
    get hal() {
      return parts.hal;
    },
    get sim() {
      return parts.sim;
    },
    get station() {
      return parts.station;
    },
    get link() {
      return parts.link;
    },
    get adapter() {
      return parts.adapter;
    },
    csms,
    get clock() {
      return clock;
    },
    log,
    actions: () => incoming().map((e) => e.action ?? ''),
    calls: <T>(action: string) => incoming().filter((e) => e.action === action).map((e) => e.payload as T),
    async until(what, fn, maxSteps = 600) {
      for (let i = 0; i < maxSteps; i++) {
        if (fn()) return;
        await step(50);
      }
      throw new Error(`timed out waiting for ${what}; the CSMS saw: ${self.actions().join(', ')}`);
    },
    async run(ms, stepMs = 1000) {
      let left = ms;
      while (left > 0) {
        const d = Math.min(stepMs, left);
        await step(d);
        left -= d;
      }
      await step(0);
    },
    async restart() {
      await teardown(false);
      // A new clock from the same instant: the timers of the dead process die with the old one.
      clock = new VirtualClock(clock.now());
      parts = await build();
    },
    async close() {
      try {
        await teardown(true);
      } finally {
        await csms.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return self;
}
