/**
 * The site limit under OCPP 1.6, which has no NotifyChargingLimit: the limit applies the same way (a cap
 * no charging profile lifts), and GetCompositeSchedule takes it into account (1.6 §5.7: "Local Limits might
 * be taken into account"), so the CSMS sees what the pilot may offer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { startCsms } from './support/csms.js';
import { startTestStation, until } from './support/harness.js';

test('1.6 §5.7 / §3.13: a ChargePointMaxProfile and TxDefaultProfile allowing 32 A stay capped by the site limit; GetCompositeSchedule answers the capped limit; no 2.0.1-only message is sent', async () => {
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  const st = await startTestStation({
    ocppVersion: '1.6',
    csmsUrl: csms.url,
    clock: new VirtualClock(),
    evses: 2,
    configPatch: { site: { gridLimitA: 40, otherLoadMeter: { driver: 'sim' }, increaseDelayS: 0 } },
  });
  const calls = (action: string) => csms.log.filter((e) => e.direction === 'in' && e.type === 'call' && e.action === action);
  const call = async <T>(action: string, params: unknown): Promise<T> => {
    let done = false;
    const p = csms.call<T>('CP001', action, params).finally(() => (done = true));
    for (let i = 0; i < 200 && !done; i++) {
      await st.clock.advance(10);
      await new Promise((r) => setTimeout(r, 2));
    }
    return p;
  };
  try {
    await until(st, 'boot', () => calls('BootNotification').length === 1 && st.ocpp.link.connected);
    st.sim.setBuildingLoad(24);
    await st.clock.advance(6000);
    for (const [id, limit, purpose] of [[0, 32, 'ChargePointMaxProfile'], [1, 32, 'TxDefaultProfile']] as const) {
      const res = await call<{ status: string }>('SetChargingProfile', {
        connectorId: id,
        csChargingProfiles: { chargingProfileId: id + 10, stackLevel: 0, chargingProfilePurpose: purpose, chargingProfileKind: 'Relative', chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit }] } },
      });
      assert.equal(res.status, 'Accepted');
    }
    st.sim.plug(1);
    await st.clock.advance(500);
    st.sim.tap('04A1B2C1');
    await until(st, 'charging', () => st.hal.evses[0]!.contactor.commanded);
    assert.equal(st.sim.status().evses[0]!.pwmAmps, 16, '40 − 24 = 16 A, whatever the profiles allow');
    const c = await call<{ status: string; connectorId: number; chargingSchedule: { chargingRateUnit: string; chargingSchedulePeriod: { startPeriod: number; limit: number }[] } }>(
      'GetCompositeSchedule',
      { connectorId: 1, duration: 600, chargingRateUnit: 'A' },
    );
    assert.equal(c.status, 'Accepted');
    assert.deepEqual(c.chargingSchedule.chargingSchedulePeriod, [{ startPeriod: 0, limit: 16 }]);
    const all = await call<{ chargingSchedule: { chargingSchedulePeriod: { limit: number }[] } }>('GetCompositeSchedule', { connectorId: 0, duration: 600, chargingRateUnit: 'A' });
    assert.deepEqual(all.chargingSchedule.chargingSchedulePeriod.map((p) => p.limit), [16], 'connector 0: what the station may take together');
    assert.equal(calls('NotifyChargingLimit').length, 0);
  } finally {
    await st.stop();
    await csms.close();
  }
});
