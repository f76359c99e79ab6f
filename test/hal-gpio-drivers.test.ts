import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../base/clock.js';
import { findHeaderChip } from '../hal/gpio/sysfs.js';
import type { Direction, Edge, GpioLike, Level } from '../hal/gpio/pins.js';
import { create as createRelay } from '../hal/gpio/relay.js';
import { create as createLock } from '../hal/gpio/lock.js';
import { create as createInput } from '../hal/gpio/input.js';
import type { HalFault, HalFaultKind } from '../hal/types.js';
import { quietLog } from './support/pty.js';
import { driverContext } from '../hal/registry.js';

/** A stand-in for onoff's Gpio: records exports and writes; inputs are driven by the test. */
class FakeGpioBoard {
  readonly lines = new Map<number, FakeGpio>();
  readonly log: string[] = [];
  /** Levels of inputs before they are exported (the wiring at rest). */
  readonly preset = new Map<number, Level>();
  factory = (line: number, direction: Direction, edge?: Edge): GpioLike => {
    const g = new FakeGpio(this, line, direction, edge);
    if (direction === 'in') g.value = this.preset.get(line) ?? 0;
    this.lines.set(line, g);
    this.log.push(`export ${line} ${direction}${edge ? ' ' + edge : ''}`);
    return g;
  };
  /** Set an input's level as the outside world would, firing its watchers. */
  drive(line: number, level: Level): void {
    const g = this.lines.get(line);
    assert.ok(g, `line ${line} exported`);
    g.value = level;
    for (const w of g.watchers) w(null, level);
  }
  level(line: number): Level | undefined {
    return this.lines.get(line)?.value;
  }
}

class FakeGpio implements GpioLike {
  value: Level;
  watchers: ((err: Error | null | undefined, v: Level) => void)[] = [];
  exported = true;
  constructor(
    private readonly board: FakeGpioBoard,
    readonly line: number,
    readonly direction: Direction,
    readonly edge?: Edge,
  ) {
    this.value = direction === 'high' ? 1 : 0;
  }
  readSync(): Level {
    return this.value;
  }
  writeSync(v: Level): void {
    assert.ok(this.exported, 'write after unexport');
    this.value = v;
    this.board.log.push(`write ${this.line} ${v}`);
  }
  watch(cb: (err: Error | null | undefined, v: Level) => void): void {
    this.watchers.push(cb);
  }
  unwatchAll(): void {
    this.watchers = [];
  }
  unexport(): void {
    this.exported = false;
    this.board.log.push(`unexport ${this.line}`);
  }
}

function fakeSysfs(chips: [string, number, string][]): string {
  const root = mkdtempSync(join(tmpdir(), 'ocpp-gpio-'));
  for (const [name, base, label] of chips) {
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, 'base'), `${base}\n`);
    writeFileSync(join(root, name, 'label'), `${label}\n`);
  }
  return root;
}

describe('sysfs gpiochip base offset (kernels 6.6+)', () => {
  test('Pi 4 on 6.6+: pinctrl-bcm2711 at base 512, the firmware expander is ignored', () => {
    const root = fakeSysfs([
      ['gpiochip512', 512, 'pinctrl-bcm2711'],
      ['gpiochip570', 570, 'raspberrypi-exp-gpio'],
    ]);
    try {
      assert.equal(findHeaderChip(root).base, 512);
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  test('Pi 5: the header is pinctrl-rp1 (571), not the SoC pinctrl-bcm2712 chip', () => {
    const root = fakeSysfs([
      ['gpiochip512', 512, 'pinctrl-bcm2712'],
      ['gpiochip571', 571, 'pinctrl-rp1'],
    ]);
    try {
      assert.equal(findHeaderChip(root).base, 571);
      assert.equal(findHeaderChip(root, 'pinctrl-bcm2712').base, 512);
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  test('no known chip: the error lists what was found', () => {
    const root = fakeSysfs([['gpiochip0', 0, 'some-other-soc']]);
    try {
      assert.throws(() => findHeaderChip(root), /found: gpiochip0 \(some-other-soc, base 0\)/);
    } finally {
      rmSync(root, { recursive: true });
    }
  });
});

describe('GPIO drivers through a fake onoff Gpio and a fake sysfs', () => {
  let root: string;
  const BASE = 512;
  before(() => {
    root = fakeSysfs([['gpiochip512', BASE, 'pinctrl-bcm2711']]);
  });
  after(() => rmSync(root, { recursive: true }));

  const setup = () => {
    const board = new FakeGpioBoard();
    const clock = new VirtualClock();
    const deps = driverContext({ clock, log: quietLog, part: 'contactor', seams: { gpio: board.factory, sysfsRoot: root } });
    const faults: HalFault[] = [];
    const cleared: HalFaultKind[] = [];
    return { board, clock, deps, faults, cleared };
  };

  test('active-low relay: exported at its safe (open) level, BCM 17 → line 529, closed = 0', async () => {
    const { board, deps } = setup();
    const relay = await createRelay({ pin: 17, activeLow: true }, deps);
    assert.equal(board.log[0], 'export 529 high', 'exported high: an active-low relay stays open');
    await relay.set(true);
    assert.equal(board.level(529), 0);
    assert.equal(relay.commanded, true);
    assert.equal(relay.feedback, undefined);
    await relay.set(false);
    assert.equal(board.level(529), 1);
    await relay.close();
    assert.deepEqual(board.log.slice(-2), ['write 529 1', 'unexport 529']);
  });

  test('welded contactor: mirror contact still closed after settleMs while commanded open → contactor-welded (high)', async () => {
    const { board, clock, deps, faults, cleared } = setup();
    const relay = await createRelay({ pin: 17, feedback: { pin: 27, debounceMs: 20 }, settleMs: 300 }, deps);
    relay.on('fault', (f) => faults.push(f));
    relay.on('fault-cleared', (k) => cleared.push(k));
    const feedback: boolean[] = [];
    relay.on('feedback', (c) => feedback.push(c));
    await relay.set(true);
    board.drive(539, 1);
    await clock.advance(300);
    assert.deepEqual(feedback, [true]);
    assert.equal(faults.length, 0);
    await relay.set(false);
    await clock.advance(299);
    assert.equal(faults.length, 0, 'not before the settle time');
    await clock.advance(1);
    assert.deepEqual(faults.map((f) => [f.kind, f.severity]), [['contactor-welded', 'high']]);
    // Commanding closed again does not clear a weld; contacts that open do.
    await relay.set(true);
    await clock.advance(300);
    assert.deepEqual(cleared, []);
    await relay.set(false);
    board.drive(539, 0);
    await clock.advance(300);
    assert.deepEqual(cleared, ['contactor-welded']);
    await relay.close();
  });

  test('stuck open: commanded closed, mirror contact never closes → contactor-stuck-open; a drop-out later is caught too', async () => {
    const { board, clock, deps, faults, cleared } = setup();
    const relay = await createRelay({ pin: 17, feedback: { pin: 27 }, settleMs: 200 }, deps);
    relay.on('fault', (f) => faults.push(f));
    relay.on('fault-cleared', (k) => cleared.push(k));
    await relay.set(true);
    await clock.advance(200);
    assert.deepEqual(faults.map((f) => f.kind), ['contactor-stuck-open']);
    board.drive(539, 1);
    await clock.advance(20);
    assert.deepEqual(cleared, ['contactor-stuck-open']);
    board.drive(539, 0); // contactor drops out while closed
    await clock.advance(20);
    assert.deepEqual(faults.map((f) => f.kind), ['contactor-stuck-open', 'contactor-stuck-open']);
    await relay.close();
  });

  test('debounce: a glitch shorter than debounceMs is not a feedback change', async () => {
    const { board, clock, deps } = setup();
    const relay = await createRelay({ pin: 17, feedback: { pin: 27, debounceMs: 20 } }, deps);
    const feedback: boolean[] = [];
    relay.on('feedback', (c) => feedback.push(c));
    board.drive(539, 1);
    await clock.advance(5);
    board.drive(539, 0);
    await clock.advance(50);
    assert.deepEqual(feedback, []);
    assert.equal(relay.feedback, false);
    await relay.close();
  });

  test('lock motor: sense confirms → true and motor off; no confirmation within timeoutMs → false + lock-failure', async () => {
    const { board, clock, deps, faults, cleared } = setup();
    const lock = await createLock({ lockPin: 5, unlockPin: 6, sense: { pin: 13, debounceMs: 10 }, timeoutMs: 1000 }, deps);
    lock.on('fault', (f) => faults.push(f));
    lock.on('fault-cleared', (k) => cleared.push(k));
    const p = lock.lock();
    assert.equal(board.level(BASE + 5), 1, 'lock side driven');
    assert.equal(board.level(BASE + 6), 0);
    board.drive(BASE + 13, 1);
    await clock.advance(10);
    assert.equal(await p, true);
    assert.equal(lock.locked, true);
    assert.equal(board.level(BASE + 5), 0, 'motor stopped');

    const u = lock.unlock(); // the pin is stuck: sense stays active
    assert.equal(board.level(BASE + 6), 1);
    await clock.advance(1000);
    assert.equal(await u, false);
    assert.equal(board.level(BASE + 6), 0, 'motor stopped after the timeout');
    assert.deepEqual(faults.map((f) => [f.kind, f.severity]), [['lock-failure', 'low']]);

    const u2 = lock.unlock();
    board.drive(BASE + 13, 0);
    await clock.advance(10);
    assert.equal(await u2, true);
    assert.deepEqual(cleared, ['lock-failure']);
    await lock.close();
  });

  test('emergency stop input: active → emergency-stop (high), released → cleared; active-low wiring', async () => {
    const { board, clock, deps, faults, cleared } = setup();
    board.preset.set(BASE + 22, 1); // pulled up at rest: an active-low input that is not pressed
    const estop = await createInput({ pin: 22, activeLow: true, debounceMs: 20 }, deps);
    assert.equal(estop.active, false);
    assert.deepEqual(estop.activeFaults, []);
    estop.on('fault', (f) => faults.push(f));
    estop.on('fault-cleared', (k) => cleared.push(k));
    const changes: boolean[] = [];
    estop.on('change', (a) => changes.push(a));
    await clock.advance(50);
    board.drive(BASE + 22, 0);
    await clock.advance(20);
    assert.deepEqual(changes, [true]);
    assert.deepEqual(faults.map((f) => [f.kind, f.severity]), [['emergency-stop', 'high']]);
    board.drive(BASE + 22, 1);
    await clock.advance(20);
    assert.deepEqual(cleared, ['emergency-stop']);
    await estop.close();
    assert.equal(board.lines.get(BASE + 22)?.exported, false);
  });

  test('an emergency stop already pressed at start holds the fault from the start (activeFaults)', async () => {
    const { board, deps } = setup();
    board.preset.set(BASE + 22, 0);
    const estop = await createInput({ pin: 22, activeLow: true }, deps);
    assert.equal(estop.active, true);
    assert.deepEqual(estop.activeFaults.map((f) => f.kind), ['emergency-stop']);
    await estop.close();
  });

  test('options are checked and name the bad key', async () => {
    const { deps } = setup();
    await assert.rejects(createRelay({ pin: 'x' }, deps), /contactor options: \/pin: must be integer/);
    await assert.rejects(createRelay({ pin: 17, feedbak: 27 }, deps), /contactor options: \/feedbak: unknown property "feedbak"/);
  });

  test('an explicit gpioBase wins over sysfs', async () => {
    const { board, deps } = setup();
    const relay = await createRelay({ pin: 4, gpioBase: 0 }, { ...deps, seams: { ...deps.seams, sysfsRoot: '/nonexistent' } });
    assert.equal(board.log[0], 'export 4 low');
    await relay.close();
  });
});
