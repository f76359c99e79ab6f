/**
 * What the HTTP layer reads, and nothing more: the station through its public API and events, the
 * hardware parts read-only, and the OCPP link through a small status interface (src/ocpp's RpcLink
 * has this shape; src/http never imports src/ocpp). src/wiring.ts hands these in.
 */
import type { Clock } from '../../base/clock.js';
import type { EvseHal, SimControl } from '../../hal/types.js';
import type { Logger } from '../../base/logger.js';
import type { HttpConfig, StationIdentityConfig } from '../config/types.js';
import type { ConnectorState, StationApi } from '../station/api.js';

/** The link's snapshot (src/ocpp/link.ts LinkStatus has this shape). */
export interface LinkStatusView {
  protocol: string | undefined;
  connected: boolean;
  connectedSince?: number;
  lastError?: { at: number; message: string };
  nextRetryAt?: number;
  attempts: number;
  opens: number;
  outbox: { depth: number; oldestCreatedAt?: number; deadLetters: number };
}

export interface LinkView {
  /** Cheap, but it reads the outbox tables: called per request and per tick while a page is open. */
  status(): LinkStatusView;
  /** Every OCPP-J frame in and out, as text; returns the unsubscribe function. */
  onFrame(listener: (dir: 'in' | 'out', text: string) => void): () => void;
}

export interface HardwareView {
  readonly board: string;
  readonly evses: readonly EvseHal[];
  /** Present only on the simulated board: the page's controls drive it (with http.control and the token). */
  readonly sim?: SimControl;
}

export interface HttpDeps {
  config: HttpConfig;
  station: StationApi;
  hal: HardwareView;
  link: LinkView;
  clock: Clock;
  log: Logger;
  /** Station identity as configured (shown on the page). */
  identity: StationIdentityConfig;
  /** The CSMS URL with any credentials replaced (src/config/redact.ts). */
  csmsUrl: string;
  /** OCPP version as configured: 1.6, 2.0.1 or auto. */
  ocppVersion: string;
  /** The daemon's version (package.json). */
  version: string;
  /** True when the daemon runs its own development CSMS (--dev-csms). */
  devCsms?: boolean;
  /**
   * The OCPP 1.6 ChargePointErrorCode of a connector state (the status document's errorCode); the
   * mapping is the 1.6 adapter's, handed in by src/wiring.ts. Absent: NoError, or OtherError with a fault.
   */
  errorCodeOf?: (c: ConnectorState) => string;
  /** Seconds between meter reads for the chart and metrics; default 5. */
  sampleS?: number;
}
