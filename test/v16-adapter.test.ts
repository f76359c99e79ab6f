/**
 * The 1.6 adapter against a fake link and a fake station: the message sequences it produces for
 * boot, status, transactions and meter values, and its answers to CSMS calls. The same behaviour is
 * exercised end to end (real link, strict CSMS, simulated board) in the v16 integration tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { openDatabase, type Db } from '../src/store/db.js';
import { createV16AdapterWithExtras, type V16Adapter } from '../src/ocpp/v16/index.js';
import type { MeterSample } from '../src/station/api.js';
import { FakeLink, FakeStation, quietLog, session, testConfig } from './support/v16-fakes.js';

interface Rig {
  clock: VirtualClock;
  link: FakeLink;
  station: FakeStation;
  db: Db;
  adapter: V16Adapter;
}

async function rig(opts: { evses?: number; v16?: Record<string, string>; db?: Db } = {}): Promise<Rig> {
  const clock = new VirtualClock();
  const link = new FakeLink();
  const station = new FakeStation(opts.evses ?? 1, () => clock.now());
  const db = opts.db ?? openDatabase(':memory:');
  const adapter = createV16AdapterWithExtras({ link, station, db, clock, log: quietLog, config: testConfig({ v16: opts.v16 ?? {} }) });
  await adapter.start();
  return { clock, link, station, db, adapter };
}

async function booted(opts: Parameters<typeof rig>[0] = {}): Promise<Rig> {
  const r = await rig(opts);
  // CSMS time 2030-01-01T00:00:00Z at station time 2026-01-01T08:00:00Z: timestamps are predictable.
  r.link.responders.set('BootNotification', () => ({ status: 'Accepted', currentTime: '2030-01-01T00:00:00.000Z', interval: 300 }));
  r.link.open();
  await r.clock.advance(0);
  r.link.sent.length = 0;
  return r;
}

const sample = (energyImportWh: number, over: Partial<MeterSample> = {}): MeterSample => ({
  evseId: 1,
  context: 'Sample.Periodic',
  currentOfferedA: 16,
  reading: {
    at: Date.UTC(2026, 0, 1, 8, 5),
    energyImportWh,
    powerW: 7200,
    currentA: { L1: 10, L2: 10.5, L3: 9.75 },
    voltageV: { L1: 230, L2: 231, L3: 229.5 },
    frequencyHz: 50,
    socPercent: 42,
  },
  ...over,
});

test('4.2 BootNotification Accepted: heartbeat interval, clock offset, StatusNotification of connector 0 and each connector, outbox opened', async () => {
  const r = await rig({ evses: 2 });
  r.link.responders.set('BootNotification', () => ({ status: 'Accepted', currentTime: '2030-06-01T00:00:00.000Z', interval: 120 }));
  r.link.open();
  await r.clock.advance(0);
  assert.deepEqual(r.link.actions(), ['BootNotification', 'StatusNotification', 'StatusNotification', 'StatusNotification']);
  assert.deepEqual(r.link.sent[0]!.payload, {
    chargePointVendor: 'OpenStation',
    chargePointModel: 'SimBoard',
    chargePointSerialNumber: 'SN-0001',
    firmwareVersion: '0.1.0',
  });
  assert.deepEqual(
    r.link.ofAction('StatusNotification').map((p) => [p.connectorId, p.status, p.errorCode, p.timestamp]),
    [
      [0, 'Available', 'NoError', '2030-06-01T00:00:00.000Z'],
      [1, 'Available', 'NoError', '2030-06-01T00:00:00.000Z'],
      [2, 'Available', 'NoError', '2030-06-01T00:00:00.000Z'],
    ],
  );
  assert.equal(r.link.ready, true);
  assert.equal(r.adapter.configuration.get('HeartbeatInterval'), '120');
  assert.equal(r.station.gateway?.online, true);
  await r.clock.advance(119_000);
  assert.equal(r.link.ofAction('Heartbeat').length, 0);
  await r.clock.advance(1_000);
  await r.clock.advance(240_000);
  assert.equal(r.link.ofAction('Heartbeat').length, 3);
  await r.adapter.stop();
  assert.equal(r.clock.pending, 0, 'no timers left');
});

test('4.2 BootNotification Pending: nothing else is sent, retry after interval, the CSMS may call us but not RemoteStart', async () => {
  const r = await rig();
  let answer = 'Pending';
  r.link.responders.set('BootNotification', () => ({ status: answer, currentTime: new Date().toISOString(), interval: 30 }));
  r.link.open();
  await r.clock.advance(0);
  r.station.setStatus(1, 'Preparing');
  r.station.sessionEvent('started', session({ evConnectedAt: r.clock.now(), authorizedAt: r.clock.now(), idToken: { idToken: 'AA', type: 'ISO14443' } }));
  await r.clock.advance(29_000);
  assert.deepEqual(r.link.actions(), ['BootNotification']);
  assert.equal(r.link.ready, false);
  assert.equal(r.station.gateway?.online, false);
  assert.deepEqual(await r.link.csmsCall('GetConfiguration', { key: ['HeartbeatInterval'] }), {
    configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
  });
  assert.deepEqual(await r.link.csmsCall('RemoteStartTransaction', { idTag: 'X' }), { status: 'Rejected' });
  answer = 'Accepted';
  await r.clock.advance(1_000);
  assert.deepEqual(r.link.actions(), ['BootNotification', 'BootNotification', 'StatusNotification', 'StatusNotification', 'StartTransaction']);
  await r.adapter.stop();
});

test('4.2 BootNotification Rejected: retry after interval, CSMS calls refused', async () => {
  const r = await rig();
  r.link.responders.set('BootNotification', () => ({ status: 'Rejected', currentTime: new Date().toISOString(), interval: 600 }));
  r.link.open();
  await r.clock.advance(599_000);
  assert.deepEqual(r.link.actions(), ['BootNotification']);
  await assert.rejects(r.link.csmsCall('GetConfiguration', {}), (e: { rpcErrorCode?: string }) => e.rpcErrorCode === 'SecurityError');
  await r.clock.advance(1_000);
  assert.deepEqual(r.link.actions(), ['BootNotification', 'BootNotification']);
  await r.adapter.stop();
});

test('4.9 StatusNotification follows station status; not sent while offline; present status resent after reconnect', async () => {
  const r = await booted();
  // One change per turn: changes within one turn are reported once (see status.ts).
  r.station.setStatus(1, 'Preparing');
  await r.clock.advance(0);
  r.station.setStatus(1, 'Charging');
  await r.clock.advance(0);
  r.station.setStatus(1, 'Faulted', true, { fault: { kind: 'rcd-trip', severity: 'high', vendorCode: 'rcd-trip' }, info: 'RCD tripped' });
  await r.clock.advance(0);
  assert.deepEqual(
    r.link.ofAction('StatusNotification').map((p) => `${p.status}/${p.errorCode}/${p.info ?? ''}/${p.vendorErrorCode ?? ''}`),
    ['Preparing/NoError//', 'Charging/NoError//', 'Faulted/GroundFailure/RCD tripped/rcd-trip'],
  );
  r.link.close();
  r.station.setStatus(1, 'Available');
  r.station.setStatus(1, 'Preparing');
  r.link.sent.length = 0;
  r.link.open();
  await r.clock.advance(0);
  assert.deepEqual(
    r.link.sent.map((s) => `${s.action}:${String(s.payload.connectorId ?? '')}:${String(s.payload.status ?? '')}`),
    ['BootNotification::', 'StatusNotification:0:Available', 'StatusNotification:1:Preparing'],
  );
  await r.adapter.stop();
});

test('4.9 connector 0: a station-level fault is reported on connector 0; Unavailable when every connector is', async () => {
  const r = await booted({ evses: 2 });
  // One change per turn: changes within one turn are reported once (see status.ts).
  r.station.fault(0, { kind: 'reader-failure', severity: 'low', detail: 'no answer' });
  await r.clock.advance(0);
  r.station.faultCleared(0, 'reader-failure');
  await r.clock.advance(0);
  r.station.setStatus(1, 'Unavailable');
  await r.clock.advance(0);
  r.station.setStatus(2, 'Unavailable');
  await r.clock.advance(0);
  r.station.setStatus(1, 'Available');
  await r.clock.advance(0);
  assert.deepEqual(
    r.link.ofAction('StatusNotification').map((p) => `${String(p.connectorId)}:${String(p.status)}:${String(p.errorCode)}`),
    ['0:Available:ReaderFailure', '0:Available:NoError', '1:Unavailable:NoError', '2:Unavailable:NoError', '0:Unavailable:NoError', '1:Available:NoError', '0:Available:NoError'],
  );
  await r.adapter.stop();
});

test('4.9 MinimumStatusDuration: a short-lived status is not reported', async () => {
  const r = await booted({ v16: { MinimumStatusDuration: '5' } });
  r.station.setStatus(1, 'Preparing');
  await r.clock.advance(2_000);
  r.station.setStatus(1, 'SuspendedEV');
  await r.clock.advance(1_000);
  r.station.setStatus(1, 'Charging');
  await r.clock.advance(5_000);
  assert.deepEqual(r.link.ofAction('StatusNotification').map((p) => p.status), ['Charging']);
  await r.adapter.stop();
});

test('4.8 / 4.10 Start and Stop through the outbox: real transactionId substituted, meterStart/meterStop, reason, idTag', async () => {
  const r = await booted({ v16: { StopTxnSampledData: 'Energy.Active.Import.Register', MeterValuesSampledData: 'Energy.Active.Import.Register,Power.Active.Import' } });
  r.link.responders.set('StartTransaction', () => ({ transactionId: 4711, idTagInfo: { status: 'Accepted' } }));
  const t0 = r.clock.now();
  const tok = { idToken: 'CAFE01', type: 'ISO14443' as const };
  r.station.meter(sample(1000, { context: 'Sample.Clock' }));
  r.station.sessionEvent('started', session({ evConnectedAt: t0 }), 'CablePluggedIn');
  await r.clock.advance(0);
  assert.equal(r.link.ofAction('StartTransaction').length, 0, 'not authorized yet');
  r.station.sessionEvent('authorized', session({ evConnectedAt: t0, authorizedAt: t0 + 5_000, idToken: tok, meterStartWh: 1000.4, reservationId: 7 }));
  r.station.meter(sample(1500, { sessionId: 'S1' }));
  r.station.sessionEvent(
    'ended',
    session({ evConnectedAt: t0, authorizedAt: t0 + 5_000, idToken: tok, meterStartWh: 1000.4, endedAt: t0 + 60_000, stoppedReason: 'Local', meterStopWh: 2500.6 }),
    'StopAuthorized',
  );
  await r.clock.advance(0);
  const txMessages = r.link.sent.filter((s) => s.queued);
  assert.deepEqual(txMessages.map((s) => s.action), ['StartTransaction', 'MeterValues', 'StopTransaction']);
  assert.deepEqual(txMessages[0]!.payload, {
    connectorId: 1,
    idTag: 'CAFE01',
    meterStart: 1000,
    timestamp: '2030-01-01T00:00:05.000Z',
    reservationId: 7,
  });
  assert.equal(txMessages[1]!.payload.transactionId, 4711);
  assert.deepEqual(
    (txMessages[1]!.payload.meterValue as { sampledValue: { measurand: string; value: string; unit: string; context: string }[] }[])[0]!.sampledValue.map(
      (v) => [v.measurand, v.value, v.unit, v.context],
    ),
    [
      ['Energy.Active.Import.Register', '1500', 'Wh', 'Sample.Periodic'],
      ['Power.Active.Import', '7200', 'W', 'Sample.Periodic'],
    ],
  );
  const stop = txMessages[2]!.payload;
  assert.equal(stop.transactionId, 4711);
  assert.equal(stop.meterStop, 2501);
  assert.equal(stop.reason, 'Local');
  assert.equal(stop.idTag, 'CAFE01');
  const data = stop.transactionData as { sampledValue: { context: string; value: string }[] }[];
  assert.deepEqual(
    data.map((mv) => `${mv.sampledValue[0]!.context}=${mv.sampledValue[0]!.value}`),
    ['Transaction.Begin=1000', 'Sample.Periodic=1500', 'Transaction.End=2501'],
  );
  assert.equal(r.adapter.registration, 'Accepted');
  await r.adapter.stop();
});

test('4.10 StopTransaction reason mapping from station stop reasons', async () => {
  const { stopReason } = await import('../src/ocpp/v16/transactions.js');
  const cases: [Parameters<typeof stopReason>[0], string][] = [
    ['EVDisconnected', 'EVDisconnected'],
    ['Local', 'Local'],
    ['Remote', 'Remote'],
    ['PowerLoss', 'PowerLoss'],
    ['Reboot', 'Reboot'],
    ['HardReset', 'HardReset'],
    ['SoftReset', 'SoftReset'],
    ['UnlockCommand', 'UnlockCommand'],
    ['DeAuthorized', 'DeAuthorized'],
    ['EmergencyStop', 'EmergencyStop'],
    ['Other', 'Other'],
    ['ImmediateReset', 'HardReset'],
    ['MasterPass', 'Local'],
    ['EnergyLimitReached', 'Other'],
    ['GroundFault', 'Other'],
  ];
  for (const [from, to] of cases) assert.equal(stopReason(from), to, String(from));
});

test('3.5.4 / errata 3.17 StartTransaction.conf not Accepted: the station is told to deauthorize', async () => {
  const r = await booted();
  r.link.responders.set('StartTransaction', () => ({ transactionId: 9, idTagInfo: { status: 'Blocked', parentIdTag: 'GRP' } }));
  const t = r.clock.now();
  r.station.sessionEvent('authorized', session({ evConnectedAt: t, authorizedAt: t, idToken: { idToken: 'BAD', type: 'ISO14443' } }));
  await r.clock.advance(0);
  assert.deepEqual(r.station.commands.filter((c) => c.name === 'deauthorize'), [
    { name: 'deauthorize', args: ['S1', { status: 'Blocked', groupId: 'GRP' }] },
  ]);
  await r.adapter.stop();
});

test('3.7 transaction messages queued offline go out in order after boot; power loss → StartTransaction then StopTransaction(PowerLoss)', async () => {
  const r = await rig();
  r.link.responders.set('StartTransaction', () => ({ transactionId: 77, idTagInfo: { status: 'Accepted' } }));
  const t = r.clock.now();
  const tok = { idToken: 'AB12', type: 'ISO14443' as const };
  // A session recovered after a power cut: the station reports it ended, StartTransaction never went out.
  r.station.sessionEvent(
    'ended',
    session({ evConnectedAt: t, authorizedAt: t, idToken: tok, meterStartWh: 10, meterStopWh: 900, endedAt: t + 1000, stoppedReason: 'PowerLoss' }),
    'AbnormalCondition',
  );
  await r.clock.advance(0);
  assert.equal(r.link.pendingCount(), 2);
  assert.deepEqual(r.link.actions(), []);
  r.link.open();
  await r.clock.advance(0);
  assert.deepEqual(r.link.actions(), ['BootNotification', 'StatusNotification', 'StatusNotification', 'StartTransaction', 'StopTransaction']);
  const stop = r.link.ofAction('StopTransaction')[0]!;
  assert.equal(stop.reason, 'PowerLoss');
  assert.equal(stop.idTag, undefined);
  assert.equal(stop.meterStop, 900);
  assert.equal(stop.transactionId, 77);
  assert.equal(r.link.pendingCount(), 0);
  await r.adapter.stop();
});

test('3.16.2 clock-aligned MeterValues: in a transaction queued with its transactionId; outside sent directly without', async () => {
  const r = await booted({ v16: { MeterValuesAlignedData: 'Energy.Active.Import.Register,Current.Import,Voltage,Frequency,SoC,Current.Offered' } });
  r.station.meter(sample(100, { context: 'Sample.Clock' }));
  await r.clock.advance(0);
  const direct = r.link.sent.find((s) => s.action === 'MeterValues')!;
  assert.equal(direct.queued, false);
  assert.equal(direct.payload.transactionId, undefined);
  const sv = (direct.payload.meterValue as { sampledValue: Record<string, string>[] }[])[0]!.sampledValue;
  assert.deepEqual(
    sv.map((v) => [v.measurand, v.phase, v.value, v.unit, v.location, v.context]),
    [
      ['Energy.Active.Import.Register', undefined, '100', 'Wh', 'Outlet', 'Sample.Clock'],
      ['Current.Import', 'L1', '10', 'A', 'Outlet', 'Sample.Clock'],
      ['Current.Import', 'L2', '10.5', 'A', 'Outlet', 'Sample.Clock'],
      ['Current.Import', 'L3', '9.75', 'A', 'Outlet', 'Sample.Clock'],
      ['Voltage', 'L1-N', '230', 'V', 'Outlet', 'Sample.Clock'],
      ['Voltage', 'L2-N', '231', 'V', 'Outlet', 'Sample.Clock'],
      ['Voltage', 'L3-N', '229.5', 'V', 'Outlet', 'Sample.Clock'],
      ['Frequency', undefined, '50', undefined, 'Outlet', 'Sample.Clock'],
      ['SoC', undefined, '42', 'Percent', 'EV', 'Sample.Clock'],
      ['Current.Offered', undefined, '16', 'A', 'Outlet', 'Sample.Clock'],
    ],
  );
  const t = r.clock.now();
  r.station.sessionEvent('authorized', session({ evConnectedAt: t, authorizedAt: t, idToken: { idToken: 'T', type: 'ISO14443' } }));
  r.station.meter(sample(200, { context: 'Sample.Clock', sessionId: 'S1' }));
  await r.clock.advance(0);
  const queued = r.link.sent.filter((s) => s.queued && s.action === 'MeterValues');
  assert.equal(queued.length, 1);
  assert.equal(typeof queued[0]!.payload.transactionId, 'number');
  assert.notEqual(queued[0]!.payload.transactionId, -1);
  await r.adapter.stop();
});

test('9.1 keys that change station behaviour apply live (AuthSettings, sample and aligned intervals)', async () => {
  const r = await booted({ v16: { MeterValueSampleInterval: '30', ClockAlignedDataInterval: '900' } });
  assert.equal(r.station.sampleInterval, 30);
  assert.equal(r.station.alignedInterval, 900);
  assert.equal(r.station.auth.authorizationCacheEnabled, true);
  assert.equal(r.station.auth.connectionTimeOutS, 60);
  assert.deepEqual(await r.link.csmsCall('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '10' }), { status: 'Accepted' });
  assert.deepEqual(await r.link.csmsCall('ChangeConfiguration', { key: 'ClockAlignedDataInterval', value: '0' }), { status: 'Accepted' });
  assert.deepEqual(await r.link.csmsCall('ChangeConfiguration', { key: 'StopTransactionOnInvalidId', value: 'false' }), { status: 'Accepted' });
  assert.deepEqual(await r.link.csmsCall('ChangeConfiguration', { key: 'AllowOfflineTxForUnknownId', value: 'true' }), { status: 'Accepted' });
  assert.deepEqual(await r.link.csmsCall('ChangeConfiguration', { key: 'ConnectionTimeOut', value: '90' }), { status: 'Accepted' });
  assert.equal(r.station.sampleInterval, 10);
  assert.equal(r.station.alignedInterval, 0);
  assert.equal(r.station.auth.stopTransactionOnInvalidId, false);
  assert.equal(r.station.auth.allowOfflineTxForUnknownId, true);
  assert.equal(r.station.auth.connectionTimeOutS, 90);
  await r.adapter.stop();
});

test('5.x CSMS-initiated calls map onto station commands', async () => {
  const r = await booted({ evses: 2 });
  const call = (a: string, p: unknown): Promise<unknown> => r.link.csmsCall(a, p);
  assert.deepEqual(await call('RemoteStartTransaction', { connectorId: 2, idTag: 'R1' }), { status: 'Accepted' });
  assert.deepEqual(await call('RemoteStartTransaction', { connectorId: 3, idTag: 'R1' }), { status: 'Rejected' });
  assert.deepEqual(
    await call('RemoteStartTransaction', { connectorId: 1, idTag: 'R1', chargingProfile: { chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Absolute', chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 6 }] } } }),
    { status: 'Rejected' },
  );
  assert.deepEqual(await call('RemoteStopTransaction', { transactionId: 999 }), { status: 'Rejected' });
  assert.deepEqual(await call('UnlockConnector', { connectorId: 1 }), { status: 'Unlocked' });
  assert.deepEqual(await call('UnlockConnector', { connectorId: 5 }), { status: 'NotSupported' });
  assert.deepEqual(await call('Reset', { type: 'Soft' }), { status: 'Accepted' });
  r.station.results.availability = 'Scheduled';
  assert.deepEqual(await call('ChangeAvailability', { connectorId: 0, type: 'Inoperative' }), { status: 'Scheduled' });
  assert.deepEqual(await call('ChangeAvailability', { connectorId: 9, type: 'Inoperative' }), { status: 'Rejected' });
  assert.deepEqual(await call('ClearCache', {}), { status: 'Accepted' });
  assert.deepEqual(await call('SendLocalList', { listVersion: 3, updateType: 'Full', localAuthorizationList: [{ idTag: 'A', idTagInfo: { status: 'Accepted' } }] }), { status: 'Accepted' });
  assert.deepEqual(await call('GetLocalListVersion', {}), { listVersion: 3 });
  assert.deepEqual(
    await call('SendLocalList', { listVersion: 4, updateType: 'Differential', localAuthorizationList: [{ idTag: 'A' }, { idTag: 'a' }] }),
    { status: 'Failed' },
    'duplicate idTags',
  );
  assert.deepEqual(await call('ReserveNow', { connectorId: 1, expiryDate: '2030-01-01T00:00:00Z', idTag: 'R', reservationId: 5, parentIdTag: 'P' }), { status: 'Accepted' });
  assert.deepEqual(await call('CancelReservation', { reservationId: 5 }), { status: 'Accepted' });
  assert.deepEqual(await call('DataTransfer', { vendorId: 'com.example' }), { status: 'UnknownVendorId' });
  r.adapter.onDataTransfer('com.example', (messageId, data) => ({ status: 'Accepted', data: `${messageId}:${data}` }));
  assert.deepEqual(await call('DataTransfer', { vendorId: 'com.example', messageId: 'm', data: 'd' }), { status: 'Accepted', data: 'm:d' });
  assert.deepEqual(await call('SetChargingProfile', {}), { status: 'NotSupported' });
  const names = r.station.commands.map((c) => c.name);
  assert.deepEqual(names, ['requestStart', 'unlock', 'reset', 'setAvailability', 'clearAuthCache', 'updateLocalList', 'reserve', 'cancelReservation']);
  assert.deepEqual(r.station.commands[0]!.args, [2, { idToken: 'R1', type: 'ISO14443' }, { preAuthorized: true }]);
  const reserve = r.station.commands.find((c) => c.name === 'reserve')!.args[0] as { evseId: number; groupId: string };
  assert.equal(reserve.evseId, 1);
  assert.equal(reserve.groupId, 'P');
  await r.adapter.stop();
});

test('5.17 TriggerMessage: response first, then the message; BootNotification refused once Accepted', async () => {
  const r = await booted({ evses: 2 });
  assert.deepEqual(await r.link.csmsCall('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 2 }), { status: 'Accepted' });
  assert.deepEqual(r.link.actions(), [], 'nothing sent before the response');
  await r.clock.advance(0);
  assert.deepEqual(r.link.ofAction('StatusNotification').map((p) => p.connectorId), [2]);
  assert.deepEqual(await r.link.csmsCall('TriggerMessage', { requestedMessage: 'BootNotification' }), { status: 'Rejected' });
  r.station.nextSample = sample(321);
  assert.deepEqual(await r.link.csmsCall('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 }), { status: 'Accepted' });
  assert.deepEqual(await r.link.csmsCall('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });
  assert.deepEqual(await r.link.csmsCall('TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' }), { status: 'Accepted' });
  assert.deepEqual(await r.link.csmsCall('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' }), { status: 'Accepted' });
  assert.deepEqual(await r.link.csmsCall('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 7 }), { status: 'Rejected' });
  await r.clock.advance(0);
  assert.deepEqual(r.link.actions().slice(1), ['MeterValues', 'Heartbeat', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification']);
  const mv = r.link.ofAction('MeterValues')[0]!;
  assert.equal(mv.connectorId, 1);
  assert.equal((mv.meterValue as { sampledValue: { context: string; value: string }[] }[])[0]!.sampledValue[0]!.context, 'Trigger');
  await r.adapter.stop();
});

test('4.1 Authorize through the CsmsGateway the adapter gives the station', async () => {
  const r = await booted();
  r.link.responders.set('Authorize', () => ({ idTagInfo: { status: 'Expired', parentIdTag: 'G1', expiryDate: '2031-01-01T00:00:00Z' } }));
  const info = await r.station.gateway!.authorize({ idToken: 'T1', type: 'ISO14443' });
  assert.equal(info.status, 'Expired');
  assert.equal(info.groupId, 'G1');
  assert.equal(typeof info.expiresAt, 'number');
  assert.deepEqual(r.link.ofAction('Authorize'), [{ idTag: 'T1' }]);
  r.link.close();
  assert.equal(r.station.gateway!.online, false);
  await assert.rejects(r.station.gateway!.authorize({ idToken: 'T1', type: 'ISO14443' }));
  await r.adapter.stop();
});
