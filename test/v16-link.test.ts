/**
 * The 1.6 adapter over the real OCPP-J link to the in-process strict CSMS (every frame checked against
 * the official 1.6 JSON schemas both ways), with a fake station so that each station event is chosen
 * by the test. Asserts the exact sequence of CALLs the CSMS saw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { openDatabase } from '../src/store/db.js';
import { createLink, type RpcLink } from '../src/ocpp/rpc-link.js';
import { createV16AdapterWithExtras, type V16Adapter } from '../src/ocpp/v16/index.js';
import { startCsms, type Csms } from './support/csms.js';
import { ocppConfig } from './support/ocpp-link.js';
import { FakeStation, quietLog, session, testConfig } from './support/v16-fakes.js';

interface Rig {
  csms: Csms;
  clock: VirtualClock;
  link: RpcLink;
  station: FakeStation;
  adapter: V16Adapter;
  close(): Promise<void>;
}

const ID = 'CP-V16';

async function rig(evses = 1): Promise<Rig> {
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  const clock = new VirtualClock();
  const db = openDatabase(':memory:');
  const link = createLink({ ocpp: ocppConfig({ csmsUrl: csms.url }), identity: ID }, { db, clock, log: quietLog, random: () => 0 });
  const station = new FakeStation(evses, () => clock.now());
  const adapter = createV16AdapterWithExtras({ link, station, db, clock, log: quietLog, config: testConfig({ csmsUrl: csms.url }) });
  await adapter.start();
  await link.start();
  return {
    csms,
    clock,
    link,
    station,
    adapter,
    async close() {
      await adapter.stop();
      await link.stop();
      await csms.close();
      db.close();
    },
  };
}

/** Move virtual time in small steps (reconnect timers) while real sockets do their work. */
async function until(r: Rig, what: string, fn: () => boolean, maxSteps = 400): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (fn()) return;
    await r.clock.advance(50);
    await new Promise((res) => setTimeout(res, 2));
  }
  throw new Error(`timed out waiting for ${what}; CSMS saw ${r.csms.actions(ID).join(', ')}`);
}

const count = (r: Rig, action: string): number => r.csms.actions(ID).filter((a) => a === action).length;

test('4.2 / errata 3.22 boot over the wire: BootNotification, then StatusNotification of connector 0 and every connector', async () => {
  const r = await rig(2);
  try {
    await until(r, 'status of all connectors', () => count(r, 'StatusNotification') === 3);
    assert.deepEqual(r.csms.actions(ID), ['BootNotification', 'StatusNotification', 'StatusNotification', 'StatusNotification']);
    const boot = await r.csms.waitFor('BootNotification');
    assert.equal(boot.chargePointVendor, 'OpenStation');
    assert.equal(r.adapter.registration, 'Accepted');
  } finally {
    await r.close();
  }
});

test('5.8 / 5.3 / 5.17 / 5.x every CSMS-initiated 1.6 call gets a schema-valid answer', async () => {
  const r = await rig(2);
  try {
    await until(r, 'boot', () => r.adapter.registration === 'Accepted');
    const call = <T = Record<string, unknown>>(action: string, params: unknown): Promise<T> => r.csms.call<T>(ID, action, params);
    const all = await call<{ configurationKey: { key: string; value: string }[] }>('GetConfiguration', {});
    assert.ok(all.configurationKey.length >= 30);
    assert.deepEqual(await call('GetConfiguration', { key: ['MeterValueSampleInterval', 'Nope'] }), {
      configurationKey: [{ key: 'MeterValueSampleInterval', readonly: false, value: '60' }],
      unknownKey: ['Nope'],
    });
    assert.deepEqual(await call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '15' }), { status: 'Accepted' });
    assert.equal(r.station.sampleInterval, 15);
    assert.deepEqual(await call('ChangeConfiguration', { key: 'NumberOfConnectors', value: '4' }), { status: 'Rejected' });
    assert.deepEqual(await call('ChangeConfiguration', { key: 'Foo', value: '4' }), { status: 'NotSupported' });
    assert.deepEqual(await call('ChangeConfiguration', { key: 'WebSocketPingInterval', value: '0' }), { status: 'RebootRequired' });
    assert.deepEqual(await call('ChangeConfiguration', { key: 'TransactionMessageAttempts', value: '5' }), { status: 'Accepted' }, 'the link applies the retry policy live');
    assert.deepEqual(await call('ClearCache', {}), { status: 'Accepted' });
    assert.deepEqual(await call('GetLocalListVersion', {}), { listVersion: 0 });
    assert.deepEqual(
      await call('SendLocalList', { listVersion: 1, updateType: 'Full', localAuthorizationList: [{ idTag: 'AA', idTagInfo: { status: 'Accepted' } }] }),
      { status: 'Accepted' },
    );
    assert.deepEqual(await call('GetLocalListVersion', {}), { listVersion: 1 });
    assert.deepEqual(await call('ReserveNow', { connectorId: 1, expiryDate: '2031-01-01T00:00:00Z', idTag: 'AA', reservationId: 1 }), { status: 'Accepted' });
    assert.deepEqual(await call('CancelReservation', { reservationId: 1 }), { status: 'Accepted' });
    assert.deepEqual(await call('ChangeAvailability', { connectorId: 0, type: 'Inoperative' }), { status: 'Accepted' });
    assert.deepEqual(await call('UnlockConnector', { connectorId: 2 }), { status: 'Unlocked' });
    assert.deepEqual(await call('Reset', { type: 'Hard' }), { status: 'Accepted' });
    assert.deepEqual(await call('RemoteStartTransaction', { idTag: 'AA' }), { status: 'Accepted' });
    assert.deepEqual(await call('RemoteStopTransaction', { transactionId: 42 }), { status: 'Rejected' });
    assert.deepEqual(await call('DataTransfer', { vendorId: 'x.y', data: 'hi' }), { status: 'UnknownVendorId' });
    // 4.3 the other way: the test CSMS knows vendorId 'ocpp-station'.
    assert.deepEqual(await r.adapter.dataTransfer('ocpp-station', 'ping', 'x'), { status: 'Accepted' });
    assert.deepEqual(await r.adapter.dataTransfer('com.unknown'), { status: 'UnknownVendorId' });
    assert.deepEqual(
      await call('SetChargingProfile', {
        connectorId: 1,
        csChargingProfiles: {
          chargingProfileId: 1,
          stackLevel: 0,
          chargingProfilePurpose: 'TxDefaultProfile',
          chargingProfileKind: 'Absolute',
          chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 6 }] },
        },
      }),
      { status: 'NotSupported' },
    );
    // Firmware Management (firmware.ts): accepted, scheduled for the retrieveDate.
    assert.deepEqual(await call('UpdateFirmware', { location: 'http://x/y', retrieveDate: '2031-01-01T00:00:00Z' }), {});
    // TriggerMessage: each kind is answered, then sent.
    r.station.nextSample = {
      evseId: 1,
      context: 'Trigger',
      currentOfferedA: 16,
      reading: { at: r.clock.now(), energyImportWh: 1234.5, powerW: 0, currentA: { L1: 0 }, voltageV: { L1: 230 } },
    };
    const before = r.csms.actions(ID).length;
    for (const requestedMessage of ['StatusNotification', 'Heartbeat', 'MeterValues', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification'])
      assert.deepEqual(await call('TriggerMessage', { requestedMessage, connectorId: 1 }), { status: 'Accepted' }, requestedMessage);
    assert.deepEqual(await call('TriggerMessage', { requestedMessage: 'BootNotification' }), { status: 'Rejected' });
    await until(r, 'triggered messages', () => r.csms.actions(ID).length >= before + 5);
    assert.deepEqual(r.csms.actions(ID).slice(before), [
      'StatusNotification',
      'Heartbeat',
      'MeterValues',
      'DiagnosticsStatusNotification',
      'FirmwareStatusNotification',
    ]);
  } finally {
    await r.close();
  }
});

test('4.8 / 4.7 / 4.10 transaction over the wire: StartTransaction, MeterValues and StopTransaction carry the CSMS transactionId', async () => {
  const r = await rig();
  try {
    await until(r, 'boot', () => r.adapter.registration === 'Accepted');
    await r.csms.call(ID, 'ChangeConfiguration', { key: 'StopTxnSampledData', value: 'Energy.Active.Import.Register,Power.Active.Import' });
    await r.csms.call(ID, 'ChangeConfiguration', { key: 'MeterValuesSampledData', value: 'Energy.Active.Import.Register,Current.Import,Voltage,SoC' });
    const t = r.clock.now();
    const tok = { idToken: 'CAFE', type: 'ISO14443' as const };
    const reading = { at: t, energyImportWh: 500, powerW: 3680, currentA: { L1: 16 }, voltageV: { L1: 230 }, socPercent: 55 };
    r.station.meter({ evseId: 1, context: 'Sample.Clock', currentOfferedA: 16, reading });
    r.station.sessionEvent('started', session({ evConnectedAt: t }), 'CablePluggedIn');
    r.station.sessionEvent('authorized', session({ evConnectedAt: t, authorizedAt: t, idToken: tok, meterStartWh: 500 }));
    r.station.meter({ evseId: 1, sessionId: 'S1', context: 'Sample.Periodic', currentOfferedA: 16, reading: { ...reading, at: t + 60_000, energyImportWh: 561 } });
    r.station.sessionEvent(
      'ended',
      session({ evConnectedAt: t, authorizedAt: t, idToken: tok, meterStartWh: 500, endedAt: t + 90_000, meterStopWh: 592, stoppedReason: 'EVDisconnected' }),
      'EVDeparted',
    );
    await until(r, 'StopTransaction', () => count(r, 'StopTransaction') === 1 && r.link.pendingCount() === 0 && count(r, 'MeterValues') === 2);
    const seq = r.csms.actions(ID).filter((a) => a !== 'StatusNotification');
    // Transaction messages go before other traffic queued at the same time (README "Outbox and message
    // order"): the clock-aligned MeterValues outside the transaction waits until the outbox is empty.
    assert.deepEqual(seq, ['BootNotification', 'StartTransaction', 'MeterValues', 'StopTransaction', 'MeterValues']);
    const started = r.csms.log.find((e) => e.type === 'result' && e.action === 'StartTransaction')!.payload as { transactionId: number };
    const mv = await r.csms.waitFor<{ transactionId?: number; meterValue: unknown[] }>('MeterValues', (p) => p.transactionId !== undefined);
    assert.equal(mv.transactionId, started.transactionId);
    const stop = await r.csms.waitFor<Record<string, unknown>>('StopTransaction');
    assert.equal(stop.transactionId, started.transactionId);
    assert.equal(stop.reason, 'EVDisconnected');
    assert.equal(stop.meterStop, 592);
    assert.equal(stop.idTag, undefined);
    assert.equal((stop.transactionData as unknown[]).length, 3, 'Transaction.Begin, one periodic sample, Transaction.End');
  } finally {
    await r.close();
  }
});

test('3.7 offline: transaction messages queued while the CSMS is away go out after reconnect and boot, in order', async () => {
  const r = await rig();
  try {
    await until(r, 'boot', () => r.adapter.registration === 'Accepted');
    r.csms.setAccepting(false);
    await r.csms.disconnect(ID, { force: true });
    await until(r, 'offline', () => r.adapter.registration === 'offline');
    const t = r.clock.now();
    const tok = { idToken: 'OFF1', type: 'ISO14443' as const };
    r.station.setStatus(1, 'Preparing');
    r.station.sessionEvent('authorized', session({ evConnectedAt: t, authorizedAt: t, idToken: tok, meterStartWh: 0, offline: true }));
    r.station.setStatus(1, 'Charging');
    r.station.sessionEvent('ended', session({ evConnectedAt: t, authorizedAt: t, idToken: tok, meterStartWh: 0, endedAt: t + 5000, meterStopWh: 50, stoppedReason: 'Local' }));
    r.station.setStatus(1, 'Finishing');
    const seen = r.csms.actions(ID).length;
    r.csms.setAccepting(true);
    await until(r, 'StopTransaction and the statuses', () => count(r, 'StopTransaction') === 1 && r.csms.actions(ID).length >= seen + 5);
    // Errata 3.22: the present statuses after the accepted boot; the queued transaction messages go first.
    assert.deepEqual(r.csms.actions(ID).slice(seen), ['BootNotification', 'StartTransaction', 'StopTransaction', 'StatusNotification', 'StatusNotification']);
    const status = r.csms.log.filter((e) => e.direction === 'in' && e.action === 'StatusNotification').slice(-1)[0]!.payload as { status: string };
    assert.equal(status.status, 'Finishing', 'only the present status, not the history');
  } finally {
    await r.close();
  }
});
