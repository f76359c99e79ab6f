/**
 * Factories of the simulated parts (registered as driver "sim" in hal/registry.ts). All sim parts
 * of a board share one SimWorld, so the meter integrates what the virtual EV draws through the
 * simulated contactor under the simulated pilot's PWM limit.
 */
import type { ConnectorLock, Display, EnergyMeter, HalDeps, IdReader, PhaseSwitch, PilotController, Relay } from '../types.js';
import type { DriverContext } from '../registry.js';
import { SimWorld } from './world.js';
import { num, onlyKeys } from '../driver-options.js';
import type { SimEvse } from './evse.js';

async function world(deps: HalDeps, ctx: DriverContext): Promise<SimWorld> {
  const w = await ctx.shared('sim', () => {
    const created = new SimWorld(ctx.board, deps);
    ctx.onClose(() => created.close());
    return created;
  });
  ctx.provideSimControl(w);
  return w;
}

async function evseOf(deps: HalDeps, ctx: DriverContext): Promise<SimEvse> {
  if (!ctx.evse) throw new Error(`sim ${ctx.part} driver: this part belongs to an EVSE`);
  return (await world(deps, ctx)).evse(ctx.evse.id);
}

export async function simPilot(_o: Record<string, unknown>, deps: HalDeps, ctx: DriverContext): Promise<PilotController> {
  return (await evseOf(deps, ctx)).pilot;
}

export async function simContactor(_o: Record<string, unknown>, deps: HalDeps, ctx: DriverContext): Promise<Relay> {
  return (await evseOf(deps, ctx)).contactor;
}

export async function simLock(_o: Record<string, unknown>, deps: HalDeps, ctx: DriverContext): Promise<ConnectorLock> {
  return (await evseOf(deps, ctx)).lock;
}

/** On an EVSE its meter; as the site meter (no EVSE) the building's other load. */
export async function simMeter(_o: Record<string, unknown>, deps: HalDeps, ctx: DriverContext): Promise<EnergyMeter> {
  if (!ctx.evse) return (await world(deps, ctx)).siteMeter;
  return (await evseOf(deps, ctx)).meter;
}

export async function simReader(_o: Record<string, unknown>, deps: HalDeps, ctx: DriverContext): Promise<IdReader> {
  const w = await world(deps, ctx);
  w.readerInUse = true;
  return w.reader;
}

/** Options: cols (8–40, default 20) and rows (1–4, default 4), like the HD44780's. */
export async function simDisplay(o: Record<string, unknown>, deps: HalDeps, ctx: DriverContext): Promise<Display> {
  const where = 'display.options';
  onlyKeys(o, where, ['cols', 'rows']);
  const d = (await world(deps, ctx)).display;
  d.configure(num(o, 'cols', where, { def: 20, int: true, min: 8, max: 40 }), num(o, 'rows', where, { def: 4, int: true, min: 1, max: 4 }));
  return d;
}

export async function simPhaseSwitch(_o: Record<string, unknown>, deps: HalDeps, ctx: DriverContext): Promise<PhaseSwitch> {
  return (await evseOf(deps, ctx)).phaseSwitch;
}
