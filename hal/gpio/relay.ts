/**
 * A contactor (or any relay) on a GPIO output, with an optional mirror-contact input. After each
 * command the driver waits settleMs and compares the mirror contact with the command:
 *   commanded open, contacts closed → contactor-welded (high), cleared only when they open;
 *   commanded closed, contacts open → contactor-stuck-open (high), cleared only when they close.
 * A feedback change outside the settle window is checked at once (a contactor dropping out).
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { TimerHandle } from '../../base/clock.js';
import type { HalFault, Relay, RelayEvents } from '../types.js';
import { FaultTracker } from '../fault-tracker.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { InputPin, OutputPin, parsePin, pinSource, type PinOption, type PinSource, type PinSourceOptions, type PinSpec } from './pins.js';
import { gpioRelaySchema } from './schemas.js';

export interface GpioRelayOptions {
  output: PinSpec;
  feedback?: PinSpec;
  settleMs: number;
}

interface RawRelayOptions extends PinSourceOptions {
  pin: number;
  activeLow: boolean;
  feedback?: PinOption;
  settleMs: number;
}

/** Options checked by hal/gpio/schemas.ts gpioRelaySchema (defaults filled in). */
export function parseGpioRelayOptions(raw: unknown, where = 'contactor options'): GpioRelayOptions & PinSourceOptions {
  const o = checkOptions<RawRelayOptions>(gpioRelaySchema, raw, where);
  return {
    output: parsePin({ pin: o.pin, activeLow: o.activeLow }),
    feedback: o.feedback === undefined ? undefined : parsePin(o.feedback, { debounceMs: 20 }),
    settleMs: o.settleMs,
    gpioBase: o.gpioBase,
    chipLabel: o.chipLabel,
  };
}

export class GpioRelay extends TypedEmitter<RelayEvents> implements Relay {
  private readonly out: OutputPin;
  private readonly fb: InputPin | undefined;
  private cmd = false;
  private settling: TimerHandle | undefined;
  private readonly faults = new FaultTracker(
    (f) => this.emit('fault', f),
    (k) => this.emit('fault-cleared', k),
  );

  constructor(
    readonly options: GpioRelayOptions,
    private readonly src: PinSource,
  ) {
    super(src.log);
    this.out = new OutputPin(src, options.output, false);
    this.fb = options.feedback
      ? new InputPin(src, options.feedback, (closed) => {
          this.emit('feedback', closed);
          if (!this.settling) this.check();
        })
      : undefined;
  }

  get commanded(): boolean {
    return this.cmd;
  }

  get feedback(): boolean | undefined {
    return this.fb?.active;
  }

  get activeFaults(): HalFault[] {
    return this.faults.list();
  }

  async set(closed: boolean): Promise<void> {
    this.out.set(closed);
    this.cmd = closed;
    if (!this.fb) return;
    this.src.clock.clear(this.settling);
    this.settling = this.src.clock.setTimeout(() => {
      this.settling = undefined;
      this.check();
    }, this.options.settleMs);
  }

  private check(): void {
    const fb = this.fb?.active;
    if (fb === undefined) return;
    if (fb) this.faults.clear('contactor-stuck-open');
    else this.faults.clear('contactor-welded');
    if (fb && !this.cmd) this.faults.raise({ kind: 'contactor-welded', severity: 'high', detail: 'mirror contact closed while the contactor is commanded open' });
    if (!fb && this.cmd) this.faults.raise({ kind: 'contactor-stuck-open', severity: 'high', detail: 'mirror contact open while the contactor is commanded closed' });
  }

  async close(): Promise<void> {
    this.src.clock.clear(this.settling);
    this.cmd = false;
    this.out.releaseSync();
    this.fb?.release();
  }
}

export async function create(options: unknown, ctx: DriverContext): Promise<GpioRelay> {
  const opts = parseGpioRelayOptions(options);
  return new GpioRelay(opts, await pinSource(opts, ctx));
}
