/**
 * createHal: builds the parts a board profile names (hal/profile.ts) with the drivers of
 * hal/registry.ts. Hal.close() drives every output to its safe state first, then releases.
 */
import type { EvseHal, Hal, HalDeps, SimControl } from './types.js';
import { validateBoardShape, type BoardProfile, type EvseProfile, type PartSpec } from './profile.js';
import { buildPart, driverContext, findDriver, type DriverSeams, type PartKind, type PartTypes } from './registry.js';

export type { BoardProfile, EvseProfile, PartSpec } from './profile.js';
export { loadBoardProfile, validateBoardProfile, validatePart, mergeProfile } from './profile.js';
export { drivers, registerDriver, driverContext, buildPart } from './registry.js';
export type { Driver, DriverContext, DriverModule, DriverSeams, PartKind, PartTypes } from './registry.js';

export interface HalExtras {
  /** The meter of the building's other load (config site.otherLoadMeter), built with the meter drivers. */
  siteMeter?: PartSpec;
  /** Devices handed in instead of the real ones (bring-up, tests). */
  seams?: DriverSeams;
}

export async function createHal(profile: BoardProfile, deps: HalDeps, extras: HalExtras = {}): Promise<Hal> {
  // The board's own shape (ids, phases, the virtual EV) is checked before any part is built; each
  // driver checks its options with the same schemas the profile loader uses.
  validateBoardShape(profile, `board "${profile.name}"`);
  const sharedResources = new Map<string, Promise<unknown>>();
  const closers: (() => void | Promise<void>)[] = [];
  const halLog = deps.log.child('hal');
  let sim: SimControl | undefined;

  const context = (part: PartKind, logName: string, evse?: EvseProfile) =>
    driverContext({
      clock: deps.clock,
      log: halLog.child(logName),
      sharedLog: halLog,
      part,
      board: profile,
      evse,
      seams: extras.seams,
      sharedResources,
      closers,
      onSimControl: (control) => (sim = control),
    });
  const releaseAll = context('pilot', 'close').close;

  const build = async <K extends PartKind>(kind: K, spec: PartSpec, where: string, logName: string, evse?: EvseProfile): Promise<PartTypes[K]> => {
    const at = `board "${profile.name}" ${where}`;
    findDriver(kind, spec.driver, at);
    try {
      return await buildPart(kind, spec, context(kind, logName, evse), at);
    } catch (err) {
      throw new Error(`${at}: driver "${spec.driver}" failed: ${(err as Error).message}`, { cause: err });
    }
  };

  // Filled as each output is built, so a failure half-way still leaves the built outputs safe.
  const makeSafe: { what: string; act: () => Promise<void> }[] = [];
  const goSafe = async (): Promise<void> => {
    for (const { what, act } of makeSafe) {
      try {
        await act();
      } catch (err) {
        halLog.error(`could not make ${what} safe`, { error: (err as Error).message });
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
      const ns = `evse${e.id}`;
      const pilot = await build('pilot', e.pilot, `${at} pilot`, `${ns}:pilot`, e);
      makeSafe.push({ what: `${at} pilot (PWM off)`, act: () => pilot.setMaxCurrent(0) });
      const contactor = await build('contactor', e.contactor, `${at} contactor`, `${ns}:contactor`, e);
      makeSafe.unshift({ what: `${at} contactor (open)`, act: () => contactor.set(false) });
      evses.push({
        id: e.id,
        pilot,
        contactor,
        lock: e.lock ? await build('lock', e.lock, `${at} lock`, `${ns}:lock`, e) : undefined,
        meter: await build('meter', e.meter, `${at} meter`, `${ns}:meter`, e),
        maxCurrentA: e.maxCurrentA,
        phases: e.phases,
        connectorType: e.connectorType,
        ...(e.phaseSwitch ? { phaseSwitch: await build('phaseSwitch', e.phaseSwitch, `${at} phase switch`, `${ns}:phase-switch`, e) } : {}),
      });
    }
    if (profile.reader) reader = await build('reader', profile.reader, 'reader', 'reader');
    if (profile.display) display = await build('display', profile.display, 'display', 'display');
    if (profile.emergencyStop) emergencyStop = await build('emergencyStop', profile.emergencyStop, 'emergencyStop', 'emergency-stop');
    if (extras.siteMeter) siteMeter = await build('meter', extras.siteMeter, 'site.otherLoadMeter', 'site-meter');
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
