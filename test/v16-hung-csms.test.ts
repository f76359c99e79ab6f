/**
 * A whole 1.6 station (simulated board, virtual time) against a CSMS that accepts the connection and
 * then answers nothing (issue 10 points 3 and 4): the driver's tap closes the contactor within one
 * call timeout (offline rules after it), and a StartTransaction that keeps timing out is never
 * dead-lettered, so its StopTransaction carries the real transactionId, never -1 (errata 3.18 keeps -1
 * for a start the CSMS refused TransactionMessageAttempts times).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startV16Station, type V16Station } from './support/v16-station.js';

const never = () => new Promise<never>(() => undefined);
const contactorClosed = (s: V16Station): boolean => s.sim.status().evses[0]!.contactorClosed;

async function booted(v16: Record<string, string> = {}): Promise<V16Station> {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0', ...v16 } });
  await s.until('boot', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  return s;
}

test('issue 10.4: a CSMS that answers nothing: tap → contactor closed within one call timeout (Authorize waits for no StatusNotification)', async () => {
  const s = await booted({ LocalAuthorizeOffline: 'true', AllowOfflineTxForUnknownId: 'true' });
  try {
    for (const a of ['StatusNotification', 'Authorize', 'Heartbeat', 'BootNotification', 'StartTransaction', 'MeterValues', 'StopTransaction'])
      s.csms.setHandler(a, never);
    s.sim.plug(1);
    await s.until('Preparing in flight', () => s.calls('StatusNotification').length === 3);
    const timeoutMs = s.link.settings.callTimeoutS * 1000;
    // Half a timeout later the driver taps: the status ahead of Authorize is still unanswered.
    await s.run(timeoutMs / 2, 50);
    const tapped = s.clock.now();
    s.sim.tap('04A2B3C4');
    await s.until('contactor closed', () => contactorClosed(s));
    const waited = s.clock.now() - tapped;
    assert.ok(waited <= timeoutMs, `contactor closed ${waited} ms after the tap (call timeout ${timeoutMs} ms)`);
    assert.equal(s.link.pendingCount() >= 1, true, 'the StartTransaction of the offline start is queued');
  } finally {
    await s.close();
  }
});

test('issue 10.3 / 1.6 §4.8, errata 3.18: a StartTransaction that keeps timing out is never dead-lettered; its StopTransaction carries the real transactionId', async () => {
  const s = await booted();
  try {
    const retryAttempts = s.link.settings.outbox.retryAttempts;
    s.csms.setHandler('StartTransaction', never);
    s.sim.plug(1);
    s.sim.tap('04A2B3C4');
    await s.until('StartTransaction sent', () => s.calls('StartTransaction').length === 1);
    s.sim.tap('04A2B3C4');
    s.sim.unplug(1);
    // More time-outs than TransactionMessageAttempts allows failures.
    await s.until(
      'StartTransaction timed out again and again',
      () => s.calls('StartTransaction').length > retryAttempts + 1,
      4000,
    );
    assert.deepEqual(s.link.deadLetters(), []);
    assert.equal(s.calls('StopTransaction').length, 0, 'the Stop waits behind its Start');
    s.csms.clearHandler('StartTransaction');
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1 && s.link.pendingCount() === 0, 2000);
    const started = s.csms.log.filter((e) => e.type === 'result' && e.action === 'StartTransaction').map((e) => (e.payload as { transactionId: number }).transactionId);
    assert.equal(started.length, 1, 'one answered StartTransaction');
    const stop = s.calls<{ transactionId: number }>('StopTransaction')[0]!;
    assert.equal(stop.transactionId, started[0]);
    assert.notEqual(stop.transactionId, -1);
    assert.deepEqual(s.link.deadLetters(), []);
  } finally {
    await s.close();
  }
});
