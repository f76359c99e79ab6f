/**
 * OCPP 2.0.1 block A on the 2.0.1 adapter, against the strict in-process CSMS: A04 security events
 * (queued in the outbox, sent after the accepted boot), A01 BasicAuthPassword, SecurityCtrlr, and
 * queued messages that went dead.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createRPCError } from 'ocpp-rpc';
import type { OcppConfig } from '../src/config/types.js';
import { createV201Adapter } from '../src/ocpp/v201/index.js';
import { makeTestCerts, type TestCerts } from './support/certs.js';
import { startCsms, type Csms } from './support/csms.js';
import { tempDir } from './support/ocpp-link.js';
import { startSecureStation, type SecureStation } from './support/secure-station.js';
import { IDENTITY, startV201Station } from './support/v201-station.js';

const ID = 'CP-SEC201';

/** The 2.0.1 station under test, connecting to csms with these settings. */
function station(csms: Csms, ocpp: Partial<OcppConfig>): Promise<SecureStation> {
  return startSecureStation({ csms, identity: ID, version: '2.0.1', adapter: createV201Adapter, ocpp: { csmsUrl: csms.url, ...ocpp } });
}
let certs: TestCerts;
let certDir: ReturnType<typeof tempDir>;
before(() => {
  certDir = tempDir('v201-sec-certs-');
  certs = makeTestCerts(certDir.path, ID);
});
after(() => certDir.remove());

interface Sen {
  type: string;
  timestamp: string;
  techInfo?: string;
}

type GetVarsResult = { getVariableResult: { attributeStatus: string; attributeValue?: string; variable: { name: string } }[] };

async function getSecurityCtrlr(csms: Csms, names: string[]): Promise<Record<string, string>> {
  const r = await csms.call<GetVarsResult>(ID, 'GetVariables', {
    getVariableData: names.map((name) => ({ component: { name: 'SecurityCtrlr' }, variable: { name } })),
  });
  return Object.fromEntries(r.getVariableResult.map((x) => [x.variable.name, x.attributeValue ?? x.attributeStatus]));
}

const booted = (s: SecureStation, n: number) => (): boolean =>
  s.calls<{ status?: string }>('BootNotification').length === n && s.calls('StatusNotification').length >= n;

test('TC_A_05_CS A00.FR.310 / A04.FR.01 / A04.FR.02 a CSMS certificate from the wrong CA: InvalidCsmsCertificate is queued once; after connecting with the right CA it arrives after the boot, with StartupOfTheDevice', async () => {
  const csms = await startCsms({
    protocols: ['ocpp2.0.1'],
    tls: { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) },
    password: 'tls-basic-auth-pw-201',
  });
  const s = await station(csms, { securityProfile: 2, password: 'tls-basic-auth-pw-201', caFile: certs.otherCaCert });
  try {
    const failures = (): number => s.log.entries.filter((e) => /TLS handshake failed/.test(e.msg)).length;
    await s.until('three refused handshakes', () => failures() >= 3);
    assert.deepEqual(csms.clients(), [], 'A00.FR.311 the connection is not made');
    assert.equal(s.log.entries.filter((e) => e.msg === 'security event InvalidCsmsCertificate').length, 1);
    assert.equal(s.link.pendingCount(), 1, 'InvalidCsmsCertificate waits in the outbox');

    await s.link.reconfigure({ caFile: certs.caCert });
    await s.until('both notifications delivered', () => s.calls('SecurityEventNotification').length === 2 && s.link.pendingCount() === 0);
    const sen = s.calls<Sen>('SecurityEventNotification');
    // The TLS event was queued while offline; the boot event on the first connection (order is free, TC_A_06).
    assert.deepEqual(sen.map((e) => e.type), ['InvalidCsmsCertificate', 'StartupOfTheDevice']);
    assert.match(sen[0]!.techInfo ?? '', /certificate/i);
    assert.ok(Date.parse(sen[1]!.timestamp) < Date.parse(sen[0]!.timestamp), 'the boot event carries the time of the start');
    const actions = s.actions();
    assert.equal(actions[0], 'BootNotification', 'B01.FR.08 nothing before the accepted boot');
    assert.equal(s.log.entries.filter((e) => e.msg === 'security event InvalidCsmsCertificate').length, 1, 'the good connection raised no new event');
  } finally {
    await s.close();
    await csms.close();
  }
});

test('TC_A_09_CS A01 BasicAuthPassword: SetVariables Accepted, the station reconnects with the new password (no boot), logs the change without the password, never reads it back, and uses it after a restart; SecurityCtrlr reports profile and identity', async () => {
  let password = 'first-password-0201';
  const csms = await startCsms({ protocols: ['ocpp2.0.1'], password: () => password });
  const s = await station(csms, { securityProfile: 1, password });
  try {
    await s.until('boot', booted(s, 1));
    await s.until('StartupOfTheDevice', () => s.calls('SecurityEventNotification').length === 1);
    assert.equal(s.calls<Sen>('SecurityEventNotification')[0]!.type, 'StartupOfTheDevice');
    let opens = 0;
    s.link.on('open', () => opens++);

    const setPassword = (value: string) =>
      csms.call<{ setVariableResult: { attributeStatus: string }[] }>(ID, 'SetVariables', {
        setVariableData: [{ component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' }, attributeValue: value }],
      });
    assert.equal((await setPassword('too-short')).setVariableResult[0]!.attributeStatus, 'Rejected', 'TC_A_10: 16 to 40 characters');
    const newPassword = 'second-password-0201';
    assert.equal((await setPassword(newPassword)).setVariableResult[0]!.attributeStatus, 'Accepted');
    // A01.FR.03: from now on the CSMS accepts only the new password.
    password = newPassword;
    await s.until('reconnected with the new password', () => opens === 1 && csms.clients().length === 1);
    assert.equal(s.calls('BootNotification').length, 1, 'a reconnect, not a boot');
    assert.ok(s.log.entries.some((e) => e.msg === 'security event ReconfigurationOfSecurityParameters'), 'A01.FR.11 logged');
    assert.ok(!JSON.stringify(s.log.entries).includes(newPassword), 'A01.FR.12 never in the log');
    assert.deepEqual(await getSecurityCtrlr(csms, ['BasicAuthPassword', 'SecurityProfile', 'Identity']), {
      BasicAuthPassword: 'Rejected',
      SecurityProfile: '1',
      Identity: ID,
    });
    // Not critical (appendix 1): logged only, no notification.
    await s.until('settled', () => s.link.pendingCount() === 0);
    assert.equal(s.calls('SecurityEventNotification').length, 1);

    // The config file still names the first password: the stored one wins at the next start.
    await s.restart();
    await s.until('boot with the new password', booted(s, 2));
    await s.until('second StartupOfTheDevice', () => s.calls('SecurityEventNotification').length === 2);
  } finally {
    await s.close();
    await csms.close();
  }
});

test('TC_B_20_CS / A04 after a Reset the next boot reports ResetOrReboot', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'], password: 'reset-password-0201' });
  const s = await station(csms, { securityProfile: 1, password: 'reset-password-0201' });
  try {
    await s.until('boot', () => s.calls('SecurityEventNotification').length === 1);
    assert.deepEqual(await csms.call(ID, 'Reset', { type: 'Immediate' }), { status: 'Accepted' });
    await s.restart();
    await s.until('boot after the reset', () => s.calls('SecurityEventNotification').length === 2);
    assert.deepEqual(s.calls<Sen>('SecurityEventNotification').map((e) => e.type), ['StartupOfTheDevice', 'ResetOrReboot']);
  } finally {
    await s.close();
    await csms.close();
  }
});

test('E13 a TransactionEvent the CSMS keeps refusing goes dead: logged with action, transactionId and seqNo; the next one still goes; profile 0 queues no security event', async () => {
  const s = await startV201Station();
  try {
    await s.until('boot', () => s.calls('StatusNotification').length >= 1);
    s.csms.setHandler('TransactionEvent', (p) => {
      if ((p as { eventType: string }).eventType === 'Started') throw createRPCError('InternalError', 'refused for the test');
      return {};
    });
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('Started dead', () => s.log.entries.some((e) => /TransactionEvent was never accepted/.test(e.msg)));
    const dead = s.log.entries.find((e) => /TransactionEvent was never accepted/.test(e.msg))!;
    assert.equal(dead.level, 'error');
    assert.equal(dead.meta?.action, 'TransactionEvent');
    assert.equal(dead.meta?.eventType, 'Started');
    assert.equal(dead.meta?.seqNo, 0);
    const started = s.calls<{ eventType: string; transactionInfo: { transactionId: string } }>('TransactionEvent')[0]!;
    assert.equal(dead.meta?.transactionId, started.transactionInfo.transactionId);
    assert.equal(s.link.deadLetters().length, 1);

    s.sim.unplug(1);
    await s.until('Ended', () => s.calls<{ eventType: string }>('TransactionEvent').some((t) => t.eventType === 'Ended') && s.link.pendingCount() === 0);
    const ended = s.calls<{ eventType: string; seqNo: number }>('TransactionEvent').find((t) => t.eventType === 'Ended')!;
    assert.ok(ended.seqNo > 0, 'the dead message kept its seqNo; the next ones continue');
    assert.equal(s.calls('SecurityEventNotification').length, 0, 'security profile 0: events are only logged');
    assert.ok(s.log.entries.some((e) => e.msg === 'security event StartupOfTheDevice'));
    assert.ok(s.adapter.ctx.link.connected, `still connected (${IDENTITY})`);
  } finally {
    await s.close();
  }
});
