/**
 * The 1.6 adapter as blocks over the shared kit (issue 12 #4): each block logs under its own namespace,
 * stop() leaves nothing subscribed on the station or the link, and a second start serves again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { openDatabase } from '../src/store/db.js';
import { createV16AdapterWithExtras } from '../src/ocpp/v16/index.js';
import { capturingLogger } from './support/ocpp-link.js';
import { FakeLink, FakeStation, session, testConfig } from './support/v16-fakes.js';

const STATION_EVENTS = ['status', 'session', 'meter', 'fault-raised', 'fault-cleared'] as const;
const LINK_EVENTS = ['open', 'close', 'message-dead', 'security-event'] as const;

function rig() {
  const clock = new VirtualClock();
  const link = new FakeLink();
  const station = new FakeStation(1, () => clock.now());
  const log = capturingLogger();
  const adapter = createV16AdapterWithExtras({ link, station, db: openDatabase(':memory:'), clock, log, config: testConfig() });
  link.responders.set('BootNotification', () => ({ status: 'Accepted', currentTime: '2030-01-01T00:00:00.000Z', interval: 300 }));
  return { clock, link, station, log, adapter };
}

const listeners = (r: ReturnType<typeof rig>): number =>
  STATION_EVENTS.reduce((n, e) => n + r.station.listenerCount(e), 0) + LINK_EVENTS.reduce((n, e) => n + r.link.listenerCount(e), 0);

test('issue 12: each 1.6 block logs under ocpp:v16:<block> (boot, tx)', async () => {
  const r = rig();
  await r.adapter.start();
  r.link.open();
  await r.clock.advance(0);
  r.station.sessionEvent('authorized', session({ authorizedAt: r.clock.now(), evConnectedAt: r.clock.now(), idToken: { idToken: 'AA', type: 'ISO14443' } }));
  await r.clock.advance(0);
  const ns = (msg: string): unknown => r.log.entries.find((e) => e.msg === msg)?.ns;
  assert.equal(ns('BootNotification answered'), 'ocpp:v16:boot');
  assert.equal(ns('StartTransaction queued'), 'ocpp:v16:tx');
  assert.equal(ns('StartTransaction answered'), 'ocpp:v16:tx');
  await r.adapter.stop();
});

test('issue 12: stop() removes every station and link listener of the 1.6 blocks; a second start serves again', async () => {
  const r = rig();
  const before = listeners(r);
  await r.adapter.start();
  assert.ok(listeners(r) > before);
  await r.adapter.stop();
  assert.equal(listeners(r), before, 'nothing left subscribed');
  r.link.open();
  r.station.setStatus(1, 'Preparing');
  await r.clock.advance(0);
  assert.deepEqual(r.link.actions(), [], 'a stopped adapter sends nothing');

  await r.adapter.start();
  await r.clock.advance(0);
  assert.equal(r.adapter.registration, 'Accepted', 'started on an open link: it boots');
  r.link.sent.length = 0;
  r.station.setStatus(1, 'Charging');
  await r.clock.advance(0);
  assert.deepEqual(
    r.link.ofAction('StatusNotification').map((p) => p.status),
    ['Charging'],
    'one StatusNotification: listeners are not doubled by the second start',
  );
  await r.adapter.stop();
  assert.equal(listeners(r), before);
});
