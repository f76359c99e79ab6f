/**
 * Smart charging: time to compute one composite schedule over 24 h with 20 installed profiles
 * (station max, TxDefault on EVSE 0 and 1, a TxProfile, recurring daily and weekly, relative, A and W,
 * validity windows; 2 EVSEs charging, so the station max is shared at every boundary). The same
 * calculator the GetCompositeSchedule handlers call (src/station/composite.ts). Goal: ≤ 1 ms.
 */
import { ProfileIndex, compositeSchedule, type EvseCase } from '../src/station/composite.js';
import type { ChargingProfile } from '../src/station/api.js';

const H = 3_600_000;
const NOW = Date.UTC(2026, 0, 1, 6, 30, 0);

function profiles(): ChargingProfile[] {
  const out: ChargingProfile[] = [];
  const midnight = Date.UTC(2026, 0, 1);
  for (let i = 0; i < 20; i++) {
    const purpose: ChargingProfile['purpose'] = i < 4 ? 'ChargingStationMaxProfile' : i === 19 ? 'TxProfile' : 'TxDefaultProfile';
    const kind: ChargingProfile['kind'] = i % 5 === 0 ? 'Recurring' : i % 7 === 0 ? 'Relative' : 'Absolute';
    const unit = i % 2 === 0 ? 'A' : 'W';
    const periods = Array.from({ length: 6 }, (_, k) => ({
      startPeriodS: k * 4 * 3600 + i * 60,
      limit: unit === 'A' ? 8 + ((i + k) % 20) : 4000 + ((i * 977 + k * 1500) % 18_000),
      ...(k % 3 === 0 ? { numberPhases: 3 } : {}),
    }));
    periods[0]!.startPeriodS = 0;
    const p: ChargingProfile = {
      id: i + 1,
      evseId: purpose === 'ChargingStationMaxProfile' ? 0 : i % 3 === 0 ? 0 : 1 + (i % 2),
      stackLevel: i % 8,
      purpose,
      kind,
      schedule: { unit, periods, ...(kind === 'Relative' ? {} : { startSchedule: midnight + (i % 4) * H }), ...(i % 4 === 1 ? { durationS: 20 * 3600 } : {}) },
      ...(kind === 'Recurring' ? { recurrency: i % 10 === 0 ? 'Daily' : 'Weekly' } : {}),
      ...(i % 6 === 2 ? { validFrom: NOW + 2 * H, validTo: NOW + 18 * H } : {}),
    };
    if (purpose === 'TxProfile') {
      p.evseId = 1;
      p.sessionId = 's1';
    }
    out.push(p);
  }
  return out;
}

export default async function composite(): Promise<void> {
  const ix = new ProfileIndex(profiles());
  const cases: EvseCase[] = [
    { evse: { id: 1, phases: 3, maxCurrentA: 32 }, session: { id: 's1', txStart: NOW - H, authorizedAt: NOW - H }, relStart: NOW - H },
    { evse: { id: 2, phases: 3, maxCurrentA: 32 }, session: { id: 's2', txStart: NOW - 2 * H, authorizedAt: NOW - 2 * H }, relStart: NOW - 2 * H },
  ];
  const run = (): number => compositeSchedule({ ix, cases, evseId: 1, from: NOW, durationS: 86_400, unit: 'A', v: 230 }).periods.length;
  let periods = 0;
  for (let i = 0; i < 50; i++) periods = run(); // warm up
  const times: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  const q = (p: number): string => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(3);
  console.log(`composite schedule, 20 profiles over 24 h, 2 EVSEs sharing the station max (${periods} periods): median ${q(0.5)} ms, p99 ${q(0.99)} ms (goal ≤ 1 ms)`);
}
