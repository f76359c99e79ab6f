import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import modbusSerial from 'modbus-serial';
import { SystemClock, VirtualClock, type Clock } from '../base/clock.js';
import type { Direction, GpioLike, Level } from '../hal/gpio/pins.js';
import type { BringupIo } from '../src/bringup/common.js';
import { main as meterMain } from '../src/bringup/meter.js';
import { main as pilotMain } from '../src/bringup/pilot.js';
import { main as readerMain } from '../src/bringup/reader.js';
import { main as relayMain } from '../src/bringup/relay.js';
import { freePort, hasSocat, NO_SOCAT, Peer, PtyPair } from './support/pty.js';

function testIo(clock: Clock = new SystemClock(), answer = '', deps?: Record<string, unknown>) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const io: BringupIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    ask: async (p) => {
      asked.push(p);
      return answer;
    },
    stopped: () => stopped,
    clock,
    deps,
  };
  return { io, out, err, asked, stop };
}

describe('meter read', () => {
  test('--modbus-tcp --once prints every measurand of the SDM630 map with its unit', async () => {
    const regs = new Map<number, number>();
    const put = (a: number, v: number) => {
      const b = Buffer.alloc(4);
      b.writeFloatBE(v);
      regs.set(a, b.readUInt16BE(0));
      regs.set(a + 1, b.readUInt16BE(2));
    };
    put(0, 230);
    put(72, 10.5);
    put(70, 50);
    const port = await freePort();
    const server = new modbusSerial.ServerTCP(
      { getMultipleInputRegisters: (addr: number, len: number) => Array.from({ length: len }, (_, i) => regs.get(addr + i) ?? 0) },
      { host: '127.0.0.1', port, unitID: 3 },
    );
    await new Promise<void>((resolve, reject) => {
      server.on('initialized', () => resolve());
      server.on('serverError', (err) => reject(err ?? new Error('ServerTCP failed')));
    });
    try {
      const { io, out } = testIo();
      const code = await meterMain(['--model', 'sdm630', '--modbus-tcp', `127.0.0.1:${port}`, '--unit', '3', '--once'], io);
      assert.equal(code, 0);
      assert.match(out[0]!, /^sdm630 unit 3 at /);
      assert.ok(out.some((l) => /^ {2}energyImportWh +10500\.000 Wh$/.test(l)), out.join('\n'));
      assert.ok(out.some((l) => /^ {2}voltageL1V +230\.000 V$/.test(l)));
      assert.ok(out.some((l) => /^ {2}frequencyHz +50\.000 Hz$/.test(l)));
      assert.equal(out.length, 1 + 13, 'all 13 measurands of the map');
    } finally {
      for (const s of server.socks.keys()) (s as Socket).destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('usage errors exit 2 and say what is wrong', async () => {
    const { io, err } = testIo();
    assert.equal(await meterMain(['--modbus-tcp', 'a:1', '--modbus-rtu', '/dev/x'], io), 2);
    assert.match(err[0]!, /exactly one of --modbus-tcp/);
    assert.equal(await meterMain(['--bogus'], io), 2);
  });
});

describe('pilot monitor and reader listen over a pty pair', { skip: hasSocat() ? false : NO_SOCAT }, () => {
  test('pilot monitor --driver line --once prints the board state', async () => {
    const pair = new PtyPair();
    await pair.start();
    const board = await Peer.open(pair.b, '\n', 115200);
    board.onLine = (l) => {
      if (l === 'GET') void board.write('STATE B 9.1V\nPP 32\n');
    };
    try {
      const { io, out } = testIo();
      assert.equal(await pilotMain(['--driver', 'line', '--port', pair.a, '--once'], io), 0);
      assert.deepEqual(out, ['state B  pp 32 A  pwm 0 A']);
      await board.waitLine('SET 0'); // released with the PWM off
    } finally {
      await board.close();
      await pair.close();
    }
  });

  test('reader listen --driver line --once prints the first card, normalised', async () => {
    const pair = new PtyPair();
    await pair.start();
    const dev = await Peer.open(pair.b);
    try {
      const { io, out } = testIo();
      let finished = false;
      const run = readerMain(['--driver', 'line', '--port', pair.a, '--once'], io).finally(() => {
        finished = true;
      });
      // The command opens its port when it gets to it (later on a loaded machine); a card read
      // before that is lost on the pty, so the card is presented again until the command saw one.
      for (let i = 0; i < 600 && !finished; i++) {
        await dev.write('04:a2:1b:c3\n');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await run, 0);
      assert.deepEqual(out, ['04A21BC3 (ISO14443)']);
    } finally {
      await dev.close();
      await pair.close();
    }
  });
});

describe('relay toggle', () => {
  /** A GPIO whose mirror contact (BCM 27) follows the relay output (BCM 17, active low). */
  function wiredBoard() {
    const writes: string[] = [];
    const lines = new Map<number, { value: Level; watchers: ((e: null, v: Level) => void)[] }>();
    const factory = (line: number, direction: Direction): GpioLike => {
      const pin = { value: (direction === 'high' ? 1 : 0) as Level, watchers: [] as ((e: null, v: Level) => void)[] };
      lines.set(line, pin);
      return {
        readSync: () => pin.value,
        writeSync: (v: Level) => {
          pin.value = v;
          writes.push(`${line}=${v}`);
          const fb = lines.get(27);
          if (line === 17 && fb) {
            fb.value = v === 0 ? 1 : 0;
            for (const w of fb.watchers) w(null, fb.value);
          }
        },
        watch: (cb) => pin.watchers.push(cb as (e: null, v: Level) => void),
        unwatchAll: () => (pin.watchers = []),
        unexport: () => writes.push(`unexport ${line}`),
      };
    };
    return { factory, writes };
  }

  function profileFile(): { dir: string; file: string } {
    const dir = mkdtempSync(join(tmpdir(), 'ocpp-relay-'));
    const file = join(dir, 'hat.json');
    const part = (driver: string, extra: object = {}) => ({ driver, ...extra });
    writeFileSync(
      file,
      JSON.stringify({
        name: 'test-hat',
        evses: [
          {
            id: 1,
            maxCurrentA: 16,
            phases: 1,
            connectorType: 'sType2',
            pilot: part('sim'),
            contactor: part('gpio', { pin: 17, activeLow: true, gpioBase: 0, feedback: { pin: 27, debounceMs: 10 }, settleMs: 100 }),
            meter: part('sim'),
          },
        ],
      }),
    );
    return { dir, file };
  }

  async function runWithClock(clock: VirtualClock, run: Promise<number>): Promise<number> {
    let done = false;
    void run.finally(() => (done = true));
    // The command loads its driver with a real dynamic import, so give real time a turn as well.
    for (let i = 0; i < 1000 && !done; i++) {
      await clock.advance(100);
      await new Promise((r) => setTimeout(r, 1));
    }
    return run;
  }

  test('--yes: closes (feedback closed), holds, opens (feedback open), releases the pin', async () => {
    const { dir, file } = profileFile();
    const { factory, writes } = wiredBoard();
    const clock = new VirtualClock();
    const { io, out, asked } = testIo(clock, '', { gpio: factory });
    try {
      const code = await runWithClock(clock, relayMain(['--board', file, '--evse', '1', '--yes', '--hold', '1'], io));
      assert.equal(code, 0, out.join('\n'));
      assert.deepEqual(asked, []);
      assert.ok(out.includes('commanded closed, feedback: closed'), out.join('\n'));
      assert.ok(out.includes('commanded open, feedback: open'));
      assert.deepEqual(writes, ['17=0', '17=1', '17=1', 'unexport 17', 'unexport 27']);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('asks for confirmation; anything but "yes" switches nothing', async () => {
    const { dir, file } = profileFile();
    const { factory, writes } = wiredBoard();
    const { io, asked } = testIo(new VirtualClock(), 'no', { gpio: factory });
    try {
      assert.equal(await relayMain(['--board', file, '--evse', '1'], io), 1);
      assert.equal(asked.length, 1);
      assert.match(asked[0]!, /mains power/);
      assert.deepEqual(writes, []);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('an unknown EVSE is a usage error', async () => {
    const { dir, file } = profileFile();
    const { io, err } = testIo();
    try {
      assert.equal(await relayMain(['--board', file, '--evse', '9', '--yes'], io), 2);
      assert.match(err[0]!, /has no EVSE 9/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
