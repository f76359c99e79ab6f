/**
 * The station side of the power-loss test of test/station-durability.test.ts (issue 10 #7), run as its
 * own process so the test can SIGKILL it: a Station on a fake HAL and the given SQLite file charges on
 * EVSE 1 with token AA11 from 1000 Wh, sampling every 60 s while the meter climbs 100 Wh a minute,
 * then 15 s after the fifth sample prints "ready LAST_SAMPLE_MS LAST_ENERGY_WH NOW_MS" and waits.
 * Usage: node session-samples-crash-child.js DB_PATH
 */
import { charging, makeStation } from './station-fixture.js';

const dbPath = process.argv[2];
if (!dbPath) {
  process.stderr.write('usage: session-samples-crash-child.js DB_PATH\n');
  process.exit(2);
}

const f = await makeStation({ dbPath });
f.station.setSampleInterval(60);
const e = f.hal.evse(1);
await charging(f);
for (let i = 0; i < 5; i++) {
  e.meter.energyWh += 100;
  await f.clock.advance(60_000);
}
await f.clock.advance(15_000);
const last = f.ev.meter.filter((m) => m.context === 'Sample.Periodic').at(-1);
if (!last) throw new Error('no periodic sample');
process.stdout.write(`ready ${last.reading.at} ${last.reading.energyImportWh} ${f.clock.now()}\n`);
// Killed here: no stop(), no close.
setInterval(() => undefined, 1000);
