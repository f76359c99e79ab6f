/**
 * The daemon's log: winston to stdout, one line per entry: `level: message key=value …`.
 * Under systemd (JOURNAL_STREAM set) journald adds the time stamp, so none is written, and each line
 * starts with a syslog priority prefix (`<6>`) that journald turns into the entry's priority and strips.
 * Colours only on a terminal.
 */
import winston from 'winston';
import type { Writable } from 'node:stream';
import type { LogLevel } from './config/types.js';

export type AppLogger = winston.Logger;

export interface LogOptions {
  level: LogLevel;
  /** Default: process.stdout. */
  stream?: Writable;
  /** Default: JOURNAL_STREAM is set. */
  journald?: boolean;
  /** Default: the stream is a TTY and not journald. */
  color?: boolean;
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
  const pairs = Object.entries(meta)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`);
  const text = [message.replace(/\n/g, '\\n'), ...pairs].join(' ');
  const lvl = style.color ? `${COLOR[level] ?? ''}${level}\x1b[0m` : level;
  if (style.journald) return `<${PRIORITY[level] ?? 6}>${lvl}: ${text}`;
  return `${style.time ? `${style.time} ` : ''}${lvl}: ${text}`;
}

export function createLogger(opts: LogOptions): AppLogger {
  const stream = opts.stream ?? process.stdout;
  const journald = opts.journald ?? Boolean(process.env.JOURNAL_STREAM);
  const color = opts.color ?? (!journald && (stream as Writable & { isTTY?: boolean }).isTTY === true);
  const line = winston.format((info) => {
    const { level, message, ...meta } = info;
    const time = journald ? undefined : new Date().toISOString();
    (info as Record<symbol, unknown>)[MESSAGE] = formatLine(level, String(message), meta, { journald, color, time });
    return info;
  });
  return winston.createLogger({
    level: opts.level,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: line(),
    transports: [new winston.transports.Stream({ stream })],
  });
}
