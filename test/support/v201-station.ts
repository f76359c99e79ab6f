/**
 * A whole 2.0.1 station for integration tests: the simulated board on a VirtualClock, the real Station,
 * the real OCPP-J link and the 2.0.1 adapter, talking to the in-process strict CSMS (ocpp2.0.1 only, so
 * every frame is checked against the official schemas). restart() cuts the power and builds everything
 * again on the same database, as the next boot of a real station would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../hal/clock.js';
import { createHal } from '../../hal/index.js';
import type { SimEvOptions } from '../../hal/profile.js';
import type { Hal, SimControl } from '../../hal/types.js';
import type { StationConfig } from '../../src/config/types.js';
import { Station } from '../../src/station/station.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { createLink, type RpcLink } from '../../src/ocpp/rpc-link.js';
import { V201Adapter } from '../../src/ocpp/v201/index.js';
import { startCsms, type Csms, type CsmsLogEntry } from './csms.js';
import { ocppConfig } from './ocpp-link.js';
import { simProfile, memoryLog } from './sim-board.js';

export const IDENTITY = 'CP-V201';

export function v201Config(csmsUrl: string, variables: Record<string, string> = {}): StationConfig {
  return {
    station: { identity: IDENTITY, vendor: 'OpenStation', model: 'SimBoard', serialNumber: 'SN-0201', firmwareVersion: '0.1.0' },
    ocpp: { ...ocppConfig({ csmsUrl, version: '2.0.1' }), v201: { variables } },
    hal: { board: 'sim' },
    stateDir: '/tmp/v201-test',
    log: { level: 'error' },
    scenarios: {},
  };
}

export interface V201StationOptions {
  evses?: number;
  /** config.ocpp.v201.variables (seeds, first start only). */
  variables?: Record<string, string>;
  ev?: SimEvOptions;
  /** Use this CSMS instead of starting one (it is not closed by close()). */
  csms?: Csms;
}

interface Parts {
  db: Db;
  hal: Hal;
  sim: SimControl;
  station: Station;
  link: RpcLink;
  adapter: V201Adapter;
}

export interface V201Station extends Parts {
  csms: Csms;
  clock: VirtualClock;
  log: ReturnType<typeof memoryLog>;
  /** CALL actions the CSMS received from this station, in order. */
  actions(): string[];
  /** Incoming CALLs of one action, params only. */
  calls<T = Record<string, unknown>>(action: string): T[];
  /** CSMS → station CALL. */
  call<T = Record<string, unknown>>(action: string, params: unknown): Promise<T>;
  /** Advance virtual time in steps while the sockets work, until fn holds. */
  until(what: string, fn: () => boolean, maxSteps?: number): Promise<void>;
  /** Advance virtual time by ms in steps of at most 1 s, letting socket I/O run between steps. */
  run(ms: number): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startV201Station(opts: V201StationOptions = {}): Promise<V201Station> {
  const ownCsms = !opts.csms;
  const csms = opts.csms ?? (await startCsms({ protocols: ['ocpp2.0.1'] }));
  const clock = new VirtualClock();
  const log = memoryLog();
  const dir = mkdtempSync(join(tmpdir(), 'v201-station-'));
  const dbPath = join(dir, 'station.db');
  const config = v201Config(csms.url, opts.variables);

  const build = async (): Promise<Parts> => {
    const db = openDatabase(dbPath);
    const hal = await createHal(simProfile(opts.ev ?? {}, opts.evses ?? 1, 3), { clock, log });
    if (!hal.sim) throw new Error('no simulated board');
    const station = new Station({ hal, db, clock, log });
    const link = createLink({ ocpp: config.ocpp, identity: IDENTITY }, { db, clock, log, random: () => 0 });
    const adapter = new V201Adapter({ link, station, db, clock, log, config });
    // The adapter listens before the station starts, so it sees the sessions a power cut left open.
    await adapter.start();
    await station.start();
    await link.start();
    return { db, hal, sim: hal.sim, station, link, adapter };
  };

  let parts = await build();
  const incoming = (): CsmsLogEntry[] =>
    csms.log.filter((e) => e.identity === IDENTITY && e.direction === 'in' && e.type === 'call');

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

  const self: V201Station = {
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
    clock,
    log,
    actions: () => incoming().map((e) => e.action ?? ''),
    calls: <T>(action: string) => incoming().filter((e) => e.action === action).map((e) => e.payload as T),
    call: <T>(action: string, params: unknown) => {
      // The CSMS call resolves on socket I/O while virtual time stands still; keep it moving a little.
      const p = csms.call<T>(IDENTITY, action, params);
      let done = false;
      void p.then(
        () => (done = true),
        () => (done = true),
      );
      return (async () => {
        for (let i = 0; i < 200 && !done; i++) await step(0);
        return p;
      })();
    },
    async until(what, fn, maxSteps = 600) {
      for (let i = 0; i < maxSteps; i++) {
        if (fn()) return;
        await step(50);
      }
      throw new Error(`timed out waiting for ${what}; the CSMS saw: ${self.actions().join(', ')}`);
    },
    async run(ms) {
      let left = ms;
      while (left > 0) {
        const d = Math.min(1000, left);
        await step(d);
        left -= d;
      }
      await step(0);
    },
    async restart() {
      await teardown(false);
      parts = await build();
    },
    async close() {
      try {
        await teardown(true);
      } finally {
        if (ownCsms) await csms.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return self;
}
