/** Meter sampling on the injected clock (1.6 MeterValueSampleInterval / ClockAlignedDataInterval, 2.0.1 J01/J02). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { charging, makeStation, tok } from './support/station-fixture.js';

test('J02 periodic samples every interval while a session runs, none after it ends', async () => {
  const f = await makeStation();
  f.station.setSampleInterval(60);
  await charging(f);
  const sessionId = f.station.session(1)!.id;
  f.ev.meter.length = 0;
  await f.clock.advance(180_000);
  const periodic = f.ev.meter.filter((m) => m.context === 'Sample.Periodic');
  assert.equal(periodic.length, 3);
  assert.ok(periodic.every((m) => m.sessionId === sessionId && m.currentOfferedA === 32));
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(600_000);
  assert.equal(f.ev.meter.filter((m) => m.context === 'Sample.Periodic').length, 3);
  await f.stop();
});

test('changing the sample interval applies to the running session', async () => {
  const f = await makeStation();
  await charging(f);
  await f.clock.advance(300_000);
  assert.equal(f.ev.meter.filter((m) => m.context === 'Sample.Periodic').length, 0, 'interval 0: off');
  f.station.setSampleInterval(30);
  await f.clock.advance(90_000);
  assert.equal(f.ev.meter.filter((m) => m.context === 'Sample.Periodic').length, 3);
  await f.stop();
});

test('J01 clock-aligned samples at :00/:15/:30/:45 for every EVSE, with or without a session', async () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1, 8, 7, 13));
  const f = await makeStation({ evses: 2, clock });
  await charging(f, 1);
  f.station.setAlignedInterval(900);
  await f.clock.advance(40 * 60_000);
  const aligned = f.ev.meter.filter((m) => m.context === 'Sample.Clock');
  assert.deepEqual(
    aligned.map((m) => [new Date(m.reading.at).toISOString().slice(11, 19), m.evseId, m.sessionId !== undefined]),
    [
      ['08:15:00', 1, true],
      ['08:15:00', 2, false],
      ['08:30:00', 1, true],
      ['08:30:00', 2, false],
      ['08:45:00', 1, true],
      ['08:45:00', 2, false],
    ],
  );
  f.station.setAlignedInterval(0);
  await f.clock.advance(3_600_000);
  assert.equal(f.ev.meter.filter((m) => m.context === 'Sample.Clock').length, 6, 'off');
  await f.stop();
});

test('Transaction.Begin and Transaction.End samples frame the session; meter start/stop from them', async () => {
  const f = await makeStation();
  f.hal.evse(1).meter.energyWh = 2000;
  await charging(f);
  f.hal.evse(1).meter.energyWh = 2600;
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(0);
  const ctx = f.ev.meter.map((m) => [m.context, m.reading.energyImportWh]);
  assert.deepEqual(ctx, [
    ['Transaction.Begin', 2000],
    ['Transaction.End', 2600],
  ]);
  const s = f.sessionEvents('ended')[0]!.session;
  assert.equal(s.meterStartWh, 2000);
  assert.equal(s.meterStopWh, 2600);
  await f.stop();
});

test('a silent meter crashes nothing: no samples, the session still ends with the last known value', async () => {
  const f = await makeStation();
  f.station.setSampleInterval(10);
  f.station.setAlignedInterval(60);
  await charging(f);
  f.hal.evse(1).meter.failing = true;
  const before = f.ev.meter.length;
  await f.clock.advance(120_000);
  assert.equal(f.ev.meter.length, before);
  assert.equal(await f.station.sampleNow(1, 'Trigger'), undefined);
  await f.station.presentToken(tok('AA11'));
  await f.clock.advance(0);
  assert.equal(f.sessionEvents('ended')[0]?.session.meterStopWh, 1000);
  assert.ok(f.log.lines.some((l) => l.msg === 'meter read failed'));
  await f.stop();
});

test('sampleNow (TriggerMessage) returns and emits a Trigger sample', async () => {
  const f = await makeStation();
  f.hal.evse(1).meter.powerW = 7000;
  const s = await f.station.sampleNow(1, 'Trigger');
  assert.equal(s?.context, 'Trigger');
  assert.equal(s?.reading.powerW, 7000);
  assert.equal(f.ev.meter.at(-1), s);
  assert.equal(await f.station.sampleNow(5, 'Trigger'), undefined);
  await f.stop();
});

test('stop() leaves no timer behind', async () => {
  const f = await makeStation({ evses: 2 });
  f.station.setSampleInterval(10);
  f.station.setAlignedInterval(900);
  await charging(f, 1);
  f.station.reserve({ id: 1, evseId: 2, idToken: tok('X'), expiresAt: f.clock.now() + 60_000 });
  await f.stop();
  assert.equal(f.clock.pending, 0);
});
