/**
 * End to end: authorization (1.6 §3.5 cache and local list, §4.1 Authorize, §5.15 SendLocalList,
 * §5.4 ClearCache) and the CSMS invalidating a token in StartTransaction.conf (§4.8, errata 3.17).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRPCError } from 'ocpp-rpc';
import { cacheGet } from '../src/store/auth-cache.js';
import { startV16Station, IDENTITY, type V16Station } from './support/v16-station.js';

const call = <T = Record<string, unknown>>(s: V16Station, action: string, params: unknown): Promise<T> => s.csms.call<T>(IDENTITY, action, params);

async function booted(v16: Record<string, string> = {}): Promise<V16Station> {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0', ...v16 } });
  await s.until('boot', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  return s;
}

async function goOffline(s: V16Station): Promise<void> {
  s.csms.setAccepting(false);
  await s.csms.disconnect(IDENTITY, { force: true });
  await s.until('offline', () => s.adapter.registration === 'offline');
}

test('3.5.1 authorization cache: a token the CSMS accepted charges offline; after ClearCache it does not', async () => {
  const s = await booted({ AuthorizationCacheEnabled: 'true', LocalAuthorizeOffline: 'true', AllowOfflineTxForUnknownId: 'false' });
  try {
    s.sim.plug(1);
    s.sim.tap('CACHED-1');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    s.sim.tap('CACHED-1');
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    s.sim.unplug(1);
    await s.run(2000);
    assert.deepEqual(s.calls('Authorize'), [{ idTag: 'CACHED-1' }]);

    await goOffline(s);
    s.sim.plug(1);
    s.sim.tap('CACHED-1');
    await s.run(5000);
    assert.equal(s.link.pendingCount(), 1, 'StartTransaction queued from a cache authorization');
    s.sim.tap('CACHED-1');
    await s.run(2000);
    s.sim.unplug(1);
    await s.run(2000);
    s.csms.setAccepting(true);
    await s.until('queued transaction delivered', () => s.calls('StopTransaction').length === 2 && s.link.pendingCount() === 0 && s.actions().slice(s.actions().lastIndexOf('BootNotification')).filter((x) => x === 'StatusNotification').length >= 2);
    assert.deepEqual(s.actions().slice(-5), ['BootNotification', 'StartTransaction', 'StopTransaction', 'StatusNotification', 'StatusNotification']);
    assert.equal(s.calls('Authorize').length, 1, 'no Authorize while offline');

    assert.deepEqual(await call(s, 'ClearCache', {}), { status: 'Accepted' });
    await goOffline(s);
    s.sim.plug(1);
    s.sim.tap('CACHED-1');
    await s.run(5000);
    assert.equal(s.link.pendingCount(), 0, 'not in the cache any more: refused offline');
  } finally {
    await s.close();
  }
});

test('3.5.2 / 5.15 / 5.10 local list: full and differential updates, version checks; LocalPreAuthorize starts without Authorize', async () => {
  const s = await booted({ LocalAuthListEnabled: 'true', LocalPreAuthorize: 'true' });
  try {
    assert.deepEqual(await call(s, 'GetLocalListVersion', {}), { listVersion: 0 });
    assert.deepEqual(
      await call(s, 'SendLocalList', {
        listVersion: 5,
        updateType: 'Full',
        localAuthorizationList: [
          { idTag: 'LIST-OK', idTagInfo: { status: 'Accepted' } },
          { idTag: 'LIST-BLOCKED', idTagInfo: { status: 'Blocked' } },
        ],
      }),
      { status: 'Accepted' },
    );
    assert.deepEqual(await call(s, 'GetLocalListVersion', {}), { listVersion: 5 });
    assert.deepEqual(
      await call(s, 'SendLocalList', { listVersion: 5, updateType: 'Differential', localAuthorizationList: [{ idTag: 'NEW', idTagInfo: { status: 'Accepted' } }] }),
      { status: 'VersionMismatch' },
    );
    assert.deepEqual(await call(s, 'SendLocalList', { listVersion: 0, updateType: 'Full' }), { status: 'Failed' }, 'errata 3.52');
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ idTag: `T${i}`, idTagInfo: { status: 'Accepted' } }));
    assert.deepEqual(await call(s, 'SendLocalList', { listVersion: 9, updateType: 'Full', localAuthorizationList: tooMany }), { status: 'Failed' }, 'SendLocalListMaxLength');
    assert.deepEqual(
      await call(s, 'SendLocalList', { listVersion: 6, updateType: 'Differential', localAuthorizationList: [{ idTag: 'LIST-BLOCKED' }] }),
      { status: 'Accepted' },
    );
    assert.deepEqual(await call(s, 'GetLocalListVersion', {}), { listVersion: 6 });

    s.sim.plug(1);
    s.sim.tap('LIST-OK');
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    assert.equal(s.calls('Authorize').length, 0, 'LocalPreAuthorize: the list entry is enough');
    assert.deepEqual(await call(s, 'ChangeConfiguration', { key: 'LocalAuthListEnabled', value: 'false' }), { status: 'Accepted' });
    assert.deepEqual(await call(s, 'SendLocalList', { listVersion: 7, updateType: 'Full' }), { status: 'NotSupported' });
  } finally {
    await s.close();
  }
});

test('4.8 / errata 3.17 StartTransaction.conf Invalid with StopTransactionOnInvalidId: StopTransaction(DeAuthorized)', async () => {
  const s = await booted({ StopTransactionOnInvalidId: 'true' });
  try {
    s.csms.setHandler('StartTransaction', () => ({ transactionId: 555, idTagInfo: { status: 'Invalid' } }));
    s.sim.plug(1);
    s.sim.tap('TAG-X');
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    const stop = s.calls('StopTransaction')[0]!;
    assert.equal(stop.transactionId, 555);
    assert.equal(stop.reason, 'DeAuthorized');
  } finally {
    await s.close();
  }
});

test('4.1 Authorize answered Blocked: no StartTransaction', async () => {
  const s = await booted();
  try {
    s.csms.setHandler('Authorize', () => ({ idTagInfo: { status: 'Blocked' } }));
    s.sim.plug(1);
    s.sim.tap('BAD-TAG');
    await s.run(5000);
    assert.deepEqual(s.calls('Authorize'), [{ idTag: 'BAD-TAG' }]);
    assert.equal(s.calls('StartTransaction').length, 0);
  } finally {
    await s.close();
  }
});

test('issue 10 #12 / 4.1: an Authorize answered with a CALLERROR is a refusal, not "offline": no transaction even with AllowOfflineTxForUnknownId', async () => {
  const s = await booted({ AuthorizationCacheEnabled: 'true', LocalAuthorizeOffline: 'true', AllowOfflineTxForUnknownId: 'true' });
  try {
    s.csms.setHandler('Authorize', () => {
      throw createRPCError('InternalError', 'cannot check this card');
    });
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    await s.until('Authorize answered', () => s.calls('Authorize').length === 1);
    await s.run(5000);
    assert.equal(s.calls('StartTransaction').length, 0, 'no StartTransaction for a token the CSMS did not accept');
    assert.equal(s.station.session(1)?.authorizedAt, undefined);
    assert.equal(s.link.pendingCount(), 0);
    assert.equal(cacheGet(s.db, '04A1B2C3'), undefined, 'a refusal by error is not cached');
  } finally {
    await s.close();
  }
});
