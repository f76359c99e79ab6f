/**
 * One scenario, both protocol versions: plug, tap, charge, unplug on the simulated board, once with the
 * 1.6 adapter and once with the 2.0.1 adapter, each against the strict CSMS of its version. The
 * station core is the same; what differs is only how each adapter tells the CSMS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startV16Station, type V16Station } from './support/v16-station.js';
import { startV201Station, type V201Station } from './support/v201-station.js';

async function scenario(s: V16Station | V201Station, booted: () => boolean, txDone: () => boolean): Promise<void> {
  await s.until('boot', booted);
  await s.run(1000);
  s.sim.plug(1);
  await s.run(1000);
  s.sim.tap('04A1B2C3');
  await s.run(1000);
  s.sim.evReady(1);
  await s.run(600_000);
  s.sim.unplug(1);
  await s.until('transaction end', txDone);
  await s.run(2000);
}

test('plug, tap, charge 10 min, unplug: 1.6 (Authorize, StartTransaction, StopTransaction EVDisconnected) and 2.0.1 (Authorize, TransactionEvent Started … Ended EVDisconnected) report the same session', async () => {
  const v16 = await startV16Station();
  let e16 = { start: 0, stop: 0 };
  let statuses16: string[] = [];
  try {
    await scenario(v16, () => v16.adapter.registration === 'Accepted', () => v16.calls('StopTransaction').length === 1);
    const start = v16.calls<{ meterStart: number; idTag: string; connectorId: number }>('StartTransaction')[0]!;
    const stop = v16.calls<{ meterStop: number; reason: string }>('StopTransaction')[0]!;
    assert.equal(start.idTag, '04A1B2C3');
    assert.equal(stop.reason, 'EVDisconnected');
    e16 = { start: start.meterStart, stop: stop.meterStop };
    statuses16 = v16.calls<{ connectorId: number; status: string }>('StatusNotification').filter((x) => x.connectorId === 1).map((x) => x.status);
    assert.deepEqual(v16.actions().filter((a) => a === 'Authorize' || a === 'StartTransaction' || a === 'StopTransaction'), ['Authorize', 'StartTransaction', 'StopTransaction']);
  } finally {
    await v16.close();
  }

  const v201 = await startV201Station();
  try {
    type Tx = { eventType: string; transactionInfo: { stoppedReason?: string }; idToken?: { idToken: string }; meterValue?: { sampledValue: { value: number; context?: string; measurand?: string }[] }[] };
    const txs = () => v201.calls<Tx>('TransactionEvent');
    await scenario(v201, () => v201.adapter.ctx.registration === 'Accepted', () => txs().some((t) => t.eventType === 'Ended'));
    const list = txs();
    assert.equal(list[0]!.eventType, 'Started');
    assert.equal(list[0]!.idToken?.idToken, '04A1B2C3');
    const last = list.at(-1)!;
    assert.equal(last.transactionInfo.stoppedReason, 'EVDisconnected');
    const endWh = last.meterValue![0]!.sampledValue.find((v) => v.context === 'Transaction.End')!.value;
    const startWh = list[0]!.meterValue![0]!.sampledValue.find((v) => v.context === 'Transaction.Begin')!.value;
    const statuses201 = v201.calls<{ connectorStatus: string }>('StatusNotification').map((x) => x.connectorStatus);
    assert.equal(v201.calls('Authorize').length, 1);

    // Same physics, same session: the energy of both agrees within a few Wh (timing of the 1 s steps).
    const d16 = e16.stop - e16.start;
    const d201 = endWh - startWh;
    assert.ok(d16 > 1000, `1.6 session delivered energy (${d16} Wh)`);
    assert.ok(Math.abs(d16 - d201) / d16 < 0.02, `1.6 ${d16} Wh vs 2.0.1 ${d201} Wh`);
    // 1.6 tells Preparing / Charging / Finishing; 2.0.1 only Occupied for all of them.
    assert.equal(statuses16[0], 'Available');
    assert.ok(statuses16.includes('Charging'));
    assert.equal(statuses16.at(-1), 'Available');
    assert.deepEqual(statuses201, ['Available', 'Occupied', 'Available']);
  } finally {
    await v201.close();
  }
});
