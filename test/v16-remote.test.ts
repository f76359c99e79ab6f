/**
 * End to end: the Central System's commands (1.6 chapter 5) on the simulated board, as the strict CSMS
 * sees the answers and the messages that follow them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startV16Station, IDENTITY, type V16Station } from './support/v16-station.js';

interface Status {
  connectorId: number;
  status: string;
}

async function booted(v16: Record<string, string> = {}, evses = 1): Promise<V16Station> {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0', ...v16 }, evses });
  await s.until('boot and statuses', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === evses + 1);
  return s;
}

const call = <T = Record<string, unknown>>(s: V16Station, action: string, params: unknown): Promise<T> => s.csms.call<T>(IDENTITY, action, params);
const lastStatus = (s: V16Station, connectorId = 1): string | undefined =>
  s.calls<Status>('StatusNotification').filter((x) => x.connectorId === connectorId).slice(-1)[0]?.status;
const txId = (s: V16Station): number =>
  (s.csms.log.filter((e) => e.type === 'result' && e.action === 'StartTransaction').slice(-1)[0]!.payload as { transactionId: number }).transactionId;

test('5.11 / 5.12 RemoteStartTransaction (AuthorizeRemoteTxRequests=false: no Authorize) and RemoteStopTransaction → StopTransaction(Remote)', async () => {
  const s = await booted();
  try {
    s.sim.plug(1);
    await s.run(1000);
    assert.deepEqual(await call(s, 'RemoteStartTransaction', { connectorId: 1, idTag: 'APP-USER-1' }), { status: 'Accepted' });
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    assert.equal(s.calls('Authorize').length, 0);
    assert.equal(s.calls('StartTransaction')[0]!.idTag, 'APP-USER-1');
    await s.run(30_000);
    assert.deepEqual(await call(s, 'RemoteStopTransaction', { transactionId: txId(s) + 1000 }), { status: 'Rejected' });
    assert.deepEqual(await call(s, 'RemoteStopTransaction', { transactionId: txId(s) }), { status: 'Accepted' });
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    assert.equal(s.calls('StopTransaction')[0]!.reason, 'Remote');
    assert.equal(s.calls('StopTransaction')[0]!.transactionId, txId(s));
    await s.until('Finishing', () => lastStatus(s) === 'Finishing');
  } finally {
    await s.close();
  }
});

test('5.11 RemoteStartTransaction with AuthorizeRemoteTxRequests=true authorizes first; without connectorId the charge point picks one', async () => {
  const s = await booted({ AuthorizeRemoteTxRequests: 'true' });
  try {
    s.sim.plug(1);
    await s.run(1000);
    assert.deepEqual(await call(s, 'RemoteStartTransaction', { idTag: 'APP-USER-2' }), { status: 'Accepted' });
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    const seq = s.actions().filter((a) => a === 'Authorize' || a === 'StartTransaction');
    assert.deepEqual(seq, ['Authorize', 'StartTransaction']);
    // A second remote start while the connector is taken is refused.
    assert.deepEqual(await call(s, 'RemoteStartTransaction', { idTag: 'APP-USER-3' }), { status: 'Rejected' });
  } finally {
    await s.close();
  }
});

test('5.18 UnlockConnector during a transaction: StopTransaction(UnlockCommand) first, then Unlocked', async () => {
  const s = await booted();
  try {
    s.sim.plug(1);
    s.sim.tap('CAFE');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.run(10_000);
    assert.deepEqual(await call(s, 'UnlockConnector', { connectorId: 1 }), { status: 'Unlocked' });
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    assert.equal(s.calls('StopTransaction')[0]!.reason, 'UnlockCommand');
    assert.deepEqual(await call(s, 'UnlockConnector', { connectorId: 2 }), { status: 'NotSupported' }, 'errata 3.87: unknown connector');
  } finally {
    await s.close();
  }
});

test('5.14 Reset Soft: StopTransaction(SoftReset) for the running transaction, then the station asks for a restart', async () => {
  const s = await booted();
  try {
    const restarts: string[] = [];
    s.station.on('restart-requested', (r) => restarts.push(r));
    s.sim.plug(1);
    s.sim.tap('CAFE');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.run(10_000);
    assert.deepEqual(await call(s, 'Reset', { type: 'Soft' }), { status: 'Accepted' });
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1 && restarts.length === 1);
    assert.equal(s.calls('StopTransaction')[0]!.reason, 'SoftReset');
    assert.deepEqual(restarts, ['SoftReset']);
  } finally {
    await s.close();
  }
});

test('5.2 ChangeAvailability: Scheduled during a transaction, Unavailable reported after it; connector 0 = whole charge point', async () => {
  const s = await booted();
  try {
    s.sim.plug(1);
    s.sim.tap('CAFE');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    assert.deepEqual(await call(s, 'ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Scheduled' });
    await s.run(5_000);
    assert.notEqual(lastStatus(s), 'Unavailable');
    s.sim.tap('CAFE');
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    s.sim.unplug(1);
    await s.until('Unavailable', () => lastStatus(s) === 'Unavailable');
    assert.deepEqual(await call(s, 'ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Accepted' }, 'already so');
    assert.deepEqual(await call(s, 'ChangeAvailability', { connectorId: 0, type: 'Operative' }), { status: 'Accepted' });
    assert.deepEqual(await call(s, 'ChangeAvailability', { connectorId: 1, type: 'Operative' }), { status: 'Accepted' });
    await s.until('Available', () => lastStatus(s) === 'Available');
    assert.deepEqual(await call(s, 'ChangeAvailability', { connectorId: 7, type: 'Operative' }), { status: 'Rejected' });
  } finally {
    await s.close();
  }
});

test('5.13 ReserveNow → Reserved; the reserved idTag starts with reservationId; 5.1 CancelReservation of an unknown id is Rejected', async () => {
  const s = await booted();
  try {
    const expiry = new Date(Date.now() + 3600_000).toISOString();
    assert.deepEqual(await call(s, 'ReserveNow', { connectorId: 1, expiryDate: expiry, idTag: 'RES-TAG', reservationId: 31 }), { status: 'Accepted' });
    await s.until('Reserved', () => lastStatus(s) === 'Reserved');
    assert.deepEqual(await call(s, 'ReserveNow', { connectorId: 1, expiryDate: expiry, idTag: 'OTHER', reservationId: 32 }), { status: 'Occupied' });
    s.sim.tap('OTHER');
    await s.run(2000);
    assert.equal(s.calls('StartTransaction').length, 0, 'another idTag cannot use the reserved connector');
    s.sim.plug(1);
    s.sim.tap('RES-TAG');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    assert.equal(s.calls('StartTransaction')[0]!.reservationId, 31);
    assert.deepEqual(await call(s, 'CancelReservation', { reservationId: 31 }), { status: 'Rejected' }, 'used up');
  } finally {
    await s.close();
  }
});

test('5.17 TriggerMessage StatusNotification (all connectors) and MeterValues on the running transaction', async () => {
  const s = await booted({}, 2);
  try {
    s.sim.plug(2);
    s.sim.tap('CAFE');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.run(10_000);
    const before = s.actions().length;
    assert.deepEqual(await call(s, 'TriggerMessage', { requestedMessage: 'StatusNotification' }), { status: 'Accepted' });
    assert.deepEqual(await call(s, 'TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 2 }), { status: 'Accepted' });
    await s.until('triggered', () => s.actions().length >= before + 4);
    // The MeterValues may overtake the statuses still waiting (README "Outbox and message order").
    assert.deepEqual([...s.actions().slice(before)].sort(), ['MeterValues', 'StatusNotification', 'StatusNotification', 'StatusNotification']);
    const statuses = s.calls<Status>('StatusNotification').slice(-3);
    assert.deepEqual(statuses.map((x) => [x.connectorId, x.status]), [
      [0, 'Available'],
      [1, 'Available'],
      [2, 'Charging'],
    ]);
    const mv = s.calls<{ connectorId: number; transactionId: number; meterValue: { sampledValue: { context: string }[] }[] }>('MeterValues').slice(-1)[0]!;
    assert.equal(mv.connectorId, 2);
    assert.equal(mv.transactionId, txId(s));
    assert.equal(mv.meterValue[0]!.sampledValue[0]!.context, 'Trigger');
  } finally {
    await s.close();
  }
});
