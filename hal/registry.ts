/**
 * Driver registry: for each kind of part, driver name → factory. A new driver is one entry here.
 * Factories import their module lazily so that a machine running the simulated board never loads
 * native modules (onoff, serialport, i2c-bus) it does not need.
 *
 * To add a real driver, e.g. a GPIO relay in hal/gpio/relay.ts exporting createGpioRelay:
 *   contactor: { …, gpio: async (o, d, c) => (await import('./gpio/relay.js')).createGpioRelay(o, d, c) },
 */
import type {
  ConnectorLock,
  DigitalInput,
  Display,
  EnergyMeter,
  HalDeps,
  IdReader,
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
  pilot: { sim: async (o, d, c) => (await sim()).simPilot(o, d, c) },
  contactor: { sim: async (o, d, c) => (await sim()).simContactor(o, d, c) },
  lock: { sim: async (o, d, c) => (await sim()).simLock(o, d, c) },
  meter: { sim: async (o, d, c) => (await sim()).simMeter(o, d, c) },
  reader: { sim: async (o, d, c) => (await sim()).simReader(o, d, c) },
  display: { sim: async (o, d, c) => (await sim()).simDisplay(o, d, c) },
  emergencyStop: {},
};

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
