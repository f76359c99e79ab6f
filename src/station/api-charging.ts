/**
 * Smart charging in the station API (re-exported by api.ts, where the adapters import it from).
 */
/**
 * Smart charging, version-neutral (1.6 chapter 3.13, 2.0.1 K01-K10). Words follow 2.0.1: the 1.6
 * ChargePointMaxProfile is ChargingStationMaxProfile here. Times are station epoch ms.
 */
/**
 * ChargingStationExternalConstraints: a limit from outside the CSMS (2.0.1 K11-K14), never set by the
 * CSMS; on EVSE 0 it bounds the station like the max profile, on an EVSE that EVSE.
 */
export type ChargingProfilePurpose = 'ChargingStationMaxProfile' | 'ChargingStationExternalConstraints' | 'TxDefaultProfile' | 'TxProfile';
export type ChargingProfileKind = 'Absolute' | 'Recurring' | 'Relative';
export type RecurrencyKind = 'Daily' | 'Weekly';
/** A = amperes per phase, W = watts over all phases. */
export type ChargingRateUnit = 'A' | 'W';

export interface ChargingSchedulePeriod {
  /** Seconds from the start of the schedule. */
  startPeriodS: number;
  limit: number;
  /** Phases the limit is meant for (used to turn W into A); absent = 3 as both specs say. */
  numberPhases?: number;
  /** 2.0.1: the one phase to use (1..3) when numberPhases is 1 and the EVSE can switch phases. */
  phaseToUse?: number;
}

export interface ChargingSchedule {
  unit: ChargingRateUnit;
  /** Ascending startPeriodS, the first at 0. */
  periods: ChargingSchedulePeriod[];
  /** Epoch ms; Absolute and Recurring. An Absolute schedule without it starts with the transaction. */
  startSchedule?: number;
  durationS?: number;
  minChargingRate?: number;
}

export interface ChargingProfile {
  id: number;
  /** 0 = the whole station (ChargingStationMaxProfile, or a TxDefaultProfile for every EVSE). */
  evseId: number;
  stackLevel: number;
  purpose: ChargingProfilePurpose;
  kind: ChargingProfileKind;
  recurrency?: RecurrencyKind;
  validFrom?: number;
  validTo?: number;
  /** TxProfile: the session it belongs to; absent = the session running on evseId. */
  sessionId?: string;
  schedule: ChargingSchedule;
}

/** Every given field must match; id alone (when given) decides. */
export interface ChargingProfileFilter {
  id?: number;
  evseId?: number;
  purpose?: ChargingProfilePurpose;
  stackLevel?: number;
}

export interface CompositeSchedule {
  evseId: number;
  /** Epoch ms the periods count from. */
  start: number;
  durationS: number;
  unit: ChargingRateUnit;
  periods: ChargingSchedulePeriod[];
  minChargingRate?: number;
}

export interface ChargingProfileLimits {
  maxStackLevel: number;
  maxPeriods: number;
  maxProfiles: number;
}

/** reasonCode: a 2.0.1 reason code (appendix 5) for the refusal, when one fits. */
export type SetProfileResult = { status: 'Accepted' } | { status: 'Rejected'; reason: string; reasonCode?: string };

/**
 * How set() replaces and checks, per OCPP version. 1.6 §5.16.3: same id, or same stack level + purpose
 * (+ connector) replaces; a numberPhases the EVSE cannot keep to is taken at its lower bound. 2.0.1:
 * only the same id replaces (K01.FR.05), another id with the same stack level + purpose + EVSE and an
 * overlapping validity is refused (K01.FR.06 / K01.FR.39), so is a numberPhases or phaseToUse the EVSE
 * cannot keep to (K01.FR.43 / K01.FR.48).
 */
export interface SetProfileRules {
  replace: 'id-or-slot' | 'id-only';
  strictPhases: boolean;
}

/** What smart charging knows of an EVSE's phases: its wiring, and whether the board can switch to one phase. */
export interface EvsePhaseInfo {
  phases: 1 | 3;
  phaseSwitch: boolean;
}

export interface ChargingProfilesApi {
  readonly limits: ChargingProfileLimits;
  /** Install (or replace, by `rules`: 1.6 by default) and apply at once. */
  set(p: ChargingProfile, rules?: SetProfileRules): SetProfileResult;
  /** Phases of an EVSE (undefined for an unknown one). */
  phasesOf(evseId: number): EvsePhaseInfo | undefined;
  /** Remove the matching profiles; returns how many. */
  clear(filter: ChargingProfileFilter): number;
  list(filter?: ChargingProfileFilter): ChargingProfile[];
  /** From now for durationS; evseId 0 = what the whole station may take. undefined for an unknown EVSE. Unit absent: the profiles' own when they share one, else A. */
  composite(evseId: number, durationS: number, unit?: ChargingRateUnit): CompositeSchedule | undefined;
}
