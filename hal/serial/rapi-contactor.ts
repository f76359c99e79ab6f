/**
 * The contactor of an OpenEVSE board. The board closes its relay by itself in state C/D while
 * enabled and opens it within its own timings; the host cannot close it directly. So this part is
 * a permission, delegated to RAPI enable/sleep:
 *   set(true)  → `$FE` when the board sleeps and the pilot has a current to offer;
 *   set(false) → `$FS` when the EV is drawing (state C/D), which opens the relay (and stops the PWM).
 * In A/B the relay is open already and set(false) sends nothing, so the EV can still see the PWM
 * and ask for energy. There is no mirror contact to read: feedback is undefined; the board
 * reports a stuck relay as EVSE state 8, which the pilot part turns into contactor-welded.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { Relay, RelayEvents } from '../types.js';
import { EVSE_STATE_DISABLED, EVSE_STATE_SLEEPING } from './rapi-protocol.js';
import type { Logger } from '../../base/logger.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { acquireRapiLink, type RapiLink, type RapiLinkOptions } from './rapi-link.js';
import { rapiContactorSchema } from './schemas.js';

/** Options checked by hal/serial/schemas.ts rapiContactorSchema (defaults filled in). */
export function parseRapiContactorOptions(raw: unknown, where = 'contactor options'): RapiLinkOptions {
  return checkOptions<RapiLinkOptions>(rapiContactorSchema, raw, where);
}

export class RapiContactor extends TypedEmitter<RelayEvents> implements Relay {
  private closed = false;

  constructor(
    readonly link: RapiLink,
    log?: Logger,
  ) {
    super(log);
  }

  get commanded(): boolean {
    return this.link.board.contactorAllowed;
  }

  get feedback(): boolean | undefined {
    return undefined;
  }

  async set(closed: boolean): Promise<void> {
    const b = this.link.board;
    b.contactorAllowed = closed;
    const asleep = b.evseState === EVSE_STATE_SLEEPING || b.evseState === EVSE_STATE_DISABLED;
    if (closed) {
      if (asleep && b.pwmAmps > 0) {
        await this.link.command('FE');
        b.evseState = 0;
      }
      return;
    }
    const drawing = b.pilotCode === 3 || b.pilotCode === 4 || b.evseState === 3 || b.evseState === 4;
    if (drawing && !asleep) {
      await this.link.command('FS');
      b.evseState = EVSE_STATE_SLEEPING;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.set(false).catch(() => undefined);
    await this.link.release();
  }
}

/** options: the same port settings as the pilot of this board (port, baudRate, timeoutMs, …). */
export async function create(options: unknown, ctx: DriverContext): Promise<RapiContactor> {
  const link = await acquireRapiLink(parseRapiContactorOptions(options), ctx);
  return new RapiContactor(link, ctx.log);
}
