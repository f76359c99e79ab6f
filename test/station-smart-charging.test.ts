/**
 * Smart charging in the station core: the one composite schedule calculator (1.6 3.13, 2.0.1 K08)
 * and how the station applies it (pilot PWM, contactor) on the VirtualClock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../base/clock.js';
import type { ChargingProfile } from '../src/station/api.js';
import { ProfileIndex, evseLimitAt, limOf, type EvseInfo } from '../src/station/composite.js';
import { openDatabase } from '../src/store/db.js';
import { charging, makeStation, tok } from './support/station-fixture.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0); // the VirtualClock's default start
const MIDNIGHT = Date.UTC(2026, 0, 1, 0, 0, 0);
const H = 3_600_000;

function profile(over: Partial<ChargingProfile> & { periods?: [number, number][] }): ChargingProfile {
  const { periods = [[0, 16]], ...rest } = over;
  return {
    id: 1,
    evseId: 0,
    stackLevel: 0,
    purpose: 'TxDefaultProfile',
    kind: 'Absolute',
    schedule: { unit: 'A', startSchedule: T0, periods: periods.map(([startPeriodS, limit]) => ({ startPeriodS, limit })) },
    ...rest,
  };
}

const EVSE3: EvseInfo = { id: 1, phases: 3, maxCurrentA: 32 };
const at = (profiles: ChargingProfile[], t: number, evse = EVSE3, session?: { id: string; txStart?: number }): number =>
  Math.floor(evseLimitAt(new ProfileIndex(profiles), evse, session, t, session?.txStart ?? t, 230).a * 10 + 1e-9) / 10;

// ---- the calculator ---------------------------------------------------------------------------

test('3.13.2 stacking: the highest valid stack level prevails; past its duration the lower one is back', () => {
  const base = profile({ id: 1, stackLevel: 0, periods: [[0, 16]] });
  const top = profile({ id: 2, stackLevel: 3, periods: [[0, 10]], schedule: { unit: 'A', startSchedule: T0, durationS: 3600, periods: [{ startPeriodS: 0, limit: 10 }] } });
  assert.equal(at([base, top], T0), 10);
  assert.equal(at([base, top], T0 + H - 1), 10);
  assert.equal(at([base, top], T0 + H), 16);
  assert.equal(at([base, top], T0 - 1), 32, 'before the absolute start no profile limits: hardware maximum');
});

test('validFrom / validTo bound a profile (3.13.2: only valid profiles take part)', () => {
  const p = profile({ periods: [[0, 8]], validFrom: T0 + H, validTo: T0 + 2 * H, schedule: { unit: 'A', startSchedule: MIDNIGHT, periods: [{ startPeriodS: 0, limit: 8 }] } });
  assert.equal(at([p], T0), 32);
  assert.equal(at([p], T0 + H), 8);
  assert.equal(at([p], T0 + 2 * H), 32);
});

test('Recurring Daily repeats from startSchedule every day; Weekly every 7 days', () => {
  const daily = profile({
    kind: 'Recurring',
    recurrency: 'Daily',
    schedule: { unit: 'A', startSchedule: MIDNIGHT, periods: [{ startPeriodS: 0, limit: 32 }, { startPeriodS: 8 * 3600, limit: 10 }, { startPeriodS: 20 * 3600, limit: 32 }] },
  });
  assert.equal(at([daily], MIDNIGHT + 9 * H), 10);
  assert.equal(at([daily], MIDNIGHT + 24 * H + 9 * H), 10, 'next day, same hour');
  assert.equal(at([daily], MIDNIGHT + 5 * 24 * H + 21 * H), 32);
  assert.equal(at([daily], MIDNIGHT + 5 * 24 * H + 7 * H), 32);
  const weekly = profile({
    kind: 'Recurring',
    recurrency: 'Weekly',
    schedule: { unit: 'A', startSchedule: MIDNIGHT, durationS: 86_400, periods: [{ startPeriodS: 0, limit: 6 }] },
  });
  assert.equal(at([weekly], MIDNIGHT + 2 * H), 6);
  assert.equal(at([weekly], MIDNIGHT + 2 * 24 * H), 32, 'past the duration inside the week');
  assert.equal(at([weekly], MIDNIGHT + 7 * 24 * H + 2 * H), 6, 'a week later');
});

test('Relative schedules count from the transaction start (from now when there is none)', () => {
  const rel = profile({ kind: 'Relative', schedule: { unit: 'A', periods: [{ startPeriodS: 0, limit: 16 }, { startPeriodS: 1800, limit: 8 }] } });
  const session = { id: 's1', txStart: T0 };
  assert.equal(at([rel], T0 + 1000, EVSE3, session), 16);
  assert.equal(at([rel], T0 + 1800_000, EVSE3, session), 8);
  assert.equal(at([rel], T0 + 5 * H), 16, 'no transaction: the first period');
});

test('K01.FR.50 W → A with the phases used and 230 V; 1.6 errata §3.34: more phases than the EVSE has keep the limit as given', () => {
  assert.equal(limOf(11_040, 'W', 3, 3, 230).a, 16);
  assert.equal(limOf(3_680, 'W', 1, 1, 230).a, 16);
  assert.equal(limOf(3_680, 'W', 3, 1, 230).a, 16, 'a 1-phase EVSE takes all the power on one phase');
  const w = profile({ schedule: { unit: 'W', startSchedule: T0, periods: [{ startPeriodS: 0, limit: 6_900 }] } });
  assert.equal(at([w], T0), 10);
  assert.equal(at([w], T0, { id: 1, phases: 1, maxCurrentA: 32 }), 30);
});

test('3.13.3 composite = min(station max, TxProfile else TxDefaultProfile); a connector TxDefault beats the connector-0 one', () => {
  const stationMax = profile({ id: 1, purpose: 'ChargingStationMaxProfile', periods: [[0, 20], [3600, 12]] });
  const def0 = profile({ id: 2, evseId: 0, stackLevel: 1, periods: [[0, 16]] });
  const def1 = profile({ id: 3, evseId: 1, stackLevel: 1, periods: [[0, 14]] });
  const tx = profile({ id: 4, evseId: 1, stackLevel: 0, purpose: 'TxProfile', sessionId: 's1', periods: [[0, 24]] });
  assert.equal(at([stationMax, def0], T0), 16);
  assert.equal(at([stationMax, def0, def1], T0), 14, 'same stack level: the EVSE one wins');
  assert.equal(at([stationMax, def0, def1], T0, { id: 2, phases: 3, maxCurrentA: 32 }), 16, 'other EVSE keeps the connector-0 default');
  assert.equal(at([stationMax, def0, def1, tx], T0, EVSE3, { id: 's1' }), 20, 'TxProfile overrules the defaults, station max caps it');
  assert.equal(at([stationMax, def0, def1, tx], T0 + H, EVSE3, { id: 's1' }), 12);
  assert.equal(at([stationMax, def0, def1, tx], T0, EVSE3, { id: 'other' }), 14, 'a TxProfile of another session does not apply');
});

// ---- the station applies it -------------------------------------------------------------------

test('TxDefaultProfile: pilot PWM follows the schedule boundaries on the clock; limit 0 opens the contactor and shows SuspendedEVSE', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  const r = f.station.chargingProfiles.set(profile({ periods: [[0, 16], [600, 8], [1200, 0], [1800, 20]] }));
  assert.deepEqual(r, { status: 'Accepted' });
  await charging(f);
  assert.equal(e.pilot.maxCurrent, 16);
  await f.clock.advance(599_000);
  assert.equal(e.pilot.maxCurrent, 16);
  await f.clock.advance(1_000);
  assert.equal(e.pilot.maxCurrent, 8);
  assert.equal(e.contactor.commanded, true);
  await f.clock.advance(600_000);
  assert.equal(e.pilot.maxCurrent, 0);
  assert.equal(e.contactor.commanded, false);
  assert.equal(f.lastStatus()?.status, 'SuspendedEVSE');
  await f.clock.advance(600_000);
  assert.equal(e.pilot.maxCurrent, 20);
  assert.equal(e.contactor.commanded, true);
  assert.equal(f.lastStatus()?.status, 'Charging');
  await f.stop();
});

test('a zero limit opens the contactor in the same tick as set()', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  await charging(f);
  f.station.chargingProfiles.set(profile({ evseId: 1, periods: [[0, 0]] }));
  assert.equal(e.contactor.commanded, false, 'opened synchronously');
  assert.equal(e.pilot.maxCurrent, 0);
  assert.equal(f.lastStatus()?.status, 'SuspendedEVSE');
  e.pilot.setState('B'); // the EV answers the missing PWM by leaving C: still the EVSE's doing
  assert.equal(f.lastStatus()?.status, 'SuspendedEVSE');
  e.pilot.setState('C');
  assert.equal(f.station.chargingProfiles.clear({ evseId: 1 }), 1);
  assert.equal(e.contactor.commanded, true, 'cleared: charging again');
  assert.equal(e.pilot.maxCurrent, 32);
  await f.stop();
});

test('3.13.3 the station max is shared by the EVSEs charging: water filling, the minimum PWM, the share comes back when a session ends', async () => {
  const f = await makeStation({ evses: 3 });
  const pwm = (id: number): number => f.hal.evse(id).pilot.maxCurrent;
  f.station.chargingProfiles.set(profile({ id: 1, purpose: 'ChargingStationMaxProfile', periods: [[0, 20], [60, 10]] }));
  f.station.chargingProfiles.set(profile({ id: 2, evseId: 1, periods: [[0, 6]] }));
  await charging(f, 1, 'A1');
  assert.equal(pwm(1), 6);
  await f.clock.advance(1_000);
  await charging(f, 2, 'A2');
  assert.equal(pwm(2), 14, 'EVSE 1 takes 6 of 20, EVSE 2 the rest');
  await f.clock.advance(1_000);
  await charging(f, 3, 'A3');
  assert.equal(pwm(1), 6);
  assert.equal(pwm(2), 7);
  assert.equal(pwm(3), 7);
  await f.clock.advance(58_000);
  // 10 A for three: 6 + 4 would leave the second under the minimum PWM, so the later ones wait.
  assert.deepEqual([pwm(1), pwm(2), pwm(3)], [6, 0, 0]);
  assert.equal(f.hal.evse(3).contactor.commanded, false);
  assert.equal(f.lastStatus(3)?.status, 'SuspendedEVSE');
  f.station.chargingProfiles.clear({ id: 2 });
  assert.deepEqual([pwm(1), pwm(2), pwm(3)], [10, 0, 0], 'the earliest session keeps the whole 10 A');
  await f.station.presentToken(tok('A1'), 1);
  await f.clock.advance(0);
  assert.deepEqual([pwm(1), pwm(2), pwm(3)], [0, 10, 0], 'its session ended: the next one gets it');
  await f.stop();
});

test('TxProfile needs a running session, binds to it and is deleted (memory and SQLite) when it ends', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  const tx = profile({ id: 7, evseId: 1, purpose: 'TxProfile', periods: [[0, 12]] });
  assert.equal(f.station.chargingProfiles.set(tx).status, 'Rejected', 'no transaction');
  assert.equal(f.station.chargingProfiles.set({ ...tx, evseId: 0 }).status, 'Rejected');
  assert.equal(f.station.chargingProfiles.set(profile({ purpose: 'ChargingStationMaxProfile', evseId: 1 })).status, 'Rejected');
  assert.equal(f.station.chargingProfiles.set(profile({ stackLevel: 99 })).status, 'Rejected');
  assert.equal(f.station.chargingProfiles.set(profile({ periods: [[10, 5]] })).status, 'Rejected', 'first period must start at 0');
  await charging(f);
  assert.deepEqual(f.station.chargingProfiles.set(tx), { status: 'Accepted' });
  assert.equal(e.pilot.maxCurrent, 12);
  const sessionId = f.station.session(1)!.id;
  assert.equal(f.station.chargingProfiles.list({ id: 7 })[0]?.sessionId, sessionId);
  const rows = (): number => (f.db.prepare('SELECT COUNT(*) AS n FROM charging_profiles WHERE session_id = ?').get(sessionId) as { n: number }).n;
  assert.equal(rows(), 1);
  await f.station.presentToken(tok('AA11'), 1); // same token stops the session
  await f.clock.advance(0);
  assert.ok(f.sessionEvents('ended').length === 1);
  assert.equal(f.station.chargingProfiles.list().length, 0);
  assert.equal(rows(), 0);
  await f.stop();
});

test('replacing: same id, or same purpose + stack level + EVSE, replaces the installed profile', async () => {
  const f = await makeStation();
  const sc = f.station.chargingProfiles;
  sc.set(profile({ id: 1, stackLevel: 1, periods: [[0, 16]] }));
  sc.set(profile({ id: 2, stackLevel: 1, periods: [[0, 10]] }));
  assert.deepEqual(sc.list().map((p) => p.id), [2]);
  sc.set(profile({ id: 2, stackLevel: 2, periods: [[0, 9]] }));
  sc.set(profile({ id: 3, evseId: 1, stackLevel: 2, periods: [[0, 8]] }));
  assert.deepEqual(sc.list().map((p) => [p.id, p.stackLevel, p.evseId]), [[2, 2, 0], [3, 2, 1]]);
  assert.equal(sc.clear({ purpose: 'ChargingStationMaxProfile' }), 0);
  assert.equal(sc.clear({ stackLevel: 2, evseId: 0 }), 1);
  assert.equal(sc.clear({ id: 3, evseId: 99 }), 1, 'an id decides alone');
  await f.stop();
});

test('composite schedule: periods from now over the duration, in A or W (K08 / 1.6 5.7)', async () => {
  const f = await makeStation();
  const sc = f.station.chargingProfiles;
  sc.set(profile({ id: 1, purpose: 'ChargingStationMaxProfile', periods: [[0, 20]] }));
  sc.set(profile({ id: 2, periods: [[0, 16], [600, 8]], schedule: { unit: 'A', startSchedule: T0 - 300_000, minChargingRate: 6, periods: [{ startPeriodS: 0, limit: 16 }, { startPeriodS: 600, limit: 8 }] } }));
  const c = sc.composite(1, 3600)!;
  assert.equal(c.start, T0);
  assert.deepEqual(c.periods, [
    { startPeriodS: 0, limit: 16, numberPhases: 1 },
    { startPeriodS: 300, limit: 8, numberPhases: 1 },
  ], 'the fake EVSE has one phase: its periods say so');
  assert.equal(c.minChargingRate, 6);
  const w = sc.composite(1, 3600, 'W')!;
  assert.deepEqual(w.periods.map((p) => p.limit), [16 * 230, 8 * 230], 'the fake EVSE has one phase');
  const station = sc.composite(0, 3600)!;
  assert.deepEqual(station.periods.map((p) => p.limit), [16, 8], 'station: what its EVSEs may take, under 20');
  assert.equal(sc.composite(5, 60), undefined);
  await f.stop();
});

test('profiles persist across a station restart; TxProfiles of sessions that did not survive are dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sc-'));
  const dbPath = join(dir, 'station.db');
  const clock = new VirtualClock();
  try {
    const db1 = openDatabase(dbPath);
    const f1 = await makeStation({ db: db1, clock });
    f1.station.chargingProfiles.set(profile({ id: 1, periods: [[0, 10], [3600, 14]] }));
    await charging(f1);
    f1.station.chargingProfiles.set(profile({ id: 2, evseId: 1, purpose: 'TxProfile', periods: [[0, 6]] }));
    assert.equal(f1.hal.evse(1).pilot.maxCurrent, 6);
    db1.close(); // power cut: nothing ends gracefully

    const db2 = openDatabase(dbPath);
    // A new clock from the same instant: the timers of the dead process die with the old one.
    const clock2 = new VirtualClock(clock.now());
    const f2 = await makeStation({ db: db2, clock: clock2 });
    assert.deepEqual(f2.station.chargingProfiles.list().map((p) => p.id), [1]);
    await charging(f2);
    assert.equal(f2.hal.evse(1).pilot.maxCurrent, 10);
    await clock2.advance(3600_000);
    assert.equal(f2.hal.evse(1).pilot.maxCurrent, 14);
    await f2.stop();
    db2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('1.6 §3.13 / K01.FR.41: a Relative (or start-less Absolute) ChargePointMaxProfile counts from its installation: its later, lower period is reached', async () => {
  const f = await makeStation();
  const sc = f.station.chargingProfiles;
  const rel = profile({ id: 1, purpose: 'ChargingStationMaxProfile', kind: 'Relative' });
  rel.schedule = { unit: 'A', periods: [{ startPeriodS: 0, limit: 16 }, { startPeriodS: 3600, limit: 10 }] };
  assert.equal(sc.set(rel).status, 'Accepted');
  assert.deepEqual(sc.composite(1, 7200)!.periods.map((p) => [p.startPeriodS, p.limit]), [[0, 16], [3600, 10]]);
  await f.clock.advance(1_800_000);
  assert.deepEqual(sc.composite(1, 7200)!.periods.map((p) => [p.startPeriodS, p.limit]), [[0, 16], [1800, 10]]);
  await f.clock.advance(1_800_000);
  assert.equal(sc.offeredAt(1)?.amps, 10, 'the pilot follows: 10 A an hour after installation');
  await f.stop();
});

test('requestStart with a TxProfile binds it to the new session (1.6 5.16.2 / K05)', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  e.pilot.setState('B');
  const tx = profile({ id: 9, evseId: 1, purpose: 'TxProfile', kind: 'Relative', schedule: { unit: 'A', periods: [{ startPeriodS: 0, limit: 7 }, { startPeriodS: 60, limit: 13 }] } });
  assert.equal(await f.station.requestStart(1, tok('R1'), { preAuthorized: true, chargingProfile: tx }), 'Accepted');
  e.pilot.setState('C');
  await f.clock.advance(0);
  assert.equal(e.contactor.commanded, true);
  assert.equal(e.pilot.maxCurrent, 7);
  assert.equal(f.station.chargingProfiles.list({ id: 9 })[0]?.sessionId, f.station.session(1)?.id);
  await f.clock.advance(60_000);
  assert.equal(e.pilot.maxCurrent, 13);
  const bad = profile({ id: 10, evseId: 1, purpose: 'TxProfile', periods: [] });
  assert.equal(await f.station.requestStart(1, tok('R2'), { preAuthorized: true, chargingProfile: bad }), 'Rejected');
  await f.stop();
});

test('setLimit and the profiles combine: the lower wins', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  await charging(f);
  f.station.setLimit(1, 20);
  f.station.chargingProfiles.set(profile({ periods: [[0, 16]] }));
  assert.equal(e.pilot.maxCurrent, 16);
  f.station.setLimit(1, 10);
  assert.equal(e.pilot.maxCurrent, 10);
  f.station.setLimit(1, undefined);
  assert.equal(e.pilot.maxCurrent, 16);
  await f.stop();
});

test('a Relative TxDefaultProfile waits for the transaction: its periods count from the start, however long the EVSE was idle', async () => {
  const f = await makeStation();
  const e = f.hal.evse(1);
  f.station.chargingProfiles.set(profile({ kind: 'Relative', schedule: { unit: 'A', periods: [{ startPeriodS: 0, limit: 16 }, { startPeriodS: 60, limit: 8 }] } }));
  await f.clock.advance(10 * 60_000);
  await charging(f);
  assert.equal(e.pilot.maxCurrent, 16);
  await f.clock.advance(59_000);
  assert.equal(e.pilot.maxCurrent, 16);
  await f.clock.advance(1_000);
  assert.equal(e.pilot.maxCurrent, 8);
  await f.stop();
});

test('K01.FR.05: an external constraints profile is not replaced by a CSMS profile of the same id; 1.6 rules still replace by slot', async () => {
  const f = await makeStation();
  const sc = f.station.chargingProfiles;
  assert.equal(sc.set(profile({ id: 7, purpose: 'ChargingStationExternalConstraints', periods: [[0, 10]] })).status, 'Accepted');
  const r = sc.set(profile({ id: 7, periods: [[0, 16]] }), { replace: 'id-only', strictPhases: true });
  assert.equal(r.status, 'Rejected');
  assert.deepEqual(sc.list().map((p) => [p.id, p.purpose]), [[7, 'ChargingStationExternalConstraints']]);
  await f.stop();
});
