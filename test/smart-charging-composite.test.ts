/**
 * The composite schedule calculator (src/station/composite.ts) against the specifications, with the
 * expected periods written out: 2.0.1 K01 / K08 and the certification cases TC_K_40 / TC_K_41, the
 * 1.6 sections 3.13 and 5.7, the phases of point 1 of issue 11 (never more power than allowed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChargingProfile, ChargingRateUnit, ChargingSchedulePeriod } from '../src/station/api.js';
import {
  ProfileIndex,
  compositeSchedule,
  evseLimitAt,
  phaseProblem,
  pilotAmps,
  stationLimitsAt,
  type EvseCase,
  type EvseInfo,
  type SessionInfo,
} from '../src/station/composite.js';
import { prof, ps, S } from './support/charging-profiles.js';

const H = 3_600_000;
const V = 230;
const EVSE3: EvseInfo = { id: 1, phases: 3, maxCurrentA: 32 };
const EVSE1: EvseInfo = { id: 1, phases: 1, maxCurrentA: 32 };
const SWITCHED: EvseInfo = { id: 1, phases: 3, maxCurrentA: 32, phaseSwitch: true };

function composite(
  profiles: ChargingProfile[],
  from: number,
  durationS: number,
  unit: ChargingRateUnit = 'A',
  cases: EvseCase[] = [{ evse: EVSE3, session: undefined, relStart: from }],
  /** 0: the whole station. */
  evseId = 1,
): ChargingSchedulePeriod[] {
  return compositeSchedule({ ix: new ProfileIndex(profiles), cases, ...(evseId !== 0 ? { evseId } : {}), from, durationS, unit, v: V }).periods;
}

test('TC_K_40_CS K08.FR.02 / K01.FR.17 stacking: the higher stack level where it has a period, the lower one after its duration', () => {
  const p1 = prof(1, 'TxDefaultProfile', 0, [[0, 6], [100, 8], [200, 10]], { durationS: 400 });
  const p2 = prof(2, 'TxDefaultProfile', 1, [[0, 7], [100, 9]], { durationS: 150 });
  // Asked x = 10 s after both schedules started, for 350 s.
  assert.deepEqual(composite([p1, p2], S + 10_000, 350), ps([0, 7], [90, 9], [140, 8], [190, 10]));
  // Past the lower one's duration too: nothing limits but the hardware (K01.FR.11/12).
  assert.deepEqual(composite([p1, p2], S + 10_000, 500), ps([0, 7], [90, 9], [140, 8], [190, 10], [390, 32]));
});

test('TC_K_41_CS K08.FR.04 / SC.01 combining purposes: min(ChargingStationMaxProfile, TxProfile when one is provided else TxDefaultProfile), in A and in W', () => {
  for (const [unit, k] of [['A', 1], ['W', 690]] as const) {
    const max = prof(1, 'ChargingStationMaxProfile', 0, [[0, 10 * k, 3]], { unit, durationS: 86_400 });
    const def = prof(2, 'TxDefaultProfile', 0, [[0, 6 * k, 3], [60, 10 * k, 3], [120, 8 * k, 3], [180, 15 * k, 3], [260, 8 * k, 3]], { unit, durationS: 300 });
    const tx = prof(3, 'TxProfile', 0, [[0, 8 * k, 3], [50, 11 * k, 3], [140, 16 * k, 3], [200, 6 * k, 3], [240, 12 * k, 3]], { unit, durationS: 260, sessionId: 's1' });
    const session: SessionInfo = { id: 's1', txStart: S - 60_000, authorizedAt: S - 60_000 };
    const got = composite([max, def, tx], S + 10_000, 400, unit, [{ evse: EVSE3, session, relStart: S - 60_000 }]);
    // The profiles' own numbers come back in their own unit (no round trip through amperes).
    // TC_K_41_CS tool validations (x = 10): 0 → 8, 50-x → 10, 200-x → 6, 240-x → 10 to the end: past the
    // TxProfile's duration the TxDefaultProfile does not come back (1.6 §3.13.1: only when no TxProfile is provided).
    assert.deepEqual(got, ps([0, 8 * k], [40, 10 * k], [190, 6 * k], [230, 10 * k]), unit);
  }
});

test('issue 11: a 1,000 W period is answered as 1,000 W (not 966 W); asked in A it is floored to the pilot step with the phases used', () => {
  const w = prof(1, 'TxDefaultProfile', 0, [[0, 1000]], { unit: 'W' });
  assert.deepEqual(composite([w], S, 60, 'W'), ps([0, 1000]));
  assert.deepEqual(composite([w], S, 60, 'A'), ps([0, 1.4]), '1000 / (230 × 3) = 1.449 A');
  const a = prof(1, 'TxDefaultProfile', 0, [[0, 16]]);
  assert.deepEqual(composite([a], S, 60, 'W'), ps([0, 11_040]), '16 A × 230 V × 3 phases');
  assert.deepEqual(composite([a], S, 60, 'W', [{ evse: EVSE1, session: undefined, relStart: S }]), [{ startPeriodS: 0, limit: 3680, numberPhases: 1 }], 'one phase wired');
});

test('issue 11 point 1 (1.6, no K01.FR.43): numberPhases 1 on a 3-phase EVSE without a phase switch takes the lower bound, never more power', () => {
  const at = (p: ChargingProfile, evse: EvseInfo): ReturnType<typeof evseLimitAt> => evseLimitAt(new ProfileIndex([p]), evse, undefined, S, S, V);
  // 2,000 W for one phase used to become 8.7 A on each of three phases (~6,000 W).
  const w = at(prof(1, 'TxDefaultProfile', 0, [[0, 2000, 1]], { unit: 'W' }), EVSE3);
  assert.equal(w.phases, 3);
  assert.ok(w.a * V * 3 <= 2000 + 1e-9, `offered ${w.a * V * 3} W`);
  const w6 = at(prof(1, 'TxDefaultProfile', 0, [[0, 6000, 1]], { unit: 'W' }), EVSE3);
  assert.equal(pilotAmps(w6.a), 8.6, '6000 / 690 = 8.69 A per phase, floored to the 0.1 A step');
  // 16 A meant for one phase, spread over three: 16 / 3 A each, below the minimum PWM → nothing offered.
  const a = at(prof(1, 'TxDefaultProfile', 0, [[0, 16, 1]]), EVSE3);
  assert.ok(Math.abs(a.a - 16 / 3) < 1e-9);
  assert.equal(pilotAmps(a.a), 0);
  // With a phase switch the same profiles run on one phase: the full limit per phase, the same power.
  const sw = at(prof(1, 'TxDefaultProfile', 0, [[0, 6000, 1]], { unit: 'W' }), SWITCHED);
  assert.equal(sw.phases, 1);
  assert.equal(pilotAmps(sw.a), 26, '6000 / 230 = 26.09 A on one phase');
  assert.equal(at(prof(1, 'TxDefaultProfile', 0, [[0, 16, 1]]), SWITCHED).a, 16);
  // More phases than wired: the limit as given for the phases used (1.6 errata §3.34, K01.FR.45).
  assert.equal(pilotAmps(at(prof(1, 'TxDefaultProfile', 0, [[0, 3680, 3]], { unit: 'W' }), EVSE1).a), 16);
});

test('K01.FR.43 / K01.FR.48 / K01.FR.19: what the 2.0.1 adapter refuses, by wiring and phase switch', () => {
  const one = prof(1, 'TxDefaultProfile', 0, [[0, 10, 1]]);
  assert.equal(phaseProblem(one, [EVSE3])?.reasonCode, 'InvalidSchedule');
  assert.equal(phaseProblem(one, [SWITCHED]), undefined);
  assert.equal(phaseProblem(one, [EVSE1]), undefined);
  const two = prof(1, 'TxDefaultProfile', 0, [[0, 10, 2]]);
  assert.equal(phaseProblem(two, [SWITCHED]), undefined, 'one phase keeps to "no more than 2"');
  const pick = prof(1, 'TxDefaultProfile', 0, [[0, 10, 1]]);
  pick.schedule.periods[0]!.phaseToUse = 2;
  assert.equal(phaseProblem(pick, [EVSE3])?.reasonCode, 'UnsupportedParam');
  assert.equal(phaseProblem(pick, [SWITCHED]), undefined);
  assert.equal(phaseProblem(pick, [EVSE1])?.reasonCode, 'UnsupportedParam', 'a 1-phase EVSE is on L1');
  const bad = prof(1, 'TxDefaultProfile', 0, [[0, 10, 3]]);
  bad.schedule.periods[0]!.phaseToUse = 1;
  assert.equal(phaseProblem(bad, [SWITCHED])?.reasonCode, 'InvalidSchedule');
  // An EVSE 0 profile must suit every EVSE.
  assert.equal(phaseProblem(one, [SWITCHED, { id: 2, phases: 3, maxCurrentA: 32 }])?.reasonCode, 'InvalidSchedule');
});

test('2.0.1 errata §3.7: the lowest numberPhases of the combined profiles holds; every conversion of the period uses it', () => {
  const max = prof(1, 'ChargingStationMaxProfile', 0, [[0, 11_000, 3]], { unit: 'W' });
  const tx = prof(2, 'TxDefaultProfile', 0, [[0, 16, 1]]);
  const got = composite([max, tx], S, 60, 'W', [{ evse: SWITCHED, session: undefined, relStart: S }]);
  assert.deepEqual(got, [{ startPeriodS: 0, limit: 3680, numberPhases: 1 }], 'one phase: 16 A × 230 V under 11 kW');
});

test('K01.FR.30 / K01.FR.36 / K01.FR.37 / 1.6 errata §3.79: recurring daily from startSchedule (nothing before it), validFrom / validTo, merged periods', () => {
  const midnight = Date.UTC(2026, 0, 2, 0, 0, 0);
  const daily = prof(1, 'TxDefaultProfile', 0, [[0, 32], [8 * 3600, 10], [20 * 3600, 32]], { kind: 'Recurring', recurrency: 'Daily', start: midnight });
  // From 06:00 the day before the recurrence starts, for 2 days: nothing until midnight, then the days.
  const from = midnight - 18 * H;
  assert.deepEqual(composite([daily], from, 2 * 86_400), ps([0, 32], [26 * 3600, 10], [38 * 3600, 32]), 'the hardware 32 A and the profile 32 A merge');
  const valid = prof(2, 'TxDefaultProfile', 1, [[0, 8]], { start: S - H, validFrom: S + H, validTo: S + 2 * H });
  assert.deepEqual(composite([valid], S, 3 * 3600), ps([0, 32], [3600, 8], [7200, 32]));
  const weekly = prof(3, 'TxDefaultProfile', 0, [[0, 6]], { kind: 'Recurring', recurrency: 'Weekly', start: S, durationS: 3600 });
  assert.deepEqual(composite([weekly], S + 6 * 86_400 * 1000, 2 * 86_400), ps([0, 32], [86_400, 6], [90_000, 32]));
});

test('1.6 §3.13.1 / K01.FR.42: a Relative profile counts from the transaction start; without one from the schedule start; minChargingRate reported', () => {
  const rel = prof(1, 'TxDefaultProfile', 0, [[0, 16], [1800, 8]], { kind: 'Relative', minChargingRate: 7 });
  assert.deepEqual(composite([rel], S, 3600), ps([0, 16], [1800, 8]), 'K08.FR.06: as if a transaction started now');
  const session: SessionInfo = { id: 's', txStart: S - 600_000, authorizedAt: S - 600_000 };
  const cases = [{ evse: EVSE3, session, relStart: S - 600_000 }];
  assert.deepEqual(composite([rel], S, 3600, 'A', cases), ps([0, 16], [1200, 8]));
  const out = compositeSchedule({ ix: new ProfileIndex([rel]), cases, evseId: 1, from: S, durationS: 60, unit: 'W', v: V });
  assert.equal(out.minChargingRate, 7 * 690);
});

test('1.6 §3.13.3 / K04: the station max is for all EVSEs together: shared among charging sessions, reported whole for EVSE 0', () => {
  const evses: EvseInfo[] = [EVSE3, { id: 2, phases: 3, maxCurrentA: 32 }];
  const max = prof(1, 'ChargingStationMaxProfile', 0, [[0, 20], [600, 40]]);
  const sess = (id: string, at: number): SessionInfo => ({ id, txStart: at, authorizedAt: at });
  const cases: EvseCase[] = [
    { evse: evses[0]!, session: sess('a', S - 2000), relStart: S - 2000 },
    { evse: evses[1]!, session: sess('b', S - 1000), relStart: S - 1000 },
  ];
  const now = stationLimitsAt(new ProfileIndex([max]), cases, S, V);
  assert.deepEqual(now.map((l) => l.a), [10, 10]);
  assert.deepEqual(composite([max], S, 1200, 'A', cases, 1), ps([0, 10], [600, 20]));
  assert.deepEqual(composite([max], S, 1200, 'A', cases, 0), ps([0, 20], [600, 40]), 'K08.FR.03: what the station takes from the grid');
  // 10 A leaves room for one session only (minimum PWM 6 A): the one authorized last waits.
  const small = prof(1, 'ChargingStationMaxProfile', 0, [[0, 10]]);
  assert.deepEqual(stationLimitsAt(new ProfileIndex([small]), cases, S, V).map((l) => l.a), [10, 0]);
  // A minChargingRate of 8 A: two sessions need 16 A, so under 14 A one waits (1.6 §3.13.4).
  const def = prof(2, 'TxDefaultProfile', 0, [[0, 32]], { evseId: 0, minChargingRate: 8 });
  const cap = prof(1, 'ChargingStationMaxProfile', 0, [[0, 14]]);
  assert.deepEqual(stationLimitsAt(new ProfileIndex([cap, def]), cases, S, V).map((l) => l.a), [14, 0]);
  // In W the power is shared: 11,040 W is 8 A for each of two 3-phase EVSEs.
  const wmax = prof(1, 'ChargingStationMaxProfile', 0, [[0, 11_040]], { unit: 'W' });
  assert.deepEqual(stationLimitsAt(new ProfileIndex([wmax]), cases, S, V).map((l) => l.w), [5520, 5520]);
});

test('K01.FR.14 / 1.6 §3.13.1: an EVSE 0 TxDefaultProfile applies to every EVSE; the EVSE\'s own wins at the same stack level', () => {
  const def0 = prof(1, 'TxDefaultProfile', 2, [[0, 16]], { evseId: 0 });
  const def1 = prof(2, 'TxDefaultProfile', 2, [[0, 12]], { evseId: 1 });
  assert.deepEqual(composite([def0], S, 60), ps([0, 16]));
  assert.deepEqual(composite([def0, def1], S, 60), ps([0, 12]));
});

test('pilot: floored to its 0.1 A step (never above the limit, at most one step below), nothing below 6 A', () => {
  assert.equal(pilotAmps(7000 / 690), 10.1);
  assert.equal(pilotAmps(16), 16);
  assert.equal(pilotAmps(13.3), 13.3);
  assert.equal(pilotAmps(5.99), 0);
  for (let w = 4140; w < 22_080; w += 37) {
    const a = pilotAmps(w / 690);
    assert.ok(a * 690 <= w + 1e-6 && w / 690 - a < 0.1 + 1e-9, `${w} W → ${a} A`);
  }
});

test('2.0.1 §3.5 situation 1 / 2, K08.FR.04: ChargingStationExternalConstraints take part like the station max (min with TxProfile else TxDefaultProfile)', () => {
  const max = prof(1, 'ChargingStationMaxProfile', 0, [[0, 30]]);
  const ext = prof(2, 'ChargingStationExternalConstraints', 1, [[0, 25], [600, 12]], { evseId: 0 });
  const def = prof(3, 'TxDefaultProfile', 2, [[0, 20], [300, 14]]);
  const tx = prof(4, 'TxProfile', 1, [[0, 18]], { sessionId: 's1', durationS: 900 });
  assert.deepEqual(composite([max, ext, def], S, 1200), ps([0, 20], [300, 14], [600, 12]), 'situation 1: max, external, TxDefault');
  const session: SessionInfo = { id: 's1', txStart: S, authorizedAt: S };
  assert.deepEqual(composite([max, ext, def, tx], S, 1200, 'A', [{ evse: EVSE3, session, relStart: S }]), ps([0, 18], [600, 12]), 'situation 2: the TxProfile overrules the TxDefault');
  const own = prof(5, 'ChargingStationExternalConstraints', 0, [[0, 9]], { evseId: 1 });
  assert.deepEqual(composite([max, def, own], S, 60), ps([0, 9]), 'an external limit on the EVSE itself');
});

test('1.6 lower bound also for a shared station max: 16 A meant for one phase never becomes 16 A on three phases of a charging EVSE', () => {
  const max = prof(1, 'ChargingStationMaxProfile', 0, [[0, 16, 1]]);
  const session: SessionInfo = { id: 's', txStart: S, authorizedAt: S };
  const [l] = stationLimitsAt(new ProfileIndex([max]), [{ evse: EVSE3, session, relStart: S }], S, V);
  assert.ok(l!.a * 3 <= 16 + 1e-9, `${l!.a} A on 3 phases`);
  const [sw] = stationLimitsAt(new ProfileIndex([max]), [{ evse: SWITCHED, session, relStart: S }], S, V);
  assert.deepEqual([sw!.a, sw!.phases], [16, 1], 'with a phase switch: 16 A on one phase');
});
