/**
 * A debounced digital input (emergency stop, door switch). While active it holds a fault, by
 * default emergency-stop (high). Wire emergency stops as break contacts (NC) and say
 * "activeLow": false with a pull-up so that a cut wire reads as pressed.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { DigitalInput, FaultSeverity, HalFault, HalFaultKind, InputEvents } from '../types.js';
import { FaultTracker } from '../fault-tracker.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { InputPin, parsePin, pinSource, type PinSource, type PinSourceOptions } from './pins.js';
import { gpioInputSchema } from './schemas.js';

/** Options as hal/gpio/schemas.ts gpioInputSchema checks them (defaults filled in). */
export interface GpioInputOptions extends PinSourceOptions {
  pin: number;
  activeLow: boolean;
  debounceMs: number;
  fault: HalFaultKind | 'none';
  severity: FaultSeverity;
}

export class GpioInput extends TypedEmitter<InputEvents> implements DigitalInput {
  private readonly pin: InputPin;
  private readonly faults = new FaultTracker(
    (f) => this.emit('fault', f),
    (k) => this.emit('fault-cleared', k),
  );

  constructor(
    src: PinSource,
    o: Pick<GpioInputOptions, 'pin' | 'activeLow' | 'debounceMs'>,
    private readonly fault: { kind: HalFaultKind; severity: FaultSeverity } | undefined,
  ) {
    super(src.log);
    this.pin = new InputPin(src, parsePin({ pin: o.pin, activeLow: o.activeLow, debounceMs: o.debounceMs }), (active) => {
      this.emit('change', active);
      this.reflect(active);
    });
    this.reflect(this.pin.active);
  }

  get active(): boolean {
    return this.pin.active;
  }

  get activeFaults(): HalFault[] {
    return this.faults.list();
  }

  private reflect(active: boolean): void {
    if (!this.fault) return;
    if (active) this.faults.raise({ kind: this.fault.kind, severity: this.fault.severity, detail: `input GPIO${this.pin.spec.pin} active` });
    else this.faults.clear(this.fault.kind);
  }

  async close(): Promise<void> {
    this.pin.release();
  }
}

export async function create(options: unknown, ctx: DriverContext): Promise<GpioInput> {
  const o = checkOptions<GpioInputOptions>(gpioInputSchema, options, `${ctx.part} options`);
  const src = await pinSource(o, ctx);
  return new GpioInput(src, o, o.fault === 'none' ? undefined : { kind: o.fault, severity: o.severity });
}
