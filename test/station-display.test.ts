/**
 * Issue 16 point 4: the one display model (src/station/display-model.ts), seen on the simulated board's
 * display (what `sim status` shows) through a whole charging session, and its precedence rules.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { TypedEmitter } from '../base/emitter.js';
import type { Display, DisplayEvents } from '../hal/types.js';
import { DisplayModel, END_SCREEN_MS, type ScreenMessage } from '../src/station/display-model.js';
import type { ConnectorState, Session, StationEvents } from '../src/station/api.js';
import { formatStatus } from '../src/control/sim-cli.js';
import { bootedV201Station } from './support/v201-station.js';
import { silentLogger } from '../base/logger.js';

const silent = silentLogger;

class FakeDisplay extends TypedEmitter<DisplayEvents> implements Display {
  readonly cols = 20;
  readonly rows = 4;
  shown: string[][] = [];
  async show(lines: string[]): Promise<void> {
    this.shown.push(lines);
  }
  get now(): string[] {
    return this.shown.at(-1) ?? [];
  }
}

/** The station's events, emitted by the test. */
class Events extends TypedEmitter<StationEvents> {
  override emit<K extends keyof StationEvents & string>(event: K, ...args: StationEvents[K]): boolean {
    return super.emit(event, ...args);
  }
}

function model() {
  const clock = new VirtualClock(Date.parse('2026-12-04T10:00:00Z'));
  const events = new Events();
  const display = new FakeDisplay();
  const m = new DisplayModel({ events, clock, log: silent, evseIds: [1], display });
  m.start();
  const status = (s: ConnectorState['status'], fault?: ConnectorState['fault']) =>
    events.emit('status', { evseId: 1, connectorId: 1, status: s, ...(fault ? { fault } : {}), at: clock.now() });
  return { clock, events, display, m, status };
}

const session = (over: Partial<Session> = {}): Session => ({
  id: 'tx-1',
  evseId: 1,
  connectorId: 1,
  startedAt: Date.parse('2026-12-04T10:00:00Z'),
  authorizedAt: Date.parse('2026-12-04T10:00:00Z'),
  powerPathClosed: true,
  chargingState: 'Charging',
  meterStartWh: 1000,
  ...over,
});

describe('display model: what is shown in each state', () => {
  test('on the simulated board: idle, cable in, charging (energy, power, time), done (energy), idle again; `sim status` prints the screen', async () => {
    const s = await bootedV201Station();
    try {
      const screen = () => s.sim.status().display;
      assert.deepEqual(screen(), ['Ready to charge     ', 'Tap card to start   ', '                    ', '                    ']);
      s.sim.plug(1);
      await s.run(1000);
      assert.deepEqual(screen()!.slice(0, 2), ['Cable connected     ', 'Tap card to start   ']);
      s.sim.tap('04A1B2C3');
      await s.run(1000);
      s.sim.evReady(1);
      await s.run(30 * 60_000, 1000);
      const charging = screen()!;
      assert.match(charging[0]!, /^Charging \d+\.\d kW *$/);
      const kwh = Number(/^(\d+\.\d\d) kWh 0:[23]\d *$/.exec(charging[1]!)?.[1]);
      assert.ok(kwh > 1, `energy shown: ${charging[1]}`);
      assert.match(formatStatus({ board: 'sim', simulated: true, display: charging }), /display\n\+-{20}\+\n\|Charging /);
      s.sim.tap('04A1B2C3');
      await s.run(2000);
      assert.equal(screen()![0], 'Charging done       ');
      assert.match(screen()![1]!, /^\d+\.\d\d kWh 0:[23]\d/);
      assert.equal(screen()![2], 'Unplug the cable    ');
      s.sim.unplug(1);
      await s.run(2000);
      assert.equal(screen()![0], 'Charging done       ', 'the end screen stays a while after the cable is out');
      await s.run(END_SCREEN_MS + 1000, 1000);
      assert.equal(screen()![0], 'Ready to charge     ');
    } finally {
      await s.close();
    }
  });

  test('charging shows energy since the start, power and time; a running cost and the tariff text when the CSMS gave them', async () => {
    const { clock, events, display, m, status } = model();
    status('Charging');
    const sess = session({ auth: { status: 'Accepted', personalMessage: '0.35 EUR/kWh' } });
    events.emit('session', { type: 'started', trigger: 'Authorized', at: clock.now(), session: sess });
    await clock.advance(42 * 60_000);
    events.emit('meter', { evseId: 1, sessionId: 'tx-1', context: 'Sample.Periodic', currentOfferedA: 16, reading: { at: clock.now(), energyImportWh: 13_345, powerW: 11_040, currentA: {}, voltageV: {} } });
    assert.deepEqual(display.now, ['Charging 11.0 kW', '12.35 kWh 0:42', '0.35 EUR/kWh']);
    m.setCost('tx-1', { amount: 4.32, currency: 'EUR' });
    assert.deepEqual(display.now, ['Charging 11.0 kW', '12.35 kWh 0:42', 'Cost EUR 4.32', '0.35 EUR/kWh']);
    events.emit('session', { type: 'ended', trigger: 'StopAuthorized', at: clock.now(), session: { ...sess, endedAt: clock.now(), meterStopWh: 13_345, powerPathClosed: false } });
    status('Finishing');
    m.setCost('tx-1', { amount: 4.4, currency: 'EUR' }, true);
    assert.deepEqual(display.now, ['Charging done', '12.35 kWh 0:42', 'Total EUR 4.40', 'Unplug the cable']);
  });

  test('a fault on the only EVSE shows Out of order; the idle screen comes back when it clears', () => {
    const { events, display, status } = model();
    status('Available');
    events.emit('fault-raised', 1, { kind: 'rcd-trip', severity: 'high' });
    status('Faulted', { kind: 'rcd-trip', severity: 'high' });
    assert.deepEqual(display.now, ['Out of order', 'Residual current']);
    events.emit('fault-cleared', 1, 'rcd-trip');
    status('Available');
    assert.deepEqual(display.now, ['Ready to charge', 'Tap card to start']);
  });
});

describe('display model: CSMS messages by priority and cycle', () => {
  const msg = (id: number, priority: ScreenMessage['priority'], text: string, over: Partial<ScreenMessage> = {}): ScreenMessage => ({ id, priority, text, ...over });

  test('NormalCycle messages take turns with the state screen, each for 5 s', async () => {
    const { clock, display, m, status } = model();
    status('Available');
    m.setMessages([msg(1, 'NormalCycle', 'Free parking'), msg(2, 'NormalCycle', 'Open 24/7')]);
    assert.deepEqual(display.now, ['Ready to charge', 'Tap card to start']);
    await clock.advance(5000);
    assert.deepEqual(display.now, ['Free parking']);
    await clock.advance(5000);
    assert.deepEqual(display.now, ['Open 24/7']);
    await clock.advance(5000);
    assert.deepEqual(display.now, ['Ready to charge', 'Tap card to start']);
  });

  test('InFront covers the state screen and NormalCycle; AlwaysFront covers even a fault (only the newest one)', async () => {
    const { events, display, m, status } = model();
    status('Available');
    m.setMessages([msg(1, 'NormalCycle', 'cycle'), msg(2, 'InFront', 'in front')]);
    assert.deepEqual(display.now, ['in front']);
    events.emit('fault-raised', 1, { kind: 'meter-silent', severity: 'high' });
    status('Faulted');
    assert.deepEqual(display.now, ['Out of order', 'Meter fault'], 'a fault covers InFront');
    m.setMessages([msg(2, 'InFront', 'in front'), msg(3, 'AlwaysFront', 'old'), msg(4, 'AlwaysFront', 'Closed today')]);
    assert.deepEqual(display.now, ['Closed today']);
  });

  test('start and end times, the station state and the transaction bind when a message shows', async () => {
    const { clock, events, display, m, status } = model();
    status('Available');
    const t0 = clock.now();
    m.setMessages([
      msg(1, 'InFront', 'later', { startAt: t0 + 60_000, endAt: t0 + 120_000 }),
      msg(2, 'InFront', 'while charging', { state: 'Charging' }),
      msg(3, 'InFront', 'for tx-1', { sessionId: 'tx-1' }),
    ]);
    assert.deepEqual(display.now, ['Ready to charge', 'Tap card to start']);
    await clock.advance(60_000);
    assert.deepEqual(display.now, ['later'], 'shown at its start time without anything else happening');
    await clock.advance(60_000);
    assert.deepEqual(display.now, ['Ready to charge', 'Tap card to start'], 'gone at its end time');
    events.emit('session', { type: 'started', trigger: 'Authorized', at: clock.now(), session: session({ id: 'tx-2' }) });
    status('Charging');
    assert.deepEqual(display.now, ['while charging'], 'the message of another transaction stays hidden');
    await clock.advance(5000);
    assert.deepEqual(display.now, ['while charging']);
    events.emit('session', { type: 'started', trigger: 'Authorized', at: clock.now(), session: session({ id: 'tx-1' }) });
    await clock.advance(5000);
    assert.ok(display.shown.some((l) => l[0] === 'for tx-1'), 'shown while its transaction runs');
  });
});
