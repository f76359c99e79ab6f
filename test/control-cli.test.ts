import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CliIo } from '../src/control/sim-cli.js';
import { startControlServer } from '../src/control/server.js';
import { simBoard } from './support/sim-board.js';

function captureIo(): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), stdout: () => out, stderr: () => err };
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

test('sim CLI against a running control server: plug, tap, fault, status table, errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cli-'));
  const board = await simBoard({}, 2);
  const server = await startControlServer({
    socketPath: join(dir, 'control.sock'),
    hal: board.hal,
    log: board.log,
    stationStatus: () => [{ evseId: 2, connectorId: 1, status: 'Preparing', errorCode: 'NoError' }],
  });
  try {
    let r = await run(['plug', '--evse', '2', '--state-dir', dir]);
    assert.equal(r.code, 0, r.err);
    assert.equal(board.hal.evses[1]!.pilot.state, 'B', 'the daemon’s board saw the plug');
    assert.equal(board.hal.evses[0]!.pilot.state, 'A');
    assert.match(r.out, /^plug: done\nboard sim \(simulated\)\n/);
    const rows = r.out.split('\n');
    const header = rows.find((l) => l.startsWith('EVSE'))!;
    assert.match(header, /EVSE\s+EV\s+pilot\s+PWM A\s+contactor\s+lock\s+kW\s+kWh\s+SoC %\s+faults/);
    assert.match(r.out, /\n2\s+plugged\s+B\s+0\s+open\s+free\s+0\.00\s+0\.000\s+20\.0\s+-\n/);
    assert.match(r.out, /station\nEVSE\s+connector\s+status\s+error\n2\s+1\s+Preparing\s+-/);

    r = await run(['fault', 'lock', `--state-dir=${dir}`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\n1\s+-\s+A\s+.*\slock\n/, 'evse defaults to 1');

    r = await run(['status', '--json', '--state-dir', dir]);
    assert.equal(r.code, 0);
    const answer = JSON.parse(r.out) as { ok: boolean; status: { evses: { faults: string[] }[] } };
    assert.deepEqual(answer.status.evses[0]!.faults, ['lock']);

    r = await run(['fault', 'melted', '--state-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.err, /unknown fault kind "melted"/);

    r = await run(['plug', '--evse', '9', '--state-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.err, /unknown EVSE 9/);

    r = await run(['tap', '--state-dir', dir]);
    assert.equal(r.code, 2);
    assert.match(r.err, /tap needs an id token/);

    r = await run(['dance', '--state-dir', dir]);
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown command "dance"/);

    r = await run(['plug', '--evse', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--evse must be an EVSE id/);

    r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /usage: ocpp-station sim <command>/);
  } finally {
    await server.close();
    await board.hal.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('sim CLI says clearly when the daemon is not running', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cli-'));
  try {
    const r = await run(['status', '--state-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.err, /the station daemon is not running \(no control socket at .*control\.sock\)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sim CLI takes the state directory from OCPP_STATION_STATE_DIR when no --state-dir is given', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cli-'));
  const saved = process.env.OCPP_STATION_STATE_DIR;
  process.env.OCPP_STATION_STATE_DIR = join(dir, 'elsewhere');
  try {
    const r = await run(['status']);
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(join(dir, 'elsewhere', 'control.sock')), r.err);
  } finally {
    if (saved === undefined) delete process.env.OCPP_STATION_STATE_DIR;
    else process.env.OCPP_STATION_STATE_DIR = saved;
    await rm(dir, { recursive: true, force: true });
  }
});
