/**
 * The wiring the whole-station fixtures share (v16-station, v201-station, secure-station): the
 * simulated board on a VirtualClock, the real Station, the real OCPP-J link and one adapter, on a
 * database in a temporary directory, talking to the in-process CSMS. restart() cuts the power (nothing
 * is ended gracefully) and builds everything again on the same database, as the next boot of a real
 * station would. The fixtures differ only in the options below.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../base/clock.js';
import { createHal } from '../../hal/index.js';
import type { BoardProfile } from '../../hal/profile.js';
import type { Hal, SimControl } from '../../hal/types.js';
import type { OcppConfig, StationConfig } from '../../src/config/types.js';
import type { AdapterDeps, OcppAdapter } from '../../src/ocpp/adapter.js';
import { createLink, type RpcLink } from '../../src/ocpp/rpc-link.js';
import { Station } from '../../src/station/station.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import type { Csms, CsmsLogEntry } from './csms.js';
import { memoryLog } from './sim-board.js';

export interface WiredOptions<A extends OcppAdapter> {
  csms: Csms;
  /** close() closes the CSMS too. */
  ownCsms: boolean;
  identity: string;
  /** Name prefix of the temporary state directory. */
  dirPrefix: string;
  config: (stateDir: string) => StationConfig;
  /** What the link connects with; default config.ocpp. */
  linkOcpp?: OcppConfig;
  /** Called on every build, as each boot reads its board anew. */
  profile: () => BoardProfile;
  adapter: (deps: AdapterDeps) => A;
  /** Real ms each step gives the sockets while virtual time stands still. */
  socketMs: number;
  /** Virtual ms per step of until(), and its default number of steps. */
  untilStepMs: number;
  untilMaxSteps: number;
  /** restart() starts a new clock from the same instant: the timers of the dead process die with the old one. */
  freshClockOnRestart: boolean;
  /** close() stops the station gracefully before the rest, else it goes down as on restart(). */
  gracefulClose: boolean;
}

interface Parts<A> {
  db: Db;
  hal: Hal;
  sim: SimControl;
  station: Station;
  link: RpcLink;
  adapter: A;
}

export interface WiredStation<A extends OcppAdapter> extends Parts<A> {
  csms: Csms;
  clock: VirtualClock;
  log: ReturnType<typeof memoryLog>;
  config: StationConfig;
  /** CALL actions the CSMS received from this station, in order. */
  actions(): string[];
  /** Incoming CALLs of one action, params only. */
  calls<T = Record<string, unknown>>(action: string): T[];
  /** Advance virtual time by ms, then give the sockets a little real time. */
  step(ms: number): Promise<void>;
  /** Advance virtual time in steps while the sockets work, until fn holds. */
  until(what: string, fn: () => boolean, maxSteps?: number): Promise<void>;
  /** Advance virtual time by ms in steps (default at most 1 s), letting socket I/O run between steps. */
  run(ms: number, stepMs?: number): Promise<void>;
  /** Power cut and boot again on the same database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startWiredStation<A extends OcppAdapter>(o: WiredOptions<A>): Promise<WiredStation<A>> {
  const { csms, identity } = o;
  let clock = new VirtualClock();
  const log = memoryLog();
  const dir = mkdtempSync(join(tmpdir(), o.dirPrefix));
  const dbPath = join(dir, 'station.db');
  const config = o.config(dir);

  const build = async (): Promise<Parts<A>> => {
    const db = openDatabase(dbPath);
    const hal = await createHal(o.profile(), { clock, log });
    if (!hal.sim) throw new Error('no simulated board');
    const station = new Station({ hal, db, clock, log });
    const link = createLink({ ocpp: o.linkOcpp ?? config.ocpp, identity }, { db, clock, log, random: () => 0 });
    const adapter = o.adapter({ link, station, db, clock, log, config });
    // The adapter listens before the station starts, so it sees the sessions a power cut left open.
    await adapter.start();
    await station.start();
    await link.start();
    return { db, hal, sim: hal.sim, station, link, adapter };
  };

  let parts = await build();
  const incoming = (): CsmsLogEntry[] => csms.log.filter((e) => e.identity === identity && e.direction === 'in' && e.type === 'call');

  const teardown = async (graceful: boolean): Promise<void> => {
    const p = parts;
    await p.adapter.stop();
    if (graceful) await p.station.stop('Other');
    await p.link.stop();
    await p.hal.close();
    p.db.close();
  };

  const self: WiredStation<A> = {
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
    config,
    actions: () => incoming().map((e) => e.action ?? ''),
    calls: <T>(action: string) => incoming().filter((e) => e.action === action).map((e) => e.payload as T),
    async step(ms) {
      await clock.advance(ms);
      await new Promise((res) => setTimeout(res, o.socketMs));
    },
    async until(what, fn, maxSteps = o.untilMaxSteps) {
      for (let i = 0; i < maxSteps; i++) {
        if (fn()) return;
        await self.step(o.untilStepMs);
      }
      throw new Error(`timed out waiting for ${what}; the CSMS saw: ${self.actions().join(', ')}`);
    },
    async run(ms, stepMs = 1000) {
      let left = ms;
      while (left > 0) {
        const d = Math.min(stepMs, left);
        await self.step(d);
        left -= d;
      }
      await self.step(0);
    },
    async restart() {
      await teardown(false);
      if (o.freshClockOnRestart) clock = new VirtualClock(clock.now());
      parts = await build();
    },
    async close() {
      try {
        await teardown(o.gracefulClose);
      } finally {
        if (o.ownCsms) await csms.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return self;
}
