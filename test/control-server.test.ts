import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlServer } from '../src/control/server.js';
import { sendControlRequest } from '../src/control/client.js';
import type { ControlResponse } from '../src/control/protocol.js';
import { simBoard, memoryLog } from './support/sim-board.js';
import type { TokenRead } from '../hal/types.js';

async function withServer(
  fn: (ctx: { socketPath: string; board: Awaited<ReturnType<typeof simBoard>>; dir: string }) => Promise<void>,
  evses = 1,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ctl-'));
  const socketPath = join(dir, 'state', 'control.sock');
  const board = await simBoard({}, evses);
  const server = await startControlServer({
    socketPath,
    hal: board.hal,
    log: board.log,
    stationStatus: () => [{ evseId: 1, connectorId: 1, status: 'Available', errorCode: 'NoError' }],
  });
  try {
    await fn({ socketPath, board, dir });
  } finally {
    await server.close();
    await board.hal.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sends raw lines on one connection and collects `count` answer lines. */
async function rawExchange(socketPath: string, payload: string, count: number): Promise<ControlResponse[]> {
  return new Promise((resolve, reject) => {
    const s = createConnection(socketPath);
    let buf = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(payload));
    s.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n').filter(Boolean);
      if (lines.length >= count) {
        s.destroy();
        resolve(lines.slice(0, count).map((l) => JSON.parse(l) as ControlResponse));
      }
    });
    s.on('error', reject);
  });
}

test('plug over the Unix socket: the answer and the board both show the EV plugged in', async () => {
  await withServer(async ({ socketPath, board }) => {
    const mode = (await stat(socketPath)).mode & 0o777;
    assert.equal(mode, 0o600, 'only the daemon user may drive the board');
    const r = await sendControlRequest(socketPath, { cmd: 'plug', evse: 1, id: 7 });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.id, 7);
    assert.equal(r.status.board, 'sim');
    assert.equal(r.status.simulated, true);
    assert.equal(r.status.evses![0]!.plugged, true);
    assert.equal(r.status.evses![0]!.pilot, 'B');
    assert.deepEqual(r.status.connectors, [{ evseId: 1, connectorId: 1, status: 'Available', errorCode: 'NoError' }]);
    assert.equal(board.hal.evses[0]!.pilot.state, 'B');

    const tokens: TokenRead[] = [];
    board.hal.reader!.on('token', (t) => tokens.push(t));
    assert.ok((await sendControlRequest(socketPath, { cmd: 'tap', idToken: 'abc123' })).ok);
    assert.deepEqual(tokens, [{ id: 'ABC123', kind: 'ISO14443' }]);

    const f = await sendControlRequest(socketPath, { cmd: 'fault', evse: 1, kind: 'rcd' });
    assert.ok(f.ok);
    assert.deepEqual(f.status.evses![0]!.faults, ['rcd']);
    const c = await sendControlRequest(socketPath, { cmd: 'clear-fault', evse: 1 });
    assert.ok(c.ok);
    assert.deepEqual(c.status.evses![0]!.faults, []);
    const st = await sendControlRequest(socketPath, { cmd: 'status' });
    assert.ok(st.ok);
  });
});

test('bad requests get clear errors and the server keeps serving on the same connection', async () => {
  await withServer(async ({ socketPath, board }) => {
    const lines = [
      '{"cmd":"explode","evse":1}',
      'this is not json',
      '{"cmd":"plug"}',
      '{"cmd":"plug","evse":3}',
      '{"cmd":"plug","evse":"one"}',
      '{"cmd":"fault","evse":1,"kind":"melted"}',
      '{"cmd":"fault","evse":1}',
      '{"cmd":"tap"}',
      '[1,2]',
      '{"cmd":"ev-ready","evse":1}',
      '{"cmd":"unplug","evse":2}',
    ];
    const answers = await rawExchange(socketPath, lines.join('\n') + '\n', lines.length);
    const errors = answers.map((a) => (a.ok ? 'ok' : a.error));
    assert.match(errors[0]!, /unknown command "explode" \(commands: plug, unplug, tap/);
    assert.match(errors[1]!, /not JSON/);
    assert.match(errors[2]!, /plug needs "evse"/);
    assert.match(errors[3]!, /unknown EVSE 3 \(this board has 1, 2\)/);
    assert.match(errors[4]!, /"evse" must be an EVSE id/);
    assert.match(errors[5]!, /unknown fault kind "melted" \(kinds: welded, lock/);
    assert.match(errors[6]!, /fault needs "kind"/);
    assert.match(errors[7]!, /tap needs "idToken"/);
    assert.match(errors[8]!, /a request is a JSON object/);
    assert.match(errors[9]!, /EVSE 1: no EV plugged in/);
    assert.equal(errors[10], 'ok', 'unplugging an empty EVSE is harmless');
    assert.equal(board.hal.evses[0]!.pilot.state, 'A', 'nothing happened to the board');
    // Still alive after all that.
    assert.ok((await sendControlRequest(socketPath, { cmd: 'status' })).ok);
  }, 2);
});

test('a board that is not simulated answers status and refuses sim commands', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctl-'));
  const socketPath = join(dir, 'control.sock');
  const board = await simBoard();
  const realLike = { ...board.hal, board: 'pi-hat', sim: undefined, close: () => board.hal.close() };
  const server = await startControlServer({ socketPath, hal: realLike, log: memoryLog() });
  try {
    const st = await sendControlRequest(socketPath, { cmd: 'status' });
    assert.ok(st.ok);
    assert.deepEqual(st.status, { board: 'pi-hat', simulated: false });
    const r = await sendControlRequest(socketPath, { cmd: 'plug', evse: 1 });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /board "pi-hat" is not simulated/);
  } finally {
    await server.close();
    await board.hal.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a stale socket file is replaced, a live one or a regular file is not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctl-'));
  const socketPath = join(dir, 'control.sock');
  const board = await simBoard();
  try {
    // A live listener on the path: refuse to start a second daemon.
    const other = createServer();
    await new Promise<void>((r) => other.listen(socketPath, r));
    await assert.rejects(startControlServer({ socketPath, hal: board.hal, log: memoryLog() }), /another process is listening/);
    await new Promise<void>((r) => other.close(() => r()));

    // A regular file is not ours to delete.
    await writeFile(socketPath, 'precious');
    await assert.rejects(startControlServer({ socketPath, hal: board.hal, log: memoryLog() }), /is not a socket/);
    await rm(socketPath);

    // A daemon killed hard leaves its socket file behind: the next start replaces it.
    await new Promise<void>((resolve) => {
      const script = `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`;
      execFile(process.execPath, ['-e', script], () => resolve());
    });
    assert.ok((await lstat(socketPath)).isSocket(), 'the killed process left its socket file');
    await assert.rejects(sendControlRequest(socketPath, { cmd: 'status' }), /not running \(nothing listens on/);
    const server = await startControlServer({ socketPath, hal: board.hal, log: memoryLog() });
    assert.ok((await sendControlRequest(socketPath, { cmd: 'status' })).ok);
    await server.close();
    await assert.rejects(stat(socketPath), /ENOENT/, 'close removes the socket file');
  } finally {
    await board.hal.close();
    await rm(dir, { recursive: true, force: true });
  }
});
