/**
 * B01.FR.01 BootNotification reason across a restart on the same state directory (strict 2.0.1 CSMS,
 * simulated board, power cut between the runs): the reason is decided once the station has started,
 * from its own record of a reset and the note a CSMS Reset left (B11 / B12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startV201Station, type V201Station } from './support/v201-station.js';

async function booted(): Promise<V201Station> {
  const s = await startV201Station();
  await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
  return s;
}

const reasons = (s: V201Station): string[] => s.calls<{ reason: string }>('BootNotification').map((b) => b.reason);

async function restartAndBoot(s: V201Station): Promise<void> {
  const n = s.calls('BootNotification').length;
  await s.restart();
  await s.until('boot', () => s.calls('BootNotification').length === n + 1 && s.adapter.ctx.registration === 'Accepted');
}

test('B01 a reset asked for on the station itself (not by the CSMS) boots with LocalReset; the power cut after it with PowerUp', async () => {
  const s = await booted();
  try {
    const restarts: string[] = [];
    s.station.on('restart-requested', (r) => restarts.push(r));
    assert.equal(s.station.reset('Immediate'), 'Accepted');
    await s.until('restart requested', () => restarts.length === 1);
    await restartAndBoot(s);
    await restartAndBoot(s);
    assert.deepEqual(reasons(s), ['PowerUp', 'LocalReset', 'PowerUp']);
  } finally {
    await s.close();
  }
});

test('TC_B_21_CS B12 a Scheduled (OnIdle) Reset cut short by a power loss boots with PowerUp, and its note does not stick to a later local reset', async () => {
  const s = await booted();
  try {
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    await s.until('Started', () => s.calls('TransactionEvent').length >= 1);
    assert.deepEqual(await s.call('Reset', { type: 'OnIdle' }), { status: 'Scheduled' });
    await s.run(2000);
    await restartAndBoot(s); // the power goes while the transaction still runs
    const restarts: string[] = [];
    s.station.on('restart-requested', (r) => restarts.push(r));
    assert.equal(s.station.reset('Immediate'), 'Accepted');
    await s.until('restart requested', () => restarts.length === 1);
    await restartAndBoot(s);
    assert.deepEqual(reasons(s), ['PowerUp', 'PowerUp', 'LocalReset']);
  } finally {
    await s.close();
  }
});

test('B11 a CSMS Reset Immediate boots with RemoteReset once; the next power cut boots with PowerUp', async () => {
  const s = await booted();
  try {
    const restarts: string[] = [];
    s.station.on('restart-requested', (r) => restarts.push(r));
    assert.deepEqual(await s.call('Reset', { type: 'Immediate' }), { status: 'Accepted' });
    await s.until('restart requested', () => restarts.length === 1);
    await restartAndBoot(s);
    await restartAndBoot(s);
    assert.deepEqual(reasons(s), ['PowerUp', 'RemoteReset', 'PowerUp']);
  } finally {
    await s.close();
  }
});
