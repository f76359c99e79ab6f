/**
 * Driver registry: for each kind of part, driver name → factory. A new driver is one entry here.
 * Factories import their module lazily so that a machine running the simulated board never loads
 * native modules (onoff, serialport, i2c-bus) it does not need.
 *
 * To add a real driver whose module exports `create(options, deps)` (the convention of hal/serial):
 *   pilot: { …, 'serial-line': moduleDriver(() => import('./serial/pilot-line.js')) },
 * or, for a factory that needs the context (shared ports), a DriverFactory of its own:
 *   contactor: { …, gpio: async (o, d, c) => (await import('./gpio/relay.js')).createGpioRelay(o, d, c) },
 */
import type {
  ConnectorLock,
  DigitalInput,
  Display,
  EnergyMeter,
  HalDeps,
  IdReader,
  PhaseSwitch,
  PilotController,
  Relay,
  SimControl,
} from './types.js';
import type { BoardProfile, EvseProfile } from './profile.js';

export interface PartTypes {
  pilot: PilotController;
  contactor: Relay;
  lock: ConnectorLock;
  meter: EnergyMeter;
  reader: IdReader;
  display: Display;
  emergencyStop: DigitalInput;
  phaseSwitch: PhaseSwitch;
}

export type PartKind = keyof PartTypes;

/** What a factory knows about where its part sits, and the board-wide services it may use. */
export interface DriverContext {
  board: BoardProfile;
  part: PartKind;
  /** The EVSE the part belongs to; undefined for station-wide parts (reader, display, emergencyStop). */
  evse?: EvseProfile;
  /**
   * A resource shared by several parts of the board (one serial port carrying pilot and reader,
   * one Modbus bus for several meters, the simulated world), created on first use under `key`.
   */
  shared<T>(key: string, create: () => T | Promise<T>): Promise<T>;
  /** Cleanup run by Hal.close() after the outputs went safe, in reverse order of registration. */
  onClose(fn: () => void | Promise<void>): void;
  /** The simulated board hands its controls to Hal.sim through this. */
  provideSimControl(control: SimControl): void;
}

export type DriverFactory<K extends PartKind> = (
  options: Record<string, unknown>,
  deps: HalDeps,
  ctx: DriverContext,
) => Promise<PartTypes[K]>;

export type DriverTable = { [K in PartKind]: Record<string, DriverFactory<K>> };

const sim = async () => import('./sim/drivers.js');

export const drivers: DriverTable = {
  pilot: {
    sim: async (o, d, c) => (await sim()).simPilot(o, d, c),
    line: moduleDriver(() => import('./serial/pilot-line.js')),
    rapi: moduleDriver(() => import('./serial/pilot-rapi.js')),
  },
  contactor: {
    sim: async (o, d, c) => (await sim()).simContactor(o, d, c),
    gpio: moduleDriver(() => import('./gpio/relay.js')),
    rapi: moduleDriver(() => import('./serial/rapi-contactor.js')),
  },
  lock: {
    sim: async (o, d, c) => (await sim()).simLock(o, d, c),
    gpio: moduleDriver(() => import('./gpio/lock.js')),
  },
  meter: {
    sim: async (o, d, c) => (await sim()).simMeter(o, d, c),
    modbus: moduleDriver(() => import('./modbus/meter.js')),
  },
  reader: {
    sim: async (o, d, c) => (await sim()).simReader(o, d, c),
    line: moduleDriver(() => import('./serial/reader-line.js')),
    rdm6300: moduleDriver(() => import('./serial/reader-rdm6300.js')),
  },
  display: {
    sim: async (o, d, c) => (await sim()).simDisplay(o, d, c),
    'hd44780-pcf8574': moduleDriver(() => import('./i2c/hd44780.js')),
  },
  emergencyStop: {
    gpio: moduleDriver(() => import('./gpio/input.js')),
  },
  phaseSwitch: {
    sim: async (o, d, c) => (await sim()).simPhaseSwitch(o, d, c),
  },
};

/** A driver module of the `create(options, deps)` convention; deps carry the EVSE id for per-EVSE parts. */
export interface DriverModule<P> {
  create(options: unknown, deps: HalDeps & { evseId?: number }): Promise<P>;
}

/** Wraps such a module as a factory, loaded on first use; a part with close() is closed by Hal.close(). */
export function moduleDriver<K extends PartKind>(load: () => Promise<DriverModule<PartTypes[K]>>): DriverFactory<K> {
  return async (options, deps, ctx) => {
    const part = await (await load()).create(options, { ...deps, evseId: ctx.evse?.id });
    const closable = part as { close?: () => void | Promise<void> };
    if (typeof closable.close === 'function') ctx.onClose(() => closable.close?.());
    return part;
  };
}

/** Adds (or replaces) a driver at run time, e.g. for a test double or an out-of-tree driver. */
export function registerDriver<K extends PartKind>(kind: K, name: string, factory: DriverFactory<K>): void {
  (drivers[kind] as Record<string, DriverFactory<K>>)[name] = factory;
}

export function findDriver<K extends PartKind>(kind: K, name: string, where: string): DriverFactory<K> {
  const table = drivers[kind] as Record<string, DriverFactory<K>>;
  const factory = Object.hasOwn(table, name) ? table[name] : undefined;
  if (!factory) {
    const known = Object.keys(table);
    throw new Error(
      `${where}: unknown ${kind} driver "${name}" (known ${kind} drivers: ${known.length > 0 ? known.join(', ') : 'none'})`,
    );
  }
  return factory;
}
