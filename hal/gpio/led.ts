/**
 * A status LED on a GPIO output (off when released). Not a HAL part kind of its own: the station
 * or a board-specific glue may drive it; listed here so that a profile can name LED pins.
 */
import type { TimerHandle } from '../../base/clock.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { OutputPin, parsePin, pinSource, type PinSource, type PinSourceOptions } from './pins.js';
import { gpioLedSchema } from './schemas.js';

interface LedOptions extends PinSourceOptions {
  pin: number;
  activeLow: boolean;
}

export class GpioLed {
  private readonly out: OutputPin;
  private blinker: TimerHandle | undefined;

  constructor(
    private readonly src: PinSource,
    o: { pin: number; activeLow: boolean },
  ) {
    this.out = new OutputPin(src, parsePin({ pin: o.pin, activeLow: o.activeLow }), false);
  }

  get on(): boolean {
    return this.out.active;
  }

  set(on: boolean): void {
    this.src.clock.clear(this.blinker);
    this.out.set(on);
  }

  /** Toggle every periodMs/2 until set() is called. */
  blink(periodMs: number): void {
    this.src.clock.clear(this.blinker);
    this.blinker = this.src.clock.setInterval(() => this.out.set(!this.out.active), Math.max(10, periodMs / 2));
  }

  async close(): Promise<void> {
    this.src.clock.clear(this.blinker);
    this.out.releaseSync();
  }
}

/** Not a part kind: built by whoever drives it, with a driver context of its own. */
export async function create(options: unknown, ctx: DriverContext): Promise<GpioLed> {
  const o = checkOptions<LedOptions>(gpioLedSchema, options, 'led options');
  return new GpioLed(await pinSource(o, ctx), o);
}
