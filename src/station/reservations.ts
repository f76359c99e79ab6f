/**
 * Reservations (1.6 ReserveNow, 2.0.1 H01): one EVSE held for one token (or its group) until the
 * reservation is used, cancelled or expires by the station clock.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { Db } from '../store/db.js';
import { reservationDelete, reservationPut, reservationsAll, type StoredReservation } from '../store/reservations.js';
import type { IdToken, Reservation, ReservationResult } from './api.js';
import type { Evse } from './evse.js';

export type ReservationEnd = 'Expired' | 'Removed' | 'Used';

export interface ReservationDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  evses: Map<number, Evse>;
  /** Is a session running on the EVSE? */
  busy: (evseId: number) => boolean;
  ended: (id: number, why: ReservationEnd, evseId: number) => void;
}

export class Reservations {
  private readonly held = new Map<number, StoredReservation>();
  private readonly timers = new Map<number, TimerHandle>();

  constructor(private readonly d: ReservationDeps) {}

  /** Reload after a restart; expired ones end at once. */
  load(): void {
    for (const r of reservationsAll(this.d.db)) this.hold(r);
  }

  reserve(r: Reservation): ReservationResult {
    const existing = this.held.get(r.id);
    if (existing) this.release(r.id); // same id: the new one replaces it (1.6 §5.13)
    let target: Evse | undefined;
    if (r.evseId === 0) {
      const candidates = [...this.d.evses.values()];
      target = candidates.find((e) => this.free(e));
      if (!target) return this.restore(existing, candidates.some((e) => e.usable) ? 'Occupied' : candidates.some((e) => !e.highFault) ? 'Unavailable' : 'Faulted');
    } else {
      target = this.d.evses.get(r.evseId);
      if (!target) return this.restore(existing, 'Rejected');
      if (target.highFault) return this.restore(existing, 'Faulted');
      if (!target.operative) return this.restore(existing, 'Unavailable');
      if (!this.free(target)) return this.restore(existing, 'Occupied');
    }
    const stored: StoredReservation = {
      id: r.id,
      evseId: r.evseId,
      idToken: { idToken: r.idToken.idToken, type: r.idToken.type },
      ...(r.groupId !== undefined ? { groupId: r.groupId } : {}),
      expiresAt: r.expiresAt,
      boundEvseId: target.id,
    };
    reservationPut(this.d.db, stored);
    this.hold(stored);
    return 'Accepted';
  }

  private restore(previous: StoredReservation | undefined, result: ReservationResult): ReservationResult {
    if (previous) {
      reservationPut(this.d.db, previous);
      this.hold(previous);
    }
    return result;
  }

  private free(e: Evse): boolean {
    return e.usable && !e.plugged && !this.d.busy(e.id) && !this.forEvse(e.id);
  }

  private hold(r: StoredReservation): void {
    const delay = r.expiresAt - this.d.clock.now();
    if (delay <= 0) {
      reservationDelete(this.d.db, r.id);
      this.d.ended(r.id, 'Expired', r.boundEvseId);
      return;
    }
    this.held.set(r.id, r);
    this.timers.set(
      r.id,
      this.d.clock.setTimeout(() => this.end(r.id, 'Expired'), delay),
    );
    this.d.evses.get(r.boundEvseId)?.setReserved(true);
  }

  private release(id: number): StoredReservation | undefined {
    const r = this.held.get(id);
    if (!r) return undefined;
    this.held.delete(id);
    this.d.clock.clear(this.timers.get(id));
    this.timers.delete(id);
    reservationDelete(this.d.db, id);
    if (!this.forEvse(r.boundEvseId)) this.d.evses.get(r.boundEvseId)?.setReserved(false);
    return r;
  }

  end(id: number, why: ReservationEnd): boolean {
    const r = this.release(id);
    if (!r) return false;
    this.d.log.info('reservation ended', { id, why });
    this.d.ended(id, why, r.boundEvseId);
    return true;
  }

  /** CancelReservation: the CSMS knows, so nothing is reported. */
  cancel(id: number): boolean {
    return this.release(id) !== undefined;
  }

  forEvse(evseId: number): StoredReservation | undefined {
    for (const r of this.held.values()) if (r.boundEvseId === evseId) return r;
    return undefined;
  }

  /** The reservation this token (or its group) holds, if any. */
  forToken(token: IdToken, groupId?: string): StoredReservation | undefined {
    for (const r of this.held.values()) if (matches(r, token, groupId)) return r;
    return undefined;
  }

  /** May this token use the EVSE? Yes unless it is reserved for someone else. */
  allows(evseId: number, token: IdToken, groupId?: string): boolean {
    const r = this.forEvse(evseId);
    return !r || matches(r, token, groupId);
  }

  stopTimers(): void {
    for (const t of this.timers.values()) this.d.clock.clear(t);
    this.timers.clear();
  }
}

function matches(r: StoredReservation, token: IdToken, groupId?: string): boolean {
  if (r.idToken.idToken === token.idToken) return true;
  return r.groupId !== undefined && groupId !== undefined && r.groupId === groupId;
}
