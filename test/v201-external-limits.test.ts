/**
 * 2.0.1 K11–K13 (external charging limits) and SC.01–SC.04 (signals from several actors) on the whole
 * station built as the daemon builds it, against the strict in-process CSMS: an external control system
 * (the control socket, as `ocpp-station sim external-limit` uses it) and the site limit (source EMS) set,
 * change and release limits; the CSMS sees NotifyChargingLimit / ClearedChargingLimit and
 * TransactionEvent(ChargingRateChanged), and cannot lift or clear the limit with its own profiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { VirtualClock } from '../base/clock.js';
import { sendControlRequest } from '../src/control/client.js';
import { CONTROL_SOCKET_NAME } from '../src/control/protocol.js';
import { startCsms, type Csms } from './support/csms.js';
import { startTestStation, until, type TestStation } from './support/harness.js';

interface Notify {
  evseId?: number;
  chargingLimit: { chargingLimitSource: string; isGridCritical?: boolean };
  chargingSchedule?: { chargingRateUnit: string; chargingSchedulePeriod: { startPeriod: number; limit: number }[] }[];
}
interface Tx {
  eventType: string;
  triggerReason: string;
  transactionInfo: { chargingState?: string };
}

const ID = 'CP001';

function calls<T>(csms: Csms, action: string): T[] {
  return csms.log.filter((e) => e.identity === ID && e.direction === 'in' && e.type === 'call' && e.action === action).map((e) => e.payload as T);
}

async function station(csms: Csms, evses = 1, site?: Record<string, unknown>): Promise<TestStation> {
  const st = await startTestStation({
    ocppVersion: '2.0.1',
    csmsUrl: csms.url,
    clock: new VirtualClock(),
    evses,
    control: true,
    ...(site ? { configPatch: { site: { gridLimitA: 40, otherLoadMeter: { driver: 'sim' }, increaseDelayS: 0, ...site } } } : {}),
  });
  await until(st, 'boot', () => calls(csms, 'BootNotification').length === 1 && calls(csms, 'StatusNotification').length >= evses);
  return st;
}

/** A CSMS → station CALL, keeping virtual time moving a little while the sockets work. */
async function call<T>(st: TestStation, csms: Csms, action: string, params: unknown): Promise<T> {
  let done = false;
  const p = csms.call<T>(ID, action, params).finally(() => (done = true));
  for (let i = 0; i < 200 && !done; i++) {
    await st.clock.advance(10);
    await new Promise((r) => setTimeout(r, 2));
  }
  return p;
}

/** What an external control system sends through the control socket. */
async function external(st: TestStation, req: Record<string, unknown>): Promise<void> {
  let done = false;
  const p = sendControlRequest(join(st.stateDir, CONTROL_SOCKET_NAME), req).finally(() => (done = true));
  for (let i = 0; i < 200 && !done; i++) await new Promise((r) => setTimeout(r, 2));
  const answer = await p;
  assert.ok(answer.ok, JSON.stringify(answer));
}

const pwm = (st: TestStation, id = 1): number => st.sim.status().evses.find((e) => e.id === id)!.pwmAmps;
const rate = (csms: Csms): Tx[] => calls<Tx>(csms, 'TransactionEvent').filter((t) => t.triggerReason === 'ChargingRateChanged');

async function charging(st: TestStation, csms: Csms, id = 1): Promise<void> {
  st.sim.plug(id);
  await st.clock.advance(500);
  st.sim.tap(`04A1B2C${id}`);
  await until(st, `charging on EVSE ${id}`, () => st.hal.evses[id - 1]!.contactor.commanded);
  await until(st, 'TransactionEvent Charging', () => calls<Tx>(csms, 'TransactionEvent').some((t) => t.transactionInfo.chargingState === 'Charging'));
}

test('K11.FR.01/02/04/05 an external limit during a transaction: the EVSE is held to it at once, NotifyChargingLimit (source SO, isGridCritical, no CSO) and TransactionEvent ChargingRateChanged reach the CSMS; K13.FR.01/02/03 its release: ClearedChargingLimit, the offer rises again, ChargingRateChanged', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  const st = await station(csms);
  try {
    await charging(st, csms);
    assert.equal(pwm(st), 32);
    await external(st, { cmd: 'external-limit', amps: 10, source: 'SO', gridCritical: true });
    assert.equal(pwm(st), 10, 'K11.FR.01: not faster than the limit, at once');
    await until(st, 'NotifyChargingLimit', () => calls(csms, 'NotifyChargingLimit').length === 1);
    assert.deepEqual(calls<Notify>(csms, 'NotifyChargingLimit')[0], { chargingLimit: { chargingLimitSource: 'SO', isGridCritical: true } });
    await until(st, 'ChargingRateChanged', () => rate(csms).length === 1);
    assert.equal(rate(csms)[0]!.eventType, 'Updated');

    // SC.03: a change below LimitChangeSignificance (1 %) is not told; a larger one is.
    await external(st, { cmd: 'external-limit', amps: 9.95, source: 'SO', gridCritical: true });
    await external(st, { cmd: 'external-limit', amps: 8, source: 'SO', gridCritical: true });
    await until(st, 'second NotifyChargingLimit', () => calls(csms, 'NotifyChargingLimit').length === 2);
    await st.clock.advance(1000);
    assert.equal(calls(csms, 'NotifyChargingLimit').length, 2, '10 → 9.9 was skipped, 9.9 → 8 told');
    assert.equal(pwm(st), 8);

    await external(st, { cmd: 'clear-external-limit' });
    assert.equal(pwm(st), 32, 'K13.FR.01: the released limit no longer limits');
    await until(st, 'ClearedChargingLimit', () => calls(csms, 'ClearedChargingLimit').length === 1);
    assert.deepEqual(calls(csms, 'ClearedChargingLimit')[0], { chargingLimitSource: 'SO' });
    await until(st, 'ChargingRateChanged after the release', () => rate(csms).length === 3);
  } finally {
    await st.stop();
    await csms.close();
  }
});

test('K11.FR.03 with NotifyChargingLimitWithSchedules true the NotifyChargingLimit carries the limit as a schedule; an EVSE limit names its evseId', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  const st = await station(csms, 2);
  try {
    const set = await call<{ setVariableResult: { attributeStatus: string }[] }>(st, csms, 'SetVariables', {
      setVariableData: [{ component: { name: 'SmartChargingCtrlr' }, variable: { name: 'NotifyChargingLimitWithSchedules' }, attributeValue: 'true' }],
    });
    assert.equal(set.setVariableResult[0]?.attributeStatus, 'Accepted');
    await external(st, { cmd: 'external-limit', amps: 13, source: 'EMS', evse: 2 });
    await until(st, 'NotifyChargingLimit', () => calls(csms, 'NotifyChargingLimit').length === 1);
    const n = calls<Notify>(csms, 'NotifyChargingLimit')[0]!;
    assert.equal(n.evseId, 2);
    assert.deepEqual(n.chargingLimit, { chargingLimitSource: 'EMS', isGridCritical: false });
    assert.equal(n.chargingSchedule?.[0]?.chargingRateUnit, 'A');
    assert.deepEqual(n.chargingSchedule?.[0]?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 13 }]);
    await external(st, { cmd: 'clear-external-limit' });
    await until(st, 'ClearedChargingLimit', () => calls(csms, 'ClearedChargingLimit').length === 1);
    assert.deepEqual(calls(csms, 'ClearedChargingLimit')[0], { chargingLimitSource: 'EMS', evseId: 2 });
  } finally {
    await st.stop();
    await csms.close();
  }
});

test('K12.FR.01/02 an external limit without a transaction: told at once, and the EVSEs that start later share it (total ≤ the limit)', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  const st = await station(csms, 2);
  try {
    await external(st, { cmd: 'external-limit', amps: 20, source: 'Other' });
    await until(st, 'NotifyChargingLimit', () => calls(csms, 'NotifyChargingLimit').length === 1);
    assert.equal(calls(csms, 'TransactionEvent').length, 0, 'no transaction yet');
    await charging(st, csms, 1);
    assert.equal(pwm(st, 1), 20);
    st.sim.plug(2);
    await st.clock.advance(500);
    st.sim.tap('04A1B2C2');
    await until(st, 'EVSE 2 charging', () => st.hal.evses[1]!.contactor.commanded);
    assert.deepEqual([pwm(st, 1), pwm(st, 2)], [10, 10], 'K12.FR.01: the total of all EVSEs stays within 20 A');
  } finally {
    await st.stop();
    await csms.close();
  }
});

test('SC.01 / K01.FR.22 / K10.FR.04 / K10.FR.08: the CSMS cannot lift an external limit with its profiles, set a ChargingStationExternalConstraints profile, or clear it; SC.04 GetCompositeSchedule reports the lower limit', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  const st = await station(csms);
  try {
    await charging(st, csms);
    await external(st, { cmd: 'external-limit', amps: 12, source: 'SO' });
    const profile = (id: number, purpose: string, limit: number) => ({
      evseId: purpose === 'ChargingStationMaxProfile' ? 0 : 1,
      chargingProfile: {
        id,
        stackLevel: 1,
        chargingProfilePurpose: purpose,
        chargingProfileKind: 'Absolute',
        chargingSchedule: [{ id, startSchedule: new Date(st.clock.now() - 1000).toISOString(), chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }] }],
      },
    });
    assert.equal((await call<{ status: string }>(st, csms, 'SetChargingProfile', profile(1, 'ChargingStationMaxProfile', 32))).status, 'Accepted');
    assert.equal((await call<{ status: string }>(st, csms, 'SetChargingProfile', profile(2, 'TxDefaultProfile', 32))).status, 'Accepted');
    assert.equal(pwm(st), 12, 'SC.01: profiles allowing 32 A leave the EVSE at the external 12 A');
    assert.equal((await call<{ status: string }>(st, csms, 'SetChargingProfile', profile(3, 'ChargingStationExternalConstraints', 32))).status, 'Rejected');
    assert.equal((await call<{ status: string }>(st, csms, 'ClearChargingProfile', { chargingProfileCriteria: { chargingProfilePurpose: 'ChargingStationExternalConstraints' } })).status, 'Unknown');
    assert.equal((await call<{ status: string }>(st, csms, 'ClearChargingProfile', { chargingProfileCriteria: { evseId: 1 } })).status, 'Accepted');
    assert.equal(pwm(st), 12, 'K10.FR.04: clearing the CSMS profiles leaves the external limit');
    const c = await call<{ status: string; schedule: { chargingSchedulePeriod: { startPeriod: number; limit: number }[] } }>(st, csms, 'GetCompositeSchedule', {
      evseId: 1,
      duration: 600,
      chargingRateUnit: 'A',
    });
    assert.equal(c.status, 'Accepted');
    assert.deepEqual(c.schedule.chargingSchedulePeriod, [{ startPeriod: 0, limit: 12 }], 'SC.04: the lowest limit, the external one');
  } finally {
    await st.stop();
    await csms.close();
  }
});

test('K12.FR.02 / K12.FR.04 the site limit is an EMS limit: told at boot, again when the building load moves the headroom significantly, and in the composite schedule of the whole station', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  const st = await station(csms, 2, { gridLimitA: 40 });
  try {
    await until(st, 'NotifyChargingLimit at boot', () => calls(csms, 'NotifyChargingLimit').length >= 1);
    const first = calls<Notify>(csms, 'NotifyChargingLimit')[0]!;
    assert.deepEqual(first.chargingLimit, { chargingLimitSource: 'EMS', isGridCritical: false });
    assert.equal(first.evseId, undefined, 'a limit on all EVSEs together');
    const told = calls(csms, 'NotifyChargingLimit').length;
    st.sim.setBuildingLoad(0.2); // 39.8 A left: 0.5 %, below LimitChangeSignificance
    await st.clock.advance(5000);
    await until(st, 'meter read', () => st.station.siteLimit.status().otherLoadA === 0.2);
    await st.clock.advance(100);
    assert.equal(calls(csms, 'NotifyChargingLimit').length, told, 'SC.03: a small move is not told');
    st.sim.setBuildingLoad(25);
    await st.clock.advance(5000);
    await until(st, 'NotifyChargingLimit after the load rose', () => calls(csms, 'NotifyChargingLimit').length === told + 1);
    const c = await call<{ status: string; schedule: { chargingSchedulePeriod: { limit: number }[] } }>(st, csms, 'GetCompositeSchedule', {
      evseId: 0,
      duration: 300,
      chargingRateUnit: 'A',
    });
    assert.deepEqual(c.schedule.chargingSchedulePeriod.map((p) => p.limit), [15], 'the station may take 40 − 25 A');
  } finally {
    await st.stop();
    await csms.close();
  }
});

test('K11.FR.02 offline: a limit set while the CSMS is away is told after the next accepted boot, and one released meanwhile is cleared', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  const st = await station(csms);
  try {
    await external(st, { cmd: 'external-limit', amps: 16, source: 'SO' });
    await until(st, 'NotifyChargingLimit', () => calls(csms, 'NotifyChargingLimit').length === 1);
    await csms.disconnect(ID, { force: true });
    csms.setAccepting(false);
    await st.clock.advance(1000);
    await external(st, { cmd: 'clear-external-limit' });
    await external(st, { cmd: 'external-limit', amps: 6, source: 'EMS', evse: 1 });
    assert.equal(calls(csms, 'ClearedChargingLimit').length, 0);
    csms.setAccepting(true);
    const told = (): boolean => calls(csms, 'NotifyChargingLimit').length === 2 && calls(csms, 'ClearedChargingLimit').length === 1;
    for (let i = 0; i < 2000 && !told(); i++) {
      await st.clock.advance(200);
      await new Promise((r) => setTimeout(r, 3));
    }
    assert.ok(told(), `after the reconnect the CSMS saw: ${csms.actions(ID).slice(-6).join(', ')}`);
    assert.deepEqual(calls(csms, 'ClearedChargingLimit')[0], { chargingLimitSource: 'SO' });
    assert.deepEqual(calls<Notify>(csms, 'NotifyChargingLimit')[1], { evseId: 1, chargingLimit: { chargingLimitSource: 'EMS', isGridCritical: false } });
  } finally {
    await st.stop();
    await csms.close();
  }
});

test('TC_K_52_CS / K12.FR.05 / K11.FR.06: GetChargingProfiles for ChargingStationExternalConstraints reports the external limit and the site limit, each under its own source with a negative profile id; a CSO-only request does not', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  const st = await station(csms, 1, { gridLimitA: 40 });
  try {
    await external(st, { cmd: 'external-limit', amps: 16, source: 'SO', evse: 1 });
    const res = await call<{ status: string }>(st, csms, 'GetChargingProfiles', { requestId: 77, chargingProfile: { chargingProfilePurpose: 'ChargingStationExternalConstraints' } });
    assert.equal(res.status, 'Accepted');
    type Report = { requestId: number; chargingLimitSource: string; evseId: number; tbc?: boolean; chargingProfile: { id: number; stackLevel: number; chargingProfilePurpose: string; chargingSchedule: { chargingSchedulePeriod: { limit: number }[] }[] }[] };
    await until(st, 'two reports', () => calls(csms, 'ReportChargingProfiles').length === 2);
    const reports = calls<Report>(csms, 'ReportChargingProfiles');
    assert.deepEqual(
      reports.map((r) => [r.requestId, r.chargingLimitSource, r.evseId, r.tbc ?? false, r.chargingProfile[0]!.chargingProfilePurpose, r.chargingProfile[0]!.stackLevel]),
      [
        [77, 'EMS', 0, true, 'ChargingStationExternalConstraints', 0],
        [77, 'SO', 1, false, 'ChargingStationExternalConstraints', 0],
      ],
    );
    assert.ok(reports.every((r) => r.chargingProfile[0]!.id < 0), 'negative ids');
    assert.deepEqual(reports[1]!.chargingProfile[0]!.chargingSchedule[0]!.chargingSchedulePeriod, [{ startPeriod: 0, limit: 16 }]);
    const cso = await call<{ status: string }>(st, csms, 'GetChargingProfiles', { requestId: 78, chargingProfile: { chargingLimitSource: ['CSO'] } });
    assert.equal(cso.status, 'NoProfiles');
  } finally {
    await st.stop();
    await csms.close();
  }
});
