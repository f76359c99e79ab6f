/**
 * P: DataTransfer both ways with the 2.0.1 adapter against the strict CSMS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startV201Station } from './support/v201-station.js';

test('P01 station → CSMS DataTransfer: the CSMS answer comes back (Accepted for its vendor, UnknownVendorId otherwise)', async () => {
  const s = await startV201Station();
  try {
    await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
    const p1 = s.adapter.sendDataTransfer('ocpp-station', 'hello', { a: 1 });
    await s.run(100);
    assert.deepEqual(await p1, { status: 'Accepted' });
    const p2 = s.adapter.sendDataTransfer('com.other');
    await s.run(100);
    assert.deepEqual(await p2, { status: 'UnknownVendorId' });
    assert.deepEqual(s.calls('DataTransfer'), [{ vendorId: 'ocpp-station', messageId: 'hello', data: { a: 1 } }, { vendorId: 'com.other' }]);
  } finally {
    await s.close();
  }
});

test('TC_P_01_CS P02 CSMS → station DataTransfer: a registered vendor hook answers (data, UnknownMessageId); an unknown vendor gets UnknownVendorId (P02.FR.06)', async () => {
  const s = await startV201Station();
  try {
    await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
    s.adapter.onDataTransfer('com.example.display', (messageId, data) =>
      messageId === 'Price' ? { status: 'Accepted', data: { shown: data } } : { status: 'UnknownMessageId' },
    );
    assert.deepEqual(await s.call('DataTransfer', { vendorId: 'com.example.display', messageId: 'Price', data: '0.30 EUR/kWh' }), {
      status: 'Accepted',
      data: { shown: '0.30 EUR/kWh' },
    });
    assert.deepEqual(await s.call('DataTransfer', { vendorId: 'com.example.display', messageId: 'Other' }), { status: 'UnknownMessageId' });
    assert.deepEqual(await s.call('DataTransfer', { vendorId: 'org.nobody' }), { status: 'UnknownVendorId' });
  } finally {
    await s.close();
  }
});
