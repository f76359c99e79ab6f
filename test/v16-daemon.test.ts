/**
 * The 1.6 adapter inside the station exactly as the daemon builds it (src/wiring.ts through
 * test/support/harness.ts): a charging session and a configuration change seen by the strict CSMS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { startCsms } from './support/csms.js';
import { startTestStation } from './support/harness.js';

test('4.2 / 4.9 / 4.8 / 4.10 daemon wiring with OCPP 1.6: boot, statuses, a charge, ChangeConfiguration', async () => {
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  const clock = new VirtualClock();
  const st = await startTestStation({ ocppVersion: '1.6', csmsUrl: csms.url, clock });
  const step = async (ms: number): Promise<void> => {
    await clock.advance(ms);
    await new Promise((r) => setTimeout(r, 2));
  };
  const until = async (what: string, fn: () => boolean): Promise<void> => {
    for (let i = 0; i < 600; i++) {
      if (fn()) return;
      await step(50);
    }
    throw new Error(`timed out waiting for ${what}; CSMS saw ${csms.actions().join(', ')}`);
  };
  const count = (a: string): number => csms.actions().filter((x) => x === a).length;
  try {
    await until('boot and statuses', () => count('StatusNotification') >= 2);
    assert.deepEqual(csms.actions().slice(0, 3), ['BootNotification', 'StatusNotification', 'StatusNotification']);
    const identity = csms.clients()[0]!.identity;
    assert.deepEqual(await csms.call(identity, 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '60' }), { status: 'Accepted' });
    st.sim.plug(1);
    st.sim.tap('04A1B2C3');
    await until('StartTransaction', () => count('StartTransaction') === 1);
    for (let i = 0; i < 5; i++) await step(60_000);
    st.sim.tap('04A1B2C3');
    await until('StopTransaction', () => count('StopTransaction') === 1);
    assert.ok(count('MeterValues') >= 4, `MeterValues ${count('MeterValues')}`);
    const stop = (await csms.waitFor('StopTransaction')) as { reason: string; idTag: string };
    assert.equal(stop.reason, 'Local');
    assert.equal(stop.idTag, '04A1B2C3');
  } finally {
    await st.stop();
    await csms.close();
  }
});
