/**
 * End to end against the strict CSMS: what the 1.6 station does with an idTag the Central System
 * calls invalid after the start — MaxEnergyOnInvalidId (9.1.14, 3.5.4 / errata 3.17 with
 * StopTransactionOnInvalidId false) — and the LocalListConflict StatusNotification (3.5.2) when an
 * answer contradicts the local authorization list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startV16Station, IDENTITY, type V16Station } from './support/v16-station.js';

interface Status {
  connectorId: number;
  status: string;
  errorCode: string;
  info?: string;
}

const call = <T = Record<string, unknown>>(s: V16Station, action: string, params: unknown): Promise<T> => s.csms.call<T>(IDENTITY, action, params);

async function booted(v16: Record<string, string> = {}): Promise<V16Station> {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0', ...v16 } });
  await s.until('boot', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  return s;
}

const lastStatus = (s: V16Station, connectorId: number): string | undefined =>
  s.calls<Status>('StatusNotification').filter((n) => n.connectorId === connectorId).at(-1)?.status;

test('9.1.14 MaxEnergyOnInvalidId: StartTransaction.conf Invalid with StopTransactionOnInvalidId false charges up to the allowance, then SuspendedEVSE; the transaction goes on', async () => {
  const s = await booted({ StopTransactionOnInvalidId: 'false', MaxEnergyOnInvalidId: '300' });
  try {
    s.csms.setHandler('StartTransaction', () => ({ transactionId: 71, idTagInfo: { status: 'Invalid' } }));
    s.sim.plug(1);
    s.sim.tap('TAG-INVALID');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.run(5000);
    assert.equal(lastStatus(s, 1), 'Charging', 'energy keeps flowing after the Invalid answer');
    await s.until('SuspendedEVSE', () => lastStatus(s, 1) === 'SuspendedEVSE', 2000);
    // Suspended, not stopped: no StopTransaction until the EV leaves.
    await s.run(60_000);
    assert.equal(s.calls('StopTransaction').length, 0);
    s.sim.unplug(1);
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    const start = s.calls<{ meterStart: number }>('StartTransaction')[0]!;
    const stop = s.calls<{ meterStop: number; transactionId: number; reason: string }>('StopTransaction')[0]!;
    assert.equal(stop.transactionId, 71);
    assert.equal(stop.reason, 'EVDisconnected');
    const delivered = stop.meterStop - start.meterStart;
    assert.ok(delivered >= 300, `delivered ${delivered} Wh, the allowance is 300 Wh`);
    assert.ok(delivered <= 310, `delivered ${delivered} Wh: at most a second's worth over the allowance`);
  } finally {
    await s.close();
  }
});

test('9.1.14 MaxEnergyOnInvalidId 0 (default): energy stops at the Invalid answer; the key is RW and checked', async () => {
  const s = await booted({ StopTransactionOnInvalidId: 'false' });
  try {
    const conf = await call<{ configurationKey: { key: string; readonly: boolean; value?: string }[] }>(s, 'GetConfiguration', { key: ['MaxEnergyOnInvalidId'] });
    assert.deepEqual(conf.configurationKey, [{ key: 'MaxEnergyOnInvalidId', readonly: false, value: '0' }]);
    assert.deepEqual(await call(s, 'ChangeConfiguration', { key: 'MaxEnergyOnInvalidId', value: '-5' }), { status: 'Rejected' });
    s.csms.setHandler('StartTransaction', () => ({ transactionId: 72, idTagInfo: { status: 'Blocked' } }));
    s.sim.plug(1);
    s.sim.tap('TAG-BLOCKED');
    await s.until('SuspendedEVSE', () => lastStatus(s, 1) === 'SuspendedEVSE');
    await s.run(30_000);
    s.sim.unplug(1);
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    const start = s.calls<{ meterStart: number }>('StartTransaction')[0]!;
    const stop = s.calls<{ meterStop: number }>('StopTransaction')[0]!;
    assert.ok(stop.meterStop - start.meterStart < 20, `delivered ${stop.meterStop - start.meterStart} Wh with no allowance`);
  } finally {
    await s.close();
  }
});

test('9.1.14 MaxEnergyOnInvalidId counts from meterStart: an Invalid answer that comes after the allowance was used (offline start) suspends at once', async () => {
  const s = await booted({ StopTransactionOnInvalidId: 'false', MaxEnergyOnInvalidId: '100', AllowOfflineTxForUnknownId: 'true' });
  try {
    s.csms.setAccepting(false);
    await s.csms.disconnect(IDENTITY, { force: true });
    await s.until('offline', () => s.adapter.registration === 'offline');
    s.csms.setHandler('StartTransaction', () => ({ transactionId: 73, idTagInfo: { status: 'Invalid' } }));
    s.sim.plug(1);
    s.sim.tap('TAG-OFFLINE');
    await s.run(120_000); // well over 100 Wh at the sim EV's power
    s.csms.setAccepting(true);
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1, 2000);
    await s.until('SuspendedEVSE', () => lastStatus(s, 1) === 'SuspendedEVSE', 100);
    assert.equal(s.calls('StopTransaction').length, 0);
    s.sim.unplug(1);
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    const delivered = s.calls<{ meterStop: number }>('StopTransaction')[0]!.meterStop - s.calls<{ meterStart: number }>('StartTransaction')[0]!.meterStart;
    assert.ok(delivered > 100, `the offline start took ${delivered} Wh, more than the allowance, before the answer came`);
  } finally {
    await s.close();
  }
});

test('3.5.2 LocalListConflict: StartTransaction.conf Blocked for a listed Accepted idTag → StatusNotification connector 0 errorCode LocalListConflict; the list stays', async () => {
  const s = await booted({ LocalAuthListEnabled: 'true', LocalPreAuthorize: 'true' });
  try {
    assert.deepEqual(
      await call(s, 'SendLocalList', { listVersion: 3, updateType: 'Full', localAuthorizationList: [{ idTag: 'LISTED', idTagInfo: { status: 'Accepted' } }] }),
      { status: 'Accepted' },
    );
    s.csms.setHandler('StartTransaction', () => ({ transactionId: 81, idTagInfo: { status: 'Blocked' } }));
    s.sim.plug(1);
    s.sim.tap('LISTED');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.until('conflict', () => s.calls<Status>('StatusNotification').some((n) => n.errorCode === 'LocalListConflict'));
    const conflict = s.calls<Status>('StatusNotification').find((n) => n.errorCode === 'LocalListConflict')!;
    assert.equal(conflict.connectorId, 0);
    assert.equal(conflict.status, 'Available');
    assert.equal(s.calls('Authorize').length, 0, 'LocalPreAuthorize: started from the list');
    assert.deepEqual(await call(s, 'GetLocalListVersion', {}), { listVersion: 3 }, 'only SendLocalList changes the list (3.5.2)');
  } finally {
    await s.close();
  }
});

test('3.5.2 LocalListConflict: Authorize.conf Accepted for a listed Blocked idTag is reported; agreeing answers are not', async () => {
  const s = await booted({ LocalAuthListEnabled: 'true', LocalPreAuthorize: 'false' });
  try {
    const sent = await call(s, 'SendLocalList', {
      listVersion: 1,
      updateType: 'Full',
      localAuthorizationList: [
        { idTag: 'AGREES', idTagInfo: { status: 'Accepted' } },
        { idTag: 'WAS-BLOCKED', idTagInfo: { status: 'Blocked' } },
      ],
    });
    assert.deepEqual(sent, { status: 'Accepted' });
    s.sim.plug(1);
    s.sim.tap('AGREES');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    s.sim.tap('AGREES');
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    s.sim.unplug(1);
    await s.run(3000);
    assert.equal(s.calls<Status>('StatusNotification').filter((n) => n.errorCode === 'LocalListConflict').length, 0, 'no conflict when the answers agree');

    s.sim.plug(1);
    s.sim.tap('WAS-BLOCKED');
    await s.until('conflict', () => s.calls<Status>('StatusNotification').some((n) => n.errorCode === 'LocalListConflict'));
    const conflicts = s.calls<Status>('StatusNotification').filter((n) => n.errorCode === 'LocalListConflict');
    assert.equal(conflicts[0]!.connectorId, 0);
    assert.match(conflicts[0]!.info ?? '', /Authorize/);
  } finally {
    await s.close();
  }
});
