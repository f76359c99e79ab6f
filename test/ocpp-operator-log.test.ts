/**
 * Issue 10 point 8, on the adapters: what the daemon log tells an operator about the boot and the
 * security log of a station without a security profile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCsms } from './support/csms.js';
import { startV16Station } from './support/v16-station.js';
import { startV201Station } from './support/v201-station.js';

const iso = (): string => new Date().toISOString();

test('B02 / B03: the 2.0.1 BootNotification answer is logged with its interval, Pending and Rejected as Accepted (as 1.6 does)', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  let status = 'Pending';
  csms.setHandler('BootNotification', () => ({ status, currentTime: iso(), interval: 20 }));
  const s = await startV201Station({ csms });
  try {
    await s.until('pending', () => s.adapter.ctx.registration === 'Pending');
    const answered = (st: string) => s.log.entries.find((e) => e.level === 'info' && /BootNotification answered/.test(e.msg) && e.meta?.status === st);
    assert.deepEqual(answered('Pending')?.meta, { status: 'Pending', interval: 20 });
    status = 'Rejected';
    await s.until('rejected', () => s.adapter.ctx.registration === 'Rejected');
    assert.deepEqual(answered('Rejected')?.meta, { status: 'Rejected', interval: 20 });
  } finally {
    await s.close();
    await csms.close();
  }
});

test('1.6 and 2.0.1: a start without a security profile (profile 0) logs no "security event" warning', async () => {
  for (const start of [() => startV16Station(), () => startV201Station()]) {
    const s = await start();
    try {
      await s.until('boot', () => s.calls('StatusNotification').length >= 1);
      assert.ok(s.log.entries.some((e) => e.msg === 'security event StartupOfTheDevice'), 'still in the security log');
      assert.deepEqual(
        s.log.entries.filter((e) => e.level === 'warn' && /security event/.test(e.msg)).map((e) => e.msg),
        [],
      );
    } finally {
      await s.close();
    }
  }
});
