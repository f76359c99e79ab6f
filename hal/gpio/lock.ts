/**
 * Connector lock: a motor (H-bridge with a lock and an unlock pin) or a solenoid (one pin held
 * while locked), and a sense input that is active when the pin is really in. lock()/unlock()
 * drive the motor until the sense input confirms or timeoutMs passes; a timeout stops the motor,
 * raises lock-failure and resolves false. The next confirmed move clears the fault.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { TimerHandle } from '../../base/clock.js';
import type { ConnectorLock, HalFault, LockEvents } from '../types.js';
import { FaultTracker } from '../fault-tracker.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { InputPin, OutputPin, parsePin, pinSource, type PinOption, type PinSource, type PinSourceOptions, type PinSpec } from './pins.js';
import { gpioLockSchema } from './schemas.js';

export interface GpioLockOptions {
  lockPin: PinSpec;
  /** Absent: a solenoid on lockPin, held active while locked. */
  unlockPin?: PinSpec;
  sense: PinSpec;
  timeoutMs: number;
}

interface RawLockOptions extends PinSourceOptions {
  lockPin: PinOption;
  unlockPin?: PinOption;
  sense: PinOption;
  timeoutMs: number;
}

/** Options checked by hal/gpio/schemas.ts gpioLockSchema (defaults filled in). */
export function parseGpioLockOptions(raw: unknown, where = 'lock options'): GpioLockOptions & PinSourceOptions {
  const o = checkOptions<RawLockOptions>(gpioLockSchema, raw, where);
  return {
    lockPin: parsePin(o.lockPin),
    unlockPin: o.unlockPin === undefined ? undefined : parsePin(o.unlockPin),
    sense: parsePin(o.sense, { debounceMs: 20 }),
    timeoutMs: o.timeoutMs,
    gpioBase: o.gpioBase,
    chipLabel: o.chipLabel,
  };
}

export class GpioLock extends TypedEmitter<LockEvents> implements ConnectorLock {
  private readonly lockOut: OutputPin;
  private readonly unlockOut: OutputPin | undefined;
  private readonly sense: InputPin;
  private waiting: { want: boolean; done: (ok: boolean) => void; timer: TimerHandle } | undefined;
  private readonly faults = new FaultTracker(
    (f) => this.emit('fault', f),
    (k) => this.emit('fault-cleared', k),
  );

  constructor(
    readonly options: GpioLockOptions,
    private readonly src: PinSource,
  ) {
    super(src.log);
    this.lockOut = new OutputPin(src, options.lockPin, false);
    this.unlockOut = options.unlockPin ? new OutputPin(src, options.unlockPin, false) : undefined;
    this.sense = new InputPin(src, options.sense, (locked) => {
      this.emit('locked', locked);
      if (this.waiting?.want === locked) this.finish(true);
    });
  }

  get locked(): boolean {
    return this.sense.active;
  }

  get activeFaults(): HalFault[] {
    return this.faults.list();
  }

  lock(): Promise<boolean> {
    return this.move(true);
  }

  unlock(): Promise<boolean> {
    return this.move(false);
  }

  private move(want: boolean): Promise<boolean> {
    this.finish(false, true);
    if (this.unlockOut) {
      // Never both sides of the bridge at once.
      (want ? this.unlockOut : this.lockOut).set(false);
      (want ? this.lockOut : this.unlockOut).set(true);
    } else {
      this.lockOut.set(want);
    }
    if (this.sense.active === want) {
      this.stopMotor();
      this.faults.clear('lock-failure');
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = this.src.clock.setTimeout(() => this.finish(false), this.options.timeoutMs);
      this.waiting = { want, done: resolve, timer };
    });
  }

  private finish(ok: boolean, superseded = false): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = undefined;
    this.src.clock.clear(w.timer);
    if (superseded) return w.done(false);
    this.stopMotor();
    if (ok) this.faults.clear('lock-failure');
    else {
      // A solenoid that did not pull in is released again: an unconfirmed lock must not stay half-engaged.
      if (!this.unlockOut && w.want) this.lockOut.set(false);
      this.faults.raise({ kind: 'lock-failure', severity: 'low', detail: `sense input did not confirm ${w.want ? 'lock' : 'unlock'} within ${this.options.timeoutMs} ms` });
    }
    w.done(ok);
  }

  /** A motor stops when the move is done; a solenoid keeps its level. */
  private stopMotor(): void {
    if (!this.unlockOut) return;
    this.lockOut.set(false);
    this.unlockOut.set(false);
  }

  async close(): Promise<void> {
    this.finish(false, true);
    this.lockOut.releaseSync();
    this.unlockOut?.releaseSync();
    this.sense.release();
  }
}

export async function create(options: unknown, ctx: DriverContext): Promise<GpioLock> {
  const opts = parseGpioLockOptions(options);
  return new GpioLock(opts, await pinSource(opts, ctx));
}
