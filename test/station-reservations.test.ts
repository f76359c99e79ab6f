/** Reservations (1.6 §5.13 ReserveNow / CancelReservation, 2.0.1 H01-H04). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reservation } from '../src/station/api.js';
import { charging, makeStation, tok, type Fixture } from './support/station-fixture.js';

const res = (f: Fixture, id: number, evseId: number, token: string, minutes = 10, groupId?: string): Reservation => ({
  id,
  evseId,
  idToken: tok(token),
  expiresAt: f.clock.now() + minutes * 60_000,
  ...(groupId ? { groupId } : {}),
});

test('H01 reserve an EVSE: Reserved; other tokens refused; the reserved token starts and uses it', async () => {
  const f = await makeStation();
  f.csms.answers.set('OTHER', { status: 'Accepted' });
  f.csms.answers.set('MINE', { status: 'Accepted' });
  assert.equal(f.station.reserve(res(f, 1, 1, 'MINE')), 'Accepted');
  assert.equal(f.lastStatus()?.status, 'Reserved');
  f.hal.evse(1).pilot.setState('B');
  assert.equal(f.lastStatus()?.status, 'Reserved', 'plugging in does not take a reserved EVSE');
  await f.station.presentToken(tok('OTHER'), 1);
  assert.equal(f.station.session(1), undefined, 'another token is refused');
  await f.station.presentToken(tok('MINE'));
  const s = f.station.session(1);
  assert.equal(s?.reservationId, 1);
  assert.ok(s?.evConnectedAt, 'the cable already in counts');
  assert.deepEqual(f.ev.reservationsEnded, [[1, 'Used']]);
  assert.equal(f.lastStatus()?.status, 'SuspendedEV');
  assert.equal(f.station.cancelReservation(1), false, 'used: nothing left to cancel');
  await f.stop();
});

test('H01 a token of the reservation group may use it', async () => {
  const f = await makeStation();
  f.csms.answers.set('KID', { status: 'Accepted', groupId: 'FAMILY' });
  f.station.reserve(res(f, 5, 1, 'PARENT', 10, 'FAMILY'));
  await f.station.presentToken(tok('KID'), 1);
  assert.equal(f.station.session(1)?.reservationId, 5);
  await f.stop();
});

test('reservation expires by the station clock', async () => {
  const f = await makeStation();
  f.station.reserve(res(f, 2, 1, 'MINE', 5));
  await f.clock.advance(5 * 60_000 - 1);
  assert.equal(f.lastStatus()?.status, 'Reserved');
  await f.clock.advance(1);
  assert.equal(f.lastStatus()?.status, 'Available');
  assert.deepEqual(f.ev.reservationsEnded, [[2, 'Expired']]);
  await f.stop();
});

test('H02 cancel: Available again; unknown id → false', async () => {
  const f = await makeStation();
  f.station.reserve(res(f, 3, 1, 'MINE'));
  assert.equal(f.station.cancelReservation(3), true);
  assert.equal(f.lastStatus()?.status, 'Available');
  assert.equal(f.station.cancelReservation(3), false);
  assert.equal(f.clock.pending, 0, 'its expiry timer is gone');
  await f.stop();
});

test('reserve answers Occupied, Faulted, Unavailable, Rejected as the EVSE is', async () => {
  const f = await makeStation({ evses: 3 });
  await charging(f, 1);
  assert.equal(f.station.reserve(res(f, 1, 1, 'X')), 'Occupied');
  f.hal.evse(2).meter.raise({ kind: 'ground-failure', severity: 'high' });
  assert.equal(f.station.reserve(res(f, 2, 2, 'X')), 'Faulted');
  f.station.setAvailability(3, false);
  assert.equal(f.station.reserve(res(f, 3, 3, 'X')), 'Unavailable');
  assert.equal(f.station.reserve(res(f, 4, 9, 'X')), 'Rejected');
  assert.equal(f.station.reserve(res(f, 5, 0, 'X')), 'Occupied', 'evseId 0 with nothing free');
  await f.stop();
});

test('evseId 0 holds one free EVSE; the same id replaces the reservation', async () => {
  const f = await makeStation({ evses: 2 });
  f.hal.evse(1).pilot.setState('B');
  assert.equal(f.station.reserve(res(f, 7, 0, 'MINE')), 'Accepted');
  assert.equal(f.lastStatus(2)?.status, 'Reserved');
  assert.equal(f.station.reserve(res(f, 7, 0, 'MINE', 20)), 'Accepted');
  await f.clock.advance(15 * 60_000);
  assert.equal(f.lastStatus(2)?.status, 'Reserved', 'the replacement carries the new expiry');
  f.csms.answers.set('MINE', { status: 'Accepted' });
  f.hal.reader!.tap('MINE');
  await f.clock.advance(0);
  assert.equal(f.station.session(2)?.reservationId, 7, 'the reader tap goes to the reserved EVSE');
  await f.stop();
});

test('reservations survive a restart', async () => {
  const f = await makeStation();
  f.station.reserve(res(f, 9, 1, 'MINE'));
  await f.station.stop();
  const g = await makeStation({ db: f.db, clock: f.clock });
  assert.equal(g.lastStatus()?.status, 'Reserved');
  assert.equal(g.station.cancelReservation(9), true);
  await g.stop();
  f.db.close();
});
