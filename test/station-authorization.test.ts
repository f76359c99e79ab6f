/** Authorization: local list, cache, CSMS, offline rules (1.6 §3.5, 2.0.1 C01, C10-C15, D01). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheGet } from '../src/store/auth-cache.js';
import type { LocalListEntry } from '../src/station/api.js';
import { charging, makeStation, tok } from './support/station-fixture.js';

const entry = (id: string, status: 'Accepted' | 'Blocked' | 'Expired' = 'Accepted', groupId?: string): LocalListEntry => ({
  idToken: tok(id),
  auth: { status, ...(groupId ? { groupId } : {}) },
});

test('C01 online: the CSMS decides; Blocked starts nothing and is cached', async () => {
  const f = await makeStation();
  f.hal.evse(1).pilot.setState('B');
  f.csms.answers.set('BAD', { status: 'Blocked' });
  assert.equal((await f.station.presentToken(tok('BAD'))).status, 'Blocked');
  assert.equal(f.station.session(1)?.authorizedAt, undefined);
  assert.equal(cacheGet(f.db, 'BAD')?.status, 'Blocked');
  await f.stop();
});

test('C12/D01 LocalPreAuthorize: a valid local-list entry starts at once without asking the CSMS', async () => {
  const f = await makeStation({ auth: { localPreAuthorize: true } });
  assert.equal(f.station.updateLocalList(1, true, [entry('LOCAL1', 'Accepted', 'G')]), 'Accepted');
  assert.equal(f.station.localListVersion(), 1);
  f.hal.evse(1).pilot.setState('B');
  const info = await f.station.presentToken(tok('LOCAL1'));
  assert.equal(info.status, 'Accepted');
  assert.equal(info.groupId, 'G');
  assert.deepEqual(f.csms.calls, []);
  assert.ok(f.station.session(1)?.authorizedAt);
  assert.equal(f.station.session(1)?.offline, undefined);
  await f.stop();
});

test('without LocalPreAuthorize a listed token is still checked with the CSMS while online', async () => {
  const f = await makeStation({ auth: { localPreAuthorize: false } });
  f.station.updateLocalList(1, true, [entry('LOCAL1')]);
  f.csms.answers.set('LOCAL1', { status: 'Invalid' });
  assert.equal((await f.station.presentToken(tok('LOCAL1'), 1)).status, 'Invalid');
  assert.deepEqual(f.csms.calls, ['LOCAL1']);
  await f.stop();
});

test('D01 local list updates: differential needs a newer version, removes entries without auth; full replaces', async () => {
  const f = await makeStation({ auth: { localPreAuthorize: true } });
  f.csms.online = false;
  assert.equal(f.station.updateLocalList(2, true, [entry('A'), entry('B')]), 'Accepted');
  assert.equal(f.station.updateLocalList(2, false, [entry('C')]), 'VersionMismatch');
  assert.equal(f.station.updateLocalList(3, false, [entry('C'), { idToken: tok('A') }]), 'Accepted');
  assert.equal(f.station.localListVersion(), 3);
  assert.equal((await f.station.presentToken(tok('A'), 1)).status, 'Invalid', 'removed');
  assert.equal((await f.station.presentToken(tok('C'), 1)).status, 'Accepted');
  assert.equal(f.station.updateLocalList(1, true, [entry('Z')]), 'Accepted', 'a full update may set any version');
  assert.equal(f.station.localListVersion(), 1);
  await f.stop();
});

test('local list disabled: updates fail', async () => {
  const f = await makeStation({ auth: { localAuthListEnabled: false } });
  assert.equal(f.station.updateLocalList(1, true, [entry('A')]), 'Failed');
  await f.stop();
});

test('C13 offline: LocalAuthorizeOffline accepts a listed token; the session is marked offline', async () => {
  const f = await makeStation({ auth: { localAuthorizeOffline: true } });
  f.station.updateLocalList(1, true, [entry('LOCAL1')]);
  f.csms.online = false;
  f.hal.evse(1).pilot.setState('B');
  assert.equal((await f.station.presentToken(tok('LOCAL1'))).status, 'Accepted');
  assert.equal(f.station.session(1)?.offline, true);
  assert.deepEqual(f.csms.calls, []);
  await f.stop();
});

test('offline with LocalAuthorizeOffline=false: a listed token is refused', async () => {
  const f = await makeStation({ auth: { localAuthorizeOffline: false } });
  f.station.updateLocalList(1, true, [entry('LOCAL1')]);
  f.csms.online = false;
  assert.equal((await f.station.presentToken(tok('LOCAL1'), 1)).status, 'Invalid');
  assert.equal(f.station.session(1), undefined);
  await f.stop();
});

test('C10 cache: a CSMS answer is cached and used offline until it expires (AuthCacheLifeTime)', async () => {
  const f = await makeStation({ auth: { authCacheLifeTimeS: 600 } });
  f.csms.answers.set('AA11', { status: 'Accepted' });
  await charging(f);
  await f.station.presentToken(tok('AA11'));
  f.hal.evse(1).pilot.setState('A');
  await f.clock.advance(0);
  f.csms.online = false;
  assert.equal((await f.station.presentToken(tok('AA11'), 1)).status, 'Accepted');
  assert.equal(f.station.session(1)?.offline, true);
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(601_000);
  assert.equal((await f.station.presentToken(tok('AA11'), 1)).status, 'Expired', 'entry expired');
  assert.equal(f.station.session(1), undefined);
  await f.stop();
});

test('C10 cache disabled: nothing is remembered; clearAuthCache empties it', async () => {
  const f = await makeStation({ auth: { authorizationCacheEnabled: false } });
  f.csms.answers.set('AA11', { status: 'Accepted' });
  await f.station.presentToken(tok('AA11'), 1);
  assert.equal(cacheGet(f.db, 'AA11'), undefined);
  f.station.auth.authorizationCacheEnabled = true;
  f.station.rememberAuth({ idToken: 'X', type: 'ISO14443' }, { status: 'Accepted' });
  assert.equal(cacheGet(f.db, 'X')?.status, 'Accepted');
  f.station.clearAuthCache();
  assert.equal(cacheGet(f.db, 'X'), undefined);
  await f.stop();
});

test('C15 offline unknown token: AllowOfflineTxForUnknownId decides', async () => {
  const f = await makeStation({ evses: 2, auth: { allowOfflineTxForUnknownId: true } });
  f.csms.online = false;
  assert.equal((await f.station.presentToken(tok('NEW1'), 1)).status, 'Accepted');
  assert.equal(f.station.session(1)?.offline, true);
  f.station.auth.allowOfflineTxForUnknownId = false;
  assert.equal((await f.station.presentToken(tok('NEW2'), 2)).status, 'Invalid');
  assert.equal(f.station.session(2), undefined);
  await f.stop();
});

test('a CSMS that times out while "online" falls back to the offline rules', async () => {
  const f = await makeStation({ auth: { allowOfflineTxForUnknownId: true } });
  f.csms.failing = true;
  assert.equal((await f.station.presentToken(tok('NEW1'), 1)).status, 'Accepted');
  assert.deepEqual(f.csms.calls, ['NEW1']);
  assert.equal(f.station.session(1)?.offline, true);
  await f.stop();
});

test('ConcurrentTx: a token already charging on EVSE 1 cannot start on EVSE 2', async () => {
  const f = await makeStation({ evses: 2 });
  await charging(f, 1, 'AA11');
  const info = await f.station.presentToken(tok('AA11'), 2);
  assert.equal(info.status, 'ConcurrentTx');
  assert.equal(f.station.session(2), undefined);
  assert.ok(f.station.session(1), 'and the running one is not stopped');
  assert.equal(await f.station.requestStart(2, tok('AA11'), { preAuthorized: true }), 'Rejected');
  await f.stop();
});

test('reader tap goes to the EVSE that is plugged and waiting', async () => {
  const f = await makeStation({ evses: 3 });
  f.csms.answers.set('AA11', { status: 'Accepted' });
  f.hal.evse(2).pilot.setState('B');
  f.hal.reader!.tap('AA11');
  await f.clock.advance(0);
  assert.equal(f.station.session(2)?.idToken?.idToken, 'AA11');
  assert.equal(f.station.session(1), undefined);
  f.csms.answers.set('BB22', { status: 'Accepted' });
  f.hal.reader!.tap('BB22');
  await f.clock.advance(0);
  assert.equal(f.station.session(1)?.idToken?.idToken, 'BB22', 'nothing waiting: the first available EVSE');
  await f.stop();
});

test('F01/F02 remote start: pre-authorized, or authorized with the CSMS after the answer (AuthorizeRemoteTxRequests, F01.FR.01)', async () => {
  const f = await makeStation({ evses: 2 });
  assert.equal(await f.station.requestStart(1, tok('R1'), { preAuthorized: true, remoteStartId: 42 }), 'Accepted');
  const started = f.sessionEvents('started')[0]!;
  assert.equal(started.trigger, 'RemoteStart');
  assert.equal(started.session.remoteStartId, 42);
  assert.deepEqual(f.csms.calls, []);
  assert.equal(await f.station.requestStart(1, tok('R9'), { preAuthorized: true }), 'Rejected', 'EVSE already authorized');
  // 1.6 5.11 / F01.FR.01: the answer does not wait for the authorization; a refused token starts nothing.
  f.csms.answers.set('R2', { status: 'Blocked' });
  let refused = 0;
  assert.equal(await f.station.requestStart(2, tok('R2'), { preAuthorized: false, refused: () => refused++ }), 'Accepted');
  await f.clock.advance(0);
  assert.deepEqual(f.csms.calls, ['R2']);
  assert.equal(f.station.session(2)?.authorizedAt, undefined);
  assert.equal(refused, 1);
  f.csms.answers.set('R4', { status: 'Accepted' });
  assert.equal(await f.station.requestStart(2, tok('R4'), { preAuthorized: false }), 'Accepted');
  assert.equal(f.station.session(2)?.authorizedAt, undefined, 'not before the CSMS answered the Authorize');
  await f.clock.advance(0);
  assert.equal(f.station.session(2)?.idToken?.idToken, 'R4');
  assert.equal(await f.station.requestStart(9, tok('R3'), { preAuthorized: true }), 'Rejected', 'unknown EVSE');
  await f.stop();
});

test('deauthorize with StopTransactionOnInvalidId=false: energy stops, the session stays, SuspendedEVSE', async () => {
  const f = await makeStation({ auth: { stopTransactionOnInvalidId: false } });
  await charging(f);
  const id = f.station.session(1)!.id;
  f.station.deauthorize(id, { status: 'Invalid' });
  assert.equal(f.hal.evse(1).contactor.commanded, false);
  await f.clock.advance(0);
  assert.ok(f.station.session(1));
  assert.equal(f.lastStatus()?.status, 'SuspendedEVSE');
  f.hal.evse(1).pilot.setState('B');
  f.hal.evse(1).pilot.setState('C');
  assert.equal(f.hal.evse(1).contactor.commanded, false, 'stays open');
  assert.equal(f.sessionEvents('ended').length, 0);
  assert.equal(f.sessionEvents('deauthorized')[0]?.session.auth?.status, 'Invalid');
  assert.equal(cacheGet(f.db, 'AA11')?.status, 'Invalid', 'the cache learns the new status');
  await f.stop();
});

test('issue 10 #12: a CSMS that answers with an error refuses the token; the cache, local list and unknown-id rules do not apply', async () => {
  const f = await makeStation({ auth: { allowOfflineTxForUnknownId: true, localAuthorizeOffline: true, localPreAuthorize: false } });
  f.station.updateLocalList(1, true, [entry('LISTED')]);
  f.csms.callError = Object.assign(new Error('cannot parse'), { rpcErrorCode: 'FormationViolation' });
  assert.equal((await f.station.presentToken(tok('NEW1'), 1)).status, 'Invalid');
  assert.equal((await f.station.presentToken(tok('LISTED'), 1)).status, 'Invalid');
  assert.deepEqual(f.csms.calls, ['NEW1', 'LISTED']);
  assert.equal(f.station.session(1)?.authorizedAt, undefined);
  assert.equal(cacheGet(f.db, 'NEW1'), undefined);
  await f.stop();
});
