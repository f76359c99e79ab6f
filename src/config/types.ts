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
  /**
   * retryAttempts / retryIntervalS: the retry rule for CALLERRORs (1.6 §3.7.1, 2.0.1 E13); busy answers
   * are retried after busyRetryDelayS (default 2), busyRetries times in a row (default 5) without counting.
   */
  outbox: { retryAttempts: number; retryIntervalS: number; busyRetryDelayS?: number; busyRetries?: number };
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
  /** Shape version of the file (src/config/version.ts); the loader sets it to the current one. */
  version?: number;
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
  /** Local site limit (src/station/site-limit.ts); absent: none. */
  site?: SiteConfig;
  /** Nightly database maintenance (src/store/maintenance.ts); always present after loadConfig. */
  database?: DatabaseConfig;
}

export interface DatabaseConfig {
  /** When the maintenance runs: a cron expression in local time (default "17 3 * * *"); "" never. */
  maintenanceSchedule: string;
  /** Ended and reported sessions older than this many days are pruned by it (default and most 90). */
  sessionRetentionDays: number;
}

export interface SiteConfig {
  /** Grid-connection limit in amperes per phase: the station's EVSEs plus the building's other load stay below it. */
  gridLimitA: number;
  /**
   * Meter of the building's OTHER load: everything behind the grid connection except this station (a part
   * spec like a board profile's meter: {"driver": "modbus", "model": "sdm630", "tcp": {...}, "unit": 2}, or
   * {"driver": "sim"}). Absent: gridLimitA is what the station's EVSEs share (e.g. their own feeder).
   */
  otherLoadMeter?: { driver: string; [option: string]: unknown };
  /** Seconds between meter reads and re-sharing (default 5). */
  intervalS: number;
  /** Seconds the headroom must stay higher before the EVSEs are offered more (default 30); reductions are at once. */
  increaseDelayS: number;
  /** Amperes per phase the EVSEs may share while the other-load meter does not answer (default 0: all pause). */
  meterFaultAvailableA: number;
  /** Minimum current of an EVSE; below it the EVSE pauses (default and least 6, IEC 61851). */
  minCurrentA: number;
  /** Per-EVSE minimum current, keyed by EVSE id (e.g. {"2": 10}). */
  evseMinCurrentA: Record<string, number>;
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
  /** Most retries of a firmware download / log upload, whatever the CSMS asks (default 5). */
  transferMaxRetries?: number;
  /** Shortest wait between two transfer attempts, in seconds, whatever the CSMS asks (default 10). */
  transferMinRetryIntervalS?: number;
  /** Longest wait between two transfer attempts, in seconds (default 3600). */
  transferMaxRetryIntervalS?: number;
}
