/**
 * HD44780 character LCD behind a PCF8574 I2C backpack (the common "LCD2004/1602 I2C" modules).
 * Backpack wiring: P0 = RS, P1 = RW (kept low: write only), P2 = E, P3 = backlight, P4..P7 = D4..D7.
 * The controller is put in 4-bit mode with the datasheet's initialisation by instruction
 * (0x3, 0x3, 0x3, then 0x2, with the waits), and every byte goes as two nibbles, each latched
 * by a high-then-low pulse on E. Waits use the injected clock. Only rows that changed are rewritten.
 * Text goes through ROM A00 (hal/display-text.ts): lines are fitted, wrapped and paged, and characters
 * the ROM lacks are spelled out or replaced, so the controller is never sent a code that shows garbage.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { Display, DisplayEvents, HalDeps } from '../types.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { hd44780Schema } from './schemas.js';
import { layout, Pager, toA00 } from '../display-text.js';

const RS = 0x01;
const E = 0x04;
const BACKLIGHT = 0x08;

/** The two calls of i2c-bus's PromisifiedBus this driver needs. */
export interface I2cBusLike {
  sendByte(address: number, byte: number): Promise<void>;
  close(): Promise<void>;
}

export type I2cOpener = (busNumber: number) => Promise<I2cBusLike>;

export interface Hd44780Options {
  bus: number;
  address: number;
  cols: number;
  rows: number;
  backlight: boolean;
}

/** Options checked by hal/i2c/schemas.ts hd44780Schema (defaults filled in). */
export function parseHd44780Options(raw: unknown, where = 'display options'): Hd44780Options {
  return checkOptions<Hd44780Options>(hd44780Schema, raw, where);
}

async function openI2c(busNumber: number): Promise<I2cBusLike> {
  const { openPromisified } = await import('i2c-bus');
  return openPromisified(busNumber);
}

export class Hd44780 extends TypedEmitter<DisplayEvents> implements Display {
  private queue: Promise<unknown> = Promise.resolve();
  private shown: string[] = [];
  private bl: number;
  private readonly pager: Pager;

  constructor(
    readonly options: Hd44780Options,
    private readonly deps: HalDeps,
    private readonly bus: I2cBusLike,
  ) {
    super(deps.log);
    this.bl = options.backlight ? BACKLIGHT : 0;
    this.pager = new Pager(deps.clock, (rows) => this.paint(rows));
  }

  get cols(): number {
    return this.options.cols;
  }

  get rows(): number {
    return this.options.rows;
  }

  /** Power-on initialisation into 4-bit mode, two-line, display on, cursor off. */
  async init(): Promise<void> {
    await this.wait(50);
    await this.nibble(0x3, 0);
    await this.wait(5);
    await this.nibble(0x3, 0);
    await this.wait(1);
    await this.nibble(0x3, 0);
    await this.wait(1);
    await this.nibble(0x2, 0);
    await this.command(0x28); // function set: 4-bit bus, 2 lines, 5x8 dots
    await this.command(0x08); // display off
    await this.command(0x01); // clear
    await this.wait(2);
    await this.command(0x06); // entry mode: increment, no shift
    await this.command(0x0c); // display on, cursor off, blink off
    this.shown = [];
  }

  /** Logical lines; longer or more than fit are wrapped and paged (every 3 s). */
  show(lines: string[]): Promise<void> {
    return this.pager.show(layout(lines, this.options.cols, this.options.rows));
  }

  private paint(rows: string[]): Promise<void> {
    const run = this.queue.then(() => this.write(rows));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async setBacklight(on: boolean): Promise<void> {
    this.bl = on ? BACKLIGHT : 0;
    await this.bus.sendByte(this.options.address, this.bl);
  }

  /** Rows already in A00 cells and cols wide (layout()). */
  private async write(lines: string[]): Promise<void> {
    const { cols, rows } = this.options;
    const rowStart = [0x00, 0x40, cols, 0x40 + cols];
    for (let r = 0; r < rows; r++) {
      const text = (lines[r] ?? '').padEnd(cols, ' ');
      if (this.shown[r] === text) continue;
      await this.command(0x80 | rowStart[r]!);
      for (let i = 0; i < text.length; i++) await this.byte(text.charCodeAt(i), RS);
      this.shown[r] = text;
    }
  }

  private async command(b: number): Promise<void> {
    await this.byte(b, 0);
  }

  private async byte(b: number, rs: number): Promise<void> {
    await this.nibble(b >> 4, rs);
    await this.nibble(b & 0x0f, rs);
  }

  private async nibble(n: number, rs: number): Promise<void> {
    const data = ((n & 0x0f) << 4) | rs | this.bl;
    await this.bus.sendByte(this.options.address, data | E);
    await this.bus.sendByte(this.options.address, data);
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => this.deps.clock.setTimeout(resolve, ms));
  }

  async close(): Promise<void> {
    this.pager.stop();
    await this.queue;
    await this.bus.sendByte(this.options.address, 0).catch(() => undefined); // backlight off
    await this.bus.close();
  }
}

/** One line in ROM A00 cells, cut or padded to the width. */
export function toLcdText(s: string, cols: number): string {
  return toA00(s).slice(0, cols).padEnd(cols, ' ');
}

export async function create(options: unknown, ctx: DriverContext): Promise<Hd44780> {
  const opts = parseHd44780Options(options);
  const bus = await (ctx.seams.i2c ?? openI2c)(opts.bus);
  const lcd = new Hd44780(opts, ctx, bus);
  try {
    await lcd.init();
  } catch (err) {
    await bus.close().catch(() => undefined);
    throw new Error(`HD44780 at I2C bus ${opts.bus} address 0x${opts.address.toString(16)}: ${(err as Error).message}`, { cause: err });
  }
  return lcd;
}
