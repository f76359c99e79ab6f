/**
 * 1.6 California Pricing (OCA application note "OCPP & California Pricing Requirements", OCPP 1.6 part):
 * DataTransfer org.openchargealliance.costmsg SetUserPrice / RunningCost / FinalCost and the DefaultPrice
 * key, from the strict test CSMS, as the simulated display shows them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDENTITY, startV16Station, type V16Station } from './support/v16-station.js';

const VENDOR = 'org.openchargealliance.costmsg';
type Answer = { status: string; data?: string };

async function booted(): Promise<V16Station> {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0' } });
  await s.until('boot', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  s.csms.setHandler('StartTransaction', () => ({ transactionId: 77, idTagInfo: { status: 'Accepted' } }));
  return s;
}

/** A CSMS → station CALL while virtual time moves a little. */
async function call<T>(s: V16Station, action: string, params: unknown): Promise<T> {
  const p = s.csms.call<T>(IDENTITY, action, params);
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 200 && !done; i++) await s.step(0);
  return p;
}

const costmsg = (s: V16Station, messageId: string, data: unknown) =>
  call<Answer>(s, 'DataTransfer', { vendorId: VENDOR, messageId, data: typeof data === 'string' ? data : JSON.stringify(data) });
const screen = (s: V16Station) => (s.sim.status().display ?? []).map((r) => r.trimEnd());

async function withStation(fn: (s: V16Station) => Promise<void>): Promise<void> {
  const s = await booted();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

test('CustomDisplayCostAndPrice is true (read-only); DefaultPrice takes the note\'s JSON (else Rejected) and its priceText is the idle screen', () =>
  withStation(async (s) => {
    const conf = await call<{ configurationKey: { key: string; readonly: boolean; value?: string }[] }>(s, 'GetConfiguration', { key: ['CustomDisplayCostAndPrice'] });
    assert.deepEqual(conf.configurationKey, [{ key: 'CustomDisplayCostAndPrice', readonly: true, value: 'true' }]);
    assert.equal((await call<Answer>(s, 'ChangeConfiguration', { key: 'DefaultPrice', value: '{"priceText": 12}' })).status, 'Rejected');
    assert.equal((await call<Answer>(s, 'ChangeConfiguration', { key: 'DefaultPrice', value: 'not json' })).status, 'Rejected');
    const price = { priceText: '$0.30/kWh', priceTextOffline: 'Price may vary', chargingPrice: { kWhPrice: 0.3, hourPrice: 0, flatFee: 0 } };
    assert.equal((await call<Answer>(s, 'ChangeConfiguration', { key: 'DefaultPrice', value: JSON.stringify(price) })).status, 'Accepted');
    assert.deepEqual(screen(s).slice(0, 2), ['Ready to charge', '$0.30/kWh']);
    s.csms.setAccepting(false);
    await s.csms.disconnect(IDENTITY, { force: true });
    await s.until('offline', () => !s.link.connected);
    assert.deepEqual(screen(s).slice(0, 2), ['Ready to charge', 'Price may vary'], 'priceTextOffline while offline');
  }));

test('SetUserPrice shows the driver\'s price; RunningCost the cost so far; FinalCost the cost and its text at the end', () =>
  withStation(async (s) => {
    s.sim.tap('04A1B2C3');
    await s.until('authorized', () => screen(s)[0] === 'Authorized');
    assert.deepEqual(await costmsg(s, 'SetUserPrice', { idToken: '04A1B2C3', priceText: '$0.25/kWh for you' }), { status: 'Accepted' });
    assert.equal(screen(s)[1], '$0.25/kWh for you');
    s.sim.plug(1);
    s.sim.evReady(1);
    await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
    await s.run(60_000);
    const running = { transactionId: 77, timestamp: new Date(s.clock.now()).toISOString(), meterValue: 1200, cost: 0.3, state: 'Charging', chargingPrice: { kWhPrice: 0.25 } };
    assert.deepEqual(await costmsg(s, 'RunningCost', running), { status: 'Accepted' });
    assert.ok(screen(s).includes('Cost 0.30'), screen(s).join('|'));
    s.sim.tap('04A1B2C3');
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    assert.deepEqual(await costmsg(s, 'FinalCost', { transactionId: 77, cost: 1.85, priceText: '$1.85 @ $0.25/kWh' }), { status: 'Accepted' });
    assert.deepEqual(screen(s).slice(2, 4), ['Total 1.85', '$1.85 @ $0.25/kWh']);
  }));

test('bad input: unknown transactionId, a missing cost, data that is not JSON: Rejected and nothing shown; an unknown messageId: UnknownMessageId', () =>
  withStation(async (s) => {
    assert.equal((await costmsg(s, 'RunningCost', { transactionId: 12345, cost: 1, timestamp: 'x', meterValue: 0, state: 'Charging', chargingPrice: {} })).status, 'Rejected');
    assert.equal((await costmsg(s, 'FinalCost', { transactionId: 77, priceText: 'x' })).status, 'Rejected');
    assert.equal((await costmsg(s, 'SetUserPrice', '{oops')).status, 'Rejected');
    assert.equal((await costmsg(s, 'SetUserPrice', { idToken: 'X' })).status, 'Rejected');
    assert.equal((await costmsg(s, 'SetTariff', {})).status, 'UnknownMessageId');
    assert.deepEqual(screen(s).slice(0, 2), ['Ready to charge', 'Tap card to start']);
  }));
