/**
 * Availability (spec 3.6, 4.9, 5.2): StatusNotification of every connector and of the charge point
 * (the reporter in status.ts), kept in step with the station's status and fault events, and
 * ChangeAvailability.
 */
import { evseOfConnector, knownConnector, type V16Block } from './context.js';

export const availabilityBlock: V16Block = {
  name: 'availability',
  register(ctx) {
    const { station } = ctx;
    const { status, registration } = ctx.parts;
    ctx.onStation('status', (s) => status.onStatus(s));
    ctx.onStation('fault-raised', (evseId, f) => status.onFault(evseId, f));
    ctx.onStation('fault-cleared', (evseId, kind) => status.onFaultCleared(evseId, kind));
    // A new connection starts from nothing told (before the boot block boots on the same event).
    ctx.onLink('open', () => status.reset());
    ctx.onLink('close', () => status.stop());
    // Errata 3.22: the present status of every connector after each accepted boot.
    ctx.subs.add(registration.onAccepted(() => status.sendAll()));
    ctx.subs.add(() => status.stop());

    ctx.handle('ChangeAvailability', ({ connectorId, type }) => {
      if (connectorId !== 0 && !knownConnector(ctx, connectorId)) return { status: 'Rejected' };
      return { status: station.setAvailability(connectorId === 0 ? 0 : evseOfConnector(ctx, connectorId), type === 'Operative') };
    });
  },
};
