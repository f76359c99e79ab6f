/**
 * Review of the composite schedule calculator against the specifications (issue 11 point 3): the cases
 * of 1.6 §3.13 / §5.7 and 2.0.1 K01 / K08 not covered by smart-charging-composite.test.ts, with the
 * expected periods written out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChargingProfile, ChargingRateUnit } from '../src/station/api.js';
import { ProfileIndex, compositeSchedule, type EvseCase, type EvseInfo } from '../src/station/composite.js';
import { prof, ps, S } from './support/charging-profiles.js';

const V = 230;
const E1: EvseInfo = { id: 1, phases: 3, maxCurrentA: 32 };
const E2: EvseInfo = { id: 2, phases: 3, maxCurrentA: 32 };

const idle = (from: number, evse: EvseInfo = E1): EvseCase => ({ evse, session: undefined, relStart: from });

function composite(profiles: ChargingProfile[], from: number, durationS: number, unit: ChargingRateUnit = 'A', cases: EvseCase[] = [idle(from)], evseId = 1) {
  return compositeSchedule({ ix: new ProfileIndex(profiles), cases, ...(evseId !== 0 ? { evseId } : {}), from, durationS, unit, v: V });
}

test('1.6 errata §3.79 / K01.FR.30 Recurring Daily crossing midnight: asked at 23:30 of a later day, the 22:00–02:00 schedule in its own occurrence', () => {
  const night = Date.UTC(2026, 0, 1, 22, 0, 0);
  const p = prof(1, 'TxDefaultProfile', 0, [[0, 10], [7200, 16]], { kind: 'Recurring', recurrency: 'Daily', start: night, durationS: 14_400 });
  // 23:30 → 10 A; 00:00 → 16 A; 02:00 past the duration → the hardware 32 A.
  assert.deepEqual(composite([p], Date.UTC(2026, 0, 3, 23, 30), 6 * 3600).periods, ps([0, 10], [1800, 16], [9000, 32]));
});

test('1.6 §3.13.2 Recurring Weekly crossing the week boundary: Monday 10 A, the other days 16 A', () => {
  const monday = Date.UTC(2025, 11, 29, 0, 0, 0);
  const p = prof(1, 'TxDefaultProfile', 0, [[0, 10], [86_400, 16]], { kind: 'Recurring', recurrency: 'Weekly', start: monday });
  // Sunday 4 Jan 12:00 for two days: Sunday 16 A, Monday 5 Jan 10 A, Tuesday 16 A.
  assert.deepEqual(composite([p], Date.UTC(2026, 0, 4, 12, 0), 2 * 86_400).periods, ps([0, 16], [43_200, 10], [129_600, 16]));
});

test('K01.FR.36 / K01.FR.37 / 1.6 §3.13.2: validTo and validFrom cut a period mid-way; the lower stack level holds outside', () => {
  const base = prof(2, 'TxDefaultProfile', 0, [[0, 20]]);
  const to = prof(1, 'TxDefaultProfile', 1, [[0, 10], [3600, 12]], { validTo: S + 1_800_000 });
  assert.deepEqual(composite([to, base], S, 7200).periods, ps([0, 10], [1800, 20]));
  const from = prof(1, 'TxDefaultProfile', 1, [[0, 10], [3600, 12]], { validFrom: S + 1_800_000 });
  assert.deepEqual(composite([from, base], S, 7200).periods, ps([0, 20], [1800, 10], [3600, 12]));
});

test('1.6 §3.13.1 / K01.FR.42 / K08.FR.06 Relative: from the transaction start when one runs (10 min ago), else as if it started now', () => {
  const p = prof(1, 'TxDefaultProfile', 0, [[0, 6], [900, 10]], { kind: 'Relative' });
  const tx: EvseCase = { evse: E1, session: { id: 's', txStart: S - 600_000, authorizedAt: S - 600_000 }, relStart: S - 600_000 };
  assert.deepEqual(composite([p], S, 3600, 'A', [tx]).periods, ps([0, 6], [300, 10]));
  assert.deepEqual(composite([p], S, 3600).periods, ps([0, 6], [900, 10]));
});

test('K01.FR.30 / K01.FR.11 an Absolute schedule starting in the future, and one past its duration: the hardware limit outside them', () => {
  assert.deepEqual(composite([prof(1, 'TxDefaultProfile', 0, [[0, 10]], { start: S + 3_600_000 })], S, 7200).periods, ps([0, 32], [3600, 10]));
  assert.deepEqual(composite([prof(1, 'TxDefaultProfile', 0, [[0, 10]], { durationS: 1800 })], S + 600_000, 7200).periods, ps([0, 10], [1200, 32]));
  // Recurring whose first occurrence is still to come: nothing before it, then its periods (a limit of 0 included).
  const r = prof(1, 'TxDefaultProfile', 0, [[0, 10], [3600, 0]], { kind: 'Recurring', recurrency: 'Daily', start: S + 3_600_000 });
  assert.deepEqual(composite([r], S, 3 * 3600).periods, ps([0, 32], [3600, 10], [7200, 0]));
});

test('1.6 §3.13.1 / K01 remark / TC_K_41_CS: a TxProfile overrules the TxDefaultProfile (whatever its stack level) while it is valid, past its duration too; after its validTo the TxDefaultProfile is back', () => {
  const def = prof(1, 'TxDefaultProfile', 5, [[0, 10]]);
  const c: EvseCase = { evse: E1, session: { id: 's', txStart: S, authorizedAt: S }, relStart: S };
  const tx = prof(2, 'TxProfile', 0, [[0, 16]], { sessionId: 's', durationS: 60 });
  assert.deepEqual(composite([def, tx], S, 100, 'A', [c]).periods, ps([0, 16], [60, 32]));
  const until = prof(2, 'TxProfile', 0, [[0, 16]], { sessionId: 's', validTo: S + 60_000 });
  assert.deepEqual(composite([def, until], S, 100, 'A', [c]).periods, ps([0, 16], [60, 10]));
  // A TxProfile of another session is not "provided" for this one.
  assert.deepEqual(composite([def, prof(3, 'TxProfile', 0, [[0, 16]], { sessionId: 'other' })], S, 100, 'A', [c]).periods, ps([0, 10]));
});

test('K01.FR.17 / K01.FR.52-53: stack level decides between a TxDefaultProfile on EVSE 0 and one on the EVSE', () => {
  const all = prof(1, 'TxDefaultProfile', 2, [[0, 10]], { evseId: 0 });
  const own = prof(2, 'TxDefaultProfile', 1, [[0, 16]], { evseId: 1 });
  assert.deepEqual(composite([all, own], S, 100).periods, ps([0, 10]));
});

test('K01.FR.50 / K01.FR.49 / 1.6 §7.7 units: W asked in A with the phases used (absent = 3), A asked in W, 1 phase on a 1-phase EVSE and on a switched one', () => {
  assert.deepEqual(composite([prof(1, 'TxDefaultProfile', 0, [[0, 11_000]], { unit: 'W' })], S, 100, 'A').periods, ps([0, 15.9]));
  assert.deepEqual(composite([prof(1, 'TxDefaultProfile', 0, [[0, 16]])], S, 100, 'W').periods, ps([0, 11_040]));
  const one: EvseInfo = { id: 1, phases: 1, maxCurrentA: 32 };
  assert.deepEqual(composite([prof(1, 'TxDefaultProfile', 0, [[0, 2300, 1]], { unit: 'W' })], S, 100, 'A', [idle(S, one)]).periods, ps([0, 10, 1]));
  const sw: EvseInfo = { ...E1, phaseSwitch: true };
  assert.deepEqual(composite([prof(1, 'TxDefaultProfile', 0, [[0, 16, 1]])], S, 100, 'W', [idle(S, sw)]).periods, ps([0, 3680, 1]));
});

test('1.6 §6.22 minChargingRate in the answer, in the unit asked with the phases used', () => {
  const w = composite([prof(1, 'TxDefaultProfile', 0, [[0, 11_000]], { unit: 'W', minChargingRate: 4140 })], S, 100, 'A');
  assert.deepEqual(w, { periods: ps([0, 15.9]), minChargingRate: 6 });
  const a = composite([prof(1, 'TxDefaultProfile', 0, [[0, 16]], { minChargingRate: 6 })], S, 100, 'W');
  assert.deepEqual(a, { periods: ps([0, 11_040]), minChargingRate: 4140 });
});

test('1.6 §5.7 / K08.FR.03 EVSE 0: the total of the EVSEs, under the station max; without profiles the hardware total', () => {
  const both = [idle(S, E1), idle(S, E2)];
  const p = [prof(1, 'TxDefaultProfile', 0, [[0, 16]], { evseId: 0 }), prof(2, 'ChargingStationMaxProfile', 0, [[0, 20]])];
  assert.deepEqual(composite(p, S, 100, 'A', both, 0).periods, ps([0, 20]));
  assert.deepEqual(composite([], S, 100, 'W', both, 0).periods, ps([0, 44_160]));
});

test('K08.FR.02 / K08.FR.04 asked at x.5 s: a lower limit counts from its second (never said late), a higher one from the next', () => {
  const down = prof(1, 'TxDefaultProfile', 0, [[0, 16], [100, 8]]);
  assert.deepEqual(composite([down], S + 10_500, 200).periods, ps([0, 16], [89, 8]));
  const up = prof(1, 'TxDefaultProfile', 0, [[0, 8], [100, 16]]);
  assert.deepEqual(composite([up], S + 10_500, 200).periods, ps([0, 8], [90, 16]));
});

test('K08.FR.04 a period shorter than a second (and a transaction started at x.3 s) never vanishes into a higher neighbour', () => {
  // 32 A until 0.2 s, 6 A from 0.2 s to 1.2 s, 10 A after: no whole second may say more than 6 A before 2 s.
  const short = prof(2, 'TxDefaultProfile', 1, [[0, 6]], { start: S + 200, durationS: 1 });
  const after = prof(1, 'TxDefaultProfile', 0, [[0, 10]], { start: S + 500 });
  assert.deepEqual(composite([short, after], S, 10).periods, ps([0, 6], [2, 10]));
  // Relative TxProfile of a transaction started 0.3 s after a whole second: the drop at 60.3 s says 60.
  const rel = prof(3, 'TxProfile', 0, [[0, 16], [60, 8]], { kind: 'Relative', sessionId: 's' });
  const c: EvseCase = { evse: E1, session: { id: 's', txStart: S + 300, authorizedAt: S }, relStart: S + 300 };
  assert.deepEqual(composite([rel], S + 1000, 120, 'A', [c]).periods, ps([0, 16], [59, 8]));
});

test('TC_K_21_CS K01.FR.36 a Relative TxDefaultProfile valid from now + 300 s, no transaction: the local limit, then 6 A / 6,000 W from 300 s', () => {
  for (const [unit, k, hw] of [['A', 1, 32], ['W', 1000, 22_080]] as const) {
    const p = prof(1, 'TxDefaultProfile', 0, [[0, 6 * k, 3]], { kind: 'Relative', unit, validFrom: S + 300_000 });
    assert.deepEqual(composite([p], S, 400, unit).periods, ps([0, hw], [300, 6 * k]), unit);
  }
});

test('TC_K_22_CS K01.FR.37 / K08.FR.03 a TxDefaultProfile on EVSE 0 valid to now + 300 s: 6 per EVSE (times the EVSEs for EVSE 0), then the local limit', () => {
  for (const [unit, k, hw] of [['A', 1, 32], ['W', 1000, 22_080]] as const) {
    const p = prof(1, 'TxDefaultProfile', 0, [[0, 6 * k, 3]], { evseId: 0, unit, validTo: S + 300_000 });
    const both = [idle(S, E1), idle(S, E2)];
    assert.deepEqual(composite([p], S, 400, unit, both, 0).periods, ps([0, 12 * k], [300, 2 * hw]), unit);
    for (const id of [1, 2]) assert.deepEqual(composite([p], S, 400, unit, both, id).periods, ps([0, 6 * k], [300, hw]), `${unit} EVSE ${id}`);
  }
});

test('2.0.1 part 2 §3.6 example: daily 11 kW / 6 kW 08:00–20:00 (W, 3 phases), asked from 07:00 in W and in A', () => {
  const p = prof(100, 'TxDefaultProfile', 0, [[0, 11_000, 3], [28_800, 6000, 3], [72_000, 11_000, 3]], {
    kind: 'Recurring', recurrency: 'Daily', unit: 'W', start: Date.UTC(2013, 0, 1), durationS: 86_400,
  });
  const from = Date.UTC(2026, 0, 1, 7, 0);
  assert.deepEqual(composite([p], from, 86_400, 'W').periods, ps([0, 11_000], [3600, 6000], [46_800, 11_000]));
  // 11,000 / (230 × 3) = 15.94 → 15.9 A; 6,000 / 690 = 8.69 → 8.6 A (never rounded up).
  assert.deepEqual(composite([p], from, 86_400, 'A').periods, ps([0, 15.9], [3600, 8.6], [46_800, 15.9]));
});

test('2.0.1 part 2 §3.6.1 stacked example: 2 kW daily 17:00–20:00 (stack 1), no limit on Sundays (stack 2, weekly) and on Christmas 2020 (stack 3)', () => {
  const peak = prof(10, 'TxDefaultProfile', 1, [[0, 2000]], { kind: 'Recurring', recurrency: 'Daily', unit: 'W', start: Date.UTC(2020, 0, 9, 17), durationS: 10_800 });
  const sunday = prof(11, 'TxDefaultProfile', 2, [[0, 999_999]], { kind: 'Recurring', recurrency: 'Weekly', unit: 'W', start: Date.UTC(2020, 0, 5), durationS: 86_400 });
  const xmas = prof(12, 'TxDefaultProfile', 3, [[0, 999_999]], { unit: 'W', start: Date.UTC(2020, 11, 25), durationS: 86_400, validFrom: Date.UTC(2020, 0, 1), validTo: Date.UTC(2021, 0, 1) });
  const all = [peak, sunday, xmas];
  const hw = 22_080; // 32 A × 230 V × 3: 999,999 W is "no limit" but the hardware's
  // Saturday 19 Dec 16:00 for 48 h: the peak on Saturday, none on Sunday.
  assert.deepEqual(composite(all, Date.UTC(2020, 11, 19, 16), 48 * 3600, 'W').periods, ps([0, hw], [3600, 2000], [14_400, hw]));
  // Thursday 24 Dec: the peak; Friday 25 Dec (Christmas): none.
  assert.deepEqual(composite(all, Date.UTC(2020, 11, 24, 16), 6 * 3600, 'W').periods, ps([0, hw], [3600, 2000], [14_400, hw]));
  assert.deepEqual(composite(all, Date.UTC(2020, 11, 25, 16), 6 * 3600, 'W').periods, ps([0, hw]));
  // Christmas 2021 is past the validity of stack 3 (a Saturday): the peak is back.
  assert.deepEqual(composite(all, Date.UTC(2021, 11, 25, 16), 6 * 3600, 'W').periods, ps([0, hw], [3600, 2000], [14_400, hw]));
});
