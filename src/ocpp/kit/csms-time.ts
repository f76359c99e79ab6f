/**
 * The CSMS's time. The station never sets the system clock: it keeps the offset between the time
 * the CSMS gave (BootNotification / Heartbeat currentTime) and its own clock, and every timestamp it
 * sends is station time shifted by that offset; every time the CSMS sends is shifted back.
 */
import type { Clock } from '../../../base/clock.js';

export class CsmsTime {
  private offset = 0;

  constructor(private readonly clock: Clock) {}

  /** CSMS time minus station time, in ms (0 until the CSMS gave its time). */
  get offsetMs(): number {
    return this.offset;
  }

  /** Learn the offset from a currentTime of the CSMS; an unparsable time changes nothing (returns false). */
  learn(currentTime: string): boolean {
    const t = Date.parse(currentTime);
    if (!Number.isFinite(t)) return false;
    this.offset = t - this.clock.now();
    return true;
  }

  /** Station time `ms` (default: now) as the CSMS's time, ISO 8601 UTC. */
  iso(ms: number = this.clock.now()): string {
    return new Date(ms + this.offset).toISOString();
  }

  /**
   * A timestamp made in station time (e.g. a queued message, stamped before the CSMS's time was known or
   * in an earlier run) as the CSMS's time now; one that does not parse is left as it is.
   */
  rebaseIso(stationIso: string): string {
    const t = Date.parse(stationIso);
    return Number.isFinite(t) ? new Date(t + this.offset).toISOString() : stationIso;
  }

  /** A CSMS time (ISO 8601) as station time in epoch ms; NaN when it does not parse. */
  fromIso(s: string): number {
    return Date.parse(s) - this.offset;
  }

  /** The CSMS's time now, epoch ms. */
  now(): number {
    return this.clock.now() + this.offset;
  }
}
