/**
 * The configuration keys of the OCPP 1.6 security whitepaper (edition 3, chapter 7) this station has.
 * What happens when they change is in security.ts.
 */
import type { KeyDef } from './config-keys.js';

/**
 * A00.FR.205 / 7.2: at least 16 bytes. Sent as written ('text', what most CSMSs expect: up to 40
 * characters), or with passwordEncoding 'hex' as the hex form of 16 to 20 raw bytes.
 */
export function validAuthorizationKey(value: string, encoding: 'text' | 'hex' | undefined): boolean {
  if (encoding === 'hex') return /^([0-9a-fA-F]{2}){16,20}$/.test(value);
  return value.length >= 16 && value.length <= 40 && /^[\x21-\x7e]+$/.test(value);
}

export const SECURITY_KEYS: readonly KeyDef[] = [
  // 7.2 write-only: GetConfiguration names it without a value, so a CSMS reading all keys never stores it.
  {
    key: 'AuthorizationKey',
    type: 'string',
    readonly: false,
    writeOnly: true,
    default: () => '',
    check: (v, c) => validAuthorizationKey(v, c.passwordEncoding),
  },
  // 7.6 says RW (raise only, A05). Raising it needs a new URL scheme or certificates this station cannot
  // be given over OCPP 1.6, so it reflects config.ocpp.securityProfile and ChangeConfiguration is
  // Rejected (A05.FR.01 for a value not higher, A05.FR.02–04 for unmet prerequisites).
  {
    key: 'SecurityProfile',
    type: 'integer',
    readonly: true,
    default: (c) => String(c.securityProfile ?? 0),
    min: 0,
    max: 3,
  },
];
