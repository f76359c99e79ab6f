/**
 * A debounced digital input (emergency stop, door switch). While active it holds a fault, by
 * default emergency-stop (high). Wire emergency stops as break contacts (NC) and say
 * "activeLow": false with a pull-up so that a cut wire reads as pressed.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { DigitalInput, FaultSeverity, HalFault, HalFaultKind, InputEvents } from '../types.js';
import { FaultTracker } from '../fault-tracker.js';
import { asObject, oneOf, onlyKeys, optStr } from '../driver-options.js';
import { InputPin, parsePin, pinSource, PIN_SOURCE_KEYS, type GpioDeps, type PinSource } from './pins.js';

export class GpioInput extends TypedEmitter<InputEvents> implements DigitalInput {
  private readonly pin: InputPin;
  private readonly faults = new FaultTracker(
    (f) => this.emit('fault', f),
    (k) => this.emit('fault-cleared', k),
  );

  constructor(
    src: PinSource,
    raw: Record<string, unknown>,
    private readonly fault: { kind: HalFaultKind; severity: FaultSeverity } | undefined,
  ) {
    super();
    const { pin, activeLow, debounceMs } = raw;
    this.pin = new InputPin(src, parsePin({ pin, activeLow, debounceMs: debounceMs ?? 20 }, 'emergencyStop.options'), (active) => {
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

export async function create(options: unknown, deps: GpioDeps): Promise<GpioInput> {
  const where = 'emergencyStop.options';
  const o = asObject(options, where);
  onlyKeys(o, where, ['pin', 'activeLow', 'debounceMs', 'fault', 'severity', ...PIN_SOURCE_KEYS]);
  const kind = optStr(o, 'fault', where) ?? 'emergency-stop';
  const severity = oneOf<FaultSeverity>(o, 'severity', where, ['high', 'low'], 'high');
  const src = await pinSource(o, where, deps);
  return new GpioInput(src, o, kind === 'none' ? undefined : { kind: kind as HalFaultKind, severity });
}
