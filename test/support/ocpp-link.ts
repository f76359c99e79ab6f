/** Helpers of the OCPP link tests: a config, a capturing logger, temp dirs, polling. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loggerOver, NAMESPACE_FIELD, type Logger } from '../../base/logger.js';
import type { OcppConfig } from '../../src/config/types.js';

export function ocppConfig(over: Partial<OcppConfig> = {}): OcppConfig {
  return {
    version: '1.6',
    csmsUrl: 'ws://127.0.0.1:1/ocpp',
    securityProfile: 0,
    callTimeoutS: 5,
    pingIntervalS: 0,
    maxFrameBytes: 1024 * 1024,
    reconnect: { minDelayS: 0.02, maxDelayS: 0.1 },
    messageLog: { enabled: true, maxBytes: 1_000_000, files: 2 },
    outbox: { retryAttempts: 3, retryIntervalS: 1 },
    v16: { configuration: {} },
    v201: { variables: {} },
    ...over,
  };
}

export interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  msg: string;
  meta: Record<string, unknown> | undefined;
  /** The namespace of the child logger that wrote it (`ocpp:v201:boot`), kept out of meta. */
  ns?: string;
}

export interface CapturingLogger extends Logger {
  entries: LogEntry[];
  /** Messages of one level, with their meta as JSON, for matching. */
  lines(level: LogEntry['level']): string[];
}

export function capturingLogger(): CapturingLogger {
  const entries: LogEntry[] = [];
  const add = (level: LogEntry['level']) => (msg: string, meta?: Record<string, unknown>) => {
    const ns = meta?.[NAMESPACE_FIELD];
    if (meta === undefined || typeof ns !== 'string') {
      entries.push({ level, msg, meta });
      return;
    }
    // A child logger's namespace is where the line comes from, not part of what it says.
    const { [NAMESPACE_FIELD]: _ns, ...rest } = meta;
    entries.push({ level, msg, meta: Object.keys(rest).length > 0 ? rest : undefined, ns });
  };
  return {
    entries,
    error: add('error'),
    warn: add('warn'),
    info: add('info'),
    debug: add('debug'),
    child(namespace) {
      return loggerOver(this, namespace);
    },
    lines(level) {
      return entries.filter((e) => e.level === level).map((e) => `${e.msg} ${JSON.stringify(e.meta ?? {})}`);
    },
  };
}

export function tempDir(prefix = 'ocpp-link-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Polls (real time) until fn returns truthy; rejects after timeoutMs. */
export async function waitUntil<T>(fn: () => T | undefined | false | null, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (!addr || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}
