/**
 * A whole station (simulated board on a VirtualClock, real Station, real link, one OCPP adapter) whose
 * connection settings a test chooses: TLS, CA file, security profile and password. The security tests
 * of both versions use it; restart() builds everything again on the same database.
 */
import type { OcppConfig, StationConfig } from '../../src/config/types.js';
import type { AdapterFactory, OcppAdapter } from '../../src/ocpp/adapter.js';
import type { Csms } from './csms.js';
import { simProfile } from './sim-board.js';
import { startWiredStation, type WiredStation } from './wired-station.js';

export interface SecureStationOptions {
  csms: Csms;
  identity: string;
  version: '1.6' | '2.0.1';
  adapter: AdapterFactory;
  /** Connection settings over a bench default (fast reconnects, 3 attempts 1 s apart). */
  ocpp: Partial<OcppConfig>;
}

export type SecureStation = WiredStation<OcppAdapter>;

export function startSecureStation(o: SecureStationOptions): Promise<SecureStation> {
  const config = (dir: string): StationConfig => ({
    station: { identity: o.identity, vendor: 'OpenStation', model: 'SimBoard', serialNumber: 'SN-SEC', firmwareVersion: '0.1.0' },
    ocpp: {
      version: o.version,
      csmsUrl: o.csms.url,
      securityProfile: 0,
      callTimeoutS: 5,
      pingIntervalS: 0,
      maxFrameBytes: 1024 * 1024,
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
  });
  return startWiredStation({
    csms: o.csms,
    ownCsms: false,
    identity: o.identity,
    dirPrefix: 'secure-station-',
    config,
    profile: () => simProfile({}, 1, 3),
    adapter: o.adapter,
    // Real time for sockets and TLS handshakes while virtual time stands still.
    socketMs: 5,
    untilStepMs: 100,
    untilMaxSteps: 800,
    freshClockOnRestart: false,
    // The security tests never stop the station gracefully: close() goes down as restart() does.
    gracefulClose: false,
  });
}
