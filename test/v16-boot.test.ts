/**
 * End to end: registration (1.6 §4.2), configuration that survives a restart (§9, §5.3) and a power cut
 * in the middle of a transaction (§4.10 PowerLoss, §3.7 queued transaction messages).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startV16Station, IDENTITY, type V16Station } from './support/v16-station.js';

interface Status {
  connectorId: number;
  status: string;
}

const call = <T = Record<string, unknown>>(s: V16Station, action: string, params: unknown): Promise<T> => s.csms.call<T>(IDENTITY, action, params);

test('4.2 Pending: only BootNotification until Accepted; the CSMS may configure us meanwhile but not start a transaction', async () => {
  let status = 'Pending';
  const s = await startV16Station({
    csmsSetup: (csms) => csms.setHandler('BootNotification', () => ({ status, currentTime: new Date().toISOString(), interval: 30 })),
  });
  try {
    await s.until('Pending', () => s.adapter.registration === 'Pending');
    s.sim.plug(1);
    await s.run(10_000);
    assert.deepEqual(s.actions(), ['BootNotification']);
    assert.deepEqual(await call(s, 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '30' }), { status: 'Accepted' });
    assert.deepEqual(await call(s, 'RemoteStartTransaction', { connectorId: 1, idTag: 'X' }), { status: 'Rejected' });
    status = 'Accepted';
    await s.run(19_000);
    assert.deepEqual(s.actions(), ['BootNotification'], 'no retry before the interval');
    await s.run(2_000);
    await s.until('statuses', () => s.calls('StatusNotification').length === 2);
    assert.deepEqual(s.actions(), ['BootNotification', 'BootNotification', 'StatusNotification', 'StatusNotification']);
    assert.deepEqual(s.calls<Status>('StatusNotification').map((x) => [x.connectorId, x.status]), [
      [0, 'Available'],
      [1, 'Preparing'],
    ]);
  } finally {
    await s.close();
  }
});

test('4.2 Rejected: nothing but BootNotification, CSMS calls refused, retry after the interval', async () => {
  let status = 'Rejected';
  const s = await startV16Station({
    csmsSetup: (csms) => csms.setHandler('BootNotification', () => ({ status, currentTime: new Date().toISOString(), interval: 60 })),
  });
  try {
    await s.until('Rejected', () => s.adapter.registration === 'Rejected');
    await assert.rejects(call(s, 'GetConfiguration', {}));
    s.sim.plug(1);
    await s.run(30_000);
    assert.deepEqual(s.actions(), ['BootNotification']);
    status = 'Accepted';
    await s.run(31_000);
    await s.until('accepted', () => s.calls('StatusNotification').length >= 2);
    assert.deepEqual(s.actions().slice(0, 2), ['BootNotification', 'BootNotification']);
  } finally {
    await s.close();
  }
});

test('4.6 Heartbeat every HeartbeatInterval from BootNotification.conf', async () => {
  const s = await startV16Station({
    csmsSetup: (csms) => csms.setHandler('BootNotification', () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 600 })),
  });
  try {
    await s.until('boot', () => s.adapter.registration === 'Accepted');
    await s.run(30 * 60_000 + 1000, 10_000);
    assert.equal(s.calls('Heartbeat').length, 3);
    const got = await call<{ configurationKey: { value: string }[] }>(s, 'GetConfiguration', { key: ['HeartbeatInterval'] });
    assert.equal(got.configurationKey[0]!.value, '600');
  } finally {
    await s.close();
  }
});

test('9 / 5.3 configuration changed by the CSMS persists across a restart; the config-file seed does not overwrite it', async () => {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0', StopTxnSampledData: '' } });
  try {
    await s.until('boot', () => s.adapter.registration === 'Accepted');
    assert.deepEqual(await call(s, 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '17' }), { status: 'Accepted' });
    assert.deepEqual(await call(s, 'ChangeConfiguration', { key: 'LocalPreAuthorize', value: 'true' }), { status: 'Accepted' });
    await s.restart();
    await s.until('boot again', () => s.adapter.registration === 'Accepted' && s.calls('BootNotification').length === 2);
    const got = await call<{ configurationKey: { key: string; value: string }[] }>(s, 'GetConfiguration', {
      key: ['MeterValueSampleInterval', 'LocalPreAuthorize', 'StopTxnSampledData'],
    });
    assert.deepEqual(got.configurationKey.map((k) => [k.key, k.value]), [
      ['MeterValueSampleInterval', '17'],
      ['LocalPreAuthorize', 'true'],
      ['StopTxnSampledData', ''],
    ]);
    assert.equal(s.station.auth.localPreAuthorize, true, 'applied to the station after the restart');
  } finally {
    await s.close();
  }
});

test('4.10 power cut during a transaction: after the restart and boot, StopTransaction(PowerLoss) with the same transactionId', async () => {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0' } });
  try {
    await s.until('boot', () => s.adapter.registration === 'Accepted');
    s.sim.plug(1);
    s.sim.tap('CAFE');
    await s.until('StartTransaction answered', () => s.calls('StartTransaction').length === 1 && s.link.pendingCount() === 0);
    const tid = (s.csms.log.find((e) => e.type === 'result' && e.action === 'StartTransaction')!.payload as { transactionId: number }).transactionId;
    await s.run(60_000);
    await s.restart();
    // Both statuses of the new boot (connector 0 and 1), not only the first of them.
    const statusesAfterBoot = (): number => {
      const a = s.actions();
      return a.slice(a.lastIndexOf('BootNotification')).filter((x) => x === 'StatusNotification').length;
    };
    await s.until('StopTransaction and the statuses', () => s.calls('StopTransaction').length === 1 && statusesAfterBoot() >= 2);
    const stop = s.calls('StopTransaction')[0]!;
    assert.equal(stop.reason, 'PowerLoss');
    assert.equal(stop.transactionId, tid);
    // The simulated meter starts again from zero after the "power cut"; a real register would not.
    assert.equal(typeof stop.meterStop, 'number');
    // Transaction messages go before status traffic (README "Outbox and message order").
    assert.deepEqual(s.actions().slice(-4), ['BootNotification', 'StopTransaction', 'StatusNotification', 'StatusNotification']);
  } finally {
    await s.close();
  }
});

test('3.7 / 4.10 transaction started offline, then a power cut: at the next start StartTransaction goes out first, then StopTransaction(PowerLoss)', async () => {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0', LocalAuthorizeOffline: 'true', AllowOfflineTxForUnknownId: 'true' } });
  try {
    await s.until('boot', () => s.adapter.registration === 'Accepted');
    s.csms.setAccepting(false);
    await s.csms.disconnect(IDENTITY, { force: true });
    await s.until('offline', () => s.adapter.registration === 'offline');
    s.sim.plug(1);
    s.sim.tap('OFFLINE-1');
    await s.run(30_000);
    assert.equal(s.link.pendingCount(), 1, 'StartTransaction waits in the outbox');
    await s.restart();
    s.csms.setAccepting(true);
    await s.until('StopTransaction and the statuses', () => s.calls('StopTransaction').length === 1 && s.link.pendingCount() === 0 && s.actions().slice(s.actions().lastIndexOf('BootNotification')).filter((x) => x === 'StatusNotification').length >= 2);
    assert.deepEqual(s.actions().slice(-5), ['BootNotification', 'StartTransaction', 'StopTransaction', 'StatusNotification', 'StatusNotification']);
    assert.equal(s.calls('StartTransaction')[0]!.idTag, 'OFFLINE-1');
    const stop = s.calls('StopTransaction')[0]!;
    assert.equal(stop.reason, 'PowerLoss');
    const tid = (s.csms.log.find((e) => e.type === 'result' && e.action === 'StartTransaction')!.payload as { transactionId: number }).transactionId;
    assert.equal(stop.transactionId, tid);
  } finally {
    await s.close();
  }
});

type MV = { timestamp: string; sampledValue: { value: string; measurand?: string }[] };
const energyOf = (mv: MV): number => Number(mv.sampledValue.find((v) => (v.measurand ?? 'Energy.Active.Import.Register') === 'Energy.Active.Import.Register')!.value);

test('issue 10 #7 / 4.10: a transaction cut by a power loss stops at the last persisted activity time, with the last persisted energy (not the restart time, not the restarted meter)', async () => {
  const ref: { st?: V16Station } = {};
  // The CSMS keeps the station clock: timestamps in the frames are station time, comparable across boots.
  const now = (): string => new Date(ref.st?.clock.now() ?? Date.UTC(2026, 0, 1, 8)).toISOString();
  const s = await startV16Station({
    v16: { MeterValueSampleInterval: '60', MeterValuesSampledData: 'Energy.Active.Import.Register' },
    csmsSetup: (c) => {
      c.setHandler('BootNotification', () => ({ status: 'Accepted', currentTime: now(), interval: 3600 }));
      c.setHandler('Heartbeat', () => ({ currentTime: now() }));
    },
  });
  ref.st = s;
  try {
    await s.until('boot', () => s.adapter.registration === 'Accepted');
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('StartTransaction answered', () => s.calls('StartTransaction').length === 1 && s.link.pendingCount() === 0);
    await s.run(5 * 60_000 + 15_000);
    const samples = s.calls<{ meterValue: MV[] }>('MeterValues').flatMap((m) => m.meterValue);
    assert.ok(samples.length >= 4, 'periodic samples went out');
    const last = samples.at(-1)!;
    const meterStart = s.calls<{ meterStart: number }>('StartTransaction')[0]!.meterStart;
    assert.ok(energyOf(last) > meterStart + 100, 'energy flowed');
    const cutAt = s.clock.now();
    await s.restart();
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    const stop = s.calls<{ reason: string; meterStop: number; timestamp: string }>('StopTransaction')[0]!;
    assert.equal(stop.reason, 'PowerLoss');
    assert.equal(stop.meterStop, Math.round(energyOf(last)), 'the last persisted register, not the restarted meter');
    const t = Date.parse(stop.timestamp);
    assert.ok(t >= Date.parse(last.timestamp) && t <= cutAt - 10_000, `stop at ${stop.timestamp}: the last activity before the cut (last sample ${last.timestamp}), not the restart ${new Date(cutAt).toISOString()}`);
  } finally {
    await s.close();
  }
});
