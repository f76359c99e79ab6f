/**
 * MaxEnergyOnInvalidId (spec 9.1.14, 3.5.4 moved to 4.8 by errata 3.17): when StartTransaction.conf
 * says the idTag is not valid and StopTransactionOnInvalidId is false, the station only stops the
 * energy — but the operator may first let the EV take up to MaxEnergyOnInvalidId Wh so it can drive
 * away. The allowance counts from the transaction's meterStart (the whole transaction, not from the
 * moment of the answer: an answer that comes late after an offline start must not grant more), so an
 * EV that has already taken it is suspended at once. When it is used up the station is told the
 * token is invalid (StationApi.deauthorize): contactor open, SuspendedEVSE, the transaction goes on
 * until the EV leaves or the owner stops it, as StopTransactionOnInvalidId false asks.
 *
 * The energy is watched through the meter: every sample of the session, and a read of our own at the
 * instant the allowance would run out at the present power (at least every second, at most a minute
 * apart), so the overshoot stays small whatever MeterValueSampleInterval is.
 */
import type { TimerHandle } from '../../../base/clock.js';
import type { AuthInfo, MeterSample } from '../../station/api.js';
import type { V16Context } from './context.js';

const MIN_CHECK_MS = 1_000;
const MAX_CHECK_MS = 60_000;

interface Allowance {
  evseId: number;
  meterStartWh: number;
  auth: AuthInfo;
  timer?: TimerHandle;
}

export class InvalidIdEnergy {
  private readonly watched = new Map<string, Allowance>();

  constructor(
    private readonly ctx: V16Context,
    /** meterStart of the session's 1.6 transaction, Wh. */
    private readonly meterStartOf: (sessionId: string) => number | undefined,
  ) {}

  /**
   * StartTransaction.conf was not Accepted. True when the allowance takes over (the station is told
   * later); false when the caller must deauthorize now.
   */
  onInvalid(sessionId: string, auth: AuthInfo): boolean {
    const { ctx } = this;
    const maxWh = ctx.cfg.int('MaxEnergyOnInvalidId');
    if (maxWh <= 0 || ctx.station.auth.stopTransactionOnInvalidId) return false;
    const s = ctx.station.findSession(sessionId);
    if (!s || s.endedAt !== undefined) return false;
    const meterStartWh = this.meterStartOf(sessionId) ?? s.meterStartWh ?? 0;
    this.watched.set(sessionId, { evseId: s.evseId, meterStartWh, auth });
    ctx.log.info('1.6: idTag invalid, charging goes on up to MaxEnergyOnInvalidId', { sessionId, maxWh, meterStartWh });
    this.readNow(sessionId);
    return true;
  }

  onMeter(sample: MeterSample): void {
    if (sample.sessionId === undefined || !this.watched.has(sample.sessionId)) return;
    this.evaluate(sample.sessionId, sample.reading.energyImportWh, sample.reading.powerW);
  }

  /** The session ended (or the adapter stops watching it). */
  forget(sessionId: string): void {
    const a = this.watched.get(sessionId);
    if (!a) return;
    this.ctx.clock.clear(a.timer);
    this.watched.delete(sessionId);
  }

  stop(): void {
    for (const id of [...this.watched.keys()]) this.forget(id);
  }

  private readNow(sessionId: string): void {
    const a = this.watched.get(sessionId);
    if (!a) return;
    // The sample comes back through the station's 'meter' event, i.e. onMeter.
    this.ctx.station.sampleNow(a.evseId, 'Trigger').then(
      (sample) => {
        if (!sample) this.schedule(sessionId, MAX_CHECK_MS);
      },
      (err: unknown) => {
        this.ctx.log.warn('1.6: meter read for MaxEnergyOnInvalidId failed', { sessionId, error: String(err) });
        this.schedule(sessionId, MAX_CHECK_MS);
      },
    );
  }

  private evaluate(sessionId: string, energyWh: number, powerW: number): void {
    const a = this.watched.get(sessionId);
    if (!a) return;
    const s = this.ctx.station.findSession(sessionId);
    if (!s || s.endedAt !== undefined) {
      this.forget(sessionId);
      return;
    }
    const maxWh = this.ctx.cfg.int('MaxEnergyOnInvalidId');
    const deliveredWh = energyWh - a.meterStartWh;
    if (deliveredWh >= maxWh || this.ctx.station.auth.stopTransactionOnInvalidId) {
      this.forget(sessionId);
      this.ctx.log.info('1.6: MaxEnergyOnInvalidId used up; energy stops', { sessionId, deliveredWh, maxWh });
      this.ctx.station.deauthorize(sessionId, a.auth);
      return;
    }
    const leftWh = maxWh - deliveredWh;
    const untilMs = powerW > 0 ? (leftWh / powerW) * 3_600_000 : MAX_CHECK_MS;
    this.schedule(sessionId, Math.min(MAX_CHECK_MS, Math.max(MIN_CHECK_MS, Math.ceil(untilMs))));
  }

  private schedule(sessionId: string, ms: number): void {
    const a = this.watched.get(sessionId);
    if (!a) return;
    this.ctx.clock.clear(a.timer);
    a.timer = this.ctx.clock.setTimeout(() => {
      a.timer = undefined;
      this.readNow(sessionId);
    }, ms);
  }
}
