/**
 * The dev CSMS and the demo are not shipped (issue 12 #7): devtools/ builds to dist/devtools, the
 * package's "files" and install.sh leave it out, the installed daemon runs without it (with base/ and
 * hal/ beside src/), and --dev-csms there stops with one line, having created nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDevCsms, NO_DEV_CSMS } from '../src/main.js';
import { buildRoot, repoRoot } from './support/paths.js';

test('package.json ships base, src and hal but not devtools; npm scripts run the dev tools from dist/devtools', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { files: string[]; scripts: Record<string, string> };
  for (const part of ['dist/base', 'dist/src', 'dist/hal']) assert.ok(pkg.files.includes(part), part);
  assert.ok(!pkg.files.some((f) => f.includes('devtools')), pkg.files.join(', '));
  assert.match(pkg.scripts.csms!, /node dist\/devtools\/csms-cli\.js/);
  assert.match(pkg.scripts.demo!, /node dist\/devtools\/demo\.js/);
  assert.match(pkg.scripts.start!, /run --dev-csms/);
  assert.ok(existsSync(join(buildRoot(), 'devtools', 'csms.js')));
  assert.ok(!existsSync(join(repoRoot(), 'src', 'devtools')), 'no dev tools under src/');
});

test('the installed package runs without devtools; --dev-csms there says why in one line and creates nothing', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'install-dev-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const r = spawnSync('bash', [join(repoRoot(), 'scripts', 'install.sh'), '--root', root, '--dist', buildRoot()], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const opt = join(root, 'opt/ocpp-station');
  assert.ok(!existsSync(join(opt, 'dist/devtools')) && !existsSync(join(opt, 'dist/src/devtools')), 'no dev CSMS installed');
  assert.ok(existsSync(join(opt, 'dist/base/clock.js')), 'base/ is installed beside src/');
  symlinkSync(join(repoRoot(), 'node_modules'), join(opt, 'node_modules'));
  const cli = join(opt, 'dist/src/cli.js');
  const env = { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '', INVOCATION_ID: '' };
  const example = join(opt, 'config/station.example.json');
  const check = spawnSync(process.execPath, [cli, 'check-config', example], { encoding: 'utf8', env, timeout: 20_000 });
  assert.equal(check.status, 0, check.stderr);
  const state = join(root, 'state');
  const dev = spawnSync(process.execPath, [cli, 'run', '--dev-csms', '--config', example, '--state-dir', state], { encoding: 'utf8', env, timeout: 20_000 });
  assert.equal(dev.status, 2, dev.stdout + dev.stderr);
  assert.equal(dev.stderr, `ocpp-station: ${NO_DEV_CSMS}\n`);
  assert.ok(!existsSync(state), 'nothing created');
});

test('loadDevCsms: the module from a checkout; only its own absence is turned into undefined', async () => {
  assert.equal(typeof (await loadDevCsms())?.startCsms, 'function');
  const missing = Object.assign(new Error("Cannot find module '/opt/x/dist/devtools/csms.js' imported from /opt/x/dist/src/main.js"), { code: 'ERR_MODULE_NOT_FOUND' });
  assert.equal(await loadDevCsms(() => Promise.reject(missing)), undefined);
  const otherMissing = Object.assign(new Error("Cannot find package 'ocpp-rpc'"), { code: 'ERR_MODULE_NOT_FOUND' });
  await assert.rejects(loadDevCsms(() => Promise.reject(otherMissing)), /ocpp-rpc/);
});
