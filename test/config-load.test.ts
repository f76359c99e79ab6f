import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, configFromObject, loadConfig } from '../src/config/load.js';
import { configDefaults } from '../src/config/defaults.js';
import { formatProblem } from '../src/config/validate.js';
import { redactConfig } from '../src/config/redact.js';
import { repoRoot } from './support/paths.js';

const minimal = { station: { identity: 'CP1' }, ocpp: { csmsUrl: 'ws://127.0.0.1:9000/ocpp' } };

function problems(raw: unknown): string[] {
  try {
    configFromObject(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map(formatProblem);
  }
  assert.fail('config was accepted');
}

test('config: defaults fill everything a minimal file leaves out', () => {
  const c = configFromObject(minimal);
  const d = configDefaults();
  assert.equal(c.station.identity, 'CP1');
  assert.equal(c.ocpp.version, d.ocpp.version);
  assert.equal(c.ocpp.securityProfile, 0);
  assert.deepEqual(c.ocpp.reconnect, d.ocpp.reconnect);
  assert.equal(c.hal.board, 'sim');
  assert.equal(c.log.level, 'info');
  assert.equal(c.stateDir, resolve('state'), 'relative state dir is made absolute');
});

test('config: a value in the file wins over the default, deep keys keep their siblings', () => {
  const c = configFromObject({ ...minimal, ocpp: { ...minimal.ocpp, reconnect: { maxDelayS: 10 } } });
  assert.equal(c.ocpp.reconnect.maxDelayS, 10);
  assert.equal(c.ocpp.reconnect.minDelayS, configDefaults().ocpp.reconnect.minDelayS);
});

test('config: command-line overrides win over the file', () => {
  const c = configFromObject(
    { ...minimal, hal: { board: 'other' }, log: { level: 'warn' } },
    { csmsUrl: 'ws://10.0.0.1:8080/x', identity: 'CP9', ocppVersion: '2.0.1', stateDir: '/tmp/x', board: 'sim', logLevel: 'debug' },
  );
  assert.equal(c.ocpp.csmsUrl, 'ws://10.0.0.1:8080/x');
  assert.equal(c.station.identity, 'CP9');
  assert.equal(c.ocpp.version, '2.0.1');
  assert.equal(c.hal.board, 'sim');
  assert.equal(c.log.level, 'debug');
  assert.equal(c.stateDir, '/tmp/x');
});

test('config: a bad override is reported with the pointer it lands on', () => {
  assert.throws(
    () => configFromObject(minimal, { ocppVersion: '1.5' as '1.6', csmsUrl: 'ftp://x' }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message === 'config error: /ocpp/version: must be one of "1.6","2.0.1","auto"' ,
  );
});

test('config errors name the JSON pointer of each problem (allErrors)', () => {
  const got = problems({
    station: { identity: 'CP1', colour: 'red' },
    ocpp: { csmsUrl: 'not a url', securityProfile: 5, version: '1.5' },
    log: { level: 'loud' },
  });
  assert.ok(got.includes('config error: /station/colour: unknown property "colour"'), got.join('\n'));
  assert.ok(got.includes('config error: /ocpp/csmsUrl: must match format "uri"'), got.join('\n'));
  assert.ok(got.includes('config error: /ocpp/securityProfile: must be one of 0,1,2,3'), got.join('\n'));
  assert.ok(got.includes('config error: /ocpp/version: must be one of "1.6","2.0.1","auto"'), got.join('\n'));
  assert.ok(got.includes('config error: /log/level: must be one of "error","warn","info","debug"'), got.join('\n'));
  assert.equal(got.length, 5, got.join('\n'));
});

test('config errors: missing required values and wrong types', () => {
  const got = problems({ station: {}, ocpp: { callTimeoutS: 'soon' }, stateDir: 3 });
  assert.ok(got.includes('config error: /station/identity: is required'), got.join('\n'));
  assert.ok(got.includes('config error: /ocpp/csmsUrl: is required'), got.join('\n'));
  assert.ok(got.includes('config error: /ocpp/callTimeoutS: must be number'), got.join('\n'));
  assert.ok(got.includes('config error: /stateDir: must be string'), got.join('\n'));
});

test('config errors: unknown top-level property and scenario step', () => {
  const got = problems({ ...minimal, extra: true, scenarios: { s: [{ afterS: 1, action: 'dance' }] }, runScenario: 'nope' });
  assert.ok(got.includes('config error: /extra: unknown property "extra"'), got.join('\n'));
  assert.ok(got.some((l) => l.startsWith('config error: /scenarios/s/0/action: must be one of')), got.join('\n'));
});

test('config semantic checks: A00.FR.203/302 basic auth needs a password, A00.FR.312 profile 2/3 use TLS (wss), A00.FR.402 profile 3 needs a client certificate', () => {
  const url = (u: string, sp: number, extra: Record<string, unknown> = {}) => ({
    station: { identity: 'CP1' },
    ocpp: { csmsUrl: u, securityProfile: sp, ...extra },
  });
  assert.deepEqual(problems(url('ws://h/ocpp', 1)), ['config error: /ocpp/password: security profile 1 needs a password']);
  assert.deepEqual(problems(url('ws://h/ocpp', 2, { password: 'p'.repeat(16) })), [
    'config error: /ocpp/csmsUrl: security profile 2 needs a wss:// URL',
  ]);
  assert.deepEqual(problems(url('wss://h/ocpp', 3)), [
    'config error: /ocpp/clientCertFile: security profile 3 needs a client certificate and key',
    'config error: /ocpp/clientKeyFile: security profile 3 needs a client certificate and key',
  ]);
  const got = problems(url('wss://h/ocpp', 3, { clientCertFile: '/nonexistent/c.pem', clientKeyFile: '/nonexistent/k.pem' }));
  assert.deepEqual(got, [
    'config error: /ocpp/clientCertFile: cannot read /nonexistent/c.pem: ENOENT',
    'config error: /ocpp/clientKeyFile: cannot read /nonexistent/k.pem: ENOENT',
  ]);
  assert.deepEqual(problems(url('http://h/ocpp', 0)), ['config error: /ocpp/csmsUrl: must start with ws:// or wss://']);
  // Accepted combinations
  configFromObject(url('ws://h/ocpp', 1, { password: 'secret-password-1' }));
  configFromObject(url('wss://h/ocpp', 2, { password: 'secret-password-1' }));
});

test('config: profile 3 with readable cert and key files is accepted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  try {
    writeFileSync(join(dir, 'c.pem'), 'cert');
    writeFileSync(join(dir, 'k.pem'), 'key');
    const c = configFromObject({
      station: { identity: 'CP1' },
      ocpp: { csmsUrl: 'wss://h/ocpp', securityProfile: 3, clientCertFile: join(dir, 'c.pem'), clientKeyFile: join(dir, 'k.pem') },
    });
    assert.equal(c.ocpp.clientKeyFile, join(dir, 'k.pem'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config files: unreadable and invalid JSON are config errors; the example is valid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  try {
    assert.throws(() => loadConfig(join(dir, 'missing.json')), (e: unknown) => e instanceof ConfigError && /ENOENT/.test(e.message));
    writeFileSync(join(dir, 'bad.json'), '{ "station": ');
    assert.throws(() => loadConfig(join(dir, 'bad.json')), (e: unknown) => e instanceof ConfigError && /not valid JSON/.test(e.message));
    const c = loadConfig(join(repoRoot(), 'config', 'station.example.json'));
    assert.equal(c.hal.board, 'sim');
    assert.ok(!('$schema' in c), 'the editor hint does not reach the daemon');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('redactConfig hides the password and secret config keys, leaves the rest', () => {
  const c = configFromObject({
    station: { identity: 'CP1' },
    ocpp: {
      csmsUrl: 'ws://h/ocpp',
      securityProfile: 1,
      password: 'hunter2-hunter2-x',
      v16: { configuration: { AuthorizationKey: 'ABCDEF', HeartbeatInterval: '60' } },
      v201: { variables: { 'SecurityCtrlr.BasicAuthPassword': 'pw-pw-pw-pw-pw-pw' } },
    },
  });
  const r = redactConfig(c);
  const text = JSON.stringify(r);
  assert.ok(!text.includes('hunter2'));
  assert.ok(!text.includes('ABCDEF'));
  assert.ok(!text.includes('pw-pw'));
  assert.equal(r.ocpp.password, '***');
  assert.equal(r.ocpp.v16.configuration.HeartbeatInterval, '60');
  assert.equal(c.ocpp.password, 'hunter2-hunter2-x', 'the original is untouched');
});

test('redactConfig hides credentials inside URLs', () => {
  const c = configFromObject({ station: { identity: 'CP1' }, ocpp: { csmsUrl: 'ws://cp1:s3cret@csms.example:9000/ocpp' } });
  assert.equal(redactConfig(c).ocpp.csmsUrl, 'ws://***@csms.example:9000/ocpp');
});
