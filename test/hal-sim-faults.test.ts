import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simBoard } from './support/sim-board.js';
import type { HalFault, HalFaultKind, PilotState, TokenRead } from '../hal/types.js';
import { SIM_FAULT_KINDS, METER_SILENT_AFTER_FAILED_READS } from '../hal/sim/faults.js';

function faultLog(emitter: { on(e: 'fault', l: (f: HalFault) => void): unknown; on(e: 'fault-cleared', l: (k: HalFaultKind) => void): unknown }) {
  const log: string[] = [];
  emitter.on('fault', (f) => log.push(`fault:${f.kind}:${f.severity}`));
  emitter.on('fault-cleared', (k) => log.push(`cleared:${k}`));
  return log;
}

test('welded: the contactor feedback stays closed after the open command, until the fault is cleared', async () => {
  const { hal, sim, clock } = await simBoard();
  const evse = hal.evses[0]!;
  const feedback: boolean[] = [];
  evse.contactor.on('feedback', (c) => feedback.push(c));
  sim.plug(1);
  await evse.pilot.setMaxCurrent(16);
  await evse.contactor.set(true);
  sim.fault(1, 'welded');
  await evse.contactor.set(false);
  assert.equal(evse.contactor.commanded, false);
  assert.equal(evse.contactor.feedback, true);
  assert.deepEqual(feedback, [true, true], 'feedback reaffirmed closed after the open command');
  // Physically the contacts are closed: the EV still in C draws.
  assert.ok((await evse.meter.read()).powerW > 0);
  await evse.pilot.setMaxCurrent(0);
  await clock.advance(60_000);
  assert.equal((await evse.meter.read()).powerW, 0, 'without PWM the EV stops drawing, weld or not');
  assert.deepEqual(sim.status().evses[0]!.faults, ['welded']);
  assert.equal(sim.status().evses[0]!.contactorClosed, true);

  sim.clearFault(1, 'welded');
  assert.equal(evse.contactor.feedback, false);
  assert.deepEqual(feedback, [true, true, false]);
  assert.deepEqual(sim.status().evses[0]!.faults, []);
  await hal.close();
});

test('welded injected while open: the contactor welds at its next closing', async () => {
  const { hal, sim } = await simBoard();
  const evse = hal.evses[0]!;
  sim.fault(1, 'welded');
  assert.equal(evse.contactor.feedback, false);
  await evse.contactor.set(true);
  await evse.contactor.set(false);
  assert.equal(evse.contactor.feedback, true);
  await hal.close();
});

test('lock: lock() and unlock() resolve false and raise lock-failure once; clearing restores', async () => {
  const { hal, sim } = await simBoard();
  const lock = hal.evses[0]!.lock!;
  const log = faultLog(lock);
  sim.fault(1, 'lock');
  assert.equal(await lock.lock(), false);
  assert.equal(lock.locked, false);
  assert.equal(await lock.lock(), false);
  assert.deepEqual(log, ['fault:lock-failure:low']);
  sim.clearFault(1, 'lock');
  assert.deepEqual(log, ['fault:lock-failure:low', 'cleared:lock-failure']);
  assert.equal(await lock.lock(), true);
  assert.equal(lock.locked, true);
  sim.fault(1, 'lock');
  assert.equal(await lock.unlock(), false, 'a broken lock does not release either');
  assert.equal(lock.locked, true);
  await hal.close();
});

test(`meter-silent: read() rejects, the fault is raised after ${METER_SILENT_AFTER_FAILED_READS} failed reads, cleared on clearFault`, async () => {
  const { hal, sim, clock } = await simBoard();
  const evse = hal.evses[0]!;
  const log = faultLog(evse.meter);
  sim.plug(1);
  await evse.pilot.setMaxCurrent(16);
  await evse.contactor.set(true);
  sim.fault(1, 'meter-silent');
  for (let i = 1; i <= METER_SILENT_AFTER_FAILED_READS; i++) {
    await assert.rejects(evse.meter.read(), /does not answer/);
    assert.equal(log.length, i < METER_SILENT_AFTER_FAILED_READS ? 0 : 1, `after ${i} failed reads`);
  }
  await assert.rejects(evse.meter.read());
  assert.deepEqual(log, ['fault:meter-silent:low'], 'raised once');
  await clock.advance(3_600_000);
  sim.clearFault(1, 'meter-silent');
  assert.deepEqual(log, ['fault:meter-silent:low', 'cleared:meter-silent']);
  const r = await evse.meter.read();
  assert.ok(r.energyImportWh > 10_000, 'the energy flowed while the meter was silent');
  // The count restarts: two failures after clearing raise nothing.
  sim.fault(1, 'meter-silent');
  await assert.rejects(evse.meter.read());
  await assert.rejects(evse.meter.read());
  assert.equal(log.length, 2);
  await hal.close();
});

for (const [kind, state] of [
  ['pilot-e', 'E'],
  ['pilot-f', 'F'],
] as const) {
  test(`${kind}: pilot goes to ${state} with a high pilot-error fault and no draw; clearing restores the EV state`, async () => {
    const { hal, sim } = await simBoard();
    const evse = hal.evses[0]!;
    const states: PilotState[] = [];
    evse.pilot.on('state', (s) => states.push(s));
    const log = faultLog(evse.pilot);
    sim.plug(1);
    await evse.pilot.setMaxCurrent(16);
    await evse.contactor.set(true);
    sim.fault(1, kind);
    assert.equal(evse.pilot.state, state);
    assert.equal((await evse.meter.read()).powerW, 0);
    assert.deepEqual(log, ['fault:pilot-error:high']);
    sim.clearFault(1, kind);
    assert.deepEqual(states, ['B', 'C', state, 'C']);
    assert.deepEqual(log, ['fault:pilot-error:high', 'cleared:pilot-error']);
    await hal.close();
  });
}

test('rcd: rcd-trip of high severity, no current flows; clearing lets the EV draw again', async () => {
  const { hal, sim } = await simBoard();
  const evse = hal.evses[0]!;
  const log = faultLog(evse.pilot);
  sim.plug(1);
  await evse.pilot.setMaxCurrent(16);
  await evse.contactor.set(true);
  sim.fault(1, 'rcd');
  sim.fault(1, 'rcd');
  assert.deepEqual(log, ['fault:rcd-trip:high'], 'raised once');
  assert.equal((await evse.meter.read()).powerW, 0);
  sim.clearFault(1);
  assert.deepEqual(log, ['fault:rcd-trip:high', 'cleared:rcd-trip']);
  assert.equal((await evse.meter.read()).powerW, 16 * 3 * 230);
  await hal.close();
});

test('reader: taps emit upper-cased ISO14443 tokens; a faulted reader raises reader-failure and reads nothing', async () => {
  const { hal, sim } = await simBoard({}, 2);
  const reader = hal.reader!;
  const tokens: TokenRead[] = [];
  reader.on('token', (t) => tokens.push(t));
  const log = faultLog(reader);
  sim.tap(' 04a2b3c4d5 ');
  assert.deepEqual(tokens, [{ id: '04A2B3C4D5', kind: 'ISO14443' }]);
  sim.fault(1, 'reader');
  assert.deepEqual(log, ['fault:reader-failure:low']);
  assert.throws(() => sim.tap('AA'), /reader is faulted/);
  assert.equal(tokens.length, 1);
  assert.deepEqual(
    sim.status().evses.map((e) => e.faults),
    [['reader'], ['reader']],
    'a station-wide reader fault shows on every EVSE',
  );
  sim.clearFault(2, 'reader');
  assert.deepEqual(log, ['fault:reader-failure:low', 'cleared:reader-failure']);
  sim.tap('bb');
  assert.deepEqual(tokens.at(-1), { id: 'BB', kind: 'ISO14443' });
  assert.throws(() => sim.tap('  '), /needs an id token/);
  await hal.close();
});

test('clearFault without a kind clears every fault of the EVSE; bad kinds and EVSE ids are refused', async () => {
  const { hal, sim } = await simBoard({}, 2);
  for (const kind of SIM_FAULT_KINDS) sim.fault(1, kind);
  assert.deepEqual(new Set(sim.status().evses[0]!.faults), new Set(SIM_FAULT_KINDS));
  assert.equal(hal.evses[0]!.pilot.state, 'E', 'E wins over F');
  assert.deepEqual(sim.status().evses[1]!.faults, ['reader'], 'EVSE 2 only sees the shared reader fault');
  sim.clearFault(1);
  assert.deepEqual(sim.status().evses.map((e) => e.faults), [[], []]);
  assert.equal(hal.evses[0]!.pilot.state, 'A');
  // Deliberately wrong kind, as a control-socket user could send it.
  assert.throws(() => sim.fault(1, 'melted' as never), /unknown fault kind "melted" \(known: welded, lock/);
  assert.throws(() => sim.fault(3, 'rcd'), /unknown EVSE 3 \(this board has 1, 2\)/);
  await hal.close();
});
