/**
 * Handlers of the Central System's calls (spec chapter 5). Each answers from the station. Smart
 * Charging (SetChargingProfile, ClearChargingProfile, GetCompositeSchedule) lives in smart-charging.ts;
 * on a station without charging profiles it answers NotSupported / Unknown / Rejected. Firmware
 * Management (UpdateFirmware, GetDiagnostics) lives in firmware.ts.
 */
import { createRPCError } from 'ocpp-rpc';
import type { IdToken, LocalListEntry, SessionEvent } from '../../station/api.js';
import type { CallHandler } from '../link.js';
import { connectorOf, type V16Context } from './context.js';
import type { V16Firmware } from './firmware.js';
import { parseMeasurandList } from './measurands.js';
import { meterValue } from './meter-values.js';
import { profileFrom16, smartChargingHandlers, type ChargingProfile16 } from './smart-charging.js';
import type { StatusReporter } from './status.js';
import { authInfoOf, type IdTagInfo, type Transactions } from './transactions.js';

export type DataTransferHandler = (
  messageId: string | undefined,
  data: string | undefined,
) => { status: 'Accepted' | 'Rejected' | 'UnknownMessageId'; data?: string } | Promise<{ status: 'Accepted' | 'Rejected' | 'UnknownMessageId'; data?: string }>;

export interface HandlerDeps {
  ctx: V16Context;
  tx: Transactions;
  status: StatusReporter;
  boot: () => Promise<void>;
  heartbeat: () => Promise<void>;
  vendors: Map<string, DataTransferHandler>;
  firmware: V16Firmware;
}

/** Tokens from the CSMS carry no type in 1.6; RFID UIDs are by far the common case. */
const tokenOf = (idTag: string): IdToken => ({ idToken: idTag, type: 'ISO14443' });

export function v16Handlers(d: HandlerDeps): Record<string, CallHandler> {
  const { ctx, tx, status } = d;
  const { station, cfg } = ctx;
  const known = (connectorId: number): boolean => station.evseIds.some((e) => connectorOf(e) === connectorId);
  const evseOf = (connectorId: number): number => station.evseIds.find((e) => connectorOf(e) === connectorId) ?? connectorId;
  /**
   * Work a call causes, out of the handler so that its failure is not the call's answer. What it sends
   * goes after the CALLRESULT (TriggerMessage: "first send the response", 5.17) because the link holds
   * every CALL made while a CSMS call is being answered (src/ocpp/call-scope.ts).
   */
  const afterReply = (fn: () => void | Promise<void>): void => {
    queueMicrotask(() => {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => ctx.log.error('1.6: work after a CSMS call failed', { error: String(err) }));
    });
  };

  const handlers: Record<string, CallHandler> = {
    GetConfiguration: (p) => {
      const { key } = p as { key?: string[] };
      const r = cfg.read(key);
      const out: Record<string, unknown> = { configurationKey: r.configurationKey };
      if (r.unknownKey.length > 0) out.unknownKey = r.unknownKey;
      return out;
    },

    ChangeConfiguration: (p) => {
      const { key, value } = p as { key: string; value: string };
      return { status: cfg.change(key, value, ctx.clock.now()) };
    },

    RemoteStartTransaction: async (p) => {
      const { connectorId, idTag, chargingProfile } = p as { connectorId?: number; idTag: string; chargingProfile?: ChargingProfile16 };
      // 4.2: not allowed while Pending.
      if (ctx.registration !== 'Accepted') return { status: 'Rejected' };
      // 5.16.2: the profile of a remote start is a TxProfile without transactionId.
      if (
        chargingProfile !== undefined &&
        (!station.chargingProfiles || chargingProfile.chargingProfilePurpose !== 'TxProfile' || chargingProfile.transactionId !== undefined)
      ) {
        return { status: 'Rejected' };
      }
      let evseId: number | undefined;
      if (connectorId !== undefined) {
        if (!known(connectorId) || connectorId === 0) return { status: 'Rejected' };
        evseId = evseOf(connectorId);
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
    },

    RemoteStopTransaction: (p) => {
      const { transactionId } = p as { transactionId: number };
      if (ctx.registration !== 'Accepted') return { status: 'Rejected' };
      const sessionId = tx.sessionOfTransaction(transactionId);
      const s = sessionId ? station.findSession(sessionId) : undefined;
      if (!s || s.endedAt !== undefined) return { status: 'Rejected' };
      return { status: station.requestStop(s.id, 'Remote', 'RemoteStop') ? 'Accepted' : 'Rejected' };
    },

    UnlockConnector: async (p) => {
      const { connectorId } = p as { connectorId: number };
      // Errata 3.87: an unknown connector is NotSupported.
      if (!known(connectorId)) return { status: 'NotSupported' };
      const evseId = evseOf(connectorId);
      const s = station.session(evseId);
      // 5.18: a transaction on the connector is finished first.
      if (s && s.endedAt === undefined && station.requestStop(s.id, 'UnlockCommand', 'UnlockCommand')) await ended(ctx, s.id);
      const r = await station.unlock(evseId);
      switch (r) {
        case 'Unlocked':
          return { status: 'Unlocked' };
        case 'NotSupported':
        case 'UnknownConnector':
          return { status: 'NotSupported' };
        default:
          return { status: 'UnlockFailed' };
      }
    },

    Reset: (p) => {
      const { type } = p as { type: 'Soft' | 'Hard' };
      // §5.19: an installation under way is not cut; the Central System may ask again once it ended.
      if (d.firmware.installing) {
        ctx.log.warn('1.6 Reset rejected: a firmware installation is under way');
        return { status: 'Rejected' };
      }
      const r = station.reset(type);
      return { status: r === 'Rejected' ? 'Rejected' : 'Accepted' };
    },

    ChangeAvailability: (p) => {
      const { connectorId, type } = p as { connectorId: number; type: 'Operative' | 'Inoperative' };
      if (connectorId !== 0 && !known(connectorId)) return { status: 'Rejected' };
      return { status: station.setAvailability(connectorId === 0 ? 0 : evseOf(connectorId), type === 'Operative') };
    },

    ClearCache: () => {
      station.clearAuthCache();
      return { status: 'Accepted' };
    },

    GetLocalListVersion: () => ({ listVersion: station.localListVersion() }),

    SendLocalList: (p) => {
      const { listVersion, updateType, localAuthorizationList = [] } = p as {
        listVersion: number;
        updateType: 'Full' | 'Differential';
        localAuthorizationList?: { idTag: string; idTagInfo?: IdTagInfo }[];
      };
      if (!cfg.bool('LocalAuthListEnabled')) return { status: 'NotSupported' };
      // Errata 3.52: 0 and -1 have a meaning of their own in GetLocalListVersion.
      if (listVersion <= 0) return { status: 'Failed' };
      if (localAuthorizationList.length > cfg.int('SendLocalListMaxLength')) return { status: 'Failed' };
      if (updateType === 'Full' && localAuthorizationList.length > cfg.int('LocalAuthListMaxLength')) return { status: 'Failed' };
      const ids = localAuthorizationList.map((e) => e.idTag.toLowerCase());
      if (new Set(ids).size !== ids.length) return { status: 'Failed' };
      // A full list must say something about every entry.
      if (updateType === 'Full' && localAuthorizationList.some((e) => !e.idTagInfo)) return { status: 'Failed' };
      const entries: LocalListEntry[] = localAuthorizationList.map((e) => {
        const entry: LocalListEntry = { idToken: tokenOf(e.idTag) };
        if (e.idTagInfo) entry.auth = authInfoOf(e.idTagInfo, ctx.fromIso);
        return entry;
      });
      return { status: station.updateLocalList(listVersion, updateType === 'Full', entries) };
    },

    ReserveNow: (p) => {
      const { connectorId, expiryDate, idTag, parentIdTag, reservationId } = p as {
        connectorId: number;
        expiryDate: string;
        idTag: string;
        parentIdTag?: string;
        reservationId: number;
      };
      if (connectorId === 0 && !cfg.bool('ReserveConnectorZeroSupported')) return { status: 'Rejected' };
      if (connectorId !== 0 && !known(connectorId)) return { status: 'Rejected' };
      const r = {
        id: reservationId,
        evseId: connectorId === 0 ? 0 : evseOf(connectorId),
        idToken: tokenOf(idTag),
        expiresAt: ctx.fromIso(expiryDate),
        ...(parentIdTag !== undefined ? { groupId: parentIdTag } : {}),
      };
      return { status: station.reserve(r) };
    },

    CancelReservation: (p) => {
      const { reservationId } = p as { reservationId: number };
      return { status: station.cancelReservation(reservationId) ? 'Accepted' : 'Rejected' };
    },

    DataTransfer: async (p) => {
      const { vendorId, messageId, data } = p as { vendorId: string; messageId?: string; data?: string };
      const h = d.vendors.get(vendorId);
      if (!h) return { status: 'UnknownVendorId' };
      const r = await h(messageId, data);
      return r.data !== undefined ? { status: r.status, data: r.data } : { status: r.status };
    },

    TriggerMessage: (p) => {
      const { requestedMessage, connectorId } = p as { requestedMessage: string; connectorId?: number };
      if (connectorId !== undefined && connectorId !== 0 && !known(connectorId)) return { status: 'Rejected' };
      switch (requestedMessage) {
        case 'BootNotification':
          // Errata 3.35: once Accepted, a triggered BootNotification is refused.
          if (ctx.registration === 'Accepted') return { status: 'Rejected' };
          afterReply(d.boot);
          return { status: 'Accepted' };
        case 'Heartbeat':
          if (ctx.registration !== 'Accepted') return { status: 'Rejected' };
          afterReply(d.heartbeat);
          return { status: 'Accepted' };
        case 'StatusNotification':
          afterReply(() => (connectorId === undefined ? status.sendAll() : status.sendOne(connectorId)));
          return { status: 'Accepted' };
        case 'DiagnosticsStatusNotification':
          // 4.4 / 4.5: the real current status, Idle when nothing is under way.
          afterReply(() => sendQuiet(ctx, 'DiagnosticsStatusNotification', { status: d.firmware.diagnosticsStatus }));
          return { status: 'Accepted' };
        case 'FirmwareStatusNotification':
          afterReply(() => sendQuiet(ctx, 'FirmwareStatusNotification', { status: d.firmware.firmwareStatus }));
          return { status: 'Accepted' };
        case 'MeterValues': {
          const targets = connectorId === undefined || connectorId === 0 ? station.evseIds : [evseOf(connectorId)];
          afterReply(() => triggeredMeterValues(d, targets));
          return { status: 'Accepted' };
        }
        default:
          return { status: 'NotImplemented' };
      }
    },

    ...smartChargingHandlers({ ctx, tx, known, evseOf }),
    ...d.firmware.handlers(),
  };

  // 4.2: while Rejected the charge point does not serve the CSMS.
  const guarded: Record<string, CallHandler> = {};
  for (const [action, h] of Object.entries(handlers)) {
    guarded[action] = (params, c) => {
      if (ctx.registration === 'Rejected') throw createRPCError('SecurityError', 'Charge point is not accepted by the Central System');
      return h(params, c);
    };
  }
  return guarded;
}

/** Resolves once the station reported the session ended (or at once if it is already gone). */
function ended(ctx: V16Context, sessionId: string): Promise<void> {
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

function sendQuiet(ctx: V16Context, action: string, payload: object): void {
  ctx.link.call(action, payload).catch((err: unknown) => ctx.log.debug(`${action} not delivered`, { error: String(err) }));
}

/** 5.17 / errata 3.46: the most recent values of every MeterValuesSampledData measurand, context Trigger. */
async function triggeredMeterValues(d: HandlerDeps, evseIds: number[]): Promise<void> {
  const { ctx, tx } = d;
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
    const req: Record<string, unknown> = { connectorId: connectorOf(evseId), meterValue: [mv] };
    const s = ctx.station.session(evseId);
    const tid = s ? tx.transactionIdOf(s.id) : undefined;
    if (tid !== undefined) req.transactionId = tid;
    sendQuiet(ctx, 'MeterValues', req);
  }
}
