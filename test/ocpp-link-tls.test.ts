/**
 * Security profiles 2 (TLS + basic auth) and 3 (mutual TLS) — 1.6 security whitepaper §2 / 2.0.1
 * A00.FR.3xx / A00.FR.4xx: the station always verifies the CSMS certificate, and with profile 3
 * presents its own certificate. Certificates are generated with openssl for each run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { SystemClock } from '../base/clock.js';
import type { OcppConfig } from '../src/config/types.js';
import { createLink, tlsSecurityEvent, type RpcLink } from '../src/ocpp/rpc-link.js';
import { openDatabase } from '../src/store/db.js';
import { makeTestCerts, type TestCerts } from './support/certs.js';
import { startCsms, type Csms, type CsmsOptions } from './support/csms.js';
import { capturingLogger, ocppConfig, tempDir, waitUntil, type CapturingLogger } from './support/ocpp-link.js';

let certs: TestCerts;
let certDir: ReturnType<typeof tempDir>;
before(() => {
  certDir = tempDir('ocpp-certs-');
  certs = makeTestCerts(certDir.path);
});
after(() => certDir.remove());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function tlsCsms(extra: Partial<CsmsOptions> = {}, requestCert = false): Promise<Csms> {
  const c = await startCsms({
    tls: {
      key: readFileSync(certs.serverKey),
      cert: readFileSync(certs.serverCert),
      ca: readFileSync(certs.caCert),
      requestCert,
    },
    ...extra,
  });
  cleanups.push(() => c.close());
  return c;
}

function station(cfg: Partial<OcppConfig>): { link: RpcLink; log: CapturingLogger } {
  const dir = tempDir();
  const db = openDatabase(join(dir.path, 'station.db'));
  const log = capturingLogger();
  const link = createLink({ ocpp: ocppConfig(cfg), identity: 'CP1', stateDir: dir.path }, { db, clock: new SystemClock(), log });
  cleanups.push(async () => {
    await link.stop();
    db.close();
    dir.remove();
  });
  return { link, log };
}

const tlsErrors = (log: CapturingLogger) => log.lines('error').filter((l) => /TLS handshake failed/.test(l));

describe('security profile 2: TLS + basic auth', () => {
  it('connects over wss:// when the CSMS certificate chains to the configured CA', async () => {
    const csms = await tlsCsms({ password: 'tls-pw' });
    assert.match(csms.url, /^wss:\/\/127\.0\.0\.1:\d+\/ocpp$/);
    const { link } = station({ csmsUrl: csms.url, securityProfile: 2, password: 'tls-pw', caFile: certs.caCert });
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    await link.call('Heartbeat', {});
    assert.deepEqual(csms.actions('CP1'), ['Heartbeat']);
  });

  it('refuses a CSMS whose certificate does not chain to the configured CA (A00.FR.308, A00.FR.310/311)', async () => {
    const csms = await tlsCsms({ password: 'tls-pw' });
    const { link, log } = station({ csmsUrl: csms.url, securityProfile: 2, password: 'tls-pw', caFile: certs.otherCaCert });
    const events: string[] = [];
    link.on('security-event', (type) => events.push(type));
    await link.start();
    await waitUntil(() => tlsErrors(log).length >= 3, 5000, 'three refused handshakes');
    assert.equal(link.connected, false);
    assert.deepEqual(csms.clients(), []);
    // One security event for the whole run of failures, not one per attempt.
    assert.deepEqual(events, ['InvalidCsmsCertificate']);
  });

  it('without a caFile only the system CAs are trusted, so a private CA is refused too', async () => {
    const csms = await tlsCsms({ password: 'tls-pw' });
    const { link, log } = station({ csmsUrl: csms.url, securityProfile: 2, password: 'tls-pw' });
    await link.start();
    await waitUntil(() => tlsErrors(log).length >= 1, 5000, 'refused handshake');
    assert.equal(link.connected, false);
  });

  it('a wrong password over TLS is refused by the CSMS', async () => {
    const csms = await tlsCsms({ password: 'tls-pw' });
    const { link, log } = station({ csmsUrl: csms.url, securityProfile: 2, password: 'nope', caFile: certs.caCert });
    await link.start();
    await waitUntil(() => log.lines('error').some((l) => /refused our credentials/.test(l)), 5000, 'refusal');
    assert.equal(link.connected, false);
  });

  it('profile 2 with a ws:// URL is a configuration error', async () => {
    const { link } = station({ csmsUrl: 'ws://127.0.0.1:1/ocpp', securityProfile: 2, password: 'x' });
    await assert.rejects(link.start(), /needs a wss:\/\/ csmsUrl/);
  });
});

describe('security profile 3: mutual TLS', () => {
  it('connects with the client certificate; the CSMS sees the station identity as its CN', async () => {
    const csms = await tlsCsms({}, true);
    const { link } = station({
      csmsUrl: csms.url,
      securityProfile: 3,
      caFile: certs.caCert,
      clientCertFile: certs.clientCert,
      clientKeyFile: certs.clientKey,
    });
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    assert.deepEqual(csms.clients(), [{ identity: 'CP1', protocol: 'ocpp1.6', certificateCN: 'CP1' }]);
  });

  it('a client certificate from another CA is refused by the CSMS (no InvalidCsmsCertificate event)', async () => {
    const csms = await tlsCsms({}, true);
    const { link, log } = station({
      csmsUrl: csms.url,
      securityProfile: 3,
      caFile: certs.caCert,
      clientCertFile: certs.otherClientCert,
      clientKeyFile: certs.otherClientKey,
    });
    const events: string[] = [];
    link.on('security-event', (type) => events.push(type));
    await link.start();
    await waitUntil(() => log.entries.filter((e) => /connection failed|TLS/.test(e.msg)).length >= 2, 5000, 'refusals');
    assert.equal(link.connected, false);
    assert.deepEqual(csms.clients(), []);
    assert.deepEqual(events, []);
  });

  it('the CSMS certificate is still verified in profile 3', async () => {
    const csms = await tlsCsms({}, true);
    const { link, log } = station({
      csmsUrl: csms.url,
      securityProfile: 3,
      caFile: certs.otherCaCert,
      clientCertFile: certs.clientCert,
      clientKeyFile: certs.clientKey,
    });
    await link.start();
    await waitUntil(() => tlsErrors(log).length >= 1, 5000, 'refused handshake');
    assert.equal(link.connected, false);
  });

  it('profile 3 without a client certificate is a configuration error', async () => {
    const { link } = station({ csmsUrl: 'wss://127.0.0.1:1/ocpp', securityProfile: 3 });
    await assert.rejects(link.start(), /needs ocpp.clientCertFile and ocpp.clientKeyFile/);
  });
});

describe('TLS failures as OCPP security events', () => {
  it('maps Node TLS error codes: certificate problems, version problems, and refusals by the peer', () => {
    assert.equal(tlsSecurityEvent('SELF_SIGNED_CERT_IN_CHAIN'), 'InvalidCsmsCertificate');
    assert.equal(tlsSecurityEvent('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'InvalidCsmsCertificate');
    assert.equal(tlsSecurityEvent('CERT_HAS_EXPIRED'), 'InvalidCsmsCertificate');
    assert.equal(tlsSecurityEvent('ERR_TLS_CERT_ALTNAME_INVALID'), 'InvalidCsmsCertificate');
    assert.equal(tlsSecurityEvent('ERR_SSL_UNSUPPORTED_PROTOCOL'), 'InvalidTLSVersion');
    assert.equal(tlsSecurityEvent('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), 'InvalidTLSVersion');
    assert.equal(tlsSecurityEvent('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), undefined);
    assert.equal(tlsSecurityEvent('ECONNRESET'), undefined);
    assert.equal(tlsSecurityEvent(401), undefined);
  });
});
