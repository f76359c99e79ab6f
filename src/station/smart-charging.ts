/**
 * Smart charging: the installed charging profiles and the ONE composite schedule calculator both
 * OCPP adapters use (1.6 chapter 3.13, 2.0.1 K01/K08/K10).
 *
 * At any instant the limit of an EVSE is
 *
 *   min(hardware maximum, its share of the station max profile, TxProfile of its session if one applies, else TxDefaultProfile)
 *
 * where each purpose contributes its highest stack level that is valid and has a period at that
 * instant (1.6 3.13.2: "the prevailing charging profile SHALL be the charging profile with the highest
 * stackLevel among the profiles that are valid at that point in time"). A TxDefaultProfile of one
 * EVSE wins over one for every EVSE (evse 0) at the same stack level (1.6 3.13.1: replaced "only for
 * that specific connector"). Limits in W become A with the EVSE's phases (at most numberPhases of the
 * period) at 230 V nominal.
 *
 * The station max is for all EVSEs together (1.6 3.13.3): EVSEs with an authorized session share it,
 * each taking no more than its own limit and the rest going to the others (water filling). When the
 * shares would fall below the minimum PWM (6 A) the sessions that started last get nothing until
 * there is room. An EVSE without an authorized session is capped by the whole station max.
 *
 * The station applies the limit now and arms one timer, on the injected clock, at the next instant
 * any profile can change it (a period start, an end of duration, validFrom/validTo, a recurrence).
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Logger } from '../../hal/types.js';
import type { Db } from '../store/db.js';
import { MIN_PWM_AMPS } from './evse.js';
import { profileDelete, profilePut, profilesAll, profilesDeleteForSession } from '../store/charging-profiles.js';
import type {
  ChargingProfile,
  ChargingProfileFilter,
  ChargingProfileLimits,
  ChargingProfilesApi,
  ChargingRateUnit,
  ChargingSchedulePeriod,
  CompositeSchedule,
  SetProfileResult,
} from './api.js';

export const NOMINAL_VOLTAGE_V = 230;
export const DEFAULT_PROFILE_LIMITS: ChargingProfileLimits = { maxStackLevel: 8, maxPeriods: 48, maxProfiles: 32 };
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Without a boundary in sight, look again after this long (a validFrom weeks away still gets its timer). */
const HORIZON_MS = DAY_MS;

export interface EvseInfo {
  id: number;
  phases: 1 | 3;
  maxCurrentA: number;
}

/** What the calculator needs to know of the session running on an EVSE. */
export interface SessionInfo {
  id: string;
  /** Start of the transaction (Relative schedules count from it); undefined while not started. */
  txStart?: number;
  /** Authorized (may draw): takes part in sharing the station max; the earliest keeps its share. */
  authorizedAt?: number;
}

/** W → A per phase for an EVSE with `evsePhases`; the period's numberPhases (default 3) caps the phases used. */
export function toAmps(limit: number, unit: ChargingRateUnit, numberPhases: number | undefined, evsePhases: number): number {
  if (unit === 'A') return limit;
  const phases = Math.max(1, Math.min(numberPhases ?? 3, evsePhases));
  return limit / (NOMINAL_VOLTAGE_V * phases);
}

export function fromAmps(amps: number, unit: ChargingRateUnit, phases: number): number {
  return unit === 'A' ? amps : amps * NOMINAL_VOLTAGE_V * phases;
}

/** Start of the occurrence of p's schedule that covers t. relStart: the transaction start, or the instant asked about. */
function scheduleStart(p: ChargingProfile, t: number, relStart: number): number {
  const s = p.schedule.startSchedule ?? relStart;
  switch (p.kind) {
    case 'Relative':
      return relStart;
    case 'Absolute':
      return s;
    case 'Recurring': {
      const every = p.recurrency === 'Weekly' ? WEEK_MS : DAY_MS;
      return s + Math.floor((t - s) / every) * every;
    }
  }
}

/** The period of p in force at t; undefined when p says nothing then (not valid, not started, past its duration). */
export function periodAt(p: ChargingProfile, t: number, relStart: number): ChargingSchedulePeriod | undefined {
  if (p.validFrom !== undefined && t < p.validFrom) return undefined;
  if (p.validTo !== undefined && t >= p.validTo) return undefined;
  const offset = t - scheduleStart(p, t, relStart);
  if (offset < 0) return undefined;
  if (p.schedule.durationS !== undefined && offset >= p.schedule.durationS * 1000) return undefined;
  let found: ChargingSchedulePeriod | undefined;
  for (const period of p.schedule.periods) {
    if (period.startPeriodS * 1000 > offset) break;
    found = period;
  }
  return found;
}

/** A schedule that starts with the transaction: without one it starts "now", whenever now is. */
const floating = (p: ChargingProfile): boolean => p.kind === 'Relative' || (p.kind === 'Absolute' && p.schedule.startSchedule === undefined);

/**
 * Every instant in (from, to) where p's contribution may change. live: the station's own timer
 * without a transaction start, where a floating schedule is always at its first period.
 */
function boundaries(p: ChargingProfile, from: number, to: number, relStart: number, live = false): number[] {
  const out: number[] = [];
  if (p.validFrom !== undefined) out.push(p.validFrom);
  if (p.validTo !== undefined) out.push(p.validTo);
  if (live && floating(p)) return out.filter((x) => x > from && x < to);
  const starts: number[] = [];
  if (p.kind === 'Recurring') {
    const s = p.schedule.startSchedule ?? relStart;
    const every = p.recurrency === 'Weekly' ? WEEK_MS : DAY_MS;
    for (let k = Math.floor((from - s) / every); s + k * every < to; k++) starts.push(s + k * every);
  } else {
    starts.push(scheduleStart(p, from, relStart));
  }
  for (const st of starts) {
    out.push(st);
    for (const period of p.schedule.periods) out.push(st + period.startPeriodS * 1000);
    if (p.schedule.durationS !== undefined) out.push(st + p.schedule.durationS * 1000);
  }
  return out.filter((x) => x > from && x < to);
}

interface Pick {
  profile: ChargingProfile;
  period: ChargingSchedulePeriod;
}

/** Highest stack level with a period at t; at equal levels the EVSE's own profile beats the station-wide one. */
function prevailing(candidates: ChargingProfile[], t: number, relStart: number): Pick | undefined {
  const sorted = [...candidates].sort((a, b) => b.stackLevel - a.stackLevel || b.evseId - a.evseId);
  for (const profile of sorted) {
    const period = periodAt(profile, t, relStart);
    if (period) return { profile, period };
  }
  return undefined;
}

export interface EvseLimit {
  /** Amperes per phase, hardware maximum included; 0 = no energy. */
  amps: number;
  /** False when no profile says anything (the station then runs without a limit). */
  profiled: boolean;
  minChargingRateA?: number;
}

/** The composite limit of one EVSE at t. Pure: the profiles, the EVSE and its session are all it reads. */
export function evseLimitAt(
  profiles: ChargingProfile[],
  evse: EvseInfo,
  session: SessionInfo | undefined,
  t: number,
  relStart: number,
  /** Its share of the station max, when the caller shared it out; else the whole station max applies. */
  stationShareA?: number,
): EvseLimit {
  const amps = (pick: Pick): number => toAmps(pick.period.limit, pick.profile.schedule.unit, pick.period.numberPhases, evse.phases);
  const stationMax =
    stationShareA === undefined
      ? prevailing(
          profiles.filter((p) => p.purpose === 'ChargingStationMaxProfile'),
          t,
          relStart,
        )
      : undefined;
  const tx = session
    ? prevailing(
        profiles.filter((p) => p.purpose === 'TxProfile' && p.evseId === evse.id && p.sessionId === session.id),
        t,
        relStart,
      )
    : undefined;
  const own =
    tx ??
    prevailing(
      profiles.filter((p) => p.purpose === 'TxDefaultProfile' && (p.evseId === 0 || p.evseId === evse.id)),
      t,
      relStart,
    );
  let limit = evse.maxCurrentA;
  if (stationMax) limit = Math.min(limit, amps(stationMax));
  if (stationShareA !== undefined) limit = Math.min(limit, stationShareA);
  if (own) limit = Math.min(limit, amps(own));
  const profiled = stationMax !== undefined || stationShareA !== undefined || own !== undefined;
  const out: EvseLimit = { amps: Math.max(0, Math.floor(limit * 10) / 10), profiled };
  const min = own?.profile.schedule.minChargingRate;
  if (own && min !== undefined) out.minChargingRateA = toAmps(min, own.profile.schedule.unit, own.period.numberPhases, evse.phases);
  return out;
}

export interface EvseCase {
  evse: EvseInfo;
  session: SessionInfo | undefined;
  relStart: number;
}

/** The limits of all EVSEs at t, the station max shared among those with an authorized session. */
export function stationLimitsAt(profiles: ChargingProfile[], cases: EvseCase[], t: number): EvseLimit[] {
  const max = prevailing(
    profiles.filter((p) => p.purpose === 'ChargingStationMaxProfile'),
    t,
    t,
  );
  if (!max) return cases.map((c) => evseLimitAt(profiles, c.evse, c.session, t, c.relStart));
  const phases = Math.max(1, ...cases.map((c) => c.evse.phases));
  const cap = toAmps(max.period.limit, max.profile.schedule.unit, max.period.numberPhases, phases);
  const own = cases.map((c) => evseLimitAt(profiles, c.evse, c.session, t, c.relStart, Infinity));
  const share = cases.map(() => cap);
  // Who shares: authorized sessions that can take a PWM at all, earliest first.
  const order = cases
    .map((c, i) => ({ i, at: c.session?.authorizedAt }))
    .filter((x) => x.at !== undefined && own[x.i]!.amps >= MIN_PWM_AMPS)
    .sort((a, b) => a.at! - b.at! || a.i - b.i)
    .map((x) => x.i);
  for (const i of cases.keys()) if (cases[i]!.session?.authorizedAt !== undefined && !order.includes(i)) share[i] = 0;
  const served = [...order];
  while (served.length > 0 && cap / served.length < MIN_PWM_AMPS) share[served.pop()!] = 0;
  // Water filling: the smallest own limits are met first, what they leave goes to the rest.
  let left = cap;
  const pending = [...served].sort((a, b) => own[a]!.amps - own[b]!.amps);
  while (pending.length > 0) {
    const fair = left / pending.length;
    const first = pending[0]!;
    if (own[first]!.amps <= fair) {
      share[first] = own[first]!.amps;
      left -= own[first]!.amps;
      pending.shift();
    } else {
      for (const i of pending) share[i] = fair;
      break;
    }
  }
  return cases.map((c, i) => evseLimitAt(profiles, c.evse, c.session, t, c.relStart, share[i]));
}

export interface SmartChargingDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  evses: EvseInfo[];
  /** The session running on an EVSE. */
  sessionOf: (evseId: number) => SessionInfo | undefined;
  /** Put a limit on an EVSE (undefined = no profile limits it). */
  apply: (evseId: number, amps: number | undefined) => void;
  limits?: ChargingProfileLimits;
}

export class SmartCharging implements ChargingProfilesApi {
  readonly limits: ChargingProfileLimits;
  private readonly d: SmartChargingDeps;
  private readonly profiles = new Map<number, ChargingProfile>();
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(d: SmartChargingDeps) {
    this.d = d;
    this.limits = d.limits ?? DEFAULT_PROFILE_LIMITS;
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

  set(input: ChargingProfile): SetProfileResult {
    const p: ChargingProfile = structuredClone(input);
    const bad = this.check(p);
    if (bad) return { status: 'Rejected', reason: bad };
    const replaced = [...this.profiles.values()].filter(
      (o) =>
        o.id === p.id ||
        (o.purpose === p.purpose && o.stackLevel === p.stackLevel && o.evseId === p.evseId && (p.purpose !== 'TxProfile' || o.sessionId === p.sessionId)),
    );
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
  private check(p: ChargingProfile): string | undefined {
    const known = this.d.evses.some((e) => e.id === p.evseId);
    if (p.evseId !== 0 && !known) return 'unknown EVSE';
    if (p.purpose === 'ChargingStationMaxProfile' && p.evseId !== 0) return 'a station max profile belongs to EVSE 0';
    if (p.purpose === 'TxProfile') {
      if (p.evseId === 0) return 'a TxProfile needs an EVSE';
      const s = this.d.sessionOf(p.evseId);
      if (!s) return 'no transaction on the EVSE';
      if (p.sessionId !== undefined && p.sessionId !== s.id) return 'the transaction is not running on the EVSE';
      p.sessionId = s.id;
    } else {
      delete p.sessionId;
    }
    return this.checkShape(p);
  }

  /** What is wrong with p itself (stack level, periods, recurrence, validity), whatever is installed. */
  checkShape(p: ChargingProfile): string | undefined {
    if (!Number.isInteger(p.stackLevel) || p.stackLevel < 0 || p.stackLevel > this.limits.maxStackLevel) return 'stack level out of range';
    const periods = p.schedule.periods;
    if (periods.length === 0 || periods.length > this.limits.maxPeriods) return 'number of periods out of range';
    if (periods[0]!.startPeriodS !== 0) return 'the first period must start at 0';
    for (let i = 1; i < periods.length; i++) if (periods[i]!.startPeriodS <= periods[i - 1]!.startPeriodS) return 'periods must ascend';
    if (periods.some((x) => !Number.isFinite(x.limit) || x.limit < 0)) return 'negative limit';
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

  composite(evseId: number, durationS: number, unit: ChargingRateUnit = 'A'): CompositeSchedule | undefined {
    const evse = this.d.evses.find((e) => e.id === evseId);
    if (evseId !== 0 && !evse) return undefined;
    const from = this.d.clock.now();
    const to = from + Math.max(0, durationS) * 1000;
    const targets = evse ? [evse] : this.d.evses;
    const phases = Math.max(...targets.map((e) => e.phases));
    const all = [...this.profiles.values()];
    const cases = this.cases(from);
    const points = new Set<number>([from]);
    for (const c of cases) for (const p of all) for (const b of boundaries(p, from, to, c.relStart)) points.add(b);
    const periods: ChargingSchedulePeriod[] = [];
    let minChargingRate: number | undefined;
    for (const t of [...points].sort((a, b) => a - b)) {
      const every = stationLimitsAt(all, cases, t);
      const limits = evse ? [every[cases.findIndex((c) => c.evse.id === evse.id)]!] : every;
      let amps = limits.reduce((sum, l) => sum + l.amps, 0);
      if (!evse) {
        // The whole station: what its EVSEs may take together, under the station max profile.
        const max = prevailing(
          all.filter((p) => p.purpose === 'ChargingStationMaxProfile'),
          t,
          from,
        );
        if (max) amps = Math.min(amps, toAmps(max.period.limit, max.profile.schedule.unit, max.period.numberPhases, phases));
      } else if (t === from && limits[0]!.minChargingRateA !== undefined) {
        minChargingRate = round(fromAmps(limits[0]!.minChargingRateA, unit, phases));
      }
      const limit = round(fromAmps(amps, unit, phases));
      if (periods.at(-1)?.limit === limit) continue;
      periods.push({ startPeriodS: Math.round((t - from) / 1000), limit });
    }
    const out: CompositeSchedule = { evseId, start: from, durationS, unit, periods };
    if (minChargingRate !== undefined) out.minChargingRate = minChargingRate;
    return out;
  }

  private cases(now: number): EvseCase[] {
    return this.d.evses.map((evse) => {
      const session = this.d.sessionOf(evse.id);
      return { evse, session, relStart: session?.txStart ?? now };
    });
  }

  /** Put the limit of now on every EVSE and arm the timer for the next change. */
  reapply(): void {
    if (!this.running) return;
    this.d.clock.clear(this.timer);
    this.timer = undefined;
    const now = this.d.clock.now();
    const all = [...this.profiles.values()];
    let next = Infinity;
    const cases = this.cases(now);
    const limits = stationLimitsAt(all, cases, now);
    for (const [i, c] of cases.entries()) {
      const l = limits[i]!;
      this.d.apply(c.evse.id, l.profiled ? l.amps : undefined);
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

const round = (v: number): number => Math.round(v * 10) / 10;
