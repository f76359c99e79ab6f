/**
 * 2.0.1 block O (O01–O06): display messages set, read, cleared and replaced by the strict test CSMS, what
 * the simulated display then shows, and that they survive a restart (SQLite). Named by requirement ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootedV201Station, startCharging, type V201Station } from './support/v201-station.js';
import { MAX_DISPLAY_MESSAGES } from '../src/ocpp/v201/display-messages.js';

type Status = { status: string; statusInfo?: { reasonCode: string } };
type Notify = { requestId: number; tbc?: boolean; messageInfo?: { id: number; priority: string; message: { content: string } }[] };

const msg = (id: number, content: string, over: Record<string, unknown> = {}) => ({
  message: { id, priority: 'NormalCycle', message: { format: 'UTF8', content }, ...over },
});
const set = (s: V201Station, id: number, content: string, over: Record<string, unknown> = {}) => s.call<Status>('SetDisplayMessage', msg(id, content, over));
const screen = (s: V201Station) => (s.sim.status().display ?? []).map((r) => r.trimEnd());
const notifies = (s: V201Station) => s.calls<Notify>('NotifyDisplayMessages');

async function with201(fn: (s: V201Station) => Promise<void>): Promise<void> {
  const s = await bootedV201Station();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

test('TC_O_01_CS O01.FR.12 / O01.FR.13: a NormalCycle message is Accepted and takes its turn with the idle screen; InFront shows at once', () =>
  with201(async (s) => {
    assert.equal((await set(s, 1, 'Welcome to Springfield')).status, 'Accepted');
    assert.deepEqual(screen(s).slice(0, 2), ['Ready to charge', 'Tap card to start']);
    await s.run(5000);
    assert.deepEqual(screen(s).slice(0, 2), ['Welcome to', 'Springfield']);
    assert.equal((await set(s, 2, 'Closed for maintenance at 18:00', { priority: 'InFront' })).status, 'Accepted');
    assert.deepEqual(screen(s).slice(0, 2), ['Closed for', 'maintenance at 18:00']);
  }));

test('TC_O_03_CS / TC_O_33_CS O03.FR.06 / O04.FR.07: GetDisplayMessages with none configured is Unknown and sends no report', () =>
  with201(async (s) => {
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 7 })).status, 'Unknown');
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 8, priority: 'InFront' })).status, 'Unknown');
    await s.run(200, 50);
    assert.equal(notifies(s).length, 0);
  }));

test('TC_O_02/07/08/09/34_CS O03.FR.01–05 / O04.FR.01–06: Get all or by id/priority/state: Accepted and NotifyDisplayMessages with the requestId, split with tbc on all but the last', () =>
  with201(async (s) => {
    for (let id = 1; id <= 12; id++) assert.equal((await set(s, id, `m${id}`, id === 3 ? { priority: 'InFront', state: 'Charging' } : {})).status, 'Accepted');
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 42 })).status, 'Accepted');
    await s.until('two reports', () => notifies(s).length === 2);
    const [a, b] = notifies(s);
    assert.deepEqual([a!.requestId, a!.tbc, a!.messageInfo!.length], [42, true, 10]);
    assert.deepEqual([b!.requestId, b!.tbc ?? false, b!.messageInfo!.length], [42, false, 2]);
    assert.deepEqual([...a!.messageInfo!, ...b!.messageInfo!].map((m) => m.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 43, priority: 'InFront' })).status, 'Accepted');
    await s.until('by priority', () => notifies(s).length === 3);
    assert.deepEqual(notifies(s)[2]!.messageInfo!.map((m) => m.id), [3]);
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 44, state: 'Charging', id: [3, 4] })).status, 'Accepted');
    await s.until('by state and id', () => notifies(s).length === 4);
    assert.deepEqual(notifies(s)[3]!.messageInfo!.map((m) => m.id), [3]);
    // TC_O_34_CS O04.FR.02: a known id whose state does not match: Unknown.
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 45, state: 'Faulted', id: [3] })).status, 'Unknown');
  }));

test('TC_O_04_CS / TC_O_05_CS O05.FR.01 / O05.FR.02: ClearDisplayMessage Accepted for a known id (gone from the screen), Unknown for an unknown one', () =>
  with201(async (s) => {
    await set(s, 5, 'Temporary', { priority: 'InFront' });
    assert.equal(screen(s)[0], 'Temporary');
    assert.equal((await s.call<Status>('ClearDisplayMessage', { id: 5 })).status, 'Accepted');
    assert.equal(screen(s)[0], 'Ready to charge');
    assert.equal((await s.call<Status>('ClearDisplayMessage', { id: 5 })).status, 'Unknown');
  }));

test('TC_O_12_CS O06.FR.01: the same id replaces the message with all its new parameters', () =>
  with201(async (s) => {
    await set(s, 9, 'old text', { priority: 'InFront' });
    assert.equal((await set(s, 9, 'new text', { priority: 'NormalCycle' })).status, 'Accepted');
    await s.call('GetDisplayMessages', { requestId: 1, id: [9] });
    await s.until('report', () => notifies(s).length === 1);
    assert.deepEqual(notifies(s)[0]!.messageInfo!.map((m) => [m.id, m.priority, m.message.content]), [[9, 'NormalCycle', 'new text']]);
    assert.equal(screen(s)[0], 'Ready to charge', 'no longer in front');
  }));

test('TC_O_24_CS O01.FR.15 / O01.FR.16: a second AlwaysFront message replaces the first (Get of the first: Unknown); it covers even a fault', () =>
  with201(async (s) => {
    await set(s, 1, 'First', { priority: 'AlwaysFront' });
    await set(s, 2, 'Second', { priority: 'AlwaysFront' });
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 1, id: [1] })).status, 'Unknown');
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 2, id: [2] })).status, 'Accepted');
    s.sim.fault(1, 'rcd');
    await s.run(1000);
    assert.equal(screen(s)[0], 'Second');
  }));

test('TC_O_19_CS O01.FR.03 / O02.FR.05: HTML and URI are NotSupportedMessageFormat and nothing is stored', () =>
  with201(async (s) => {
    for (const format of ['HTML', 'URI']) {
      const r = await s.call<Status>('SetDisplayMessage', { message: { id: 3, priority: 'InFront', message: { format, content: '<b>x</b>' } } });
      assert.equal(r.status, 'NotSupportedMessageFormat');
    }
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 1 })).status, 'Unknown');
    assert.equal(screen(s)[0], 'Ready to charge');
  }));

test('O01.FR.06 / O01.FR.07: not shown before startDateTime, removed after endDateTime; an end before the start is Rejected, nothing stored', () =>
  with201(async (s) => {
    const now = s.clock.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    assert.equal((await set(s, 1, 'Happy hour', { priority: 'InFront', startDateTime: iso(now + 60_000), endDateTime: iso(now + 120_000) })).status, 'Accepted');
    assert.equal(screen(s)[0], 'Ready to charge');
    await s.run(61_000);
    assert.equal(screen(s)[0], 'Happy hour');
    await s.run(60_000);
    assert.equal(screen(s)[0], 'Ready to charge');
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 1, id: [1] })).status, 'Unknown', 'removed after its end');
    const bad = await set(s, 2, 'never', { startDateTime: iso(now + 600_000), endDateTime: iso(now + 300_000) });
    assert.deepEqual([bad.status, bad.statusInfo?.reasonCode], ['Rejected', 'InvalidValue']);
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 2 })).status, 'Unknown');
  }));

test('O01.FR.11: beyond DisplayMessageCtrlr.DisplayMessages maxLimit Rejected (replacing an id still Accepted); the variable reports the count', () =>
  with201(async (s) => {
    for (let id = 1; id <= MAX_DISPLAY_MESSAGES; id++) assert.equal((await set(s, id, `m${id}`)).status, 'Accepted');
    assert.equal((await set(s, 999, 'one too many')).status, 'Rejected');
    assert.equal((await set(s, 1, 'replaced')).status, 'Accepted');
    const r = await s.call<{ getVariableResult: { attributeStatus: string; attributeValue?: string }[] }>('GetVariables', {
      getVariableData: [
        { component: { name: 'DisplayMessageCtrlr' }, variable: { name: 'DisplayMessages' } },
        { component: { name: 'DisplayMessageCtrlr' }, variable: { name: 'SupportedFormats' } },
        { component: { name: 'DisplayMessageCtrlr' }, variable: { name: 'SupportedPriorities' } },
      ],
    });
    assert.deepEqual(r.getVariableResult.map((v) => v.attributeValue), [String(MAX_DISPLAY_MESSAGES), 'ASCII,UTF8', 'AlwaysFront,InFront,NormalCycle']);
  }));

test('TC_O_06_CS O02.FR.01 / O02.FR.02: a transaction message: UnknownTransaction for an unknown id; shown during its transaction, removed when it ends', () =>
  with201(async (s) => {
    assert.equal((await set(s, 1, 'x', { transactionId: 'no-such-tx', priority: 'InFront' })).status, 'UnknownTransaction');
    await startCharging(s);
    const txId = (s.calls<{ transactionInfo: { transactionId: string } }>('TransactionEvent')[0]!).transactionInfo.transactionId;
    assert.equal((await set(s, 2, 'Your session', { transactionId: txId, priority: 'InFront' })).status, 'Accepted');
    assert.equal(screen(s)[0], 'Your session');
    s.sim.unplug(1);
    await s.until('Ended', () => s.calls<{ eventType: string }>('TransactionEvent').some((t) => t.eventType === 'Ended'));
    await s.run(1000);
    assert.notEqual(screen(s)[0], 'Your session');
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 1 })).status, 'Unknown');
  }));

test('TC_O_15_CS O01.FR.08 / O01.FR.09: of one message in several languages, the driver\'s (idTokenInfo.language1) is shown, English otherwise', () =>
  with201(async (s) => {
    const variant = (id: number, language: string, content: string) =>
      s.call<Status>('SetDisplayMessage', { message: { id, priority: 'InFront', message: { format: 'UTF8', language, content } } });
    await variant(1, 'de', 'Willkommen');
    await variant(2, 'en', 'Welcome');
    await variant(3, 'nl', 'Welkom');
    assert.equal(screen(s)[0], 'Welcome', 'no driver: English');
    s.csms.setHandler('Authorize', () => ({ idTokenInfo: { status: 'Accepted', language1: 'nl' } }));
    await startCharging(s);
    await s.run(1000);
    assert.equal(screen(s)[0], 'Welkom');
  }));

test('TC_O_20_CS O01.FR.10: messages survive a restart (SQLite) and are shown again', () =>
  with201(async (s) => {
    await set(s, 4, 'Persistent', { priority: 'InFront' });
    await s.restart();
    await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
    assert.equal(screen(s)[0], 'Persistent');
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 1, id: [4] })).status, 'Accepted');
  }));

test('point 5: content over 512 characters is a schema violation answered with a CALLERROR; nothing is stored', () =>
  with201(async (s) => {
    await assert.rejects(set(s, 1, 'x'.repeat(513)));
    assert.equal((await s.call<Status>('GetDisplayMessages', { requestId: 1 })).status, 'Unknown');
  }));
