/**
 * The composite schedule calculator both OCPP adapters use (1.6 §3.13, 2.0.1 K01/K08 and "Smart
 * Charging signals from multiple actors" SC.01). Pure functions of the installed profiles, the EVSEs
 * and their sessions: src/station/smart-charging.ts stores the profiles and applies what this computes.
 *
 * At any instant t the limit of an EVSE is the lowest of
 *   - its hardware maximum,
 *   - its share of the station-wide limits (ChargingStationMaxProfile, ChargingStationExternalConstraints
 *     on EVSE 0; 1.6 §3.13.3 / 2.0.1 §3.5: "the limit for all EVSEs combined"),
 *   - ChargingStationExternalConstraints of the EVSE itself,
 *   - the TxProfile of its session when one is valid at t (where its schedule has ended: nothing), else
 *     the TxDefaultProfile (2.0.1 §3.5: "the TxProfile will always overrule the TxDefaultProfile"),
 * where each purpose contributes the profile with the highest stack level that is valid at t and has a
 * period at t (1.6 §3.13.2, K01.FR.17; past its duration a profile says nothing, K01.FR.11/12/13).
 *
 * Phases. A period allows `numberPhases` (absent = 3, 1.6 §7.7 / K01.FR.49); when several profiles
 * combine, the lowest numberPhases of them holds (2.0.1 errata §3.7). The phases the EVSE really uses
 * are its wiring, or 1 when the period allows fewer and the board has a phase switch. Every W ↔ A
 * conversion uses those phases and the nominal voltage: A per phase = W / (V × phases) (K01.FR.50).
 * When the EVSE cannot keep to fewer phases (no switch) the 2.0.1 adapter refuses the profile
 * (K01.FR.43); 1.6 has no such rule and takes the lower bound: a limit meant for n phases spread over
 * the EVSE's p > n phases, so that p × A never exceeds what n phases would have taken (an A limit
 * becomes A × n / p per phase; a W limit stays W). A period with more phases than the EVSE has keeps
 * its limit "as given" for the phases used (1.6 errata §3.34, K01.FR.45).
 */
import type { ChargingProfile, ChargingRateUnit, ChargingSchedulePeriod } from './api.js';
import { MIN_PWM_AMPS } from './evse.js';

/** The "set voltage for the area" of 1.6 §7.7 / K01.FR.50; a board profile may say otherwise (nominalVoltageV). */
export const DEFAULT_NOMINAL_VOLTAGE_V = 230;
/**
 * The finest step a pilot driver offers: the line protocol takes one decimal (docs/pilot-line-protocol.md),
 * OpenEVSE RAPI whole amperes (it floors again, one step of its own). Limits go to the pilot floored to this.
 */
export const PILOT_STEP_A = 0.1;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

export interface EvseInfo {
  id: number;
  phases: 1 | 3;
  maxCurrentA: number;
  /** The board can switch this EVSE to one phase (and choose which). */
  phaseSwitch?: boolean;
}

/** What the calculator needs to know of the session running on an EVSE. */
export interface SessionInfo {
  id: string;
  /** Start of the transaction (Relative schedules count from it); undefined while not started. */
  txStart?: number;
  /** Authorized (may draw): takes part in sharing the station-wide limits; the earliest keeps its share. */
  authorizedAt?: number;
}

/** A limit with the phases it is offered on, in both units (equal power): compared by `a`. */
export interface Lim {
  /** Amperes per phase. */
  a: number;
  /** Watts in total. */
  w: number;
  phases: number;
}

/** The offered current of a limit: floored to the pilot's step, 0 below the minimum PWM. */
export function pilotAmps(a: number): number {
  const stepped = Math.floor(a / PILOT_STEP_A + 1e-9) * PILOT_STEP_A;
  const v = Math.round(stepped * 10) / 10;
  return v >= MIN_PWM_AMPS ? v : 0;
}

/** A value floored to one decimal (both versions' schemas take at most one), never above v. */
export function floor1(v: number): number {
  const x = Math.round(Math.floor(v * 10 + 1e-9)) / 10;
  return x > v ? Math.round((x - 0.1) * 10) / 10 : x;
}

/**
 * Phases an EVSE uses under a period that allows n: its wiring when n allows it, 1 on a board with a
 * phase switch, else its wiring anyway (`kept` false: the allowance cannot be kept to).
 */
export function usablePhases(evse: Pick<EvseInfo, 'phases' | 'phaseSwitch'>, n = 3): { phases: number; kept: boolean } {
  if (n >= evse.phases) return { phases: evse.phases, kept: true };
  if (evse.phaseSwitch && n >= 1) return { phases: 1, kept: true };
  return { phases: evse.phases, kept: false };
}

/** A profile limit (unit, meant for n phases) as offered on `phases` phases at voltage v. */
export function limOf(limit: number, unit: ChargingRateUnit, n: number, phases: number, v: number): Lim {
  if (unit === 'W') return { a: limit / (v * phases), w: limit, phases };
  // Lower bound (1.6): an A limit meant for fewer phases than used is spread so the total stays.
  const a = n < phases ? (limit * n) / phases : limit;
  return { a, w: a * v * phases, phases };
}

export function ampsLim(a: number, phases: number, v: number): Lim {
  return { a, w: a * v * phases, phases };
}

/**
 * Why an EVSE cannot keep to a profile's phases, or undefined (2.0.1): every EVSE it applies to must be
 * able to keep to each period's numberPhases, by its wiring or a phase switch (K01.FR.43), and to a
 * phaseToUse, by a switch or a 1-phase EVSE on L1 already (K01.FR.48); phaseToUse only with
 * numberPhases 1 (K01.FR.19).
 */
export function phaseProblem(
  p: ChargingProfile,
  targets: readonly (Pick<EvseInfo, 'id' | 'phases' | 'phaseSwitch'>)[],
): { reason: string; reasonCode: string } | undefined {
  for (const x of p.schedule.periods) {
    if (x.phaseToUse !== undefined && (x.numberPhases ?? 3) !== 1) return { reason: 'phaseToUse needs numberPhases 1', reasonCode: 'InvalidSchedule' };
    for (const e of targets) {
      if (x.phaseToUse !== undefined && !e.phaseSwitch && !(e.phases === 1 && x.phaseToUse === 1)) {
        return { reason: `EVSE ${e.id} cannot choose its phase (no ACPhaseSwitchingSupported)`, reasonCode: 'UnsupportedParam' };
      }
      if (!usablePhases(e, x.numberPhases ?? 3).kept) {
        return { reason: `EVSE ${e.id} cannot keep to ${x.numberPhases} phase(s): it has ${e.phases} and no phase switch`, reasonCode: 'InvalidSchedule' };
      }
    }
  }
  return undefined;
}

/** A limit in the unit asked: W exactly as computed; A floored to the pilot's step (what it can offer). */
export function inUnit(l: Lim, unit: ChargingRateUnit): number {
  return unit === 'W' ? floor1(l.w) : floor1(l.a);
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
      // K01.FR.30: nothing before startSchedule; then every day / week at the same time (1.6 errata §3.79).
      const every = p.recurrency === 'Weekly' ? WEEK_MS : DAY_MS;
      return s + Math.max(0, Math.floor((t - s) / every)) * every;
    }
  }
}

/** p is valid at t by its validFrom / validTo (K01.FR.36 / K01.FR.37). */
const validAt = (p: ChargingProfile, t: number): boolean => (p.validFrom === undefined || t >= p.validFrom) && (p.validTo === undefined || t < p.validTo);

/** The period of p in force at t; undefined when p says nothing then (not valid, not started, past its duration). */
export function periodAt(p: ChargingProfile, t: number, relStart: number): ChargingSchedulePeriod | undefined {
  if (!validAt(p, t)) return undefined;
  const offset = t - scheduleStart(p, t, relStart);
  if (offset < 0) return undefined;
  if (p.schedule.durationS !== undefined && offset >= p.schedule.durationS * 1000) return undefined;
  // 1.6 errata §3.44: a recurring schedule's periods beyond the recurrence are never reached.
  let found: ChargingSchedulePeriod | undefined;
  for (const period of p.schedule.periods) {
    if (period.startPeriodS * 1000 > offset) break;
    found = period;
  }
  return found;
}

/** A schedule that starts with the transaction: without one it starts "now", whenever now is. */
export const floating = (p: ChargingProfile): boolean => p.kind === 'Relative' || (p.kind === 'Absolute' && p.schedule.startSchedule === undefined);

/**
 * Every instant in (from, to) where p's contribution may change. live: the station's own timer
 * without a transaction start, where a floating schedule is always at its first period.
 */
export function boundaries(p: ChargingProfile, from: number, to: number, relStart: number, live = false, out: number[] = []): number[] {
  const push = (x: number): void => {
    if (x > from && x < to) out.push(x);
  };
  if (p.validFrom !== undefined) push(p.validFrom);
  if (p.validTo !== undefined) push(p.validTo);
  if (live && floating(p)) return out;
  const addOccurrence = (st: number): void => {
    push(st);
    for (const period of p.schedule.periods) push(st + period.startPeriodS * 1000);
    if (p.schedule.durationS !== undefined) push(st + p.schedule.durationS * 1000);
  };
  if (p.kind === 'Recurring') {
    const s = p.schedule.startSchedule ?? relStart;
    const every = p.recurrency === 'Weekly' ? WEEK_MS : DAY_MS;
    for (let k = Math.max(0, Math.floor((from - s) / every)); s + k * every < to; k++) addOccurrence(s + k * every);
  } else {
    addOccurrence(scheduleStart(p, from, relStart));
  }
  return out;
}

export interface Picked {
  profile: ChargingProfile;
  period: ChargingSchedulePeriod;
}

/** Profiles by purpose, each list sorted once: highest stack level first, an EVSE's own before EVSE 0's. */
export class ProfileIndex {
  readonly max: ChargingProfile[];
  readonly ext: ChargingProfile[];
  readonly txDefault: ChargingProfile[];
  readonly tx: ChargingProfile[];
  readonly all: ChargingProfile[];

  constructor(profiles: Iterable<ChargingProfile>) {
    this.all = [...profiles];
    const by = (purpose: ChargingProfile['purpose']): ChargingProfile[] =>
      this.all.filter((p) => p.purpose === purpose).sort((a, b) => b.stackLevel - a.stackLevel || b.evseId - a.evseId);
    this.max = by('ChargingStationMaxProfile');
    this.ext = by('ChargingStationExternalConstraints');
    this.txDefault = by('TxDefaultProfile');
    this.tx = by('TxProfile');
  }
}

/**
 * The first profile of a sorted list on EVSE 0 or `evseId` (-1: EVSE 0 only), of `sessionId` when
 * given, that has a period at t.
 */
function prevailing(sorted: ChargingProfile[], evseId: number, t: number, relStart: number, sessionId?: string): Picked | undefined {
  for (const profile of sorted) {
    if (profile.evseId !== 0 && profile.evseId !== evseId) continue;
    if (sessionId !== undefined && profile.sessionId !== sessionId) continue;
    const period = periodAt(profile, t, relStart);
    if (period) return { profile, period };
  }
  return undefined;
}

/** The station-wide limits at t (EVSE 0): the max profile and the external constraints. */
export function stationPicks(ix: ProfileIndex, t: number): Picked[] {
  const out: Picked[] = [];
  const max = prevailing(ix.max, -1, t, t);
  if (max) out.push(max);
  const ext = ix.ext.length > 0 ? prevailing(ix.ext.filter((p) => p.evseId === 0), -1, t, t) : undefined;
  if (ext) out.push(ext);
  return out;
}

export interface EvseLimit extends Lim {
  /** False when no profile says anything (the station then runs without a limit). */
  profiled: boolean;
  /** Phase to use when on one phase (2.0.1 phaseToUse), when a period says so. */
  phaseToUse?: number;
  /** The lowest numberPhases of the periods in force (3 when none says). */
  numberPhases: number;
  minChargingRate?: Lim;
}

interface OwnPicks {
  own?: Picked;
  ext?: Picked;
}

/** The picks of one EVSE's own purposes at t (not the station-wide ones). */
function evsePicks(ix: ProfileIndex, evse: EvseInfo, session: SessionInfo | undefined, t: number, relStart: number): OwnPicks {
  // A TxProfile is never on EVSE 0 (K01.FR.16), so EVSE 0 or this one means this one.
  const tx = session && ix.tx.length > 0 ? prevailing(ix.tx, evse.id, t, relStart, session.id) : undefined;
  // 1.6 §3.13.1 / K01 remark: the TxDefaultProfile only "in case no profile of purpose TxProfile is provided";
  // a TxProfile of the session that is valid at t rules it out even where its own schedule has ended
  // (TC_K_41_CS expects the station max alone after the TxProfile's duration, not the TxDefaultProfile).
  const txProvided = tx !== undefined || (session !== undefined && ix.tx.some((p) => p.sessionId === session.id && p.evseId === evse.id && validAt(p, t)));
  const own = tx ?? (txProvided ? undefined : prevailing(ix.txDefault, evse.id, t, relStart));
  const ext = ix.ext.length > 0 ? prevailing(ix.ext.filter((p) => p.evseId === evse.id), evse.id, t, t) : undefined;
  const out: OwnPicks = {};
  if (own) out.own = own;
  if (ext) out.ext = ext;
  return out;
}

/**
 * The composite limit of one EVSE at t. shares: its share of each station-wide pick (in that pick's
 * unit), when the caller shared them out; else each station-wide pick applies whole.
 */
export function evseLimitAt(
  ix: ProfileIndex,
  evse: EvseInfo,
  session: SessionInfo | undefined,
  t: number,
  relStart: number,
  v: number,
  station: Picked[] = stationPicks(ix, t),
  shares?: number[],
  picks0?: OwnPicks,
): EvseLimit {
  const { own, ext } = picks0 ?? evsePicks(ix, evse, session, t, relStart);
  let n = 3;
  let phaseToUse: number | undefined;
  const see = (p: Picked | undefined): void => {
    if (!p) return;
    n = Math.min(n, p.period.numberPhases ?? 3);
    if (p.period.phaseToUse !== undefined) phaseToUse = p.period.phaseToUse;
  };
  for (const p of station) see(p);
  see(ext);
  see(own);
  const { phases } = usablePhases(evse, n);
  let best: Lim = ampsLim(evse.maxCurrentA, phases, v);
  for (let i = 0; i < station.length; i++) {
    const p = station[i]!;
    const share = shares?.[i];
    // A share is this EVSE's part of the whole, per phase (A) or its power (W), meant for the pick's phases.
    const l = limOf(share ?? p.period.limit, p.profile.schedule.unit, p.period.numberPhases ?? 3, phases, v);
    if (l.a < best.a) best = l;
  }
  for (const p of [ext, own]) {
    if (!p) continue;
    const l = limOf(p.period.limit, p.profile.schedule.unit, p.period.numberPhases ?? 3, phases, v);
    if (l.a < best.a) best = l;
  }
  const out: EvseLimit = { a: best.a, w: best.w, phases: best.phases, profiled: station.length > 0 || own !== undefined || ext !== undefined, numberPhases: n };
  if (phaseToUse !== undefined && phases === 1) out.phaseToUse = phaseToUse;
  const min = own?.profile.schedule.minChargingRate;
  if (own && min !== undefined) out.minChargingRate = limOf(min, own.profile.schedule.unit, own.period.numberPhases ?? 3, phases, v);
  return out;
}

export interface EvseCase {
  evse: EvseInfo;
  session: SessionInfo | undefined;
  relStart: number;
}

/**
 * The limits of all EVSEs at t, each station-wide limit shared among the EVSEs with an authorized
 * session (1.6 §3.13.3: "the combined energy flow of all connectors SHALL NOT be greater"): water
 * filling in the limit's own unit (A per phase, or W), the smallest needs met first, the rest shared
 * evenly; when a share would fall below what an EVSE can use (the minimum PWM, or the minChargingRate of
 * its schedule, 1.6 §3.13.4) the sessions authorized last get nothing until there is room. An EVSE
 * without an authorized session is capped by the whole limit (K08.FR.06: as if it had a transaction).
 */
export function stationLimitsAt(ix: ProfileIndex, cases: EvseCase[], t: number, v: number): EvseLimit[] {
  const station = stationPicks(ix, t);
  const picks = cases.map((c) => evsePicks(ix, c.evse, c.session, t, c.relStart));
  if (station.length === 0) return cases.map((c, i) => evseLimitAt(ix, c.evse, c.session, t, c.relStart, v, station, undefined, picks[i]));
  const own = cases.map((c, i) => evseLimitAt(ix, c.evse, c.session, t, c.relStart, v, [], undefined, picks[i]));
  const shares = cases.map(() => station.map((p) => p.period.limit));
  station.forEach((pick, k) => {
    const unit = pick.profile.schedule.unit;
    const need = (i: number): number => (unit === 'W' ? own[i]!.w : own[i]!.a);
    const floorOf = (i: number): number => {
      const o = own[i]!;
      const minA = Math.max(MIN_PWM_AMPS, o.minChargingRate?.a ?? 0);
      return unit === 'W' ? minA * v * o.phases : minA;
    };
    const order = cases
      .map((c, i) => ({ i, at: c.session?.authorizedAt }))
      .filter((x) => x.at !== undefined)
      .sort((a, b) => a.at! - b.at! || a.i - b.i)
      .map((x) => x.i);
    // One whose own limit is below the minimum PWM is offered nothing anyway: it keeps that limit, takes no share.
    for (const i of order) shares[i]![k] = own[i]!.a >= MIN_PWM_AMPS ? 0 : Math.min(need(i), cap0(pick));
    // Who shares: those that can use a PWM at all, earliest first, as many as the limit can serve.
    const served = order.filter((i) => own[i]!.a >= MIN_PWM_AMPS);
    const cap = pick.period.limit;
    while (served.length > 0) {
      const sumFloors = served.reduce((s, i) => s + Math.min(floorOf(i), need(i)), 0);
      if (sumFloors <= cap + 1e-9) break;
      served.pop();
    }
    let left = cap;
    const pending = [...served].sort((a, b) => need(a) - need(b));
    while (pending.length > 0) {
      const fair = left / pending.length;
      const first = pending[0]!;
      if (need(first) <= fair) {
        shares[first]![k] = need(first);
        left -= need(first);
        pending.shift();
      } else {
        for (const i of pending) shares[i]![k] = fair;
        break;
      }
    }
  });
  return cases.map((c, i) => {
    const authorized = c.session?.authorizedAt !== undefined;
    return evseLimitAt(ix, c.evse, c.session, t, c.relStart, v, station, authorized ? shares[i] : undefined, picks[i]);
  });
}

const cap0 = (p: Picked): number => p.period.limit;

export interface CompositeInput {
  ix: ProfileIndex;
  cases: EvseCase[];
  /** The EVSE asked about; undefined = the whole station (evseId 0). */
  evseId?: number;
  from: number;
  durationS: number;
  unit: ChargingRateUnit;
  v: number;
}

export interface CompositeOut {
  periods: ChargingSchedulePeriod[];
  minChargingRate?: number;
}

/**
 * The composite schedule from `from` over durationS (1.6 §5.7, K08.FR.02): one period per change,
 * periods merged where neither the limit nor the phases change. In the unit asked, converted only
 * when the profiles are in the other one, with the phases really used; an EVSE's periods say
 * numberPhases when it is on fewer than 3. evseId 0: what the EVSEs take together (K08.FR.03),
 * under the station-wide limits. startPeriod is whole seconds; a change inside a second (a request
 * received at x.5 s, a transaction started at x.3 s, a schedule shorter than a second) is snapped to
 * the safe side (K08.FR.04: never more than any merged schedule allows at any instant).
 */
export function compositeSchedule(c: CompositeInput): CompositeOut {
  const to = c.from + Math.max(0, c.durationS) * 1000;
  const points: number[] = [c.from];
  // Only a floating schedule (Relative, Absolute without start) depends on the EVSE's transaction start.
  const relStarts = [...new Set(c.cases.map((k) => k.relStart))];
  for (const p of c.ix.all) {
    if (floating(p)) for (const r of relStarts) boundaries(p, c.from, to, r, false, points);
    else boundaries(p, c.from, to, c.from, false, points);
  }
  const sorted = [...new Set(points)].sort((a, b) => a - b);
  let minChargingRate: number | undefined;
  const idx = c.evseId === undefined ? -1 : c.cases.findIndex((k) => k.evse.id === c.evseId);
  // The value at each instant where something may change (offset in seconds from `from`, maybe fractional).
  const raw: { o: number; limit: number; phases: number }[] = [];
  for (const t of sorted) {
    const limits = stationLimitsAt(c.ix, c.cases, t, c.v);
    let limit: number;
    let phases: number;
    if (idx >= 0) {
      const l = limits[idx]!;
      limit = inUnit(l, c.unit);
      phases = l.phases;
      if (t === c.from && l.minChargingRate) minChargingRate = inUnit(l.minChargingRate, c.unit);
    } else {
      phases = Math.max(1, ...limits.map((l) => l.phases));
      limit = limits.reduce((sum, l) => sum + inUnit(l, c.unit), 0);
      for (const p of stationPicks(c.ix, t)) {
        const l = limOf(p.period.limit, p.profile.schedule.unit, p.period.numberPhases ?? 3, phases, c.v);
        limit = Math.min(limit, inUnit(l, c.unit));
      }
    }
    raw.push({ o: (t - c.from) / 1000, limit: Math.round(limit * 10) / 10, phases });
  }
  // startPeriod is whole seconds: a second in which the value changes carries the lowest value it holds
  // (a change that lowers the limit counts from its second, one that raises it from the next), so the
  // answer never says more than holds at any instant of it.
  const seconds = [...new Set(raw.flatMap((r) => [Math.floor(r.o + 1e-9), Math.ceil(r.o - 1e-9)]))]
    .filter((k) => k >= 0 && (k === 0 || k < c.durationS))
    .sort((a, b) => a - b);
  const periods: ChargingSchedulePeriod[] = [];
  let j = 0;
  for (const k of seconds) {
    while (j + 1 < raw.length && raw[j + 1]!.o <= k + 1e-9) j++;
    let v = raw[j]!;
    for (let i = j + 1; i < raw.length && raw[i]!.o < k + 1 - 1e-9; i++) if (raw[i]!.limit < v.limit) v = raw[i]!;
    const numberPhases = v.phases < 3 ? v.phases : undefined;
    const last = periods.at(-1);
    if (last && last.limit === v.limit && last.numberPhases === numberPhases) continue;
    const period: ChargingSchedulePeriod = { startPeriodS: k, limit: v.limit };
    if (numberPhases !== undefined) period.numberPhases = numberPhases;
    periods.push(period);
  }
  return { periods, ...(minChargingRate !== undefined ? { minChargingRate } : {}) };
}
