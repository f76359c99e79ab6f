/**
 * Every default of the station config, in one place. Merged under the file (and the command-line
 * overrides) before validation, so the schema can require every field and a typo never silently
 * falls back to a default.
 */
import type { StationConfig } from './types.js';
import { packageVersion } from './paths.js';

/** What a config file must provide itself: station.identity and ocpp.csmsUrl have no sensible default. */
export type DefaultedConfig = Omit<StationConfig, 'station' | 'ocpp'> & {
  station: Omit<StationConfig['station'], 'identity'>;
  ocpp: Omit<StationConfig['ocpp'], 'csmsUrl'>;
};

export function configDefaults(): DefaultedConfig {
  return {
    station: {
      vendor: 'ocpp-station',
      model: 'ocpp-station',
      firmwareVersion: packageVersion(),
    },
    ocpp: {
      version: 'auto',
      securityProfile: 0,
      callTimeoutS: 30,
      pingIntervalS: 60,
      // The largest message the station accepts by its own limits, a 1.6 SendLocalList of
      // SendLocalListMaxLength (1,000) entries, is about 150 KB (230 KB pretty-printed); a 2.0.1
      // SetChargingProfile at the schema's maximum of 3 × 1,024 periods about 200 KB: 1 MiB leaves a wide
      // margin. Only ISO 15118 sales tariffs (not supported) or bulky vendor DataTransfer need more (README).
      maxFrameBytes: 1024 * 1024,
      reconnect: { minDelayS: 2, maxDelayS: 120 },
      messageLog: { enabled: true, maxBytes: 5 * 1024 * 1024, files: 3 },
      outbox: { retryAttempts: 5, retryIntervalS: 30, busyRetryDelayS: 2, busyRetries: 5 },
      v16: { configuration: {} },
      v201: { variables: {} },
    },
    hal: { board: 'sim' },
    maintenance: { transferMaxRetries: 5, transferMinRetryIntervalS: 10, transferMaxRetryIntervalS: 3600 },
    stateDir: 'state',
    database: { maintenanceSchedule: '17 3 * * *', sessionRetentionDays: 90 },
    log: { level: 'info' },
    // Loopback only and read-only: the page and metrics are safe to serve without a token there.
    http: { enabled: true, host: '127.0.0.1', port: 8080, control: false },
    scenarios: {},
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep merge of plain objects: `over` wins, arrays and scalars are replaced whole. Values of the wrong
 * type in `over` are kept as they are so that validation reports them.
 */
export function mergeDeep(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeDeep(base[k], v);
  return out;
}

/** Defaults of the optional `site` section, filled in only when the file has one. */
export function siteDefaults(): Omit<NonNullable<StationConfig['site']>, 'gridLimitA'> {
  return { intervalS: 5, increaseDelayS: 30, meterFaultAvailableA: 0, minCurrentA: 6, evseMinCurrentA: {} };
}

/** The raw file content (already parsed) with the defaults filled in underneath. */
export function withDefaults(raw: unknown): unknown {
  const merged = mergeDeep(configDefaults(), raw);
  if (isPlainObject(merged) && isPlainObject(merged.site)) merged.site = mergeDeep(siteDefaults(), merged.site);
  return merged;
}
