/** A Station on a FakeHal, a VirtualClock and an SQLite database, with every event recorded. */
import { VirtualClock } from '../../base/clock.js';
import type { HalFault } from '../../hal/types.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { Station } from '../../src/station/station.js';
import { CsmsUnreachableError, type AuthInfo, type AuthSettings, type ConnectorState, type CsmsGateway, type IdToken, type MeterSample, type SessionEvent } from '../../src/station/api.js';
import { FakeHal, MemoryLog, type FakeHalOptions } from './fake-hal.js';

export class FakeCsms implements CsmsGateway {
  online = true;
  /** Answer per token; tokens not listed are Invalid. */
  readonly answers = new Map<string, AuthInfo>();
  readonly calls: string[] = [];
  /** Reject every call (timeout) while true. */
  failing = false;
  /** Answer every call with this CALLERROR-like rejection while set (the CSMS answered, with an error). */
  callError: Error | undefined;

  authorize(token: IdToken): Promise<AuthInfo> {
    this.calls.push(token.idToken);
    if (!this.online || this.failing) return Promise.reject(new CsmsUnreachableError('timeout'));
    if (this.callError) return Promise.reject(this.callError);
    return Promise.resolve(this.answers.get(token.idToken) ?? { status: 'Invalid' });
  }
}

export interface Recorded {
  status: ConnectorState[];
  session: SessionEvent[];
  meter: MeterSample[];
  faults: [number, HalFault][];
  restarts: string[];
  reservationsEnded: [number, string][];
}

export interface Fixture {
  clock: VirtualClock;
  hal: FakeHal;
  db: Db;
  log: MemoryLog;
  station: Station;
  csms: FakeCsms;
  ev: Recorded;
  /** Session events of a type, in order. */
  sessionEvents(type?: SessionEvent['type']): SessionEvent[];
  lastStatus(evseId?: number): ConnectorState | undefined;
  stop(): Promise<void>;
}

export interface FixtureOptions extends FakeHalOptions {
  auth?: Partial<AuthSettings>;
  dbPath?: string;
  db?: Db;
  clock?: VirtualClock;
  start?: boolean;
  /** Runs on the fake HAL before the Station exists (faults a driver raised while it was created). */
  beforeStation?: (hal: FakeHal) => void;
}

export const tok = (id: string): IdToken => ({ idToken: id, type: 'ISO14443' });

export async function makeStation(o: FixtureOptions = {}): Promise<Fixture> {
  const clock = o.clock ?? new VirtualClock();
  const hal = new FakeHal({ ...o, now: () => clock.now() });
  const db = o.db ?? openDatabase(o.dbPath ?? ':memory:');
  const log = new MemoryLog();
  o.beforeStation?.(hal);
  const station = new Station({ hal, db, clock, log, ...(o.auth ? { auth: o.auth } : {}) });
  const csms = new FakeCsms();
  station.setCsms(csms);
  const ev: Recorded = { status: [], session: [], meter: [], faults: [], restarts: [], reservationsEnded: [] };
  station.on('status', (s) => ev.status.push(s));
  station.on('session', (e) => ev.session.push(e));
  station.on('meter', (m) => ev.meter.push(m));
  station.on('fault-raised', (id, f) => ev.faults.push([id, f]));
  station.on('restart-requested', (r) => ev.restarts.push(r));
  station.on('reservation-ended', (id, why) => ev.reservationsEnded.push([id, why]));
  if (o.start !== false) await station.start();
  return {
    clock,
    hal,
    db,
    log,
    station,
    csms,
    ev,
    sessionEvents: (type) => ev.session.filter((e) => type === undefined || e.type === type),
    lastStatus: (evseId = 1) => ev.status.filter((s) => s.evseId === evseId).at(-1),
    stop: async () => {
      await station.stop();
      if (!o.db) db.close();
    },
  };
}

/** Plug in, authorize with a token the CSMS accepts, and let the EV ask for energy: the contactor closes. */
export async function charging(f: Fixture, evseId = 1, token = 'AA11'): Promise<void> {
  f.csms.answers.set(token, { status: 'Accepted' });
  const e = f.hal.evse(evseId);
  e.pilot.setState('B');
  await f.station.presentToken(tok(token), evseId);
  e.pilot.setState('C');
  e.meter.powerW = 7000;
  await f.clock.advance(0);
  if (!e.contactor.commanded) throw new Error('fixture: contactor did not close');
}
