/**
 * The send order of the station's CALLs (src/ocpp/call-queue.ts): one in flight (OCPP-J §4.1.1),
 * urgent (Authorize, Boot, transaction messages) before normal before status/heartbeat, FIFO in each
 * class; time-outs on the station Clock (an urgent CALL from when it was queued, others from when sent).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../base/clock.js';
import { CallQueue, CallTimeoutError, callClassOf } from '../src/ocpp/call-queue.js';

interface Sent {
  action: string;
  signal: AbortSignal;
  answer(v?: unknown): void;
}

function rig(timeoutMs = 30_000) {
  const clock = new VirtualClock();
  const sent: Sent[] = [];
  const sentTimeouts: string[] = [];
  const q = new CallQueue({
    clock,
    timeoutMs: () => timeoutMs,
    transmit: (action, _payload, signal) =>
      new Promise((resolve, reject) => {
        sent.push({ action, signal, answer: (v) => resolve(v ?? {}) });
        signal.addEventListener('abort', () => reject(new Error('aborted')));
      }),
    onSentTimeout: (a) => sentTimeouts.push(a),
  });
  return { clock, sent, sentTimeouts, q };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CallQueue', () => {
  it('classes: Authorize and transaction messages urgent, StatusNotification and Heartbeat last', () => {
    assert.equal(callClassOf('Authorize'), 'urgent');
    assert.equal(callClassOf('TransactionEvent'), 'urgent');
    assert.equal(callClassOf('MeterValues', true), 'urgent');
    assert.equal(callClassOf('MeterValues'), 'normal');
    assert.equal(callClassOf('DataTransfer'), 'normal');
    assert.equal(callClassOf('StatusNotification'), 'status');
    assert.equal(callClassOf('Heartbeat'), 'status');
  });

  it('one CALL in flight; then the oldest of the highest class; FIFO within a class', async () => {
    const { q, sent } = rig();
    const done: Promise<unknown>[] = [];
    done.push(q.push('StatusNotification', { n: 0 }));
    await tick();
    assert.deepEqual(sent.map((s) => s.action), ['StatusNotification']);
    for (const a of ['StatusNotification', 'Heartbeat', 'DataTransfer', 'Authorize', 'StatusNotification', 'StartTransaction', 'DataTransfer'])
      done.push(q.push(a, {}));
    assert.deepEqual(q.waitingActions(), ['Authorize', 'StartTransaction', 'DataTransfer', 'DataTransfer', 'StatusNotification', 'Heartbeat', 'StatusNotification']);
    for (let i = 0; i < 8; i++) {
      sent[i]!.answer();
      await tick();
      await tick();
    }
    await Promise.all(done);
    assert.deepEqual(sent.map((s) => s.action), [
      'StatusNotification',
      'Authorize',
      'StartTransaction',
      'DataTransfer',
      'DataTransfer',
      'StatusNotification',
      'Heartbeat',
      'StatusNotification',
    ]);
  });

  it('an urgent CALL expires one timeout after it was queued, unsent if still waiting; the connection is not blamed', async () => {
    const { q, sent, clock, sentTimeouts } = rig(30_000);
    void q.push('StatusNotification', {}).catch(() => undefined);
    await tick();
    await clock.advance(10_000);
    const auth = q.push('Authorize', {});
    const caught: unknown[] = [];
    auth.catch((e: unknown) => caught.push(e));
    await clock.advance(29_999);
    await tick();
    assert.equal(caught.length, 0);
    // (the status in flight timed out at 30 s: the link would reconnect; here it just goes on)
    assert.deepEqual(sentTimeouts, ['StatusNotification']);
    assert.deepEqual(sent.map((s) => s.action), ['StatusNotification', 'Authorize']);
    await clock.advance(1);
    await tick();
    const err = caught[0];
    assert.ok(err instanceof CallTimeoutError);
    assert.equal(err.sent, true);
    assert.equal(sent[1]!.signal.aborted, true, 'ocpp-rpc pending call freed');
    assert.deepEqual(sentTimeouts, ['StatusNotification', 'Authorize']);
  });

  it('a StatusNotification waiting longer than the timeout behind answered CALLs is still sent', async () => {
    const { q, sent, clock } = rig(30_000);
    void q.push('Authorize', {});
    await tick();
    const status = q.push('StatusNotification', {});
    for (let i = 0; i < 3; i++) {
      await clock.advance(20_000);
      sent[i]!.answer();
      if (i < 2) void q.push('StartTransaction', {});
      await tick();
      await tick();
    }
    assert.deepEqual(sent.map((s) => s.action), ['Authorize', 'StartTransaction', 'StartTransaction', 'StatusNotification']);
    sent[3]!.answer({ ok: 1 });
    assert.deepEqual(await status, { ok: 1 });
  });

  it('rejectAll fails the CALL in flight and every waiting one at once', async () => {
    const { q, sent } = rig();
    const a = q.push('StatusNotification', {});
    await tick();
    const b = q.push('Authorize', {});
    q.rejectAll('OCPP link disconnected');
    await assert.rejects(a, /OCPP link disconnected: StatusNotification not delivered/);
    await assert.rejects(b, /OCPP link disconnected: Authorize not delivered/);
    assert.equal(sent[0]!.signal.aborted, true);
    assert.equal(sent.length, 1);
  });
});
