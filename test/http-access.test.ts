/**
 * Access rules of the HTTP server (README: Status page, API and metrics): read-only unless
 * http.control; the controls need the bearer token; a non-loopback address needs a token in the config
 * and on every data request; the token is redacted wherever the config is shown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { configFromObject } from '../src/config/load.js';
import { redactConfig } from '../src/config/redact.js';
import { createHttpApp } from '../src/http/index.js';
import { startCsms } from './support/csms.js';
import { startTestStation, type TestStation } from './support/harness.js';
import { silentLogger } from '../base/logger.js';

const TOKEN = 'access-token-0123456789';
const base = { station: { identity: 'CP1' }, ocpp: { csmsUrl: 'ws://127.0.0.1:9/ocpp' } };

function configProblems(http: Record<string, unknown>): string[] {
  try {
    configFromObject({ ...base, http });
    return [];
  } catch (err) {
    return (err as Error).message.split('\n');
  }
}

test('config: http defaults are on, loopback, port 8080, read-only; bad values are config errors', () => {
  const c = configFromObject(base);
  assert.deepEqual(c.http, { enabled: true, host: '127.0.0.1', port: 8080, control: false });
  assert.deepEqual(configProblems({ port: 70000 }), ['config error: /http/port: must be <= 65535']);
  assert.deepEqual(configProblems({ enabled: 'yes' }), ['config error: /http/enabled: must be boolean']);
  assert.deepEqual(configProblems({ tokn: 'x' }), ['config error: /http/tokn: unknown property "tokn"']);
  assert.deepEqual(configProblems({ token: 'short' }), ['config error: /http/token: must NOT have fewer than 16 characters']);
  assert.deepEqual(configProblems({ host: '0.0.0.0' }), ['config error: /http/token: listening on 0.0.0.0 (not loopback) needs a token']);
  assert.deepEqual(configProblems({ host: '192.168.1.20' }), ['config error: /http/token: listening on 192.168.1.20 (not loopback) needs a token']);
  assert.deepEqual(configProblems({ control: true }), ['config error: /http/token: http.control needs a token']);
  assert.deepEqual(configProblems({ host: '0.0.0.0', token: TOKEN, control: true }), []);
  assert.deepEqual(configProblems({ host: '::1' }), []);
  assert.deepEqual(configProblems({ host: 'localhost', enabled: false }), []);
  // --dev-csms is a command-line flag only: no config key turns it on.
  assert.throws(() => configFromObject({ ...base, devCsms: true }), /\/devCsms: unknown property/);
  assert.throws(() => configFromObject({ ...base, http: { devCsms: true } }), /\/http\/devCsms: unknown property/);
  const shown = JSON.stringify(redactConfig(configFromObject({ ...base, http: { token: TOKEN, control: true } })));
  assert.ok(!shown.includes(TOKEN), 'the token is redacted in the logged config');
});

async function withStation(http: Record<string, unknown>, fn: (st: TestStation) => Promise<void>): Promise<void> {
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  const st = await startTestStation({
    ocppVersion: '1.6',
    csmsUrl: csms.url,
    clock: new VirtualClock(),
    configPatch: { http: { enabled: true, host: '127.0.0.1', port: 0, ...http } },
  });
  try {
    await csms.waitFor('BootNotification');
    await fn(st);
  } finally {
    await st.stop();
    await csms.close();
  }
}

const post = (st: TestStation, body: unknown, token?: string) =>
  fetch(new URL('/api/sim', st.http!.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

test('read-only by default: the controls answer 403 and the simulated EV stays unplugged; reading needs no token on loopback', async () => {
  await withStation({}, async (st) => {
    const res = await post(st, { cmd: 'plug', evse: 1 });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: string }).error, /http\.control/);
    assert.equal(st.sim.status().evses[0]!.plugged, false);
    assert.equal((await fetch(new URL('/api/status', st.http!.url))).status, 200);
    assert.equal((await fetch(new URL('/metrics', st.http!.url))).status, 200);
  });
});

test('http.control: no or a wrong bearer token is 401 and changes nothing; the right one plugs the EV; bad commands are 400', async () => {
  await withStation({ control: true, token: TOKEN }, async (st) => {
    const none = await post(st, { cmd: 'plug', evse: 1 });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await post(st, { cmd: 'plug', evse: 1 }, 'wrong-token-0123456789')).status, 401);
    assert.equal((await post(st, { cmd: 'plug', evse: 1 }, TOKEN.slice(0, -1))).status, 401);
    assert.equal(st.sim.status().evses[0]!.plugged, false, 'nothing happened without the token');
    const ok = await post(st, { cmd: 'plug', evse: 1 }, TOKEN);
    assert.equal(ok.status, 200);
    assert.equal(st.sim.status().evses[0]!.plugged, true);
    const bad = await post(st, { cmd: 'fault', evse: 1, kind: 'meltdown' }, TOKEN);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /unknown fault kind "meltdown"/);
    const notJson = await fetch(new URL('/api/sim', st.http!.url), { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{' });
    assert.equal(notJson.status, 400);
  });
});

test('a non-loopback address: every data request needs the token (401 without), the page shell does not', async () => {
  await withStation({ control: true, token: TOKEN }, async (st) => {
    // The same app as on 0.0.0.0, driven by inject (no real port on every interface in a test).
    const { app, stop } = createHttpApp({
      config: { enabled: true, host: '0.0.0.0', port: 0, control: true, token: TOKEN },
      station: st.station,
      hal: st.hal,
      link: st.ocpp.link,
      clock: st.clock,
      log: silentLogger,
      identity: st.config.station,
      csmsUrl: st.config.ocpp.csmsUrl,
      ocppVersion: '1.6',
      version: 'test',
    });
    try {
      for (const url of ['/api/status', '/metrics', '/api/events']) {
        assert.equal((await app.inject({ url })).statusCode, 401, url);
        assert.equal((await app.inject({ url, headers: { authorization: 'Bearer nope-nope-nope-nope' } })).statusCode, 401, url);
      }
      assert.equal((await app.inject({ url: '/api/status', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200);
      assert.equal((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200);
      const page = await app.inject({ url: '/' });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
      assert.ok(!page.body.includes(st.config.station.identity), 'the page shell holds no station data');
    } finally {
      stop();
      await app.close();
    }
  });
});
