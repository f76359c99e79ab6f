/**
 * The standard OCPP 1.6 configuration keys this station supports (spec chapter 9, errata 3.83 / 3.91):
 * Core, Firmware Management, Local Auth List Management, Reservation, Remote Trigger and Smart
 * Charging. Each key has a type, an access mode, a check of the value and a default. Firmware Management
 * has no keys of its own (spec 9.2).
 */
import { DEFAULT_PROFILE_LIMITS } from '../../station/smart-charging.js';
import { parseMeasurand, splitCsl } from './measurands.js';
import { SECURITY_KEYS } from './security-keys.js';
import { CALIFORNIA_KEYS } from './california-pricing.js';

export type KeyType = 'boolean' | 'integer' | 'csl' | 'string';

export interface KeyContext {
  /** 1.6 connector ids (= EVSE ids on this station). */
  connectorIds: number[];
  /** Every connector's board can switch it from 3 phases to 1 (ConnectorSwitch3to1PhaseSupported). */
  phaseSwitch?: boolean;
  heartbeatIntervalS: number;
  pingIntervalS: number;
  callTimeoutS: number;
  retryAttempts: number;
  retryIntervalS: number;
  /** Security whitepaper keys (security.ts): the configured profile and how the password is sent. */
  securityProfile?: number;
  passwordEncoding?: 'text' | 'hex';
}

export interface KeyDef {
  key: string;
  type: KeyType;
  readonly: boolean;
  default: (ctx: KeyContext) => string;
  min?: number;
  max?: number;
  /** CSL: check one item. */
  item?: (item: string, ctx: KeyContext) => boolean;
  /** CSL: the key holding the maximum number of items (spec 5.3: assume 1 when absent). */
  maxLengthKey?: string;
  /** Stored at once but effective only after a restart (ChangeConfiguration → RebootRequired). */
  rebootRequired?: boolean;
  /** Never read back (GetConfiguration gives the key without a value): the AuthorizationKey. */
  writeOnly?: boolean;
  /** Read-only and derived from the station every start (never a stored or seeded value). */
  fact?: boolean;
  /** string: check the value. */
  check?: (value: string, ctx: KeyContext) => boolean;
}

const PHASE_ROTATIONS = ['NotApplicable', 'Unknown', 'RST', 'RTS', 'SRT', 'STR', 'TRS', 'TSR'];
const MAX_MEASURANDS = 10;

const bool = (key: string, def: boolean, readonly = false): KeyDef => ({
  key,
  type: 'boolean',
  readonly,
  default: () => String(def),
});
const int = (key: string, def: number | ((c: KeyContext) => number), min = 0, max = 2_147_483_647, readonly = false): KeyDef => ({
  key,
  type: 'integer',
  readonly,
  default: (c) => String(typeof def === 'function' ? def(c) : def),
  min,
  max,
});
const readonlyInt = (key: string, def: number | ((c: KeyContext) => number)): KeyDef => int(key, def, 0, 2_147_483_647, true);
const measurands = (key: string, def: string): KeyDef => ({
  key,
  type: 'csl',
  readonly: false,
  default: () => def,
  item: (i) => parseMeasurand(i) !== undefined,
  maxLengthKey: `${key}MaxLength`,
});

export const KEY_DEFS: readonly KeyDef[] = [
  // Core (9.1)
  bool('AllowOfflineTxForUnknownId', false),
  bool('AuthorizationCacheEnabled', true),
  bool('AuthorizeRemoteTxRequests', false),
  int('ClockAlignedDataInterval', 0, 0, 86_400),
  int('ConnectionTimeOut', 60, 1, 3_600),
  {
    key: 'ConnectorPhaseRotation',
    type: 'csl',
    readonly: false,
    default: (c) => c.connectorIds.map((id) => `${id}.Unknown`).join(','),
    item: (i, c) => {
      const m = /^(\d+)\.(\w+)$/.exec(i);
      return !!m && PHASE_ROTATIONS.includes(m[2]!) && (Number(m[1]) === 0 || c.connectorIds.includes(Number(m[1])));
    },
    maxLengthKey: 'ConnectorPhaseRotationMaxLength',
  },
  readonlyInt('ConnectorPhaseRotationMaxLength', (c) => c.connectorIds.length + 1),
  readonlyInt('GetConfigurationMaxKeys', 100),
  int('HeartbeatInterval', (c) => c.heartbeatIntervalS, 0, 604_800),
  bool('LocalAuthorizeOffline', true),
  bool('LocalPreAuthorize', false),
  // Optional (9.1.14): Wh an invalidated idTag may still take; 0 = none (energy stops at once). invalid-id.ts
  int('MaxEnergyOnInvalidId', 0, 0, 1_000_000),
  measurands('MeterValuesAlignedData', 'Energy.Active.Import.Register'),
  readonlyInt('MeterValuesAlignedDataMaxLength', MAX_MEASURANDS),
  measurands('MeterValuesSampledData', 'Energy.Active.Import.Register'),
  readonlyInt('MeterValuesSampledDataMaxLength', MAX_MEASURANDS),
  int('MeterValueSampleInterval', 60, 0, 86_400),
  int('MinimumStatusDuration', 0, 0, 3_600),
  readonlyInt('NumberOfConnectors', (c) => c.connectorIds.length),
  int('ResetRetries', 1, 0, 10),
  bool('StopTransactionOnEVSideDisconnect', true),
  bool('StopTransactionOnInvalidId', true),
  measurands('StopTxnAlignedData', ''),
  readonlyInt('StopTxnAlignedDataMaxLength', MAX_MEASURANDS),
  measurands('StopTxnSampledData', ''),
  readonlyInt('StopTxnSampledDataMaxLength', MAX_MEASURANDS),
  readonlyInt('StopTransactionMaxMeterValues', 200),
  { key: 'SupportedFeatureProfiles', type: 'csl', readonly: true, default: () => 'Core,FirmwareManagement,LocalAuthListManagement,Reservation,RemoteTrigger,SmartCharging' },
  // The link reads these when it is created, so a change takes effect at the next start (the retry
  // policy applies at once when the link offers setRetryPolicy).
  { ...int('TransactionMessageAttempts', (c) => c.retryAttempts, 1, 100), rebootRequired: true },
  { ...int('TransactionMessageRetryInterval', (c) => c.retryIntervalS, 1, 86_400), rebootRequired: true },
  bool('UnlockConnectorOnEVSideDisconnect', true),
  { ...int('WebSocketPingInterval', (c) => c.pingIntervalS, 0, 86_400), rebootRequired: true },
  { ...int('MessageTimeout', (c) => c.callTimeoutS, 1, 600), rebootRequired: true },
  // Smart Charging (9.4): what the station's profile store takes (station/smart-charging.ts); read-only.
  readonlyInt('ChargeProfileMaxStackLevel', DEFAULT_PROFILE_LIMITS.maxStackLevel),
  { key: 'ChargingScheduleAllowedChargingRateUnit', type: 'csl', readonly: true, default: () => 'Current,Power' },
  readonlyInt('ChargingScheduleMaxPeriods', DEFAULT_PROFILE_LIMITS.maxPeriods),
  readonlyInt('MaxChargingProfilesInstalled', DEFAULT_PROFILE_LIMITS.maxProfiles),
  // 9.4.4: a fact of the board (a phase-switch relay on every connector), not a setting.
  { key: 'ConnectorSwitch3to1PhaseSupported', type: 'boolean', readonly: true, fact: true, default: (c) => String(c.phaseSwitch === true) },
  // Local Auth List Management (9.2)
  bool('LocalAuthListEnabled', true),
  readonlyInt('LocalAuthListMaxLength', 10_000),
  readonlyInt('SendLocalListMaxLength', 1_000),
  // Reservation (9.3)
  bool('ReserveConnectorZeroSupported', true, true),
  // Security whitepaper edition 3 (7.2, 7.6); behaviour in security.ts
  ...SECURITY_KEYS,
  // OCA "OCPP & California Pricing Requirements" (california-pricing.ts)
  ...CALIFORNIA_KEYS,
];

const BY_NAME = new Map(KEY_DEFS.map((d) => [d.key.toLowerCase(), d]));

/** Key names are CiString: compare case-insensitively, answer with the canonical spelling. */
export function keyDef(name: string): KeyDef | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/**
 * Check a value for a key. Returns the normalised value to store, or undefined when it is out of range
 * or malformed (ChangeConfiguration → Rejected, spec 5.3). maxItems is the value of the MaxLength key.
 */
export function normaliseValue(def: KeyDef, raw: string, ctx: KeyContext, maxItems: number): string | undefined {
  const v = raw.trim();
  switch (def.type) {
    case 'boolean': {
      const l = v.toLowerCase();
      return l === 'true' || l === 'false' ? l : undefined;
    }
    case 'integer': {
      if (!/^[+-]?\d+$/.test(v)) return undefined;
      const n = Number(v);
      if (!Number.isSafeInteger(n) || (def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) return undefined;
      return String(n);
    }
    case 'string':
      return def.check && !def.check(v, ctx) ? undefined : v;
    case 'csl': {
      const items = splitCsl(v);
      if (items.length > maxItems) return undefined;
      if (def.item && !items.every((i) => def.item!(i, ctx))) return undefined;
      if (new Set(items).size !== items.length) return undefined;
      return items.join(',');
    }
  }
}
