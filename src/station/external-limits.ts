/**
 * Limits that do not come from the CSMS (2.0.1 K11–K14, "ChargingStationExternalConstraints"): an
 * external control system (a DSO, a home energy manager) or the station's own site limit (site-limit.ts)
 * says how much current the EVSEs may take. Each constraint is one entry, keyed by who set it; the
 * station applies the lowest as a cap on top of the charging profiles (station.ts applyLimit), so no
 * CSMS profile can lift it, and the adapters report it (2.0.1 NotifyChargingLimit / ClearedChargingLimit).
 *
 * This module is the one place that knows the external constraints in force: a composite-schedule
 * calculator that wants to merge them as ChargingStationExternalConstraints reads `list()` / `capA()`.
 * Amperes per phase throughout; evseId 0 is a limit on all EVSEs together (K12.FR.01), an EVSE id a
 * limit on that EVSE alone.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';

/** 2.0.1 ChargingLimitSourceEnumType without CSO: an external limit is never the CSO's (K11.FR.05, K12.FR.04). */
export type ExternalLimitSource = 'EMS' | 'SO' | 'Other';
export const EXTERNAL_LIMIT_SOURCES: readonly ExternalLimitSource[] = ['EMS', 'SO', 'Other'];

export interface ExternalConstraint {
  /** Who set it: 'site' is the station's own site limit; anything else an external control system. */
  key: string;
  /**
   * Negative profile id the constraint is reported under as a ChargingStationExternalConstraints profile
   * (K11.FR.06 recommends negative ids, so it never clashes with a CSMS profile id).
   */
  profileId: number;
  source: ExternalLimitSource;
  isGridCritical: boolean;
  /** 0 = all EVSEs together; else that EVSE. */
  evseId: number;
  /** Amperes per phase. */
  limitA: number;
  /** Epoch ms when this value was set. */
  since: number;
}

export interface ExternalLimitChange {
  type: 'set' | 'cleared';
  constraint: ExternalConstraint;
}

export interface ExternalLimitEvents {
  /** A constraint appeared, changed its value, or went away. */
  change: [ExternalLimitChange];
}

export interface ExternalLimitInput {
  source: ExternalLimitSource;
  isGridCritical?: boolean;
  evseId?: number;
  limitA: number;
}

/** Limits are kept to 0.1 A, the resolution OCPP reports them in. */
const tenth = (a: number): number => Math.floor(Math.max(0, a) * 10) / 10;

export class ExternalLimits extends TypedEmitter<ExternalLimitEvents> {
  private readonly byKey = new Map<string, ExternalConstraint>();
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    /** EVSE ids of the station, to refuse a limit on an EVSE that does not exist. */
    private readonly evseIds: () => number[],
  ) {
    super(log);
  }

  /** Set or change the constraint of `key`. Throws on a value that cannot be a limit (the caller shows it). */
  set(key: string, input: ExternalLimitInput): ExternalConstraint {
    const evseId = input.evseId ?? 0;
    if (!Number.isFinite(input.limitA) || input.limitA < 0) throw new Error(`limit must be a number of amperes ≥ 0, got ${String(input.limitA)}`);
    if (!EXTERNAL_LIMIT_SOURCES.includes(input.source)) throw new Error(`source must be one of ${EXTERNAL_LIMIT_SOURCES.join(', ')} (CSO limits come as charging profiles)`);
    if (evseId !== 0 && !this.evseIds().includes(evseId)) throw new Error(`unknown EVSE ${evseId}`);
    const limitA = tenth(input.limitA);
    const old = this.byKey.get(key);
    const isGridCritical = input.isGridCritical ?? false;
    if (old && old.limitA === limitA && old.source === input.source && old.evseId === evseId && old.isGridCritical === isGridCritical) return old;
    if (old && old.evseId !== evseId) this.clear(key);
    const c: ExternalConstraint = { key, profileId: this.idOf(key), source: input.source, isGridCritical, evseId, limitA, since: this.clock.now() };
    this.byKey.set(key, c);
    if (!old || old.limitA !== limitA) this.log.info('external limit set', { key, source: c.source, evse: evseId, limitA, gridCritical: isGridCritical });
    this.emit('change', { type: 'set', constraint: { ...c } });
    return c;
  }

  /** Release the constraint of `key` (K13); false when there was none. */
  clear(key: string): boolean {
    const c = this.byKey.get(key);
    if (!c) return false;
    this.byKey.delete(key);
    this.log.info('external limit released', { key, source: c.source, evse: c.evseId });
    this.emit('change', { type: 'cleared', constraint: { ...c } });
    return true;
  }

  get(key: string): ExternalConstraint | undefined {
    const c = this.byKey.get(key);
    return c ? { ...c } : undefined;
  }

  list(): ExternalConstraint[] {
    return [...this.byKey.values()].map((c) => ({ ...c }));
  }

  /** The lowest constraint on `evseId` alone (0: on all EVSEs together); undefined when none. */
  capA(evseId: number): number | undefined {
    let cap: number | undefined;
    for (const c of this.byKey.values()) if (c.evseId === evseId) cap = cap === undefined ? c.limitA : Math.min(cap, c.limitA);
    return cap;
  }

  /** Stable negative id per key: -1, -2, … in order of first use. */
  private idOf(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = -(this.ids.size + 1);
      this.ids.set(key, id);
    }
    return id;
  }
}
