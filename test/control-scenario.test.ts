import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, compileScenario } from '../src/control/scenario.js';
import { simBoard } from './support/sim-board.js';
import type { ScenarioStep } from '../src/config/types.js';
import type { PilotState, TokenRead } from '../hal/types.js';

test('a scenario plugs, taps, pauses and unplugs at the given clock times', async () => {
  const { hal, sim, clock, log } = await simBoard();
  const seen: string[] = [];
  const t0 = clock.now();
  hal.evses[0]!.pilot.on('state', (s: PilotState) => seen.push(`${(clock.now() - t0) / 1000}s state ${s}`));
  hal.reader!.on('token', (t: TokenRead) => seen.push(`${(clock.now() - t0) / 1000}s token ${t.id}`));
  // The station's part, played here: PWM once a token is read.
  hal.reader!.on('token', () => void hal.evses[0]!.pilot.setMaxCurrent(16));
  const steps: ScenarioStep[] = [
    { afterS: 5, action: 'plug', evse: 1 },
    { afterS: 10, action: 'tap', idToken: 'card-1' },
    { afterS: 60, action: 'ev-pause', evse: 1 },
    { afterS: 30, action: 'unplug', evse: 1 },
  ];
  const handle = runScenario(steps, sim, clock, log);
  await clock.advance(4_000);
  assert.deepEqual(seen, []);
  await clock.advance(200_000);
  assert.deepEqual(seen, ['5s state B', '15s token CARD-1', '15s state C', '75s state B', '105s state A']);
  assert.deepEqual(await handle.finished, { done: 4, failed: 0, cancelled: false });
  assert.equal(clock.pending, 0);
  await hal.close();
});

test('a refused step is logged and the scenario goes on; cancel stops it before the next step', async () => {
  const { hal, sim, clock, log } = await simBoard();
  const handle = runScenario(
    [
      { afterS: 1, action: 'ev-ready', evse: 1 }, // no EV plugged: refused
      { afterS: 1, action: 'plug', evse: 1 },
      { afterS: 100, action: 'unplug', evse: 1 },
    ],
    sim,
    clock,
    log,
  );
  await clock.advance(2_000);
  assert.equal(sim.status().evses[0]!.plugged, true);
  assert.ok(log.entries.some((e) => e.level === 'warn' && /no EV plugged/.test(String(e.meta?.error))));
  handle.cancel();
  await clock.advance(200_000);
  assert.equal(sim.status().evses[0]!.plugged, true, 'the unplug step never ran');
  assert.deepEqual(await handle.finished, { done: 1, failed: 1, cancelled: true });
  assert.equal(clock.pending, 0);
  await hal.close();
});

test('scenario steps are checked before anything runs', () => {
  assert.throws(() => compileScenario([{ afterS: 1, action: 'fault', evse: 1, fault: 'melted' }]), /step 0 .*unknown fault kind "melted"/);
  assert.throws(() => compileScenario([{ afterS: 1, action: 'plug' }]), /step 0 .*plug needs "evse"/);
  assert.throws(() => compileScenario([{ afterS: -1, action: 'plug', evse: 1 }]), /afterS must be a number ≥ 0/);
  assert.throws(() => compileScenario([{ afterS: 0, action: 'status' as ScenarioStep['action'] }]), /not a scenario action/);
  assert.equal(compileScenario([{ afterS: 2.5, action: 'clear-fault', evse: 1 }])[0]!.afterMs, 2500);
});
