/**
 * A first run that works (issue 15 point 2): `npm start` runs the daemon with --dev-csms, which
 * starts the development CSMS in the same process; the status page URL (with the controls' token) is
 * printed, the station boots and is Available, and a virtual car can be charged through the page's
 * API. Without the flag the daemon connects only to the configured CSMS and says why it cannot and
 * when it retries. And the daemon refuses a Node.js older than 20 with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeVersionProblem } from '../src/cli.js';
import { buildRoot, repoRoot } from './support/paths.js';
import { startDaemon } from './support/daemon-proc.js';

type Status = {
  ocpp: { devCsms: boolean; connected: boolean; csmsUrl: string; boot: { status: string } | null; lastError: { message: string } | null; nextRetryInS: number | null };
  evses: { status: string; powerW: number | null }[];
  controls: { sim: boolean; enabled: boolean };
};

async function poll<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

test('npm start passes --dev-csms; the example config cannot and does not enable it', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.start!, /cli\.js run --dev-csms$/);
  const example = readFileSync(join(repoRoot(), 'config', 'station.example.json'), 'utf8');
  assert.ok(!/dev-?csms/i.test(example));
  const unit = readFileSync(join(repoRoot(), 'systemd', 'ocpp-station.service'), 'utf8');
  assert.ok(!/dev-csms/.test(unit), 'the installed unit never runs the dev CSMS');
});

test('--dev-csms: URL printed, booted and Available within seconds, a virtual car charged through the page API, clean stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'first-run-'));
  const d = startDaemon(['--dev-csms', '--http-port', '0', '--state-dir', join(dir, 'state'), '--config', join(repoRoot(), 'config', 'station.example.json')]);
  try {
    const [, url, token] = await d.waitForLine(/status page: (http:\/\/127\.0\.0\.1:\d+\/)#token=([A-Za-z0-9_-]{16,})/);
    const status = async (): Promise<Status> => (await (await fetch(new URL('/api/status', url))).json()) as Status;
    const booted = await poll('boot Accepted and Available', async () => {
      const s = await status();
      return s.ocpp.boot?.status === 'Accepted' && s.evses[0]?.status === 'Available' ? s : undefined;
    });
    assert.equal(booted.ocpp.devCsms, true);
    assert.equal(booted.ocpp.connected, true);
    assert.deepEqual(booted.controls, { sim: true, enabled: true });
    const page = await (await fetch(url!)).text();
    assert.match(page, /<div id="chart"/);
    const control = async (body: unknown): Promise<void> => {
      const res = await fetch(new URL('/api/sim', url), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      assert.equal(res.status, 200, await res.text());
    };
    await control({ cmd: 'plug', evse: 1 });
    await control({ cmd: 'tap', idToken: '04A1B2C3D4' });
    const charging = await poll('Charging with power', async () => {
      const s = await status();
      return s.evses[0]!.status === 'Charging' && (s.evses[0]!.powerW ?? 0) > 0 ? s : undefined;
    });
    assert.ok(charging.evses[0]!.powerW! > 1000);
    await control({ cmd: 'ev-pause', evse: 1 });
    await control({ cmd: 'unplug', evse: 1 });
    await poll('Available again', async () => ((await status()).evses[0]!.status === 'Available' ? true : undefined));
    assert.equal(await d.stop(), 0);
    assert.match(d.output(), /development CSMS running in this process/);
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without --dev-csms: only the configured CSMS; while unreachable the log and the page say why and when it retries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'no-dev-csms-'));
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  const d = startDaemon(['--http-port', '0', '--state-dir', join(dir, 'state'), '--csms-url', `ws://127.0.0.1:${port}/ocpp`, '--config', join(repoRoot(), 'config', 'station.example.json')]);
  try {
    const [, url] = await d.waitForLine(/status page: (http:\/\/127\.0\.0\.1:\d+\/)/);
    assert.ok(!d.output().includes('#token='), 'no token is made or shown without --dev-csms');
    await d.waitForLine(/warn: OCPP: connection failed .*error=.*ECONNREFUSED.* retryInS=\d/);
    const s = await poll('the reason on the page', async () => {
      const x = (await (await fetch(new URL('/api/status', url))).json()) as Status;
      return x.ocpp.lastError ? x : undefined;
    });
    assert.equal(s.ocpp.devCsms, false);
    assert.equal(s.ocpp.connected, false);
    assert.equal(s.ocpp.csmsUrl, `ws://127.0.0.1:${port}/ocpp`);
    assert.match(s.ocpp.lastError!.message, /ECONNREFUSED/);
    assert.equal(typeof s.ocpp.nextRetryInS, 'number');
    assert.deepEqual(s.controls, { sim: true, enabled: false });
    assert.equal(await d.stop(), 0);
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the daemon refuses a Node.js older than 20 with one clear line', () => {
  assert.equal(nodeVersionProblem('20.0.0'), undefined);
  assert.equal(nodeVersionProblem('v22.11.0'), undefined);
  const line = nodeVersionProblem('18.19.0');
  assert.equal(line, 'ocpp-station needs Node.js 20 or newer; this is Node.js 18.19.0; see the README for where to get it');
  assert.ok(!line!.includes('\n'));
  assert.match(nodeVersionProblem('v12.22.12')!, /this is Node\.js 12\.22\.12/);
  // The command itself, on a Node.js that says it is 18: one line on stderr, exit 2, nothing started.
  const cliUrl = pathToFileURL(join(buildRoot(), 'src', 'cli.js')).href;
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `Object.defineProperty(process.versions, 'node', { value: '18.19.0' }); const m = await import(${JSON.stringify(cliUrl)}); process.exit(await m.cli(['run']));`],
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `${line}\n`);
  assert.equal(r.stdout, '');
});
