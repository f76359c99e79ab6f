/**
 * The shared adapter kit (src/ocpp/kit): subscriptions that detach on stop, the registration gate
 * (1.6 4.2, 2.0.1 B02/B03), deferred work after a call's response (1.6 5.17, 2.0.1 F06.FR.04) and the
 * CSMS time offset (1.6 4.2 currentTime, 2.0.1 B01.FR.06).
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { VirtualClock } from '../base/clock.js';
import { AdapterKit, CsmsTime, type BlockContext, DeferredWork, RegistrationGate, Subscriptions } from '../src/ocpp/kit/index.js';
import type { V16Messages } from '../src/ocpp/messages/v16.js';
import type { V201Messages } from '../src/ocpp/messages/v201.js';
import type { AdapterDeps } from '../src/ocpp/adapter.js';
import type { Db } from '../src/store/db.js';
import { capturingLogger } from './support/ocpp-link.js';
import { FakeLink, FakeStation, testConfig } from './support/v16-fakes.js';

const callCtx = { action: 'x', messageId: 'm1' };

test('kit subscriptions: every on() is removed at stop, and an emit under way no longer reaches it', () => {
  const station = new FakeStation(1);
  const link = new FakeLink();
  const subs = new Subscriptions();
  const seen: string[] = [];
  subs.on(station, 'status', (s) => seen.push(`status ${s.evseId}`));
  subs.on(link, 'open', () => seen.push('open'));
  // A second listener of the same emit stops the kit: the kit's own listener after it must not run.
  station.on('status', () => subs.stop());
  subs.on(station, 'status', () => seen.push('late'));
  let cleaned = 0;
  subs.add(() => cleaned++);
  assert.equal(station.listenerCount('status'), 3);

  link.open();
  station.setStatus(1, 'Preparing');
  assert.deepEqual(seen, ['open', 'status 1'], 'the listener after the stop did not run');
  assert.equal(station.listenerCount('status'), 1, 'only the listener the kit did not add is left');
  assert.equal(link.listenerCount('open'), 0);
  assert.equal(cleaned, 1);
  assert.equal(subs.size, 0);

  subs.on(station, 'status', () => seen.push('after stop'));
  station.setStatus(1, 'Available');
  assert.deepEqual(seen, ['open', 'status 1'], 'nothing subscribes once stopped');
});

test('kit AdapterKit: blocks subscribe through their context; stop() leaves no listener on station or link', async () => {
  const station = new FakeStation(2);
  const link = new FakeLink();
  const clock = new VirtualClock();
  const deps: AdapterDeps = { link, station, db: {} as Db, clock, log: capturingLogger(), config: testConfig() };
  const kit = new AdapterKit<V16Messages, 'offline'>(deps, { namespace: 'ocpp:v16', gate: { initial: 'offline', blockedWhilePending: {} } });
  const seen: string[] = [];
  await kit.register<BlockContext<V16Messages, 'offline'>>(
    [
      { name: 'a', register: (c) => c.onStation('session', () => seen.push('a')) },
      { name: 'b', register: (c) => (c.onLink('close', () => seen.push('b')), c.onStation('meter', () => seen.push('b'))) },
    ],
    (c) => c,
  );
  assert.equal(station.listenerCount('session') + station.listenerCount('meter') + link.listenerCount('close'), 3);
  kit.stop();
  assert.equal(station.listenerCount('session') + station.listenerCount('meter') + link.listenerCount('close'), 0);
  link.close();
  assert.deepEqual(seen, []);
});

test('kit gate (1.6 4.2 / 2.0.1 B02.FR.02): while Pending BootNotification may go, other CALLs only when triggered', () => {
  const gate = new RegistrationGate<V201Messages, 'None'>({ initial: 'None', blockedWhilePending: {} });
  assert.equal(gate.maySend('BootNotification'), true);
  assert.equal(gate.maySend('StatusNotification'), false, 'nothing but the boot before an answer');
  gate.set('Pending');
  assert.equal(gate.maySend('BootNotification'), true);
  assert.equal(gate.maySend('Heartbeat'), false);
  assert.equal(gate.maySend('StatusNotification', { triggered: true }), true);
  gate.set('Rejected');
  assert.equal(gate.maySend('StatusNotification', { triggered: true }), false);
  assert.equal(gate.maySend('BootNotification'), true);
  gate.set('Accepted');
  assert.equal(gate.maySend('MeterValues'), true);
});

test('kit gate (1.6 4.2 / 2.0.1 B02.FR.05, B03.FR.08): blocked calls get the listed answer while Pending, every call a SecurityError while Rejected', async () => {
  const gate = new RegistrationGate<V16Messages, 'offline' | 'booting'>({
    initial: 'offline',
    blockedWhilePending: { RemoteStartTransaction: { status: 'Rejected' }, RemoteStopTransaction: { status: 'Rejected' } },
    rejectedMessage: 'not accepted',
  });
  assert.deepEqual(gate.blockedActions, ['RemoteStartTransaction', 'RemoteStopTransaction']);
  const ran: string[] = [];
  const start = gate.guard('RemoteStartTransaction', () => (ran.push('start'), { status: 'Accepted' }));
  const config = gate.guard('GetConfiguration', () => (ran.push('config'), { configurationKey: [] }));
  gate.set('Pending');
  assert.deepEqual(start({}, callCtx), { status: 'Rejected' });
  assert.deepEqual(config({}, callCtx), { configurationKey: [] }, 'a call not on the list is served while Pending');
  assert.deepEqual(ran, ['config']);
  gate.set('Rejected');
  assert.throws(() => config({}, callCtx), (err: Error & { rpcErrorCode?: string }) => err.rpcErrorCode === 'SecurityError' && /not accepted/.test(err.message));
  assert.throws(() => start({}, callCtx), (err: Error & { rpcErrorCode?: string }) => err.rpcErrorCode === 'SecurityError');
  gate.set('Accepted');
  assert.deepEqual(start({}, callCtx), { status: 'Accepted' });
  assert.deepEqual(ran, ['config', 'start']);
});

test('kit gate: a state change is told to onChange listeners once', () => {
  const gate = new RegistrationGate<V16Messages, 'offline'>({ initial: 'offline', blockedWhilePending: {} });
  const seen: string[] = [];
  gate.onChange((s) => seen.push(s));
  gate.set('Pending');
  gate.set('Pending');
  gate.set('Accepted');
  assert.deepEqual(seen, ['Pending', 'Accepted']);
  assert.equal(gate.accepted, true);
});

test('kit deferred (1.6 5.17 / 2.0.1 F06.FR.04): the work runs after the handler answered; a failure is logged, not thrown', async () => {
  const log = capturingLogger();
  const work = new DeferredWork(log);
  const order: string[] = [];
  const handler = (): { status: string } => {
    work.after(() => void order.push('work'));
    work.after(async () => {
      await Promise.resolve();
      throw new Error('CSMS went away');
    }, 'triggered StatusNotification');
    order.push('answer');
    return { status: 'Accepted' };
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): number => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    assert.deepEqual(await Promise.resolve(handler()), { status: 'Accepted' });
    await Promise.resolve();
    assert.deepEqual(order, ['answer'], 'not even a microtask later: the answer is sent first');
    await new VirtualClock().advance(0);
    assert.deepEqual(order, ['answer', 'work']);
    assert.equal(work.running, 0);
    assert.deepEqual(log.lines('error'), ['triggered StatusNotification failed {"error":"CSMS went away"}']);
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('kit deferred: work not started when the adapter stops is dropped', async () => {
  const work = new DeferredWork(capturingLogger());
  let ran = false;
  work.after(() => void (ran = true));
  work.cancel();
  await new VirtualClock().advance(0);
  assert.equal(ran, false);
});

test('kit CSMS time: iso() carries the offset learned from currentTime, fromIso() takes it off', () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1, 8, 0, 0));
  const t = new CsmsTime(clock);
  assert.equal(t.iso(), '2026-01-01T08:00:00.000Z', 'no offset before the CSMS gave its time');
  // A CSMS whose clock is an hour ahead.
  assert.equal(t.learn('2026-01-01T09:00:00.000Z'), true);
  assert.equal(t.offsetMs, 3_600_000);
  assert.equal(t.iso(), '2026-01-01T09:00:00.000Z');
  assert.equal(t.iso(Date.UTC(2026, 0, 1, 7, 30)), '2026-01-01T08:30:00.000Z');
  assert.equal(t.fromIso('2026-01-01T09:15:00.000Z'), Date.UTC(2026, 0, 1, 8, 15));
  assert.equal(t.fromIso(t.iso(clock.now() + 1234)), clock.now() + 1234);
  assert.equal(t.now(), clock.now() + 3_600_000);
  assert.equal(t.learn('not a time'), false, 'a bad currentTime keeps the offset');
  assert.equal(t.offsetMs, 3_600_000);
});
