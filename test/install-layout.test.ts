import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRoot, repoRoot } from './support/paths.js';

function run(script: string, args: string[]): string {
  const r = spawnSync('bash', [join(repoRoot(), 'scripts', script), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${script} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const mode = (p: string): number => statSync(p).mode & 0o777;

test('install.sh --root lays out the files, twice without harm, keeping an edited config', () => {
  const root = mkdtempSync(join(tmpdir(), 'install-'));
  try {
    // buildRoot() is the compiled tree these tests run from (dist/ in CI).
    const args = ['--root', root, '--dist', buildRoot()];
    run('install.sh', args);
    const cfg = join(root, 'etc/ocpp-station/station.json');
    assert.ok(existsSync(join(root, 'opt/ocpp-station/dist/src/cli.js')));
    assert.ok(existsSync(join(root, 'opt/ocpp-station/package.json')));
    assert.ok(existsSync(join(root, 'opt/ocpp-station/config/station.schema.json')));
    assert.ok(!existsSync(join(root, 'opt/ocpp-station/dist/test')), 'tests are not installed');
    assert.equal(mode(cfg), 0o640);
    assert.match(readFileSync(cfg, 'utf8'), /"\$schema": "\/opt\/ocpp-station\/config\/station\.schema\.json"/);
    assert.equal(mode(join(root, 'var/lib/ocpp-station')), 0o750);
    const unit = join(root, 'etc/systemd/system/ocpp-station.service');
    assert.equal(readFileSync(unit, 'utf8'), readFileSync(join(repoRoot(), 'systemd/ocpp-station.service'), 'utf8'));

    writeFileSync(cfg, '{"edited": true}\n');
    writeFileSync(join(root, 'var/lib/ocpp-station/station.db'), 'data');
    const second = run('install.sh', args);
    assert.match(second, /kept existing/);
    assert.equal(readFileSync(cfg, 'utf8'), '{"edited": true}\n', 'an existing config is never overwritten');
    assert.equal(mode(cfg), 0o640);
    assert.equal(readFileSync(join(root, 'var/lib/ocpp-station/station.db'), 'utf8'), 'data');

    run('uninstall.sh', ['--root', root]);
    assert.ok(!existsSync(join(root, 'opt/ocpp-station')));
    assert.ok(!existsSync(unit));
    assert.ok(existsSync(cfg), 'uninstall keeps the config');
    assert.ok(existsSync(join(root, 'var/lib/ocpp-station/station.db')), 'uninstall keeps the state');
    run('uninstall.sh', ['--root', root, '--purge']);
    assert.ok(!existsSync(join(root, 'etc/ocpp-station')));
    assert.ok(!existsSync(join(root, 'var/lib/ocpp-station')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('install.sh refuses without a build and names the fix', () => {
  const root = mkdtempSync(join(tmpdir(), 'install-'));
  try {
    const r = spawnSync('bash', [join(repoRoot(), 'scripts/install.sh'), '--root', root, '--dist', join(root, 'nothing')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /npm run build/);
    assert.ok(!existsSync(join(root, 'opt')), 'nothing was laid out');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('install.sh refuses a Node older than 20 with one line naming where to get Node 20+, before touching anything', () => {
  const bin = mkdtempSync(join(tmpdir(), 'old-node-'));
  try {
    // A stand-in for Debian 12's own nodejs, first on the PATH.
    writeFileSync(join(bin, 'node'), '#!/bin/sh\necho v18.19.0\n', { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    const r = spawnSync('bash', [join(repoRoot(), 'scripts/install.sh'), '--dist', buildRoot()], { encoding: 'utf8', env });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(r.stdout, '', 'nothing was done');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /Node v18\.19\.0 is too old: ocpp-station needs Node 20 or newer/);
    assert.match(lines[0]!, /Debian 13: apt-get install nodejs npm/);
    assert.match(lines[0]!, /NodeSource's node_22\.x/);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
