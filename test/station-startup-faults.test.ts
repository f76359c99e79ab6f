/**
 * Faults present at start. Real drivers raise faults while they are being created (a serial port
 * missing, an emergency stop already pressed), before the station has attached its listeners; each
 * part keeps them in `activeFaults`. The station must take them as if their event came when it
 * subscribed: Faulted with the fault's error code, the contactor rule, the fault told to the
 * adapters (1.6 StatusNotification errorCode, 2.0.1 NotifyEvent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import type { Direction, Edge, GpioLike, Level } from '../hal/gpio/pins.js';
import { create as createInput } from '../hal/gpio/input.js';
import { create as createLinePilot } from '../hal/serial/pilot-line.js';
import type { Hal, HalFault } from '../hal/types.js';
import { openDatabase } from '../src/store/db.js';
import { Station } from '../src/station/station.js';
import type { ConnectorState } from '../src/station/api.js';
import { FakeHal, MemoryLog } from './support/fake-hal.js';
import { FakeCsms, makeStation, tok } from './support/station-fixture.js';
import { quietLog } from './support/pty.js';
import { errorFieldsOf } from '../src/ocpp/v16/error-codes.js';
import { driverContext } from '../hal/registry.js';

const lost: HalFault = { kind: 'pilot-board-lost', severity: 'high', detail: 'no line from the pilot board' };

test('a high fault a part raised before the station existed: Faulted with its error code after start(), contactor stays open', async () => {
  const f = await makeStation({ beforeStation: (hal) => hal.evse(1).pilot.raise(lost) });
  const st = f.station.connector(1);
  assert.equal(st.status, 'Faulted');
  assert.equal(errorFieldsOf(st).errorCode, 'EVCommunicationError');
  assert.equal(f.lastStatus()?.status, 'Faulted', 'the first status the adapters hear is Faulted');
  assert.deepEqual(f.ev.faults, [[1, lost]], 'the adapters hear of the fault once, at start');
  // An authorized EV asking for energy gets none while the fault holds.
  const e = f.hal.evse(1);
  f.csms.answers.set('AA11', { status: 'Accepted' });
  e.pilot.setState('B');
  await f.station.presentToken(tok('AA11'), 1);
  e.pilot.setState('C');
  await f.clock.advance(0);
  assert.equal(e.contactor.commanded, false);
  assert.deepEqual(e.contactor.commands, [], 'the contactor was never commanded closed');
  // Clearing it later works as for a fault that came by event.
  e.pilot.clear('pilot-board-lost');
  assert.notEqual(f.station.connector(1).status, 'Faulted');
  await f.stop();
});

test('a low fault present at start (meter silent) shows its error code without Faulted', async () => {
  const silent: HalFault = { kind: 'meter-silent', severity: 'low' };
  const f = await makeStation({ evses: 2, beforeStation: (hal) => hal.evse(2).meter.raise(silent) });
  assert.equal(errorFieldsOf(f.station.connector(1)).errorCode, 'NoError');
  const st = f.station.connector(2);
  assert.equal(errorFieldsOf(st).errorCode, 'PowerMeterFailure');
  assert.notEqual(st.status, 'Faulted');
  assert.deepEqual(f.ev.faults, [[2, silent]]);
  await f.stop();
});

test('a fault raised and cleared before the station existed is not raised', async () => {
  const f = await makeStation({
    beforeStation: (hal) => {
      hal.evse(1).contactor.raise({ kind: 'contactor-welded', severity: 'high' });
      hal.evse(1).contactor.clear('contactor-welded');
    },
  });
  assert.equal(f.station.connector(1).status, 'Available');
  assert.deepEqual(f.ev.faults, []);
  await f.stop();
});

test('a reader fault present at start is told for the station (evse 0) after start()', async () => {
  const readerLost: HalFault = { kind: 'port-lost', severity: 'low', detail: '/dev/ttyUSB1 missing' };
  const f = await makeStation({ beforeStation: (hal) => hal.reader?.raise(readerLost) });
  assert.deepEqual(f.ev.faults, [[0, readerLost]]);
  await f.stop();
});

// ---- real drivers ------------------------------------------------------------------------------

/** Just enough of onoff's Gpio for an input whose level is fixed at export. */
class FixedGpio implements GpioLike {
  constructor(private readonly value: Level) {}
  readSync(): Level {
    return this.value;
  }
  writeSync(): void {
    throw new Error('input only');
  }
  watch(): void {}
  unwatchAll(): void {}
  unexport(): void {}
}

interface RealSetup {
  station: Station;
  statuses: ConnectorState[];
  faults: [number, HalFault][];
  fake: FakeHal;
  stop(): Promise<void>;
}

async function stationOn(build: (fake: FakeHal) => Hal, clock: VirtualClock): Promise<RealSetup> {
  const fake = new FakeHal({ now: () => clock.now() });
  const db = openDatabase(':memory:');
  const station = new Station({ hal: build(fake), db, clock, log: new MemoryLog() });
  station.setCsms(new FakeCsms());
  const statuses: ConnectorState[] = [];
  const faults: [number, HalFault][] = [];
  station.on('status', (s) => statuses.push(s));
  station.on('fault-raised', (id, f) => faults.push([id, f]));
  await station.start();
  return {
    station,
    statuses,
    faults,
    fake,
    stop: async () => {
      await station.stop();
      db.close();
    },
  };
}

test('real gpio driver: an emergency stop already pressed when the input is created → Faulted after start(), contactor stays open', async () => {
  const clock = new VirtualClock();
  // Active-low button read low at export: pressed before the daemon started.
  const factory = (_line: number, _dir: Direction, _edge?: Edge): GpioLike => new FixedGpio(0);
  const estop = await createInput({ pin: 22, activeLow: true, gpioBase: 0 }, driverContext({ clock, log: quietLog, part: 'emergencyStop', seams: { gpio: factory } }));
  assert.deepEqual(estop.activeFaults.map((f) => f.kind), ['emergency-stop'], 'the driver holds it from creation');
  const s = await stationOn((fake) => ({ board: 'test', evses: fake.evses, emergencyStop: estop, close: () => fake.close() }), clock);
  assert.equal(s.station.connector(1).status, 'Faulted');
  assert.equal(s.statuses.at(-1)?.status, 'Faulted');
  const e = s.fake.evse(1);
  e.pilot.setState('B');
  e.pilot.setState('C');
  await clock.advance(0);
  assert.equal(e.contactor.commanded, false);
  assert.deepEqual(e.contactor.commands, []);
  await s.stop();
  await estop.close();
});

test('real serial driver: a pilot board whose port is missing at start → Faulted (port-lost, OtherError) after start(), contactor stays open', async () => {
  const clock = new VirtualClock();
  const pilot = await createLinePilot({ port: '/nonexistent/ocpp-station-test-tty', reopenMinMs: 60_000, reopenMaxMs: 60_000 }, driverContext({ clock, log: quietLog, part: 'pilot' }));
  assert.deepEqual(pilot.activeFaults.map((f) => f.kind), ['port-lost'], 'the driver raised it inside create()');
  const s = await stationOn((fake) => ({ board: 'test', evses: [{ ...fake.evse(1), pilot }], close: () => fake.close() }), clock);
  const st = s.station.connector(1);
  assert.equal(st.status, 'Faulted');
  // Without the fault the pilot's state F alone would read EVCommunicationError: the code proves the fault was taken.
  assert.equal(errorFieldsOf(st).errorCode, 'OtherError');
  assert.match(st.info ?? '', /nonexistent/);
  assert.deepEqual(s.faults.map(([id, f]) => [id, f.kind]), [[1, 'port-lost']]);
  assert.equal(s.fake.evse(1).contactor.commanded, false);
  assert.deepEqual(s.fake.evse(1).contactor.commands, []);
  await s.stop();
  await pilot.close();
});
