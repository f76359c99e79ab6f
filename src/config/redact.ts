/** The config as it may be logged: secrets replaced, wherever they sit. */
import type { StationConfig } from './types.js';

/** Names of values that are secrets: the basic-auth password, 1.6 AuthorizationKey, 2.0.1 BasicAuthPassword, http.token. */
const SECRET = /password|authorizationkey|secret|passphrase|^token$/i;

/** user:password@ inside a URL. */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/@]+@/i;

function redact(v: unknown, key: string): unknown {
  if (SECRET.test(key) && v !== undefined && v !== null) return '***';
  if (typeof v === 'string') return v.replace(USERINFO, '$1***@');
  if (Array.isArray(v)) return v.map((x) => redact(x, ''));
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, k)]));
  }
  return v;
}

export function redactConfig(config: StationConfig): StationConfig {
  return redact(config, '') as StationConfig;
}
