/**
 * Card readers that print one UID per line (USB-serial RFID readers, PN532 bridges, keypads):
 * "04:a2:1b:c3", "04-A2-1B-C3" and "04a21bc3" are all the token 04A21BC3.
 */
import type { HalDeps } from '../types.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { lineReaderSchema } from './schemas.js';
import { ManagedPort } from './port.js';
import { SerialReader, type ReaderPortOptions } from './reader-base.js';

export interface LineReaderOptions extends ReaderPortOptions {
  /** hex: UIDs, separators stripped, upper-cased, non-hex lines ignored; text: any A-Z/0-9 id (keypads). */
  format: 'hex' | 'text';
}

/** Options checked by hal/serial/schemas.ts lineReaderSchema (defaults filled in). */
export function parseLineReaderOptions(raw: unknown, where = 'reader options'): LineReaderOptions {
  return checkOptions<LineReaderOptions>(lineReaderSchema, raw, where);
}

/** The normalised id of one line, or undefined when the line is not an id. */
export function normaliseUid(line: string, format: 'hex' | 'text'): string | undefined {
  const id = line.trim().replace(/[\s:.\-_]/g, '').toUpperCase();
  if (format === 'hex') return /^[0-9A-F]{4,40}$/.test(id) && id.length % 2 === 0 ? id : undefined;
  return /^[0-9A-Z]{1,36}$/.test(id) ? id : undefined;
}

export class LineReader extends SerialReader {
  constructor(
    readonly lineOptions: LineReaderOptions,
    deps: HalDeps,
  ) {
    super(lineOptions, deps, new ManagedPort({ path: lineOptions.port, baudRate: lineOptions.baudRate, lineDelimiter: '\n' }, deps));
    this.port.on('line', (l) => this.onLine(l));
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    const id = normaliseUid(line, this.lineOptions.format);
    if (id === undefined) {
      this.deps.log.debug('card reader: not an id', { line });
      return;
    }
    this.seen(id);
  }
}

export async function create(options: unknown, ctx: DriverContext): Promise<LineReader> {
  const r = new LineReader(parseLineReaderOptions(options), ctx);
  await r.start();
  return r;
}
