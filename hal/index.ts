/**
 * createHal: builds the parts a board profile names (hal/profile.ts) with the drivers of
 * hal/registry.ts. Hal.close() drives every output to its safe state first, then releases.
 */
import type { EvseHal, Hal, HalDeps, SimControl } from './types.js';
import type { BoardProfile, EvseProfile, PartSpec } from './profile.js';
import { findDriver, type DriverContext, type PartKind, type PartTypes } from './registry.js';

export type { BoardProfile, EvseProfile, PartSpec } from './profile.js';
export { loadBoardProfile, validateBoardProfile, mergeProfile } from './profile.js';
export { drivers, registerDriver } from './registry.js';
export type { DriverContext, DriverFactory, PartKind, PartTypes } from './registry.js';

export interface HalExtras {
  /** The meter of the building's other load (config site.otherLoadMeter), built with the meter drivers. */
  siteMeter?: PartSpec;
}

export async function createHal(profile: BoardProfile, deps: HalDeps, extras: HalExtras = {}): Promise<Hal> {
  const sharedResources = new Map<string, Promise<unknown>>();
  const closers: (() => void | Promise<void>)[] = [];
  let sim: SimControl | undefined;

  const context = (part: PartKind, evse?: EvseProfile): DriverContext => ({
    board: profile,
    part,
    evse,
    shared<T>(key: string, create: () => T | Promise<T>): Promise<T> {
      let r = sharedResources.get(key);
      if (!r) {
        r = Promise.resolve().then(create);
        sharedResources.set(key, r);
      }
      return r as Promise<T>;
    },
    onClose(fn) {
      closers.push(fn);
    },
    provideSimControl(control) {
      sim = control;
    },
  });

  const build = async <K extends PartKind>(kind: K, spec: PartSpec, where: string, evse?: EvseProfile): Promise<PartTypes[K]> => {
    const { driver, ...options } = spec;
    const factory = findDriver(kind, driver, `board "${profile.name}" ${where}`);
    try {
      return await factory(options, deps, context(kind, evse));
    } catch (err) {
      throw new Error(`board "${profile.name}" ${where}: driver "${driver}" failed: ${(err as Error).message}`, { cause: err });
    }
  };

  const releaseAll = async (): Promise<void> => {
    for (const fn of closers.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        deps.log.error('closing a HAL part failed', { error: (err as Error).message });
      }
    }
  };

  // Filled as each output is built, so a failure half-way still leaves the built outputs safe.
  const makeSafe: { what: string; act: () => Promise<void> }[] = [];
  const goSafe = async (): Promise<void> => {
    for (const { what, act } of makeSafe) {
      try {
        await act();
      } catch (err) {
        deps.log.error(`could not make ${what} safe`, { error: (err as Error).message });
      }
    }
  };

  const evses: EvseHal[] = [];
  let reader: Hal['reader'];
  let display: Hal['display'];
  let emergencyStop: Hal['emergencyStop'];
  let siteMeter: Hal['siteMeter'];
  try {
    for (const e of profile.evses) {
      const at = `EVSE ${e.id}`;
      const pilot = await build('pilot', e.pilot, `${at} pilot`, e);
      makeSafe.push({ what: `${at} pilot (PWM off)`, act: () => pilot.setMaxCurrent(0) });
      const contactor = await build('contactor', e.contactor, `${at} contactor`, e);
      makeSafe.unshift({ what: `${at} contactor (open)`, act: () => contactor.set(false) });
      evses.push({
        id: e.id,
        pilot,
        contactor,
        lock: e.lock ? await build('lock', e.lock, `${at} lock`, e) : undefined,
        meter: await build('meter', e.meter, `${at} meter`, e),
        maxCurrentA: e.maxCurrentA,
        phases: e.phases,
        connectorType: e.connectorType,
        ...(e.phaseSwitch ? { phaseSwitch: await build('phaseSwitch', e.phaseSwitch, `${at} phase switch`, e) } : {}),
      });
    }
    if (profile.reader) reader = await build('reader', profile.reader, 'reader');
    if (profile.display) display = await build('display', profile.display, 'display');
    if (profile.emergencyStop) emergencyStop = await build('emergencyStop', profile.emergencyStop, 'emergencyStop');
    if (extras.siteMeter) siteMeter = await build('meter', extras.siteMeter, 'site.otherLoadMeter');
  } catch (err) {
    await goSafe();
    await releaseAll();
    throw err;
  }

  let closed: Promise<void> | undefined;
  return {
    board: profile.name,
    nominalVoltageV: profile.nominalVoltageV ?? 230,
    evses,
    reader,
    display,
    emergencyStop,
    siteMeter,
    sim,
    close(): Promise<void> {
      closed ??= (async () => {
        await goSafe();
        await releaseAll();
      })();
      return closed;
    },
  };
}
