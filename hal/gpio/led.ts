/**
 * A status LED on a GPIO output (off when released). Not a HAL part kind of its own: the station
 * or a board-specific glue may drive it; listed here so that a profile can name LED pins.
 */
import type { TimerHandle } from '../../base/clock.js';
import { asObject, onlyKeys } from '../driver-options.js';
import { OutputPin, parsePin, pinSource, PIN_SOURCE_KEYS, type GpioDeps, type PinSource } from './pins.js';

export class GpioLed {
  private readonly out: OutputPin;
  private blinker: TimerHandle | undefined;

  constructor(
    private readonly src: PinSource,
    raw: Record<string, unknown>,
  ) {
    this.out = new OutputPin(src, parsePin({ pin: raw.pin, activeLow: raw.activeLow ?? false }, 'led'), false);
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

export async function create(options: unknown, deps: GpioDeps): Promise<GpioLed> {
  const o = asObject(options, 'led.options');
  onlyKeys(o, 'led.options', ['pin', 'activeLow', ...PIN_SOURCE_KEYS]);
  return new GpioLed(await pinSource(o, 'led.options', deps), o);
}
