import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { create as createPilot, type RapiPilot } from '../hal/serial/pilot-rapi.js';
import { create as createContactor, type RapiContactor } from '../hal/serial/rapi-contactor.js';
import { frame, mapEvseState, parseLine, xorChecksum } from '../hal/serial/rapi-protocol.js';
import type { HalFault, HalFaultKind, PilotEvents } from '../hal/types.js';
import { hasSocat, NO_SOCAT, nextEvent, Peer, PtyPair, quietLog, until } from './support/pty.js';
import { driverContext } from '../hal/registry.js';

describe('RAPI framing (OpenEVSE rapi_proc.h)', () => {
  test('XOR checksum matches the examples of the spec', () => {
    assert.equal(xorChecksum('$GS'), '30');
    assert.equal(xorChecksum('$G0'), '53');
    assert.equal(xorChecksum('$GC'), '20');
    assert.equal(frame('GS'), '$GS^30\r');
    assert.equal(frame('F0', [1]), '$F0 1^43\r');
  });

  test('replies: checksum verified, sequence id dropped, legacy additive checksum accepted', () => {
    assert.deepEqual(parseLine('$OK 3 120 3 0^' + xorChecksum('$OK 3 120 3 0'), true), { kind: 'reply', ok: true, args: ['3', '120', '3', '0'] });
    assert.equal(parseLine('$OK 3 120 3 0^00', true).kind, 'bad');
    assert.equal(parseLine('$OK 3', true).kind, 'bad');
    assert.deepEqual(parseLine('$OK 3', false), { kind: 'reply', ok: true, args: ['3'] });
    assert.deepEqual(parseLine('$NK :12^' + xorChecksum('$NK :12'), true), { kind: 'reply', ok: false, args: [] });
    assert.deepEqual(parseLine('$FD*AE', true), { kind: 'notice', cmd: 'FD', args: [] });
    assert.deepEqual(parseLine('$ST 0b^' + xorChecksum('$ST 0b'), true), { kind: 'notice', cmd: 'ST', args: ['0b'] });
  });

  test('EVSE state codes map to IEC states and faults', () => {
    const table: [number, string | undefined, HalFaultKind | undefined][] = [
      [1, 'A', undefined],
      [2, 'B', undefined],
      [3, 'C', undefined],
      [4, 'D', undefined],
      [5, 'F', 'diode-failure'],
      [6, 'F', 'rcd-trip'],
      [7, 'F', 'ground-failure'],
      [8, 'F', 'contactor-welded'],
      [9, 'F', 'rcd-trip'],
      [10, 'F', 'high-temperature'],
      [11, 'F', 'overcurrent'],
      [14, 'F', 'contactor-stuck-open'],
      [254, undefined, undefined],
      [255, undefined, undefined],
    ];
    for (const [code, pilot, fault] of table) {
      const m = mapEvseState(code);
      assert.equal(m.pilot, pilot, `code ${code}`);
      assert.equal(m.fault?.kind, fault, `code ${code}`);
    }
  });
});

/** A scripted OpenEVSE on the far end of the pty. */
class FakeOpenEvse {
  evse = 0xfe;
  pilot = 1;
  amps = 0;
  nk: Record<string, number> = {};
  garble: Record<string, number> = {};
  silent = false;
  missedPulse = false;
  readonly received: string[] = [];

  constructor(readonly peer: Peer) {
    peer.onLine = (l) => void this.onLine(l);
  }

  async send(cmd: string, args: (string | number)[] = []): Promise<void> {
    await this.peer.write(frame(cmd, args));
  }

  private async onLine(line: string): Promise<void> {
    const p = parseLine(line, true);
    if (p.kind !== 'notice') return; // host commands parse like notices: $CC args
    this.received.push([p.cmd, ...p.args].join(' '));
    if (this.silent) return;
    if ((this.nk[p.cmd] ?? 0) > 0) {
      this.nk[p.cmd]!--;
      return this.send('NK');
    }
    if ((this.garble[p.cmd] ?? 0) > 0) {
      this.garble[p.cmd]!--;
      return this.peer.write('$OK^00\r');
    }
    switch (p.cmd) {
      case 'GS':
        return this.send('OK', [this.evse.toString(16), 0, this.pilot.toString(16), 0]);
      case 'SY':
        if (p.args.length === 0 && this.missedPulse) {
          this.missedPulse = false;
          return this.send('NK', [10, 6, 2]);
        }
        return this.send('OK');
      case 'FS':
        this.evse = 0xfe;
        return this.send('OK');
      case 'FE':
        this.evse = this.pilot;
        return this.send('OK');
      case 'SC': {
        const want = Number(p.args[0]);
        this.amps = Math.min(32, want);
        return this.send(want > 32 ? 'NK' : 'OK', [this.amps]);
      }
      default:
        return this.send('NK');
    }
  }
}

function next<K extends keyof PilotEvents & string>(p: RapiPilot, ev: K, ms?: number, m?: (...a: PilotEvents[K]) => boolean) {
  return nextEvent<PilotEvents, K>(p, ev, ms, m);
}

describe('OpenEVSE over RAPI on a pty pair', { skip: hasSocat() ? false : NO_SOCAT }, () => {
  const pair = new PtyPair();
  const clock = new VirtualClock();
  let board: FakeOpenEvse;
  let pilot: RapiPilot;
  let contactor: RapiContactor;
  const faults: HalFault[] = [];
  const cleared: HalFaultKind[] = [];
  const opts = () => ({ port: pair.a, timeoutMs: 500, retries: 2, pollMs: 2000, failuresBeforeLost: 2 });

  before(async () => {
    await pair.start();
    board = new FakeOpenEvse(await Peer.open(pair.b, '\r', 115200));
    // One context for both parts: they share the board's port through it, as on a board built by createHal.
    const ctx = driverContext({ clock, log: quietLog, part: 'pilot' });
    pilot = await createPilot(opts(), ctx);
    contactor = await createContactor({ port: pair.a, timeoutMs: 500 }, ctx);
    pilot.on('fault', (f) => faults.push(f));
    pilot.on('fault-cleared', (k) => cleared.push(k));
  });

  after(async () => {
    await contactor.close();
    await pilot.close();
    await board.peer.close();
    await pair.close();
  });

  test('start-up: sleep first ($FS: no PWM), then $GS; asleep with no EV reads as A', () => {
    assert.deepEqual(board.received.slice(0, 2), ['FS', 'GS']);
    assert.equal(pilot.state, 'A');
    assert.equal(pilot.maxCurrent, 0);
  });

  test('asynchronous $ST and $AT notices become state events', async () => {
    board.pilot = 2;
    const b = next(pilot, 'state');
    await board.send('AT', ['fe', '2', '0', '0']);
    assert.deepEqual(await b, ['B']);
    board.evse = 3;
    board.pilot = 3;
    const c = next(pilot, 'state');
    await board.send('ST', ['03']);
    assert.deepEqual(await c, ['C']);
  });

  test('a notice with a bad checksum is ignored', async () => {
    await board.peer.write('$ST 01^00\r');
    await board.send('GS'); // any good line after it, to know the bad one was processed
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(pilot.state, 'C');
  });

  test('setMaxCurrent: $SC amps V (volatile), then $FE when asleep; 0 → $FS', async () => {
    board.received.length = 0;
    board.evse = 0xfe;
    pilot['link'].board.evseState = 0xfe;
    await pilot.setMaxCurrent(16);
    assert.deepEqual(board.received, ['SC 16 V', 'FE']);
    assert.equal(pilot.maxCurrent, 16);
    board.received.length = 0;
    await pilot.setMaxCurrent(0);
    assert.deepEqual(board.received, ['FS']);
  });

  test('$NK with a value: the board clamped the current down, the driver keeps the clamped value', async () => {
    board.received.length = 0;
    await pilot.setMaxCurrent(40);
    assert.equal(pilot.maxCurrent, 32);
    assert.deepEqual(board.received, ['SC 40 V', 'FE']);
  });

  test('$NK is retried; a garbled reply too', async () => {
    board.received.length = 0;
    board.nk.FS = 1;
    board.garble.FS = 1;
    await pilot.setMaxCurrent(0);
    assert.deepEqual(board.received, ['FS', 'FS', 'FS']);
    assert.ok(!faults.some((f) => f.kind === 'pilot-error'));
  });

  test('$NK after every retry rejects and raises pilot-error (low); the next success clears it', async () => {
    board.nk.SC = 3;
    await assert.rejects(pilot.setMaxCurrent(10), /refused/);
    const f = faults.find((x) => x.kind === 'pilot-error');
    assert.equal(f?.severity, 'low');
    await pilot.setMaxCurrent(10);
    assert.ok(cleared.includes('pilot-error'));
  });

  test('board fault states raise faults: GFI → rcd-trip (high), state F; leaving it clears', async () => {
    const f = next(pilot, 'fault');
    await board.send('ST', ['06']);
    const [fault] = await f;
    assert.equal(fault.kind, 'rcd-trip');
    assert.equal(fault.severity, 'high');
    assert.equal(pilot.state, 'F');
    const c = next(pilot, 'fault-cleared');
    await board.send('AT', ['02', '02', '10', '0']);
    assert.deepEqual(await c, ['rcd-trip']);
    assert.equal(pilot.state, 'B');
  });

  test('contactor: set(false) while the EV draws (C) puts the board to sleep; set(true) re-enables', async () => {
    board.evse = 3;
    board.pilot = 3;
    await board.send('AT', ['03', '03', '10', '0']);
    await until(() => pilot.state === 'C');
    board.received.length = 0;
    await contactor.set(false);
    assert.deepEqual(board.received, ['FS']);
    assert.equal(contactor.commanded, false);
    assert.equal(contactor.feedback, undefined);
    await contactor.set(true);
    assert.deepEqual(board.received, ['FS', 'FE']);
  });

  test('a board that stops answering $GS raises pilot-board-lost (high) and F; answering again clears it', async () => {
    board.silent = true;
    // Each poll: 3 attempts × 500 ms timeout; two failed polls make the board lost.
    for (let i = 0; i < 30 && !faults.some((f) => f.kind === 'pilot-board-lost'); i++) {
      await clock.advance(500);
      await new Promise((r) => setTimeout(r, 10)); // let the real pty carry the retries
    }
    const lost = faults.find((f) => f.kind === 'pilot-board-lost');
    assert.equal(lost?.severity, 'high');
    assert.equal(pilot.state, 'F');
    board.silent = false;
    board.evse = 2;
    board.pilot = 2;
    for (let i = 0; i < 30 && !cleared.includes('pilot-board-lost'); i++) {
      await clock.advance(500);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(cleared.includes('pilot-board-lost'));
    assert.equal(pilot.state, 'B');
  });
});

describe('OpenEVSE heartbeat supervision ($SY)', { skip: hasSocat() ? false : NO_SOCAT }, () => {
  test('set up at start, pulsed with every poll, a missed pulse acknowledged with $SY 165', async () => {
    const pair = new PtyPair();
    await pair.start();
    const clock = new VirtualClock();
    const board = new FakeOpenEvse(await Peer.open(pair.b, '\r', 115200));
    // A long reply timeout: advancing the virtual clock must trigger the poll, never time out a reply still on the wire.
    const pilot = await createPilot({ port: pair.a, pollMs: 2000, timeoutMs: 600_000, supervisionS: 10, supervisionAmps: 6 }, driverContext({ clock, log: quietLog, part: 'pilot' }));
    try {
      assert.deepEqual(board.received.slice(0, 3), ['FS', 'SY 10 6', 'GS']);
      await until(() => board.received.length >= 4);
      assert.equal(board.received[3], 'SY');
      board.received.length = 0;
      board.missedPulse = true;
      await clock.advance(2000);
      await until(() => board.received.includes('SY 165'));
      assert.deepEqual(board.received, ['GS', 'SY', 'SY 165']);
    } finally {
      await pilot.close();
      await board.peer.close();
      await pair.close();
    }
  });

  test('supervision shorter than three polls is refused', async () => {
    await assert.rejects(createPilot({ port: '/dev/null', pollMs: 2000, supervisionS: 5 }, driverContext({ clock: new VirtualClock(), log: quietLog, part: 'pilot' })), /\/supervisionS: must be at least 3 poll periods/);
  });
});
