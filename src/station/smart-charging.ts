/**
 * Smart charging: the installed charging profiles (kept in SQLite, K01.FR.27) and applying the
 * composite limit of now to every EVSE. The arithmetic is in composite.ts (one calculator for 1.6 and
 * 2.0.1); this file decides what may be installed, what replaces what, and when to look again.
 *
 * The station applies the limit now and arms one timer, on the injected clock, at the next instant
 * any profile can change it (a period start, an end of duration, validFrom/validTo, a recurrence).
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { Db } from '../store/db.js';
import { profileDelete, profilePut, profilesAll, profilesDeleteForSession } from '../store/charging-profiles.js';
import type {
  ChargingProfile,
  ChargingProfileFilter,
  ChargingProfileLimits,
  ChargingProfilesApi,
  ChargingRateUnit,
  CompositeSchedule,
  EvsePhaseInfo,
  SetProfileResult,
  SetProfileRules,
} from './api.js';
import {
  DEFAULT_NOMINAL_VOLTAGE_V,
  ProfileIndex,
  boundaries,
  compositeSchedule,
  floating,
  phaseProblem,
  pilotAmps,
  stationLimitsAt,
  type EvseCase,
  type EvseInfo,
  type EvseLimit,
  type SessionInfo,
} from './composite.js';

export { evseLimitAt, periodAt, stationLimitsAt, type EvseInfo, type SessionInfo, type EvseCase, type EvseLimit } from './composite.js';

export const DEFAULT_PROFILE_LIMITS: ChargingProfileLimits = { maxStackLevel: 8, maxPeriods: 48, maxProfiles: 32 };
const DAY_MS = 86_400_000;
/** Without a boundary in sight, look again after this long (a validFrom weeks away still gets its timer). */
const HORIZON_MS = DAY_MS;
const RULES_16: SetProfileRules = { replace: 'id-or-slot', strictPhases: false };

/** What the pilot of an EVSE is to offer: amperes per phase (pilot step, 0 below the minimum PWM) on `phases`. */
export interface OfferedLimit {
  amps: number;
  phases: 1 | 3;
  /** The one phase to use when on one phase (2.0.1 phaseToUse), when a profile says so. */
  phaseToUse?: number;
}

export interface SmartChargingDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  evses: EvseInfo[];
  /** The session running on an EVSE. */
  sessionOf: (evseId: number) => SessionInfo | undefined;
  /** Put a limit on an EVSE (undefined = no profile limits it). */
  apply: (evseId: number, limit: OfferedLimit | undefined) => void;
  limits?: ChargingProfileLimits;
  /** Nominal phase voltage for W <-> A (default 230 V). */
  nominalVoltageV?: number;
}

export class SmartCharging implements ChargingProfilesApi {
  readonly limits: ChargingProfileLimits;
  private readonly d: SmartChargingDeps;
  private readonly profiles = new Map<number, ChargingProfile>();
  private timer: TimerHandle | undefined;
  private running = false;
  readonly voltage: number;

  constructor(d: SmartChargingDeps) {
    this.d = d;
    this.limits = d.limits ?? DEFAULT_PROFILE_LIMITS;
    this.voltage = d.nominalVoltageV ?? DEFAULT_NOMINAL_VOLTAGE_V;
  }

  phasesOf(evseId: number): EvsePhaseInfo | undefined {
    const e = this.d.evses.find((x) => x.id === evseId);
    return e ? { phases: e.phases, phaseSwitch: e.phaseSwitch === true } : undefined;
  }

  /** Load the stored profiles, dropping TxProfiles of sessions that are no longer running, and apply them. */
  start(): void {
    this.profiles.clear();
    for (const p of profilesAll<ChargingProfile>(this.d.db)) {
      if (p.purpose === 'TxProfile' && (p.sessionId === undefined || this.d.sessionOf(p.evseId)?.id !== p.sessionId)) {
        profileDelete(this.d.db, p.id);
        continue;
      }
      this.profiles.set(p.id, p);
    }
    this.running = true;
    this.reapply();
  }

  stop(): void {
    this.running = false;
    this.d.clock.clear(this.timer);
    this.timer = undefined;
  }

  set(input: ChargingProfile, rules: SetProfileRules = RULES_16): SetProfileResult {
    const p: ChargingProfile = structuredClone(input);
    const bad = this.check(p, rules);
    if (bad) return { status: 'Rejected', ...bad };
    // A station-wide profile has no transaction to count from: a Relative one (1.6 allows it; 2.0.1 refuses
    // it, K01.FR.38) or an Absolute one without startSchedule starts when installed ("from when the profile
    // is activated", K01.FR.41). Left floating, the calculator held its first period for ever and never
    // reached a later, lower one.
    if ((p.purpose === 'ChargingStationMaxProfile' || p.purpose === 'ChargingStationExternalConstraints') && floating(p)) {
      p.kind = 'Absolute';
      p.schedule.startSchedule = this.d.clock.now();
    }
    const sameSlot = (o: ChargingProfile): boolean =>
      o.purpose === p.purpose && o.stackLevel === p.stackLevel && o.evseId === p.evseId && (p.purpose !== 'TxProfile' || o.sessionId === p.sessionId);
    // 1.6 §5.16.3 / §5.16.4: same id, or same stack level + purpose (+ connector), replaces. 2.0.1 K01.FR.05: the id alone.
    const replaced = [...this.profiles.values()].filter((o) => o.id === p.id || (rules.replace === 'id-or-slot' && sameSlot(o)));
    if (rules.replace === 'id-only') {
      // K01.FR.05: an external constraints profile is not the CSMS's to replace.
      if (this.profiles.get(p.id)?.purpose === 'ChargingStationExternalConstraints' && p.purpose !== 'ChargingStationExternalConstraints') {
        return { status: 'Rejected', reason: `profile ${p.id} is an external constraint`, reasonCode: 'InvalidProfile' };
      }
      // K01.FR.06 / K01.FR.39: two profiles of one slot valid at the same time are the CSMS's error: refused.
      const clash = [...this.profiles.values()].find((o) => o.id !== p.id && sameSlot(o) && overlaps(o, p));
      if (clash) return { status: 'Rejected', reason: `profile ${clash.id} has this stack level and purpose on EVSE ${clash.evseId}`, reasonCode: 'DuplicateProfile' };
    }
    if (this.profiles.size - replaced.length + 1 > this.limits.maxProfiles) return { status: 'Rejected', reason: 'too many profiles installed' };
    for (const o of replaced) {
      this.profiles.delete(o.id);
      profileDelete(this.d.db, o.id);
    }
    this.profiles.set(p.id, p);
    profilePut(this.d.db, p);
    this.d.log.info('charging profile installed', { id: p.id, evse: p.evseId, purpose: p.purpose, stackLevel: p.stackLevel, replaced: replaced.map((o) => o.id) });
    this.reapply();
    return { status: 'Accepted' };
  }

  /** Why p cannot be installed, or undefined. Fills in the session of a TxProfile given without one. */
  private check(p: ChargingProfile, rules: SetProfileRules): { reason: string; reasonCode?: string } | undefined {
    const known = this.d.evses.some((e) => e.id === p.evseId);
    if (p.evseId !== 0 && !known) return { reason: 'unknown EVSE', reasonCode: 'UnknownEvse' };
    if (p.purpose === 'ChargingStationMaxProfile' && p.evseId !== 0) return { reason: 'a station max profile belongs to EVSE 0' };
    if (p.purpose === 'TxProfile') {
      if (p.evseId === 0) return { reason: 'a TxProfile needs an EVSE' };
      const s = this.d.sessionOf(p.evseId);
      if (!s) return { reason: 'no transaction on the EVSE', reasonCode: 'TxNotFound' };
      if (p.sessionId !== undefined && p.sessionId !== s.id) return { reason: 'the transaction is not running on the EVSE', reasonCode: 'TxNotFound' };
      p.sessionId = s.id;
    } else {
      delete p.sessionId;
    }
    const shape = this.checkShape(p);
    if (shape) return { reason: shape };
    return rules.strictPhases ? this.checkPhases(p) : undefined;
  }

  /** K01.FR.43 / K01.FR.48 / K01.FR.19 (2.0.1): see phaseProblem(). */
  checkPhases(p: ChargingProfile): { reason: string; reasonCode: string } | undefined {
    return phaseProblem(p, p.evseId === 0 ? this.d.evses : this.d.evses.filter((e) => e.id === p.evseId));
  }

  /** What is wrong with p itself (stack level, periods, recurrence, validity), whatever is installed. */
  checkShape(p: ChargingProfile): string | undefined {
    if (!Number.isInteger(p.stackLevel) || p.stackLevel < 0 || p.stackLevel > this.limits.maxStackLevel) return 'stack level out of range';
    const periods = p.schedule.periods;
    if (periods.length === 0 || periods.length > this.limits.maxPeriods) return 'number of periods out of range';
    if (periods[0]!.startPeriodS !== 0) return 'the first period must start at 0';
    for (let i = 1; i < periods.length; i++) if (periods[i]!.startPeriodS <= periods[i - 1]!.startPeriodS) return 'periods must ascend';
    if (periods.some((x) => !Number.isFinite(x.limit) || x.limit < 0)) return 'negative limit';
    if (periods.some((x) => x.numberPhases !== undefined && (!Number.isInteger(x.numberPhases) || x.numberPhases < 1 || x.numberPhases > 3))) return 'numberPhases must be 1, 2 or 3';
    if (periods.some((x) => x.phaseToUse !== undefined && (!Number.isInteger(x.phaseToUse) || x.phaseToUse < 1 || x.phaseToUse > 3))) return 'phaseToUse must be 1, 2 or 3';
    if (p.kind === 'Recurring' && (p.recurrency === undefined || p.schedule.startSchedule === undefined)) return 'a recurring profile needs recurrency and startSchedule';
    if (p.validFrom !== undefined && p.validTo !== undefined && p.validTo <= p.validFrom) return 'validTo before validFrom';
    return undefined;
  }

  clear(f: ChargingProfileFilter): number {
    const matches = (p: ChargingProfile): boolean =>
      f.id !== undefined
        ? p.id === f.id
        : (f.evseId === undefined || p.evseId === f.evseId) &&
          (f.purpose === undefined || p.purpose === f.purpose) &&
          (f.stackLevel === undefined || p.stackLevel === f.stackLevel);
    const gone = [...this.profiles.values()].filter(matches);
    for (const p of gone) {
      this.profiles.delete(p.id);
      profileDelete(this.d.db, p.id);
    }
    if (gone.length > 0) {
      this.d.log.info('charging profiles cleared', { ids: gone.map((p) => p.id) });
      this.reapply();
    }
    return gone.length;
  }

  list(f: ChargingProfileFilter = {}): ChargingProfile[] {
    return [...this.profiles.values()]
      .filter(
        (p) =>
          (f.id === undefined || p.id === f.id) &&
          (f.evseId === undefined || p.evseId === f.evseId) &&
          (f.purpose === undefined || p.purpose === f.purpose) &&
          (f.stackLevel === undefined || p.stackLevel === f.stackLevel),
      )
      .map((p) => structuredClone(p));
  }

  /** A session ended: its TxProfiles go (1.6 3.13.1 "After the transaction is stopped, the profile SHOULD be deleted"). */
  sessionEnded(sessionId: string): void {
    let dropped = false;
    for (const p of [...this.profiles.values()]) {
      if (p.sessionId === sessionId) {
        this.profiles.delete(p.id);
        dropped = true;
      }
    }
    profilesDeleteForSession(this.d.db, sessionId);
    if (dropped) this.d.log.info('TxProfiles of an ended session dropped', { session: sessionId });
    this.reapply();
  }

  /** unit absent: the unit of the profiles that apply when they all have one, else A (nothing converted that need not be). */
  composite(evseId: number, durationS: number, asked?: ChargingRateUnit): CompositeSchedule | undefined {
    if (evseId !== 0 && !this.d.evses.some((e) => e.id === evseId)) return undefined;
    const from = this.d.clock.now();
    const units = new Set([...this.profiles.values()].filter((p) => evseId === 0 || p.evseId === 0 || p.evseId === evseId).map((p) => p.schedule.unit));
    const unit: ChargingRateUnit = asked ?? (units.size === 1 ? [...units][0]! : 'A');
    const c = compositeSchedule({
      ix: new ProfileIndex(this.profiles.values()),
      cases: this.cases(from),
      ...(evseId !== 0 ? { evseId } : {}),
      from,
      durationS,
      unit,
      v: this.voltage,
    });
    const out: CompositeSchedule = { evseId, start: from, durationS, unit, periods: c.periods };
    if (c.minChargingRate !== undefined) out.minChargingRate = c.minChargingRate;
    return out;
  }

  private cases(now: number): EvseCase[] {
    return this.d.evses.map((evse) => {
      const session = this.d.sessionOf(evse.id);
      return { evse, session, relStart: session?.txStart ?? now };
    });
  }

  /**
   * THE SEAM for further caps: what the pilot of an EVSE offers for a composite limit (undefined: no
   * profile limits it). A cap from elsewhere (a site limit) is min()'d with `amps` after this.
   */
  offered(l: EvseLimit): OfferedLimit | undefined {
    if (!l.profiled) return undefined;
    const out: OfferedLimit = { amps: pilotAmps(l.a), phases: l.phases === 1 ? 1 : 3 };
    if (l.phaseToUse !== undefined) out.phaseToUse = l.phaseToUse;
    return out;
  }

  /** The offered limit of one EVSE at `at` (default now), from the composite schedule. */
  offeredAt(evseId: number, at: number = this.d.clock.now()): OfferedLimit | undefined {
    const cases = this.cases(at);
    const i = cases.findIndex((c) => c.evse.id === evseId);
    if (i < 0) return undefined;
    return this.offered(stationLimitsAt(new ProfileIndex(this.profiles.values()), cases, at, this.voltage)[i]!);
  }

  /** Put the limit of now on every EVSE and arm the timer for the next change. */
  reapply(): void {
    if (!this.running) return;
    this.d.clock.clear(this.timer);
    this.timer = undefined;
    const now = this.d.clock.now();
    const ix = new ProfileIndex(this.profiles.values());
    const all = ix.all;
    let next = Infinity;
    const cases = this.cases(now);
    const limits = stationLimitsAt(ix, cases, now, this.voltage);
    for (const [i, c] of cases.entries()) {
      this.d.apply(c.evse.id, this.offered(limits[i]!));
      const live = c.session?.txStart === undefined;
      for (const p of all) for (const b of boundaries(p, now, now + HORIZON_MS, c.relStart, live)) next = Math.min(next, b);
    }
    if (all.length === 0) return;
    const at = Math.min(next, now + HORIZON_MS);
    this.timer = this.d.clock.setTimeout(() => {
      this.timer = undefined;
      this.reapply();
    }, at - now);
  }
}

/** Validity intervals [validFrom, validTo) that share an instant (absent = unbounded). */
function overlaps(a: ChargingProfile, b: ChargingProfile): boolean {
  return (a.validFrom ?? -Infinity) < (b.validTo ?? Infinity) && (b.validFrom ?? -Infinity) < (a.validTo ?? Infinity);
}
