/** OCPP 1.6 configuration keys (spec 5.3, 5.8, chapter 9) against SQLite, without a link. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/store/db.js';
import { V16Configuration, readV16LinkSettings } from '../src/ocpp/v16/configuration.js';
import type { KeyContext } from '../src/ocpp/v16/config-keys.js';

const ctx: KeyContext = { connectorIds: [1, 2], heartbeatIntervalS: 300, pingIntervalS: 30, callTimeoutS: 20, retryAttempts: 3, retryIntervalS: 60 };

function withDb(fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'v16-config-'));
  try {
    fn(join(dir, 'station.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('5.8 GetConfiguration: all keys without a key list; known + unknownKey with one', () => {
  const db = openDatabase(':memory:');
  const c = new V16Configuration(db, ctx, {}, 0);
  const all = c.read(undefined);
  const names = all.configurationKey.map((k) => k.key);
  for (const required of [
    'AuthorizeRemoteTxRequests',
    'ClockAlignedDataInterval',
    'ConnectionTimeOut',
    'ConnectorPhaseRotation',
    'GetConfigurationMaxKeys',
    'HeartbeatInterval',
    'LocalAuthorizeOffline',
    'LocalPreAuthorize',
    'MeterValuesAlignedData',
    'MeterValuesSampledData',
    'MeterValueSampleInterval',
    'NumberOfConnectors',
    'ResetRetries',
    'StopTransactionOnInvalidId',
    'StopTxnAlignedData',
    'StopTxnSampledData',
    'SupportedFeatureProfiles',
    'TransactionMessageAttempts',
    'TransactionMessageRetryInterval',
    'UnlockConnectorOnEVSideDisconnect',
    'LocalAuthListEnabled',
    'LocalAuthListMaxLength',
    'SendLocalListMaxLength',
    'ReserveConnectorZeroSupported',
  ])
    assert.ok(names.includes(required), `missing ${required}`);
  // 3.13.5: a Smart Charging station reports these; Firmware Management is not built, so its key is absent.
  for (const key of ['ChargeProfileMaxStackLevel', 'ChargingScheduleAllowedChargingRateUnit', 'ChargingScheduleMaxPeriods', 'MaxChargingProfilesInstalled']) {
    assert.equal(all.configurationKey.find((k) => k.key === key)?.readonly, true, key);
  }
  assert.ok(!names.includes('SupportedFileTransferProtocols'));
  assert.equal(all.unknownKey.length, 0);

  const some = c.read(['heartbeatinterval', 'NumberOfConnectors', 'NoSuchKey']);
  assert.deepEqual(some.configurationKey, [
    { key: 'HeartbeatInterval', readonly: false, value: '300' },
    { key: 'NumberOfConnectors', readonly: true, value: '2' },
  ]);
  assert.deepEqual(some.unknownKey, ['NoSuchKey']);
  assert.equal(c.get('ConnectorPhaseRotation'), '1.Unknown,2.Unknown');
  assert.equal(c.get('TransactionMessageRetryInterval'), '60');
});

test('5.3 ChangeConfiguration: Accepted / Rejected / RebootRequired / NotSupported', () => {
  const db = openDatabase(':memory:');
  const c = new V16Configuration(db, ctx, {}, 0);
  const changed: string[] = [];
  c.onChange((k, v) => changed.push(`${k}=${v}`));
  assert.equal(c.change('MeterValueSampleInterval', '30', 1), 'Accepted');
  assert.equal(c.change('MeterValueSampleInterval', '-5', 1), 'Rejected', 'out of range');
  assert.equal(c.change('MeterValueSampleInterval', '1.5', 1), 'Rejected', 'not an integer');
  assert.equal(c.change('LocalPreAuthorize', 'TRUE', 1), 'Accepted');
  assert.equal(c.get('LocalPreAuthorize'), 'true');
  assert.equal(c.change('LocalPreAuthorize', 'yes', 1), 'Rejected');
  assert.equal(c.change('NumberOfConnectors', '3', 1), 'Rejected', 'read-only');
  assert.equal(c.change('NoSuchKey', '1', 1), 'NotSupported');
  assert.equal(c.change('TransactionMessageAttempts', '5', 1), 'RebootRequired');
  assert.equal(c.get('TransactionMessageAttempts'), '5');
  // 3.16.4: an unsupported measurand rejects the whole list and changes nothing.
  assert.equal(c.change('MeterValuesSampledData', 'Energy.Active.Import.Register,Temperature', 1), 'Rejected');
  assert.equal(c.get('MeterValuesSampledData'), 'Energy.Active.Import.Register');
  assert.equal(c.change('MeterValuesSampledData', 'Energy.Active.Import.Register, Current.Import,Voltage.L1,SoC', 1), 'Accepted');
  assert.equal(c.get('MeterValuesSampledData'), 'Energy.Active.Import.Register,Current.Import,Voltage.L1,SoC');
  // More items than MeterValuesSampledDataMaxLength (10).
  const eleven = Array.from({ length: 11 }, () => 'Voltage').map((v, i) => (i === 0 ? v : `${v}.L${(i % 3) + 1}`));
  assert.equal(c.change('MeterValuesSampledData', eleven.join(','), 1), 'Rejected');
  assert.equal(c.change('ConnectorPhaseRotation', '0.RST,1.RST,2.TSR', 1), 'Accepted');
  assert.equal(c.change('ConnectorPhaseRotation', '3.RST', 1), 'Rejected', 'no connector 3');
  assert.deepEqual(changed, [
    'MeterValueSampleInterval=30',
    'LocalPreAuthorize=true',
    'MeterValuesSampledData=Energy.Active.Import.Register,Current.Import,Voltage.L1,SoC',
    'ConnectorPhaseRotation=0.RST,1.RST,2.TSR',
  ]);
});

test('9 configuration persists across restarts; config-file values seed a key the first time only', () => {
  withDb((path) => {
    let db = openDatabase(path);
    let c = new V16Configuration(db, ctx, { HeartbeatInterval: '120', MeterValueSampleInterval: '15', Bogus: '1' }, 0);
    assert.equal(c.get('HeartbeatInterval'), '120');
    assert.equal(c.change('MeterValueSampleInterval', '45', 1), 'Accepted');
    assert.equal(c.change('WebSocketPingInterval', '10', 1), 'RebootRequired');
    db.close();

    db = openDatabase(path);
    // The same config file again: the CSMS's change wins, the seed does not overwrite.
    c = new V16Configuration(db, ctx, { HeartbeatInterval: '60', MeterValueSampleInterval: '15' }, 2);
    assert.equal(c.get('MeterValueSampleInterval'), '45');
    assert.equal(c.get('HeartbeatInterval'), '120');
    assert.equal(readV16LinkSettings(db).pingIntervalS, 10);
    db.close();
  });
});
