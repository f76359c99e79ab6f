/**
 * Card readers that print one UID per line (USB-serial RFID readers, PN532 bridges, keypads):
 * "04:a2:1b:c3", "04-A2-1B-C3" and "04a21bc3" are all the token 04A21BC3.
 */
import type { HalDeps, IdTokenKind } from '../types.js';
import { asObject, num, oneOf, onlyKeys, str } from '../driver-options.js';
import { ManagedPort } from './port.js';
import { SerialReader, type ReaderPortOptions } from './reader-base.js';

export interface LineReaderOptions extends ReaderPortOptions {
  /** hex: UIDs, separators stripped, upper-cased, non-hex lines ignored; text: any A-Z/0-9 id (keypads). */
  format: 'hex' | 'text';
}

const KINDS: readonly IdTokenKind[] = ['ISO14443', 'ISO15693', 'KeyCode', 'Local'];

export function parseLineReaderOptions(raw: unknown, where = 'reader.options'): LineReaderOptions {
  const o = asObject(raw, where);
  onlyKeys(o, where, ['port', 'baudRate', 'holdMs', 'kind', 'format']);
  return {
    port: str(o, 'port', where),
    baudRate: num(o, 'baudRate', where, { def: 9600, int: true, min: 300 }),
    holdMs: num(o, 'holdMs', where, { def: 2000, min: 0 }),
    kind: oneOf(o, 'kind', where, KINDS, 'ISO14443'),
    format: oneOf(o, 'format', where, ['hex', 'text'] as const, 'hex'),
  };
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

export async function create(options: unknown, deps: HalDeps & { evseId?: number }): Promise<LineReader> {
  const r = new LineReader(parseLineReaderOptions(options), deps);
  await r.start();
  return r;
}
