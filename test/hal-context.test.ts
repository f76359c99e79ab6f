/**
 * One driver shape (issue 12 #1): every driver is create(options, ctx); parts share ports only
 * through the context (no module-global port maps); each part logs under its own namespace
 * (hal:evse1:pilot, …), and a listener that throws is isolated by the base emitter and logged there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { createHal, drivers } from '../hal/index.js';
import { driverContext } from '../hal/registry.js';
import { acquireBus } from '../hal/modbus/bus.js';
import { memoryLog, simProfile } from './support/sim-board.js';

test('every registered driver has an option schema and a module whose create takes (options, ctx)', async () => {
  for (const [kind, table] of Object.entries(drivers)) {
    for (const [name, d] of Object.entries(table as Record<string, { options: object; load(): Promise<{ create: (...a: unknown[]) => unknown }> }>)) {
      assert.equal(typeof d.options, 'object', `${kind}/${name} options schema`);
      // Loading the sim and pure modules is cheap; the native ones load their library lazily too.
      const mod = await d.load();
      assert.equal(typeof mod.create, 'function', `${kind}/${name}`);
      assert.equal(mod.create.length, 2, `${kind}/${name}: create(options, ctx)`);
    }
  }
});

test('a port is shared through the context, never between contexts: one Modbus connection per context and target', async () => {
  const clock = new VirtualClock();
  const shared = new Map<string, Promise<unknown>>();
  const a = driverContext({ clock, log: memoryLog(), part: 'meter', sharedResources: shared });
  const b = driverContext({ clock, log: memoryLog(), part: 'meter', sharedResources: shared });
  const other = driverContext({ clock, log: memoryLog(), part: 'meter' });
  const target = { kind: 'tcp' as const, host: '192.0.2.1', port: 502 };
  const first = await acquireBus(target, a);
  assert.equal(await acquireBus(target, b), first, 'two meters of one HAL on one gateway share its connection');
  assert.notEqual(await acquireBus(target, other), first, 'another HAL (or test) gets its own');
  assert.notEqual(await acquireBus({ ...target, port: 503 }, a), first);
});

test('each part logs under hal:evseN:part; a throwing listener of a simulated part is isolated by the emitter and logged there', async () => {
  const clock = new VirtualClock();
  const log = memoryLog();
  const hal = await createHal(simProfile({}, 2), { clock, log });
  try {
    const seen: string[] = [];
    hal.evses[1]!.pilot.on('state', () => {
      throw new Error('listener bug');
    });
    hal.evses[1]!.pilot.on('state', (s) => seen.push(s));
    hal.sim!.plug(2);
    assert.deepEqual(seen, ['B'], 'the next listener still ran');
    assert.equal(hal.evses[1]!.pilot.state, 'B', 'and the model went on');
    const errors = log.entries.filter((e) => e.level === 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.msg, /a 'state' listener failed/);
    assert.equal(errors[0]!.ns, 'hal:evse2:pilot');
    assert.match(String(errors[0]!.meta?.error), /listener bug/);
  } finally {
    await hal.close();
  }
});
