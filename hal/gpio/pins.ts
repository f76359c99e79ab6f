/**
 * Pins over onoff (sysfs GPIO), behind a small interface so that tests hand in a fake and a
 * libgpiod driver can replace onoff later. Active-low is done here, not by the kernel, so that an
 * output is exported directly at its safe level ('high'/'low' direction: no glitch that could
 * pull a relay in at start-up) and so that the fake sees real pin levels.
 * Debouncing uses the injected clock. Outputs go to their safe level and are unexported on
 * close() and, as a last resort, on the process 'exit' event.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { DriverContext } from '../registry.js';
import { findHeaderChip } from './sysfs.js';

export type Level = 0 | 1;
export type Direction = 'in' | 'out' | 'high' | 'low';
export type Edge = 'none' | 'rising' | 'falling' | 'both';

/** The part of onoff's Gpio this HAL uses. */
export interface GpioLike {
  readSync(): Level;
  writeSync(value: Level): void;
  watch(callback: (err: Error | null | undefined, value: Level) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export type GpioFactory = (line: number, direction: Direction, edge?: Edge) => GpioLike;

async function onoffFactory(): Promise<GpioFactory> {
  const { Gpio } = await import('onoff');
  if (!Gpio.accessible) throw new Error('GPIO is not accessible (no /sys/class/gpio, or the user is not in the gpio group)');
  return (line, direction, edge) => new Gpio(line, direction, edge);
}

/** Where BCM pin numbers start in sysfs numbering, and how to make pins. */
export interface PinSource {
  base: number;
  factory: GpioFactory;
  clock: Clock;
  /** The part's logger (listener errors of the part go there). */
  log?: Logger;
}

/** The pin source options (hal/gpio/schemas.ts pinSourceProperties). */
export interface PinSourceOptions {
  gpioBase?: number;
  chipLabel?: string;
}

export async function pinSource(o: PinSourceOptions, ctx: DriverContext): Promise<PinSource> {
  const base = o.gpioBase ?? findHeaderChip(ctx.seams.sysfsRoot, o.chipLabel).base;
  return { base, factory: ctx.seams.gpio ?? (await onoffFactory()), clock: ctx.clock, log: ctx.log };
}

export interface PinSpec {
  /** BCM number. */
  pin: number;
  activeLow: boolean;
  debounceMs: number;
}

/** A pin as the schema allows it (hal/gpio/schemas.ts pinSchema): a BCM number or {pin, activeLow, debounceMs}. */
export type PinOption = number | { pin: number; activeLow?: boolean; debounceMs?: number };

export function parsePin(raw: PinOption, defaults: { debounceMs?: number } = {}): PinSpec {
  const o = typeof raw === 'number' ? { pin: raw } : raw;
  return { pin: o.pin, activeLow: o.activeLow ?? false, debounceMs: o.debounceMs ?? defaults.debounceMs ?? 0 };
}

const liveOutputs = new Set<OutputPin>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' runs for normal ends and uncaught exceptions; only synchronous work is possible here.
  process.once('exit', () => {
    for (const out of liveOutputs) out.releaseSync();
  });
}

export class OutputPin {
  private readonly gpio: GpioLike;
  private readonly safeRaw: Level;
  private activeNow: boolean;

  constructor(
    src: PinSource,
    readonly spec: PinSpec,
    /** The level the output rests at when the software is not in control (e.g. relay open). */
    readonly safeActive = false,
  ) {
    this.safeRaw = this.raw(safeActive);
    this.gpio = src.factory(src.base + spec.pin, this.safeRaw === 1 ? 'high' : 'low');
    this.activeNow = safeActive;
    liveOutputs.add(this);
    installExitHook();
  }

  get active(): boolean {
    return this.activeNow;
  }

  set(active: boolean): void {
    this.gpio.writeSync(this.raw(active));
    this.activeNow = active;
  }

  private raw(active: boolean): Level {
    return active !== this.spec.activeLow ? 1 : 0;
  }

  /** Safe level, then unexport. Idempotent. */
  releaseSync(): void {
    if (!liveOutputs.delete(this)) return;
    try {
      this.gpio.writeSync(this.safeRaw);
      this.activeNow = this.safeActive;
    } finally {
      this.gpio.unexport();
    }
  }
}

/** A debounced input: onChange(active) fires once the level has been stable for debounceMs. */
export class InputPin {
  private readonly gpio: GpioLike;
  private stable: boolean;
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly src: PinSource,
    readonly spec: PinSpec,
    private readonly onChange: (active: boolean) => void,
  ) {
    this.gpio = src.factory(src.base + spec.pin, 'in', 'both');
    this.stable = this.sample();
    this.gpio.watch((err) => {
      if (err || this.closed) return;
      if (spec.debounceMs <= 0) return this.settle();
      src.clock.clear(this.timer);
      this.timer = src.clock.setTimeout(() => this.settle(), spec.debounceMs);
    });
  }

  get active(): boolean {
    return this.stable;
  }

  private sample(): boolean {
    return (this.gpio.readSync() === 1) !== this.spec.activeLow;
  }

  private settle(): void {
    this.timer = undefined;
    const now = this.sample();
    if (now === this.stable) return;
    this.stable = now;
    this.onChange(now);
  }

  release(): void {
    if (this.closed) return;
    this.closed = true;
    this.src.clock.clear(this.timer);
    this.gpio.unwatchAll();
    this.gpio.unexport();
  }
}
