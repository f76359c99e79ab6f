/**
 * File transfers the CSMS asks for (1.6 UpdateFirmware / GetDiagnostics, 2.0.1 UpdateFirmware / GetLog):
 * HTTP(S) download into the state directory with a size cap, HTTP(S) upload of one file (multipart POST
 * or PUT), both with retries timed by the station Clock. FTP is not supported: an ftp:// URL fails at
 * once with a clear reason, which the adapters report as DownloadFailed / UploadFailed.
 *
 * node:http(s) without keep-alive rather than fetch: no connection outlives a transfer (a pooled socket
 * would keep the daemon's, and a test's, event loop busy).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, renameSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { MaintenanceConfig } from '../config/types.js';
import { PRIVATE_FILE_MODE } from '../store/private-files.js';

export interface RetryOptions {
  clock: Clock;
  log: Logger;
  /** Attempts after the first one. */
  retries: number;
  retryIntervalS: number;
  /** Checked before each attempt and after each wait: true ends the transfer as failed. */
  cancelled?: () => boolean;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  md5: string;
}

/**
 * Bounds on the retries a CSMS asks for (1.6 UpdateFirmware / GetDiagnostics, 2.0.1 UpdateFirmware /
 * GetLog): the request's numbers are taken as given only inside them. Without bounds,
 * `retries: 1000000, retryInterval: 0` hammers the file server thousands of times a second.
 * Config keys maintenance.transferMaxRetries / transferMinRetryIntervalS / transferMaxRetryIntervalS.
 */
export const TRANSFER_RETRY_DEFAULTS = { maxRetries: 5, minIntervalS: 10, maxIntervalS: 3600 } as const;

export interface RequestedRetries {
  retries: number;
  retryIntervalS: number;
}

/** The request's retries and interval within the configured bounds; a change is logged once. */
export function boundRetries(requested: RequestedRetries, m: MaintenanceConfig | undefined, log: Logger): RequestedRetries {
  const maxRetries = m?.transferMaxRetries ?? TRANSFER_RETRY_DEFAULTS.maxRetries;
  const minIntervalS = m?.transferMinRetryIntervalS ?? TRANSFER_RETRY_DEFAULTS.minIntervalS;
  const maxIntervalS = Math.max(minIntervalS, m?.transferMaxRetryIntervalS ?? TRANSFER_RETRY_DEFAULTS.maxIntervalS);
  const finite = (n: number, fallback: number): number => (Number.isFinite(n) ? n : fallback);
  const retries = Math.min(maxRetries, Math.max(0, Math.floor(finite(requested.retries, 0))));
  const retryIntervalS = Math.min(maxIntervalS, Math.max(minIntervalS, finite(requested.retryIntervalS, minIntervalS)));
  if (retries !== requested.retries || retryIntervalS !== requested.retryIntervalS) {
    log.warn('transfer retries requested by the CSMS kept within the configured bounds', {
      requested,
      used: { retries, retryIntervalS },
      bounds: { maxRetries, minIntervalS, maxIntervalS },
    });
  }
  return { retries, retryIntervalS };
}

/** A transfer that cannot work whatever the retries (unsupported scheme, bad URL). */
export class TransferError extends Error {}

/** Network timeout of one attempt, in real time: a dead server must not hold a transfer forever. */
const ATTEMPT_TIMEOUT_MS = 120_000;

function parseUrl(location: string): URL {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new TransferError(`not a URL: ${safeUrl(location)}`);
  }
  if (url.protocol === 'ftp:' || url.protocol === 'ftps:' || url.protocol === 'sftp:') {
    throw new TransferError(`${url.protocol.slice(0, -1).toUpperCase()} is not supported, only HTTP and HTTPS: ${safeUrl(location)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TransferError(`unsupported URL scheme: ${url.protocol}`);
  return url;
}

/** Location without user:password, for logs. */
export function safeUrl(location: string): string {
  return location.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]+@/i, '$1***@');
}

/** Run attempt until it succeeds, at most 1 + retries times, waiting retryIntervalS between attempts. */
async function withRetries<T>(what: string, o: RetryOptions, attempt: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i <= o.retries; i++) {
    if (i > 0) {
      await new Promise<void>((resolve) => o.clock.setTimeout(resolve, o.retryIntervalS * 1000));
    }
    if (o.cancelled?.()) throw new Error(`${what} cancelled`);
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof TransferError) throw err;
      last = err;
      o.log.warn(`${what} attempt ${i + 1} of ${o.retries + 1} failed`, { error: String(err) });
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

function send(url: URL, method: string, headers: Record<string, string | number>, body?: Buffer): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false, timeout: ATTEMPT_TIMEOUT_MS }, resolve);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Download location to destPath (via destPath.part, renamed when complete); more than maxBytes fails. */
export async function download(location: string, destPath: string, maxBytes: number, o: RetryOptions): Promise<DownloadResult> {
  const url = parseUrl(location);
  return withRetries(`download of ${safeUrl(location)}`, o, async () => {
    const res = await send(url, 'GET', {});
    if (res.statusCode !== 200) {
      res.resume();
      throw new Error(`HTTP ${res.statusCode ?? '?'}`);
    }
    const announced = Number(res.headers['content-length'] ?? NaN);
    if (announced > maxBytes) {
      res.destroy();
      throw new Error(`larger than ${maxBytes} bytes (${announced} announced)`);
    }
    const part = `${destPath}.part`;
    const out = createWriteStream(part, { mode: PRIVATE_FILE_MODE });
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    let bytes = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > maxBytes) {
            // Reject first: destroying the response also emits 'aborted', which must not name the cause.
            reject(new Error(`larger than ${maxBytes} bytes`));
            res.destroy();
            return;
          }
          sha.update(chunk);
          md5.update(chunk);
          out.write(chunk);
        });
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('connection aborted')));
        res.on('end', resolve);
      });
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } catch (err) {
      out.destroy();
      rmSync(part, { force: true });
      throw err;
    }
    renameSync(part, destPath);
    return { path: destPath, bytes, sha256: sha.digest('hex'), md5: md5.digest('hex') };
  });
}

/**
 * Upload one file: multipart/form-data POST (field "file", the way most CSMS diagnostics endpoints take
 * it) or a plain PUT of the bytes. Any 2xx answer is success.
 */
export async function upload(location: string, filePath: string, fileName: string, method: 'POST' | 'PUT', o: RetryOptions): Promise<void> {
  const url = parseUrl(location);
  await withRetries(`upload to ${safeUrl(location)}`, o, async () => {
    const content = readFileSync(filePath);
    let body: Buffer;
    let headers: Record<string, string | number>;
    if (method === 'PUT') {
      body = content;
      headers = { 'content-type': 'application/octet-stream', 'content-length': content.length };
    } else {
      const boundary = `----ocpp-station-${createHash('sha256').update(content).digest('hex').slice(0, 24)}`;
      const safeName = fileName.replace(/["\r\n]/g, '_');
      body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safeName}"\r\n` +
            'Content-Type: application/octet-stream\r\n\r\n',
        ),
        content,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      headers = { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length };
    }
    const res = await send(url, method, headers, body);
    res.resume();
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw new Error(`HTTP ${code}`);
  });
}
