/**
 * F: remote control with the 2.0.1 adapter end to end (real station on the simulated board, real link,
 * strict CSMS): RequestStart / RequestStop, UnlockConnector, TriggerMessage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootedV201Station, startCharging, type V201Station } from './support/v201-station.js';

type Tx = {
  eventType: string;
  triggerReason: string;
  idToken?: { idToken: string };
  transactionInfo: { transactionId: string; chargingState?: string; stoppedReason?: string; remoteStartId?: number };
  meterValue?: unknown[];
};
const txs = (s: V201Station): Tx[] => s.calls<Tx>('TransactionEvent');

function booted(variables: Record<string, string> = {}): Promise<V201Station> {
  return bootedV201Station({ variables });
}

test('TC_F_03_CS / TC_F_08_CS F02/F03 remote start then remote stop: Started(RemoteStart) with remoteStartId and the idToken (F02.FR.01, F02.FR.21), Ended(RemoteStop, Remote)', async () => {
  const s = await booted();
  try {
    assert.deepEqual(await s.call('RequestStartTransaction', { evseId: 1, remoteStartId: 12, idToken: { idToken: 'APP-USER', type: 'Central' } }), {
      status: 'Accepted',
    });
    s.sim.plug(1);
    s.sim.evReady(1);
    await s.until('Started', () => txs(s).length >= 1);
    const started = txs(s)[0]!;
    assert.equal(started.eventType, 'Started');
    assert.equal(started.triggerReason, 'RemoteStart', 'F02.FR.21');
    assert.equal(started.transactionInfo.remoteStartId, 12);
    assert.equal(started.idToken?.idToken, 'APP-USER');
    await s.run(5000);
    const id = started.transactionInfo.transactionId;
    assert.deepEqual(await s.call('RequestStopTransaction', { transactionId: 'unknown-id' }), { status: 'Rejected' });
    assert.deepEqual(await s.call('RequestStopTransaction', { transactionId: id }), { status: 'Accepted' });
    await s.until('Ended', () => txs(s).some((t) => t.eventType === 'Ended'));
    const last = txs(s).at(-1)!;
    assert.equal(last.triggerReason, 'RemoteStop');
    assert.equal(last.transactionInfo.stoppedReason, 'Remote');
  } finally {
    await s.close();
  }
});

test('TC_F_01_CS F01 remote start with the cable already in and TxStartPoint EVConnected: the response carries the running transactionId (F01.FR.13), the next event is RemoteStart with remoteStartId (F01.FR.19, F01.FR.25)', async () => {
  const s = await booted({ 'TxCtrlr.TxStartPoint': 'EVConnected' });
  try {
    s.sim.plug(1);
    await s.until('Started', () => txs(s).length === 1);
    const id = txs(s)[0]!.transactionInfo.transactionId;
    assert.deepEqual(await s.call('RequestStartTransaction', { evseId: 1, remoteStartId: 3, idToken: { idToken: 'APP', type: 'Central' } }), {
      status: 'Accepted',
      transactionId: id,
    });
    await s.until('Updated with remoteStartId', () => txs(s).length >= 2);
    const next = txs(s)[1]!;
    assert.equal(next.eventType, 'Updated');
    assert.equal(next.triggerReason, 'RemoteStart');
    assert.equal(next.transactionInfo.remoteStartId, 3);
    assert.equal(next.idToken?.idToken, 'APP');
    assert.deepEqual(await s.call('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 1 } }), { status: 'Scheduled' });
  } finally {
    await s.close();
  }
});

test('TC_F_05_CS / TC_F_06_CS / TC_F_10_CS F05 UnlockConnector: Unlocked when idle, UnknownConnector for a wrong EVSE / connector, OngoingAuthorizedTransaction while charging', async () => {
  const s = await booted();
  try {
    assert.deepEqual(await s.call('UnlockConnector', { evseId: 1, connectorId: 1 }), { status: 'Unlocked' });
    assert.deepEqual(await s.call('UnlockConnector', { evseId: 4, connectorId: 1 }), { status: 'UnknownConnector' });
    assert.deepEqual(await s.call('UnlockConnector', { evseId: 1, connectorId: 2 }), { status: 'UnknownConnector' });
    await startCharging(s);
    assert.deepEqual(await s.call('UnlockConnector', { evseId: 1, connectorId: 1 }), { status: 'OngoingAuthorizedTransaction' });
  } finally {
    await s.close();
  }
});

test('TC_F_11_CS / TC_F_13_CS / TC_F_18_CS / TC_F_20_CS / TC_F_26_CS / TC_F_27_CS F06 TriggerMessage: response first, then the message (F06.FR.04); BootNotification Rejected once Accepted (F06.FR.17); NotImplemented for the rest (F06.FR.08)', async () => {
  const s = await booted();
  try {
    const count = (a: string) => s.calls(a).length;
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });
    await s.until('Heartbeat', () => count('Heartbeat') === 1);
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'StatusNotification', evse: { id: 1, connectorId: 1 } }), { status: 'Accepted' });
    await s.until('StatusNotification', () => count('StatusNotification') === 2);
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'MeterValues', evse: { id: 1 } }), { status: 'Accepted' });
    await s.until('MeterValues', () => count('MeterValues') === 1);
    const mv = s.calls<{ evseId: number; meterValue: { sampledValue: { context: string; measurand: string }[] }[] }>('MeterValues')[0]!;
    assert.equal(mv.evseId, 1);
    assert.equal(mv.meterValue[0]!.sampledValue[0]!.context, 'Trigger');
    assert.equal(mv.meterValue[0]!.sampledValue[0]!.measurand, 'Energy.Active.Import.Register');
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'BootNotification' }), { status: 'Rejected' });
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'TransactionEvent' }), { status: 'Rejected' });
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' }), { status: 'Accepted' });
    await s.until('FirmwareStatusNotification', () => count('FirmwareStatusNotification') === 1);
    assert.deepEqual(s.calls('FirmwareStatusNotification')[0], { status: 'Idle' });
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'SignChargingStationCertificate' }), { status: 'NotImplemented' });
    // TransactionEvent while a transaction runs: Updated(Trigger) with the chargingState (F06.FR.07)
    await startCharging(s);
    await s.run(61_000);
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'TransactionEvent', evse: { id: 1 } }), { status: 'Accepted' });
    await s.until('triggered', () => txs(s).some((t) => t.triggerReason === 'Trigger'));
    const trig = txs(s).find((t) => t.triggerReason === 'Trigger')!;
    assert.equal(trig.eventType, 'Updated');
    assert.equal(trig.transactionInfo.chargingState, 'Charging');
    assert.ok(trig.meterValue?.length);
  } finally {
    await s.close();
  }
});

test('F01.FR.23 RequestStartTransaction on an Unavailable EVSE is Rejected', async () => {
  const s = await booted();
  try {
    assert.deepEqual(await s.call('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 1 } }), { status: 'Accepted' });
    assert.deepEqual(await s.call('RequestStartTransaction', { evseId: 1, remoteStartId: 4, idToken: { idToken: 'APP', type: 'Central' } }), { status: 'Rejected' });
  } finally {
    await s.close();
  }
});
