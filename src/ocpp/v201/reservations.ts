/**
 * H01–H04: ReserveNow, CancelReservation and ReservationStatusUpdate over the station's reservations.
 * A reservation used by its token is reported through TransactionEvent.reservationId instead (H01.FR.15).
 */
import type { ReserveNowRequest, ReserveNowResponse } from '../messages/v201.js';
import type { V201Context } from './context.js';

export class Reservations {
  constructor(private readonly ctx: V201Context) {}

  register(): void {
    this.ctx.handle('ReserveNow', (p) => this.reserveNow(p));
    this.ctx.handle('CancelReservation', (p) => ({
      status: this.ctx.station.cancelReservation(p.reservationId) ? 'Accepted' : 'Rejected',
    }));
    this.ctx.onStation('reservation-ended', (id, reason) => {
      if (reason === 'Used') return;
      void this.ctx.send('ReservationStatusUpdate', { reservationId: id, reservationUpdateStatus: reason });
    });
  }

  private reserveNow(r: ReserveNowRequest): ReserveNowResponse {
    if (!this.ctx.dm.bool('ReservationCtrlr.Enabled')) return { status: 'Rejected' };
    const evseId = r.evseId ?? 0;
    if (evseId !== 0 && !this.ctx.station.evseIds.includes(evseId)) return { status: 'Rejected' };
    const expiresAt = this.ctx.fromIso(r.expiryDateTime);
    if (!Number.isFinite(expiresAt)) return { status: 'Rejected' };
    const status = this.ctx.station.reserve({
      id: r.id,
      evseId,
      idToken: { idToken: r.idToken.idToken, type: r.idToken.type },
      ...(r.groupIdToken ? { groupId: r.groupIdToken.idToken } : {}),
      expiresAt,
    });
    return { status };
  }
}
