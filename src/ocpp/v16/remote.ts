/**
 * Remote Trigger and the Core profile's remote control (spec 5.11, 5.12, 5.17, 5.18):
 * RemoteStartTransaction (with a TxProfile, 5.16.2), RemoteStopTransaction, UnlockConnector,
 * TriggerMessage. While not Accepted the registration gate answers RemoteStart/Stop Rejected (4.2).
 */
import type { SessionEvent } from '../../station/api.js';
import type { MeterValuesRequest } from '../messages/v16.js';
import { connectorOf, evseOfConnector, knownConnector, tokenOf, type V16BlockContext, type V16Block } from './context.js';
import { parseMeasurandList } from './measurands.js';
import { meterValue } from './meter-values.js';
import { profileFrom16 } from './smart-charging.js';

export const remoteBlock: V16Block = {
  name: 'remote',
  register(ctx) {
    const { station, cfg } = ctx;
    const { tx, status, registration, firmware, diagnostics } = ctx.parts;

    ctx.handle('RemoteStartTransaction', async ({ connectorId, idTag, chargingProfile }) => {
      // 5.16.2: the profile of a remote start is a TxProfile without transactionId.
      if (
        chargingProfile !== undefined &&
        (!station.chargingProfiles || chargingProfile.chargingProfilePurpose !== 'TxProfile' || chargingProfile.transactionId !== undefined)
      ) {
        return { status: 'Rejected' };
      }
      let evseId: number | undefined;
      if (connectorId !== undefined) {
        if (!knownConnector(ctx, connectorId) || connectorId === 0) return { status: 'Rejected' };
        evseId = evseOfConnector(ctx, connectorId);
      } else {
        // The station chooses, as it does for a presented token.
        evseId = station.evseFor(tokenOf(idTag));
        if (evseId === undefined) return { status: 'Rejected' };
      }
      const result = await station.requestStart(evseId, tokenOf(idTag), {
        preAuthorized: !cfg.bool('AuthorizeRemoteTxRequests'),
        ...(chargingProfile !== undefined ? { chargingProfile: profileFrom16(chargingProfile, evseId, ctx.fromIso) } : {}),
      });
      return { status: result };
    });

    ctx.handle('RemoteStopTransaction', ({ transactionId }) => {
      const sessionId = tx.sessionOfTransaction(transactionId);
      const s = sessionId ? station.findSession(sessionId) : undefined;
      if (!s || s.endedAt !== undefined) return { status: 'Rejected' };
      return { status: station.requestStop(s.id, 'Remote', 'RemoteStop') ? 'Accepted' : 'Rejected' };
    });

    ctx.handle('UnlockConnector', async ({ connectorId }) => {
      // Errata 3.87: an unknown connector is NotSupported.
      if (!knownConnector(ctx, connectorId)) return { status: 'NotSupported' };
      const evseId = evseOfConnector(ctx, connectorId);
      const s = station.session(evseId);
      // 5.18: a transaction on the connector is finished first.
      if (s && s.endedAt === undefined && station.requestStop(s.id, 'UnlockCommand', 'UnlockCommand')) await ended(ctx, s.id);
      switch (await station.unlock(evseId)) {
        case 'Unlocked':
          return { status: 'Unlocked' };
        case 'NotSupported':
        case 'UnknownConnector':
          return { status: 'NotSupported' };
        default:
          return { status: 'UnlockFailed' };
      }
    });

    ctx.handle('TriggerMessage', ({ requestedMessage, connectorId }) => {
      if (connectorId !== undefined && connectorId !== 0 && !knownConnector(ctx, connectorId)) return { status: 'Rejected' };
      // 5.17: the message goes after this answer (ctx.defer).
      switch (requestedMessage) {
        case 'BootNotification':
          // Errata 3.35: once Accepted, a triggered BootNotification is refused.
          if (ctx.gate.accepted) return { status: 'Rejected' };
          ctx.defer(() => registration.boot(), 'triggered BootNotification');
          return { status: 'Accepted' };
        case 'Heartbeat':
          if (!ctx.gate.accepted) return { status: 'Rejected' };
          ctx.defer(() => registration.heartbeat(), 'triggered Heartbeat');
          return { status: 'Accepted' };
        case 'StatusNotification':
          ctx.defer(() => (connectorId === undefined ? status.sendAll() : status.sendOne(connectorId)), 'triggered StatusNotification');
          return { status: 'Accepted' };
        case 'DiagnosticsStatusNotification':
          // 4.4 / 4.5: the real current status, Idle when nothing is under way.
          ctx.defer(() => diagnostics.sendStatus(), 'triggered DiagnosticsStatusNotification');
          return { status: 'Accepted' };
        case 'FirmwareStatusNotification':
          ctx.defer(() => firmware.sendStatus(), 'triggered FirmwareStatusNotification');
          return { status: 'Accepted' };
        case 'MeterValues': {
          const targets = connectorId === undefined || connectorId === 0 ? station.evseIds : [evseOfConnector(ctx, connectorId)];
          ctx.defer(() => triggeredMeterValues(ctx, targets), 'triggered MeterValues');
          return { status: 'Accepted' };
        }
        default:
          return { status: 'NotImplemented' };
      }
    });
  },
};

/** Resolves once the station reported the session ended (or at once if it is already gone). */
function ended(ctx: V16BlockContext, sessionId: string): Promise<void> {
  return new Promise((resolve) => {
    const isOver = (): boolean => {
      const s = ctx.station.findSession(sessionId);
      return !s || s.endedAt !== undefined;
    };
    if (isOver()) return resolve();
    const onSession = (e: SessionEvent): void => {
      if (e.type === 'ended' && e.session.id === sessionId) done();
    };
    // Ending opens the contactor and writes SQLite: short, but a bound keeps a stuck stop from hanging the CALL.
    const timer = ctx.clock.setTimeout(() => done(), 5_000);
    const done = (): void => {
      ctx.clock.clear(timer);
      ctx.station.off('session', onSession);
      resolve();
    };
    ctx.station.on('session', onSession);
  });
}

/** 5.17 / errata 3.46: the most recent values of every MeterValuesSampledData measurand, context Trigger. */
async function triggeredMeterValues(ctx: V16BlockContext, evseIds: number[]): Promise<void> {
  const { tx } = ctx.parts;
  const items = parseMeasurandList(ctx.cfg.get('MeterValuesSampledData'));
  for (const evseId of evseIds) {
    let sample;
    try {
      sample = (await ctx.station.sampleNow(evseId, 'Trigger')) ?? tx.lastSample(evseId);
    } catch {
      sample = tx.lastSample(evseId);
    }
    if (!sample) continue;
    const mv = meterValue(ctx.iso(sample.reading.at), sample.reading, sample.currentOfferedA, items, 'Trigger');
    if (!mv) continue;
    const req: MeterValuesRequest = { connectorId: connectorOf(evseId), meterValue: [mv] };
    const s = ctx.station.session(evseId);
    const tid = s ? tx.transactionIdOf(s.id) : undefined;
    if (tid !== undefined) req.transactionId = tid;
    ctx.link.call('MeterValues', req).catch((err: unknown) => ctx.log.debug('MeterValues not delivered', { error: String(err) }));
  }
}
