/** Reservation profile (spec 3.11, 5.13, 5.2): ReserveNow and CancelReservation on the station's reservations. */
import { evseOfConnector, knownConnector, tokenOf, type V16Block } from './context.js';

export const reservationsBlock: V16Block = {
  name: 'reservations',
  register(ctx) {
    const { station, cfg } = ctx;
    ctx.handle('ReserveNow', ({ connectorId, expiryDate, idTag, parentIdTag, reservationId }) => {
      if (connectorId === 0 && !cfg.bool('ReserveConnectorZeroSupported')) return { status: 'Rejected' };
      if (connectorId !== 0 && !knownConnector(ctx, connectorId)) return { status: 'Rejected' };
      const r = {
        id: reservationId,
        evseId: connectorId === 0 ? 0 : evseOfConnector(ctx, connectorId),
        idToken: tokenOf(idTag),
        expiresAt: ctx.fromIso(expiryDate),
        ...(parentIdTag !== undefined ? { groupId: parentIdTag } : {}),
      };
      return { status: station.reserve(r) };
    });

    ctx.handle('CancelReservation', ({ reservationId }) => ({
      status: station.cancelReservation(reservationId) ? 'Accepted' : 'Rejected',
    }));
  },
};
