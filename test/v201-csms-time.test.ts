/**
 * Issue 12 point 7: the 2.0.1 station tells time in the CSMS's clock (B01.FR.06: the currentTime of the
 * BootNotification answer gives the offset; the station clock itself is never set), as 1.6 does. A CSMS
 * one hour ahead of the station must see every timestamp one hour ahead of the station's own clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../base/clock.js';
import { createV201Adapter } from '../src/ocpp/v201/index.js';
import { startCsms } from './support/csms.js';
import { startSecureStation } from './support/secure-station.js';
import { startCharging, startV201Station } from './support/v201-station.js';

const HOUR = 3_600_000;

/** Is `iso` a time of the station's window [from, to] told on a clock one hour ahead? */
function assertCsmsTime(what: string, iso: string | undefined, from: number, to: number): void {
  assert.ok(iso !== undefined, `${what}: has a timestamp`);
  const t = Date.parse(iso);
  assert.ok(t >= from + HOUR && t <= to + HOUR, `${what}: ${iso} is not station time + 1 h (station ${new Date(from).toISOString()} … ${new Date(to).toISOString()})`);
}

type Stamped = { timestamp?: string; meterValue?: { timestamp: string }[] };

test('issue 12 point 7 / B01.FR.06: with a CSMS one hour ahead, StatusNotification, TransactionEvent (and its meter values), MeterValues, NotifyReport and ClockCtrlr.DateTime carry the CSMS time', async () => {
  const s = await startV201Station({
    csmsClockOffsetMs: HOUR,
    variables: { 'AlignedDataCtrlr.Interval': '60', 'SampledDataCtrlr.TxUpdatedInterval': '30' },
  });
  try {
    const from = s.clock.now();
    await s.until('boot', () => s.adapter.ctx.registration === 'Accepted' && s.calls('StatusNotification').length >= 1);
    await s.run(61_000);
    await s.until('clock-aligned MeterValues', () => s.calls('MeterValues').length >= 1);
    await startCharging(s);
    await s.run(90_000);
    s.sim.unplug(1);
    await s.until('Ended', () => s.calls<{ eventType: string }>('TransactionEvent').some((t) => t.eventType === 'Ended'));
    await s.call('GetBaseReport', { requestId: 7, reportBase: 'SummaryInventory' });
    await s.until('NotifyReport', () => s.calls('NotifyReport').length >= 1);
    const dateTime = await s.call<{ getVariableResult: { attributeValue?: string }[] }>('GetVariables', {
      getVariableData: [{ component: { name: 'ClockCtrlr' }, variable: { name: 'DateTime' } }],
    });
    const to = s.clock.now();

    for (const [i, sn] of s.calls<Stamped>('StatusNotification').entries()) assertCsmsTime(`StatusNotification #${i}`, sn.timestamp, from, to);
    const txs = s.calls<Stamped & { eventType: string }>('TransactionEvent');
    assert.ok(txs.length >= 3, 'Started, Updated, Ended');
    for (const [i, tx] of txs.entries()) {
      assertCsmsTime(`TransactionEvent #${i} ${tx.eventType}`, tx.timestamp, from, to);
      for (const mv of tx.meterValue ?? []) assertCsmsTime(`TransactionEvent #${i} meterValue`, mv.timestamp, from, to);
    }
    for (const [i, m] of s.calls<Stamped>('MeterValues').entries()) {
      for (const mv of m.meterValue ?? []) assertCsmsTime(`MeterValues #${i}`, mv.timestamp, from, to);
    }
    assertCsmsTime('NotifyReport generatedAt', s.calls<{ generatedAt: string }>('NotifyReport')[0]?.generatedAt, from, to);
    assertCsmsTime('ClockCtrlr.DateTime', dateTime.getVariableResult[0]?.attributeValue, from, to);
  } finally {
    await s.close();
  }
});

test('issue 12 point 7 / A04: a SecurityEventNotification queued before the CSMS gave its time (StartupOfTheDevice) is sent in the CSMS time', async () => {
  const password = 'csms-time-password-0201';
  const csms = await startCsms({ protocols: ['ocpp2.0.1'], password });
  let clock: Clock | undefined;
  csms.setHandler('BootNotification', () => ({ status: 'Accepted', currentTime: new Date(clock!.now() + HOUR).toISOString(), interval: 300 }));
  const s = await startSecureStation({
    csms,
    identity: 'CP-V201-TIME',
    version: '2.0.1',
    adapter: (deps) => {
      clock = deps.clock;
      return createV201Adapter(deps);
    },
    ocpp: { securityProfile: 1, password },
  });
  try {
    const from = s.clock.now();
    await s.until('StartupOfTheDevice', () => s.calls('SecurityEventNotification').length === 1);
    const sen = s.calls<{ type: string; timestamp: string }>('SecurityEventNotification')[0]!;
    assert.equal(sen.type, 'StartupOfTheDevice');
    assertCsmsTime('SecurityEventNotification StartupOfTheDevice', sen.timestamp, from, s.clock.now());
  } finally {
    await s.close();
    await csms.close();
  }
});

test('issue 12 point 7 / B01.FR.06 / E: the Ended(PowerLoss) of a transaction a power cut left open, queued at the next start before the BootNotification answer, is sent in the CSMS time', async () => {
  const s = await startV201Station({ csmsClockOffsetMs: HOUR });
  try {
    const from = s.clock.now();
    await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
    await startCharging(s);
    await s.run(5_000);
    await s.restart();
    await s.until('Ended', () => s.calls<{ eventType: string }>('TransactionEvent').some((t) => t.eventType === 'Ended'));
    const to = s.clock.now();
    const end = s.calls<Stamped & { eventType: string; transactionInfo: { stoppedReason?: string } }>('TransactionEvent').find((t) => t.eventType === 'Ended')!;
    assert.equal(end.transactionInfo.stoppedReason, 'PowerLoss');
    assertCsmsTime('Ended(PowerLoss)', end.timestamp, from, to);
    assert.ok(end.meterValue?.length, 'Ended carries its Transaction.End value');
    for (const mv of end.meterValue ?? []) assertCsmsTime('Ended(PowerLoss) meterValue', mv.timestamp, from, to);
  } finally {
    await s.close();
  }
});
