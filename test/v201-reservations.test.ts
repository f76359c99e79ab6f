/**
 * H: reservations with the 2.0.1 adapter end to end: ReserveNow / CancelReservation, Reserved status,
 * expiry reported by ReservationStatusUpdate (H04.FR.01), the reservationId in the TransactionEvent of
 * the reserving token (H01.FR.15).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootedV201Station, type V201Station } from './support/v201-station.js';

function booted(): Promise<V201Station> {
  return bootedV201Station();
}
const statuses = (s: V201Station) => s.calls<{ connectorStatus: string }>('StatusNotification').map((x) => x.connectorStatus);
const inMs = (s: V201Station, ms: number) => new Date(s.clock.now() + ms).toISOString();

test('TC_H_01_CS / TC_H_07_CS H01/H04 ReserveNow on EVSE 1: Reserved; expiry → ReservationStatusUpdate(Expired) and Available again', async () => {
  const s = await booted();
  try {
    assert.deepEqual(
      await s.call('ReserveNow', { id: 31, expiryDateTime: inMs(s, 600_000), evseId: 1, idToken: { idToken: 'RES1', type: 'ISO14443' } }),
      { status: 'Accepted' },
    );
    await s.until('Reserved', () => statuses(s).at(-1) === 'Reserved');
    await s.run(601_000);
    await s.until('update', () => s.calls('ReservationStatusUpdate').length === 1);
    assert.deepEqual(s.calls('ReservationStatusUpdate')[0], { reservationId: 31, reservationUpdateStatus: 'Expired' });
    await s.until('Available', () => statuses(s).at(-1) === 'Available');
  } finally {
    await s.close();
  }
});

test('TC_H_17_CS / TC_H_18_CS H02 CancelReservation: known id Accepted (H02.FR.02), unknown Rejected (H02.FR.01)', async () => {
  const s = await booted();
  try {
    await s.call('ReserveNow', { id: 5, expiryDateTime: inMs(s, 600_000), evseId: 1, idToken: { idToken: 'RES1', type: 'ISO14443' } });
    assert.deepEqual(await s.call('CancelReservation', { reservationId: 99 }), { status: 'Rejected' });
    assert.deepEqual(await s.call('CancelReservation', { reservationId: 5 }), { status: 'Accepted' });
    await s.until('Available', () => statuses(s).at(-1) === 'Available');
    assert.deepEqual(statuses(s), ['Available', 'Reserved', 'Available']);
  } finally {
    await s.close();
  }
});

test('H01.FR.15 the reserving token starts the transaction: reservationId in the first TransactionEvent', async () => {
  const s = await booted();
  try {
    await s.call('ReserveNow', { id: 8, expiryDateTime: inMs(s, 600_000), evseId: 1, idToken: { idToken: 'RES1', type: 'ISO14443' } });
    await s.until('Reserved', () => statuses(s).at(-1) === 'Reserved');
    s.sim.plug(1);
    s.sim.tap('RES1');
    s.sim.evReady(1);
    await s.until('Started', () => s.calls('TransactionEvent').length >= 1);
    assert.equal(s.calls<{ reservationId?: number }>('TransactionEvent')[0]!.reservationId, 8);
  } finally {
    await s.close();
  }
});
