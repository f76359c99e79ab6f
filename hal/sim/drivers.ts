/**
 * The simulated parts as drivers (registered as driver "sim" in hal/registry.ts). All sim parts of a
 * board share one SimWorld (ctx.shared), so the meter integrates what the virtual EV draws through
 * the simulated contactor under the simulated pilot's PWM limit.
 */
import type { ConnectorLock, Display, EnergyMeter, IdReader, PhaseSwitch, PilotController, Relay } from '../types.js';
import type { DriverContext, DriverModule } from '../registry.js';
import { checkOptions } from '../options-schema.js';
import { SimWorld } from './world.js';
import type { SimEvse } from './evse.js';
import { simDisplaySchema, simNoOptionsSchema } from './schemas.js';

async function world(ctx: DriverContext): Promise<SimWorld> {
  const board = ctx.board;
  if (!board) throw new Error(`sim ${ctx.part} driver: a simulated part is built as part of a board (createHal)`);
  const w = await ctx.shared('sim', (log) => {
    const created = new SimWorld(board, { clock: ctx.clock, log });
    ctx.onClose(() => created.close());
    return created;
  });
  ctx.provideSimControl(w);
  return w;
}

async function evseOf(ctx: DriverContext): Promise<SimEvse> {
  if (!ctx.evse) throw new Error(`sim ${ctx.part} driver: this part belongs to an EVSE`);
  return (await world(ctx)).evse(ctx.evse.id);
}

/** A sim part of an EVSE: no options; its listener errors go to the part's logger. */
function evsePart<P>(pick: (e: SimEvse) => P & { useLog?(log: DriverContext['log']): void }): DriverModule<P> {
  return {
    async create(options, ctx) {
      checkOptions(simNoOptionsSchema, options, `${ctx.part} options`);
      const p = pick(await evseOf(ctx));
      p.useLog?.(ctx.log);
      return p;
    },
  };
}

export const pilot: DriverModule<PilotController> = evsePart((e) => e.pilot);
export const contactor: DriverModule<Relay> = evsePart((e) => e.contactor);
export const lock: DriverModule<ConnectorLock> = evsePart((e) => e.lock);
export const phaseSwitch: DriverModule<PhaseSwitch> = evsePart((e) => e.phaseSwitch);

/** On an EVSE its meter; as the site meter (no EVSE) the building's other load. */
export const meter: DriverModule<EnergyMeter> = {
  async create(options, ctx) {
    checkOptions(simNoOptionsSchema, options, 'meter options');
    const m = ctx.evse ? (await evseOf(ctx)).meter : (await world(ctx)).siteMeter;
    m.useLog(ctx.log);
    return m;
  },
};

export const reader: DriverModule<IdReader> = {
  async create(options, ctx) {
    checkOptions(simNoOptionsSchema, options, 'reader options');
    const w = await world(ctx);
    w.readerInUse = true;
    w.reader.useLog(ctx.log);
    return w.reader;
  },
};

/** Options: cols (8–40, default 20) and rows (1–4, default 4), like the HD44780's. */
export const display: DriverModule<Display> = {
  async create(options, ctx) {
    const o = checkOptions<{ cols: number; rows: number }>(simDisplaySchema, options, 'display options');
    const d = (await world(ctx)).display;
    d.useLog(ctx.log);
    d.configure(o.cols, o.rows);
    return d;
  },
};
