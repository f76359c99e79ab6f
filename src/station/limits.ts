/**
 * The current limit of each EVSE: the lowest of the manual limit (setLimit), the charging profiles',
 * the external limits on it and its share of the site, held at 0 while its phase switch moves. Owns the
 * smart-charging store, the external limits and the site limit; the result goes to the EVSE (pilot PWM,
 * contactor) and is told as the station's 'limit' event.
 */
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { Hal, MeterReading } from '../../hal/types.js';
import type { Db } from '../store/db.js';
import type { ExternalLimitChange, Session, SessionEvent } from './api.js';
import type { Evse } from './evse.js';
import { SmartCharging } from './smart-charging.js';
import { CappedSmartCharging } from './composite-cap.js';
import { ExternalLimits } from './external-limits.js';
import { SiteLimit, worstPhaseA, type SiteLimitSettings } from './site-limit.js';

export interface LimitsDeps {
  db: Db;
  clock: Clock;
  /** The station's logger: its parts get children of it. */
  log: Logger;
  hal: Hal;
  site?: SiteLimitSettings;
  evses: Map<number, Evse>;
  /** The running session on an EVSE. */
  session: (evseId: number) => Session | undefined;
  readMeter: (evseId: number) => Promise<MeterReading | undefined>;
  tellLimit: (evseId: number, amps: number) => void;
  tellExternal: (c: ExternalLimitChange) => void;
}

export class Limits {
  readonly chargingProfiles: SmartCharging;
  /** Limits from outside the CSMS (K11–K14) and the site's headroom; a cap the profiles cannot lift. */
  readonly externalLimits: ExternalLimits;
  /** Shares the site's headroom (and external limits on all EVSEs) across the EVSEs. */
  readonly siteLimit: SiteLimit;
  /** Limits set through setLimit(), combined with the smart-charging ones (the lower wins). */
  private readonly manualLimits = new Map<number, number>();
  private readonly profileLimits = new Map<number, number>();
  /** EVSEs whose phase switch is moving: no current is offered until it has. */
  private readonly switchingPhases = new Set<number>();
  /** Last effective limit told per EVSE ('limit' event); absent = its hardware maximum. */
  private readonly toldLimits = new Map<number, number>();

  constructor(private readonly d: LimitsDeps) {
    this.externalLimits = new ExternalLimits(this.d.clock, this.d.log.child('external-limits'), () => [...this.d.evses.keys()]);
    this.siteLimit = new SiteLimit({
      clock: this.d.clock,
      log: this.d.log.child('site'),
      ...(this.d.site ? { settings: this.d.site } : {}),
      ...(this.d.hal.siteMeter ? { meter: this.d.hal.siteMeter } : {}),
      externals: this.externalLimits,
      station: {
        evseIds: [...this.d.evses.keys()],
        authorizedAt: (id) => this.d.session(id)?.authorizedAt,
        wishA: (id) => this.wishA(id),
        offeredA: (id) => this.d.evses.get(id)?.offeredCurrent() ?? 0,
        readDrawA: async (id) => {
          const r = await this.d.readMeter(id);
          return r ? worstPhaseA(r) : undefined;
        },
        apply: (caps) => {
          // Reductions first: at no moment do the EVSEs together get more than the new shares allow.
          const step = (id: number): number => {
            const from = this.d.evses.get(id)?.limit;
            const to = caps.get(id);
            if (to === undefined) return from === undefined ? 0 : Infinity;
            return from === undefined ? -Infinity : to - from;
          };
          for (const id of [...caps.keys()].sort((a, b) => step(a) - step(b) || a - b)) this.applyLimit(id);
        },
      },
    });
    this.externalLimits.on('change', (c) => {
      this.d.tellExternal(c);
      this.siteLimit.rebalance();
      for (const id of this.d.evses.keys()) this.applyLimit(id);
    });
    this.chargingProfiles = new CappedSmartCharging({
      db: this.d.db,
      clock: this.d.clock,
      log: this.d.log.child('smart-charging'),
      evses: this.d.hal.evses.map((h) => ({ id: h.id, phases: h.phases, maxCurrentA: h.maxCurrentA, phaseSwitch: h.phaseSwitch !== undefined })),
      nominalVoltageV: this.d.hal.nominalVoltageV,
      sessionOf: (id) => {
        const s = this.d.session(id);
        if (!s) return undefined;
        // The transaction starts once the session is both authorized and has its EV (1.6 4.8).
        const txStart = s.authorizedAt !== undefined && s.evConnectedAt !== undefined ? Math.max(s.authorizedAt, s.evConnectedAt) : undefined;
        return { id: s.id, ...(txStart !== undefined ? { txStart } : {}), ...(s.authorizedAt !== undefined ? { authorizedAt: s.authorizedAt } : {}) };
      },
      apply: (id, offered) => {
        if (offered === undefined) this.profileLimits.delete(id);
        else this.profileLimits.set(id, offered.amps);
        this.switchPhases(id, offered);
        this.applyLimit(id);
      },
    }, (id) => this.localCapA(id));
  }

  /** A session fact (told to the adapters already): the site shares and the profiles follow it. */
  sessionFact(e: SessionEvent): void {
    // Shared anew before the EVSE acts on the fact: an authorization finds its share in place
    // (the session is authorized before the EVSE is, see Sessions.authorize).
    if (e.type === 'started' || e.type === 'authorized' || e.type === 'ended' || e.type === 'deauthorized') this.siteLimit.rebalance();
    // After the adapters heard of it: a limit change it causes follows the session fact.
    if (e.type === 'ended') this.chargingProfiles.sessionEnded(e.session.id);
    else if (e.type === 'started' || e.type === 'authorized' || e.type === 'ev-connected') this.chargingProfiles.reapply();
  }

  setLimit(evseId: number, amps: number | undefined): void {
    for (const evse of this.d.evses.values()) {
      if (evseId !== 0 && evse.id !== evseId) continue;
      if (amps === undefined) this.manualLimits.delete(evse.id);
      else this.manualLimits.set(evse.id, Math.max(0, amps));
      this.applyLimit(evse.id);
    }
  }

  /**
   * Put the EVSE's phase switch where the profiles want it (one phase, or its wiring). The switch moves
   * only with no current offered: the limit is held at 0 (the contactor opens in that tick) until the
   * relay has moved, so a per-phase limit meant for one phase is never offered on three. A switch that
   * fails keeps the hold, and the next reapply tries again.
   */
  private switchPhases(evseId: number, offered: { phases: 1 | 3; phaseToUse?: number } | undefined): void {
    const sw = this.d.evses.get(evseId)?.hal.phaseSwitch;
    if (!sw || this.switchingPhases.has(evseId)) return;
    const wiring = this.d.evses.get(evseId)!.hal.phases;
    const phases = offered?.phases ?? wiring;
    const line = (offered?.phaseToUse ?? 1) as 1 | 2 | 3;
    if (sw.phases === phases && (phases === 3 || sw.phase === line)) return;
    this.switchingPhases.add(evseId);
    this.applyLimit(evseId);
    this.d.log.info('switching phases', { evse: evseId, from: sw.phases, to: phases, ...(phases === 1 ? { phase: line } : {}) });
    sw.setPhases(phases, line).then(
      () => {
        this.switchingPhases.delete(evseId);
        // What the profiles want may have moved on meanwhile: ask again (switches again if needed).
        this.chargingProfiles.reapply();
        this.applyLimit(evseId);
      },
      (err: unknown) => {
        this.d.log.error('phase switch failed: no current offered on the EVSE until it works', { evse: evseId, err: String(err) });
        this.d.clock.setTimeout(() => {
          this.switchingPhases.delete(evseId);
          this.chargingProfiles.reapply();
        }, 10_000);
      },
    );
  }

  /**
   * The lowest of the manual limit, the charging profiles' one, the external limits on the EVSE and its
   * share of the site goes to the EVSE (pilot PWM, contactor). The last two are caps no profile lifts.
   */
  applyLimit(evseId: number): void {
    const evse = this.d.evses.get(evseId);
    if (!evse) return;
    let limit = lowest(this.manualLimits.get(evseId), this.profileLimits.get(evseId), this.externalLimits.capA(evseId), this.siteLimit.capOf(evseId));
    if (this.switchingPhases.has(evseId)) limit = 0;
    if (limit !== evse.limit) evse.setLimit(limit);
    const max = evse.hal.maxCurrentA;
    const effective = limit === undefined ? max : Math.min(limit, max);
    if (effective !== (this.toldLimits.get(evseId) ?? max)) {
      this.toldLimits.set(evseId, effective);
      this.d.tellLimit(evseId, effective);
    }
  }

  /** What the EVSE would be offered without its share of the site: the share never exceeds it. */
  private wishA(evseId: number): number {
    const evse = this.d.evses.get(evseId);
    if (!evse) return 0;
    const pp = evse.hal.pilot.ppAmps;
    return (
      lowest(
        evse.hal.maxCurrentA,
        this.manualLimits.get(evseId),
        this.profileLimits.get(evseId),
        this.externalLimits.capA(evseId),
        pp !== null && pp > 0 ? pp : undefined,
      ) ?? evse.hal.maxCurrentA
    );
  }

  /**
   * The local cap a composite schedule reports for an EVSE (0: the whole station): its share while it has
   * an authorized session, else what all EVSEs may take together; with the external limits on it.
   */
  localCapA(evseId: number): number | undefined {
    const together = this.siteLimit.availableA();
    if (evseId === 0) return together;
    const share = this.d.session(evseId)?.authorizedAt !== undefined ? this.siteLimit.capOf(evseId) : together;
    return lowest(share, this.externalLimits.capA(evseId));
  }
}

/** The lowest of the defined values; undefined when none is. */
function lowest(...values: (number | undefined)[]): number | undefined {
  let out: number | undefined;
  for (const v of values) if (v !== undefined) out = out === undefined ? v : Math.min(out, v);
  return out;
}
