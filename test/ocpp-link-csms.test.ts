/**
 * The in-process CSMS that every OCPP test relies on: its default answers must pass the official
 * schemas of both versions (it runs in strict mode, so an invalid answer would be an InternalError),
 * and its recording and waiting helpers must behave as documented.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { afterEach, describe, it } from 'node:test';
import { RPCClient, createValidator } from 'ocpp-rpc';
import { defaultAnswer } from '../devtools/csms.js';
import { startCsms, type Csms } from './support/csms.js';

const require = createRequire(import.meta.url);
const schemas = {
  'ocpp1.6': require('ocpp-rpc/lib/schemas/ocpp1_6.json') as { $id: string }[],
  'ocpp2.0.1': require('ocpp-rpc/lib/schemas/ocpp2_0_1.json') as { $id: string }[],
};

const STATION_CALLS = [
  'BootNotification', 'Heartbeat', 'StatusNotification', 'Authorize', 'StartTransaction', 'StopTransaction',
  'MeterValues', 'TransactionEvent', 'NotifyReport', 'DataTransfer', 'NotifyEvent', 'SecurityEventNotification',
  'LogStatusNotification', 'FirmwareStatusNotification', 'DiagnosticsStatusNotification', 'SignCertificate',
  'NotifyEVChargingNeeds', 'ReservationStatusUpdate', 'NotifyChargingLimit', 'ClearedChargingLimit',
  'ReportChargingProfiles', 'NotifyMonitoringReport', 'NotifyCustomerInformation', 'NotifyDisplayMessages',
  'GetCertificateStatus', 'Get15118EVCertificate', 'PublishFirmwareStatusNotification',
  'SignedFirmwareStatusNotification', 'NotifyEVChargingSchedule',
];

describe('test CSMS default answers', () => {
  for (const protocol of ['ocpp1.6', 'ocpp2.0.1'] as const) {
    it(`are valid ${protocol} responses for every station-initiated action of that version`, () => {
      const validator = createValidator(protocol, schemas[protocol]);
      const known = new Set(schemas[protocol].map((s) => s.$id));
      let checked = 0;
      for (const action of STATION_CALLS) {
        if (!known.has(`urn:${action}.conf`)) continue;
        for (const params of [{}, { idTag: 'T' }, { idToken: { idToken: 'T', type: 'ISO14443' } }]) {
          const answer = defaultAnswer(action, params, protocol, 'ocpp-station', () => 1);
          assert.doesNotThrow(() => validator.validate(`urn:${action}.conf`, answer), `${protocol} ${action}`);
        }
        checked++;
      }
      assert.ok(checked >= 12, `${checked} actions checked`);
    });
  }
});

describe('test CSMS helpers', () => {
  let csms: Csms | undefined;
  let client: InstanceType<typeof RPCClient> | undefined;
  afterEach(async () => {
    await client?.close({ force: true });
    await csms?.close();
  });

  // ocpp-rpc's option type lists every option as required; the defaults fill the rest (hence `as never`).
  it('records both directions, hands out successive calls to waitFor, and takes overrides', async () => {
    csms = await startCsms();
    client = new RPCClient({ endpoint: csms.url, identity: 'X1', protocols: ['ocpp1.6'], strictMode: true, reconnect: false } as never);
    client.handle('Reset', async () => ({ status: 'Accepted' }));
    await client.connect();
    await client.call('Heartbeat', {});
    await client.call('Heartbeat', {});
    assert.ok(await csms.waitFor('Heartbeat'));
    assert.ok(await csms.waitFor('Heartbeat'));
    await assert.rejects(csms.waitFor('Heartbeat', undefined, 50), /no Heartbeat within 50 ms/);

    csms.setHandler('DataTransfer', (params, identity) => ({ status: 'Accepted', data: `${identity}:${(params as { data: string }).data}` }));
    assert.deepEqual(await client.call('DataTransfer', { vendorId: 'v', data: 'd' }), { status: 'Accepted', data: 'X1:d' });
    csms.clearHandler('DataTransfer');
    assert.deepEqual(await client.call('DataTransfer', { vendorId: 'v' }), { status: 'UnknownVendorId' });

    const waiting = csms.waitFor<{ data: string }>('DataTransfer', (p) => p.data === 'second');
    await client.call('DataTransfer', { vendorId: 'ocpp-station', data: 'first' });
    await client.call('DataTransfer', { vendorId: 'ocpp-station', data: 'second' });
    assert.equal((await waiting).data, 'second');

    assert.deepEqual(await csms.call('X1', 'Reset', { type: 'Soft' }), { status: 'Accepted' });
    assert.deepEqual(csms.actions('X1'), ['Heartbeat', 'Heartbeat', 'DataTransfer', 'DataTransfer', 'DataTransfer', 'DataTransfer']);
    assert.deepEqual(csms.actions('nobody'), []);
    const reset = csms.log.filter((e) => e.action === 'Reset').map((e) => `${e.direction} ${e.type}`);
    assert.deepEqual(reset, ['out call', 'in result']);
    assert.deepEqual(csms.clients(), [{ identity: 'X1', protocol: 'ocpp1.6' }]);
    await csms.disconnect('X1');
    assert.deepEqual(csms.clients(), []);
  });

  it('validates what stations send: an invalid call gets a CALLERROR, not an answer', async () => {
    csms = await startCsms({ protocols: ['ocpp2.0.1'] });
    client = new RPCClient({ endpoint: csms.url, identity: 'X2', protocols: ['ocpp2.0.1'], strictMode: false, reconnect: false } as never);
    await client.connect();
    await assert.rejects(client.call('BootNotification', { reason: 'PowerUp' }), (err: { rpcErrorCode?: string }) => err.rpcErrorCode === 'OccurenceConstraintViolation');
    const err = csms.log.find((e) => e.direction === 'out' && e.type === 'error');
    assert.equal(err?.action, 'BootNotification');
  });
});
