/**
 * 2.0.1 smart charging, issue 11 points 2, 4 and 6 end to end (strict CSMS, simulated board):
 * K01.FR.05 / K01.FR.06 replacement, numberPhases / phaseToUse with a phase-switch relay (K01.FR.43,
 * K01.FR.46, ACPhaseSwitchingSupported), and a K08 answer walked against the pilot PWM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BoardProfile } from '../hal/profile.js';
import type { ChargingProfileType } from '../src/ocpp/v201/smart-charging.js';
import { pilotAmps } from '../src/station/composite.js';
import { bootedV201Station, type V201Station } from './support/v201-station.js';

type SetResult = { status: string; statusInfo?: { reasonCode: string; additionalInfo?: string } };
type Composite = { status: string; schedule?: { chargingRateUnit: string; chargingSchedulePeriod: { startPeriod: number; limit: number; numberPhases?: number }[] } };

const iso = (ms: number): string => new Date(ms).toISOString();
const withSwitch = (p: BoardProfile): BoardProfile => ({ ...p, evses: p.evses.map((e) => ({ ...e, phaseSwitch: { driver: 'sim' } })) });
const ev = (s: V201Station): { pwmAmps: number; contactorClosed: boolean; powerW: number; phases: number } => s.sim.status().evses[0]!;

function txDefault(id: number, start: number, periods: { startPeriod: number; limit: number; numberPhases?: number; phaseToUse?: number }[], o: Partial<ChargingProfileType> = {}, unit: 'A' | 'W' = 'A'): ChargingProfileType {
  return {
    id,
    stackLevel: 1,
    chargingProfilePurpose: 'TxDefaultProfile',
    chargingProfileKind: 'Absolute',
    chargingSchedule: [{ id, startSchedule: iso(start), chargingRateUnit: unit, chargingSchedulePeriod: periods }],
    ...o,
  };
}
const set = (s: V201Station, evseId: number, chargingProfile: ChargingProfileType): Promise<SetResult> => s.call<SetResult>('SetChargingProfile', { evseId, chargingProfile });
const composite = (s: V201Station, duration: number, unit: 'A' | 'W' = 'A'): Promise<Composite> => s.call<Composite>('GetCompositeSchedule', { evseId: 1, duration, chargingRateUnit: unit });

async function charging(s: V201Station): Promise<void> {
  s.sim.plug(1);
  s.sim.tap('04A1B2C3');
  s.sim.evReady(1);
  await s.until('charging', () => ev(s).contactorClosed);
  await s.run(2000);
}

test('K01.FR.05 only the same id replaces; K01.FR.06 another id with the same stackLevel / purpose / EVSE and an overlapping validity is Rejected (DuplicateProfile); a disjoint validity is Accepted', async () => {
  const s = await bootedV201Station();
  try {
    const t0 = s.clock.now();
    const h = 3_600_000;
    assert.equal((await set(s, 1, txDefault(1, t0, [{ startPeriod: 0, limit: 16 }], { validTo: iso(t0 + h) }))).status, 'Accepted');
    const dup = await set(s, 1, txDefault(2, t0, [{ startPeriod: 0, limit: 10 }]));
    assert.deepEqual([dup.status, dup.statusInfo?.reasonCode], ['Rejected', 'DuplicateProfile']);
    assert.deepEqual((await composite(s, 60)).schedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 16 }], 'the installed profile is untouched');
    // The same slot later on: valid when the first is not, both stay (1.6 would have replaced it).
    assert.equal((await set(s, 1, txDefault(2, t0, [{ startPeriod: 0, limit: 10 }], { validFrom: iso(t0 + h) }))).status, 'Accepted');
    assert.deepEqual((await composite(s, 7200)).schedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 16 }, { startPeriod: 3600, limit: 10 }]);
    // The same id replaces, whatever else changed (here the stack level).
    assert.equal((await set(s, 1, txDefault(1, t0, [{ startPeriod: 0, limit: 12 }], { stackLevel: 2, validTo: iso(t0 + h) }))).status, 'Accepted');
    assert.deepEqual((await composite(s, 7200)).schedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 12 }, { startPeriod: 3600, limit: 10 }]);
  } finally {
    await s.close();
  }
});

test('K01.FR.43 / K01.FR.46 with a phase switch: ACPhaseSwitchingSupported and Phases3to1 true, numberPhases 1 with phaseToUse 2 Accepted: the EV draws on L2 only at the full limit; K08 says numberPhases 1', async () => {
  const s = await bootedV201Station({ board: withSwitch });
  try {
    const vars = await s.call<{ getVariableResult: { attributeValue?: string }[] }>('GetVariables', {
      getVariableData: ['ACPhaseSwitchingSupported', 'Phases3to1'].map((name) => ({ component: { name: 'SmartChargingCtrlr' }, variable: { name } })),
    });
    assert.deepEqual(vars.getVariableResult.map((r) => r.attributeValue), ['true', 'true']);
    await charging(s);
    assert.deepEqual([ev(s).pwmAmps, ev(s).phases], [32, 3]);
    const t0 = s.clock.now();
    assert.equal((await set(s, 1, txDefault(1, t0, [{ startPeriod: 0, limit: 4600, numberPhases: 1, phaseToUse: 2 }], {}, 'W'))).status, 'Accepted');
    await s.until('one phase', () => ev(s).phases === 1 && ev(s).contactorClosed);
    await s.run(2000);
    assert.equal(ev(s).pwmAmps, 20, '4600 W / 230 V on one phase');
    const m = await s.hal.evses[0]!.meter.read();
    assert.deepEqual([m.currentA.L1, m.currentA.L2, m.currentA.L3], [0, 20, 0], 'phaseToUse 2: L2');
    assert.equal(m.powerW, 4600);
    const c = await composite(s, 60, 'W');
    assert.deepEqual(c.schedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 4600, numberPhases: 1 }]);
  } finally {
    await s.close();
  }
});

test('K01.FR.43 without a phase switch: numberPhases 1 on the 3-phase EVSE is Rejected and nothing changes; ACPhaseSwitchingSupported false', async () => {
  const s = await bootedV201Station();
  try {
    const vars = await s.call<{ getVariableResult: { attributeValue?: string }[] }>('GetVariables', {
      getVariableData: [{ component: { name: 'SmartChargingCtrlr' }, variable: { name: 'ACPhaseSwitchingSupported' } }],
    });
    assert.deepEqual(vars.getVariableResult.map((r) => r.attributeValue), ['false']);
    const r = await set(s, 1, txDefault(1, s.clock.now(), [{ startPeriod: 0, limit: 2000, numberPhases: 1 }], {}, 'W'));
    assert.deepEqual([r.status, r.statusInfo?.reasonCode], ['Rejected', 'InvalidSchedule']);
    assert.deepEqual((await composite(s, 60)).schedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 32 }]);
  } finally {
    await s.close();
  }
});

test('issue 11 point 6 / K08.FR.02 / SC.04: every period of the GetCompositeSchedule answer is what the pilot offers, the virtual clock walked through the schedule', async () => {
  const s = await bootedV201Station();
  try {
    await charging(s);
    const t0 = s.clock.now();
    assert.equal((await set(s, 0, { ...txDefault(1, t0, [{ startPeriod: 0, limit: 20 }, { startPeriod: 1500, limit: 12 }]), stackLevel: 0, chargingProfilePurpose: 'ChargingStationMaxProfile' })).status, 'Accepted');
    assert.equal((await set(s, 1, txDefault(2, t0, [{ startPeriod: 0, limit: 7000 }, { startPeriod: 300, limit: 4000 }, { startPeriod: 600, limit: 16_000 }, { startPeriod: 900, limit: 11_040 }, { startPeriod: 1200, limit: 9000 }], {}, 'W'))).status, 'Accepted');
    const start = s.clock.now();
    const c = await composite(s, 1800);
    const periods = c.schedule!.chargingSchedulePeriod;
    assert.deepEqual(periods, [
      { startPeriod: 0, limit: 10.1 }, // 7000 W / (230 V × 3) = 10.14 A, floored to the pilot's 0.1 A
      { startPeriod: 300, limit: 5.7 }, // below the minimum PWM: the pilot offers nothing
      { startPeriod: 600, limit: 20 }, // the station max is lower than 16 kW (23.1 A)
      { startPeriod: 900, limit: 16 },
      { startPeriod: 1200, limit: 13 }, // 9000 W = 13.04 A
      { startPeriod: 1500, limit: 12 }, // the station max drops below it
    ]);
    const w = await composite(s, 600, 'W');
    assert.deepEqual(w.schedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 7000 }, { startPeriod: 300, limit: 4000 }], 'in W: the profile\'s own numbers');
    for (const [i, p] of periods.entries()) {
      const end = (periods[i + 1]?.startPeriod ?? 1800) * 1000;
      for (const at of [p.startPeriod * 1000 + 1000, end - 1000]) {
        const wait = start + at - s.clock.now();
        if (wait > 0) await s.run(wait, 5000);
        assert.equal(ev(s).pwmAmps, pilotAmps(p.limit), `at ${at / 1000} s the answer said ${p.limit} A`);
      }
    }
  } finally {
    await s.close();
  }
});
