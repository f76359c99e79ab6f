/**
 * Charging profiles and expected periods written compactly, for the composite-schedule tests
 * (smart-charging-composite*.test.ts): one builder, so both files state cases the same way.
 */
import type { ChargingProfile, ChargingRateUnit, ChargingSchedulePeriod } from '../../src/station/api.js';

/** The absolute start of every schedule unless a case says otherwise. */
export const S = Date.UTC(2026, 0, 1, 8, 0, 0);

export interface ProfileOpt {
  evseId?: number;
  unit?: ChargingRateUnit;
  start?: number;
  durationS?: number;
  kind?: ChargingProfile['kind'];
  sessionId?: string;
  validFrom?: number;
  validTo?: number;
  recurrency?: 'Daily' | 'Weekly';
  minChargingRate?: number;
}

/** A profile from [startPeriodS, limit, numberPhases?] periods; the station max on EVSE 0, others on EVSE 1. */
export function prof(id: number, purpose: ChargingProfile['purpose'], stackLevel: number, periods: [number, number, number?][], o: ProfileOpt = {}): ChargingProfile {
  const p: ChargingProfile = {
    id,
    evseId: o.evseId ?? (purpose === 'ChargingStationMaxProfile' ? 0 : 1),
    stackLevel,
    purpose,
    kind: o.kind ?? 'Absolute',
    schedule: {
      unit: o.unit ?? 'A',
      periods: periods.map(([startPeriodS, limit, numberPhases]) => ({ startPeriodS, limit, ...(numberPhases !== undefined ? { numberPhases } : {}) })),
      ...(o.kind === 'Relative' ? {} : { startSchedule: o.start ?? S }),
      ...(o.durationS !== undefined ? { durationS: o.durationS } : {}),
      ...(o.minChargingRate !== undefined ? { minChargingRate: o.minChargingRate } : {}),
    },
  };
  if (o.sessionId) p.sessionId = o.sessionId;
  if (o.validFrom !== undefined) p.validFrom = o.validFrom;
  if (o.validTo !== undefined) p.validTo = o.validTo;
  if (o.recurrency) p.recurrency = o.recurrency;
  return p;
}

/** Expected periods: [startPeriodS, limit] or [startPeriodS, limit, numberPhases]. */
export const ps = (...xs: ([number, number] | [number, number, number])[]): ChargingSchedulePeriod[] =>
  xs.map(([startPeriodS, limit, numberPhases]) => ({ startPeriodS, limit, ...(numberPhases !== undefined ? { numberPhases } : {}) }));
