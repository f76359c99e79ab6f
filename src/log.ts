/**
 * The daemon's log: winston to stdout, one line per entry: `level: message key=value …`.
 * Under systemd (JOURNAL_STREAM set) journald adds the time stamp, so none is written, and each line
 * starts with a syslog priority prefix (`<6>`) that journald turns into the entry's priority and strips.
 * Colours only on a terminal.
 *
 * The stream may go away under the daemon (the reader of a pipe exits: EPIPE), or stop reading (a
 * full pipe). A log line is never worth the station: once a stream failed it is written no more
 * (lines go to the fallback stream, stderr, while that one works, else they are dropped), and lines
 * are dropped, never buffered without bound, while a stream does not drain.
 */
import winston from 'winston';
import TransportStream from 'winston-transport';
import type { Writable } from 'node:stream';
import type { LogLevel } from './config/types.js';
import { loggerOver, NAMESPACE_FIELD, type Logger } from '../base/logger.js';


export interface LogOptions {
  level: LogLevel;
  /** Default: process.stdout. */
  stream?: Writable;
  /** Default: JOURNAL_STREAM is set. */
  journald?: boolean;
  /** Default: the stream is a TTY and not journald. */
  color?: boolean;
  /** Where lines go once `stream` failed. Default: process.stderr when the stream is process.stdout. */
  fallback?: Writable;
}

/** Bytes a stream may hold unwritten before lines are dropped (a reader that stopped reading). */
export const LOG_BACKLOG_BYTES = 1 << 20;

/**
 * A stream that failed once is dead for the log. Shared by every logger of the process, so a second
 * logger on stdout does not try it again; the 'error' listener also keeps an EPIPE from becoming an
 * uncaught exception.
 */
const dead = new WeakSet<Writable>();
const watched = new WeakSet<Writable>();

export function guardStream(stream: Writable, onDead?: (err: Error) => void): void {
  if (watched.has(stream)) return;
  watched.add(stream);
  stream.on('error', (err: Error) => {
    if (dead.has(stream)) return;
    dead.add(stream);
    onDead?.(err);
  });
}

function usable(stream: Writable): boolean {
  return !dead.has(stream) && !stream.destroyed && !stream.writableEnded;
}

/** winston's Stream transport, but one that drops lines rather than write to a dead or stalled stream. */
class GuardedStreamTransport extends TransportStream {
  private dropped = 0;

  constructor(
    private readonly streams: Writable[],
    /** The line that says how many were dropped, in the logger's own format. */
    private readonly dropNotice: (n: number) => string,
  ) {
    super();
    for (const s of streams) guardStream(s);
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    const line = `${String(info[MESSAGE])}\n`;
    const target = this.streams.find(usable);
    if (!target || target.writableLength > LOG_BACKLOG_BYTES) {
      this.dropped++;
    } else {
      if (this.dropped > 0) {
        const n = this.dropped;
        this.dropped = 0;
        this.writeTo(target, `${this.dropNotice(n)}\n`);
      }
      this.writeTo(target, line);
    }
    next();
  }

  private writeTo(target: Writable, text: string): void {
    try {
      target.write(text);
    } catch {
      // A stream destroyed between the check and the write: its 'error' marks it dead.
    }
  }
}

const PRIORITY: Record<string, number> = { error: 3, warn: 4, info: 6, debug: 7 };
const COLOR: Record<string, string> = { error: '\x1b[31m', warn: '\x1b[33m', info: '\x1b[32m', debug: '\x1b[90m' };
const MESSAGE = Symbol.for('message');

function value(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.stack ?? v.message);
  if (typeof v === 'string') return /^[^\s"=\\]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return JSON.stringify(v);
}

export interface LineStyle {
  journald: boolean;
  color: boolean;
  /** ISO time stamp to prefix; omitted under journald. */
  time?: string;
}

/** One entry as one line (newlines inside values are escaped by the quoting). */
export function formatLine(level: string, message: string, meta: Record<string, unknown>, style: LineStyle): string {
  const ns = meta[NAMESPACE_FIELD];
  const pairs = Object.entries(meta)
    .filter(([k, v]) => v !== undefined && !(k === NAMESPACE_FIELD && typeof ns === 'string'))
    .map(([k, v]) => `${k}=${value(v)}`);
  const head = typeof ns === 'string' ? `[${ns}] ` : '';
  const text = [head + message.replace(/\n/g, '\\n'), ...pairs].join(' ');
  const lvl = style.color ? `${COLOR[level] ?? ''}${level}\x1b[0m` : level;
  if (style.journald) return `<${PRIORITY[level] ?? 6}>${lvl}: ${text}`;
  return `${style.time ? `${style.time} ` : ''}${lvl}: ${text}`;
}

/** The daemon's logger: winston underneath, the station's Logger (with `child`) on top. */
export function createLogger(opts: LogOptions): Logger & { close(): void } {
  const stream = opts.stream ?? process.stdout;
  const fallback = opts.fallback ?? (stream === process.stdout ? process.stderr : undefined);
  const journald = opts.journald ?? Boolean(process.env.JOURNAL_STREAM);
  const color = opts.color ?? (!journald && (stream as Writable & { isTTY?: boolean }).isTTY === true);
  const line = winston.format((info) => {
    const { level, message, ...meta } = info;
    const time = journald ? undefined : new Date().toISOString();
    (info as Record<symbol, unknown>)[MESSAGE] = formatLine(level, String(message), meta, { journald, color, time });
    return info;
  });
  const w = winston.createLogger({
    level: opts.level,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: line(),
    transports: [
      new GuardedStreamTransport(fallback && fallback !== stream ? [stream, fallback] : [stream], (n) =>
        formatLine('warn', `${n} log line(s) dropped: the log stream was closed or did not drain`, {}, {
          journald,
          color,
          time: journald ? undefined : new Date().toISOString(),
        }),
      ),
    ],
  });
  return Object.assign(loggerOver(w), { close: () => void w.close() });
}
