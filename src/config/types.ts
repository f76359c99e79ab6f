/**
 * The shape of config/station.json after validation and defaults (src/config/defaults.ts holds the
 * defaults, config/station.schema.json the rules). Each section belongs to one part of the daemon.
 */
export type OcppVersionChoice = '1.6' | '2.0.1' | 'auto';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface StationIdentityConfig {
  /** Charge point identity: the last path segment of the CSMS URL. */
  identity: string;
  vendor: string;
  model: string;
  serialNumber?: string;
  firmwareVersion: string;
}

export interface OcppConfig {
  version: OcppVersionChoice;
  /** ws:// or wss:// URL without the identity (it is appended). */
  csmsUrl: string;
  /** 0 plain ws (warned), 1 basic auth, 2 TLS + basic auth, 3 mutual TLS. */
  securityProfile: 0 | 1 | 2 | 3;
  /** Basic-auth password (profiles 1, 2). Never logged. */
  password?: string;
  /**
   * How the password goes into the Authorization header: 'text' as written (2.0.1 A00.FR.304, and what
   * most 1.6 CSMSs expect), or 'hex' — the password is the hex form of a binary key that is sent as
   * raw bytes (1.6 AuthorizationKey as OCPP-J 1.6 §6 reads it). Default 'text'.
   */
  passwordEncoding?: 'text' | 'hex';
  /** PEM CA bundle to verify the CSMS (profiles 2, 3); system CAs when absent. */
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  callTimeoutS: number;
  pingIntervalS: number;
  /**
   * Largest frame read from the CSMS, in bytes. Larger frames are refused (a CALL answered with
   * CALLERROR FormatViolation); ws stops reading one at 4 × this and closes with 1009.
   */
  maxFrameBytes: number;
  reconnect: { minDelayS: number; maxDelayS: number };
  messageLog: { enabled: boolean; maxBytes: number; files: number };
  outbox: { retryAttempts: number; retryIntervalS: number };
  /** 1.6 configuration keys seeded the first time only (then SQLite owns them). */
  v16: { configuration: Record<string, string> };
  /** 2.0.1 device-model values seeded the first time only: "Component[/instance][@evseId].Variable": value. */
  v201: { variables: Record<string, string> };
}

export interface HalConfig {
  /** Board profile name (config/boards/NAME.json) or a path to a profile file. */
  board: string;
  /** Overrides merged over the profile (e.g. a different serial port). */
  overrides?: Record<string, unknown>;
}

export interface ScenarioStep {
  /** Seconds after the previous step. */
  afterS: number;
  action: 'plug' | 'unplug' | 'tap' | 'ev-ready' | 'ev-pause' | 'fault' | 'clear-fault';
  evse?: number;
  idToken?: string;
  fault?: string;
}

/** The local HTTP server (src/http): status page, JSON status API, Prometheus metrics, sim controls. */
export interface HttpConfig {
  enabled: boolean;
  /** Listen address; anything but loopback needs `token`. */
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Serve the control endpoints (simulated board); they need `token`. */
  control: boolean;
  /** Bearer token of the control endpoints (and of every request on a non-loopback address). A secret. */
  token?: string;
}

export interface StationConfig {
  station: StationIdentityConfig;
  ocpp: OcppConfig;
  hal: HalConfig;
  /** State directory: SQLite database, message log, control socket, certificates. */
  stateDir: string;
  log: { level: LogLevel };
  /** Always present after loadConfig (defaults); a config built by hand may leave it out: no HTTP server. */
  http?: HttpConfig;
  /** Scripted simulated-board scenarios for demos, run at start when named in runScenario. */
  scenarios: Record<string, ScenarioStep[]>;
  runScenario?: string;
  /** Firmware updates and diagnostics the CSMS asks for (src/ocpp/firmware.ts). */
  maintenance?: MaintenanceConfig;
}

export interface MaintenanceConfig {
  /**
   * Shell command that installs a downloaded firmware file, run with the file path as "$1" (and in
   * FIRMWARE_FILE); exit code 0 = installed, then the station restarts once idle. Absent: every firmware
   * update ends InstallationFailed (the daemon never replaces itself).
   */
  firmwareInstallCommand?: string;
  /** Largest firmware download accepted, in bytes (default 256 MiB). */
  firmwareMaxBytes?: number;
}
