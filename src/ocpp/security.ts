/**
 * OCPP security profiles (1.6 security whitepaper / 2.0.1 part 2 A00 "Security profiles") turned into
 * the connection options of ocpp-rpc's RPCClient:
 *   0  plain ws://, no authentication: allowed for a bench or a closed network, always warned
 *   1  HTTP basic auth (identity:password), ws:// or wss://
 *   2  TLS (wss://) + basic auth; the CSMS certificate is verified against caFile (or the system CAs)
 *   3  mutual TLS: the station presents clientCertFile/clientKeyFile; no basic-auth password
 * The server certificate is always verified: nothing here ever sets rejectUnauthorized to false.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../../base/logger.js';
import type { OcppConfig } from '../config/types.js';

export type SecuritySettings = Pick<
  OcppConfig,
  'csmsUrl' | 'securityProfile' | 'password' | 'passwordEncoding' | 'caFile' | 'clientCertFile' | 'clientKeyFile'
>;

export interface TransportOptions {
  /** The URL without the identity; RPCClient appends "/<identity>". */
  endpoint: string;
  /** A Buffer for passwordEncoding 'hex' (raw key bytes). */
  password: string | Buffer | null;
  /** Options passed to the ws client (TLS material). */
  wsOpts: {
    rejectUnauthorized: true;
    /** OCPP 1.6 security whitepaper §2.4 / 2.0.1 A00.FR.310: TLS 1.2 or higher. */
    minVersion: 'TLSv1.2';
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
  };
}

export class SecurityConfigError extends Error {
  override name = 'SecurityConfigError';
}

function encodePassword(password: string, encoding: SecuritySettings['passwordEncoding']): string | Buffer {
  if (encoding !== 'hex') return password;
  if (!/^([0-9a-fA-F]{2}){1,40}$/.test(password)) {
    throw new SecurityConfigError('ocpp.password must be an even number of hex digits (up to 80) when passwordEncoding is hex');
  }
  return Buffer.from(password, 'hex');
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SecurityConfigError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/**
 * Checks that URL scheme and credentials fit the profile and reads the certificate files.
 * Throws SecurityConfigError (without secrets in the message) when they do not.
 */
export function transportOptions(s: SecuritySettings, log?: Logger): TransportOptions {
  let url: URL;
  try {
    url = new URL(s.csmsUrl);
  } catch {
    throw new SecurityConfigError(`csmsUrl is not a URL: ${s.csmsUrl}`);
  }
  if (url.username || url.password) {
    // Credentials in a URL end up in logs; the password has its own (redacted) setting.
    throw new SecurityConfigError('csmsUrl must not contain credentials: put the password in ocpp.password');
  }
  const tls = url.protocol === 'wss:';
  if (!tls && url.protocol !== 'ws:') throw new SecurityConfigError(`csmsUrl must be ws:// or wss://, got ${url.protocol}`);
  const endpoint = s.csmsUrl.replace(/\/+$/, '');
  const wsOpts: TransportOptions['wsOpts'] = { rejectUnauthorized: true, minVersion: 'TLSv1.2' };
  let password: string | Buffer | null = null;

  switch (s.securityProfile) {
    case 0:
      log?.warn('OCPP security profile 0: no authentication of the station' + (tls ? '' : ' and no encryption (plain ws://)') +
        '. Use only on a closed test network.', { csmsUrl: endpoint });
      break;
    case 1:
      if (!s.password) throw new SecurityConfigError('security profile 1 needs ocpp.password (basic auth)');
      if (!tls) log?.warn('OCPP security profile 1: the basic-auth password travels unencrypted over ws://', { csmsUrl: endpoint });
      password = encodePassword(s.password, s.passwordEncoding);
      break;
    case 2:
      if (!tls) throw new SecurityConfigError('security profile 2 needs a wss:// csmsUrl');
      if (!s.password) throw new SecurityConfigError('security profile 2 needs ocpp.password (basic auth)');
      password = encodePassword(s.password, s.passwordEncoding);
      break;
    case 3:
      if (!tls) throw new SecurityConfigError('security profile 3 needs a wss:// csmsUrl');
      if (!s.clientCertFile || !s.clientKeyFile) {
        throw new SecurityConfigError('security profile 3 needs ocpp.clientCertFile and ocpp.clientKeyFile');
      }
      wsOpts.cert = readPem(s.clientCertFile, 'client certificate');
      wsOpts.key = readPem(s.clientKeyFile, 'client key');
      break;
    default:
      throw new SecurityConfigError(`unknown security profile ${String(s.securityProfile)}`);
  }
  if (tls && s.caFile) wsOpts.ca = readPem(s.caFile, 'CA bundle');
  return { endpoint, password, wsOpts };
}
