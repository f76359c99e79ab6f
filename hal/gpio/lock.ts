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
import { asObject, num, onlyKeys } from '../driver-options.js';
import { InputPin, OutputPin, parsePin, pinSource, PIN_SOURCE_KEYS, type GpioDeps, type PinSource, type PinSpec } from './pins.js';

export interface GpioLockOptions {
  lockPin: PinSpec;
  /** Absent: a solenoid on lockPin, held active while locked. */
  unlockPin?: PinSpec;
  sense: PinSpec;
  timeoutMs: number;
}

export function parseGpioLockOptions(raw: unknown, where = 'lock.options'): GpioLockOptions {
  const o = asObject(raw, where);
  onlyKeys(o, where, ['lockPin', 'unlockPin', 'sense', 'timeoutMs', ...PIN_SOURCE_KEYS]);
  return {
    lockPin: parsePin(o.lockPin, `${where}.lockPin`),
    unlockPin: o.unlockPin === undefined ? undefined : parsePin(o.unlockPin, `${where}.unlockPin`),
    sense: parsePin(o.sense, `${where}.sense`, { debounceMs: 20 }),
    timeoutMs: num(o, 'timeoutMs', where, { def: 1500, min: 10 }),
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
    super();
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

export async function create(options: unknown, deps: GpioDeps): Promise<GpioLock> {
  const opts = parseGpioLockOptions(options);
  return new GpioLock(opts, await pinSource(asObject(options, 'lock.options'), 'lock.options', deps));
}
