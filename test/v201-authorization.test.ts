/**
 * C: authorization with the 2.0.1 adapter end to end (station authorization rules, real link, strict
 * CSMS): Authorize, cache, local list, offline rules, master pass, group id, remote start authorization.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRPCError } from 'ocpp-rpc';
import { startCsms, type Csms } from './support/csms.js';
import { bootedV201Station, IDENTITY, type V201Station } from './support/v201-station.js';

type Tx = {
  eventType: string;
  triggerReason: string;
  offline?: boolean;
  idToken?: { idToken: string };
  transactionInfo: { transactionId: string; stoppedReason?: string; remoteStartId?: number };
};
const txs = (s: V201Station): Tx[] => s.calls<Tx>('TransactionEvent');
const ended = (s: V201Station): boolean => txs(s).some((t) => t.eventType === 'Ended');

function booted(variables: Record<string, string> = {}, csms?: Csms): Promise<V201Station> {
  return bootedV201Station({ variables, ...(csms ? { csms } : {}) });
}

async function goOffline(s: V201Station): Promise<void> {
  s.csms.setAccepting(false);
  await s.csms.disconnect(IDENTITY, { force: true });
  await s.until('offline', () => !s.link.connected);
}

test('TC_C_02_CS C01 Authorize: Invalid idTokenInfo → no transaction; Accepted → Authorize then Started carrying the idToken', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  csms.setHandler('Authorize', (p) => ({
    idTokenInfo: { status: (p as { idToken: { idToken: string } }).idToken.idToken === 'GOOD' ? 'Accepted' : 'Invalid' },
  }));
  const s = await booted({}, csms);
  try {
    s.sim.plug(1);
    s.sim.tap('BAD1');
    s.sim.evReady(1);
    await s.until('Authorize', () => s.calls('Authorize').length === 1);
    await s.run(10_000);
    assert.equal(txs(s).length, 0, 'an Invalid token starts nothing');
    s.sim.tap('GOOD');
    await s.until('Started', () => txs(s).length >= 1);
    assert.deepEqual(s.calls<{ idToken: { idToken: string } }>('Authorize').map((a) => a.idToken.idToken), ['BAD1', 'GOOD']);
    assert.equal(txs(s)[0]!.idToken?.idToken, 'GOOD');
  } finally {
    await s.close();
    await csms.close();
  }
});

test('TC_F_02_CS C05 AuthorizeRemoteStart=true: RequestStartTransaction is Authorized with the CSMS before the transaction starts; remoteStartId in Started', async () => {
  const s = await booted({ 'AuthCtrlr.AuthorizeRemoteStart': 'true' });
  try {
    s.sim.plug(1);
    await s.run(1000);
    const r = await s.call('RequestStartTransaction', { evseId: 1, remoteStartId: 77, idToken: { idToken: 'REMOTE1', type: 'Central' } });
    assert.equal((r as { status: string }).status, 'Accepted');
    s.sim.evReady(1);
    await s.until('Started', () => txs(s).length >= 1);
    const iA = s.actions().indexOf('Authorize');
    const iT = s.actions().indexOf('TransactionEvent');
    assert.ok(iA >= 0 && iA < iT, `Authorize before TransactionEvent: ${s.actions().join(',')}`);
    assert.equal(txs(s)[0]!.transactionInfo.remoteStartId, 77);
  } finally {
    await s.close();
  }
});

test('TC_F_03_CS C05 AuthorizeRemoteStart=false (default): no Authorize for a remote start', async () => {
  const s = await booted();
  try {
    s.sim.plug(1);
    await s.run(1000);
    await s.call('RequestStartTransaction', { evseId: 1, remoteStartId: 5, idToken: { idToken: 'REMOTE1', type: 'Central' } });
    s.sim.evReady(1);
    await s.until('Started', () => txs(s).length >= 1);
    assert.equal(s.calls('Authorize').length, 0);
  } finally {
    await s.close();
  }
});

test('TC_C_21_CS C13/C14 local list: SendLocalList Full, GetLocalListVersion; offline a listed token starts a transaction (offline=true) delivered after reconnect', async () => {
  const s = await booted();
  try {
    assert.deepEqual(
      await s.call('SendLocalList', {
        versionNumber: 3,
        updateType: 'Full',
        localAuthorizationList: [{ idToken: { idToken: 'LOCAL1', type: 'ISO14443' }, idTokenInfo: { status: 'Accepted' } }],
      }),
      { status: 'Accepted' },
    );
    assert.deepEqual(await s.call('GetLocalListVersion', {}), { versionNumber: 3 });
    const entries = await s.call<{ getVariableResult: { attributeValue: string }[] }>('GetVariables', {
      getVariableData: [{ component: { name: 'LocalAuthListCtrlr' }, variable: { name: 'Entries' } }],
    });
    assert.equal(entries.getVariableResult[0]!.attributeValue, '1');
    await goOffline(s);
    s.sim.plug(1);
    s.sim.tap('LOCAL1');
    s.sim.evReady(1);
    await s.run(5000);
    assert.ok(s.link.pendingCount() >= 1, 'Started is queued');
    s.csms.setAccepting(true);
    await s.until('Started', () => txs(s).length >= 1, 2000);
    assert.equal(txs(s)[0]!.eventType, 'Started');
    assert.equal(txs(s)[0]!.offline, true);
    assert.equal(txs(s)[0]!.idToken?.idToken, 'LOCAL1');
    assert.equal(s.calls('Authorize').length, 0);
    assert.deepEqual(await s.call('SendLocalList', { versionNumber: 0, updateType: 'Full' }), { status: 'Failed' });
  } finally {
    await s.close();
  }
});

test('TC_C_26_CS C15 offline unknown id: OfflineTxForUnknownIdEnabled=false → no transaction; true → transaction', async () => {
  const s = await booted();
  try {
    await goOffline(s);
    s.sim.plug(1);
    s.sim.tap('STRANGER');
    s.sim.evReady(1);
    await s.run(5000);
    assert.equal(s.link.pendingCount(), 0, 'nothing queued for an unknown token');
    s.sim.unplug(1);
    await s.run(2000);
    s.csms.setAccepting(true);
    await s.until('online', () => s.link.connected, 2000);
    await s.run(1000);
    assert.deepEqual(await s.call('SetVariables', { setVariableData: [{ component: { name: 'AuthCtrlr' }, variable: { name: 'OfflineTxForUnknownIdEnabled' }, attributeValue: 'true' }] }), {
      setVariableResult: [{ attributeStatus: 'Accepted', attributeType: 'Actual', component: { name: 'AuthCtrlr' }, variable: { name: 'OfflineTxForUnknownIdEnabled' } }],
    });
    assert.equal(s.station.auth.allowOfflineTxForUnknownId, true, 'the station follows the device model live');
    await goOffline(s);
    s.sim.plug(1);
    s.sim.tap('STRANGER');
    s.sim.evReady(1);
    await s.run(5000);
    assert.ok(s.link.pendingCount() >= 1);
    s.csms.setAccepting(true);
    await s.until('Started', () => txs(s).length >= 1, 2000);
    assert.equal(txs(s)[0]!.offline, true);
  } finally {
    await s.close();
  }
});

test('TC_C_08_CS / TC_C_37_CS / TC_C_38_CS C10/C12 authorization cache: a token accepted online is accepted from the cache while offline; ClearCache Accepted, Rejected when the cache is disabled', async () => {
  const s = await booted();
  try {
    s.sim.plug(1);
    s.sim.tap('CACHED1');
    s.sim.evReady(1);
    await s.until('Started', () => txs(s).length >= 1);
    s.sim.unplug(1);
    await s.until('Ended', () => ended(s));
    await s.run(2000);
    await goOffline(s);
    s.sim.plug(1);
    s.sim.tap('CACHED1');
    s.sim.evReady(1);
    await s.run(5000);
    assert.ok(s.link.pendingCount() >= 1, 'second transaction started offline from the cache');
    s.csms.setAccepting(true);
    await s.until('second Started', () => txs(s).filter((t) => t.eventType === 'Started').length === 2, 2000);
    assert.equal(s.calls('Authorize').length, 1);
    assert.deepEqual(await s.call('ClearCache', {}), { status: 'Accepted' });
    await s.call('SetVariables', { setVariableData: [{ component: { name: 'AuthCacheCtrlr' }, variable: { name: 'Enabled' }, attributeValue: 'false' }] });
    assert.equal(s.station.auth.authorizationCacheEnabled, false);
    assert.deepEqual(await s.call('ClearCache', {}), { status: 'Rejected' });
  } finally {
    await s.close();
  }
});

test('TC_C_49_CS C16 master pass: a token of MasterPassGroupId ends the running transaction (stoppedReason MasterPass)', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  csms.setHandler('Authorize', (p) => {
    const id = (p as { idToken: { idToken: string } }).idToken.idToken;
    return { idTokenInfo: id === 'BOSS' ? { status: 'Accepted', groupIdToken: { idToken: 'MASTER', type: 'Central' } } : { status: 'Accepted' } };
  });
  const s = await booted({ 'AuthCtrlr.MasterPassGroupId': 'MASTER' }, csms);
  try {
    assert.equal(s.station.auth.masterPassGroupId, 'MASTER');
    s.sim.plug(1);
    s.sim.tap('DRIVER1');
    s.sim.evReady(1);
    await s.until('Started', () => txs(s).length >= 1);
    await s.run(5000);
    s.sim.tap('BOSS');
    await s.until('Ended', () => ended(s));
    assert.equal(txs(s).at(-1)!.transactionInfo.stoppedReason, 'MasterPass');
  } finally {
    await s.close();
    await csms.close();
  }
});

test('TC_C_39_CS C09 group id: another token of the same group stops the transaction; its idToken is in Ended', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  csms.setHandler('Authorize', () => ({ idTokenInfo: { status: 'Accepted', groupIdToken: { idToken: 'FLEET7', type: 'Central' } } }));
  const s = await booted({}, csms);
  try {
    s.sim.plug(1);
    s.sim.tap('CARD-A');
    s.sim.evReady(1);
    await s.until('Started', () => txs(s).length >= 1);
    await s.run(5000);
    s.sim.tap('CARD-B');
    await s.until('Ended', () => ended(s));
    const last = txs(s).at(-1)!;
    assert.equal(last.transactionInfo.stoppedReason, 'Local');
    assert.equal(last.idToken?.idToken, 'CARD-B');
  } finally {
    await s.close();
    await csms.close();
  }
});

test('C15.FR.02 / C15.FR.04 offline start of an unknown id that the CSMS then answers Invalid in the TransactionEvent response: StopTxOnInvalidId ends it (Deauthorized, DeAuthorized)', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  csms.setHandler('TransactionEvent', (p) =>
    (p as { idToken?: unknown }).idToken !== undefined ? { idTokenInfo: { status: 'Invalid' } } : {},
  );
  const s = await booted({ 'AuthCtrlr.OfflineTxForUnknownIdEnabled': 'true' }, csms);
  try {
    await goOffline(s);
    s.sim.plug(1);
    s.sim.tap('STRANGER');
    s.sim.evReady(1);
    await s.run(5000);
    assert.ok(s.link.pendingCount() >= 1);
    s.csms.setAccepting(true);
    await s.until('Ended', () => ended(s), 2000);
    const last = txs(s).at(-1)!;
    assert.equal(last.triggerReason, 'Deauthorized');
    assert.equal(last.transactionInfo.stoppedReason, 'DeAuthorized');
  } finally {
    await s.close();
    await csms.close();
  }
});

test('issue 10 #12 C01/C15: an Authorize answered with a CALLERROR is a refusal, not offline: no transaction even with OfflineTxForUnknownIdEnabled', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  csms.setHandler('Authorize', () => {
    throw createRPCError('FormatViolation', 'idToken not understood');
  });
  const s = await booted({ 'AuthCtrlr.OfflineTxForUnknownIdEnabled': 'true', 'AuthCtrlr.LocalAuthorizeOffline': 'true' }, csms);
  try {
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('Authorize', () => s.calls('Authorize').length === 1);
    await s.run(5000);
    assert.equal(txs(s).length, 0, 'a token the CSMS could not parse starts nothing');
    assert.equal(s.station.session(1)?.authorizedAt, undefined);
    assert.equal(s.link.pendingCount(), 0);
  } finally {
    await s.close();
    await csms.close();
  }
});
