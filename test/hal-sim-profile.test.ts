import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../base/clock.js';
import { createHal, loadBoardProfile, registerDriver, drivers } from '../hal/index.js';
import { repoRoot } from './support/paths.js';
import { memoryLog, simProfile } from './support/sim-board.js';
import { TypedEmitter } from '../base/emitter.js';
import type { Relay, RelayEvents } from '../hal/types.js';

const configDir = () => join(repoRoot(), 'config');

test('config/boards/sim.json loads and builds a complete simulated HAL', async () => {
  const profile = loadBoardProfile('sim', configDir());
  assert.equal(profile.name, 'sim');
  const clock = new VirtualClock();
  const hal = await createHal(profile, { clock, log: memoryLog() });
  assert.equal(hal.board, 'sim');
  assert.equal(hal.evses.length, 1);
  const e = hal.evses[0]!;
  assert.equal(e.id, 1);
  assert.equal(e.maxCurrentA, 32);
  assert.equal(e.phases, 3);
  assert.ok(e.lock && hal.reader && hal.display && hal.sim);
  assert.equal(e.pilot.state, 'A');
  hal.sim.plug(1);
  assert.equal(e.pilot.state, 'B');
  await hal.display.show(['hello']);
  await hal.close();
  assert.equal(clock.pending, 0);
});

test('an unknown driver is refused with a message naming the part, the driver and the known drivers', async () => {
  const profile = simProfile();
  profile.evses[0]!.meter = { driver: 'sdm999', address: 1 };
  await assert.rejects(
    createHal(profile, { clock: new VirtualClock(), log: memoryLog() }),
    (err: Error) => {
      assert.match(err.message, /EVSE 1 meter: unknown meter driver "sdm999" \(known meter drivers: sim/);
      return true;
    },
  );
});

test('a failing driver closes what was already built and names the part', async () => {
  let relayClosed = false;
  class TestRelay extends TypedEmitter<RelayEvents> implements Relay {
    commanded = true;
    feedback = undefined;
    async set(c: boolean) {
      this.commanded = c;
    }
  }
  const relay = new TestRelay();
  const anyOptions = { type: 'object' };
  registerDriver('contactor', 'test-relay', {
    options: anyOptions,
    load: async () => ({
      create: async (_o, ctx) => {
        ctx.onClose(() => void (relayClosed = true));
        return relay;
      },
    }),
  });
  registerDriver('meter', 'test-broken', {
    options: anyOptions,
    load: async () => ({
      create: async (o) => {
        throw new Error(`port ${String((o as { port?: unknown }).port)} missing`);
      },
    }),
  });
  try {
    const profile = simProfile();
    profile.evses[0]!.contactor = { driver: 'test-relay' };
    profile.evses[0]!.meter = { driver: 'test-broken', port: '/dev/ttyX' };
    await assert.rejects(createHal(profile, { clock: new VirtualClock(), log: memoryLog() }), /EVSE 1 meter: driver "test-broken" failed: port \/dev\/ttyX missing/);
    assert.equal(relay.commanded, false, 'the contactor built before the failure was opened');
    assert.equal(relayClosed, true, 'and released');
  } finally {
    delete drivers.contactor['test-relay'];
    delete drivers.meter['test-broken'];
  }
});

test('a driver module: create(options, ctx) gets its options and EVSE, and is closed after the outputs went safe', async () => {
  const calls: string[] = [];
  class ModuleRelay extends TypedEmitter<RelayEvents> implements Relay {
    commanded = false;
    feedback = undefined;
    async set(c: boolean) {
      this.commanded = c;
      calls.push(`set ${c}`);
    }
    async close() {
      calls.push('close');
    }
  }
  registerDriver('contactor', 'test-module', {
    options: { type: 'object' },
    load: async () => ({
      create: async (options, ctx) => {
        calls.push(`create ${JSON.stringify(options)} evse ${ctx.evse?.id}`);
        return new ModuleRelay();
      },
    }),
  });
  try {
    const profile = simProfile({}, 2);
    profile.evses[1]!.contactor = { driver: 'test-module', pin: 17 };
    const hal = await createHal(profile, { clock: new VirtualClock(), log: memoryLog() });
    assert.deepEqual(calls, ['create {"pin":17} evse 2']);
    await hal.close();
    assert.deepEqual(calls, ['create {"pin":17} evse 2', 'set false', 'close']);
  } finally {
    delete drivers.contactor['test-module'];
  }
});

test('loadBoardProfile: a path, deep-merged overrides (evses by id), and errors that point at the problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'board-'));
  try {
    const file = join(dir, 'two.json');
    const two = simProfile({ batteryKWh: 40 }, 2);
    writeFileSync(file, JSON.stringify(two));
    const p = loadBoardProfile(file, configDir(), {
      evses: [{ id: 2, maxCurrentA: 16, ev: { startSocPercent: 80 } }],
      display: { driver: 'sim', rows: 2 },
    });
    assert.equal(p.evses.length, 2);
    assert.equal(p.evses[0]!.maxCurrentA, 32);
    assert.equal(p.evses[1]!.maxCurrentA, 16);
    assert.deepEqual(p.evses[1]!.ev, { batteryKWh: 40, startSocPercent: 80 });
    assert.deepEqual(p.display, { driver: 'sim', rows: 2 });

    assert.throws(() => loadBoardProfile('nope', configDir()), /board profile "nope" not found \(looked for .*boards\/nope\.json\)/);
    assert.throws(() => loadBoardProfile('../etc', configDir()), /not found/);
    assert.throws(
      () => loadBoardProfile(file, configDir(), { evses: [{ id: 1, phases: 2, pilot: { driver: '' } }] }),
      /\/evses\/0\/phases: must be one of 1,3; \/evses\/0\/pilot\/driver: must not be empty/,
    );
    assert.throws(
      () => loadBoardProfile(file, configDir(), { evses: [{ id: 2, lok: { driver: 'sim' }, ev: { batteryKwh: 3 } }] }),
      /\/evses\/1\/lok: unknown property "lok".*\/evses\/1\/ev\/batteryKwh: unknown property "batteryKwh"/,
    );
    writeFileSync(file, '{ "name": ');
    assert.throws(() => loadBoardProfile(file, configDir()), /two\.json: .*JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad virtual-EV options are refused when the board is built', async () => {
  await assert.rejects(
    createHal(simProfile({ batteryKWh: -1 }), { clock: new VirtualClock(), log: memoryLog() }),
    /\/evses\/0\/ev\/batteryKWh: must be > 0/,
  );
});

test('every shipped board profile follows config/boards/board.schema.json and the loader accepts it', () => {
  const boards = join(configDir(), 'boards');
  const schema = JSON.parse(readFileSync(join(boards, 'board.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
  const files = readdirSync(boards).filter((f) => f.endsWith('.json') && f !== 'board.schema.json');
  assert.ok(files.includes('sim.json'));
  for (const f of files) {
    const ok = validate(JSON.parse(readFileSync(join(boards, f), 'utf8')));
    assert.ok(ok, `${f}: ${JSON.stringify(validate.errors)}`);
    assert.doesNotThrow(() => loadBoardProfile(f.replace(/\.json$/, ''), configDir()), f);
  }
  assert.equal(validate({ name: 'x', evses: [{ id: 1, maxCurrentA: 16, phases: 2, connectorType: 'sType2', pilot: {}, contactor: { driver: 'sim' }, meter: { driver: 'sim' } }] }), false);
});
