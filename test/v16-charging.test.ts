/**
 * End to end on the simulated board in virtual time: charging sessions as the strict CSMS sees them
 * (1.6 §4.9 status sequence, §4.1 Authorize, §4.8 / §4.10 Start / Stop, §3.16 meter values).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startV16Station, type V16Station } from './support/v16-station.js';

interface Status {
  connectorId: number;
  status: string;
  errorCode: string;
}

async function booted(v16: Record<string, string> = {}): Promise<V16Station> {
  const s = await startV16Station({ v16 });
  await s.until('boot and statuses', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  return s;
}

/** CALLs after the boot, StatusNotifications shown with their status. */
const story = (s: V16Station, from = 3): string[] =>
  s.csms.log
    .filter((e) => e.direction === 'in' && e.type === 'call')
    .slice(from)
    .map((e) => (e.action === 'StatusNotification' ? `Status:${(e.payload as Status).status}` : e.action ?? ''));

test('4.9 plug, tap, charge, tap, unplug: Available→Preparing→Charging→Finishing→Available; §4.8 StartTransaction and §4.10 StopTransaction(Local) with the idTag', async () => {
  const s = await booted({ MeterValueSampleInterval: '0' });
  try {
    s.sim.plug(1);
    await s.run(1000);
    s.sim.tap('04A1B2C3');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.run(120_000);
    s.sim.tap('04A1B2C3');
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    await s.run(5_000);
    s.sim.unplug(1);
    await s.until('Available', () => s.calls<Status>('StatusNotification').slice(-1)[0]!.status === 'Available');
    // SuspendedEVSE: the contactor closes a moment after authorization; MinimumStatusDuration 0 reports it.
    // Transaction messages go before the statuses queued with them (README "Outbox and message order").
    assert.deepEqual(story(s), [
      'Status:Preparing',
      'Authorize',
      'StartTransaction',
      'Status:SuspendedEVSE',
      'Status:Charging',
      'StopTransaction',
      'Status:Finishing',
      'Status:Available',
    ]);
    const start = s.calls('StartTransaction')[0]!;
    assert.equal(start.connectorId, 1);
    assert.equal(start.idTag, '04A1B2C3');
    assert.equal(start.meterStart, 0);
    const stop = s.calls('StopTransaction')[0]!;
    assert.equal(stop.reason, 'Local');
    assert.equal(stop.idTag, '04A1B2C3');
    const answered = s.csms.log.find((e) => e.type === 'result' && e.action === 'StartTransaction')!.payload as { transactionId: number };
    assert.equal(stop.transactionId, answered.transactionId);
    // Two minutes at the simulated EV's draw: the register moved, and meterStop is the register value.
    assert.ok((stop.meterStop as number) > 100, `meterStop ${String(stop.meterStop)}`);
  } finally {
    await s.close();
  }
});

test('4.9 MinimumStatusDuration hides the short SuspendedEVSE between Preparing and Charging', async () => {
  const s = await booted({ MinimumStatusDuration: '2', MeterValueSampleInterval: '0' });
  try {
    s.sim.plug(1);
    await s.run(5000);
    s.sim.tap('04A1B2C3');
    await s.run(60_000);
    s.sim.tap('04A1B2C3');
    await s.run(5000);
    s.sim.unplug(1);
    await s.run(5000);
    assert.deepEqual(
      s.calls<Status>('StatusNotification').slice(2).map((x) => x.status),
      ['Preparing', 'Charging', 'Finishing', 'Available'],
    );
  } finally {
    await s.close();
  }
});

test('4.10 unplugging while charging: StopTransaction(EVDisconnected) without idTag', async () => {
  const s = await booted({ MeterValueSampleInterval: '0' });
  try {
    s.sim.plug(1);
    s.sim.tap('AA11');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.run(30_000);
    s.sim.unplug(1);
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    const stop = s.calls('StopTransaction')[0]!;
    assert.equal(stop.reason, 'EVDisconnected');
    assert.equal(stop.idTag, undefined);
  } finally {
    await s.close();
  }
});

test('3.16.1 / 3.16.2 sampled and clock-aligned MeterValues, and StopTxn data in transactionData', async () => {
  const s = await booted({
    MeterValueSampleInterval: '60',
    ClockAlignedDataInterval: '900',
    MeterValuesSampledData: 'Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,Current.Offered,SoC',
    MeterValuesAlignedData: 'Energy.Active.Import.Register',
    StopTxnSampledData: 'Energy.Active.Import.Register',
    StopTxnAlignedData: 'Energy.Active.Import.Register',
  });
  try {
    s.sim.plug(1);
    s.sim.tap('BEEF');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.run(20 * 60_000);
    s.sim.unplug(1);
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1 && s.link.pendingCount() === 0);
    type MV = { connectorId: number; transactionId?: number; meterValue: { timestamp: string; sampledValue: Record<string, string>[] }[] };
    const mvs = s.calls<MV>('MeterValues');
    const periodic = mvs.filter((m) => m.meterValue[0]!.sampledValue[0]!.context === 'Sample.Periodic');
    const aligned = mvs.filter((m) => m.meterValue[0]!.sampledValue[0]!.context === 'Sample.Clock');
    // Station time starts at 08:00:00: 20 minutes hold 20 periodic samples and the 08:15 boundary.
    assert.ok(periodic.length >= 19 && periodic.length <= 21, `periodic ${periodic.length}`);
    assert.ok(aligned.length >= 1 && aligned.length <= 2, `aligned ${aligned.length}`);
    const tid = (s.csms.log.find((e) => e.type === 'result' && e.action === 'StartTransaction')!.payload as { transactionId: number }).transactionId;
    for (const m of [...periodic, ...aligned]) assert.equal(m.transactionId, tid);
    const sv = periodic[5]!.meterValue[0]!.sampledValue;
    assert.deepEqual(
      sv.map((v) => `${v.measurand}${v.phase ? '.' + v.phase : ''}[${v.unit ?? ''}@${v.location}]`),
      [
        'Energy.Active.Import.Register[Wh@Outlet]',
        'Power.Active.Import[W@Outlet]',
        'Current.Import.L1[A@Outlet]',
        'Current.Import.L2[A@Outlet]',
        'Current.Import.L3[A@Outlet]',
        'Voltage.L1-N[V@Outlet]',
        'Voltage.L2-N[V@Outlet]',
        'Voltage.L3-N[V@Outlet]',
        'Current.Offered[A@Outlet]',
        'SoC[Percent@EV]',
      ],
    );
    // Register values never go down.
    const energy = periodic.map((m) => Number(m.meterValue[0]!.sampledValue[0]!.value));
    for (let i = 1; i < energy.length; i++) assert.ok(energy[i]! >= energy[i - 1]!);
    const stop = s.calls<{ transactionData: { sampledValue: { context: string }[] }[] }>('StopTransaction')[0]!;
    const contexts = stop.transactionData.map((mv) => mv.sampledValue[0]!.context);
    assert.equal(contexts[0], 'Transaction.Begin');
    assert.equal(contexts[contexts.length - 1], 'Transaction.End');
    assert.ok(contexts.includes('Sample.Clock'));
    assert.ok(contexts.filter((c) => c === 'Sample.Periodic').length >= 19);
  } finally {
    await s.close();
  }
});
