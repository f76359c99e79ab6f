/**
 * OCPP 1.6 security whitepaper (edition 3) on the 1.6 adapter, against the strict in-process CSMS
 * (whose ocpp1_6 schema set includes the whitepaper's messages): security events (A04), the
 * AuthorizationKey (A01), the read-only SecurityProfile, and queued messages that went dead.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createRPCError } from 'ocpp-rpc';
import type { OcppConfig } from '../src/config/types.js';
import { createV16Adapter } from '../src/ocpp/v16/index.js';
import { makeTestCerts, type TestCerts } from './support/certs.js';
import { startCsms, type Csms } from './support/csms.js';
import { tempDir } from './support/ocpp-link.js';
import { startSecureStation, type SecureStation } from './support/secure-station.js';
import { startV16Station } from './support/v16-station.js';

const ID = 'CP-SEC16';

/** The 1.6 station under test, connecting to csms with these settings. */
function station(csms: Csms, ocpp: Partial<OcppConfig>): Promise<SecureStation> {
  return startSecureStation({ csms, identity: ID, version: '1.6', adapter: createV16Adapter, ocpp: { csmsUrl: csms.url, ...ocpp } });
}
let certs: TestCerts;
let certDir: ReturnType<typeof tempDir>;
before(() => {
  certDir = tempDir('v16-sec-certs-');
  certs = makeTestCerts(certDir.path, ID);
});
after(() => certDir.remove());

interface Sen {
  type: string;
  timestamp: string;
  techInfo?: string;
}

test('A00.FR.309 / A04.FR.02 a CSMS certificate from the wrong CA: InvalidCentralSystemCertificate is logged once and queued; after connecting with the right CA it arrives after the boot, with StartupOfTheDevice', async () => {
  const csms = await startCsms({
    protocols: ['ocpp1.6'],
    tls: { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) },
    password: 'tls-basic-auth-pw-16',
  });
  const s = await station(csms, { securityProfile: 2, password: 'tls-basic-auth-pw-16', caFile: certs.otherCaCert });
  try {
    const failures = (): number => s.log.entries.filter((e) => /TLS handshake failed/.test(e.msg)).length;
    await s.until('three refused handshakes', () => failures() >= 3);
    assert.deepEqual(csms.clients(), []);
    const events = s.log.entries.filter((e) => e.msg === 'security event InvalidCentralSystemCertificate');
    assert.equal(events.length, 1, 'one event for the run of failures');
    assert.equal(s.link.pendingCount(), 1, 'InvalidCentralSystemCertificate waits in the outbox');

    await s.link.reconfigure({ caFile: certs.caCert });
    await s.until('both notifications delivered', () => s.calls('SecurityEventNotification').length === 2 && s.link.pendingCount() === 0);
    const sen = s.calls<Sen>('SecurityEventNotification');
    // The TLS event was queued while offline; the boot event on the first connection (order is free, TC_A_06).
    assert.deepEqual(sen.map((e) => e.type), ['InvalidCentralSystemCertificate', 'StartupOfTheDevice']);
    assert.match(sen[0]!.techInfo ?? '', /certificate/i);
    assert.ok(Date.parse(sen[1]!.timestamp) < Date.parse(sen[0]!.timestamp), 'the boot event carries the time of the start');
    assert.ok(!Number.isNaN(Date.parse(sen[0]!.timestamp)));
    // Queued messages wait for the accepted boot (4.2), as the transaction messages do.
    const actions = s.actions();
    assert.ok(actions.indexOf('BootNotification') < actions.indexOf('SecurityEventNotification'), actions.join(','));
  } finally {
    await s.close();
    await csms.close();
  }
});

test('A01 AuthorizationKey: ChangeConfiguration Accepted, the station reconnects with the new password, and after a restart still uses it; an invalid key is Rejected', async () => {
  let password = 'first-password-0001';
  const csms = await startCsms({ protocols: ['ocpp1.6'], password: () => password });
  const s = await station(csms, { securityProfile: 1, password });
  try {
    await s.until('first boot', () => s.calls('BootNotification').length === 1 && s.calls('StatusNotification').length >= 2);
    const tooShort = await csms.call<{ status: string }>(ID, 'ChangeConfiguration', { key: 'AuthorizationKey', value: 'short' });
    assert.equal(tooShort.status, 'Rejected', 'A00.FR.205: at least 16 bytes');

    const newKey = 'second-password-0002';
    const res = await csms.call<{ status: string }>(ID, 'ChangeConfiguration', { key: 'AuthorizationKey', value: newKey });
    assert.equal(res.status, 'Accepted');
    // A01.FR.03: from now on the CSMS accepts only the new password.
    password = newKey;
    await s.until('reconnected and booted again', () => s.calls('BootNotification').length === 2);
    assert.equal(csms.clients().length, 1);
    assert.ok(s.log.entries.some((e) => e.msg === 'security event ReconfigurationOfSecurityParameters'), 'A01.FR.11 logged');
    assert.ok(!JSON.stringify(s.log.entries).includes(newKey), 'A01.FR.12 the key is never logged');

    // The config file still names the first password: the stored key wins at the next start.
    await s.restart();
    await s.until('boot after restart', () => s.calls('BootNotification').length === 3);
  } finally {
    await s.close();
    await csms.close();
  }
});

test('7.2 / 7.6 AuthorizationKey is never read back; SecurityProfile is read-only and reflects the configuration', async () => {
  let password = 'first-password-0001';
  const csms = await startCsms({ protocols: ['ocpp1.6'], password: () => password });
  const s = await station(csms, { securityProfile: 1, password });
  try {
    await s.until('boot', () => s.calls('BootNotification').length === 1);
    password = 'another-password-0003';
    assert.equal((await csms.call<{ status: string }>(ID, 'ChangeConfiguration', { key: 'AuthorizationKey', value: password })).status, 'Accepted');
    await s.until('reconnected', () => s.calls('BootNotification').length === 2);

    type Conf = { configurationKey?: { key: string; readonly: boolean; value?: string }[]; unknownKey?: string[] };
    const all = await csms.call<Conf>(ID, 'GetConfiguration', {});
    const ak = all.configurationKey!.find((k) => k.key === 'AuthorizationKey');
    assert.deepEqual(ak, { key: 'AuthorizationKey', readonly: false }, 'named, never with a value');
    assert.ok(!JSON.stringify(all).includes(password));
    const one = await csms.call<Conf>(ID, 'GetConfiguration', { key: ['authorizationkey', 'SecurityProfile'] });
    assert.deepEqual(one.configurationKey, [
      { key: 'AuthorizationKey', readonly: false },
      { key: 'SecurityProfile', readonly: true, value: '1' },
    ]);
    // A05.FR.01: not higher → Rejected; higher cannot be met here (no certificates over 1.6): Rejected.
    for (const value of ['0', '1', '2']) {
      const r = await csms.call<{ status: string }>(ID, 'ChangeConfiguration', { key: 'SecurityProfile', value });
      assert.equal(r.status, 'Rejected', `SecurityProfile ${value}`);
    }
  } finally {
    await s.close();
    await csms.close();
  }
});

test('A04 / chapter 8 after a Reset the next boot reports ResetOrReboot (critical events are queued)', async () => {
  const csms = await startCsms({ protocols: ['ocpp1.6'], password: 'reset-password-0016' });
  const s = await station(csms, { securityProfile: 1, password: 'reset-password-0016' });
  try {
    await s.until('boot', () => s.calls('SecurityEventNotification').length === 1);
    assert.deepEqual(await csms.call(ID, 'Reset', { type: 'Hard' }), { status: 'Accepted' });
    await s.restart();
    await s.until('boot after the reset', () => s.calls('SecurityEventNotification').length === 2);
    assert.deepEqual(s.calls<Sen>('SecurityEventNotification').map((e) => e.type), ['StartupOfTheDevice', 'ResetOrReboot']);
  } finally {
    await s.close();
    await csms.close();
  }
});

test('3.7 / errata 3.18 a StartTransaction the CSMS keeps refusing goes dead: logged with action and session, StopTransaction still goes with transactionId -1, nothing crashes; profile 0 queues no security event', async () => {
  const s = await startV16Station({
    v16: { MeterValueSampleInterval: '0', TransactionMessageRetryInterval: '1' },
    csmsSetup: (c) =>
      c.setHandler('StartTransaction', () => {
        throw createRPCError('InternalError', 'refused for the test');
      }),
  });
  try {
    await s.until('boot', () => s.adapter.registration === 'Accepted');
    s.sim.plug(1);
    s.sim.tap('DEAD-START');
    await s.until('StartTransaction dead after 3 attempts', () =>
      s.log.entries.some((e) => e.level === 'error' && /StartTransaction was never accepted/.test(e.msg)),
    );
    assert.equal(s.calls('StartTransaction').length, 3);
    const dead = s.log.entries.find((e) => /StartTransaction was never accepted/.test(e.msg))!;
    assert.equal(dead.meta?.action, 'StartTransaction');
    assert.equal(dead.meta?.transactionId, -1);
    assert.equal(typeof dead.meta?.sessionId, 'string');
    assert.match(String(dead.meta?.error), /InternalError/);
    assert.equal(s.link.deadLetters().length, 1);

    s.sim.unplug(1);
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1 && s.link.pendingCount() === 0);
    assert.equal(s.calls('StopTransaction')[0]!.transactionId, -1);
    // The station is still serving: a heartbeat round trip.
    const hb = await s.csms.call<{ status: string }>('CP-V16', 'TriggerMessage', { requestedMessage: 'Heartbeat' });
    assert.equal(hb.status, 'Accepted');
    await s.until('Heartbeat', () => s.calls('Heartbeat').length >= 1);
    assert.equal(s.calls('SecurityEventNotification').length, 0, 'security profile 0: events are only logged');
    assert.ok(s.log.entries.some((e) => e.msg === 'security event StartupOfTheDevice'));
  } finally {
    await s.close();
  }
});
