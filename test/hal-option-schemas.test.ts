/**
 * Board profiles and driver options are checked by JSON Schemas, one rule set (issue 12 #7): each
 * driver's schema serves the driver itself, the profile loader (before anything is built) and the
 * editor schema config/boards/board.schema.json, which is generated from them. Errors name the JSON
 * pointer and the problem; the daemon refuses a bad part having created nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { loadBoardProfile, validatePart } from '../hal/profile.js';
import { editorBoardSchema } from '../hal/profile-schema.js';
import { OptionError } from '../hal/options-schema.js';
import { parseGpioRelayOptions } from '../hal/gpio/relay.js';
import { parseLineReaderOptions } from '../hal/serial/reader-line.js';
import { parseRapiPilotOptions } from '../hal/serial/pilot-rapi.js';
import { parseModbusMeterOptions } from '../hal/modbus/meter.js';
import { buildRoot, repoRoot } from './support/paths.js';

const configDir = join(repoRoot(), 'config');

function loadErrors(board: string, overrides: Record<string, unknown>): string[] {
  try {
    loadBoardProfile(board, configDir, overrides);
  } catch (err) {
    assert.ok(err instanceof OptionError, String(err));
    return err.problems.map((p) => `${p.pointer}: ${p.problem}`);
  }
  assert.fail('profile accepted');
}

test('config/boards/board.schema.json is generated from the profile and driver schemas (npm run schema:boards), not kept by hand', () => {
  const file = JSON.parse(readFileSync(join(configDir, 'boards', 'board.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(file, editorBoardSchema(), 'stale: run npm run schema:boards');
  // Editors see the same option rules the loader applies.
  const validate = new Ajv({ allErrors: true, strict: true }).compile(file as object);
  const bad = JSON.parse(readFileSync(join(configDir, 'boards', 'openevse.json'), 'utf8')) as { evses: Record<string, Record<string, unknown>>[] };
  bad.evses[0]!.meter!.unit = 300;
  assert.equal(validate(bad), false);
  assert.ok(validate.errors?.some((e) => e.instancePath === '/evses/0/meter/unit'), JSON.stringify(validate.errors));
});

test('the profile loader checks every part with its driver’s schema before anything is built, naming each pointer', () => {
  assert.deepEqual(loadErrors('openevse', { evses: [{ id: 1, pilot: { prot: '/dev/x', pollMs: 50 }, meter: { unit: 300 } }] }), [
    '/evses/0/pilot/prot: unknown property "prot"',
    '/evses/0/pilot/pollMs: must be >= 100',
    '/evses/0/meter/unit: must be <= 247',
  ]);
  assert.deepEqual(loadErrors('openevse', { evses: [{ id: 1, pilot: { supervisionS: 5 }, meter: { model: 'sdm999' } }] }), [
    '/evses/0/pilot/supervisionS: must be at least 3 poll periods (6 s)',
    `/evses/0/meter/model: meter model "sdm999": no register map ${join(configDir, 'meters', 'sdm999.json')}`,
  ]);
  assert.deepEqual(loadErrors('rpi-relay-hat', { evses: [{ id: 1, contactor: { feedback: { pin: 70 } }, lock: { driver: 'gpi' } }], reader: { format: 'binary' } }), [
    '/evses/0/contactor/feedback/pin: must be <= 63',
    '/evses/0/lock/driver: unknown lock driver "gpi" (known lock drivers: sim, gpio)',
    '/reader/format: must be one of "hex","text"',
  ]);
  assert.deepEqual(loadErrors('sim', { evses: [{ id: 1, pilot: { port: '/dev/ttyS0' } }], display: { rows: 9 } }), [
    '/evses/0/pilot/port: unknown property "port"',
    '/display/rows: must be <= 4',
  ]);
});

test('a driver checks its options with the same schema the loader uses, defaults from the schema, the caller’s object untouched', () => {
  const spec = { driver: 'gpio', pin: 'x', feedbak: 27 };
  const fromLoader = validatePart('contactor', spec, '');
  assert.deepEqual(fromLoader, [
    { pointer: '/feedbak', problem: 'unknown property "feedbak"' },
    { pointer: '/pin', problem: 'must be integer' },
  ]);
  assert.throws(
    () => parseGpioRelayOptions({ pin: 'x', feedbak: 27 }),
    (err: unknown) => err instanceof OptionError && JSON.stringify(err.problems) === JSON.stringify(fromLoader) && err.message === 'contactor options: /feedbak: unknown property "feedbak"; /pin: must be integer',
  );
  assert.deepEqual(spec, { driver: 'gpio', pin: 'x', feedbak: 27 });
  const raw = { port: '/dev/ttyUSB0' };
  assert.deepEqual(parseLineReaderOptions(raw), { port: '/dev/ttyUSB0', baudRate: 9600, holdMs: 2000, kind: 'ISO14443', format: 'hex' });
  assert.deepEqual(raw, { port: '/dev/ttyUSB0' }, 'defaults went to a copy');
  assert.equal(parseRapiPilotOptions({ port: '/dev/x' }).supervisionAmps, 6);
  assert.throws(() => parseModbusMeterOptions({ model: 'sdm630', unit: 1 }), /meter options: \/: give exactly one of "tcp"/);
  assert.throws(() => parseGpioRelayOptions({ pin: 17, feedback: 'twenty' }), /contactor options: \/feedback: must be integer or object/);
});

test('the daemon refuses a board part the driver schema rejects, and a bad site meter, with one line each, having created nothing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'option-schemas-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = join(buildRoot(), 'src', 'cli.js');
  const env = { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '', INVOCATION_ID: '' };
  const stateDir = join(dir, 'state');
  const run = (extra: Record<string, unknown>) => {
    const file = join(dir, 'station.json');
    writeFileSync(file, JSON.stringify({ version: 1, station: { identity: 'CP1' }, ocpp: { version: '1.6', csmsUrl: 'ws://127.0.0.1:9/ocpp' }, stateDir, ...extra }));
    return spawnSync(process.execPath, [cli, 'run', '--config', file], { encoding: 'utf8', env, timeout: 20_000 });
  };
  const board = run({ hal: { board: 'sim', overrides: { evses: [{ id: 1, pilot: { speed: 3 } }], display: { cols: 4 } } } });
  assert.equal(board.status, 2, board.stderr);
  const lines = board.stderr.trim().split('\n');
  assert.equal(lines.length, 2, board.stderr);
  assert.match(lines[0]!, /^config error: \/hal\/board: board profile .*sim\.json: \/evses\/0\/pilot\/speed: unknown property "speed"$/);
  assert.match(lines[1]!, /^config error: \/hal\/board: board profile .*sim\.json: \/display\/cols: must be >= 8$/);
  assert.equal(existsSync(stateDir), false, 'no state directory, no database');
  const site = run({ site: { gridLimitA: 40, otherLoadMeter: { driver: 'modbus', model: 'sdm630', tcp: { host: '192.0.2.1', port: 70000 }, unit: 1 } } });
  assert.equal(site.status, 2, site.stderr);
  assert.equal(site.stderr, 'config error: /site/otherLoadMeter/tcp/port: must be <= 65535\n');
  assert.equal(existsSync(stateDir), false);
});
