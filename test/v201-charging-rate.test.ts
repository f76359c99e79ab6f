/**
 * SC.02 / SC.03 (2.0.1 part 2, smart charging signals) and TriggerReason ChargingRateChanged: a TxDefaultProfile
 * whose schedule changes during a transaction, on the simulated board with the strict CSMS. A change of the
 * offered limit by at least SmartChargingCtrlr.LimitChangeSignificance percent (of the limit last told) is a
 * TransactionEvent(Updated, ChargingRateChanged); smaller ones are skipped, and add up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startV201Station, type V201Station } from './support/v201-station.js';
import type { Tx } from './v201-transactions.test.js';

const txs = (s: V201Station): Tx[] => s.calls<Tx>('TransactionEvent');
const rate = (s: V201Station): Tx[] => txs(s).filter((t) => t.triggerReason === 'ChargingRateChanged');
const evse1 = (s: V201Station) => s.sim.status().evses[0]!;
const iso = (ms: number): string => new Date(ms).toISOString();

async function runTo(s: V201Station, at: number): Promise<void> {
  const left = at - s.clock.now();
  if (left > 0) await s.run(left);
}

test('SC.02 / SC.03 ChargingRateChanged: a TxDefaultProfile stepping 16 → 15.9 → 15.8 → 15 → 20 → 6 A mid-transaction is told at 15.8 (two 0.6 % steps add up to 1.25 % of 16) and 15, then with LimitChangeSignificance 50 at 6 (not 20); none outside the transaction', async () => {
  const s = await startV201Station();
  try {
    await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
    const t0 = s.clock.now();
    const steps: [number, number][] = [
      [0, 16],
      [120, 15.9],
      [150, 15.8],
      [180, 15],
      [240, 20],
      [300, 6],
      [420, 10],
    ];
    const res = await s.call<{ status: string }>('SetChargingProfile', {
      evseId: 1,
      chargingProfile: {
        id: 3,
        stackLevel: 0,
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Absolute',
        chargingSchedule: [
          { id: 3, startSchedule: iso(t0), chargingRateUnit: 'A', chargingSchedulePeriod: steps.map(([startPeriod, limit]) => ({ startPeriod, limit })) },
        ],
      },
    });
    assert.equal(res.status, 'Accepted');
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('Charging', () => txs(s).some((t) => t.transactionInfo.chargingState === 'Charging'));
    const txId = txs(s)[0]!.transactionInfo.transactionId;
    assert.equal(rate(s).length, 0, 'the limit in force when the transaction started is no change');

    await runTo(s, t0 + 140_000);
    assert.equal(evse1(s).pwmAmps, 15.9);
    assert.equal(rate(s).length, 0, '0.6 % < LimitChangeSignificance 1.0: skipped');
    await runTo(s, t0 + 160_000);
    assert.equal(evse1(s).pwmAmps, 15.8);
    assert.equal(rate(s).length, 1, '15.9 → 15.8 is 0.6 % again, but 1.25 % of the 16 the CSMS last heard of');
    const first = rate(s)[0]!;
    assert.equal(first.eventType, 'Updated');
    assert.equal(first.transactionInfo.transactionId, txId);
    assert.equal((first as Tx & { timestamp: string }).timestamp, iso(t0 + 150_000), 'told when the period began');

    await runTo(s, t0 + 200_000);
    assert.equal(evse1(s).pwmAmps, 15);
    assert.equal(rate(s).length, 2, '15.8 → 15 is 5 %');

    const set = await s.call<{ setVariableResult: { attributeStatus: string }[] }>('SetVariables', {
      setVariableData: [{ component: { name: 'SmartChargingCtrlr' }, variable: { name: 'LimitChangeSignificance' }, attributeValue: '50' }],
    });
    assert.equal(set.setVariableResult[0]?.attributeStatus, 'Accepted');
    await runTo(s, t0 + 270_000);
    assert.equal(evse1(s).pwmAmps, 20);
    assert.equal(rate(s).length, 2, '15 → 20 is 33 % < 50 %');
    await runTo(s, t0 + 330_000);
    assert.equal(evse1(s).pwmAmps, 6);
    assert.equal(rate(s).length, 3, '15 → 6 is 60 % ≥ 50 %');

    s.sim.tap('04A1B2C3');
    await s.until('Ended', () => txs(s).some((t) => t.eventType === 'Ended'));
    await runTo(s, t0 + 450_000);
    assert.equal(rate(s).length, 3, 'no ChargingRateChanged without a transaction');
    assert.deepEqual(
      txs(s).map((t) => t.seqNo),
      txs(s).map((_, i) => i),
      'seqNo gapless',
    );
  } finally {
    await s.close();
  }
});
