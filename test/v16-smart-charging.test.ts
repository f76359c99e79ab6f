/**
 * OCPP 1.6 Smart Charging (3.13, 5.5, 5.7, 5.16) end to end: the strict in-process CSMS sends the
 * calls, the simulated board shows what the station did with them (pilot PWM, contactor).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDENTITY, startV16Station, type V16Station } from './support/v16-station.js';

interface Status {
  connectorId: number;
  status: string;
}
interface Composite {
  status: string;
  connectorId?: number;
  scheduleStart?: string;
  chargingSchedule?: { chargingRateUnit: string; duration: number; chargingSchedulePeriod: { startPeriod: number; limit: number }[] };
}
interface MV {
  connectorId: number;
  meterValue: { sampledValue: { value: string; measurand?: string }[] }[];
}

async function booted(v16: Record<string, string> = {}): Promise<V16Station> {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0', ...v16 } });
  await s.until('boot and statuses', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  return s;
}

const call = <T = { status: string }>(s: V16Station, action: string, params: unknown): Promise<T> => s.csms.call<T>(IDENTITY, action, params);
const sim = (s: V16Station): { pwmAmps: number; contactorClosed: boolean } => s.sim.status().evses[0]!;

/** The CSMS's idea of the station's "now" (the two clocks differ): the start of an empty composite schedule. */
async function csmsNow(s: V16Station): Promise<number> {
  const c = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 1, duration: 1 });
  return Date.parse(c.scheduleStart!);
}

const absolute = (id: number, purpose: string, startMs: number, periods: [number, number][], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  chargingProfileId: id,
  stackLevel: 0,
  chargingProfilePurpose: purpose,
  chargingProfileKind: 'Absolute',
  chargingSchedule: {
    startSchedule: new Date(startMs).toISOString(),
    chargingRateUnit: 'A',
    chargingSchedulePeriod: periods.map(([startPeriod, limit]) => ({ startPeriod, limit })),
  },
  ...extra,
});

async function startCharging(s: V16Station, idTag = '04A1B2C3'): Promise<number> {
  s.sim.plug(1);
  await s.run(1000);
  s.sim.tap(idTag);
  await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
  await s.until('contactor closed', () => sim(s).contactorClosed);
  const r = s.csms.log.find((e) => e.type === 'result' && e.action === 'StartTransaction')!.payload as { transactionId: number };
  return r.transactionId;
}

test('5.16.4 SetChargingProfile TxDefaultProfile: the pilot PWM and Current.Offered follow the schedule boundaries', async () => {
  const s = await booted({ MeterValueSampleInterval: '60', MeterValuesSampledData: 'Energy.Active.Import.Register,Current.Offered' });
  try {
    const now = await csmsNow(s);
    const r = await call(s, 'SetChargingProfile', { connectorId: 0, csChargingProfiles: absolute(1, 'TxDefaultProfile', now, [[0, 16], [600, 10]]) });
    assert.deepEqual(r, { status: 'Accepted' });
    await startCharging(s);
    assert.equal(sim(s).pwmAmps, 16);
    await s.run(590_000, 10_000);
    assert.equal(sim(s).pwmAmps, 16);
    await s.run(20_000, 10_000);
    assert.equal(sim(s).pwmAmps, 10);
    await s.run(61_000, 10_000);
    const offered = s
      .calls<MV>('MeterValues')
      .map((m) => m.meterValue[0]!.sampledValue.find((v) => v.measurand === 'Current.Offered')?.value)
      .filter((v) => v !== undefined);
    assert.ok(offered.includes('16') && offered.at(-1) === '10', `Current.Offered seen: ${offered.join(',')}`);
  } finally {
    await s.close();
  }
});

test('5.7 GetCompositeSchedule: periods of min(ChargePointMaxProfile, TxDefaultProfile) from now, in A or W; unknown connector Rejected', async () => {
  const s = await booted();
  try {
    const now = await csmsNow(s);
    assert.equal((await call(s, 'SetChargingProfile', { connectorId: 0, csChargingProfiles: absolute(1, 'ChargePointMaxProfile', now, [[0, 20], [1200, 12]]) })).status, 'Accepted');
    assert.equal((await call(s, 'SetChargingProfile', { connectorId: 1, csChargingProfiles: absolute(2, 'TxDefaultProfile', now, [[0, 16], [600, 24]]) })).status, 'Accepted');
    const c = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 1, duration: 1800 });
    assert.equal(c.status, 'Accepted');
    assert.equal(c.connectorId, 1);
    assert.equal(c.chargingSchedule?.chargingRateUnit, 'A');
    assert.equal(c.chargingSchedule?.duration, 1800);
    assert.deepEqual(c.chargingSchedule?.chargingSchedulePeriod, [
      { startPeriod: 0, limit: 16 },
      { startPeriod: 600, limit: 20 },
      { startPeriod: 1200, limit: 12 },
    ]);
    const w = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 1, duration: 600, chargingRateUnit: 'W' });
    assert.deepEqual(w.chargingSchedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 16 * 230 * 3 }], 'the simulated EVSE has 3 phases');
    assert.deepEqual(await call(s, 'GetCompositeSchedule', { connectorId: 7, duration: 60 }), { status: 'Rejected' });
  } finally {
    await s.close();
  }
});

test('5.7 / errata §3.30 GetCompositeSchedule connectorId 0: the total the charge point expects to draw, under a ChargePointMaxProfile in W; mixed units answered in A unless a unit is forced', async () => {
  const s = await booted();
  try {
    const now = await csmsNow(s);
    const max = absolute(1, 'ChargePointMaxProfile', now, [[0, 11_040]]);
    (max.chargingSchedule as { chargingRateUnit: string }).chargingRateUnit = 'W';
    assert.equal((await call(s, 'SetChargingProfile', { connectorId: 0, csChargingProfiles: max })).status, 'Accepted');
    assert.equal((await call(s, 'SetChargingProfile', { connectorId: 1, csChargingProfiles: absolute(2, 'TxDefaultProfile', now, [[0, 10], [600, 20]]) })).status, 'Accepted');
    // 10 A × 230 V × 3 = 6,900 W; 20 A would be 13,800 W, above the 11,040 W of the charge point (16 A per phase).
    const w = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 0, duration: 1200, chargingRateUnit: 'W' });
    assert.equal(w.status, 'Accepted');
    assert.equal(w.connectorId, 0);
    assert.deepEqual(w.chargingSchedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 6900 }, { startPeriod: 600, limit: 11_040 }]);
    const a = await call<Composite>(s, 'GetCompositeSchedule', { connectorId: 0, duration: 1200 });
    assert.equal(a.chargingSchedule?.chargingRateUnit, 'A');
    assert.deepEqual(a.chargingSchedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 10 }, { startPeriod: 600, limit: 16 }]);
  } finally {
    await s.close();
  }
});

test('5.16 SetChargingProfile checks: ChargePointMaxProfile only on connector 0, TxProfile only with a transaction and its transactionId, unknown connector', async () => {
  const s = await booted();
  try {
    const now = await csmsNow(s);
    const set = (connectorId: number, p: Record<string, unknown>): Promise<{ status: string }> => call(s, 'SetChargingProfile', { connectorId, csChargingProfiles: p });
    assert.equal((await set(1, absolute(1, 'ChargePointMaxProfile', now, [[0, 20]]))).status, 'Rejected');
    assert.equal((await set(1, absolute(2, 'TxProfile', now, [[0, 20]]))).status, 'Rejected', '3.13.1: no transaction');
    assert.equal((await set(5, absolute(3, 'TxDefaultProfile', now, [[0, 20]]))).status, 'Rejected');
    const tid = await startCharging(s);
    assert.equal((await set(0, absolute(4, 'TxProfile', now, [[0, 20]]))).status, 'Rejected', 'TxProfile at connector 0');
    assert.equal((await set(1, absolute(5, 'TxProfile', now, [[0, 8]], { transactionId: tid + 1 }))).status, 'Rejected');
    assert.equal((await set(1, absolute(6, 'TxProfile', now, [[0, 8]], { transactionId: tid }))).status, 'Accepted');
    await s.run(0);
    assert.equal(sim(s).pwmAmps, 8);
    // 5.16.3: same stackLevel / purpose replaces.
    assert.equal((await set(1, absolute(7, 'TxProfile', now, [[0, 11]]))).status, 'Accepted');
    assert.equal(sim(s).pwmAmps, 11);
    assert.deepEqual(await call(s, 'ClearChargingProfile', { id: 6 }), { status: 'Unknown' }, 'replaced profile is gone');
  } finally {
    await s.close();
  }
});

test('5.5 ClearChargingProfile by id, by connector / purpose / stack level; Unknown when nothing matches; the limit goes with it', async () => {
  const s = await booted();
  try {
    const now = await csmsNow(s);
    await call(s, 'SetChargingProfile', { connectorId: 0, csChargingProfiles: absolute(1, 'TxDefaultProfile', now, [[0, 10]]) });
    await call(s, 'SetChargingProfile', { connectorId: 1, csChargingProfiles: absolute(2, 'TxDefaultProfile', now, [[0, 8]], { stackLevel: 2 }) });
    await call(s, 'SetChargingProfile', { connectorId: 0, csChargingProfiles: absolute(3, 'ChargePointMaxProfile', now, [[0, 30]]) });
    await startCharging(s);
    assert.equal(sim(s).pwmAmps, 8);
    assert.deepEqual(await call(s, 'ClearChargingProfile', { connectorId: 1, chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 1 }), { status: 'Unknown' });
    assert.deepEqual(await call(s, 'ClearChargingProfile', { id: 2 }), { status: 'Accepted' });
    assert.equal(sim(s).pwmAmps, 10);
    assert.deepEqual(await call(s, 'ClearChargingProfile', { id: 2 }), { status: 'Unknown' });
    assert.deepEqual(await call(s, 'ClearChargingProfile', { chargingProfilePurpose: 'TxDefaultProfile' }), { status: 'Accepted' });
    assert.equal(sim(s).pwmAmps, 30);
    assert.deepEqual(await call(s, 'ClearChargingProfile', {}), { status: 'Accepted' });
    assert.equal(sim(s).pwmAmps, 32);
    assert.deepEqual(await call(s, 'ClearChargingProfile', {}), { status: 'Unknown' });
  } finally {
    await s.close();
  }
});

test('5.16.2 RemoteStartTransaction with a TxProfile: Accepted, the new transaction charges under it, the profile is gone after StopTransaction', async () => {
  const s = await booted();
  try {
    const profile = {
      chargingProfileId: 40,
      stackLevel: 0,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7 }, { startPeriod: 300, limit: 14 }] },
    };
    assert.deepEqual(await call(s, 'RemoteStartTransaction', { connectorId: 1, idTag: 'R1', chargingProfile: { ...profile, chargingProfilePurpose: 'TxDefaultProfile' } }), { status: 'Rejected' });
    assert.deepEqual(await call(s, 'RemoteStartTransaction', { connectorId: 1, idTag: 'R1', chargingProfile: profile }), { status: 'Accepted' });
    s.sim.plug(1);
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.until('contactor closed', () => sim(s).contactorClosed);
    assert.equal(sim(s).pwmAmps, 7);
    await s.run(300_000, 10_000);
    assert.equal(sim(s).pwmAmps, 14);
    const tid = (s.csms.log.find((e) => e.type === 'result' && e.action === 'StartTransaction')!.payload as { transactionId: number }).transactionId;
    assert.deepEqual(await call(s, 'RemoteStopTransaction', { transactionId: tid }), { status: 'Accepted' });
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    assert.deepEqual(await call(s, 'ClearChargingProfile', { id: 40 }), { status: 'Unknown' }, '3.13.1: the TxProfile ends with its transaction');
  } finally {
    await s.close();
  }
});

test('3.13 TxDefaultProfile with limit 0: contactor opens, StatusNotification SuspendedEVSE; a new profile lets it charge again', async () => {
  const s = await booted();
  try {
    const now = await csmsNow(s);
    await startCharging(s);
    await s.until('Charging', () => s.calls<Status>('StatusNotification').at(-1)?.status === 'Charging');
    assert.equal((await call(s, 'SetChargingProfile', { connectorId: 0, csChargingProfiles: absolute(1, 'TxDefaultProfile', now, [[0, 0]]) })).status, 'Accepted');
    assert.equal(sim(s).contactorClosed, false);
    assert.equal(sim(s).pwmAmps, 0);
    await s.until('SuspendedEVSE', () => s.calls<Status>('StatusNotification').at(-1)?.status === 'SuspendedEVSE');
    await s.run(30_000, 10_000);
    assert.equal(s.calls<Status>('StatusNotification').at(-1)?.status, 'SuspendedEVSE', 'stays SuspendedEVSE after the EV leaves state C');
    assert.equal((await call(s, 'SetChargingProfile', { connectorId: 0, csChargingProfiles: absolute(1, 'TxDefaultProfile', now, [[0, 16]]) })).status, 'Accepted');
    await s.until('Charging again', () => s.calls<Status>('StatusNotification').at(-1)?.status === 'Charging');
    assert.equal(sim(s).pwmAmps, 16);
  } finally {
    await s.close();
  }
});

test('3.13.5 / 9.4 the Smart Charging keys are reported read-only and SupportedFeatureProfiles names SmartCharging', async () => {
  const s = await booted();
  try {
    const r = await call<{ configurationKey: { key: string; readonly: boolean; value: string }[] }>(s, 'GetConfiguration', {
      key: ['ChargeProfileMaxStackLevel', 'ChargingScheduleAllowedChargingRateUnit', 'ChargingScheduleMaxPeriods', 'MaxChargingProfilesInstalled', 'SupportedFeatureProfiles'],
    });
    const v = Object.fromEntries(r.configurationKey.map((k) => [k.key, k]));
    assert.equal(v.ChargeProfileMaxStackLevel?.value, '8');
    assert.equal(v.ChargingScheduleAllowedChargingRateUnit?.value, 'Current,Power');
    assert.equal(v.ChargingScheduleMaxPeriods?.value, '48');
    assert.equal(v.MaxChargingProfilesInstalled?.value, '32');
    assert.ok(r.configurationKey.every((k) => k.key === 'SupportedFeatureProfiles' || k.readonly));
    assert.match(v.SupportedFeatureProfiles?.value ?? '', /SmartCharging/);
    assert.deepEqual(await call(s, 'ChangeConfiguration', { key: 'ChargeProfileMaxStackLevel', value: '3' }), { status: 'Rejected' });
  } finally {
    await s.close();
  }
});
