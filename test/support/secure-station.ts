/**
 * A whole station (simulated board on a VirtualClock, real Station, real link, one OCPP adapter) whose
 * connection settings a test chooses: TLS, CA file, security profile and password. The security tests
 * of both versions use it; restart() builds everything again on the same database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../../hal/clock.js';
import { createHal } from '../../hal/index.js';
import type { Hal } from '../../hal/types.js';
import type { OcppConfig, StationConfig } from '../../src/config/types.js';
import type { AdapterFactory, OcppAdapter } from '../../src/ocpp/adapter.js';
import { createLink, type RpcLink } from '../../src/ocpp/rpc-link.js';
import { Station } from '../../src/station/station.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import type { Csms, CsmsLogEntry } from './csms.js';
import { memoryLog, simProfile } from './sim-board.js';

export interface SecureStationOptions {
  csms: Csms;
  identity: string;
  version: '1.6' | '2.0.1';
  adapter: AdapterFactory;
  /** Connection settings over a bench default (fast reconnects, 3 attempts 1 s apart). */
  ocpp: Partial<OcppConfig>;
}

interface Parts {
  db: Db;
  hal: Hal;
  station: Station;
  link: RpcLink;
  adapter: OcppAdapter;
}

export interface SecureStation {
  readonly link: RpcLink;
  readonly adapter: OcppAdapter;
  readonly station: Station;
  readonly config: StationConfig;
  clock: VirtualClock;
  log: ReturnType<typeof memoryLog>;
  /** CALLs the CSMS received from this station. */
  actions(): string[];
  calls<T = Record<string, unknown>>(action: string): T[];
  until(what: string, fn: () => boolean, maxSteps?: number): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startSecureStation(o: SecureStationOptions): Promise<SecureStation> {
  const clock = new VirtualClock();
  const log = memoryLog();
  const dir = mkdtempSync(join(tmpdir(), 'secure-station-'));
  const dbPath = join(dir, 'station.db');
  const config: StationConfig = {
    station: { identity: o.identity, vendor: 'OpenStation', model: 'SimBoard', serialNumber: 'SN-SEC', firmwareVersion: '0.1.0' },
    ocpp: {
      version: o.version,
      csmsUrl: o.csms.url,
      securityProfile: 0,
      callTimeoutS: 5,
      pingIntervalS: 0,
      reconnect: { minDelayS: 0.5, maxDelayS: 1 },
      messageLog: { enabled: false, maxBytes: 1_000_000, files: 1 },
      outbox: { retryAttempts: 3, retryIntervalS: 1 },
      v16: { configuration: {} },
      v201: { variables: {} },
      ...o.ocpp,
    },
    hal: { board: 'sim' },
    stateDir: dir,
    log: { level: 'error' },
    scenarios: {},
  };

  const build = async (): Promise<Parts> => {
    const db = openDatabase(dbPath);
    const hal = await createHal(simProfile({}, 1, 3), { clock, log });
    const station = new Station({ hal, db, clock, log });
    const link = createLink({ ocpp: config.ocpp, identity: o.identity }, { db, clock, log, random: () => 0 });
    const adapter = o.adapter({ link, station, db, clock, log, config });
    await adapter.start();
    await station.start();
    await link.start();
    return { db, hal, station, link, adapter };
  };
  let parts = await build();
  const teardown = async (): Promise<void> => {
    await parts.adapter.stop();
    await parts.link.stop();
    await parts.hal.close();
    parts.db.close();
  };
  const incoming = (): CsmsLogEntry[] =>
    o.csms.log.filter((e) => e.identity === o.identity && e.direction === 'in' && e.type === 'call');
  const step = async (ms: number): Promise<void> => {
    await clock.advance(ms);
    // Real time for sockets and TLS handshakes while virtual time stands still.
    await new Promise((res) => setTimeout(res, 5));
  };
  const self: SecureStation = {
    get link() {
      return parts.link;
    },
    get adapter() {
      return parts.adapter;
    },
    get station() {
      return parts.station;
    },
    config,
    clock,
    log,
    actions: () => incoming().map((e) => e.action ?? ''),
    calls: <T>(action: string) => incoming().filter((e) => e.action === action).map((e) => e.payload as T),
    async until(what, fn, maxSteps = 800) {
      for (let i = 0; i < maxSteps; i++) {
        if (fn()) return;
        await step(100);
      }
      throw new Error(`timed out waiting for ${what}; the CSMS saw: ${self.actions().join(', ')}`);
    },
    async restart() {
      await teardown();
      parts = await build();
    },
    async close() {
      try {
        await teardown();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return self;
}
