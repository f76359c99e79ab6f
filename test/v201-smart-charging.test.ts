/**
 * K: 2.0.1 smart charging end to end (real station and its one composite calculator on the simulated
 * board, real link, 2.0.1 adapter, strict CSMS): SetChargingProfile, Get/ReportChargingProfiles,
 * ClearChargingProfile, GetCompositeSchedule, RequestStartTransaction with a TxProfile. What the EV
 * gets is read off the simulated board (pilot PWM, contactor, power) in virtual time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChargingProfileType, ChargingSchedulePeriodType } from '../src/ocpp/v201/smart-charging.js';
import { VirtualClock } from '../base/clock.js';
import { V201Adapter } from '../src/ocpp/v201/index.js';
import { openDatabase } from '../src/store/db.js';
import { FakeLink, FakeStation, quietLog, testConfig } from './support/v16-fakes.js';
import { bootedV201Station, type V201Station } from './support/v201-station.js';

type Tx = {
  eventType: 'Started' | 'Updated' | 'Ended';
  triggerReason: string;
  transactionInfo: { transactionId: string; chargingState?: string; remoteStartId?: number };
};
type Report = { requestId: number; chargingLimitSource: string; evseId: number; tbc?: boolean; chargingProfile: ChargingProfileType[] };
type SetResult = { status: string; statusInfo?: { reasonCode: string; additionalInfo?: string } };
type Composite = {
  status: string;
  statusInfo?: { reasonCode: string };
  schedule?: { evseId: number; duration: number; scheduleStart: string; chargingRateUnit: string; chargingSchedulePeriod: { startPeriod: number; limit: number }[] };
};

const txs = (s: V201Station): Tx[] => s.calls<Tx>('TransactionEvent');
const evse1 = (s: V201Station) => s.sim.status().evses[0]!;
const iso = (ms: number): string => new Date(ms).toISOString();
const periods = (list: [number, number][]): ChargingSchedulePeriodType[] => list.map(([startPeriod, limit]) => ({ startPeriod, limit }));

function booted(variables: Record<string, string> = {}, evses = 1): Promise<V201Station> {
  return bootedV201Station({ variables, evses });
}

/** A 2.0.1 profile: TxDefaultProfile, Absolute from `start`, in A, unless told otherwise. */
function profile(start: number, over: Partial<ChargingProfileType> = {}, schedule: Partial<ChargingProfileType['chargingSchedule'][number]> = {}): ChargingProfileType {
  return {
    id: 1,
    stackLevel: 0,
    chargingProfilePurpose: 'TxDefaultProfile',
    chargingProfileKind: 'Absolute',
    chargingSchedule: [{ id: 1, startSchedule: iso(start), chargingRateUnit: 'A', chargingSchedulePeriod: periods([[0, 16]]), ...schedule }],
    ...over,
  };
}

const set = (s: V201Station, evseId: number, chargingProfile: ChargingProfileType): Promise<SetResult> =>
  s.call<SetResult>('SetChargingProfile', { evseId, chargingProfile });

async function runTo(s: V201Station, at: number): Promise<void> {
  const left = at - s.clock.now();
  if (left > 0) await s.run(left);
}

/** Plug, tap, EV asks for energy: the transaction is Started and the contactor closed. */
async function charging(s: V201Station): Promise<string> {
  s.sim.plug(1);
  s.sim.tap('04A1B2C3');
  s.sim.evReady(1);
  await s.until('charging', () => evse1(s).contactorClosed && txs(s).some((t) => t.eventType === 'Started'));
  return txs(s)[0]!.transactionInfo.transactionId;
}

/** GetChargingProfiles, then the ReportChargingProfiles of that request (all parts, until tbc is not set). */
async function getProfiles(s: V201Station, requestId: number, criteria: Record<string, unknown> = {}, evseId?: number): Promise<{ status: string; reports: Report[] }> {
  const req: Record<string, unknown> = { requestId, chargingProfile: criteria };
  if (evseId !== undefined) req.evseId = evseId;
  const { status } = await s.call<{ status: string }>('GetChargingProfiles', req);
  if (status !== 'Accepted') return { status, reports: [] };
  const mine = (): Report[] => s.calls<Report>('ReportChargingProfiles').filter((r) => r.requestId === requestId);
  await s.until(`report ${requestId}`, () => mine().some((r) => !r.tbc));
  return { status, reports: mine() };
}

test('TC_K_01_CS K01.FR.15 / K02 TxDefaultProfile on EVSE 1: the pilot PWM and the EV power follow the schedule at its boundaries in virtual time; a limit of 0 opens the contactor and the next TransactionEvent says SuspendedEVSE', async () => {
  const s = await booted();
  try {
    const t0 = s.clock.now();
    const res = await set(s, 1, profile(t0, {}, { duration: 300, chargingSchedulePeriod: periods([[0, 16], [60, 10], [120, 0], [180, 20]]) }));
    assert.deepEqual(res, { status: 'Accepted' });
    await charging(s);
    assert.equal(evse1(s).pwmAmps, 16);
    assert.equal(evse1(s).powerW, 16 * 230 * 3, 'the EV draws what the pilot offers, on 3 phases');

    await runTo(s, t0 + 59_000);
    assert.equal(evse1(s).pwmAmps, 16, 'K01.FR.12: a period holds until the next one starts');
    await runTo(s, t0 + 60_000);
    assert.equal(evse1(s).pwmAmps, 10);
    assert.equal(evse1(s).powerW, 10 * 230 * 3);

    const before = txs(s).length;
    await runTo(s, t0 + 120_000);
    assert.equal(evse1(s).pwmAmps, 0, 'limit 0: no PWM');
    assert.equal(evse1(s).contactorClosed, false, 'limit 0: the contactor opens');
    assert.equal(evse1(s).powerW, 0);
    await s.until('the limit-0 TransactionEvent', () => txs(s).slice(before).some((t) => t.transactionInfo.chargingState !== undefined));
    const next = txs(s).slice(before).find((t) => t.transactionInfo.chargingState !== undefined)!;
    assert.equal(next.eventType, 'Updated');
    assert.equal(next.transactionInfo.chargingState, 'SuspendedEVSE');

    await runTo(s, t0 + 180_000);
    assert.equal(evse1(s).pwmAmps, 20);
    assert.equal(evse1(s).contactorClosed, true, 'a limit above 0 again: the contactor closes again');
    // The last charging state told (a ChargingRateChanged event after it carries none: it did not change).
    await s.until('Charging again', () => txs(s).filter((t) => t.transactionInfo.chargingState).at(-1)?.transactionInfo.chargingState === 'Charging');

    await runTo(s, t0 + 300_000);
    assert.equal(evse1(s).pwmAmps, 32, 'K01.FR.11: past the duration the schedule no longer limits (hardware maximum)');
  } finally {
    await s.close();
  }
});

test('TC_K_02_CS / TC_K_11_CS / TC_K_14_CS / TC_K_16_CS SetChargingProfile rejections with reasonCode: TxProfile without a transaction (K01.FR.09, K01.FR.33), on EVSE 0 (K01.FR.16), unknown EVSE (K01.FR.28), station max off EVSE 0 (K04.FR.03) or Relative (K01.FR.38), stack level, periods, schedule shape (K01.FR.31/35/40/41), phases (K01.FR.43/48), external constraints (K01.FR.22), duplicate TxDefault stack level (K01.FR.52/53)', async () => {
  const s = await booted();
  try {
    const t0 = s.clock.now();
    const rel = { chargingProfileKind: 'Relative' as const };
    const noStart = { startSchedule: undefined };
    const cases: [string, number, ChargingProfileType, string][] = [
      ['TxProfile, unknown transactionId', 1, profile(t0, { chargingProfilePurpose: 'TxProfile', transactionId: 'UNKNOWN-TRANSACTION-ID', ...rel }, noStart), 'TxNotFound'],
      ['TxProfile without transactionId and no transaction', 1, profile(t0, { chargingProfilePurpose: 'TxProfile', ...rel }, noStart), 'TxNotFound'],
      ['TxProfile on EVSE 0', 0, profile(t0, { chargingProfilePurpose: 'TxProfile', transactionId: 'x', ...rel }, noStart), 'InvalidProfile'],
      ['unknown EVSE', 2, profile(t0), 'UnknownEvse'],
      ['station max on EVSE 1', 1, profile(t0, { chargingProfilePurpose: 'ChargingStationMaxProfile' }), 'InvalidProfile'],
      ['station max Relative', 0, profile(t0, { chargingProfilePurpose: 'ChargingStationMaxProfile', ...rel }, noStart), 'InvalidProfile'],
      ['external constraints', 0, profile(t0, { chargingProfilePurpose: 'ChargingStationExternalConstraints' }), 'InvalidProfile'],
      ['stack level above ProfileStackLevel', 1, profile(t0, { stackLevel: 9 }), 'InvalidStackLevel'],
      ['more periods than PeriodsPerSchedule', 1, profile(t0, {}, { chargingSchedulePeriod: periods(Array.from({ length: 49 }, (_, i) => [i * 60, 10])) }), 'TooManyElements'],
      ['first period not at 0', 1, profile(t0, {}, { chargingSchedulePeriod: periods([[10, 10]]) }), 'InvalidSchedule'],
      ['periods not ascending', 1, profile(t0, {}, { chargingSchedulePeriod: periods([[0, 10], [60, 8], [60, 6]]) }), 'InvalidSchedule'],
      ['Absolute without startSchedule', 1, profile(t0, {}, noStart), 'InvalidSchedule'],
      ['Relative with startSchedule', 1, profile(t0, rel), 'InvalidSchedule'],
      ['phaseToUse', 1, profile(t0, {}, { chargingSchedulePeriod: [{ startPeriod: 0, limit: 10, numberPhases: 1, phaseToUse: 2 }] }), 'UnsupportedParam'],
      ['numberPhases 1 on a 3-phase EVSE', 1, profile(t0, {}, { chargingSchedulePeriod: [{ startPeriod: 0, limit: 10, numberPhases: 1 }] }), 'InvalidSchedule'],
    ];
    for (const [what, evseId, p, reasonCode] of cases) {
      const res = await set(s, evseId, p);
      assert.equal(res.status, 'Rejected', what);
      assert.equal(res.statusInfo?.reasonCode, reasonCode, what);
    }
    assert.equal((await getProfiles(s, 1)).status, 'NoProfiles', 'nothing was installed');
    assert.equal(evse1(s).pwmAmps, 0);

    // K01.FR.52 / K01.FR.53: one stack level of TxDefaultProfile is station-wide or per EVSE, not both.
    assert.equal((await set(s, 0, profile(t0, { id: 10, stackLevel: 1 }))).status, 'Accepted');
    const dup = await set(s, 1, profile(t0, { id: 11, stackLevel: 1 }));
    assert.deepEqual([dup.status, dup.statusInfo?.reasonCode], ['Rejected', 'DuplicateProfile']);
    assert.equal((await set(s, 1, profile(t0, { id: 11, stackLevel: 2 }))).status, 'Accepted', 'another stack level is fine');
    const dup0 = await set(s, 0, profile(t0, { id: 12, stackLevel: 2 }));
    assert.deepEqual([dup0.status, dup0.statusInfo?.reasonCode], ['Rejected', 'DuplicateProfile']);
    // numberPhases 3 (and above, imposed on 3: K01.FR.45) is what this EVSE supplies.
    assert.equal((await set(s, 1, profile(t0, { id: 13, stackLevel: 3 }, { chargingSchedulePeriod: [{ startPeriod: 0, limit: 10, numberPhases: 3 }] }))).status, 'Accepted');
  } finally {
    await s.close();
  }
});

test('TC_K_12_CS / TC_K_42_CS K01.FR.26 / K08.FR.07 a unit missing from SmartChargingCtrlr.RateUnit is Rejected (UnsupportedRateUnit); the SmartChargingCtrlr variables tell what the station takes', async () => {
  const s = await booted({ 'SmartChargingCtrlr.RateUnit': 'A' });
  try {
    const t0 = s.clock.now();
    const w = await set(s, 1, profile(t0, {}, { chargingRateUnit: 'W', chargingSchedulePeriod: periods([[0, 6000]]) }));
    assert.deepEqual([w.status, w.statusInfo?.reasonCode], ['Rejected', 'UnsupportedRateUnit']);
    assert.deepEqual(await set(s, 1, profile(t0)), { status: 'Accepted' });
    const c = await s.call<Composite>('GetCompositeSchedule', { evseId: 1, duration: 300, chargingRateUnit: 'W' });
    assert.deepEqual([c.status, c.schedule], ['Rejected', undefined]);

    const vars = ['Enabled', 'Available', 'ProfileStackLevel', 'PeriodsPerSchedule', 'RateUnit', 'LimitChangeSignificance'];
    const res = await s.call<{ getVariableResult: { attributeStatus: string; attributeValue?: string }[] }>('GetVariables', {
      getVariableData: [
        ...vars.map((name) => ({ component: { name: 'SmartChargingCtrlr' }, variable: { name } })),
        { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'Entries', instance: 'ChargingProfiles' } },
      ],
    });
    assert.deepEqual(
      res.getVariableResult.map((r) => r.attributeValue),
      ['true', 'true', '8', '48', 'A', '1.0', '1'],
    );
  } finally {
    await s.close();
  }
});

test('TC_K_31_CS / TC_K_29_CS / TC_K_32_CS / TC_K_35_CS / TC_K_04_CS K09 GetChargingProfiles → ReportChargingProfiles: requestId on every part (K09.FR.01), one part per EVSE with tbc on all but the last (K09.FR.02), evseId 0 = the station only (K09.FR.05), the profile as it was set; K01.FR.05 same id replaces', async () => {
  const s = await booted();
  try {
    const t0 = s.clock.now();
    const max = profile(t0, { id: 1, chargingProfilePurpose: 'ChargingStationMaxProfile' }, { id: 5, duration: 86400, chargingSchedulePeriod: periods([[0, 20]]) });
    const def = profile(t0, { id: 2, stackLevel: 1, validFrom: iso(t0), validTo: iso(t0 + 3_600_000) }, { id: 6, minChargingRate: 6, chargingSchedulePeriod: [{ startPeriod: 0, limit: 16, numberPhases: 3 }, { startPeriod: 600, limit: 8.5 }] });
    assert.equal((await set(s, 0, max)).status, 'Accepted');
    assert.equal((await set(s, 1, def)).status, 'Accepted');

    const all = await getProfiles(s, 42);
    assert.equal(all.status, 'Accepted');
    assert.deepEqual(
      all.reports.map((r) => [r.requestId, r.evseId, r.tbc, r.chargingLimitSource, r.chargingProfile.map((p) => p.id)]),
      [
        [42, 0, true, 'CSO', [1]],
        [42, 1, undefined, 'CSO', [2]],
      ],
    );
    assert.deepEqual(all.reports[0]!.chargingProfile[0], max, 'TC_K_03: reported as set');
    assert.deepEqual(all.reports[1]!.chargingProfile[0], def, 'TC_K_01: reported as set (schedule id, validity, numberPhases, minChargingRate)');

    const station = await getProfiles(s, 43, {}, 0);
    assert.deepEqual(station.reports.flatMap((r) => r.chargingProfile.map((p) => p.id)), [1]);
    const byId = await getProfiles(s, 44, { chargingProfileId: [2] });
    assert.deepEqual(byId.reports.map((r) => [r.evseId, r.chargingProfile.map((p) => p.id)]), [[1, [2]]]);
    const byPurpose = await getProfiles(s, 45, { chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 1 }, 1);
    assert.deepEqual(byPurpose.reports.flatMap((r) => r.chargingProfile.map((p) => p.id)), [2]);
    assert.equal((await getProfiles(s, 46, { chargingProfilePurpose: 'TxProfile' })).status, 'NoProfiles');
    assert.equal((await getProfiles(s, 47, { chargingLimitSource: ['EMS'] })).status, 'NoProfiles', 'every profile here comes from the CSO');

    // TC_K_04 / K01.FR.05: the same id replaces the profile.
    assert.equal((await set(s, 1, { ...def, chargingSchedule: [{ ...def.chargingSchedule[0]!, chargingSchedulePeriod: periods([[0, 10]]) }] })).status, 'Accepted');
    const replaced = await getProfiles(s, 48, { chargingProfileId: [2] });
    assert.deepEqual(replaced.reports[0]!.chargingProfile[0]!.chargingSchedule[0]!.chargingSchedulePeriod, periods([[0, 10]]));
    assert.equal(replaced.reports[0]!.chargingProfile.length, 1);
  } finally {
    await s.close();
  }
});

test('TC_K_05_CS / TC_K_06_CS / TC_K_07_CS / TC_K_08_CS / TC_K_09_CS K10 ClearChargingProfile: by id (K10.FR.03), by criteria (K10.FR.04), Unknown when nothing matches (K10.FR.01) or for external constraints (K10.FR.08); clearing the TxDefaultProfile of a running transaction lifts its limit (K10.FR.05, K10.FR.07)', async () => {
  const s = await booted();
  try {
    const t0 = s.clock.now();
    assert.deepEqual(await s.call('ClearChargingProfile', { chargingProfileId: 1 }), { status: 'Unknown' }, 'TC_K_08: nothing installed');
    assert.equal((await set(s, 1, profile(t0, { id: 1, stackLevel: 0 }, { chargingSchedulePeriod: periods([[0, 6]]) }))).status, 'Accepted');
    assert.equal((await set(s, 1, profile(t0, { id: 2, stackLevel: 1 }, { chargingSchedulePeriod: periods([[0, 8]]) }))).status, 'Accepted');
    assert.equal((await set(s, 0, profile(t0, { id: 3, chargingProfilePurpose: 'ChargingStationMaxProfile' }, { chargingSchedulePeriod: periods([[0, 20]]) }))).status, 'Accepted');

    await charging(s);
    assert.equal(evse1(s).pwmAmps, 8, 'the higher stack level prevails');
    assert.deepEqual(await s.call('ClearChargingProfile', { chargingProfileId: 2 }), { status: 'Accepted' });
    assert.equal(evse1(s).pwmAmps, 6, 'K10.FR.05: recalculated at once');
    assert.equal((await getProfiles(s, 1, { chargingProfileId: [2] })).status, 'NoProfiles', 'TC_K_05');

    assert.deepEqual(
      await s.call('ClearChargingProfile', { chargingProfileCriteria: { chargingProfilePurpose: 'ChargingStationMaxProfile', stackLevel: 1 } }),
      { status: 'Unknown' },
      'TC_K_07: unknown stackLevel/purpose combination',
    );
    assert.deepEqual(await s.call('ClearChargingProfile', { chargingProfileCriteria: { chargingProfilePurpose: 'ChargingStationExternalConstraints' } }), { status: 'Unknown' });
    assert.deepEqual(
      await s.call('ClearChargingProfile', { chargingProfileCriteria: { chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 0 } }),
      { status: 'Accepted' },
      'TC_K_06 / TC_K_09',
    );
    assert.equal(evse1(s).pwmAmps, 20, 'K10.FR.07: the transaction goes on as if started without a TxDefaultProfile (station max remains)');
    assert.equal(evse1(s).contactorClosed, true);
    const left = await getProfiles(s, 2);
    assert.deepEqual(left.reports.flatMap((r) => r.chargingProfile.map((p) => p.id)), [3]);
  } finally {
    await s.close();
  }
});

test('TC_K_39_CS / TC_K_41_CS / TC_K_47_CS K08 GetCompositeSchedule: no profile → the hardware limit from 0 (K08.FR.02/03/06); station max and TxDefaultProfile merged to the lowest limit per interval (K08.FR.04), in A and in W; unknown EVSE Rejected (K08.FR.05)', async () => {
  const s = await booted();
  try {
    const t0 = s.clock.now();
    const none = await s.call<Composite>('GetCompositeSchedule', { evseId: 0, duration: 300, chargingRateUnit: 'A' });
    assert.equal(none.status, 'Accepted');
    assert.deepEqual(
      { ...none.schedule, scheduleStart: undefined },
      { evseId: 0, duration: 300, scheduleStart: undefined, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 32 }] },
    );
    assert.equal(none.schedule!.scheduleStart, iso(t0), 'K08.FR.02: from the moment of receipt');

    assert.equal((await set(s, 0, profile(t0, { id: 1, chargingProfilePurpose: 'ChargingStationMaxProfile' }, { duration: 86400, chargingSchedulePeriod: periods([[0, 10]]) }))).status, 'Accepted');
    const txDefault = periods([[0, 6], [60, 10], [120, 8], [180, 15], [260, 8]]);
    assert.equal((await set(s, 1, profile(t0, { id: 2 }, { duration: 300, chargingSchedulePeriod: txDefault }))).status, 'Accepted');
    const amps = await s.call<Composite>('GetCompositeSchedule', { evseId: 1, duration: 400, chargingRateUnit: 'A' });
    assert.equal(amps.status, 'Accepted');
    assert.equal(amps.schedule!.evseId, 1);
    assert.equal(amps.schedule!.duration, 400);
    assert.deepEqual(
      amps.schedule!.chargingSchedulePeriod.map((p) => [p.startPeriod, p.limit]),
      [[0, 6], [60, 10], [120, 8], [180, 10], [260, 8], [300, 10]],
    );
    const watts = await s.call<Composite>('GetCompositeSchedule', { evseId: 1, duration: 60, chargingRateUnit: 'W' });
    assert.equal(watts.schedule!.chargingRateUnit, 'W');
    assert.deepEqual(watts.schedule!.chargingSchedulePeriod, [{ startPeriod: 0, limit: 6 * 230 * 3 }]);

    const unknown = await s.call<Composite>('GetCompositeSchedule', { evseId: 2, duration: 300 });
    assert.deepEqual([unknown.status, unknown.schedule], ['Rejected', undefined]);
  } finally {
    await s.close();
  }
});

test('TC_K_19_CS / TC_K_21_CS / TC_K_22_CS / TC_K_23_CS Recurring Daily, validFrom / validTo (K01.FR.36/37) and a startSchedule in the future (K01.FR.30) reach the station as set: composite schedule and reported profile', async () => {
  const s = await booted();
  try {
    const t0 = s.clock.now();
    const H = 3600;
    const daily = profile(t0 - H * 1000, { id: 1, chargingProfileKind: 'Recurring', recurrencyKind: 'Daily' }, { duration: 3 * H, chargingSchedulePeriod: periods([[0, 10], [2 * H, 20]]) });
    assert.deepEqual(await set(s, 1, daily), { status: 'Accepted' });
    const c1 = await s.call<Composite>('GetCompositeSchedule', { evseId: 1, duration: 4 * H, chargingRateUnit: 'A' });
    assert.deepEqual(
      c1.schedule!.chargingSchedulePeriod.map((p) => [p.startPeriod, p.limit]),
      [[0, 10], [H, 20], [2 * H, 32]],
      'started an hour ago: 10 A, 20 A from its second period, free past its 3 h duration',
    );
    const c2 = await s.call<Composite>('GetCompositeSchedule', { evseId: 1, duration: 24 * H, chargingRateUnit: 'A' });
    assert.deepEqual(c2.schedule!.chargingSchedulePeriod.at(-1), { startPeriod: 23 * H, limit: 10 }, 'the next day it recurs');
    assert.deepEqual((await getProfiles(s, 1)).reports[0]!.chargingProfile, [daily]);
    assert.deepEqual(await s.call('ClearChargingProfile', { chargingProfileId: 1 }), { status: 'Accepted' });

    const later = profile(t0 + 600_000, { id: 2, validFrom: iso(t0), validTo: iso(t0 + 1200_000) }, { chargingSchedulePeriod: periods([[0, 8]]) });
    assert.deepEqual(await set(s, 1, later), { status: 'Accepted' });
    const c3 = await s.call<Composite>('GetCompositeSchedule', { evseId: 1, duration: H, chargingRateUnit: 'A' });
    assert.deepEqual(
      c3.schedule!.chargingSchedulePeriod.map((p) => [p.startPeriod, p.limit]),
      [[0, 32], [600, 8], [1200, 32]],
      'no limit before startSchedule, none from validTo on',
    );
    assert.deepEqual((await getProfiles(s, 2)).reports[0]!.chargingProfile, [later]);
    const badValidity = await set(s, 1, { ...later, id: 3, validTo: iso(t0 - 1000) });
    assert.deepEqual([badValidity.status, badValidity.statusInfo?.reasonCode], ['Rejected', 'InvalidProfile']);
    const noRecurrency = await set(s, 1, { ...daily, id: 4, recurrencyKind: undefined });
    assert.deepEqual([noRecurrency.status, noRecurrency.statusInfo?.reasonCode], ['Rejected', 'InvalidProfile']);
  } finally {
    await s.close();
  }
});

test('TC_K_60_CS K01.FR.04 TxProfile for the running transaction overrules the TxDefaultProfile, is reported with its transactionId, and goes with the transaction; then a TxProfile for it is Rejected (K01.FR.09)', async () => {
  const s = await booted();
  try {
    const t0 = s.clock.now();
    assert.equal((await set(s, 1, profile(t0, { id: 1 }, { chargingSchedulePeriod: periods([[0, 10]]) }))).status, 'Accepted');
    const id = await charging(s);
    assert.equal(evse1(s).pwmAmps, 10);
    const tx: ChargingProfileType = {
      id: 7,
      stackLevel: 0,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      transactionId: id,
      chargingSchedule: [{ id: 3, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 13, numberPhases: 3 }] }],
    };
    assert.deepEqual(await set(s, 1, tx), { status: 'Accepted' });
    assert.equal(evse1(s).pwmAmps, 13, 'the TxProfile overrules the TxDefaultProfile, even with a higher limit');
    const c = await s.call<Composite>('GetCompositeSchedule', { evseId: 1, duration: 60, chargingRateUnit: 'A' });
    assert.deepEqual(c.schedule!.chargingSchedulePeriod, [{ startPeriod: 0, limit: 13 }]);
    const rep = await getProfiles(s, 9, { chargingProfileId: [7] });
    assert.deepEqual(rep.reports.map((r) => [r.evseId, r.chargingProfile]), [[1, [tx]]]);

    assert.deepEqual(await s.call('RequestStopTransaction', { transactionId: id }), { status: 'Accepted' });
    await s.until('Ended', () => txs(s).some((t) => t.eventType === 'Ended'));
    assert.equal((await getProfiles(s, 10, { chargingProfileId: [7] })).status, 'NoProfiles', 'the TxProfile ended with its transaction');
    const late = await set(s, 1, { ...tx, id: 8 });
    assert.deepEqual([late.status, late.statusInfo?.reasonCode], ['Rejected', 'TxNotFound'], 'K01.FR.09: no transaction any more');
  } finally {
    await s.close();
  }
});

test('TC_K_10_CS K01.FR.14 a TxDefaultProfile on EVSE 0 applies to every EVSE and is reported on EVSE 0; K01.FR.09 a TxProfile for a transaction of another EVSE is Rejected', async () => {
  const s = await booted({}, 2);
  try {
    const t0 = s.clock.now();
    const p = profile(t0, { id: 4 }, { chargingSchedulePeriod: periods([[0, 9]]) });
    assert.deepEqual(await set(s, 0, p), { status: 'Accepted' });
    const id = await charging(s);
    assert.equal(evse1(s).pwmAmps, 9);
    const c2 = await s.call<Composite>('GetCompositeSchedule', { evseId: 2, duration: 60, chargingRateUnit: 'A' });
    assert.deepEqual(c2.schedule!.chargingSchedulePeriod, [{ startPeriod: 0, limit: 9 }], 'EVSE 2 is limited by it too');
    const rep = await getProfiles(s, 1);
    assert.deepEqual(rep.reports.map((r) => [r.evseId, r.tbc, r.chargingProfile]), [[0, undefined, [p]]]);
    assert.equal((await getProfiles(s, 2, {}, 1)).status, 'NoProfiles', 'K09.FR.04: installed on EVSE 0, not on EVSE 1');
    const other = await set(s, 2, {
      id: 5,
      stackLevel: 0,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      transactionId: id,
      chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: periods([[0, 6]]) }],
    });
    assert.deepEqual([other.status, other.statusInfo?.reasonCode], ['Rejected', 'TxNotFound']);
    assert.equal(evse1(s).pwmAmps, 9);
  } finally {
    await s.close();
  }
});

test('TC_K_03_CS K04.FR.03 / K04.FR.05 a ChargingStationMaxProfile on EVSE 0 bounds what the EVSEs take together', async () => {
  const s = await booted({}, 2);
  try {
    const t0 = s.clock.now();
    assert.deepEqual(await set(s, 0, profile(t0, { id: 1, chargingProfilePurpose: 'ChargingStationMaxProfile' }, { chargingSchedulePeriod: periods([[0, 20]]) })), { status: 'Accepted' });
    await charging(s);
    assert.equal(evse1(s).pwmAmps, 20, 'alone, EVSE 1 may take the whole station limit');
    s.sim.plug(2);
    s.sim.tap('AABBCCDD');
    s.sim.evReady(2);
    const both = () => s.sim.status().evses;
    await s.until('EVSE 2 charging', () => both()[1]!.contactorClosed);
    const amps = both().map((e) => e.pwmAmps);
    assert.ok(amps.every((a) => a >= 6), `both EVSEs get at least the minimum PWM: ${amps.join(', ')}`);
    assert.ok(amps[0]! + amps[1]! <= 20, `together within the station max profile: ${amps.join(' + ')}`);
    const c = await s.call<Composite>('GetCompositeSchedule', { evseId: 0, duration: 60, chargingRateUnit: 'A' });
    assert.ok(c.schedule!.chargingSchedulePeriod.every((p) => p.limit <= 20), 'K08.FR.03: the grid connection total stays within it');
  } finally {
    await s.close();
  }
});

test('TC_K_37_CS K05 RequestStartTransaction with a TxProfile: the profile is bound to the new transaction (K05.FR.03) and limits the EV from the start; an invalid one rejects the start with a reasonCode (K05.FR.05)', async () => {
  const s = await booted();
  try {
    const txProfile: ChargingProfileType = {
      id: 21,
      stackLevel: 0,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      chargingSchedule: [{ id: 4, chargingRateUnit: 'A', chargingSchedulePeriod: periods([[0, 6], [120, 12]]) }],
    };
    const idToken = { idToken: 'APP-USER', type: 'Central' };
    const bad = await s.call<SetResult>('RequestStartTransaction', {
      evseId: 1,
      remoteStartId: 1,
      idToken,
      chargingProfile: { ...txProfile, chargingProfilePurpose: 'TxDefaultProfile' },
    });
    assert.deepEqual([bad.status, bad.statusInfo?.reasonCode], ['Rejected', 'InvalidProfile'], 'K05.FR.02: only a TxProfile');
    const badSchedule = await s.call<SetResult>('RequestStartTransaction', {
      evseId: 1,
      remoteStartId: 2,
      idToken,
      chargingProfile: { ...txProfile, chargingSchedule: [{ ...txProfile.chargingSchedule[0]!, chargingSchedulePeriod: periods([[5, 6]]) }] },
    });
    assert.deepEqual([badSchedule.status, badSchedule.statusInfo?.reasonCode], ['Rejected', 'InvalidSchedule']);
    assert.equal(s.station.session(1), undefined, 'a rejected start opens no session');

    assert.deepEqual(await s.call('RequestStartTransaction', { evseId: 1, remoteStartId: 3, idToken, chargingProfile: txProfile }), { status: 'Accepted' });
    s.sim.plug(1);
    s.sim.evReady(1);
    await s.until('charging', () => evse1(s).contactorClosed && txs(s).some((t) => t.eventType === 'Started'));
    const started = txs(s)[0]!;
    assert.equal(started.triggerReason, 'RemoteStart');
    assert.equal(started.transactionInfo.remoteStartId, 3);
    assert.equal(evse1(s).pwmAmps, 6, 'the TxProfile limits the EV from the first moment');
    const rep = await getProfiles(s, 5, { chargingProfileId: [21] });
    assert.deepEqual(rep.reports.map((r) => [r.evseId, r.chargingProfile]), [[1, [{ ...txProfile, transactionId: started.transactionInfo.transactionId }]]]);
    await s.run(121_000);
    assert.equal(evse1(s).pwmAmps, 12, 'Relative: its periods count from the start of the transaction');
  } finally {
    await s.close();
  }
});

test('TC_K_13_CS K01.FR.27 charging profiles survive a restart and are reported as they were set', async () => {
  const s = await booted();
  try {
    const t0 = s.clock.now();
    const p = profile(t0, { id: 31, stackLevel: 2 }, { id: 77, chargingSchedulePeriod: periods([[0, 11]]) });
    assert.equal((await set(s, 1, p)).status, 'Accepted');
    await s.restart();
    await s.until('boot again', () => s.adapter.ctx.registration === 'Accepted' && s.calls('BootNotification').length === 2);
    const rep = await getProfiles(s, 3);
    assert.deepEqual(rep.reports.map((r) => [r.evseId, r.chargingProfile]), [[1, [p]]]);
    await charging(s);
    assert.equal(evse1(s).pwmAmps, 11);
  } finally {
    await s.close();
  }
});

test('K01.FR.29 / K05.FR.04 a station without smart charging: CALLERROR NotSupported, a RequestStartTransaction profile is ignored, SmartChargingCtrlr says false', async () => {
  const clock = new VirtualClock();
  const link = new FakeLink();
  const station = new FakeStation(1, () => clock.now());
  const db = openDatabase(':memory:');
  const adapter = new V201Adapter({ link, station, db, clock, log: quietLog, config: testConfig() });
  try {
    await adapter.start();
    adapter.ctx.registration = 'Accepted';
    const t0 = clock.now();
    for (const [action, params] of [
      ['SetChargingProfile', { evseId: 1, chargingProfile: profile(t0) }],
      ['GetChargingProfiles', { requestId: 1, chargingProfile: {} }],
      ['ClearChargingProfile', { chargingProfileId: 1 }],
      ['GetCompositeSchedule', { evseId: 1, duration: 60 }],
    ] as const) {
      await assert.rejects(link.csmsCall(action, params), (e: { rpcErrorCode?: string }) => e.rpcErrorCode === 'NotSupported', action);
    }
    const txProfile = { ...profile(t0, { chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative' }), chargingSchedule: [{ id: 1, chargingRateUnit: 'A' as const, chargingSchedulePeriod: periods([[0, 6]]) }] };
    assert.deepEqual(
      await link.csmsCall('RequestStartTransaction', { evseId: 1, remoteStartId: 1, idToken: { idToken: 'APP', type: 'Central' }, chargingProfile: txProfile }),
      { status: 'Accepted' },
    );
    const start = station.commands.find((c) => c.name === 'requestStart');
    assert.ok(start, 'the start went to the station');
    const opts = start.args[2] as { remoteStartId?: number; chargingProfile?: unknown };
    assert.equal(opts.remoteStartId, 1);
    assert.equal(opts.chargingProfile, undefined, 'without its profile');
    assert.equal(adapter.deviceModel.value('SmartChargingCtrlr.Enabled'), 'false');
    assert.equal(adapter.deviceModel.value('SmartChargingCtrlr.Available'), 'false');
  } finally {
    await adapter.stop();
    db.close();
  }
});
