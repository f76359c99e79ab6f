/**
 * A HAL of plain in-memory parts for station tests: each part implements hal/types.ts and offers
 * methods to drive it (pilot.setState('C'), relay.setFeedback(true), meter.energyWh = ...).
 * Commands take effect synchronously so that tests can check them in the same tick.
 */
import { TypedEmitter } from '../../base/emitter.js';
import { UndeliveredError } from '../../hal/errors.js';
import type { ConnectorLock, DigitalInput, EnergyMeter, EvseHal, FaultEvents, Hal, HalFault, IdReader, IdReaderEvents, IdTokenKind, InputEvents, LockEvents, MeterReading, PilotController, PilotEvents, PilotState, Relay, RelayEvents } from '../../hal/types.js';
import { loggerOver, type Logger } from '../../base/logger.js';

class Faulty<E extends FaultEvents & { [K in keyof E]: unknown[] }> extends TypedEmitter<E> {
  private readonly faults = new Map<HalFault['kind'], HalFault>();
  /** Like the real drivers: what was raised and not cleared, whether or not anyone listened. */
  get activeFaults(): HalFault[] {
    return [...this.faults.values()];
  }
  raise(f: HalFault): void {
    this.faults.set(f.kind, f);
    // The fault events exist in every E (E extends FaultEvents); the compiler cannot see that through the generic.
    this.emit('fault' as keyof E & string, ...([f] as unknown as E[keyof E & string]));
  }
  clear(kind: HalFault['kind']): void {
    this.faults.delete(kind);
    this.emit('fault-cleared' as keyof E & string, ...([kind] as unknown as E[keyof E & string]));
  }
}

export class FakeRelay extends Faulty<RelayEvents> implements Relay {
  commanded = false;
  feedback: boolean | undefined;
  /** Every command in order. */
  readonly commands: boolean[] = [];
  /** When true and the relay has feedback, the mirror contact follows each command. */
  followFeedback = true;
  failNext = false;

  constructor(withFeedback = false) {
    super();
    this.feedback = withFeedback ? false : undefined;
  }

  /**
   * While true every command is undeliverable (the board's port is gone): the intent is recorded as
   * commanded, as a driver whose board state is shared does, and the call rejects with UndeliveredError.
   */
  unreachable = false;

  set(closed: boolean): Promise<void> {
    if (this.unreachable) {
      this.commanded = closed;
      return Promise.reject(new UndeliveredError('port /dev/ttyUSB0 is not open'));
    }
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('relay driver failure'));
    }
    this.commanded = closed;
    this.commands.push(closed);
    if (this.feedback !== undefined && this.followFeedback) this.setFeedback(closed);
    return Promise.resolve();
  }

  setFeedback(closed: boolean): void {
    if (this.feedback === closed) return;
    this.feedback = closed;
    this.emit('feedback', closed);
  }
}

export class FakePilot extends Faulty<PilotEvents> implements PilotController {
  state: PilotState = 'A';
  ppAmps: number | null = null;
  maxCurrent = 0;
  readonly pwm: number[] = [];

  setState(s: PilotState): void {
    this.state = s;
    this.emit('state', s);
  }

  setPp(amps: number | null): void {
    this.ppAmps = amps;
    this.emit('pp', amps);
  }

  setMaxCurrent(amps: number): Promise<void> {
    this.maxCurrent = amps;
    this.pwm.push(amps);
    return Promise.resolve();
  }
}

export class FakeLock extends Faulty<LockEvents> implements ConnectorLock {
  locked = false;
  /** When false, lock() does not confirm (a lock failure). */
  works = true;
  readonly calls: ('lock' | 'unlock')[] = [];

  lock(): Promise<boolean> {
    this.calls.push('lock');
    if (!this.works) {
      this.raise({ kind: 'lock-failure', severity: 'low', detail: 'no sense' });
      return Promise.resolve(false);
    }
    this.locked = true;
    this.emit('locked', true);
    return Promise.resolve(true);
  }

  unlock(): Promise<boolean> {
    this.calls.push('unlock');
    this.locked = false;
    this.emit('locked', false);
    return Promise.resolve(true);
  }
}

export class FakeMeter extends Faulty<FaultEvents> implements EnergyMeter {
  energyWh = 1000;
  powerW = 0;
  failing = false;
  reads = 0;

  constructor(private readonly now: () => number) {
    super();
  }

  read(): Promise<MeterReading> {
    this.reads++;
    if (this.failing) return Promise.reject(new Error('meter silent'));
    return Promise.resolve({
      at: this.now(),
      energyImportWh: this.energyWh,
      powerW: this.powerW,
      currentA: { L1: this.powerW / 230 },
      voltageV: { L1: 230 },
    });
  }
}

export class FakeReader extends Faulty<IdReaderEvents> implements IdReader {
  tap(id: string, kind: IdTokenKind = 'ISO14443'): void {
    this.emit('token', { id, kind });
  }
}

export class FakeInput extends Faulty<InputEvents> implements DigitalInput {
  active = false;
  set(active: boolean): void {
    this.active = active;
    this.emit('change', active);
  }
}

export interface FakeEvse extends EvseHal {
  pilot: FakePilot;
  contactor: FakeRelay;
  lock?: FakeLock;
  meter: FakeMeter;
}

export interface FakeHalOptions {
  evses?: number;
  lock?: boolean;
  feedback?: boolean;
  maxCurrentA?: number;
  reader?: boolean;
  emergencyStop?: boolean;
  now?: () => number;
}

export class FakeHal implements Hal {
  readonly board = 'fake';
  readonly evses: FakeEvse[];
  readonly reader?: FakeReader;
  readonly emergencyStop?: FakeInput;
  closed = false;

  constructor(o: FakeHalOptions = {}) {
    const n = o.evses ?? 1;
    const now = o.now ?? ((): number => Date.now());
    this.evses = [];
    for (let id = 1; id <= n; id++) {
      this.evses.push({
        id,
        pilot: new FakePilot(),
        contactor: new FakeRelay(o.feedback ?? false),
        ...(o.lock ? { lock: new FakeLock() } : {}),
        meter: new FakeMeter(now),
        maxCurrentA: o.maxCurrentA ?? 32,
        phases: 1,
        connectorType: 'cType2',
      });
    }
    if (o.reader !== false) this.reader = new FakeReader();
    if (o.emergencyStop) this.emergencyStop = new FakeInput();
  }

  evse(id: number): FakeEvse {
    const e = this.evses.find((x) => x.id === id);
    if (!e) throw new Error(`no EVSE ${id}`);
    return e;
  }

  close(): Promise<void> {
    this.closed = true;
    for (const e of this.evses) void e.contactor.set(false);
    return Promise.resolve();
  }
}

/** A logger that keeps what it was told (and stays quiet). */
export class MemoryLog implements Logger {
  readonly lines: { level: string; msg: string; meta?: Record<string, unknown> }[] = [];
  error(msg: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', msg, ...(meta ? { meta } : {}) });
  }
  warn(msg: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', msg, ...(meta ? { meta } : {}) });
  }
  info(msg: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', msg, ...(meta ? { meta } : {}) });
  }
  debug(msg: string, meta?: Record<string, unknown>): void {
    this.lines.push({ level: 'debug', msg, ...(meta ? { meta } : {}) });
  }
  child(namespace: string): Logger {
    return loggerOver(this, namespace);
  }
}
