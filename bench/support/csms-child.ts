/**
 * The strict dev CSMS (devtools/csms.ts, ocpp-rpc RPCServer in strict mode) in its own process, so that
 * its work is counted neither for the station nor for the bare client it is compared with. Prints
 * {"url": …} once listening, then {"boot": identity} at each BootNotification it receives and
 * {"calls": n} when asked with a line "count" on stdin; exits when stdin closes.
 *   node dist/bench/support/csms-child.js
 */
import { createInterface } from 'node:readline';
import { startCsms } from '../../devtools/csms.js';

const csms = await startCsms({ protocols: ['ocpp1.6'] });
let calls = 0;
csms.setHandler('BootNotification', (_params, identity) => {
  process.stdout.write(JSON.stringify({ boot: identity }) + '\n');
  return { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 };
});
csms.setHandler('MeterValues', () => {
  calls++;
  return {};
});
process.stdout.write(JSON.stringify({ url: csms.url }) + '\n');
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'count') process.stdout.write(JSON.stringify({ calls }) + '\n');
  // The log of every frame would grow over a long bench: forget it between measurements.
  if (line.trim() === 'forget') csms.log.length = 0;
});
lines.on('close', () => {
  void csms.close().then(() => process.exit(0));
});
