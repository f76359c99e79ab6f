/**
 * K01–K10 (smart charging) of the 2.0.1 adapter: SetChargingProfile, GetChargingProfiles →
 * ReportChargingProfiles, ClearChargingProfile, GetCompositeSchedule and the TxProfile of a
 * RequestStartTransaction (K05), over the station's version-neutral profile store and composite
 * calculator (src/station/smart-charging.ts). This file only checks and translates 2.0.1 messages;
 * it holds no schedule arithmetic of its own.
 *
 * First cut: the wire types. The handlers follow once the station core's types are committed.
 */

export type ChargingRateUnitType = 'A' | 'W';

export interface ChargingSchedulePeriodType {
  startPeriod: number;
  limit: number;
  numberPhases?: number;
  phaseToUse?: number;
}

export interface ChargingScheduleType {
  id: number;
  startSchedule?: string;
  duration?: number;
  chargingRateUnit: ChargingRateUnitType;
  chargingSchedulePeriod: ChargingSchedulePeriodType[];
  minChargingRate?: number;
  /** ISO 15118 only; not used here. */
  salesTariff?: unknown;
}

export interface ChargingProfileType {
  id: number;
  stackLevel: number;
  chargingProfilePurpose: 'ChargingStationExternalConstraints' | 'ChargingStationMaxProfile' | 'TxDefaultProfile' | 'TxProfile';
  chargingProfileKind: 'Absolute' | 'Recurring' | 'Relative';
  recurrencyKind?: 'Daily' | 'Weekly';
  validFrom?: string;
  validTo?: string;
  chargingSchedule: ChargingScheduleType[];
  transactionId?: string;
}
