/**
 * Issue 12 point 7 (the limit left after it) for 1.6: the transaction messages of a session a power cut left
 * open are queued at the next start before the BootNotification answer gives the CSMS's time. They must
 * still reach a CSMS whose clock is an hour ahead in its time (4.2: the station keeps the offset of the
 * currentTime it was given; the station clock itself is never set).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startV16Station, type V16Station } from './support/v16-station.js';

const HOUR = 3_600_000;

function assertCsmsTime(what: string, iso: string | undefined, from: number, to: number): void {
  assert.ok(iso !== undefined, `${what}: has a timestamp`);
  const t = Date.parse(iso);
  assert.ok(t >= from + HOUR && t <= to + HOUR, `${what}: ${iso} is not station time + 1 h (station ${new Date(from).toISOString()} … ${new Date(to).toISOString()})`);
}

test('issue 12 point 7 / 4.10 / 3.16: with a CSMS one hour ahead, the StopTransaction(PowerLoss) of a transaction a power cut left open, queued before the BootNotification answer, carries the CSMS time (timestamp and transactionData)', async () => {
  const ref: { st?: V16Station } = {};
  const now = (): string => new Date((ref.st?.clock.now() ?? Date.now()) + HOUR).toISOString();
  const s = await startV16Station({
    v16: { MeterValueSampleInterval: '60', StopTxnSampledData: 'Energy.Active.Import.Register' },
    csmsSetup: (c) => {
      c.setHandler('BootNotification', () => ({ status: 'Accepted', currentTime: now(), interval: 3600 }));
      c.setHandler('Heartbeat', () => ({ currentTime: now() }));
    },
  });
  ref.st = s;
  try {
    const from = s.clock.now();
    await s.until('boot', () => s.adapter.registration === 'Accepted');
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('StartTransaction answered', () => s.calls('StartTransaction').length === 1 && s.link.pendingCount() === 0);
    await s.run(3 * 60_000);
    await s.restart();
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    const to = s.clock.now();
    assertCsmsTime('StartTransaction', s.calls<{ timestamp: string }>('StartTransaction')[0]!.timestamp, from, to);
    for (const [i, m] of s.calls<{ meterValue: { timestamp: string }[] }>('MeterValues').entries()) {
      for (const mv of m.meterValue) assertCsmsTime(`MeterValues #${i}`, mv.timestamp, from, to);
    }
    const stop = s.calls<{ reason: string; timestamp: string; transactionData?: { timestamp: string }[] }>('StopTransaction')[0]!;
    assert.equal(stop.reason, 'PowerLoss');
    assertCsmsTime('StopTransaction(PowerLoss)', stop.timestamp, from, to);
    assert.ok(stop.transactionData?.length, 'StopTransaction carries its transactionData');
    for (const [i, mv] of (stop.transactionData ?? []).entries()) assertCsmsTime(`transactionData #${i}`, mv.timestamp, from, to);
  } finally {
    await s.close();
  }
});
