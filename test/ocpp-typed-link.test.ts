/**
 * The typed view of the link (src/ocpp/messages/typed-link.ts) over the generated message types: the
 * `@ts-expect-error` lines are the test that a misspelt action or field fails the build (tsc reports an
 * unused `@ts-expect-error` if the types ever let one through); the runtime part checks that the view is
 * the same link (calls, queued messages and handlers reach it unchanged).
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { typedLink } from '../src/ocpp/messages/typed-link.js';
import type { V16Messages } from '../src/ocpp/messages/v16.js';
import type { BootNotificationResponse, ResetResponse, V201Messages } from '../src/ocpp/messages/v201.js';
import { FakeLink } from './support/v16-fakes.js';

test('typed link: 2.0.1 call / enqueue / handle go through the same link, typed by action', async () => {
  const fake = new FakeLink();
  fake.responders.set('BootNotification', () => ({ currentTime: '2026-01-01T00:00:00.000Z', interval: 60, status: 'Accepted' }));
  const link = typedLink<V201Messages>(fake);
  fake.open();

  const res: BootNotificationResponse = await link.call('BootNotification', {
    reason: 'PowerUp',
    chargingStation: { model: 'M', vendorName: 'V', customData: { vendorId: 'x', anyExtension: 1 } },
  });
  assert.equal(res.status, 'Accepted');
  assert.deepEqual(fake.ofAction('BootNotification')[0], {
    reason: 'PowerUp',
    chargingStation: { model: 'M', vendorName: 'V', customData: { vendorId: 'x', anyExtension: 1 } },
  });

  link.handle('Reset', (params): ResetResponse => ({ status: params.type === 'Immediate' ? 'Accepted' : 'Scheduled' }));
  assert.deepEqual(await fake.csmsCall('Reset', { type: 'OnIdle' }), { status: 'Scheduled' });

  const results: string[] = [];
  link.onQueuedResult('StatusNotification', (message) => results.push(message.payload.connectorStatus));
  fake.setReady(true);
  link.enqueue('StatusNotification', { timestamp: '2026-01-01T00:00:00.000Z', connectorStatus: 'Available', evseId: 1, connectorId: 1 });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(results, ['Available']);

  if (Math.random() < 0) {
    // Never run: only compiled. Each line must be a type error.
    // @ts-expect-error misspelt action
    await link.call('Hartbeat', {});
    // @ts-expect-error misspelt field (serialNo for serialNumber) in a closed type
    await link.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V', serialNo: '1' } });
    // @ts-expect-error missing required field (reason)
    await link.call('BootNotification', { chargingStation: { model: 'M', vendorName: 'V' } });
    // @ts-expect-error a value outside the enum
    link.enqueue('StatusNotification', { timestamp: '', connectorStatus: 'Free', evseId: 1, connectorId: 1 });
    // @ts-expect-error a response value outside the enum
    link.handle('Reset', () => ({ status: 'Acepted' }));
    // @ts-expect-error a misspelt request field read in a handler
    link.handle('Reset', (params) => ({ status: params.typ === 'Immediate' ? 'Accepted' : 'Rejected' }));
    // @ts-expect-error a 1.6 action does not exist in 2.0.1
    await link.call('StartTransaction', {});
  }
});

test('typed link: 1.6 actions and payloads', async () => {
  const fake = new FakeLink();
  const link = typedLink<V16Messages>(fake);
  fake.open();
  const res = await link.call('StartTransaction', { connectorId: 1, idTag: 'T1', meterStart: 0, timestamp: '2026-01-01T00:00:00.000Z' });
  assert.equal(res.idTagInfo.status, 'Accepted');
  assert.equal(typeof res.transactionId, 'number');
  if (Math.random() < 0) {
    // @ts-expect-error misspelt field (idtag)
    await link.call('StartTransaction', { connectorId: 1, idtag: 'T1', meterStart: 0, timestamp: '' });
    // @ts-expect-error a 2.0.1 action does not exist in 1.6
    await link.call('TransactionEvent', {});
  }
});
