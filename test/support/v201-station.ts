/**
 * A whole 2.0.1 station for integration tests: the simulated board on a VirtualClock, the real Station,
 * the real OCPP-J link and the 2.0.1 adapter, talking to the in-process strict CSMS (ocpp2.0.1 only, so
 * every frame is checked against the official schemas). restart() cuts the power and builds everything
 * again on the same database, as the next boot of a real station would.
 */
import type { Clock } from '../../base/clock.js';
import type { BoardProfile, SimEvOptions } from '../../hal/profile.js';
import type { StationConfig } from '../../src/config/types.js';
import { V201Adapter } from '../../src/ocpp/v201/index.js';
import { startCsms, type Csms } from './csms.js';
import { ocppConfig } from './ocpp-link.js';
import { simProfile } from './sim-board.js';
import { startWiredStation, type WiredStation } from './wired-station.js';

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
  /** Changes to the simulated board profile (e.g. a phase switch). */
  board?: (p: BoardProfile) => BoardProfile;
  /** Use this CSMS instead of starting one (it is not closed by close()). */
  csms?: Csms;
  /** How far the fixture's own CSMS clock is ahead of the station's (default 0: the same clock). */
  csmsClockOffsetMs?: number;
}

export interface V201Station extends WiredStation<V201Adapter> {
  /** CSMS → station CALL. */
  call<T = Record<string, unknown>>(action: string, params: unknown): Promise<T>;
}

export async function startV201Station(opts: V201StationOptions = {}): Promise<V201Station> {
  const csms = opts.csms ?? (await startCsms({ protocols: ['ocpp2.0.1'] }));
  // The station applies the CSMS's clock (B01.FR.06), and these tests reckon CSMS-side times (validity,
  // expiry, schedules) from the station's virtual clock: the fixture's own CSMS keeps that same clock.
  // A test that brings its CSMS answers with the times it chooses.
  let stationClock: Clock | undefined;
  if (!opts.csms) {
    const now = (): string => new Date((stationClock?.now() ?? Date.now()) + (opts.csmsClockOffsetMs ?? 0)).toISOString();
    csms.setHandler('BootNotification', () => ({ status: 'Accepted', currentTime: now(), interval: 300 }));
    csms.setHandler('Heartbeat', () => ({ currentTime: now() }));
  }
  const st = await startWiredStation({
    csms,
    ownCsms: !opts.csms,
    identity: IDENTITY,
    dirPrefix: 'v201-station-',
    config: () => v201Config(csms.url, opts.variables),
    profile: () => (opts.board ?? ((p: BoardProfile): BoardProfile => p))(simProfile(opts.ev ?? {}, opts.evses ?? 1, 3)),
    adapter: (deps) => {
      stationClock = deps.clock;
      return new V201Adapter(deps);
    },
    socketMs: 2,
    untilStepMs: 50,
    untilMaxSteps: 600,
    freshClockOnRestart: false,
    gracefulClose: true,
  });
  return Object.assign(st, {
    call: <T>(action: string, params: unknown): Promise<T> => {
      // The CSMS call resolves on socket I/O while virtual time stands still; keep it moving a little.
      const p = csms.call<T>(IDENTITY, action, params);
      let done = false;
      void p.then(
        () => (done = true),
        () => (done = true),
      );
      return (async () => {
        for (let i = 0; i < 200 && !done; i++) await st.step(0);
        return p;
      })();
    },
  });
}

/** A 2.0.1 station whose boot was Accepted and that has reported the status of each EVSE. */
export async function bootedV201Station(opts: V201StationOptions = {}): Promise<V201Station> {
  const s = await startV201Station(opts);
  await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
  await s.until('status', () => s.calls('StatusNotification').length === (opts.evses ?? 1));
  return s;
}

/** The usual start: plug in EVSE 1, tap the card the test CSMS accepts, the EV asks for energy; until the first TransactionEvent went out. */
export async function startCharging(s: V201Station): Promise<void> {
  s.sim.plug(1);
  s.sim.tap('04A1B2C3');
  s.sim.evReady(1);
  await s.until('Started', () => s.calls('TransactionEvent').length >= 1);
}
