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
      reconnect: { minDelayS: 2, maxDelayS: 120 },
      messageLog: { enabled: true, maxBytes: 5 * 1024 * 1024, files: 3 },
      outbox: { retryAttempts: 5, retryIntervalS: 30, busyRetryDelayS: 2, busyRetries: 5 },
      v16: { configuration: {} },
      v201: { variables: {} },
    },
    hal: { board: 'sim' },
    stateDir: 'state',
    log: { level: 'info' },
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

/** The raw file content (already parsed) with the defaults filled in underneath. */
export function withDefaults(raw: unknown): unknown {
  return mergeDeep(configDefaults(), raw);
}
