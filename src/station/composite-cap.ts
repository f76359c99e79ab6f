/**
 * The local caps (external limits, the EVSE's share of the site limit) in the composite schedule both
 * adapters answer: 2.0.1 SC.04 asks for "the lowest limit for charging", which includes the
 * ChargingStationExternalConstraints; 1.6 §5.7 allows local limits ("Local Limits might be taken into
 * account"), and this station takes them, so both versions answer what the pilot may offer.
 *
 * The calculator (smart-charging.ts) is left as it is: its answer is capped here, period by period, with
 * the cap of now held over the whole duration (the station cannot know the building's future load).
 */
import { SmartCharging, type SmartChargingDeps } from './smart-charging.js';
import type { ChargingRateUnit, ChargingSchedulePeriod, CompositeSchedule } from './api.js';

/**
 * Cap every period of `c` at `capA` amperes per phase, merging equal neighbours. In W the cap is turned
 * into power with the phases the period really uses (its numberPhases, else the EVSE's `phases`).
 */
export function capComposite(c: CompositeSchedule, capA: number, phases: number, voltageV: number): CompositeSchedule {
  const periods: ChargingSchedulePeriod[] = [];
  for (const p of c.periods) {
    const cap = c.unit === 'A' ? capA : capA * voltageV * (p.numberPhases ?? phases);
    const limit = Math.floor(Math.min(p.limit, cap) * 10) / 10;
    const last = periods.at(-1);
    if (last?.limit === limit && last.numberPhases === p.numberPhases) continue;
    periods.push({ ...p, limit });
  }
  const out: CompositeSchedule = { ...c, periods };
  if (out.minChargingRate !== undefined && out.minChargingRate > (periods[0]?.limit ?? 0)) delete out.minChargingRate;
  return out;
}

export class CappedSmartCharging extends SmartCharging {
  private readonly phases: Map<number, number>;

  constructor(
    d: SmartChargingDeps,
    /** The local cap of an EVSE (0: all together), amperes per phase; undefined when none. */
    private readonly localCapA: (evseId: number) => number | undefined,
  ) {
    super(d);
    this.phases = new Map(d.evses.map((e) => [e.id, e.phases]));
  }

  override composite(evseId: number, durationS: number, unit?: ChargingRateUnit): CompositeSchedule | undefined {
    const c = super.composite(evseId, durationS, unit);
    const cap = this.localCapA(evseId);
    if (!c || cap === undefined) return c;
    return capComposite(c, cap, this.wiringPhases(evseId), this.voltage);
  }

  private wiringPhases(evseId: number): number {
    const phases = [...this.phases].filter(([id]) => evseId === 0 || id === evseId).map(([, p]) => p);
    return Math.max(1, ...phases);
  }
}
