/**
 * The station side of the session crash test (test/station-durability.test.ts), run as its own
 * process so the test can SIGKILL it: a Station on a fake HAL and the given SQLite file charges on
 * EVSE 1 with token AA11 from 1000 Wh, then the EV pauses, resumes and pauses again (C → B → C → B:
 * every one of those changes is a lazy commit); it prints "ready" and waits.
 * Usage: node session-crash-child.js DB_PATH
 */
import { charging, makeStation } from './station-fixture.js';

const dbPath = process.argv[2];
if (!dbPath) {
  process.stderr.write('usage: session-crash-child.js DB_PATH\n');
  process.exit(2);
}

const f = await makeStation({ dbPath });
const e = f.hal.evse(1);
await charging(f);
e.meter.energyWh = 1500;
e.pilot.setState('B');
e.pilot.setState('C');
e.pilot.setState('B');
await f.clock.advance(0);
process.stdout.write(`ready ${f.station.connector(1).status}\n`);
// Killed here: no stop(), no close.
setInterval(() => undefined, 1000);
