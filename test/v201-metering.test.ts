/**
 * J: meter values with the 2.0.1 adapter end to end: sampled values in TransactionEvent at
 * TxUpdatedInterval with TxUpdatedMeasurands, clock-aligned MeterValues outside transactions, and both
 * following SetVariables at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootedV201Station, startCharging, type V201Station } from './support/v201-station.js';

type Sv = { value: number; context?: string; measurand?: string; phase?: string; unitOfMeasure?: { unit: string } };
type Tx = { eventType: string; triggerReason: string; meterValue?: { timestamp: string; sampledValue: Sv[] }[] };
const txs = (s: V201Station): Tx[] => s.calls<Tx>('TransactionEvent');

function booted(variables: Record<string, string> = {}): Promise<V201Station> {
  return bootedV201Station({ variables });
}

test('TC_J_07_CS J02 sampled meter values: TransactionEvent(Updated, MeterValuePeriodic) every TxUpdatedInterval with exactly TxUpdatedMeasurands; a SetVariables change applies at once', async () => {
  const s = await booted({
    'SampledDataCtrlr.TxUpdatedInterval': '30',
    'SampledDataCtrlr.TxUpdatedMeasurands': 'Energy.Active.Import.Register,Current.Import,Voltage,SoC',
  });
  try {
    await startCharging(s);
    await s.run(500);
    const t0 = txs(s).filter((t) => t.triggerReason === 'MeterValuePeriodic').length;
    await s.run(90_500);
    const periodic = txs(s).filter((t) => t.triggerReason === 'MeterValuePeriodic');
    assert.equal(periodic.length - t0, 3, 'three samples in 90 s at 30 s');
    const sv = periodic.at(-1)!.meterValue![0]!.sampledValue;
    assert.deepEqual(
      sv.map((v) => [v.measurand, v.phase ?? '', v.unitOfMeasure?.unit]),
      [
        ['Energy.Active.Import.Register', '', 'Wh'],
        ['Current.Import', 'L1', 'A'],
        ['Current.Import', 'L2', 'A'],
        ['Current.Import', 'L3', 'A'],
        ['Voltage', 'L1-N', 'V'],
        ['Voltage', 'L2-N', 'V'],
        ['Voltage', 'L3-N', 'V'],
        ['SoC', '', 'Percent'],
      ],
    );
    assert.ok(sv.every((v) => v.context === 'Sample.Periodic'));
    const e1 = periodic.at(-2)!.meterValue![0]!.sampledValue[0]!.value;
    const e2 = sv[0]!.value;
    assert.ok(e2 > e1, 'energy register grows while charging');
    // 0 switches sampling off
    await s.call('SetVariables', { setVariableData: [{ component: { name: 'SampledDataCtrlr' }, variable: { name: 'TxUpdatedInterval' }, attributeValue: '0' }] });
    const n = txs(s).length;
    await s.run(120_000);
    assert.equal(txs(s).filter((t) => t.triggerReason === 'MeterValuePeriodic').length, periodic.length);
    assert.equal(txs(s).length, n);
  } finally {
    await s.close();
  }
});

test('TC_J_02_CS J01 clock-aligned values: MeterValues(Sample.Clock) with AlignedDataCtrlr.Measurands outside a transaction, TransactionEvent(MeterValueClock) inside one', async () => {
  const s = await booted({ 'SampledDataCtrlr.TxUpdatedInterval': '0' });
  try {
    await s.call('SetVariables', {
      setVariableData: [
        { component: { name: 'AlignedDataCtrlr' }, variable: { name: 'Interval' }, attributeValue: '900' },
        { component: { name: 'AlignedDataCtrlr' }, variable: { name: 'Measurands' }, attributeValue: 'Energy.Active.Import.Register,Power.Active.Import' },
      ],
    });
    await s.run(901_000);
    type Mv = { evseId: number; meterValue: { timestamp: string; sampledValue: Sv[] }[] };
    await s.until('MeterValues', () => s.calls('MeterValues').length >= 1);
    const mv = s.calls<Mv>('MeterValues')[0]!;
    assert.equal(mv.evseId, 1);
    assert.deepEqual(mv.meterValue[0]!.sampledValue.map((v) => [v.measurand, v.context]), [
      ['Energy.Active.Import.Register', 'Sample.Clock'],
      ['Power.Active.Import', 'Sample.Clock'],
    ]);
    assert.equal(new Date(mv.meterValue[0]!.timestamp).getTime() % 900_000, 0, 'aligned to the quarter hour');
    await startCharging(s);
    const before = s.calls('MeterValues').length;
    await s.run(900_000);
    await s.until('MeterValueClock', () => txs(s).some((t) => t.triggerReason === 'MeterValueClock'));
    assert.equal(s.calls('MeterValues').length, before, 'inside a transaction the aligned values go in TransactionEvent');
  } finally {
    await s.close();
  }
});

test('TC_J_10_CS J02 TxEndedInterval: the Ended event carries the kept periodic samples (TxEndedMeasurands) and the Transaction.End value', async () => {
  const s = await booted({ 'SampledDataCtrlr.TxUpdatedInterval': '60', 'SampledDataCtrlr.TxEndedInterval': '120' });
  try {
    await startCharging(s);
    await s.run(400_000);
    s.sim.unplug(1);
    await s.until('Ended', () => txs(s).some((t) => t.eventType === 'Ended'));
    const end = txs(s).at(-1)!;
    const contexts = end.meterValue!.map((m) => m.sampledValue[0]!.context);
    assert.equal(contexts.at(-1), 'Transaction.End');
    const kept = contexts.filter((c) => c === 'Sample.Periodic').length;
    assert.ok(kept >= 3 && kept <= 4, `about one kept sample per 120 s of 400 s, got ${kept}`);
    const values = end.meterValue!.map((m) => m.sampledValue[0]!.value);
    assert.deepEqual(values, [...values].sort((a, b) => a - b), 'energy register values rise');
  } finally {
    await s.close();
  }
});
