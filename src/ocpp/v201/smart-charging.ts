/**
 * K01–K10 (smart charging) of the 2.0.1 adapter: SetChargingProfile, GetChargingProfiles →
 * ReportChargingProfiles, ClearChargingProfile, GetCompositeSchedule and the TxProfile of a
 * RequestStartTransaction (K05), over the station's version-neutral profile store and composite
 * calculator (station.chargingProfiles). This file only checks and translates 2.0.1 messages; the
 * schedule arithmetic and applying the limit to the EVSEs belong to the station.
 */
import { createRPCError } from 'ocpp-rpc';
import type {
  ChargingProfile,
  ChargingProfileFilter,
  ChargingProfilesApi,
  ChargingRateUnit,
} from '../../station/api.js';
import { phaseProblem } from '../../station/composite.js';
import { kvGet, kvSet } from '../../store/kv.js';
import type {
  ChargingProfileType,
  ChargingScheduleType,
  ClearChargingProfileRequest,
  ClearChargingProfileResponse,
  GetChargingProfilesRequest,
  GetChargingProfilesResponse,
  GetCompositeScheduleRequest,
  GetCompositeScheduleResponse,
  ReportChargingProfilesRequest,
  SetChargingProfileRequest,
  SetChargingProfileResponse,
  StatusInfoType as StatusInfo,
} from '../messages/v201.js';
import type { V201Context } from './context.js';
import type { VariableDef } from './device-model-data.js';
import { externalReportParts, type ExternalReportPart } from './external-limits.js';

export type { ChargingProfileType, ChargingSchedulePeriodType, ChargingScheduleType, StatusInfoType as StatusInfo } from '../messages/v201.js';

type Checked = { profile: ChargingProfile; scheduleId: number } | { rejected: StatusInfo };

/** Station-kv key of the 2.0.1 chargingSchedule.id per profile id (the station's profile has no such field). */
const SCHEDULE_IDS = 'v201.chargingScheduleIds';
/** Profiles per ReportChargingProfiles message; more go in further messages with tbc (K09.FR.02). */
const PROFILES_PER_REPORT = 20;

const reject = (reasonCode: string, additionalInfo?: string): { rejected: StatusInfo } => ({
  rejected: additionalInfo === undefined ? { reasonCode } : { reasonCode, additionalInfo: additionalInfo.slice(0, 512) },
});

export class SmartCharging {
  constructor(
    private readonly ctx: V201Context,
    /** Is this transaction id a started, not ended 2.0.1 transaction (TransactionEvent Started sent)? */
    private readonly txRunning: (transactionId: string) => boolean,
  ) {}

  private get api(): ChargingProfilesApi | undefined {
    return this.ctx.station.chargingProfiles;
  }

  /** The station's profile API, or CALLERROR NotSupported when the station has none (K01.FR.29). */
  private need(): ChargingProfilesApi {
    const api = this.api;
    if (!api) throw createRPCError('NotSupported', 'this station has no smart charging');
    return api;
  }

  register(): void {
    this.ctx.handle('SetChargingProfile', (p) => this.setChargingProfile(p));
    this.ctx.handle('GetChargingProfiles', (p) => this.getChargingProfiles(p));
    this.ctx.handle('ClearChargingProfile', (p) => this.clearChargingProfile(p));
    this.ctx.handle('GetCompositeSchedule', (p) => this.getCompositeSchedule(p));
  }

  /** SmartChargingCtrlr values that are facts of the station, not stored settings. */
  live(def: VariableDef): string | undefined {
    if (def.component !== 'SmartChargingCtrlr') return undefined;
    const api = this.api;
    switch (def.variable) {
      case 'Enabled':
      case 'Available':
        return String(api !== undefined);
      case 'Entries':
        return api ? String(api.list().length) : '0';
      case 'ProfileStackLevel':
        return api ? String(api.limits.maxStackLevel) : undefined;
      case 'PeriodsPerSchedule':
        return api ? String(api.limits.maxPeriods) : undefined;
      case 'ACPhaseSwitchingSupported':
      case 'Phases3to1': {
        const ids = this.ctx.station.evseIds;
        return String(api !== undefined && ids.length > 0 && ids.every((id) => api.phasesOf(id)?.phaseSwitch === true));
      }
      default:
        return undefined;
    }
  }

  /** K01 */
  private setChargingProfile(req: SetChargingProfileRequest): SetChargingProfileResponse {
    const api = this.need();
    const checked = this.check(req.chargingProfile, req.evseId, 'set');
    if ('rejected' in checked) return this.rejected('SetChargingProfile', req.chargingProfile.id, checked.rejected);
    // K01.FR.05: only the same id replaces; K01.FR.06 / K01.FR.39: a second profile of one slot is refused.
    const res = api.set(checked.profile, { replace: 'id-only', strictPhases: true });
    if (res.status !== 'Accepted') {
      const info = res.reasonCode ? { reasonCode: res.reasonCode, additionalInfo: res.reason.slice(0, 512) } : coreReason(res.reason);
      return this.rejected('SetChargingProfile', req.chargingProfile.id, info);
    }
    this.rememberScheduleId(checked.profile.id, checked.scheduleId);
    return { status: 'Accepted' };
  }

  private rejected(action: string, id: number, info: StatusInfo): { status: 'Rejected'; statusInfo: StatusInfo } {
    this.ctx.log.info('v201: charging profile rejected', { action, id, ...info });
    return { status: 'Rejected', statusInfo: info };
  }

  /**
   * K05: the TxProfile of a RequestStartTransaction, as the station profile to bind to the session the
   * start opens. undefined = none to apply (no profile given, or a station without smart charging:
   * K05.FR.04 ignores it); rejected = the request is Rejected (K05.FR.05).
   */
  forRemoteStart(p: ChargingProfileType | undefined, evseId: number): { profile?: ChargingProfile; rejected?: StatusInfo } {
    if (!p || !this.api) return {};
    // K05.FR.02: always a TxProfile; its transactionId cannot be known yet.
    if (p.chargingProfilePurpose !== 'TxProfile') return { rejected: { reasonCode: 'InvalidProfile', additionalInfo: 'purpose must be TxProfile' } };
    const checked = this.check({ ...p, transactionId: undefined }, evseId, 'remote-start');
    if ('rejected' in checked) return checked;
    this.rememberScheduleId(checked.profile.id, checked.scheduleId);
    return { profile: checked.profile };
  }

  /** K01.FR.* checks of a 2.0.1 profile, and its translation into the station's profile. */
  private check(p: ChargingProfileType, evseId: number, use: 'set' | 'remote-start'): Checked {
    const api = this.need();
    const station = this.ctx.station;
    if (evseId !== 0 && !station.evseIds.includes(evseId)) return reject('UnknownEvse'); // K01.FR.28
    const purpose = p.chargingProfilePurpose;
    if (purpose === 'ChargingStationExternalConstraints') return reject('InvalidProfile', 'ChargingStationExternalConstraints cannot be set by the CSMS'); // K01.FR.22
    if (purpose === 'ChargingStationMaxProfile') {
      if (evseId !== 0) return reject('InvalidProfile', 'ChargingStationMaxProfile only on EVSE 0'); // K04.FR.03
      if (p.chargingProfileKind === 'Relative') return reject('InvalidProfile', 'ChargingStationMaxProfile cannot be Relative'); // K01.FR.38
    }
    let sessionId: string | undefined;
    if (purpose === 'TxProfile') {
      if (evseId === 0) return reject('InvalidProfile', 'TxProfile only on an EVSE > 0'); // K01.FR.16
      if (use === 'set') {
        // K01.FR.03 / K01.FR.09 / K01.FR.33: the transaction must be known, running, and on this EVSE.
        if (!p.transactionId) return reject('TxNotFound', 'a TxProfile needs the transactionId');
        const s = station.findSession(p.transactionId);
        if (!s || s.endedAt !== undefined || !this.txRunning(s.id)) return reject('TxNotFound');
        if (s.evseId !== evseId) return reject('TxNotFound', `transaction ${s.id} is on EVSE ${s.evseId}`);
        sessionId = s.id;
      }
    }
    if (!Number.isInteger(p.stackLevel) || p.stackLevel < 0 || p.stackLevel > api.limits.maxStackLevel) {
      return reject('InvalidStackLevel', `stackLevel 0..${api.limits.maxStackLevel}`);
    }
    // K01.FR.34: one schedule (more only with ISO 15118, which this station does not speak).
    if (p.chargingSchedule.length !== 1) return reject('InvalidSchedule', 'exactly one chargingSchedule');
    const sched = p.chargingSchedule[0]!;
    const units = this.ctx.dm.list('SmartChargingCtrlr.RateUnit');
    if (!units.includes(sched.chargingRateUnit)) return reject('UnsupportedRateUnit', `supported: ${units.join(',')}`); // K01.FR.26
    const periods = sched.chargingSchedulePeriod;
    if (periods.length > api.limits.maxPeriods) return reject('TooManyElements', `at most ${api.limits.maxPeriods} periods`);
    if (periods[0]?.startPeriod !== 0) return reject('InvalidSchedule', 'the first startPeriod must be 0'); // K01.FR.31
    for (let i = 1; i < periods.length; i++) {
      if (periods[i]!.startPeriod <= periods[i - 1]!.startPeriod) return reject('InvalidSchedule', 'startPeriod must increase'); // K01.FR.35
    }
    if (periods.some((x) => x.limit < 0)) return reject('InvalidSchedule', 'negative limit');
    if (sched.duration !== undefined && sched.duration < 0) return reject('InvalidSchedule', 'negative duration');
    if (sched.minChargingRate !== undefined && sched.minChargingRate < 0) return reject('InvalidSchedule', 'negative minChargingRate');

    // CSMS times, as station time (the CSMS clock offset).
    const startSchedule = sched.startSchedule === undefined ? undefined : this.ctx.fromIso(sched.startSchedule);
    if (p.chargingProfileKind === 'Relative') {
      if (startSchedule !== undefined) return reject('InvalidSchedule', 'a Relative schedule has no startSchedule'); // K01.FR.41
    } else if (startSchedule === undefined || !Number.isFinite(startSchedule)) {
      return reject('InvalidSchedule', 'Absolute and Recurring need startSchedule'); // K01.FR.40
    }
    if (p.chargingProfileKind === 'Recurring' && !p.recurrencyKind) return reject('InvalidProfile', 'Recurring needs recurrencyKind');
    const validFrom = p.validFrom === undefined ? undefined : this.ctx.fromIso(p.validFrom);
    const validTo = p.validTo === undefined ? undefined : this.ctx.fromIso(p.validTo);
    if ((validFrom !== undefined && !Number.isFinite(validFrom)) || (validTo !== undefined && !Number.isFinite(validTo))) {
      return reject('InvalidProfile', 'validFrom / validTo');
    }
    if (validFrom !== undefined && validTo !== undefined && validTo <= validFrom) return reject('InvalidProfile', 'validTo before validFrom');

    // K01.FR.52 / K01.FR.53: a TxDefaultProfile stack level is either station-wide (EVSE 0) or per EVSE, not both.
    if (purpose === 'TxDefaultProfile') {
      const clash = api
        .list({ purpose: 'TxDefaultProfile', stackLevel: p.stackLevel })
        .find((o) => o.id !== p.id && (evseId === 0 ? o.evseId !== 0 : o.evseId === 0));
      if (clash) return reject('DuplicateProfile', `profile ${clash.id} has this stackLevel on EVSE ${clash.evseId}`);
    }

    const profile: ChargingProfile = {
      id: p.id,
      evseId,
      stackLevel: p.stackLevel,
      purpose,
      kind: p.chargingProfileKind,
      schedule: {
        unit: sched.chargingRateUnit,
        // Kept as sent; the calculator imposes more phases than the EVSE has on the ones it has (K01.FR.45).
        periods: periods.map((x) => ({
          startPeriodS: x.startPeriod,
          limit: x.limit,
          ...(x.numberPhases !== undefined ? { numberPhases: x.numberPhases } : {}),
          ...(x.phaseToUse !== undefined ? { phaseToUse: x.phaseToUse } : {}),
        })),
        ...(startSchedule !== undefined ? { startSchedule } : {}),
        ...(sched.duration !== undefined ? { durationS: sched.duration } : {}),
        ...(sched.minChargingRate !== undefined ? { minChargingRate: sched.minChargingRate } : {}),
      },
      ...(p.recurrencyKind ? { recurrency: p.recurrencyKind } : {}),
      ...(validFrom !== undefined ? { validFrom } : {}),
      ...(validTo !== undefined ? { validTo } : {}),
      ...(sessionId !== undefined ? { sessionId } : {}),
    };
    // K01.FR.43 / K01.FR.48 / K01.FR.19: phases the EVSE(s) cannot keep to are refused, never offered on more.
    const targets = (evseId === 0 ? station.evseIds : [evseId]).flatMap((id) => {
      const info = api.phasesOf(id);
      return info ? [{ id, phases: info.phases, phaseSwitch: info.phaseSwitch }] : [];
    });
    const phases = phaseProblem(profile, targets);
    if (phases) return reject(phases.reasonCode, phases.reason);
    return { profile, scheduleId: sched.id };
  }

  /** K09 */
  private getChargingProfiles(req: GetChargingProfilesRequest): GetChargingProfilesResponse {
    const api = this.need();
    const c = req.chargingProfile;
    // Every profile here was set by the CSMS (source CSO); external limits are reported beside them (K12.FR.05).
    const sourceOk = !c.chargingLimitSource || c.chargingLimitSource.includes('CSO');
    const found = !sourceOk
      ? []
      : api.list().filter(
          (p) =>
            // K09.FR.04 / K09.FR.05: only what is installed on that EVSE; K09.FR.06: every EVSE when absent.
            (req.evseId === undefined || p.evseId === req.evseId) &&
            (!c.chargingProfileId || c.chargingProfileId.includes(p.id)) &&
            (c.chargingProfilePurpose === undefined || p.purpose === c.chargingProfilePurpose) &&
            (c.stackLevel === undefined || p.stackLevel === c.stackLevel),
        );
    const external = externalReportParts(this.ctx.station.externalConstraints?.() ?? [], req, (ms) => this.ctx.iso(ms));
    if (found.length === 0 && external.length === 0) return { status: 'NoProfiles' };
    // ReportChargingProfiles carries one evseId: one message (or more) per EVSE.
    const byEvse = new Map<number, ChargingProfile[]>();
    for (const p of found) byEvse.set(p.evseId, [...(byEvse.get(p.evseId) ?? []), p]);
    const ids = kvGet<Record<string, number>>(this.ctx.deps.db, SCHEDULE_IDS) ?? {};
    const parts: ExternalReportPart[] = [];
    for (const [evseId, list] of [...byEvse.entries()].sort((a, b) => a[0] - b[0])) {
      for (let i = 0; i < list.length; i += PROFILES_PER_REPORT) {
        parts.push({ evseId, source: 'CSO', profiles: list.slice(i, i + PROFILES_PER_REPORT).map((p) => toWire(p, (ms) => this.ctx.iso(ms), ids[String(p.id)])) });
      }
    }
    parts.push(...external);
    this.ctx.afterResponse(async () => {
      for (const [i, part] of parts.entries()) {
        const payload: ReportChargingProfilesRequest = {
          requestId: req.requestId, // K09.FR.01
          chargingLimitSource: part.source,
          evseId: part.evseId,
          chargingProfile: part.profiles,
        };
        if (i < parts.length - 1) payload.tbc = true; // K09.FR.02
        await this.ctx.send('ReportChargingProfiles', payload);
      }
    });
    return { status: 'Accepted' };
  }

  /** K10 */
  private clearChargingProfile(req: ClearChargingProfileRequest): ClearChargingProfileResponse {
    const api = this.need();
    let filter: ChargingProfileFilter;
    if (req.chargingProfileId !== undefined) {
      filter = { id: req.chargingProfileId }; // K10.FR.03: the id alone decides
    } else {
      const c = req.chargingProfileCriteria ?? {};
      // K10.FR.06 / K10.FR.08: external constraints are not the CSMS's to clear (and there are none here).
      if (c.chargingProfilePurpose === 'ChargingStationExternalConstraints') return { status: 'Unknown' };
      filter = {};
      if (c.evseId !== undefined) filter.evseId = c.evseId;
      if (c.chargingProfilePurpose !== undefined) filter.purpose = c.chargingProfilePurpose;
      if (c.stackLevel !== undefined) filter.stackLevel = c.stackLevel;
    }
    // K10.FR.04 / K10.FR.05: the station recalculates and applies the limits itself.
    return { status: api.clear(filter) > 0 ? 'Accepted' : 'Unknown' }; // K10.FR.01
  }

  /** K08 */
  private getCompositeSchedule(req: GetCompositeScheduleRequest): GetCompositeScheduleResponse {
    const api = this.need();
    if (req.evseId !== 0 && !this.ctx.station.evseIds.includes(req.evseId)) return { status: 'Rejected', statusInfo: { reasonCode: 'UnknownEvse' } }; // K08.FR.05
    const units = this.ctx.dm.list('SmartChargingCtrlr.RateUnit');
    if (req.chargingRateUnit && !units.includes(req.chargingRateUnit)) return { status: 'Rejected', statusInfo: { reasonCode: 'UnsupportedRateUnit' } }; // K08.FR.07
    if (!Number.isInteger(req.duration) || req.duration <= 0) return { status: 'Rejected', statusInfo: { reasonCode: 'InvalidValue', additionalInfo: 'duration' } };
    const only = units.length === 1 ? units[0] : undefined;
    const unit: ChargingRateUnit | undefined = req.chargingRateUnit ?? (only === 'A' || only === 'W' ? only : undefined);
    const c = api.composite(req.evseId, req.duration, unit);
    if (!c || c.periods.length === 0) return { status: 'Rejected', statusInfo: { reasonCode: 'InternalError' } };
    return {
      status: 'Accepted',
      schedule: {
        evseId: req.evseId,
        duration: c.durationS,
        scheduleStart: this.ctx.iso(c.start),
        chargingRateUnit: c.unit,
        chargingSchedulePeriod: c.periods.map((x) => ({
          startPeriod: Math.round(x.startPeriodS),
          limit: round1(x.limit),
          ...(x.numberPhases !== undefined ? { numberPhases: x.numberPhases } : {}),
        })),
      },
    };
  }

  /** The 2.0.1 chargingSchedule.id, kept so that a report gives back the profile as it was set (TC_K_01). */
  private rememberScheduleId(profileId: number, scheduleId: number): void {
    const db = this.ctx.deps.db;
    const live = new Set((this.api?.list() ?? []).map((p) => String(p.id)));
    const ids = kvGet<Record<string, number>>(db, SCHEDULE_IDS) ?? {};
    // Forget the ids of profiles the station no longer holds (cleared, or ended with their transaction).
    for (const k of Object.keys(ids)) if (!live.has(k)) delete ids[k];
    ids[String(profileId)] = scheduleId;
    kvSet(db, SCHEDULE_IDS, ids);
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** A station reason: a 2.0.1 reason code when it reads like one, else InvalidProfile with the text. */
function coreReason(reason: string): StatusInfo {
  return /^[A-Za-z]{1,20}$/.test(reason) ? { reasonCode: reason } : { reasonCode: 'InvalidProfile', additionalInfo: reason.slice(0, 512) };
}

/** The station's profile as a 2.0.1 ChargingProfileType; `iso` gives station times as the CSMS's (ctx.iso). */
export function toWire(p: ChargingProfile, iso: (ms: number) => string, scheduleId = p.id): ChargingProfileType {
  const s = p.schedule;
  const schedule: ChargingScheduleType = {
    id: scheduleId,
    chargingRateUnit: s.unit,
    chargingSchedulePeriod: s.periods.map((x) => ({
      startPeriod: x.startPeriodS,
      limit: x.limit,
      ...(x.numberPhases !== undefined ? { numberPhases: x.numberPhases } : {}),
      ...(x.phaseToUse !== undefined ? { phaseToUse: x.phaseToUse } : {}),
    })),
  };
  if (s.startSchedule !== undefined) schedule.startSchedule = iso(s.startSchedule);
  if (s.durationS !== undefined) schedule.duration = s.durationS;
  if (s.minChargingRate !== undefined) schedule.minChargingRate = s.minChargingRate;
  const out: ChargingProfileType = {
    id: p.id,
    stackLevel: p.stackLevel,
    chargingProfilePurpose: p.purpose,
    chargingProfileKind: p.kind,
    chargingSchedule: [schedule],
  };
  if (p.recurrency) out.recurrencyKind = p.recurrency;
  if (p.validFrom !== undefined) out.validFrom = iso(p.validFrom);
  if (p.validTo !== undefined) out.validTo = iso(p.validTo);
  if (p.sessionId !== undefined) out.transactionId = p.sessionId; // the transactionId is the session id
  return out;
}
