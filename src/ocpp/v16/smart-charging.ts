/**
 * The 1.6 Smart Charging profile (spec 3.13, 5.5, 5.7, 5.16) over the station's version-neutral
 * charging profiles: this file only translates. A 1.6 connector is an EVSE on this station; the
 * ChargePointMaxProfile is the station's ChargingStationMaxProfile; a TxProfile is bound to the
 * session behind the 1.6 transaction.
 */
import type { ChargingProfile, ChargingProfilePurpose } from '../../station/api.js';
import type { GetCompositeScheduleResponse, SetChargingProfileRequest } from '../messages/v16.js';
import { evseOfConnector, knownConnector, type V16Block } from './context.js';

export type ChargingProfile16 = SetChargingProfileRequest['csChargingProfiles'];
type Purpose16 = ChargingProfile16['chargingProfilePurpose'];
type CompositeSchedule16 = NonNullable<GetCompositeScheduleResponse['chargingSchedule']>;

const PURPOSE: Record<Purpose16, ChargingProfilePurpose> = {
  ChargePointMaxProfile: 'ChargingStationMaxProfile',
  TxDefaultProfile: 'TxDefaultProfile',
  TxProfile: 'TxProfile',
};

/** The station's profile for a 1.6 one on an EVSE (0 = the charge point). */
export function profileFrom16(p: ChargingProfile16, evseId: number, fromIso: (iso: string) => number): ChargingProfile {
  const s = p.chargingSchedule;
  const out: ChargingProfile = {
    id: p.chargingProfileId,
    evseId,
    stackLevel: p.stackLevel,
    purpose: PURPOSE[p.chargingProfilePurpose],
    kind: p.chargingProfileKind,
    schedule: {
      unit: s.chargingRateUnit,
      periods: s.chargingSchedulePeriod.map((x) => ({
        startPeriodS: x.startPeriod,
        limit: x.limit,
        ...(x.numberPhases !== undefined ? { numberPhases: x.numberPhases } : {}),
      })),
    },
  };
  if (p.recurrencyKind !== undefined) out.recurrency = p.recurrencyKind;
  if (p.validFrom !== undefined) out.validFrom = fromIso(p.validFrom);
  if (p.validTo !== undefined) out.validTo = fromIso(p.validTo);
  if (s.startSchedule !== undefined) out.schedule.startSchedule = fromIso(s.startSchedule);
  if (s.duration !== undefined) out.schedule.durationS = s.duration;
  if (s.minChargingRate !== undefined) out.schedule.minChargingRate = s.minChargingRate;
  return out;
}

/**
 * A value the 1.6 schemas accept as "multipleOf 0.1": the strict JSON validation divides by 0.1 in
 * floating point, which refuses e.g. 2.3. Rounded down (a limit must not grow) to one that passes.
 */
export function decimal1(v: number): number {
  for (let k = Math.round(v * 10); k >= Math.round(v * 10) - 9; k--) {
    const x = k / 10;
    if (Number.isInteger(x / 0.1)) return x;
  }
  return Math.floor(v);
}

export const smartChargingBlock: V16Block = {
  name: 'smart-charging',
  register(ctx) {
    const { station } = ctx;
    const { tx } = ctx.parts;
    const known = (connectorId: number): boolean => knownConnector(ctx, connectorId);
    const evseOf = (connectorId: number): number => evseOfConnector(ctx, connectorId);
    const refuse = (why: string, extra: Record<string, unknown> = {}): { status: 'Rejected' } => {
      ctx.log.info('SetChargingProfile rejected', { why, ...extra });
      return { status: 'Rejected' };
    };

    ctx.handle('SetChargingProfile', ({ connectorId, csChargingProfiles: cp }) => {
      const sc = station.chargingProfiles;
      if (!sc) return { status: 'NotSupported' };
      if (connectorId !== 0 && !known(connectorId)) return refuse('unknown connector', { connectorId });
      const evseId = connectorId === 0 ? 0 : evseOf(connectorId);
      const profile = profileFrom16(cp, evseId, ctx.fromIso);
      // 3.13.1: ChargePointMaxProfile only at connector 0, TxProfile only at a connector > 0 with a transaction.
      if (cp.chargingProfilePurpose === 'ChargePointMaxProfile' && connectorId !== 0) return refuse('ChargePointMaxProfile needs connectorId 0');
      if (cp.chargingProfilePurpose === 'TxProfile') {
        if (connectorId === 0) return refuse('TxProfile needs a connector');
        const s = station.session(evseId);
        if (!s || s.authorizedAt === undefined || s.evConnectedAt === undefined) return refuse('no transaction on the connector', { connectorId });
        if (cp.transactionId !== undefined && tx.transactionIdOf(s.id) !== cp.transactionId) {
          return refuse('transactionId is not the one on the connector', { connectorId, transactionId: cp.transactionId });
        }
        profile.sessionId = s.id;
      }
      const r = sc.set(profile);
      if (r.status === 'Rejected') return refuse(r.reason, { chargingProfileId: cp.chargingProfileId });
      return { status: 'Accepted' };
    });

    ctx.handle('ClearChargingProfile', ({ id, connectorId, chargingProfilePurpose, stackLevel }) => {
      const sc = station.chargingProfiles;
      if (!sc) return { status: 'Unknown' };
      if (id === undefined && connectorId !== undefined && connectorId !== 0 && !known(connectorId)) return { status: 'Unknown' };
      const n = sc.clear({
        ...(id !== undefined ? { id } : {}),
        ...(connectorId !== undefined ? { evseId: connectorId === 0 ? 0 : evseOf(connectorId) } : {}),
        ...(chargingProfilePurpose !== undefined ? { purpose: PURPOSE[chargingProfilePurpose] } : {}),
        ...(stackLevel !== undefined ? { stackLevel } : {}),
      });
      return { status: n > 0 ? 'Accepted' : 'Unknown' };
    });

    ctx.handle('GetCompositeSchedule', ({ connectorId, duration, chargingRateUnit }) => {
      const sc = station.chargingProfiles;
      if (!sc || (connectorId !== 0 && !known(connectorId))) return { status: 'Rejected' };
      // 6.21: chargingRateUnit forces a unit; without it the profiles' own (A when they mix).
      const c = sc.composite(connectorId === 0 ? 0 : evseOf(connectorId), duration, chargingRateUnit);
      if (!c) return { status: 'Rejected' };
      // 1.6 errata §3.57: in GetCompositeSchedule.conf the schedule's startSchedule is omitted (scheduleStart says it).
      const schedule: CompositeSchedule16 = {
        duration: c.durationS,
        chargingRateUnit: c.unit,
        chargingSchedulePeriod: c.periods.map((x) => ({
          startPeriod: x.startPeriodS,
          limit: decimal1(x.limit),
          ...(x.numberPhases !== undefined ? { numberPhases: x.numberPhases } : {}),
        })),
      };
      if (c.minChargingRate !== undefined) schedule.minChargingRate = decimal1(c.minChargingRate);
      return { status: 'Accepted', connectorId, scheduleStart: ctx.iso(c.start), chargingSchedule: schedule };
    });
  },
};
