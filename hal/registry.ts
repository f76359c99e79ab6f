/**
 * Driver registry: for each kind of part, driver name → driver. Every driver has one shape: the JSON
 * Schema of its options (the one rule set: the profile loader checks a whole profile with it before
 * anything is built, the driver checks what it is given with it, config/boards/board.schema.json is
 * made from it) and a module, imported on first use, whose `create(options, ctx)` builds the part.
 * Lazy imports keep a machine running the simulated board from loading native modules (onoff,
 * serialport, i2c-bus) it does not need. A new driver is one entry here.
 *
 * A driver shares a port with other parts only through `ctx.shared(key, …)` (one RAPI link for an
 * OpenEVSE's pilot and contactor, one Modbus bus for several meters, one simulated world): there is
 * no module-global port map, so two HALs (or two tests) never share a port by accident.
 */
import type { Logger } from '../base/logger.js';
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
import type { BoardProfile, EvseProfile, PartSpec } from './profile.js';
import type { JsonSchema, OptionRules } from './options-schema.js';
import type { GpioFactory } from './gpio/pins.js';
import type { I2cOpener } from './i2c/hd44780.js';
import { gpioInputSchema, gpioLockSchema, gpioRelaySchema } from './gpio/schemas.js';
import { hd44780Schema } from './i2c/schemas.js';
import { modbusMeterRules, modbusMeterSchema } from './modbus/schemas.js';
import { linePilotRules, linePilotSchema, lineReaderSchema, rapiContactorSchema, rapiPilotRules, rapiPilotSchema, rdm6300Schema } from './serial/schemas.js';
import { simDisplaySchema, simNoOptionsSchema } from './sim/schemas.js';

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

/** Access to the machine a caller may hand in instead of the real device (tests, bring-up). */
export interface DriverSeams {
  /** A fake Gpio; when absent, onoff is imported on first use. */
  gpio?: GpioFactory;
  /** A fake /sys/class/gpio. */
  sysfsRoot?: string;
  /** Opens an I2C bus; when absent, i2c-bus is imported. */
  i2c?: I2cOpener;
}

/** What a driver knows about where its part sits, and the board-wide services it may use. */
export interface DriverContext extends HalDeps {
  /** The part's own logger: its lines carry `hal:evse1:pilot`, `hal:reader`, … */
  readonly log: Logger;
  readonly part: PartKind;
  /** The board being built; absent when a part is built alone (bring-up commands, driver tests). */
  readonly board?: BoardProfile;
  /** The EVSE the part belongs to; undefined for station-wide parts (reader, display, emergencyStop, site meter). */
  readonly evse?: EvseProfile;
  readonly seams: DriverSeams;
  /**
   * A resource shared by several parts (one serial port carrying pilot and contactor, one Modbus bus
   * for several meters, the simulated world), created on first use under `key` with a logger of its
   * own (`hal:<key>`).
   */
  shared<T>(key: string, create: (log: Logger) => T | Promise<T>): Promise<T>;
  /** Cleanup run when the HAL (or the context) closes, after the outputs went safe, in reverse order of registration. */
  onClose(fn: () => void | Promise<void>): void;
  /** The simulated board hands its controls to Hal.sim through this. */
  provideSimControl(control: SimControl): void;
}

/** A driver module: builds its part from its options (checked against its schema) and the context. */
export interface DriverModule<P> {
  create(options: unknown, ctx: DriverContext): Promise<P>;
}

export interface Driver<K extends PartKind> {
  /** JSON Schema of the options (every key of the part but "driver"). */
  readonly options: JsonSchema;
  /** Rules between options that the schema cannot say, run after it (hal/options-schema.ts). */
  readonly rules?: OptionRules;
  load(): Promise<DriverModule<PartTypes[K]>>;
}

export type DriverTable = { [K in PartKind]: Record<string, Driver<K>> };

function driver<K extends PartKind>(options: JsonSchema, load: () => Promise<DriverModule<PartTypes[K]>>, rules?: OptionRules): Driver<K> {
  return rules ? { options, rules, load } : { options, load };
}

export const drivers: DriverTable = {
  pilot: {
    sim: driver(simNoOptionsSchema, async () => (await import('./sim/drivers.js')).pilot),
    line: driver(linePilotSchema, () => import('./serial/pilot-line.js'), linePilotRules),
    rapi: driver(rapiPilotSchema, () => import('./serial/pilot-rapi.js'), rapiPilotRules),
  },
  contactor: {
    sim: driver(simNoOptionsSchema, async () => (await import('./sim/drivers.js')).contactor),
    gpio: driver(gpioRelaySchema, () => import('./gpio/relay.js')),
    rapi: driver(rapiContactorSchema, () => import('./serial/rapi-contactor.js')),
  },
  lock: {
    sim: driver(simNoOptionsSchema, async () => (await import('./sim/drivers.js')).lock),
    gpio: driver(gpioLockSchema, () => import('./gpio/lock.js')),
  },
  meter: {
    sim: driver(simNoOptionsSchema, async () => (await import('./sim/drivers.js')).meter),
    modbus: driver(modbusMeterSchema, () => import('./modbus/meter.js'), modbusMeterRules),
  },
  reader: {
    sim: driver(simNoOptionsSchema, async () => (await import('./sim/drivers.js')).reader),
    line: driver(lineReaderSchema, () => import('./serial/reader-line.js')),
    rdm6300: driver(rdm6300Schema, () => import('./serial/reader-rdm6300.js')),
  },
  display: {
    sim: driver(simDisplaySchema, async () => (await import('./sim/drivers.js')).display),
    'hd44780-pcf8574': driver(hd44780Schema, () => import('./i2c/hd44780.js')),
  },
  emergencyStop: {
    gpio: driver(gpioInputSchema, () => import('./gpio/input.js')),
  },
  phaseSwitch: {
    sim: driver(simNoOptionsSchema, async () => (await import('./sim/drivers.js')).phaseSwitch),
  },
};

/** Adds (or replaces) a driver at run time, e.g. for a test double or an out-of-tree driver. */
export function registerDriver<K extends PartKind>(kind: K, name: string, d: Driver<K>): void {
  (drivers[kind] as Record<string, Driver<K>>)[name] = d;
}

/** The known drivers of a kind, for messages. */
export function driverNames(kind: PartKind): string[] {
  return Object.keys(drivers[kind]);
}

/** Undefined when `name` is no driver of this kind. */
export function lookupDriver<K extends PartKind>(kind: K, name: string): Driver<K> | undefined {
  const table = drivers[kind] as Record<string, Driver<K>>;
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

export function unknownDriverProblem(kind: PartKind, name: string): string {
  const known = driverNames(kind);
  return `unknown ${kind} driver "${name}" (known ${kind} drivers: ${known.length > 0 ? known.join(', ') : 'none'})`;
}

export function findDriver<K extends PartKind>(kind: K, name: string, where: string): Driver<K> {
  const d = lookupDriver(kind, name);
  if (!d) throw new Error(`${where}: ${unknownDriverProblem(kind, name)}`);
  return d;
}

/**
 * Builds one part: `spec` is `{ driver, …options }`. The driver's create() checks the options with
 * the driver's schema. A part with close() is closed by the context's close.
 */
export async function buildPart<K extends PartKind>(kind: K, spec: PartSpec, ctx: DriverContext, where: string = kind): Promise<PartTypes[K]> {
  const { driver: name, ...options } = spec;
  const d = findDriver(kind, name, where);
  const part = await (await d.load()).create(options, ctx);
  const closable = part as { close?: () => void | Promise<void> };
  if (typeof closable.close === 'function') ctx.onClose(() => closable.close?.());
  return part;
}

/** A context of its own: shared resources and closers live until close(). */
export interface StandaloneContext extends DriverContext {
  /** Runs the closers in reverse order of registration; each error is logged, the rest still run. */
  close(): Promise<void>;
}

export interface ContextInit extends HalDeps {
  part: PartKind;
  board?: BoardProfile;
  evse?: EvseProfile;
  seams?: DriverSeams;
  /** Shared resources of this context; give one map to several contexts to let their parts share ports. */
  sharedResources?: Map<string, Promise<unknown>>;
  /** Parent of the loggers of shared resources (`hal` in createHal: `hal:rapi:/dev/ttyUSB0`); default `log`. */
  sharedLog?: Logger;
  closers?: (() => void | Promise<void>)[];
  onSimControl?: (control: SimControl) => void;
}

/**
 * A driver context. createHal makes one per part over one map of shared resources; a bring-up
 * command or a driver test makes one for the part(s) it builds (the same context for parts that share
 * a port, e.g. an OpenEVSE's pilot and contactor).
 */
export function driverContext(init: ContextInit): StandaloneContext {
  const sharedResources = init.sharedResources ?? new Map<string, Promise<unknown>>();
  const closers = init.closers ?? [];
  return {
    clock: init.clock,
    log: init.log,
    part: init.part,
    board: init.board,
    evse: init.evse,
    seams: init.seams ?? {},
    shared<T>(key: string, create: (log: Logger) => T | Promise<T>): Promise<T> {
      let r = sharedResources.get(key);
      if (!r) {
        r = Promise.resolve().then(() => create((init.sharedLog ?? init.log).child(key)));
        sharedResources.set(key, r);
        // A failed creation is not kept: the next part may try again (and say why it failed).
        r.catch(() => sharedResources.delete(key));
      }
      return r as Promise<T>;
    },
    onClose(fn) {
      closers.push(fn);
    },
    provideSimControl(control) {
      init.onSimControl?.(control);
    },
    async close() {
      for (const fn of closers.splice(0).reverse()) {
        try {
          await fn();
        } catch (err) {
          init.log.error('closing a HAL part failed', { error: (err as Error).message });
        }
      }
    },
  };
}
