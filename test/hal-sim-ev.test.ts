import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simBoard } from './support/sim-board.js';
import type { PilotState } from '../hal/types.js';

const HOUR = 3_600_000;

/** Energy the model must book for a constant draw: amperes × phases × volts × hours. */
function expectedWh(amps: number, phases: number, volts: number, ms: number): number {
  return (amps * phases * volts * ms) / HOUR;
}

/** Float rounding of a sum of piecewise-constant intervals: relative 1e-9 of the value. */
function near(actual: number, expected: number, what: string): void {
  const tol = Math.max(1e-9, Math.abs(expected) * 1e-9);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (±${tol})`);
}

test('plug → B with PP rating, PWM offered → C, contactor closed → draws, energy after 1 h at 16 A × 3 × 230 V', async () => {
  const { hal, sim, clock } = await simBoard({ batteryKWh: 60, startSocPercent: 20, cableAmps: 20 });
  const evse = hal.evses[0]!;
  const states: PilotState[] = [];
  const pp: (number | null)[] = [];
  evse.pilot.on('state', (s) => states.push(s));
  evse.pilot.on('pp', (a) => pp.push(a));

  sim.plug(1);
  assert.deepEqual(states, ['B'], 'no PWM yet: the EV waits in B');
  assert.deepEqual(pp, [20]);
  assert.equal(evse.pilot.ppAmps, 20);

  await evse.pilot.setMaxCurrent(16);
  assert.deepEqual(states, ['B', 'C']);
  let r = await evse.meter.read();
  assert.equal(r.powerW, 0, 'contactor still open: no draw in C');

  await evse.contactor.set(true);
  r = await evse.meter.read();
  assert.equal(r.powerW, 16 * 3 * 230);
  assert.deepEqual(r.currentA, { L1: 16, L2: 16, L3: 16 });
  assert.deepEqual(r.voltageV, { L1: 230, L2: 230, L3: 230 });
  assert.equal(r.frequencyHz, 50);

  await clock.advance(HOUR);
  r = await evse.meter.read();
  const wh = expectedWh(16, 3, 230, HOUR);
  near(r.energyImportWh, wh, 'energy after 1 h');
  near(r.socPercent!, 20 + (wh / 60_000) * 100, 'SoC after 1 h');
  assert.equal(r.at, clock.now());
  await hal.close();
});

test('draw is 0 while the contactor is open, and energy stops rising at the moment it opens', async () => {
  const { hal, sim, clock } = await simBoard();
  const evse = hal.evses[0]!;
  sim.plug(1);
  await evse.pilot.setMaxCurrent(32);
  await evse.contactor.set(true);
  await clock.advance(10 * 60_000);
  await evse.contactor.set(false);
  const atOpen = (await evse.meter.read()).energyImportWh;
  near(atOpen, expectedWh(32, 3, 230, 10 * 60_000), 'energy at opening');
  await clock.advance(HOUR);
  const r = await evse.meter.read();
  assert.equal(r.powerW, 0);
  assert.deepEqual(r.currentA, { L1: 0, L2: 0, L3: 0 });
  assert.equal(r.energyImportWh, atOpen);
  assert.equal(evse.pilot.state, 'C', 'the EV still asks for energy');
  await hal.close();
});

test('the EV follows a lower PWM limit, never exceeds its own maximum, and PWM 0 stops the draw (EV back to B)', async () => {
  const { hal, sim, clock } = await simBoard({ maxCurrentA: 16, phases: 1 });
  const evse = hal.evses[0]!;
  sim.plug(1);
  await evse.pilot.setMaxCurrent(32);
  await evse.contactor.set(true);
  let r = await evse.meter.read();
  assert.equal(r.powerW, 16 * 230, 'limited by the EV (16 A), one phase');
  assert.deepEqual(r.currentA, { L1: 16, L2: 0, L3: 0 });

  await clock.advance(30 * 60_000);
  await evse.pilot.setMaxCurrent(10);
  r = await evse.meter.read();
  assert.equal(r.powerW, 10 * 230, 'follows the lower PWM');
  await clock.advance(30 * 60_000);
  r = await evse.meter.read();
  near(r.energyImportWh, expectedWh(16, 1, 230, 30 * 60_000) + expectedWh(10, 1, 230, 30 * 60_000), 'energy over both halves');

  await evse.pilot.setMaxCurrent(0);
  assert.equal(evse.pilot.state, 'B', 'no PWM: the EV stops asking');
  r = await evse.meter.read();
  assert.equal(r.powerW, 0, 'PWM 0: no draw even with the contactor closed');
  await hal.close();
});

test('a full battery sends the EV to B at the moment it is full, and it draws nothing after', async () => {
  const batteryKWh = 10;
  const startSocPercent = 90;
  const { hal, sim, clock } = await simBoard({ batteryKWh, startSocPercent });
  const evse = hal.evses[0]!;
  const states: [PilotState, number][] = [];
  evse.pilot.on('state', (s) => states.push([s, clock.now()]));
  sim.plug(1);
  await evse.pilot.setMaxCurrent(16);
  await evse.contactor.set(true);
  const t0 = clock.now();
  const powerW = 16 * 3 * 230;
  const roomWh = batteryKWh * 1000 * (1 - startSocPercent / 100);
  const msToFull = (roomWh / powerW) * HOUR;

  await clock.advance(msToFull * 2);
  const last = states.at(-1)!;
  assert.equal(last[0], 'B');
  assert.ok(last[1] - t0 >= msToFull && last[1] - t0 <= msToFull + 1, `B at ${last[1] - t0} ms, expected ${msToFull}`);
  const r = await evse.meter.read();
  assert.equal(r.powerW, 0);
  assert.equal(r.socPercent, 100);
  near(r.energyImportWh, roomWh, 'energy = room left in the battery');
  sim.evReady(1);
  assert.equal(evse.pilot.state, 'B', 'a full EV does not ask again');
  await hal.close();
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('evPause → B (draw 0), evReady → C again; unplug → A and PP gone; replug starts a fresh EV', async () => {
  const { hal, sim, clock } = await simBoard({ startSocPercent: 50 });
  const evse = hal.evses[0]!;
  const events: string[] = [];
  evse.pilot.on('state', (s) => events.push(`state:${s}`));
  evse.pilot.on('pp', (a) => events.push(`pp:${a}`));
  await evse.pilot.setMaxCurrent(16);
  sim.plug(1);
  assert.deepEqual(events, ['pp:32', 'state:B', 'state:C'], 'cable first, then B, then C');
  await evse.contactor.set(true);
  sim.evPause(1);
  assert.equal(evse.pilot.state, 'B');
  assert.equal((await evse.meter.read()).powerW, 0);
  sim.evReady(1);
  assert.equal(evse.pilot.state, 'C');
  await clock.advance(HOUR);
  assert.ok((await evse.meter.read()).socPercent! > 50);
  sim.unplug(1);
  assert.deepEqual(events.slice(-2), ['state:A', 'pp:null'], 'pilot lost before proximity');
  const r = await evse.meter.read();
  assert.equal(r.powerW, 0);
  assert.equal(r.socPercent, undefined, 'no EV, no SoC');
  sim.plug(1);
  assert.equal((await evse.meter.read()).socPercent, 50);
  assert.throws(() => sim.evReady(2), /unknown EVSE 2/);
  sim.unplug(1);
  assert.throws(() => sim.evReady(1), /no EV plugged/);
  await hal.close();
});

test('a listener reacting inside an event does not reorder what the other listeners see', async () => {
  const { hal, sim } = await simBoard();
  const evse = hal.evses[0]!;
  const seenBySecond: PilotState[] = [];
  evse.pilot.on('state', (s) => {
    if (s === 'B') void evse.pilot.setMaxCurrent(16); // the station offering PWM on B
  });
  evse.pilot.on('state', (s) => seenBySecond.push(s));
  sim.plug(1);
  assert.deepEqual(seenBySecond, ['B', 'C']);
  await hal.close();
});

test('contactor feedback mirrors the command; lock reports locked; status reports the physics', async () => {
  const { hal, sim, clock } = await simBoard();
  const evse = hal.evses[0]!;
  const feedback: boolean[] = [];
  const locked: boolean[] = [];
  evse.contactor.on('feedback', (c) => feedback.push(c));
  evse.lock!.on('locked', (l) => locked.push(l));
  sim.plug(1);
  assert.equal(await evse.lock!.lock(), true);
  await evse.pilot.setMaxCurrent(16);
  await evse.contactor.set(true);
  assert.equal(evse.contactor.commanded, true);
  assert.equal(evse.contactor.feedback, true);
  await clock.advance(HOUR / 2);
  const s = sim.status().evses[0]!;
  assert.equal(s.plugged, true);
  assert.equal(s.pilot, 'C');
  assert.equal(s.pwmAmps, 16);
  assert.equal(s.contactorClosed, true);
  assert.equal(s.locked, true);
  assert.equal(s.powerW, 16 * 3 * 230);
  near(s.energyWh, expectedWh(16, 3, 230, HOUR / 2), 'status energy');
  await evse.contactor.set(false);
  assert.equal(await evse.lock!.unlock(), true);
  assert.deepEqual(feedback, [true, false]);
  assert.deepEqual(locked, [true, false]);
  await hal.close();
});

test('Hal.close opens the contactor and removes PWM', async () => {
  const { hal, sim, clock } = await simBoard();
  const evse = hal.evses[0]!;
  sim.plug(1);
  await evse.pilot.setMaxCurrent(16);
  await evse.contactor.set(true);
  await hal.close();
  assert.equal(evse.contactor.commanded, false);
  assert.equal(evse.pilot.maxCurrent, 0);
  assert.equal(sim.status().evses[0]!.powerW, 0);
  assert.equal(clock.pending, 0, 'the battery-full timer is gone');
  await evse.pilot.setMaxCurrent(16);
  await evse.contactor.set(true);
  assert.equal(clock.pending, 0, 'and stays gone after close');
});
