/**
 * The local site limit (src/station/site-limit.ts) on the simulated board, built as the daemon builds it
 * (config `site`, a "sim" other-load meter driven by `building-load`), without any CSMS: three EVSEs under
 * a 40 A grid connection while the building's other load goes up and down, walked second by second on the
 * virtual clock. What the pilots offer plus the building's load never exceeds the grid limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { startTestStation, type TestStation } from './support/harness.js';
import { shareOut } from '../src/station/site-limit.js';

const OFFLINE = 'ws://127.0.0.1:9/ocpp';
const GRID = 40;

async function siteStation(site: Record<string, unknown> = {}, evses = 3): Promise<TestStation> {
  return startTestStation({
    ocppVersion: '1.6',
    csmsUrl: OFFLINE,
    clock: new VirtualClock(),
    evses,
    configPatch: { site: { gridLimitA: GRID, otherLoadMeter: { driver: 'sim' }, intervalS: 5, increaseDelayS: 10, ...site } },
  });
}

/**
 * Watch every PWM command the station gives: a command that raises an EVSE's offer must leave the sum of
 * all offers within what the EVSEs may share at that moment (reductions go first, so an increase never
 * borrows current that another EVSE still holds). Returns the violations seen.
 */
function guardPwm(st: TestStation): string[] {
  const now = new Map<number, number>();
  const bad: string[] = [];
  for (const e of st.hal.evses) {
    const pilot = e.pilot;
    const send = pilot.setMaxCurrent.bind(pilot);
    now.set(e.id, pilot.maxCurrent);
    pilot.setMaxCurrent = async (a: number): Promise<void> => {
      const before = now.get(e.id) ?? 0;
      now.set(e.id, a);
      const sum = [...now.values()].reduce((x, y) => x + y, 0);
      const available = st.station.siteLimit.availableA() ?? Infinity;
      if (a > before && sum > available + 1e-9) bad.push(`EVSE ${e.id} ${before} → ${a} A made the sum ${sum} > ${available}`);
      return send(a);
    };
  }
  return bad;
}

const pwm = (st: TestStation, id: number): number => st.sim.status().evses.find((e) => e.id === id)!.pwmAmps;
const offered = (st: TestStation): number => st.sim.status().evses.reduce((s, e) => s + e.pwmAmps, 0);
const closed = (st: TestStation, id: number): boolean => st.sim.status().evses.find((e) => e.id === id)!.contactorClosed;

async function tick(st: TestStation, ms = 1000): Promise<void> {
  await st.clock.advance(ms);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Plug in, authorize (no CSMS: a pre-authorized start), the EV asks for energy. */
async function charge(st: TestStation, id: number): Promise<void> {
  st.sim.plug(id);
  await tick(st, 100);
  assert.equal(await st.station.requestStart(id, { idToken: `CARD${id}`, type: 'ISO14443' }, { preAuthorized: true }), 'Accepted');
  await tick(st, 100);
}

/**
 * Walk `seconds` in 1 s steps, checking at every step that the offers plus the load the station last
 * measured stay within the grid limit, and that once a meter interval has passed since the last change of
 * the load, the offers plus the real load do too.
 */
async function walk(st: TestStation, seconds: number, load: number, changedAt: number): Promise<void> {
  for (let s = 0; s < seconds; s++) {
    await tick(st);
    const measured = st.station.siteLimit.status().otherLoadA;
    assert.ok(measured !== undefined, 'the site meter answers');
    assert.ok(offered(st) + measured <= GRID + 1e-9, `offers ${offered(st)} + measured load ${measured} ≤ ${GRID} at ${st.clock.now() - changedAt} ms`);
    if (st.clock.now() - changedAt > 5000) assert.ok(offered(st) + load <= GRID + 1e-9, `offers ${offered(st)} + load ${load} ≤ ${GRID}`);
  }
}

test('site limit: three EVSEs share what the building leaves, fair shares, never over the grid limit while the load goes up and down (offline, no CSMS)', async () => {
  const st = await siteStation();
  const bad = guardPwm(st);
  try {
    st.sim.setBuildingLoad(10);
    await tick(st, 6000);
    for (const id of [1, 2, 3]) await charge(st, id);
    await walk(st, 10, 10, 0);
    // 40 − 10 = 30 A for three EVSEs: 10 A each.
    assert.deepEqual([1, 2, 3].map((id) => pwm(st, id)), [10, 10, 10]);
    assert.ok([1, 2, 3].every((id) => closed(st, id)), 'all three charge');

    const script: [load: number, seconds: number][] = [
      [16, 20], // 24 A left: 8 A each
      [25, 20], // 15 A: not enough for three minimums (18 A); one pauses, two at 7.5 A
      [31, 20], // 9 A: one EVSE at 9 A
      [20, 25], // 20 A: the increase waits 10 s, then 6.6 A each
      [5, 30], // 35 A: 11.6 A each
    ];
    for (const [load, seconds] of script) {
      st.sim.setBuildingLoad(load);
      await walk(st, seconds, load, st.clock.now());
    }
    assert.deepEqual([1, 2, 3].map((id) => pwm(st, id)), [11.6, 11.6, 11.6], 'fair shares again once the load fell');
    assert.deepEqual(bad, [], 'no PWM increase ever took the sum over the shared limit');
  } finally {
    await st.stop();
  }
});

test('site limit: a reduction applies at the next meter read, an increase only after increaseDelayS; the sum never exceeds the limit on the way', async () => {
  const st = await siteStation({ increaseDelayS: 20 });
  try {
    st.sim.setBuildingLoad(8);
    await tick(st, 6000);
    await charge(st, 1);
    await tick(st, 5000);
    assert.equal(pwm(st, 1), 32, '40 − 8 = 32 A, the EVSE maximum');
    st.sim.setBuildingLoad(30);
    await tick(st, 5000);
    assert.equal(pwm(st, 1), 10, 'cut at once at the next read');
    st.sim.setBuildingLoad(10);
    await tick(st, 10_000);
    assert.equal(pwm(st, 1), 10, 'the increase waits');
    await tick(st, 15_000);
    assert.equal(pwm(st, 1), 30, 'after 20 s of headroom it rises');
  } finally {
    await st.stop();
  }
});

test('site limit: the slowest EVSE (drawing least of its offer) pauses first, comes back when there is room for its minimum, and charges again', async () => {
  const st = await siteStation();
  const bad = guardPwm(st);
  try {
    st.sim.setBuildingLoad(10);
    await tick(st, 6000);
    for (const id of [1, 2, 3]) await charge(st, id);
    await tick(st, 20_000);
    // EVSE 2's EV stops taking energy: its offer stays, its draw falls to 0.
    st.sim.evPause(2);
    await tick(st, 6000);
    assert.equal(pwm(st, 2), 10, 'still offered its share while there is room for everyone');
    st.sim.setBuildingLoad(25); // 15 A: room for two minimums
    await walk(st, 6, 25, st.clock.now());
    assert.equal(pwm(st, 2), 0, 'the slowest EVSE pauses');
    assert.equal(pwm(st, 1), 7.5);
    assert.equal(pwm(st, 3), 7.5);
    assert.equal(st.station.connector(2).status, 'SuspendedEVSE');
    assert.deepEqual(st.station.siteLimit.status().paused, [2]);

    st.sim.evReady(2); // it wants energy again, but there is no room
    await walk(st, 20, 25, st.clock.now() - 10_000);
    assert.equal(pwm(st, 2), 0, 'a paused EVSE does not push a charging one out');

    st.sim.setBuildingLoad(10); // 30 A: room again, after the increase delay
    await walk(st, 20, 10, st.clock.now());
    assert.deepEqual([1, 2, 3].map((id) => pwm(st, id)), [10, 10, 10]);
    assert.ok(closed(st, 2), 'EVSE 2 resumed: contactor closed again');
    assert.equal(st.station.connector(2).status, 'Charging');
    assert.deepEqual(st.station.siteLimit.status().paused, []);
    assert.deepEqual(bad, []);
  } finally {
    await st.stop();
  }
});

test('site limit: an EVSE below its minimum pauses (per-EVSE minimum), and a session that ends gives its share to the others at once', async () => {
  const st = await siteStation({ evseMinCurrentA: { '1': 10 } });
  const bad = guardPwm(st);
  try {
    st.sim.setBuildingLoad(22); // 18 A
    await tick(st, 6000);
    await charge(st, 1);
    await charge(st, 2);
    await tick(st, 6000);
    // Minimums 10 + 6 = 16 ≤ 18: both served, water filling from the minimums: 10 and 8.
    assert.equal(pwm(st, 1), 10);
    assert.equal(pwm(st, 2), 8);
    st.sim.setBuildingLoad(26); // 14 A: 10 + 6 no longer fit; EVSE 2 came last and pauses
    await tick(st, 6000);
    assert.equal(pwm(st, 1), 14);
    assert.equal(pwm(st, 2), 0);
    assert.equal(closed(st, 2), false, 'zero limit: contactor open');
    assert.ok(st.station.requestStop(st.station.session(1)!.id, 'Local', 'StopAuthorized'));
    await tick(st, 500);
    assert.equal(pwm(st, 2), 14, 'EVSE 1 ended: EVSE 2 takes the whole 14 A at once');
    assert.ok(closed(st, 2));
    assert.deepEqual(bad, []);
  } finally {
    await st.stop();
  }
});

test('site limit: while the site meter is silent the EVSEs share meterFaultAvailableA (the load is never assumed zero), back to normal once it answers', async () => {
  const st = await siteStation({ meterFaultAvailableA: 12 });
  try {
    st.sim.setBuildingLoad(5);
    await tick(st, 6000);
    for (const id of [1, 2, 3]) await charge(st, id);
    await tick(st, 6000);
    assert.equal(offered(st), 34.8, '35 A over three EVSEs: 11.6 A each');
    st.sim.siteMeterSilent(true);
    await tick(st, 5000);
    assert.equal(st.station.siteLimit.status().meter, 'silent');
    assert.ok(offered(st) <= 12, `silent meter: at most the 12 A fallback, got ${offered(st)}`);
    assert.deepEqual([1, 2, 3].map((id) => pwm(st, id)), [6, 6, 0], 'two minimums fit in 12 A; the last authorized pauses');
    st.sim.siteMeterSilent(false);
    await tick(st, 5000);
    assert.equal(st.station.siteLimit.status().meter, 'ok');
    assert.ok(offered(st) <= 12, 'the increase still waits');
    await tick(st, 15_000);
    assert.equal(offered(st), 34.8);
  } finally {
    await st.stop();
  }
});

test('site limit: a station that starts with a silent site meter shares only the fallback from its first offer', async () => {
  const clock = new VirtualClock();
  const st = await startTestStation({
    ocppVersion: '1.6',
    csmsUrl: OFFLINE,
    clock,
    evses: 2,
    configPatch: { site: { gridLimitA: GRID, otherLoadMeter: { driver: 'sim' }, meterFaultAvailableA: 0 } },
  });
  try {
    st.sim.siteMeterSilent(true);
    await tick(st, 6000);
    await charge(st, 1);
    await tick(st, 6000);
    assert.equal(pwm(st, 1), 0, 'fallback 0: nothing offered');
    assert.equal(st.station.connector(1).status, 'SuspendedEVSE');
  } finally {
    await st.stop();
  }
});

test('shareOut: fair shares between minimum and wish, lowest ranks dropped until the minimums fit, the sum never above what is available', () => {
  const e = (id: number, wishA: number, rank: number, minA = 6) => ({ id, wishA, minA, rank });
  assert.deepEqual([...shareOut(30, [e(1, 32, 3), e(2, 32, 2), e(3, 32, 1)])], [[1, 10], [2, 10], [3, 10]]);
  assert.deepEqual([...shareOut(30, [e(1, 6, 3), e(2, 32, 2), e(3, 32, 1)])], [[1, 6], [2, 12], [3, 12]], 'a small wish leaves the rest to the others');
  assert.deepEqual([...shareOut(17, [e(1, 32, 1), e(2, 32, 3), e(3, 32, 2)])], [[1, 0], [2, 8.5], [3, 8.5]], 'lowest rank dropped');
  assert.deepEqual([...shareOut(5, [e(1, 32, 1)])], [[1, 0]], 'below the minimum: pause');
  assert.deepEqual([...shareOut(10, [e(1, 4, 1)])], [[1, 0]], 'a wish below the minimum cannot be served');
  for (let a = 0; a <= 60; a += 0.7) {
    const shares = [...shareOut(a, [e(1, 32, 1), e(2, 16, 2, 10), e(3, 8, 3)]).values()];
    assert.ok(shares.reduce((s, x) => s + x, 0) <= a + 1e-9, `sum ≤ ${a}`);
  }
});
