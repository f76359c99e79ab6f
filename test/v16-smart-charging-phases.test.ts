/**
 * OCPP 1.6 smart charging and phases (issue 11 points 1, 4, 6): never more power than the profile
 * allows, ConnectorSwitch3to1PhaseSupported with a phase-switch relay on the simulated board, and
 * GetCompositeSchedule answers that match the pilot PWM at every moment of the schedule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BoardProfile } from '../hal/profile.js';
import { pilotAmps } from '../src/station/composite.js';
import { IDENTITY, startV16Station, type V16Station } from './support/v16-station.js';

interface Composite {
  status: string;
  scheduleStart?: string;
  chargingSchedule?: { chargingRateUnit: string; duration: number; startSchedule?: string; chargingSchedulePeriod: { startPeriod: number; limit: number; numberPhases?: number }[] };
}

const withSwitch = (p: BoardProfile): BoardProfile => ({ ...p, evses: p.evses.map((e) => ({ ...e, phaseSwitch: { driver: 'sim' } })) });

async function booted(board?: (p: BoardProfile) => BoardProfile): Promise<V16Station> {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0' }, ...(board ? { board } : {}) });
  await s.until('boot and statuses', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  return s;
}
const call = <T = { status: string }>(s: V16Station, action: string, params: unknown): Promise<T> => s.csms.call<T>(IDENTITY, action, params);
const ev = (s: V16Station): { pwmAmps: number; contactorClosed: boolean; powerW: number; phases: number } => s.sim.status().evses[0]!;

async function csmsNow(s: V16Station): Promise<number> {
  const c = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 1, duration: 1 });
  return Date.parse(c.scheduleStart!);
}

function txDefault(id: number, startMs: number, unit: 'A' | 'W', periods: [number, number, number?][], stackLevel = 0): Record<string, unknown> {
  return {
    chargingProfileId: id,
    stackLevel,
    chargingProfilePurpose: 'TxDefaultProfile',
    chargingProfileKind: 'Absolute',
    chargingSchedule: {
      startSchedule: new Date(startMs).toISOString(),
      chargingRateUnit: unit,
      chargingSchedulePeriod: periods.map(([startPeriod, limit, numberPhases]) => ({ startPeriod, limit, ...(numberPhases !== undefined ? { numberPhases } : {}) })),
    },
  };
}

async function charge(s: V16Station): Promise<void> {
  s.sim.plug(1);
  await s.run(1000);
  s.sim.tap('04A1B2C3');
  await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
  await s.until('contactor closed', () => ev(s).contactorClosed);
  await s.run(2000);
}

test('issue 11 point 1 / 1.6 §7.7: 6,000 W for one phase on a 3-phase connector without a phase switch: lower bound, the EV never draws more than 6,000 W', async () => {
  const s = await booted();
  try {
    const now = await csmsNow(s);
    const r = await call(s, 'SetChargingProfile', { connectorId: 1, csChargingProfiles: txDefault(1, now, 'W', [[0, 6000, 1]]) });
    assert.equal(r.status, 'Accepted', '1.6 has no K01.FR.43: accepted, at the lower bound');
    await charge(s);
    // 6000 / (230 V × 3 phases) = 8.69 A per phase, floored to the pilot's 0.1 A step. It was 26 A (~18 kW).
    assert.equal(ev(s).pwmAmps, 8.6);
    assert.equal(ev(s).phases, 3);
    assert.ok(ev(s).powerW > 0 && ev(s).powerW <= 6000, `EV draws ${ev(s).powerW} W`);
    const c = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 1, duration: 60, chargingRateUnit: 'W' });
    assert.deepEqual(c.chargingSchedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 6000 }], 'asked in W: the profile\'s own number');
    assert.equal(c.chargingSchedule?.startSchedule, undefined, '1.6 errata §3.57: no startSchedule in the composite schedule');
  } finally {
    await s.close();
  }
});

test('1.6 §9.4.4 ConnectorSwitch3to1PhaseSupported: false without a phase switch, true with one; then numberPhases 1 charges on one phase at the full per-phase limit, and back on three when the profile goes', async () => {
  const plain = await booted();
  try {
    const r = await call<{ configurationKey: { key: string; readonly: boolean; value: string }[] }>(plain, 'GetConfiguration', { key: ['ConnectorSwitch3to1PhaseSupported'] });
    assert.deepEqual(r.configurationKey, [{ key: 'ConnectorSwitch3to1PhaseSupported', readonly: true, value: 'false' }]);
  } finally {
    await plain.close();
  }
  const s = await booted(withSwitch);
  try {
    const r = await call<{ configurationKey: { key: string; readonly: boolean; value: string }[] }>(s, 'GetConfiguration', { key: ['ConnectorSwitch3to1PhaseSupported'] });
    assert.deepEqual(r.configurationKey, [{ key: 'ConnectorSwitch3to1PhaseSupported', readonly: true, value: 'true' }]);
    await charge(s);
    assert.deepEqual([ev(s).pwmAmps, ev(s).phases], [32, 3]);
    const now = await csmsNow(s);
    assert.equal((await call(s, 'SetChargingProfile', { connectorId: 1, csChargingProfiles: txDefault(1, now, 'W', [[0, 6000, 1]]) })).status, 'Accepted');
    await s.until('one phase', () => ev(s).phases === 1 && ev(s).contactorClosed);
    await s.run(2000);
    assert.equal(ev(s).pwmAmps, 26, '6000 / 230 = 26.09 A on one phase');
    assert.ok(ev(s).powerW > 5900 && ev(s).powerW <= 6000, `EV draws ${ev(s).powerW} W on one phase`);
    const c = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 1, duration: 60, chargingRateUnit: 'A' });
    assert.deepEqual(c.chargingSchedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 26, numberPhases: 1 }]);
    const own = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 1, duration: 60 });
    assert.deepEqual([own.chargingSchedule?.chargingRateUnit, own.chargingSchedule?.chargingSchedulePeriod], ['W', [{ startPeriod: 0, limit: 6000, numberPhases: 1 }]], '6.21: no unit asked, the profile\'s own');
    assert.equal((await call(s, 'ClearChargingProfile', { id: 1 })).status, 'Accepted');
    await s.until('three phases again', () => ev(s).phases === 3 && ev(s).contactorClosed);
    await s.run(2000);
    assert.deepEqual([ev(s).pwmAmps, ev(s).phases], [32, 3]);
  } finally {
    await s.close();
  }
});

test('issue 11 point 6 / 1.6 §5.7: the GetCompositeSchedule answer is what the pilot offers at every moment of the schedule (virtual clock walked through each period)', async () => {
  const s = await booted();
  try {
    await charge(s);
    const now = await csmsNow(s);
    assert.equal((await call(s, 'SetChargingProfile', { connectorId: 0, csChargingProfiles: { ...txDefault(1, now, 'A', [[0, 20], [1500, 12]]), chargingProfilePurpose: 'ChargePointMaxProfile' } })).status, 'Accepted');
    assert.equal((await call(s, 'SetChargingProfile', { connectorId: 1, csChargingProfiles: txDefault(2, now, 'W', [[0, 7000], [300, 4000], [600, 16_000], [900, 11_040], [1200, 2000]]) })).status, 'Accepted');
    const t0 = s.clock.now();
    const c = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 1, duration: 1800 });
    const periods = c.chargingSchedule!.chargingSchedulePeriod;
    // In A the 1.6 answer carries one decimal that survives a strict schema check of multipleOf 0.1
    // (10.1 / 0.1 is not an integer in floating point, so 10.1 goes as 10: floored, never above).
    assert.deepEqual(periods, [
      { startPeriod: 0, limit: 10 }, // 7000 W / 690 = 10.14 A; the pilot offers 10.1
      { startPeriod: 300, limit: 5.7 }, // 4000 W / 690 = 5.79 A: below the minimum PWM, the pilot offers nothing
      { startPeriod: 600, limit: 20 }, // 16,000 W = 23.2 A, the max profile's 20 A is lower
      { startPeriod: 900, limit: 16 }, // 11,040 W = 16 A exactly
      { startPeriod: 1200, limit: 2.7 }, // 2000 W = 2.89 A (2.8 fails that check too); the 12 A max from 1500 s is higher, no new period
    ]);
    for (const [i, p] of periods.entries()) {
      const end = (periods[i + 1]?.startPeriod ?? 1800) * 1000;
      for (const at of [p.startPeriod * 1000 + 1000, end - 1000]) {
        const wait = t0 + at - s.clock.now();
        if (wait > 0) await s.run(wait, 5000);
        const pwm = ev(s).pwmAmps;
        assert.ok(pwm === pilotAmps(p.limit) || (pwm === pilotAmps(p.limit + 0.1) && pwm - p.limit < 0.2), `at ${at / 1000} s: the answer said ${p.limit} A, the pilot offers ${pwm} A`);
      }
    }
    // In W the numbers are the profiles' own, and the pilot offers exactly their conversion.
    const w = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 1, duration: 300, chargingRateUnit: 'W' });
    assert.deepEqual(w.chargingSchedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 2000 }], '2000 W, under the max profile\'s 12 A × 690');
  } finally {
    await s.close();
  }
});
