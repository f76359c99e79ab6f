/**
 * 2.0.1 block I (I01–I06): tariff text, running cost and final cost from the strict test CSMS, as the
 * simulated display shows them; the TariffCostCtrlr variables and the offline fallback messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootedV201Station, type V201Station } from './support/v201-station.js';

type Tx = { eventType: string; offline?: boolean; transactionInfo: { transactionId: string } };
const screen = (s: V201Station) => (s.sim.status().display ?? []).map((r) => r.trimEnd());
const txs = (s: V201Station) => s.calls<Tx>('TransactionEvent');
const txId = (s: V201Station) => txs(s)[0]!.transactionInfo.transactionId;

async function with201(variables: Record<string, string>, fn: (s: V201Station) => Promise<void>): Promise<void> {
  const s = await bootedV201Station({ variables });
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

const personal = (content: string) => ({ format: 'UTF8', language: 'en', content });

test('I01.FR.03: the tariff in idTokenInfo.personalMessage is shown at authorization and while charging', () =>
  with201({}, async (s) => {
    s.csms.setHandler('Authorize', () => ({ idTokenInfo: { status: 'Accepted', personalMessage: personal('0.35 €/kWh') } }));
    s.sim.tap('04A1B2C3');
    await s.until('authorized', () => screen(s)[0] === 'Authorized');
    assert.equal(screen(s)[1], '0.35 EUR/kWh', 'the € sign is spelled out: the display ROM has none');
    s.sim.plug(1);
    s.sim.evReady(1);
    await s.until('charging', () => screen(s)[0]!.startsWith('Charging'));
    await s.run(5000);
    assert.ok(screen(s).includes('0.35 EUR/kWh'), screen(s).join('|'));
  }));

test('TC_I_01_CS / TC_I_07_CS / TC_I_02_CS I02.FR.02–04 / I03.FR.03: running cost from CostUpdated and TransactionEvent responses, final cost from the Ended response', () =>
  with201({ 'TariffCostCtrlr.Currency': 'CHF', 'SampledDataCtrlr.TxUpdatedInterval': '10' }, async (s) => {
    let cost = 0;
    s.csms.setHandler('TransactionEvent', (p) => {
      const e = p as { eventType: string };
      if (e.eventType === 'Started') return {};
      cost += 1.5;
      return { totalCost: e.eventType === 'Ended' ? 9.99 : cost };
    });
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('Started', () => txs(s).length >= 1);
    assert.deepEqual(await s.call('CostUpdated', { totalCost: 0.42, transactionId: txId(s) }), {}, 'I02.FR.02');
    assert.ok(screen(s).includes('Cost CHF 0.42'), screen(s).join('|'));
    await s.until('an Updated answered', () => txs(s).some((t) => t.eventType === 'Updated'));
    await s.run(1000);
    assert.ok(screen(s).includes('Cost CHF 1.50'), screen(s).join('|'));
    s.sim.tap('04A1B2C3');
    await s.until('Ended', () => txs(s).some((t) => t.eventType === 'Ended'));
    await s.run(1000);
    assert.equal(screen(s)[0], 'Charging done');
    assert.equal(screen(s)[2], 'Total CHF 9.99');
  }));

test('I06.FR.03: updatedPersonalMessage of a TransactionEvent response replaces the tariff text on the screen', () =>
  with201({ 'SampledDataCtrlr.TxUpdatedInterval': '10' }, async (s) => {
    s.csms.setHandler('Authorize', () => ({ idTokenInfo: { status: 'Accepted', personalMessage: personal('Day tariff') } }));
    s.csms.setHandler('TransactionEvent', (p) => ((p as { eventType: string }).eventType === 'Updated' ? { updatedPersonalMessage: personal('Night tariff') } : {}));
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('charging', () => screen(s).includes('Day tariff'));
    await s.until('updated', () => screen(s).includes('Night tariff'));
  }));

test('CostUpdated for an unknown transaction is answered (the response has no status) and shows nothing', () =>
  with201({}, async (s) => {
    assert.deepEqual(await s.call('CostUpdated', { totalCost: 5, transactionId: 'no-such-tx' }), {});
    assert.deepEqual(screen(s).slice(0, 2), ['Ready to charge', 'Tap card to start']);
  }));

test('point 5: TariffCostCtrlr.Currency takes ISO 4217 codes only; an unknown currency is Rejected (InvalidValue) and the old one kept', () =>
  with201({}, async (s) => {
    type R = { setVariableResult: { attributeStatus: string; attributeStatusInfo?: { reasonCode: string } }[] };
    const setCur = (v: string) => s.call<R>('SetVariables', { setVariableData: [{ component: { name: 'TariffCostCtrlr' }, variable: { name: 'Currency' }, attributeValue: v }] });
    assert.equal((await setCur('XYZ')).setVariableResult[0]!.attributeStatus, 'Rejected');
    assert.equal((await setCur('GBP')).setVariableResult[0]!.attributeStatus, 'Accepted');
    const r = await s.call<{ getVariableResult: { attributeValue?: string }[] }>('GetVariables', {
      getVariableData: [{ component: { name: 'TariffCostCtrlr' }, variable: { name: 'Currency' } }],
    });
    assert.equal(r.getVariableResult[0]!.attributeValue, 'GBP');
  }));

test('I04.FR.01 / I05.FR.02 / I03.FR.03: offline, the TariffFallbackMessage is shown at authorization and the TotalCostFallbackMessage at the end (no late cost)', () =>
  with201(
    {
      'AuthCtrlr.OfflineTxForUnknownIdEnabled': 'true',
      'TariffCostCtrlr.TariffFallbackMessage': 'Standard tariff 0.40/kWh',
      'TariffCostCtrlr.TotalCostFallbackMessage': 'See your invoice',
    },
    async (s) => {
      s.csms.setHandler('TransactionEvent', () => ({ totalCost: 12.34 }));
      s.csms.setAccepting(false);
      await s.csms.disconnect('CP-V201', { force: true });
      await s.until('offline', () => !s.link.connected);
      s.sim.tap('04A1B2C3');
      await s.until('authorized offline', () => screen(s)[0] === 'Authorized');
      assert.deepEqual(screen(s).slice(1, 3), ['Standard tariff', '0.40/kWh']);
      s.sim.plug(1);
      s.sim.evReady(1);
      await s.run(60_000);
      s.sim.tap('04A1B2C3');
      await s.run(2000);
      assert.equal(screen(s)[0], 'Charging done');
      s.csms.setAccepting(true);
      await s.until('Ended delivered', () => txs(s).some((t) => t.eventType === 'Ended'), 2000);
      await s.run(1000);
      assert.equal(screen(s)[2], 'See your invoice', 'I03.FR.03: the cost of a transaction that ended offline is not shown');
    },
  ));

test('TariffCostCtrlr.Enabled/Tariff false: no tariff text is shown (the personal message is ignored)', () =>
  with201({ 'TariffCostCtrlr.Enabled/Tariff': 'false' }, async (s) => {
    s.csms.setHandler('Authorize', () => ({ idTokenInfo: { status: 'Accepted', personalMessage: personal('0.35 EUR/kWh') } }));
    s.sim.tap('04A1B2C3');
    await s.until('authorized', () => screen(s)[0] === 'Authorized');
    assert.equal(screen(s)[1], 'Plug in the cable');
  }));
