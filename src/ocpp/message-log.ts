/**
 * Every OCPP-J frame in and out, one JSON line each ({t, dir, frame}) in STATE/ocpp-messages.log,
 * rotated by size (ocpp-messages.log.1 … .N). Secrets are redacted before anything is written:
 * password-like fields anywhere in a payload, and the value of key/value pairs whose name is
 * security-related (1.6 ChangeConfiguration / GetConfiguration of AuthorizationKey, 2.0.1
 * SetVariables / GetVariables of BasicAuthPassword, …).
 *
 * Writes are synchronous appends on an open descriptor: a frame logged is on its way to disk before
 * the next one, and a crash loses at most what the OS had not flushed.
 */
import { closeSync, existsSync, fstatSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePrivateDir, openPrivate } from '../store/private-files.js';
import { MAX_FRAME_DEPTH, nestedDeeperThan } from './frame-guard.js';

export interface MessageLogOptions {
  path: string;
  maxBytes: number;
  /** Rotated files kept besides the current one. */
  files: number;
  now?: () => number;
}

export const REDACTED = '***';

/** Field names whose values are secrets wherever they appear. */
const SECRET_FIELD = /pass(word|wd|phrase)?$|secret|authorizationkey|privatekey|apikey/i;
/** Names of configuration keys / variables whose value is a secret. */
const SECRET_NAME = /password|passwd|secret|authorizationkey|privatekey|key$/i;
/** Names that end in "key" but are not secrets. */
const NOT_SECRET_NAME = /publickey|idkey|^key$|supportedkeys?|cpokey|hashkey$/i;

function isSecretName(name: unknown): boolean {
  return typeof name === 'string' && SECRET_NAME.test(name) && !NOT_SECRET_NAME.test(name);
}

/** A copy of the value with secrets replaced by "***". */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // 1.6 configuration entries: { key: "AuthorizationKey", value: "…" }
  const pairName = typeof obj.key === 'string' && 'value' in obj ? obj.key : undefined;
  // 2.0.1 variables: { variable: { name: "BasicAuthPassword" }, attributeValue: "…" }
  const variable = obj.variable as { name?: unknown } | undefined;
  const varName = variable && typeof variable === 'object' ? variable.name : undefined;
  // 2.0.1 NetworkConnectionProfile.vpn: { server, user, password, key, type }
  const vpnLike = 'server' in obj && 'user' in obj;
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string' && SECRET_FIELD.test(k)) out[k] = REDACTED;
    else if (k === 'value' && isSecretName(pairName)) out[k] = REDACTED;
    else if (k === 'attributeValue' && isSecretName(varName)) out[k] = REDACTED;
    else if (k === 'key' && vpnLike && typeof v === 'string') out[k] = REDACTED;
    else out[k] = redact(v);
  }
  return out;
}

export class MessageLog {
  private fd: number | undefined;
  private size = 0;
  private readonly now: () => number;

  constructor(private readonly opts: MessageLogOptions) {
    this.now = opts.now ?? Date.now;
    ensurePrivateDir(dirname(opts.path));
    this.open();
  }

  /** Log one frame as sent ('out') or received ('in'). Never throws. */
  write(dir: 'in' | 'out', text: string): void {
    if (this.fd === undefined) return;
    let frame: unknown;
    try {
      // redact() and JSON.stringify recurse: a frame nested too deep is recorded by its size only.
      frame = nestedDeeperThan(text, MAX_FRAME_DEPTH) ? { tooDeep: true, length: text.length } : redact(JSON.parse(text));
    } catch {
      // Not JSON: keep it as text, but it cannot be inspected for secrets, so only its length.
      frame = { unparsable: true, length: text.length };
    }
    this.append({ dir, frame });
  }

  /** Log a frame that was refused before it was read (too large, too deep): what is known of it. */
  writeHeld(dir: 'in' | 'out', held: Record<string, unknown>): void {
    if (this.fd === undefined) return;
    this.append({ dir, held });
  }

  private append(record: Record<string, unknown>): void {
    try {
      const line = JSON.stringify({ t: new Date(this.now()).toISOString(), ...record }) + '\n';
      const bytes = Buffer.byteLength(line);
      if (this.size > 0 && this.size + bytes > this.opts.maxBytes) this.rotate();
      if (this.fd === undefined) return;
      writeSync(this.fd, line);
      this.size += bytes;
    } catch {
      // A full disk must not take the OCPP link down with it.
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    this.fd = openPrivate(this.opts.path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    const { path, files } = this.opts;
    if (files <= 0) {
      rmSync(path, { force: true });
    } else {
      rmSync(`${path}.${files}`, { force: true });
      for (let i = files - 1; i >= 1; i--) {
        if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      }
      renameSync(path, `${path}.1`);
    }
    this.open();
  }
}
