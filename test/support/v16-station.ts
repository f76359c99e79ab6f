/**
 * A whole 1.6 station for integration tests: the simulated board on a VirtualClock, the real Station,
 * the real OCPP-J link and the 1.6 adapter, talking to the in-process strict CSMS. restart() cuts the
 * power (nothing is ended gracefully) and builds everything again on the same database, as the next
 * boot of a real station would.
 */
import type { BoardProfile, SimEvOptions } from '../../hal/profile.js';
import { createV16AdapterWithExtras, type V16Adapter } from '../../src/ocpp/v16/index.js';
import { startCsms, type Csms } from './csms.js';
import { ocppConfig } from './ocpp-link.js';
import { simProfile } from './sim-board.js';
import { testConfig } from './v16-fakes.js';
import { startWiredStation, type WiredStation } from './wired-station.js';

export const IDENTITY = 'CP-V16';

export interface V16StationOptions {
  evses?: number;
  /** config.ocpp.v16.configuration (seeds, first start only). */
  v16?: Record<string, string>;
  ev?: SimEvOptions;
  /** Changes to the simulated board profile (e.g. a phase switch). */
  board?: (p: BoardProfile) => BoardProfile;
  /** Runs on the CSMS before the station first connects (e.g. setHandler('BootNotification', ...)). */
  csmsSetup?: (csms: Csms) => void;
}

export type V16Station = WiredStation<V16Adapter>;

export async function startV16Station(opts: V16StationOptions = {}): Promise<V16Station> {
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  opts.csmsSetup?.(csms);
  return startWiredStation({
    csms,
    ownCsms: true,
    identity: IDENTITY,
    dirPrefix: 'v16-station-',
    config: () => testConfig({ v16: opts.v16 ?? {}, csmsUrl: csms.url }),
    linkOcpp: ocppConfig({ csmsUrl: csms.url }),
    profile: () => (opts.board ?? ((p: BoardProfile): BoardProfile => p))(simProfile(opts.ev ?? {}, opts.evses ?? 1, 3)),
    adapter: createV16AdapterWithExtras,
    socketMs: 2,
    untilStepMs: 50,
    untilMaxSteps: 600,
    freshClockOnRestart: true,
    gracefulClose: true,
  });
}
