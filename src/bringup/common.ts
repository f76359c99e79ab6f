/**
 * What the bring-up commands share: where they print, how they ask, how they stop, and the test
 * seams (a virtual clock, fake GPIO, scripted stdin). These commands talk to real hardware on a
 * fresh installation, before the station runs: every message says what was tried and on which port.
 */
import type { DriverSeams } from '../../hal/registry.js';
import { createInterface } from 'node:readline';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SystemClock, type Clock } from '../../base/clock.js';
import { loggerOver, type Logger } from '../../base/logger.js';

export interface BringupIo {
  out(line: string): void;
  err(line: string): void;
  /** One line of input (confirmations). */
  ask(prompt: string): Promise<string>;
  /** Resolves when the user wants to stop (Ctrl-C / SIGTERM). */
  stopped(): Promise<void>;
  clock: Clock;
  /** Extra driver dependencies (tests: fake gpio, sysfs root). */
  /** Devices handed to the drivers instead of the real ones (tests: a fake GPIO, a fake sysfs). */
  deps?: DriverSeams;
}

export function processIo(): BringupIo {
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    ask: (prompt) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        rl.question(prompt, (answer) => {
          rl.close();
          resolve(answer);
        });
        rl.on('close', () => resolve(''));
      }),
    stopped: () =>
      new Promise((resolve) => {
        const done = (): void => {
          process.off('SIGINT', done);
          process.off('SIGTERM', done);
          resolve();
        };
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      }),
    clock: new SystemClock(),
  };
}

/** Driver log lines go to stderr so that stdout carries only readings. */
export function stderrLog(io: BringupIo, verbose: boolean): Logger {
  const line = (level: string, msg: string, meta?: Record<string, unknown>): void =>
    io.err(`${level}: ${msg}${meta && Object.keys(meta).length > 0 ? ' ' + JSON.stringify(meta) : ''}`);
  return loggerOver({
    error: (m, meta) => line('error', m, meta),
    warn: (m, meta) => line('warn', m, meta),
    info: (m, meta) => (verbose ? line('info', m, meta) : undefined),
    debug: (m, meta) => (verbose ? line('debug', m, meta) : undefined),
  });
}

export class UsageError extends Error {}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function intArg(v: string | undefined, name: string, def?: number): number {
  if (v === undefined) {
    if (def === undefined) throw new UsageError(`--${name} is required`);
    return def;
  }
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name}: not a number: ${v}`);
  return n;
}

/** --port (required) and --baud of the serial bring-up commands, as driver options. */
export function serialOptions(v: { port?: string | undefined; baud?: string | undefined }): { port: string; baudRate?: number } {
  if (!v.port) throw new UsageError('--port is required');
  return { port: v.port, ...(v.baud ? { baudRate: intArg(v.baud, 'baud') } : {}) };
}

/**
 * Run a command: parse argv against its options, answer --help with the usage, else run the body
 * with the option values. Usage errors print the usage and give 2, other errors 1.
 */
export async function runCommand<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  io: BringupIo,
  usage: string,
  options: T,
  body: (values: ReturnType<typeof parse<T>>['values']) => Promise<number>,
): Promise<number> {
  try {
    const { values } = parse(argv, options);
    // Every command declares --help; the generic values type cannot show it.
    if ((values as { help?: boolean }).help) {
      io.out(usage);
      return 0;
    }
    return await body(values);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n${usage}`);
      return 2;
    }
    io.err(`error: ${(err as Error).message}`);
    return 1;
  }
}

export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Wait for the first of: the user stopping, or ms on the clock. True when the user stopped. */
export async function stoppedWithin(io: BringupIo, stop: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const r = await Promise.race([stop.then(() => true), new Promise<boolean>((resolve) => (timer = io.clock.setTimeout(() => resolve(false), ms)))]);
  io.clock.clear(timer);
  return r;
}
