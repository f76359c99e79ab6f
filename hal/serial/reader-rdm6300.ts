/**
 * RDM6300-style 125 kHz readers (EM4100 cards): 9600 baud frames of
 *   0x02, 10 ASCII hex characters (version byte + 4-byte card number), 2 ASCII hex characters of
 *   checksum (XOR of the 5 data bytes), 0x03
 * repeated while the card is in the field. Frames with a bad checksum are dropped.
 */
import type { HalDeps } from '../types.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { rdm6300Schema } from './schemas.js';
import { ManagedPort } from './port.js';
import { SerialReader, type ReaderPortOptions } from './reader-base.js';

export interface Rdm6300Options extends ReaderPortOptions {
  /** hex: the 10 hex characters; decimal: the card number printed on most tags (last 4 bytes, 10 digits). */
  idFormat: 'hex' | 'decimal';
}

const STX = 0x02;
const ETX = 0x03;
const FRAME_LEN = 14;

/** Options checked by hal/serial/schemas.ts rdm6300Schema (defaults filled in). */
export function parseRdm6300Options(raw: unknown, where = 'reader options'): Rdm6300Options {
  return checkOptions<Rdm6300Options>(rdm6300Schema, raw, where);
}

/** The 10 data characters of a valid frame, or undefined. */
export function decodeFrame(frame: Buffer): string | undefined {
  if (frame.length !== FRAME_LEN || frame[0] !== STX || frame[FRAME_LEN - 1] !== ETX) return undefined;
  const text = frame.subarray(1, 13).toString('latin1').toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(text)) return undefined;
  let x = 0;
  for (let i = 0; i < 10; i += 2) x ^= parseInt(text.slice(i, i + 2), 16);
  return x === parseInt(text.slice(10, 12), 16) ? text.slice(0, 10) : undefined;
}

export class Rdm6300Reader extends SerialReader {
  private buf = Buffer.alloc(0);

  constructor(
    readonly rdmOptions: Rdm6300Options,
    deps: HalDeps,
  ) {
    super(rdmOptions, deps, new ManagedPort({ path: rdmOptions.port, baudRate: rdmOptions.baudRate }, deps));
    this.port.on('data', (c) => this.onData(c));
    this.port.on('open', () => (this.buf = Buffer.alloc(0)));
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const start = this.buf.indexOf(STX);
      if (start < 0) {
        this.buf = Buffer.alloc(0);
        return;
      }
      if (this.buf.length - start < FRAME_LEN) {
        this.buf = this.buf.subarray(start);
        return;
      }
      const frame = this.buf.subarray(start, start + FRAME_LEN);
      const data = decodeFrame(frame);
      if (data === undefined) {
        this.deps.log.debug('RDM6300: bad frame dropped', { frame: frame.toString('hex') });
        this.buf = this.buf.subarray(start + 1); // resynchronise on the next STX
        continue;
      }
      this.buf = this.buf.subarray(start + FRAME_LEN);
      this.seen(this.rdmOptions.idFormat === 'hex' ? data : String(parseInt(data.slice(2), 16)).padStart(10, '0'));
    }
  }
}

export async function create(options: unknown, ctx: DriverContext): Promise<Rdm6300Reader> {
  const r = new Rdm6300Reader(parseRdm6300Options(options), ctx);
  await r.start();
  return r;
}
