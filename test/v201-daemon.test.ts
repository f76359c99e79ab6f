/**
 * The 2.0.1 adapter inside the station as the daemon builds it (src/wiring.ts via the test harness):
 * config-file seeds of the device model, a charging session, and a graceful stop that ends the
 * transaction before the process exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { startCsms } from './support/csms.js';
import { startTestStation, until } from './support/harness.js';

type Tx = { eventType: string; triggerReason: string; seqNo: number; transactionInfo: { stoppedReason?: string } };

test('daemon wiring, 2.0.1: config.ocpp.v201.variables seed the device model; plug, tap, charge; SIGTERM-like stop sends TransactionEvent Ended(Local) before exit', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  const clock = new VirtualClock();
  const st = await startTestStation({
    ocppVersion: '2.0.1',
    csmsUrl: csms.url,
    clock,
    configPatch: { ocpp: { v201: { variables: { 'SampledDataCtrlr.TxUpdatedInterval': '10', 'TxCtrlr.TxStartPoint': 'EVConnected' } } } },
  });
  const txs = () => csms.log.filter((e) => e.direction === 'in' && e.type === 'call' && e.action === 'TransactionEvent').map((e) => e.payload as Tx);
  let stopped = false;
  try {
    await until(st, 'boot + status', () => csms.actions().includes('StatusNotification'));
    st.sim.plug(1);
    await until(st, 'Started', () => txs().length === 1);
    assert.equal(txs()[0]!.triggerReason, 'CablePluggedIn', 'TxStartPoint from the config file');
    st.sim.tap('04A1B2C3');
    st.sim.evReady(1);
    for (let i = 0; i < 35; i++) {
      await clock.advance(1000);
      await new Promise((r) => setTimeout(r, 2));
    }
    const periodic = txs().filter((t) => t.triggerReason === 'MeterValuePeriodic').length;
    assert.ok(periodic >= 3 && periodic <= 4, `TxUpdatedInterval 10 s from the config file: ${periodic} in 35 s`);
    await st.stop('Local');
    stopped = true;
    const last = txs().at(-1)!;
    assert.equal(last.eventType, 'Ended');
    assert.equal(last.transactionInfo.stoppedReason, 'Local');
    assert.deepEqual(txs().map((t) => t.seqNo), txs().map((_, i) => i));
  } finally {
    if (!stopped) await st.stop();
    await csms.close();
  }
});
