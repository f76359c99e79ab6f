import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { create, type LinePilot } from '../hal/serial/pilot-line.js';
import type { HalFault, HalFaultKind, PilotEvents, PilotState } from '../hal/types.js';
import { hasSocat, NO_SOCAT, nextEvent, Peer, PtyPair, quietLog, until } from './support/pty.js';
import { driverContext } from '../hal/registry.js';

const socat = hasSocat();

function next<K extends keyof PilotEvents & string>(pilot: LinePilot, event: K, ms?: number, match?: (...a: PilotEvents[K]) => boolean) {
  return nextEvent<PilotEvents, K>(pilot, event, ms, match);
}

describe('serial pilot board, line protocol (docs/pilot-line-protocol.md)', { skip: socat ? false : NO_SOCAT }, () => {
  const pair = new PtyPair();
  const clock = new VirtualClock();
  let board: Peer;
  let pilot: LinePilot;
  const states: PilotState[] = [];
  const faults: HalFault[] = [];
  const cleared: HalFaultKind[] = [];

  before(async () => {
    await pair.start();
    board = await Peer.open(pair.b, '\n', 115200);
    // The scripted board answers GET with its full state, as the protocol says.
    board.onLine = (l) => {
      if (l === 'GET') void board.write('STATE A 12.0V\nPP NONE\n');
    };
    pilot = await create({ port: pair.a, heartbeatMs: 1000, boardTimeoutMs: 3000, reopenMinMs: 500 }, driverContext({ clock, log: quietLog, part: 'pilot' }));
    pilot.on('state', (s) => states.push(s));
    pilot.on('fault', (f) => faults.push(f));
    pilot.on('fault-cleared', (k) => cleared.push(k));
  });

  after(async () => {
    await pilot.close();
    await board.close();
    await pair.close();
  });

  test('start-up asks for the state with GET and reports state A with no cable', async () => {
    assert.equal(pilot.state, 'A');
    assert.equal(pilot.ppAmps, null);
    assert.equal(pilot.maxCurrent, 0);
  });

  test('board state and PP lines become state and pp events', async () => {
    const st = next(pilot, 'state');
    const pp = next(pilot, 'pp');
    await board.write('STATE B 9.0V\nPP 32\n');
    assert.deepEqual(await st, ['B']);
    assert.deepEqual(await pp, [32]);
    const c = next(pilot, 'state');
    await board.write('STATE C 6.1V\n');
    assert.deepEqual(await c, ['C']);
    assert.equal(pilot.voltage, 6.1);
    assert.deepEqual(states, ['B', 'C']);
  });

  test('setMaxCurrent sends SET with amperes; 0 means no PWM', async () => {
    await pilot.setMaxCurrent(16);
    await board.waitLine('SET 16');
    assert.equal(pilot.maxCurrent, 16);
    await assert.rejects(pilot.setMaxCurrent(3), RangeError);
    assert.equal(pilot.maxCurrent, 16);
  });

  test('the host heartbeats every heartbeatMs with a counter', async () => {
    await clock.advance(1000);
    const hb1 = await board.waitLine(/^HB \d+$/);
    await board.write('HB 1\n');
    await clock.advance(1000);
    const hb2 = await board.waitLine(/^HB \d+$/);
    assert.equal(Number(hb2.split(' ')[1]), Number(hb1.split(' ')[1]) + 1);
  });

  test('ERR RCD raises rcd-trip (high); CLR RCD clears it', async () => {
    const f = next(pilot, 'fault');
    await board.write('ERR RCD\n');
    const [fault] = await f;
    assert.equal(fault.kind, 'rcd-trip');
    assert.equal(fault.severity, 'high');
    const c = next(pilot, 'fault-cleared');
    await board.write('CLR RCD\n');
    assert.deepEqual(await c, ['rcd-trip']);
  });

  test('a silent board raises pilot-board-lost (high) and reports F; its next line clears it and resyncs', async () => {
    await board.write('HB 7\n');
    await until(() => pilot.boardHeartbeat === 7); // the watchdog restarts when the line arrives
    board.lines.length = 0;
    await clock.advance(2900);
    assert.ok(!faults.some((f) => f.kind === 'pilot-board-lost'), 'not before the timeout');
    await clock.advance(200);
    const lost = faults.find((f) => f.kind === 'pilot-board-lost');
    assert.ok(lost);
    assert.equal(lost.severity, 'high');
    assert.equal(pilot.state, 'F');
    const back = next(pilot, 'fault-cleared', 2000, (k) => k === 'pilot-board-lost');
    const stateA = next(pilot, 'state', 2000, (s) => s === 'A');
    await board.write('HB 8\n');
    await back;
    // Resync: the host asks for the state (GET, answered by the board) and restates its limit.
    await board.waitLine('SET 16');
    await stateA;
  });

  test('a vanished port raises port-lost and state F; reopening clears it', async () => {
    await board.close();
    await pair.stop();
    // The next heartbeat write (or the device-node probe) finds the port gone.
    await clock.advance(2000);
    await until(() => faults.some((f) => f.kind === 'port-lost'), 2000, 'port-lost');
    assert.equal(faults.find((f) => f.kind === 'port-lost')?.severity, 'high');
    assert.equal(pilot.state, 'F');
    await pair.start();
    board = await Peer.open(pair.b, '\n', 115200);
    board.onLine = (l) => {
      if (l === 'GET') void board.write('STATE B 9.0V\n');
    };
    const back = next(pilot, 'fault-cleared', 3000, (k) => k === 'port-lost');
    const stateB = next(pilot, 'state', 3000, (s) => s === 'B');
    await clock.advance(5000);
    await back;
    await board.waitLine('SET 16');
    await stateB;
  });

  test('close() turns the PWM off (SET 0) before releasing the port', async () => {
    await pilot.close();
    await board.waitLine('SET 0');
    assert.equal(pilot.maxCurrent, 0);
  });
});
