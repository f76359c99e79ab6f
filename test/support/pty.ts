/**
 * Pseudo-terminal pairs for the serial driver tests: socat links two ptys so that a driver opens one
 * end as if it were /dev/ttyUSB0 and the test plays the device on the other end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { ReadlineParser } from '@serialport/parser-readline';
import type { TypedEmitter } from '../../base/emitter.js';
import { loggerOver, type Logger } from '../../base/logger.js';

export function hasSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

export const NO_SOCAT = 'socat is not installed (apt-get install socat): the serial tests need a pty pair';

export class PtyPair {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'ocpp-pty-'));
  readonly a = join(this.dir, 'a');
  readonly b = join(this.dir, 'b');

  /** Start (or restart) socat; resolves when both links exist. */
  async start(): Promise<void> {
    const proc = spawn('socat', [`pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: 'ignore' });
    this.proc = proc;
    for (let i = 0; i < 200; i++) {
      if (existsSync(this.a) && existsSync(this.b)) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('socat did not create the pty links');
  }

  /** Kill socat: both ends vanish, as when a USB adapter is pulled. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The device end of a pair: raw bytes in, plus lines split on a delimiter. */
export class Peer {
  readonly lines: string[] = [];
  readonly chunks: Buffer[] = [];
  private waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  onLine: ((line: string) => void) | undefined;

  private constructor(readonly port: SerialPort) {}

  static async open(path: string, delimiter = '\n', baudRate = 9600): Promise<Peer> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    const peer = new Peer(port);
    port.on('data', (c: Buffer) => peer.chunks.push(c));
    const parser = port.pipe(new ReadlineParser({ delimiter, encoding: 'latin1' }));
    parser.on('data', (l: string) => {
      const line = l.replace(/\r$/, '');
      peer.lines.push(line);
      peer.onLine?.(line);
      for (const w of [...peer.waiters]) {
        if (w.match(line)) {
          peer.waiters.splice(peer.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
    port.on('error', () => undefined);
    return peer;
  }

  async write(data: string | Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) => this.port.write(data, (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve) => this.port.drain(() => resolve()));
  }

  /** Resolves with the first line (already received or coming) that matches. */
  waitLine(match: string | RegExp | ((l: string) => boolean), ms = 2000): Promise<string> {
    const fn = typeof match === 'function' ? match : (l: string) => (typeof match === 'string' ? l === match : match.test(l));
    const seen = this.lines.find(fn);
    if (seen !== undefined) {
      this.lines.splice(this.lines.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`peer: no line matching ${String(match)} within ${ms} ms (got ${JSON.stringify(this.lines)})`));
      }, ms);
      const done = (l: string): void => {
        clearTimeout(timer);
        this.lines.splice(this.lines.indexOf(l), 1);
        resolve(l);
      };
      this.waiters.push({ match: fn, resolve: done });
    });
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

/** Resolves with the arguments of the next matching event, or rejects after ms (real time). */
/** The listening half of a TypedEmitter (Pick drops its private field, so subclasses match structurally). */
type Listenable<E extends { [K in keyof E]: unknown[] }> = Pick<TypedEmitter<E>, 'on' | 'off'>;

export function nextEvent<E extends { [K in keyof E]: unknown[] }, K extends keyof E & string>(
  emitter: Listenable<E>,
  event: K,
  ms = 2000,
  match: (...args: E[K]) => boolean = () => true,
): Promise<E[K]> {
  return new Promise((resolve, reject) => {
    const handler = (...args: E[K]): void => {
      if (!match(...args)) return;
      clearTimeout(timer);
      emitter.off(event, handler);
      resolve(args);
    };
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`no matching '${event}' event within ${ms} ms`));
    }, ms);
    emitter.on(event, handler);
  });
}

/** A logger that keeps quiet unless DEBUG_HAL is set. */
export const quietLog: Logger = loggerOver({
  error: (m, meta) => debugLog('error', m, meta),
  warn: (m, meta) => debugLog('warn', m, meta),
  info: (m, meta) => debugLog('info', m, meta),
  debug: (m, meta) => debugLog('debug', m, meta),
});

function debugLog(level: string, msg: string, meta?: Record<string, unknown>): void {
  if (process.env.DEBUG_HAL) console.error(level, msg, meta ?? '');
}

/** Polls cond (real time) until it holds; for effects that arrive through real I/O. */
export async function until(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1. modbus-serial's ServerTCP treats port 0 as
 * "use 502", so tests cannot ask it for an ephemeral port themselves.
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
