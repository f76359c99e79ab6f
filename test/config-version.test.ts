/**
 * The config file's shape version (issue 12 #7): absent means version 1, older versions are migrated
 * in memory and the loader says so, a file for a newer release is refused naming /version, and the
 * shipped examples carry the version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configFromObject, loadConfig } from '../src/config/load.js';
import { formatProblem } from '../src/config/validate.js';
import { CONFIG_VERSION, migrateConfig, type ConfigStep } from '../src/config/version.js';
import { buildRoot, repoRoot } from './support/paths.js';

const minimal = { station: { identity: 'CP1' }, ocpp: { csmsUrl: 'ws://127.0.0.1:9000/ocpp' } };

function refusal(raw: unknown): string[] {
  try {
    configFromObject(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map(formatProblem);
  }
  assert.fail('config was accepted');
}

test('config version: a file without "version" is version 1, read as today’s shape and said so', () => {
  const notes: string[] = [];
  const c = configFromObject(minimal, {}, 'station.json', notes);
  assert.equal(c.version, CONFIG_VERSION);
  assert.equal(c.station.identity, 'CP1');
  assert.deepEqual(notes, ['the file has no "version": read as version 1']);
  const quiet: string[] = [];
  assert.equal(configFromObject({ ...minimal, version: CONFIG_VERSION }, {}, 'station.json', quiet).version, CONFIG_VERSION);
  assert.deepEqual(quiet, [], 'a current file needs no note');
});

test('config version: a file for a newer release, or a version that is no positive integer, is refused at /version', () => {
  assert.deepEqual(refusal({ ...minimal, version: CONFIG_VERSION + 1 }), [
    `config error: /version: ${CONFIG_VERSION + 1} is newer than this release reads (up to ${CONFIG_VERSION}): the file was written for a newer ocpp-station`,
  ]);
  for (const bad of ['1', 0, 1.5, null]) {
    const got = refusal({ ...minimal, version: bad });
    assert.equal(got.length, 1, got.join('\n'));
    assert.match(got[0]!, /^config error: \/version: must be an integer >= 1/);
  }
});

test('config version: older files run every step up to the current version, in order, in memory only', () => {
  const steps: ConfigStep[] = [
    { from: 1, describe: 'hal.board became hal.profile', apply: ({ hal, ...rest }) => ({ ...rest, hal: { profile: (hal as { board: string }).board } }) },
    { from: 2, describe: 'hal.profile gained a default driver', apply: (d) => ({ ...d, hal: { ...(d.hal as object), defaultDriver: 'sim' } }) },
  ];
  const original = { ...minimal, hal: { board: 'openevse' } };
  const m = migrateConfig(original, 3, steps);
  assert.ok(m.ok);
  assert.equal(m.from, 1);
  assert.deepEqual(m.doc.hal, { profile: 'openevse', defaultDriver: 'sim' });
  assert.equal(m.doc.version, 3);
  assert.deepEqual(m.notes, [
    'the file has no "version": read as version 1',
    'migrated from version 1 to 2 in memory: hal.board became hal.profile',
    'migrated from version 2 to 3 in memory: hal.profile gained a default driver',
  ]);
  assert.deepEqual(original.hal, { board: 'openevse' }, 'the parsed document is not changed');
  const fromTwo = migrateConfig({ ...minimal, version: 2, hal: { profile: 'x' } }, 3, steps);
  assert.ok(fromTwo.ok);
  assert.deepEqual(fromTwo.notes, ['migrated from version 2 to 3 in memory: hal.profile gained a default driver']);
  assert.throws(() => migrateConfig({ version: 1 }, 3, steps.slice(1)), /no config migration step from version 1/);
});

test('config version: every shipped station config carries the current version, and check-config reports the note', (t) => {
  const configDir = join(repoRoot(), 'config');
  const files = readdirSync(configDir).filter((f) => f.startsWith('station') && f.endsWith('.json') && !f.includes('schema'));
  assert.ok(files.includes('station.example.json'));
  for (const f of files) {
    const doc = JSON.parse(readFileSync(join(configDir, f), 'utf8')) as { version?: unknown };
    assert.equal(doc.version, CONFIG_VERSION, f);
    assert.equal(loadConfig(join(configDir, f)).version, CONFIG_VERSION);
  }
  const dir = mkdtempSync(join(tmpdir(), 'config-version-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = join(buildRoot(), 'src', 'cli.js');
  const env = { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '', INVOCATION_ID: '' };
  const old = join(dir, 'old.json');
  writeFileSync(old, JSON.stringify(minimal));
  const ok = spawnSync(process.execPath, [cli, 'check-config', old], { encoding: 'utf8', env, timeout: 20_000 });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, `note: the file has no "version": read as version 1\nOK ${old}\n`);
  const newer = join(dir, 'newer.json');
  writeFileSync(newer, JSON.stringify({ ...minimal, version: CONFIG_VERSION + 1 }));
  const refused = spawnSync(process.execPath, [cli, 'check-config', newer], { encoding: 'utf8', env, timeout: 20_000 });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /^config error: \/version: \d+ is newer than this release reads/);
});
