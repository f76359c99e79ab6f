/**
 * The 2.0.1 device model on its own (SQLite, no link): first-time seeding, validation, attributes, reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../src/store/db.js';
import { V201DeviceModelRepo } from '../src/store/v201-device-model.js';
import { DeviceModel, keyOf } from '../src/ocpp/v201/device-model.js';
import { evseVariables, stationVariables } from '../src/ocpp/v201/device-model-data.js';

const identity = { model: 'M', vendor: 'V', firmwareVersion: '1' };
const defs = () => [...stationVariables(identity), ...evseVariables(1, 22080), ...evseVariables(2, 11040)];

test('B05 seeding: config values and defaults are written the first time only; later starts keep what the CSMS set', () => {
  const db = openDatabase(':memory:');
  try {
    const dm1 = new DeviceModel(new V201DeviceModelRepo(db), defs(), () => 0);
    assert.deepEqual(dm1.seed({ 'OCPPCommCtrlr.HeartbeatInterval': '90', 'Nope.Nothing': '1' }), ['Nope.Nothing']);
    assert.equal(dm1.int('OCPPCommCtrlr.HeartbeatInterval'), 90);
    assert.equal(dm1.set({ name: 'OCPPCommCtrlr' }, { name: 'HeartbeatInterval' }, '45').attributeStatus, 'Accepted');
    const dm2 = new DeviceModel(new V201DeviceModelRepo(db), defs(), () => 0);
    dm2.seed({ 'OCPPCommCtrlr.HeartbeatInterval': '90' });
    assert.equal(dm2.int('OCPPCommCtrlr.HeartbeatInterval'), 45);
  } finally {
    db.close();
  }
});

test('keys name component instance, EVSE, connector and variable instance', () => {
  const d = defs();
  const keys = d.map(keyOf);
  assert.ok(keys.includes('DeviceDataCtrlr.ItemsPerMessage/GetVariables'));
  assert.ok(keys.includes('EVSE@2.Power'));
  assert.ok(keys.includes('Connector@1:1.ConnectorType'));
  assert.equal(new Set(keys).size, keys.length, 'keys are unique');
});

test('B05.FR.07/08 validation by dataType, limits and valuesList; change listeners see accepted values only', () => {
  const db = openDatabase(':memory:');
  try {
    const dm = new DeviceModel(new V201DeviceModelRepo(db), defs(), () => 0);
    dm.seed({});
    const seen: string[] = [];
    dm.onChange((def, v) => seen.push(`${keyOf(def)}=${v}`));
    const set = (c: string, v: string, value: string) => dm.set({ name: c }, { name: v }, value).attributeStatus;
    assert.equal(set('AuthCtrlr', 'LocalPreAuthorize', 'yes'), 'Rejected');
    assert.equal(set('AuthCtrlr', 'LocalPreAuthorize', 'true'), 'Accepted');
    assert.equal(set('TxCtrlr', 'EVConnectionTimeOut', '-5'), 'Rejected');
    assert.equal(set('TxCtrlr', 'EVConnectionTimeOut', '1.5'), 'Rejected');
    assert.equal(set('TxCtrlr', 'TxStopPoint', 'EVConnected,EVConnected'), 'Rejected');
    assert.equal(set('TxCtrlr', 'TxStopPoint', 'EnergyTransfer'), 'Accepted');
    assert.equal(set('AuthCtrlr', 'MasterPassGroupId', 'x'.repeat(37)), 'Rejected');
    assert.equal(set('SecurityCtrlr', 'BasicAuthPassword', 'short'), 'Rejected');
    assert.equal(set('SecurityCtrlr', 'BasicAuthPassword', 'a-long-enough-password'), 'Accepted', 'A01: applied by reconnecting, no reboot');
    assert.equal(set('AuthCtrlr', 'Enabled', 'false'), 'Rejected', 'ReadOnly');
    assert.deepEqual(seen, ['AuthCtrlr.LocalPreAuthorize=true', 'TxCtrlr.TxStopPoint=EnergyTransfer', 'SecurityCtrlr.BasicAuthPassword=a-long-enough-password']);
    assert.equal(dm.get({ name: 'SecurityCtrlr' }, { name: 'BasicAuthPassword' }).attributeStatus, 'Rejected', 'WriteOnly is never read back');
    assert.equal(dm.get({ name: 'EVSE', evse: { id: 2 } }, { name: 'Power' }, 'MaxSet').attributeValue, '11040');
    assert.equal(dm.get({ name: 'EVSE', evse: { id: 3 } }, { name: 'Power' }).attributeStatus, 'UnknownComponent');
  } finally {
    db.close();
  }
});

test('B07 SummaryInventory reports the availability of station, EVSEs and connectors only', () => {
  const db = openDatabase(':memory:');
  try {
    const dm = new DeviceModel(new V201DeviceModelRepo(db), defs(), () => 0);
    dm.seed({});
    const r = dm.report('SummaryInventory');
    assert.deepEqual(new Set(r.map((d) => d.component.name)), new Set(['ChargingStation', 'EVSE', 'Connector']));
    assert.ok(r.every((d) => d.variable.name === 'AvailabilityState' || d.variable.name === 'Available'));
  } finally {
    db.close();
  }
});
