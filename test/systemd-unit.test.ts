import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './support/paths.js';

const unitPath = join(repoRoot(), 'systemd', 'ocpp-station.service');

function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

test('unit: notify type with watchdog, restart, own user, state and config directories, hardening', () => {
  const d = directives(readFileSync(unitPath, 'utf8'));
  const one = (k: string): string | undefined => d.get(k)?.at(-1);
  assert.equal(one('Type'), 'notify');
  assert.equal(one('NotifyAccess'), 'all', 'systemd-notify is a child process');
  assert.equal(one('WatchdogSec'), '30');
  assert.equal(one('Restart'), 'always');
  assert.equal(one('RestartSec'), '5');
  // Issue 10 point 10: a bad config (2) or an unusable database (3) is not restarted in a loop.
  assert.equal(one('RestartPreventExitStatus'), '2 3');
  assert.equal(one('User'), 'ocpp-station');
  assert.equal(one('Group'), 'ocpp-station');
  assert.deepEqual(one('SupplementaryGroups')?.split(' '), ['gpio', 'dialout', 'i2c']);
  assert.equal(one('StateDirectory'), 'ocpp-station');
  assert.equal(one('ConfigurationDirectory'), 'ocpp-station');
  assert.equal(
    one('ExecStart'),
    '/usr/bin/env node /opt/ocpp-station/dist/src/cli.js run --config /etc/ocpp-station/station.json --state-dir /var/lib/ocpp-station',
  );
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('ReadWritePaths'), '/var/lib/ocpp-station');
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.equal(one('ProtectHome'), 'yes');
  assert.equal(one('PrivateTmp'), 'yes');
  assert.equal(one('DevicePolicy'), 'closed');
  for (const dev of ['char-gpiochip rw', 'char-ttyUSB rw', 'char-ttyAMA rw', 'char-i2c rw']) {
    assert.ok(d.get('DeviceAllow')?.includes(dev), `DeviceAllow=${dev}`);
  }
});

const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;

test('unit: clean under systemd-analyze verify', { skip: !analyze && 'systemd-analyze not installed' }, () => {
  // verify checks that ExecStart's program exists: it is /usr/bin/env, present on any system, so the
  // unit is verified as shipped (node and /opt/ocpp-station are resolved only at start).
  const dir = mkdtempSync(join(tmpdir(), 'unit-'));
  try {
    copyFileSync(unitPath, join(dir, 'ocpp-station.service'));
    const r = spawnSync('systemd-analyze', ['verify', join(dir, 'ocpp-station.service')], { encoding: 'utf8' });
    // Unknown or misspelled keys only print a warning, so an empty stderr is part of "clean".
    const complaints = r.stderr
      .split('\n')
      .filter((l) => l.includes('ocpp-station.service'));
    assert.deepEqual(complaints, [], r.stderr);
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
