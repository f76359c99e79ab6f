/**
 * Local load balancing under a site limit: the grid connection may carry `gridLimitA` per phase; a
 * meter of the building's OTHER load (everything behind the grid connection except this station)
 * says how much of it the building takes; the station shares what is left across its EVSEs, on its
 * own (no CSMS needed), every `intervalS` on the station clock and at once on every session change.
 *
 *   available = min(gridLimitA − other load (worst phase), every external limit on all EVSEs)
 *   Σ offered current of the EVSEs  ≤  available          (per phase, at every moment)
 *
 * Every EVSE is counted on every phase (a 1-phase EVSE's phase is not known to the station): safe for
 * any wiring, pessimistic for 1-phase EVSEs spread over different phases.
 *
 * Sharing: the EVSEs with an authorized session share `available` fairly (water filling: equal shares,
 * an EVSE that wants less leaves the rest to the others), none below its minimum (IEC 61851: 6 A). When
 * there is not enough for every minimum, the slowest EVSE (the lowest draw relative to its offer) is
 * paused first (offer 0: the contactor opens by the zero-limit rule); ties go to the session authorized
 * first. A paused EVSE comes back only when there is room for its minimum without pausing another.
 * An EVSE without an authorized session gets 0, so an authorization never offers current that is not
 * accounted for: the station shares anew, in the same tick, before the EVSE is authorized.
 *
 * Reductions apply at once; increases of the site's headroom wait `increaseDelayS` (the headroom used
 * is the lowest seen over that window). A meter that does not answer (a failed read) means the other
 * load is unknown: the EVSEs then share `meterFaultAvailableA` (default 0, all pause) until it answers
 * again; the other load is never assumed to be zero.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { EnergyMeter, MeterReading } from '../../hal/types.js';
import type { Logger } from '../../base/logger.js';
import { MIN_PWM_AMPS } from './evse.js';
import type { ExternalLimits } from './external-limits.js';

export interface SiteLimitSettings {
  /** Grid-connection limit, amperes per phase. */
  gridLimitA: number;
  /** Seconds between meter reads and re-sharing. */
  intervalS: number;
  /** Seconds the headroom must have stayed higher before the EVSEs get more. */
  increaseDelayS: number;
  /** What the EVSEs may share together while the other-load meter does not answer. */
  meterFaultAvailableA: number;
  /** Minimum current of an EVSE (below it pauses), amperes; at least 6. */
  minCurrentA: number;
  /** Per-EVSE minimum overriding minCurrentA, keyed by EVSE id. */
  evseMinCurrentA: Record<string, number>;
}

export const SITE_KEY = 'site';
/** Volts per phase used to turn a meter's power into current when it reports no currents. */
const NOMINAL_V = 230;
/** A newly served EVSE counts as drawing its whole offer this long (its EV needs a moment to start). */
const DRAW_GRACE_MS = 15_000;

/** One EVSE as the sharing sees it. */
export interface ShareInput {
  id: number;
  /** What it would be offered without the site limit (hardware, profiles, external EVSE limit, cable). */
  wishA: number;
  minA: number;
  /** Higher keeps its share longer. */
  rank: number;
}

const tenth = (a: number): number => Math.floor(a * 10 + 1e-9) / 10;

/**
 * Share `availableA` among `evses`: drop the lowest ranks until every minimum fits, then water filling
 * between each EVSE's minimum and its wish. Pure; every share is 0 or in [minA, wishA], their sum ≤ availableA.
 */
export function shareOut(availableA: number, evses: ShareInput[]): Map<number, number> {
  const out = new Map<number, number>(evses.map((e) => [e.id, 0]));
  const served = evses.filter((e) => e.wishA >= e.minA).sort((a, b) => b.rank - a.rank);
  let need = served.reduce((s, e) => s + e.minA, 0);
  while (served.length > 0 && need > availableA + 1e-9) need -= served.pop()!.minA;
  if (served.length === 0) return out;
  const given = (level: number): number => served.reduce((s, e) => s + Math.min(e.wishA, Math.max(e.minA, level)), 0);
  let lo = 0;
  let hi = Math.max(...served.map((e) => e.wishA));
  if (given(hi) <= availableA) lo = hi;
  else for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (given(mid) <= availableA) lo = mid;
    else hi = mid;
  }
  for (const e of served) out.set(e.id, tenth(Math.min(e.wishA, Math.max(e.minA, lo))));
  return out;
}

/** The other load on the worst phase of a reading: its phase currents, else its power on one phase. */
export function worstPhaseA(r: MeterReading): number {
  const phases = Object.values(r.currentA).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (phases.length > 0) return Math.max(0, ...phases);
  return Math.max(0, r.powerW) / NOMINAL_V;
}

/** What the sharing needs to know of the station's EVSEs. */
export interface SiteStationView {
  evseIds: number[];
  /** When the EVSE's session was authorized; undefined without an authorized session. */
  authorizedAt(evseId: number): number | undefined;
  wishA(evseId: number): number;
  offeredA(evseId: number): number;
  /** Read the EVSE's meter now; its worst-phase current, undefined when it does not answer. */
  readDrawA(evseId: number): Promise<number | undefined>;
  /** Put the new caps on the EVSEs (undefined: no cap); the caller applies reductions first. */
  apply(caps: Map<number, number | undefined>): void;
}

export interface SiteLimitDeps {
  clock: Clock;
  log: Logger;
  /** Absent: no site limit; the sharing still runs for external limits on all EVSEs. */
  settings?: SiteLimitSettings;
  /** The other-load meter; absent: gridLimitA is the station's alone (other load 0 by configuration). */
  meter?: EnergyMeter;
  externals: ExternalLimits;
  station: SiteStationView;
}

export interface SiteStatus {
  gridLimitA?: number;
  otherLoadA?: number;
  meter: 'none' | 'ok' | 'silent';
  /** What the EVSEs share now, undefined when nothing limits them together. */
  availableA?: number;
  caps: Record<string, number>;
  paused: number[];
}

export class SiteLimit {
  private timer: TimerHandle | undefined;
  private running = false;
  private reading = false;
  private otherLoadA: number | undefined;
  private meterOk = true;
  /** Until the meter first answers, the window holds only the start's fallback; the first reading replaces it. */
  private everRead = false;
  /** Raw headroom samples for the increase delay. */
  private readonly window: { at: number; a: number }[] = [];
  private readonly caps = new Map<number, number | undefined>();
  private readonly draw = new Map<number, number>();
  /** EVSEs the sharing serves, with the time they were (re)admitted; the others with a session are paused. */
  private readonly servedSince = new Map<number, number>();
  private readonly paused = new Set<number>();
  private sharing = false;
  private again = false;

  constructor(private readonly d: SiteLimitDeps) {}

  get configured(): boolean {
    return this.d.settings !== undefined;
  }

  /** First share (synchronous, before the EVSEs announce themselves), then the periodic loop. */
  start(): void {
    this.running = true;
    const s = this.d.settings;
    if (s) {
      // Until the meter first answers the other load is unknown: start from the fallback, never from zero load.
      this.meterOk = this.d.meter === undefined;
      this.putHeadroom(this.d.meter ? s.meterFaultAvailableA : s.gridLimitA, true);
    }
    this.rebalance();
    if (s) void this.tick();
  }

  /** The periodic loop runs while there is something to share: a site limit, or an external limit on all EVSEs. */
  private keepTimer(): void {
    const needed = this.running && (this.d.settings !== undefined || this.availableA() !== undefined);
    if (needed && !this.timer) {
      this.timer = this.d.clock.setInterval(() => void this.tick(), (this.d.settings?.intervalS ?? 5) * 1000);
    } else if (!needed && this.timer) {
      this.d.clock.clear(this.timer);
      this.timer = undefined;
    }
  }

  stop(): void {
    this.running = false;
    this.d.clock.clear(this.timer);
    this.timer = undefined;
  }

  /** The cap of an EVSE now (undefined: nothing shares it). */
  capOf(evseId: number): number | undefined {
    return this.caps.get(evseId);
  }

  /** What all EVSEs together may take now; undefined when nothing limits them together. */
  availableA(): number | undefined {
    return this.d.externals.capA(0);
  }

  status(): SiteStatus {
    const s = this.d.settings;
    const caps: Record<string, number> = {};
    for (const [id, c] of this.caps) if (c !== undefined) caps[String(id)] = c;
    const available = this.availableA();
    return {
      ...(s ? { gridLimitA: s.gridLimitA } : {}),
      ...(this.otherLoadA !== undefined ? { otherLoadA: Math.round(this.otherLoadA * 10) / 10 } : {}),
      meter: !this.d.meter ? 'none' : this.meterOk ? 'ok' : 'silent',
      ...(available !== undefined ? { availableA: available } : {}),
      caps,
      paused: [...this.paused].sort((a, b) => a - b),
    };
  }

  /** Read the meters, update the site's headroom, share. */
  async tick(): Promise<void> {
    if (!this.running || this.reading) return;
    this.reading = true;
    try {
      const s = this.d.settings;
      if (s && this.d.meter) {
        let raw: number;
        try {
          const r = await this.d.meter.read();
          this.otherLoadA = worstPhaseA(r);
          if (!this.meterOk && this.everRead) this.d.log.info('site meter answers again', { otherLoadA: this.otherLoadA });
          this.meterOk = true;
          raw = s.gridLimitA - this.otherLoadA;
          if (!this.everRead) {
            this.everRead = true;
            this.window.length = 0;
          }
        } catch (err) {
          if (this.meterOk) this.d.log.warn('site meter silent: the EVSEs share the fallback', { availableA: s.meterFaultAvailableA, err: String(err) });
          this.meterOk = false;
          this.otherLoadA = undefined;
          raw = s.meterFaultAvailableA;
        }
        if (!this.running) return;
        this.putHeadroom(raw);
      } else if (s) {
        this.putHeadroom(s.gridLimitA);
      }
      if (this.availableA() !== undefined) {
        for (const id of this.d.station.evseIds) {
          if (this.d.station.authorizedAt(id) === undefined) continue;
          const a = await this.d.station.readDrawA(id);
          if (a === undefined) this.draw.delete(id);
          else this.draw.set(id, a);
        }
      }
      if (this.running) this.rebalance();
    } finally {
      this.reading = false;
    }
  }

  /** The site's headroom: a decrease at once, an increase only once it held for increaseDelayS. */
  private putHeadroom(rawA: number, reset = false): void {
    const s = this.d.settings!;
    const now = this.d.clock.now();
    if (reset) this.window.length = 0;
    this.window.push({ at: now, a: Math.max(0, rawA) });
    const from = now - s.increaseDelayS * 1000;
    while (this.window.length > 1 && this.window[0]!.at < from) this.window.shift();
    const headroom = Math.min(...this.window.map((x) => x.a));
    this.d.externals.set(SITE_KEY, { source: 'EMS', evseId: 0, limitA: headroom });
  }

  /** Share anew now (synchronous). Re-entrant calls (an applied cap causing a session event) run once more after. */
  rebalance(): void {
    if (!this.running) return;
    if (this.sharing) {
      this.again = true;
      return;
    }
    this.sharing = true;
    this.keepTimer();
    try {
      do {
        this.again = false;
        this.shareOnce();
      } while (this.again);
    } finally {
      this.sharing = false;
    }
  }

  private shareOnce(): void {
    const st = this.d.station;
    const available = this.availableA();
    const next = new Map<number, number | undefined>();
    if (available === undefined) {
      for (const id of st.evseIds) next.set(id, undefined);
      this.servedSince.clear();
      this.paused.clear();
    } else {
      const now = this.d.clock.now();
      const inputs: ShareInput[] = [];
      for (const id of st.evseIds) {
        const since = st.authorizedAt(id);
        if (since === undefined) {
          this.servedSince.delete(id);
          this.paused.delete(id);
          continue;
        }
        if (!this.paused.has(id) && !this.servedSince.has(id)) this.servedSince.set(id, now);
        inputs.push({ id, wishA: st.wishA(id), minA: this.minOf(id), rank: this.rank(id, since, now) });
      }
      const shares = shareOut(available, inputs);
      for (const id of st.evseIds) next.set(id, shares.get(id) ?? 0);
      for (const i of inputs) {
        const share = shares.get(i.id) ?? 0;
        if (share === 0 && i.wishA >= i.minA && !this.paused.has(i.id)) {
          this.paused.add(i.id);
          this.servedSince.delete(i.id);
          this.d.log.info('EVSE paused by the site limit', { evse: i.id, availableA: available });
        } else if (share > 0 && this.paused.has(i.id)) {
          this.paused.delete(i.id);
          this.servedSince.set(i.id, now);
          this.d.log.info('EVSE resumes under the site limit', { evse: i.id, shareA: share });
        }
      }
    }
    let changed = false;
    for (const [id, c] of next) if (this.caps.get(id) !== c || !this.caps.has(id)) changed = true;
    if (!changed) return;
    for (const [id, c] of next) this.caps.set(id, c);
    st.apply(next);
  }

  /** Served before paused; then who uses its offer best (in tenths, so small wobbles do not reorder); then the earliest. */
  private rank(id: number, authorizedAt: number, now: number): number {
    if (this.paused.has(id)) return -authorizedAt / 1e15;
    const offered = this.d.station.offeredA(id);
    const drew = this.draw.get(id);
    const inGrace = now - (this.servedSince.get(id) ?? now) < DRAW_GRACE_MS;
    const ratio = inGrace || drew === undefined ? 1 : offered > 0 ? Math.min(1, drew / offered) : 0;
    return 10 + Math.round(ratio * 10) - authorizedAt / 1e15;
  }

  private minOf(id: number): number {
    const s = this.d.settings;
    const m = s?.evseMinCurrentA[String(id)] ?? s?.minCurrentA ?? MIN_PWM_AMPS;
    return Math.max(MIN_PWM_AMPS, m);
  }
}
